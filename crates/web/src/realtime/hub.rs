//! The node's hub: who on this node listens to which topic. Delivering an announcement wakes only
//! the subscribers of its topics (each once, however many of its topics they hold) and tells the
//! queue lines it touches. Nothing here reads the database.

use super::line::Lines;
use crate::bus::Announcement;
use domain::realtime::Topic;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Announcements a connection has not read yet before it counts as lagging (it then rereads
/// what it shows instead of each missed message).
const BACKLOG: usize = 64;

struct Subscriber {
    sender: mpsc::Sender<Arc<Announcement>>,
    lagged: Arc<AtomicBool>,
}

#[derive(Default)]
pub struct Hub {
    topics: Mutex<HashMap<Topic, HashMap<u64, Subscriber>>>,
    next_id: AtomicU64,
    pub lines: Lines,
}

/// A connection's subscription; dropping it unsubscribes.
pub struct Subscription {
    hub: Arc<Hub>,
    id: u64,
    topics: Vec<Topic>,
    receiver: mpsc::Receiver<Arc<Announcement>>,
    lagged: Arc<AtomicBool>,
}

impl Hub {
    pub fn new(store: store::Store) -> Self {
        Hub {
            lines: Lines::with_store(store),
            ..Hub::default()
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<Topic, HashMap<u64, Subscriber>>> {
        self.topics.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Subscribe to `topics` (decided by `domain::realtime`, never by the caller's wishes).
    pub fn subscribe(self: &Arc<Self>, topics: Vec<Topic>) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(BACKLOG);
        let lagged = Arc::new(AtomicBool::new(false));
        let mut table = self.table();
        for topic in &topics {
            table.entry(*topic).or_default().insert(
                id,
                Subscriber {
                    sender: sender.clone(),
                    lagged: lagged.clone(),
                },
            );
        }
        drop(table);
        Subscription {
            hub: self.clone(),
            id,
            topics,
            receiver,
            lagged,
        }
    }

    /// Hand an announcement to this node's subscribers of its topics and to its queue lines.
    pub fn deliver(&self, announcement: Announcement) {
        let announcement = Arc::new(announcement);
        for topic in &announcement.topics {
            match topic {
                Topic::Queue { org, queue } => {
                    self.lines
                        .changed(*org, *queue, &announcement.kind, announcement.session)
                }
                Topic::Org { org } => self.lines.all_changed(*org),
                _ => {}
            }
        }
        let table = self.table();
        let mut woken = Vec::new();
        for topic in &announcement.topics {
            let Some(subscribers) = table.get(topic) else {
                continue;
            };
            for (id, subscriber) in subscribers {
                if woken.contains(id) {
                    continue;
                }
                woken.push(*id);
                if let Err(mpsc::error::TrySendError::Full(_)) =
                    subscriber.sender.try_send(announcement.clone())
                {
                    subscriber.lagged.store(true, Ordering::Relaxed);
                }
            }
        }
    }

    /// How many connections hear `topic` on this node (for tests and metrics).
    pub fn subscribers(&self, topic: &Topic) -> usize {
        self.table().get(topic).map_or(0, HashMap::len)
    }
}

impl Subscription {
    /// The next announcement; `lagged` is true when some were dropped before it because the
    /// connection was too slow (it should reread what it shows).
    pub async fn recv(&mut self) -> Option<(Arc<Announcement>, bool)> {
        let announcement = self.receiver.recv().await?;
        Some((announcement, self.lagged.swap(false, Ordering::Relaxed)))
    }

    pub fn topics(&self) -> &[Topic] {
        &self.topics
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut table = self.hub.table();
        for topic in &self.topics {
            if let Some(subscribers) = table.get_mut(topic) {
                subscribers.remove(&self.id);
                if subscribers.is_empty() {
                    table.remove(topic);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::session::Queue;
    use domain::{OrgId, SessionId, UserId};

    fn announcement(topics: Vec<Topic>) -> Announcement {
        Announcement {
            org: OrgId(1),
            seq: 1,
            kind: "accepted".into(),
            session: Some(SessionId(5)),
            topics,
            line: None,
            said: None,
            carried: None,
            signal: None,
        }
    }

    #[tokio::test]
    async fn only_subscribers_of_a_topic_hear_it_and_each_once() {
        let hub = Arc::new(Hub::default());
        let general = Topic::Queue {
            org: OrgId(1),
            queue: Queue::General,
        };
        let rep = Topic::Rep { rep: UserId(7) };
        let mut both = hub.subscribe(vec![general, rep]);
        let mut other = hub.subscribe(vec![Topic::Rep { rep: UserId(8) }]);
        hub.deliver(announcement(vec![general, rep]));
        let (heard, lagged) = both.recv().await.unwrap();
        assert_eq!((heard.seq, lagged), (1, false));
        assert!(both.receiver.try_recv().is_err(), "delivered once");
        assert!(other.receiver.try_recv().is_err(), "not subscribed");
    }

    #[tokio::test]
    async fn a_dropped_subscription_leaves_no_trace() {
        let hub = Arc::new(Hub::default());
        let topic = Topic::Rep { rep: UserId(7) };
        let subscription = hub.subscribe(vec![topic]);
        assert_eq!(hub.subscribers(&topic), 1);
        drop(subscription);
        assert_eq!(hub.subscribers(&topic), 0);
        assert!(hub.table().is_empty());
    }

    #[tokio::test]
    async fn a_slow_connection_is_told_it_lagged() {
        let hub = Arc::new(Hub::default());
        let topic = Topic::Rep { rep: UserId(7) };
        let mut slow = hub.subscribe(vec![topic]);
        for _ in 0..BACKLOG + 5 {
            hub.deliver(announcement(vec![topic]));
        }
        let (_, lagged) = slow.recv().await.unwrap();
        assert!(lagged);
    }
}
