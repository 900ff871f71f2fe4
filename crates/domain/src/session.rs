//! The support session: from a customer's arrival to its end.
//!
//! `waiting` in a queue → `active` with one owner → `ended`. Each transition is a pure function
//! that either refuses or returns the new state and the event to record in the session log.

use crate::{TeamId, UserId};
use serde::{Deserialize, Serialize};

/// How the customer started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartMethod {
    RepList,
    IssueForm,
    ContactButton,
    SmartBox,
    SessionKey,
}

impl StartMethod {
    pub const ALL: [StartMethod; 5] = [
        Self::RepList,
        Self::IssueForm,
        Self::ContactButton,
        Self::SmartBox,
        Self::SessionKey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StartMethod::RepList => "rep_list",
            StartMethod::IssueForm => "issue_form",
            StartMethod::ContactButton => "contact_button",
            StartMethod::SmartBox => "smartbox",
            StartMethod::SessionKey => "session_key",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// Where a session stands, as its row keeps it (the typed `SessionState` adds the details).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Waiting,
    Active,
    Ended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Active => "active",
            Status::Ended => "ended",
        }
    }

    pub fn parse(s: &str) -> Result<Self, crate::FieldError> {
        [Status::Waiting, Status::Active, Status::Ended]
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or(crate::FieldError::InvalidChoice)
    }
}

impl TryFrom<String> for Status {
    type Error = crate::FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Status::parse(&s)
    }
}

/// Which queue a waiting session is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Queue {
    Personal(UserId),
    Team(TeamId),
    General,
}

impl Queue {
    /// Whether `rep`, a member of `teams`, may take sessions from this queue: their personal
    /// queue, their teams' queues, and the general queue.
    pub fn open_to(self, rep: UserId, teams: &[TeamId]) -> bool {
        match self {
            Queue::Personal(owner) => owner == rep,
            Queue::Team(team) => teams.contains(&team),
            Queue::General => true,
        }
    }

    /// Every queue `rep` may take from, by the rule above: what their console lists and hears.
    pub fn all_open_to(rep: UserId, teams: &[TeamId]) -> Vec<Queue> {
        std::iter::once(Queue::Personal(rep))
            .chain(teams.iter().map(|team| Queue::Team(*team)))
            .chain(std::iter::once(Queue::General))
            .filter(|queue| queue.open_to(rep, teams))
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Resolved,
    Unresolved,
    /// The customer left before being helped, or stopped answering.
    Abandoned,
    /// Waited past the organization's limit with nobody taking it.
    Expired,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::Unresolved => "unresolved",
            Outcome::Abandoned => "abandoned",
            Outcome::Expired => "expired",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Resolved,
            Self::Unresolved,
            Self::Abandoned,
            Self::Expired,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SessionState {
    Waiting { queue: Queue },
    Active { owner: UserId },
    Ended { outcome: Outcome },
}

impl SessionState {
    /// The value kept in the `state` column; the conditional claim update matches on it.
    pub fn name(&self) -> &'static str {
        match self {
            SessionState::Waiting { .. } => "waiting",
            SessionState::Active { .. } => "active",
            SessionState::Ended { .. } => "ended",
        }
    }
}

/// What happened, as recorded in the session's append-only event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SessionEvent {
    Queued {
        queue: Queue,
        reason: String,
    },
    Accepted {
        rep: UserId,
    },
    Requeued {
        queue: Queue,
        reason: String,
    },
    Ended {
        outcome: Outcome,
        by: Option<UserId>,
    },
    /// Another rep joined the session as a participant, invited by `by` (since invitations
    /// ask: when they accepted).
    Invited {
        rep: UserId,
        by: UserId,
    },
    /// The owner asked another rep to join; they have not answered yet.
    InvitationSent {
        rep: UserId,
        by: UserId,
    },
    /// The invited rep said no.
    InvitationDeclined {
        rep: UserId,
    },
    /// An invited rep left the session (the owner stays).
    Left {
        rep: UserId,
    },
    /// Automatic assignment offered the session to a rep (who may accept or decline).
    Offered {
        rep: UserId,
        reason: String,
    },
    /// An offer was declined, or ran out.
    OfferClosed {
        rep: UserId,
        reason: String,
    },
    /// A waiting rule fired: the session has waited too long.
    Overdue {
        reason: String,
    },
    /// The customer's screen sharing started, stopped, was declined or failed (as the
    /// customer's page reported it).
    ScreenSharing {
        step: SharingStep,
    },
    /// The customer rated the ended session (1 to 5; the comment stays in the survey).
    SurveySubmitted {
        rating: i64,
    },
}

/// What became of a screen share in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SharingStep {
    Started,
    Stopped,
    Declined,
    Failed,
}

impl SharingStep {
    pub fn parse(raw: &str) -> Option<SharingStep> {
        match raw {
            "started" => Some(SharingStep::Started),
            "stopped" => Some(SharingStep::Stopped),
            "declined" => Some(SharingStep::Declined),
            "failed" => Some(SharingStep::Failed),
            _ => None,
        }
    }
}

impl SessionEvent {
    pub fn kind(&self) -> &'static str {
        match self {
            SessionEvent::Queued { .. } => "queued",
            SessionEvent::Accepted { .. } => "accepted",
            SessionEvent::Requeued { .. } => "requeued",
            SessionEvent::Ended { .. } => "ended",
            SessionEvent::Invited { .. } => "invited",
            SessionEvent::InvitationSent { .. } => "invitation_sent",
            SessionEvent::InvitationDeclined { .. } => "invitation_declined",
            SessionEvent::Left { .. } => "left",
            SessionEvent::Offered { .. } => "offered",
            SessionEvent::OfferClosed { .. } => "offer_closed",
            SessionEvent::Overdue { .. } => "overdue",
            SessionEvent::ScreenSharing { .. } => "screen_sharing",
            SessionEvent::SurveySubmitted { .. } => "survey_submitted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("the session is no longer waiting")]
    NotWaiting,
    #[error("the session is not active")]
    NotActive,
    #[error("the session has ended")]
    AlreadyEnded,
    #[error("only the owner may do that")]
    NotOwner,
}

pub type Transition = Result<(SessionState, SessionEvent), TransitionError>;

pub fn accept(state: SessionState, rep: UserId) -> Transition {
    match state {
        SessionState::Waiting { .. } => Ok((
            SessionState::Active { owner: rep },
            SessionEvent::Accepted { rep },
        )),
        SessionState::Ended { .. } => Err(TransitionError::AlreadyEnded),
        SessionState::Active { .. } => Err(TransitionError::NotWaiting),
    }
}

/// Back into a queue: a transfer by the owner, or the fallback when the owner is gone.
pub fn requeue(state: SessionState, queue: Queue, reason: &str) -> Transition {
    match state {
        SessionState::Active { .. } => Ok((
            SessionState::Waiting { queue },
            SessionEvent::Requeued {
                queue,
                reason: reason.to_owned(),
            },
        )),
        SessionState::Waiting { .. } => Err(TransitionError::NotActive),
        SessionState::Ended { .. } => Err(TransitionError::AlreadyEnded),
    }
}

/// The customer cancels or leaves (`by` = None), or the owner closes with an outcome.
pub fn end(state: SessionState, outcome: Outcome, by: Option<UserId>) -> Transition {
    match (state, by) {
        (SessionState::Ended { .. }, _) => Err(TransitionError::AlreadyEnded),
        (SessionState::Active { owner }, Some(rep)) if owner != rep => {
            Err(TransitionError::NotOwner)
        }
        (SessionState::Waiting { .. }, Some(_)) => Err(TransitionError::NotActive),
        _ => Ok((
            SessionState::Ended { outcome },
            SessionEvent::Ended { outcome, by },
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REP: UserId = UserId(1);
    const OTHER: UserId = UserId(2);
    fn waiting() -> SessionState {
        SessionState::Waiting {
            queue: Queue::General,
        }
    }

    #[test]
    fn a_waiting_session_is_accepted_once() {
        let (active, event) = accept(waiting(), REP).unwrap();
        assert_eq!(active, SessionState::Active { owner: REP });
        assert_eq!(event.kind(), "accepted");
        assert_eq!(accept(active, OTHER), Err(TransitionError::NotWaiting));
    }

    #[test]
    fn only_the_owner_ends_an_active_session() {
        let active = SessionState::Active { owner: REP };
        assert_eq!(
            end(active, Outcome::Resolved, Some(OTHER)),
            Err(TransitionError::NotOwner)
        );
        let (ended, _) = end(active, Outcome::Resolved, Some(REP)).unwrap();
        assert_eq!(ended.name(), "ended");
        assert_eq!(
            end(ended, Outcome::Resolved, None),
            Err(TransitionError::AlreadyEnded)
        );
        assert_eq!(accept(ended, REP), Err(TransitionError::AlreadyEnded));
    }

    #[test]
    fn a_customer_may_cancel_while_waiting_but_a_rep_may_not_end_what_they_do_not_hold() {
        assert!(end(waiting(), Outcome::Abandoned, None).is_ok());
        assert_eq!(
            end(waiting(), Outcome::Resolved, Some(REP)),
            Err(TransitionError::NotActive)
        );
    }

    #[test]
    fn requeue_returns_an_active_session_to_a_queue_with_its_reason() {
        let team = Queue::Team(TeamId(4));
        let (state, event) =
            requeue(SessionState::Active { owner: REP }, team, "transfer").unwrap();
        assert_eq!(state, SessionState::Waiting { queue: team });
        assert_eq!(
            event,
            SessionEvent::Requeued {
                queue: team,
                reason: "transfer".into()
            }
        );
        assert_eq!(
            requeue(waiting(), team, "x"),
            Err(TransitionError::NotActive)
        );
    }

    #[test]
    fn who_may_take_from_which_queue() {
        let teams = [TeamId(1)];
        assert!(Queue::Personal(REP).open_to(REP, &teams));
        assert!(
            !Queue::Personal(OTHER).open_to(REP, &teams),
            "another rep's personal queue"
        );
        assert!(Queue::Team(TeamId(1)).open_to(REP, &teams));
        assert!(
            !Queue::Team(TeamId(2)).open_to(REP, &teams),
            "a team the rep is not in"
        );
        assert!(Queue::General.open_to(REP, &[]));
    }

    #[test]
    fn names_round_trip() {
        for m in [
            "rep_list",
            "issue_form",
            "contact_button",
            "smartbox",
            "session_key",
        ] {
            assert_eq!(StartMethod::parse(m).unwrap().as_str(), m);
        }
        for o in ["resolved", "unresolved", "abandoned", "expired"] {
            assert_eq!(Outcome::parse(o).unwrap().as_str(), o);
        }
        assert_eq!(StartMethod::parse("fax"), None);
    }
}
