//! The instance admin's page: every organization on this Supportal, and creating a new one.

use super::admin_page;
use crate::csrf::CsrfForm;
use crate::error::AppResult;
use crate::extract::InstanceAdmin;
use crate::forms::Outcome;
use crate::passwords;
use crate::setup::{conflict_errors, NewOrgForm};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use minijinja::context;

pub(super) async fn render(
    state: &AppState,
    me: &InstanceAdmin,
    form: &NewOrgForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let organizations = state.store.organizations().await?;
    let pending_hostnames = state.store.pending_hostname_claims().await?;
    admin_page(
        state,
        &me.0,
        "organizations",
        "admin/organizations.html",
        outcome,
        context! { organizations, form, pending_hostnames },
    )
}

pub async fn list(State(state): State<AppState>, me: InstanceAdmin) -> AppResult<Response> {
    render(&state, &me, &NewOrgForm::default(), Outcome::fresh()).await
}

pub async fn create(
    State(state): State<AppState>,
    me: InstanceAdmin,
    form: CsrfForm<NewOrgForm>,
) -> AppResult<Response> {
    let typed = form.value;
    let parsed = match typed.parse() {
        Ok(parsed) => parsed,
        Err(errors) => return render(&state, &me, &typed, Outcome::invalid(errors)).await,
    };
    let hash = passwords::hash(parsed.password.expose()).await?;
    let (org, admin) = parsed.records(&hash);
    let now = state.now();
    match state.store.create_organization(&org, &admin, now).await {
        Ok((org_id, _)) => {
            let detail = format!(
                "{} ({})",
                parsed.org_name.as_str(),
                parsed.org_slug.as_str()
            );
            for audited_in in [me.0.org_id(), org_id] {
                state
                    .store
                    .record_audit(
                        Some(audited_in),
                        Some(me.0.id()),
                        "organization.created",
                        &detail,
                        now,
                    )
                    .await?;
            }
            let notice = format!(
                "Organization {} created; {} can now sign in.",
                parsed.org_name.as_str(),
                parsed.admin_email.as_str()
            );
            render(&state, &me, &NewOrgForm::default(), Outcome::done(notice)).await
        }
        Err(err) => render(&state, &me, &typed, Outcome::invalid(conflict_errors(err)?)).await,
    }
}
