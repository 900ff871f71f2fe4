//! Sites: read, and change what their portals say and when they are open. Scope `sites:write`.

use super::error::ErrorBody;
use super::json::{id_in_path, time, Body};
use super::{ApiCaller, ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use domain::api_token::Scope;
use domain::schedule::{format_ranges, parse_ranges, parse_time_zone, Holiday, Schedule, WEEKDAYS};
use domain::site::Texts;
use domain::{FieldError, Language, SiteId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::sites::SiteRecord;
use utoipa::ToSchema;

/// A site: one support portal with its own address and texts.
#[derive(Serialize, ToSchema)]
pub struct SiteOut {
    pub id: i64,
    pub name: String,
    pub slug: String,
    /// The portal's address.
    pub url: String,
    pub texts: SiteTexts,
    /// When the portal is open; absent: always.
    pub schedule: Option<ScheduleOut>,
    /// Whether the schedule has it open now.
    pub open_now: bool,
    /// When that changes next (absent: never, or no schedule).
    pub next_change: Option<String>,
}

/// What a portal says, by text and then by language code (`en`, `de`); a language without
/// its own text shows the English one.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SiteTexts {
    /// Above the ways to ask for help.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub welcome: Option<BTreeMap<String, String>>,
    /// Outside the schedule's hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_message: Option<BTreeMap<String, String>>,
    /// When no rep is available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_rep_message: Option<BTreeMap<String, String>>,
}

/// Opening hours in a time zone, per weekday, with dates that differ.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleOut {
    /// An IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// By weekday (`monday` … `sunday`): `09:00-12:00, 13:00-17:00`; empty or absent: closed.
    pub weekly: BTreeMap<String, String>,
    /// `2026-12-25 closed` or `2026-12-24 09:00-12:00`.
    pub holidays: Vec<String>,
}

fn by_code(texts: &Texts) -> BTreeMap<String, String> {
    texts
        .iter()
        .map(|(l, t)| (l.code().to_owned(), t.clone()))
        .collect()
}

/// A site as the API shows it, with its schedule (None: always open).
fn site_out(state: &AppState, site: &SiteRecord, schedule: Option<Schedule>) -> SiteOut {
    let now = state.now();
    let s = &site.settings;
    SiteOut {
        id: site.id.0,
        name: site.name.clone(),
        slug: site.slug.clone(),
        url: format!(
            "{}{}",
            state.config.public_url,
            crate::paths::portal(&site.slug, "")
        ),
        texts: SiteTexts {
            welcome: Some(by_code(&s.welcome)),
            closed_message: Some(by_code(&s.closed_message)),
            no_rep_message: Some(by_code(&s.no_rep_message)),
        },
        open_now: schedule.as_ref().is_none_or(|s| s.is_open(now)),
        next_change: schedule
            .as_ref()
            .and_then(|s| s.next_change(now))
            .map(|t| time(t.millis())),
        schedule: schedule.map(|s| ScheduleOut {
            weekly: WEEKDAYS
                .iter()
                .zip(&s.weekly)
                .map(|(day, ranges)| ((*day).to_owned(), format_ranges(ranges)))
                .collect(),
            holidays: s.holidays.iter().map(Holiday::format).collect(),
            time_zone: s.time_zone,
        }),
    }
}

async fn site_of(state: &AppState, caller: &ApiCaller, raw: &str) -> ApiResult<SiteRecord> {
    let id = SiteId(id_in_path(raw, "site")?);
    state
        .store
        .site(caller.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("site"))
}

/// The organization's sites.
#[utoipa::path(get, path = "/api/v1/sites", tag = "sites",
    security(("token" = ["sites:write"])),
    responses((status = 200, body = [SiteOut]), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<Vec<SiteOut>>> {
    caller.require(Scope::ManageSites)?;
    let mut schedules = state.store.schedules(caller.org).await?;
    let sites = state.store.site_records(caller.org).await?;
    let out = sites
        .iter()
        .map(|site| site_out(&state, site, schedules.remove(&site.id)))
        .collect();
    Ok(Json(out))
}

/// One site with its schedule read.
async fn with_schedule(state: &AppState, site: &SiteRecord) -> ApiResult<SiteOut> {
    let schedule = state.store.schedule(site.id).await?;
    Ok(site_out(state, site, schedule))
}

/// One site.
#[utoipa::path(get, path = "/api/v1/sites/{site}", tag = "sites",
    params(("site" = i64, Path, description = "The site's id")),
    security(("token" = ["sites:write"])),
    responses((status = 200, body = SiteOut), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn one(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(site): Path<String>,
) -> ApiResult<Json<SiteOut>> {
    caller.require(Scope::ManageSites)?;
    let site = site_of(&state, &caller, &site).await?;
    Ok(Json(with_schedule(&state, &site).await?))
}

/// The texts given replace the site's (each text whole, all its languages); texts not given
/// stay. An empty object for a text clears it.
fn replaced(
    field: &str,
    given: &Option<BTreeMap<String, String>>,
    stored: &mut Texts,
) -> ApiResult<()> {
    let Some(given) = given else {
        return Ok(());
    };
    let mut texts = Texts::new();
    for (code, text) in given {
        let language = Language::parse(code)
            .filter(|l| l.code() == code)
            .ok_or_else(|| {
                ApiError::invalid(&format!("texts.{field}.{code}"), FieldError::InvalidChoice)
            })?;
        let text = text.trim();
        if text.chars().count() > crate::admin::MAX_SITE_MESSAGE {
            return Err(ApiError::invalid(
                &format!("texts.{field}.{code}"),
                FieldError::TooLong {
                    max: crate::admin::MAX_SITE_MESSAGE,
                },
            ));
        }
        if !text.is_empty() {
            texts.insert(language, text.to_owned());
        }
    }
    *stored = texts;
    Ok(())
}

/// Change what the portal says; open portals show it at once.
#[utoipa::path(patch, path = "/api/v1/sites/{site}/texts", tag = "sites",
    params(("site" = i64, Path, description = "The site's id")),
    request_body = SiteTexts,
    security(("token" = ["sites:write"])),
    responses((status = 200, body = SiteOut), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn update_texts(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(site): Path<String>,
    Body(input): Body<SiteTexts>,
) -> ApiResult<Json<SiteOut>> {
    caller.require(Scope::ManageSites)?;
    let site = site_of(&state, &caller, &site).await?;
    let mut settings = site.settings.clone();
    replaced("welcome", &input.welcome, &mut settings.welcome)?;
    replaced(
        "closed_message",
        &input.closed_message,
        &mut settings.closed_message,
    )?;
    replaced(
        "no_rep_message",
        &input.no_rep_message,
        &mut settings.no_rep_message,
    )?;
    let name = domain::text::DisplayName::parse(&site.name)
        .map_err(|_| ApiError::internal("a stored site name does not parse"))?;
    let slug = domain::text::Slug::parse(&site.slug)
        .map_err(|_| ApiError::internal("a stored site slug does not parse"))?;
    state
        .store
        .update_site(caller.org, site.id, &name, &slug, &settings)
        .await?;
    state.announce_site_change(caller.org, site.id, "site");
    let site = site_of(&state, &caller, &site.id.0.to_string()).await?;
    Ok(Json(with_schedule(&state, &site).await?))
}

/// Set when the portal is open (outside its hours only key entry remains, with the closed
/// message).
#[utoipa::path(put, path = "/api/v1/sites/{site}/schedule", tag = "sites",
    params(("site" = i64, Path, description = "The site's id")),
    request_body = ScheduleOut,
    security(("token" = ["sites:write"])),
    responses((status = 200, body = SiteOut), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn set_schedule(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(site): Path<String>,
    Body(input): Body<ScheduleOut>,
) -> ApiResult<Json<SiteOut>> {
    caller.require(Scope::ManageSites)?;
    let site = site_of(&state, &caller, &site).await?;
    let time_zone =
        parse_time_zone(&input.time_zone).map_err(|e| ApiError::invalid("time_zone", e))?;
    if let Some(day) = input
        .weekly
        .keys()
        .find(|d| !WEEKDAYS.contains(&d.as_str()))
    {
        return Err(ApiError::invalid(
            &format!("weekly.{day}"),
            FieldError::InvalidChoice,
        ));
    }
    let mut weekly: [Vec<domain::schedule::Range>; 7] = Default::default();
    for (i, day) in WEEKDAYS.iter().enumerate() {
        let raw = input.weekly.get(*day).map(String::as_str).unwrap_or("");
        weekly[i] =
            parse_ranges(raw).map_err(|e| ApiError::invalid(&format!("weekly.{day}"), e))?;
    }
    let mut holidays = Vec::new();
    for (i, line) in input.holidays.iter().enumerate() {
        holidays.push(
            Holiday::parse(line).map_err(|e| ApiError::invalid(&format!("holidays.{i}"), e))?,
        );
    }
    let schedule = Schedule {
        time_zone,
        weekly,
        holidays,
    };
    state
        .store
        .set_schedule(caller.org, site.id, Some(&schedule))
        .await?;
    state.announce_site_change(caller.org, site.id, "schedule");
    Ok(Json(with_schedule(&state, &site).await?))
}

/// Remove the schedule: the portal is always open.
#[utoipa::path(delete, path = "/api/v1/sites/{site}/schedule", tag = "sites",
    params(("site" = i64, Path, description = "The site's id")),
    security(("token" = ["sites:write"])),
    responses((status = 200, body = SiteOut), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn remove_schedule(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(site): Path<String>,
) -> ApiResult<Json<SiteOut>> {
    caller.require(Scope::ManageSites)?;
    let site = site_of(&state, &caller, &site).await?;
    state.store.set_schedule(caller.org, site.id, None).await?;
    state.announce_site_change(caller.org, site.id, "schedule");
    Ok(Json(with_schedule(&state, &site).await?))
}
