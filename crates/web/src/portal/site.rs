//! A portal page's facts: the site, the visitor's language, whether it is open, who is available,
//! which notices and profiles to show. Every portal page starts from `Portal::load`.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use domain::site::{text_in, Method, Texts};
use domain::{notice, Language, OrgId, SiteId};
use minijinja::{context, Value};
use serde::Serialize;
use std::sync::Arc;
use store::extras::IosProfile;
use store::sites::{NoticeRecord, SiteRecord};

use super::cache::Snapshot;

/// A portal page's facts: the site's snapshot (shared, see `cache`), and what follows from the
/// visitor's language and the time of the request.
pub struct Portal {
    pub snapshot: Arc<Snapshot>,
    pub lang: Language,
    /// Inside the schedule's hours (always, without a schedule).
    pub open: bool,
    pub notices: Vec<ShownNotice>,
    /// The customer this browser signed in as at the site's identity provider (see
    /// `with_sign_in`); their name is shown, not asked.
    pub signed_in: Option<super::sign_in::Verified>,
}

/// `portal.site`, `portal.reps`, `portal.fields`… read through to the snapshot.
impl std::ops::Deref for Portal {
    type Target = Snapshot;
    fn deref(&self) -> &Snapshot {
        &self.snapshot
    }
}

#[derive(Serialize, PartialEq)]
pub struct ShownNotice {
    pub severity: &'static str,
    pub text: String,
}

/// The notices of `records` shown now, in `lang`.
pub fn shown_notices(
    records: &[NoticeRecord],
    lang: Language,
    now: domain::Timestamp,
) -> Vec<ShownNotice> {
    records
        .iter()
        .filter(|n| notice::is_shown(n.starts_at, n.ends_at, now))
        .filter_map(|n| {
            Some(ShownNotice {
                severity: n.severity.as_str(),
                text: notice::text_for(&n.texts, lang)?.to_owned(),
            })
        })
        .collect()
}

#[derive(Serialize)]
struct FieldView {
    key: String,
    input: String,
    kind: &'static str,
    required: bool,
    label: String,
    choices: Vec<Choice>,
    /// The identity provider's value, when the field is mapped and the customer signed in.
    vouched: Option<String>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

impl Portal {
    pub async fn load(state: &AppState, slug: &str, lang: Language) -> AppResult<Portal> {
        let snapshot = state.portal_cache.snapshot(slug).await?;
        Ok(Portal::at(snapshot, lang, state.now()))
    }

    /// The portal of a site record already at hand (its facts still come from the cache).
    pub async fn of(state: &AppState, site: &SiteRecord, lang: Language) -> AppResult<Portal> {
        Portal::of_site(state, site.org_id, Some(site.id), lang).await
    }

    /// The portal of organization `org`'s site `site` (where a session or a key came from), or
    /// of the organization's first site when it has none or it is gone.
    pub async fn of_site(
        state: &AppState,
        org: OrgId,
        site: Option<SiteId>,
        lang: Language,
    ) -> AppResult<Portal> {
        let kept = match site {
            Some(site) => state.portal_cache.snapshot_of(org, site).await?,
            None => None,
        };
        let snapshot = match kept {
            Some(snapshot) => snapshot,
            None => {
                let first = state
                    .store
                    .first_site(org)
                    .await?
                    .ok_or(AppError::NotFound)?;
                state.portal_cache.snapshot(&first.slug).await?
            }
        };
        Ok(Portal::at(snapshot, lang, state.now()))
    }

    pub fn at(snapshot: Arc<Snapshot>, lang: Language, now: domain::Timestamp) -> Portal {
        let open = snapshot.schedule.as_ref().is_none_or(|s| s.is_open(now));
        let notices = shown_notices(&snapshot.notice_records, lang, now);
        Portal {
            snapshot,
            lang,
            open,
            notices,
            signed_in: None,
        }
    }

    /// The same portal as this browser (its cookies) signed in to it, if it did.
    pub async fn with_sign_in(
        mut self,
        state: &AppState,
        jar: &axum_extra::extract::cookie::CookieJar,
    ) -> AppResult<Portal> {
        if self.site.settings.sso.is_some() {
            self.signed_in = super::sign_in::identity_in(state, jar, self.site.id).await?;
        }
        Ok(self)
    }

    /// The site requires sign-in and this browser has not.
    pub fn must_sign_in(&self) -> bool {
        self.site.settings.sso.as_ref().is_some_and(|s| s.required) && self.signed_in.is_none()
    }

    /// Requests are taken: inside hours, and someone is available or the site queues anyway.
    pub fn takes_requests(&self) -> bool {
        self.open && (!self.reps.is_empty() || self.site.settings.accept_when_unavailable)
    }

    /// Whether the page offers `method` right now (keys work even when closed).
    pub fn offers(&self, method: Method) -> bool {
        self.site.settings.offers(method) && (method.works_while_closed() || self.takes_requests())
    }

    /// The value the site's identity provider gave this browser's customer for custom field
    /// `key`, when the site maps one to it (shown, not asked; the server enforces it).
    fn vouched_value(&self, key: &str) -> Option<String> {
        let sso = self.site.settings.sso.as_ref()?;
        let attribute = sso.map.get(key)?;
        self.signed_in.as_ref()?.attributes.get(attribute).cloned()
    }

    /// The site's identity provider and this browser's sign-in there, for a request for help
    /// (the portal must come `with_sign_in`).
    pub fn sign_in(&self) -> Option<crate::app::sessions::SignIn<'_>> {
        let sso = self.site.settings.sso.as_ref()?;
        Some(crate::app::sessions::SignIn {
            sso,
            identity: self.signed_in.as_ref(),
        })
    }

    /// The name the site's identity provider gave this browser's customer.
    fn verified_name(&self) -> Option<&str> {
        let sso = self.site.settings.sso.as_ref()?;
        self.signed_in.as_ref()?.name(sso)
    }

    pub fn text(&self, texts: &Texts) -> Option<String> {
        text_in(texts, self.lang).map(str::to_owned)
    }

    fn field_views(&self) -> Vec<FieldView> {
        self.fields
            .iter()
            .map(|f| FieldView {
                key: f.key.clone(),
                input: f.input_name(),
                kind: f.kind.as_str(),
                required: f.required,
                label: text_in(&f.labels, self.lang).unwrap_or(&f.key).to_owned(),
                vouched: self.vouched_value(&f.key),
                choices: f
                    .options
                    .iter()
                    .map(|o| Choice {
                        value: o.clone(),
                        label: o.clone(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// What every portal page shows: look, language, notices, open or closed.
    pub fn context(&self, csrf: &str, ios: bool) -> Value {
        let settings = &self.site.settings;
        let methods: std::collections::BTreeMap<&str, bool> = Method::ALL
            .into_iter()
            .map(|m| (m.as_str(), self.offers(m)))
            .collect();
        // Each profile's name and description in the visitor's language, where the admin gave one.
        let profiles: Vec<Value> = self
            .profiles
            .iter()
            .map(|p: &IosProfile| {
                context! { id => p.id, name => p.name_in(self.lang), description => p.description_in(self.lang), visibility => &p.visibility }
            })
            .collect();
        context! {
            lang => self.lang.code(),
            site => context! { name => &self.site.name, slug => &self.site.slug, org_name => &self.site.org_name },
            has_logo => self.has_logo,
            welcome => self.text(&settings.welcome),
            notices => &self.notices,
            closed => !self.open,
            closed_message => self.text(&settings.closed_message),
            nobody_available => self.open && self.reps.is_empty(),
            no_rep_message => self.text(&settings.no_rep_message),
            methods,
            contact_asks_name => settings.contact_asks_name,
            languages => crate::i18n::languages(),
            reps => &self.reps,
            fields => self.field_views(),
            profiles,
            profiles_first => ios,
            verified_name => self.verified_name(),
            signed_in => self.signed_in.is_some(),
            presentations => &self.presentations,
            csrf,
        }
    }
}
