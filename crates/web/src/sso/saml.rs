//! SAML 2.0, the relying party being the service provider (the `samael` crate, its
//! signatures checked by xmlsec). The AuthnRequest goes by HTTP-Redirect with the login's
//! state as RelayState; the provider posts its signed answer to the assertion consumer, which
//! checks the signature against the provider's metadata, the destination, recipient,
//! audience, InResponseTo (the request this login sent), the times (by the app's clock too),
//! and accepts each assertion once (its id kept in the database). The post arrives without
//! the browser's login cookie (SameSite=Lax), so the checked answer waits on its login until
//! the same browser follows the redirect to `done`, which carries the cookie (decision 0018).

use super::{http, remember_login, Away, Refusal, Relying, Verified, Vouched};
use crate::state::AppState;
use domain::portal_sign_in::{Attributes, Provider};
use domain::Timestamp;
use samael::crypto::AllowedSignatureAlgorithm;
use samael::metadata::{EntityDescriptor, HTTP_REDIRECT_BINDING};
use samael::schema::Assertion;
use samael::service_provider::{ServiceProvider, ServiceProviderBuilder};
use samael::traits::ToXml;
use serde::Deserialize;

/// How far the provider's clock may be from ours.
const CLOCK_SKEW_SECONDS: i64 = 60;

/// The SAML settings, borrowed.
struct Saml<'a> {
    metadata_url: Option<&'a str>,
    metadata: &'a str,
    entity_id: Option<&'a str>,
}

fn saml_of(provider: &Provider) -> Option<Saml<'_>> {
    match provider {
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

/// The relying party as a service provider of `idp`.
fn service_provider(
    relying: &Relying,
    entity_id: Option<&str>,
    idp: EntityDescriptor,
) -> Result<ServiceProvider, String> {
    let metadata = relying.sp_metadata_url();
    let entity_id = entity_id.map_or_else(|| metadata.clone(), str::to_owned);
    ServiceProviderBuilder::default()
        .entity_id(entity_id)
        .metadata_url(metadata)
        .acs_url(relying.acs_url())
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

/// The relying party's service-provider metadata (XML), with the entity id `provider` sets if
/// it is a SAML one.
fn sp_metadata(relying: &Relying, provider: Option<&Provider>) -> Result<String, String> {
    let entity_id = provider.and_then(saml_of).and_then(|s| s.entity_id);
    let sp = service_provider(relying, entity_id, EntityDescriptor::default())?;
    metadata_of(&sp)
}

/// The relying party's service-provider metadata as a response.
pub fn metadata_response(
    relying: &Relying,
    provider: Option<&Provider>,
) -> crate::error::AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let xml = sp_metadata(relying, provider)
        .map_err(|e| crate::error::AppError::internal(anyhow::anyhow!(e)))?;
    let kind = "application/samlmetadata+xml";
    Ok(([(axum::http::header::CONTENT_TYPE, kind)], xml).into_response())
}

/// The metadata of `sp`: its entity id and assertion consumer (no single logout: sign-out is
/// Supportal's own).
fn metadata_of(sp: &ServiceProvider) -> Result<String, String> {
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
    relying: &Relying,
    provider: &Provider,
    next: &str,
) -> Result<Away, Refusal> {
    let saml = saml_of(provider).ok_or_else(|| Refusal::Failed("not a SAML provider".into()))?;
    let idp = idp_metadata(&saml, false)
        .await
        .map_err(Refusal::Unavailable)?;
    let sp = service_provider(relying, saml.entity_id, idp).map_err(Refusal::Failed)?;
    let login_state = domain::secret::random_token(&mut rand::rngs::OsRng);
    let url = authn_request_url(&sp, &login_state).map_err(Refusal::Failed)?;
    let (request_id, url) = url;
    remember_login(state, relying, &login_state, (&request_id, ""), next).await?;
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

/// At the assertion consumer: the provider's signed answer for the login its RelayState
/// names, checked and kept on that login; where the browser goes to collect it.
pub async fn answer(
    state: &AppState,
    relying: &Relying,
    provider: &Provider,
    posted: &Posted,
) -> Result<String, Refusal> {
    let Some(saml) = saml_of(provider) else {
        return Err(Refusal::Failed("not a SAML provider".into()));
    };
    let digest = domain::secret::token_digest(&posted.relay_state);
    let pending = state.store.pending_sso_login(&digest, state.now()).await?;
    let Some(pending) = pending.filter(|p| p.is_for(relying.whom)) else {
        let why = "no login waits for this RelayState (unknown, used or expired)";
        return Err(Refusal::Expired(why.into()));
    };
    let answer = (posted.response.as_str(), pending.nonce.as_str());
    let vouched = checked(state, relying, &saml, answer)
        .await
        .map_err(Refusal::Failed)?;
    let vouched = serde_json::to_string(&vouched).map_err(crate::error::AppError::internal)?;
    if !state
        .store
        .vouch_sso_login(&digest, &vouched, state.now())
        .await?
    {
        return Err(Refusal::Expired("login already answered".into()));
    }
    Ok(relying.done_path(&posted.relay_state))
}

/// The answer, checked: its subject (NameID) and what it says of the customer.
async fn checked(
    state: &AppState,
    relying: &Relying,
    saml: &Saml<'_>,
    (response, request_id): (&str, &str),
) -> Result<Vouched, String> {
    let mut idp = idp_metadata(saml, false).await?;
    let mut assertion = verify(relying, saml, idp.clone(), (response, request_id)).await;
    if matches!(assertion, Err(Unverified::Signature(_))) && saml.metadata_url.is_some() {
        // Perhaps the provider rolled its certificate: read its metadata again, once. (Any
        // other refusal would stand whatever the metadata says.)
        idp = idp_metadata(saml, true).await?;
        assertion = verify(relying, saml, idp.clone(), (response, request_id)).await;
    }
    let assertion = assertion.map_err(Unverified::into_reason)?;
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
        .accept_assertion_once(&assertion.id, kept_until, now)
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
    Ok(Vouched { subject, verified })
}

/// The signature, destination, recipient, audience, InResponseTo and times (by the real clock)
/// checked by samael, with xmlsec: off the async threads, as it is CPU work in C.
async fn verify(
    relying: &Relying,
    saml: &Saml<'_>,
    idp: EntityDescriptor,
    (response, request_id): (&str, &str),
) -> Result<Assertion, Unverified> {
    let sp = service_provider(relying, saml.entity_id, idp).map_err(Unverified::Other)?;
    let (response, request_id) = (response.to_owned(), request_id.to_owned());
    tokio::task::spawn_blocking(move || {
        sp.parse_base64_response(response.trim(), Some(&[request_id.as_str()]))
            .map_err(|e| {
                let why = format!("SAML response refused: {e}");
                use samael::service_provider::Error;
                match e.downcast_ref::<Error>() {
                    Some(Error::FailedToValidateSignature) => Unverified::Signature(why),
                    _ => Unverified::Other(why),
                }
            })
    })
    .await
    .map_err(|e| Unverified::Other(e.to_string()))?
}

/// Why an answer was not verified: its signature (which fresh metadata might change), or
/// anything else.
enum Unverified {
    Signature(String),
    Other(String),
}

impl Unverified {
    fn into_reason(self) -> String {
        match self {
            Unverified::Signature(why) | Unverified::Other(why) => why,
        }
    }
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
