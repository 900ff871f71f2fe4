//! A group of chat messages in a handful of statements, however many messages it holds: the
//! resends among them found, each open session numbered once, every new message inserted in
//! one statement, the invited reps read once. On PostgreSQL each statement is a round trip to
//! another process; on SQLite it is a hand-off to the connection's thread and back (two
//! futex wake-ups), and every statement that touches the full-text index flushes it. One
//! statement per message made a group of 256 take half a second under load on PostgreSQL, and
//! cost SQLite ~125 µs per statement at rest (decision 0015). The plan is the same for both;
//! only how a list is passed differs: arrays and `unnest` on PostgreSQL, a JSON array and
//! `json_each` on SQLite.

use crate::chat::{ChatItem, NewMessage, Posted, Sender, MESSAGE_COLUMNS};
use crate::pool::BeginWrite;
use crate::StoreResult;
use domain::{Timestamp, UserId};
use std::collections::{HashMap, HashSet};

/// How many messages each session of the group takes, for the numbering statement.
pub(crate) struct Taking {
    session: i64,
    org: i64,
    count: i64,
    /// The customer's corrected language, the last one in the group.
    language: Option<&'static str>,
}

/// The statements of a group, on one backend's open write transaction.
pub(crate) trait GroupStatements {
    /// The copies of `messages` stored before (resends), found by session and client id.
    async fn stored_before(
        &mut self,
        messages: &[(NewMessage, Timestamp)],
    ) -> Result<Vec<StoredBefore>, sqlx::Error>;
    /// Each open session's numbering moved on by its count: (session, its last number now,
    /// whether reps were invited into it). Ended sessions are left out.
    async fn number(&mut self, taking: &[Taking]) -> Result<Vec<(i64, i64, bool)>, sqlx::Error>;
    /// A new message's file, recorded: its id (files are rare: one statement each).
    async fn record_file(&mut self, m: &NewMessage, now: Timestamp) -> Result<i64, sqlx::Error>;
    async fn insert(&mut self, rows: &Rows) -> Result<(), sqlx::Error>;
    /// (session, rep) of every rep invited into `sessions`.
    async fn invited(&mut self, sessions: &[i64]) -> Result<Vec<(i64, i64)>, sqlx::Error>;
}

/// A message stored before, as a resend gets it back, with its session.
#[derive(sqlx::FromRow)]
pub(crate) struct StoredBefore {
    session_id: i64,
    #[sqlx(flatten)]
    item: ChatItem,
}

/// The copies stored before, for a join of `chat_messages m` with the group's list as `$1`.
fn stored_before_sql(list_join: &str) -> String {
    format!("SELECT m.session_id, {MESSAGE_COLUMNS} FROM {list_join}")
}

/// Store `messages` as `Store::post_messages` does, in one transaction: four statements for
/// the whole group, resends included, and one more per file. On PostgreSQL a client id stored by another node
/// between the first statement and the insert fails the group with a unique violation, and
/// the writer retries each message alone (SQLite holds its one write lock throughout).
pub(crate) async fn post<P: BeginWrite>(
    pool: &P,
    messages: &[(NewMessage, Timestamp)],
) -> StoreResult<Vec<Posted>>
where
    <P::Db as sqlx::Database>::Connection: GroupStatements,
{
    let mut tx = pool.begin_write().await?;
    let answers = post_in(&mut *tx, messages).await?;
    tx.commit().await?;
    Ok(answers)
}

async fn post_in(
    tx: &mut impl GroupStatements,
    messages: &[(NewMessage, Timestamp)],
) -> Result<Vec<Posted>, sqlx::Error> {
    // Each client id's copy: the one stored before, or (below) the first of the group.
    let mut copies: HashMap<(i64, String), ChatItem> = HashMap::new();
    for earlier in tx.stored_before(messages).await? {
        let key = (
            earlier.session_id,
            earlier.item.client_id.clone().unwrap_or_default(),
        );
        copies.insert(key, earlier.item);
    }
    // Which messages are new (first of their client id, not stored before), and how many each
    // session takes.
    let mut seen = HashSet::new();
    let mut new = vec![false; messages.len()];
    let mut per_session: HashMap<i64, Taking> = HashMap::new();
    for (at, (m, _)) in messages.iter().enumerate() {
        let key = (m.session.0, m.client_id.clone());
        let entry = per_session.entry(m.session.0).or_insert(Taking {
            session: m.session.0,
            org: m.org.0,
            count: 0,
            language: None,
        });
        if copies.contains_key(&key) || !seen.insert(key) {
            continue;
        }
        new[at] = true;
        entry.count += 1;
        entry.language = m.customer_language.or(entry.language);
    }
    let taking: Vec<Taking> = per_session.into_values().collect();
    let counts: HashMap<i64, i64> = taking.iter().map(|t| (t.session, t.count)).collect();
    // Each open session's next free number, and whether reps were invited into it.
    let mut next: HashMap<i64, i64> = HashMap::new();
    let mut shared = Vec::new();
    for (session, last, invited) in tx.number(&taking).await? {
        next.insert(
            session,
            last - counts.get(&session).copied().unwrap_or(0) + 1,
        );
        if invited {
            shared.push(session);
        }
    }

    let mut rows = Rows::default();
    let mut stored: Vec<Option<ChatItem>> = vec![None; messages.len()];
    for (at, (m, now)) in messages.iter().enumerate() {
        let Some(seq) = next.get_mut(&m.session.0) else {
            continue;
        };
        if new[at] {
            let file = match m.file {
                Some(_) => Some(tx.record_file(m, *now).await?),
                None => None,
            };
            let item = stored_item(m, *now, *seq, file);
            rows.push(m, &item);
            stored[at] = Some(item.clone());
            copies.insert((m.session.0, m.client_id.clone()), item);
            *seq += 1;
        }
    }
    if !rows.seq.is_empty() {
        tx.insert(&rows).await?;
    }
    let invited = match shared.is_empty() {
        true => Vec::new(),
        false => tx.invited(&shared).await?,
    };

    let mut answers = Vec::with_capacity(messages.len());
    for (at, (m, _)) in messages.iter().enumerate() {
        let answer = match (next.contains_key(&m.session.0), &stored[at]) {
            (false, _) => Posted::Closed,
            (true, Some(item)) => Posted::New {
                item: item.clone(),
                invited: invited
                    .iter()
                    .filter(|(session, _)| *session == m.session.0)
                    .map(|(_, rep)| UserId(*rep))
                    .collect(),
            },
            (true, None) => match copies.get(&(m.session.0, m.client_id.clone())) {
                Some(copy) => Posted::Again(copy.clone()),
                None => Posted::Closed,
            },
        };
        answers.push(answer);
    }
    Ok(answers)
}

/// `GroupStatements::record_file`: one statement, the same on both backends, compiled for each.
macro_rules! record_file {
    () => {
        async fn record_file(
            &mut self,
            m: &NewMessage,
            now: Timestamp,
        ) -> Result<i64, sqlx::Error> {
            let (size, stored_as) = m
                .file
                .as_ref()
                .map_or((0, ""), |f| (f.size, f.stored_as.as_str()));
            sqlx::query_scalar(
                "INSERT INTO chat_files (org_id, session_id, name, size, stored_as, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(m.org.0)
            .bind(m.session.0)
            .bind(&m.body)
            .bind(size)
            .bind(stored_as)
            .bind(now.millis())
            .fetch_one(self)
            .await
        }
    };
}

impl GroupStatements for sqlx::PgConnection {
    record_file!();

    async fn stored_before(
        &mut self,
        messages: &[(NewMessage, Timestamp)],
    ) -> Result<Vec<StoredBefore>, sqlx::Error> {
        let sessions: Vec<i64> = messages.iter().map(|(m, _)| m.session.0).collect();
        let client_ids: Vec<&str> = messages.iter().map(|(m, _)| m.client_id.as_str()).collect();
        let sql = stored_before_sql(
            "unnest($1::bigint[], $2::text[]) AS g(sid, cid) \
             JOIN chat_messages m ON m.session_id = g.sid AND m.client_id = g.cid",
        );
        sqlx::query_as(&sql)
            .bind(&sessions)
            .bind(&client_ids)
            .fetch_all(self)
            .await
    }

    async fn number(&mut self, taking: &[Taking]) -> Result<Vec<(i64, i64, bool)>, sqlx::Error> {
        let ids: Vec<i64> = taking.iter().map(|t| t.session).collect();
        let orgs: Vec<i64> = taking.iter().map(|t| t.org).collect();
        let counts: Vec<i64> = taking.iter().map(|t| t.count).collect();
        let languages: Vec<Option<&str>> = taking.iter().map(|t| t.language).collect();
        sqlx::query_as(
            "UPDATE support_sessions s SET last_session_seq = s.last_session_seq + g.n, \
             language = COALESCE(g.lang, s.language) \
             FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[]) AS g(id, org, n, lang) \
             WHERE s.id = g.id AND s.org_id = g.org AND s.state <> 'ended' \
             RETURNING s.id, s.last_session_seq, \
             EXISTS (SELECT 1 FROM session_participants x WHERE x.session_id = s.id)",
        )
        .bind(&ids)
        .bind(&orgs)
        .bind(&counts)
        .bind(&languages)
        .fetch_all(self)
        .await
    }

    async fn insert(&mut self, rows: &Rows) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO chat_messages (org_id, session_id, sender_kind, sender_user_id, body, \
             language, created_at, session_seq, client_id, sender_name, translations, file_id) \
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], \
             $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::text[], \
             $12::bigint[])",
        )
        .bind(&rows.org)
        .bind(&rows.session)
        .bind(&rows.sender_kind)
        .bind(&rows.sender_user)
        .bind(&rows.body)
        .bind(&rows.language)
        .bind(&rows.created_at)
        .bind(&rows.seq)
        .bind(&rows.client_id)
        .bind(&rows.sender_name)
        .bind(&rows.translations)
        .bind(&rows.file_id)
        .execute(self)
        .await?;
        Ok(())
    }

    async fn invited(&mut self, sessions: &[i64]) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT session_id, user_id FROM session_participants \
             WHERE session_id = ANY($1) ORDER BY user_id",
        )
        .bind(sessions)
        .fetch_all(self)
        .await
    }
}

/// `json_each` over a JSON array of arrays: column `n` of each row, as `ty`.
macro_rules! col {
    ($n:literal, $ty:literal) => {
        concat!("CAST(json_extract(g.value, '$[", $n, "]') AS ", $ty, ")")
    };
}

impl GroupStatements for sqlx::SqliteConnection {
    record_file!();

    async fn stored_before(
        &mut self,
        messages: &[(NewMessage, Timestamp)],
    ) -> Result<Vec<StoredBefore>, sqlx::Error> {
        let pairs: Vec<(i64, &str)> = messages
            .iter()
            .map(|(m, _)| (m.session.0, m.client_id.as_str()))
            .collect();
        // The list drives the join, so each pair is one search of the client id index.
        let sql = stored_before_sql(concat!(
            "json_each($1) g JOIN chat_messages m ON m.session_id = ",
            col!(0, "INTEGER"),
            " AND m.client_id = ",
            col!(1, "TEXT")
        ));
        sqlx::query_as(&sql)
            .bind(json(&pairs))
            .fetch_all(self)
            .await
    }

    async fn number(&mut self, taking: &[Taking]) -> Result<Vec<(i64, i64, bool)>, sqlx::Error> {
        let list: Vec<(i64, i64, i64, Option<&str>)> = taking
            .iter()
            .map(|t| (t.session, t.org, t.count, t.language))
            .collect();
        sqlx::query_as(concat!(
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
        ))
        .bind(json(&list))
        .fetch_all(self)
        .await
    }

    async fn insert(&mut self, rows: &Rows) -> Result<(), sqlx::Error> {
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
        // Nested as serde writes tuples: [[org, session, kind], [user, body, language], ...].
        sqlx::query(concat!(
            "INSERT INTO chat_messages (org_id, session_id, sender_kind, sender_user_id, body, \
             language, created_at, session_seq, client_id, sender_name, translations, file_id) SELECT ",
            "json_extract(g.value, '$[0][0]'), json_extract(g.value, '$[0][1]'), \
             json_extract(g.value, '$[0][2]'), json_extract(g.value, '$[1][0]'), \
             json_extract(g.value, '$[1][1]'), json_extract(g.value, '$[1][2]'), \
             json_extract(g.value, '$[2][0]'), json_extract(g.value, '$[2][1]'), \
             json_extract(g.value, '$[2][2]'), json_extract(g.value, '$[3][0]'), \
             json_extract(g.value, '$[3][1]'), json_extract(g.value, '$[3][2]') FROM json_each($1) g"
        ))
        .bind(json(&list))
        .execute(self)
        .await?;
        Ok(())
    }

    async fn invited(&mut self, sessions: &[i64]) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT session_id, user_id FROM session_participants \
             WHERE session_id IN (SELECT value FROM json_each($1)) ORDER BY user_id",
        )
        .bind(json(&sessions))
        .fetch_all(self)
        .await
    }
}

/// A list as the JSON text `json_each` reads.
fn json(list: &impl serde::Serialize) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| unreachable!("numbers and strings serialize"))
}

/// A stored message as a reader gets it back.
fn stored_item(m: &NewMessage, now: Timestamp, seq: i64, file_id: Option<i64>) -> ChatItem {
    let (kind, user) = sender_columns(m.sender);
    ChatItem {
        seq,
        kind: "message".into(),
        client_id: Some(m.client_id.clone()),
        sender_kind: Some(kind.into()),
        sender_user_id: user,
        sender_name: Some(m.sender_name.clone()),
        body: m.body.clone(),
        created_at: now.millis(),
        language: Some(m.language.to_owned()),
        translations: Some(m.translations.clone()),
        file_id,
        file_size: file_id.and(m.file.as_ref().map(|f| f.size)),
    }
}

/// How a sender is stored: its kind, and the rep's id.
pub(crate) fn sender_columns(sender: Sender) -> (&'static str, Option<i64>) {
    match sender {
        Sender::Customer => ("customer", None),
        Sender::Rep(user) => ("rep", Some(user.0)),
    }
}

/// The new messages of a group, column by column (one array per column for `unnest`).
#[derive(Default)]
pub(crate) struct Rows {
    org: Vec<i64>,
    session: Vec<i64>,
    sender_kind: Vec<&'static str>,
    sender_user: Vec<Option<i64>>,
    body: Vec<String>,
    language: Vec<&'static str>,
    created_at: Vec<i64>,
    seq: Vec<i64>,
    client_id: Vec<String>,
    sender_name: Vec<String>,
    translations: Vec<String>,
    file_id: Vec<Option<i64>>,
}

impl Rows {
    /// `m` as `item`, its stored form, has it.
    fn push(&mut self, m: &NewMessage, item: &ChatItem) {
        let (kind, user) = sender_columns(m.sender);
        self.org.push(m.org.0);
        self.session.push(m.session.0);
        self.sender_kind.push(kind);
        self.sender_user.push(user);
        self.body.push(m.body.clone());
        self.language.push(m.language);
        self.created_at.push(item.created_at);
        self.seq.push(item.seq);
        self.client_id.push(m.client_id.clone());
        self.sender_name.push(m.sender_name.clone());
        self.translations.push(m.translations.clone());
        self.file_id.push(item.file_id);
    }
}
