//! Portal pages kept ready. A site's facts (its settings, schedule, available reps, fields,
//! notices, profiles) are read once into a `Snapshot` shared by every request, and its first page
//! is kept rendered per language; both are rebuilt when the store's portal epoch moves (a write
//! that changes what a portal shows) or a time-bound fact turns (the schedule opens or closes, a
//! notice's window starts or ends). The per-browser CSRF token is injected into the kept page.
//! See docs/decisions/0006-portal-page-cache.md.

use crate::error::{AppError, AppResult};
use axum::body::Bytes;
use domain::intake::CustomField;
use domain::schedule::Schedule;
use domain::{Clock, Language, OrgId, SiteId, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use store::extras::IosProfile;
use store::sites::{NoticeRecord, SiteRecord};
use store::users::User;

/// Stands in for the browser's CSRF token in a kept page; only letters, digits and dashes, so
/// HTML escaping leaves it as it is.
pub const CSRF_PLACEHOLDER: &str = "supportal-csrf-placeholder-5b0f3e9a";

/// The longest a snapshot is trusted without a sign from this node's store: bounds how long a
/// write by another process on the same database (the CLI, another node) takes to show.
const MAX_AGE_MS: i64 = 5_000;

/// A running presentation as a portal lists it.
#[derive(serde::Serialize)]
pub struct ListedPresentation {
    pub title: String,
    pub presenter_name: String,
    pub link: String,
}

/// A site's facts as one read saw them.
pub struct Snapshot {
    pub site: SiteRecord,
    pub schedule: Option<Schedule>,
    pub reps: Vec<User>,
    pub fields: Vec<CustomField>,
    pub notice_records: Vec<NoticeRecord>,
    pub profiles: Vec<IosProfile>,
    /// The organization's running presentations, where the site lists them.
    pub presentations: Vec<ListedPresentation>,
    pub has_logo: bool,
    epoch: u64,
    valid_until: Timestamp,
}

impl Snapshot {
    /// A page of this site, framable by the origins its admin listed for the help button
    /// (`portal.page(…)` reads through to here).
    pub fn page(&self, response: axum::response::Response) -> axum::response::Response {
        crate::framing::for_site(response, &self.site.settings)
    }

    /// No site's: the organization's name and nothing else (a customer who came by a key of an
    /// organization that has no site yet).
    pub fn neutral(org: domain::OrgId, org_name: &str) -> Snapshot {
        Snapshot {
            site: SiteRecord {
                id: domain::SiteId(0),
                org_id: org,
                org_name: org_name.to_owned(),
                name: org_name.to_owned(),
                slug: String::new(),
                settings: domain::site::SiteSettings::default(),
            },
            schedule: None,
            reps: vec![],
            fields: vec![],
            notice_records: vec![],
            profiles: vec![],
            presentations: vec![],
            has_logo: false,
            epoch: 0,
            valid_until: Timestamp(0),
        }
    }

    fn fresh(&self, epoch: u64, now: Timestamp) -> bool {
        self.epoch == epoch && now < self.valid_until
    }
}

/// The first instant after `now` when a time-bound fact of the site turns.
fn turns_at(schedule: Option<&Schedule>, notices: &[NoticeRecord], now: Timestamp) -> Timestamp {
    let bounds = notices
        .iter()
        .flat_map(|n| [n.starts_at, n.ends_at])
        .flatten()
        .chain(schedule.and_then(|s| s.next_change(now)))
        .filter(|at| *at > now);
    bounds.fold(Timestamp(now.millis() + MAX_AGE_MS), |earliest, at| {
        earliest.min(at)
    })
}

/// A first page rendered with `CSRF_PLACEHOLDER`, split where the token goes.
pub struct KeptPage {
    snapshot: Arc<Snapshot>,
    parts: Vec<Bytes>,
}

impl KeptPage {
    /// The page with `token` where the placeholder stood.
    pub fn with_token(&self, token: &str) -> Bytes {
        with_token(&self.parts, token)
    }
}

/// The kept snapshots and pages, and what it reads them with (its own store and clock: it needs
/// nothing else of the application).
pub struct PortalCache {
    store: store::Store,
    clock: Arc<dyn Clock>,
    by_slug: RwLock<HashMap<String, Arc<Snapshot>>>,
    slug_of: RwLock<HashMap<SiteId, String>>,
    pages: RwLock<HashMap<(SiteId, Language, bool), Arc<KeptPage>>>,
}

impl PortalCache {
    pub fn new(store: store::Store, clock: Arc<dyn Clock>) -> Self {
        PortalCache {
            store,
            clock,
            by_slug: RwLock::default(),
            slug_of: RwLock::default(),
            pages: RwLock::default(),
        }
    }

    /// The site at `slug` as it stands now, read from the store only when the kept one is stale.
    pub async fn snapshot(&self, slug: &str) -> AppResult<Arc<Snapshot>> {
        let (epoch, now) = (self.store.portal_epoch(), self.clock.now());
        if let Some(kept) = self.kept(slug, epoch, now) {
            return Ok(kept);
        }
        let site = self
            .store
            .site_by_slug(slug)
            .await?
            .ok_or(AppError::NotFound)?;
        self.build(site, epoch, now).await
    }

    /// The snapshot of organization `org`'s site `site` (a waiting customer's, a key's), if
    /// that site still exists.
    pub async fn snapshot_of(&self, org: OrgId, site: SiteId) -> AppResult<Option<Arc<Snapshot>>> {
        let (epoch, now) = (self.store.portal_epoch(), self.clock.now());
        let slug = read(&self.slug_of).get(&site).cloned();
        // A kept slug whose snapshot is another site's (renamed since) falls through to the store.
        let kept = slug.and_then(|slug| self.kept(&slug, epoch, now));
        if let Some(kept) = kept.filter(|k| k.site.id == site && k.site.org_id == org) {
            return Ok(Some(kept));
        }
        match self.store.site(org, site).await? {
            Some(record) => Ok(Some(self.build(record, epoch, now).await?)),
            None => Ok(None),
        }
    }

    fn kept(&self, slug: &str, epoch: u64, now: Timestamp) -> Option<Arc<Snapshot>> {
        let kept = read(&self.by_slug).get(slug).cloned()?;
        kept.fresh(epoch, now).then_some(kept)
    }

    /// Read the rest of `site`'s facts and keep them. `epoch` must have been read before `site`.
    async fn build(
        &self,
        site: SiteRecord,
        epoch: u64,
        now: Timestamp,
    ) -> AppResult<Arc<Snapshot>> {
        let snapshot = Arc::new(load(&self.store, site, epoch, now).await?);
        let slug = snapshot.site.slug.clone();
        write(&self.slug_of).insert(snapshot.site.id, slug.clone());
        write(&self.by_slug).insert(slug, snapshot.clone());
        Ok(snapshot)
    }

    /// The kept first page for `snapshot`, or None when it must be rendered.
    pub fn page(
        &self,
        snapshot: &Arc<Snapshot>,
        lang: Language,
        ios: bool,
    ) -> Option<Arc<KeptPage>> {
        let pages = read(&self.pages);
        let kept = pages.get(&(snapshot.site.id, lang, ios))?;
        Arc::ptr_eq(&kept.snapshot, snapshot).then(|| kept.clone())
    }

    /// Keep `html` (rendered with `CSRF_PLACEHOLDER`) as the first page of `snapshot`.
    pub fn keep_page(
        &self,
        snapshot: &Arc<Snapshot>,
        lang: Language,
        ios: bool,
        html: &str,
    ) -> Arc<KeptPage> {
        let parts: Vec<Bytes> = html
            .split(CSRF_PLACEHOLDER)
            .map(|part| Bytes::copy_from_slice(part.as_bytes()))
            .collect();
        let kept = Arc::new(KeptPage {
            snapshot: snapshot.clone(),
            parts,
        });
        write(&self.pages).insert((snapshot.site.id, lang, ios), kept.clone());
        kept
    }
}

/// `parts` joined by `token`.
fn with_token(parts: &[Bytes], token: &str) -> Bytes {
    let len = parts.iter().map(Bytes::len).sum::<usize>() + token.len() * parts.len();
    let mut body = Vec::with_capacity(len);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            body.extend_from_slice(token.as_bytes());
        }
        body.extend_from_slice(part);
    }
    Bytes::from(body)
}

async fn load(
    store: &store::Store,
    site: SiteRecord,
    epoch: u64,
    now: Timestamp,
) -> AppResult<Snapshot> {
    let schedule = store.schedule(site.id).await?;
    let notice_records = store.notices(site.id).await?;
    Ok(Snapshot {
        reps: store
            .available_reps(site.org_id, &site.settings.teams)
            .await?,
        fields: store.custom_fields(site.id).await?,
        profiles: store.ios_profiles(site.id).await?,
        presentations: listed_presentations(store, &site, now).await?,
        has_logo: store.has_site_logo(site.id).await?,
        valid_until: turns_at(schedule.as_ref(), &notice_records, now),
        schedule,
        notice_records,
        site,
        epoch,
    })
}

/// The running presentations a site lists: none unless it offers presentations and lists them.
async fn listed_presentations(
    store: &store::Store,
    site: &SiteRecord,
    now: Timestamp,
) -> AppResult<Vec<ListedPresentation>> {
    let settings = &site.settings;
    if !settings.list_presentations || !settings.offers(domain::site::Method::Presentation) {
        return Ok(Vec::new());
    }
    let running = store.listed_presentations(site.org_id, now).await?;
    Ok(running
        .into_iter()
        .map(|(p, key)| ListedPresentation {
            title: p.title,
            presenter_name: p.presenter_name,
            link: crate::paths::presentation(&key),
        })
        .collect())
}

// A panic while holding one of these locks leaves plain data behind: keep using it.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(starts_at: Option<i64>, ends_at: Option<i64>) -> NoticeRecord {
        NoticeRecord {
            id: domain::NoticeId(1),
            name: "outage".into(),
            severity: domain::notice::Severity::Warning,
            texts: Default::default(),
            starts_at: starts_at.map(Timestamp),
            ends_at: ends_at.map(Timestamp),
        }
    }

    #[test]
    fn a_snapshot_turns_at_the_next_notice_boundary_or_its_age_limit() {
        let now = Timestamp(1_000_000);
        assert_eq!(turns_at(None, &[], now), Timestamp(1_000_000 + MAX_AGE_MS));
        let soon = [
            notice(Some(999_000), Some(1_002_000)),
            notice(Some(1_001_000), None),
        ];
        assert_eq!(turns_at(None, &soon, now), Timestamp(1_001_000));
        let past = [notice(Some(10), Some(20))];
        assert_eq!(
            turns_at(None, &past, now),
            Timestamp(1_000_000 + MAX_AGE_MS)
        );
    }

    #[test]
    fn the_token_goes_where_the_placeholder_stood() {
        let html =
            format!("<input value=\"{CSRF_PLACEHOLDER}\"><input value=\"{CSRF_PLACEHOLDER}\">");
        let parts: Vec<Bytes> = html
            .split(CSRF_PLACEHOLDER)
            .map(|p| Bytes::copy_from_slice(p.as_bytes()))
            .collect();
        assert_eq!(
            with_token(&parts, "abc"),
            Bytes::from_static(b"<input value=\"abc\"><input value=\"abc\">")
        );
    }
}
