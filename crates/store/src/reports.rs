//! The facts reports are made of: one row per session of a range, with how often a rep
//! transferred it (from its log) and its survey rating.

use crate::{Store, StoreResult};
use domain::report::SessionFacts;
use domain::{OrgId, SiteId, TeamId, Timestamp};

/// Which sessions a report counts; each part unset counts all.
#[derive(Debug, Default, Clone)]
pub struct ReportFilter {
    pub site: Option<SiteId>,
    pub team: Option<TeamId>,
    pub method: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FactsRow {
    pub id: i64,
    pub queued_at: i64,
    pub accepted_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub outcome: Option<String>,
    pub start_method: String,
    pub site_id: Option<i64>,
    pub queue_team_id: Option<i64>,
    pub owner_user_id: Option<i64>,
    pub transfers: i64,
    pub rating: Option<i64>,
}

impl FactsRow {
    pub fn facts(&self) -> SessionFacts {
        SessionFacts {
            queued_at: Timestamp(self.queued_at),
            accepted_at: self.accepted_at.map(Timestamp),
            ended_at: self.ended_at.map(Timestamp),
            outcome: self.outcome.clone(),
            transfers: self.transfers,
            rating: self.rating,
        }
    }
}

/// Rows per chunk on SQLite: each chunk is one value holding its rows as a JSON array of arrays.
const CHUNK: usize = 10_000;

/// The facts of a session as one array, in the columns' order.
type Packed = (
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    Option<i64>,
);

/// The facts of the sessions after a key, in arrival order, a chunk at most. The transfers
/// are counted from the session's log (requeues a rep made).
const FACTS: &str = "SELECT s.id, s.queued_at, s.accepted_at, s.ended_at, s.outcome, \
     s.start_method, s.site_id, s.queue_team_id, s.owner_user_id, \
     (SELECT COUNT(*) FROM session_events e WHERE e.session_id = s.id \
       AND e.kind = 'requeued' AND e.payload LIKE '%Transferred by %') AS transfers, \
     v.rating \
     FROM support_sessions s LEFT JOIN session_surveys v ON v.session_id = s.id \
     WHERE s.org_id = $1 AND s.queued_at >= $2 AND s.queued_at < $3 \
     AND ($4 IS NULL OR s.site_id = $4) AND ($5 IS NULL OR s.queue_team_id = $5) \
     AND ($6 IS NULL OR s.start_method = $6) AND (s.queued_at, s.id) > ($7, $8) \
     ORDER BY s.queued_at, s.id LIMIT $9";

/// Bind a report's parameters to `$query` (`FACTS`, or a query around it).
macro_rules! bind_facts {
    ($query:expr, $org:expr, ($from:expr, $to:expr), $filter:expr, ($after:expr, $limit:expr)) => {
        $query
            .bind($org.0)
            .bind($from.millis())
            .bind($to.millis())
            .bind($filter.site.map(|s| s.0))
            .bind($filter.team.map(|t| t.0))
            .bind($filter.method.as_deref())
            .bind($after.0)
            .bind($after.1)
            .bind($limit)
    };
}

impl Store {
    /// The sessions of `org` that arrived in [`from`, `to`), with their facts, in arrival order,
    /// read in chunks that follow each other by (arrival, id).
    ///
    /// A month of a busy desk is tens of thousands of rows. Read one by one, SQLite's driver
    /// spent a second handing them over (a copy and an allocation per value, a channel send per
    /// row: `perf`, docs/benchmarks.md), so SQLite packs each chunk into one JSON value.
    /// PostgreSQL's rows cost little to read, and packing them cost it more than it saved
    /// (0.35-0.5 s a month unpacked, 0.8-1.4 s packed), so it sends rows, in one chunk: after
    /// five executions it plans a prepared statement generically, and that plan read the whole
    /// range and sorted it for every chunk (EXPLAIN: 334 ms a chunk against 81 ms).
    pub async fn report_facts(
        &self,
        org: OrgId,
        from: Timestamp,
        to: Timestamp,
        filter: &ReportFilter,
    ) -> StoreResult<Vec<FactsRow>> {
        let packed = format!(
            "SELECT json_group_array(json_array(id, queued_at, accepted_at, ended_at, outcome, \
             start_method, site_id, queue_team_id, owner_user_id, transfers, rating)) \
             FROM ({FACTS}) AS f"
        );
        let limit = match self.pool {
            crate::pool::Pool::Sqlite(..) => CHUNK as i64,
            crate::pool::Pool::Postgres(_) => i64::MAX,
        };
        let mut facts = Vec::new();
        let mut after = (i64::MIN, i64::MIN);
        loop {
            let chunk: Vec<FactsRow> = match &self.pool {
                crate::pool::Pool::Sqlite(p, _) => {
                    let query = sqlx::query_scalar(&packed);
                    let json: String = bind_facts!(query, org, (from, to), filter, (after, limit))
                        .fetch_one(p)
                        .await?;
                    let rows: Vec<Packed> = serde_json::from_str(&json)?;
                    rows.into_iter().map(FactsRow::from).collect()
                }
                crate::pool::Pool::Postgres(p) => {
                    let query = sqlx::query_as(FACTS);
                    bind_facts!(query, org, (from, to), filter, (after, limit))
                        .fetch_all(p)
                        .await?
                }
            };
            // The next chunk starts after this one's last (by key: an aggregate keeps no order).
            let last = chunk.iter().map(|row| (row.queued_at, row.id)).max();
            let full = chunk.len() as i64 == limit;
            facts.extend(chunk);
            match last {
                Some(last) if full => after = last,
                _ => break,
            }
        }
        facts.sort_unstable_by_key(|row| (row.queued_at, row.id));
        Ok(facts)
    }
}

impl From<Packed> for FactsRow {
    fn from(p: Packed) -> Self {
        FactsRow {
            id: p.0,
            queued_at: p.1,
            accepted_at: p.2,
            ended_at: p.3,
            outcome: p.4,
            start_method: p.5,
            site_id: p.6,
            queue_team_id: p.7,
            owner_user_id: p.8,
            transfers: p.9,
            rating: p.10,
        }
    }
}
