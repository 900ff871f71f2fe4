//! Use cases of a rep's own state.

use crate::error::AppResult;
use crate::state::AppState;
use domain::rep::Presence;
use store::users::User;

/// A rep says whether they take customers: available, busy or away. Offline is not theirs to
/// choose (it follows from their consoles: the presence sweep). False when refused.
pub async fn set_presence(state: &AppState, rep: &User, presence: Presence) -> AppResult<bool> {
    if presence == Presence::Offline {
        return Ok(false);
    }
    state
        .store
        .set_presence(rep.org_id, rep.id, presence, state.now())
        .await?;
    // Portals list available reps: other nodes' kept pages are stale now.
    state.announce_portal_change(rep.org_id);
    Ok(true)
}
