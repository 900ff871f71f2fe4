//! The console's WebSocket: first the events after the last one the console saw (resume),
//! then each new one as it is announced. Messages carry only the event's number, kind and
//! session; the console then fetches its own queue view over HTTP, filtered by what the rep may
//! see. Heartbeats keep proxies from closing idle connections.

use super::presence::offline_after_grace;
use crate::extract::CurrentUser;
use crate::state::AppState;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

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
}

pub async fn connect(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(resume): Query<Resume>,
    upgrade: WebSocketUpgrade,
) -> Response {
    crate::realtime_socket(upgrade).on_upgrade(move |socket| serve(state, me, resume.after, socket))
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

#[tracing::instrument(name = "console_ws", skip_all, fields(rep = me.user.id.0))]
async fn serve(state: AppState, me: CurrentUser, after: i64, mut socket: WebSocket) {
    let (org, rep) = (me.user.org_id, me.user.id);
    state.connections.opened(rep);
    // Back after being marked offline: available again (a rep who chose away stays away).
    if me.user.presence == domain::rep::Presence::Offline {
        let _ = state
            .store
            .set_presence(org, rep, domain::rep::Presence::Available, state.now())
            .await;
    }
    state.metrics.websocket_opened();
    // Subscribe before replaying, so nothing falls between the two.
    let mut announcements = state.bus.subscribe();
    let mut last = match replay(&state, &mut socket, org, after).await {
        Some(last) => last,
        None => after,
    };
    let mut open = send(&mut socket, &ToConsole::Ready { v: 1, seq: last }).await;
    let mut heartbeat = {
        // The first beat one period from now (an interval's first tick is immediate).
        let every = Duration::from_secs(25);
        tokio::time::interval_at(tokio::time::Instant::now() + every, every)
    };
    while open {
        tokio::select! {
            received = announcements.recv() => match received {
                Ok(a) if a.org == org && a.seq > last => {
                    open = send(&mut socket, &ToConsole::Event { v: 1, seq: a.seq, kind: &a.kind, session: a.session }).await;
                    last = a.seq;
                }
                Ok(_) => {}
                // Too slow to keep up: catch up from the log instead.
                Err(RecvError::Lagged(_)) => match replay(&state, &mut socket, org, last).await {
                    Some(caught_up) => last = caught_up,
                    None => open = false,
                },
                Err(RecvError::Closed) => open = false,
            },
            _ = heartbeat.tick() => open = socket.send(Message::Ping(Vec::new().into())).await.is_ok(),
            incoming = socket.recv() => open = matches!(incoming, Some(Ok(_))),
        }
    }
    state.metrics.websocket_closed();
    if state.connections.closed(rep) {
        tokio::spawn(offline_after_grace(
            state.clone(),
            org,
            rep,
            me.user.display_name.clone(),
        ));
    }
}
