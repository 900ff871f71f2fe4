//! Reps and admins: create, edit (role, session limit, teams), deactivate, reset a password.

use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{AppError, AppResult};
use crate::extract::AdminUser;
use crate::forms::{FieldErrors, Outcome};
use crate::state::AppState;
use crate::templates::page;
use crate::{passwords, paths};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::text::{DisplayName, Email, NewPassword};
use domain::{FieldError, Role, SessionLimit, TeamId, UserId};
use minijinja::context;
use serde::{Deserialize, Serialize};
use store::users::{NewUser, User, UserUpdate};

const ROLES: [(&str, &str); 2] = [("rep", "Representative"), ("admin", "Organization admin")];

#[derive(Deserialize, Serialize, Default)]
pub struct NewRepForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    session_limit: String,
    #[serde(default, skip_serializing)]
    password: String,
}

async fn render_list(
    state: &AppState,
    me: &AdminUser,
    csrf: &str,
    form: &NewRepForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let users = state.store.users(me.0.user.org_id).await?;
    let html = page(
        state,
        "admin/reps.html",
        context! {
            me => &me.0.user, csrf, section => "reps", users, form, errors => &outcome.errors, roles => ROLES,
        },
    )?;
    Ok(outcome.respond(html))
}

pub async fn list(
    State(state): State<AppState>,
    me: AdminUser,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let org = state
        .store
        .organization(me.0.user.org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = NewRepForm {
        role: "rep".into(),
        session_limit: org.default_session_limit.to_string(),
        ..Default::default()
    };
    render_list(&state, &me, &csrf, &form, Outcome::fresh()).await
}

pub async fn create(
    State(state): State<AppState>,
    me: AdminUser,
    CsrfToken(csrf): CsrfToken,
    form: CsrfForm<NewRepForm>,
) -> AppResult<Response> {
    let f = form.value;
    let mut errors = FieldErrors::default();
    let name = errors.check("display_name", DisplayName::parse(&f.display_name));
    let email = errors.check("email", Email::parse(&f.email));
    let role = errors.check("role", Role::parse(&f.role));
    let limit = errors.check("session_limit", SessionLimit::parse(&f.session_limit));
    let password = errors.check("password", NewPassword::parse(&f.password));
    let (Some(name), Some(email), Some(role), Some(limit), Some(password)) =
        (name, email, role, limit, password)
    else {
        return render_list(&state, &me, &csrf, &f, Outcome::invalid(errors)).await;
    };
    let hash = passwords::hash(password.expose()).await?;
    let new = NewUser {
        email: &email,
        display_name: &name,
        role,
        password_hash: &hash,
        is_instance_admin: false,
        session_limit: limit.get(),
    };
    let org = me.0.user.org_id;
    match state.store.create_user(org, &new, state.now()).await {
        Ok(id) => {
            state
                .store
                .record_audit(
                    Some(org),
                    Some(me.0.user.id),
                    "user.created",
                    email.as_str(),
                    state.now(),
                )
                .await?;
            Ok(Redirect::to(&paths::admin_rep(id)).into_response())
        }
        Err(store::StoreError::Conflict(_)) => {
            errors.add("email", FieldError::Taken);
            render_list(&state, &me, &csrf, &f, Outcome::invalid(errors)).await
        }
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize, Serialize, Default)]
pub struct RepForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    session_limit: String,
    #[serde(default, skip_serializing)]
    new_password: String,
}

impl RepForm {
    fn of(user: &User) -> Self {
        RepForm {
            display_name: user.display_name.clone(),
            title: user.title.clone().unwrap_or_default(),
            role: user.role.as_str().into(),
            active: user.active.then(|| "on".into()),
            session_limit: user.session_limit.to_string(),
            new_password: String::new(),
        }
    }
}

pub(super) fn parse_id<T: std::str::FromStr>(raw: &str) -> AppResult<T> {
    raw.parse().map_err(|_| AppError::NotFound)
}

async fn render_rep(
    state: &AppState,
    me: &AdminUser,
    csrf: &str,
    user: &User,
    form: &RepForm,
    member_of: &[TeamId],
    outcome: Outcome,
) -> AppResult<Response> {
    let teams = state.store.teams(me.0.user.org_id).await?;
    let member_of: Vec<i64> = member_of.iter().map(|t| t.0).collect();
    let html = page(
        state,
        "admin/rep.html",
        context! {
            me => &me.0.user, csrf, section => "reps", user, form, teams, member_of, errors => &outcome.errors, notice => &outcome.notice, roles => ROLES,
        },
    )?;
    Ok(outcome.respond(html))
}

pub async fn show(
    State(state): State<AppState>,
    me: AdminUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let org = me.0.user.org_id;
    let user = state
        .store
        .user(org, parse_id(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let member_of = state.store.user_team_ids(org, user.id).await?;
    render_rep(
        &state,
        &me,
        &csrf,
        &user,
        &RepForm::of(&user),
        &member_of,
        Outcome::fresh(),
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    me: AdminUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    form: CsrfForm<RepForm>,
) -> AppResult<Response> {
    let org = me.0.user.org_id;
    let user = state
        .store
        .user(org, parse_id::<UserId>(&id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let member_of: Vec<TeamId> = form.all("teams").filter_map(|t| t.parse().ok()).collect();
    let f = &form.value;
    let mut errors = FieldErrors::default();
    let name = errors.check("display_name", DisplayName::parse(&f.display_name));
    let title = f.title.trim();
    if title.chars().count() > DisplayName::MAX {
        errors.add(
            "title",
            FieldError::TooLong {
                max: DisplayName::MAX,
            },
        );
    }
    let role = errors.check("role", Role::parse(&f.role));
    let limit = errors.check("session_limit", SessionLimit::parse(&f.session_limit));
    let password = match f.new_password.as_str() {
        "" => None,
        typed => errors.check("new_password", NewPassword::parse(typed)),
    };
    let active = f.active.is_some();
    let loses_admin =
        user.role == Role::Admin && user.active && (role != Some(Role::Admin) || !active);
    if loses_admin && state.store.count_active_admins(org).await? <= 1 {
        errors.add_message(
            "role",
            "The organization needs at least one active admin: make someone else admin first.",
        );
    }
    if user.id == me.0.user.id && !active {
        errors.add_message("active", "You cannot deactivate your own account.");
    }
    let (Some(name), Some(role), Some(limit), true) = (name, role, limit, errors.is_empty()) else {
        return render_rep(
            &state,
            &me,
            &csrf,
            &user,
            f,
            &member_of,
            Outcome::invalid(errors),
        )
        .await;
    };
    let update = UserUpdate {
        display_name: &name,
        title: (!title.is_empty()).then_some(title),
        role,
        active,
        session_limit: limit.get(),
    };
    state.store.update_user(org, user.id, &update).await?;
    state.store.set_user_teams(org, user.id, &member_of).await?;
    if let Some(password) = &password {
        state
            .store
            .set_password_hash(user.id, &passwords::hash(password.expose()).await?)
            .await?;
    }
    if !active || password.is_some() {
        // A deactivated account or a reset password ends every sign-in of that user.
        let keep = (user.id == me.0.user.id).then_some(me.0.session_digest.as_str());
        state.store.delete_other_web_sessions(user.id, keep).await?;
    }
    let now = state.now();
    let detail = format!(
        "{} role={} active={active} limit={} teams={}{}",
        user.email,
        role.as_str(),
        limit.get(),
        member_of.len(),
        if password.is_some() {
            " password reset"
        } else {
            ""
        }
    );
    state
        .store
        .record_audit(Some(org), Some(me.0.user.id), "user.updated", &detail, now)
        .await?;
    let user = state
        .store
        .user(org, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let member_of = state.store.user_team_ids(org, user.id).await?;
    render_rep(
        &state,
        &me,
        &csrf,
        &user,
        &RepForm::of(&user),
        &member_of,
        Outcome::done("Saved."),
    )
    .await
}
