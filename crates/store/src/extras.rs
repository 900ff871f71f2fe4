//! Presentations (a rep shows their screen to many) and iOS configuration profiles.

use crate::pool::on_pool;
use crate::presentations::PRESENTATION_SELECT;
use crate::{Store, StoreResult};
use domain::{OrgId, SiteId, Timestamp, UserId};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Presentation {
    pub id: i64,
    #[sqlx(try_from = "i64")]
    pub org_id: OrgId,
    /// The presenter.
    pub user_id: i64,
    pub title: String,
    pub state: String,
    pub presenter_name: String,
    pub org_name: String,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct IosProfile {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub visibility: String,
    pub size: i64,
    /// The name and description in other languages, JSON objects by language code.
    pub names: String,
    pub descriptions: String,
}

/// `texts`' entry for `language` when it has a non-empty one, else `own`.
fn text_or(texts: &str, language: domain::Language, own: &str) -> String {
    let texts: domain::site::Texts = serde_json::from_str(texts).unwrap_or_default();
    texts
        .get(&language)
        .filter(|t| !t.trim().is_empty())
        .cloned()
        .unwrap_or_else(|| own.to_owned())
}

impl IosProfile {
    /// The name a customer reading `language` sees.
    pub fn name_in(&self, language: domain::Language) -> String {
        text_or(&self.names, language, &self.name)
    }

    pub fn description_in(&self, language: domain::Language) -> String {
        text_or(&self.descriptions, language, &self.description)
    }

    pub fn is_public(&self) -> bool {
        self.visibility == "public"
    }
}

pub struct NewIosProfile<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub public: bool,
    pub content: &'a [u8],
}

impl Store {
    pub async fn create_presentation(
        &self,
        org: OrgId,
        rep: UserId,
        title: &str,
        now: Timestamp,
    ) -> StoreResult<i64> {
        // A portal may list the running presentations.
        let _changed = self.portal_change();
        let sql = "INSERT INTO presentations (org_id, user_id, title, state, created_at) \
                   VALUES ($1, $2, $3, 'live', $4) RETURNING id";
        Ok(
            on_pool!(self, p => sqlx::query_scalar(sql).bind(org.0).bind(rep.0).bind(title).bind(now.millis()).fetch_one(p).await)?,
        )
    }

    pub async fn presentation(&self, id: i64) -> StoreResult<Option<Presentation>> {
        let sql = format!("{PRESENTATION_SELECT} WHERE p.id = $1");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)?)
    }

    pub async fn add_ios_profile(
        &self,
        org: OrgId,
        site: SiteId,
        profile: &NewIosProfile<'_>,
        now: Timestamp,
    ) -> StoreResult<Option<i64>> {
        let _changed = self.portal_change();
        let sql = "INSERT INTO ios_profiles (org_id, site_id, name, description, visibility, content, size, created_at) \
                   SELECT org_id, id, $1, $2, $3, $4, $5, $6 FROM sites WHERE id = $7 AND org_id = $8 RETURNING id";
        let visibility = if profile.public { "public" } else { "private" };
        Ok(on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(profile.name).bind(profile.description).bind(visibility).bind(profile.content)
            .bind(profile.content.len() as i64).bind(now.millis()).bind(site.0).bind(org.0)
            .fetch_optional(p).await)?)
    }

    pub async fn ios_profiles(&self, site: SiteId) -> StoreResult<Vec<IosProfile>> {
        let sql = "SELECT id, name, description, visibility, size, names, descriptions FROM ios_profiles WHERE site_id = $1 ORDER BY name, id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(site.0).fetch_all(p).await)?)
    }

    /// Any organization's profile by id (access keys may name a profile of another site).
    pub async fn ios_profile(&self, id: i64) -> StoreResult<Option<(IosProfile, i64)>> {
        let sql = "SELECT id, name, description, visibility, size, names, descriptions FROM ios_profiles WHERE id = $1";
        let site_sql = "SELECT site_id FROM ios_profiles WHERE id = $1";
        let profile: Option<IosProfile> =
            on_pool!(self, p => sqlx::query_as(sql).bind(id).fetch_optional(p).await)?;
        let Some(profile) = profile else {
            return Ok(None);
        };
        let site: i64 =
            on_pool!(self, p => sqlx::query_scalar(site_sql).bind(id).fetch_one(p).await)?;
        Ok(Some((profile, site)))
    }

    pub async fn ios_profile_content(&self, id: i64) -> StoreResult<Option<Vec<u8>>> {
        let sql = "SELECT content FROM ios_profiles WHERE id = $1";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(id).fetch_optional(p).await)?)
    }

    pub async fn delete_ios_profile(&self, org: OrgId, id: i64) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let sql = "DELETE FROM ios_profiles WHERE org_id = $1 AND id = $2";
        let done = on_pool!(self, p => sqlx::query(sql).bind(org.0).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// A profile's name and description, and theirs in other languages.
    pub async fn set_ios_profile_texts(
        &self,
        org: OrgId,
        id: i64,
        (name, description): (&str, &str),
        (names, descriptions): (&domain::site::Texts, &domain::site::Texts),
    ) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let sql =
            "UPDATE ios_profiles SET name = $1, description = $2, names = $3, descriptions = $4 \
                   WHERE org_id = $5 AND id = $6";
        let (names, descriptions) = (
            serde_json::to_string(names)?,
            serde_json::to_string(descriptions)?,
        );
        let done = on_pool!(self, p => sqlx::query(sql).bind(name).bind(description).bind(&names)
            .bind(&descriptions).bind(org.0).bind(id).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// The organization's private profiles on any of its sites (what a rep may issue access keys for).
    pub async fn private_ios_profiles(&self, org: OrgId) -> StoreResult<Vec<IosProfile>> {
        let sql = "SELECT id, name, description, visibility, size, names, descriptions FROM ios_profiles \
                   WHERE org_id = $1 AND visibility = 'private' ORDER BY name, id";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(org.0).fetch_all(p).await)?)
    }
}
