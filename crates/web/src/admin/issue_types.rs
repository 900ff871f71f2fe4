//! Issue types: what customers choose in the issue form; each is routed to one team.

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
use domain::text::{DisplayName, Slug};
use domain::{FieldError, IssueTypeId, TeamId};
use minijinja::context;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize, Default)]
pub struct IssueTypeForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    code_name: String,
    #[serde(default)]
    team: String,
}

async fn render(
    state: &AppState,
    me: &AdminUser,
    form: &IssueTypeForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let issue_types = state.store.issue_types(me.org_id()).await?;
    let teams = state.store.teams(me.org_id()).await?;
    admin_page(
        state,
        me,
        "issue_types",
        "admin/issue_types.html",
        outcome,
        context! { issue_types, teams, form },
    )
}

pub async fn list(State(state): State<AppState>, me: AdminUser) -> AppResult<Response> {
    render(&state, &me, &IssueTypeForm::default(), Outcome::fresh()).await
}

pub async fn create(
    State(state): State<AppState>,
    me: AdminUser,
    form: CsrfForm<IssueTypeForm>,
) -> AppResult<Response> {
    let f = &form.value;
    let mut errors = FieldErrors::default();
    let name = errors.check("name", DisplayName::parse(&f.name));
    let code = errors.check("code_name", Slug::parse(&f.code_name));
    let team = errors.check(
        "team",
        f.team.parse::<TeamId>().map_err(|_| FieldError::Required),
    );
    let (Some(name), Some(code), Some(team)) = (name, code, team) else {
        return render(&state, &me, f, Outcome::invalid(errors)).await;
    };
    match state
        .store
        .create_issue_type(me.org_id(), team, &name, &code)
        .await
    {
        Ok(Some(_)) => {
            me.audit(&state, "issue_type.created", name.as_str())
                .await?;
            render(
                &state,
                &me,
                &IssueTypeForm::default(),
                Outcome::done("Issue type added."),
            )
            .await
        }
        Ok(None) => {
            errors.add("team", FieldError::InvalidChoice);
            render(&state, &me, f, Outcome::invalid(errors)).await
        }
        Err(store::StoreError::Conflict(_)) => {
            errors.add("code_name", FieldError::Taken);
            render(&state, &me, f, Outcome::invalid(errors)).await
        }
        Err(err) => Err(err.into()),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let id: IssueTypeId = parse_id(&id)?;
    if !state.store.delete_issue_type(me.org_id(), id).await? {
        return Err(AppError::NotFound);
    }
    me.audit(&state, "issue_type.deleted", &id.to_string())
        .await?;
    Ok(Redirect::to(paths::ADMIN_ISSUE_TYPES).into_response())
}
