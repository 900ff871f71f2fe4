//! The waiting page: position and estimated wait, live; cancel; who took the request.

use super::site::{shown_notices, ShownNotice};
use super::Portal;
use crate::csrf::{CsrfForm, CsrfToken, NoFields};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::templates::page;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use domain::session::Outcome;
use domain::{Language, SiteId};
use minijinja::context;
use serde::Serialize;
use store::support::SupportSession;

/// What the customer is told now; the page renders it, the script polls it.
#[derive(Serialize)]
pub struct WaitView {
    state: String,
    position: Option<i64>,
    estimated_minutes: Option<i64>,
    rep_name: Option<String>,
    outcome: Option<String>,
    notices: Vec<ShownNotice>,
}

async fn session_for(state: &AppState, capability: &str) -> AppResult<SupportSession> {
    state
        .store
        .session_by_capability(&domain::secret::token_digest(capability))
        .await?
        .ok_or(AppError::NotFound)
}

async fn wait_view(
    state: &AppState,
    session: &SupportSession,
    lang: Language,
) -> AppResult<WaitView> {
    let now = state.now();
    let (mut position, mut estimated_minutes, mut rep_name) = (None, None, None);
    match session.state.as_str() {
        "waiting" => {
            position = Some(state.store.queue_position(session).await?);
            let recent = state.store.recent_waits(session, 20).await?;
            estimated_minutes = domain::queue::estimated_wait_minutes(
                &recent,
                now.millis() - session.queued_at.millis(),
            );
        }
        "active" => {
            if let Some(owner) = session.owner_user_id {
                rep_name = state
                    .store
                    .user(session.org_id, domain::UserId(owner))
                    .await?
                    .map(|u| u.display_name);
            }
        }
        _ => {}
    }
    let notices = match session.site_id {
        Some(site) => match state
            .portal_cache
            .snapshot_of(state, session.org_id, SiteId(site))
            .await?
        {
            Some(snapshot) => shown_notices(&snapshot.notice_records, lang, now),
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    Ok(WaitView {
        state: session.state.clone(),
        position,
        estimated_minutes,
        rep_name,
        outcome: session.outcome.clone(),
        notices,
    })
}

pub async fn show(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    Path(capability): Path<String>,
) -> AppResult<Response> {
    let session = session_for(&state, &capability).await?;
    // The site the session came through, for its look.
    let site = session.site_id.map(SiteId);
    let portal = Portal::of_site(&state, session.org_id, site, lang).await?;
    let view = wait_view(&state, &session, lang).await?;
    let ctx = context! {
        wait => &view, capability, customer_name => &session.customer_name,
        cancelled => session.outcome.as_deref() == Some(Outcome::Abandoned.as_str()),
        ..portal.context(&csrf, false)
    };
    Ok(page(&state, "portal/waiting.html", ctx)?.into_response())
}

pub async fn status(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(capability): Path<String>,
) -> AppResult<Json<WaitView>> {
    let session = session_for(&state, &capability).await?;
    Ok(Json(wait_view(&state, &session, lang).await?))
}

pub async fn cancel(
    State(state): State<AppState>,
    Path(capability): Path<String>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let session = session_for(&state, &capability).await?;
    // Already taken or ended: nothing to cancel; the page shows how things stand.
    let ended = state
        .store
        .end_session(
            session.org_id,
            session.id,
            Outcome::Abandoned,
            None,
            None,
            state.now(),
        )
        .await?;
    if let Some(seq) = ended {
        state.announce(session.org_id, seq, "ended", session.id);
    }
    Ok(Redirect::to(&crate::paths::waiting(&capability)).into_response())
}

/// The waiting page's socket: the current view now, then a fresh one whenever something in the
/// organization changes (an arrival ahead, a cancel, an accept, a published notice).
pub async fn live(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(capability): Path<String>,
    upgrade: axum::extract::WebSocketUpgrade,
) -> AppResult<Response> {
    let session = session_for(&state, &capability).await?;
    Ok(crate::realtime_socket(upgrade)
        .on_upgrade(move |socket| push_views(state, session, capability, lang, socket)))
}

async fn push_views(
    state: AppState,
    session: SupportSession,
    capability: String,
    lang: Language,
    mut socket: axum::extract::ws::WebSocket,
) {
    use axum::extract::ws::Message;
    use tokio::sync::broadcast::error::RecvError;
    state.metrics.websocket_opened();
    let mut announcements = state.bus.subscribe();
    let mut heartbeat = {
        // The first beat one period from now (an interval's first tick is immediate).
        let every = std::time::Duration::from_secs(25);
        tokio::time::interval_at(tokio::time::Instant::now() + every, every)
    };
    let (org, my_id) = (session.org_id, session.id.0);
    // The session read by the upgrade serves the first view; later ones read it anew.
    let mut just_read = Some(session);
    let mut changed = true;
    loop {
        if changed {
            let session = match just_read.take() {
                Some(session) => Ok(session),
                None => session_for(&state, &capability).await,
            };
            let view = match session {
                Ok(session) => wait_view(&state, &session, lang).await.ok(),
                Err(_) => None,
            };
            let Some(text) = view.and_then(|v| serde_json::to_string(&v).ok()) else {
                break;
            };
            if socket.send(Message::Text(text.into())).await.is_err() {
                break;
            }
            changed = false;
        }
        tokio::select! {
            received = announcements.recv() => match received {
                Ok(a) => changed = a.org == org
                    && domain::queue::may_change_wait(&a.kind, a.session == Some(my_id)),
                Err(RecvError::Lagged(_)) => changed = true,
                Err(RecvError::Closed) => break,
            },
            _ = heartbeat.tick() => {
                // Also refresh: a notice's window may open, and the estimate moves with time.
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
                changed = true;
            }
            incoming = socket.recv() => if !matches!(incoming, Some(Ok(_))) { break },
        }
    }
    state.metrics.websocket_closed();
}
