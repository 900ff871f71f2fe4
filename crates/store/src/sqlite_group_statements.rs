//! The statements of a group of chat messages on SQLite (`chat_group::GroupStatements`), run by
//! the chat writer's thread (`sqlite_writer`) on its own connection. Lists go in as one JSON
//! array, read with `json_each` (PostgreSQL's take arrays and `unnest`).

use crate::chat::{ChatItem, NewMessage};
use crate::chat_group::{
    file_columns, stored_before_sql, GroupStatements, Rows, StoredBefore, Taking, RECORD_FILE,
};
use domain::Timestamp;
use rusqlite::{Row, Transaction};
use std::sync::LazyLock;

/// `json_each` over a JSON array of arrays: column `n` of each row, as `ty`.
macro_rules! col {
    ($n:literal, $ty:literal) => {
        concat!("CAST(json_extract(g.value, '$[", $n, "]') AS ", $ty, ")")
    };
}

// The list drives the join, so each pair is one search of the client id index.
static STORED_BEFORE: LazyLock<String> = LazyLock::new(|| {
    stored_before_sql(concat!(
        "json_each($1) g JOIN chat_messages m ON m.session_id = ",
        col!(0, "INTEGER"),
        " AND m.client_id = ",
        col!(1, "TEXT")
    ))
});

const NUMBER: &str = concat!(
    "UPDATE support_sessions SET last_session_seq = last_session_seq + g.n, \
     language = COALESCE(g.lang, support_sessions.language) \
     FROM (SELECT ",
    col!(0, "INTEGER"),
    " AS id, ",
    col!(1, "INTEGER"),
    " AS org, ",
    col!(2, "INTEGER"),
    " AS n, ",
    col!(3, "TEXT"),
    " AS lang FROM json_each($1) g) AS g \
     WHERE support_sessions.id = g.id AND support_sessions.org_id = g.org \
     AND support_sessions.state <> 'ended' \
     RETURNING support_sessions.id, support_sessions.last_session_seq, \
     EXISTS (SELECT 1 FROM session_participants x WHERE x.session_id = support_sessions.id)"
);

// Nested as serde writes tuples: [[org, session, kind], [user, body, language], ...].
const INSERT: &str = concat!(
    "INSERT INTO chat_messages (org_id, session_id, sender_kind, sender_user_id, body, \
     language, created_at, session_seq, client_id, sender_name, translations, file_id) SELECT ",
    "json_extract(g.value, '$[0][0]'), json_extract(g.value, '$[0][1]'), \
     json_extract(g.value, '$[0][2]'), json_extract(g.value, '$[1][0]'), \
     json_extract(g.value, '$[1][1]'), json_extract(g.value, '$[1][2]'), \
     json_extract(g.value, '$[2][0]'), json_extract(g.value, '$[2][1]'), \
     json_extract(g.value, '$[2][2]'), json_extract(g.value, '$[3][0]'), \
     json_extract(g.value, '$[3][1]'), json_extract(g.value, '$[3][2]') FROM json_each($1) g"
);

const INVITED: &str = "SELECT session_id, user_id FROM session_participants \
     WHERE session_id IN (SELECT value FROM json_each($1)) ORDER BY user_id";

impl GroupStatements for Transaction<'_> {
    type Error = rusqlite::Error;

    async fn stored_before(
        &mut self,
        messages: &[(NewMessage, Timestamp)],
    ) -> rusqlite::Result<Vec<StoredBefore>> {
        let pairs: Vec<(i64, &str)> = messages
            .iter()
            .map(|(m, _)| (m.session.0, m.client_id.as_str()))
            .collect();
        let mut statement = self.prepare_cached(&STORED_BEFORE)?;
        let rows = statement.query_map([json(&pairs)], |row| {
            Ok(StoredBefore {
                session_id: row.get("session_id")?,
                item: chat_item(row)?,
            })
        })?;
        rows.collect()
    }

    async fn number(&mut self, taking: &[Taking]) -> rusqlite::Result<Vec<(i64, i64, bool)>> {
        let list: Vec<(i64, i64, i64, Option<&str>)> = taking
            .iter()
            .map(|t| (t.session, t.org, t.count, t.language))
            .collect();
        let mut statement = self.prepare_cached(NUMBER)?;
        let rows = statement.query_map([json(&list)], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
        rows.collect()
    }

    async fn record_file(&mut self, m: &NewMessage, now: Timestamp) -> rusqlite::Result<i64> {
        let (size, stored_as) = file_columns(m);
        let mut statement = self.prepare_cached(RECORD_FILE)?;
        let values = (m.org.0, m.session.0, &m.body, size, stored_as, now.millis());
        statement.query_row(values, |row| row.get(0))
    }

    async fn insert(&mut self, rows: &Rows) -> rusqlite::Result<()> {
        let list: Vec<_> = (0..rows.seq.len())
            .map(|i| {
                (
                    (rows.org[i], rows.session[i], rows.sender_kind[i]),
                    (rows.sender_user[i], &rows.body[i], rows.language[i]),
                    (rows.created_at[i], rows.seq[i], &rows.client_id[i]),
                    (&rows.sender_name[i], &rows.translations[i], rows.file_id[i]),
                )
            })
            .collect();
        self.prepare_cached(INSERT)?.execute([json(&list)])?;
        Ok(())
    }

    async fn invited(&mut self, sessions: &[i64]) -> rusqlite::Result<Vec<(i64, i64)>> {
        let mut statement = self.prepare_cached(INVITED)?;
        let rows = statement.query_map([json(&sessions)], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect()
    }
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

/// A list as the JSON text `json_each` reads.
fn json(list: &impl serde::Serialize) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| unreachable!("numbers and strings serialize"))
}
