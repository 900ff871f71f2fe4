//! The event bus: after a change is committed, its event is announced so open consoles and
//! pages update. Announcements carry no customer data, only which event to look at; every
//! listener reads what it may see from the store. In-process now; a Redis implementation of
//! the same trait serves several nodes.

use domain::OrgId;
use serde::Serialize;
use tokio::sync::broadcast;

#[derive(Debug, Clone, Serialize)]
pub struct Announcement {
    #[serde(skip)]
    pub org: OrgId,
    /// The organization's event sequence number (see the session event log).
    pub seq: i64,
    pub kind: String,
    pub session: Option<i64>,
}

pub trait EventBus: Send + Sync + 'static {
    /// Announce a committed event. Never fails: a listener that misses one catches up from the log.
    fn publish(&self, announcement: Announcement);
    fn subscribe(&self) -> broadcast::Receiver<Announcement>;
}

/// One process: a broadcast channel. Slow listeners lag and then replay from the event log.
pub struct InProcessBus {
    sender: broadcast::Sender<Announcement>,
}

impl InProcessBus {
    pub fn new(capacity: usize) -> Self {
        InProcessBus {
            sender: broadcast::channel(capacity).0,
        }
    }
}

impl EventBus for InProcessBus {
    fn publish(&self, announcement: Announcement) {
        // No listener is fine: nobody is watching.
        let _ = self.sender.send(announcement);
    }

    fn subscribe(&self) -> broadcast::Receiver<Announcement> {
        self.sender.subscribe()
    }
}
