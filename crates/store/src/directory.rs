//! Teams, sites and issue types: how an organization is laid out.

use crate::pool::on_pool;
use crate::users::{User, USER_COLUMNS};
use crate::{Store, StoreResult};
use domain::text::{DisplayName, Slug};
use domain::{IssueTypeId, OrgId, SiteId, TeamId, Timestamp};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Team {
    #[sqlx(try_from = "i64")]
    pub id: TeamId,
    pub name: String,
    pub member_count: i64,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Site {
    #[sqlx(try_from = "i64")]
    pub id: SiteId,
    #[sqlx(try_from = "i64")]
    pub org_id: OrgId,
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct IssueType {
    #[sqlx(try_from = "i64")]
    pub id: IssueTypeId,
    #[sqlx(try_from = "i64")]
    pub team_id: TeamId,
    pub name: String,
    pub code_name: String,
    /// The name in other languages, a JSON object by language code.
    pub names: String,
}

impl IssueType {
    /// The name as a customer reading `language` sees it: theirs, else the name itself.
    pub fn name_in(&self, language: domain::Language) -> String {
        let names: domain::site::Texts = serde_json::from_str(&self.names).unwrap_or_default();
        names
            .get(&language)
            .filter(|n| !n.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| self.name.clone())
    }
}

const TEAM_SELECT: &str = "SELECT t.id, t.name, \
     (SELECT COUNT(*) FROM team_members m WHERE m.team_id = t.id) AS member_count FROM teams t";

impl Store {
    pub async fn create_team(
        &self,
        org: OrgId,
        name: &DisplayName,
        now: Timestamp,
    ) -> StoreResult<TeamId> {
        let _changed = self.portal_change();
        let sql = "INSERT INTO teams (org_id, name, created_at) VALUES ($1, $2, $3) RETURNING id";
        let id: i64 = on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(org.0).bind(name.as_str()).bind(now.millis()).fetch_one(p).await)?;
        Ok(TeamId(id))
    }

    pub async fn teams(&self, org: OrgId) -> StoreResult<Vec<Team>> {
        let sql = format!("{TEAM_SELECT} WHERE t.org_id = $1 ORDER BY t.name, t.id");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).fetch_all(p).await)?)
    }

    pub async fn team(&self, org: OrgId, id: TeamId) -> StoreResult<Option<Team>> {
        let sql = format!("{TEAM_SELECT} WHERE t.org_id = $1 AND t.id = $2");
        Ok(
            on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).bind(id.0).fetch_optional(p).await)?,
        )
    }

    pub async fn rename_team(
        &self,
        org: OrgId,
        id: TeamId,
        name: &DisplayName,
    ) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let sql = "UPDATE teams SET name = $1 WHERE org_id = $2 AND id = $3";
        let done = on_pool!(self, p => sqlx::query(sql)
            .bind(name.as_str()).bind(org.0).bind(id.0).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    pub async fn delete_team(&self, org: OrgId, id: TeamId) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let sql = "DELETE FROM teams WHERE org_id = $1 AND id = $2";
        let done = on_pool!(self, p => sqlx::query(sql).bind(org.0).bind(id.0).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    pub async fn team_members(&self, org: OrgId, team: TeamId) -> StoreResult<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN team_members m ON m.user_id = u.id \
             WHERE u.org_id = $1 AND m.team_id = $2 ORDER BY u.display_name, u.id"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).bind(team.0).fetch_all(p).await)?)
    }

    pub async fn create_site(
        &self,
        org: OrgId,
        name: &DisplayName,
        slug: &Slug,
        now: Timestamp,
    ) -> StoreResult<SiteId> {
        let _changed = self.portal_change();
        let sql = "INSERT INTO sites (org_id, name, slug, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
        let id: i64 = on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(org.0).bind(name.as_str()).bind(slug.as_str()).bind(now.millis())
            .fetch_one(p).await)?;
        Ok(SiteId(id))
    }

    pub async fn sites(&self, org: OrgId) -> StoreResult<Vec<Site>> {
        let sql = "SELECT id, org_id, name, slug FROM sites WHERE org_id = $1 ORDER BY name, id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(org.0).fetch_all(p).await)?)
    }

    /// An issue type routed to `team`, which must belong to `org` (None otherwise).
    pub async fn create_issue_type(
        &self,
        org: OrgId,
        team: TeamId,
        name: &DisplayName,
        code_name: &Slug,
    ) -> StoreResult<Option<IssueTypeId>> {
        let _changed = self.portal_change();
        let sql = "INSERT INTO issue_types (org_id, team_id, name, code_name, position) \
                   SELECT t.org_id, t.id, $1, $2, \
                     (SELECT COUNT(*) FROM issue_types i WHERE i.org_id = t.org_id) \
                   FROM teams t WHERE t.id = $3 AND t.org_id = $4 RETURNING id";
        let id: Option<i64> = on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(name.as_str()).bind(code_name.as_str()).bind(team.0).bind(org.0)
            .fetch_optional(p).await)?;
        Ok(id.map(IssueTypeId))
    }

    pub async fn issue_types(&self, org: OrgId) -> StoreResult<Vec<IssueType>> {
        let sql = "SELECT id, team_id, name, code_name, names FROM issue_types WHERE org_id = $1 \
                   ORDER BY position, id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(org.0).fetch_all(p).await)?)
    }

    /// Rename an issue type, with its names in other languages.
    pub async fn rename_issue_type(
        &self,
        org: OrgId,
        id: IssueTypeId,
        name: &DisplayName,
        names: &domain::site::Texts,
    ) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let names =
            serde_json::to_string(names).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
        let sql = "UPDATE issue_types SET name = $1, names = $2 WHERE org_id = $3 AND id = $4";
        let done = on_pool!(self, p => sqlx::query(sql).bind(name.as_str()).bind(&names).bind(org.0).bind(id.0)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    pub async fn delete_issue_type(&self, org: OrgId, id: IssueTypeId) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let sql = "DELETE FROM issue_types WHERE org_id = $1 AND id = $2";
        let done = on_pool!(self, p => sqlx::query(sql).bind(org.0).bind(id.0).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
