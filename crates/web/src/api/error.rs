//! The API's one error shape: `{"error": {"code": "…", "message": "…", "field": "…"}}`, with a
//! stable code clients switch on, an English message people read, and for refused input the
//! field it is about (its name in the request body or query).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    /// Boxed: errors travel in every handler's `Result`, which stays small.
    body: Box<ErrorBody>,
    retry_after: Option<u64>,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable: `unauthorized`, `insufficient_scope`, `not_found`, `invalid`, `invalid_json`,
    /// `conflict`, `rate_limited`, `internal`; for `invalid`, `field` names the input and
    /// `reason` says why (`required`, `too_long`, `invalid_choice`, …).
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `internal`: the reference the server's log holds the cause under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: Box::new(ErrorBody {
                error: ErrorDetail {
                    code: code.into(),
                    message: message.into(),
                    field: None,
                    reason: None,
                    reference: None,
                },
            }),
            retry_after: None,
        }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Send a live API token as `Authorization: Bearer spt_…`.",
        )
    }

    pub fn insufficient_scope(scope: domain::api_token::Scope) -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!(
                "This token may not do this: it needs the scope `{}`.",
                scope.as_str()
            ),
        )
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No such {what}."),
        )
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn invalid_json(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    }

    /// Input refused: which field, and why (the domain's stable reason code).
    pub fn invalid(field: &str, reason: domain::FieldError) -> ApiError {
        // The API speaks English: the domain's own words.
        let message = format!("`{field}`: {}", reason.message().trim_end_matches('.'));
        let mut error = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message);
        error.body.error.field = Some(field.into());
        error.body.error.reason = Some(reason.code().into());
        error
    }

    /// Input refused for a reason of its own (not one of the domain's codes).
    pub fn invalid_because(field: &str, reason: &str, message: impl Into<String>) -> ApiError {
        let mut error = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message);
        error.body.error.field = Some(field.into());
        error.body.error.reason = Some(reason.into());
        error
    }

    pub fn rate_limited(retry_after: u64) -> ApiError {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("Too many calls with this token: retry in {retry_after} s."),
        );
        error.retry_after = Some(retry_after);
        error
    }

    pub fn internal(err: impl std::fmt::Display) -> ApiError {
        let reference = format!("{:08x}", rand::random::<u32>());
        tracing::error!(reference, error = %err, "API request failed");
        let mut error = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side; the log has the cause under the reference.",
        );
        error.body.error.reference = Some(reference);
        error
    }
}

impl From<store::StoreError> for ApiError {
    fn from(err: store::StoreError) -> Self {
        ApiError::internal(err)
    }
}

impl From<crate::error::AppError> for ApiError {
    fn from(err: crate::error::AppError) -> Self {
        use crate::error::AppError;
        match err {
            AppError::NotFound => ApiError::not_found("resource"),
            AppError::Forbidden | AppError::Csrf => ApiError::unauthorized(),
            AppError::BadRequest(why) => ApiError::new(StatusCode::BAD_REQUEST, "bad_request", why),
            AppError::RateLimited(secs) => ApiError::rate_limited(secs),
            AppError::Internal(err) => ApiError::internal(format!("{err:#}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(*self.body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
