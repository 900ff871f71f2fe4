//! Sign-in at an identity provider, with OpenID Connect (`oidc`) or SAML 2.0 (`saml`), for a
//! site's customers (`portal::sign_in`) or an organization's staff (`staff_sso`): the same
//! machinery, a different relying party. What both protocols share is here: the login that
//! waits for the provider's answer (a database row, tied to the browser that started it by a
//! cookie), the cache of providers' documents, and the answer as the caller gets it: who the
//! provider vouched for.

pub mod oidc;
pub mod saml;

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use domain::portal_sign_in::{Attributes, Provider};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use store::portal_sign_in::{LoginFor, PendingLogin};

/// How long a login may take at the provider.
pub const LOGIN_MINUTES: i64 = 10;

/// The cookie that ties a login's state to the browser that started it (so that nobody can
/// have someone else finish a login they started).
const LOGIN_COOKIE: &str = "supportal_sso_login";

/// Someone the provider vouched for: who it is (issuer) and what it says of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Verified {
    pub issuer: String,
    pub attributes: Attributes,
}

impl Verified {
    /// The name the provider gave, as the site maps it.
    pub fn name(&self, sso: &domain::portal_sign_in::SsoSettings) -> Option<&str> {
        let attribute = sso.attribute_for("name")?;
        self.attributes.get(attribute).map(String::as_str)
    }
}

/// What the provider answered for a login: its subject (the provider's id of the person) and
/// what it vouched for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vouched {
    pub subject: String,
    pub verified: Verified,
}

/// What an OIDC provider sends back to the callback.
#[derive(Deserialize)]
pub struct Answer {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

/// The link on which a browser collects a checked SAML answer.
#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    pub state: String,
}

/// Whose sign-in this is, and its addresses: a site's portal (`/p/{site}/sign-in/…`,
/// `/p/{site}/saml/…`) or an organization's staff (`/login/sso/{org}/…`).
pub struct Relying {
    pub whom: LoginFor,
    /// The path under which the callback and `done` are (relative to the instance).
    sign_in_path: String,
    /// The path under which the SAML metadata and assertion consumer are.
    saml_path: String,
    /// Where the login cookie is sent.
    cookie_path: &'static str,
    public_url: String,
}

impl Relying {
    pub fn site(state: &AppState, site: domain::SiteId, slug: &str) -> Relying {
        Relying {
            whom: LoginFor::Site(site),
            sign_in_path: format!("/p/{slug}/sign-in"),
            saml_path: format!("/p/{slug}/saml"),
            cookie_path: "/p/",
            public_url: state.config.public_url.clone(),
        }
    }

    pub fn staff(state: &AppState, org: domain::OrgId, slug: &str) -> Relying {
        Relying {
            whom: LoginFor::Staff(org),
            sign_in_path: format!("/login/sso/{slug}"),
            saml_path: format!("/login/sso/{slug}/saml"),
            cookie_path: "/login/sso/",
            public_url: state.config.public_url.clone(),
        }
    }

    /// The OIDC redirect address registered at the provider.
    pub fn callback_url(&self) -> String {
        format!("{}{}/callback", self.public_url, self.sign_in_path)
    }

    /// The SAML service provider's metadata address (its default entity id).
    pub fn sp_metadata_url(&self) -> String {
        format!("{}{}/metadata", self.public_url, self.saml_path)
    }

    /// The SAML assertion consumer's address.
    pub fn acs_url(&self) -> String {
        format!("{}{}/acs", self.public_url, self.saml_path)
    }

    /// Where the browser collects a checked SAML answer.
    fn done_path(&self, login_state: &str) -> String {
        format!("{}/done?state={login_state}", self.sign_in_path)
    }
}

/// Why a login did not go on. The text is for the log only (never a code, a token, an
/// assertion or a secret); the kind chooses what the person reads.
pub enum Refusal {
    /// The provider cannot be reached.
    Unavailable(String),
    /// What it said was refused, or it said no.
    Failed(String),
    /// The login is unknown, used, expired or another browser's.
    Expired(String),
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

/// Where a login goes at the provider, and its state (kept in the browser's login cookie).
pub(crate) struct Away {
    url: String,
    login_state: String,
}

/// Off to the provider: the login kept for its answer, this browser's login cookie set.
pub async fn go(
    state: &AppState,
    jar: CookieJar,
    relying: &Relying,
    provider: &Provider,
    next: &str,
) -> Result<Response, Refusal> {
    let away = match provider {
        Provider::Oidc { .. } => oidc::start(state, relying, provider, next).await?,
        Provider::Saml { .. } => saml::start(state, relying, provider, next).await?,
    };
    let cookie = crate::cookies::private(
        (LOGIN_COOKIE, away.login_state),
        relying.cookie_path,
        cookie::time::Duration::minutes(LOGIN_MINUTES),
        state.config.cookie_secure,
    );
    Ok((jar.add(cookie), Redirect::to(&away.url)).into_response())
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

/// Keep a login for the provider's answer (good for `LOGIN_MINUTES`, once): `login_state` is
/// what comes back with the answer, `nonce` what the answer must name (the OIDC nonce, the
/// SAML request's id).
async fn remember_login(
    state: &AppState,
    relying: &Relying,
    login_state: &str,
    (nonce, verifier): (&str, &str),
    next: &str,
) -> Result<(), Refusal> {
    let digest = domain::secret::token_digest(login_state);
    let expires = state.now().plus_seconds(LOGIN_MINUTES * 60);
    let login = (nonce, verifier, Some(next));
    state
        .store
        .start_sso_login(&digest, relying.whom, login, expires)
        .await?;
    Ok(())
}

/// The login `login_state` names, taken (it is good once) with the browser's login cookie
/// removed: when this browser started it, for this relying party, and it has not expired.
pub async fn taken_here(
    state: &AppState,
    jar: CookieJar,
    relying: &Relying,
    login_state: &str,
) -> Result<(CookieJar, PendingLogin), Refusal> {
    if jar.get(LOGIN_COOKIE).map(|c| c.value()) != Some(login_state) {
        return Err(Refusal::Expired("login not started in this browser".into()));
    }
    let jar = jar.remove(Cookie::build(LOGIN_COOKIE).path(relying.cookie_path));
    let digest = domain::secret::token_digest(login_state);
    let taken = state.store.take_sso_login(&digest, state.now()).await?;
    match taken.filter(|p| p.is_for(relying.whom)) {
        Some(login) => Ok((jar, login)),
        None => Err(Refusal::Expired("unknown, used or expired login".into())),
    }
}

/// Back from an OIDC provider (`code` and `login_state` from the callback's query): the login
/// taken, the code exchanged, the ID token checked.
pub async fn oidc_answer(
    state: &AppState,
    jar: CookieJar,
    relying: &Relying,
    provider: &Provider,
    (code, login_state): (String, &str),
) -> Result<(CookieJar, Vouched, Option<String>), Refusal> {
    let (jar, pending) = taken_here(state, jar, relying, login_state).await?;
    let vouched = oidc::exchange(state, relying, provider, code, &pending)
        .await
        .map_err(Refusal::Failed)?;
    Ok((jar, vouched, pending.next_path))
}

/// Collecting a checked SAML answer in the browser that started its login.
pub async fn saml_collected(
    state: &AppState,
    jar: CookieJar,
    relying: &Relying,
    login_state: &str,
) -> Result<(CookieJar, Vouched, Option<String>), Refusal> {
    let (jar, taken) = taken_here(state, jar, relying, login_state).await?;
    let Some(vouched) = taken.vouched else {
        return Err(Refusal::Expired(
            "no checked answer waits for this login".into(),
        ));
    };
    let vouched: Vouched = serde_json::from_str(&vouched).map_err(AppError::internal)?;
    Ok((jar, vouched, taken.next_path))
}

/// A refusal as a response: `page` makes the page a person reads from the message key
/// (`sign_in.unavailable`, `.failed`, `.expired`, `.cancelled`); the reason goes to the log.
pub fn refusal_page(
    refusal: Refusal,
    whom: &str,
    page: impl FnOnce(&str) -> AppResult<Response>,
) -> AppResult<Response> {
    let (key, why) = match refusal {
        Refusal::Unavailable(why) => ("sign_in.unavailable", why),
        Refusal::Failed(why) => ("sign_in.failed", why),
        Refusal::Expired(why) => ("sign_in.expired", why),
        Refusal::App(e) => return Err(e),
    };
    tracing::warn!(whom, reason = %why, "sign-in at an identity provider refused");
    page(key)
}
