//! The public portal: what customers see. Works without JavaScript; scripts add live updates.

pub mod cache;
mod chat;
mod global;
mod keys;
mod look;
pub mod presence;
mod profiles;
mod requester;
mod requests;
pub mod sign_in;
mod site;
mod waiting;

pub use site::Portal;

use crate::forms::FieldErrors;
use crate::i18n::Catalog;
use crate::state::AppState;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use domain::{FieldError, Language};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(global::root))
        .route("/join", get(global::join_page).post(global::enter))
        .route("/join/confirm", post(global::confirm))
        .route("/join/{key}", get(global::join_link))
        .route("/p/{slug}", get(requests::home))
        .route("/p/{slug}/theme.css", get(look::theme))
        .route("/p/{slug}/logo", get(look::logo))
        .route(
            "/p/{slug}/rep/{rep}",
            get(requests::rep_form).post(requests::rep_submit),
        )
        .route(
            "/p/{slug}/request",
            get(requests::issue_form).post(requests::issue_submit),
        )
        .route("/p/{slug}/contact", post(requests::contact))
        .route("/p/{slug}/ask", post(requests::smartbox))
        .route("/p/{slug}/key", post(keys::enter))
        .route("/p/{slug}/key/confirm", post(keys::confirm))
        .route("/p/{slug}/presentation", post(keys::presentation))
        .route("/p/{slug}/sign-in", get(sign_in::start))
        .route("/p/{slug}/sign-in/callback", get(sign_in::callback))
        .route("/p/{slug}/sign-in/done", get(sign_in::done))
        .route("/p/{slug}/saml/metadata", get(sign_in::saml_metadata))
        .route("/p/{slug}/saml/acs", post(sign_in::acs))
        .route("/p/{slug}/sign-out", post(sign_in::sign_out))
        .route(
            "/p/{slug}/profiles/{id}",
            get(profiles::download).post(profiles::unlock),
        )
        .route("/s/{capability}", get(waiting::show))
        .route("/s/{capability}/status", get(waiting::status))
        .route("/s/{capability}/ws", get(waiting::live))
        .route("/s/{capability}/cancel", post(waiting::cancel))
        .route("/s/{capability}/messages", get(chat::read).post(chat::send))
        .route("/s/{capability}/transcript", get(chat::transcript))
        .route("/s/{capability}/survey", post(chat::survey))
        .route(
            "/s/{capability}/files",
            // The handler counts the file against `files.max_mb` as it streams in.
            post(chat::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/s/{capability}/files/{file}", get(chat::download))
}

/// A field error in the visitor's language.
pub fn error_text(catalog: &Catalog, lang: Language, err: FieldError) -> String {
    let args = match err {
        FieldError::TooLong { max } | FieldError::TooMany { max } => vec![("max", max.to_string())],
        FieldError::FileTooLarge { max_mb } => vec![("max_mb", max_mb.to_string())],
        FieldError::TooShort { min } => vec![("min", min.to_string())],
        FieldError::OutOfRange { min, max } => {
            vec![("min", min.to_string()), ("max", max.to_string())]
        }
        _ => vec![],
    };
    catalog
        .text(lang, &format!("error.{}", err.code()), &args)
        .unwrap_or_else(|| err.message())
}

/// Errors by field, each in the visitor's language.
pub fn translated(
    catalog: &Catalog,
    lang: Language,
    errors: &[(String, FieldError)],
) -> FieldErrors {
    let mut out = FieldErrors::default();
    for (field, err) in errors {
        out.add_message(field, error_text(catalog, lang, *err));
    }
    out
}

/// Whether the visitor is on an iPhone or iPad (an extractor: no copy of the headers).
pub struct Ios(pub bool);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Ios {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Ios(is_ios(&parts.headers)))
    }
}

/// Visitors on iPhone or iPad see configuration profiles first.
pub fn is_ios(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.contains("iPhone") || ua.contains("iPad"))
}

pub use crate::app::sessions::Arrival;
pub use requester::{queue_customer, Queued, Requester};

/// Queue a customer who asked without a key: their waiting page, or the outcome to re-show the
/// form with (too many requests: the message beside its button, what was typed kept).
pub async fn ask_for_help(
    state: &AppState,
    arrival: &Arrival<'_>,
    who: &Requester,
) -> crate::error::AppResult<Result<axum::response::Response, crate::forms::Outcome>> {
    match queue_customer(state, arrival, None, who).await? {
        Queued::Waiting(response) => Ok(Ok(response)),
        Queued::KeyTaken => Err(crate::error::AppError::NotFound),
        Queued::Refused(message) => {
            let mut errors = FieldErrors::default();
            errors.add_message("request", message);
            Ok(Err(crate::forms::Outcome {
                errors,
                notice: None,
                status: axum::http::StatusCode::TOO_MANY_REQUESTS,
            }))
        }
    }
}
