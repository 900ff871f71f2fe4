//! A portal page's facts: the site, the visitor's language, whether it is open, who is available,
//! which notices and profiles to show. Every portal page starts from `Portal::load`.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use domain::intake::CustomField;
use domain::site::{text_in, Method, Texts};
use domain::{notice, Language};
use minijinja::{context, Value};
use serde::Serialize;
use store::extras::IosProfile;
use store::sites::{NoticeRecord, SiteRecord};
use store::users::User;

pub struct Portal {
    pub site: SiteRecord,
    pub lang: Language,
    /// Inside the schedule's hours (always, without a schedule).
    pub open: bool,
    pub reps: Vec<User>,
    pub fields: Vec<CustomField>,
    pub notices: Vec<ShownNotice>,
    pub profiles: Vec<IosProfile>,
    pub has_logo: bool,
}

#[derive(Serialize)]
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
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

impl Portal {
    pub async fn load(state: &AppState, slug: &str, lang: Language) -> AppResult<Portal> {
        let site = state
            .store
            .site_by_slug(slug)
            .await?
            .ok_or(AppError::NotFound)?;
        Portal::of(state, site, lang).await
    }

    pub async fn of(state: &AppState, site: SiteRecord, lang: Language) -> AppResult<Portal> {
        let now = state.now();
        let open = state
            .store
            .schedule(site.id)
            .await?
            .is_none_or(|s| s.is_open(now));
        let reps = state
            .store
            .available_reps(site.org_id, &site.settings.teams)
            .await?;
        let notices = shown_notices(&state.store.notices(site.id).await?, lang, now);
        Ok(Portal {
            fields: state.store.custom_fields(site.id).await?,
            profiles: state.store.ios_profiles(site.id).await?,
            has_logo: state.store.has_site_logo(site.id).await?,
            site,
            lang,
            open,
            reps,
            notices,
        })
    }

    /// Requests are taken: inside hours, and someone is available or the site queues anyway.
    pub fn takes_requests(&self) -> bool {
        self.open && (!self.reps.is_empty() || self.site.settings.accept_when_unavailable)
    }

    /// Whether the page offers `method` right now (keys work even when closed).
    pub fn offers(&self, method: Method) -> bool {
        self.site.settings.offers(method) && (method.works_while_closed() || self.takes_requests())
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
        let profiles: Vec<&IosProfile> = self.profiles.iter().collect();
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
            csrf,
        }
    }
}
