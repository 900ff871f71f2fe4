//! One error type for handlers. It becomes an HTML page (or JSON for API clients);
//! a server fault is logged once with a reference the person can quote.

use crate::state::AppState;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
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

    fn title_and_text(&self) -> (&'static str, String) {
        match self {
            AppError::NotFound => ("Page not found", "There is nothing at this address.".into()),
            AppError::Forbidden => ("Not allowed", "Your account may not open this page.".into()),
            AppError::Csrf => (
                "Form expired",
                "This form was open too long or was sent from another site. Go back, reload the page and try again.".into(),
            ),
            AppError::BadRequest(why) => ("Bad request", format!("The request could not be read: {why}.")),
            AppError::RateLimited(secs) => (
                "Too many attempts",
                format!("Please wait {secs} seconds before trying again."),
            ),
            AppError::Internal(_) => ("Something went wrong", "The server could not finish this request.".into()),
        }
    }

    /// Render with the state's templates; used by the fallback and by `IntoResponse`.
    pub fn render(self, state: Option<&AppState>, wants_json: bool) -> Response {
        let status = self.status();
        let reference = match &self {
            AppError::Internal(err) => {
                let reference = format!("{:08x}", rand::random::<u32>());
                tracing::error!(reference, error = %format!("{err:#}"), "request failed");
                Some(reference)
            }
            _ => None,
        };
        let (title, text) = self.title_and_text();
        let mut response = if wants_json {
            let body =
                serde_json::json!({ "error": title, "message": text, "reference": reference });
            (status, axum::Json(body)).into_response()
        } else {
            let html = state
                .and_then(|s| {
                    s.templates
                        .render(
                            "errors/error.html",
                            context! { status => status.as_u16(), title, text, reference },
                        )
                        .ok()
                })
                .unwrap_or_else(|| {
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
    path.starts_with("/api/")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"))
}
