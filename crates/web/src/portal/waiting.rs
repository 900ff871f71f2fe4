//! The waiting page: position and estimated wait, live; cancel; who took the request.

use super::site::{shown_notices, ShownNotice};
use super::Portal;
use crate::csrf::{CsrfForm, CsrfToken, NoFields};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::realtime::line::{LineView, LineWatch};
use crate::realtime::{Beat, Heartbeat};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use domain::realtime::Topic;
use domain::session::Outcome as SessionOutcome;
use domain::session::Status;
use domain::{Language, SiteId};
use minijinja::context;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use store::support::SupportSession;

/// What the customer is told now; the page renders it, the socket pushes it.
#[derive(Serialize, PartialEq)]
pub struct WaitView {
    state: Status,
    position: Option<i64>,
    estimated_minutes: Option<i64>,
    rep_name: Option<String>,
    /// The rep's consoles all closed (the customer is told they may be back shortly).
    rep_disconnected: bool,
    outcome: Option<String>,
    notices: Vec<ShownNotice>,
}

/// The rep who took the session: their name, and whether a console of theirs is open.
#[derive(Clone, Default)]
struct TakenBy {
    name: Option<String>,
    disconnected: bool,
}

pub(super) async fn session_for(state: &AppState, capability: &str) -> AppResult<SupportSession> {
    state
        .store
        .session_by_capability(&domain::secret::token_digest(capability))
        .await?
        .ok_or(AppError::NotFound)
}

/// Where the customer stands in line, and how long the last customers of the queue waited.
struct InLine {
    position: i64,
    recent_waits: Vec<i64>,
}

impl InLine {
    /// Counted in the database (a page load, or a line that does not know this session yet).
    async fn counted(state: &AppState, session: &SupportSession) -> AppResult<Option<Self>> {
        let Some(queue) = waits_in(session) else {
            return Ok(None);
        };
        Ok(Some(InLine {
            position: state.store.queue_position(session).await?,
            recent_waits: state.store.recent_waits(session.org_id, queue, 20).await?,
        }))
    }

    /// Taken from the node's shared reading of the queue's line.
    fn from_line(line: &LineView, session: &SupportSession) -> Option<Self> {
        Some(InLine {
            position: line.position(session.id)?,
            recent_waits: line.recent_waits.clone(),
        })
    }
}

/// The rep who took the session.
async fn taken_by(state: &AppState, session: &SupportSession) -> AppResult<TakenBy> {
    let (Status::Active, Some(owner)) = (session.state, session.owner_user_id) else {
        return Ok(TakenBy::default());
    };
    let owner = state
        .store
        .user(session.org_id, domain::UserId(owner))
        .await?;
    Ok(owner.map_or_else(TakenBy::default, |rep| TakenBy {
        disconnected: rep.console_closed_at.is_some(),
        name: Some(rep.display_name),
    }))
}

/// The view from what is already known: the session, its place in line, the site's notices
/// (from the portal's kept snapshot, so a periodic refresh reads nothing).
async fn wait_view(
    state: &AppState,
    session: &SupportSession,
    in_line: Option<&InLine>,
    rep: TakenBy,
    lang: Language,
) -> AppResult<WaitView> {
    let now = state.now();
    let (position, estimated_minutes) = match (session.state, in_line) {
        (Status::Waiting, Some(line)) => (
            Some(line.position),
            domain::queue::estimated_wait_minutes(
                &line.recent_waits,
                now.millis() - session.queued_at.millis(),
            ),
        ),
        _ => (None, None),
    };
    let notices = match session.site_id {
        Some(site) => match state
            .portal_cache
            .snapshot_of(session.org_id, SiteId(site))
            .await?
        {
            Some(snapshot) => shown_notices(&snapshot.notice_records, lang, now),
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    Ok(WaitView {
        state: session.state,
        position,
        estimated_minutes,
        rep_name: rep.name,
        rep_disconnected: rep.disconnected,
        outcome: session.outcome.clone(),
        notices,
    })
}

/// The view read fresh from the database (the page and its polling fallback).
async fn read_view(
    state: &AppState,
    session: &SupportSession,
    lang: Language,
) -> AppResult<WaitView> {
    let in_line = InLine::counted(state, session).await?;
    let rep = taken_by(state, session).await?;
    wait_view(state, session, in_line.as_ref(), rep, lang).await
}

pub async fn show(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    Path(capability): Path<String>,
) -> AppResult<Response> {
    let session = session_for(&state, &capability).await?;
    show_with(
        &state,
        lang,
        &csrf,
        &session,
        &capability,
        PageInput::default(),
    )
    .await
}

/// What the customer typed into the page's forms, and why it was refused (when it was).
#[derive(Default)]
pub(super) struct PageInput<'a> {
    pub chat: Option<&'a crate::chat::SendForm>,
    pub survey: Option<&'a super::chat::SurveyForm>,
    pub outcome: Option<crate::forms::Outcome>,
}

/// The page: how things stand, the conversation so far with its form, and at the end the
/// transcript and the survey (once, when the site asks for one).
pub(super) async fn show_with(
    state: &AppState,
    lang: Language,
    csrf: &str,
    session: &SupportSession,
    capability: &str,
    input: PageInput<'_>,
) -> AppResult<Response> {
    // The site the session came through, for its look.
    let site = session.site_id.map(SiteId);
    let portal = match Portal::of_site(state, session.org_id, site, lang).await {
        Ok(portal) => portal,
        // Came by a key of an organization with no site yet: a neutral page.
        Err(AppError::NotFound) => {
            let org = state.store.organization(session.org_id).await?;
            let org = org.ok_or(AppError::NotFound)?;
            let snapshot = super::cache::Snapshot::neutral(org.id, &org.name);
            Portal::at(std::sync::Arc::new(snapshot), lang, state.now())
        }
        Err(other) => return Err(other),
    };
    let view = read_view(state, session, lang).await?;
    let reader = crate::chat::Reader::customer(state, session, lang).await;
    let lines = crate::chat::lines_after(state, session.org_id, session.id, 0, &reader).await?;
    let last_seq = lines.last().map_or(0, |l| l.seq);
    let client_id = crate::chat::new_client_id();
    let survey_state = match portal.site.settings.survey {
        false => "off",
        true => match state.store.survey(session.org_id, session.id).await? {
            Some(_) => "done",
            None => "ask",
        },
    };
    let outcome = input.outcome.unwrap_or_else(crate::forms::Outcome::fresh);
    let ctx = context! {
        wait => &view, capability, customer_name => &session.customer_name,
        cancelled => session.outcome.as_deref() == Some(SessionOutcome::Abandoned.as_str()),
        lines, last_seq, client_id => client_id.as_str(), typed => input.chat,
        survey => input.survey, survey_state, errors => &outcome.errors,
        files_max_bytes => state.config.files.max_bytes(), files_max_mb => state.config.files.max_mb,
        sharing => portal.site.settings.screen_sharing,
        share_at_start => portal.site.settings.start_as == domain::site::StartAs::FullSession,
        ..portal.context(csrf, false)
    };
    let html = state.templates.page("portal/waiting.html", ctx)?;
    Ok(portal.page(outcome.respond(html)))
}

pub async fn status(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(capability): Path<String>,
) -> AppResult<Json<WaitView>> {
    let session = session_for(&state, &capability).await?;
    Ok(Json(read_view(&state, &session, lang).await?))
}

pub async fn cancel(
    State(state): State<AppState>,
    Path(capability): Path<String>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let session = session_for(&state, &capability).await?;
    // Cancelling while waiting or leaving the chat: the customer ends it. Already ended: nothing
    // to do; the page shows how things stand.
    let abandoned = SessionOutcome::Abandoned;
    crate::app::sessions::end(&state, &session, abandoned, None, None).await?;
    Ok(Redirect::to(&crate::paths::waiting(&capability)).into_response())
}

/// The waiting page's socket: the current view now, then a new one whenever what it shows
/// changed: its session (taken, ended, moved), its place in line (from the node's shared reading
/// of the queue), its site's notices, or the estimate as time passes.
pub async fn live(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(capability): Path<String>,
    axum::extract::Query(resume): axum::extract::Query<crate::chat::After>,
    crate::extract::ClientIp(ip): crate::extract::ClientIp,
    headers: axum::http::HeaderMap,
    upgrade: axum::extract::WebSocketUpgrade,
) -> AppResult<Response> {
    let held = crate::realtime::admit(&state, &headers, ip).await?;
    let session = session_for(&state, &capability).await?;
    Ok(
        crate::realtime::socket(upgrade).on_upgrade(move |socket| async move {
            let page = Page {
                capability,
                reader: crate::chat::Reader::customer(&state, &session, lang).await,
                chat: crate::chat::Cursor::new(resume.after),
            };
            push_views(state, session, page, socket).await;
            drop(held);
        }),
    )
}

/// The line to watch for a session: its queue's, while it waits.
fn watch_line(state: &AppState, session: &SupportSession) -> Option<LineWatch> {
    let queue = waits_in(session)?;
    state.hub().lines.watch(session.org_id, queue)
}

/// What a waiting page's socket serves: whose page, in which language, and the last chat line
/// the page has.
struct Page {
    capability: String,
    reader: crate::chat::Reader,
    /// How far the conversation has been pushed.
    chat: crate::chat::Cursor,
}

/// Send the chat lines after `page.chat` (the announced one, without a read, when it is the
/// next), if any; false when the socket is gone.
async fn push_chat(
    state: &AppState,
    session: &SupportSession,
    page: &mut Page,
    announced: Option<&Arc<crate::chat::ChatLine>>,
    socket: &mut axum::extract::ws::WebSocket,
) -> bool {
    // The customer's own message may have corrected their language (the server did the same
    // to the session when it stored it).
    if let Some(own) = announced
        .filter(|l| l.from == "customer")
        .and_then(|l| l.lang)
    {
        page.reader.reads = own;
    }
    let conversation = (session.org_id, session.id);
    let next =
        crate::chat::next_lines(state, conversation, &mut page.chat, announced, &page.reader);
    let Ok(lines) = next.await else {
        return true;
    };
    crate::chat::push_lines(socket, &lines).await
}

async fn push_views(
    state: AppState,
    mut session: SupportSession,
    mut page: Page,
    mut socket: axum::extract::ws::WebSocket,
) {
    let (capability, lang) = (page.capability.clone(), page.reader.lang);
    use axum::extract::ws::Message;
    state.metrics.websocket_opened();
    let site = session.site_id.map(SiteId);
    let mut subscription = state.hub().subscribe(domain::realtime::customer_topics(
        session.org_id,
        session.id,
        site,
    ));
    let mut line = watch_line(&state, &session);
    let mut watched = waits_in(&session);
    let mut heartbeat = Heartbeat::new(Duration::from_secs(state.config.heartbeat_secs));
    let mut rep = taken_by(&state, &session).await.unwrap_or_default();
    let mut last_sent: Option<WaitView> = None;
    let (mut reread, mut changed, mut chat_due) = (false, true, true);
    let mut announced: Option<Arc<crate::chat::ChatLine>> = None;
    let participant = crate::chat::Participant {
        rep: None,
        name: session.customer_name.clone(),
        tab: 0,
    };
    let mut last_typing = None;
    let (org, id) = (session.org_id, session.id);
    // The ICE servers for screen sharing, with this page's own TURN credentials.
    let ice = crate::chat::sharing::ice_frame(&state, id, &participant);
    if socket.send(Message::Text(ice.into())).await.is_err() {
        state.metrics.websocket_closed();
        return;
    }
    // The customer is here while this page is open (`closed` below when it is not).
    super::presence::seen(&state, org, id, true).await;
    let mut last_seen = std::time::Instant::now();
    // The read marks as they stand go first; later ones come as they move.
    let mut marks_due = true;
    let (mut drain, mut drained) = (state.draining.subscribe(), false);
    loop {
        if std::mem::take(&mut marks_due) {
            if let Ok(marks) = crate::chat::marks_frame(&state, org, id).await {
                if socket.send(Message::Text(marks.into())).await.is_err() {
                    break;
                }
            }
        }
        if chat_due {
            chat_due = false;
            let line = announced.take();
            if !push_chat(&state, &session, &mut page, line.as_ref(), &mut socket).await {
                break;
            }
        }
        if reread {
            match session_for(&state, &capability).await {
                Ok(fresh) => session = fresh,
                Err(_) => break,
            }
            page.reader = crate::chat::Reader::customer(&state, &session, lang).await;
            if waits_in(&session) != watched {
                line = watch_line(&state, &session);
                watched = waits_in(&session);
            }
            rep = taken_by(&state, &session).await.unwrap_or_default();
            reread = false;
        }
        if changed {
            changed = false;
            let Some(view) = current_view(&state, &session, &mut line, rep.clone(), lang).await
            else {
                break;
            };
            if last_sent.as_ref() != Some(&view) {
                let Ok(text) = serde_json::to_string(&view) else {
                    break;
                };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
                last_sent = Some(view);
            }
        }
        let line_moved = async {
            match line.as_mut() {
                Some(line) => line.view.changed().await.is_ok(),
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = crate::realtime::draining(&mut drain) => {
                crate::realtime::close_for_draining(&mut socket).await;
                drained = true;
                break;
            },
            heard = subscription.recv() => match heard {
                Some((announcement, _)) if announcement.signal.is_some() => {
                    // Typing or read marks: passed on as they are; nothing else changed.
                    if let Some(signal) = &announcement.signal {
                        if !crate::chat::pass_signal(&mut socket, signal, &participant).await {
                            break;
                        }
                    }
                }
                Some((announcement, _)) if announcement.kind == crate::bus::MESSAGE => {
                    // A message changes the conversation only; this node's carry their line.
                    announced = announcement.line.clone();
                    chat_due = true;
                }
                Some((announcement, _)) => {
                    // A notice changes only the notices; anything about the session, or a
                    // repaired gap, may have changed the session itself (and shows in the
                    // conversation: joined, transferred, ended).
                    let about_session = announcement.topics.iter().any(|t| !matches!(t, Topic::Site { .. }));
                    reread |= about_session;
                    chat_due |= about_session;
                    changed = true;
                }
                None => break,
            },
            moved = line_moved => match moved {
                true => {
                    // Left the line (taken, gone, moved): what this page holds of the session
                    // is stale, so read it again rather than count a place it no longer has.
                    reread |= line
                        .as_ref()
                        .is_some_and(|l| l.view.borrow().ready && l.view.borrow().position(session.id).is_none());
                    changed = true;
                }
                false => line = None,
            },
            // A line held for the ones before it waited too long: read what is there.
            () = crate::chat::until(page.chat.read_due()) => chat_due = true,
            beat = heartbeat.beat() => match beat {
                Beat::Silent => break,
                Beat::Ping => {
                    if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                        break;
                    }
                    if last_seen.elapsed() >= super::presence::SEEN_EVERY {
                        last_seen = std::time::Instant::now();
                        super::presence::seen(&state, org, id, false).await;
                    }
                    // The estimate moves with time and a notice's window may open: recomputed
                    // from what is in memory, sent only if it differs. A conversation under
                    // way is read again too, in case an announcement was lost between nodes.
                    changed = true;
                    chat_due |= session.state == Status::Active;
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    heartbeat.heard();
                    let sender = (&session, crate::app::chat::Author::customer(&session), &page.reader);
                    let who = (&participant, &mut last_typing);
                    if !crate::chat::from_page(&state, sender, who, &text, &mut page.chat, &mut socket).await {
                        break;
                    }
                }
                Some(Ok(_)) => heartbeat.heard(),
                _ => break,
            },
        }
    }
    // Drained, the page reconnects elsewhere at once: the customer has not left.
    if drained {
        state.customer_pages.forget(id);
    } else {
        super::presence::closed(&state, org, id).await;
    }
    state.metrics.websocket_closed();
}

/// The queue the session waits in (None once taken or ended).
fn waits_in(session: &SupportSession) -> Option<domain::session::Queue> {
    session.queue().filter(|_| session.state == Status::Waiting)
}

/// The view from the shared line when it knows this session, counted in the database when it
/// does not (yet).
async fn current_view(
    state: &AppState,
    session: &SupportSession,
    line: &mut Option<LineWatch>,
    rep: TakenBy,
    lang: Language,
) -> Option<WaitView> {
    if let Some(watch) = line.as_mut() {
        if !watch.view.borrow().ready {
            // The line is being read for the first time on this node (if that read fails, the
            // count below answers instead).
            let _ = tokio::time::timeout(Duration::from_secs(2), watch.view.changed()).await;
        }
    }
    let from_line = line
        .as_mut()
        .and_then(|watch| InLine::from_line(&watch.view.borrow_and_update(), session));
    let in_line = match from_line {
        Some(in_line) => Some(in_line),
        None => InLine::counted(state, session).await.ok()?,
    };
    wait_view(state, session, in_line.as_ref(), rep, lang)
        .await
        .ok()
}
