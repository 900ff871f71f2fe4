//! Support sessions and their append-only event log.
//!
//! Every state change and its event are committed in one transaction. Event sequence numbers
//! are per organization and taken from a counter row, so they commit in order: a client that
//! resumes "after seq N" never misses an event that committed late.

use crate::pool::{on_pool, BeginWrite, Pool};
use crate::{Store, StoreError, StoreResult};
use domain::session::{self, Outcome, Queue, SessionEvent, SessionState, StartMethod, Status};
use domain::{IssueTypeId, OrgId, SessionId, SiteId, TeamId, Timestamp, UserId};

pub struct NewSupportSession<'a> {
    pub site: Option<SiteId>,
    pub start_method: StartMethod,
    pub queue: Queue,
    pub issue_type: Option<IssueTypeId>,
    pub customer_name: &'a str,
    pub company: Option<&'a str>,
    pub company_code: Option<&'a str>,
    pub description: Option<&'a str>,
    /// Custom field values, as a JSON object.
    pub fields: &'a serde_json::Value,
    pub language: &'a str,
    pub verified: bool,
    /// Who vouched for the customer (the identity provider's issuer), with the attributes it
    /// sent as a JSON object.
    pub verified_by: Option<&'a str>,
    pub verified_attributes: Option<&'a str>,
    pub capability_digest: &'a str,
    /// Why routing chose this queue; recorded with the `queued` event.
    pub routing_reason: &'a str,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct SupportSession {
    #[sqlx(try_from = "i64")]
    pub id: SessionId,
    #[sqlx(try_from = "i64")]
    pub org_id: OrgId,
    #[sqlx(try_from = "String")]
    pub state: Status,
    pub start_method: String,
    pub queue_kind: Option<String>,
    pub queue_user_id: Option<i64>,
    pub queue_team_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub site_id: Option<i64>,
    pub priority: i64,
    pub customer_name: String,
    pub customer_company: Option<String>,
    pub description: Option<String>,
    pub language: String,
    pub verified: bool,
    pub outcome: Option<String>,
    #[sqlx(try_from = "i64")]
    pub queued_at: Timestamp,
    pub accepted_at: Option<i64>,
    pub company_code: Option<String>,
    pub fields: String,
    pub notes: Option<String>,
    pub verified_by: Option<String>,
    /// The identity provider's attributes, a JSON object.
    pub verified_attributes: Option<String>,
    /// When the customer's page last said it is open (None: never opened, as for a session
    /// made without a browser).
    pub customer_seen_at: Option<i64>,
    /// When the customer's page closed, unless it has opened again since.
    pub customer_gone_at: Option<i64>,
}

impl SupportSession {
    /// The queue the session waits in, or (while active) the one it was taken from.
    pub fn queue(&self) -> Option<Queue> {
        match (
            self.queue_kind.as_deref(),
            self.queue_user_id,
            self.queue_team_id,
        ) {
            (Some("personal"), Some(rep), _) => Some(Queue::Personal(UserId(rep))),
            (Some("team"), _, Some(team)) => Some(Queue::Team(TeamId(team))),
            (Some("general"), _, _) => Some(Queue::General),
            _ => None,
        }
    }

    /// The typed state, rebuilt from its columns.
    pub fn session_state(&self) -> StoreResult<SessionState> {
        let corrupt =
            || StoreError::Corrupt(format!("support session {} has an invalid state", self.id));
        Ok(match self.state {
            Status::Waiting => SessionState::Waiting {
                queue: self.queue().ok_or_else(corrupt)?,
            },
            Status::Active => SessionState::Active {
                owner: UserId(self.owner_user_id.ok_or_else(corrupt)?),
            },
            Status::Ended => SessionState::Ended {
                outcome: self
                    .outcome
                    .as_deref()
                    .and_then(Outcome::parse)
                    .ok_or_else(corrupt)?,
            },
        })
    }
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct StoredEvent {
    pub seq: i64,
    /// The session's own number for this event (None for events logged before it existed).
    pub session_seq: Option<i64>,
    pub session_id: Option<i64>,
    pub kind: String,
    pub payload: String,
    #[sqlx(try_from = "i64")]
    pub created_at: Timestamp,
}

impl StoredEvent {
    pub fn event(&self) -> StoreResult<SessionEvent> {
        Ok(serde_json::from_str(&self.payload)?)
    }
}

pub(crate) fn queue_columns(queue: Queue) -> (&'static str, Option<i64>, Option<i64>) {
    match queue {
        Queue::Personal(rep) => ("personal", Some(rep.0), None),
        Queue::Team(team) => ("team", None, Some(team.0)),
        Queue::General => ("general", None, None),
    }
}

/// Append `$event` for `$session` inside transaction `$tx`; evaluates to the `Committed` event
/// (its organization sequence number and kind). The session's own number comes from the session's row (decision 0009);
/// `$session_seq`, when given, is the number the caller already put there (a new session's 1).
macro_rules! append_event_impl {
    ($tx:expr, $org:expr, $session:expr, $event:expr, $now:expr) => {{
        let session_seq: i64 = sqlx::query_scalar(
            "UPDATE support_sessions SET last_session_seq = last_session_seq + 1 WHERE id = $1 \
             RETURNING last_session_seq",
        )
        .bind($session.0)
        .fetch_one(&mut *$tx)
        .await?;
        $crate::support::append_event!($tx, $org, $session, $event, $now, session_seq)
    }};
    ($tx:expr, $org:expr, $session:expr, $event:expr, $now:expr, $session_seq:expr) => {{
        let payload = serde_json::to_string($event)?;
        let row = $crate::support::EventRow {
            org: $org.0,
            session: Some($session.0),
            kind: $event.kind(),
            payload: &payload,
            at: $now.millis(),
            session_seq: Some($session_seq),
        };
        let seq = $crate::support::AppendEvent::append(&mut *$tx, &row).await?;
        $crate::support::Committed {
            seq,
            kind: $event.kind(),
        }
    }};
}
pub(crate) use append_event_impl as append_event;

/// An event of the organization's log as `AppendEvent` writes it: a session's (with the
/// session's own number), or one of no session (a notice's window, `crate::notice_log`).
pub(crate) struct EventRow<'a> {
    pub(crate) org: i64,
    pub(crate) session: Option<i64>,
    pub(crate) kind: &'static str,
    pub(crate) payload: &'a str,
    pub(crate) at: i64,
    pub(crate) session_seq: Option<i64>,
}

/// The organization's next event number taken (its row locked until the transaction ends:
/// numbers commit in order, decision 0003) and the event written with it; the number.
pub(crate) trait AppendEvent {
    async fn append(&mut self, row: &EventRow<'_>) -> Result<i64, sqlx::Error>;
}

/// Both steps as one statement: the organization's row is the one every session start and
/// event of the organization waits for, and it stays locked from this statement to the
/// commit, so each round trip after the lock is taken is time everyone else waits
/// (`pg_stat_activity` during `supportal-load start --postgres`: most backends waiting on it).
impl AppendEvent for sqlx::PgConnection {
    async fn append(&mut self, row: &EventRow<'_>) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(&format!(
            "WITH numbered AS ({ORG_NEXT_NUMBER}) {INSERT_EVENT} \
             SELECT $1, last_event_seq, $2, $3, $4, $5, $6 FROM numbered RETURNING seq"
        ))
        .bind(row.org)
        .bind(row.session)
        .bind(row.kind)
        .bind(row.payload)
        .bind(row.at)
        .bind(row.session_seq)
        .fetch_one(self)
        .await
    }
}

/// Organization `$1`'s next event number, as `last_event_seq`; its row stays locked until the
/// transaction ends.
const ORG_NEXT_NUMBER: &str = "UPDATE organizations SET last_event_seq = last_event_seq + 1 \
     WHERE id = $1 RETURNING last_event_seq";

/// An event row's columns, in the order every insert of the log gives them.
const INSERT_EVENT: &str =
    "INSERT INTO session_events (org_id, seq, session_id, kind, payload, created_at, session_seq)";

/// SQLite has no statement that updates inside a `WITH`; its writes hold the whole database
/// (`BEGIN IMMEDIATE`), and its statements are hand-offs to a thread of this process, not
/// round trips to a server.
impl AppendEvent for sqlx::SqliteConnection {
    async fn append(&mut self, row: &EventRow<'_>) -> Result<i64, sqlx::Error> {
        let seq: i64 = sqlx::query_scalar(ORG_NEXT_NUMBER)
            .bind(row.org)
            .fetch_one(&mut *self)
            .await?;
        sqlx::query(&format!(
            "{INSERT_EVENT} VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(row.org)
        .bind(seq)
        .bind(row.session)
        .bind(row.kind)
        .bind(row.payload)
        .bind(row.at)
        .bind(row.session_seq)
        .execute(self)
        .await?;
        Ok(seq)
    }
}

/// An event as it was committed: its organization sequence number and its kind, taken from
/// the stored event itself (so whoever announces it cannot name it differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    pub seq: i64,
    pub kind: &'static str,
}

/// How a claim went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Taken; the `accepted` event.
    Won(Committed),
    /// Taken by someone else, cancelled, or not this organization's.
    Gone,
    /// The rep already holds `held` sessions, their limit.
    AtLimit { held: i64 },
}

impl Claim {
    /// The `accepted` event when the claim won.
    pub fn won(self) -> Option<Committed> {
        match self {
            Claim::Won(event) => Some(event),
            _ => None,
        }
    }
}

/// Lock rep `$rep`'s row in transaction `$tx`, so a limit counted next (sessions, keys) holds
/// until commit: concurrent writers for the same rep queue here on PostgreSQL; on SQLite the
/// write transaction already holds the database.
macro_rules! lock_rep_impl {
    ($tx:expr, $org:expr, $rep:expr) => {
        sqlx::query("UPDATE users SET presence_at = presence_at WHERE id = $1 AND org_id = $2")
            .bind($rep.0)
            .bind($org.0)
            .execute(&mut *$tx)
            .await?;
    };
}
pub(crate) use lock_rep_impl as lock_rep;

/// Claim `$id` for `$rep` inside transaction `$tx` (see `Store::claim_session`); evaluates to
/// a `Claim`. The caller commits on `Won`.
macro_rules! claim_in_impl {
    ($tx:expr, $org:expr, $id:expr, $rep:expr, $limit:expr, $now:expr) => {{
        $crate::support::lock_rep!($tx, $org, $rep);
        let held: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM support_sessions WHERE org_id = $1 AND state = 'active' AND owner_user_id = $2",
        )
        .bind($org.0).bind($rep.0).fetch_one(&mut *$tx).await?;
        if !domain::rep::has_room(held, $limit) {
            $crate::support::Claim::AtLimit { held }
        } else {
            let won = sqlx::query(
                // The queue columns stay: where it came from (wait statistics, fallback).
                "UPDATE support_sessions SET state = 'active', owner_user_id = $1, accepted_at = $2, requeue_reason = NULL \
                 WHERE id = $3 AND org_id = $4 AND state = 'waiting'",
            )
            .bind($rep.0).bind($now.millis()).bind($id.0).bind($org.0)
            .execute(&mut *$tx).await?.rows_affected() == 1;
            if won {
                let event = SessionEvent::Accepted { rep: $rep };
                $crate::support::Claim::Won($crate::support::append_event!($tx, $org, $id, &event, $now))
            } else {
                $crate::support::Claim::Gone
            }
        }
    }};
}
pub(crate) use claim_in_impl as claim_in;

pub(crate) const SESSION_COLUMNS: &str = "id, org_id, state, start_method, queue_kind, queue_user_id, \
     queue_team_id, owner_user_id, site_id, priority, customer_name, customer_company, description, \
     language, verified, outcome, queued_at, accepted_at, company_code, fields, notes, verified_by, \
     verified_attributes, customer_seen_at, customer_gone_at";

/// Rows in the same queue as `$n`, `$n+1`, `$n+2` (kind, rep, team).
fn same_queue(first: usize) -> String {
    format!(
        "queue_kind = ${} AND COALESCE(queue_user_id, 0) = COALESCE(${}, 0) \
         AND COALESCE(queue_team_id, 0) = COALESCE(${}, 0)",
        first,
        first + 1,
        first + 2
    )
}

/// A new waiting session's row: the columns, and the placeholders `$1`…`$18` that
/// `bind_new_session!` fills (one text for both backends and both ways of starting).
const NEW_SESSION_INSERT: &str = "INSERT INTO support_sessions (org_id, site_id, state, start_method, \
     queue_kind, queue_user_id, queue_team_id, issue_type_id, customer_name, customer_company, \
     company_code, description, fields, language, verified, capability_digest, created_at, \
     queued_at, last_session_seq, verified_by, verified_attributes) \
     VALUES ($1, $2, 'waiting', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, 1, $17, $18)";

/// Bind `NEW_SESSION_INSERT`'s `$1`…`$18` on `$query` (a new session's first event is 1, held
/// by the row from the start).
macro_rules! bind_new_session {
    ($query:expr, $org:expr, $new:expr, $now:expr, $fields:expr) => {{
        let (kind, queue_user, queue_team) = queue_columns($new.queue);
        $query
            .bind($org.0)
            .bind($new.site.map(|s| s.0))
            .bind($new.start_method.as_str())
            .bind(kind)
            .bind(queue_user)
            .bind(queue_team)
            .bind($new.issue_type.map(|i| i.0))
            .bind($new.customer_name)
            .bind($new.company)
            .bind($new.company_code)
            .bind($new.description)
            .bind($fields)
            .bind($new.language)
            .bind($new.verified)
            .bind($new.capability_digest)
            .bind($now.millis())
            .bind($new.verified_by)
            .bind($new.verified_attributes)
    }};
}

/// The `queued` event a new session is logged with.
fn queued_event(new: &NewSupportSession<'_>) -> SessionEvent {
    SessionEvent::Queued {
        queue: new.queue,
        reason: new.routing_reason.to_owned(),
    }
}

/// Insert a waiting session and its `queued` event in transaction `$tx`; evaluates to (id, event).
macro_rules! insert_session {
    ($tx:expr, $org:expr, $new:expr, $now:expr) => {{
        let fields = serde_json::to_string($new.fields)?;
        let id: i64 = bind_new_session!(
            sqlx::query_scalar(&format!("{NEW_SESSION_INSERT} RETURNING id")),
            $org,
            $new,
            $now,
            &fields
        )
        .fetch_one(&mut *$tx)
        .await?;
        // The row was inserted holding its first event's number.
        let queued = append_event!($tx, $org, SessionId(id), &queued_event($new), $now, 1i64);
        (SessionId(id), queued)
    }};
}

/// A session start on PostgreSQL as one statement, committed on its own: the row, the
/// organization's next number and the `queued` event. Every start of the organization waits
/// for that number's row until the start commits; as one statement it is held for no round
/// trip at all (in a transaction, three: the number, the event, `COMMIT`).
async fn create_support_session_pg(
    pool: &sqlx::PgPool,
    org: OrgId,
    new: &NewSupportSession<'_>,
    now: Timestamp,
) -> StoreResult<(SessionId, Committed)> {
    let fields = serde_json::to_string(new.fields)?;
    let event = queued_event(new);
    let payload = serde_json::to_string(&event)?;
    let sql = format!(
        "WITH session AS ({NEW_SESSION_INSERT} RETURNING id), numbered AS ({ORG_NEXT_NUMBER}), \
         logged AS ({INSERT_EVENT} \
           SELECT $1, last_event_seq, session.id, $19, $20, $16, 1 FROM session, numbered \
           RETURNING seq) \
         SELECT session.id, logged.seq FROM session, logged"
    );
    let (id, seq): (i64, i64) = bind_new_session!(sqlx::query_as(&sql), org, new, now, &fields)
        .bind(event.kind())
        .bind(&payload)
        .fetch_one(pool)
        .await?;
    Ok((
        SessionId(id),
        Committed {
            seq,
            kind: event.kind(),
        },
    ))
}

impl Store {
    /// Queue a new support session; returns its id and its `queued` event.
    pub async fn create_support_session(
        &self,
        org: OrgId,
        new: &NewSupportSession<'_>,
        now: Timestamp,
    ) -> StoreResult<(SessionId, Committed)> {
        match &self.pool {
            Pool::Sqlite(p, _) => {
                let mut tx = p.begin_write().await?;
                let created = insert_session!(tx, org, new, now);
                tx.commit().await?;
                Ok(created)
            }
            Pool::Postgres(p) => create_support_session_pg(p, org, new, now).await,
        }
    }

    /// Use session key `key_id` and queue the session it opens, in one transaction:
    /// None (and nothing queued) when the key is no longer live.
    pub async fn create_support_session_with_key(
        &self,
        org: OrgId,
        key_id: i64,
        new: &NewSupportSession<'_>,
        now: Timestamp,
    ) -> StoreResult<Option<(SessionId, Committed)>> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let used = sqlx::query(
                "UPDATE session_keys SET used_at = $1 WHERE id = $2 AND org_id = $3 \
                 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
            )
            .bind(now.millis()).bind(key_id).bind(org.0)
            .execute(&mut *tx).await?.rows_affected() == 1;
            if !used {
                return Ok(None);
            }
            let (id, queued) = insert_session!(tx, org, new, now);
            sqlx::query("UPDATE session_keys SET session_id = $1 WHERE id = $2")
                .bind(id.0).bind(key_id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(Some((id, queued)))
        })
    }

    /// The session a customer holds the capability for (its token's digest), in any organization.
    pub async fn session_by_capability(&self, digest: &str) -> StoreResult<Option<SupportSession>> {
        let sql =
            format!("SELECT {SESSION_COLUMNS} FROM support_sessions WHERE capability_digest = $1");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(digest).fetch_optional(p).await)?)
    }

    /// 1 for the first in line. Order: priority, then arrival, then id. Two counts (higher
    /// priority; same priority and earlier) so each is one range of `support_sessions_line`.
    pub async fn queue_position(&self, session: &SupportSession) -> StoreResult<i64> {
        let in_line = format!(
            "SELECT COUNT(*) FROM support_sessions WHERE org_id = $1 AND state = 'waiting' AND {}",
            same_queue(2)
        );
        let sql = format!(
            "SELECT ({in_line} AND priority > $5) + \
             ({in_line} AND priority = $5 AND (queued_at, id) < ($6, $7))"
        );
        let ahead: i64 = on_pool!(self, p => sqlx::query_scalar(&sql)
            .bind(session.org_id.0).bind(&session.queue_kind).bind(session.queue_user_id).bind(session.queue_team_id)
            .bind(session.priority).bind(session.queued_at.millis()).bind(session.id.0)
            .fetch_one(p).await)?;
        Ok(ahead + 1)
    }

    /// How long the last `limit` accepted sessions of this queue waited (ms), newest first.
    pub async fn recent_waits(
        &self,
        org: OrgId,
        queue: Queue,
        limit: i64,
    ) -> StoreResult<Vec<i64>> {
        let (kind, rep, team) = queue_columns(queue);
        let sql = format!(
            "SELECT accepted_at - queued_at FROM support_sessions WHERE org_id = $1 \
             AND accepted_at IS NOT NULL AND {} ORDER BY accepted_at DESC LIMIT $5",
            same_queue(2)
        );
        Ok(on_pool!(self, p => sqlx::query_scalar(&sql)
            .bind(org.0).bind(kind).bind(rep).bind(team)
            .bind(limit).fetch_all(p).await)?)
    }

    /// The sessions waiting in this queue, first in line first (priority, arrival, id): one
    /// read per change of the queue, shared by every waiting page that shows a position.
    pub async fn line(&self, org: OrgId, queue: Queue) -> StoreResult<Vec<SessionId>> {
        let (kind, rep, team) = queue_columns(queue);
        let sql = format!(
            "SELECT id FROM support_sessions WHERE org_id = $1 AND state = 'waiting' AND {} \
             ORDER BY priority DESC, queued_at, id",
            same_queue(2)
        );
        let ids: Vec<i64> = on_pool!(self, p => sqlx::query_scalar(&sql)
            .bind(org.0).bind(kind).bind(rep).bind(team).fetch_all(p).await)?;
        Ok(ids.into_iter().map(SessionId).collect())
    }

    pub async fn support_session(
        &self,
        org: OrgId,
        id: SessionId,
    ) -> StoreResult<Option<SupportSession>> {
        let sql =
            format!("SELECT {SESSION_COLUMNS} FROM support_sessions WHERE org_id = $1 AND id = $2");
        Ok(
            on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).bind(id.0).fetch_optional(p).await)?,
        )
    }

    /// Take a waiting session for `rep`, within their session `limit`. Exactly one of any
    /// number of concurrent callers wins; the rest learn it is gone. The limit is checked in the
    /// same transaction, after locking the rep's row, so two tabs cannot both take the last slot.
    pub async fn claim_session(
        &self,
        org: OrgId,
        id: SessionId,
        rep: UserId,
        limit: i64,
        now: Timestamp,
    ) -> StoreResult<Claim> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let claim = claim_in!(tx, org, id, rep, limit, now);
            if matches!(claim, Claim::Won { .. }) {
                tx.commit().await?;
            }
            Ok(claim)
        })
    }

    /// End a session (customer cancel with `by` = None, or its owner closing it).
    /// None when the state machine refuses (already ended, not the owner, ...).
    pub async fn end_session(
        &self,
        org: OrgId,
        id: SessionId,
        outcome: Outcome,
        by: Option<UserId>,
        notes: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Option<Committed>> {
        let Some(current) = self.support_session(org, id).await? else {
            return Ok(None);
        };
        let Ok((_, event)) = session::end(current.session_state()?, outcome, by) else {
            return Ok(None);
        };
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            // Conditional on the state we decided from, so a concurrent change makes this a no-op.
            let done = sqlx::query(
                "UPDATE support_sessions SET state = 'ended', outcome = $1, ended_at = $2, notes = $7 \
                 WHERE id = $3 AND org_id = $4 AND state = $5 \
                 AND COALESCE(owner_user_id, 0) = COALESCE($6, 0)",
            )
            .bind(outcome.as_str()).bind(now.millis()).bind(id.0).bind(org.0)
            .bind(current.state.as_str()).bind(current.owner_user_id).bind(notes)
            .execute(&mut *tx).await?.rows_affected() == 1;
            if !done {
                return Ok(None);
            }
            let ended = append_event!(tx, org, id, &event, now);
            tx.commit().await?;
            Ok(Some(ended))
        })
    }

    /// Record what became of the customer's screen share in an active session (an event in
    /// its log, a system line in its chat). None when the session is not active.
    pub async fn record_screen_sharing(
        &self,
        org: OrgId,
        session: SessionId,
        step: domain::session::SharingStep,
        now: Timestamp,
    ) -> StoreResult<Option<Committed>> {
        let event = SessionEvent::ScreenSharing { step };
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let active: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM support_sessions WHERE id = $1 AND org_id = $2 AND state = 'active'",
            )
            .bind(session.0).bind(org.0)
            .fetch_optional(&mut *tx).await?;
            if active.is_none() {
                return Ok(None);
            }
            let committed = append_event!(tx, org, session, &event, now);
            tx.commit().await?;
            Ok(Some(committed))
        })
    }

    /// Events of the organization after `after_seq`, oldest first (how a reconnecting client resumes).
    pub async fn events_after(
        &self,
        org: OrgId,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>> {
        let sql =
            "SELECT seq, session_seq, session_id, kind, payload, created_at FROM session_events \
                   WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";
        Ok(on_pool!(self, p => sqlx::query_as(sql)
            .bind(org.0).bind(after_seq).bind(limit).fetch_all(p).await)?)
    }

    /// The event log of one session ("why was it routed here").
    pub async fn session_events(&self, org: OrgId, id: SessionId) -> StoreResult<Vec<StoredEvent>> {
        let sql =
            "SELECT seq, session_seq, session_id, kind, payload, created_at FROM session_events \
                   WHERE org_id = $1 AND session_id = $2 ORDER BY seq";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(org.0).bind(id.0).fetch_all(p).await)?)
    }

    /// Every organization's newest event sequence number (how a node notices announcements it
    /// never received).
    pub async fn latest_event_seqs(&self) -> StoreResult<Vec<(OrgId, i64)>> {
        let sql = "SELECT id, last_event_seq FROM organizations";
        let rows: Vec<(i64, i64)> = on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(org, seq)| (OrgId(org), seq))
            .collect())
    }

    /// The organization's newest event sequence number (0 before any event).
    pub async fn latest_event_seq(&self, org: OrgId) -> StoreResult<i64> {
        let sql = "SELECT last_event_seq FROM organizations WHERE id = $1";
        let seq: Option<i64> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(org.0).fetch_optional(p).await)?;
        Ok(seq.unwrap_or(0))
    }
}
