use crate::error::AppError;
use crate::paths;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use store::users::User;

pub const SESSION_COOKIE: &str = "supportal_session";

/// The signed-in user. Without a valid sign-in the visitor is sent to the login page,
/// which brings them back here afterwards.
pub struct CurrentUser {
    pub user: User,
    /// Digest of this browser's session token (to keep it when ending the others).
    pub session_digest: String,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let to_login = || {
            let here = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
            Redirect::to(&format!("{}?next={next}", paths::LOGIN)).into_response()
        };
        let Some(token) = jar.get(SESSION_COOKIE) else {
            return Err(to_login());
        };
        let digest = domain::secret::token_digest(token.value());
        match state.store.signed_in_user(&digest, state.now()).await {
            Ok(Some(user)) => Ok(CurrentUser {
                user,
                session_digest: digest,
            }),
            Ok(None) => Err(to_login()),
            Err(err) => Err(AppError::from(err).into_response()),
        }
    }
}

/// An organization admin (instance admins are admins of their own organization too).
pub struct AdminUser(pub CurrentUser);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = Response;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        if current.user.role == domain::Role::Admin {
            Ok(AdminUser(current))
        } else {
            Err(AppError::Forbidden.into_response())
        }
    }
}

/// The operator of this Supportal instance: may create organizations.
pub struct InstanceAdmin(pub CurrentUser);

impl FromRequestParts<AppState> for InstanceAdmin {
    type Rejection = Response;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        if current.user.is_instance_admin {
            Ok(InstanceAdmin(current))
        } else {
            Err(AppError::Forbidden.into_response())
        }
    }
}
