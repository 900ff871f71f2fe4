//! Presentations: a rep shows their screen to many. The presenter starts one from the console
//! and gets a key and a link; attendees join with their name through a portal, the global key
//! page or the link, up to the configured limit, and each gets a secret link of their own. The
//! presenter's browser sends its screen to each attendee over a WebRTC connection of its own;
//! the server carries the signaling, the attendee list and the chat everyone shares, over one
//! socket per participant on the presentation's topic.

mod attendee;
mod presenter;
mod socket;

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;

pub use attendee::lobby;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/console/presentations",
            get(presenter::index).post(presenter::start),
        )
        .route("/console/presentations/{id}", get(presenter::page))
        .route("/console/presentations/{id}/ws", get(presenter::live))
        .route(
            "/presentations/{key}",
            get(attendee::lobby).post(attendee::join),
        )
        .route("/attend/{token}", get(attendee::page))
        .route("/attend/{token}/ws", get(attendee::live))
        .route("/attend/{token}/leave", post(attendee::leave))
}

/// The attendee's own address (a capability: whoever holds it is that attendee).
pub fn attend_path(token: &str) -> String {
    format!("/attend/{token}")
}
