//! API tokens: an admin makes one for another system (a name and the scopes it needs), copies
//! it from the page that once shows it, and revokes it when the system goes.

use super::admin_page;
use crate::csrf::{CsrfForm, NoFields};
use crate::error::{AppError, AppResult};
use crate::extract::AdminUser;
use crate::forms::{FieldErrors, Outcome};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use domain::api_token::{new_token, shown_part, Scope, Scopes};
use domain::secret::token_digest;
use domain::text::DisplayName;
use minijinja::context;
use serde::{Deserialize, Serialize};
use store::api_tokens::NewApiToken;

#[derive(Deserialize, Serialize, Default)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    /// The scopes ticked (read from the form's repeated `scopes` fields).
    #[serde(default, skip_deserializing)]
    scopes: Vec<String>,
}

/// The page: the organization's tokens, the form, and a token just made (shown this once).
async fn render(
    state: &AppState,
    me: &AdminUser,
    form: &TokenForm,
    created: Option<&str>,
    outcome: Outcome,
) -> AppResult<Response> {
    let tokens: Vec<_> = state
        .store
        .api_tokens(me.org_id())
        .await?
        .into_iter()
        .map(|t| {
            let scopes: Vec<&str> = t.scopes.split(' ').collect();
            context! { scopes, ..minijinja::Value::from_serialize(&t) }
        })
        .collect();
    let scopes: Vec<_> = Scope::ALL
        .iter()
        .map(|s| context! { name => s.as_str(), label => s.label() })
        .collect();
    admin_page(
        state,
        me,
        "api",
        "admin/api_tokens.html",
        outcome,
        context! { tokens, scopes, form, created, api_base => format!("{}/api/v1", state.config.public_url) },
    )
}

pub async fn list(State(state): State<AppState>, me: AdminUser) -> AppResult<Response> {
    render(&state, &me, &TokenForm::default(), None, Outcome::fresh()).await
}

pub async fn create(
    State(state): State<AppState>,
    me: AdminUser,
    form: CsrfForm<TokenForm>,
) -> AppResult<Response> {
    let typed = TokenForm {
        name: form.value.name.clone(),
        scopes: form.all("scopes").map(str::to_owned).collect(),
    };
    let mut errors = FieldErrors::default();
    let name = errors.check("name", DisplayName::parse(&typed.name));
    let scopes = errors.check(
        "scopes",
        Scopes::parse(typed.scopes.iter().map(String::as_str)),
    );
    let (Some(name), Some(scopes)) = (name, scopes) else {
        return render(&state, &me, &typed, None, Outcome::invalid(errors)).await;
    };
    let token = new_token(&mut rand::rngs::OsRng);
    let detail = format!("{} ({})", name.as_str(), scopes.stored());
    state
        .store
        .create_api_token(
            &NewApiToken {
                org: me.org_id(),
                name: name.as_str(),
                scopes: &scopes.stored(),
                digest: &token_digest(&token),
                shown_part: &shown_part(&token),
                created_by: me.id(),
            },
            &me.audit_row("api_token.created", &detail),
            state.now(),
        )
        .await?;
    render(
        &state,
        &me,
        &TokenForm::default(),
        Some(&token),
        Outcome::done("Token created. Copy it now: it is not shown again."),
    )
    .await
}

pub async fn revoke(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<i64>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let token = state
        .store
        .api_tokens(me.org_id())
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(AppError::NotFound)?;
    let revoked = state
        .store
        .revoke_api_token(
            me.org_id(),
            id,
            &me.audit_row("api_token.revoked", &token.name),
            state.now(),
        )
        .await?;
    let notice = if revoked {
        "Token revoked: calls with it are refused from now on."
    } else {
        "That token was already revoked."
    };
    render(
        &state,
        &me,
        &TokenForm::default(),
        None,
        Outcome::done(notice),
    )
    .await
}
