//! A group of chat messages in a handful of statements, however many messages it holds: the
//! resends among them found, each open session numbered once, every new message inserted in
//! one statement, the invited reps read once. One statement per message made a group of 256
//! take half a second under load on PostgreSQL, where each statement is a round trip to another
//! process (decision 0015). The plan is the same for both backends; only how a list is passed
//! differs: arrays and `unnest` on PostgreSQL (here); on SQLite, whose statements run in
//! process on the chat writer's own thread (`crate::sqlite_writer`), each step is a prepared
//! statement run per row.

use crate::chat::{ChatItem, NewMessage, Posted, Sender, MESSAGE_COLUMNS};
use crate::pool::BeginWrite;
use crate::StoreResult;
use domain::{Timestamp, UserId};
use std::collections::{HashMap, HashSet};

/// How many messages each session of the group takes, for the numbering statement.
pub(crate) struct Taking {
    pub(crate) session: i64,
    pub(crate) org: i64,
    pub(crate) count: i64,
    /// The customer's corrected language, the last one in the group.
    pub(crate) language: Option<&'static str>,
}

/// The statements of a group, on one backend's open write transaction.
pub(crate) trait GroupStatements {
    type Error;
    /// The copies of `messages` stored before (resends), found by session and client id.
    async fn stored_before(
        &mut self,
        messages: &[(NewMessage, Timestamp)],
    ) -> Result<Vec<StoredBefore>, Self::Error>;
    /// Each open session's numbering moved on by its count: (session, its last number now,
    /// whether reps were invited into it). Ended sessions are left out.
    async fn number(&mut self, taking: &[Taking]) -> Result<Vec<(i64, i64, bool)>, Self::Error>;
    /// A new message's file, recorded: its id (files are rare: one statement each, `RECORD_FILE`).
    async fn record_file(&mut self, m: &NewMessage, now: Timestamp) -> Result<i64, Self::Error>;
    async fn insert(&mut self, rows: &Rows) -> Result<(), Self::Error>;
    /// (session, rep) of every rep invited into `sessions`.
    async fn invited(&mut self, sessions: &[i64]) -> Result<Vec<(i64, i64)>, Self::Error>;
}

/// `GroupStatements::record_file`, the same on both backends: org, session, name, size, where
/// it is stored, when.
pub(crate) const RECORD_FILE: &str =
    "INSERT INTO chat_files (org_id, session_id, name, size, stored_as, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";

/// A message stored before, as a resend gets it back, with its session.
#[derive(sqlx::FromRow)]
pub(crate) struct StoredBefore {
    pub(crate) session_id: i64,
    #[sqlx(flatten)]
    pub(crate) item: ChatItem,
}

/// The copies stored before, for a join of `chat_messages m` with the group's list as `$1`.
pub(crate) fn stored_before_sql(list_join: &str) -> String {
    format!("SELECT m.session_id, {MESSAGE_COLUMNS} FROM {list_join}")
}

/// Store `messages` as `Store::post_messages` does, on PostgreSQL. A client id stored by
/// another node between the lookup of resends and the insert fails the group with a unique
/// violation, and the writer retries each message alone.
///
/// Without files, in no transaction: the numbering and the insert as one statement that
/// commits on its own (preceded by a lookup of resends only when it met one). The group's session
/// rows are then locked for that statement only. In a transaction they stayed locked for
/// the insert's round trip and the commit's, and in a cluster another node's group (the other
/// side of the same conversations) waited all that time.
pub(crate) async fn post(
    pool: &sqlx::PgPool,
    messages: &[(NewMessage, Timestamp)],
) -> StoreResult<Vec<Posted>> {
    if messages.iter().any(|(m, _)| m.file.is_some()) {
        let mut tx = pool.begin_write().await?;
        let answers = post_in(&mut *tx, messages).await?;
        tx.commit().await?;
        return Ok(answers);
    }
    let mut connection = pool.acquire().await?;
    // A page sends a message again only after it reconnected, so nearly every group holds no
    // resend: it is stored first as if it held none, without looking. A resend then breaks the
    // unique index on (session, client id), the one statement stores nothing (numbers
    // included), and the group is stored again after the lookup. One statement a group instead
    // of two: the lookup was a fifth of a group's time.
    match number_and_store(&mut connection, messages, Vec::new()).await {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            let before = connection.stored_before(messages).await?;
            Ok(number_and_store(&mut connection, messages, before).await?)
        }
        done => Ok(done?),
    }
}

/// The group's new messages (all but the copies `before` and repeats within the group)
/// numbered and stored in one statement on its own; each message's answer.
async fn number_and_store(
    connection: &mut sqlx::PgConnection,
    messages: &[(NewMessage, Timestamp)],
    before: Vec<StoredBefore>,
) -> Result<Vec<Posted>, sqlx::Error> {
    let plan = Plan::of(messages, before);
    // Each new message's place among its session's new ones (1, 2, ...); the statement adds
    // the number the session stood at.
    let mut places: HashMap<i64, i64> = plan.taking.iter().map(|t| (t.session, 1)).collect();
    let no_files = vec![None; messages.len()];
    let (rows, mut stored) = plan.store(messages, &mut places, &no_files);
    let numbered = number_and_insert(connection, &plan.taking, &rows).await?;
    let mut open = HashMap::new();
    let mut invited = Vec::new();
    for (session, before, reps) in numbered {
        open.insert(session, before);
        invited.extend(reps.into_iter().map(|rep| (session, rep)));
    }
    for (item, (m, _)) in stored.iter_mut().zip(messages) {
        if let (Some(item), Some(before)) = (item.as_mut(), open.get(&m.session.0)) {
            item.seq += before;
        }
    }
    Ok(plan.answers(messages, &open, stored, &invited))
}

/// The plan, on an open write transaction: four steps for the whole group, resends included,
/// and one more per file.
pub(crate) async fn post_in<T: GroupStatements>(
    tx: &mut T,
    messages: &[(NewMessage, Timestamp)],
) -> Result<Vec<Posted>, T::Error> {
    let plan = Plan::of(messages, tx.stored_before(messages).await?);
    // Each open session's next free number, and whether reps were invited into it.
    let mut next: HashMap<i64, i64> = HashMap::new();
    let mut shared = Vec::new();
    for (session, last, invited) in tx.number(&plan.taking).await? {
        next.insert(session, last - plan.count(session) + 1);
        if invited {
            shared.push(session);
        }
    }
    let open = next.clone();
    let mut files = vec![None; messages.len()];
    for (at, (m, now)) in messages.iter().enumerate() {
        if m.file.is_some() && plan.new[at] && open.contains_key(&m.session.0) {
            files[at] = Some(tx.record_file(m, *now).await?);
        }
    }
    let (rows, stored) = plan.store(messages, &mut next, &files);
    if !rows.seq.is_empty() {
        tx.insert(&rows).await?;
    }
    let invited = match shared.is_empty() {
        true => Vec::new(),
        false => tx.invited(&shared).await?,
    };
    Ok(plan.answers(messages, &open, stored, &invited))
}

/// A group once its resends are known: the copies stored before, which messages are new (the
/// first of their client id, not stored before), and how many each session takes.
struct Plan {
    earlier: HashMap<(i64, String), ChatItem>,
    new: Vec<bool>,
    taking: Vec<Taking>,
}

impl Plan {
    fn of(messages: &[(NewMessage, Timestamp)], stored_before: Vec<StoredBefore>) -> Plan {
        let mut earlier = HashMap::new();
        for copy in stored_before {
            let key = (
                copy.session_id,
                copy.item.client_id.clone().unwrap_or_default(),
            );
            earlier.insert(key, copy.item);
        }
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
            if earlier.contains_key(&key) || !seen.insert(key) {
                continue;
            }
            new[at] = true;
            entry.count += 1;
            entry.language = m.customer_language.or(entry.language);
        }
        Plan {
            earlier,
            new,
            taking: per_session.into_values().collect(),
        }
    }

    /// How many new messages `session` takes.
    fn count(&self, session: i64) -> i64 {
        self.taking
            .iter()
            .find(|t| t.session == session)
            .map_or(0, |t| t.count)
    }

    /// The rows to insert and each message's stored form: the new messages of the sessions in
    /// `next`, numbered on from there (`files`: each message's recorded file).
    fn store(
        &self,
        messages: &[(NewMessage, Timestamp)],
        next: &mut HashMap<i64, i64>,
        files: &[Option<i64>],
    ) -> (Rows, Vec<Option<ChatItem>>) {
        let mut rows = Rows::default();
        let mut stored = vec![None; messages.len()];
        for (at, (m, now)) in messages.iter().enumerate() {
            if let (true, Some(seq)) = (self.new[at], next.get_mut(&m.session.0)) {
                let item = stored_item(m, *now, *seq, files[at]);
                rows.push(m, &item);
                stored[at] = Some(item);
                *seq += 1;
            }
        }
        (rows, stored)
    }

    /// Each message's answer: stored now (with the reps `invited` into its session), a copy
    /// stored before or earlier in the group, or closed (its session is not among `open`).
    fn answers(
        &self,
        messages: &[(NewMessage, Timestamp)],
        open: &HashMap<i64, i64>,
        stored: Vec<Option<ChatItem>>,
        invited: &[(i64, i64)],
    ) -> Vec<Posted> {
        let mut first: HashMap<(i64, &str), usize> = HashMap::new();
        for (at, (m, _)) in messages.iter().enumerate() {
            if stored[at].is_some() {
                first.insert((m.session.0, m.client_id.as_str()), at);
            }
        }
        let copy = |m: &NewMessage| {
            let key = (m.session.0, m.client_id.as_str());
            first
                .get(&key)
                .and_then(|at| stored[*at].clone())
                .or_else(|| self.earlier.get(&(key.0, key.1.to_owned())).cloned())
        };
        let mut answers = Vec::with_capacity(messages.len());
        for (at, (m, _)) in messages.iter().enumerate() {
            let answer = match (open.contains_key(&m.session.0), &stored[at]) {
                (false, _) => Posted::Closed,
                (true, Some(item)) => Posted::New {
                    item: item.clone(),
                    invited: invited
                        .iter()
                        .filter(|(session, _)| *session == m.session.0)
                        .map(|(_, rep)| UserId(*rep))
                        .collect(),
                },
                (true, None) => match copy(m) {
                    Some(copy) => Posted::Again(copy),
                    None => Posted::Closed,
                },
            };
            answers.push(answer);
        }
        answers
    }
}

/// `GroupStatements::number` and `insert` as one statement on its own (committed by itself):
/// each row of `rows` holds its place among its session's new messages in `seq`, and is stored
/// under the number the session stood at plus that place; rows of ended sessions are not
/// stored. (session, the number it stood at, every rep invited into it) per open session.
async fn number_and_insert(
    connection: &mut sqlx::PgConnection,
    taking: &[Taking],
    rows: &Rows,
) -> Result<Vec<(i64, i64, Vec<i64>)>, sqlx::Error> {
    let sql = format!(
        "WITH {NUMBERED}, \
         stored AS ({INSERT_MESSAGES} \
           SELECT r.org, r.session, r.kind, r.rep, r.body, r.lang, r.at, \
             n.last_session_seq - n.taken + r.place, r.cid, r.name, r.tr, r.file \
           FROM {rows} AS r(org, session, kind, rep, body, lang, at, place, cid, name, tr, file) \
           JOIN numbered n ON n.id = r.session) \
         SELECT id, last_session_seq - taken, ARRAY(SELECT x.user_id FROM session_participants x \
           WHERE x.session_id = numbered.id ORDER BY x.user_id) FROM numbered",
        rows = unnest_rows(5),
    );
    let query = bind_taking!(sqlx::query_as(&sql), taking);
    bind_rows!(query, rows).fetch_all(connection).await
}

/// The group's sessions numbered on (`$1` ids, `$2` orgs, `$3` counts, `$4` corrected
/// languages: `bind_taking!`), as `numbered (id, last_session_seq, taken)`. The rows are
/// locked in id order first. Updated through the join alone, rows were locked in whatever
/// order the plan met them; two nodes' groups sharing two sessions (a customer on one node,
/// the rep on another) then deadlocked, and PostgreSQL broke each after its deadlock_timeout
/// (1 s): seconds of delay per message in a cluster (supportal-load cluster; 41 "deadlock
/// detected" in its log). The ids are also a condition on the table itself, so the rows are found by
/// their key: through the join alone, PostgreSQL read every session of the database for every
/// group (EXPLAIN ANALYZE: a sequential scan of `support_sessions`).
const NUMBERED: &str = "locked AS MATERIALIZED (SELECT id FROM support_sessions \
       WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE), \
     numbered AS (UPDATE support_sessions s SET last_session_seq = s.last_session_seq + g.n, \
       language = COALESCE(g.lang, s.language) \
       FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[]) AS g(id, org, n, lang) \
       JOIN locked l ON l.id = g.id \
       WHERE s.id = ANY($1::bigint[]) AND s.id = g.id AND s.org_id = g.org \
       AND s.state <> 'ended' \
       RETURNING s.id, s.last_session_seq, g.n AS taken)";

/// A message row's columns, in `Rows`' order.
pub(crate) const INSERT_MESSAGES: &str =
    "INSERT INTO chat_messages (org_id, session_id, sender_kind, \
     sender_user_id, body, language, created_at, session_seq, client_id, sender_name, \
     translations, file_id)";

/// `Rows` as a table: `unnest` of the twelve arrays `bind_rows!` binds from `$first` on.
fn unnest_rows(first: usize) -> String {
    const TYPES: [&str; 12] = [
        "bigint", "bigint", "text", "bigint", "text", "text", "bigint", "bigint", "text", "text",
        "text", "bigint",
    ];
    let arrays: Vec<String> = (first..)
        .zip(TYPES)
        .map(|(n, ty)| format!("${n}::{ty}[]"))
        .collect();
    format!("unnest({})", arrays.join(", "))
}

/// Bind a group's `taking` as the four arrays `NUMBERED` reads (`$1`…`$4`).
macro_rules! bind_taking {
    ($query:expr, $taking:expr) => {{
        let taking: &[Taking] = $taking;
        $query
            .bind(taking.iter().map(|t| t.session).collect::<Vec<i64>>())
            .bind(taking.iter().map(|t| t.org).collect::<Vec<i64>>())
            .bind(taking.iter().map(|t| t.count).collect::<Vec<i64>>())
            .bind(
                taking
                    .iter()
                    .map(|t| t.language)
                    .collect::<Vec<Option<&str>>>(),
            )
    }};
}
use bind_taking;

impl GroupStatements for sqlx::PgConnection {
    type Error = sqlx::Error;

    async fn record_file(&mut self, m: &NewMessage, now: Timestamp) -> Result<i64, sqlx::Error> {
        let (size, stored_as) = file_columns(m);
        sqlx::query_scalar(RECORD_FILE)
            .bind(m.org.0)
            .bind(m.session.0)
            .bind(&m.body)
            .bind(size)
            .bind(stored_as)
            .bind(now.millis())
            .fetch_one(self)
            .await
    }

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
        let sql = format!(
            "WITH {NUMBERED} SELECT id, last_session_seq, \
             EXISTS (SELECT 1 FROM session_participants x WHERE x.session_id = numbered.id) \
             FROM numbered"
        );
        bind_taking!(sqlx::query_as(&sql), taking)
            .fetch_all(self)
            .await
    }

    async fn insert(&mut self, rows: &Rows) -> Result<(), sqlx::Error> {
        let sql = format!("{INSERT_MESSAGES} SELECT * FROM {}", unnest_rows(1));
        bind_rows!(sqlx::query(&sql), rows).execute(self).await?;
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

/// A message's file as recorded: its size and where it is stored.
pub(crate) fn file_columns(m: &NewMessage) -> (i64, &str) {
    m.file
        .as_ref()
        .map_or((0, ""), |f| (f.size, f.stored_as.as_str()))
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

/// Bind `$rows`' columns, in `Rows`' order, as the next twelve arrays of `$query`.
macro_rules! bind_rows {
    ($query:expr, $rows:expr) => {
        $query
            .bind(&$rows.org)
            .bind(&$rows.session)
            .bind(&$rows.sender_kind)
            .bind(&$rows.sender_user)
            .bind(&$rows.body)
            .bind(&$rows.language)
            .bind(&$rows.created_at)
            .bind(&$rows.seq)
            .bind(&$rows.client_id)
            .bind(&$rows.sender_name)
            .bind(&$rows.translations)
            .bind(&$rows.file_id)
    };
}
use bind_rows;

/// The new messages of a group, column by column (one array per column for `unnest`).
#[derive(Default)]
pub(crate) struct Rows {
    pub(crate) org: Vec<i64>,
    pub(crate) session: Vec<i64>,
    pub(crate) sender_kind: Vec<&'static str>,
    pub(crate) sender_user: Vec<Option<i64>>,
    pub(crate) body: Vec<String>,
    pub(crate) language: Vec<&'static str>,
    pub(crate) created_at: Vec<i64>,
    pub(crate) seq: Vec<i64>,
    pub(crate) client_id: Vec<String>,
    pub(crate) sender_name: Vec<String>,
    pub(crate) translations: Vec<String>,
    pub(crate) file_id: Vec<Option<i64>>,
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
