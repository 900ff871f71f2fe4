//! Translations for what customers read. Catalogues are TOML files embedded in the binary;
//! templates call `t("key", name=value)` and get the text in the request's language.
//! The language: `?lang=` (remembered in a cookie), else the cookie, else Accept-Language.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, SameSite};
use domain::Language;
use std::collections::HashMap;

pub const COOKIE: &str = "supportal_lang";

const SOURCES: [(Language, &str); 2] = [
    (Language::En, include_str!("../locales/en.toml")),
    (Language::De, include_str!("../locales/de.toml")),
];

pub struct Catalog {
    texts: HashMap<(Language, String), String>,
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Vec<(String, String)>) {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => flatten(&full, inner, out),
            toml::Value::String(text) => out.push((full, text.clone())),
            other => out.push((full, other.to_string())),
        }
    }
}

impl Catalog {
    pub fn load() -> anyhow::Result<Catalog> {
        let mut texts = HashMap::new();
        for (language, source) in SOURCES {
            let table: toml::Table = toml::from_str(source)
                .map_err(|e| anyhow::anyhow!("locale {}: {e}", language.code()))?;
            let mut pairs = Vec::new();
            flatten("", &table, &mut pairs);
            for (key, text) in pairs {
                texts.insert((language, key), text);
            }
        }
        Ok(Catalog { texts })
    }

    /// The text for `key` in `language` with `{name}` placeholders filled; None if the key is unknown.
    pub fn text(&self, language: Language, key: &str, args: &[(&str, String)]) -> Option<String> {
        let template = self.texts.get(&(language, key.to_owned()))?;
        let mut text = template.clone();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        Some(text)
    }

    pub fn keys(&self, language: Language) -> Vec<&str> {
        let mut keys: Vec<&str> = self
            .texts
            .keys()
            .filter(|(l, _)| *l == language)
            .map(|(_, k)| k.as_str())
            .collect();
        keys.sort();
        keys
    }
}

/// Every offered language as (code, own name), for switchers and per-language form fields.
pub fn languages() -> Vec<(&'static str, &'static str)> {
    Language::ALL
        .iter()
        .map(|l| (l.code(), l.native_name()))
        .collect()
}

/// The language chosen for this request (in the request's extensions).
#[derive(Debug, Clone, Copy)]
pub struct Lang(pub Language);

fn from_query(query: Option<&str>) -> Option<Language> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Language::parse(&v))
}

/// Middleware: decide the language, and remember an explicit choice in a cookie.
pub async fn choose_language(mut req: Request, next: Next) -> Response {
    let chosen = from_query(req.uri().query());
    let language = chosen
        .or_else(|| crate::cookies::value(req.headers(), COOKIE).and_then(Language::parse))
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Language::negotiate)
        })
        .unwrap_or(Language::DEFAULT);
    req.extensions_mut().insert(Lang(language));
    let mut response = next.run(req).await;
    if let Some(chosen) = chosen {
        let cookie = Cookie::build((COOKIE, chosen.code()))
            .path("/")
            .same_site(SameSite::Lax)
            .permanent()
            .build();
        if let Ok(value) = cookie.to_string().parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Lang>()
            .copied()
            .unwrap_or(Lang(Language::DEFAULT)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_every_key() {
        let catalog = Catalog::load().unwrap();
        let english = catalog.keys(Language::En);
        assert!(english.len() > 50);
        for language in Language::ALL {
            assert_eq!(
                catalog.keys(language),
                english,
                "{} has the same keys as en",
                language.code()
            );
        }
        let text = catalog
            .text(
                Language::De,
                "waiting.position",
                &[("position", "3".into())],
            )
            .unwrap();
        assert!(text.contains('3'), "{text}");
    }
}
