//! Reps and admins: create, edit (role, session limit, teams), deactivate, reset a password.

use super::{admin_page, own_organization};
use crate::csrf::CsrfForm;
use crate::error::{AppError, AppResult};
use crate::extract::AdminUser;
use crate::forms::{FieldErrors, Outcome};
use crate::state::AppState;
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
    form: &NewRepForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let users = state.store.users(me.org_id()).await?;
    admin_page(
        state,
        me,
        "reps",
        "admin/reps.html",
        outcome,
        context! { users, form, roles => ROLES },
    )
}

pub async fn list(State(state): State<AppState>, me: AdminUser) -> AppResult<Response> {
    let org = own_organization(&state, &me).await?;
    let form = NewRepForm {
        role: "rep".into(),
        session_limit: org.default_session_limit.to_string(),
        ..Default::default()
    };
    render_list(&state, &me, &form, Outcome::fresh()).await
}

pub async fn create(
    State(state): State<AppState>,
    me: AdminUser,
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
        return render_list(&state, &me, &f, Outcome::invalid(errors)).await;
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
    match state
        .store
        .create_user(me.org_id(), &new, state.now())
        .await
    {
        Ok(id) => {
            me.audit(&state, "user.created", email.as_str()).await?;
            Ok(Redirect::to(&paths::admin_rep(id)).into_response())
        }
        Err(store::StoreError::Conflict(_)) => {
            // Emails are unique across the instance: say only that this one cannot be used, the
            // same whether it belongs here or to another organization (which must not show).
            errors.add_message("email", "This email cannot be used. Choose another.");
            render_list(&state, &me, &f, Outcome::invalid(errors)).await
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

async fn find(state: &AppState, me: &AdminUser, id: UserId) -> AppResult<User> {
    state
        .store
        .user(me.org_id(), id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The rep's page showing `form` (as typed, after refused input) or, with None, what is stored.
async fn render_rep(
    state: &AppState,
    me: &AdminUser,
    user: &User,
    typed: Option<(&RepForm, &[TeamId])>,
    outcome: Outcome,
) -> AppResult<Response> {
    let teams = state.store.teams(me.org_id()).await?;
    let (form, member_of) = match typed {
        Some((form, member_of)) => (minijinja::Value::from_serialize(form), member_of.to_vec()),
        None => (
            minijinja::Value::from_serialize(RepForm::of(user)),
            state.store.user_team_ids(me.org_id(), user.id).await?,
        ),
    };
    let member_of: Vec<i64> = member_of.iter().map(|t| t.0).collect();
    let two_factor = crate::two_factor::status(state, user.id).await?;
    admin_page(
        state,
        me,
        "reps",
        "admin/rep.html",
        outcome,
        context! { user, form, teams, member_of, roles => ROLES, two_factor },
    )
}

/// Two-factor sign-in off for a user who lost both phone and recovery codes (audited). Their
/// sign-ins end; their next one asks only the password, or the set-up if it is required.
pub async fn reset_two_factor(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    _form: CsrfForm<crate::csrf::NoFields>,
) -> AppResult<Response> {
    let org = me.org_id();
    let user = find(&state, &me, parse_id(&id)?).await?;
    let mut outcome = Outcome::fresh();
    if state.store.remove_two_factor(org, user.id).await? {
        let keep = (user.id == me.id()).then_some(me.current.session_digest.as_str());
        state.store.delete_other_web_sessions(user.id, keep).await?;
        state.announce_signed_out(org, user.id);
        me.audit(&state, "two_factor.reset", &user.email).await?;
        outcome = Outcome::done("Two-factor sign-in was reset.");
    }
    render_rep(&state, &me, &user, None, outcome).await
}

pub async fn show(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let user = find(&state, &me, parse_id(&id)?).await?;
    render_rep(&state, &me, &user, None, Outcome::fresh()).await
}

pub async fn update(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    form: CsrfForm<RepForm>,
) -> AppResult<Response> {
    let org = me.org_id();
    let user = find(&state, &me, parse_id(&id)?).await?;
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
    if user.id == me.id() && !active {
        errors.add_message("active", "You cannot deactivate your own account.");
    }
    let (Some(name), Some(role), Some(limit), true) = (name, role, limit, errors.is_empty()) else {
        return render_rep(
            &state,
            &me,
            &user,
            Some((f, &member_of)),
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
        // A deactivated account or a reset password ends every sign-in of that user (but this one).
        let keep = (user.id == me.id()).then_some(me.current.session_digest.as_str());
        state.store.delete_other_web_sessions(user.id, keep).await?;
        state.announce_signed_out(org, user.id);
    }
    let reset = if password.is_some() {
        " password reset"
    } else {
        ""
    };
    let detail = format!(
        "{} role={} active={active} limit={} teams={}{reset}",
        user.email,
        role.as_str(),
        limit.get(),
        member_of.len()
    );
    me.audit(&state, "user.updated", &detail).await?;
    let user = find(&state, &me, user.id).await?;
    render_rep(&state, &me, &user, None, Outcome::done("Saved.")).await
}
