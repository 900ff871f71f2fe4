//! The presenter's side, in the console: start a presentation with a title (it gets a key and
//! a link), then share the screen, see who attends, remove one, chat, and end it.

use super::socket::{self, Member, Role};
use crate::chat::After;
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{AppError, AppResult};
use crate::extract::CurrentUser;
use crate::forms::{FieldErrors, Outcome};
use crate::state::AppState;
use axum::extract::{Path, Query, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use domain::session_key::KeyState;
use domain::session_key::SessionKey;
use domain::text::DisplayName;
use minijinja::context;
use serde::{Deserialize, Serialize};
use store::extras::Presentation;
use store::keys::KeyTarget;

#[derive(Deserialize, Serialize, Default)]
pub struct StartForm {
    #[serde(default)]
    title: String,
}

async fn list_page(
    state: &AppState,
    me: &CurrentUser,
    csrf: &str,
    form: &StartForm,
    outcome: Outcome,
) -> AppResult<Response> {
    let (org, rep) = (me.user.org_id, me.user.id);
    let live = state.store.live_presentations_of(org, rep).await?;
    let ctx = context! {
        me => &me.user, csrf, live, form,
        errors => &outcome.errors, notice => &outcome.notice,
    };
    let html = state.templates.page("console/presentations.html", ctx)?;
    Ok(outcome.respond(html))
}

pub async fn index(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    list_page(&state, &me, &csrf, &StartForm::default(), Outcome::fresh()).await
}

/// Start a presentation: it is live at once, with a key as long-lived as the organization
/// allows keys to be (ending the presentation revokes it).
pub async fn start(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    form: CsrfForm<StartForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let Some(title) = errors.check("title", DisplayName::parse(&form.value.title)) else {
        return list_page(&state, &me, &csrf, &form.value, Outcome::invalid(errors)).await;
    };
    let org = crate::rep_keys::organization(&state, &me).await?;
    let (rep, now) = (me.user.id, state.now());
    let id = state
        .store
        .create_presentation(org.id, rep, title.as_str(), now)
        .await?;
    let target = KeyTarget::Presentation(id);
    let minutes = org.key_max_validity_minutes;
    let detail = format!("{minutes} min");
    let issuer = crate::rep_keys::Issuer {
        rep,
        actor: Some(rep),
        detail: &detail,
    };
    if crate::rep_keys::issue(&state, &org, issuer, target, minutes)
        .await?
        .is_none()
    {
        // No key, no way in: the presentation ends before anyone could see it.
        state.store.end_presentation(org.id, rep, id, now).await?;
        errors.add_message("title", crate::rep_keys::at_cap_message());
        return list_page(&state, &me, &csrf, &form.value, Outcome::invalid(errors)).await;
    }
    let to = format!("/console/presentations/{id}");
    Ok(Redirect::to(&to).into_response())
}

/// One of the rep's own presentations.
async fn mine(state: &AppState, me: &CurrentUser, id: &str) -> AppResult<Presentation> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let (org, rep) = (me.user.org_id, me.user.id);
    state
        .store
        .presentation_of(org, rep, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The presentation's live key, if it has one (none once it ended).
async fn live_key(state: &AppState, presentation: i64) -> AppResult<Option<SessionKey>> {
    let keys = state
        .store
        .presentation_keys(presentation)
        .await?
        .into_iter()
        .filter(|k| k.state(state.now()) == KeyState::Live);
    Ok(keys
        .filter_map(|k| SessionKey::parse(&k.key_value).ok())
        .next())
}

/// The presenter's page: key and link, share, attendees, chat, end.
pub async fn page(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let presentation = mine(&state, &me, &id).await?;
    let key = live_key(&state, presentation.id).await?;
    let spaced = key.as_ref().map(SessionKey::spaced);
    let link = key.as_ref().map(|k| {
        let path = crate::paths::presentation(k.as_str());
        format!("{}{path}", state.config.public_url)
    });
    let limit = state.config.presentation_attendees;
    let ctx = context! { me => &me.user, csrf, presentation, spaced, link, limit };
    Ok(state
        .templates
        .page("console/presentation.html", ctx)?
        .into_response())
}

/// The presenter's socket (see `socket`).
pub async fn live(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    Query(after): Query<After>,
    crate::extract::ClientIp(ip): crate::extract::ClientIp,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> AppResult<Response> {
    let held = crate::realtime::admit(&state, &headers, ip).await?;
    let presentation = mine(&state, &me, &id).await?;
    if presentation.state != "live" {
        return Err(AppError::NotFound);
    }
    let member = Member {
        presentation,
        role: Role::Presenter,
        name: me.user.display_name.clone(),
        lang: crate::i18n::page_locale().lang,
    };
    Ok(
        crate::realtime::socket(upgrade).on_upgrade(move |ws| async move {
            socket::serve(state, member, after.after, ws).await;
            drop(held);
        }),
    )
}
