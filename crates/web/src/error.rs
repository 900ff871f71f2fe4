//! One error type for handlers. It becomes an HTML page (or JSON for API clients);
//! a server fault is logged once with a reference the person can quote.

use crate::state::AppState;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use domain::Language;
use minijinja::context;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("the form expired or was sent from elsewhere")]
    Csrf,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("too many attempts; retry in {0} s")]
    RateLimited(u64),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// A failure of the machine (a file that cannot be written), not of the request.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(err.into())
    }
}

impl From<store::StoreError> for AppError {
    fn from(err: store::StoreError) -> Self {
        AppError::Internal(err.into())
    }
}

impl From<minijinja::Error> for AppError {
    fn from(err: minijinja::Error) -> Self {
        AppError::Internal(anyhow::anyhow!("template: {err:#}"))
    }
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Catalogue keys of the page's title and text, and the text's arguments.
    fn texts(&self) -> (&'static str, &'static str, Vec<(&'static str, String)>) {
        match self {
            AppError::NotFound => (
                "errorpage.not_found_title",
                "errorpage.not_found_text",
                vec![],
            ),
            AppError::Forbidden => (
                "errorpage.forbidden_title",
                "errorpage.forbidden_text",
                vec![],
            ),
            AppError::Csrf => ("errorpage.csrf_title", "errorpage.csrf_text", vec![]),
            AppError::BadRequest(_) => (
                "errorpage.bad_request_title",
                "errorpage.bad_request_text",
                vec![],
            ),
            AppError::RateLimited(secs) => (
                "errorpage.rate_limited_title",
                "errorpage.rate_limited_text",
                vec![("seconds", secs.to_string())],
            ),
            AppError::Internal(_) => (
                "errorpage.internal_title",
                "errorpage.internal_text",
                vec![],
            ),
        }
    }

    /// The page (or JSON) for this error, in `lang`.
    pub fn render(self, state: &AppState, wants_json: bool, lang: Language) -> Response {
        let status = self.status();
        let reference = match &self {
            AppError::Internal(err) => {
                let reference = format!("{:08x}", rand::random::<u32>());
                tracing::error!(reference, error = %format!("{err:#}"), "request failed");
                Some(reference)
            }
            AppError::BadRequest(why) => {
                tracing::debug!(why, "bad request");
                None
            }
            _ => None,
        };
        let (title_key, text_key, args) = self.texts();
        let title = state
            .catalog
            .text(lang, title_key, &[])
            .unwrap_or_else(|| title_key.into());
        let text = state
            .catalog
            .text(lang, text_key, &args)
            .unwrap_or_else(|| text_key.into());
        let mut response = if wants_json {
            let body =
                serde_json::json!({ "error": title, "message": text, "reference": reference });
            (status, axum::Json(body)).into_response()
        } else {
            let ctx =
                context! { lang => lang.code(), status => status.as_u16(), title, text, reference };
            let html = state
                .templates
                .render("errors/error.html", ctx)
                .unwrap_or_else(|_| {
                    format!("<!doctype html><title>{title}</title><h1>{title}</h1><p>{text}</p>")
                });
            (status, Html(html)).into_response()
        };
        if let AppError::RateLimited(secs) = self {
            if let Ok(value) = secs.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// Handlers return `AppError`; the `render_errors` middleware swaps this bare marker
/// response for the rendered page, since `IntoResponse` has no access to state.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = status.into_response();
        response
            .extensions_mut()
            .insert(PendingError(std::sync::Arc::new(std::sync::Mutex::new(
                Some(self),
            ))));
        response
    }
}

#[derive(Clone)]
pub(crate) struct PendingError(pub std::sync::Arc<std::sync::Mutex<Option<AppError>>>);

pub(crate) fn wants_json(headers: &HeaderMap, path: &str) -> bool {
    path.starts_with("/api/") || accepts_json(headers)
}

/// Whether the client asked for JSON (a page's script), not a page.
pub(crate) fn accepts_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}
