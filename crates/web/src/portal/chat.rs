//! The customer's side of the chat, on the waiting page: send a message, and read what
//! followed a number (the polling fallback; the page's socket pushes the same lines).

use super::waiting::{session_for, show_with};
use crate::chat::{json_answer, lines_after, send_form, wants_json, After, ChatLine, SendForm};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::AppResult;
use crate::forms::{FieldErrors, Outcome};
use crate::i18n::Lang;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use store::chat::Sender;

pub async fn send(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    Path(capability): Path<String>,
    headers: HeaderMap,
    form: CsrfForm<SendForm>,
) -> AppResult<Response> {
    let session = session_for(&state, &capability).await?;
    let customer = (Sender::Customer, session.customer_name.as_str());
    let sent = send_form(&state, &session, customer, &form.value, lang).await?;
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
            let outcome = Outcome::invalid(errors);
            show_with(
                &state,
                lang,
                &csrf,
                &session,
                &capability,
                &form.value,
                outcome,
            )
            .await
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
    let lines = lines_after(&state, session.org_id, session.id, after.after, lang).await?;
    Ok(Json(lines))
}
