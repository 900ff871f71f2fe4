//! The console's WebSocket: first the events after the last one the console saw (resume),
//! then each new one announced to a topic the rep may hear (their own, the queues they may take
//! from). Messages carry only the event's number, kind and session; the console then fetches
//! its own queue view over HTTP, filtered by what the rep may see.
//!
//! Every heartbeat refreshes the rep's "last seen" in the database: presence is decided by the
//! sweep on whichever node runs it, not by a timer here (`app::sessions::sweep_presence`).

use crate::extract::CurrentUser;
use crate::realtime::{Beat, Heartbeat};
use crate::state::AppState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Deserialize)]
pub struct Resume {
    /// The last event sequence number this console has seen.
    #[serde(default)]
    after: i64,
}

/// Messages to the console (versioned).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ToConsole<'a> {
    Event {
        v: u8,
        seq: i64,
        kind: &'a str,
        session: Option<i64>,
    },
    /// Caught up: everything up to `seq` was sent.
    Ready { v: u8, seq: i64 },
    /// A chat message arrived in one of the rep's sessions (its tab shows it as unread).
    Message { v: u8, session: i64 },
}

pub async fn connect(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(resume): Query<Resume>,
    crate::extract::ClientIp(ip): crate::extract::ClientIp,
    headers: axum::http::HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, crate::error::AppError> {
    let held = crate::realtime::admit(&state, &headers, ip).await?;
    Ok(
        crate::realtime::socket(upgrade).on_upgrade(move |socket| async move {
            serve(state, me, resume.after, socket).await;
            drop(held);
        }),
    )
}

async fn send(socket: &mut WebSocket, message: &ToConsole<'_>) -> bool {
    match serde_json::to_string(message) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

/// Send the logged events after `after`; the last sequence number sent (or `after`).
async fn replay(
    state: &AppState,
    socket: &mut WebSocket,
    org: domain::OrgId,
    mut after: i64,
) -> Option<i64> {
    loop {
        let batch = state.store.events_after(org, after, 500).await.ok()?;
        if batch.is_empty() {
            return Some(after);
        }
        for event in &batch {
            let message = ToConsole::Event {
                v: 1,
                seq: event.seq,
                kind: &event.kind,
                session: event.session_id,
            };
            if !send(socket, &message).await {
                return None;
            }
            after = event.seq;
        }
    }
}

/// The topics this rep may hear now (their teams may change while the console is open).
async fn topics_of(state: &AppState, me: &CurrentUser) -> Option<Vec<domain::realtime::Topic>> {
    let (org, rep) = (me.user.org_id, me.user.id);
    let teams = state.store.user_team_ids(org, rep).await.ok()?;
    Some(domain::realtime::console_topics(org, rep, &teams))
}

#[tracing::instrument(name = "console_ws", skip_all, fields(rep = me.user.id.0))]
async fn serve(state: AppState, me: CurrentUser, after: i64, mut socket: WebSocket) {
    let (org, rep) = (me.user.org_id, me.user.id);
    // Back after being marked offline: available again (a rep who chose away stays away).
    match state.store.console_seen(org, rep, true, state.now()).await {
        Ok(back_in) => {
            state.announce_portal_change(org);
            state.announce_rep_connection(org, back_in);
        }
        Err(err) => tracing::warn!(error = %err, "could not record the console as open"),
    }
    let Some(topics) = topics_of(&state, &me).await else {
        return;
    };
    state.metrics.websocket_opened();
    // Subscribe before replaying, so nothing falls between the two.
    let mut subscription = state.hub().subscribe(topics);
    let mut last = match replay(&state, &mut socket, org, after).await {
        Some(last) => last,
        None => after,
    };
    let mut open = send(&mut socket, &ToConsole::Ready { v: 1, seq: last }).await;
    let mut heartbeat = Heartbeat::new(Duration::from_secs(state.config.heartbeat_secs));
    let mut drain = state.draining.subscribe();
    let mut drained = false;
    while open {
        tokio::select! {
            () = crate::realtime::draining(&mut drain) => {
                crate::realtime::close_for_draining(&mut socket).await;
                (open, drained) = (false, true);
            },
            heard = subscription.recv() => match heard {
                Some((a, _)) if a.kind == crate::bus::SIGNED_OUT => {
                    // Some of this rep's sign-ins ended: close if this socket's was one.
                    open = me.still_signed_in(&state).await;
                }
                Some((a, _)) if a.kind == crate::bus::MESSAGE => {
                    if let Some(session) = a.session {
                        open = send(&mut socket, &ToConsole::Message { v: 1, session: session.0 }).await;
                    }
                }
                // Too slow to keep up: catch up from the log instead.
                Some((_, true)) => match replay(&state, &mut socket, org, last).await {
                    Some(caught_up) => last = caught_up,
                    None => open = false,
                },
                Some((a, false)) if a.seq > last => {
                    let session = a.session.map(|s| s.0);
                    open = send(&mut socket, &ToConsole::Event { v: 1, seq: a.seq, kind: &a.kind, session }).await;
                    last = a.seq;
                }
                Some(_) => {}
                None => open = false,
            },
            beat = heartbeat.beat() => match beat {
                Beat::Silent => open = false,
                Beat::Ping => {
                    open = socket.send(Message::Ping(Vec::new().into())).await.is_ok();
                    // Another console of this rep, on another node, may have closed meanwhile
                    // and told the customers the rep was gone: this one says they are not.
                    if let Ok(back_in) = state.store.console_seen(org, rep, false, state.now()).await {
                        state.announce_rep_connection(org, back_in);
                    }
                    if let Some(topics) = topics_of(&state, &me).await {
                        if topics != subscription.topics() {
                            subscription = state.hub().subscribe(topics);
                        }
                    }
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(_)) => heartbeat.heard(),
                _ => open = false,
            },
        }
    }
    drop(subscription);
    // Drained, the console reconnects elsewhere at once: its customers are not told it left.
    if !drained {
        closed(&state, org, rep).await;
    }
    state.metrics.websocket_closed();
}

/// A console closed: when it was the rep's last on this node, their customers are told the rep
/// lost the connection (a console of theirs on another node lifts that at its next heartbeat).
/// The sweep still decides when the rep is offline and their sessions go back to the queues.
async fn closed(state: &AppState, org: domain::OrgId, rep: domain::UserId) {
    let others = state
        .hub()
        .subscribers(&domain::realtime::Topic::Inbox { rep });
    if others > 0 {
        return;
    }
    match state.store.console_closed(org, rep, state.now()).await {
        Ok(sessions) => state.announce_rep_connection(org, sessions),
        Err(err) => tracing::warn!(error = %err, "could not record the console as closed"),
    }
}
