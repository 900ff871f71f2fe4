//! First start: a one-time token lets whoever holds it create the first organization.

use crate::orgs::{insert_org_with_admin, NewOrganization};
use crate::pool::{on_pool, BeginWrite};
use crate::users::NewUser;
use crate::{Store, StoreResult};
use domain::{OrgId, Timestamp, UserId};

impl Store {
    /// Forget any earlier setup token and keep this one (each start of an empty instance makes a new one).
    pub async fn replace_setup_token(&self, token_digest: &str, now: Timestamp) -> StoreResult<()> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM setup_tokens").execute(&mut *tx).await?;
            sqlx::query("INSERT INTO setup_tokens (token_digest, created_at) VALUES ($1, $2)")
                .bind(token_digest).bind(now.millis()).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn setup_token_valid(&self, token_digest: &str) -> StoreResult<bool> {
        let sql = "SELECT COUNT(*) FROM setup_tokens WHERE token_digest = $1";
        let n: i64 =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(token_digest).fetch_one(p).await)?;
        Ok(n == 1)
    }

    /// Use the token: create the first organization and its admin, and burn every setup token.
    /// None when the token is unknown (already used, or never issued).
    pub async fn complete_setup(
        &self,
        token_digest: &str,
        org: &NewOrganization<'_>,
        admin: &NewUser<'_>,
        now: Timestamp,
    ) -> StoreResult<Option<(OrgId, UserId)>> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            // The delete comes first: it takes the write lock, and exactly one caller sees a row.
            let burned = sqlx::query("DELETE FROM setup_tokens WHERE token_digest = $1")
                .bind(token_digest).execute(&mut *tx).await?.rows_affected();
            let orgs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
                .fetch_one(&mut *tx).await?;
            if burned != 1 || orgs != 0 {
                return Ok(None);
            }
            sqlx::query("DELETE FROM setup_tokens").execute(&mut *tx).await?;
            let ids = insert_org_with_admin!(tx, org, admin, now);
            tx.commit().await?;
            Ok(Some(ids))
        })
    }
}
