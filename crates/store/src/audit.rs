//! Who changed what: an append-only record admins can read.

use crate::pool::on_pool;
use crate::{Store, StoreResult};
use domain::{OrgId, Timestamp, UserId};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_name: Option<String>,
    pub action: String,
    pub detail: String,
    #[sqlx(try_from = "i64")]
    pub created_at: Timestamp,
}

/// Who did what, recorded inside the transaction of the change itself.
pub struct AuditRow<'a> {
    pub org: Option<OrgId>,
    pub actor: Option<UserId>,
    pub action: &'a str,
    pub detail: &'a str,
}

/// Insert `$row` (an `AuditRow`) in transaction `$tx`.
macro_rules! audit_in_impl {
    ($tx:expr, $row:expr, $now:expr) => {{
        sqlx::query(
            "INSERT INTO audit_log (org_id, actor_user_id, action, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind($row.org.map(|o| o.0))
        .bind($row.actor.map(|a| a.0))
        .bind($row.action)
        .bind($row.detail)
        .bind($now.millis())
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use audit_in_impl as audit_in;

impl Store {
    pub async fn record_audit(
        &self,
        org: Option<OrgId>,
        actor: Option<UserId>,
        action: &str,
        detail: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO audit_log (org_id, actor_user_id, action, detail, created_at) \
                   VALUES ($1, $2, $3, $4, $5)";
        on_pool!(self, p => sqlx::query(sql)
            .bind(org.map(|o| o.0)).bind(actor.map(|a| a.0)).bind(action).bind(detail)
            .bind(now.millis()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The newest entries first.
    pub async fn audit_entries(&self, org: OrgId, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let sql = "SELECT a.id, u.display_name AS actor_name, a.action, a.detail, a.created_at \
                   FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id \
                   WHERE a.org_id = $1 ORDER BY a.id DESC LIMIT $2";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(org.0).bind(limit).fetch_all(p).await)?)
    }
}
