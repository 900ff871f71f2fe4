//! Request bodies and queries read as the API's errors say: a body that is not the JSON a route
//! takes, or a query that does not parse, is answered in the one error shape.

use super::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// `axum::Json`, refused as `invalid_json` (400) with what serde said.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(value)| Body(value))
            .map_err(|rejection| ApiError::invalid_json(rejection.body_text()))
    }
}

/// `axum::extract::Query`, refused as `invalid` (422) naming the query.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection| {
                ApiError::invalid_because("query", "unreadable", rejection.body_text())
            })
    }
}

/// An id in the path: a number, else the thing is simply not there.
pub fn id_in_path(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found(what))
}

/// A time the API writes: RFC 3339 in UTC (`2026-12-04T09:30:00Z`).
pub fn time(millis: i64) -> String {
    jiff::Timestamp::from_millisecond(millis)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// A time the API reads: RFC 3339 with an offset; refused beside `field` otherwise.
pub fn parse_time(field: &str, raw: &str) -> Result<domain::Timestamp, ApiError> {
    raw.parse::<jiff::Timestamp>()
        .map(|t| domain::Timestamp(t.as_millisecond()))
        .map_err(|_| {
            ApiError::invalid_because(
                field,
                "invalid_datetime",
                format!("`{field}`: a time such as 2026-12-04T09:30:00Z"),
            )
        })
}
