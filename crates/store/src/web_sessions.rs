//! Signed-in browser sessions. The cookie holds a random token; only its digest is stored.

use crate::pool::on_pool;
use crate::users::{User, USER_COLUMNS};
use crate::{Store, StoreResult};
use domain::{Timestamp, UserId};

impl Store {
    pub async fn create_web_session(
        &self,
        token_digest: &str,
        user: UserId,
        now: Timestamp,
        expires: Timestamp,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO web_sessions (token_digest, user_id, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4)";
        on_pool!(self, p => sqlx::query(sql)
            .bind(token_digest).bind(user.0).bind(now.millis()).bind(expires.millis())
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The active user signed in with this session, if it has not expired.
    pub async fn signed_in_user(
        &self,
        token_digest: &str,
        now: Timestamp,
    ) -> StoreResult<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM web_sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_digest = $1 AND s.expires_at > $2 AND u.active = TRUE"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql)
            .bind(token_digest).bind(now.millis()).fetch_optional(p).await)?)
    }

    pub async fn delete_web_session(&self, token_digest: &str) -> StoreResult<()> {
        let sql = "DELETE FROM web_sessions WHERE token_digest = $1";
        on_pool!(self, p => sqlx::query(sql).bind(token_digest).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Sign the user out everywhere but here (after a password change or deactivation).
    pub async fn delete_other_web_sessions(
        &self,
        user: UserId,
        keep_digest: Option<&str>,
    ) -> StoreResult<u64> {
        let sql = "DELETE FROM web_sessions WHERE user_id = $1 AND token_digest <> $2";
        let done = on_pool!(self, p => sqlx::query(sql)
            .bind(user.0).bind(keep_digest.unwrap_or("")).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done)
    }

    pub async fn delete_expired_web_sessions(&self, now: Timestamp) -> StoreResult<u64> {
        let sql = "DELETE FROM web_sessions WHERE expires_at <= $1";
        let done = on_pool!(self, p => sqlx::query(sql).bind(now.millis()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done)
    }
}
