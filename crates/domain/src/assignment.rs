//! Automatic assignment (offer → accept or reject → next), waiting rules, and fallback.
//! Pure decisions over facts the caller gathered.

use crate::rep::Presence;
use crate::session::Queue;
use crate::{Timestamp, UserId};
use serde::{Deserialize, Serialize};

/// What assignment needs to know about a rep who could take the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub rep: UserId,
    pub presence: Presence,
    /// Sessions the rep holds now.
    pub sessions: i64,
    /// Most sessions the rep may hold at once.
    pub limit: i64,
    /// Since when the rep has had nothing new: the longer, the sooner they get the next one.
    pub idle_since: Timestamp,
}

impl Candidate {
    pub fn can_take_more(&self) -> bool {
        self.presence == Presence::Available && crate::rep::has_room(self.sessions, self.limit)
    }
}

/// The rep to offer a session to: available, under their limit, not offered this session
/// before; of those the one with the fewest sessions, then the longest idle, then the lowest id
/// (so the choice is deterministic). None: nobody left; the session stays queued.
pub fn choose_rep(candidates: &[Candidate], already_offered: &[UserId]) -> Option<UserId> {
    candidates
        .iter()
        .filter(|c| c.can_take_more() && !already_offered.contains(&c.rep))
        .min_by_key(|c| (c.sessions, c.idle_since, c.rep))
        .map(|c| c.rep)
}

/// A rule for sessions that wait too long in a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum WaitingRule {
    /// After `minutes`, alert the queue's reps that the session is overdue.
    Alert { minutes: i64 },
    /// After `minutes`, move the session to `to` (keeping its arrival time).
    Overflow { minutes: i64, to: Queue },
    /// After `minutes`, raise its priority once: it is served before newer arrivals wherever
    /// queues are merged (a rep's list, Get Next across teams).
    Prioritize { minutes: i64 },
}

impl WaitingRule {
    fn minutes(self) -> i64 {
        match self {
            WaitingRule::Alert { minutes }
            | WaitingRule::Overflow { minutes, .. }
            | WaitingRule::Prioritize { minutes } => minutes,
        }
    }

    /// Whether the rule applies to a session queued at `queued_at`, at `now`.
    pub fn is_due(self, queued_at: Timestamp, now: Timestamp) -> bool {
        now.millis() - queued_at.millis() >= self.minutes().saturating_mul(60_000)
    }
}

/// Where a session goes when its owner has been disconnected past the grace period: back to
/// the queue it came from (it keeps its arrival time, so its place in line).
pub fn fallback_queue(came_from: Option<Queue>) -> Queue {
    came_from.unwrap_or(Queue::General)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn candidate(rep: i64, presence: Presence, sessions: i64, limit: i64, idle: i64) -> Candidate {
        Candidate {
            rep: UserId(rep),
            presence,
            sessions,
            limit,
            idle_since: Timestamp(idle),
        }
    }

    #[test]
    fn the_least_busy_then_longest_idle_rep_gets_the_offer() {
        let reps = [
            candidate(1, Presence::Available, 2, 3, 0),
            candidate(2, Presence::Available, 1, 3, 500),
            candidate(3, Presence::Available, 1, 3, 100),
            candidate(4, Presence::Away, 0, 3, 0),
            candidate(5, Presence::Available, 3, 3, 0),
        ];
        assert_eq!(
            choose_rep(&reps, &[]),
            Some(UserId(3)),
            "fewest sessions, idle longest"
        );
        assert_eq!(
            choose_rep(&reps, &[UserId(3)]),
            Some(UserId(2)),
            "after a decline, the next"
        );
        assert_eq!(choose_rep(&reps, &[UserId(3), UserId(2)]), Some(UserId(1)));
        assert_eq!(
            choose_rep(&reps, &[UserId(3), UserId(2), UserId(1)]),
            None,
            "away and full reps are never offered"
        );
    }

    #[test]
    fn waiting_rules_and_fallback() {
        let rule = WaitingRule::Overflow {
            minutes: 5,
            to: Queue::General,
        };
        assert!(!rule.is_due(Timestamp(0), Timestamp(299_999)));
        assert!(rule.is_due(Timestamp(0), Timestamp(300_000)));
        assert_eq!(
            fallback_queue(Some(Queue::Personal(UserId(4)))),
            Queue::Personal(UserId(4))
        );
        assert_eq!(fallback_queue(None), Queue::General);
    }

    fn candidates() -> impl Strategy<Value = Vec<Candidate>> {
        proptest::collection::vec(
            (1i64..20, 0usize..4, 0i64..6, 1i64..6, 0i64..1000).prop_map(
                |(rep, p, sessions, limit, idle)| {
                    candidate(rep, Presence::ALL[p], sessions, limit, idle)
                },
            ),
            0..12,
        )
        .prop_map(|mut list| {
            list.sort_by_key(|c| c.rep);
            list.dedup_by_key(|c| c.rep);
            list
        })
    }

    proptest! {
        #[test]
        fn offers_respect_capacity_presence_and_history(reps in candidates(), offered in proptest::collection::vec(1i64..20, 0..6)) {
            let offered: Vec<UserId> = offered.into_iter().map(UserId).collect();
            match choose_rep(&reps, &offered) {
                Some(chosen) => {
                    let c = reps.iter().find(|c| c.rep == chosen).unwrap();
                    prop_assert!(c.presence == Presence::Available, "only available reps");
                    prop_assert!(c.sessions < c.limit, "never beyond capacity");
                    prop_assert!(!offered.contains(&chosen), "never offered the same session twice");
                    for other in reps.iter().filter(|o| o.can_take_more() && !offered.contains(&o.rep)) {
                        prop_assert!((c.sessions, c.idle_since) <= (other.sessions, other.idle_since), "the best rep is chosen");
                    }
                }
                None => prop_assert!(reps.iter().all(|c| !c.can_take_more() || offered.contains(&c.rep))),
            }
        }

        #[test]
        fn offering_until_nobody_is_left_never_repeats(reps in candidates()) {
            let mut offered = Vec::new();
            while let Some(rep) = choose_rep(&reps, &offered) {
                prop_assert!(!offered.contains(&rep));
                offered.push(rep);
            }
            prop_assert_eq!(offered.len(), reps.iter().filter(|c| c.can_take_more()).count(), "everyone eligible gets exactly one offer");
        }
    }
}
