//! Portal sign-in with SAML 2.0, this site being the service provider (the `samael` crate, its
//! signatures checked by xmlsec). The AuthnRequest goes by HTTP-Redirect with the login's
//! state as RelayState; the provider posts its signed answer to the assertion consumer, which
//! checks the signature against the provider's metadata, the destination, recipient,
//! audience, InResponseTo (the request this login sent), the times (by the app's clock too),
//! and accepts each assertion once (its id kept in the database). The post arrives without
//! the browser's login cookie (SameSite=Lax), so the checked answer waits on its login until
//! the same browser follows the redirect to `done`, which carries the cookie.

use super::{http, refused, remember_login, signed_in, taken_here, Away, Refusal, Verified};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::portal::Portal;
use crate::state::AppState;
use axum::extract::{Form, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use domain::portal_sign_in::{Attributes, Provider, SsoSettings};
use domain::{SiteId, Timestamp};
use samael::crypto::AllowedSignatureAlgorithm;
use samael::metadata::{EntityDescriptor, HTTP_REDIRECT_BINDING};
use samael::schema::Assertion;
use samael::service_provider::{ServiceProvider, ServiceProviderBuilder};
use samael::traits::ToXml;
use serde::Deserialize;

/// How far the provider's clock may be from ours.
const CLOCK_SKEW_SECONDS: i64 = 60;

/// This site's addresses as a service provider.
struct Addresses {
    metadata: String,
    acs: String,
}

fn addresses(state: &AppState, slug: &str) -> Addresses {
    let base = format!("{}/p/{slug}/saml", state.config.public_url);
    Addresses {
        metadata: format!("{base}/metadata"),
        acs: format!("{base}/acs"),
    }
}

/// The SAML settings, borrowed.
struct Saml<'a> {
    metadata_url: Option<&'a str>,
    metadata: &'a str,
    entity_id: Option<&'a str>,
}

fn saml_of(sso: &SsoSettings) -> Option<Saml<'_>> {
    match &sso.provider {
        Provider::Saml {
            metadata_url,
            metadata,
            entity_id,
        } => Some(Saml {
            metadata_url: metadata_url.as_deref(),
            metadata,
            entity_id: entity_id.as_deref(),
        }),
        Provider::Oidc { .. } => None,
    }
}

/// What an identity provider's metadata must give: its entity id, an HTTP-Redirect sign-in
/// address and at least one signing certificate (without one, nothing could be verified).
pub fn check_idp_metadata(xml: &str) -> Result<EntityDescriptor, String> {
    let idp: EntityDescriptor = xml
        .parse()
        .map_err(|_| "this is not SAML metadata (an EntityDescriptor)".to_owned())?;
    if idp.entity_id.as_deref().unwrap_or_default().is_empty() {
        return Err("the metadata names no entity id".into());
    }
    let sp = ServiceProviderBuilder::default()
        .idp_metadata(idp.clone())
        .build()
        .map_err(|e| e.to_string())?;
    if sp.sso_binding_location(HTTP_REDIRECT_BINDING).is_none() {
        return Err("the metadata has no HTTP-Redirect sign-in address".into());
    }
    match sp.idp_signing_certs() {
        Ok(Some(_)) => Ok(idp),
        Ok(None) => Err("the metadata has no signing certificate".into()),
        Err(_) => Err("a signing certificate in the metadata cannot be read".into()),
    }
}

/// Read an identity provider's metadata from `url` (http or https, 1 MB at most).
pub async fn fetch_idp_metadata(url: &str) -> Result<String, String> {
    let response = http()
        .get(url)
        .send()
        .await
        .map_err(|e| format!("cannot read {url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url} answered {}", response.status()));
    }
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if body.len() > 1_000_000 {
        return Err(format!("{url} sent more than 1 MB"));
    }
    String::from_utf8(body.to_vec()).map_err(|_| format!("{url} sent no text"))
}

/// The provider's metadata: from its URL, read again hourly (or now, with `fresh`), the saved
/// copy when the URL does not answer; the saved (pasted) one when there is no URL.
async fn idp_metadata(saml: &Saml<'_>, fresh: bool) -> Result<EntityDescriptor, String> {
    static CACHE: super::Documents<EntityDescriptor> = super::Documents::new();
    let Some(url) = saml.metadata_url else {
        return check_idp_metadata(saml.metadata);
    };
    let read = async { check_idp_metadata(&fetch_idp_metadata(url).await?) };
    match CACHE.get(url, fresh, read).await {
        Ok(idp) => Ok(idp),
        Err(why) => {
            tracing::warn!(url, reason = %why, "SAML metadata not read again; using the saved copy");
            check_idp_metadata(saml.metadata)
        }
    }
}

/// This site as a service provider of `idp`.
fn service_provider(
    state: &AppState,
    slug: &str,
    entity_id: Option<&str>,
    idp: EntityDescriptor,
) -> Result<ServiceProvider, String> {
    let at = addresses(state, slug);
    let entity_id = entity_id.map_or_else(|| at.metadata.clone(), str::to_owned);
    ServiceProviderBuilder::default()
        .entity_id(entity_id)
        .metadata_url(at.metadata)
        .acs_url(at.acs)
        .slo_url(None)
        .idp_metadata(idp)
        .allow_idp_initiated(false)
        .max_clock_skew(chrono::Duration::seconds(CLOCK_SKEW_SECONDS))
        .allowed_signature_algorithms(vec![
            AllowedSignatureAlgorithm::RsaSha256,
            AllowedSignatureAlgorithm::RsaSha384,
            AllowedSignatureAlgorithm::RsaSha512,
            AllowedSignatureAlgorithm::EcdsaSha256,
            AllowedSignatureAlgorithm::EcdsaSha384,
            AllowedSignatureAlgorithm::EcdsaSha512,
        ])
        .build()
        .map_err(|e| e.to_string())
}

/// The site's service-provider metadata, at a stable address whether or not the site uses
/// SAML yet (so that an admin can register it at the provider first).
pub async fn metadata(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let saml = portal.site.settings.sso.as_ref().and_then(saml_of);
    let entity_id = saml.and_then(|s| s.entity_id);
    let sp = service_provider(&state, &slug, entity_id, EntityDescriptor::default())
        .map_err(|e| AppError::internal(anyhow::anyhow!(e)))?;
    let xml = sp_metadata(&sp).map_err(|e| AppError::internal(anyhow::anyhow!(e)))?;
    let kind = "application/samlmetadata+xml";
    Ok(([(header::CONTENT_TYPE, kind)], xml).into_response())
}

/// The metadata of `sp`: its entity id and assertion consumer (no single logout: sign-out is
/// this portal's own).
fn sp_metadata(sp: &ServiceProvider) -> Result<String, String> {
    let with_logout = ServiceProvider {
        slo_url: sp.acs_url.clone(),
        ..sp.clone()
    };
    let mut entity = with_logout.metadata().map_err(|e| e.to_string())?;
    for descriptor in entity.sp_sso_descriptors.iter_mut().flatten() {
        descriptor.single_logout_services = None;
    }
    entity.to_string().map_err(|e| e.to_string())
}

/// Off to the provider: an AuthnRequest by HTTP-Redirect, its id kept with the login.
pub(super) async fn start(
    state: &AppState,
    portal: &Portal,
    sso: &SsoSettings,
    next: &str,
) -> Result<Away, Refusal> {
    let saml = saml_of(sso).ok_or_else(|| Refusal::Failed("not a SAML site".into()))?;
    let idp = idp_metadata(&saml, false)
        .await
        .map_err(Refusal::Unavailable)?;
    let slug = portal.site.slug.as_str();
    let sp = service_provider(state, slug, saml.entity_id, idp).map_err(Refusal::Failed)?;
    let login_state = domain::secret::random_token(&mut rand::rngs::OsRng);
    let url = authn_request_url(&sp, &login_state).map_err(Refusal::Failed)?;
    let (request_id, url) = url;
    remember_login(state, portal.site.id, &login_state, (&request_id, ""), next).await?;
    Ok(Away { url, login_state })
}

/// The request's id (a fresh random one, not the crate's 32 bits) and the address that
/// carries it to the provider.
fn authn_request_url(sp: &ServiceProvider, relay_state: &str) -> Result<(String, String), String> {
    let sign_in_at = sp
        .sso_binding_location(HTTP_REDIRECT_BINDING)
        .ok_or("the provider has no HTTP-Redirect sign-in address")?;
    let mut request = sp
        .make_authentication_request(&sign_in_at)
        .map_err(|e| e.to_string())?;
    // An XML id must not start with a digit or a dash.
    request.id = format!("_{}", domain::secret::random_token(&mut rand::rngs::OsRng));
    let url = request
        .redirect(relay_state)
        .map_err(|e| e.to_string())?
        .ok_or("the request has no destination")?;
    Ok((request.id, url.to_string()))
}

#[derive(Deserialize)]
pub struct Posted {
    #[serde(rename = "SAMLResponse", default)]
    response: String,
    #[serde(rename = "RelayState", default)]
    relay_state: String,
}

/// The assertion consumer: the provider's signed answer, checked; kept on its login for the
/// browser to collect at `done`.
pub async fn acs(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(slug): Path<String>,
    Form(posted): Form<Posted>,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let sso = super::sso_of(&portal)?;
    let Some(saml) = saml_of(&sso) else {
        return refused(&state, lang, &slug, "sign_in.failed", "not a SAML site");
    };
    let digest = domain::secret::token_digest(&posted.relay_state);
    let pending = state.store.pending_sso_login(&digest, state.now()).await?;
    let Some(pending) = pending.filter(|p| p.site_id == portal.site.id.0) else {
        let why = "no login waits for this RelayState (unknown, used or expired)";
        return refused(&state, lang, &slug, "sign_in.expired", why);
    };
    let answer = (posted.response.as_str(), pending.nonce.as_str());
    let site = (portal.site.id, slug.as_str());
    let (subject, verified) = match checked(&state, site, &saml, answer).await {
        Ok(checked) => checked,
        Err(why) => return refused(&state, lang, &slug, "sign_in.failed", &why),
    };
    let vouched = serde_json::json!({ "subject": subject, "verified": verified }).to_string();
    if !state
        .store
        .vouch_sso_login(&digest, &vouched, state.now())
        .await?
    {
        return refused(
            &state,
            lang,
            &slug,
            "sign_in.expired",
            "login already answered",
        );
    }
    let done = format!("/p/{slug}/sign-in/done?state={}", posted.relay_state);
    Ok(Redirect::to(&done).into_response())
}

/// The answer, checked: its subject (NameID) and what it says of the customer.
async fn checked(
    state: &AppState,
    (site, slug): (SiteId, &str),
    saml: &Saml<'_>,
    (response, request_id): (&str, &str),
) -> Result<(String, Verified), String> {
    let mut idp = idp_metadata(saml, false).await?;
    let mut assertion = verify(state, slug, saml, idp.clone(), (response, request_id)).await;
    if assertion.is_err() && saml.metadata_url.is_some() {
        // Perhaps the provider rolled its certificate: read its metadata again, once.
        idp = idp_metadata(saml, true).await?;
        assertion = verify(state, slug, saml, idp.clone(), (response, request_id)).await;
    }
    let assertion = assertion?;
    let (not_before, not_on_or_after) = validity(&assertion);
    let now = state.now();
    let skew = CLOCK_SKEW_SECONDS * 1000;
    if not_before.is_some_and(|t| now.millis() + skew < t.millis()) {
        return Err("assertion not yet valid by this server's clock".into());
    }
    let Some(expires) = not_on_or_after else {
        return Err("assertion without NotOnOrAfter".into());
    };
    if expires.millis() + skew <= now.millis() {
        return Err("assertion expired by this server's clock".into());
    }
    let kept_until = expires.plus_seconds(CLOCK_SKEW_SECONDS);
    let first = state
        .store
        .accept_assertion_once(site, &assertion.id, kept_until, now)
        .await
        .map_err(|e| e.to_string())?;
    if !first {
        return Err(format!("assertion {} was used before", assertion.id));
    }
    let subject = assertion
        .subject
        .as_ref()
        .and_then(|s| s.name_id.as_ref())
        .map(|n| n.value.clone())
        .ok_or("assertion without a NameID")?;
    let verified = Verified {
        issuer: idp.entity_id.unwrap_or_default(),
        attributes: attributes(&assertion),
    };
    Ok((subject, verified))
}

/// The signature, destination, recipient, audience, InResponseTo and times (by the real clock)
/// checked by samael, with xmlsec: off the async threads, as it is CPU work in C.
async fn verify(
    state: &AppState,
    slug: &str,
    saml: &Saml<'_>,
    idp: EntityDescriptor,
    (response, request_id): (&str, &str),
) -> Result<Assertion, String> {
    let sp = service_provider(state, slug, saml.entity_id, idp)?;
    let (response, request_id) = (response.to_owned(), request_id.to_owned());
    tokio::task::spawn_blocking(move || {
        sp.parse_base64_response(response.trim(), Some(&[request_id.as_str()]))
            .map_err(|e| format!("SAML response refused: {e}"))
    })
    .await
    .map_err(|e| e.to_string())?
}

/// The assertion's validity: its conditions, narrowed by its bearer confirmation's end.
fn validity(assertion: &Assertion) -> (Option<Timestamp>, Option<Timestamp>) {
    let at = |t: chrono::DateTime<chrono::Utc>| Timestamp(t.timestamp_millis());
    let conditions = assertion.conditions.as_ref();
    let not_before = conditions.and_then(|c| c.not_before).map(at);
    let confirmed_until = assertion
        .subject
        .iter()
        .flat_map(|s| s.subject_confirmations.iter().flatten())
        .filter_map(|c| c.subject_confirmation_data.as_ref()?.not_on_or_after)
        .map(at)
        .min();
    let conditions_until = conditions.and_then(|c| c.not_on_or_after).map(at);
    let not_on_or_after = match (conditions_until, confirmed_until) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    (not_before, not_on_or_after)
}

/// The assertion's attributes, each by its name and its friendly name (first value).
fn attributes(assertion: &Assertion) -> Attributes {
    let mut out = Attributes::new();
    for attribute in assertion
        .attribute_statements
        .iter()
        .flatten()
        .flat_map(|s| s.attributes.iter())
    {
        let Some(value) = attribute.values.iter().find_map(|v| v.value.clone()) else {
            continue;
        };
        for name in [&attribute.name, &attribute.friendly_name]
            .into_iter()
            .flatten()
        {
            out.entry(name.clone()).or_insert_with(|| value.clone());
        }
    }
    out
}

#[derive(Deserialize)]
pub struct Done {
    #[serde(default)]
    state: String,
}

/// Back in the browser that started the login (its cookie proves it): the answer the consumer
/// checked is taken and the customer signed in.
pub async fn done(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(slug): Path<String>,
    Query(done): Query<Done>,
    jar: CookieJar,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let (jar, taken) = match taken_here(&state, jar, &portal, &done.state).await? {
        Ok(taken) => taken,
        Err(why) => return refused(&state, lang, &slug, "sign_in.expired", why),
    };
    let Some(vouched) = taken.vouched else {
        let why = "no checked answer waits for this login";
        return refused(&state, lang, &slug, "sign_in.expired", why);
    };
    #[derive(Deserialize)]
    struct Vouched {
        subject: String,
        verified: Verified,
    }
    let vouched: Vouched = serde_json::from_str(&vouched).map_err(AppError::internal)?;
    let who = (vouched.subject.as_str(), &vouched.verified);
    signed_in(
        &state,
        jar,
        (&portal, &slug),
        who,
        taken.next_path.as_deref(),
    )
    .await
}
