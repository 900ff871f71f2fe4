//! What a rep does in the console. Each action commits through the store, then announces the
//! event on the bus (commit first, so nobody is told about something that did not happen).

use super::pages::{current_session, render_console};
use crate::app::sessions::{self, Taken};
use crate::csrf::{CsrfForm, CsrfToken, NoFields};
use crate::error::{AppError, AppResult};
use crate::explain;
use crate::extract::CurrentUser;
use crate::forms::{FieldErrors, Outcome};
use crate::paths;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::rep::Presence;
use domain::session::{Outcome as SessionOutcome, Queue};
use domain::{SessionId, TeamId, UserId};
use serde::Deserialize;

fn session_id(raw: &str) -> AppResult<SessionId> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// The console again, with a message beside the queue (or a session's forms).
async fn refuse(
    state: &AppState,
    me: &CurrentUser,
    csrf: &str,
    field: &str,
    message: String,
    status: StatusCode,
    current: Option<SessionId>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    errors.add_message(field, message);
    let current = match current {
        Some(id) => Some(current_session(state, me, id).await?),
        None => None,
    };
    render_console(
        state,
        me,
        csrf,
        current,
        Outcome {
            errors,
            notice: None,
            status,
        },
    )
    .await
}

/// Why a take failed, in the rep's words.
fn not_taken(taken: Taken) -> Option<(String, StatusCode)> {
    match taken {
        Taken::Yes => None,
        Taken::AtLimit { held } => Some((
            format!("You already hold {held} sessions, your limit. End one first."),
            StatusCode::CONFLICT,
        )),
        Taken::No { by: Some(name) } => Some((format!("Taken by {name}."), StatusCode::CONFLICT)),
        Taken::No { by: None } => Some((
            "This customer is no longer waiting.".to_owned(),
            StatusCode::CONFLICT,
        )),
    }
}

/// Take a waiting session. Of any number of reps pressing at once, exactly one gets it.
pub async fn accept(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let (org, id) = (me.user.org_id, session_id(&id)?);
    let session = state
        .store
        .support_session(org, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let teams = state.store.user_team_ids(org, me.user.id).await?;
    if !session
        .queue()
        .is_some_and(|queue| queue.open_to(me.user.id, &teams))
    {
        return Err(AppError::NotFound);
    }
    match not_taken(sessions::accept(&state, &me.user, &session).await?) {
        None => Ok(Redirect::to(&paths::console_session(id)).into_response()),
        Some((message, status)) => refuse(&state, &me, &csrf, "queue", message, status, None).await,
    }
}

/// Take the oldest waiting session across the rep's team queues.
pub async fn next(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let (message, status) = match sessions::next(&state, &me.user).await? {
        Ok(id) => return Ok(Redirect::to(&paths::console_session(id)).into_response()),
        Err(Taken::No { .. }) => (
            "Nobody is waiting in your team queues.".to_owned(),
            StatusCode::OK,
        ),
        Err(taken) => not_taken(taken).unwrap_or_default(),
    };
    refuse(&state, &me, &csrf, "queue", message, status, None).await
}

#[derive(Deserialize)]
pub struct EndForm {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    notes: String,
}

pub const MAX_NOTES: usize = 4000;

pub async fn end(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    form: CsrfForm<EndForm>,
) -> AppResult<Response> {
    let (org, id) = (me.user.org_id, session_id(&id)?);
    let outcome =
        SessionOutcome::parse(&form.value.outcome).filter(|o| *o != SessionOutcome::Expired);
    let notes = form.value.notes.trim();
    let Some(outcome) = outcome else {
        return refuse(
            &state,
            &me,
            &csrf,
            "outcome",
            "Choose how the session ended.".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(id),
        )
        .await;
    };
    if notes.chars().count() > MAX_NOTES {
        return refuse(
            &state,
            &me,
            &csrf,
            "notes",
            format!("At most {MAX_NOTES} characters."),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(id),
        )
        .await;
    }
    let notes = (!notes.is_empty()).then_some(notes);
    let session = state
        .store
        .support_session(org, id)
        .await?
        .ok_or(AppError::NotFound)?;
    match sessions::end(&state, &session, outcome, Some(&me.user), notes).await? {
        true => {
            // The outcome and notes stay findable in the audit log too.
            let detail = match notes {
                Some(notes) => format!("session {id}: {}; notes: {notes}", outcome.as_str()),
                None => format!("session {id}: {}", outcome.as_str()),
            };
            let now = state.now();
            let audit = state.store.record_audit(
                Some(org),
                Some(me.user.id),
                "session.ended",
                &detail,
                now,
            );
            audit.await?;
            Ok(Redirect::to(paths::CONSOLE).into_response())
        }
        // Ended already (by the customer, another rep, a second click): said on the console,
        // not "Page not found".
        false => {
            let message = "This session has already ended.".to_owned();
            let status = StatusCode::CONFLICT;
            refuse(&state, &me, &csrf, "queue", message, status, None).await
        }
    }
}

#[derive(Deserialize)]
pub struct TransferForm {
    #[serde(default)]
    target: String,
    #[serde(default)]
    note: String,
}

pub async fn transfer(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    form: CsrfForm<TransferForm>,
) -> AppResult<Response> {
    let (org, id) = (me.user.org_id, session_id(&id)?);
    let note = form.value.note.trim();
    let target = match form.value.target.split_once(':') {
        Some(("rep", rep)) => match rep.parse::<UserId>().ok() {
            Some(rep) if rep != me.user.id => state
                .store
                .user(org, rep)
                .await?
                .filter(|u| u.active)
                .map(|u| (Queue::Personal(u.id), u.display_name)),
            _ => None,
        },
        Some(("team", team)) => match team.parse::<TeamId>().ok() {
            Some(team) => state.store.team(org, team).await?.map(|t| {
                let to = crate::explain::fill(crate::explain::TO_TEAM, &[("team", &t.name)]);
                (Queue::Team(t.id), to)
            }),
            None => None,
        },
        _ => None,
    };
    let Some((queue, to)) = target else {
        return refuse(
            &state,
            &me,
            &csrf,
            "target",
            "Choose a rep or a team.".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(id),
        )
        .await;
    };
    if note.chars().count() > 500 {
        return refuse(
            &state,
            &me,
            &csrf,
            "note",
            "At most 500 characters.".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(id),
        )
        .await;
    }
    let by = me.user.display_name.as_str();
    let reason = match note {
        "" => explain::fill(explain::TRANSFERRED, &[("rep", by), ("to", &to)]),
        note => explain::fill(
            explain::TRANSFERRED_NOTE,
            &[("rep", by), ("to", &to), ("note", note)],
        ),
    };
    let session = state
        .store
        .support_session(org, id)
        .await?
        .ok_or(AppError::NotFound)?;
    match sessions::transfer(&state, &me.user, &session, queue, &reason).await? {
        true => Ok(Redirect::to(paths::CONSOLE).into_response()),
        false => Err(AppError::NotFound),
    }
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    rep: String,
}

pub async fn invite(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    form: CsrfForm<InviteForm>,
) -> AppResult<Response> {
    let id = session_id(&id)?;
    let invited = match form.value.rep.parse::<UserId>() {
        Ok(rep) => sessions::invite(&state, &me.user, id, rep).await?,
        Err(_) => false,
    };
    match invited {
        true => Ok(Redirect::to(&paths::console_session(id)).into_response()),
        false => {
            refuse(
                &state,
                &me,
                &csrf,
                "rep",
                "Choose a colleague who is not in this session yet.".into(),
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(id),
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct PresenceForm {
    #[serde(default)]
    presence: String,
}

pub async fn presence(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    form: CsrfForm<PresenceForm>,
) -> AppResult<Response> {
    let chosen = match Presence::parse(&form.value.presence) {
        Ok(presence) => crate::app::reps::set_presence(&state, &me.user, presence).await?,
        Err(_) => false,
    };
    match chosen {
        true => Ok(Redirect::to(paths::CONSOLE).into_response()),
        false => {
            refuse(
                &state,
                &me,
                &csrf,
                "presence",
                "Choose available, busy or away.".into(),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
    }
}

/// Take a session automatic assignment offered to this rep.
pub async fn accept_offer(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let id = session_id(&id)?;
    let (message, status) = match sessions::accept_offer(&state, &me.user, id).await? {
        Taken::Yes => return Ok(Redirect::to(&paths::console_session(id)).into_response()),
        Taken::No { .. } => (
            "This offer is no longer open.".to_owned(),
            StatusCode::CONFLICT,
        ),
        taken => not_taken(taken).unwrap_or_default(),
    };
    refuse(&state, &me, &csrf, "queue", message, status, None).await
}

/// Decline an offer: the next rep is asked (never this one again) on the worker's next round.
pub async fn decline_offer(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    sessions::decline_offer(&state, &me.user, session_id(&id)?).await?;
    Ok(Redirect::to(paths::CONSOLE).into_response())
}

/// The invited rep's answer: accepted, their console opens the session; declined (or no longer
/// open), back to the console.
async fn answer_invitation(
    state: &AppState,
    me: &CurrentUser,
    csrf: &str,
    id: &str,
    accept: bool,
) -> AppResult<Response> {
    let id = session_id(id)?;
    let session = state.store.support_session(me.user.org_id, id).await?;
    let answered = match &session {
        Some(session) => sessions::answer_invitation(state, &me.user, session, accept).await?,
        None => false,
    };
    match (answered, accept) {
        (true, true) => Ok(Redirect::to(&paths::console_session(id)).into_response()),
        (true, false) => Ok(Redirect::to(paths::CONSOLE).into_response()),
        (false, _) => {
            let message = "This invitation is no longer open: the session was ended, transferred or answered already.";
            refuse(
                state,
                me,
                csrf,
                "queue",
                message.into(),
                StatusCode::CONFLICT,
                None,
            )
            .await
        }
    }
}

pub async fn accept_invitation(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    answer_invitation(&state, &me, &csrf, &id, true).await
}

pub async fn decline_invitation(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    Path(id): Path<String>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    answer_invitation(&state, &me, &csrf, &id, false).await
}

/// An invited rep leaves the session (the owner transfers or ends it instead).
pub async fn leave(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let id = session_id(&id)?;
    let session = super::pages::my_session(&state, &me, id).await?;
    sessions::leave(&state, &me.user, &session).await?;
    Ok(Redirect::to(paths::CONSOLE).into_response())
}
