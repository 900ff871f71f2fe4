//! The customer's side of the chat, on the waiting page: send a message, and read what
//! followed a number (the polling fallback; the page's socket pushes the same lines).

use super::waiting::{session_for, show_with, PageInput};
use crate::app::chat::Author;
use crate::chat::SendForm;
use crate::chat::{json_answer, lines_after, send_form, After, ChatLine, Reader};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::accepts_json;
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
    let page = Page {
        state: &state,
        lang,
        csrf: &csrf,
        session: &session,
        capability: &capability,
    };
    answer(page, &headers, sent, ("body", Some(&form.value))).await
}

/// The customer's page a send answers for.
struct Page<'a> {
    state: &'a AppState,
    lang: domain::Language,
    csrf: &'a str,
    session: &'a store::support::SupportSession,
    capability: &'a str,
}

/// The answer to a send: the stored line for the page's script; else back to the page, or the
/// page again with why nothing was sent beside `field` (and the text kept).
async fn answer(
    page: Page<'_>,
    headers: &HeaderMap,
    sent: Result<ChatLine, String>,
    (field, typed): (&str, Option<&SendForm>),
) -> AppResult<Response> {
    if accepts_json(headers) {
        return Ok(json_answer(sent));
    }
    match sent {
        Ok(_) => {
            let to = format!("{}#chat", crate::paths::waiting(page.capability));
            Ok(Redirect::to(&to).into_response())
        }
        Err(error) => {
            let mut errors = FieldErrors::default();
            errors.add_message(field, error);
            let input = PageInput {
                chat: typed,
                outcome: Some(Outcome::invalid(errors)),
                ..PageInput::default()
            };
            let (state, session) = (page.state, page.session);
            show_with(state, page.lang, page.csrf, session, page.capability, input).await
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

/// A file sent from the chat: kept, and shown in the conversation as a download.
pub async fn upload(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    Path(capability): Path<String>,
    headers: HeaderMap,
    form: axum::extract::Multipart,
) -> AppResult<Response> {
    let session = session_for(&state, &capability).await?;
    let received = crate::files::receive(&state, &headers, form, session.org_id).await?;
    let reader = Reader::customer(&state, &session, lang).await;
    let author = Author::customer(&session);
    let sent = crate::files::send(&state, &session, author, received, &reader).await?;
    let page = Page {
        state: &state,
        lang,
        csrf: &csrf,
        session: &session,
        capability: &capability,
    };
    answer(page, &headers, sent, ("file", None)).await
}

/// A file of this conversation, for its customer.
pub async fn download(
    State(state): State<AppState>,
    Path((capability, file)): Path<(String, i64)>,
) -> AppResult<Response> {
    let session = session_for(&state, &capability).await?;
    let record = state
        .store
        .chat_file(session.org_id, Some(session.id), file)
        .await?;
    crate::files::download(&state, &record.ok_or(crate::error::AppError::NotFound)?).await
}
