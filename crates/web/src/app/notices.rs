//! Notice windows in the event log: logged right after each change to a notice, and by a sweep
//! every second on every node for start and end times that arrive on their own. Each logged
//! opening or closing is announced to the notice's site (its waiting pages show or hide it
//! live); webhooks (`notice.started`, `notice.ended`) follow the log like session events.

use crate::state::AppState;
use store::notice_log::NoticeLogged;

/// Log (once, whichever node is first) every notice window opened or closed by now, and
/// announce each.
pub async fn log_windows(state: &AppState) -> store::StoreResult<()> {
    let logged = state.store.log_notice_windows(state.now()).await?;
    announce(state, &logged);
    Ok(())
}

/// Announce windows logged (committed already).
pub fn announce(state: &AppState, logged: &[NoticeLogged]) {
    for notice in logged {
        state.announce_notice(notice);
    }
}
