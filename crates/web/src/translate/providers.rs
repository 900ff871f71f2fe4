//! The translation services Supportal speaks, over their HTTP APIs: LibreTranslate (self-hosted
//! beside Supportal, see docs/operations.md) and DeepL (a paid service).

use super::{Provider, ProviderError};
use domain::Language;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

/// Which service, where, and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    /// The service's base address, e.g. `http://127.0.0.1:5000` or `https://api-free.deepl.com`.
    pub url: String,
    pub api_key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    LibreTranslate,
    DeepL,
}

impl ProviderKind {
    pub fn parse(raw: &str) -> Option<ProviderKind> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "libretranslate" => Some(ProviderKind::LibreTranslate),
            "deepl" => Some(ProviderKind::DeepL),
            _ => None,
        }
    }
}

/// The client for `config`. Requests carry no timeout of their own: the translator bounds
/// every call, and a call it gives up on is dropped with its connection.
pub fn client_for(config: &ProviderConfig) -> Result<Box<dyn Provider>, ProviderError> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ProviderError(format!("http client: {e}")))?;
    let base = config.url.trim_end_matches('/').to_owned();
    let key = config.api_key.clone();
    Ok(match config.kind {
        ProviderKind::LibreTranslate => Box::new(LibreTranslate { http, base, key }),
        ProviderKind::DeepL => Box::new(DeepL { http, base, key }),
    })
}

/// `POST {url}/translate` with `{q, source, target, format, api_key}`.
struct LibreTranslate {
    http: reqwest::Client,
    base: String,
    key: Option<String>,
}

#[derive(Serialize)]
struct LibreRequest<'a> {
    q: &'a str,
    source: &'a str,
    target: &'a str,
    format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key: Option<&'a str>,
}

#[derive(Deserialize)]
struct LibreAnswer {
    #[serde(rename = "translatedText")]
    translated_text: String,
}

impl Provider for LibreTranslate {
    fn translate<'a>(
        &'a self,
        text: &'a str,
        from: Language,
        to: Language,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(async move {
            let request = LibreRequest {
                q: text,
                source: from.code(),
                target: to.code(),
                format: "text",
                api_key: self.key.as_deref(),
            };
            let url = format!("{}/translate", self.base);
            let answer: LibreAnswer = send(self.http.post(url).json(&request)).await?;
            Ok(answer.translated_text)
        })
    }
}

/// `POST {url}/v2/translate` with `Authorization: DeepL-Auth-Key KEY`.
struct DeepL {
    http: reqwest::Client,
    base: String,
    key: Option<String>,
}

#[derive(Serialize)]
struct DeepLRequest<'a> {
    text: [&'a str; 1],
    source_lang: &'static str,
    target_lang: &'static str,
}

#[derive(Deserialize)]
struct DeepLAnswer {
    translations: Vec<DeepLText>,
}

#[derive(Deserialize)]
struct DeepLText {
    text: String,
}

/// DeepL's codes: sources are bare, English as a target names a variant.
fn deepl_code(language: Language, target: bool) -> &'static str {
    match (language, target) {
        (Language::En, true) => "EN-GB",
        (Language::En, false) => "EN",
        (Language::De, _) => "DE",
    }
}

impl Provider for DeepL {
    fn translate<'a>(
        &'a self,
        text: &'a str,
        from: Language,
        to: Language,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(async move {
            let request = DeepLRequest {
                text: [text],
                source_lang: deepl_code(from, false),
                target_lang: deepl_code(to, true),
            };
            let url = format!("{}/v2/translate", self.base);
            let mut call = self.http.post(url).json(&request);
            if let Some(key) = &self.key {
                call = call.header("Authorization", format!("DeepL-Auth-Key {key}"));
            }
            let answer: DeepLAnswer = send(call).await?;
            answer
                .translations
                .into_iter()
                .next()
                .map(|t| t.text)
                .ok_or_else(|| ProviderError("DeepL answered no translation".into()))
        })
    }
}

/// Send, and read a JSON answer; anything but a 2xx with that JSON is an error (its status
/// only: an answer's body may echo the text or the key).
async fn send<T: serde::de::DeserializeOwned>(
    call: reqwest::RequestBuilder,
) -> Result<T, ProviderError> {
    let response = call
        .send()
        .await
        .map_err(|e| ProviderError(format!("request failed: {}", e.without_url())))?;
    let status = response.status();
    if !status.is_success() {
        return Err(ProviderError(format!("answered {status}")));
    }
    response
        .json()
        .await
        .map_err(|_| ProviderError("answered something other than its JSON".into()))
}
