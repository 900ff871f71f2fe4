//! The history of past sessions: search by customer name, company or a word of the
//! conversation (the database's full-text search), newest first, paged; each session's record
//! with its whole conversation (originals and translations), survey, outcome and notes, and
//! its transcript as text.

use crate::chat::{whole_conversation, Reader};
use crate::error::{AppError, AppResult};
use crate::extract::CurrentUser;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use domain::history::SearchTerms;
use domain::role::Role;
use domain::SessionId;
use minijinja::context;
use serde::Deserialize;
use store::history::Viewer;

/// Sessions per page of results.
const PAGE: usize = 20;

#[derive(Deserialize, Default)]
pub struct HistoryQuery {
    #[serde(default)]
    q: String,
    /// The cursor: show sessions older than this one.
    before: Option<i64>,
}

pub(super) fn viewer(me: &CurrentUser) -> Viewer {
    match me.user.role {
        Role::Admin => Viewer::Admin,
        _ => Viewer::Rep(me.user.id),
    }
}

pub async fn index(
    State(state): State<AppState>,
    me: CurrentUser,
    crate::csrf::CsrfToken(csrf): crate::csrf::CsrfToken,
    Query(query): Query<HistoryQuery>,
) -> AppResult<Html<String>> {
    let terms = SearchTerms::parse(&query.q);
    let (org, limit) = (me.user.org_id, PAGE as i64 + 1);
    let mut rows = state
        .store
        .search_history(org, viewer(&me), &terms, query.before, limit)
        .await?;
    let older = match rows.len() > PAGE {
        true => {
            rows.truncate(PAGE);
            rows.last().map(|r| r.id)
        }
        false => None,
    };
    for row in &mut rows {
        // Where the search matched, cut to a line's worth.
        if let Some(excerpt) = &mut row.excerpt {
            *excerpt = domain::text::shortened(excerpt, 200).into_owned();
        }
    }
    let q_param: String = url::form_urlencoded::byte_serialize(query.q.as_bytes()).collect();
    let ctx = context! {
        me => &me.user, csrf, q => &query.q, q_param, rows, older,
        paged => query.before.is_some(), searched => !terms.is_empty(),
    };
    state.templates.page("console/history.html", ctx)
}

/// A past (or current) session the viewer may see, with who reads it.
async fn visible_session(
    state: &AppState,
    me: &CurrentUser,
    id: &str,
) -> AppResult<(store::support::SupportSession, Reader)> {
    let id: SessionId = id.parse().map_err(|_| AppError::NotFound)?;
    let org = me.user.org_id;
    if !state.store.may_see_in_history(org, viewer(me), id).await? {
        return Err(AppError::NotFound);
    }
    let session = state.store.support_session(org, id).await?;
    let session = session.ok_or(AppError::NotFound)?;
    let reader = Reader::rep(state, &session, &me.user).await;
    Ok((session, reader))
}

pub async fn record(
    State(state): State<AppState>,
    me: CurrentUser,
    crate::csrf::CsrfToken(csrf): crate::csrf::CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Html<String>> {
    let (session, reader) = visible_session(&state, &me, &id).await?;
    let lines = whole_conversation(&state, &session, &reader).await?;
    let (org, id) = (session.org_id, session.id);
    let survey = state.store.survey(org, id).await?;
    let owner = match session.owner_user_id {
        Some(owner) => state.store.user(org, domain::UserId(owner)).await?,
        None => None,
    };
    let owner = owner.map(|u| u.display_name);
    let ctx = context! { me => &me.user, csrf, session, lines, survey, owner };
    state.templates.page("console/history_session.html", ctx)
}

pub async fn transcript(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (session, reader) = visible_session(&state, &me, &id).await?;
    let text = crate::chat::transcript(&state, &session, &reader).await?;
    Ok(crate::chat::transcript_download(session.id, text).into_response())
}
