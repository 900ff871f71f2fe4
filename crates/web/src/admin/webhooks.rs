//! Webhook endpoints: an admin adds an address and the events it receives, reads its secret
//! (to verify signatures), sees each delivery's status, code and time, and sends one again.

use super::admin_page;
use super::reps::parse_id;
use crate::csrf::{CsrfForm, NoFields};
use crate::error::{AppError, AppResult};
use crate::extract::AdminUser;
use crate::forms::{FieldErrors, Outcome};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::webhook::{new_secret, EVENTS};
use domain::FieldError;
use minijinja::context;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize, Default)]
pub struct EndpointForm {
    #[serde(default)]
    url: String,
    /// The events ticked (from the form's repeated `events` fields).
    #[serde(default, skip_deserializing)]
    events: Vec<String>,
}

fn event_choices() -> Vec<minijinja::Value> {
    EVENTS
        .iter()
        .map(|(name, label)| context! { name, label })
        .collect()
}

async fn render_list(
    state: &AppState,
    me: &AdminUser,
    form: &EndpointForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let endpoints = state.store.webhook_endpoints(me.org_id()).await?;
    let endpoints: Vec<_> = endpoints
        .iter()
        .map(|e| {
            let events: Vec<&str> = e.events.split(' ').collect();
            context! { id => e.id, url => &e.url, events, created_at => e.created_at }
        })
        .collect();
    admin_page(
        state,
        me,
        "webhooks",
        "admin/webhooks.html",
        outcome,
        context! { endpoints, form, choices => event_choices() },
    )
}

pub async fn list(State(state): State<AppState>, me: AdminUser) -> AppResult<Response> {
    let form = EndpointForm {
        events: EVENTS.iter().map(|(name, _)| (*name).to_owned()).collect(),
        ..Default::default()
    };
    render_list(&state, &me, &form, Outcome::fresh()).await
}

pub async fn create(
    State(state): State<AppState>,
    me: AdminUser,
    form: CsrfForm<EndpointForm>,
) -> AppResult<Response> {
    let typed = EndpointForm {
        url: form.value.url.trim().to_owned(),
        events: form.all("events").map(str::to_owned).collect(),
    };
    let mut errors = FieldErrors::default();
    if typed.url.is_empty() {
        errors.add("url", FieldError::Required);
    } else if let Some(why) =
        crate::webhooks::target::refusal(&typed.url, state.config.webhooks_allow_private_targets)
    {
        errors.add_message("url", why);
    }
    if typed.events.is_empty() {
        errors.add("events", FieldError::Required);
    } else if typed
        .events
        .iter()
        .any(|e| !EVENTS.iter().any(|(name, _)| name == e))
    {
        errors.add("events", FieldError::InvalidChoice);
    }
    if !errors.is_empty() {
        return render_list(&state, &me, &typed, Outcome::invalid(errors)).await;
    }
    let id = state
        .store
        .create_webhook_endpoint(
            me.org_id(),
            &typed.url,
            &typed.events.join(" "),
            &new_secret(&mut rand::rngs::OsRng),
            &me.audit_row("webhook.created", &typed.url),
            state.now(),
        )
        .await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}

async fn render_one(
    state: &AppState,
    me: &AdminUser,
    id: i64,
    outcome: Outcome,
) -> AppResult<Response> {
    let endpoint = state
        .store
        .webhook_endpoint(me.org_id(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let deliveries = state.store.webhook_deliveries(me.org_id(), id, 100).await?;
    let events: Vec<&str> = endpoint.events.split(' ').collect();
    admin_page(
        state,
        me,
        "webhooks",
        "admin/webhook.html",
        outcome,
        context! { endpoint, events, deliveries },
    )
}

pub async fn show(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
) -> AppResult<Response> {
    render_one(&state, &me, parse_id::<i64>(&id)?, Outcome::fresh()).await
}

pub async fn resend(
    State(state): State<AppState>,
    me: AdminUser,
    Path((id, delivery)): Path<(String, String)>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let id = parse_id::<i64>(&id)?;
    let resent = state
        .store
        .resend_webhook_delivery(me.org_id(), parse_id::<i64>(&delivery)?, state.now())
        .await?;
    let notice = match resent {
        true => "Sending again now.",
        false => "That delivery is already on its way.",
    };
    render_one(&state, &me, id, Outcome::done(notice)).await
}

pub async fn delete(
    State(state): State<AppState>,
    me: AdminUser,
    Path(id): Path<String>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let id = parse_id::<i64>(&id)?;
    let endpoint = state
        .store
        .webhook_endpoint(me.org_id(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    state
        .store
        .delete_webhook_endpoint(
            me.org_id(),
            id,
            &me.audit_row("webhook.deleted", &endpoint.url),
            state.now(),
        )
        .await?;
    render_list(
        &state,
        &me,
        &EndpointForm::default(),
        Outcome::done("Endpoint removed: nothing more is sent to it."),
    )
    .await
}
