//! The statements of a group of chat messages on SQLite (`chat_group::GroupStatements`), run by
//! the chat writer's thread (`sqlite_writer`) on its own connection, one prepared statement per
//! row (PostgreSQL's take the group's lists as arrays and `unnest` them: one round trip each).

use crate::chat::{ChatItem, NewMessage};
use crate::chat_group::{
    file_columns, stored_before_sql, GroupStatements, Rows, StoredBefore, Taking, INSERT_MESSAGES,
    RECORD_FILE,
};
use domain::Timestamp;
use rusqlite::{CachedStatement, Connection, Params, Row};
use std::sync::LazyLock;

/// A copy stored before under a client id, by session and client id (the unique index).
static STORED_BEFORE: LazyLock<String> = LazyLock::new(|| {
    stored_before_sql("chat_messages m WHERE m.session_id = ?1 AND m.client_id = ?2")
});

/// One open session's numbering moved on by its count (and the customer's corrected language).
const NUMBER: &str = "UPDATE support_sessions SET last_session_seq = last_session_seq + ?3, \
     language = COALESCE(?4, language) \
     WHERE id = ?1 AND org_id = ?2 AND state <> 'ended' \
     RETURNING id, last_session_seq, \
     EXISTS (SELECT 1 FROM session_participants x WHERE x.session_id = support_sessions.id)";

static INSERT: LazyLock<String> = LazyLock::new(|| {
    format!("{INSERT_MESSAGES} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")
});

const INVITED: &str =
    "SELECT session_id, user_id FROM session_participants WHERE session_id = ?1 ORDER BY user_id";

/// Each statement runs once per row, with its values bound: the connection is in this
/// process, so a statement costs no round trip, and binding values directly is cheaper than
/// passing the group as one JSON text that SQLite parses again for every column (`json_each`
/// and `json_extract` were a fifth of the writer thread's time under perf).
impl GroupStatements for Connection {
    type Error = rusqlite::Error;

    async fn stored_before(
        &mut self,
        messages: &[(NewMessage, Timestamp)],
    ) -> rusqlite::Result<Vec<StoredBefore>> {
        let pairs = messages
            .iter()
            .map(|(m, _)| (m.session.0, m.client_id.as_str()));
        rows_per(&mut self.prepare_cached(&STORED_BEFORE)?, pairs, |row| {
            Ok(StoredBefore {
                session_id: row.get("session_id")?,
                item: chat_item(row)?,
            })
        })
    }

    async fn number(&mut self, taking: &[Taking]) -> rusqlite::Result<Vec<(i64, i64, bool)>> {
        let values = taking
            .iter()
            .map(|t| (t.session, t.org, t.count, t.language));
        rows_per(&mut self.prepare_cached(NUMBER)?, values, |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
    }

    async fn record_file(&mut self, m: &NewMessage, now: Timestamp) -> rusqlite::Result<i64> {
        let (size, stored_as) = file_columns(m);
        let mut statement = self.prepare_cached(RECORD_FILE)?;
        let values = (m.org.0, m.session.0, &m.body, size, stored_as, now.millis());
        statement.query_row(values, |row| row.get(0))
    }

    async fn insert(&mut self, rows: &Rows) -> rusqlite::Result<()> {
        let mut statement = self.prepare_cached(&INSERT)?;
        for i in 0..rows.seq.len() {
            statement.execute(rusqlite::params![
                rows.org[i],
                rows.session[i],
                rows.sender_kind[i],
                rows.sender_user[i],
                rows.body[i],
                rows.language[i],
                rows.created_at[i],
                rows.seq[i],
                rows.client_id[i],
                rows.sender_name[i],
                rows.translations[i],
                rows.file_id[i],
            ])?;
        }
        Ok(())
    }

    async fn invited(&mut self, sessions: &[i64]) -> rusqlite::Result<Vec<(i64, i64)>> {
        let sessions = sessions.iter().map(|session| [session]);
        rows_per(&mut self.prepare_cached(INVITED)?, sessions, |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
    }
}

/// Run `statement` once with each item's values, and every row it returns as `read` has it.
fn rows_per<T, P: Params>(
    statement: &mut CachedStatement<'_>,
    items: impl IntoIterator<Item = P>,
    read: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut found = Vec::new();
    for values in items {
        let mut rows = statement.query(values)?;
        while let Some(row) = rows.next()? {
            found.push(read(row)?);
        }
    }
    Ok(found)
}

/// A message as `MESSAGE_COLUMNS` reads it.
fn chat_item(row: &Row<'_>) -> rusqlite::Result<ChatItem> {
    Ok(ChatItem {
        seq: row.get("seq")?,
        kind: row.get("kind")?,
        client_id: row.get("client_id")?,
        sender_kind: row.get("sender_kind")?,
        sender_user_id: row.get("sender_user_id")?,
        sender_name: row.get("sender_name")?,
        body: row.get("body")?,
        created_at: row.get("created_at")?,
        language: row.get("language")?,
        translations: row.get("translations")?,
        file_id: row.get("file_id")?,
        file_size: row.get("file_size")?,
    })
}
