//! Session keys for a rep, issued by another system (a CRM opening a support case for its
//! customer), and revoked. Scope `keys:write`. The same cap, validities and audit as keys a rep
//! makes in the console.

use super::error::ErrorBody;
use super::json::{id_in_path, time, Body};
use super::{ApiCaller, ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::api_token::Scope;
use domain::session_key::{SessionKey, VALIDITY_MINUTES};
use domain::{FieldError, UserId};
use serde::{Deserialize, Serialize};
use store::keys::KeyTarget;
use utoipa::ToSchema;

/// A session key: the customer types it on any portal (or opens the link) and lands in the
/// rep's queue.
#[derive(Serialize, ToSchema)]
pub struct KeyOut {
    pub id: i64,
    /// The digits.
    pub key: String,
    /// The digits in groups of three, as people read them out.
    pub spaced: String,
    pub rep_id: i64,
    pub expires_at: String,
    /// Opens the key's page directly.
    pub link: String,
    /// A message ready to send to the customer.
    pub message: String,
}

/// A key to issue.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyIn {
    /// The rep whose queue the customer lands in (active, of this organization).
    pub rep_id: i64,
    /// How long it may be used: 5, 15, 30, 60, 240 or 1440 minutes, at most the organization's
    /// longest (default 60, or that longest when shorter).
    pub valid_minutes: Option<i64>,
}

/// Issue a session key for a rep.
#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", request_body = KeyIn,
    security(("token" = ["keys:write"])),
    responses((status = 201, body = KeyOut), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn issue(
    State(state): State<AppState>,
    caller: ApiCaller,
    Body(input): Body<KeyIn>,
) -> ApiResult<(StatusCode, Json<KeyOut>)> {
    caller.require(Scope::IssueKeys)?;
    let org = state
        .store
        .organization(caller.org)
        .await?
        .ok_or_else(|| ApiError::not_found("organization"))?;
    let rep = state
        .store
        .user(caller.org, UserId(input.rep_id))
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| ApiError::invalid("rep_id", FieldError::InvalidChoice))?;
    let longest = org.key_max_validity_minutes;
    let minutes = input.valid_minutes.unwrap_or(60.min(longest));
    if !VALIDITY_MINUTES.contains(&minutes) {
        return Err(ApiError::invalid(
            "valid_minutes",
            FieldError::InvalidChoice,
        ));
    }
    if minutes > longest {
        return Err(ApiError::invalid_because(
            "valid_minutes",
            "out_of_range",
            format!("`valid_minutes`: keys here are valid {longest} minutes at most"),
        ));
    }
    let detail = format!(
        "{minutes} min, for {} (API token “{}”)",
        rep.display_name, caller.token_name
    );
    let issued = crate::rep_keys::issue(
        &state,
        &org,
        crate::rep_keys::Issuer {
            rep: rep.id,
            actor: None,
            detail: &detail,
        },
        KeyTarget::Support,
        minutes,
    )
    .await?;
    let Some(key) = issued else {
        return Err(ApiError::conflict(format!(
            "{} already has {} live keys: revoke one first.",
            rep.display_name,
            domain::session_key::MAX_LIVE_PER_REP
        )));
    };
    let record = state
        .store
        .find_key(&key)
        .await?
        .ok_or_else(|| ApiError::internal("a key just issued is gone"))?;
    Ok((
        StatusCode::CREATED,
        Json(key_out(&state, &record, &key).await?),
    ))
}

async fn key_out(
    state: &AppState,
    record: &store::keys::KeyRecord,
    key: &SessionKey,
) -> ApiResult<KeyOut> {
    let shown = crate::rep_keys::describe(state, record).await?;
    Ok(KeyOut {
        id: record.id,
        key: key.as_str().to_owned(),
        spaced: key.spaced(),
        rep_id: record.user_id.0,
        expires_at: time(record.expires_at),
        link: shown.link,
        message: shown.message,
    })
}

/// A key revoked.
#[derive(Serialize, ToSchema)]
pub struct RevokedOut {
    pub id: i64,
    pub revoked: bool,
}

/// Revoke a live key (issued here or by the rep): it opens nothing from now on.
#[utoipa::path(post, path = "/api/v1/keys/{id}/revoke", tag = "keys",
    params(("id" = i64, Path, description = "The key's id")),
    security(("token" = ["keys:write"])),
    responses((status = 200, body = RevokedOut), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<RevokedOut>> {
    caller.require(Scope::IssueKeys)?;
    let id = id_in_path(&id, "key")?;
    let detail = format!("API token “{}”", caller.token_name);
    if !state
        .store
        .revoke_org_key(caller.org, id, &detail, state.now())
        .await?
    {
        return Err(ApiError::not_found("live key"));
    }
    Ok(Json(RevokedOut { id, revoked: true }))
}
