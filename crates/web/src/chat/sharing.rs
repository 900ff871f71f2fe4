//! Screen sharing's signaling over a session's sockets. The customer's browser sends its screen
//! to each rep who views it, one WebRTC connection per rep; offers, answers and ICE candidates
//! travel as `rtc` frames addressed to one peer, and what happens to the share as `share`
//! frames. Only the session's participants have its sockets (the customer by their waiting
//! page's capability, the owner and invited reps by their sign-in), so a frame can only ever
//! reach the other participants of the session it was sent in. The server names the sender
//! itself; a page cannot speak for another peer.

use super::Participant;
use crate::bus::Signal;
use crate::error::AppResult;
use crate::state::AppState;
use domain::session::SharingStep;
use domain::SessionId;
use store::support::SupportSession;

/// The largest `rtc` payload passed on (an offer with many codecs is a few KB).
const MOST_RTC_BYTES: usize = 32 * 1024;

/// What each side may say of a share: the rep asks for it, views it or stops viewing; the
/// customer reports what became of it.
const REP_SAYS: [&str; 3] = ["request", "view", "close"];

impl Participant {
    /// The name this participant's peer goes by in `rtc` frames: `customer`, or
    /// `rep<id>.<tab>` (each console tab of a rep views on a connection of its own).
    pub fn peer(&self) -> String {
        match self.rep {
            Some(rep) => format!("rep{}.{}", rep.0, self.tab),
            None => "customer".to_owned(),
        }
    }
}

/// Whether `to` names a peer a session could have (the customer or a rep's tab).
fn is_peer_name(to: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    to == "customer"
        || to
            .strip_prefix("rep")
            .and_then(|rest| rest.split_once('.'))
            .is_some_and(|(id, tab)| digits(id) && digits(tab))
}

/// An `rtc` frame from `who`'s page: passed on to the peer it names, from `who`. Malformed,
/// oversized or self-addressed frames are dropped, and all of them where the site does not
/// allow screen sharing.
pub async fn rtc(
    state: &AppState,
    session: &SupportSession,
    who: &Participant,
    to: String,
    data: serde_json::Value,
) {
    let from = who.peer();
    let size = data.to_string().len();
    if !is_peer_name(&to) || to == from || size > MOST_RTC_BYTES || !allowed(state, session).await {
        return;
    }
    let signal = Signal::Rtc { from, to, data };
    state.announce_signal(session.org_id, session.id, signal);
}

/// Whether customers of the session's site may share their screen (a session that came
/// through no site may).
pub async fn allowed(state: &AppState, session: &SupportSession) -> bool {
    super::site_says(state, session, true, |s| s.screen_sharing).await
}

/// A `share` frame from `who`'s page. A rep's request, view or close is passed on; what the
/// customer reports of their share (started, stopped, declined, failed) is recorded in the
/// session's log first (a system line in the chat), then passed on. Nothing where the site
/// does not allow screen sharing.
pub async fn share(
    state: &AppState,
    record: &SupportSession,
    who: &Participant,
    what: &str,
) -> AppResult<()> {
    if !allowed(state, record).await {
        return Ok(());
    }
    let (org, session) = (record.org_id, record.id);
    let passed_on = match who.rep {
        Some(_) => REP_SAYS.contains(&what),
        None => match SharingStep::parse(what) {
            Some(step) => {
                let now = state.clock.now();
                let recorded = state
                    .store
                    .record_screen_sharing(org, session, step, now)
                    .await?;
                let Some(event) = recorded else {
                    return Ok(());
                };
                let change = domain::realtime::SessionChange::default();
                state.announce(org, event, session, change);
                true
            }
            None => false,
        },
    };
    if passed_on {
        let signal = Signal::Share {
            from: who.peer(),
            name: who.name.clone(),
            what: what.to_owned(),
        };
        state.announce_signal(org, session, signal);
    }
    Ok(())
}

/// Whether a sharing signal is for this participant: an `rtc` frame for the peer it names, a
/// `share` frame for everyone but its sender.
pub fn is_for(signal: &Signal, me: &Participant) -> bool {
    match signal {
        Signal::Rtc { to, .. } => *to == me.peer(),
        Signal::Share { from, .. } => *from != me.peer(),
        // Whether the customer is there is for the reps.
        Signal::Customer { .. } => me.rep.is_some(),
        _ => true,
    }
}

/// The socket's first sharing frame: the ICE servers this participant's browser uses in this
/// session, with TURN credentials of their own.
pub fn ice_frame(state: &AppState, session: SessionId, me: &Participant) -> String {
    let now = state.clock.now();
    let servers = state.config.ice.servers_for(session, &me.peer(), now);
    serde_json::json!({ "type": "ice", "servers": servers }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_customer_and_reps_are_peers() {
        assert!(is_peer_name("customer"));
        assert!(is_peer_name("rep12.3"));
        assert!(!is_peer_name("rep12"));
        assert!(!is_peer_name("rep"));
        assert!(!is_peer_name("rep1x.2"));
        assert!(!is_peer_name("rep1.x"));
        assert!(!is_peer_name("everyone"));
    }

    #[test]
    fn rtc_goes_to_the_named_peer_and_share_to_the_others() {
        let customer = Participant {
            rep: None,
            name: "Cleo".into(),
            tab: 0,
        };
        let riley = Participant {
            rep: Some(domain::UserId(7)),
            name: "Riley".into(),
            tab: 2,
        };
        let riley_elsewhere = Participant {
            tab: 3,
            ..riley.clone()
        };
        let offer = Signal::Rtc {
            from: "customer".into(),
            to: "rep7.2".into(),
            data: serde_json::json!({ "sdp": "v=0" }),
        };
        assert!(is_for(&offer, &riley));
        assert!(
            !is_for(&offer, &riley_elsewhere),
            "another tab of the same rep"
        );
        assert!(!is_for(&offer, &customer));
        let started = Signal::Share {
            from: "customer".into(),
            name: "Cleo".into(),
            what: "started".into(),
        };
        assert!(is_for(&started, &riley));
        assert!(!is_for(&started, &customer));
    }
}
