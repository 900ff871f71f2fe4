//! For operators and their tools: liveness, readiness, metrics.

use crate::error::AppError;
use crate::extract::ClientIp;
use crate::metrics::Metrics;
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::response::Response;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The process is up and answering.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can do its work: the database answers, and so does Redis when nodes share one
/// (a load balancer stops sending here until both do; pages keep being served meanwhile).
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let (database, bus) = tokio::join!(state.store.ping(), state.bus.ready());
    match (database, bus) {
        (true, true) => (StatusCode::OK, "ready"),
        (database, bus) => {
            // Why is for the operator's logs, not for whoever asks.
            tracing::warn!(
                database,
                bus,
                "not ready: the database or Redis does not answer"
            );
            (StatusCode::SERVICE_UNAVAILABLE, "not ready")
        }
    }
}

/// The Prometheus metrics, for the operator's scraper only: with `server.metrics_token` set,
/// to a request that bears it; without, to this machine. Anyone else finds nothing here.
pub async fn metrics(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Response {
    let allowed = match &state.config.metrics_token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|sent| bool::from(sent.as_bytes().ct_eq(token.as_bytes()))),
        None => ip.is_loopback(),
    };
    if !allowed {
        return AppError::NotFound.into_response();
    }
    encoded(&state.metrics).into_response()
}

fn encoded(metrics: &Arc<Metrics>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
}
