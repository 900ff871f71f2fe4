//! Canned messages: each rep keeps their own; admins keep their teams'. Reps insert them in a
//! chat with a click or by typing `/` and the first letters of the shortcut.

use crate::csrf::{CsrfForm, CsrfToken, NoFields};
use crate::error::{AppError, AppResult};
use crate::extract::CurrentUser;
use crate::forms::{FieldErrors, Outcome};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::canned::Shortcut;
use domain::chat::MessageBody;
use domain::role::Role;
use domain::{FieldError, TeamId};
use minijinja::context;
use serde::{Deserialize, Serialize};
use store::canned::CannedOwner;

#[derive(Deserialize, Serialize, Default)]
pub struct CannedForm {
    #[serde(default)]
    shortcut: String,
    #[serde(default)]
    body: String,
    /// "me", or "team:<id>" (admins).
    #[serde(default)]
    owner: String,
}

fn is_admin(me: &CurrentUser) -> bool {
    me.user.role == Role::Admin
}

async fn page(
    state: &AppState,
    me: &CurrentUser,
    csrf: &str,
    form: &CannedForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let org = me.user.org_id;
    let mine: Vec<_> = state.store.canned_for_rep(org, me.user.id).await?;
    let (own, teams_of_mine): (Vec<_>, Vec<_>) =
        mine.into_iter().partition(|c| c.user_id.is_some());
    let (team_canned, teams) = match is_admin(me) {
        true => (
            state.store.team_canned(org).await?,
            state.store.teams(org).await?,
        ),
        false => (teams_of_mine, Vec::new()),
    };
    let ctx = context! {
        me => &me.user, csrf, own, team_canned, teams, form, admin => is_admin(me),
        errors => &outcome.errors, notice => &outcome.notice,
    };
    let html = state.templates.page("console/canned.html", ctx)?;
    Ok(outcome.respond(html))
}

pub async fn list(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    page(&state, &me, &csrf, &CannedForm::default(), Outcome::fresh()).await
}

/// Whose a new canned message is: the rep's own, or (admins only) a team's.
fn owner_of(me: &CurrentUser, raw: &str) -> Result<CannedOwner, FieldError> {
    match raw.strip_prefix("team:") {
        None if raw.is_empty() || raw == "me" => Ok(CannedOwner::Rep(me.user.id)),
        Some(id) if is_admin(me) => id
            .parse()
            .map(|id| CannedOwner::Team(TeamId(id)))
            .map_err(|_| FieldError::InvalidChoice),
        _ => Err(FieldError::InvalidChoice),
    }
}

pub async fn create(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    form: CsrfForm<CannedForm>,
) -> AppResult<Response> {
    let f = &form.value;
    let mut errors = FieldErrors::default();
    let shortcut = errors.check("shortcut", Shortcut::parse(&f.shortcut));
    let body = errors.check("body", MessageBody::parse(&f.body));
    let owner = errors.check("owner", owner_of(&me, &f.owner));
    let (Some(shortcut), Some(body), Some(owner)) = (shortcut, body, owner) else {
        return page(&state, &me, &csrf, f, Outcome::invalid(errors)).await;
    };
    let org = me.user.org_id;
    match state
        .store
        .create_canned(org, owner, &shortcut, &body, state.now())
        .await
    {
        Ok(true) => Ok(Redirect::to("/console/canned").into_response()),
        Ok(false) => {
            errors.add("owner", FieldError::InvalidChoice);
            page(&state, &me, &csrf, f, Outcome::invalid(errors)).await
        }
        Err(store::StoreError::Conflict(_)) => {
            errors.add("shortcut", FieldError::Taken);
            page(&state, &me, &csrf, f, Outcome::invalid(errors)).await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub struct Whose {
    #[serde(default)]
    team: Option<i64>,
}

pub async fn delete(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    axum::extract::Query(whose): axum::extract::Query<Whose>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let owner = match whose.team {
        Some(team) if is_admin(&me) => CannedOwner::Team(TeamId(team)),
        Some(_) => return Err(AppError::Forbidden),
        None => CannedOwner::Rep(me.user.id),
    };
    if !state.store.delete_canned(me.user.org_id, owner, id).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/console/canned").into_response())
}
