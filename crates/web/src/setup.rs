//! First start: whoever holds the one-time link printed by the server creates the first
//! organization and its admin (who also becomes the instance's operator). The same form
//! serves the instance admin's "new organization" page.

use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{AppError, AppResult};
use crate::forms::{FieldErrors, Outcome};
use crate::state::AppState;
use crate::{auth, passwords, paths};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use domain::text::{DisplayName, Email, NewPassword, Slug};
use domain::{FieldError, Role, SessionLimit};
use minijinja::context;
use serde::{Deserialize, Serialize};
use store::orgs::NewOrganization;
use store::users::NewUser;

/// Organization plus its first admin, as typed (kept to re-fill the form; passwords are not).
#[derive(Deserialize, Serialize, Default)]
pub struct NewOrgForm {
    #[serde(default)]
    pub org_name: String,
    #[serde(default)]
    pub org_slug: String,
    #[serde(default)]
    pub admin_name: String,
    #[serde(default)]
    pub admin_email: String,
    #[serde(default, skip_serializing)]
    pub password: String,
    #[serde(default, skip_serializing)]
    pub confirm: String,
}

pub struct ParsedNewOrg {
    pub org_name: DisplayName,
    pub org_slug: Slug,
    pub admin_name: DisplayName,
    pub admin_email: Email,
    pub password: NewPassword,
}

impl NewOrgForm {
    pub fn parse(&self) -> Result<ParsedNewOrg, FieldErrors> {
        let mut errors = FieldErrors::default();
        let org_name = errors.check("org_name", DisplayName::parse(&self.org_name));
        let org_slug = errors.check("org_slug", Slug::parse(&self.org_slug));
        let admin_name = errors.check("admin_name", DisplayName::parse(&self.admin_name));
        let admin_email = errors.check("admin_email", Email::parse(&self.admin_email));
        let password = errors.check("password", NewPassword::parse(&self.password));
        if password.is_some() && self.password != self.confirm {
            errors.add("confirm", FieldError::Mismatch);
        }
        match (org_name, org_slug, admin_name, admin_email, password) {
            (
                Some(org_name),
                Some(org_slug),
                Some(admin_name),
                Some(admin_email),
                Some(password),
            ) if errors.is_empty() => Ok(ParsedNewOrg {
                org_name,
                org_slug,
                admin_name,
                admin_email,
                password,
            }),
            _ => Err(errors),
        }
    }
}

impl ParsedNewOrg {
    /// The rows to insert, given the hashed password.
    pub fn records<'a>(&'a self, password_hash: &'a str) -> (NewOrganization<'a>, NewUser<'a>) {
        let org = NewOrganization {
            name: &self.org_name,
            slug: &self.org_slug,
        };
        let admin = NewUser {
            email: &self.admin_email,
            display_name: &self.admin_name,
            role: Role::Admin,
            password_hash,
            is_instance_admin: false,
            session_limit: SessionLimit::DEFAULT.get(),
        };
        (org, admin)
    }
}

/// A taken slug or email becomes an error beside its field; anything else stays a failure.
pub fn conflict_errors(err: store::StoreError) -> AppResult<FieldErrors> {
    match err {
        store::StoreError::Conflict(what) => {
            let mut errors = FieldErrors::default();
            let field = if what.contains("email") {
                "admin_email"
            } else {
                "org_slug"
            };
            errors.add(field, FieldError::Taken);
            Ok(errors)
        }
        other => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

async fn token_usable(state: &AppState, token: &str) -> AppResult<bool> {
    Ok(!token.is_empty()
        && state.store.count_organizations().await? == 0
        && state
            .store
            .setup_token_valid(&domain::secret::token_digest(token))
            .await?)
}

fn setup_form(
    state: &AppState,
    csrf: &str,
    token: &str,
    form: &NewOrgForm,
    outcome: Outcome,
) -> AppResult<Response> {
    Ok(outcome.respond(state.templates.page(
        "setup.html",
        context! { csrf, token, form, errors => &outcome.errors },
    )?))
}

pub async fn setup_page(
    State(state): State<AppState>,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<TokenQuery>,
) -> AppResult<Response> {
    if !token_usable(&state, &q.token).await? {
        return Err(AppError::NotFound);
    }
    setup_form(
        &state,
        &csrf,
        &q.token,
        &NewOrgForm::default(),
        Outcome::fresh(),
    )
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(flatten)]
    org: NewOrgForm,
}

pub async fn setup(
    State(state): State<AppState>,
    browser: crate::i18n::Lang,
    CsrfToken(csrf): CsrfToken,
    jar: CookieJar,
    form: CsrfForm<SetupForm>,
) -> AppResult<Response> {
    let SetupForm { token, org: typed } = form.value;
    if !token_usable(&state, &token).await? {
        return Err(AppError::NotFound);
    }
    let parsed = match typed.parse() {
        Ok(parsed) => parsed,
        Err(errors) => return setup_form(&state, &csrf, &token, &typed, Outcome::invalid(errors)),
    };
    let now = state.now();
    let hash = passwords::hash(parsed.password.expose()).await?;
    let (org, admin) = parsed.records(&hash);
    let operator = NewUser {
        is_instance_admin: true,
        ..admin
    };
    let digest = domain::secret::token_digest(&token);
    let (org_id, admin_id) = match state
        .store
        .complete_setup(&digest, &org, &operator, now)
        .await
    {
        Ok(Some(ids)) => ids,
        Ok(None) => return Err(AppError::NotFound),
        Err(err) => {
            let errors = conflict_errors(err)?;
            return setup_form(&state, &csrf, &token, &typed, Outcome::invalid(errors));
        }
    };
    state
        .store
        .record_audit(
            Some(org_id),
            Some(admin_id),
            "setup.completed",
            parsed.org_slug.as_str(),
            now,
        )
        .await?;
    let admin = state
        .store
        .user(org_id, admin_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let jar = auth::sign_in(&state, jar, &admin, browser).await?;
    Ok((jar, Redirect::to(paths::ADMIN)).into_response())
}
