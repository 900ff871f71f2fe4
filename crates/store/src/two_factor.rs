//! Two-factor sign-in for staff: each user's TOTP secret (pending until a first code confirms
//! it) with the last time step accepted, their one-time recovery codes (digests only), and the
//! sign-ins that passed the password and wait for their second step.

use crate::pool::{on_pool, BeginWrite};
use crate::{Store, StoreResult};
use domain::{OrgId, Timestamp, UserId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TwoFactor {
    /// Base32, as authenticator apps take it.
    pub secret: String,
    /// None while the enrolment waits for its first code.
    pub enabled_at: Option<i64>,
    pub last_step: i64,
}

impl TwoFactor {
    pub fn enabled(&self) -> bool {
        self.enabled_at.is_some()
    }
}

/// A sign-in waiting for its second step.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Challenge {
    pub user_id: i64,
    pub org_id: i64,
    pub next_path: Option<String>,
    pub attempts: i64,
}

impl Store {
    pub async fn two_factor_of(&self, user: UserId) -> StoreResult<Option<TwoFactor>> {
        let sql = "SELECT secret, enabled_at, last_step FROM two_factor WHERE user_id = $1";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(user.0).fetch_optional(p).await)?)
    }

    /// Keep `secret` as the user's pending enrolment, unless two-factor is already on.
    pub async fn start_two_factor(&self, user: UserId, secret: &str) -> StoreResult<()> {
        let sql = "INSERT INTO two_factor (user_id, secret) VALUES ($1, $2) \
                   ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = 0 \
                   WHERE two_factor.enabled_at IS NULL";
        on_pool!(self, p => sqlx::query(sql).bind(user.0).bind(secret).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Turn the pending enrolment on, its first code's step accepted, with fresh recovery
    /// codes (their digests). False when there was none pending.
    pub async fn enable_two_factor(
        &self,
        user: UserId,
        step: i64,
        recovery_digests: &[String],
        now: Timestamp,
    ) -> StoreResult<bool> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let done = sqlx::query(
                "UPDATE two_factor SET enabled_at = $1, last_step = $2 WHERE user_id = $3 AND enabled_at IS NULL",
            )
            .bind(now.millis()).bind(step).bind(user.0).execute(&mut *tx).await?.rows_affected();
            if done != 1 {
                return Ok(false);
            }
            replace_codes!(tx, user, recovery_digests);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// New recovery codes in place of the old ones.
    pub async fn replace_recovery_codes(
        &self,
        user: UserId,
        recovery_digests: &[String],
    ) -> StoreResult<()> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            replace_codes!(tx, user, recovery_digests);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Accept a code's time step once: false when this step (or a later one) was already
    /// used, so a code seen over someone's shoulder cannot be replayed, on any node.
    pub async fn accept_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        let sql = "UPDATE two_factor SET last_step = $1 \
                   WHERE user_id = $2 AND last_step < $1 AND enabled_at IS NOT NULL";
        let done = on_pool!(self, p => sqlx::query(sql).bind(step).bind(user.0)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Use a recovery code (by digest) once.
    pub async fn use_recovery_code(
        &self,
        user: UserId,
        digest: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let sql = "UPDATE recovery_codes SET used_at = $1 \
                   WHERE user_id = $2 AND code_digest = $3 AND used_at IS NULL";
        let done = on_pool!(self, p => sqlx::query(sql).bind(now.millis()).bind(user.0).bind(digest)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    pub async fn recovery_codes_left(&self, user: UserId) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(user.0).fetch_one(p).await)?)
    }

    /// Two-factor off for `user` of `org` (turned off, or reset by an admin). False when it
    /// was not set up.
    pub async fn remove_two_factor(&self, org: OrgId, user: UserId) -> StoreResult<bool> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let done = sqlx::query(
                "DELETE FROM two_factor WHERE user_id = $1 \
                 AND user_id IN (SELECT id FROM users WHERE org_id = $2)",
            )
            .bind(user.0).bind(org.0).execute(&mut *tx).await?.rows_affected();
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1 AND user_id IN (SELECT id FROM users WHERE org_id = $2)")
                .bind(user.0).bind(org.0).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(done == 1)
        })
    }

    pub async fn set_require_two_factor(&self, org: OrgId, required: bool) -> StoreResult<()> {
        let sql = "UPDATE organizations SET require_two_factor = $1 WHERE id = $2";
        on_pool!(self, p => sqlx::query(sql).bind(required).bind(org.0).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A sign-in that passed its password, reached by the token whose digest is given.
    pub async fn create_challenge(
        &self,
        token_digest: &str,
        user: UserId,
        next: Option<&str>,
        expires: Timestamp,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO sign_in_challenges (token_digest, user_id, next_path, expires_at) \
                   VALUES ($1, $2, $3, $4)";
        on_pool!(self, p => sqlx::query(sql).bind(token_digest).bind(user.0).bind(next)
            .bind(expires.millis()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The challenge behind a token, while it lasts.
    pub async fn challenge(
        &self,
        token_digest: &str,
        now: Timestamp,
    ) -> StoreResult<Option<Challenge>> {
        let sql = "SELECT c.user_id, u.org_id, c.next_path, c.attempts FROM sign_in_challenges c \
                   JOIN users u ON u.id = c.user_id WHERE c.token_digest = $1 AND c.expires_at > $2";
        Ok(
            on_pool!(self, p => sqlx::query_as(sql).bind(token_digest).bind(now.millis()).fetch_optional(p).await)?,
        )
    }

    /// Count a wrong code against the challenge.
    pub async fn challenge_failed(&self, token_digest: &str) -> StoreResult<()> {
        let sql = "UPDATE sign_in_challenges SET attempts = attempts + 1 WHERE token_digest = $1";
        on_pool!(self, p => sqlx::query(sql).bind(token_digest).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The challenge is settled (signed in, or given up); old ones go with it.
    pub async fn end_challenge(&self, token_digest: &str, now: Timestamp) -> StoreResult<()> {
        let sql = "DELETE FROM sign_in_challenges WHERE token_digest = $1 OR expires_at <= $2";
        on_pool!(self, p => sqlx::query(sql).bind(token_digest).bind(now.millis()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// Replace `$user`'s recovery codes with `$digests` inside transaction `$tx`.
macro_rules! replace_codes_impl {
    ($tx:expr, $user:expr, $digests:expr) => {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind($user.0)
            .execute(&mut *$tx)
            .await?;
        for digest in $digests {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_digest) VALUES ($1, $2)")
                .bind($user.0)
                .bind(digest)
                .execute(&mut *$tx)
                .await?;
        }
    };
}
use replace_codes_impl as replace_codes;
