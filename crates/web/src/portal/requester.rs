//! Who asks for help, for the limits on support requests: the client address, the browser (its
//! CSRF cookie, a random token every portal visitor holds), and the waiting page this browser
//! already has on each site (a cookie per site). A browser that is already waiting on a site is
//! sent back to that page instead of queueing twice; new requests are counted per address and
//! per browser. Keys a rep handed out are neither counted nor redirected: the rep asked for them.

use super::Arrival;
use crate::error::AppResult;
use crate::extract::ClientIp;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use domain::{Language, SiteId};
use std::convert::Infallible;
use std::net::IpAddr;

pub struct Requester {
    pub ip: IpAddr,
    jar: CookieJar,
    browser: Option<String>,
}

impl Requester {
    /// The browser's cookies (its sign-in on the site, among them).
    pub fn jar(&self) -> &CookieJar {
        &self.jar
    }
}

impl FromRequestParts<AppState> for Requester {
    type Rejection = Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        let jar = CookieJar::from_headers(&parts.headers);
        let browser = jar
            .get(crate::csrf::cookie_name(state.config.cookie_secure))
            .map(|c| c.value().to_owned());
        Ok(Requester { ip, jar, browser })
    }
}

/// What became of a request for help.
pub enum Queued {
    /// To the waiting page: the new session's, or the one this browser already had.
    Waiting(Response),
    /// Somebody used the key first.
    KeyTaken,
    /// Too many requests from this address or browser: the message says when to retry.
    Refused(String),
}

/// This site's waiting-page cookie: the capability of the session this browser waits in.
fn cookie_name(site: SiteId) -> String {
    format!("supportal_waiting_{site}")
}

/// The capability of the session the browser with `jar` still has on `site` (not ended), if
/// any: its waiting page to go back to.
pub async fn waiting_page_of(
    state: &AppState,
    jar: &CookieJar,
    site: SiteId,
) -> AppResult<Option<String>> {
    let Some(capability) = jar.get(&cookie_name(site)).map(|c| c.value()) else {
        return Ok(None);
    };
    let digest = domain::secret::token_digest(capability);
    let session = state.store.session_by_capability(&digest).await?;
    Ok(session
        .filter(|s| s.state != domain::session::Status::Ended)
        .filter(|s| s.site_id == Some(site.0))
        .map(|_| capability.to_owned()))
}

/// Queue the customer and send them to their waiting page. With `key`, the key is used in the
/// same transaction. Without, a browser already waiting on this site goes back to its page, and
/// the request counts against the address's and the browser's allowance.
pub async fn queue_customer(
    state: &AppState,
    arrival: &Arrival<'_>,
    key: Option<i64>,
    who: &Requester,
) -> AppResult<Queued> {
    // A site with an identity provider: a signed-in customer's name and mapped fields are the
    // provider's, whatever the form sent; one who has not signed in is turned away where the
    // site requires it (a rep's key may be let through).
    if let (Some(site), Some(sign_in)) = (arrival.site, arrival.sign_in) {
        let sso = sign_in.sso;
        match sign_in.identity {
            Some(verified) => {
                let (intake, differed) =
                    domain::portal_sign_in::vouched(arrival.intake, sso, &verified.attributes);
                if !differed.is_empty() {
                    tracing::warn!(site = %site, fields = ?differed, "a signed-in customer's form differed from the identity provider's values; the provider's were kept");
                }
                let attributes =
                    serde_json::to_string(&verified.attributes).map_err(anyhow::Error::from)?;
                let vouched = Arrival {
                    intake: &intake,
                    verified: Some((&verified.issuer, &attributes)),
                    ..*arrival
                };
                return queue_unchecked(state, &vouched, key, who).await;
            }
            None if sso.required && !(key.is_some() && sso.keys_without_sign_in) => {
                let message = state
                    .catalog
                    .text(arrival.lang, "sign_in.first", &[])
                    .unwrap_or_else(|| "Sign in first.".to_owned());
                return Ok(Queued::Refused(message));
            }
            None => {}
        }
    }
    queue_unchecked(state, arrival, key, who).await
}

/// `queue_customer` once the sign-in question is settled.
async fn queue_unchecked(
    state: &AppState,
    arrival: &Arrival<'_>,
    key: Option<i64>,
    who: &Requester,
) -> AppResult<Queued> {
    if let (None, Some(site)) = (key, arrival.site) {
        if let Some(capability) = waiting_page_of(state, &who.jar, site).await? {
            return Ok(Queued::Waiting(
                Redirect::to(&crate::paths::waiting(&capability)).into_response(),
            ));
        }
    }
    if key.is_none() {
        if let Err(secs) = state
            .request_limits
            .check(who.ip, who.browser.as_deref())
            .await
        {
            return Ok(Queued::Refused(too_many(state, arrival.lang, secs)));
        }
    }
    let Some(capability) = crate::app::sessions::queue_customer(state, arrival, key).await? else {
        return Ok(Queued::KeyTaken);
    };
    let redirect = Redirect::to(&crate::paths::waiting(&capability));
    let Some(site) = arrival.site else {
        return Ok(Queued::Waiting(redirect.into_response()));
    };
    let cookie = Cookie::build((cookie_name(site), capability))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .max_age(cookie::time::Duration::days(1))
        .build();
    Ok(Queued::Waiting(
        (CookieJar::new().add(cookie), redirect).into_response(),
    ))
}

fn too_many(state: &AppState, lang: Language, secs: u64) -> String {
    let minutes = secs.div_ceil(60).to_string();
    state
        .catalog
        .text(lang, "request.too_many", &[("minutes", minutes)])
        .unwrap_or_else(|| "Too many requests for help from here.".to_owned())
}
