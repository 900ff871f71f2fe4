//! Console pages: the queue list (also served alone, for live refresh) and a session's tab.

use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::extract::CurrentUser;
use crate::forms::Outcome;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{Html, Response};
use domain::rep::Presence;
use domain::{SessionId, UserId};
use minijinja::{context, Value};
use serde::Serialize;
use store::support::SupportSession;

#[derive(Serialize)]
struct EventView {
    seq: i64,
    kind: String,
    reason: Option<String>,
    at: i64,
}

/// The rep's queue list and their sessions, for the console layout.
pub async fn console_context(state: &AppState, me: &CurrentUser) -> AppResult<Value> {
    let org = me.user.org_id;
    let teams = state.store.user_team_ids(org, me.user.id).await?;
    let (mut queue, mut queue_total) = state
        .store
        .visible_queue(
            org,
            &domain::session::Queue::all_open_to(me.user.id, &teams),
            state.config.queue_list_limit,
        )
        .await?;
    let sessions = state.store.active_sessions_of(org, me.user.id).await?;
    let offers = state.store.offers_for(org, me.user.id).await?;
    let invitations = state.store.invitations_for(org, me.user.id).await?;
    // A customer offered to this rep is listed once: under "Offered to you", not also in line.
    let before = queue.len();
    queue.retain(|item| !offers.iter().any(|o| o.session_id == item.id));
    queue_total -= (before - queue.len()) as i64;
    // The page shows state as of this event; its script resumes live updates after it.
    let last_seq = state.store.latest_event_seq(org).await?;
    Ok(
        context! { me => &me.user, queue, queue_total, offers, invitations, sessions, last_seq, now => state.now().millis() },
    )
}

/// The console page with no session open (for actions of other areas that return here).
pub async fn render(
    state: &AppState,
    me: &CurrentUser,
    csrf: &str,
    outcome: Outcome,
) -> AppResult<Response> {
    render_console(state, me, csrf, None, outcome).await
}

pub async fn render_console(
    state: &AppState,
    me: &CurrentUser,
    csrf: &str,
    current: Option<Value>,
    outcome: Outcome,
) -> AppResult<Response> {
    let base = console_context(state, me).await?;
    let presences = [
        ("available", "Available"),
        ("busy", "Busy"),
        ("away", "Away"),
    ];
    // The keys panel only on the whole page: the live refresh fetches the queue alone.
    let keys = crate::rep_keys::panel(state, me, "console").await?;
    let page_parts = context! { csrf, current, presences, errors => &outcome.errors, notice => &outcome.notice, ..keys };
    let ctx = context! { ..page_parts, ..base };
    Ok(outcome.respond(state.templates.page("console/index.html", ctx)?))
}

pub async fn index(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    render_console(&state, &me, &csrf, None, Outcome::fresh()).await
}

pub async fn queue_fragment(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Html<String>> {
    let base = console_context(&state, &me).await?;
    Ok(Html(
        state
            .templates
            .render("console/queue.html", context! { csrf, ..base })?,
    ))
}

/// The session, when `me` owns it or joined it on invitation (anyone else's is not found). The owner (every chat message a
/// rep sends) costs one read; the invited list is read only for someone else.
pub async fn my_session(
    state: &AppState,
    me: &CurrentUser,
    id: SessionId,
) -> AppResult<SupportSession> {
    let org = me.user.org_id;
    let session: SupportSession = state
        .store
        .support_session(org, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if session.owner_user_id == Some(me.user.id.0) {
        return Ok(session);
    }
    let participants = state.store.participants(org, id).await?;
    match participants.iter().any(|p| p.id == me.user.id) {
        true => Ok(session),
        false => Err(AppError::NotFound),
    }
}

pub async fn current_session(
    state: &AppState,
    me: &CurrentUser,
    id: SessionId,
) -> AppResult<Value> {
    let org = me.user.org_id;
    let session = my_session(state, me, id).await?;
    let participants = state.store.participants(org, id).await?;
    let events: Vec<EventView> = state
        .store
        .session_events(org, id)
        .await?
        .into_iter()
        .map(|e| {
            let reason = serde_json::from_str::<serde_json::Value>(&e.payload)
                .ok()
                .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_owned));
            EventView {
                seq: e.seq,
                kind: e.kind,
                reason,
                at: e.created_at.millis(),
            }
        })
        .collect();
    let owner = match session.owner_user_id {
        Some(owner) => state
            .store
            .user(org, UserId(owner))
            .await?
            .map(|u| u.display_name),
        None => None,
    };
    let fields = field_views(state, &session).await?;
    // What the site's identity provider said of the customer, when they signed in.
    let verified_attributes: Option<serde_json::Value> = session
        .verified_attributes
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok());
    let colleagues: Vec<_> = state
        .store
        .users(org)
        .await?
        .into_iter()
        .filter(|u| u.active && u.id != me.user.id)
        .collect();
    // Only a colleague who is signed in and not away is asked to join.
    let invitable: Vec<_> = colleagues
        .iter()
        .filter(|u| {
            matches!(u.presence, Presence::Available | Presence::Busy)
                && u.console_closed_at.is_none()
                && !participants.iter().any(|p| p.id == u.id)
        })
        .collect();
    let teams = state.store.teams(org).await?;
    let is_owner = session.owner_user_id == Some(me.user.id.0);
    let reader = crate::chat::Reader::rep(state, &session, &me.user).await;
    let lines = crate::chat::lines_after(state, org, id, 0, &reader).await?;
    let last_seq = lines.last().map_or(0, |l| l.seq);
    let client_id = crate::chat::new_client_id();
    let open = session.state != domain::session::Status::Ended;
    let survey = state.store.survey(org, id).await?;
    let canned = state.store.canned_for_rep(org, me.user.id).await?;
    let sharing = crate::chat::sharing::allowed(state, &session).await;
    Ok(context! {
        session, participants, events, owner, fields, verified_attributes, colleagues, invitable, teams, is_owner,
        lines, last_seq, client_id => client_id.as_str(), chat_open => open, survey, canned, sharing,
        files_max_bytes => state.config.files.max_bytes(), files_max_mb => state.config.files.max_mb,
    })
}

pub async fn session(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: SessionId = id.parse().map_err(|_| AppError::NotFound)?;
    let current = current_session(&state, &me, id).await?;
    render_console(&state, &me, &csrf, Some(current), Outcome::fresh()).await
}

/// The customer's answers to the site's custom fields, each under its label (the field's key
/// when the site no longer has it).
async fn field_views(
    state: &AppState,
    session: &store::support::SupportSession,
) -> AppResult<Vec<(String, String)>> {
    let answered: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&session.fields).unwrap_or_default();
    if answered.is_empty() {
        return Ok(vec![]);
    }
    let defined = match session.site_id {
        Some(site) => state.store.custom_fields(domain::SiteId(site)).await?,
        None => vec![],
    };
    Ok(answered
        .into_iter()
        .map(|(key, value)| {
            let field = defined.iter().find(|f| f.key == key);
            // In the rep's language, else English, else any.
            let label = field.and_then(|f| {
                let own = f.labels.get(&crate::i18n::page_locale().lang);
                let english = f.labels.get(&domain::Language::En);
                own.or(english)
                    .or_else(|| f.labels.values().next())
                    .cloned()
            });
            // The page the help button was on (the template shows the label in the rep's language).
            let label = label.or_else(|| {
                (key == domain::intake::EMBEDDED_FROM).then(|| "Came from the page".to_owned())
            });
            (label.unwrap_or(key), value)
        })
        .collect())
}
