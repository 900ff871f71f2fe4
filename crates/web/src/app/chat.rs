//! Sending a chat message: committed under the session's next number, then announced to the
//! session's topic (every reader, on every node, then reads what followed its last number).

use crate::chat::{message_line, ChatLine};
use crate::error::AppResult;
use crate::state::AppState;
use domain::chat::{ClientId, MessageBody};
use std::sync::Arc;
use store::chat::{NewMessage, Posted, Sender};
use store::support::SupportSession;

/// What became of a message sent.
pub enum Sent {
    /// Stored (now, or before under the same client id): its line.
    Stored(ChatLine),
    /// The session has ended: nothing stored.
    Closed,
}

pub async fn send(
    state: &AppState,
    session: &SupportSession,
    sender: Sender,
    sender_name: &str,
    client_id: &ClientId,
    body: &MessageBody,
) -> AppResult<Sent> {
    let message = NewMessage {
        org: session.org_id,
        session: session.id,
        sender,
        sender_name,
        client_id: client_id.as_str(),
        body: body.as_str(),
        language: &session.language,
    };
    Ok(
        match state.store.post_message(&message, state.now()).await? {
            Posted::New(item) => {
                let line = Arc::new(message_line(item));
                let owner = session.owner_user_id.map(domain::UserId);
                state.announce_message(session.org_id, session.id, owner, line.clone());
                Sent::Stored((*line).clone())
            }
            Posted::Again(item) => Sent::Stored(message_line(item)),
            Posted::Closed => Sent::Closed,
        },
    )
}
