//! Where announcements enter a node. Each is handed to the hub at once (order does not matter
//! to listeners: they reread what they show, and consoles keep the highest number seen). A
//! duplicate is dropped. A missing number is waited for briefly (another node, or another
//! request of this one, may still be on its way) and then repaired from the event log: the
//! events are delivered to their organization's topic, which every listener of it hears.

use super::Announcement;
use crate::realtime::hub::Hub;
use domain::realtime::Topic;
use domain::{OrgId, SessionId};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a missing announcement may take to arrive before the log is read instead.
const REPAIR_AFTER: Duration = Duration::from_millis(500);

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
}

pub struct Intake {
    hub: Arc<Hub>,
    store: store::Store,
    orders: Mutex<HashMap<OrgId, OrgOrder>>,
}

impl Intake {
    pub fn new(hub: Arc<Hub>, store: store::Store) -> Arc<Self> {
        Arc::new(Intake {
            hub,
            store,
            orders: Mutex::default(),
        })
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
            let schedule = order.has_gap() && !order.repair_scheduled;
            order.repair_scheduled |= schedule;
            schedule
        };
        self.hub.deliver(announcement);
        if schedule_repair {
            let intake = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(REPAIR_AFTER).await;
                intake.repair(org).await;
            });
        }
    }

    /// Deliver from the log every event still missing below the highest number heard.
    async fn repair(self: Arc<Self>, org: OrgId) {
        let (through, up_to) = {
            let mut orders = self.orders();
            let Some(order) = orders.get_mut(&org) else {
                return;
            };
            order.repair_scheduled = false;
            match order.ahead.last() {
                Some(last) => (order.through, *last),
                None => return,
            }
        };
        let events = match self.store.events_after(org, through, up_to - through).await {
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
}
