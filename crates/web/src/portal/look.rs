//! A site's look: its accent colour as a stylesheet (no inline styles under our CSP), its logo.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub async fn theme(State(state): State<AppState>, Path(slug): Path<String>) -> AppResult<Response> {
    // Every portal page loads this stylesheet: it comes from the site's kept snapshot.
    let snapshot = state.portal_cache.snapshot(&slug).await?;
    // Stored colours were parsed on save; parse again so nothing else can reach the stylesheet.
    let accent = domain::site::parse_colour(&snapshot.site.settings.accent_colour)
        .unwrap_or_else(|_| "#1d4ed8".into());
    let css = format!(":root {{ --brand: {accent}; --brand-dark: {accent}; }}\n");
    Ok((
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        css,
    )
        .into_response())
}

pub async fn logo(State(state): State<AppState>, Path(slug): Path<String>) -> AppResult<Response> {
    // Every portal page of a site with a logo loads it: the site and whether it has one come from
    // the kept snapshot, so only the image itself is read.
    let snapshot = state.portal_cache.snapshot(&slug).await?;
    if !snapshot.has_logo {
        return Err(AppError::NotFound);
    }
    let (content_type, bytes) = state
        .store
        .site_logo(snapshot.site.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache".into()),
        ],
        bytes,
    )
        .into_response())
}
