//! What a rep does in the console. Each action commits through the store, then announces the
//! event on the bus (commit first, so nobody is told about something that did not happen).

use super::pages::{current_session, render_console};
use crate::csrf::{CsrfForm, CsrfToken, NoFields};
use crate::error::{AppError, AppResult};
use crate::extract::CurrentUser;
use crate::forms::{FieldErrors, Outcome};
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

async fn at_capacity(state: &AppState, me: &CurrentUser) -> AppResult<Option<String>> {
    let held = state
        .store
        .owned_session_count(me.user.org_id, me.user.id)
        .await?;
    Ok((!domain::rep::has_room(held, me.user.session_limit))
        .then(|| format!("You already hold {held} sessions, your limit. End one first.")))
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
    if let Some(message) = at_capacity(&state, &me).await? {
        return refuse(
            &state,
            &me,
            &csrf,
            "queue",
            message,
            StatusCode::CONFLICT,
            None,
        )
        .await;
    }
    match state
        .store
        .claim_session(org, id, me.user.id, state.now())
        .await?
    {
        Some(seq) => {
            state.announce(org, seq, "accepted", id);
            Ok(Redirect::to(&format!("/console/sessions/{id}")).into_response())
        }
        None => {
            let now_owner = match state
                .store
                .support_session(org, id)
                .await?
                .and_then(|s| s.owner_user_id)
            {
                Some(owner) => state
                    .store
                    .user(org, UserId(owner))
                    .await?
                    .map(|u| u.display_name),
                None => None,
            };
            let message = match now_owner {
                Some(name) => format!("Taken by {name}."),
                None => "This customer is no longer waiting.".to_owned(),
            };
            refuse(
                &state,
                &me,
                &csrf,
                "queue",
                message,
                StatusCode::CONFLICT,
                None,
            )
            .await
        }
    }
}

/// Take the oldest waiting session across the rep's team queues.
pub async fn next(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let org = me.user.org_id;
    if let Some(message) = at_capacity(&state, &me).await? {
        return refuse(
            &state,
            &me,
            &csrf,
            "queue",
            message,
            StatusCode::CONFLICT,
            None,
        )
        .await;
    }
    let teams = state.store.user_team_ids(org, me.user.id).await?;
    // Another rep may take the first ones in the meantime: try the next few in line.
    for id in state.store.next_in_teams(org, &teams, 5).await? {
        if let Some(seq) = state
            .store
            .claim_session(org, id, me.user.id, state.now())
            .await?
        {
            state.announce(org, seq, "accepted", id);
            return Ok(Redirect::to(&format!("/console/sessions/{id}")).into_response());
        }
    }
    refuse(
        &state,
        &me,
        &csrf,
        "queue",
        "Nobody is waiting in your team queues.".into(),
        StatusCode::OK,
        None,
    )
    .await
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
    match state
        .store
        .end_session(org, id, outcome, Some(me.user.id), notes, state.now())
        .await?
    {
        Some(seq) => {
            state.announce(org, seq, "ended", id);
            Ok(Redirect::to("/console").into_response())
        }
        None => Err(AppError::NotFound),
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
            Some(team) => state
                .store
                .team(org, team)
                .await?
                .map(|t| (Queue::Team(t.id), format!("team {}", t.name))),
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
    let reason = match note {
        "" => format!("Transferred by {} to {to}.", me.user.display_name),
        note => format!("Transferred by {} to {to}: {note}", me.user.display_name),
    };
    match state
        .store
        .requeue_session(org, id, me.user.id, queue, &reason, state.now())
        .await?
    {
        Some(seq) => {
            state.announce(org, seq, "requeued", id);
            Ok(Redirect::to("/console").into_response())
        }
        None => Err(AppError::NotFound),
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
    let (org, id) = (me.user.org_id, session_id(&id)?);
    let invited = match form.value.rep.parse::<UserId>() {
        Ok(rep) => {
            state
                .store
                .invite_participant(org, id, me.user.id, rep, state.now())
                .await?
        }
        Err(_) => None,
    };
    match invited {
        Some(seq) => {
            state.announce(org, seq, "invited", id);
            Ok(Redirect::to(&format!("/console/sessions/{id}")).into_response())
        }
        None => {
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
    match Presence::parse(&form.value.presence) {
        Ok(presence) if presence != Presence::Offline => {
            state
                .store
                .set_presence(me.user.org_id, me.user.id, presence, state.now())
                .await?;
            Ok(Redirect::to("/console").into_response())
        }
        _ => {
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
    let (org, id) = (me.user.org_id, session_id(&id)?);
    match state
        .store
        .accept_offer(org, id, me.user.id, state.now())
        .await?
    {
        Some(seq) => {
            state.announce(org, seq, "accepted", id);
            Ok(Redirect::to(&format!("/console/sessions/{id}")).into_response())
        }
        None => {
            refuse(
                &state,
                &me,
                &csrf,
                "queue",
                "This offer is no longer open.".into(),
                StatusCode::CONFLICT,
                None,
            )
            .await
        }
    }
}

/// Decline an offer: the next rep is asked (never this one again).
pub async fn decline_offer(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<String>,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let (org, id) = (me.user.org_id, session_id(&id)?);
    if let Some(seq) = state
        .store
        .decline_offer(org, id, me.user.id, state.now())
        .await?
    {
        state.announce(org, seq, "offer_closed", id);
        super::assignment::tick(&state, state.now()).await?;
    }
    Ok(Redirect::to("/console").into_response())
}
