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
    /// The name in German, for customers who read it (empty: the name itself).
    #[serde(default)]
    name_de: String,
    #[serde(default)]
    code_name: String,
    #[serde(default)]
    team: String,
}

/// The names in other languages that were typed (each checked like the name).
fn other_names(errors: &mut FieldErrors, name_de: &str) -> domain::site::Texts {
    let mut names = domain::site::Texts::new();
    if !name_de.trim().is_empty() {
        if let Some(german) = errors.check("name_de", DisplayName::parse(name_de)) {
            names.insert(domain::Language::De, german.as_str().to_owned());
        }
    }
    names
}

async fn render(
    state: &AppState,
    me: &AdminUser,
    form: &IssueTypeForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let issue_types: Vec<_> = state
        .store
        .issue_types(me.org_id())
        .await?
        .into_iter()
        .map(|issue| {
            let name_de = match issue.name_in(domain::Language::De) {
                german if german != issue.name => german,
                _ => String::new(),
            };
            context! { id => issue.id, team_id => issue.team_id, name => issue.name, code_name => issue.code_name, name_de }
        })
        .collect();
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
    let names = other_names(&mut errors, &f.name_de);
    let code = errors.check("code_name", Slug::parse(&f.code_name));
    let team = errors.check(
        "team",
        f.team.parse::<TeamId>().map_err(|_| FieldError::Required),
    );
    let (Some(name), Some(code), Some(team), true) = (name, code, team, errors.is_empty()) else {
        return render(&state, &me, f, Outcome::invalid(errors)).await;
    };
    match state
        .store
        .create_issue_type(me.org_id(), team, &name, &code)
        .await
    {
        Ok(Some(id)) => {
            if !names.is_empty() {
                state
                    .store
                    .rename_issue_type(me.org_id(), id, &name, &names)
                    .await?;
            }
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

#[derive(Deserialize, Serialize, Default)]
pub struct RenameForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    name_de: String,
}

/// Rename an issue type, or give it its name in German.
pub async fn rename(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    form: CsrfForm<RenameForm>,
) -> AppResult<Response> {
    let id: IssueTypeId = parse_id(&id)?;
    let f = &form.value;
    // The row's error shows beside the row (the add form below keeps its own fields).
    let mut errors = FieldErrors::default();
    let row = format!("row_{id}");
    let name = errors.check(&row, DisplayName::parse(&f.name));
    let mut german = FieldErrors::default();
    let names = other_names(&mut german, &f.name_de);
    let name = match (name, german.is_empty()) {
        (Some(name), true) => name,
        (_, ok) => {
            if !ok {
                let refused = DisplayName::parse(&f.name_de).err();
                errors.check(&row, refused.map_or(Ok(()), Err));
            }
            let outcome = Outcome::invalid(errors);
            return render(&state, &me, &IssueTypeForm::default(), outcome).await;
        }
    };
    if !state
        .store
        .rename_issue_type(me.org_id(), id, &name, &names)
        .await?
    {
        return Err(AppError::NotFound);
    }
    me.audit(&state, "issue_type.renamed", name.as_str())
        .await?;
    render(
        &state,
        &me,
        &IssueTypeForm::default(),
        Outcome::done("Saved."),
    )
    .await
}
