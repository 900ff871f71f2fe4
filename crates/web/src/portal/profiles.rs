//! iOS configuration profiles: public ones download directly; a private one only with a
//! one-time access key a rep issued.

use super::keys::{live_key, KeyRefusal};
use super::requests::{render_home, Typed};
use super::{is_ios, Portal};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{AppError, AppResult};
use crate::extract::ClientIp;
use crate::i18n::Lang;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use store::extras::IosProfile;
use store::keys::KeyTarget;

pub const CONTENT_TYPE: &str = "application/x-apple-aspen-config";

async fn site_profile(state: &AppState, portal: &Portal, id: &str) -> AppResult<IosProfile> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    match state.store.ios_profile(id).await? {
        Some((profile, site)) if site == portal.site.id.0 => Ok(profile),
        _ => Err(AppError::NotFound),
    }
}

async fn send(state: &AppState, profile: &IosProfile) -> AppResult<Response> {
    let content = state
        .store
        .ios_profile_content(profile.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let file: String = profile
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = domain::files::FileName::parse(&format!("{file}.mobileconfig"))
        .unwrap_or_else(|_| domain::files::FileName::fallback());
    Ok(crate::files::attachment(CONTENT_TYPE, &name, content))
}

pub async fn download(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path((slug, id)): Path<(String, String)>,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let profile = site_profile(&state, &portal, &id).await?;
    if !profile.is_public() {
        return Err(AppError::NotFound);
    }
    send(&state, &profile).await
}

pub async fn unlock(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path((slug, id)): Path<(String, String)>,
    form: CsrfForm<Typed>,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let profile = site_profile(&state, &portal, &id).await?;
    let raw = form.value.get("access_key").cloned().unwrap_or_default();
    let refusal = match live_key(&state, ip, Some(portal.site.org_id), lang, &raw).await? {
        Ok(record) if record.target() == KeyTarget::Profile(profile.id) => {
            if state.store.use_key(record.id, state.now()).await? {
                return send(&state, &profile).await;
            }
            KeyRefusal::new(&state, lang, "key.profile_invalid", StatusCode::CONFLICT)
        }
        Ok(_) => KeyRefusal::new(
            &state,
            lang,
            "key.not_this_profile",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // Said as a profile key's, not a session key's.
        Err(refusal) if refusal.not_valid => {
            KeyRefusal::new(&state, lang, "key.profile_invalid", refusal.status)
        }
        Err(refusal) => refusal,
    };
    let field = format!("profile_{}", profile.id);
    render_home(
        &state,
        &portal,
        &csrf,
        is_ios(&headers),
        &form.value,
        refusal.outcome(&field),
    )
    .await
}
