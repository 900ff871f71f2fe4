//! Admin pages: an organization's admins shape their organization here.
//! Every lookup is scoped to the admin's own organization; another's ids are simply not found.

mod api_tokens;
mod audit;
mod hostnames;
mod issue_types;
pub mod organization;
mod organizations;
pub mod reports;
mod reps;
mod site_parts;
mod site_sso;
mod sites;
/// The longest text a site shows (its welcome, closed and no-rep messages), per language.
pub use sites::MAX_MESSAGE as MAX_SITE_MESSAGE;
mod teams;
mod webhooks;

use crate::error::AppResult;
use crate::extract::AdminUser;
use crate::forms::Outcome;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
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
        .route(
            "/admin/reps/{id}/two-factor/reset",
            post(reps::reset_two_factor),
        )
        .route("/admin/teams", get(teams::list).post(teams::create))
        .route("/admin/teams/{id}", get(teams::show).post(teams::rename))
        .route("/admin/teams/{id}/delete", post(teams::delete))
        .route("/admin/teams/{id}/rules", post(teams::rules))
        .route("/admin/audit", get(audit::list))
        .route("/admin/reports", get(reports::show))
        .route("/admin/reports.csv", get(reports::csv))
        .route("/admin/api", get(api_tokens::list))
        .route(
            "/admin/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/admin/webhooks/{id}", get(webhooks::show))
        .route("/admin/webhooks/{id}/delete", post(webhooks::delete))
        .route(
            "/admin/webhooks/{id}/deliveries/{delivery}/resend",
            post(webhooks::resend),
        )
        .route("/admin/api/tokens", post(api_tokens::create))
        .route("/admin/api/tokens/{id}/revoke", post(api_tokens::revoke))
        .route(
            "/admin/issue-types",
            get(issue_types::list).post(issue_types::create),
        )
        .route("/admin/issue-types/{id}", post(issue_types::rename))
        .route("/admin/issue-types/{id}/delete", post(issue_types::delete))
        .route("/admin/sites", get(sites::list).post(sites::create))
        .route("/admin/sites/{id}", get(sites::show).post(sites::update))
        .route("/admin/sites/{id}/logo", post(sites::upload_logo))
        .route("/admin/sites/{id}/hostnames/check", post(hostnames::check))
        .route("/admin/hostnames/approve", post(hostnames::approve))
        .route(
            "/admin/sites/{id}/fields",
            get(site_parts::fields).post(site_parts::add_field),
        )
        .route(
            "/admin/sites/{id}/fields/{key}/move",
            post(site_parts::move_field),
        )
        .route(
            "/admin/sites/{id}/fields/{key}/delete",
            post(site_parts::delete_field),
        )
        .route(
            "/admin/sites/{id}/notices",
            get(site_parts::notices).post(site_parts::add_notice),
        )
        .route(
            "/admin/sites/{id}/notices/{notice}/delete",
            post(site_parts::delete_notice),
        )
        .route(
            "/admin/sites/{id}/schedule",
            get(site_parts::schedule).post(site_parts::save_schedule),
        )
        .route(
            "/admin/sites/{id}/profiles",
            get(site_parts::profiles).post(site_parts::add_profile),
        )
        .route(
            "/admin/sites/{id}/profiles/{profile}",
            post(site_parts::profile_texts_save),
        )
        .route(
            "/admin/sites/{id}/profiles/{profile}/delete",
            post(site_parts::delete_profile),
        )
        .route(
            "/admin/organizations",
            get(organizations::list).post(organizations::create),
        )
}

async fn overview(State(state): State<AppState>, me: AdminUser) -> AppResult<Response> {
    let org = own_organization(&state, &me).await?;
    let users = state.store.users(org.id).await?;
    let teams = state.store.teams(org.id).await?;
    let sites = state.store.sites(org.id).await?;
    let issue_types = state.store.issue_types(org.id).await?;
    let active_reps = users.iter().filter(|u| u.active).count();
    let extra = context! { org, user_count => users.len(), active_reps, teams, sites, issue_types };
    admin_page(
        &state,
        &me,
        "overview",
        "admin/index.html",
        Outcome::fresh(),
        extra,
    )
}

/// Render an admin page: the layout's context (who, CSRF token, section, form outcome) plus `extra`.
pub(crate) fn admin_page(
    state: &AppState,
    me: &AdminUser,
    section: &str,
    template: &str,
    outcome: crate::forms::Outcome,
    extra: minijinja::Value,
) -> AppResult<axum::response::Response> {
    let csrf = &me.csrf;
    let html = state.templates.page(template,
        context! {
            me => &me.current.user, csrf, section, errors => &outcome.errors, notice => &outcome.notice, ..extra
        },
    )?;
    Ok(outcome.respond(html))
}

/// The admin's own organization (every admin page is about it).
pub(crate) async fn own_organization(
    state: &AppState,
    me: &AdminUser,
) -> AppResult<store::orgs::Organization> {
    state
        .store
        .organization(me.org_id())
        .await?
        .ok_or(crate::error::AppError::NotFound)
}
