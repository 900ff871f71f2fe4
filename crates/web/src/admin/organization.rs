use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{AppError, AppResult};
use crate::extract::AdminUser;
use crate::forms::{FieldErrors, Outcome};
use crate::state::AppState;
use crate::templates::page;
use axum::extract::State;
use axum::response::Response;
use domain::text::DisplayName;
use domain::SessionLimit;
use minijinja::context;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize, Default)]
pub struct OrgForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    default_session_limit: String,
}

fn render(
    state: &AppState,
    me: &AdminUser,
    csrf: &str,
    form: &OrgForm,
    slug: &str,
    outcome: Outcome,
) -> AppResult<Response> {
    let html = page(
        state,
        "admin/organization.html",
        context! {
            me => &me.0.user, csrf, section => "organization", form, slug, errors => &outcome.errors, notice => &outcome.notice,
        },
    )?;
    Ok(outcome.respond(html))
}

pub async fn show(
    State(state): State<AppState>,
    me: AdminUser,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    let org = state
        .store
        .organization(me.0.user.org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = OrgForm {
        name: org.name,
        default_session_limit: org.default_session_limit.to_string(),
    };
    render(&state, &me, &csrf, &form, &org.slug, Outcome::fresh())
}

pub async fn update(
    State(state): State<AppState>,
    me: AdminUser,
    CsrfToken(csrf): CsrfToken,
    form: CsrfForm<OrgForm>,
) -> AppResult<Response> {
    let org = state
        .store
        .organization(me.0.user.org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let f = form.value;
    let mut errors = FieldErrors::default();
    let name = errors.check("name", DisplayName::parse(&f.name));
    let limit = errors.check(
        "default_session_limit",
        SessionLimit::parse(&f.default_session_limit),
    );
    let (Some(name), Some(limit)) = (name, limit) else {
        return render(&state, &me, &csrf, &f, &org.slug, Outcome::invalid(errors));
    };
    state
        .store
        .update_organization(org.id, &name, limit.get())
        .await?;
    state
        .store
        .record_audit(
            Some(org.id),
            Some(me.0.user.id),
            "organization.updated",
            name.as_str(),
            state.now(),
        )
        .await?;
    render(
        &state,
        &me,
        &csrf,
        &f,
        &org.slug,
        Outcome::done("Settings saved."),
    )
}
