//! Notices in the event log: when a notice's window opens (at its creation, or at its start
//! time) and when it closes (ended now, deleted, or at its end time), an event of no session
//! is appended to its organization's log, once, whichever node notices it first. Webhooks
//! (`notice.started`, `notice.ended`) and live pages follow the log.

use crate::pool::{on_pool, BeginWrite};
use crate::support::Committed;
use crate::{Store, StoreResult};
use domain::{NoticeId, OrgId, SiteId, Timestamp};

pub const NOTICE_STARTED: &str = "notice_started";
pub const NOTICE_ENDED: &str = "notice_ended";

/// A notice's window opened or closed, as logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeLogged {
    pub org: OrgId,
    pub site: SiteId,
    pub committed: Committed,
}

#[derive(sqlx::FromRow)]
struct Due {
    id: i64,
    org_id: i64,
    site_id: i64,
    name: String,
    severity: String,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    start_logged: bool,
}

/// Notices logged per sweep at most (the rest on the next).
const PER_SWEEP: i64 = 100;

const DUE: &str = "SELECT id, org_id, site_id, name, severity, starts_at, ends_at, start_logged \
     FROM notices WHERE NOT end_logged \
     AND ((NOT start_logged AND (starts_at IS NULL OR starts_at <= $1)) \
       OR (ends_at IS NOT NULL AND ends_at <= $1))";

/// Log what is due of the notices `$due` selects (bound: now, then `$more`), inside write
/// transaction `$tx`; evaluates to the events logged. Each flag is set conditionally, so a
/// second node doing the same at once logs nothing twice.
macro_rules! log_due {
    ($tx:expr, $sql:expr, $now:expr $(, $more:expr)*) => {{
        let due: Vec<Due> = sqlx::query_as($sql).bind($now.millis())$(.bind($more))*
            .fetch_all(&mut *$tx).await?;
        let mut logged = Vec::new();
        for notice in &due {
            let started_now = !notice.start_logged;
            let ends = notice.ends_at.is_some_and(|at| at <= $now.millis());
            let steps = [(started_now, "start_logged", NOTICE_STARTED), (ends, "end_logged", NOTICE_ENDED)];
            for (due, flag, kind) in steps {
                if !due {
                    continue;
                }
                let set = format!("UPDATE notices SET {flag} = TRUE WHERE id = $1 AND NOT {flag}");
                let changed = sqlx::query(&set).bind(notice.id).execute(&mut *$tx).await?.rows_affected();
                if changed != 1 {
                    continue;
                }
                let payload = notice.payload()?;
                let row = crate::support::EventRow {
                    org: notice.org_id,
                    session: None,
                    kind,
                    payload: &payload,
                    at: $now.millis(),
                    session_seq: None,
                };
                let seq = crate::support::AppendEvent::append(&mut *$tx, &row).await?;
                logged.push(NoticeLogged {
                    org: OrgId(notice.org_id),
                    site: SiteId(notice.site_id),
                    committed: Committed { seq, kind },
                });
            }
        }
        logged
    }};
}

impl Due {
    /// What the log (and a webhook's `data.event`) says of the notice.
    fn payload(&self) -> StoreResult<String> {
        Ok(serde_json::to_string(&serde_json::json!({
            "notice_id": self.id,
            "site_id": self.site_id,
            "name": self.name,
            "severity": self.severity,
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
        }))?)
    }
}

impl Store {
    /// Log every notice window that opened or closed by `now` and is not logged yet.
    pub async fn log_notice_windows(&self, now: Timestamp) -> StoreResult<Vec<NoticeLogged>> {
        let sql = format!("{DUE} ORDER BY id LIMIT {PER_SWEEP}");
        Ok(on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let logged = log_due!(tx, &sql, now);
            tx.commit().await?;
            logged
        }))
    }

    /// Delete a notice of `org`: a window still open closes first (logged in the same
    /// transaction). None when `org` has no such notice.
    pub async fn delete_notice(
        &self,
        org: OrgId,
        id: NoticeId,
        now: Timestamp,
    ) -> StoreResult<Option<Vec<NoticeLogged>>> {
        let _changed = self.portal_change();
        let close = "UPDATE notices SET ends_at = $1 WHERE org_id = $2 AND id = $3 \
                     AND start_logged AND (ends_at IS NULL OR ends_at > $1)";
        let sql = format!("{DUE} AND org_id = $2 AND id = $3");
        let delete = "DELETE FROM notices WHERE org_id = $1 AND id = $2";
        Ok(on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            // A start not logged yet is logged first, so that the close below follows it.
            let mut logged = log_due!(tx, &sql, now, org.0, id.0);
            sqlx::query(close).bind(now.millis()).bind(org.0).bind(id.0).execute(&mut *tx).await?;
            logged.extend(log_due!(tx, &sql, now, org.0, id.0));
            let deleted = sqlx::query(delete).bind(org.0).bind(id.0).execute(&mut *tx).await?;
            if deleted.rows_affected() != 1 {
                return Ok(None);
            }
            tx.commit().await?;
            Some(logged)
        }))
    }
}
