//! Customer notices (the outage case): a monitoring tool posts one on a site's portal and ends
//! it when the outage is over. Scope `notices:write`.

use super::error::ErrorBody;
use super::json::{id_in_path, parse_time, time, Body};
use super::{ApiCaller, ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::api_token::Scope;
use domain::notice::{self, Severity};
use domain::text::DisplayName;
use domain::{Language, NoticeId, SiteId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::sites::{NewNotice, NoticeRecord};
use utoipa::ToSchema;

/// A notice shown on a site's portal.
#[derive(Serialize, ToSchema)]
pub struct NoticeOut {
    pub id: i64,
    pub site_id: i64,
    /// The admins' name for it (customers see the text).
    pub name: String,
    /// `info`, `warning` or `outage`.
    pub severity: String,
    /// What customers read, by language (`en`, `de`).
    pub texts: BTreeMap<String, String>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    /// Whether the portal shows it now.
    pub showing: bool,
}

impl NoticeOut {
    fn of(site: SiteId, n: &NoticeRecord, now: domain::Timestamp) -> NoticeOut {
        NoticeOut {
            id: n.id.0,
            site_id: site.0,
            name: n.name.clone(),
            severity: n.severity.as_str().into(),
            texts: n
                .texts
                .iter()
                .map(|(l, t)| (l.code().to_owned(), t.clone()))
                .collect(),
            starts_at: n.starts_at.map(|t| time(t.millis())),
            ends_at: n.ends_at.map(|t| time(t.millis())),
            showing: notice::is_shown(n.starts_at, n.ends_at, now),
        }
    }
}

/// A new notice.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeIn {
    /// The admins' name for it (1–100 characters).
    pub name: String,
    /// `info`, `warning` or `outage`.
    pub severity: String,
    /// What customers read, by language code: at least one, each up to 1,020 characters.
    pub texts: BTreeMap<String, String>,
    /// From when (RFC 3339); absent: now.
    pub starts_at: Option<String>,
    /// Until when (RFC 3339); absent: until ended.
    pub ends_at: Option<String>,
}

async fn site_of(state: &AppState, caller: &ApiCaller, raw: &str) -> ApiResult<SiteId> {
    let id = SiteId(id_in_path(raw, "site")?);
    state
        .store
        .site(caller.org, id)
        .await?
        .map(|_| id)
        .ok_or_else(|| ApiError::not_found("site"))
}

/// A site's notices, in and out of their windows.
#[utoipa::path(get, path = "/api/v1/sites/{site}/notices", tag = "notices",
    params(("site" = i64, Path, description = "The site's id")),
    security(("token" = ["notices:write"])),
    responses((status = 200, body = [NoticeOut]), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(site): Path<String>,
) -> ApiResult<Json<Vec<NoticeOut>>> {
    caller.require(Scope::WriteNotices)?;
    let site = site_of(&state, &caller, &site).await?;
    let now = state.now();
    let notices = state.store.notices(site).await?;
    Ok(Json(
        notices
            .iter()
            .map(|n| NoticeOut::of(site, n, now))
            .collect(),
    ))
}

/// Post a notice on a site's portal; portals open now show it at once.
#[utoipa::path(post, path = "/api/v1/sites/{site}/notices", tag = "notices",
    params(("site" = i64, Path, description = "The site's id")),
    request_body = NoticeIn,
    security(("token" = ["notices:write"])),
    responses((status = 201, body = NoticeOut), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(site): Path<String>,
    Body(input): Body<NoticeIn>,
) -> ApiResult<(StatusCode, Json<NoticeOut>)> {
    caller.require(Scope::WriteNotices)?;
    let site = site_of(&state, &caller, &site).await?;
    let name = DisplayName::parse(&input.name).map_err(|e| ApiError::invalid("name", e))?;
    let severity =
        Severity::parse(&input.severity).map_err(|e| ApiError::invalid("severity", e))?;
    let mut raw = BTreeMap::new();
    for (code, text) in &input.texts {
        let language = Language::parse(code)
            .filter(|l| l.code() == code)
            .ok_or_else(|| {
                ApiError::invalid(&format!("texts.{code}"), domain::FieldError::InvalidChoice)
            })?;
        raw.insert(language, text.clone());
    }
    let texts = notice::parse_texts(&raw).map_err(|e| ApiError::invalid("texts", e))?;
    let starts_at = input
        .starts_at
        .as_deref()
        .map(|t| parse_time("starts_at", t))
        .transpose()?;
    let ends_at = input
        .ends_at
        .as_deref()
        .map(|t| parse_time("ends_at", t))
        .transpose()?;
    if let (Some(s), Some(e)) = (starts_at, ends_at) {
        if e <= s {
            return Err(ApiError::invalid_because(
                "ends_at",
                "invalid_time_range",
                "`ends_at`: the end must come after the start",
            ));
        }
    }
    if state.store.notices(site).await?.len() >= notice::MAX_PER_SITE {
        return Err(ApiError::conflict(format!(
            "A site shows at most {} notices: end and delete one first.",
            notice::MAX_PER_SITE
        )));
    }
    let new = NewNotice {
        name: &name,
        severity,
        texts: &texts,
        starts_at,
        ends_at,
    };
    let now = state.now();
    let id = state
        .store
        .create_notice(caller.org, site, &new, now)
        .await?
        .ok_or_else(|| ApiError::not_found("site"))?;
    state.announce_site_change(caller.org, site, "notice");
    crate::app::notices::log_windows(&state).await?;
    let (site, notice) = state
        .store
        .notice_of(caller.org, id)
        .await?
        .ok_or_else(|| ApiError::internal("a notice just made is gone"))?;
    Ok((StatusCode::CREATED, Json(NoticeOut::of(site, &notice, now))))
}

/// End a notice now (the outage is over): portals open now stop showing it at once.
#[utoipa::path(post, path = "/api/v1/notices/{id}/end", tag = "notices",
    params(("id" = i64, Path, description = "The notice's id")),
    security(("token" = ["notices:write"])),
    responses((status = 200, body = NoticeOut), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn end(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<NoticeOut>> {
    caller.require(Scope::WriteNotices)?;
    let id = NoticeId(id_in_path(&id, "notice")?);
    let now = state.now();
    if !state.store.end_notice(caller.org, id, now).await? {
        return Err(ApiError::not_found("notice"));
    }
    crate::app::notices::log_windows(&state).await?;
    let (site, notice) = state
        .store
        .notice_of(caller.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("notice"))?;
    state.announce_site_change(caller.org, site, "notice");
    Ok(Json(NoticeOut::of(site, &notice, now)))
}
