//! The doors into a queue: the home page, a chosen rep, the issue form, the contact button.

use super::{ask_for_help, cache, is_ios, translated, Arrival, Ios, Portal, Requester};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{AppError, AppResult};
use crate::forms::{FieldErrors, Outcome};
use crate::i18n::Lang;
use crate::paths;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use domain::intake::{self, Answers, Questions};
use domain::routing::{route, Request};
use domain::site::{AskFor, FieldMode, Method};
use domain::{IssueTypeId, UserId};
use minijinja::{context, Value};
use serde::Serialize;
use std::collections::BTreeMap;
use store::users::User;

pub type Typed = BTreeMap<String, String>;

/// The home page's HTML: the site's doors, with what was typed and any errors beside the fields.
fn home_html(
    state: &AppState,
    portal: &Portal,
    csrf: &str,
    ios: bool,
    typed: &Typed,
    errors: &FieldErrors,
) -> AppResult<Html<String>> {
    let carry = Prefill::carried(typed);
    let ctx = context! { form => typed, errors, carry, ..portal.context(csrf, ios) };
    state.templates.page("portal/home.html", ctx)
}

/// The site's home page, re-shown with errors beside a field.
pub async fn render_home(
    state: &AppState,
    portal: &Portal,
    csrf: &str,
    ios: bool,
    typed: &Typed,
    outcome: Outcome,
) -> AppResult<Response> {
    let html = home_html(state, portal, csrf, ios, typed, &outcome.errors)?;
    Ok(portal.page(outcome.respond(html)))
}

/// What a page embedding the help button passes to the portal (`/embed.js`): the customer's
/// name and company when the host page knows them, and the host page's own address.
#[derive(serde::Deserialize, Default)]
pub struct Prefill {
    #[serde(default)]
    name: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    from: String,
}

impl Prefill {
    /// Read leniently from a page's query: an address the portal does not understand still
    /// shows the page, empty.
    fn from_query(query: Option<String>) -> Option<Typed> {
        query
            .and_then(|q| serde_urlencoded::from_str::<Prefill>(&q).ok())
            .and_then(|p| p.typed())
    }

    /// What the home page's links to the rep's and the issue form's pages carry on of `typed`
    /// (`?name=…&company=…&from=…`; empty when nothing came from an embedding page), so those
    /// forms start filled in and the rep still learns the page the customer came from.
    fn carried(typed: &Typed) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        let mut any = false;
        for (key, field) in [
            ("name", "customer_name"),
            ("company", "company"),
            ("from", "page_url"),
        ] {
            if let Some(value) = typed.get(field).filter(|v| !v.is_empty()) {
                query.append_pair(key, value);
                any = true;
            }
        }
        match any {
            true => format!("?{}", query.finish()),
            false => String::new(),
        }
    }

    /// The home page's forms with these answers in them (none: the kept page serves).
    fn typed(&self) -> Option<Typed> {
        let mut typed = Typed::new();
        for (fields, value) in [
            (&["customer_name", "smartbox_name"][..], &self.name),
            (&["company"][..], &self.company),
            (&["page_url"][..], &self.from),
        ] {
            let value: String = value
                .chars()
                .filter(|c| !c.is_control())
                .take(500)
                .collect();
            if !value.trim().is_empty() {
                for field in fields {
                    typed.insert((*field).to_owned(), value.trim().to_owned());
                }
            }
        }
        (!typed.is_empty()).then_some(typed)
    }
}

/// Whether the query asks to go back to a waiting page (`resume=1`).
fn resumes(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "resume" && v == "1")
    })
}

/// The site's first page: kept rendered per language (see `cache`), with this browser's token.
/// Opened from an embedding page with answers to fill in, it is rendered for them. The help
/// button asks with `resume=1`: a browser still waiting on the site goes back to its waiting
/// page (a customer who closed the panel or window, or moved on to another page of the shop).
pub async fn home(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    Ios(ios): Ios,
    Path(slug): Path<String>,
    jar: CookieJar,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> AppResult<Response> {
    let snapshot = state.portal_cache.snapshot(&slug).await?;
    if resumes(query.as_deref()) {
        let site = snapshot.site.id;
        if let Some(capability) = super::requester::waiting_page_of(&state, &jar, site).await? {
            let back = axum::response::Redirect::to(&paths::waiting(&capability));
            return Ok(back.into_response());
        }
    }
    let prefilled = Prefill::from_query(query);
    if snapshot.site.settings.sso.is_none() {
        if let Some(typed) = prefilled.as_ref() {
            let portal = Portal::at(snapshot, lang, state.now());
            let html = home_html(&state, &portal, &csrf, ios, typed, &FieldErrors::default())?;
            return Ok(portal.page(html.into_response()));
        }
    }
    if snapshot.site.settings.sso.is_some() {
        // Pages of a site with sign-in depend on who signed in: not kept.
        let portal = Portal::at(snapshot, lang, state.now())
            .with_sign_in(&state, &jar)
            .await?;
        if portal.must_sign_in() {
            return super::sign_in::sign_in_page(&state, &portal, &csrf, &format!("/p/{slug}"));
        }
        let html = home_html(
            &state,
            &portal,
            &csrf,
            ios,
            &prefilled.unwrap_or_default(),
            &FieldErrors::default(),
        )?;
        return Ok(portal.page(html.into_response()));
    }
    let kept = match state.portal_cache.page(&snapshot, lang, ios) {
        Some(kept) => kept,
        None => {
            let portal = Portal::at(snapshot.clone(), lang, state.now());
            let (placeholder, fresh) = (cache::CSRF_PLACEHOLDER, FieldErrors::default());
            let html = home_html(&state, &portal, placeholder, ios, &Typed::new(), &fresh)?;
            state.portal_cache.keep_page(&snapshot, lang, ios, &html.0)
        }
    };
    let page = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        kept.with_token(&csrf),
    );
    Ok(snapshot.page(page.into_response()))
}

fn answers(form: &CsrfForm<Typed>) -> Answers {
    form.pairs
        .iter()
        .filter(|(k, _)| k != "csrf")
        .cloned()
        .collect()
}

/// The questions the issue form asks on this site.
fn form_questions(portal: &Portal) -> Questions {
    let form = &portal.site.settings.issue_form;
    Questions {
        company: form.company,
        company_code: form.company_code,
        description: form.description,
    }
}

/// A rep who serves this site: active, in one of its teams; available unless the site queues anyway.
async fn serving_rep(state: &AppState, portal: &Portal, rep: UserId) -> AppResult<Option<User>> {
    if let Some(available) = portal.reps.iter().find(|r| r.id == rep) {
        return Ok(Some(available.clone()));
    }
    if !portal.site.settings.accept_when_unavailable {
        return Ok(None);
    }
    let Some(user) = state
        .store
        .user(portal.site.org_id, rep)
        .await?
        .filter(|u| u.active)
    else {
        return Ok(None);
    };
    let teams = state.store.user_team_ids(portal.site.org_id, rep).await?;
    let serves = domain::site::serves(&teams, &portal.site.settings.teams);
    Ok(serves.then_some(user))
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

/// The request form page, for one of: a chosen rep, the issue form, a session key's rep.
pub struct RequestPage<'a> {
    pub mode: &'static str,
    pub action: String,
    pub rep: Option<Value>,
    pub questions: Questions,
    pub hidden: Vec<(&'static str, String)>,
    pub typed: &'a Typed,
    pub outcome: Outcome,
}

pub async fn render_request(
    state: &AppState,
    portal: &Portal,
    csrf: &str,
    view: RequestPage<'_>,
) -> AppResult<Response> {
    let settings = &portal.site.settings.issue_form;
    let mut issue_types = Vec::new();
    let mut rep_choices = Vec::new();
    if view.mode == "issue" {
        if settings.ask_for == AskFor::Rep {
            rep_choices = portal
                .reps
                .iter()
                .map(|r| Choice {
                    value: r.id.to_string(),
                    label: r.display_name.clone(),
                })
                .collect();
        } else {
            issue_types = offered_issue_types(state, portal)
                .await?
                .into_iter()
                .map(|i| Choice {
                    value: i.id.to_string(),
                    label: i.name_in(portal.lang),
                })
                .collect();
        }
    }
    let mode_of = |m: FieldMode| match m {
        FieldMode::Hidden => "hidden",
        FieldMode::Optional => "optional",
        FieldMode::Required => "required",
    };
    let ctx = context! {
        mode => view.mode, action => view.action, rep => view.rep, hidden => view.hidden,
        company => mode_of(view.questions.company), company_code => mode_of(view.questions.company_code),
        description => mode_of(view.questions.description),
        issue_types, rep_choices, form => view.typed, errors => &view.outcome.errors,
        ..portal.context(csrf, false)
    };
    let html = state.templates.page("portal/request.html", ctx)?;
    Ok(portal.page(view.outcome.respond(html)))
}

async fn offered_issue_types(
    state: &AppState,
    portal: &Portal,
) -> AppResult<Vec<store::directory::IssueType>> {
    let offered = &portal.site.settings.issue_form.issue_types;
    Ok(state
        .store
        .issue_types(portal.site.org_id)
        .await?
        .into_iter()
        .filter(|i| offered.is_empty() || offered.contains(&i.id))
        .collect())
}

fn rep_view(rep: &User, org_name: &str) -> Value {
    context! { name => &rep.display_name, title => &rep.title, org_name }
}

/// A way to ask that the site has but cannot take now (closed, or nobody available while it
/// does not queue anyway): its home page, which says so and keeps key entry, rather than
/// "not found". A way the site does not offer at all is not found.
async fn not_now(
    state: &AppState,
    portal: &Portal,
    csrf: &str,
    method: Method,
) -> AppResult<Response> {
    if !portal.site.settings.offers(method) {
        return Err(AppError::NotFound);
    }
    let outcome = Outcome::fresh();
    render_home(state, portal, csrf, false, &Typed::new(), outcome).await
}

async fn chosen_rep(state: &AppState, portal: &Portal, rep: &str) -> AppResult<User> {
    if !portal.offers(Method::RepList) {
        return Err(AppError::NotFound);
    }
    let id: UserId = rep.parse().map_err(|_| AppError::NotFound)?;
    serving_rep(state, portal, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn rep_form(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    Path((slug, rep)): Path<(String, String)>,
    jar: CookieJar,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang)
        .await?
        .with_sign_in(&state, &jar)
        .await?;
    if !portal.offers(Method::RepList) {
        return not_now(&state, &portal, &csrf, Method::RepList).await;
    }
    let rep = chosen_rep(&state, &portal, &rep).await?;
    if portal.must_sign_in() {
        let here = paths::portal_rep(&portal.site.slug, rep.id);
        return super::sign_in::sign_in_page(&state, &portal, &csrf, &here);
    }
    let view = RequestPage {
        mode: "rep",
        action: paths::portal_rep(&portal.site.slug, rep.id),
        rep: Some(rep_view(&rep, &portal.site.org_name)),
        questions: Questions::NAME_ONLY,
        hidden: vec![],
        typed: &Prefill::from_query(query).unwrap_or_default(),
        outcome: Outcome::fresh(),
    };
    render_request(&state, &portal, &csrf, view).await
}

pub async fn rep_submit(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    Path((slug, rep)): Path<(String, String)>,
    who: Requester,
    form: CsrfForm<Typed>,
) -> AppResult<Response> {
    // Signed in: a page shown again (a mistake in the form) shows the identity, read-only.
    let portal = Portal::load(&state, &slug, lang)
        .await?
        .with_sign_in(&state, who.jar())
        .await?;
    if !portal.offers(Method::RepList) {
        return not_now(&state, &portal, &csrf, Method::RepList).await;
    }
    let rep = chosen_rep(&state, &portal, &rep).await?;
    let outcome = match intake::parse(&answers(&form), Questions::NAME_ONLY, &portal.fields) {
        Ok(intake) => {
            let routed = route(&Request::ChoseRep {
                rep: rep.id,
                rep_name: &rep.display_name,
            });
            let arrival = Arrival {
                org: portal.site.org_id,
                site: Some(portal.site.id),
                routed: &routed,
                intake: &intake,
                issue_type: None,
                lang,
                verified: None,
                sign_in: portal.sign_in(),
            };
            match ask_for_help(&state, &arrival, &who).await? {
                Ok(response) => return Ok(response),
                Err(refused) => refused,
            }
        }
        Err(errors) => Outcome::invalid(translated(&state.catalog, lang, &errors)),
    };
    let page = rep_page(&portal, &rep, &form, outcome);
    render_request(&state, &portal, &csrf, page).await
}

fn rep_page<'a>(
    portal: &Portal,
    rep: &User,
    form: &'a CsrfForm<Typed>,
    outcome: Outcome,
) -> RequestPage<'a> {
    RequestPage {
        mode: "rep",
        action: paths::portal_rep(&portal.site.slug, rep.id),
        rep: Some(rep_view(rep, &portal.site.org_name)),
        questions: Questions::NAME_ONLY,
        hidden: vec![],
        typed: &form.value,
        outcome,
    }
}

fn issue_page<'a>(portal: &Portal, typed: &'a Typed, outcome: Outcome) -> RequestPage<'a> {
    RequestPage {
        mode: "issue",
        action: paths::portal(&portal.site.slug, "request"),
        rep: None,
        questions: form_questions(portal),
        hidden: vec![],
        typed,
        outcome,
    }
}

pub async fn issue_form(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    Path(slug): Path<String>,
    jar: CookieJar,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang)
        .await?
        .with_sign_in(&state, &jar)
        .await?;
    if !portal.offers(Method::IssueForm) {
        return not_now(&state, &portal, &csrf, Method::IssueForm).await;
    }
    if portal.must_sign_in() {
        let here = format!("/p/{slug}/request");
        return super::sign_in::sign_in_page(&state, &portal, &csrf, &here);
    }
    render_request(
        &state,
        &portal,
        &csrf,
        issue_page(
            &portal,
            &Prefill::from_query(query).unwrap_or_default(),
            Outcome::fresh(),
        ),
    )
    .await
}

pub async fn issue_submit(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    Path(slug): Path<String>,
    who: Requester,
    form: CsrfForm<Typed>,
) -> AppResult<Response> {
    // Signed in: a page shown again (a mistake in the form) shows the identity, read-only.
    let portal = Portal::load(&state, &slug, lang)
        .await?
        .with_sign_in(&state, who.jar())
        .await?;
    if !portal.offers(Method::IssueForm) {
        return not_now(&state, &portal, &csrf, Method::IssueForm).await;
    }
    let parsed = intake::parse(&answers(&form), form_questions(&portal), &portal.fields);
    let mut errors = parsed.as_ref().err().cloned().unwrap_or_default();
    let choice = form.value.get("issue_type").map(|s| s.trim()).unwrap_or("");
    let issue_types = offered_issue_types(&state, &portal).await?;
    let teams = state.store.teams(portal.site.org_id).await?;
    let mut chosen_rep = None;
    let mut chosen_issue = None;
    if portal.site.settings.issue_form.ask_for == AskFor::Rep {
        match choice
            .parse::<UserId>()
            .ok()
            .and_then(|id| portal.reps.iter().find(|r| r.id == id))
        {
            Some(rep) => chosen_rep = Some(rep.clone()),
            None if portal.reps.is_empty() => {}
            None => errors.push(("issue_type".into(), domain::FieldError::Required)),
        }
    } else if !issue_types.is_empty() {
        match choice
            .parse::<IssueTypeId>()
            .ok()
            .and_then(|id| issue_types.iter().find(|i| i.id == id))
        {
            Some(issue) => chosen_issue = Some(issue.clone()),
            None => errors.push(("issue_type".into(), domain::FieldError::Required)),
        }
    }
    let intake = match parsed {
        Ok(intake) if errors.is_empty() => intake,
        _ => {
            let outcome = Outcome::invalid(translated(&state.catalog, lang, &errors));
            return render_request(
                &state,
                &portal,
                &csrf,
                issue_page(&portal, &form.value, outcome),
            )
            .await;
        }
    };
    let team_name = |id| {
        teams
            .iter()
            .find(|t| t.id == id)
            .map(|t| t.name.clone())
            .unwrap_or_default()
    };
    let routed = match (&chosen_rep, &chosen_issue) {
        (Some(rep), _) => route(&Request::IssueFormRep {
            rep: rep.id,
            rep_name: &rep.display_name,
        }),
        (None, Some(issue)) => {
            let team = team_name(issue.team_id);
            route(&Request::IssueType {
                issue_type: issue.id,
                issue_name: &issue.name,
                team: issue.team_id,
                team_name: &team,
            })
        }
        (None, None) => route(&Request::IssueFormGeneral),
    };
    let arrival = Arrival {
        org: portal.site.org_id,
        site: Some(portal.site.id),
        routed: &routed,
        intake: &intake,
        issue_type: chosen_issue.map(|i| i.id),
        lang,
        verified: None,
        sign_in: portal.sign_in(),
    };
    let outcome = match ask_for_help(&state, &arrival, &who).await? {
        Ok(response) => return Ok(response),
        Err(refused) => refused,
    };
    let page = issue_page(&portal, &form.value, outcome);
    render_request(&state, &portal, &csrf, page).await
}

pub async fn contact(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    headers: HeaderMap,
    Path(slug): Path<String>,
    who: Requester,
    form: CsrfForm<Typed>,
) -> AppResult<Response> {
    // Signed in: a page shown again (a mistake in the form) shows the identity, read-only.
    let portal = Portal::load(&state, &slug, lang)
        .await?
        .with_sign_in(&state, who.jar())
        .await?;
    if !portal.offers(Method::ContactButton) {
        return not_now(&state, &portal, &csrf, Method::ContactButton).await;
    }
    let mut typed = answers(&form);
    if !portal.site.settings.contact_asks_name {
        typed.insert(
            "customer_name".into(),
            state
                .catalog
                .text(lang, "contact.anonymous", &[])
                .unwrap_or_else(|| "Customer".into()),
        );
    }
    let asked = (&typed, Questions::NAME_ONLY, Request::ContactButton);
    let outcome = match from_home_page(&state, &portal, &who, asked).await? {
        Ok(response) => return Ok(response),
        Err(refused) => refused,
    };
    let ios = is_ios(&headers);
    render_home(&state, &portal, &csrf, ios, &form.value, outcome).await
}

/// The SmartBox's fields on the home page, and the standard questions they answer (the page
/// also has the contact button's name field, so its own are named apart).
const SMARTBOX_FIELDS: [(&str, &str); 4] = [
    ("customer_name", "smartbox_name"),
    ("description", "question"),
    ("request", "smartbox_request"),
    ("page_url", "page_url"),
];

/// GoToAssist's SmartBox: a name and a question, into the general queue where every available
/// rep sees it arrive.
pub async fn smartbox(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    headers: HeaderMap,
    Path(slug): Path<String>,
    who: Requester,
    form: CsrfForm<Typed>,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang)
        .await?
        .with_sign_in(&state, who.jar())
        .await?;
    if !portal.offers(Method::SmartBox) {
        return not_now(&state, &portal, &csrf, Method::SmartBox).await;
    }
    let typed = answers(&form);
    let mut asked = Answers::new();
    for (standard, own) in SMARTBOX_FIELDS {
        if let Some(value) = typed.get(own) {
            asked.insert(standard.to_owned(), value.clone());
        }
    }
    let question = (&asked, Questions::QUESTION, Request::SmartBox);
    let outcome = match from_home_page(&state, &portal, &who, question).await? {
        Ok(response) => return Ok(response),
        Err(refused) => refused,
    };
    let outcome = Outcome {
        errors: outcome.errors.renamed(&SMARTBOX_FIELDS),
        ..outcome
    };
    let ios = is_ios(&headers);
    render_home(&state, &portal, &csrf, ios, &form.value, outcome).await
}

/// A request from one of the home page's own forms (the contact button, the SmartBox): the
/// answers `asked` parsed as its questions, then queued where the request routes. The waiting
/// page, or the home page's errors.
async fn from_home_page(
    state: &AppState,
    portal: &Portal,
    who: &Requester,
    (typed, questions, request): (&Answers, Questions, Request<'_>),
) -> AppResult<Result<Response, Outcome>> {
    let intake = match intake::parse(typed, questions, &[]) {
        Ok(intake) => intake,
        Err(errors) => {
            let errors = translated(&state.catalog, portal.lang, &errors);
            return Ok(Err(Outcome::invalid(errors)));
        }
    };
    let routed = route(&request);
    let arrival = Arrival {
        org: portal.site.org_id,
        site: Some(portal.site.id),
        routed: &routed,
        intake: &intake,
        issue_type: None,
        lang: portal.lang,
        verified: None,
        sign_in: portal.sign_in(),
    };
    ask_for_help(state, &arrival, who).await
}
