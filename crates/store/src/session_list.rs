//! Support sessions listed for the API: filtered, newest first, a page at a time with the last
//! id seen as the cursor (keyset paging: a page costs the same however deep it is).

use crate::pool::on_pool;
use crate::support::{SupportSession, SESSION_COLUMNS};
use crate::{Store, StoreResult};
use domain::session::Status;
use domain::{OrgId, SiteId, Timestamp};

/// Which sessions; each part unset matches all.
#[derive(Debug, Default, Clone)]
pub struct SessionFilter {
    pub state: Option<Status>,
    pub site: Option<SiteId>,
    /// The start method's stored name (`contact`, `issue_form`, …).
    pub method: Option<String>,
    /// Queued at or after.
    pub since: Option<Timestamp>,
    /// Queued before.
    pub until: Option<Timestamp>,
}

impl Store {
    /// Sessions of `org` matching `filter` with ids below `before`, newest first, at most `limit`.
    pub async fn sessions_page(
        &self,
        org: OrgId,
        filter: &SessionFilter,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<SupportSession>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM support_sessions WHERE org_id = $1 AND id < $2 \
             AND ($3 IS NULL OR state = $3) AND ($4 IS NULL OR site_id = $4) \
             AND ($5 IS NULL OR start_method = $5) AND ($6 IS NULL OR queued_at >= $6) \
             AND ($7 IS NULL OR queued_at < $7) ORDER BY id DESC LIMIT $8"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql)
            .bind(org.0)
            .bind(before.unwrap_or(i64::MAX))
            .bind(filter.state.map(Status::as_str))
            .bind(filter.site.map(|s| s.0))
            .bind(filter.method.as_deref())
            .bind(filter.since.map(|t| t.millis()))
            .bind(filter.until.map(|t| t.millis()))
            .bind(limit)
            .fetch_all(p).await)?)
    }
}
