//! Sign-in at an identity provider: logins on their way to a site's (or an organization's)
//! provider and back (used once), the SAML assertions seen, and the customers' identities that
//! came back, each reached by a cookie whose digest is kept.

use crate::pool::on_pool;
use crate::{Store, StoreResult};
use domain::{OrgId, SiteId, Timestamp};

/// Whose provider a login goes to: a site's (its customers) or an organization's (its staff).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFor {
    Site(SiteId),
    Staff(OrgId),
}

/// A login waiting for the provider's answer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingLogin {
    pub site_id: Option<i64>,
    pub org_id: Option<i64>,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next_path: Option<String>,
    /// What the provider vouched for, as JSON, once its answer was checked (SAML: the answer
    /// arrives without the browser's cookie, so it waits here for the browser to come back).
    pub vouched: Option<String>,
}

/// A customer the provider vouched for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PortalIdentity {
    pub site_id: i64,
    pub issuer: String,
    pub subject: String,
    /// The attributes, a JSON object of strings.
    pub attributes: String,
}

pub struct NewIdentity<'a> {
    pub token_digest: &'a str,
    pub site: SiteId,
    pub issuer: &'a str,
    pub subject: &'a str,
    pub attributes: &'a str,
    pub expires: Timestamp,
}

impl PendingLogin {
    /// Whether this login was started for `whom`.
    pub fn is_for(&self, whom: LoginFor) -> bool {
        match whom {
            LoginFor::Site(site) => self.site_id == Some(site.0),
            LoginFor::Staff(org) => self.org_id == Some(org.0),
        }
    }
}

impl Store {
    pub async fn start_sso_login(
        &self,
        state_digest: &str,
        whom: LoginFor,
        login: (&str, &str, Option<&str>),
        expires: Timestamp,
    ) -> StoreResult<()> {
        let (nonce, verifier, next) = login;
        let (site, org) = match whom {
            LoginFor::Site(site) => (Some(site.0), None),
            LoginFor::Staff(org) => (None, Some(org.0)),
        };
        let sql = "INSERT INTO sso_logins (state_digest, site_id, org_id, nonce, pkce_verifier, next_path, expires_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        on_pool!(self, p => sqlx::query(sql).bind(state_digest).bind(site).bind(org).bind(nonce)
            .bind(verifier).bind(next).bind(expires.millis()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The login a provider's answer names, taken (it is good once); expired ones go too.
    pub async fn take_sso_login(
        &self,
        state_digest: &str,
        now: Timestamp,
    ) -> StoreResult<Option<PendingLogin>> {
        let sql = "DELETE FROM sso_logins WHERE state_digest = $1 AND expires_at > $2 \
                   RETURNING site_id, org_id, nonce, pkce_verifier, next_path, vouched";
        let taken: Option<PendingLogin> = on_pool!(self, p => sqlx::query_as(sql).bind(state_digest)
            .bind(now.millis()).fetch_optional(p).await)?;
        let sweep = "DELETE FROM sso_logins WHERE expires_at <= $1";
        on_pool!(self, p => sqlx::query(sweep).bind(now.millis()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(taken)
    }

    /// The login `state_digest` names, while it lasts, left in place.
    pub async fn pending_sso_login(
        &self,
        state_digest: &str,
        now: Timestamp,
    ) -> StoreResult<Option<PendingLogin>> {
        let sql =
            "SELECT site_id, org_id, nonce, pkce_verifier, next_path, vouched FROM sso_logins \
                   WHERE state_digest = $1 AND expires_at > $2";
        Ok(
            on_pool!(self, p => sqlx::query_as(sql).bind(state_digest).bind(now.millis())
            .fetch_optional(p).await)?,
        )
    }

    /// Keep what the provider vouched for on its login, once: false when the login is gone,
    /// expired or already answered.
    pub async fn vouch_sso_login(
        &self,
        state_digest: &str,
        vouched: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let sql = "UPDATE sso_logins SET vouched = $2 \
                   WHERE state_digest = $1 AND vouched IS NULL AND expires_at > $3";
        let changed = on_pool!(self, p => sqlx::query(sql).bind(state_digest).bind(vouched)
            .bind(now.millis()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }

    /// Accept assertion `id` once: true the first time, false when it was seen before and has
    /// not yet expired. Kept until `expires` (when its own validity ends, after which the time
    /// checks refuse it anyway).
    pub async fn accept_assertion_once(
        &self,
        id: &str,
        expires: Timestamp,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let sweep = "DELETE FROM saml_assertions WHERE expires_at <= $1";
        on_pool!(self, p => sqlx::query(sweep).bind(now.millis()).execute(p).await.map(|r| r.rows_affected()))?;
        let sql = "INSERT INTO saml_assertions (assertion_id, expires_at) VALUES ($1, $2) \
                   ON CONFLICT (assertion_id) DO NOTHING";
        let added = on_pool!(self, p => sqlx::query(sql).bind(id)
            .bind(expires.millis()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(added == 1)
    }

    pub async fn save_portal_identity(
        &self,
        identity: &NewIdentity<'_>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO portal_identities (token_digest, site_id, issuer, subject, attributes, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        on_pool!(self, p => sqlx::query(sql).bind(identity.token_digest).bind(identity.site.0)
            .bind(identity.issuer).bind(identity.subject).bind(identity.attributes)
            .bind(now.millis()).bind(identity.expires.millis()).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The identity a cookie stands for on `site`, while it lasts.
    pub async fn portal_identity(
        &self,
        token_digest: &str,
        site: SiteId,
        now: Timestamp,
    ) -> StoreResult<Option<PortalIdentity>> {
        let sql = "SELECT site_id, issuer, subject, attributes FROM portal_identities \
                   WHERE token_digest = $1 AND site_id = $2 AND expires_at > $3";
        Ok(
            on_pool!(self, p => sqlx::query_as(sql).bind(token_digest).bind(site.0)
            .bind(now.millis()).fetch_optional(p).await)?,
        )
    }

    /// Sign out: the identity is gone.
    pub async fn forget_portal_identity(&self, token_digest: &str) -> StoreResult<()> {
        let sql = "DELETE FROM portal_identities WHERE token_digest = $1";
        on_pool!(self, p => sqlx::query(sql).bind(token_digest).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
