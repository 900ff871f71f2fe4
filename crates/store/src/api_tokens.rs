//! API tokens: made and revoked by an organization's admins (audited in the same transaction),
//! looked up by digest on every API call.

use crate::audit::{audit_in, AuditRow};
use crate::pool::{on_pool, BeginWrite};
use crate::{Store, StoreResult};
use domain::{OrgId, Timestamp, UserId};

/// A token as kept: never the token itself.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct ApiTokenRow {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub org_id: OrgId,
    pub name: String,
    pub scopes: String,
    pub shown_part: String,
    pub created_by_name: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub struct NewApiToken<'a> {
    pub org: OrgId,
    pub name: &'a str,
    /// `Scopes::stored()`.
    pub scopes: &'a str,
    pub digest: &'a str,
    pub shown_part: &'a str,
    pub created_by: UserId,
}

const SELECT: &str = "SELECT t.id, t.org_id, t.name, t.scopes, t.shown_part, \
     u.display_name AS created_by_name, t.created_at, t.last_used_at, t.revoked_at \
     FROM api_tokens t LEFT JOIN users u ON u.id = t.created_by";

/// A token's last use is written at most this often: a busy integration does not turn every
/// read into a write.
const LAST_USE_EVERY_MS: i64 = 60_000;

impl Store {
    pub async fn create_api_token(
        &self,
        new: &NewApiToken<'_>,
        audit: &AuditRow<'_>,
        now: Timestamp,
    ) -> StoreResult<i64> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_tokens (org_id, name, scopes, digest, shown_part, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(new.org.0).bind(new.name).bind(new.scopes).bind(new.digest)
            .bind(new.shown_part).bind(new.created_by.0).bind(now.millis())
            .fetch_one(&mut *tx).await?;
            audit_in!(tx, audit, now);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// The organization's tokens, live ones first, newest first.
    pub async fn api_tokens(&self, org: OrgId) -> StoreResult<Vec<ApiTokenRow>> {
        let sql =
            format!("{SELECT} WHERE t.org_id = $1 ORDER BY (t.revoked_at IS NULL) DESC, t.id DESC");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).fetch_all(p).await)?)
    }

    /// The live token with this digest, whichever organization it belongs to.
    pub async fn live_api_token(&self, digest: &str) -> StoreResult<Option<ApiTokenRow>> {
        let sql = format!("{SELECT} WHERE t.digest = $1 AND t.revoked_at IS NULL");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(digest).fetch_optional(p).await)?)
    }

    /// Note a use of the token (at most once a minute).
    pub async fn note_api_token_use(&self, id: i64, now: Timestamp) -> StoreResult<()> {
        let sql = "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 \
                   AND (last_used_at IS NULL OR last_used_at < $3)";
        on_pool!(self, p => sqlx::query(sql).bind(now.millis()).bind(id)
            .bind(now.millis() - LAST_USE_EVERY_MS).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Revoke a live token of `org`: false when there is none (already revoked, another's).
    pub async fn revoke_api_token(
        &self,
        org: OrgId,
        id: i64,
        audit: &AuditRow<'_>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let done = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND org_id = $3 AND revoked_at IS NULL",
            )
            .bind(now.millis()).bind(id).bind(org.0).execute(&mut *tx).await?.rows_affected();
            if done == 1 {
                audit_in!(tx, audit, now);
            }
            tx.commit().await?;
            Ok(done == 1)
        })
    }
}
