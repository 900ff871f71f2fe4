//! Organizations: the tenants. Every other row belongs to one.

use crate::pool::{on_pool, BeginWrite};
use crate::users::NewUser;
use crate::{Store, StoreResult};
use domain::text::{DisplayName, Slug};
use domain::{OrgId, Timestamp, UserId};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Organization {
    #[sqlx(try_from = "i64")]
    pub id: OrgId,
    pub name: String,
    pub slug: String,
    pub default_session_limit: i64,
    pub key_digits: i64,
    /// The longest validity a rep may give a key.
    pub key_max_validity_minutes: i64,
    #[sqlx(try_from = "i64")]
    pub created_at: Timestamp,
    /// Every member signs in with a second factor (a code from an authenticator app).
    pub require_two_factor: bool,
    /// Staff sign-in at the organization's identity provider, as JSON (`domain::portal_sign_in::
    /// StaffSso`); none: passwords only.
    pub staff_sso: Option<String>,
}

const COLUMNS: &str =
    "id, name, slug, default_session_limit, key_digits, key_max_validity_minutes, created_at, \
     require_two_factor, staff_sso";

/// How an organization's keys are made: their length and the longest validity a rep may give.
#[derive(Debug, Clone, Copy)]
pub struct KeySettings {
    pub digits: i64,
    pub max_validity_minutes: i64,
}

pub struct NewOrganization<'a> {
    pub name: &'a DisplayName,
    pub slug: &'a Slug,
}

/// Insert an organization and its first admin in the transaction `$tx`; evaluates to (OrgId, UserId).
macro_rules! insert_org_with_admin {
    ($tx:expr, $org:expr, $admin:expr, $now:expr) => {{
        let org_id: i64 = sqlx::query_scalar(
            "INSERT INTO organizations (name, slug, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind($org.name.as_str())
        .bind($org.slug.as_str())
        .bind($now.millis())
        .fetch_one(&mut *$tx)
        .await?;
        let user_id = crate::users::insert_user!(&mut *$tx, OrgId(org_id), $admin, $now);
        (OrgId(org_id), user_id)
    }};
}
pub(crate) use insert_org_with_admin;

impl Store {
    /// Create an organization together with its first admin, atomically.
    pub async fn create_organization(
        &self,
        org: &NewOrganization<'_>,
        admin: &NewUser<'_>,
        now: Timestamp,
    ) -> StoreResult<(OrgId, UserId)> {
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let ids = insert_org_with_admin!(tx, org, admin, now);
            tx.commit().await?;
            Ok(ids)
        })
    }

    pub async fn organization(&self, id: OrgId) -> StoreResult<Option<Organization>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(id.0).fetch_optional(p).await)?)
    }

    /// The organization with this short name.
    pub async fn organization_by_slug(&self, slug: &str) -> StoreResult<Option<Organization>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations WHERE slug = $1");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(slug).fetch_optional(p).await)?)
    }

    /// Set (or clear) how the organization's staff sign in at its identity provider.
    pub async fn set_staff_sso(&self, org: OrgId, staff_sso: Option<&str>) -> StoreResult<()> {
        let sql = "UPDATE organizations SET staff_sso = $1 WHERE id = $2";
        on_pool!(self, p => sqlx::query(sql).bind(staff_sso).bind(org.0).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// All organizations, for the instance admin.
    pub async fn organizations(&self) -> StoreResult<Vec<Organization>> {
        let sql = format!("SELECT {COLUMNS} FROM organizations ORDER BY name, id");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).fetch_all(p).await)?)
    }

    pub async fn count_organizations(&self) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM organizations";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).fetch_one(p).await)?)
    }

    pub async fn update_organization(
        &self,
        id: OrgId,
        name: &DisplayName,
        default_session_limit: i64,
        keys: KeySettings,
    ) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let sql =
            "UPDATE organizations SET name = $1, default_session_limit = $2, key_digits = $3, \
                   key_max_validity_minutes = $4 WHERE id = $5";
        let done = on_pool!(self, p => sqlx::query(sql)
            .bind(name.as_str()).bind(default_session_limit).bind(keys.digits)
            .bind(keys.max_validity_minutes).bind(id.0)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
