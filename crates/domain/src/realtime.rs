//! Realtime topics: who hears about which change. A connection subscribes only to the topics its
//! holder may see, and a committed change is published only to the topics it touches. Both
//! rules live here, once; the hub and the bus only route.

use crate::session::Queue;
use crate::{OrgId, SessionId, SiteId, TeamId, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Topic {
    /// One support session: its customer and the reps in it.
    Session { session: SessionId },
    /// One queue of an organization: the reps who may take from it, its waiting customers.
    Queue { org: OrgId, queue: Queue },
    /// One rep: their own sessions, offers and invitations.
    Rep { rep: UserId },
    /// New chat lines in one rep's sessions, for their console's unread marks. Only the
    /// console's page hears it: a rep's open chats (one socket each) are not woken by every
    /// line of every other chat of theirs.
    Inbox { rep: UserId },
    /// One site's notices, for its waiting customers.
    Site { site: SiteId },
    /// One live presentation: its presenter and attendees.
    Presentation { presentation: i64 },
    /// Everything of an organization. Nobody publishes here on purpose: a change whose
    /// announcement was lost is repaired from the log to this topic, which reaches every
    /// subscriber of the organization (they then reread what they show).
    Org { org: OrgId },
}

/// What a rep's console subscribes to: their own topic and the queues they may take from.
/// `Queue::open_to` is the rule; a queue it refuses never appears here.
pub fn console_topics(org: OrgId, rep: UserId, teams: &[TeamId]) -> Vec<Topic> {
    let queues = Queue::all_open_to(rep, teams);
    [Topic::Rep { rep }, Topic::Inbox { rep }]
        .into_iter()
        .chain(queues.into_iter().map(|queue| Topic::Queue { org, queue }))
        .chain(std::iter::once(Topic::Org { org }))
        .collect()
}

/// What a waiting customer's page subscribes to: their session and their site's notices. Not
/// their queue: its changes reach them through the node's one computation of that queue's line
/// (a new arrival behind them must not wake them).
pub fn customer_topics(org: OrgId, session: SessionId, site: Option<SiteId>) -> Vec<Topic> {
    let mut topics = vec![Topic::Session { session }, Topic::Org { org }];
    topics.extend(site.map(|site| Topic::Site { site }));
    topics
}

/// A committed change to a support session, as much as routing needs to know.
#[derive(Debug, Clone, Default)]
pub struct SessionChange {
    /// The queue the session waits in now, or was taken from.
    pub queue: Option<Queue>,
    /// A queue it left while waiting (moved by a rule), whose line shortens.
    pub left_queue: Option<Queue>,
    /// Reps whose own view changes: owner, previous owner, participants, the rep offered to.
    pub reps: Vec<UserId>,
}

impl SessionChange {
    /// The topics this change is published to.
    pub fn topics(&self, org: OrgId, session: SessionId) -> Vec<Topic> {
        let mut topics = vec![Topic::Session { session }];
        for queue in [self.queue, self.left_queue].into_iter().flatten() {
            let topic = Topic::Queue { org, queue };
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        }
        for rep in &self.reps {
            let topic = Topic::Rep { rep: *rep };
            if !topics.contains(&topic) {
                topics.push(topic);
            }
        }
        topics
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_console_hears_its_rep_its_queues_and_the_general_queue() {
        let (org, rep) = (OrgId(1), UserId(7));
        let topics = console_topics(org, rep, &[TeamId(3)]);
        assert!(topics.contains(&Topic::Rep { rep }));
        assert!(topics.contains(&Topic::Queue {
            org,
            queue: Queue::Personal(rep)
        }));
        assert!(topics.contains(&Topic::Queue {
            org,
            queue: Queue::Team(TeamId(3))
        }));
        assert!(topics.contains(&Topic::Queue {
            org,
            queue: Queue::General
        }));
        assert!(!topics.contains(&Topic::Queue {
            org,
            queue: Queue::Team(TeamId(4))
        }));
        assert!(!topics.contains(&Topic::Queue {
            org,
            queue: Queue::Personal(UserId(8))
        }));
    }

    proptest! {
        /// Whatever the teams: every queue a console subscribes to is one the rep may take from,
        /// and it hears no other rep's topic.
        #[test]
        fn a_console_is_never_subscribed_to_a_queue_it_may_not_take_from(
            rep in 1i64..20,
            teams in proptest::collection::vec(1i64..20, 0..6),
        ) {
            let (rep, teams): (UserId, Vec<TeamId>) = (UserId(rep), teams.into_iter().map(TeamId).collect());
            for topic in console_topics(OrgId(1), rep, &teams) {
                match topic {
                    Topic::Queue { org, queue } => {
                        prop_assert_eq!(org, OrgId(1));
                        prop_assert!(queue.open_to(rep, &teams));
                    }
                    Topic::Rep { rep: other } | Topic::Inbox { rep: other } => prop_assert_eq!(other, rep),
                    Topic::Org { org } => prop_assert_eq!(org, OrgId(1)),
                    Topic::Session { .. } | Topic::Site { .. } | Topic::Presentation { .. } => prop_assert!(false),
                }
            }
        }
    }

    #[test]
    fn a_change_reaches_its_session_its_queues_and_its_reps_once_each() {
        let change = SessionChange {
            queue: Some(Queue::General),
            left_queue: Some(Queue::Team(TeamId(2))),
            reps: vec![UserId(5), UserId(5)],
        };
        let topics = change.topics(OrgId(1), SessionId(9));
        assert_eq!(
            topics,
            vec![
                Topic::Session {
                    session: SessionId(9)
                },
                Topic::Queue {
                    org: OrgId(1),
                    queue: Queue::General
                },
                Topic::Queue {
                    org: OrgId(1),
                    queue: Queue::Team(TeamId(2))
                },
                Topic::Rep { rep: UserId(5) },
            ]
        );
    }

    #[test]
    fn a_customer_hears_no_queue_and_no_rep() {
        let topics = customer_topics(OrgId(1), SessionId(2), Some(SiteId(4)));
        assert!(topics
            .iter()
            .all(|t| !matches!(t, Topic::Queue { .. } | Topic::Rep { .. })));
        assert!(topics.contains(&Topic::Site { site: SiteId(4) }));
    }
}
