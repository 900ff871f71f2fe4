//! The representative console: live queues, accept exactly once, Get Next, several sessions in
//! tabs, transfer, invite, end with an outcome and notes.

mod actions;
mod canned;
mod chat;
mod history;
mod pages;

pub use pages::render;
mod ws;

use crate::state::AppState;

use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(pages::index))
        .route("/console/queue", get(pages::queue_fragment))
        .route("/console/ws", get(ws::connect))
        .route("/console/presence", post(actions::presence))
        .route("/console/next", post(actions::next))
        .route("/console/sessions/{id}", get(pages::session))
        .route("/console/sessions/{id}/accept", post(actions::accept))
        .route(
            "/console/sessions/{id}/messages",
            get(chat::read).post(chat::send),
        )
        .route("/console/sessions/{id}/ws", get(chat::live))
        .route(
            "/console/sessions/{id}/files",
            // The handler counts the file against `files.max_mb` as it streams in.
            post(chat::upload).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/console/files/{file}", get(chat::download))
        .route("/console/sessions/{id}/end", post(actions::end))
        .route("/console/sessions/{id}/transfer", post(actions::transfer))
        .route("/console/sessions/{id}/invite", post(actions::invite))
        .route("/console/sessions/{id}/leave", post(actions::leave))
        .route(
            "/console/invitations/{id}/accept",
            post(actions::accept_invitation),
        )
        .route(
            "/console/invitations/{id}/decline",
            post(actions::decline_invitation),
        )
        .route("/console/canned", get(canned::list).post(canned::create))
        .route("/console/canned/{id}/delete", post(canned::delete))
        .route("/console/history", get(history::index))
        .route("/console/history/{id}", get(history::record))
        .route("/console/history/{id}/transcript", get(history::transcript))
        .route("/console/offers/{id}/accept", post(actions::accept_offer))
        .route("/console/offers/{id}/decline", post(actions::decline_offer))
}
