//! Staff sign-in at the organization's identity provider (OpenID Connect or SAML, the `sso`
//! machinery with the organization as relying party, at `/login/sso/{org}/…`). Whoever the
//! provider vouches for is matched by email to an account of this organization; with the
//! admin's leave, someone without one gets one (a rep, in the default team). The provider's
//! own checks (its second factor) stand in for the authenticator-app code here.

use crate::auth;
use crate::csrf::CsrfToken;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::paths;
use crate::sso::{self, Refusal, Relying, Vouched};
use crate::state::AppState;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use domain::portal_sign_in::StaffSso;
use domain::text::{DisplayName, Email};
use domain::Role;
use minijinja::context;
use serde::Deserialize;
use store::orgs::Organization;
use store::users::User;

/// Whether `user` may sign in with a password: always, unless their organization signs its
/// staff in at its provider only (admins keep theirs, the way back in when it fails).
pub async fn password_allowed(state: &AppState, user: &User) -> AppResult<bool> {
    let org = state.store.organization(user.org_id).await?;
    let staff = org
        .as_ref()
        .and_then(crate::admin::organization::staff_sso_of);
    Ok(staff.is_none_or(|s| s.password_allowed(user.role)))
}

/// The organization `slug` and its staff sign-in settings; not found without them.
async fn organization(state: &AppState, slug: &str) -> AppResult<(Organization, StaffSso)> {
    let org = state.store.organization_by_slug(slug).await?;
    let org = org.ok_or(AppError::NotFound)?;
    let staff = crate::admin::organization::staff_sso_of(&org).ok_or(AppError::NotFound)?;
    Ok((org, staff))
}

fn relying(state: &AppState, org: &Organization) -> Relying {
    Relying::staff(state, org.id, &org.slug)
}

#[derive(Deserialize, Default)]
pub struct Asked {
    #[serde(default)]
    org: String,
    #[serde(default)]
    next: Option<String>,
}

/// "Single sign-on": which organization? Then the link to its provider (a link: the page's
/// policy lets forms lead only to this instance).
pub async fn choose(
    State(state): State<AppState>,
    Query(asked): Query<Asked>,
) -> AppResult<Response> {
    let slug = asked.org.trim().to_lowercase();
    let next = paths::safe_next(asked.next.as_deref());
    let (found, error) = match slug.as_str() {
        "" => (None, None),
        slug => match organization(&state, slug).await {
            Ok((org, _)) => (Some(org), None),
            Err(AppError::NotFound) => {
                let error = "No organization with this short name signs in with single sign-on.";
                (None, Some(error))
            }
            Err(other) => return Err(other),
        },
    };
    let link = found.as_ref().map(|org| {
        let query = next.map(|n| format!("?next={}", urlencode(n)));
        format!("/login/sso/{}{}", org.slug, query.unwrap_or_default())
    });
    let org_name = found.map(|o| o.name);
    let ctx = context! { org => slug, next, link, org_name, error };
    let status = if error.is_some() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let html = state.templates.page("login_sso.html", ctx)?;
    Ok((status, html).into_response())
}

pub(crate) fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[derive(Deserialize, Default)]
pub struct Next {
    #[serde(default)]
    next: Option<String>,
}

/// Off to the organization's provider.
pub async fn start(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(next): Query<Next>,
    CsrfToken(csrf): CsrfToken,
    jar: CookieJar,
) -> AppResult<Response> {
    let (org, staff) = organization(&state, &slug).await?;
    let next = paths::safe_next(next.next.as_deref()).unwrap_or("");
    let went = sso::go(&state, jar, &relying(&state, &org), &staff.provider, next).await;
    went.or_else(|refusal| refused(&state, &csrf, &org, refusal))
}

/// Back from an OIDC provider.
pub async fn callback(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(answer): Query<sso::Answer>,
    CsrfToken(csrf): CsrfToken,
    browser: Lang,
    jar: CookieJar,
) -> AppResult<Response> {
    let (org, staff) = organization(&state, &slug).await?;
    let (Some(code), Some(login_state), None) = (answer.code, answer.state, &answer.error) else {
        let why = answer.error.unwrap_or_else(|| "no code or state".into());
        return refused(&state, &csrf, &org, Refusal::Failed(why));
    };
    let relying = relying(&state, &org);
    let answer = (code, login_state.as_str());
    match sso::oidc_answer(&state, jar, &relying, &staff.provider, answer).await {
        Ok((jar, vouched, next)) => {
            let who = (&org, &staff, &vouched);
            signed_in(&state, jar, who, next, (browser, &csrf)).await
        }
        Err(refusal) => refused(&state, &csrf, &org, refusal),
    }
}

/// The SAML assertion consumer.
pub async fn acs(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    CsrfToken(csrf): CsrfToken,
    Form(posted): Form<sso::saml::Posted>,
) -> AppResult<Response> {
    let (org, staff) = organization(&state, &slug).await?;
    let relying = relying(&state, &org);
    match sso::saml::answer(&state, &relying, &staff.provider, &posted).await {
        Ok(done) => Ok(Redirect::to(&done).into_response()),
        Err(refusal) => refused(&state, &csrf, &org, refusal),
    }
}

/// Back in the browser that started a SAML login.
pub async fn done(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(done): Query<sso::Done>,
    CsrfToken(csrf): CsrfToken,
    browser: Lang,
    jar: CookieJar,
) -> AppResult<Response> {
    let (org, staff) = organization(&state, &slug).await?;
    let relying = relying(&state, &org);
    match sso::saml_collected(&state, jar, &relying, &done.state).await {
        Ok((jar, vouched, next)) => {
            let who = (&org, &staff, &vouched);
            signed_in(&state, jar, who, next, (browser, &csrf)).await
        }
        Err(refusal) => refused(&state, &csrf, &org, refusal),
    }
}

/// The organization's SAML service-provider metadata.
pub async fn saml_metadata(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let org = state.store.organization_by_slug(&slug).await?;
    let org = org.ok_or(AppError::NotFound)?;
    let staff = crate::admin::organization::staff_sso_of(&org);
    let provider = staff.as_ref().map(|s| &s.provider);
    sso::saml::metadata_response(&relying(&state, &org), provider)
}

/// The provider vouched for someone: their account (found by email, or made when the admin
/// allows), signed in.
async fn signed_in(
    state: &AppState,
    jar: CookieJar,
    (org, staff, vouched): (&Organization, &StaffSso, &Vouched),
    next: Option<String>,
    (browser, csrf): (Lang, &str),
) -> AppResult<Response> {
    let attributes = &vouched.verified.attributes;
    let email = staff
        .attribute_for("email")
        .and_then(|a| attributes.get(a))
        .and_then(|e| Email::parse(e).ok());
    let Some(email) = email else {
        let why = "the provider sent no usable email".to_owned();
        return refused(state, csrf, org, Refusal::Failed(why));
    };
    let user = match account(state, org, staff, vouched, &email).await? {
        Ok(user) => user,
        Err(message) => return login_refused(state, csrf, message),
    };
    let jar = auth::sign_in(state, jar, &user, browser)
        .await?
        .add(crate::csrf::rotated(state.config.cookie_secure));
    let detail = format!("single sign-on at {}", vouched.verified.issuer);
    state
        .store
        .record_audit(Some(org.id), Some(user.id), "login", &detail, state.now())
        .await?;
    let target = paths::safe_next(next.as_deref())
        .filter(|n| !n.is_empty())
        .unwrap_or(paths::home_for(user.role));
    Ok((jar, Redirect::to(target)).into_response())
}

/// The active account of this organization with `email`; one made for them when the admin
/// allows it; else what to tell them.
async fn account(
    state: &AppState,
    org: &Organization,
    staff: &StaffSso,
    vouched: &Vouched,
    email: &Email,
) -> AppResult<Result<User, String>> {
    let ask_admin = format!(
        "There is no account for {} in {}. Ask your organization's admin to add you.",
        email.as_str(),
        org.name
    );
    match state.store.credentials(email).await? {
        Some((user, _)) if user.org_id == org.id && user.active => return Ok(Ok(user)),
        Some((user, _)) if user.org_id == org.id => {
            let message = "This account is deactivated. Ask your organization's admin.";
            return Ok(Err(message.to_owned()));
        }
        // Someone of another organization: not to be told apart from nobody.
        Some(_) => return Ok(Err(ask_admin)),
        None if !staff.create_accounts => return Ok(Err(ask_admin)),
        None => {}
    }
    let name = staff
        .attribute_for("name")
        .and_then(|a| vouched.verified.attributes.get(a))
        .and_then(|n| DisplayName::parse(n).ok())
        .or_else(|| DisplayName::parse(email.as_str().split('@').next()?).ok());
    let Some(name) = name else {
        return Ok(Err(ask_admin));
    };
    // A password nobody knows: this account signs in at the provider (or with a password an
    // admin sets later).
    let secret = domain::secret::random_token(&mut rand::rngs::OsRng);
    let unusable = crate::passwords::hash(&secret)
        .await
        .map_err(AppError::internal)?;
    let new = store::users::NewUser {
        email,
        display_name: &name,
        role: Role::Rep,
        password_hash: &unusable,
        is_instance_admin: false,
        session_limit: org.default_session_limit,
    };
    let now = state.now();
    let id = state.store.create_user(org.id, &new, now).await?;
    if let Some(team) = staff.default_team {
        state.store.set_user_teams(org.id, id, &[team]).await?;
    }
    let detail = format!(
        "{}, at sign-in through {}",
        email.as_str(),
        vouched.verified.issuer
    );
    state
        .store
        .record_audit(Some(org.id), Some(id), "user.created", &detail, now)
        .await?;
    let user = state.store.user(org.id, id).await?;
    Ok(user.ok_or_else(|| "the new account is gone".to_owned()))
}

/// A refusal of the provider's answer: the sign-in page with what happened; the reason to the
/// log.
fn refused(
    state: &AppState,
    csrf: &str,
    org: &Organization,
    refusal: Refusal,
) -> AppResult<Response> {
    let whom = format!("staff of {}", org.slug);
    sso::refusal_page(refusal, &whom, |key| {
        let message = state
            .catalog
            .text(domain::Language::En, key, &[])
            .unwrap_or_else(|| key.to_owned());
        login_refused(state, csrf, message)
    })
}

fn login_refused(state: &AppState, csrf: &str, message: String) -> AppResult<Response> {
    let status = StatusCode::FORBIDDEN;
    auth::login_form(state, csrf, "", None, Some(message), status)
}
