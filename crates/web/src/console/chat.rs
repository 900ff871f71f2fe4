//! The rep's side of the chat, in the session panel: send, read after a number, and a socket
//! per open session that pushes the conversation's new lines. Only the session's owner and
//! invited reps get in; a socket closes when its rep leaves the session or their sign-in ends.

use super::pages::{current_session, my_session, render_console};
use crate::app::chat::Author;
use crate::chat::SendForm;
use crate::chat::{json_answer, lines_after, send_form, After, ChatLine, Cursor, Reader};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::accepts_json;
use crate::error::{AppError, AppResult};
use crate::extract::CurrentUser;
use crate::forms::{FieldErrors, Outcome};
use crate::realtime::{Beat, Heartbeat};
use crate::state::AppState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use domain::realtime::Topic;
use domain::SessionId;
use std::sync::Arc;
use std::time::Duration;

fn session_id(raw: &str) -> AppResult<SessionId> {
    raw.parse().map_err(|_| AppError::NotFound)
}

pub async fn send(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: CsrfForm<SendForm>,
) -> AppResult<Response> {
    let id = session_id(&id)?;
    let session = my_session(&state, &me, id).await?;
    let reader = Reader::rep(&state, &session, &me.user).await;
    let sent = send_form(
        &state,
        &session,
        Author::rep(&me.user),
        &form.value,
        &reader,
    )
    .await?;
    answer((&state, &me, &csrf), id, &headers, sent, "body").await
}

pub async fn read(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    Query(after): Query<After>,
) -> AppResult<Json<Vec<ChatLine>>> {
    let session = my_session(&state, &me, session_id(&id)?).await?;
    let (org, id) = (session.org_id, session.id);
    let reader = Reader::rep(&state, &session, &me.user).await;
    let lines = lines_after(&state, org, id, after.after, &reader).await?;
    Ok(Json(lines))
}

pub async fn live(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    Query(after): Query<After>,
    crate::extract::ClientIp(ip): crate::extract::ClientIp,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> AppResult<Response> {
    let held = crate::realtime::admit(&state, &headers, ip).await?;
    let id = session_id(&id)?;
    let session = my_session(&state, &me, id).await?;
    let reader = Reader::rep(&state, &session, &me.user).await;
    let locale = crate::i18n::page_locale();
    Ok(
        crate::realtime::socket(upgrade).on_upgrade(move |socket| async move {
            let serving = serve(state, me, session, after.after, reader, socket);
            crate::i18n::in_locale(locale, serving).await;
            drop(held);
        }),
    )
}

/// Send the lines after the cursor (the announced one, without a read, when it is the next);
/// false when the socket is gone.
async fn push(
    state: &AppState,
    (me, reader): (&CurrentUser, &Reader),
    id: SessionId,
    cursor: &mut Cursor,
    announced: Option<&Arc<ChatLine>>,
    socket: &mut WebSocket,
) -> bool {
    let conversation = (me.user.org_id, id);
    let next = crate::chat::next_lines(state, conversation, cursor, announced, reader);
    let Ok(lines) = next.await else {
        return true;
    };
    crate::chat::push_lines(socket, &lines).await
}

async fn serve(
    state: AppState,
    me: CurrentUser,
    mut session: store::support::SupportSession,
    after: i64,
    mut reader: Reader,
    mut socket: WebSocket,
) {
    state.metrics.websocket_opened();
    let id = session.id;
    let topics = vec![
        Topic::Session { session: id },
        Topic::Rep { rep: me.user.id },
    ];
    // Subscribe before the first read, so nothing falls between the two.
    let mut subscription = state.hub().subscribe(topics);
    let mut heartbeat = Heartbeat::new(Duration::from_secs(state.config.heartbeat_secs));
    let mut cursor = Cursor::new(after);
    let mut open = push(&state, (&me, &reader), id, &mut cursor, None, &mut socket).await;
    let org = me.user.org_id;
    let participant = crate::chat::Participant {
        rep: Some(me.user.id),
        name: me.user.display_name.clone(),
        tab: rand::random(),
    };
    if let Ok(marks) = crate::chat::marks_frame(&state, org, id).await {
        open = open && socket.send(Message::Text(marks.into())).await.is_ok();
    }
    let ice = crate::chat::sharing::ice_frame(&state, id, &participant);
    open = open && socket.send(Message::Text(ice.into())).await.is_ok();
    let mut last_typing = None;
    let mut drain = state.draining.subscribe();
    while open {
        tokio::select! {
            () = crate::realtime::draining(&mut drain) => {
                crate::realtime::close_for_draining(&mut socket).await;
                open = false;
            },
            heard = subscription.recv() => match heard {
                Some((a, _)) if a.kind == crate::bus::SIGNED_OUT => {
                    open = me.still_signed_in(&state).await;
                }
                Some((a, _)) if a.session == Some(id) && a.signal.is_some() => {
                    if let Some(signal) = &a.signal {
                        open = crate::chat::pass_signal(&mut socket, signal, &participant).await;
                    }
                }
                Some((a, _)) if a.session == Some(id) => {
                    // A change to the session may have taken it from this rep (transferred).
                    if a.kind != crate::bus::MESSAGE {
                        match my_session(&state, &me, id).await {
                            Ok(fresh) => {
                                reader = Reader::rep(&state, &fresh, &me.user).await;
                                session = fresh;
                            }
                            Err(_) => open = false,
                        }
                    }
                    let line = a.line.as_ref();
                    let me = (&me, &reader);
                    open = open && push(&state, me, id, &mut cursor, line, &mut socket).await;
                }
                Some(_) => {}
                None => open = false,
            },
            beat = heartbeat.beat() => match beat {
                Beat::Silent => open = false,
                Beat::Ping => {
                    open = socket.send(Message::Ping(Vec::new().into())).await.is_ok()
                        && push(&state, (&me, &reader), id, &mut cursor, None, &mut socket).await;
                }
            },
            () = crate::chat::until(cursor.read_due()) => {
                // A line held for the ones before it waited too long: read what is there.
                open = push(&state, (&me, &reader), id, &mut cursor, None, &mut socket).await;
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    heartbeat.heard();
                    let sender = (&session, Author::rep(&me.user), &reader);
                    let who = (&participant, &mut last_typing);
                    open = crate::chat::from_page(&state, sender, who, &text, &mut cursor, &mut socket).await;
                }
                Some(Ok(_)) => heartbeat.heard(),
                _ => open = false,
            },
        }
    }
    state.metrics.websocket_closed();
}

/// The answer to a send: the stored line for the console's script; else back to the session,
/// or the console again with why nothing was sent beside `field`.
async fn answer(
    (state, me, csrf): (&AppState, &CurrentUser, &str),
    id: SessionId,
    headers: &HeaderMap,
    sent: Result<ChatLine, String>,
    field: &str,
) -> AppResult<Response> {
    if accepts_json(headers) {
        return Ok(json_answer(sent));
    }
    match sent {
        Ok(_) => Ok(Redirect::to(&format!("/console/sessions/{id}#chat")).into_response()),
        Err(error) => {
            let mut errors = FieldErrors::default();
            errors.add_message(field, error);
            let current = current_session(state, me, id).await?;
            render_console(state, me, csrf, Some(current), Outcome::invalid(errors)).await
        }
    }
}

/// A file sent by a rep into the conversation.
pub async fn upload(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: axum::extract::Multipart,
) -> AppResult<Response> {
    let id = session_id(&id)?;
    let session = my_session(&state, &me, id).await?;
    let received = crate::files::receive(&state, &headers, form, session.org_id).await?;
    let reader = Reader::rep(&state, &session, &me.user).await;
    let author = Author::rep(&me.user);
    let sent = crate::files::send(&state, &session, author, received, &reader).await?;
    answer((&state, &me, &csrf), id, &headers, sent, "file").await
}

/// A chat file, for a rep who held, joined or wrote in its session, or an admin.
pub async fn download(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(file): Path<i64>,
) -> AppResult<Response> {
    let org = me.user.org_id;
    let record = state.store.chat_file(org, None, file).await?;
    let record = record.ok_or(AppError::NotFound)?;
    let session = SessionId(record.session_id);
    let viewer = super::history::viewer(&me);
    if !state.store.may_see_in_history(org, viewer, session).await? {
        return Err(AppError::NotFound);
    }
    crate::files::download(&state, &record).await
}
