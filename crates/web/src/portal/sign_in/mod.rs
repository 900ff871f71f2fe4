//! Portal sign-in: a site whose admin set an identity provider has its customers sign in there,
//! with OpenID Connect (`oidc`) or SAML 2.0 (`saml`). The identity that comes back is kept
//! under a cookie of this site; its attributes fill the request's name and mapped fields
//! (`requester::queue_customer` enforces that, whatever a form sends) and the rep sees the
//! customer as verified. What both protocols share is here: the login that waits for the
//! provider (tied to the browser that started it), the identity, the pages, sign-out.

mod oidc;
pub mod saml;

pub use oidc::callback;

use super::Portal;
use crate::csrf::{CsrfForm, NoFields};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use domain::portal_sign_in::{Attributes, Provider, SsoSettings};
use domain::{Language, SiteId};
use minijinja::context;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a sign-in lasts on the portal.
const IDENTITY_HOURS: i64 = 8;
/// How long a login may take at the provider.
const LOGIN_MINUTES: i64 = 10;

/// The cookie that carries this browser's sign-in on `site`.
fn cookie_name(site: SiteId) -> String {
    format!("supportal_signed_in_{site}")
}

/// A customer the site's provider vouched for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verified {
    pub issuer: String,
    pub attributes: Attributes,
}

impl Verified {
    /// The name the provider gave, as the site maps it.
    pub fn name(&self, sso: &SsoSettings) -> Option<&str> {
        let attribute = sso.attribute_for("name")?;
        self.attributes.get(attribute).map(String::as_str)
    }
}

/// The customer this browser signed in as on `site`, if it did and it still lasts.
pub async fn identity_in(
    state: &AppState,
    jar: &CookieJar,
    site: SiteId,
) -> AppResult<Option<Verified>> {
    let Some(token) = jar.get(&cookie_name(site)) else {
        return Ok(None);
    };
    let digest = domain::secret::token_digest(token.value());
    let stored = state
        .store
        .portal_identity(&digest, site, state.now())
        .await?;
    Ok(stored.map(|identity| Verified {
        issuer: identity.issuer,
        attributes: serde_json::from_str(&identity.attributes).unwrap_or_default(),
    }))
}

/// The client that reads providers' documents and keys.
fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            // Following redirects would let a provider's answer lead the server elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default()
    })
}

/// How long a provider's document (OIDC discovery and keys, SAML metadata) is trusted before
/// it is read again.
const DOCUMENT_TTL: Duration = Duration::from_secs(3600);

/// Providers' documents as last read, per address.
struct Documents<T> {
    kept: Mutex<Option<HashMap<String, (T, Instant)>>>,
}

impl<T: Clone> Documents<T> {
    const fn new() -> Self {
        Documents {
            kept: Mutex::new(None),
        }
    }

    /// The document at `address`: as kept while it is fresh, else read by `read` (and kept).
    /// `fresh` reads it now whatever is kept.
    async fn get(
        &self,
        address: &str,
        fresh: bool,
        read: impl std::future::Future<Output = Result<T, String>>,
    ) -> Result<T, String> {
        if !fresh {
            let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
            let found = kept.as_ref().and_then(|k| k.get(address));
            if let Some((document, _)) = found.filter(|(_, at)| at.elapsed() < DOCUMENT_TTL) {
                return Ok(document.clone());
            }
        }
        let document = read.await?;
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let kept = kept.get_or_insert_with(HashMap::new);
        kept.insert(address.to_owned(), (document.clone(), Instant::now()));
        Ok(document)
    }
}

/// The site's provider settings, or not found when it has none.
fn sso_of(portal: &Portal) -> AppResult<SsoSettings> {
    portal.site.settings.sso.clone().ok_or(AppError::NotFound)
}

/// The "Portal sign-in" page: a site that requires sign-in shows it first.
pub fn sign_in_page(
    state: &AppState,
    portal: &Portal,
    csrf: &str,
    next: &str,
) -> AppResult<Response> {
    let keys = portal
        .site
        .settings
        .sso
        .as_ref()
        .is_some_and(|s| s.keys_without_sign_in);
    let ctx = context! { next, keys_without_sign_in => keys, ..portal.context(csrf, false) };
    let html = state.templates.page("portal/sign_in.html", ctx)?;
    Ok(html.into_response())
}

#[derive(Deserialize, Default)]
pub struct Next {
    #[serde(default)]
    next: Option<String>,
}

/// Only a path of this site may be where a sign-in returns to.
fn return_path(slug: &str, next: Option<&str>) -> String {
    let home = format!("/p/{slug}");
    // A local path by the rule every "next" follows, and one of this site's.
    crate::paths::safe_next(next)
        .filter(|path| *path == home || path.starts_with(&format!("{home}/")))
        .filter(|path| !path.contains("//"))
        .map_or_else(|| home.clone(), str::to_owned)
}

/// The cookie that ties a login's state to the browser that started it (so that nobody can
/// have someone else finish a login they started).
const LOGIN_COOKIE: &str = "supportal_sso_login";

/// Off to the provider. A link, not a form: the page's policy lets forms post only to this
/// instance, and a form's redirect to the provider would count as posting there.
pub async fn start(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(slug): Path<String>,
    Query(next): Query<Next>,
    jar: CookieJar,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let sso = sso_of(&portal)?;
    let next = return_path(&slug, next.next.as_deref());
    let away = match &sso.provider {
        Provider::Oidc { .. } => oidc::start(&state, &portal, &sso, &next).await,
        Provider::Saml { .. } => saml::start(&state, &portal, &sso, &next).await,
    };
    match away {
        Ok(Away { url, login_state }) => {
            let cookie = crate::cookies::private(
                (LOGIN_COOKIE, login_state),
                "/p/",
                cookie::time::Duration::minutes(LOGIN_MINUTES),
                state.config.cookie_secure,
            );
            Ok((jar.add(cookie), Redirect::to(&url)).into_response())
        }
        Err(Refusal::Unavailable(why)) => refused(&state, lang, &slug, "sign_in.unavailable", &why),
        Err(Refusal::Failed(why)) => refused(&state, lang, &slug, "sign_in.failed", &why),
        Err(Refusal::App(e)) => Err(e),
    }
}

/// Where a login goes at the provider, and its state (kept in the browser's login cookie).
struct Away {
    url: String,
    login_state: String,
}

/// Why a login did not go on: the provider cannot be reached, or what it said was refused.
/// The text is for the log only.
enum Refusal {
    Unavailable(String),
    Failed(String),
    App(AppError),
}

impl From<AppError> for Refusal {
    fn from(e: AppError) -> Self {
        Refusal::App(e)
    }
}

impl From<store::StoreError> for Refusal {
    fn from(e: store::StoreError) -> Self {
        Refusal::App(e.into())
    }
}

/// Keep a login for the provider's answer (good for `LOGIN_MINUTES`, once): `login_state` is
/// what comes back with the answer, `nonce` what the answer must name (the OIDC nonce, the
/// SAML request's id).
async fn remember_login(
    state: &AppState,
    site: SiteId,
    login_state: &str,
    (nonce, verifier): (&str, &str),
    next: &str,
) -> Result<(), Refusal> {
    let digest = domain::secret::token_digest(login_state);
    let expires = state.now().plus_seconds(LOGIN_MINUTES * 60);
    let login = (nonce, verifier, Some(next));
    state
        .store
        .start_sso_login(&digest, site, login, expires)
        .await?;
    Ok(())
}

/// The login `login_state` names, taken (it is good once) with the browser's login cookie
/// removed: when this browser started it, for this site, and it has not expired. Else why not,
/// for the log.
async fn taken_here(
    state: &AppState,
    jar: CookieJar,
    portal: &Portal,
    login_state: &str,
) -> AppResult<Result<(CookieJar, store::portal_sign_in::PendingLogin), &'static str>> {
    if jar.get(LOGIN_COOKIE).map(|c| c.value()) != Some(login_state) {
        return Ok(Err("login not started in this browser"));
    }
    let jar = jar.remove(Cookie::build(LOGIN_COOKIE).path("/p/"));
    let digest = domain::secret::token_digest(login_state);
    let taken = state.store.take_sso_login(&digest, state.now()).await?;
    Ok(match taken.filter(|p| p.site_id == portal.site.id.0) {
        Some(login) => Ok((jar, login)),
        None => Err("unknown, used or expired login"),
    })
}

/// The customer is signed in: the identity kept under this site's cookie, back to `next`.
async fn signed_in(
    state: &AppState,
    jar: CookieJar,
    (portal, slug): (&Portal, &str),
    (subject, verified): (&str, &Verified),
    next: Option<&str>,
) -> AppResult<Response> {
    let token = domain::secret::random_token(&mut rand::rngs::OsRng);
    let attributes = serde_json::to_string(&verified.attributes).map_err(AppError::internal)?;
    let identity = store::portal_sign_in::NewIdentity {
        token_digest: &domain::secret::token_digest(&token),
        site: portal.site.id,
        issuer: &verified.issuer,
        subject,
        attributes: &attributes,
        expires: state.now().plus_seconds(IDENTITY_HOURS * 3600),
    };
    state
        .store
        .save_portal_identity(&identity, state.now())
        .await?;
    tracing::info!(site = %slug, issuer = %verified.issuer, "a customer signed in at the portal");
    let cookie = crate::cookies::private(
        (cookie_name(portal.site.id), token),
        "/",
        cookie::time::Duration::hours(IDENTITY_HOURS),
        state.config.cookie_secure,
    );
    let next = return_path(slug, next);
    Ok((jar.add(cookie), Redirect::to(&next)).into_response())
}

/// Sign out of the portal: the identity is forgotten here (the provider's own session stays).
pub async fn sign_out(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(slug): Path<String>,
    jar: CookieJar,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let name = cookie_name(portal.site.id);
    if let Some(token) = jar.get(&name) {
        let digest = domain::secret::token_digest(token.value());
        state.store.forget_portal_identity(&digest).await?;
    }
    let jar = jar.remove(Cookie::build(name).path("/"));
    Ok((jar, Redirect::to(&format!("/p/{slug}"))).into_response())
}

/// A sign-in that did not work: a page in the customer's language with a way back; the
/// reason goes to the log (never a code, a token, an assertion or a secret).
fn refused(
    state: &AppState,
    lang: Language,
    slug: &str,
    key: &str,
    why: &str,
) -> AppResult<Response> {
    tracing::warn!(site = %slug, reason = %why, "portal sign-in refused");
    let message = state
        .catalog
        .text(lang, key, &[])
        .unwrap_or_else(|| key.to_owned());
    let languages = crate::i18n::languages();
    let back = format!("/p/{slug}");
    let ctx = context! { lang => lang.code(), languages, message, back };
    let html = state.templates.page("portal/sign_in_refused.html", ctx)?;
    Ok((StatusCode::FORBIDDEN, html).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_returns_only_to_a_path_of_its_site() {
        assert_eq!(
            return_path("help", Some("/p/help/form/2")),
            "/p/help/form/2"
        );
        assert_eq!(return_path("help", Some("/p/other")), "/p/help");
        assert_eq!(
            return_path("help", Some("https://evil.example/p/help")),
            "/p/help"
        );
        assert_eq!(
            return_path("help", Some("/p/help//evil.example")),
            "/p/help"
        );
        assert_eq!(return_path("help", Some("/p/helpdesk")), "/p/help");
        assert_eq!(return_path("help", None), "/p/help");
        assert_eq!(return_path("help", Some("/p/help/\\evil")), "/p/help");
    }
}
