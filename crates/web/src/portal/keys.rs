//! Keys typed by customers: a session key (straight to the rep who issued it, after showing
//! who that is), a presentation key, and the same on the global key page.

use super::requests::{render_home, render_request, RequestPage, Typed};
use super::{is_ios, queue_customer, translated, Arrival, Portal, Queued, Requester};
use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{AppError, AppResult};
use crate::extract::ClientIp;
use crate::forms::{FieldErrors, Outcome};
use crate::i18n::Lang;
use crate::paths;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::intake::{self, Questions};
use domain::routing::{route, Request};
use domain::session_key::{KeyError, KeyState, SessionKey};
use domain::{Language, SiteId};
use minijinja::context;
use std::net::IpAddr;
use store::keys::{KeyRecord, KeyTarget};

/// Why a typed key cannot be used, in the visitor's language, with the status to answer.
pub struct KeyRefusal {
    pub message: String,
    pub status: StatusCode,
    /// The key is unknown, used, expired or revoked (not mistyped, not rate limited): a page
    /// for one kind of key may say so in its own words.
    pub not_valid: bool,
}

/// The catalogue text of a key that is not (or no longer) valid.
const NOT_VALID: &str = "key.invalid";

impl KeyRefusal {
    /// The refusal with catalogue text `key` in `lang`.
    pub fn new(state: &AppState, lang: Language, key: &str, status: StatusCode) -> KeyRefusal {
        KeyRefusal {
            message: state
                .catalog
                .text(lang, key, &[])
                .unwrap_or_else(|| key.to_owned()),
            status,
            not_valid: key == NOT_VALID,
        }
    }

    /// The page re-shown with this message beside `field`.
    pub fn outcome(self, field: &str) -> Outcome {
        let mut errors = FieldErrors::default();
        errors.add_message(field, self.message);
        Outcome {
            errors,
            notice: None,
            status: self.status,
        }
    }
}

/// Look up a key typed on `portal`'s pages (None: the global key page), counted against the
/// address's key attempts and, when wrong, against the portal's ceiling of wrong keys. Ok only
/// when it can be used now.
pub async fn live_key(
    state: &AppState,
    ip: IpAddr,
    portal: Option<domain::OrgId>,
    lang: Language,
    raw: &str,
) -> AppResult<Result<KeyRecord, KeyRefusal>> {
    let refuse = |key: &str, args: &[(&str, String)], status| {
        Ok(Err(KeyRefusal {
            message: state
                .catalog
                .text(lang, key, args)
                .unwrap_or_else(|| key.into()),
            status,
            not_valid: key == NOT_VALID,
        }))
    };
    if let Err(secs) = state.key_limiter.check(&ip).await {
        return refuse(
            "key.too_many",
            &[("seconds", secs.to_string())],
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let key = match SessionKey::parse(raw) {
        Ok(key) => key,
        Err(KeyError::Empty) => return refuse("key.empty", &[], StatusCode::UNPROCESSABLE_ENTITY),
        Err(KeyError::Malformed) => {
            return refuse("key.malformed", &[], StatusCode::UNPROCESSABLE_ENTITY)
        }
    };
    let ceiling = &state.key_ceiling;
    let bucket = portal.map_or_else(|| "global".to_owned(), |org| format!("org:{org}"));
    let attempt = match ceiling.begin(&bucket).await {
        Ok(attempt) => attempt,
        Err(secs) => {
            let minutes = secs.div_ceil(60).to_string();
            let status = StatusCode::TOO_MANY_REQUESTS;
            return refuse("key.portal_busy", &[("minutes", minutes)], status);
        }
    };
    // Unknown, expired, used or revoked: the customer hears the same, so a guess learns
    // nothing about which keys exist (the rep's own list shows each key's state).
    match state.store.find_key(&key).await {
        Ok(Some(record)) if record.state(state.now()) == KeyState::Live => {
            ceiling.not_a_guess(attempt).await;
            Ok(Ok(record))
        }
        Ok(_) => {
            ceiling.wrong(attempt);
            refuse("key.invalid", &[], StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(err) => {
            ceiling.not_a_guess(attempt).await;
            Err(err.into())
        }
    }
}

/// The portal a key's customer continues on: this one for its own organization's keys, else
/// the key's site (or its organization's first), as the global key page would.
pub async fn portal_for_key(
    state: &AppState,
    record: &KeyRecord,
    current: Option<Portal>,
    lang: Language,
) -> AppResult<Portal> {
    if let Some(portal) = current.filter(|p| p.site.org_id == record.org_id) {
        return Ok(portal);
    }
    Portal::of_site(state, record.org_id, record.site_id.map(SiteId), lang).await
}

fn confirm_page<'a>(
    portal: &Portal,
    record: &KeyRecord,
    typed: &'a Typed,
    outcome: Outcome,
) -> RequestPage<'a> {
    RequestPage {
        mode: "key",
        action: paths::portal(&portal.site.slug, "key/confirm"),
        rep: Some(
            context! { name => &record.rep_name, title => &record.rep_title, org_name => &record.org_name },
        ),
        questions: Questions::NAME_ONLY,
        hidden: vec![("key", record.key_value.clone())],
        typed,
        outcome,
    }
}

/// Where a usable key leads: the confirmation (support), the lobby (presentation).
pub async fn follow_key(
    state: &AppState,
    record: KeyRecord,
    current: Option<Portal>,
    lang: Language,
    csrf: &str,
) -> AppResult<Result<Response, KeyRefusal>> {
    match record.target() {
        KeyTarget::Support => {
            let portal = match portal_for_key(state, &record, current, lang).await {
                Ok(portal) => portal,
                // An organization with no site yet: a neutral page with its name.
                Err(AppError::NotFound) => {
                    let page = (&Typed::new(), Outcome::fresh());
                    return Ok(Ok(super::global::confirm_page(
                        state, &record, lang, csrf, page,
                    )?));
                }
                Err(other) => return Err(other),
            };
            Ok(Ok(render_request(
                state,
                &portal,
                csrf,
                confirm_page(&portal, &record, &Typed::new(), Outcome::fresh()),
            )
            .await?))
        }
        KeyTarget::Presentation(_) => Ok(Ok(
            Redirect::to(&paths::presentation(&record.key_value)).into_response()
        )),
        KeyTarget::Profile(_) => Ok(Err(KeyRefusal::new(
            state,
            lang,
            "key.profile_key",
            StatusCode::UNPROCESSABLE_ENTITY,
        ))),
    }
}

/// A session key typed on a site's home page.
pub async fn enter(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(slug): Path<String>,
    form: CsrfForm<Typed>,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let raw = form.value.get("key").cloned().unwrap_or_default();
    let refusal = match live_key(&state, ip, Some(portal.site.org_id), lang, &raw).await? {
        Ok(record) => match follow_key(&state, record, Some(portal), lang, &csrf).await? {
            Ok(response) => return Ok(response),
            Err(refusal) => {
                let portal = Portal::load(&state, &slug, lang).await?;
                return render_home(
                    &state,
                    &portal,
                    &csrf,
                    is_ios(&headers),
                    &form.value,
                    refusal.outcome("key"),
                )
                .await;
            }
        },
        Err(refusal) => refusal,
    };
    render_home(
        &state,
        &portal,
        &csrf,
        is_ios(&headers),
        &form.value,
        refusal.outcome("key"),
    )
    .await
}

/// The customer confirms the rep the key named, with their name (and the site's fields).
pub async fn confirm(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    headers: HeaderMap,
    Path(slug): Path<String>,
    who: Requester,
    form: CsrfForm<Typed>,
) -> AppResult<Response> {
    // Signed in: a page shown again (a mistake in the form) shows the identity, read-only.
    let portal = Portal::load(&state, &slug, lang)
        .await?
        .with_sign_in(&state, who.jar())
        .await?;
    let raw = form.value.get("key").cloned().unwrap_or_default();
    let record = match live_key(&state, who.ip, Some(portal.site.org_id), lang, &raw).await? {
        Ok(record) if record.target() == KeyTarget::Support => record,
        Ok(_) => return Err(AppError::NotFound),
        Err(refusal) => {
            return render_home(
                &state,
                &portal,
                &csrf,
                is_ios(&headers),
                &form.value,
                refusal.outcome("key"),
            )
            .await
        }
    };
    let portal = portal_for_key(&state, &record, Some(portal), lang).await?;
    let typed: domain::intake::Answers = form
        .pairs
        .iter()
        .filter(|(k, _)| k != "csrf" && k != "key")
        .cloned()
        .collect();
    let intake = match intake::parse(&typed, Questions::NAME_ONLY, &portal.fields) {
        Ok(intake) => intake,
        Err(errors) => {
            let outcome = Outcome::invalid(translated(&state.catalog, lang, &errors));
            return render_request(
                &state,
                &portal,
                &csrf,
                confirm_page(&portal, &record, &form.value, outcome),
            )
            .await;
        }
    };
    let routed = route(&Request::SessionKey {
        rep: record.user_id,
        rep_name: &record.rep_name,
    });
    let arrival = Arrival {
        org: record.org_id,
        site: Some(portal.site.id),
        routed: &routed,
        intake: &intake,
        issue_type: None,
        lang,
        verified: None,
        sign_in: portal.sign_in(),
    };
    match queue_customer(&state, &arrival, Some(record.id), &who).await? {
        Queued::Waiting(response) => Ok(response),
        refused => {
            let refusal = match refused {
                // A key is never counted against the request limits: this is the site's
                // sign-in, which the customer must hear about, not "invalid key".
                Queued::Refused(message) => KeyRefusal {
                    message,
                    status: StatusCode::FORBIDDEN,
                    not_valid: false,
                },
                _ => KeyRefusal::new(&state, lang, "key.invalid", StatusCode::CONFLICT),
            };
            render_home(
                &state,
                &portal,
                &csrf,
                is_ios(&headers),
                &form.value,
                refusal.outcome("key"),
            )
            .await
        }
    }
}

/// A presentation key typed on a site's home page.
pub async fn presentation(
    State(state): State<AppState>,
    Lang(lang): Lang,
    CsrfToken(csrf): CsrfToken,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(slug): Path<String>,
    form: CsrfForm<Typed>,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    if !portal.offers(domain::site::Method::Presentation) {
        return Err(AppError::NotFound);
    }
    let raw = form
        .value
        .get("presentation_key")
        .cloned()
        .unwrap_or_default();
    let refusal = match live_key(&state, ip, Some(portal.site.org_id), lang, &raw).await? {
        Ok(record) if matches!(record.target(), KeyTarget::Presentation(_)) => {
            return Ok(Redirect::to(&paths::presentation(&record.key_value)).into_response());
        }
        Ok(_) => KeyRefusal::new(
            &state,
            lang,
            "key.not_presentation",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(refusal) => refusal,
    };
    render_home(
        &state,
        &portal,
        &csrf,
        is_ios(&headers),
        &form.value,
        refusal.outcome("presentation_key"),
    )
    .await
}
