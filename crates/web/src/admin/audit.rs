use crate::csrf::CsrfToken;
use crate::error::AppResult;
use crate::extract::AdminUser;
use crate::state::AppState;
use crate::templates::page;
use axum::extract::State;
use axum::response::Html;
use minijinja::context;

pub async fn list(
    State(state): State<AppState>,
    AdminUser(me): AdminUser,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Html<String>> {
    let entries = state.store.audit_entries(me.user.org_id, 200).await?;
    page(
        &state,
        "admin/audit.html",
        context! { me => &me.user, csrf, section => "audit", entries },
    )
}
