//! The instance admin's page: every organization on this Supportal, and creating a new one.

use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::AppResult;
use crate::extract::InstanceAdmin;
use crate::forms::Outcome;
use crate::passwords;
use crate::setup::{conflict_errors, NewOrgForm};
use crate::state::AppState;
use crate::templates::page;
use axum::extract::State;
use axum::response::Response;
use minijinja::context;

async fn render(
    state: &AppState,
    me: &InstanceAdmin,
    csrf: &str,
    form: &NewOrgForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let organizations = state.store.organizations().await?;
    let html = page(
        state,
        "admin/organizations.html",
        context! {
            me => &me.0.user, csrf, section => "organizations", organizations, form, errors => &outcome.errors, notice => &outcome.notice,
        },
    )?;
    Ok(outcome.respond(html))
}

pub async fn list(
    State(state): State<AppState>,
    me: InstanceAdmin,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    render(&state, &me, &csrf, &NewOrgForm::default(), Outcome::fresh()).await
}

pub async fn create(
    State(state): State<AppState>,
    me: InstanceAdmin,
    CsrfToken(csrf): CsrfToken,
    form: CsrfForm<NewOrgForm>,
) -> AppResult<Response> {
    let typed = form.value;
    let parsed = match typed.parse() {
        Ok(parsed) => parsed,
        Err(errors) => return render(&state, &me, &csrf, &typed, Outcome::invalid(errors)).await,
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
            state
                .store
                .record_audit(
                    Some(me.0.user.org_id),
                    Some(me.0.user.id),
                    "organization.created",
                    &detail,
                    now,
                )
                .await?;
            state
                .store
                .record_audit(
                    Some(org_id),
                    Some(me.0.user.id),
                    "organization.created",
                    &detail,
                    now,
                )
                .await?;
            let notice = format!(
                "Organization {} created; {} can now sign in.",
                parsed.org_name.as_str(),
                parsed.admin_email.as_str()
            );
            render(
                &state,
                &me,
                &csrf,
                &NewOrgForm::default(),
                Outcome::done(notice),
            )
            .await
        }
        Err(err) => {
            let errors = conflict_errors(err)?;
            render(&state, &me, &csrf, &typed, Outcome::invalid(errors)).await
        }
    }
}
