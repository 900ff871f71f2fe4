//! A site's custom fields, notices, schedule and iOS profiles.

use super::admin_page;
use super::reps::parse_id;
use super::sites::find;
use crate::csrf::{CsrfForm, CsrfMultipart, NoFields};
use crate::error::{AppError, AppResult};
use crate::extract::AdminUser;
use crate::forms::{FieldErrors, Outcome};
use crate::paths;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::intake::{parse_field_key, CustomField, FieldKind};
use domain::notice::{self, Severity};
use domain::schedule::{format_ranges, parse_ranges, parse_time_zone, Holiday, Schedule, WEEKDAYS};
use domain::site::Texts;
use domain::text::DisplayName;
use domain::{FieldError, Language, NoticeId, Timestamp};
use minijinja::context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::sites::{NewNotice, SiteRecord};

/// `{prefix}_en`, `{prefix}_de`, … from a typed form into per-language texts.
fn texts_of(typed: &BTreeMap<String, String>, prefix: &str) -> Texts {
    Language::ALL
        .into_iter()
        .filter_map(|l| {
            typed
                .get(&format!("{prefix}_{}", l.code()))
                .map(|v| (l, v.clone()))
        })
        .collect()
}

// ---- custom fields ----

async fn render_fields(
    state: &AppState,
    me: &AdminUser,
    site: &SiteRecord,
    form: &BTreeMap<String, String>,
    outcome: Outcome,
) -> AppResult<Response> {
    let fields = state.store.custom_fields(site.id).await?;
    let kinds: Vec<&str> = FieldKind::ALL.iter().map(|k| k.as_str()).collect();
    admin_page(
        state,
        me,
        "sites",
        "admin/site_fields.html",
        outcome,
        context! { site, fields, form, kinds, languages => crate::i18n::languages() },
    )
}

#[derive(Deserialize)]
pub struct EditQuery {
    edit: Option<String>,
}

/// The fields page; with `?edit=KEY`, that field's settings in the form, to change them.
pub async fn fields(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<EditQuery>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    let mut form = BTreeMap::new();
    if let Some(key) = query.edit {
        let fields = state.store.custom_fields(site.id).await?;
        let field = fields
            .into_iter()
            .find(|f| f.key == key)
            .ok_or(AppError::NotFound)?;
        form.insert("editing".to_owned(), field.key.clone());
        form.insert("key".to_owned(), field.key);
        form.insert("kind".to_owned(), field.kind.as_str().to_owned());
        for (language, label) in field.labels {
            form.insert(format!("label_{}", language.code()), label);
        }
        form.insert("options".to_owned(), field.options.join("\n"));
        if field.required {
            form.insert("required".to_owned(), "on".to_owned());
        }
    }
    render_fields(&state, &me, &site, &form, Outcome::fresh()).await
}

pub async fn add_field(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    form: CsrfForm<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    let typed = &form.value;
    let get = |k: &str| typed.get(k).map(|s| s.trim()).unwrap_or("");
    let mut errors = FieldErrors::default();
    let key = errors.check("key", parse_field_key(get("key")));
    let kind = errors.check("kind", FieldKind::parse(get("kind")));
    let labels: Texts = texts_of(typed, "label")
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(l, v)| (l, v.trim().to_owned()))
        .collect();
    if labels.is_empty() {
        errors.add("label_en", FieldError::Required);
    }
    if labels
        .values()
        .any(|l| l.chars().count() > DisplayName::MAX)
    {
        errors.add(
            "label_en",
            FieldError::TooLong {
                max: DisplayName::MAX,
            },
        );
    }
    let options: Vec<String> = get("options")
        .lines()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if kind == Some(FieldKind::Select) && options.is_empty() {
        errors.add_message(
            "options",
            "A choice field needs at least one option, one per line.",
        );
    }
    let (Some(key), Some(kind), true) = (key, kind, errors.is_empty()) else {
        return render_fields(&state, &me, &site, typed, Outcome::invalid(errors)).await;
    };
    let field = CustomField {
        key,
        kind,
        required: typed.contains_key("required"),
        labels,
        options,
    };
    if let Some(editing) = typed.get("editing").filter(|k| !k.is_empty()) {
        // Editing keeps the key: answers already given are filed under it.
        let field = CustomField {
            key: editing.clone(),
            ..field
        };
        let (org, site_id) = (me.org_id(), site.id);
        if !state
            .store
            .update_custom_field(org, site_id, &field)
            .await?
        {
            return Err(AppError::NotFound);
        }
        let detail = format!("{} {}", site.slug, field.key);
        me.audit(&state, "site.field_changed", &detail).await?;
        let done = Outcome::done("Field saved.");
        return render_fields(&state, &me, &site, &BTreeMap::new(), done).await;
    }
    match state
        .store
        .add_custom_field(me.org_id(), site.id, &field)
        .await
    {
        Ok(()) => {
            me.audit(
                &state,
                "site.field_added",
                &format!("{} {}", site.slug, field.key),
            )
            .await?;
            render_fields(
                &state,
                &me,
                &site,
                &BTreeMap::new(),
                Outcome::done("Field added."),
            )
            .await
        }
        Err(store::StoreError::Conflict(_)) => {
            errors.add("key", FieldError::Taken);
            render_fields(&state, &me, &site, typed, Outcome::invalid(errors)).await
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    to: String,
}

/// Move a field one place up or down in the form customers fill.
pub async fn move_field(
    State(state): State<AppState>,
    me: AdminUser,
    Path((id, key)): Path<(String, String)>,
    form: CsrfForm<MoveForm>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    let earlier = match form.value.to.as_str() {
        "up" => true,
        "down" => false,
        _ => return Err(AppError::NotFound),
    };
    state
        .store
        .move_custom_field(me.org_id(), site.id, &key, earlier)
        .await?;
    Ok(Redirect::to(&paths::admin_site_part(site.id, "fields")).into_response())
}

pub async fn delete_field(
    State(state): State<AppState>,
    me: AdminUser,
    Path((id, key)): Path<(String, String)>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    if !state
        .store
        .delete_custom_field(me.org_id(), site.id, &key)
        .await?
    {
        return Err(AppError::NotFound);
    }
    me.audit(
        &state,
        "site.field_deleted",
        &format!("{} {key}", site.slug),
    )
    .await?;
    Ok(Redirect::to(&paths::admin_site_part(site.id, "fields")).into_response())
}

// ---- notices ----

/// The zone notice times are typed in: the site's schedule's, else UTC.
async fn site_zone(state: &AppState, site: &SiteRecord) -> AppResult<String> {
    Ok(state
        .store
        .schedule(site.id)
        .await?
        .map_or_else(|| "UTC".to_owned(), |s| s.time_zone))
}

/// `2026-12-24T18:00` (a datetime-local input) in `zone`; empty means no bound.
fn parse_local(raw: &str, zone: &str) -> Result<Option<Timestamp>, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let local: jiff::civil::DateTime = raw
        .replace(' ', "T")
        .parse()
        .map_err(|_| FieldError::InvalidDateTime)?;
    let zoned = local.in_tz(zone).map_err(|_| FieldError::InvalidDateTime)?;
    Ok(Some(Timestamp(zoned.timestamp().as_millisecond())))
}

fn format_local(at: Option<Timestamp>, zone: &str) -> String {
    at.and_then(|t| jiff::Timestamp::from_millisecond(t.0).ok())
        .and_then(|t| {
            jiff::tz::TimeZone::get(zone)
                .ok()
                .map(|z| t.to_zoned(z).strftime("%Y-%m-%d %H:%M").to_string())
        })
        .unwrap_or_default()
}

#[derive(Serialize)]
struct NoticeRow {
    id: i64,
    name: String,
    severity: &'static str,
    texts: Texts,
    starts: String,
    ends: String,
    shown_now: bool,
}

async fn render_notices(
    state: &AppState,
    me: &AdminUser,
    site: &SiteRecord,
    form: &BTreeMap<String, String>,
    outcome: Outcome,
) -> AppResult<Response> {
    let zone = site_zone(state, site).await?;
    let now = state.now();
    let notices: Vec<NoticeRow> = state
        .store
        .notices(site.id)
        .await?
        .into_iter()
        .map(|n| NoticeRow {
            id: n.id.0,
            shown_now: notice::is_shown(n.starts_at, n.ends_at, now),
            starts: format_local(n.starts_at, &zone),
            ends: format_local(n.ends_at, &zone),
            name: n.name,
            severity: n.severity.as_str(),
            texts: n.texts,
        })
        .collect();
    let severities: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
    admin_page(
        state,
        me,
        "sites",
        "admin/site_notices.html",
        outcome,
        context! {
            site, notices, form, severities, zone, languages => crate::i18n::languages(), max => notice::MAX_PER_SITE,
        },
    )
}

pub async fn notices(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    render_notices(&state, &me, &site, &BTreeMap::new(), Outcome::fresh()).await
}

pub async fn add_notice(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    form: CsrfForm<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    let typed = &form.value;
    let get = |k: &str| typed.get(k).map(String::as_str).unwrap_or("");
    let zone = site_zone(&state, &site).await?;
    let mut errors = FieldErrors::default();
    if state.store.notices(site.id).await?.len() >= notice::MAX_PER_SITE {
        errors.add_message(
            "name",
            format!(
                "A site shows at most {} notices: delete one first.",
                notice::MAX_PER_SITE
            ),
        );
    }
    let name = errors.check("name", DisplayName::parse(get("name")));
    let severity = errors.check("severity", Severity::parse(get("severity")));
    let texts = errors.check("text_en", notice::parse_texts(&texts_of(typed, "text")));
    let starts = errors.check("starts", parse_local(get("starts"), &zone));
    let ends = errors.check("ends", parse_local(get("ends"), &zone));
    if let (Some(Some(s)), Some(Some(e))) = (starts, ends) {
        if e <= s {
            errors.add_message("ends", "The end must come after the start.");
        }
    }
    let (Some(name), Some(severity), Some(texts), Some(starts_at), Some(ends_at), true) =
        (name, severity, texts, starts, ends, errors.is_empty())
    else {
        return render_notices(&state, &me, &site, typed, Outcome::invalid(errors)).await;
    };
    let notice = NewNotice {
        name: &name,
        severity,
        texts: &texts,
        starts_at,
        ends_at,
    };
    state
        .store
        .create_notice(me.org_id(), site.id, &notice, state.now())
        .await?;
    me.audit(&state, "site.notice_added", name.as_str()).await?;
    state.announce_site_change(me.org_id(), site.id, "notice");
    crate::app::notices::log_windows(&state).await?;
    render_notices(
        &state,
        &me,
        &site,
        &BTreeMap::new(),
        Outcome::done("Notice saved."),
    )
    .await
}

pub async fn delete_notice(
    State(state): State<AppState>,
    me: AdminUser,
    Path((id, notice)): Path<(String, String)>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    let notice = parse_id::<NoticeId>(&notice)?;
    let Some(logged) = state
        .store
        .delete_notice(me.org_id(), notice, state.now())
        .await?
    else {
        return Err(AppError::NotFound);
    };
    crate::app::notices::announce(&state, &logged);
    me.audit(&state, "site.notice_deleted", &site.slug).await?;
    state.announce_site_change(me.org_id(), site.id, "notice");
    Ok(Redirect::to(&paths::admin_site_part(site.id, "notices")).into_response())
}

// ---- schedule ----

#[derive(Deserialize, Serialize, Default)]
pub struct ScheduleForm {
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    holidays: String,
    #[serde(flatten)]
    days: BTreeMap<String, String>,
}

impl ScheduleForm {
    fn of(schedule: Option<&Schedule>) -> ScheduleForm {
        let shown = schedule.cloned().unwrap_or_else(|| {
            let mut s = Schedule::always_open("Europe/Berlin");
            let office = parse_ranges("09:00-17:00").unwrap_or_default();
            s.weekly = std::array::from_fn(|i| if i < 5 { office.clone() } else { Vec::new() });
            s
        });
        ScheduleForm {
            enabled: schedule.map(|_| "on".into()),
            time_zone: shown.time_zone.clone(),
            holidays: shown
                .holidays
                .iter()
                .map(Holiday::format)
                .collect::<Vec<_>>()
                .join("\n"),
            days: WEEKDAYS
                .iter()
                .zip(shown.weekly.iter())
                .map(|(d, r)| (d.to_string(), format_ranges(r)))
                .collect(),
        }
    }
}

async fn render_schedule(
    state: &AppState,
    me: &AdminUser,
    site: &SiteRecord,
    form: &ScheduleForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let schedule = state.store.schedule(site.id).await?;
    let now = state.now();
    let open_now = schedule.as_ref().is_none_or(|s| s.is_open(now));
    let next_change = schedule
        .as_ref()
        .and_then(|s| s.next_change(now))
        .map(|t| t.0);
    admin_page(
        state,
        me,
        "sites",
        "admin/site_schedule.html",
        outcome,
        context! {
            site, form, weekdays => WEEKDAYS, open_now, next_change,
        },
    )
}

pub async fn schedule(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    let current = state.store.schedule(site.id).await?;
    render_schedule(
        &state,
        &me,
        &site,
        &ScheduleForm::of(current.as_ref()),
        Outcome::fresh(),
    )
    .await
}

pub async fn save_schedule(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    form: CsrfForm<ScheduleForm>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    let f = &form.value;
    if f.enabled.is_none() {
        state.store.set_schedule(me.org_id(), site.id, None).await?;
        me.audit(&state, "site.schedule_removed", &site.slug)
            .await?;
        return render_schedule(
            &state,
            &me,
            &site,
            &ScheduleForm::of(None),
            Outcome::done("The site is now always open."),
        )
        .await;
    }
    let mut errors = FieldErrors::default();
    let time_zone = errors.check("time_zone", parse_time_zone(&f.time_zone));
    let weekly: [Vec<domain::schedule::Range>; 7] = std::array::from_fn(|i| {
        let day = WEEKDAYS[i];
        errors
            .check(
                day,
                parse_ranges(f.days.get(day).map(String::as_str).unwrap_or("")),
            )
            .unwrap_or_default()
    });
    let mut holidays = Vec::new();
    for line in f.holidays.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match Holiday::parse(line) {
            Ok(h) => holidays.push(h),
            Err(_) => errors.add_message(
                "holidays",
                format!(
                    "Cannot read “{line}”: write 2026-12-25 closed, or 2026-12-24 09:00-12:00."
                ),
            ),
        }
    }
    let (Some(time_zone), true) = (time_zone, errors.is_empty()) else {
        return render_schedule(&state, &me, &site, f, Outcome::invalid(errors)).await;
    };
    let schedule = Schedule {
        time_zone,
        weekly,
        holidays,
    };
    state
        .store
        .set_schedule(me.org_id(), site.id, Some(&schedule))
        .await?;
    me.audit(&state, "site.schedule_saved", &site.slug).await?;
    render_schedule(
        &state,
        &me,
        &site,
        &ScheduleForm::of(Some(&schedule)),
        Outcome::done("Schedule saved."),
    )
    .await
}

// ---- iOS profiles ----

pub const MAX_PROFILE_BYTES: usize = 512 * 1024;

/// A configuration profile: an XML property list, or one signed (CMS, DER: starts with a SEQUENCE).
fn looks_like_profile(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    let xml = head.contains("<?xml") || head.contains("<plist");
    let plist = xml && String::from_utf8_lossy(bytes).contains("PayloadContent");
    let signed = bytes.len() > 4 && bytes[0] == 0x30 && matches!(bytes[1], 0x80..=0x84);
    plist || signed
}

async fn render_profiles(
    state: &AppState,
    me: &AdminUser,
    site: &SiteRecord,
    form: &BTreeMap<String, String>,
    outcome: Outcome,
) -> AppResult<Response> {
    let german = |texts: &str| {
        let texts: Texts = serde_json::from_str(texts).unwrap_or_default();
        texts.get(&Language::De).cloned().unwrap_or_default()
    };
    let profiles: Vec<_> = state
        .store
        .ios_profiles(site.id)
        .await?
        .into_iter()
        .map(|p| {
            let (name_de, description_de) = (german(&p.names), german(&p.descriptions));
            context! { id => p.id, name => p.name, description => p.description, visibility => p.visibility, size => p.size, name_de, description_de }
        })
        .collect();
    admin_page(
        state,
        me,
        "sites",
        "admin/site_profiles.html",
        outcome,
        context! { site, profiles, form },
    )
}

pub async fn profiles(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    render_profiles(&state, &me, &site, &BTreeMap::new(), Outcome::fresh()).await
}

pub async fn add_profile(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    upload: CsrfMultipart,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    let typed: BTreeMap<String, String> = [
        "name",
        "description",
        "visibility",
        "name_de",
        "description_de",
    ]
    .iter()
    .map(|k| (k.to_string(), upload.text(k)))
    .collect();
    let mut errors = FieldErrors::default();
    let texts = profile_texts(&mut errors, &typed);
    let public = match typed["visibility"].as_str() {
        "public" => Some(true),
        "private" => Some(false),
        _ => {
            errors.add("visibility", FieldError::InvalidChoice);
            None
        }
    };
    let file = upload.file("file");
    match file {
        None => errors.add("file", FieldError::Required),
        Some(f)
            if !f
                .file_name
                .as_deref()
                .unwrap_or("")
                .to_ascii_lowercase()
                .ends_with(".mobileconfig") =>
        {
            errors.add_message(
                "file",
                "Upload a .mobileconfig file (exported from Apple Configurator).",
            )
        }
        Some(f) if f.bytes.len() > MAX_PROFILE_BYTES => {
            errors.add_message("file", "A profile may be at most 512 KiB.")
        }
        Some(f) if !looks_like_profile(&f.bytes) => {
            errors.add_message("file", "This file is not a configuration profile.")
        }
        Some(_) => {}
    }
    let (Some(texts), Some(public), Some(file), true) = (texts, public, file, errors.is_empty())
    else {
        return render_profiles(&state, &me, &site, &typed, Outcome::invalid(errors)).await;
    };
    let ProfileTexts {
        name,
        description,
        names,
        descriptions,
    } = texts;
    let profile = store::extras::NewIosProfile {
        name: name.as_str(),
        description: &description,
        public,
        content: &file.bytes,
    };
    let added = state
        .store
        .add_ios_profile(me.org_id(), site.id, &profile, state.now())
        .await?;
    if let Some(id) = added.filter(|_| !names.is_empty() || !descriptions.is_empty()) {
        let own = (name.as_str(), description.as_str());
        let others = (&names, &descriptions);
        state
            .store
            .set_ios_profile_texts(me.org_id(), id, own, others)
            .await?;
    }
    me.audit(&state, "site.profile_added", name.as_str())
        .await?;
    render_profiles(
        &state,
        &me,
        &site,
        &BTreeMap::new(),
        Outcome::done("Profile uploaded."),
    )
    .await
}

/// A profile's name and description, and in German, as typed and checked.
struct ProfileTexts {
    name: DisplayName,
    description: String,
    names: Texts,
    descriptions: Texts,
}

fn profile_texts(
    errors: &mut FieldErrors,
    typed: &BTreeMap<String, String>,
) -> Option<ProfileTexts> {
    let get = |k: &str| typed.get(k).map(|s| s.trim()).unwrap_or("");
    let name = errors.check("name", DisplayName::parse(get("name")));
    let mut names = Texts::new();
    if !get("name_de").is_empty() {
        if let Some(german) = errors.check("name_de", DisplayName::parse(get("name_de"))) {
            names.insert(Language::De, german.as_str().to_owned());
        }
    }
    let mut descriptions = Texts::new();
    for (field, language) in [
        ("description", None),
        ("description_de", Some(Language::De)),
    ] {
        let text = get(field);
        if text.chars().count() > 500 {
            errors.add(field, FieldError::TooLong { max: 500 });
        } else if let (Some(language), false) = (language, text.is_empty()) {
            descriptions.insert(language, text.to_owned());
        }
    }
    Some(ProfileTexts {
        name: name?,
        description: get("description").to_owned(),
        names,
        descriptions,
    })
}

/// Change a profile's name and description, or give them in German.
pub async fn profile_texts_save(
    State(state): State<AppState>,
    me: AdminUser,
    Path((id, profile)): Path<(String, String)>,
    form: CsrfForm<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    let profile: i64 = parse_id(&profile)?;
    let mut errors = FieldErrors::default();
    let texts = profile_texts(&mut errors, &form.value);
    let (Some(texts), true) = (texts, errors.is_empty()) else {
        // Shown in the upload form below, which the row's own fields lead to.
        return render_profiles(&state, &me, &site, &form.value, Outcome::invalid(errors)).await;
    };
    let own = (texts.name.as_str(), texts.description.as_str());
    let others = (&texts.names, &texts.descriptions);
    if !state
        .store
        .set_ios_profile_texts(me.org_id(), profile, own, others)
        .await?
    {
        return Err(AppError::NotFound);
    }
    me.audit(&state, "site.profile_changed", texts.name.as_str())
        .await?;
    render_profiles(
        &state,
        &me,
        &site,
        &BTreeMap::new(),
        Outcome::done("Saved."),
    )
    .await
}

pub async fn delete_profile(
    State(state): State<AppState>,
    me: AdminUser,
    Path((id, profile)): Path<(String, String)>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let site = find(&state, &me, &id).await?;
    if !state
        .store
        .delete_ios_profile(me.org_id(), parse_id(&profile)?)
        .await?
    {
        return Err(AppError::NotFound);
    }
    me.audit(&state, "site.profile_deleted", &site.slug).await?;
    Ok(Redirect::to(&paths::admin_site_part(site.id, "profiles")).into_response())
}
