//! The customer's side of the chat, on the waiting page: send a message, and read what
//! followed a number (the polling fallback; the page's socket pushes the same lines).

use super::waiting::{session_for, show_with, PageInput};
use crate::app::chat::Author;
use crate::chat::SendForm;
use crate::chat::{json_answer, lines_after, send_form, wants_json, After, ChatLine, Reader};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::AppResult;
use crate::forms::{FieldErrors, Outcome};
use crate::i18n::Lang;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

pub async fn send(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    Path(capability): Path<String>,
    headers: HeaderMap,
    form: CsrfForm<SendForm>,
) -> AppResult<Response> {
    let session = session_for(&state, &capability).await?;
    let reader = Reader::customer(&state, &session, lang).await;
    let author = Author::customer(&session);
    let sent = send_form(&state, &session, author, &form.value, &reader).await?;
    if wants_json(&headers) {
        return Ok(json_answer(sent));
    }
    match sent {
        Ok(_) => {
            let page = format!("{}#chat", crate::paths::waiting(&capability));
            Ok(Redirect::to(&page).into_response())
        }
        Err(error) => {
            let mut errors = FieldErrors::default();
            errors.add_message("body", error);
            let input = PageInput {
                chat: Some(&form.value),
                outcome: Some(Outcome::invalid(errors)),
                ..PageInput::default()
            };
            show_with(&state, lang, &csrf, &session, &capability, input).await
        }
    }
}

/// The lines after `after` (the script's fallback while its socket is down).
pub async fn read(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(capability): Path<String>,
    Query(after): Query<After>,
) -> AppResult<Json<Vec<ChatLine>>> {
    let session = session_for(&state, &capability).await?;
    let reader = Reader::customer(&state, &session, lang).await;
    let lines = lines_after(&state, session.org_id, session.id, after.after, &reader).await?;
    Ok(Json(lines))
}

/// The conversation as a plain-text download.
pub async fn transcript(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(capability): Path<String>,
) -> AppResult<Response> {
    let session = session_for(&state, &capability).await?;
    let reader = Reader::customer(&state, &session, lang).await;
    let text = crate::chat::transcript(&state, &session, &reader).await?;
    Ok(crate::chat::transcript_download(session.id, text))
}

#[derive(Deserialize, Serialize, Default)]
pub struct SurveyForm {
    #[serde(default)]
    pub rating: String,
    #[serde(default)]
    pub comment: String,
}

/// The exit survey: a rating and a comment, once, after the session ended.
pub async fn survey(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    Path(capability): Path<String>,
    form: CsrfForm<SurveyForm>,
) -> AppResult<Response> {
    let session = session_for(&state, &capability).await?;
    let f = &form.value;
    let mut errors = FieldErrors::default();
    let rating = domain::chat::parse_rating(&f.rating)
        .map_err(|err| errors.add_message("rating", super::error_text(&state.catalog, lang, err)))
        .ok();
    let comment = domain::chat::parse_comment(&f.comment)
        .map_err(|err| errors.add_message("comment", super::error_text(&state.catalog, lang, err)))
        .ok();
    if let (Some(rating), Some(comment)) = (rating, comment) {
        let (org, id, now) = (session.org_id, session.id, state.now());
        state
            .store
            .save_survey(org, id, rating, comment.as_deref(), now)
            .await?;
        return Ok(Redirect::to(&crate::paths::waiting(&capability)).into_response());
    }
    let input = PageInput {
        survey: Some(f),
        outcome: Some(Outcome::invalid(errors)),
        ..PageInput::default()
    };
    show_with(&state, lang, &csrf, &session, &capability, input).await
}
