//! Support sites: create one, and shape how it starts sessions, what it asks, how it looks.

use super::reps::parse_id;
use super::{admin_page, own_organization};
use crate::csrf::{CsrfForm, CsrfMultipart};
use crate::error::{AppError, AppResult};
use crate::extract::AdminUser;
use crate::forms::{FieldErrors, Outcome};
use crate::paths;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::site::{
    parse_colour, parse_hostnames, AskFor, FieldMode, Method, Preset, SiteSettings, StartAs, Texts,
};
use domain::text::{DisplayName, Slug};
use domain::{FieldError, IssueTypeId, Language, SiteId, TeamId};
use minijinja::context;
use serde::{Deserialize, Serialize};
use store::sites::{HostnameClaim, SiteRecord};

pub const MAX_MESSAGE: usize = 1000;

#[derive(Deserialize, Serialize, Default)]
pub struct NewSiteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
}

async fn render_list(
    state: &AppState,
    me: &AdminUser,
    form: &NewSiteForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let sites = state.store.sites(me.org_id()).await?;
    admin_page(
        state,
        me,
        "sites",
        "admin/sites.html",
        outcome,
        context! { sites, form },
    )
}

pub async fn list(State(state): State<AppState>, me: AdminUser) -> AppResult<Response> {
    render_list(&state, &me, &NewSiteForm::default(), Outcome::fresh()).await
}

pub async fn create(
    State(state): State<AppState>,
    me: AdminUser,
    form: CsrfForm<NewSiteForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let name = errors.check("name", DisplayName::parse(&form.value.name));
    let slug = errors.check("slug", Slug::parse(&form.value.slug));
    let (Some(name), Some(slug)) = (name, slug) else {
        return render_list(&state, &me, &form.value, Outcome::invalid(errors)).await;
    };
    match state
        .store
        .create_site(me.org_id(), &name, &slug, state.now())
        .await
    {
        Ok(id) => {
            me.audit(&state, "site.created", slug.as_str()).await?;
            Ok(Redirect::to(&paths::admin_site(id)).into_response())
        }
        Err(store::StoreError::Conflict(_)) => {
            errors.add("slug", FieldError::Taken);
            render_list(&state, &me, &form.value, Outcome::invalid(errors)).await
        }
        Err(err) => Err(err.into()),
    }
}

/// The settings form as typed (texts per language flattened to `welcome_en`, …).
#[derive(Deserialize, Serialize, Default)]
pub struct SiteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    hostnames: String,
    #[serde(default)]
    start_as: String,
    #[serde(default)]
    ask_for: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    company_code: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    contact_asks_name: Option<String>,
    #[serde(default)]
    survey: Option<String>,
    #[serde(default)]
    translation: Option<String>,
    #[serde(default)]
    screen_sharing: Option<String>,
    #[serde(default)]
    list_presentations: Option<String>,
    #[serde(default)]
    accept_when_unavailable: Option<String>,
    #[serde(default)]
    accent_colour: String,
    #[serde(default)]
    framing_origins: String,
    #[serde(default)]
    preset: Option<String>,
    #[serde(flatten)]
    sso: super::site_sso::SsoForm,
    #[serde(flatten)]
    texts: std::collections::BTreeMap<String, String>,
}

const TEXT_FIELDS: [&str; 3] = ["welcome", "closed_message", "no_rep_message"];

fn mode_name(mode: FieldMode) -> String {
    serde_json::to_value(mode)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl SiteForm {
    fn of(site: &SiteRecord, hostnames: &[HostnameClaim]) -> SiteForm {
        let s = &site.settings;
        let mut texts = std::collections::BTreeMap::new();
        for (field, values) in [
            ("welcome", &s.welcome),
            ("closed_message", &s.closed_message),
            ("no_rep_message", &s.no_rep_message),
        ] {
            for language in Language::ALL {
                texts.insert(
                    format!("{field}_{}", language.code()),
                    values.get(&language).cloned().unwrap_or_default(),
                );
            }
        }
        SiteForm {
            name: site.name.clone(),
            slug: site.slug.clone(),
            hostnames: hostnames
                .iter()
                .map(|c| c.hostname.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            start_as: if s.start_as == StartAs::FullSession {
                "full_session"
            } else {
                "web_chat"
            }
            .into(),
            ask_for: if s.issue_form.ask_for == AskFor::Rep {
                "rep"
            } else {
                "issue_type"
            }
            .into(),
            company: mode_name(s.issue_form.company),
            company_code: mode_name(s.issue_form.company_code),
            description: mode_name(s.issue_form.description),
            contact_asks_name: s.contact_asks_name.then(|| "on".into()),
            survey: s.survey.then(|| "on".into()),
            translation: s.translation.then(|| "on".into()),
            screen_sharing: s.screen_sharing.then(|| "on".into()),
            list_presentations: s.list_presentations.then(|| "on".into()),
            accept_when_unavailable: s.accept_when_unavailable.then(|| "on".into()),
            accent_colour: s.accent_colour.clone(),
            framing_origins: s.framing_origins.join("\n"),
            preset: None,
            sso: super::site_sso::SsoForm::of(s.sso.as_ref()),
            texts,
        }
    }
}

/// Checked boxes, as typed values.
pub(super) struct Checked {
    methods: Vec<String>,
    teams: Vec<i64>,
    issue_types: Vec<i64>,
}

impl Checked {
    fn of(site: &SiteRecord) -> Checked {
        let s = &site.settings;
        Checked {
            methods: s.methods.iter().map(|m| m.as_str().to_owned()).collect(),
            teams: s.teams.iter().map(|t| t.0).collect(),
            issue_types: s.issue_form.issue_types.iter().map(|i| i.0).collect(),
        }
    }

    fn typed(form: &CsrfForm<SiteForm>) -> Checked {
        Checked {
            methods: form.all("methods").map(str::to_owned).collect(),
            teams: form.all("teams").filter_map(|t| t.parse().ok()).collect(),
            issue_types: form
                .all("issue_types")
                .filter_map(|t| t.parse().ok())
                .collect(),
        }
    }
}

fn texts(form: &SiteForm, field: &str, errors: &mut FieldErrors) -> Texts {
    let mut out = Texts::new();
    for language in Language::ALL {
        let key = format!("{field}_{}", language.code());
        let value = form.texts.get(&key).map(|s| s.trim()).unwrap_or("");
        if value.chars().count() > MAX_MESSAGE {
            errors.add(&key, FieldError::TooLong { max: MAX_MESSAGE });
        } else if !value.is_empty() {
            out.insert(language, value.to_owned());
        }
    }
    out
}

fn parse_settings(
    form: &SiteForm,
    checked: &Checked,
    stored: &SiteSettings,
    errors: &mut FieldErrors,
) -> SiteSettings {
    let mut settings = SiteSettings {
        methods: checked
            .methods
            .iter()
            .filter_map(|m| Method::parse(m))
            .collect(),
        start_as: if form.start_as == "full_session" {
            StartAs::FullSession
        } else {
            StartAs::WebChat
        },
        teams: checked.teams.iter().copied().map(TeamId).collect(),
        contact_asks_name: form.contact_asks_name.is_some(),
        survey: form.survey.is_some(),
        translation: form.translation.is_some(),
        screen_sharing: form.screen_sharing.is_some(),
        list_presentations: form.list_presentations.is_some(),
        accept_when_unavailable: form.accept_when_unavailable.is_some(),
        welcome: texts(form, "welcome", errors),
        closed_message: texts(form, "closed_message", errors),
        no_rep_message: texts(form, "no_rep_message", errors),
        accent_colour: errors
            .check("accent_colour", parse_colour(&form.accent_colour))
            .unwrap_or_default(),
        sso: form.sso.parse(stored.sso.as_ref(), errors),
        framing_origins: framing_origins(&form.framing_origins, errors),
        ..SiteSettings::default()
    };
    settings.issue_form.ask_for = if form.ask_for == "rep" {
        AskFor::Rep
    } else {
        AskFor::IssueType
    };
    settings.issue_form.issue_types = checked
        .issue_types
        .iter()
        .copied()
        .map(IssueTypeId)
        .collect();
    settings.issue_form.company = errors
        .check("company", FieldMode::parse(&form.company))
        .unwrap_or_default();
    settings.issue_form.company_code = errors
        .check("company_code", FieldMode::parse(&form.company_code))
        .unwrap_or_default();
    settings.issue_form.description = errors
        .check("description", FieldMode::parse(&form.description))
        .unwrap_or_default();
    if let Some(preset) = form.preset.as_deref().and_then(Preset::parse) {
        preset.apply(&mut settings);
    }
    if settings.methods.is_empty() {
        errors.add_message("methods", "Offer at least one way to start.");
    }
    settings
}

/// The origins allowed to frame the portal, or why not beside the field.
fn framing_origins(raw: &str, errors: &mut FieldErrors) -> Vec<String> {
    use domain::framing::{parse_origins, OriginError};
    match parse_origins(raw) {
        Ok(origins) => origins,
        Err(OriginError::NotAnOrigin(_)) => {
            let message = "Write each origin as https://www.example.com: http or https, a host name and perhaps a port, nothing after it.";
            errors.add_message("framing_origins", message);
            Vec::new()
        }
        Err(OriginError::TooMany) => {
            errors.add_message("framing_origins", "List at most 20 origins.");
            Vec::new()
        }
    }
}

/// The admin's organization's site with this id (another organization's is not found).
pub(super) async fn find(state: &AppState, me: &AdminUser, id: &str) -> AppResult<SiteRecord> {
    state
        .store
        .site(me.org_id(), parse_id::<SiteId>(id)?)
        .await?
        .ok_or(AppError::NotFound)
}

/// The site's page: the form as typed (`typed`, after a refusal) or as saved, its hostname
/// claims with the record each still needs, the outcome above.
pub(super) async fn render_site(
    state: &AppState,
    me: &AdminUser,
    site: &SiteRecord,
    typed: Option<(&SiteForm, &Checked)>,
    outcome: Outcome,
) -> AppResult<Response> {
    let hostnames = state.store.site_hostnames(site.id).await?;
    let (saved_form, saved_checked);
    let (form, checked) = match typed {
        Some(typed) => typed,
        None => {
            saved_form = SiteForm::of(site, &hostnames);
            saved_checked = Checked::of(site);
            (&saved_form, &saved_checked)
        }
    };
    let claims = super::hostnames::claim_views(&hostnames);
    let teams = state.store.teams(me.org_id()).await?;
    let issue_types = state.store.issue_types(me.org_id()).await?;
    let methods: Vec<(&str, &str)> = vec![
        ("rep_list", "Representative list"),
        ("issue_form", "Issue form"),
        ("contact_button", "Contact button (one click)"),
        (
            "smartbox",
            "SmartBox (type a question, every available rep sees it)",
        ),
        ("session_key", "Session key"),
        ("presentation", "Presentation (join by key or link)"),
    ];
    let languages = crate::i18n::languages();
    let org = own_organization(state, me).await?;
    let has_logo = state.store.has_site_logo(site.id).await?;
    let sso_callback = format!(
        "{}/p/{}/sign-in/callback",
        state.config.public_url, site.slug
    );
    let saml_base = format!("{}/p/{}/saml", state.config.public_url, site.slug);
    let (sp_metadata, sp_acs) = (format!("{saml_base}/metadata"), format!("{saml_base}/acs"));
    let panel = !site.settings.framing_origins.is_empty();
    let open = if panel { " data-open=\"panel\"" } else { "" };
    let embed_snippet = format!(
        "<script src=\"{}/static/embed.js\" data-site=\"{}\"{open} async></script>",
        state.config.public_url, site.slug
    );
    let extra = context! {
        sso_callback, sp_metadata, sp_acs, site, form, embed_snippet, panel, claims, method_choices => methods, teams, issue_types, languages, has_logo, org_name => org.name,
        checked_methods => &checked.methods, checked_teams => &checked.teams, checked_issue_types => &checked.issue_types,
        text_fields => TEXT_FIELDS, modes => [("hidden", "Hidden"), ("optional", "Optional"), ("required", "Required")],
    };
    admin_page(state, me, "sites", "admin/site.html", outcome, extra)
}

pub async fn show(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    render_site(&state, &me, &site, None, Outcome::fresh()).await
}

pub async fn update(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    form: CsrfForm<SiteForm>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    let checked = Checked::typed(&form);
    let mut form = form;
    form.value.sso.fetch().await;
    let f = &form.value;
    let mut errors = FieldErrors::default();
    let name = errors.check("name", DisplayName::parse(&f.name));
    let slug = errors.check("slug", Slug::parse(&f.slug));
    let hostnames = errors
        .check(
            "hostnames",
            parse_hostnames(&f.hostnames).map_err(|_| FieldError::InvalidChoice),
        )
        .filter(|hosts| super::hostnames::none_reserved(&state, hosts, &mut errors));
    let settings = parse_settings(f, &checked, &site.settings, &mut errors);
    let saved = match (name, slug, hostnames, errors.is_empty()) {
        (Some(name), Some(slug), Some(hostnames), true) => {
            let what = (&name, &slug, &settings, hostnames.as_slice());
            save(&state, &me, &site, what, &mut errors)
                .await?
                .then_some(slug)
        }
        _ => None,
    };
    let Some(slug) = saved else {
        let typed = Some((f, &checked));
        return render_site(&state, &me, &site, typed, Outcome::invalid(errors)).await;
    };
    me.audit(&state, "site.updated", slug.as_str()).await?;
    let site = find(&state, &me, &id).await?;
    render_site(&state, &me, &site, None, Outcome::done("Saved.")).await
}

/// Store a site's name, slug, settings and hostnames; false (with why beside the field) when
/// the slug or a hostname belongs to another site.
async fn save(
    state: &AppState,
    me: &AdminUser,
    site: &SiteRecord,
    (name, slug, settings, hostnames): (&DisplayName, &Slug, &SiteSettings, &[String]),
    errors: &mut FieldErrors,
) -> AppResult<bool> {
    let updated = state
        .store
        .update_site(me.org_id(), site.id, name, slug, settings);
    match updated.await {
        Ok(_) => {}
        Err(store::StoreError::Conflict(_)) => {
            errors.add("slug", FieldError::Taken);
            return Ok(false);
        }
        Err(other) => return Err(other.into()),
    }
    let claims =
        state
            .store
            .set_site_hostnames(me.org_id(), site.id, hostnames, state.now(), || {
                domain::secret::random_token(&mut rand::rngs::OsRng)
            });
    match claims.await {
        Ok(_) => Ok(true),
        Err(store::StoreError::Conflict(_)) => {
            let taken = "One of these hostnames already belongs to another site.";
            errors.add_message("hostnames", taken);
            Ok(false)
        }
        Err(other) => Err(other.into()),
    }
}

/// Logo upload: PNG, JPEG, GIF or WebP up to 256 KiB (checked by content, not by name).
pub async fn upload_logo(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    upload: CsrfMultipart,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    let mut errors = FieldErrors::default();
    match upload.file("logo") {
        None => errors.add("logo", FieldError::Required),
        Some(file) if file.bytes.len() > 256 * 1024 => {
            errors.add_message("logo", "The logo may be at most 256 KiB.")
        }
        Some(file) => match image_type(&file.bytes) {
            Some(content_type) => {
                state
                    .store
                    .set_site_logo(me.org_id(), site.id, content_type, &file.bytes)
                    .await?;
                me.audit(&state, "site.logo", &site.slug).await?;
                let saved = Outcome::done("Logo saved.");
                return render_site(&state, &me, &site, None, saved).await;
            }
            None => errors.add_message("logo", "Upload a PNG, JPEG, GIF or WebP image."),
        },
    }
    render_site(&state, &me, &site, None, Outcome::invalid(errors)).await
}

fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}
