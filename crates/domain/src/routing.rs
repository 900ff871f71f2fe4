//! Where a new request waits and who is told about it. Pure: the caller looks up the facts
//! (which team owns an issue type, who issued a key) and this decides.

use crate::session::{Queue, StartMethod};
use crate::{IssueTypeId, TeamId, UserId};
use serde::Serialize;

/// How the customer asked, with the facts routing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request<'a> {
    /// Picked a rep by name from the site's list.
    ChoseRep { rep: UserId, rep_name: &'a str },
    /// Filled the issue form and chose an issue type owned by `team`.
    IssueType {
        issue_type: IssueTypeId,
        issue_name: &'a str,
        team: TeamId,
        team_name: &'a str,
    },
    /// Filled the issue form choosing a rep by name.
    IssueFormRep { rep: UserId, rep_name: &'a str },
    /// Filled an issue form that offers no issue types.
    IssueFormGeneral,
    /// Pressed the one-click contact button.
    ContactButton,
    /// Typed a question into the SmartBox.
    SmartBox,
    /// Entered a session key issued by `rep`.
    SessionKey { rep: UserId, rep_name: &'a str },
}

/// Who hears about the new arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Alert {
    /// Only this rep (their personal queue).
    Rep(UserId),
    /// Every available member of the team.
    TeamMembers(TeamId),
    /// Every available rep of the organization.
    AllAvailable,
    /// No broadcast: the rep who issued the key is told the customer arrived.
    KeyIssuer(UserId),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Routed {
    pub start_method: StartMethod,
    pub queue: Queue,
    pub alert: Alert,
    /// Why, in words, for the session's event log ("why routed here").
    pub reason: String,
}

/// Why routing chose a queue, as sentences with `{placeholders}`. Stored filled in (English);
/// staff pages show them in the reader's language by matching a stored sentence against these
/// (`fill` is the only way they are filled, so the two cannot drift apart).
pub mod reasons {
    pub const CHOSE_REP: &str =
        "The customer chose {rep} from the representative list: {rep}'s personal queue.";
    pub const ISSUE_TYPE: &str =
        "Issue \u{201c}{issue}\u{201d} belongs to team {team}: the {team} queue.";
    pub const FORM_REP: &str =
        "The customer asked for {rep} in the issue form: {rep}'s personal queue.";
    pub const FORM_GENERAL: &str = "The issue form offers no issue types: the general queue.";
    pub const CONTACT: &str = "The customer pressed the contact button: the general queue.";
    pub const SMARTBOX: &str =
        "The customer typed a question: the general queue, where every available representative sees it.";
    pub const KEY: &str = "The customer entered a session key issued by {rep}: straight to {rep}.";
    pub const ALL: [&str; 7] = [
        CHOSE_REP,
        ISSUE_TYPE,
        FORM_REP,
        FORM_GENERAL,
        CONTACT,
        SMARTBOX,
        KEY,
    ];

    pub use crate::text::fill;
}

pub fn route(request: &Request<'_>) -> Routed {
    use reasons::fill;
    match *request {
        Request::ChoseRep { rep, rep_name } => Routed {
            start_method: StartMethod::RepList,
            queue: Queue::Personal(rep),
            alert: Alert::Rep(rep),
            reason: fill(reasons::CHOSE_REP, &[("rep", rep_name)]),
        },
        Request::IssueType {
            issue_name,
            team,
            team_name,
            ..
        } => Routed {
            start_method: StartMethod::IssueForm,
            queue: Queue::Team(team),
            alert: Alert::TeamMembers(team),
            reason: fill(
                reasons::ISSUE_TYPE,
                &[("issue", issue_name), ("team", team_name)],
            ),
        },
        Request::IssueFormRep { rep, rep_name } => Routed {
            start_method: StartMethod::IssueForm,
            queue: Queue::Personal(rep),
            alert: Alert::Rep(rep),
            reason: fill(reasons::FORM_REP, &[("rep", rep_name)]),
        },
        Request::IssueFormGeneral => Routed {
            start_method: StartMethod::IssueForm,
            queue: Queue::General,
            alert: Alert::AllAvailable,
            reason: reasons::FORM_GENERAL.into(),
        },
        Request::ContactButton => Routed {
            start_method: StartMethod::ContactButton,
            queue: Queue::General,
            alert: Alert::AllAvailable,
            reason: reasons::CONTACT.into(),
        },
        Request::SmartBox => Routed {
            start_method: StartMethod::SmartBox,
            queue: Queue::General,
            alert: Alert::AllAvailable,
            reason: reasons::SMARTBOX.into(),
        },
        Request::SessionKey { rep, rep_name } => Routed {
            start_method: StartMethod::SessionKey,
            queue: Queue::Personal(rep),
            alert: Alert::KeyIssuer(rep),
            reason: fill(reasons::KEY, &[("rep", rep_name)]),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_routing_table() {
        let (rep, team) = (UserId(5), TeamId(9));
        let table = [
            (
                Request::ChoseRep {
                    rep,
                    rep_name: "Riley",
                },
                StartMethod::RepList,
                Queue::Personal(rep),
                Alert::Rep(rep),
            ),
            (
                Request::IssueType {
                    issue_type: IssueTypeId(1),
                    issue_name: "Printers",
                    team,
                    team_name: "Support",
                },
                StartMethod::IssueForm,
                Queue::Team(team),
                Alert::TeamMembers(team),
            ),
            (
                Request::IssueFormRep {
                    rep,
                    rep_name: "Riley",
                },
                StartMethod::IssueForm,
                Queue::Personal(rep),
                Alert::Rep(rep),
            ),
            (
                Request::IssueFormGeneral,
                StartMethod::IssueForm,
                Queue::General,
                Alert::AllAvailable,
            ),
            (
                Request::ContactButton,
                StartMethod::ContactButton,
                Queue::General,
                Alert::AllAvailable,
            ),
            (
                Request::SmartBox,
                StartMethod::SmartBox,
                Queue::General,
                Alert::AllAvailable,
            ),
            (
                Request::SessionKey {
                    rep,
                    rep_name: "Riley",
                },
                StartMethod::SessionKey,
                Queue::Personal(rep),
                Alert::KeyIssuer(rep),
            ),
        ];
        for (request, method, queue, alert) in table {
            let routed = route(&request);
            assert_eq!(
                (routed.start_method, routed.queue, routed.alert),
                (method, queue, alert),
                "{request:?}"
            );
            assert!(!routed.reason.is_empty());
        }
        assert!(route(&Request::IssueType {
            issue_type: IssueTypeId(1),
            issue_name: "Printers",
            team,
            team_name: "Support"
        })
        .reason
        .contains("Printers"));
    }
}
