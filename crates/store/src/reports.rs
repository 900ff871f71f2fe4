//! The facts reports are made of: one row per session of a range, with how often a rep
//! transferred it (from its log) and its survey rating.

use crate::pool::on_pool;
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

impl Store {
    /// The sessions of `org` that arrived in [`from`, `to`), with their facts.
    pub async fn report_facts(
        &self,
        org: OrgId,
        from: Timestamp,
        to: Timestamp,
        filter: &ReportFilter,
    ) -> StoreResult<Vec<FactsRow>> {
        let sql = "SELECT s.id, s.queued_at, s.accepted_at, s.ended_at, s.outcome, \
             s.start_method, s.site_id, s.queue_team_id, s.owner_user_id, \
             (SELECT COUNT(*) FROM session_events e WHERE e.session_id = s.id \
               AND e.kind = 'requeued' AND e.payload LIKE '%Transferred by %') AS transfers, \
             v.rating \
             FROM support_sessions s LEFT JOIN session_surveys v ON v.session_id = s.id \
             WHERE s.org_id = $1 AND s.queued_at >= $2 AND s.queued_at < $3 \
             AND ($4 IS NULL OR s.site_id = $4) AND ($5 IS NULL OR s.queue_team_id = $5) \
             AND ($6 IS NULL OR s.start_method = $6) ORDER BY s.id";
        Ok(on_pool!(self, p => sqlx::query_as(sql)
            .bind(org.0).bind(from.millis()).bind(to.millis())
            .bind(filter.site.map(|s| s.0)).bind(filter.team.map(|t| t.0))
            .bind(filter.method.as_deref()).fetch_all(p).await)?)
    }
}
