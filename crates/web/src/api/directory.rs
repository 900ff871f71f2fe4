//! Who and what an organization has: reps with their presence, teams, issue types. Scope
//! `sessions:read` (what a CRM needs to show who handled a session, and to route one).

use super::error::ErrorBody;
use super::{ApiCaller, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use domain::api_token::Scope;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A rep (or admin) of the organization.
#[derive(Serialize, ToSchema)]
pub struct RepOut {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub title: Option<String>,
    /// `rep` or `admin`.
    pub role: String,
    /// May sign in.
    pub active: bool,
    /// `available`, `busy`, `away` or `offline`.
    pub presence: String,
    /// Sessions the rep takes at once.
    pub session_limit: i64,
    /// The language the rep chats in.
    pub language: String,
}

/// The organization's reps and admins.
#[utoipa::path(get, path = "/api/v1/reps", tag = "directory",
    security(("token" = ["sessions:read"])),
    responses((status = 200, body = [RepOut]), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn reps(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<Vec<RepOut>>> {
    caller.require(Scope::ReadSessions)?;
    let users = state.store.users(caller.org).await?;
    Ok(Json(
        users
            .into_iter()
            .map(|u| RepOut {
                id: u.id.0,
                language: u.chat_language().code().to_owned(),
                name: u.display_name,
                email: u.email,
                title: u.title,
                role: u.role.as_str().into(),
                active: u.active,
                presence: u.presence.as_str().into(),
                session_limit: u.session_limit,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct TeamOut {
    pub id: i64,
    pub name: String,
    pub member_count: i64,
}

/// The organization's teams.
#[utoipa::path(get, path = "/api/v1/teams", tag = "directory",
    security(("token" = ["sessions:read"])),
    responses((status = 200, body = [TeamOut]), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn teams(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<Vec<TeamOut>>> {
    caller.require(Scope::ReadSessions)?;
    let teams = state.store.teams(caller.org).await?;
    Ok(Json(
        teams
            .into_iter()
            .map(|t| TeamOut {
                id: t.id.0,
                name: t.name,
                member_count: t.member_count,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct IssueTypeOut {
    pub id: i64,
    /// The team its sessions wait for.
    pub team_id: i64,
    pub name: String,
    /// Its stable short name.
    pub code_name: String,
    /// The name in other languages, by language code.
    pub names: BTreeMap<String, String>,
}

/// The issue types customers choose from in the issue form.
#[utoipa::path(get, path = "/api/v1/issue-types", tag = "directory",
    security(("token" = ["sessions:read"])),
    responses((status = 200, body = [IssueTypeOut]), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn issue_types(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> ApiResult<Json<Vec<IssueTypeOut>>> {
    caller.require(Scope::ReadSessions)?;
    let issue_types = state.store.issue_types(caller.org).await?;
    Ok(Json(
        issue_types
            .into_iter()
            .map(|i| IssueTypeOut {
                id: i.id.0,
                team_id: i.team_id.0,
                names: serde_json::from_str(&i.names).unwrap_or_default(),
                name: i.name,
                code_name: i.code_name,
            })
            .collect(),
    ))
}
