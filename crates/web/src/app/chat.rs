//! Sending a chat message: translated for the other side when the site asks for it (bounded by
//! the translator's timeout), committed under the session's next number, then announced to the
//! session's topic (every reader, on every node, then reads what followed its last number).

use crate::chat::{message_line, session_language, translations_json, ChatLine};
use crate::error::AppResult;
use crate::state::AppState;
use domain::chat::{ClientId, MessageBody};
use domain::Language;
use std::collections::BTreeMap;
use std::sync::Arc;
use store::chat::{NewMessage, Posted, Sender};
use store::support::SupportSession;

/// Who writes: the customer, or a rep in their language.
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    pub sender: Sender,
    /// The name shown beside the message.
    pub name: &'a str,
    /// The rep's language; a customer's comes from the session, corrected by detection.
    pub language: Language,
}

impl<'a> Author<'a> {
    pub fn customer(session: &'a SupportSession) -> Self {
        Author {
            sender: Sender::Customer,
            name: &session.customer_name,
            language: session_language(session),
        }
    }

    pub fn rep(rep: &'a store::users::User) -> Self {
        Author {
            sender: Sender::Rep(rep.id),
            name: &rep.display_name,
            language: rep.chat_language(),
        }
    }
}

/// What a message carries: text, or a file saved under the data directory.
#[derive(Clone, Copy)]
pub enum Content<'a> {
    Text(&'a MessageBody),
    File(&'a crate::files::Saved),
}

/// What became of a message sent.
pub enum Sent {
    /// Stored now: its shared line.
    Stored(Arc<ChatLine>),
    /// Stored before under the same client id (a resend): that line; nothing new stored.
    Repeated(Arc<ChatLine>),
    /// The session has ended: nothing stored.
    Closed,
}

pub async fn send(
    state: &AppState,
    session: &SupportSession,
    author: Author<'_>,
    client_id: &ClientId,
    content: Content<'_>,
    translating: bool,
) -> AppResult<Sent> {
    let arrived = std::time::Instant::now();
    let mut language = author.language;
    let mut correction = None;
    let mut translations = BTreeMap::new();
    // A file's name is shown as it is; only text is translated.
    let (body, file) = match content {
        Content::Text(body) => (body.as_str(), None),
        Content::File(saved) => (saved.name.as_str(), Some(saved)),
    };
    if let (true, Content::Text(body)) = (translating, content) {
        // What a customer writes says which language they use, when detection is sure of it.
        if author.sender == Sender::Customer {
            if let Some(detected) = crate::translate::detect(body.as_str()) {
                correction = (detected != language).then_some(detected);
                language = detected;
            }
        }
        translations = translated(state, session, author.sender, language, body.as_str()).await?;
    }
    let message = NewMessage {
        org: session.org_id,
        session: session.id,
        sender: author.sender,
        sender_name: author.name.to_owned(),
        client_id: client_id.as_str().to_owned(),
        body: body.to_owned(),
        language: language.code(),
        translations: translations_json(&translations),
        customer_language: correction.map(Language::code),
        file: file.map(|f| store::chat::NewFile {
            size: f.size,
            stored_as: f.stored_as.clone(),
        }),
    };
    // Announced as soon as it is committed (from the writer), not after this task wakes; the
    // sender gets the same line.
    let announced = Arc::new(std::sync::OnceLock::new());
    let announce = {
        let (state, announced) = (state.clone(), announced.clone());
        let (org, id) = (session.org_id, session.id);
        let owner = session.owner_user_id.map(domain::UserId);
        move |posted: &Posted| {
            if let Posted::New { item, invited } = posted {
                state.metrics.chat_message_stored(arrived);
                let line = announced.get_or_init(|| Arc::new(message_line(item.clone())));
                let reps = owner.into_iter().chain(invited.iter().copied());
                state.announce_message(org, id, reps, line.clone());
            }
        }
    };
    let posted = state.chat_writer.post(message, state.now(), announce);
    Ok(match posted.await? {
        Posted::New { item, .. } => {
            let line = announced.get_or_init(|| Arc::new(message_line(item)));
            Sent::Stored(line.clone())
        }
        Posted::Again(item) => Sent::Repeated(Arc::new(message_line(item))),
        Posted::Closed => Sent::Closed,
    })
}

/// The message in the languages of the other side that differ from its own: the customer's for
/// a rep's message, the session's reps' for a customer's (none yet while it waits: the rep who
/// takes it has it translated on reading). Each within the translator's timeout; one that
/// cannot be had is left out, and its readers see the original marked "not translated".
async fn translated(
    state: &AppState,
    session: &SupportSession,
    sender: Sender,
    language: Language,
    text: &str,
) -> AppResult<BTreeMap<Language, String>> {
    let targets: Vec<Language> = match sender {
        Sender::Rep(_) => vec![session_language(session)],
        Sender::Customer => {
            let codes = state
                .store
                .rep_languages(session.org_id, session.id)
                .await?;
            codes.iter().filter_map(|c| Language::parse(c)).collect()
        }
    };
    let wanted = targets.into_iter().filter(|t| *t != language);
    let asked = wanted.map(|to| async move {
        let translated = state.translator.translate(text, language, to).await;
        translated.map(|t| (to, t))
    });
    Ok(futures::future::join_all(asked)
        .await
        .into_iter()
        .flatten()
        .collect())
}
