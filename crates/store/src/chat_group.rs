//! A group of chat messages in a handful of statements on PostgreSQL, however many messages
//! it holds. There each statement is a round trip to another process, and one per message
//! made a group of 256 take half a second under load (decision 0015). SQLite answers in
//! process, so it keeps the statement-per-message path in `chat.rs`.

use crate::chat::{ChatItem, NewMessage, Posted, Sender};
use crate::pool::BeginWrite;
use crate::StoreResult;
use domain::{Timestamp, UserId};
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};

/// Store `messages` as `Store::post_messages` does: five statements for the whole group (one
/// more per resend). A client id stored by another node between the first statement and the
/// insert fails the group with a unique violation, and the writer retries each message alone.
pub(crate) async fn post(
    pool: &PgPool,
    messages: &[(NewMessage, Timestamp)],
    earlier_sql: &str,
) -> StoreResult<Vec<Posted>> {
    let mut tx = pool.begin_write().await?;
    let sessions: Vec<i64> = messages.iter().map(|(m, _)| m.session.0).collect();
    let client_ids: Vec<String> = messages.iter().map(|(m, _)| m.client_id.clone()).collect();
    let stored_before: HashSet<(i64, String)> = sqlx::query_as(
        "SELECT m.session_id, m.client_id FROM chat_messages m \
         JOIN unnest($1::bigint[], $2::text[]) AS g(session_id, client_id) \
         ON m.session_id = g.session_id AND m.client_id = g.client_id",
    )
    .bind(&sessions)
    .bind(&client_ids)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();

    // Which messages are new (first of their client id, not stored before), and how many each
    // session takes; the customer's corrected language, the last one in the group.
    let mut seen = HashSet::new();
    let mut new = vec![false; messages.len()];
    let mut per_session: HashMap<i64, (i64, i64, Option<&str>)> = HashMap::new();
    for (at, (m, _)) in messages.iter().enumerate() {
        let key = (m.session.0, m.client_id.clone());
        let entry = per_session.entry(m.session.0).or_insert((m.org.0, 0, None));
        if stored_before.contains(&key) || !seen.insert(key) {
            continue;
        }
        new[at] = true;
        entry.1 += 1;
        entry.2 = m.customer_language.or(entry.2);
    }
    let mut ids = Vec::new();
    let mut orgs = Vec::new();
    let mut counts = Vec::new();
    let mut languages: Vec<Option<String>> = Vec::new();
    for (session, (org, count, language)) in &per_session {
        ids.push(*session);
        orgs.push(*org);
        counts.push(*count);
        languages.push(language.map(str::to_owned));
    }
    let numbered: Vec<(i64, i64, bool)> = sqlx::query_as(
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
    .fetch_all(&mut *tx)
    .await?;
    // Each open session's next free number, and whether reps were invited into it.
    let mut next: HashMap<i64, i64> = HashMap::new();
    let mut shared = Vec::new();
    for (session, last, invited) in numbered {
        let count = per_session.get(&session).map_or(0, |e| e.1);
        next.insert(session, last - count + 1);
        if invited {
            shared.push(session);
        }
    }

    let mut rows = Rows::default();
    let mut seqs = vec![None; messages.len()];
    for (at, (m, now)) in messages.iter().enumerate() {
        let Some(seq) = next.get_mut(&m.session.0) else {
            continue;
        };
        if new[at] {
            seqs[at] = Some(*seq);
            rows.push(m, *now, *seq);
            *seq += 1;
        }
    }
    rows.insert(&mut tx).await?;
    let invited: Vec<(i64, i64)> = match shared.is_empty() {
        true => Vec::new(),
        false => {
            sqlx::query_as(
                "SELECT session_id, user_id FROM session_participants \
             WHERE session_id = ANY($1) ORDER BY user_id",
            )
            .bind(&shared)
            .fetch_all(&mut *tx)
            .await?
        }
    };

    let mut answers = Vec::with_capacity(messages.len());
    for (at, (m, now)) in messages.iter().enumerate() {
        let answer = match (next.contains_key(&m.session.0), seqs[at]) {
            (false, _) => Posted::Closed,
            (true, Some(seq)) => Posted::New {
                item: stored_item(m, *now, seq),
                invited: invited
                    .iter()
                    .filter(|(session, _)| *session == m.session.0)
                    .map(|(_, rep)| UserId(*rep))
                    .collect(),
            },
            (true, None) => Posted::Again(
                sqlx::query_as::<_, ChatItem>(earlier_sql)
                    .bind(m.session.0)
                    .bind(m.org.0)
                    .bind(&m.client_id)
                    .fetch_one(&mut *tx)
                    .await?,
            ),
        };
        answers.push(answer);
    }
    tx.commit().await?;
    Ok(answers)
}

/// A stored message as a reader gets it back.
pub(crate) fn stored_item(m: &NewMessage, now: Timestamp, seq: i64) -> ChatItem {
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
        file_id: None,
        file_size: None,
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
struct Rows {
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
}

impl Rows {
    fn push(&mut self, m: &NewMessage, now: Timestamp, seq: i64) {
        let (kind, user) = sender_columns(m.sender);
        self.org.push(m.org.0);
        self.session.push(m.session.0);
        self.sender_kind.push(kind);
        self.sender_user.push(user);
        self.body.push(m.body.clone());
        self.language.push(m.language);
        self.created_at.push(now.millis());
        self.seq.push(seq);
        self.client_id.push(m.client_id.clone());
        self.sender_name.push(m.sender_name.clone());
        self.translations.push(m.translations.clone());
    }

    async fn insert(&self, tx: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
        if self.seq.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO chat_messages (org_id, session_id, sender_kind, sender_user_id, body, \
             language, created_at, session_seq, client_id, sender_name, translations) \
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], \
             $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::text[])",
        )
        .bind(&self.org)
        .bind(&self.session)
        .bind(&self.sender_kind)
        .bind(&self.sender_user)
        .bind(&self.body)
        .bind(&self.language)
        .bind(&self.created_at)
        .bind(&self.seq)
        .bind(&self.client_id)
        .bind(&self.sender_name)
        .bind(&self.translations)
        .execute(tx)
        .await?;
        Ok(())
    }
}
