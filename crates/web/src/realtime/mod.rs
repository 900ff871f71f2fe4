//! Realtime: the node's hub of topics, the shared queue lines, and what every socket loop
//! shares (the read buffer, the heartbeat that expects an answer).

pub mod hub;
pub mod line;

use std::time::Duration;
use tokio::time::{Instant, Interval};

/// Our sockets carry small JSON messages and a page may hold one open for hours: a 4 KiB read
/// buffer instead of tungstenite's eagerly allocated 128 KiB (which was 137 KiB of server memory
/// per idle waiting customer, docs/benchmarks.md). Larger messages still arrive; the buffer grows.
pub fn socket(upgrade: axum::extract::WebSocketUpgrade) -> axum::extract::WebSocketUpgrade {
    upgrade.read_buffer_size(4096)
}

/// A ping every period; a peer that has sent nothing (no pong, no message) for two periods is
/// gone, even if the TCP connection looks open (a laptop lid closed, a proxy that lost it).
pub struct Heartbeat {
    every: Duration,
    ticks: Interval,
    last_heard: Instant,
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
            every,
            // The first beat one period from now (an interval's first tick is immediate).
            ticks: tokio::time::interval_at(now + every, every),
            last_heard: now,
        }
    }

    /// The peer sent something: it is alive.
    pub fn heard(&mut self) {
        self.last_heard = Instant::now();
    }

    pub async fn beat(&mut self) -> Beat {
        self.ticks.tick().await;
        // A pong answers the previous ping within a period; two periods of silence is a lost peer.
        match self.last_heard.elapsed() > self.every * 2 {
            true => Beat::Silent,
            false => Beat::Ping,
        }
    }
}
