//! For operators and their tools: liveness, readiness, metrics.

use crate::metrics::Metrics;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use std::sync::Arc;
use store::Store;

/// The process is up and answering.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can do its work: the database answers.
pub async fn readyz(State(store): State<Store>) -> impl IntoResponse {
    if store.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

pub async fn metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
}
