//! A conversation as its readers see it: messages with their links, and the session's events
//! (joined, transferred, left, ended) as system lines in the reader's language. The same lines
//! go into the page as it is rendered, into the socket as they come, and to the polling
//! fallback, so a reader who resumes after number n sees exactly what followed.

use crate::error::AppResult;
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::chat::{segments, Segment};
use domain::chat::{ClientId, MessageBody};
use domain::session::{Outcome, Queue, SessionEvent, SharingStep};
use domain::{Language, OrgId, SessionId, TeamId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use store::chat::ChatItem;
use store::support::SupportSession;

mod cursor;
pub mod sharing;
pub use cursor::{until, Cursor};

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
    /// The message as written, when `text` is its translation for this reader.
    pub original: Option<String>,
    /// This reader wanted a translation that could not be had: `text` is the original.
    pub not_translated: bool,
    /// The language a message is written in.
    pub lang: Option<Language>,
    /// Every translation of the message (the shared line; a reader's shows theirs as `text`).
    #[serde(skip)]
    pub translations: BTreeMap<Language, String>,
    /// The file the message carries (its text is the file's name).
    pub file: Option<FileRef>,
}

/// A file in the conversation: readers download it by id from their own side's address.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileRef {
    pub id: i64,
    pub name: String,
    /// "12 KB".
    pub size: String,
}

/// A committed message's line as it travels to other nodes (in the Redis bus's envelope), so
/// that their readers show it without reading it back from the database: one read per message
/// and reader on another node was what made chat cost more in a cluster than on one node.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CarriedLine {
    seq: i64,
    id: String,
    from: String,
    name: String,
    text: String,
    at: i64,
    original: Option<String>,
    not_translated: bool,
    lang: Option<Language>,
    translations: BTreeMap<Language, String>,
    file: Option<FileRef>,
}

impl CarriedLine {
    /// The shared line of a message (only messages are announced with their line).
    pub fn of(line: &ChatLine) -> Option<CarriedLine> {
        (line.kind == "message").then(|| CarriedLine {
            seq: line.seq,
            id: line.id.clone(),
            from: line.from.clone(),
            name: line.name.clone(),
            text: line.text.clone(),
            at: line.at,
            original: line.original.clone(),
            not_translated: line.not_translated,
            lang: line.lang,
            translations: line.translations.clone(),
            file: line.file.clone(),
        })
    }

    /// The line again, as the node that committed it had it.
    pub fn into_line(self) -> ChatLine {
        ChatLine {
            seq: self.seq,
            kind: "message",
            id: self.id,
            from: self.from,
            name: self.name,
            segments: segments(&self.text),
            text: self.text,
            at: self.at,
            original: self.original,
            not_translated: self.not_translated,
            lang: self.lang,
            translations: self.translations,
            file: self.file,
        }
    }
}

/// Who reads a conversation: the language of their page (system lines), the language they
/// read messages in, and whether the session's site translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reader {
    pub lang: Language,
    pub reads: Language,
    pub translating: bool,
}

impl Reader {
    /// The customer of `session`, on a page in `lang`: reads the session's language (the
    /// portal's, corrected by what they write).
    pub async fn customer(state: &AppState, session: &SupportSession, lang: Language) -> Self {
        Reader {
            lang,
            reads: session_language(session),
            translating: translating(state, session).await,
        }
    }

    /// A rep of `session`, in the console (in the language of the page they asked from).
    pub async fn rep(state: &AppState, session: &SupportSession, rep: &store::users::User) -> Self {
        Reader {
            lang: crate::i18n::page_locale().lang,
            reads: rep.chat_language(),
            translating: translating(state, session).await,
        }
    }
}

/// The customer's language as the session has it.
pub fn session_language(session: &SupportSession) -> Language {
    Language::parse(&session.language).unwrap_or(Language::DEFAULT)
}

/// Whether the site the session came through translates its chats.
pub async fn translating(state: &AppState, session: &SupportSession) -> bool {
    site_says(state, session, false, |s| s.translation).await
}

/// A yes-or-no setting of the site the session came through, from the portal's kept snapshot
/// (no read in the common case): `without_site` for a session that came through none, no when
/// the site cannot be read.
pub async fn site_says(
    state: &AppState,
    session: &SupportSession,
    without_site: bool,
    setting: impl Fn(&domain::site::SiteSettings) -> bool,
) -> bool {
    let Some(site) = session.site_id else {
        return without_site;
    };
    let site = domain::SiteId(site);
    match state.portal_cache.snapshot_of(session.org_id, site).await {
        Ok(Some(snapshot)) => setting(&snapshot.site.settings),
        _ => false,
    }
}

impl ChatLine {
    /// Whether this reader should see the message in another language than it was written in.
    fn wants_translation(&self, reader: &Reader) -> bool {
        self.kind == "message" && reader.translating && self.lang.is_some_and(|l| l != reader.reads)
    }

    /// Whether this reader wants a translation the line does not have yet.
    pub fn lacks_translation(&self, reader: &Reader) -> bool {
        self.wants_translation(reader) && !self.translations.contains_key(&reader.reads)
    }

    /// The line as `reader` sees it: in their language with the original beside it, or the
    /// original marked "not translated" when the translation could not be had.
    pub fn for_reader(&self, reader: &Reader) -> ChatLine {
        let mut line = self.clone();
        if !self.wants_translation(reader) {
            return line;
        }
        match self.translations.get(&reader.reads) {
            Some(translated) => {
                line.segments = segments(translated);
                line.original = Some(std::mem::replace(&mut line.text, translated.clone()));
            }
            None => line.not_translated = true,
        }
        line
    }
}

/// The conversation after `after`, as lines for `reader`. A message that lacks the reader's
/// translation is translated now (within the translator's timeout) and the translation kept.
pub async fn lines_after(
    state: &AppState,
    org: OrgId,
    session: SessionId,
    after: i64,
    reader: &Reader,
) -> AppResult<Vec<ChatLine>> {
    let items = state.store.chat_after(org, session, after, PAGE).await?;
    let mut lines = Vec::with_capacity(items.len());
    // Names in system lines, each read once however many lines name them.
    let mut names = Names::default();
    for item in items {
        if let Some(line) = line_of(state, org, item, reader.lang, &mut names).await? {
            lines.push(line);
        }
    }
    translate_late(state, (org, session), &mut lines, reader).await?;
    Ok(lines.iter().map(|line| line.for_reader(reader)).collect())
}

/// Provider calls a read makes at once for translations it lacks.
const LATE_AT_ONCE: usize = 4;

/// Translate the stored messages that lack the reader's translation (the rep who takes a
/// session reads what was written while it waited), a few at a time, and keep what was had in
/// one transaction. One that cannot be had stays marked "not translated".
async fn translate_late(
    state: &AppState,
    (org, session): (OrgId, SessionId),
    lines: &mut [ChatLine],
    reader: &Reader,
) -> AppResult<()> {
    let to = reader.reads;
    let wanted: Vec<(usize, Language, String)> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.lacks_translation(reader))
        .filter_map(|(at, line)| Some((at, line.lang?, line.text.clone())))
        .collect();
    let mut kept = Vec::new();
    for batch in wanted.chunks(LATE_AT_ONCE) {
        let asked = batch.iter().map(|(at, from, text)| async move {
            (*at, state.translator.translate(text, *from, to).await)
        });
        for (at, translated) in futures::future::join_all(asked).await {
            let Some(translated) = translated else {
                continue;
            };
            let line = &mut lines[at];
            line.translations.insert(to, translated);
            kept.push((line.seq, translations_json(&line.translations)));
        }
    }
    state.store.save_translations(org, session, &kept).await?;
    Ok(())
}

/// Translations as stored: `{"de": "…"}`.
pub fn translations_json(translations: &BTreeMap<Language, String>) -> String {
    serde_json::to_string(translations).unwrap_or_else(|_| "{}".into())
}

fn parse_translations(json: Option<&str>) -> BTreeMap<Language, String> {
    let raw: BTreeMap<String, String> = json
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    raw.into_iter()
        .filter_map(|(code, text)| Some((Language::parse(&code)?, text)))
        .collect()
}

/// A message's line as stored: the same for every reader (`for_reader` makes each one's).
pub fn message_line(item: ChatItem) -> ChatLine {
    let file = item.file_id.map(|id| FileRef {
        id,
        name: item.body.clone(),
        size: domain::files::size_text(item.file_size.unwrap_or(0)),
    });
    ChatLine {
        seq: item.seq,
        kind: "message",
        id: item.client_id.unwrap_or_default(),
        from: item.sender_kind.unwrap_or_default(),
        name: item.sender_name.unwrap_or_default(),
        segments: segments(&item.body),
        text: item.body,
        at: item.created_at,
        original: None,
        not_translated: false,
        // A file's name is not in any language: never translated, never marked.
        lang: match file {
            Some(_) => None,
            None => item.language.as_deref().and_then(Language::parse),
        },
        translations: parse_translations(item.translations.as_deref()),
        file,
    }
}

/// The lines a socket whose `cursor` is where it is shows next, given an `announced` line: that
/// line (and any held after it) when it carries what this reader needs, no read; else what the
/// database has after the cursor.
pub async fn next_lines(
    state: &AppState,
    conversation: (OrgId, SessionId),
    cursor: &mut Cursor,
    announced: Option<&Arc<ChatLine>>,
    reader: &Reader,
) -> AppResult<Vec<ChatLine>> {
    match announced {
        Some(line) if line.seq <= cursor.after() => Ok(Vec::new()),
        Some(line) if !line.lacks_translation(reader) => Ok(cursor.take(line.clone(), reader)),
        _ => cursor.read(state, conversation, reader).await,
    }
}

async fn line_of(
    state: &AppState,
    org: OrgId,
    item: ChatItem,
    lang: Language,
    names: &mut Names,
) -> AppResult<Option<ChatLine>> {
    if item.kind == "message" {
        return Ok(Some(message_line(item)));
    }
    let Ok(event) = serde_json::from_str::<SessionEvent>(&item.body) else {
        return Ok(None);
    };
    let (key, name) = match event {
        SessionEvent::Accepted { rep } => ("chat.joined", names.rep(state, org, rep).await?),
        SessionEvent::Invited { rep, .. } => ("chat.invited", names.rep(state, org, rep).await?),
        SessionEvent::Left { rep } => ("chat.rep_left", names.rep(state, org, rep).await?),
        SessionEvent::Requeued { queue, .. } => match queue {
            Queue::Personal(rep) => ("chat.transferred_to", names.rep(state, org, rep).await?),
            Queue::Team(team) => (
                "chat.transferred_to_team",
                names.team(state, org, team).await?,
            ),
            Queue::General => ("chat.transferred", String::new()),
        },
        SessionEvent::Ended {
            outcome: Outcome::Abandoned,
            by: None,
        } => ("chat.customer_left", String::new()),
        SessionEvent::Ended { .. } => ("chat.ended", String::new()),
        SessionEvent::ScreenSharing { step } => (sharing_key(step), String::new()),
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
        original: None,
        not_translated: false,
        lang: None,
        translations: BTreeMap::new(),
        file: None,
    }))
}

fn sharing_key(step: SharingStep) -> &'static str {
    match step {
        SharingStep::Started => "chat.sharing_started",
        SharingStep::Stopped => "chat.sharing_stopped",
        SharingStep::Declined => "chat.sharing_declined",
        SharingStep::Failed => "chat.sharing_failed",
    }
}

/// The reps and teams system lines name, each read once per conversation read.
#[derive(Default)]
struct Names {
    reps: HashMap<UserId, String>,
    teams: HashMap<TeamId, String>,
}

impl Names {
    async fn rep(&mut self, state: &AppState, org: OrgId, rep: UserId) -> AppResult<String> {
        if let Some(name) = self.reps.get(&rep) {
            return Ok(name.clone());
        }
        let user = state.store.user(org, rep).await?;
        let name = user.map(|u| u.display_name).unwrap_or_default();
        self.reps.insert(rep, name.clone());
        Ok(name)
    }

    async fn team(&mut self, state: &AppState, org: OrgId, team: TeamId) -> AppResult<String> {
        if let Some(name) = self.teams.get(&team) {
            return Ok(name.clone());
        }
        let name = state
            .store
            .team(org, team)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        self.teams.insert(team, name.clone());
        Ok(name)
    }
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

/// Send what the form holds as `author`: the stored line as `reader` (the author) sees it, or
/// why nothing was stored (in the reader's language).
pub async fn send_form(
    state: &AppState,
    session: &SupportSession,
    author: crate::app::chat::Author<'_>,
    form: &SendForm,
    reader: &Reader,
) -> AppResult<Result<ChatLine, String>> {
    Ok(
        match send_text(state, session, author, form, reader).await? {
            Ok(sent) => as_seen_by(state, &sent, reader),
            Err(err) => Err(refusal(state, reader, err)),
        },
    )
}

/// Send the text the form holds as `author`: what became of it, or why it cannot be sent (empty,
/// too long).
async fn send_text(
    state: &AppState,
    session: &SupportSession,
    author: crate::app::chat::Author<'_>,
    form: &SendForm,
    reader: &Reader,
) -> AppResult<Result<crate::app::chat::Sent, domain::FieldError>> {
    let client_id = client_id_or_new(&form.client_id)?;
    let body = match MessageBody::parse(&form.body) {
        Ok(body) => body,
        Err(err) => return Ok(Err(err)),
    };
    let content = crate::app::chat::Content::Text(&body);
    let sent = crate::app::chat::send(
        state,
        session,
        author,
        &client_id,
        content,
        reader.translating,
    );
    Ok(Ok(sent.await?))
}

/// The id the sender's page gave a message, or a fresh one for a form without script. The
/// page carries a fresh id with every rendering (a script, one per message): sending the same
/// form twice stores one message.
pub fn client_id_or_new(raw: &str) -> AppResult<ClientId> {
    match raw.is_empty() {
        true => Ok(new_client_id()),
        false => ClientId::parse(raw)
            .map_err(|_| crate::error::AppError::BadRequest("invalid client id".into())),
    }
}

/// Why a message was refused, in the reader's language.
pub fn refusal(state: &AppState, reader: &Reader, err: domain::FieldError) -> String {
    crate::portal::error_text(&state.catalog, reader.lang, err)
}

/// What a send answers its author: the stored line as they see it, or that the session ended.
pub fn as_seen_by(
    state: &AppState,
    sent: &crate::app::chat::Sent,
    reader: &Reader,
) -> Result<ChatLine, String> {
    use crate::app::chat::Sent;
    match sent {
        Sent::Stored(line) | Sent::Repeated(line) => Ok(line.for_reader(reader)),
        Sent::Closed => Err(closed(state, reader)),
    }
}

/// That the session has ended, in the reader's language (why a message was not stored).
fn closed(state: &AppState, reader: &Reader) -> String {
    let text = state.catalog.text(reader.lang, "chat.closed", &[]);
    text.unwrap_or_else(|| "This session has ended.".into())
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
    reader: &Reader,
) -> AppResult<String> {
    let lang = reader.lang;
    let heading = state
        .catalog
        .text(
            lang,
            "chat.transcript_title",
            &[("name", session.customer_name.clone())],
        )
        .unwrap_or_else(|| format!("Conversation with {}", session.customer_name));
    let mut text = format!("{heading}\n");
    // Who vouched for the customer, when they signed in at the site's identity provider.
    if let Some(issuer) = &session.verified_by {
        let verified = state
            .catalog
            .text(
                lang,
                "chat.transcript_verified",
                &[("issuer", issuer.clone())],
            )
            .unwrap_or_else(|| format!("Signed in at {issuer}"));
        text.push_str(&format!("{verified}\n"));
    }
    text.push('\n');
    for line in &whole_conversation(state, session, reader).await? {
        let at = crate::templates::datetime(line.at);
        if line.kind != "message" {
            text.push_str(&format!("[{at}] ({})\n", line.text));
            continue;
        }
        // As written, then every translation of it, each with its language.
        let written = match &line.file {
            Some(file) => format!("(file) {} ({})", file.name, file.size),
            None => line.original.clone().unwrap_or_else(|| line.text.clone()),
        };
        text.push_str(&format!("[{at}] {}: {written}\n", line.name));
        for (language, translated) in &line.translations {
            text.push_str(&format!("    ({}) {translated}\n", language.code()));
        }
    }
    Ok(text)
}

/// Every line of the conversation, for `reader` (read a page at a time).
pub async fn whole_conversation(
    state: &AppState,
    session: &SupportSession,
    reader: &Reader,
) -> AppResult<Vec<ChatLine>> {
    let mut all: Vec<ChatLine> = Vec::new();
    loop {
        let after = all.last().map_or(0, |l| l.seq);
        let lines = lines_after(state, session.org_id, session.id, after, reader).await?;
        if lines.is_empty() {
            return Ok(all);
        }
        all.extend(lines);
    }
}

/// A transcript as a plain-text download (never shown inline).
pub fn transcript_download(session: SessionId, text: String) -> Response {
    let name = domain::files::FileName::parse(&format!("transcript-{session}.txt"))
        .unwrap_or_else(|_| domain::files::FileName::fallback());
    crate::files::attachment("text/plain; charset=utf-8", &name, text)
}

/// Whose socket a conversation's frames come from: the customer, or a rep (by id and name).
#[derive(Debug, Clone)]
pub struct Participant {
    pub rep: Option<UserId>,
    pub name: String,
    /// A rep's socket's own number: one rep may hold the session open in two tabs, each its
    /// own screen-sharing peer (0 for the customer, whose page is the one that shares).
    pub tab: u32,
}

impl Participant {
    fn side(&self) -> &'static str {
        match self.rep {
            Some(_) => "rep",
            None => "customer",
        }
    }
}

/// What a page's script says over its socket.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum ClientFrame {
    /// The person is typing (sent at most every few seconds while they do).
    Typing,
    /// The page has received lines up to `received` and shown them to the person (visible)
    /// up to `read`.
    Seen { received: i64, read: i64 },
    /// A message, with the id the page chose for it (a resend carries the same id).
    Send(SendForm),
    /// Screen sharing's WebRTC signaling (offer, answer, ICE candidate) for one peer.
    Rtc { to: String, data: serde_json::Value },
    /// What a participant says of a screen share (`sharing`).
    Share { what: String },
}

/// What a socket does after a frame from its page.
enum Heard {
    /// Nothing more: typing was passed on, marks stored, or the frame ignored.
    Done,
    /// A message to send as the socket's participant (see `send_from_socket`).
    Send(SendForm),
}

/// Typing is passed on at most this often per socket, whatever a script sends.
const TYPING_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// A frame from a participant's page: typing is passed on (at most every two seconds);
/// read marks are stored, then passed on when they moved; a message is handed back to the
/// socket, which knows its sender. Anything else is ignored.
async fn heard_from_page(
    state: &AppState,
    record: &SupportSession,
    who: &Participant,
    text: &str,
    last_typing: &mut Option<std::time::Instant>,
) -> AppResult<Heard> {
    let Ok(frame) = serde_json::from_str::<ClientFrame>(text) else {
        return Ok(Heard::Done);
    };
    let (org, session) = (record.org_id, record.id);
    match frame {
        ClientFrame::Send(form) => return Ok(Heard::Send(form)),
        ClientFrame::Rtc { to, data } => sharing::rtc(state, record, who, to, data).await,
        ClientFrame::Share { what } => sharing::share(state, record, who, &what).await?,
        ClientFrame::Typing => {
            let now = std::time::Instant::now();
            if last_typing.is_some_and(|at| now.duration_since(at) < TYPING_EVERY) {
                return Ok(Heard::Done);
            }
            *last_typing = Some(now);
            let signal = crate::bus::Signal::Typing {
                from: who.side().to_owned(),
                name: who.name.clone(),
                user: who.rep.map(|u| u.0),
            };
            state.announce_signal(org, session, signal);
        }
        ClientFrame::Seen { received, read } => {
            let customer = who.rep.is_none();
            let moved = state
                .store
                .mark_seen(org, session, customer, received, read);
            if let Some(marks) = moved.await? {
                state.announce_signal(org, session, crate::bus::Signal::Marks(marks));
            }
        }
    }
    Ok(Heard::Done)
}

/// A text frame from a participant's page, handled: signals passed on, a message sent as
/// `sender` (see `send_from_socket`). False when the socket should close: it is gone, or the
/// frame failed (the page reconnects and sends again with the same id).
pub async fn from_page(
    state: &AppState,
    sender: (&SupportSession, crate::app::chat::Author<'_>, &Reader),
    (who, last_typing): (&Participant, &mut Option<std::time::Instant>),
    text: &str,
    cursor: &mut Cursor,
    socket: &mut axum::extract::ws::WebSocket,
) -> bool {
    let handled = match heard_from_page(state, sender.0, who, text, last_typing).await {
        Ok(Heard::Send(form)) => send_from_socket(state, sender, &form, cursor, socket).await,
        Ok(Heard::Done) => Ok(true),
        Err(e) => Err(e),
    };
    handled.unwrap_or_else(|e| {
        tracing::warn!(error = %e, side = who.side(), "a chat frame could not be handled");
        false
    })
}

/// A message its author's page sent over the socket (no HTTP request, no sign-in or session
/// lookup: the socket knows both). Committed first; then the stored line goes back on this
/// socket in its place in the conversation (`cursor`: how far the socket has pushed it), and
/// the page matches it to what was written by its id. A refusal (empty, too long, session
/// ended) comes back as a `refused` frame with the reason in the author's language. False when
/// the socket is gone.
async fn send_from_socket(
    state: &AppState,
    (session, author, reader): (&SupportSession, crate::app::chat::Author<'_>, &Reader),
    form: &SendForm,
    cursor: &mut Cursor,
    socket: &mut axum::extract::ws::WebSocket,
) -> AppResult<bool> {
    use crate::app::chat::Sent;
    let error = match send_text(state, session, author, form, reader).await? {
        Ok(Sent::Stored(line) | Sent::Repeated(line)) => {
            let lines = cursor.take(line, reader);
            return Ok(push_lines(socket, &lines).await);
        }
        Ok(Sent::Closed) => closed(state, reader),
        Err(err) => refusal(state, reader, err),
    };
    #[derive(Serialize)]
    struct Refused<'a> {
        r#type: &'static str,
        client_id: &'a str,
        error: String,
    }
    let refused = Refused {
        r#type: "refused",
        client_id: &form.client_id,
        error,
    };
    let frame = serde_json::to_string(&refused).map_err(anyhow::Error::from)?;
    let message = axum::extract::ws::Message::Text(frame.into());
    Ok(socket.send(message).await.is_ok())
}

/// Pass a signal (typing, read marks, screen sharing) to a participant's socket, if it is for them (nobody is
/// told of their own typing); false when the socket is gone.
pub async fn pass_signal(
    socket: &mut axum::extract::ws::WebSocket,
    signal: &crate::bus::Signal,
    me: &Participant,
) -> bool {
    if !sharing::is_for(signal, me) {
        return true;
    }
    if let crate::bus::Signal::Typing { from, user, .. } = signal {
        let mine = match me.rep {
            Some(rep) => *user == Some(rep.0),
            None => from == "customer",
        };
        if mine {
            return true;
        }
    }
    let Ok(frame) = serde_json::to_string(signal) else {
        return true;
    };
    let message = axum::extract::ws::Message::Text(frame.into());
    socket.send(message).await.is_ok()
}

/// The marks as they stand, as a frame (a socket's first).
pub async fn marks_frame(state: &AppState, org: OrgId, session: SessionId) -> AppResult<String> {
    let marks = state.store.marks(org, session).await?;
    Ok(serde_json::to_string(&crate::bus::Signal::Marks(marks)).unwrap_or_default())
}
