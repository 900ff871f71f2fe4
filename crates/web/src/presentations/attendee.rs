//! The attendee's side: the lobby a key or link opens (join with a name, unless every seat is
//! taken), then the attendee's own page at a secret address: the stream, the chat, leave.

use super::socket::{self, Member, Role};
use crate::bus::Signal;
use crate::chat::After;
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{AppError, AppResult};
use crate::extract::ClientIp;
use crate::forms::{FieldErrors, Outcome};
use crate::i18n::Lang;
use crate::state::AppState;
use axum::extract::{Path, Query, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::session_key::{KeyState, SessionKey};
use domain::text::DisplayName;
use minijinja::context;
use serde::{Deserialize, Serialize};
use store::extras::Presentation;
use store::keys::KeyTarget;
use store::presentations::{Attendee, Joined};

#[derive(Deserialize, Serialize, Default)]
pub struct JoinForm {
    #[serde(default)]
    name: String,
}

/// The live presentation `key` opens, if any. Counted like a typed key: per address, and
/// together with every wrong key of the global page.
async fn opened_by(state: &AppState, ip: std::net::IpAddr, key: &str) -> AppResult<Presentation> {
    // A key in an address can be guessed too: limited per client address.
    if let Err(secs) = state.lobby_limiter.check(&ip).await {
        return Err(AppError::RateLimited(secs));
    }
    let key = SessionKey::parse(key).map_err(|_| AppError::NotFound)?;
    let attempt = state
        .key_ceiling
        .begin("global")
        .await
        .map_err(AppError::RateLimited)?;
    let Some(presentation) = live_presentation(state, &key).await? else {
        state.key_ceiling.wrong(attempt);
        return Err(AppError::NotFound);
    };
    state.key_ceiling.not_a_guess(attempt).await;
    Ok(presentation)
}

async fn live_presentation(state: &AppState, key: &SessionKey) -> AppResult<Option<Presentation>> {
    let Some(record) = state.store.find_key(key).await? else {
        return Ok(None);
    };
    let KeyTarget::Presentation(id) = record.target() else {
        return Ok(None);
    };
    if record.state(state.now()) != KeyState::Live {
        return Ok(None);
    }
    let presentation = state.store.presentation(id).await?;
    Ok(presentation.filter(|p| p.state == "live"))
}

/// The lobby: what the presentation is, and the join form (or why it cannot be joined).
fn render_lobby(
    state: &AppState,
    lang: domain::Language,
    csrf: &str,
    presentation: &Presentation,
    form: &JoinForm,
    (outcome, full): (Outcome, bool),
) -> AppResult<Response> {
    let languages = crate::i18n::languages();
    let ctx = context! {
        lang => lang.code(), languages, presentation, csrf, form, full,
        errors => &outcome.errors,
    };
    let html = state.templates.page("portal/presentation.html", ctx)?;
    Ok(outcome.respond(html))
}

/// The attendee's lobby, reached by a key typed on a portal or the global page, or the link.
pub async fn lobby(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    Path(key): Path<String>,
) -> AppResult<Response> {
    let presentation = opened_by(&state, ip, &key).await?;
    let fresh = (Outcome::fresh(), false);
    render_lobby(
        &state,
        lang,
        &csrf,
        &presentation,
        &JoinForm::default(),
        fresh,
    )
}

/// Join with a name: a seat if one is free, and the attendee's own address.
pub async fn join(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    Path(key): Path<String>,
    form: CsrfForm<JoinForm>,
) -> AppResult<Response> {
    let presentation = opened_by(&state, ip, &key).await?;
    let mut errors = FieldErrors::default();
    let name = DisplayName::parse(&form.value.name)
        .map_err(|err| {
            let text = crate::portal::error_text(&state.catalog, lang, err);
            errors.add_message("name", text);
        })
        .ok();
    let Some(name) = name else {
        let invalid = (Outcome::invalid(errors), false);
        return render_lobby(&state, lang, &csrf, &presentation, &form.value, invalid);
    };
    let token = domain::secret::random_token(&mut rand::rngs::OsRng);
    let digest = domain::secret::token_digest(&token);
    let limit = state.config.presentation_attendees;
    let (org, id) = (presentation.org_id, presentation.id);
    let joined = state
        .store
        .join_presentation(id, name.as_str(), &digest, limit, state.now())
        .await?;
    match joined {
        Joined::Attendee(_) => {
            let signal = Signal::Attendees { removed: None };
            state.announce_presentation_signal(org, id, signal);
            Ok(Redirect::to(&super::attend_path(&token)).into_response())
        }
        Joined::Full => {
            let mut outcome = Outcome::fresh();
            outcome.status = StatusCode::CONFLICT;
            render_lobby(
                &state,
                lang,
                &csrf,
                &presentation,
                &form.value,
                (outcome, true),
            )
        }
        Joined::Ended => Err(AppError::NotFound),
    }
}

/// The attendee and their presentation, by the token of their address.
async fn attendee_of(state: &AppState, token: &str) -> AppResult<(Attendee, Presentation)> {
    let digest = domain::secret::token_digest(token);
    let attendee = state
        .store
        .attendee_by_token(&digest)
        .await?
        .ok_or(AppError::NotFound)?;
    let presentation = state
        .store
        .presentation(attendee.presentation_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((attendee, presentation))
}

/// Where the attendee stands: watching, or why not (removed, left, ended).
fn standing(attendee: &Attendee, presentation: &Presentation) -> &'static str {
    match (attendee.state.as_str(), presentation.state.as_str()) {
        ("removed", _) => "removed",
        (_, "ended") => "ended",
        ("left", _) => "left",
        _ => "in",
    }
}

/// The attendee's page: the presenter's screen, the chat, and leave.
pub async fn page(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let (attendee, presentation) = attendee_of(&state, &token).await?;
    let standing = standing(&attendee, &presentation);
    let languages = crate::i18n::languages();
    let ctx = context! {
        lang => lang.code(), languages, csrf, presentation, attendee, standing, token,
    };
    let html = state.templates.page("portal/attend.html", ctx)?;
    Ok(html.into_response())
}

/// The attendee's socket (see `socket`): only while they are in a live presentation.
pub async fn live(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(token): Path<String>,
    Query(after): Query<After>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> AppResult<Response> {
    let held = crate::realtime::admit(&state, &headers, ip).await?;
    let (attendee, presentation) = attendee_of(&state, &token).await?;
    if standing(&attendee, &presentation) != "in" {
        return Err(AppError::NotFound);
    }
    let member = Member {
        presentation,
        role: Role::Attendee(attendee.id),
        name: attendee.name,
        lang,
    };
    Ok(
        crate::realtime::socket(upgrade).on_upgrade(move |ws| async move {
            socket::serve(state, member, after.after, ws).await;
            drop(held);
        }),
    )
}

/// The attendee leaves: their seat is free for someone else.
pub async fn leave(
    State(state): State<AppState>,
    Path(token): Path<String>,
    _form: CsrfForm<crate::csrf::NoFields>,
) -> AppResult<Response> {
    let (attendee, presentation) = attendee_of(&state, &token).await?;
    let (org, id) = (presentation.org_id, presentation.id);
    if state
        .store
        .attendee_out(id, attendee.id, false, state.now())
        .await?
    {
        let signal = Signal::Attendees { removed: None };
        state.announce_presentation_signal(org, id, signal);
    }
    Ok(Redirect::to(&super::attend_path(&token)).into_response())
}
