//! Which reps have a console open (on this node). When a rep's last console closes and stays
//! closed past the grace period, they go offline and their sessions return to the queues they
//! came from (fallback). A cluster keeps these counts in Redis instead; nothing else assumes
//! one process.

use crate::state::AppState;
use domain::rep::Presence;
use domain::session::SessionState;
use domain::{OrgId, UserId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Default)]
pub struct Connections {
    open: Mutex<HashMap<UserId, usize>>,
}

impl Connections {
    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, usize>> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn opened(&self, rep: UserId) {
        *self.counts().entry(rep).or_default() += 1;
    }

    /// True when this was the rep's last open console.
    pub fn closed(&self, rep: UserId) -> bool {
        let mut counts = self.counts();
        match counts.get_mut(&rep) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            _ => {
                counts.remove(&rep);
                true
            }
        }
    }

    pub fn is_connected(&self, rep: UserId) -> bool {
        self.counts().contains_key(&rep)
    }
}

/// After the grace period: if the rep has not come back, mark them offline and put each session
/// they own back into the queue it came from (it keeps its place by arrival time).
pub async fn offline_after_grace(state: AppState, org: OrgId, rep: UserId, rep_name: String) {
    tokio::time::sleep(Duration::from_secs(state.config.offline_grace_secs)).await;
    if state.connections.is_connected(rep) {
        return;
    }
    if let Err(err) = fall_back(&state, org, rep, &rep_name).await {
        tracing::warn!(error = %err, rep = rep.0, "fallback after disconnect failed");
    }
}

async fn fall_back(
    state: &AppState,
    org: OrgId,
    rep: UserId,
    rep_name: &str,
) -> Result<(), store::StoreError> {
    state
        .store
        .set_presence(org, rep, Presence::Offline, state.now())
        .await?;
    for session in state.store.active_sessions_of(org, rep).await? {
        if session.owner_user_id != Some(rep.0) {
            continue;
        }
        let came_from = match session.session_state()? {
            SessionState::Active { .. } => session.queue(),
            _ => continue,
        };
        let queue = domain::assignment::fallback_queue(came_from);
        let reason = format!("{rep_name} was disconnected: back to the queue it came from.");
        if let Some(seq) = state
            .store
            .requeue_session(org, session.id, rep, queue, &reason, state.now())
            .await?
        {
            state.announce(org, seq, "requeued", session.id);
        }
    }
    Ok(())
}
