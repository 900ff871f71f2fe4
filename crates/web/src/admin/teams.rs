//! Teams: each has a shared queue (later issues) and members (edited on a rep's page).

use super::admin_page;
use super::reps::parse_id;
use crate::csrf::{CsrfForm, NoFields};
use crate::error::{AppError, AppResult};
use crate::extract::AdminUser;
use crate::forms::{FieldErrors, Outcome};
use crate::paths;
use crate::state::AppState;
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
    form: &TeamForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let teams = state.store.teams(me.org_id()).await?;
    admin_page(
        state,
        me,
        "teams",
        "admin/teams.html",
        outcome,
        context! { teams, form },
    )
}

pub async fn list(State(state): State<AppState>, me: AdminUser) -> AppResult<Response> {
    render_list(&state, &me, &TeamForm::default(), Outcome::fresh()).await
}

/// Parse a team name; a name the organization already uses is an error beside the field.
fn parse_name(raw: &str) -> Result<DisplayName, FieldErrors> {
    let mut errors = FieldErrors::default();
    errors.check("name", DisplayName::parse(raw)).ok_or(errors)
}

fn taken_or_fail(err: store::StoreError) -> AppResult<FieldErrors> {
    match err {
        store::StoreError::Conflict(_) => {
            let mut errors = FieldErrors::default();
            errors.add("name", FieldError::Taken);
            Ok(errors)
        }
        other => Err(other.into()),
    }
}

pub async fn create(
    State(state): State<AppState>,
    me: AdminUser,
    form: CsrfForm<TeamForm>,
) -> AppResult<Response> {
    let name = match parse_name(&form.value.name) {
        Ok(name) => name,
        Err(errors) => {
            return render_list(&state, &me, &form.value, Outcome::invalid(errors)).await
        }
    };
    match state
        .store
        .create_team(me.org_id(), &name, state.now())
        .await
    {
        Ok(id) => {
            me.audit(&state, "team.created", name.as_str()).await?;
            Ok(Redirect::to(&paths::admin_team(id)).into_response())
        }
        Err(err) => {
            render_list(
                &state,
                &me,
                &form.value,
                Outcome::invalid(taken_or_fail(err)?),
            )
            .await
        }
    }
}

async fn render_team(
    state: &AppState,
    me: &AdminUser,
    team: &Team,
    form: &TeamForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let members = state.store.team_members(me.org_id(), team.id).await?;
    admin_page(
        state,
        me,
        "teams",
        "admin/team.html",
        outcome,
        context! { team, members, form },
    )
}

async fn find(state: &AppState, me: &AdminUser, id: TeamId) -> AppResult<Team> {
    state
        .store
        .team(me.org_id(), id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn show(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let team = find(&state, &me, parse_id(&id)?).await?;
    let form = TeamForm {
        name: team.name.clone(),
    };
    render_team(&state, &me, &team, &form, Outcome::fresh()).await
}

pub async fn rename(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    form: CsrfForm<TeamForm>,
) -> AppResult<Response> {
    let team = find(&state, &me, parse_id(&id)?).await?;
    let renamed = match parse_name(&form.value.name) {
        Ok(name) => state
            .store
            .rename_team(me.org_id(), team.id, &name)
            .await
            .map(|_| name),
        Err(errors) => {
            return render_team(&state, &me, &team, &form.value, Outcome::invalid(errors)).await
        }
    };
    let name = match renamed {
        Ok(name) => name,
        Err(err) => {
            return render_team(
                &state,
                &me,
                &team,
                &form.value,
                Outcome::invalid(taken_or_fail(err)?),
            )
            .await
        }
    };
    me.audit(&state, "team.renamed", name.as_str()).await?;
    let team = find(&state, &me, team.id).await?;
    let form = TeamForm {
        name: team.name.clone(),
    };
    render_team(&state, &me, &team, &form, Outcome::done("Saved.")).await
}

pub async fn delete(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let team = find(&state, &me, parse_id(&id)?).await?;
    state.store.delete_team(me.org_id(), team.id).await?;
    me.audit(&state, "team.deleted", &team.name).await?;
    Ok(Redirect::to(paths::ADMIN_TEAMS).into_response())
}
