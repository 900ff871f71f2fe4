//! A site's configuration: settings, hostnames, logo, custom fields, schedule, notices.

use crate::pool::{on_pool, BeginWrite};
use crate::{Store, StoreError, StoreResult};
use domain::intake::{CustomField, FieldKind};
use domain::notice::Severity;
use domain::schedule::Schedule;
use domain::site::{SiteSettings, Texts};
use domain::text::{DisplayName, Slug};
use domain::{NoticeId, OrgId, SiteId, Timestamp};

/// A site with its organization's name and parsed settings.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SiteRecord {
    pub id: SiteId,
    pub org_id: OrgId,
    pub org_name: String,
    pub name: String,
    pub slug: String,
    pub settings: SiteSettings,
}

/// A hostname a site claimed. The site answers on it only once the claim is proven.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct HostnameClaim {
    pub hostname: String,
    /// What the ownership record must hold.
    pub challenge: String,
    pub verified_at: Option<i64>,
    /// How it was proven: "dns", "instance-admin", or "before-claims" (bound before checks).
    pub verified_by: Option<String>,
}

impl HostnameClaim {
    pub fn verified(&self) -> bool {
        self.verified_at.is_some()
    }
}

/// A claim waiting for proof, with whose it is.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct PendingClaim {
    pub hostname: String,
    pub org_id: i64,
    pub site_id: i64,
    pub org_name: String,
    pub site_name: String,
    pub claimed_at: i64,
}

#[derive(sqlx::FromRow)]
struct SiteRow {
    id: i64,
    org_id: i64,
    org_name: String,
    name: String,
    slug: String,
    settings: String,
}

impl SiteRow {
    fn record(self) -> StoreResult<SiteRecord> {
        Ok(SiteRecord {
            id: SiteId(self.id),
            org_id: OrgId(self.org_id),
            org_name: self.org_name,
            name: self.name,
            slug: self.slug,
            settings: serde_json::from_str(&self.settings)?,
        })
    }
}

/// A schedule as stored: its zone, and its weekly hours and holidays as JSON.
fn schedule_of((time_zone, weekly, holidays): (String, String, String)) -> StoreResult<Schedule> {
    Ok(Schedule {
        time_zone,
        weekly: serde_json::from_str(&weekly)?,
        holidays: serde_json::from_str(&holidays)?,
    })
}

const SITE_SELECT: &str = "SELECT s.id, s.org_id, o.name AS org_name, s.name, s.slug, s.settings \
     FROM sites s JOIN organizations o ON o.id = s.org_id";

#[derive(Debug, Clone, serde::Serialize)]
pub struct NoticeRecord {
    pub id: NoticeId,
    pub name: String,
    pub severity: Severity,
    pub texts: Texts,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct NoticeRow {
    id: i64,
    name: String,
    severity: String,
    texts: String,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
}

pub struct NewNotice<'a> {
    pub name: &'a DisplayName,
    pub severity: Severity,
    pub texts: &'a Texts,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
}

impl Store {
    async fn one_site(
        &self,
        filter: &str,
        bind: either::Bind<'_>,
    ) -> StoreResult<Option<SiteRecord>> {
        let sql = format!("{SITE_SELECT} WHERE {filter}");
        let row: Option<SiteRow> = on_pool!(self, p => match bind {
            either::Bind::Text(t) => sqlx::query_as(&sql).bind(t).fetch_optional(p).await,
            either::Bind::Ids(a, b) => sqlx::query_as(&sql).bind(a).bind(b).fetch_optional(p).await,
        })?;
        row.map(SiteRow::record).transpose()
    }

    /// The site at `/p/{slug}`, whatever its organization (the portal is public).
    pub async fn site_by_slug(&self, slug: &str) -> StoreResult<Option<SiteRecord>> {
        self.one_site("s.slug = $1", either::Bind::Text(slug)).await
    }

    /// The site bound to this request hostname (a proven claim only).
    pub async fn site_by_hostname(&self, host: &str) -> StoreResult<Option<SiteRecord>> {
        self.one_site(
            "s.id = (SELECT site_id FROM site_hostnames \
                     WHERE hostname = $1 AND verified_at IS NOT NULL)",
            either::Bind::Text(host),
        )
        .await
    }

    pub async fn site(&self, org: OrgId, id: SiteId) -> StoreResult<Option<SiteRecord>> {
        self.one_site(
            "s.org_id = $1 AND s.id = $2",
            either::Bind::Ids(org.0, id.0),
        )
        .await
    }

    /// The organization's first site (where a key entered on the global page lands).
    pub async fn first_site(&self, org: OrgId) -> StoreResult<Option<SiteRecord>> {
        self.one_site(
            "s.id = (SELECT MIN(id) FROM sites WHERE org_id = $1) AND s.org_id = $2",
            either::Bind::Ids(org.0, org.0),
        )
        .await
    }

    pub async fn update_site(
        &self,
        org: OrgId,
        id: SiteId,
        name: &DisplayName,
        slug: &Slug,
        settings: &SiteSettings,
    ) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let sql =
            "UPDATE sites SET name = $1, slug = $2, settings = $3 WHERE org_id = $4 AND id = $5";
        let settings = serde_json::to_string(settings)?;
        let done = on_pool!(self, p => sqlx::query(sql)
            .bind(name.as_str()).bind(slug.as_str()).bind(&settings).bind(org.0).bind(id.0)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    pub async fn delete_site(&self, org: OrgId, id: SiteId) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let sql = "DELETE FROM sites WHERE org_id = $1 AND id = $2";
        let done = on_pool!(self, p => sqlx::query(sql).bind(org.0).bind(id.0).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// The hostnames the site claimed, proven or not.
    pub async fn site_hostnames(&self, site: SiteId) -> StoreResult<Vec<HostnameClaim>> {
        let sql = "SELECT hostname, challenge, verified_at, verified_by FROM site_hostnames \
                   WHERE site_id = $1 ORDER BY hostname";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(site.0).fetch_all(p).await)?)
    }

    /// Replace the site's claims: those still listed keep their state, the rest are dropped, new
    /// ones start pending with a fresh `challenge()`. Conflict when another site holds one.
    pub async fn set_site_hostnames(
        &self,
        org: OrgId,
        site: SiteId,
        hostnames: &[String],
        now: Timestamp,
        challenge: impl Fn() -> String,
    ) -> StoreResult<()> {
        let _changed = self.portal_change();
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let kept: Vec<String> = sqlx::query_scalar(
                "SELECT hostname FROM site_hostnames WHERE site_id = $1 AND org_id = $2")
                .bind(site.0).bind(org.0).fetch_all(&mut *tx).await?;
            for host in kept.iter().filter(|h| !hostnames.contains(h)) {
                sqlx::query("DELETE FROM site_hostnames WHERE site_id = $1 AND hostname = $2")
                    .bind(site.0).bind(host).execute(&mut *tx).await?;
            }
            for host in hostnames.iter().filter(|h| !kept.contains(h)) {
                let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM site_hostnames \
                        WHERE hostname = $1 AND site_id <> $2 AND verified_at IS NOT NULL")
                    .bind(host).bind(site.0).fetch_one(&mut *tx).await?;
                if held > 0 {
                    return Err(StoreError::Conflict(format!("{host} belongs to another site")));
                }
                sqlx::query("INSERT INTO site_hostnames \
                             (hostname, org_id, site_id, challenge, claimed_at) \
                             SELECT $1, org_id, id, $2, $3 FROM sites WHERE id = $4 AND org_id = $5")
                    .bind(host).bind(challenge()).bind(now.0).bind(site.0).bind(org.0)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Prove a claim (`by`: how, for the record). The site then answers on the hostname, and
    /// other sites' pending claims on it are dropped. False when there is no such claim;
    /// Conflict when another site proved it first.
    pub async fn verify_hostname(
        &self,
        org: OrgId,
        site: SiteId,
        hostname: &str,
        by: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let done = on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let done = sqlx::query("UPDATE site_hostnames SET verified_at = $1, verified_by = $2 \
                    WHERE hostname = $3 AND site_id = $4 AND org_id = $5 AND verified_at IS NULL")
                .bind(now.0).bind(by).bind(hostname).bind(site.0).bind(org.0)
                .execute(&mut *tx).await?.rows_affected();
            sqlx::query("DELETE FROM site_hostnames \
                         WHERE hostname = $1 AND site_id <> $2 AND verified_at IS NULL")
                .bind(hostname).bind(site.0).execute(&mut *tx).await?;
            tx.commit().await?;
            done
        });
        Ok(done == 1)
    }

    /// Claims not yet proven, on every site of the instance (for instance admins), oldest first.
    pub async fn pending_hostname_claims(&self) -> StoreResult<Vec<PendingClaim>> {
        let sql =
            "SELECT h.hostname, h.org_id, h.site_id, o.name AS org_name, s.name AS site_name, \
                          h.claimed_at \
                   FROM site_hostnames h JOIN sites s ON s.id = h.site_id \
                   JOIN organizations o ON o.id = h.org_id \
                   WHERE h.verified_at IS NULL ORDER BY h.claimed_at, h.hostname";
        Ok(on_pool!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    pub async fn set_site_logo(
        &self,
        org: OrgId,
        site: SiteId,
        content_type: &str,
        content: &[u8],
    ) -> StoreResult<()> {
        let _changed = self.portal_change();
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM site_logos WHERE site_id = (SELECT id FROM sites WHERE id = $1 AND org_id = $2)")
                .bind(site.0).bind(org.0).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO site_logos (site_id, content_type, content) \
                         SELECT id, $1, $2 FROM sites WHERE id = $3 AND org_id = $4")
                .bind(content_type).bind(content).bind(site.0).bind(org.0).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Whether the site has a logo (without loading the image).
    pub async fn has_site_logo(&self, site: SiteId) -> StoreResult<bool> {
        let sql = "SELECT COUNT(*) FROM site_logos WHERE site_id = $1";
        let n: i64 = on_pool!(self, p => sqlx::query_scalar(sql).bind(site.0).fetch_one(p).await)?;
        Ok(n > 0)
    }

    pub async fn site_logo(&self, site: SiteId) -> StoreResult<Option<(String, Vec<u8>)>> {
        let sql = "SELECT content_type, content FROM site_logos WHERE site_id = $1";
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(site.0).fetch_optional(p).await)?)
    }

    pub async fn custom_fields(&self, site: SiteId) -> StoreResult<Vec<CustomField>> {
        let sql = "SELECT field_key, kind, required, labels, options FROM custom_fields \
                   WHERE site_id = $1 ORDER BY position, id";
        let rows: Vec<(String, String, bool, String, String)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(site.0).fetch_all(p).await)?;
        rows.into_iter()
            .map(|(key, kind, required, labels, options)| {
                Ok(CustomField {
                    kind: FieldKind::parse(&kind)
                        .map_err(|_| StoreError::Corrupt(format!("field kind {kind}")))?,
                    key,
                    required,
                    labels: serde_json::from_str(&labels)?,
                    options: serde_json::from_str(&options)?,
                })
            })
            .collect()
    }

    /// Append a custom field to the site's form. Conflict when the key is taken.
    pub async fn add_custom_field(
        &self,
        org: OrgId,
        site: SiteId,
        field: &CustomField,
    ) -> StoreResult<()> {
        let _changed = self.portal_change();
        let sql = "INSERT INTO custom_fields (org_id, site_id, field_key, kind, required, labels, options, position) \
                   SELECT org_id, id, $1, $2, $3, $4, $5, \
                     (SELECT COUNT(*) FROM custom_fields f WHERE f.site_id = $6) \
                   FROM sites WHERE id = $6 AND org_id = $7";
        let (labels, options) = (
            serde_json::to_string(&field.labels)?,
            serde_json::to_string(&field.options)?,
        );
        on_pool!(self, p => sqlx::query(sql)
            .bind(&field.key).bind(field.kind.as_str()).bind(field.required).bind(&labels).bind(&options)
            .bind(site.0).bind(org.0).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Change a field's kind, labels, options and whether it is required (its key stays: the
    /// answers sessions already hold are filed under it). False when the site has no such field.
    pub async fn update_custom_field(
        &self,
        org: OrgId,
        site: SiteId,
        field: &CustomField,
    ) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let sql = "UPDATE custom_fields SET kind = $1, required = $2, labels = $3, options = $4 \
                   WHERE org_id = $5 AND site_id = $6 AND field_key = $7";
        let (labels, options) = (
            serde_json::to_string(&field.labels)?,
            serde_json::to_string(&field.options)?,
        );
        let done = on_pool!(self, p => sqlx::query(sql)
            .bind(field.kind.as_str()).bind(field.required).bind(&labels).bind(&options)
            .bind(org.0).bind(site.0).bind(&field.key)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Move a field one place earlier (`earlier`) or later in the form; the others keep their
    /// order. False when there is no such field or it is already at that end.
    pub async fn move_custom_field(
        &self,
        org: OrgId,
        site: SiteId,
        key: &str,
        earlier: bool,
    ) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let keys_sql = "SELECT field_key FROM custom_fields WHERE org_id = $1 AND site_id = $2 \
                        ORDER BY position, id";
        let set_sql = "UPDATE custom_fields SET position = $1 \
                       WHERE org_id = $2 AND site_id = $3 AND field_key = $4";
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let mut keys: Vec<String> =
                sqlx::query_scalar(keys_sql).bind(org.0).bind(site.0).fetch_all(&mut *tx).await?;
            let Some(at) = keys.iter().position(|k| k == key) else {
                return Ok(false);
            };
            let to = match earlier {
                true if at > 0 => at - 1,
                false if at + 1 < keys.len() => at + 1,
                _ => return Ok(false),
            };
            keys.swap(at, to);
            // Numbered afresh: positions counted at insert can repeat after a delete.
            for (position, key) in keys.iter().enumerate() {
                sqlx::query(set_sql).bind(position as i64).bind(org.0).bind(site.0).bind(key)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
    }

    pub async fn delete_custom_field(
        &self,
        org: OrgId,
        site: SiteId,
        key: &str,
    ) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let sql = "DELETE FROM custom_fields WHERE org_id = $1 AND site_id = $2 AND field_key = $3";
        let done = on_pool!(self, p => sqlx::query(sql).bind(org.0).bind(site.0).bind(key)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    pub async fn schedule(&self, site: SiteId) -> StoreResult<Option<Schedule>> {
        let sql = "SELECT time_zone, weekly, holidays FROM schedules WHERE site_id = $1";
        let row: Option<(String, String, String)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(site.0).fetch_optional(p).await)?;
        row.map(schedule_of).transpose()
    }

    /// The schedules of `org`'s sites, in one query (a site without one is always open).
    pub async fn schedules(
        &self,
        org: OrgId,
    ) -> StoreResult<std::collections::HashMap<SiteId, Schedule>> {
        let sql = "SELECT site_id, time_zone, weekly, holidays FROM schedules WHERE org_id = $1";
        let rows: Vec<(i64, String, String, String)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(org.0).fetch_all(p).await)?;
        rows.into_iter()
            .map(|(site, zone, weekly, holidays)| {
                Ok((SiteId(site), schedule_of((zone, weekly, holidays))?))
            })
            .collect()
    }

    /// Every site of `org` with its settings, in id order, in one query.
    pub async fn site_records(&self, org: OrgId) -> StoreResult<Vec<SiteRecord>> {
        let sql = format!("{SITE_SELECT} WHERE s.org_id = $1 ORDER BY s.id");
        let rows: Vec<SiteRow> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(org.0).fetch_all(p).await)?;
        rows.into_iter().map(SiteRow::record).collect()
    }

    /// Set the site's schedule, or with None remove it (always open).
    pub async fn set_schedule(
        &self,
        org: OrgId,
        site: SiteId,
        schedule: Option<&Schedule>,
    ) -> StoreResult<()> {
        let _changed = self.portal_change();
        let encoded = match schedule {
            Some(s) => Some((
                s.time_zone.clone(),
                serde_json::to_string(&s.weekly)?,
                serde_json::to_string(&s.holidays)?,
            )),
            None => None,
        };
        on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM schedules WHERE site_id = $1 AND org_id = $2")
                .bind(site.0).bind(org.0).execute(&mut *tx).await?;
            if let Some((zone, weekly, holidays)) = &encoded {
                sqlx::query("INSERT INTO schedules (org_id, site_id, time_zone, weekly, holidays) \
                             SELECT org_id, id, $1, $2, $3 FROM sites WHERE id = $4 AND org_id = $5")
                    .bind(zone).bind(weekly).bind(holidays).bind(site.0).bind(org.0).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// All of a site's notices (in and out of their window), oldest first.
    pub async fn notices(&self, site: SiteId) -> StoreResult<Vec<NoticeRecord>> {
        let sql = "SELECT id, name, severity, texts, starts_at, ends_at FROM notices WHERE site_id = $1 ORDER BY id";
        let rows: Vec<NoticeRow> =
            on_pool!(self, p => sqlx::query_as(sql).bind(site.0).fetch_all(p).await)?;
        rows.into_iter()
            .map(|row| {
                Ok(NoticeRecord {
                    id: NoticeId(row.id),
                    severity: Severity::parse(&row.severity)
                        .map_err(|_| StoreError::Corrupt(format!("severity {}", row.severity)))?,
                    name: row.name,
                    texts: serde_json::from_str(&row.texts)?,
                    starts_at: row.starts_at.map(Timestamp),
                    ends_at: row.ends_at.map(Timestamp),
                })
            })
            .collect()
    }

    pub async fn create_notice(
        &self,
        org: OrgId,
        site: SiteId,
        notice: &NewNotice<'_>,
        now: Timestamp,
    ) -> StoreResult<Option<NoticeId>> {
        let _changed = self.portal_change();
        let sql = "INSERT INTO notices (org_id, site_id, name, severity, texts, starts_at, ends_at, created_at) \
                   SELECT org_id, id, $1, $2, $3, $4, $5, $6 FROM sites WHERE id = $7 AND org_id = $8 RETURNING id";
        let texts = serde_json::to_string(notice.texts)?;
        let id: Option<i64> = on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(notice.name.as_str()).bind(notice.severity.as_str()).bind(&texts)
            .bind(notice.starts_at.map(|t| t.0)).bind(notice.ends_at.map(|t| t.0)).bind(now.millis())
            .bind(site.0).bind(org.0).fetch_optional(p).await)?;
        Ok(id.map(NoticeId))
    }

    /// One notice of `org`, with its site.
    pub async fn notice_of(
        &self,
        org: OrgId,
        id: NoticeId,
    ) -> StoreResult<Option<(SiteId, NoticeRecord)>> {
        let sql = "SELECT site_id FROM notices WHERE org_id = $1 AND id = $2";
        let site: Option<i64> = on_pool!(self, p => sqlx::query_scalar(sql)
            .bind(org.0).bind(id.0).fetch_optional(p).await)?;
        let Some(site) = site.map(SiteId) else {
            return Ok(None);
        };
        let notice = self.notices(site).await?.into_iter().find(|n| n.id == id);
        Ok(notice.map(|n| (site, n)))
    }

    /// End a notice of `org` now (the outage is over): its window closes at `now`, unless it
    /// closed earlier. False when `org` has no such notice.
    pub async fn end_notice(&self, org: OrgId, id: NoticeId, now: Timestamp) -> StoreResult<bool> {
        let _changed = self.portal_change();
        let sql = "UPDATE notices SET ends_at = CASE WHEN ends_at IS NULL OR ends_at > $1                    THEN $1 ELSE ends_at END WHERE org_id = $2 AND id = $3";
        let done = on_pool!(self, p => sqlx::query(sql).bind(now.millis()).bind(org.0).bind(id.0)
            .execute(p).await.map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}

mod either {
    /// The two shapes of parameters a site lookup binds.
    pub enum Bind<'a> {
        Text(&'a str),
        Ids(i64, i64),
    }
}
