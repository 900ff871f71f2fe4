//! `/` and `/join`: enter a key from any organization. A hostname bound to a site shows that
//! site's portal at `/` instead.

use super::keys::{follow_key, live_key, KeyRefusal};
use super::requests::{render_home, Typed};
use super::{is_ios, queue_customer, translated, Arrival, Portal, Queued, Requester};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{AppError, AppResult};
use crate::extract::ClientIp;
use crate::forms::Outcome;
use crate::i18n::Lang;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use domain::intake::{self, Questions};
use domain::routing::{route, Request};
use domain::session_key::SessionKey;
use domain::Language;
use minijinja::context;
use store::keys::{KeyRecord, KeyTarget};

fn render_global(
    state: &AppState,
    lang: Language,
    csrf: &str,
    typed: &Typed,
    outcome: Outcome,
) -> AppResult<Response> {
    let languages = crate::i18n::languages();
    let ctx =
        context! { lang => lang.code(), languages, csrf, form => typed, errors => &outcome.errors };
    Ok(outcome.respond(state.templates.page("portal/global.html", ctx)?))
}

/// The request's hostname, without port.
fn request_host(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let name = host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            name
        } else {
            host
        }
    });
    Some(name.to_ascii_lowercase())
}

pub async fn root(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    headers: HeaderMap,
) -> AppResult<Response> {
    if let Some(host) = request_host(&headers) {
        if let Some(site) = state.store.site_by_hostname(&host).await? {
            let portal = Portal::of(&state, &site, lang).await?;
            return render_home(
                &state,
                &portal,
                &csrf,
                is_ios(&headers),
                &Typed::new(),
                Outcome::fresh(),
            )
            .await;
        }
    }
    render_global(&state, lang, &csrf, &Typed::new(), Outcome::fresh())
}

pub async fn join_page(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    render_global(&state, lang, &csrf, &Typed::new(), Outcome::fresh())
}

pub async fn enter(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    ClientIp(ip): ClientIp,
    form: CsrfForm<Typed>,
) -> AppResult<Response> {
    let raw = form.value.get("key").cloned().unwrap_or_default();
    let refusal = match live_key(&state, ip, None, lang, &raw).await? {
        Ok(record) => match follow_key(&state, record, None, lang, &csrf).await? {
            Ok(response) => return Ok(response),
            Err(refusal) => refusal,
        },
        Err(refusal) => refusal,
    };
    render_global(&state, lang, &csrf, &form.value, refusal.outcome("key"))
}

/// A join link a rep sent: `/join/123456789`.
pub async fn join_link(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    ClientIp(ip): ClientIp,
    Path(key): Path<String>,
) -> AppResult<Response> {
    SessionKey::parse(&key).map_err(|_| AppError::NotFound)?;
    let typed = Typed::from([("key".to_owned(), key.clone())]);
    let refusal = match live_key(&state, ip, None, lang, &key).await? {
        Ok(record) => match follow_key(&state, record, None, lang, &csrf).await? {
            Ok(response) => return Ok(response),
            Err(refusal) => refusal,
        },
        Err(refusal) => refusal,
    };
    render_global(&state, lang, &csrf, &typed, refusal.outcome("key"))
}

/// The confirmation of a key whose organization has no site yet: who issued it, the name
/// asked, nothing of any site's look.
pub fn confirm_page(
    state: &AppState,
    record: &KeyRecord,
    lang: Language,
    csrf: &str,
    (typed, outcome): (&Typed, Outcome),
) -> AppResult<Response> {
    let languages = crate::i18n::languages();
    let rep = context! { name => &record.rep_name, title => &record.rep_title, org_name => &record.org_name };
    let ctx = context! {
        lang => lang.code(), languages, csrf, rep, key => &record.key_value,
        form => typed, errors => &outcome.errors,
    };
    Ok(outcome.respond(state.templates.page("portal/global_confirm.html", ctx)?))
}

/// The customer confirms such a key with their name: they wait in the rep's queue, with no
/// site (the waiting page is neutral too).
pub async fn confirm(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    who: Requester,
    form: CsrfForm<Typed>,
) -> AppResult<Response> {
    let raw = form.value.get("key").cloned().unwrap_or_default();
    let record = match live_key(&state, who.ip, None, lang, &raw).await? {
        Ok(record) if record.target() == KeyTarget::Support => record,
        Ok(_) => return Err(AppError::NotFound),
        Err(refusal) => {
            return render_global(&state, lang, &csrf, &form.value, refusal.outcome("key"))
        }
    };
    let typed: intake::Answers = form
        .pairs
        .iter()
        .filter(|(k, _)| k != "csrf" && k != "key")
        .cloned()
        .collect();
    let intake = match intake::parse(&typed, Questions::NAME_ONLY, &[]) {
        Ok(intake) => intake,
        Err(errors) => {
            let errors = translated(&state.catalog, lang, &errors);
            let page = (&form.value, Outcome::invalid(errors));
            return confirm_page(&state, &record, lang, &csrf, page);
        }
    };
    let routed = route(&Request::SessionKey {
        rep: record.user_id,
        rep_name: &record.rep_name,
    });
    let arrival = Arrival {
        org: record.org_id,
        site: None,
        routed: &routed,
        intake: &intake,
        issue_type: None,
        lang,
        verified: None,
        sign_in: None,
    };
    match queue_customer(&state, &arrival, Some(record.id), &who).await? {
        Queued::Waiting(response) => Ok(response),
        _ => {
            let refusal = KeyRefusal::new(
                &state,
                lang,
                "key.invalid",
                axum::http::StatusCode::CONFLICT,
            );
            render_global(&state, lang, &csrf, &form.value, refusal.outcome("key"))
        }
    }
}
