//! A session's conversation: chat messages and the events shown in it (joined, transferred,
//! left, ended), in one order, the session's own numbers (decision 0009).

use crate::pool::{on_pool, BeginWrite, Pool};
use crate::{Store, StoreResult};
use domain::{OrgId, SessionId, Timestamp, UserId};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Customer,
    Rep(UserId),
}

/// A message to store. Owned: it may wait for a group commit (`crate::group_commit`).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub org: OrgId,
    pub session: SessionId,
    pub sender: Sender,
    /// The name shown beside it (kept as it was when written).
    pub sender_name: String,
    pub client_id: String,
    pub body: String,
    /// The language it is written in.
    pub language: &'static str,
    /// Its translations as JSON, `{"de": "…"}` (`{}` for none).
    pub translations: String,
    /// The customer's language as corrected by what they wrote: becomes the session's.
    pub customer_language: Option<&'static str>,
    /// A file the message carries (its body is then the file's name).
    pub file: Option<NewFile>,
}

/// A file saved under the data directory, to be recorded with its message.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub size: i64,
    /// Where it is, relative to the files directory.
    pub stored_as: String,
}

/// A file sent in a chat, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FileRecord {
    pub id: i64,
    pub session_id: i64,
    pub name: String,
    pub size: i64,
    pub stored_as: String,
}

/// One line of a conversation: a message, or an event of the session.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct ChatItem {
    /// The session's number for it: the order, and where a reader resumes.
    pub seq: i64,
    /// "message", or the event's kind ("accepted", "invited", "requeued", "ended").
    pub kind: String,
    pub client_id: Option<String>,
    /// "customer" or "rep" for messages.
    pub sender_kind: Option<String>,
    pub sender_user_id: Option<i64>,
    pub sender_name: Option<String>,
    /// The text of a message; the event's stored payload (JSON) for an event.
    pub body: String,
    pub created_at: i64,
    /// The language a message is written in (None for events).
    pub language: Option<String>,
    /// A message's translations as JSON, `{"de": "…"}` (None for events).
    pub translations: Option<String>,
    /// The file a message carries, and its size.
    pub file_id: Option<i64>,
    pub file_size: Option<i64>,
}

/// What became of a message sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// Stored now, under the next number; `invited` are the reps invited into the session
    /// besides its owner (their consoles mark it unread too).
    New {
        item: ChatItem,
        invited: Vec<UserId>,
    },
    /// Stored before under this client id (a resend): nothing new.
    Again(ChatItem),
    /// The session has ended (or is not this organization's): nothing stored.
    Closed,
}

/// The events a conversation shows between its messages.
const SHOWN_EVENTS: &str = "'accepted', 'invited', 'left', 'requeued', 'ended', 'screen_sharing'";

pub(crate) const MESSAGE_COLUMNS: &str = "session_seq AS seq, 'message' AS kind, client_id, sender_kind, \
                               sender_user_id, sender_name, body, created_at, language, translations, file_id, \
                               (SELECT f.size FROM chat_files f WHERE f.id = file_id) AS file_size";

impl Store {
    /// Store a message under its session's next number, unless its client id was stored before
    /// (then that one is returned) or the session has ended. One transaction.
    /// A resend of a message to a session that has ended since is `Closed`, not `Again`.
    pub async fn post_message(&self, m: &NewMessage, now: Timestamp) -> StoreResult<Posted> {
        let mut posted = self.post_group(vec![(m.clone(), now)]).await?;
        Ok(posted.pop().unwrap_or(Posted::Closed))
    }

    /// Store messages in order, each (written at its time) as `post_message` would, all in one
    /// transaction (a group commit: one lock, one commit, one index merge for many messages).
    /// One answer per message.
    pub async fn post_messages(
        &self,
        messages: &[(NewMessage, Timestamp)],
    ) -> StoreResult<Vec<Posted>> {
        self.post_group(messages.to_vec()).await
    }

    /// `post_messages`, for messages the caller gives away. On SQLite the group goes to the
    /// chat writer's thread, which commits it with whatever else is waiting there.
    async fn post_group(&self, messages: Vec<(NewMessage, Timestamp)>) -> StoreResult<Vec<Posted>> {
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        match &self.pool {
            Pool::Postgres(p) => crate::chat_group::post(p, &messages).await,
            Pool::Sqlite(_, writer) => writer.post(messages, None).await,
        }
    }

    /// The conversation after number `after`, in order, at most `limit` lines.
    pub async fn chat_after(
        &self,
        org: OrgId,
        session: SessionId,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChatItem>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM chat_messages \
             WHERE session_id = $1 AND org_id = $2 AND session_seq > $3 \
             UNION ALL \
             SELECT session_seq AS seq, kind, NULL AS client_id, NULL AS sender_kind, \
                    NULL AS sender_user_id, NULL AS sender_name, payload AS body, created_at, \
                    NULL AS language, NULL AS translations, NULL AS file_id, NULL AS file_size \
             FROM session_events \
             WHERE session_id = $4 AND org_id = $5 AND session_seq > $6 AND kind IN ({SHOWN_EVENTS}) \
             ORDER BY seq LIMIT $7"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql)
            .bind(session.0).bind(org.0).bind(after)
            .bind(session.0).bind(org.0).bind(after).bind(limit)
            .fetch_all(p).await)?)
    }
}

impl Store {
    /// Replace the translations (JSON) of messages by number, all in one transaction: a reader
    /// needed ones the sender's side did not make.
    pub async fn save_translations(
        &self,
        org: OrgId,
        session: SessionId,
        translations: &[(i64, String)],
    ) -> StoreResult<()> {
        if translations.is_empty() {
            return Ok(());
        }
        let sql = "UPDATE chat_messages SET translations = $1 \
                   WHERE session_id = $2 AND org_id = $3 AND session_seq = $4";
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            for (seq, json) in translations {
                sqlx::query(sql)
                    .bind(json).bind(session.0).bind(org.0).bind(seq)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// File `id` of `org`, when it belongs to `session` (None: it does not, or there is none).
    pub async fn chat_file(
        &self,
        org: OrgId,
        session: Option<SessionId>,
        id: i64,
    ) -> StoreResult<Option<FileRecord>> {
        let sql = "SELECT id, session_id, name, size, stored_as FROM chat_files \
                   WHERE org_id = $1 AND id = $2 AND ($3 IS NULL OR session_id = $3)";
        Ok(on_pool!(self, p => sqlx::query_as(sql)
            .bind(org.0).bind(id).bind(session.map(|s| s.0))
            .fetch_optional(p).await)?)
    }

    /// The languages of the reps in a session (its owner and invited reps), each once.
    pub async fn rep_languages(&self, org: OrgId, session: SessionId) -> StoreResult<Vec<String>> {
        let sql = "SELECT DISTINCT u.language FROM users u WHERE u.org_id = $1 AND (\
                   u.id = (SELECT owner_user_id FROM support_sessions WHERE id = $2 AND org_id = $3) \
                   OR u.id IN (SELECT user_id FROM session_participants WHERE session_id = $4))";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(org.0).bind(session.0).bind(org.0).bind(session.0)
            .fetch_all(p).await)?)
    }
}

/// The customer's rating of a session.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Survey {
    pub rating: i64,
    pub comment: Option<String>,
    pub created_at: i64,
}

impl Store {
    /// Keep the customer's rating of an ended session, with its event in the session's log (in
    /// the same transaction: webhooks read it there); false when it was rated before or has not
    /// ended (or is not this organization's).
    pub async fn save_survey(
        &self,
        org: OrgId,
        session: SessionId,
        rating: i64,
        comment: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let sql = "INSERT INTO session_surveys (session_id, org_id, rating, comment, created_at) \
                   SELECT id, org_id, $1, $2, $3 FROM support_sessions \
                   WHERE id = $4 AND org_id = $5 AND state = 'ended' \
                   ON CONFLICT (session_id) DO NOTHING";
        let event = domain::session::SessionEvent::SurveySubmitted { rating };
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let done = sqlx::query(sql)
                .bind(rating).bind(comment).bind(now.millis()).bind(session.0).bind(org.0)
                .execute(&mut *tx).await?.rows_affected();
            if done == 1 {
                crate::support::append_event!(tx, org, session, &event, now);
            }
            tx.commit().await?;
            Ok(done == 1)
        })
    }

    pub async fn survey(&self, org: OrgId, session: SessionId) -> StoreResult<Option<Survey>> {
        let sql = "SELECT rating, comment, created_at FROM session_surveys \
                   WHERE session_id = $1 AND org_id = $2";
        Ok(
            on_pool!(self, p => sqlx::query_as(sql).bind(session.0).bind(org.0).fetch_optional(p).await)?,
        )
    }
}

/// How far each side has received and read the conversation (session numbers).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, sqlx::FromRow, serde::Serialize, serde::Deserialize,
)]
pub struct Marks {
    pub customer_received: i64,
    pub customer_read: i64,
    pub rep_received: i64,
    pub rep_read: i64,
}

const MARKS: &str =
    "customer_received_seq AS customer_received, customer_read_seq AS customer_read, \
                     rep_received_seq AS rep_received, rep_read_seq AS rep_read";

impl Store {
    /// One side (the customer, or any rep) has received up to `received` and read up to
    /// `read`: the marks as they stand now, or None when that moved nothing forward. Numbers
    /// past the session's last are taken as its last.
    pub async fn mark_seen(
        &self,
        org: OrgId,
        session: SessionId,
        customer: bool,
        received: i64,
        read: i64,
    ) -> StoreResult<Option<Marks>> {
        let (r, d) = match customer {
            true => ("customer_received_seq", "customer_read_seq"),
            false => ("rep_received_seq", "rep_read_seq"),
        };
        let sql = format!(
            "UPDATE support_sessions SET \
             {r} = CASE WHEN {r} < $1 THEN (CASE WHEN $1 < last_session_seq THEN $1 ELSE last_session_seq END) ELSE {r} END, \
             {d} = CASE WHEN {d} < $2 THEN (CASE WHEN $2 < last_session_seq THEN $2 ELSE last_session_seq END) ELSE {d} END \
             WHERE id = $3 AND org_id = $4 AND ({r} < $1 AND {r} < last_session_seq \
                                               OR {d} < $2 AND {d} < last_session_seq) \
             RETURNING {MARKS}"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql)
            .bind(received).bind(read).bind(session.0).bind(org.0)
            .fetch_optional(p).await)?)
    }

    pub async fn marks(&self, org: OrgId, session: SessionId) -> StoreResult<Marks> {
        let sql = format!("SELECT {MARKS} FROM support_sessions WHERE id = $1 AND org_id = $2");
        let marks = on_pool!(self, p => sqlx::query_as(&sql)
            .bind(session.0).bind(org.0).fetch_optional(p).await)?;
        Ok(marks.unwrap_or_default())
    }
}
