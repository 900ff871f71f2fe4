//! Where announcements enter a node. Each is handed to the hub at once (order does not matter
//! to listeners: they reread what they show, and consoles keep the highest number seen). A
//! duplicate is dropped. A missing number is waited for briefly (another node, or another
//! request of this one, may still be on its way) and then repaired from the event log: the
//! events are delivered to their organization's topic, which every listener of it hears.
//!
//! A lost announcement with nothing after it leaves no hole to see, so every few seconds the
//! intake also compares each organization's newest number in the database with what it heard.

use super::Announcement;
use crate::realtime::hub::Hub;
use domain::realtime::Topic;
use domain::{OrgId, SessionId};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a missing announcement may take to arrive before the log is read instead.
const REPAIR_AFTER: Duration = Duration::from_millis(500);

/// How often the database's newest numbers are compared with what was heard.
const CATCH_UP_EVERY: Duration = Duration::from_secs(2);

/// A gap larger than this is repaired with its last event only: every listener rereads what it
/// shows anyway, and a console only needs the newest number.
const REPAIR_ONE_BY_ONE: i64 = 100;

#[derive(Default)]
struct OrgOrder {
    /// Every number up to here was delivered (or repaired).
    through: i64,
    /// Delivered numbers above `through`, with holes below them.
    ahead: BTreeSet<i64>,
    repair_scheduled: bool,
}

impl OrgOrder {
    /// Record `seq`; false when it was already delivered.
    fn accept(&mut self, seq: i64) -> bool {
        if seq <= self.through || !self.ahead.insert(seq) {
            return false;
        }
        while self.ahead.first() == Some(&(self.through + 1)) {
            self.ahead.pop_first();
            self.through += 1;
        }
        true
    }

    fn has_gap(&self) -> bool {
        !self.ahead.is_empty()
    }

    /// A repair owed the numbers up to `owed` (the highest heard when a hole was seen, or the
    /// database's newest): the range still missing of those, None when they all arrived
    /// meanwhile. Holes above `owed` opened since and get their own wait: under steady
    /// arrivals on several nodes there is nearly always one in flight (another node's number
    /// still crossing Redis), and repairing it at once read the log and woke every listener of
    /// the organization twice a second on every node, for nothing.
    fn still_missing(&self, owed: i64) -> Option<(i64, i64)> {
        (owed > self.through).then_some((self.through, owed))
    }

    /// Whether the caller is to schedule a repair: one is `needed` and none is waiting yet
    /// (the one waiting covers this too). Marks it waiting.
    fn take_repair(&mut self, needed: bool) -> bool {
        let take = needed && !self.repair_scheduled;
        self.repair_scheduled |= take;
        take
    }
}

pub struct Intake {
    hub: Arc<Hub>,
    store: store::Store,
    orders: Mutex<HashMap<OrgId, OrgOrder>>,
}

impl Intake {
    pub fn new(hub: Arc<Hub>, store: store::Store) -> Arc<Self> {
        let intake = Arc::new(Intake {
            hub,
            store,
            orders: Mutex::default(),
        });
        tokio::spawn(catch_up(Arc::downgrade(&intake)));
        intake
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    fn orders(&self) -> std::sync::MutexGuard<'_, HashMap<OrgId, OrgOrder>> {
        self.orders.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An announcement from another node: a site change (or a portal change, like a rep's
    /// presence) there makes pages kept here stale.
    pub fn receive_from_elsewhere(self: &Arc<Self>, announcement: Announcement) {
        let portal = announcement.kind == super::PORTAL_CHANGED;
        if portal
            || announcement
                .topics
                .iter()
                .any(|topic| matches!(topic, Topic::Site { .. }))
        {
            self.store.portal_changed_elsewhere();
        }
        self.receive(announcement);
    }

    pub fn receive(self: &Arc<Self>, announcement: Announcement) {
        if announcement.seq == 0 {
            self.hub.deliver(announcement);
            return;
        }
        let (org, seq) = (announcement.org, announcement.seq);
        let schedule_repair = {
            let mut orders = self.orders();
            let order = orders.entry(org).or_insert_with(|| OrgOrder {
                // The first number this node hears: nothing before it is owed.
                through: seq - 1,
                ..OrgOrder::default()
            });
            if !order.accept(seq) {
                return;
            }
            order.take_repair(order.has_gap())
        };
        self.hub.deliver(announcement);
        if schedule_repair {
            self.repair_soon(org, seq);
        }
    }

    fn repair_soon(self: &Arc<Self>, org: OrgId, up_to: i64) {
        let intake = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(REPAIR_AFTER).await;
            intake.repair(org, up_to).await;
        });
    }

    /// Compare the database's newest numbers with what was heard. The first time, only learn
    /// where each organization stands (nothing before this node started is owed).
    async fn catch_up(self: &Arc<Self>, first: bool) {
        let latest = match self.store.latest_event_seqs().await {
            Ok(latest) => latest,
            Err(err) => {
                tracing::warn!(error = %err, "could not read the newest event numbers");
                return;
            }
        };
        for (org, seq) in latest {
            let owed = {
                let mut orders = self.orders();
                let order = orders.entry(org).or_insert_with(|| OrgOrder {
                    // Known at start: owed nothing yet. Created since: owed all of it.
                    through: if first { seq } else { 0 },
                    ..OrgOrder::default()
                });
                let heard = order.ahead.last().copied().unwrap_or(order.through);
                order.take_repair(seq > heard)
            };
            if owed {
                self.repair_soon(org, seq);
            }
        }
    }

    /// Deliver from the log every event still missing up to `owed`; holes that opened above it
    /// since are checked again after their own wait.
    async fn repair(self: Arc<Self>, org: OrgId, owed: i64) {
        let missing = {
            let mut orders = self.orders();
            let Some(order) = orders.get_mut(&org) else {
                return;
            };
            order.repair_scheduled = false;
            order.still_missing(owed)
        };
        let Some((through, up_to)) = missing else {
            self.check_newer_holes(org);
            return;
        };
        // A long gap: its last event stands for all of it.
        let after = through.max(up_to - REPAIR_ONE_BY_ONE);
        let events = match self.store.events_after(org, after, up_to - after).await {
            Ok(events) => events,
            Err(err) => {
                tracing::warn!(error = %err, org = org.0, "could not repair missed announcements");
                return;
            }
        };
        tracing::info!(
            org = org.0,
            through,
            up_to,
            "announcements went missing: repaired from the event log"
        );
        for event in events.into_iter().filter(|e| e.seq <= up_to) {
            let missing = self
                .orders()
                .get_mut(&org)
                .is_some_and(|o| o.accept(event.seq));
            if missing {
                self.hub.deliver(Announcement {
                    org,
                    seq: event.seq,
                    kind: event.kind,
                    session: event.session_id.map(SessionId),
                    topics: vec![Topic::Org { org }],
                    line: None,
                    said: None,
                    carried: None,
                    signal: None,
                });
            }
        }
        // What the log does not have (a number taken by a rolled-back write) is not owed.
        let mut orders = self.orders();
        if let Some(order) = orders.get_mut(&org) {
            while order.through < up_to {
                order.through += 1;
                order.ahead.remove(&order.through);
            }
            while order.ahead.first() == Some(&(order.through + 1)) {
                order.ahead.pop_first();
                order.through += 1;
            }
        }
        drop(orders);
        self.check_newer_holes(org);
    }

    /// A hole above what a repair was owed, still open: repaired after its own wait unless it
    /// fills (or another repair is already waiting).
    fn check_newer_holes(self: &Arc<Self>, org: OrgId) {
        let newest = {
            let mut orders = self.orders();
            let Some(order) = orders.get_mut(&org) else {
                return;
            };
            let newest = order.ahead.last().copied();
            match newest {
                Some(newest) if order.take_repair(true) => newest,
                _ => return,
            }
        };
        self.repair_soon(org, newest);
    }
}

/// Every `CATCH_UP_EVERY`, while the intake exists.
async fn catch_up(intake: std::sync::Weak<Intake>) {
    let mut every = tokio::time::interval(CATCH_UP_EVERY);
    let mut first = true;
    loop {
        every.tick().await;
        let Some(intake) = intake.upgrade() else {
            return;
        };
        intake.catch_up(first).await;
        first = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_any_order_are_each_delivered_once() {
        let mut order = OrgOrder {
            through: 4,
            ..OrgOrder::default()
        };
        assert!(order.accept(6));
        assert!(order.has_gap(), "5 is missing");
        assert!(!order.accept(6), "a duplicate");
        assert!(order.accept(5));
        assert!(!order.has_gap());
        assert_eq!(order.through, 6);
        assert!(!order.accept(3), "older than anything owed");
    }

    #[test]
    fn a_repair_reads_only_what_is_still_missing_of_what_it_was_owed() {
        let mut order = OrgOrder {
            through: 10,
            ..OrgOrder::default()
        };
        assert!(order.accept(12), "11 is missing: a repair is owed up to 12");
        assert!(order.accept(11), "and arrives");
        assert!(order.accept(14), "13 is in flight now");
        assert_eq!(order.still_missing(12), None, "nothing owed is missing");
        assert!(order.has_gap(), "13 gets a wait of its own");

        let mut order = OrgOrder {
            through: 10,
            ..OrgOrder::default()
        };
        assert!(order.accept(12));
        assert!(order.accept(15), "heard after the repair was scheduled");
        assert_eq!(
            order.still_missing(12),
            Some((10, 12)),
            "11 never came: read the log after 10, up to 12 and no further"
        );
    }
}
