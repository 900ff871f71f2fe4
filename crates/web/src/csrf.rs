//! CSRF protection for every state-changing form: a double-submit token.
//!
//! Each browser gets a random token in an HttpOnly, SameSite=Lax cookie; pages put the same
//! token in a hidden `csrf` field; a POST is accepted only when the two match. A site that is
//! not ours can neither read the cookie nor set it, so it cannot forge the field. Once signed
//! in, the token is derived from the sign-in cookie instead, so it is tied to that sign-in.
//! (docs/decisions/0002-csrf-double-submit.md)

use crate::error::AppError;
use crate::extract::SESSION_COOKIE;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

/// The token's cookie. Over https it carries the `__Host-` prefix: browsers then accept it only
/// from this host, Secure, for the whole path, so a sibling subdomain cannot plant one.
pub fn cookie_name(secure: bool) -> &'static str {
    match secure {
        true => "__Host-supportal_csrf",
        false => "supportal_csrf",
    }
}

/// This browser's token, for the hidden field of a form.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// A new token's cookie.
fn token_cookie(secure: bool, token: String) -> Cookie<'static> {
    Cookie::build((cookie_name(secure), token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

/// A signed-in browser's token: derived from its sign-in cookie, which no page can read (it is
/// HttpOnly), so a token planted in the CSRF cookie from elsewhere does not pass, and a new
/// sign-in brings a new token.
fn signed_in_token(session: &str) -> String {
    domain::secret::token_digest(&format!("csrf:{session}"))
}

/// The token a state-changing request must carry: the sign-in's when there is one, else the
/// browser's cookie.
pub(crate) fn expected_token(headers: &axum::http::HeaderMap, secure: bool) -> Option<String> {
    match crate::cookies::value(headers, SESSION_COOKIE) {
        Some(session) => Some(signed_in_token(session)),
        None => crate::cookies::value(headers, cookie_name(secure)).map(str::to_owned),
    }
}

/// Whether `sent` is the `expected` token (compared in constant time); no token never is.
pub(crate) fn genuine(expected: Option<&str>, sent: Option<&str>) -> bool {
    match (expected, sent) {
        (Some(expected), Some(sent)) => bool::from(expected.as_bytes().ct_eq(sent.as_bytes())),
        _ => false,
    }
}

/// A fresh token for a browser that just signed in (a token known before sign-in, perhaps
/// planted, stops working).
pub fn rotated(secure: bool) -> Cookie<'static> {
    token_cookie(secure, domain::secret::random_token(&mut rand::rngs::OsRng))
}

/// Give every browser a token (middleware, before routing).
pub async fn ensure_cookie(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let secure = state.config.cookie_secure;
    let existing = crate::cookies::value(req.headers(), cookie_name(secure))
        .filter(|v| v.len() == 43)
        .map(str::to_owned);
    let token = match crate::cookies::value(req.headers(), SESSION_COOKIE) {
        Some(session) => signed_in_token(session),
        None => existing
            .clone()
            .unwrap_or_else(|| domain::secret::random_token(&mut rand::rngs::OsRng)),
    };
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(req).await;
    // A response that sets a token itself (sign-in rotates it) keeps its own.
    let sets_its_own = response
        .headers()
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .any(|c| c.to_str().is_ok_and(|c| c.starts_with(cookie_name(secure))));
    if existing.is_none() && !sets_its_own {
        if let Ok(value) = token_cookie(secure, token).to_string().parse() {
            response
                .headers_mut()
                .append(axum::http::header::SET_COOKIE, value);
        }
    }
    response
}

impl FromRequestParts<AppState> for CsrfToken {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("csrf middleware not installed")))
    }
}

/// A url-encoded form whose `csrf` field matched the browser's cookie.
/// `pairs` keeps every field in order, for repeated names (checkbox lists).
pub struct CsrfForm<T> {
    pub value: T,
    pub pairs: Vec<(String, String)>,
}

/// A form whose only field is its CSRF token (a button: sign out, delete).
#[derive(serde::Deserialize)]
pub struct NoFields {}

impl<T> CsrfForm<T> {
    /// Every value sent under `name` (e.g. all checked boxes).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let expected = expected_token(req.headers(), state.config.cookie_secure);
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
                .map_err(|e| AppError::BadRequest(e.to_string()))?
                .into_iter()
                // Every value is cleaned of control characters here, once for every form.
                .map(|(k, v)| (k, domain::text::without_controls(&v).into_owned()))
                .collect();
        let sent = pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str());
        if !genuine(expected.as_deref(), sent) {
            return Err(AppError::Csrf);
        }
        let cleaned =
            serde_urlencoded::to_string(&pairs).map_err(|e| AppError::BadRequest(e.to_string()))?;
        let value = serde_urlencoded::from_str(&cleaned)
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        Ok(CsrfForm { value, pairs })
    }
}

/// One part of a multipart upload.
pub struct Part {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: axum::body::Bytes,
}

/// A multipart form (file uploads) whose `csrf` part matched the browser's cookie.
pub struct CsrfMultipart {
    pub parts: Vec<Part>,
}

impl CsrfMultipart {
    /// A text part's value ("" when absent).
    pub fn text(&self, name: &str) -> String {
        self.parts
            .iter()
            .find(|p| p.name == name && p.file_name.is_none())
            .map(|p| String::from_utf8_lossy(&p.bytes).into_owned())
            .unwrap_or_default()
    }

    /// The uploaded file under `name`, if one was chosen.
    pub fn file(&self, name: &str) -> Option<&Part> {
        self.parts
            .iter()
            .find(|p| p.name == name && p.file_name.as_deref().is_some_and(|f| !f.is_empty()))
    }
}

impl FromRequest<AppState> for CsrfMultipart {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let expected = expected_token(req.headers(), state.config.cookie_secure);
        let mut multipart = axum::extract::Multipart::from_request(req, state)
            .await
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        let mut parts = Vec::new();
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| AppError::BadRequest(e.to_string()))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let content_type = field.content_type().map(str::to_owned);
            let bytes = field
                .bytes()
                .await
                .map_err(|e| AppError::BadRequest(e.to_string()))?;
            parts.push(Part {
                name,
                file_name,
                content_type,
                bytes,
            });
        }
        let upload = CsrfMultipart { parts };
        let sent = upload.text("csrf");
        match genuine(expected.as_deref(), Some(&sent)) {
            true => Ok(upload),
            false => Err(AppError::Csrf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn over_https_the_token_cookie_is_host_only() {
        let cookie = rotated(true).to_string();
        assert!(cookie.starts_with("__Host-supportal_csrf="), "{cookie}");
        assert!(cookie.contains("Secure") && cookie.contains("Path=/"));
        assert!(!cookie.contains("Domain"), "a __Host- cookie has no Domain");
        assert!(rotated(false).to_string().starts_with("supportal_csrf="));
        assert_ne!(
            rotated(true).value(),
            rotated(true).value(),
            "fresh each time"
        );
    }
}
