//! Canned messages: a team's, managed by admins, and each rep's own.

use crate::pool::on_pool;
use crate::{Store, StoreResult};
use domain::canned::Shortcut;
use domain::chat::MessageBody;
use domain::{OrgId, TeamId, Timestamp, UserId};

/// Whose canned message it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CannedOwner {
    Team(TeamId),
    Rep(UserId),
}

impl CannedOwner {
    fn ids(self) -> (Option<i64>, Option<i64>) {
        match self {
            CannedOwner::Team(team) => (Some(team.0), None),
            CannedOwner::Rep(user) => (None, Some(user.0)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Canned {
    pub id: i64,
    pub team_id: Option<i64>,
    /// The team's name, for a team's.
    pub team_name: Option<String>,
    pub user_id: Option<i64>,
    pub shortcut: String,
    pub body: String,
}

const COLUMNS: &str = "c.id, c.team_id, t.name AS team_name, c.user_id, c.shortcut, c.body";

impl Store {
    /// Add a canned message; a shortcut its owner already has is a `Conflict`. A team of
    /// another organization owns nothing here (false).
    pub async fn create_canned(
        &self,
        org: OrgId,
        owner: CannedOwner,
        shortcut: &Shortcut,
        body: &MessageBody,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let (team, user) = owner.ids();
        let sql =
            "INSERT INTO canned_messages (org_id, team_id, user_id, shortcut, body, created_at) \
                   SELECT $1, $2, $3, $4, $5, $6 WHERE \
                   ($2 IS NULL OR EXISTS (SELECT 1 FROM teams WHERE id = $2 AND org_id = $1)) AND \
                   ($3 IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = $3 AND org_id = $1))";
        let done = on_pool!(self, p => sqlx::query(sql)
            .bind(org.0).bind(team).bind(user).bind(shortcut.as_str()).bind(body.as_str())
            .bind(now.millis())
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Delete canned message `id` if `owner` has it.
    pub async fn delete_canned(
        &self,
        org: OrgId,
        owner: CannedOwner,
        id: i64,
    ) -> StoreResult<bool> {
        let (team, user) = owner.ids();
        let sql = "DELETE FROM canned_messages WHERE org_id = $1 AND id = $2 \
                   AND team_id IS NOT DISTINCT FROM $3 AND user_id IS NOT DISTINCT FROM $4";
        let done = on_pool!(self, p => sqlx::query(sql)
            .bind(org.0).bind(id).bind(team).bind(user)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// What a rep may insert: their own, then their teams', by shortcut.
    pub async fn canned_for_rep(&self, org: OrgId, rep: UserId) -> StoreResult<Vec<Canned>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM canned_messages c LEFT JOIN teams t ON t.id = c.team_id \
             WHERE c.org_id = $1 AND (c.user_id = $2 OR c.team_id IN \
             (SELECT team_id FROM team_members WHERE user_id = $2)) \
             ORDER BY c.user_id IS NULL, c.shortcut, c.id"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).bind(rep.0).fetch_all(p).await)?)
    }

    /// Every team's canned messages in the organization (for its admins).
    pub async fn team_canned(&self, org: OrgId) -> StoreResult<Vec<Canned>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM canned_messages c JOIN teams t ON t.id = c.team_id \
             WHERE c.org_id = $1 ORDER BY t.name, c.shortcut, c.id"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).fetch_all(p).await)?)
    }
}
