//! OpenID Connect: the code flow with PKCE, state and nonce, by the `openidconnect` crate (the
//! ID token's signature from the issuer's keys, its issuer, audience, expiry and nonce
//! checked).

use super::{http, remember_login, Away, Refusal, Relying, Verified, Vouched};
use crate::error::AppError;
use crate::state::AppState;
use base64::Engine;
use domain::portal_sign_in::{Attributes, Provider};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken as OidcState,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};

/// The provider's discovery document and keys, read at most once an hour per issuer (or now,
/// with `fresh`: an ID token signed with a key not in it has it read again at once).
async fn metadata(issuer: &str, fresh: bool) -> Result<CoreProviderMetadata, String> {
    static CACHE: super::Documents<CoreProviderMetadata> = super::Documents::new();
    CACHE
        .get(issuer, fresh, async {
            let url = IssuerUrl::new(issuer.to_owned()).map_err(|e| format!("issuer: {e}"))?;
            CoreProviderMetadata::discover_async(url, http())
                .await
                .map_err(|e| format!("discovery: {e}"))
        })
        .await
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

/// The relying party's client of its provider, returning to its callback.
fn client_of(
    relying: &Relying,
    metadata: CoreProviderMetadata,
    (client_id, client_secret): (&str, &str),
) -> Result<Client, String> {
    let redirect = RedirectUrl::new(relying.callback_url()).map_err(|e| e.to_string())?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.to_owned()),
        Some(ClientSecret::new(client_secret.to_owned())),
    )
    .set_redirect_uri(redirect))
}

/// Off to the provider: the code flow with its state, nonce and PKCE verifier kept for the
/// return.
pub(super) async fn start(
    state: &AppState,
    relying: &Relying,
    provider: &Provider,
    next: &str,
) -> Result<Away, Refusal> {
    let Some(Oidc {
        issuer,
        client_id,
        client_secret,
        scopes,
    }) = oidc_of(provider)
    else {
        return Err(Refusal::Failed("not an OpenID Connect provider".into()));
    };
    let metadata = metadata(issuer, false)
        .await
        .map_err(Refusal::Unavailable)?;
    let client = client_of(relying, metadata, (client_id, client_secret))
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
    let login = (nonce.secret().as_str(), verifier.secret().as_str());
    remember_login(state, relying, login_state.secret(), login, next).await?;
    Ok(Away {
        url: url.to_string(),
        login_state: login_state.secret().clone(),
    })
}

/// The OpenID Connect settings, borrowed.
struct Oidc<'a> {
    issuer: &'a str,
    client_id: &'a str,
    client_secret: &'a str,
    scopes: &'a [String],
}

fn oidc_of(provider: &Provider) -> Option<Oidc<'_>> {
    match provider {
        Provider::Oidc {
            issuer,
            client_id,
            client_secret,
            scopes,
        } => Some(Oidc {
            issuer,
            client_id,
            client_secret,
            scopes,
        }),
        Provider::Saml { .. } => None,
    }
}

/// Exchange the code (with the PKCE verifier) and check the ID token; its subject and what it
/// says of the customer. A token signed with a key the cached document lacks has the
/// document (and its keys) read again, once.
pub(super) async fn exchange(
    state: &AppState,
    relying: &Relying,
    provider: &Provider,
    code: String,
    pending: &store::portal_sign_in::PendingLogin,
) -> Result<Vouched, String> {
    let Some(Oidc {
        issuer,
        client_id,
        client_secret,
        ..
    }) = oidc_of(provider)
    else {
        return Err("not an OpenID Connect provider".into());
    };
    let credentials = (client_id, client_secret);
    let client = client_of(relying, metadata(issuer, false).await?, credentials)?;
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
        // Only a signature is worth reading the keys again for; a wrong nonce or an expired
        // token stays refused whatever they say.
        Err(other) if !matches!(other, ClaimsVerificationError::SignatureVerification(_)) => {
            return Err(format!("ID token refused: {other}"));
        }
        Err(first) => {
            // Perhaps the provider rolled its keys: read them again, once.
            let fresh = client_of(relying, metadata(issuer, true).await?, credentials)?;
            let claims = id_token
                .claims(&fresh.id_token_verifier().set_time_fn(at), &nonce)
                .map_err(|_| format!("ID token refused: {first}"))?;
            claims.subject().as_str().to_owned()
        }
    };
    // The token is verified: what else it says is read from its own payload.
    let attributes = payload_attributes(&id_token.to_string())?;
    Ok(Vouched {
        subject,
        verified: Verified {
            issuer: issuer.to_owned(),
            attributes,
        },
    })
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

#[cfg(test)]
mod tests {
    use super::*;

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
