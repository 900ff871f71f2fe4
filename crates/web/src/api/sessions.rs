//! Support sessions: listed with filters and cursor paging; one with its events; its
//! transcript; its survey. Scope `sessions:read`.

use super::error::ErrorBody;
use super::json::{id_in_path, parse_time, time, Query};
use super::{ApiCaller, ApiError, ApiResult};
use crate::chat::{session_language, whole_conversation, Reader};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use domain::api_token::Scope;
use domain::{Language, SessionId, SiteId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::session_list::SessionFilter;
use store::support::SupportSession;
use utoipa::{IntoParams, ToSchema};

/// A page holds at most this many sessions.
const MOST_PER_PAGE: i64 = 100;

/// A support session.
#[derive(Serialize, ToSchema)]
pub struct SessionOut {
    pub id: i64,
    /// `waiting`, `active` or `ended`.
    pub state: String,
    /// How the customer asked: `contact_button`, `issue_form`, `rep_list`, `session_key`, `smartbox`.
    pub start_method: String,
    pub site_id: Option<i64>,
    /// The queue it waits in, or (once taken) the one it was taken from.
    pub queue: Option<QueueOut>,
    /// The rep who holds (or held) it.
    pub owner_rep_id: Option<i64>,
    pub customer: CustomerOut,
    /// How it ended (`resolved`, `abandoned`, …), once it has.
    pub outcome: Option<String>,
    /// RFC 3339, UTC.
    pub queued_at: String,
    pub accepted_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct QueueOut {
    /// `personal`, `team` or `general`.
    pub kind: String,
    pub rep_id: Option<i64>,
    pub team_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CustomerOut {
    pub name: String,
    pub company: Option<String>,
    pub description: Option<String>,
    pub company_code: Option<String>,
    /// The language the customer reads (`en`, `de`).
    pub language: String,
    /// Signed in at the site's identity provider.
    pub verified: bool,
    /// The identity provider that vouched for them.
    pub verified_by: Option<String>,
    /// Answers to the site's custom fields, by field key.
    pub fields: BTreeMap<String, String>,
}

impl From<&SupportSession> for SessionOut {
    fn from(s: &SupportSession) -> Self {
        SessionOut {
            id: s.id.0,
            state: s.state.as_str().into(),
            start_method: s.start_method.clone(),
            site_id: s.site_id,
            queue: s.queue_kind.as_ref().map(|kind| QueueOut {
                kind: kind.clone(),
                rep_id: s.queue_user_id,
                team_id: s.queue_team_id,
            }),
            owner_rep_id: s.owner_user_id,
            customer: CustomerOut {
                name: s.customer_name.clone(),
                company: s.customer_company.clone(),
                description: s.description.clone(),
                company_code: s.company_code.clone(),
                language: s.language.clone(),
                verified: s.verified,
                verified_by: s.verified_by.clone(),
                fields: serde_json::from_str(&s.fields).unwrap_or_default(),
            },
            outcome: s.outcome.clone(),
            queued_at: time(s.queued_at.millis()),
            accepted_at: s.accepted_at.map(time),
        }
    }
}

/// One page of sessions, newest first.
#[derive(Serialize, ToSchema)]
pub struct SessionPage {
    pub sessions: Vec<SessionOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `waiting`, `active` or `ended`.
    state: Option<String>,
    /// Only this site's sessions.
    site_id: Option<i64>,
    /// Only sessions started this way (see `start_method`).
    start_method: Option<String>,
    /// Queued at or after this time (RFC 3339).
    since: Option<String>,
    /// Queued before this time (RFC 3339).
    until: Option<String>,
    /// At most this many (1–100, default 50).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> ApiResult<SessionFilter> {
        let state = match &self.state {
            Some(raw) => Some(
                domain::session::Status::parse(raw)
                    .map_err(|reason| ApiError::invalid("state", reason))?,
            ),
            None => None,
        };
        if let Some(method) = &self.start_method {
            if domain::session::StartMethod::parse(method).is_none() {
                return Err(ApiError::invalid(
                    "start_method",
                    domain::FieldError::InvalidChoice,
                ));
            }
        }
        Ok(SessionFilter {
            state,
            site: self.site_id.map(SiteId),
            method: self.start_method.clone(),
            since: self
                .since
                .as_deref()
                .map(|t| parse_time("since", t))
                .transpose()?,
            until: self
                .until
                .as_deref()
                .map(|t| parse_time("until", t))
                .transpose()?,
        })
    }

    fn limit(&self) -> ApiResult<i64> {
        match self.limit {
            None => Ok(50),
            Some(n) if (1..=MOST_PER_PAGE).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::invalid(
                "limit",
                domain::FieldError::OutOfRange {
                    min: 1,
                    max: MOST_PER_PAGE,
                },
            )),
        }
    }

    /// The cursor is the last id of the previous page (opaque to clients all the same).
    fn before(&self) -> ApiResult<Option<i64>> {
        match &self.cursor {
            None => Ok(None),
            Some(raw) => raw.parse::<i64>().map(Some).map_err(|_| {
                ApiError::invalid_because(
                    "cursor",
                    "invalid_cursor",
                    "`cursor`: pass the `next_cursor` of the previous page as it was",
                )
            }),
        }
    }
}

/// List support sessions, newest first.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", params(ListQuery),
    security(("token" = ["sessions:read"])),
    responses((status = 200, body = SessionPage), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<SessionPage>> {
    caller.require(Scope::ReadSessions)?;
    let (filter, limit, before) = (query.filter()?, query.limit()?, query.before()?);
    // One more than asked says whether there is a next page.
    let mut rows = state
        .store
        .sessions_page(caller.org, &filter, before, limit + 1)
        .await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| rows.last().map(|s| s.id.0.to_string()))
        .flatten();
    Ok(Json(SessionPage {
        sessions: rows.iter().map(SessionOut::from).collect(),
        next_cursor,
    }))
}

/// A session with what happened in it.
#[derive(Serialize, ToSchema)]
pub struct SessionDetail {
    #[serde(flatten)]
    pub session: SessionOut,
    pub events: Vec<EventOut>,
}

#[derive(Serialize, ToSchema)]
pub struct EventOut {
    /// The organization's event number (ascending).
    pub seq: i64,
    /// `queued`, `accepted`, `transferred`, `ended`, …
    pub kind: String,
    pub at: String,
    /// The event as recorded.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

async fn session_of(state: &AppState, caller: &ApiCaller, id: &str) -> ApiResult<SupportSession> {
    let id = SessionId(id_in_path(id, "session")?);
    state
        .store
        .support_session(caller.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found("session"))
}

/// One support session with its events.
#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "sessions",
    params(("id" = i64, Path, description = "The session's id")),
    security(("token" = ["sessions:read"])),
    responses((status = 200, body = SessionDetail), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn one(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<SessionDetail>> {
    caller.require(Scope::ReadSessions)?;
    let session = session_of(&state, &caller, &id).await?;
    let events = state
        .store
        .session_events(caller.org, session.id)
        .await?
        .into_iter()
        .map(|e| EventOut {
            seq: e.seq,
            kind: e.kind,
            at: time(e.created_at.millis()),
            data: serde_json::from_str(&e.payload).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(Json(SessionDetail {
        session: SessionOut::from(&session),
        events,
    }))
}

/// The conversation, line by line.
#[derive(Serialize, ToSchema)]
pub struct Transcript {
    pub session_id: i64,
    pub lines: Vec<LineOut>,
}

#[derive(Serialize, ToSchema)]
pub struct LineOut {
    /// The line's number in its session (ascending).
    pub seq: i64,
    /// `message` or `system`.
    pub kind: String,
    /// `customer`, `rep` or `system`.
    pub from: String,
    pub name: String,
    /// As written (a system line: in English).
    pub text: String,
    /// The language it was written in.
    pub language: Option<String>,
    /// Its translations, by language.
    pub translations: BTreeMap<String, String>,
    /// The file the message carries (then `text` is its name).
    pub file: Option<FileOut>,
    pub at: String,
}

#[derive(Serialize, ToSchema)]
pub struct FileOut {
    pub name: String,
    /// Readable size, e.g. "12 KB".
    pub size: String,
}

/// A session's transcript: messages as written with their translations, system lines, files.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/transcript", tag = "sessions",
    params(("id" = i64, Path, description = "The session's id")),
    security(("token" = ["sessions:read"])),
    responses((status = 200, body = Transcript), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn transcript(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<Transcript>> {
    caller.require(Scope::ReadSessions)?;
    let session = session_of(&state, &caller, &id).await?;
    // Read untranslated, system lines in English: `text` is what was written.
    let reader = Reader {
        lang: Language::En,
        reads: session_language(&session),
        translating: false,
    };
    let lines = crate::i18n::in_locale(
        crate::i18n::PageLocale {
            lang: Language::En,
            zone: jiff::tz::TimeZone::UTC,
        },
        whole_conversation(&state, &session, &reader),
    )
    .await?;
    let lines = lines
        .into_iter()
        .map(|line| LineOut {
            seq: line.seq,
            kind: line.kind.into(),
            from: line.from,
            name: line.name,
            text: line.original.unwrap_or(line.text),
            language: line.lang.map(|l| l.code().to_owned()),
            translations: line
                .translations
                .into_iter()
                .map(|(l, text)| (l.code().to_owned(), text))
                .collect(),
            file: line.file.map(|f| FileOut {
                name: f.name,
                size: f.size,
            }),
            at: time(line.at),
        })
        .collect();
    Ok(Json(Transcript {
        session_id: session.id.0,
        lines,
    }))
}

/// The customer's answer to the exit survey.
#[derive(Serialize, ToSchema)]
pub struct SurveyOut {
    pub session_id: i64,
    /// 1 to 5.
    pub rating: i64,
    pub comment: Option<String>,
    pub submitted_at: String,
}

/// A session's exit survey (404 while none was answered).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/survey", tag = "sessions",
    params(("id" = i64, Path, description = "The session's id")),
    security(("token" = ["sessions:read"])),
    responses((status = 200, body = SurveyOut), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn survey(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> ApiResult<Json<SurveyOut>> {
    caller.require(Scope::ReadSessions)?;
    let session = session_of(&state, &caller, &id).await?;
    let survey = state
        .store
        .survey(caller.org, session.id)
        .await?
        .ok_or_else(|| ApiError::not_found("survey"))?;
    Ok(Json(SurveyOut {
        session_id: session.id.0,
        rating: survey.rating,
        comment: survey.comment,
        submitted_at: time(survey.created_at),
    }))
}
