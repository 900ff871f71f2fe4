use super::admin_page;
use crate::error::AppResult;
use crate::extract::AdminUser;
use crate::forms::Outcome;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use minijinja::context;

pub async fn list(State(state): State<AppState>, me: AdminUser) -> AppResult<Response> {
    let entries = state.store.audit_entries(me.org_id(), 200).await?;
    admin_page(
        &state,
        &me,
        "audit",
        "admin/audit.html",
        Outcome::fresh(),
        context! { entries },
    )
}
