//! The event bus: after a change is committed, its announcement reaches every node's hub, which
//! wakes the connections subscribed to its topics. Announcements carry no customer data, only
//! which event happened and where (decision 0005); each listener reads what it may see.
//!
//! In-process for one node; Redis pub/sub for several (`bus.url`). Either way every announcement
//! passes the node's [`Intake`], which notices a lost one by its sequence number and repairs
//! from the database's event log.

mod order;
pub mod redis;

use crate::realtime::hub::Hub;
use domain::realtime::Topic;
use domain::{OrgId, SessionId};
pub use order::Intake;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The kind of an announcement that only says what portals show changed (no topic: it is for
/// other nodes' kept pages).
pub const PORTAL_CHANGED: &str = "portal";

/// The kind of an announcement to a rep's topic that some of their sign-ins ended (signed out,
/// deactivated, password reset): their open sockets check theirs is still valid.
pub const SIGNED_OUT: &str = "signed_out";

/// A chat message was committed to the announcement's session (not in the event log: readers
/// resume by the session's own numbers).
pub const MESSAGE: &str = "message";

/// A rep's consoles all closed, or one opened again (stored first): the customers of their
/// sessions, on the announcement's session topics, see whether their rep is connected.
pub const REP_CONNECTION: &str = "rep_connection";

/// A participant is typing in the announcement's session (passed on, never stored).
pub const TYPING: &str = "typing";
/// How far the sides of a conversation have received and read it moved (stored first).
pub const MARKS: &str = "marks";
/// Screen sharing's signaling between two peers of the announcement's session.
pub const RTC: &str = "rtc";
/// What became of a screen share in the announcement's session.
pub const SHARE: &str = "share";
/// A line was added to a presentation's chat (stored first; readers resume by its numbers).
pub const PRESENTATION_LINE: &str = "presentation_line";
/// A presentation's attendees changed (stored first): someone joined, left or was removed.
pub const ATTENDEES: &str = "attendees";
/// The customer's page opened or closed (stored first).
pub const CUSTOMER: &str = "customer";
/// A presentation ended (stored first).
pub const PRESENTATION_ENDED: &str = "presentation_ended";

/// What a participant's client said, carried to the session's other readers: who is typing
/// (not stored), or the read marks as committed (small, and only ever moving forward, so a
/// reader takes the largest it has seen and a lost one is repaired by the next).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Signal {
    Typing {
        from: String,
        name: String,
        user: Option<i64>,
    },
    Marks(store::chat::Marks),
    /// Screen sharing's WebRTC signaling, from one peer of the session to another
    /// (`chat::sharing`; never stored).
    Rtc {
        from: String,
        to: String,
        data: serde_json::Value,
    },
    /// A share was asked for, viewed or closed by a rep, or started, stopped, declined or
    /// failed on the customer's side (those four are in the session's log too).
    Share {
        from: String,
        name: String,
        what: String,
    },
    /// A presentation's attendees changed; `removed` names one the presenter removed (its
    /// page ends the view).
    Attendees {
        removed: Option<i64>,
    },
    /// The customer's page opened again (`here`) or closed, at `since` (stored first).
    Customer {
        here: bool,
        since: i64,
    },
}

impl Signal {
    /// The announcement kind a signal travels under.
    pub fn kind(&self) -> &'static str {
        match self {
            Signal::Typing { .. } => TYPING,
            Signal::Marks(_) => MARKS,
            Signal::Rtc { .. } => RTC,
            Signal::Share { .. } => SHARE,
            Signal::Attendees { .. } => ATTENDEES,
            Signal::Customer { .. } => CUSTOMER,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Announcement {
    pub org: OrgId,
    /// The organization's event sequence number (see the session event log); 0 for a change
    /// that is not in the log (a notice).
    pub seq: i64,
    pub kind: String,
    pub session: Option<SessionId>,
    pub topics: Vec<Topic>,
    /// A chat message's line, as committed, for readers on this node: they show it without
    /// reading it back when it is the next one they expect (decision 0011). Not serialized:
    /// other nodes get it as `carried`.
    #[serde(skip)]
    pub line: Option<Arc<crate::chat::ChatLine>>,
    /// `line`, carried to other nodes (the Redis bus fills it when publishing and turns it back
    /// into `line` when it arrives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried: Option<crate::chat::CarriedLine>,
    /// A presentation's chat line, as committed, for readers on this node (as `line`).
    #[serde(skip)]
    pub said: Option<Arc<store::presentations::Line>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<Signal>,
}

pub trait EventBus: Send + Sync + 'static {
    /// Announce a committed change. Never fails: a node that misses one repairs from the log.
    fn publish(&self, announcement: Announcement);
    /// This node's hub, where connections subscribe.
    fn hub(&self) -> &Arc<Hub>;
    /// Whether the bus reaches the other nodes now (for `/readyz`); one process always does.
    fn ready(&self) -> futures::future::BoxFuture<'_, bool> {
        Box::pin(std::future::ready(true))
    }
}

/// One process: straight to the hub, through the intake.
pub struct InProcessBus {
    intake: Arc<Intake>,
}

impl InProcessBus {
    pub fn new(intake: Arc<Intake>) -> Self {
        InProcessBus { intake }
    }
}

impl EventBus for InProcessBus {
    fn publish(&self, announcement: Announcement) {
        self.intake.receive(announcement);
    }

    fn hub(&self) -> &Arc<Hub> {
        self.intake.hub()
    }
}
