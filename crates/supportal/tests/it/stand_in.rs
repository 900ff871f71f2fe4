//! Stand-ins for the paid translation services, at their HTTP boundary only: a LibreTranslate
//! API and a DeepL API on loopback that translate from a small phrase book (anything else comes
//! back tagged with its target language), count their calls and keep what they were sent.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const GERMAN_QUESTION: &str =
    "Mein Drucker druckt seit gestern nicht mehr. Können Sie mir helfen?";
pub const ENGLISH_QUESTION: &str = "My printer has not printed since yesterday. Can you help me?";
pub const ENGLISH_ANSWER: &str = "Please restart the printer and tell me what the display shows.";
pub const GERMAN_ANSWER: &str =
    "Bitte starten Sie den Drucker neu und sagen Sie mir, was die Anzeige zeigt.";

/// `text` in `target` (`en`, `de`, or DeepL's `EN-GB`, `DE`).
pub fn translate(text: &str, target: &str) -> String {
    let target = target.to_ascii_lowercase();
    let book = [
        (GERMAN_QUESTION, "en", ENGLISH_QUESTION),
        (ENGLISH_ANSWER, "de", GERMAN_ANSWER),
    ];
    book.iter()
        .find(|(from, to, _)| *from == text && target.starts_with(to))
        .map(|(_, _, translated)| (*translated).to_owned())
        .unwrap_or_else(|| format!("[{target}] {text}"))
}

#[derive(Clone, Default)]
struct Seen {
    calls: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    delay: Duration,
}

pub struct StandIn {
    pub url: String,
    seen: Seen,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl StandIn {
    pub fn calls(&self) -> usize {
        self.seen.calls.load(Ordering::SeqCst)
    }

    /// The body and headers of the first request.
    pub fn first_request(&self) -> (HeaderMap, Value) {
        self.seen.requests.lock().unwrap()[0].clone()
    }
}

async fn serve(router: Router<Seen>, delay: Duration) -> StandIn {
    let seen = Seen {
        delay,
        ..Seen::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = router.with_state(seen.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    StandIn {
        url,
        seen,
        _stop: stop,
    }
}

async fn heard(seen: &Seen, headers: HeaderMap, body: &Value) {
    seen.calls.fetch_add(1, Ordering::SeqCst);
    seen.requests.lock().unwrap().push((headers, body.clone()));
    tokio::time::sleep(seen.delay).await;
}

/// LibreTranslate: `POST /translate {q, source, target, format}` → `{translatedText}`; answers
/// after `delay`.
pub async fn libretranslate(delay: Duration) -> StandIn {
    async fn translate_one(
        State(seen): State<Seen>,
        headers: HeaderMap,
        Json(body): Json<Value>,
    ) -> Json<Value> {
        heard(&seen, headers, &body).await;
        let q = body["q"].as_str().unwrap_or_default();
        let target = body["target"].as_str().unwrap_or_default();
        Json(json!({ "translatedText": translate(q, target) }))
    }
    serve(
        Router::new().route("/translate", post(translate_one)),
        delay,
    )
    .await
}

/// DeepL: `POST /v2/translate {text: [..], source_lang, target_lang}` with
/// `Authorization: DeepL-Auth-Key <key>` → `{translations: [{text}]}`; 403 for another key.
pub async fn deepl(key: &'static str) -> StandIn {
    let handler = move |State(seen): State<Seen>, headers: HeaderMap, Json(body): Json<Value>| async move {
        heard(&seen, headers.clone(), &body).await;
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
        if auth != Some(&format!("DeepL-Auth-Key {key}")) {
            return Err(StatusCode::FORBIDDEN);
        }
        let target = body["target_lang"].as_str().unwrap_or_default();
        let texts = body["text"].as_array().cloned().unwrap_or_default();
        let translations: Vec<Value> = texts
            .iter()
            .map(|t| json!({ "detected_source_language": body["source_lang"], "text": translate(t.as_str().unwrap_or_default(), target) }))
            .collect();
        Ok(Json(json!({ "translations": translations })))
    };
    serve(
        Router::new().route("/v2/translate", post(handler)),
        Duration::ZERO,
    )
    .await
}

/// An address where nothing listens (a provider that is down).
pub async fn nobody_listening() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}
