use crate::csrf::CsrfToken;
use crate::error::AppError;
use crate::paths;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use domain::{OrgId, Role, UserId};
use store::users::User;

pub const SESSION_COOKIE: &str = "supportal_session";

/// The signed-in user. Without a valid sign-in the visitor is sent to the login page,
/// which brings them back here afterwards.
pub struct CurrentUser {
    pub user: User,
    /// Digest of this browser's session token (to keep it when ending the others).
    pub session_digest: String,
}

impl CurrentUser {
    /// Whether this sign-in still holds (an open socket asks when some of the user's ended).
    pub async fn still_signed_in(&self, state: &AppState) -> bool {
        state
            .store
            .signed_in_user(&self.session_digest, state.now())
            .await
            .is_ok_and(|user| user.is_some())
    }
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

/// An organization admin, with the CSRF token their forms carry.
pub struct AdminUser {
    pub current: CurrentUser,
    pub csrf: String,
}

impl AdminUser {
    pub fn user(&self) -> &User {
        &self.current.user
    }
    pub fn org_id(&self) -> OrgId {
        self.current.user.org_id
    }
    pub fn id(&self) -> UserId {
        self.current.user.id
    }

    /// The audit row of this admin doing `action`, for a change that records it in its own
    /// transaction.
    pub fn audit_row<'a>(&self, action: &'a str, detail: &'a str) -> store::audit::AuditRow<'a> {
        store::audit::AuditRow {
            org: Some(self.org_id()),
            actor: Some(self.id()),
            action,
            detail,
        }
    }

    /// Record in the organization's audit log that this admin did `action`.
    pub async fn audit(
        &self,
        state: &AppState,
        action: &str,
        detail: &str,
    ) -> Result<(), AppError> {
        let now = state.now();
        state
            .store
            .record_audit(Some(self.org_id()), Some(self.id()), action, detail, now)
            .await?;
        Ok(())
    }
}

/// The signed-in admin, if `allowed` says their account may pass; 403 otherwise.
async fn admin_where(
    parts: &mut Parts,
    state: &AppState,
    allowed: fn(&User) -> bool,
) -> Result<AdminUser, Response> {
    let current = CurrentUser::from_request_parts(parts, state).await?;
    if current.user.role != Role::Admin || !allowed(&current.user) {
        return Err(AppError::Forbidden.into_response());
    }
    let CsrfToken(csrf) = CsrfToken::from_request_parts(parts, state)
        .await
        .map_err(IntoResponse::into_response)?;
    Ok(AdminUser { current, csrf })
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = Response;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        admin_where(parts, state, |_| true).await
    }
}

/// The operator of this Supportal instance (an admin of their own organization): may create organizations.
pub struct InstanceAdmin(pub AdminUser);

impl FromRequestParts<AppState> for InstanceAdmin {
    type Rejection = Response;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        admin_where(parts, state, |user| user.is_instance_admin)
            .await
            .map(InstanceAdmin)
    }
}
