//! Portal sign-in with OpenID Connect: a site whose admin set an identity provider has its
//! customers sign in there (the code flow with PKCE, state and nonce, by the `openidconnect`
//! crate: the ID token's signature from the issuer's keys, its issuer, audience, expiry and
//! nonce checked). The identity that comes back is kept under a cookie of this site; its
//! attributes fill the request's name and mapped fields (`requester::queue_customer` enforces
//! that, whatever a form sends) and the rep sees the customer as verified.

use super::Portal;
use crate::csrf::{CsrfForm, NoFields};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use base64::Engine;
use domain::portal_sign_in::{Attributes, Provider, SsoSettings};
use domain::{Language, SiteId};
use minijinja::context;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken as OidcState, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a sign-in lasts on the portal.
const IDENTITY_HOURS: i64 = 8;
/// How long a login may take at the provider.
const LOGIN_MINUTES: i64 = 10;
/// How long a provider's discovery document (and its keys) is trusted before it is read again;
/// an ID token signed with a key not in it has it read again at once.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// The cookie that carries this browser's sign-in on `site`.
fn cookie_name(site: SiteId) -> String {
    format!("supportal_signed_in_{site}")
}

/// A customer the site's provider vouched for.
#[derive(Debug, Clone)]
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

/// The provider's discovery document and keys, read at most once an hour per issuer (or now,
/// with `fresh`).
async fn metadata(issuer: &str, fresh: bool) -> Result<CoreProviderMetadata, String> {
    type Cache = Mutex<HashMap<String, (CoreProviderMetadata, Instant)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    if !fresh {
        let kept = cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((metadata, at)) = kept.get(issuer) {
            if at.elapsed() < METADATA_TTL {
                return Ok(metadata.clone());
            }
        }
    }
    let url = IssuerUrl::new(issuer.to_owned()).map_err(|e| format!("issuer: {e}"))?;
    let metadata = CoreProviderMetadata::discover_async(url, http())
        .await
        .map_err(|e| format!("discovery: {e}"))?;
    let mut kept = cache.lock().unwrap_or_else(|p| p.into_inner());
    kept.insert(issuer.to_owned(), (metadata.clone(), Instant::now()));
    Ok(metadata)
}

/// A client of the provider as its discovery document describes it (the typestate of
/// `from_provider_metadata`: authorization endpoint set, token and user-info endpoints as the
/// document says).
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// This site's client of its provider, returning to `slug`'s callback.
fn client_of(
    state: &AppState,
    slug: &str,
    metadata: CoreProviderMetadata,
    (client_id, client_secret): (&str, &str),
) -> Result<Client, String> {
    let redirect = RedirectUrl::new(callback_url(state, slug)).map_err(|e| e.to_string())?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.to_owned()),
        Some(ClientSecret::new(client_secret.to_owned())),
    )
    .set_redirect_uri(redirect))
}

/// Where the provider sends the customer back.
fn callback_url(state: &AppState, slug: &str) -> String {
    format!("{}/p/{slug}/sign-in/callback", state.config.public_url)
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

/// Off to the provider: a login with its state, nonce and PKCE verifier kept for its return.
/// A link, not a form: the page's policy lets forms post only to this instance, and a form's
/// redirect to the provider would count as posting there.
pub async fn start(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(slug): Path<String>,
    Query(next): Query<Next>,
    jar: CookieJar,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let sso = sso_of(&portal)?;
    let Provider::Oidc {
        issuer,
        client_id,
        client_secret,
        scopes,
    } = &sso.provider;
    let metadata = match metadata(issuer, false).await {
        Ok(metadata) => metadata,
        Err(why) => return refused(&state, lang, &slug, "sign_in.unavailable", &why),
    };
    let client = client_of(&state, &slug, metadata, (client_id, client_secret))
        .map_err(|e| AppError::internal(anyhow::anyhow!(e)))?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            OidcState::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, login_state, nonce) = request.url();
    let next = return_path(&slug, next.next.as_deref());
    let digest = domain::secret::token_digest(login_state.secret());
    let expires = state.now().plus_seconds(LOGIN_MINUTES * 60);
    let login = (
        nonce.secret().as_str(),
        verifier.secret().as_str(),
        Some(next.as_str()),
    );
    state
        .store
        .start_sso_login(&digest, portal.site.id, login, expires)
        .await?;
    let cookie = crate::cookies::private(
        (LOGIN_COOKIE, login_state.secret().clone()),
        "/p/",
        cookie::time::Duration::minutes(LOGIN_MINUTES),
        state.config.cookie_secure,
    );
    Ok((jar.add(cookie), Redirect::to(url.as_str())).into_response())
}

#[derive(Deserialize)]
pub struct Answer {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// Back from the provider: the login it answers is taken (once), the code exchanged, the ID
/// token checked; the identity is kept under this site's cookie.
pub async fn callback(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(slug): Path<String>,
    Query(answer): Query<Answer>,
    jar: CookieJar,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let sso = sso_of(&portal)?;
    if let Some(error) = &answer.error {
        return refused(&state, lang, &slug, "sign_in.cancelled", error);
    }
    let (Some(code), Some(login_state)) = (answer.code, answer.state) else {
        return refused(&state, lang, &slug, "sign_in.failed", "no code or state");
    };
    if jar.get(LOGIN_COOKIE).map(|c| c.value()) != Some(login_state.as_str()) {
        return refused(
            &state,
            lang,
            &slug,
            "sign_in.expired",
            "state not started in this browser",
        );
    }
    let jar = jar.remove(Cookie::build(LOGIN_COOKIE).path("/p/"));
    let digest = domain::secret::token_digest(&login_state);
    let pending = state.store.take_sso_login(&digest, state.now()).await?;
    let Some(pending) = pending.filter(|p| p.site_id == portal.site.id.0) else {
        return refused(
            &state,
            lang,
            &slug,
            "sign_in.expired",
            "unknown or used state",
        );
    };
    let vouched = match exchange(&state, &slug, &sso, code, &pending).await {
        Ok(vouched) => vouched,
        Err(why) => return refused(&state, lang, &slug, "sign_in.failed", &why),
    };
    let token = domain::secret::random_token(&mut rand::rngs::OsRng);
    let (subject, verified) = vouched;
    let attributes = serde_json::to_string(&verified.attributes).map_err(AppError::internal)?;
    let identity = store::portal_sign_in::NewIdentity {
        token_digest: &domain::secret::token_digest(&token),
        site: portal.site.id,
        issuer: &verified.issuer,
        subject: &subject,
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
    let next = return_path(&slug, pending.next_path.as_deref());
    Ok((jar.add(cookie), Redirect::to(&next)).into_response())
}

/// Exchange the code (with the PKCE verifier) and check the ID token; its subject and what it
/// says of the customer. A token signed with a key the cached document lacks has the
/// document (and its keys) read again, once.
async fn exchange(
    state: &AppState,
    slug: &str,
    sso: &SsoSettings,
    code: String,
    pending: &store::portal_sign_in::PendingLogin,
) -> Result<(String, Verified), String> {
    let Provider::Oidc {
        issuer,
        client_id,
        client_secret,
        ..
    } = &sso.provider;
    let credentials = (client_id.as_str(), client_secret.as_str());
    let client = client_of(state, slug, metadata(issuer, false).await?, credentials)?;
    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| format!("token endpoint: {e}"))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
        .request_async(http())
        .await
        .map_err(|e| format!("token exchange: {e}"))?;
    let id_token = response.id_token().ok_or("no ID token")?;
    let nonce = Nonce::new(pending.nonce.clone());
    // Expiry and issue time are judged by the app's clock, as everything else is.
    let now = state.now().millis();
    let at = move || chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
    let subject = match id_token.claims(&client.id_token_verifier().set_time_fn(at), &nonce) {
        Ok(claims) => claims.subject().as_str().to_owned(),
        Err(first) => {
            // Perhaps the provider rolled its keys: read them again, once.
            let fresh = client_of(state, slug, metadata(issuer, true).await?, credentials)?;
            let claims = id_token
                .claims(&fresh.id_token_verifier().set_time_fn(at), &nonce)
                .map_err(|_| format!("ID token refused: {first}"))?;
            claims.subject().as_str().to_owned()
        }
    };
    // The token is verified: what else it says is read from its own payload.
    let attributes = payload_attributes(&id_token.to_string())?;
    Ok((
        subject,
        Verified {
            issuer: issuer.clone(),
            attributes,
        },
    ))
}

/// The text and number claims of a (verified) JWT's payload, protocol claims left out.
fn payload_attributes(jwt: &str) -> Result<Attributes, String> {
    const PROTOCOL: [&str; 12] = [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "nbf",
        "nonce",
        "at_hash",
        "c_hash",
        "azp",
        "auth_time",
        "sid",
    ];
    let payload = jwt.split('.').nth(1).ok_or("not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "payload is not base64url")?;
    let claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|_| "payload is not a JSON object")?;
    Ok(claims
        .into_iter()
        .filter(|(name, _)| !PROTOCOL.contains(&name.as_str()))
        .filter_map(|(name, value)| match value {
            serde_json::Value::String(text) => Some((name, text)),
            serde_json::Value::Number(n) => Some((name, n.to_string())),
            serde_json::Value::Bool(b) => Some((name, b.to_string())),
            _ => None,
        })
        .collect())
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
/// reason goes to the log (never a code, a token or a secret).
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

    #[test]
    fn attributes_are_the_payload_s_own_claims() {
        let payload = serde_json::json!({
            "iss": "x", "sub": "quinn", "aud": "c", "exp": 1, "nonce": "n",
            "name": "Quinn", "email": "q@example.test", "customer_number": "C-1", "level": 3,
        });
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload.to_string());
        let attributes = payload_attributes(&format!("h.{encoded}.s")).unwrap();
        let names: Vec<&str> = attributes.keys().map(String::as_str).collect();
        assert_eq!(names, ["customer_number", "email", "level", "name"]);
        assert_eq!(attributes["level"], "3");
    }
}
