//! A conversation as its readers see it: messages with their links, and the session's events
//! (joined, transferred, left, ended) as system lines in the reader's language. The same lines
//! go into the page as it is rendered, into the socket as they come, and to the polling
//! fallback, so a reader who resumes after number n sees exactly what followed.

use crate::error::AppResult;
use crate::state::AppState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::chat::{segments, Segment};
use domain::chat::{ClientId, MessageBody};
use domain::session::{Outcome, SessionEvent};
use domain::{Language, OrgId, SessionId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use store::chat::{ChatItem, Sender};
use store::support::SupportSession;

/// How many lines one read returns (a longer conversation arrives in several).
pub const PAGE: i64 = 500;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChatLine {
    pub seq: i64,
    /// "message" or "system".
    pub kind: &'static str,
    /// The sender's id for the message (a resend carries the same), or `e<seq>` for events.
    pub id: String,
    /// "customer", "rep" or "system".
    pub from: String,
    pub name: String,
    pub text: String,
    pub segments: Vec<Segment>,
    pub at: i64,
}

/// The conversation after `after`, as lines for a reader in `lang`.
pub async fn lines_after(
    state: &AppState,
    org: OrgId,
    session: SessionId,
    after: i64,
    lang: Language,
) -> AppResult<Vec<ChatLine>> {
    let items = state.store.chat_after(org, session, after, PAGE).await?;
    let mut lines = Vec::with_capacity(items.len());
    // Reps named in system lines, each read once however many lines name them.
    let mut names = HashMap::new();
    for item in items {
        if let Some(line) = line_of(state, org, item, lang, &mut names).await? {
            lines.push(line);
        }
    }
    Ok(lines)
}

/// A message's line: the same for every reader, whatever their language.
pub fn message_line(item: ChatItem) -> ChatLine {
    ChatLine {
        seq: item.seq,
        kind: "message",
        id: item.client_id.unwrap_or_default(),
        from: item.sender_kind.unwrap_or_default(),
        name: item.sender_name.unwrap_or_default(),
        segments: segments(&item.body),
        text: item.body,
        at: item.created_at,
    }
}

/// The lines a reader who has seen up to `after` shows next: the announced line itself when it
/// is the very next one (no read), else what the database has after `after`.
pub async fn next_lines(
    state: &AppState,
    org: OrgId,
    session: SessionId,
    after: i64,
    announced: Option<&ChatLine>,
    lang: Language,
) -> AppResult<Vec<ChatLine>> {
    match announced {
        Some(line) if line.seq == after + 1 => Ok(vec![line.clone()]),
        Some(line) if line.seq <= after => Ok(Vec::new()),
        _ => lines_after(state, org, session, after, lang).await,
    }
}

async fn line_of(
    state: &AppState,
    org: OrgId,
    item: ChatItem,
    lang: Language,
    names: &mut HashMap<UserId, String>,
) -> AppResult<Option<ChatLine>> {
    if item.kind == "message" {
        return Ok(Some(message_line(item)));
    }
    let Ok(event) = serde_json::from_str::<SessionEvent>(&item.body) else {
        return Ok(None);
    };
    let (key, name) = match event {
        SessionEvent::Accepted { rep } => ("chat.joined", name_of(state, org, rep, names).await?),
        SessionEvent::Invited { rep, .. } => {
            ("chat.invited", name_of(state, org, rep, names).await?)
        }
        SessionEvent::Requeued { .. } => ("chat.transferred", String::new()),
        SessionEvent::Ended {
            outcome: Outcome::Abandoned,
            by: None,
        } => ("chat.customer_left", String::new()),
        SessionEvent::Ended { .. } => ("chat.ended", String::new()),
        _ => return Ok(None),
    };
    let text = state
        .catalog
        .text(lang, key, &[("name", name.clone())])
        .unwrap_or_else(|| key.to_owned());
    Ok(Some(ChatLine {
        seq: item.seq,
        kind: "system",
        id: format!("e{}", item.seq),
        from: "system".into(),
        name,
        segments: segments(&text),
        text,
        at: item.created_at,
    }))
}

/// A rep's display name, read once per conversation read.
async fn name_of(
    state: &AppState,
    org: OrgId,
    rep: UserId,
    names: &mut HashMap<UserId, String>,
) -> AppResult<String> {
    if let Some(name) = names.get(&rep) {
        return Ok(name.clone());
    }
    let user = state.store.user(org, rep).await?;
    let name = user.map(|u| u.display_name).unwrap_or_default();
    names.insert(rep, name.clone());
    Ok(name)
}

/// The chat form as sent: the text, and the id its sender gave it.
#[derive(Deserialize, Serialize, Default)]
pub struct SendForm {
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub client_id: String,
}

/// Where a reader resumes.
#[derive(Deserialize)]
pub struct After {
    #[serde(default)]
    pub after: i64,
}

/// A random client id, for a form rendered without script (one per page view).
pub fn new_client_id() -> ClientId {
    let token = domain::secret::random_token(&mut rand::rngs::OsRng);
    ClientId::parse(&token).unwrap_or_else(|_| unreachable!("a token is 43 url-safe characters"))
}

/// Whether the sender is the page's script (it wants the stored line back as JSON).
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// Send what the form holds as `sender`: the stored line, or why nothing was stored (in `lang`).
pub async fn send_form(
    state: &AppState,
    session: &SupportSession,
    sender: (Sender, &str),
    form: &SendForm,
    lang: Language,
) -> AppResult<Result<ChatLine, String>> {
    // The page carries a fresh id with every rendering (a script, one per message): sending the
    // same form twice stores one message.
    let client_id = match form.client_id.is_empty() {
        true => new_client_id(),
        false => match ClientId::parse(&form.client_id) {
            Ok(id) => id,
            Err(_) => {
                return Err(crate::error::AppError::BadRequest(
                    "invalid client id".into(),
                ))
            }
        },
    };
    let body = match MessageBody::parse(&form.body) {
        Ok(body) => body,
        Err(err) => return Ok(Err(crate::portal::error_text(&state.catalog, lang, err))),
    };
    let (who, name) = sender;
    let sent = crate::app::chat::send(state, session, who, name, &client_id, &body).await?;
    match sent {
        crate::app::chat::Sent::Stored(line) => Ok(Ok(line)),
        crate::app::chat::Sent::Closed => {
            let text = state.catalog.text(lang, "chat.closed", &[]);
            Ok(Err(text.unwrap_or_else(|| "This session has ended.".into())))
        }
    }
}

/// The answer to a script's send.
pub fn json_answer(sent: Result<ChatLine, String>) -> Response {
    #[derive(Serialize)]
    struct Answer {
        line: Option<ChatLine>,
        error: Option<String>,
    }
    match sent {
        Ok(line) => Json(Answer {
            line: Some(line),
            error: None,
        })
        .into_response(),
        Err(error) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(Answer {
                line: None,
                error: Some(error),
            }),
        )
            .into_response(),
    }
}

/// Send `lines` to a socket as one chat frame (nothing when there are none); false when the
/// socket is gone.
pub async fn push_lines(socket: &mut axum::extract::ws::WebSocket, lines: &[ChatLine]) -> bool {
    #[derive(Serialize)]
    struct ChatFrame<'a> {
        r#type: &'static str,
        lines: &'a [ChatLine],
    }
    if lines.is_empty() {
        return true;
    }
    let frame = ChatFrame {
        r#type: "chat",
        lines,
    };
    match serde_json::to_string(&frame) {
        Ok(text) => socket
            .send(axum::extract::ws::Message::Text(text.into()))
            .await
            .is_ok(),
        Err(_) => false,
    }
}

/// The whole conversation as plain text (the customer's download at the end): a heading, then
/// each line with its time, sender and text; system lines in brackets.
pub async fn transcript(
    state: &AppState,
    session: &SupportSession,
    lang: Language,
) -> AppResult<String> {
    let heading = state
        .catalog
        .text(
            lang,
            "chat.transcript_title",
            &[("name", session.customer_name.clone())],
        )
        .unwrap_or_else(|| format!("Conversation with {}", session.customer_name));
    let mut text = format!("{heading}\n\n");
    let mut after = 0;
    loop {
        let lines = lines_after(state, session.org_id, session.id, after, lang).await?;
        let Some(last) = lines.last() else {
            return Ok(text);
        };
        after = last.seq;
        for line in &lines {
            let at = crate::templates::datetime(line.at);
            match line.kind {
                "message" => text.push_str(&format!("[{at}] {}: {}\n", line.name, line.text)),
                _ => text.push_str(&format!("[{at}] ({})\n", line.text)),
            }
        }
    }
}
