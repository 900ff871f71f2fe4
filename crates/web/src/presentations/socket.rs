//! One socket per participant of a presentation (the presenter, each attendee), on the
//! presentation's topic. The server names each sender itself: `presenter`, or `a<attendee id>`.
//!
//! To the page: `ice` (first: its ICE servers), `line` (the chat, resumed after the number the
//! page last saw), `attendees` (the presenter's list), `rtc` (signaling addressed to this peer),
//! `share` (the presenter started or stopped sharing; an attendee asks to view), `refused` (a
//! line that was not sent, and why), and the end: `removed` or `ended`.
//!
//! From the page: `say` (a chat line with the page's own id, so a resend is stored once), `rtc`
//! (the presenter to an attendee, an attendee only to the presenter), `share`, and the
//! presenter's `remove` and `end`.

use crate::bus::{Signal, ATTENDEES, PRESENTATION_ENDED, PRESENTATION_LINE, RTC, SHARE};
use crate::realtime::{Beat, Heartbeat};
use crate::state::AppState;
use axum::extract::ws::{Message, WebSocket};
use domain::realtime::Topic;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use store::extras::Presentation;
use store::presentations::{Line, Writer};

/// The largest `rtc` payload passed on (an offer with many codecs is a few KB).
const MOST_RTC_BYTES: usize = 32 * 1024;
/// Lines sent per read when a page catches up.
const PAGE: i64 = 500;

/// Who holds a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Presenter,
    Attendee(i64),
}

pub struct Member {
    pub presentation: Presentation,
    pub role: Role,
    pub name: String,
    /// The attendee's language, for the texts the server writes (refusals).
    pub lang: domain::Language,
}

impl Member {
    /// The name this participant's peer goes by in `rtc` frames.
    pub fn peer(&self) -> String {
        match self.role {
            Role::Presenter => "presenter".to_owned(),
            Role::Attendee(id) => format!("a{id}"),
        }
    }

    fn writer(&self) -> Writer<'_> {
        match self.role {
            Role::Presenter => Writer {
                author: "presenter",
                attendee: None,
                name: &self.name,
            },
            Role::Attendee(id) => Writer {
                author: "attendee",
                attendee: Some(id),
                name: &self.name,
            },
        }
    }

    /// Whether `to` is a peer this participant may signal: the presenter any attendee, an
    /// attendee only the presenter.
    fn may_signal(&self, to: &str) -> bool {
        match self.role {
            Role::Presenter => to
                .strip_prefix('a')
                .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())),
            Role::Attendee(_) => to == "presenter",
        }
    }
}

/// A line as a page shows it.
fn line_frame(line: &Line, me: &Member) -> String {
    let mine = match me.role {
        Role::Presenter => line.author == "presenter",
        Role::Attendee(id) => line.attendee_id == Some(id),
    };
    json!({
        "type": "line", "seq": line.seq, "id": line.client_id, "from": line.author,
        "name": line.name, "text": line.body, "at": line.created_at, "mine": mine,
    })
    .to_string()
}

async fn send(socket: &mut WebSocket, text: String) -> bool {
    socket.send(Message::Text(text.into())).await.is_ok()
}

/// Where the page is in the chat: the last number it was sent.
struct Seen(i64);

impl Seen {
    /// Send what followed; the announced line itself when it is the next one, else a read.
    async fn catch_up(
        &mut self,
        state: &AppState,
        me: &Member,
        announced: Option<&Arc<Line>>,
        socket: &mut WebSocket,
    ) -> bool {
        if let Some(line) = announced.filter(|l| l.seq == self.0 + 1) {
            self.0 = line.seq;
            return send(socket, line_frame(line, me)).await;
        }
        loop {
            let id = me.presentation.id;
            let Ok(lines) = state.store.presentation_lines_after(id, self.0, PAGE).await else {
                return false;
            };
            for line in &lines {
                if !send(socket, line_frame(line, me)).await {
                    return false;
                }
                self.0 = line.seq;
            }
            if (lines.len() as i64) < PAGE {
                return true;
            }
        }
    }
}

/// The presenter's attendee list, as their page shows it.
async fn attendees_frame(state: &AppState, presentation: i64) -> Option<String> {
    let attendees = state.store.attendees(presentation).await.ok()?;
    let list: Vec<_> = attendees
        .iter()
        .map(|a| json!({ "id": a.id, "peer": format!("a{}", a.id), "name": a.name }))
        .collect();
    let limit = state.config.presentation_attendees;
    Some(json!({ "type": "attendees", "list": list, "limit": limit }).to_string())
}

/// Serve a participant's socket until it closes, they are removed, or the presentation ends.
pub async fn serve(state: AppState, me: Member, after: i64, mut socket: WebSocket) {
    state.metrics.websocket_opened();
    let id = me.presentation.id;
    // Subscribe before the first read, so nothing falls between the two.
    let mut subscription = state
        .hub()
        .subscribe(vec![Topic::Presentation { presentation: id }]);
    let mut heartbeat = Heartbeat::new(Duration::from_secs(state.config.heartbeat_secs));
    let servers = state
        .config
        .ice
        .presentation_servers(id, &me.peer(), state.now());
    let mut open = send(
        &mut socket,
        json!({ "type": "ice", "servers": servers }).to_string(),
    )
    .await;
    let mut seen = Seen(after);
    open = open && seen.catch_up(&state, &me, None, &mut socket).await;
    if open && me.role == Role::Presenter {
        open = match attendees_frame(&state, id).await {
            Some(frame) => send(&mut socket, frame).await,
            None => false,
        };
    }
    let mut drain = state.draining.subscribe();
    while open {
        tokio::select! {
            () = crate::realtime::draining(&mut drain) => {
                crate::realtime::close_for_draining(&mut socket).await;
                open = false;
            },
            heard = subscription.recv() => match heard {
                Some((a, lagged)) => open = heard_announcement(&state, &me, &a, lagged, &mut seen, &mut socket).await,
                None => open = false,
            },
            beat = heartbeat.beat() => match beat {
                Beat::Silent => open = false,
                Beat::Ping => {
                    open = socket.send(Message::Ping(Vec::new().into())).await.is_ok()
                        && seen.catch_up(&state, &me, None, &mut socket).await;
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    heartbeat.heard();
                    open = from_page(&state, &me, &text, &mut socket).await;
                }
                Some(Ok(_)) => heartbeat.heard(),
                _ => open = false,
            },
        }
    }
    state.metrics.websocket_closed();
}

/// Pass on what was announced to the presentation, as far as it concerns this participant.
/// False when the socket should close.
async fn heard_announcement(
    state: &AppState,
    me: &Member,
    a: &crate::bus::Announcement,
    lagged: bool,
    seen: &mut Seen,
    socket: &mut WebSocket,
) -> bool {
    if lagged {
        // Some announcements were dropped: lines are reread; signaling repairs itself (a page
        // whose connection failed asks again).
        if !seen.catch_up(state, me, None, socket).await {
            return false;
        }
    }
    match (a.kind.as_str(), &a.signal) {
        (PRESENTATION_LINE, _) => seen.catch_up(state, me, a.said.as_ref(), socket).await,
        (PRESENTATION_ENDED, _) => {
            let _sent = send(socket, json!({ "type": "ended" }).to_string()).await;
            false
        }
        (ATTENDEES, Some(Signal::Attendees { removed })) => match me.role {
            Role::Presenter => match attendees_frame(state, me.presentation.id).await {
                Some(frame) => send(socket, frame).await,
                None => false,
            },
            Role::Attendee(id) if *removed == Some(id) => {
                let _sent = send(socket, json!({ "type": "removed" }).to_string()).await;
                false
            }
            Role::Attendee(_) => true,
        },
        (RTC, Some(Signal::Rtc { from, to, data })) if *to == me.peer() => {
            send(
                socket,
                json!({ "type": "rtc", "from": from, "data": data }).to_string(),
            )
            .await
        }
        // The presenter hears every attendee's "view"; an attendee hears only the presenter.
        (SHARE, Some(Signal::Share { from, what, .. }))
            if *from != me.peer() && (me.role == Role::Presenter || from == "presenter") =>
        {
            let frame = json!({ "type": "share", "from": from, "what": what });
            send(socket, frame.to_string()).await
        }
        _ => true,
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum FromPage {
    Say { id: String, text: String },
    Rtc { to: String, data: serde_json::Value },
    Share { what: String },
    Remove { attendee: i64 },
    End,
}

/// What the presenter may say of their share, and what an attendee may.
const PRESENTER_SHARE: [&str; 2] = ["started", "stopped"];
const ATTENDEE_SHARE: [&str; 1] = ["view"];

/// A frame from the page. False when the socket should close.
async fn from_page(state: &AppState, me: &Member, text: &str, socket: &mut WebSocket) -> bool {
    let Ok(frame) = serde_json::from_str::<FromPage>(text) else {
        return true;
    };
    let (org, id) = (me.presentation.org_id, me.presentation.id);
    match frame {
        FromPage::Say {
            id: client_id,
            text,
        } => say(state, me, &client_id, &text, socket).await,
        FromPage::Rtc { to, data } => {
            if me.may_signal(&to) && data.to_string().len() <= MOST_RTC_BYTES {
                let signal = Signal::Rtc {
                    from: me.peer(),
                    to,
                    data,
                };
                state.announce_presentation_signal(org, id, signal);
            }
            true
        }
        FromPage::Share { what } => {
            let allowed: &[&str] = match me.role {
                Role::Presenter => &PRESENTER_SHARE,
                Role::Attendee(_) => &ATTENDEE_SHARE,
            };
            if allowed.contains(&what.as_str()) {
                let signal = Signal::Share {
                    from: me.peer(),
                    name: me.name.clone(),
                    what,
                };
                state.announce_presentation_signal(org, id, signal);
            }
            true
        }
        FromPage::Remove { attendee } if me.role == Role::Presenter => {
            match state
                .store
                .attendee_out(id, attendee, true, state.now())
                .await
            {
                Ok(true) => {
                    let signal = Signal::Attendees {
                        removed: Some(attendee),
                    };
                    state.announce_presentation_signal(org, id, signal);
                    true
                }
                Ok(false) => true,
                Err(err) => {
                    tracing::warn!(error = %err, "could not remove an attendee");
                    false
                }
            }
        }
        FromPage::End if me.role == Role::Presenter => {
            let rep = domain::UserId(me.presentation.user_id);
            match state
                .store
                .end_presentation(org, rep, id, state.now())
                .await
            {
                Ok(_) => {
                    state.announce_presentation(org, id, PRESENTATION_ENDED, None, None);
                    true
                }
                Err(err) => {
                    tracing::warn!(error = %err, "could not end a presentation");
                    false
                }
            }
        }
        FromPage::Remove { .. } | FromPage::End => true,
    }
}

/// A chat line from the page: stored under the next number, then announced; a line that
/// cannot be sent is answered with why.
async fn say(
    state: &AppState,
    me: &Member,
    client_id: &str,
    text: &str,
    socket: &mut WebSocket,
) -> bool {
    let refuse =
        |error: String| json!({ "type": "refused", "id": client_id, "error": error }).to_string();
    let Ok(client) = domain::chat::ClientId::parse(client_id) else {
        return true;
    };
    let body = match domain::chat::MessageBody::parse(text) {
        Ok(body) => body,
        Err(err) => {
            let error = crate::portal::error_text(&state.catalog, me.lang, err);
            return send(socket, refuse(error)).await;
        }
    };
    let (org, id) = (me.presentation.org_id, me.presentation.id);
    let stored = state
        .store
        .add_presentation_line(
            id,
            &me.writer(),
            client.as_str(),
            body.as_str(),
            state.now(),
        )
        .await;
    match stored {
        Ok(Some(line)) => {
            let said = Some(Arc::new(line));
            state.announce_presentation(org, id, PRESENTATION_LINE, None, said);
            true
        }
        // Ended meanwhile: its announcement closes the socket.
        Ok(None) => true,
        Err(err) => {
            tracing::warn!(error = %err, "could not store a presentation line");
            false
        }
    }
}
