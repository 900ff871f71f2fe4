use super::{admin_page, own_organization};
use crate::csrf::CsrfForm;
use crate::error::AppResult;
use crate::extract::AdminUser;
use crate::forms::{FieldErrors, Outcome};
use crate::state::AppState;
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
    #[serde(default)]
    key_digits: String,
}

fn render(
    state: &AppState,
    me: &AdminUser,
    form: &OrgForm,
    slug: &str,
    outcome: Outcome,
) -> AppResult<Response> {
    admin_page(
        state,
        me,
        "organization",
        "admin/organization.html",
        outcome,
        context! { form, slug },
    )
}

pub async fn show(State(state): State<AppState>, me: AdminUser) -> AppResult<Response> {
    let org = own_organization(&state, &me).await?;
    let form = OrgForm {
        name: org.name,
        default_session_limit: org.default_session_limit.to_string(),
        key_digits: org.key_digits.to_string(),
    };
    render(&state, &me, &form, &org.slug, Outcome::fresh())
}

pub async fn update(
    State(state): State<AppState>,
    me: AdminUser,
    form: CsrfForm<OrgForm>,
) -> AppResult<Response> {
    let org = own_organization(&state, &me).await?;
    let f = form.value;
    let mut errors = FieldErrors::default();
    let name = errors.check("name", DisplayName::parse(&f.name));
    let limit = errors.check(
        "default_session_limit",
        SessionLimit::parse(&f.default_session_limit),
    );
    let digits = errors.check(
        "key_digits",
        domain::session_key::parse_digits(&f.key_digits),
    );
    let (Some(name), Some(limit), Some(digits)) = (name, limit, digits) else {
        return render(&state, &me, &f, &org.slug, Outcome::invalid(errors));
    };
    state
        .store
        .update_organization(org.id, &name, limit.get(), digits as i64)
        .await?;
    me.audit(&state, "organization.updated", name.as_str())
        .await?;
    render(&state, &me, &f, &org.slug, Outcome::done("Settings saved."))
}
