//! Keys a rep hands out: for a support session, a presentation, or a private iOS profile.
//! A key's digits are unique among live keys whatever they open.

use crate::audit::{audit_in, AuditRow};
use crate::pool::{on_pool, BeginWrite};
use crate::{Store, StoreResult};
use domain::session_key::{key_state, KeyState, SessionKey};
use domain::{OrgId, SiteId, Timestamp, UserId};

/// How issuing a key went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issued {
    /// The new key's id.
    Key(i64),
    /// The rep already holds `live` live keys, the cap.
    AtCap { live: i64 },
}

/// What a key opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTarget {
    Support,
    Presentation(i64),
    Profile(i64),
}

impl KeyTarget {
    fn purpose(self) -> &'static str {
        match self {
            KeyTarget::Support => "support",
            KeyTarget::Presentation(_) => "presentation",
            KeyTarget::Profile(_) => "profile",
        }
    }
}

pub struct NewKey<'a> {
    pub org: OrgId,
    pub rep: UserId,
    pub site: Option<SiteId>,
    pub key: &'a SessionKey,
    pub target: KeyTarget,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct KeyRecord {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub org_id: OrgId,
    pub org_name: String,
    #[sqlx(try_from = "i64")]
    pub user_id: UserId,
    pub rep_name: String,
    pub rep_title: Option<String>,
    pub site_id: Option<i64>,
    pub key_value: String,
    purpose: String,
    presentation_id: Option<i64>,
    profile_id: Option<i64>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl KeyRecord {
    pub fn target(&self) -> KeyTarget {
        match (self.purpose.as_str(), self.presentation_id, self.profile_id) {
            ("presentation", Some(id), _) => KeyTarget::Presentation(id),
            ("profile", _, Some(id)) => KeyTarget::Profile(id),
            _ => KeyTarget::Support,
        }
    }

    pub fn state(&self, now: Timestamp) -> KeyState {
        key_state(
            Timestamp(self.expires_at),
            self.used_at.map(Timestamp),
            self.revoked_at.map(Timestamp),
            now,
        )
    }
}

const KEY_SELECT: &str =
    "SELECT k.id, k.org_id, o.name AS org_name, k.user_id, u.display_name AS rep_name, \
     u.title AS rep_title, k.site_id, k.key_value, k.purpose, k.presentation_id, k.profile_id, \
     k.expires_at, k.used_at, k.revoked_at \
     FROM session_keys k JOIN organizations o ON o.id = k.org_id JOIN users u ON u.id = k.user_id";

impl Store {
    /// Store a new key. Conflict when a live key already has these digits (generate another).
    pub async fn create_key(&self, new: &NewKey<'_>, now: Timestamp) -> StoreResult<i64> {
        let (presentation, profile) = match new.target {
            KeyTarget::Support => (None, None),
            KeyTarget::Presentation(id) => (Some(id), None),
            KeyTarget::Profile(id) => (None, Some(id)),
        };
        let sql = "INSERT INTO session_keys (org_id, user_id, site_id, key_value, purpose, presentation_id, \
                   profile_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(new.org.0).bind(new.rep.0).bind(new.site.map(|s| s.0)).bind(new.key.as_str())
            .bind(new.target.purpose()).bind(presentation).bind(profile).bind(now.millis())
            .bind(new.expires_at.millis()).fetch_one(p).await)?)
    }

    /// Issue a key for its rep within `cap` live keys, with its audit row, in one transaction:
    /// the cap is counted after locking the rep's row, so two tabs cannot both take the last
    /// slot. Conflict when a live key already has these digits (generate another).
    pub async fn issue_key(
        &self,
        new: &NewKey<'_>,
        cap: usize,
        audit: &AuditRow<'_>,
        now: Timestamp,
    ) -> StoreResult<Issued> {
        let (presentation, profile) = match new.target {
            KeyTarget::Support => (None, None),
            KeyTarget::Presentation(id) => (Some(id), None),
            KeyTarget::Profile(id) => (None, Some(id)),
        };
        let cap = i64::try_from(cap).unwrap_or(i64::MAX);
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            crate::support::lock_rep!(tx, new.org, new.rep);
            let live: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM session_keys WHERE org_id = $1 AND user_id = $2 \
                 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $3",
            )
            .bind(new.org.0).bind(new.rep.0).bind(now.millis()).fetch_one(&mut *tx).await?;
            if live >= cap {
                return Ok(Issued::AtCap { live });
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO session_keys (org_id, user_id, site_id, key_value, purpose, presentation_id, \
                 profile_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(new.org.0).bind(new.rep.0).bind(new.site.map(|s| s.0)).bind(new.key.as_str())
            .bind(new.target.purpose()).bind(presentation).bind(profile).bind(now.millis())
            .bind(new.expires_at.millis()).fetch_one(&mut *tx).await?;
            audit_in!(tx, audit, now);
            tx.commit().await?;
            Ok(Issued::Key(id))
        })
    }

    /// The most recent key with these digits, live or not (to say why one cannot be used).
    pub async fn find_key(&self, key: &SessionKey) -> StoreResult<Option<KeyRecord>> {
        let sql = format!("{KEY_SELECT} WHERE k.key_value = $1 ORDER BY k.id DESC LIMIT 1");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(key.as_str()).fetch_optional(p).await)?)
    }

    /// The keys that open presentation `presentation`, newest first.
    pub async fn presentation_keys(&self, presentation: i64) -> StoreResult<Vec<KeyRecord>> {
        let sql = format!("{KEY_SELECT} WHERE k.presentation_id = $1 ORDER BY k.id DESC");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(presentation).fetch_all(p).await)?)
    }

    /// Keys a rep issued that can still be used, newest first.
    pub async fn live_keys(
        &self,
        org: OrgId,
        rep: UserId,
        now: Timestamp,
    ) -> StoreResult<Vec<KeyRecord>> {
        let sql = format!(
            "{KEY_SELECT} WHERE k.org_id = $1 AND k.user_id = $2 AND k.used_at IS NULL \
             AND k.revoked_at IS NULL AND k.expires_at > $3 ORDER BY k.id DESC"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).bind(rep.0).bind(now.millis()).fetch_all(p).await)?,
        )
    }

    pub async fn revoke_key(
        &self,
        org: OrgId,
        rep: UserId,
        id: i64,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let sql = "UPDATE session_keys SET revoked_at = $1 WHERE id = $2 AND org_id = $3 AND user_id = $4 \
                   AND used_at IS NULL AND revoked_at IS NULL";
        let done = on_pool!(self, p => sqlx::query(sql).bind(now.millis()).bind(id).bind(org.0).bind(rep.0)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Revoke a live session key of `org`, whichever rep holds it, with its audit row (`detail`
    /// says who): false when there is no such live key.
    pub async fn revoke_org_key(
        &self,
        org: OrgId,
        id: i64,
        detail: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let done = sqlx::query(
                "UPDATE session_keys SET revoked_at = $1 WHERE id = $2 AND org_id = $3 \
                 AND purpose = 'support' AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
            )
            .bind(now.millis()).bind(id).bind(org.0).execute(&mut *tx).await?.rows_affected();
            if done == 1 {
                let audit = AuditRow { org: Some(org), actor: None, action: "key.revoked", detail };
                audit_in!(tx, audit, now);
            }
            tx.commit().await?;
            Ok(done == 1)
        })
    }

    /// Use a live key once (presentation joins and profile downloads). False when it is no
    /// longer live, e.g. a second person raced for it.
    pub async fn use_key(&self, id: i64, now: Timestamp) -> StoreResult<bool> {
        let sql = "UPDATE session_keys SET used_at = $1 WHERE id = $2 AND used_at IS NULL \
                   AND revoked_at IS NULL AND expires_at > $1";
        let done = on_pool!(self, p => sqlx::query(sql).bind(now.millis()).bind(id)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
