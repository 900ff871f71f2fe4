//! Teams: each has a shared queue (later issues) and members (edited on a rep's page).

use super::reps::parse_id;
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{AppError, AppResult};
use crate::extract::AdminUser;
use crate::forms::{FieldErrors, Outcome};
use crate::paths;
use crate::state::AppState;
use crate::templates::page;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::text::DisplayName;
use domain::{FieldError, TeamId};
use minijinja::context;
use serde::{Deserialize, Serialize};
use store::directory::Team;

#[derive(Deserialize, Serialize, Default)]
pub struct TeamForm {
    #[serde(default)]
    name: String,
}

async fn render_list(
    state: &AppState,
    me: &AdminUser,
    csrf: &str,
    form: &TeamForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let teams = state.store.teams(me.0.user.org_id).await?;
    let html = page(
        state,
        "admin/teams.html",
        context! { me => &me.0.user, csrf, section => "teams", teams, form, errors => &outcome.errors },
    )?;
    Ok(outcome.respond(html))
}

pub async fn list(
    State(state): State<AppState>,
    me: AdminUser,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    render_list(&state, &me, &csrf, &TeamForm::default(), Outcome::fresh()).await
}

/// Parse a team name; a name already used in the organization is an error beside the field.
async fn save_name<F, Fut>(
    errors: &mut FieldErrors,
    raw: &str,
    save: F,
) -> AppResult<Option<TeamId>>
where
    F: FnOnce(DisplayName) -> Fut,
    Fut: std::future::Future<Output = store::StoreResult<TeamId>>,
{
    let Some(name) = errors.check("name", DisplayName::parse(raw)) else {
        return Ok(None);
    };
    match save(name).await {
        Ok(id) => Ok(Some(id)),
        Err(store::StoreError::Conflict(_)) => {
            errors.add("name", FieldError::Taken);
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    me: AdminUser,
    CsrfToken(csrf): CsrfToken,
    form: CsrfForm<TeamForm>,
) -> AppResult<Response> {
    let org = me.0.user.org_id;
    let mut errors = FieldErrors::default();
    let now = state.now();
    let store = state.store.clone();
    let created = save_name(&mut errors, &form.value.name, |name| async move {
        store.create_team(org, &name, now).await
    })
    .await?;
    match created {
        Some(id) => {
            state
                .store
                .record_audit(
                    Some(org),
                    Some(me.0.user.id),
                    "team.created",
                    form.value.name.trim(),
                    now,
                )
                .await?;
            Ok(Redirect::to(&paths::admin_team(id)).into_response())
        }
        None => render_list(&state, &me, &csrf, &form.value, Outcome::invalid(errors)).await,
    }
}

async fn render_team(
    state: &AppState,
    me: &AdminUser,
    csrf: &str,
    team: &Team,
    form: &TeamForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let members = state.store.team_members(me.0.user.org_id, team.id).await?;
    let html = page(
        state,
        "admin/team.html",
        context! {
            me => &me.0.user, csrf, section => "teams", team, members, form, errors => &outcome.errors, notice => &outcome.notice,
        },
    )?;
    Ok(outcome.respond(html))
}

async fn find(state: &AppState, me: &AdminUser, id: &str) -> AppResult<Team> {
    state
        .store
        .team(me.0.user.org_id, parse_id(id)?)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn show(
    State(state): State<AppState>,
    me: AdminUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let team = find(&state, &me, &id).await?;
    let form = TeamForm {
        name: team.name.clone(),
    };
    render_team(&state, &me, &csrf, &team, &form, Outcome::fresh()).await
}

pub async fn rename(
    State(state): State<AppState>,
    me: AdminUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    form: CsrfForm<TeamForm>,
) -> AppResult<Response> {
    let team = find(&state, &me, &id).await?;
    let org = me.0.user.org_id;
    let mut errors = FieldErrors::default();
    let store = state.store.clone();
    let renamed = save_name(&mut errors, &form.value.name, |name| async move {
        store
            .rename_team(org, team.id, &name)
            .await
            .map(|_| team.id)
    })
    .await?;
    if renamed.is_none() {
        return render_team(
            &state,
            &me,
            &csrf,
            &team,
            &form.value,
            Outcome::invalid(errors),
        )
        .await;
    }
    state
        .store
        .record_audit(
            Some(org),
            Some(me.0.user.id),
            "team.renamed",
            form.value.name.trim(),
            state.now(),
        )
        .await?;
    let team = find(&state, &me, &id).await?;
    render_team(
        &state,
        &me,
        &csrf,
        &team,
        &TeamForm {
            name: team.name.clone(),
        },
        Outcome::done("Saved."),
    )
    .await
}

#[derive(Deserialize)]
pub struct Empty {}

pub async fn delete(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    _form: CsrfForm<Empty>,
) -> AppResult<Response> {
    let team = find(&state, &me, &id).await?;
    let org = me.0.user.org_id;
    state.store.delete_team(org, team.id).await?;
    state
        .store
        .record_audit(
            Some(org),
            Some(me.0.user.id),
            "team.deleted",
            &team.name,
            state.now(),
        )
        .await?;
    Ok(Redirect::to(paths::ADMIN_TEAMS).into_response())
}
