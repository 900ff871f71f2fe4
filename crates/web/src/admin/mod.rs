//! Admin pages: an organization's admins shape their organization here.
//! Every lookup is scoped to the admin's own organization; another's ids are simply not found.

mod audit;
mod organization;
mod organizations;
mod reps;
mod teams;

use crate::error::AppResult;
use crate::extract::AdminUser;
use crate::state::AppState;
use crate::templates::page;
use axum::extract::State;
use axum::response::Html;
use axum::routing::{get, post};
use axum::Router;
use minijinja::context;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview))
        .route(
            "/admin/organization",
            get(organization::show).post(organization::update),
        )
        .route("/admin/reps", get(reps::list).post(reps::create))
        .route("/admin/reps/{id}", get(reps::show).post(reps::update))
        .route("/admin/teams", get(teams::list).post(teams::create))
        .route("/admin/teams/{id}", get(teams::show).post(teams::rename))
        .route("/admin/teams/{id}/delete", post(teams::delete))
        .route("/admin/audit", get(audit::list))
        .route(
            "/admin/organizations",
            get(organizations::list).post(organizations::create),
        )
}

async fn overview(
    State(state): State<AppState>,
    AdminUser(me): AdminUser,
    csrf: crate::csrf::CsrfToken,
) -> AppResult<Html<String>> {
    let org_id = me.user.org_id;
    let org = state.store.organization(org_id).await?;
    let users = state.store.users(org_id).await?;
    let teams = state.store.teams(org_id).await?;
    let sites = state.store.sites(org_id).await?;
    let issue_types = state.store.issue_types(org_id).await?;
    let active_reps = users.iter().filter(|u| u.active).count();
    page(
        &state,
        "admin/index.html",
        context! {
            me => &me.user, csrf => csrf.0, section => "overview", org,
            user_count => users.len(), active_reps, teams, sites, issue_types,
        },
    )
}
