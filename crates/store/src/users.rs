//! Reps and admins of an organization, their credentials and team memberships.

use crate::pool::{on_pool, BeginWrite};
use crate::{Store, StoreResult};
use domain::rep::Presence;
use domain::text::{DisplayName, Email};
use domain::{OrgId, Role, TeamId, Timestamp, UserId};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct User {
    #[sqlx(try_from = "i64")]
    pub id: UserId,
    #[sqlx(try_from = "i64")]
    pub org_id: OrgId,
    pub email: String,
    pub display_name: String,
    pub title: Option<String>,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub is_instance_admin: bool,
    pub active: bool,
    pub session_limit: i64,
    #[sqlx(try_from = "String")]
    pub presence: Presence,
    #[sqlx(try_from = "i64")]
    pub created_at: Timestamp,
    /// The language the rep chats in (a code; see `chat_language`).
    pub language: String,
    /// Whether the rep chose it; until then each sign-in takes the browser's.
    pub language_chosen: bool,
    /// When the rep's last open console closed; None while one is open (or never opened).
    pub console_closed_at: Option<i64>,
    /// The language staff pages are shown in (a code), when the rep chose one.
    pub ui_language: Option<String>,
    /// The time zone (IANA name) the rep sees times in, when they chose one.
    pub time_zone: Option<String>,
}

impl User {
    /// The language the rep reads and writes chat in.
    pub fn chat_language(&self) -> domain::Language {
        domain::Language::parse(&self.language).unwrap_or(domain::Language::DEFAULT)
    }
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.org_id, u.email, u.display_name, u.title, u.role, \
     u.is_instance_admin, u.active, u.session_limit, u.presence, u.created_at, u.language, u.language_chosen, u.console_closed_at, \
     u.ui_language, u.time_zone";

pub struct NewUser<'a> {
    pub email: &'a Email,
    pub display_name: &'a DisplayName,
    pub role: Role,
    pub password_hash: &'a str,
    pub is_instance_admin: bool,
    pub session_limit: i64,
}

pub struct UserUpdate<'a> {
    pub display_name: &'a DisplayName,
    pub title: Option<&'a str>,
    pub role: Role,
    pub active: bool,
    pub session_limit: i64,
}

/// Insert a user on executor `$ex`; evaluates to its UserId.
macro_rules! insert_user {
    ($ex:expr, $org:expr, $user:expr, $now:expr) => {{
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (org_id, email, display_name, role, password_hash, \
             is_instance_admin, session_limit, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind($org.0)
        .bind($user.email.as_str())
        .bind($user.display_name.as_str())
        .bind($user.role.as_str())
        .bind($user.password_hash)
        .bind($user.is_instance_admin)
        .bind($user.session_limit)
        .bind($now.millis())
        .fetch_one($ex)
        .await?;
        domain::UserId(id)
    }};
}
pub(crate) use insert_user;

impl Store {
    pub async fn create_user(
        &self,
        org: OrgId,
        user: &NewUser<'_>,
        now: Timestamp,
    ) -> StoreResult<UserId> {
        let _changed = self.portal_change();
        Ok(on_pool!(self, p => insert_user!(p, org, user, now)))
    }

    /// The user with this email and their password hash, whatever their organization
    /// (emails are unique across the instance so that one sign-in form serves all).
    pub async fn credentials(&self, email: &Email) -> StoreResult<Option<(User, String)>> {
        let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1");
        let row = on_pool!(self, p => {
            let row = sqlx::query(&sql).bind(email.as_str()).fetch_optional(p).await?;
            row.map(|r| {
                use sqlx::{FromRow, Row};
                Ok::<_, sqlx::Error>((User::from_row(&r)?, r.try_get::<String, _>("password_hash")?))
            })
            .transpose()
        })?;
        Ok(row)
    }

    pub async fn user(&self, org: OrgId, id: UserId) -> StoreResult<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 AND u.id = $2");
        Ok(
            on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).bind(id.0).fetch_optional(p).await)?,
        )
    }

    pub async fn users(&self, org: OrgId) -> StoreResult<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 ORDER BY u.display_name, u.id"
        );
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).fetch_all(p).await)?)
    }

    pub async fn update_user(
        &self,
        org: OrgId,
        id: UserId,
        update: &UserUpdate<'_>,
    ) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let sql = "UPDATE users SET display_name = $1, title = $2, role = $3, active = $4, \
                   session_limit = $5 WHERE org_id = $6 AND id = $7";
        let done = on_pool!(self, p => sqlx::query(sql)
            .bind(update.display_name.as_str()).bind(update.title).bind(update.role.as_str())
            .bind(update.active).bind(update.session_limit).bind(org.0).bind(id.0)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// How many active admins the organization has (the last one may not be demoted).
    pub async fn count_active_admins(&self, org: OrgId) -> StoreResult<i64> {
        let sql =
            "SELECT COUNT(*) FROM users WHERE org_id = $1 AND role = 'admin' AND active = TRUE";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(org.0).fetch_one(p).await)?)
    }

    pub async fn set_password_hash(&self, id: UserId, hash: &str) -> StoreResult<()> {
        let sql = "UPDATE users SET password_hash = $1 WHERE id = $2";
        on_pool!(self, p => sqlx::query(sql).bind(hash).bind(id.0).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn user_team_ids(&self, org: OrgId, user: UserId) -> StoreResult<Vec<TeamId>> {
        let sql = "SELECT m.team_id FROM team_members m JOIN teams t ON t.id = m.team_id \
                   WHERE t.org_id = $1 AND m.user_id = $2 ORDER BY m.team_id";
        let ids: Vec<i64> = on_pool!(self, p => sqlx::query_scalar(sql).bind(org.0).bind(user.0).fetch_all(p).await)?;
        Ok(ids.into_iter().map(TeamId).collect())
    }

    /// Make the user a member of exactly these teams. Teams of other organizations are ignored.
    pub async fn set_user_teams(
        &self,
        org: OrgId,
        user: UserId,
        teams: &[TeamId],
    ) -> StoreResult<()> {
        let _changed = self.portal_change();
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query(
                "DELETE FROM team_members WHERE user_id = $1 \
                 AND team_id IN (SELECT id FROM teams WHERE org_id = $2)",
            )
            .bind(user.0).bind(org.0).execute(&mut *tx).await?;
            for team in teams {
                sqlx::query(
                    "INSERT INTO team_members (team_id, user_id) \
                     SELECT t.id, u.id FROM teams t JOIN users u ON u.org_id = t.org_id \
                     WHERE t.id = $1 AND u.id = $2 AND t.org_id = $3",
                )
                .bind(team.0).bind(user.0).bind(org.0).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The language the rep chose to chat in (kept over the browser's from then on).
    pub async fn set_user_language(
        &self,
        org: OrgId,
        user: UserId,
        language: domain::Language,
    ) -> StoreResult<bool> {
        let sql =
            "UPDATE users SET language = $1, language_chosen = TRUE WHERE org_id = $2 AND id = $3";
        let done = on_pool!(self, p => sqlx::query(sql)
            .bind(language.code()).bind(org.0).bind(user.0)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// The language of the rep's pages and their time zone (None: as their browser says).
    pub async fn set_page_settings(
        &self,
        org: OrgId,
        user: UserId,
        ui_language: Option<domain::Language>,
        time_zone: Option<&str>,
    ) -> StoreResult<bool> {
        let sql = "UPDATE users SET ui_language = $1, time_zone = $2 WHERE org_id = $3 AND id = $4";
        let done = on_pool!(self, p => sqlx::query(sql)
            .bind(ui_language.map(|l| l.code())).bind(time_zone).bind(org.0).bind(user.0)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// At sign-in: the browser's language becomes the rep's chat language unless they chose one.
    pub async fn adopt_browser_language(
        &self,
        org: OrgId,
        user: UserId,
        language: domain::Language,
    ) -> StoreResult<()> {
        let sql =
            "UPDATE users SET language = $1 WHERE org_id = $2 AND id = $3 AND NOT language_chosen";
        on_pool!(self, p => sqlx::query(sql)
            .bind(language.code()).bind(org.0).bind(user.0)
            .execute(p).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn set_presence(
        &self,
        org: OrgId,
        user: UserId,
        presence: Presence,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let sql = "UPDATE users SET presence = $1, presence_at = $2 WHERE org_id = $3 AND id = $4";
        let done = on_pool!(self, p => sqlx::query(sql)
            .bind(presence.as_str()).bind(now.millis()).bind(org.0).bind(user.0)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Active reps marked available who belong to one of `teams` (to any team when empty).
    pub async fn available_reps(&self, org: OrgId, teams: &[TeamId]) -> StoreResult<Vec<User>> {
        let team_filter = if teams.is_empty() {
            String::new()
        } else {
            let placeholders: Vec<String> =
                (0..teams.len()).map(|i| format!("${}", i + 2)).collect();
            format!("AND t.id IN ({})", placeholders.join(", "))
        };
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = $1 AND u.active = TRUE \
             AND u.presence = 'available' AND EXISTS (SELECT 1 FROM team_members m \
             JOIN teams t ON t.id = m.team_id WHERE m.user_id = u.id AND t.org_id = $1 {team_filter}) \
             ORDER BY u.display_name, u.id"
        );
        Ok(on_pool!(self, p => {
            let mut query = sqlx::query_as(&sql).bind(org.0);
            for team in teams {
                query = query.bind(team.0);
            }
            query.fetch_all(p).await
        })?)
    }
}
