//! Whether the customer is still there: their waiting or chat page holds a socket. Opening it
//! marks them seen (and back, if their page had closed); it is marked again now and then while
//! it stays open, so a node that dies leaves a mark that grows old; the last page of theirs on
//! this node closing marks them gone. The rep's session pane shows it live; a waiting customer
//! gone past `customer_grace_secs` leaves the queue as abandoned (`sweep`).

use crate::app::sessions;
use crate::error::AppResult;
use crate::state::AppState;
use domain::session::Outcome;
use domain::{OrgId, SessionId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// How often an open page is marked seen again: rare enough to cost little with thousands of
/// customers waiting, often enough that a dead node's customers count as gone within minutes.
pub const SEEN_EVERY: Duration = Duration::from_secs(60);

/// The customer pages this node holds open, per session.
#[derive(Default)]
pub struct CustomerPages(Mutex<HashMap<SessionId, usize>>);

impl CustomerPages {
    fn opened(&self, id: SessionId) {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *open.entry(id).or_insert(0) += 1;
    }

    /// One closed without the customer leaving (the node is going away).
    pub fn forget(&self, id: SessionId) {
        let _ = self.closed(id);
    }

    /// One closed; whether it was the last this node held.
    fn closed(&self, id: SessionId) -> bool {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(id).or_insert(1);
        *count = count.saturating_sub(1);
        let last = *count == 0;
        if last {
            open.remove(&id);
        }
        last
    }
}

/// The rep's pane learns the customer is here (`here`) or gone, as of `since`.
fn tell_reps(state: &AppState, org: OrgId, id: SessionId, here: bool) {
    let since = state.now().millis();
    state.announce_signal(org, id, crate::bus::Signal::Customer { here, since });
}

/// A page of the customer's opened (or is still open, every `SEEN_EVERY`).
pub async fn seen(state: &AppState, org: OrgId, id: SessionId, opening: bool) {
    if opening {
        state.customer_pages.opened(id);
    }
    match state.store.customer_seen(org, id, state.now()).await {
        Ok(true) => tell_reps(state, org, id, true),
        Ok(false) => {}
        Err(err) => tracing::warn!(error = %err, "could not record the customer's page as open"),
    }
}

/// A page of the customer's closed: when it was the last on this node, they are marked gone
/// (a page of theirs on another node lifts that the next time it is marked seen).
pub async fn closed(state: &AppState, org: OrgId, id: SessionId) {
    if !state.customer_pages.closed(id) {
        return;
    }
    match state.store.customer_gone(org, id, state.now()).await {
        Ok(()) => tell_reps(state, org, id, false),
        Err(err) => tracing::warn!(error = %err, "could not record the customer's page as closed"),
    }
}

/// Waiting customers gone past the grace leave the queue as abandoned. Safe on every node at
/// once: ending is conditional, so each session ends once.
pub async fn sweep(state: &AppState) -> AppResult<()> {
    let now = state.now();
    let grace = i64::try_from(state.config.customer_grace_secs).unwrap_or(i64::MAX);
    let seen_every = i64::try_from(SEEN_EVERY.as_secs()).unwrap_or(i64::MAX);
    let gone_before = now.plus_seconds(-grace);
    // A page still open is marked every `SEEN_EVERY`; two missed marks mean its node is gone.
    let silent_before = now.plus_seconds(-(grace.saturating_add(2 * seen_every)));
    let notes = format!(
        "The customer closed their page and did not come back within {} seconds.",
        state.config.customer_grace_secs
    );
    for session in state
        .store
        .customers_gone(gone_before, silent_before)
        .await?
    {
        sessions::end(state, &session, Outcome::Abandoned, None, Some(&notes)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_page_closing_is_told_apart_from_one_of_two() {
        let pages = CustomerPages::default();
        let id = SessionId(7);
        pages.opened(id);
        pages.opened(id);
        assert!(!pages.closed(id), "another page is still open");
        assert!(pages.closed(id), "the last one closed");
        pages.opened(id);
        assert!(pages.closed(id), "counted afresh after all closed");
    }
}
