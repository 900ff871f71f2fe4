//! Realtime: the node's hub of topics, the shared queue lines, and what every socket loop
//! shares (the read buffer, the heartbeat that expects an answer).

pub mod hub;
pub mod line;
pub mod per_address;

use std::time::Duration;
use tokio::time::{Instant, Interval};

/// Our sockets carry small JSON messages and a page may hold one open for hours: a 4 KiB read
/// buffer instead of tungstenite's eagerly allocated 128 KiB (which was 137 KiB of server memory
/// per idle waiting customer, docs/benchmarks.md). Larger messages still arrive; the buffer grows,
/// up to `MAX_FRAME` (tungstenite's default, 64 MiB, would let one page hold that much of the
/// server's memory); a larger one closes the socket.
pub fn socket(upgrade: axum::extract::WebSocketUpgrade) -> axum::extract::WebSocketUpgrade {
    upgrade
        .read_buffer_size(4096)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
}

/// The close code a socket gets when its node goes away (RFC 6455's "service restart"): the
/// pages reconnect at once instead of backing off, and the load balancer sends them elsewhere.
pub const CLOSE_DRAINING: u16 = 1012;

/// Resolves once the node starts draining (`AppState::start_draining`). Each socket loop holds
/// one receiver and selects on it.
pub async fn draining(receiver: &mut tokio::sync::watch::Receiver<bool>) {
    if receiver.wait_for(|going| *going).await.is_err() {
        // The state is gone: the node is going away all the same.
    }
}

/// Close `socket` saying the node is going away (its client reconnects elsewhere).
pub async fn close_for_draining(socket: &mut axum::extract::ws::WebSocket) {
    use axum::extract::ws::{CloseFrame, Message};
    let frame = CloseFrame {
        code: CLOSE_DRAINING,
        reason: "this node is restarting".into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// The largest message a page sends: a chat message at its limit (4,000 characters, at most
/// 6 bytes each once JSON-escaped) with its frame around it fits with room to spare. Pages send
/// a longer text by POST, which answers why it was not sent.
pub const MAX_FRAME: usize = 64 * 1024;

/// Whether a WebSocket handshake's `Origin` is this instance's own (its public address) or a
/// site's hostname bound here. A page elsewhere must not open a signed-in rep's socket with the
/// rep's cookies (cross-site WebSocket hijacking). A request without `Origin` is not a browser
/// page's and passes (the cookies or capability in it are what authorize it).
/// Whether a socket may open: from a page of this instance, and within its address's cap.
/// The place is held until the returned guard is dropped (when the socket closes).
pub async fn admit(
    state: &crate::state::AppState,
    headers: &axum::http::HeaderMap,
    ip: std::net::IpAddr,
) -> Result<per_address::Held, crate::error::AppError> {
    if !origin_allowed(state, headers).await {
        return Err(crate::error::AppError::Forbidden);
    }
    state
        .sockets_per_address
        .hold(ip)
        .ok_or(crate::error::AppError::RateLimited(30))
}

pub async fn origin_allowed(
    state: &crate::state::AppState,
    headers: &axum::http::HeaderMap,
) -> bool {
    let Some(origin) = headers.get(axum::http::header::ORIGIN) else {
        return true;
    };
    let Some(origin) = origin.to_str().ok().and_then(|o| url::Url::parse(o).ok()) else {
        return false;
    };
    let ours = url::Url::parse(&state.config.public_url).ok();
    if ours.is_some_and(|ours| ours.origin() == origin.origin()) {
        return true;
    }
    match origin.host_str() {
        Some(host) => state
            .store
            .site_by_hostname(&host.to_ascii_lowercase())
            .await
            .is_ok_and(|site| site.is_some()),
        None => false,
    }
}

/// A ping every period; a peer that has not answered the previous ping (no pong, no message
/// since it went out) when the next one is due is gone, even if the TCP connection looks open (a
/// laptop lid closed, a proxy that lost it). So a silent peer is dropped within two periods of
/// the last thing it sent.
pub struct Heartbeat {
    ticks: Interval,
    last_heard: Instant,
    last_ping: Option<Instant>,
}

pub enum Beat {
    /// Send a ping (and do the periodic chores).
    Ping,
    /// The peer stopped answering: close.
    Silent,
}

impl Heartbeat {
    pub fn new(every: Duration) -> Self {
        let now = Instant::now();
        Heartbeat {
            // The first beat one period from now (an interval's first tick is immediate).
            ticks: tokio::time::interval_at(now + every, every),
            last_heard: now,
            last_ping: None,
        }
    }

    /// The peer sent something: it is alive.
    pub fn heard(&mut self) {
        self.last_heard = Instant::now();
    }

    pub async fn beat(&mut self) -> Beat {
        let now = self.ticks.tick().await;
        match self.last_ping {
            Some(pinged) if self.last_heard < pinged => Beat::Silent,
            _ => {
                self.last_ping = Some(now);
                Beat::Ping
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_answers_stays_and_a_silent_one_goes_within_two_periods() {
        let every = Duration::from_secs(10);
        let mut answering = Heartbeat::new(every);
        for _ in 0..5 {
            assert!(matches!(answering.beat().await, Beat::Ping));
            tokio::time::advance(Duration::from_millis(50)).await;
            answering.heard();
        }
        let mut silent = Heartbeat::new(every);
        let last_heard = Instant::now();
        assert!(matches!(silent.beat().await, Beat::Ping));
        assert!(matches!(silent.beat().await, Beat::Silent));
        assert!(last_heard.elapsed() <= every * 2);
    }
}
