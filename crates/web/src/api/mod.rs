//! The REST API at `/api/v1`: JSON for other systems (a CRM, a status page, a data team),
//! authenticated by the API tokens an organization's admins make, each call limited per token
//! and audited. The OpenAPI 3.1 document is generated from these handlers (`utoipa`) and served
//! at `/api/v1/openapi.json`, with a page for people at `/api/v1/docs`.

mod directory;
mod docs;
mod error;
pub(crate) mod json;
mod keys;
mod notices;
mod reports;
mod sessions;
mod sites;

pub use error::{ApiError, ApiResult};

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::Router;
use domain::api_token::{from_authorization, Scope, Scopes};
use domain::OrgId;

/// Who is calling: the token's organization, the token, what it may do.
#[derive(Clone)]
pub struct ApiCaller {
    pub org: OrgId,
    pub token_id: i64,
    pub token_name: String,
    pub scopes: Scopes,
}

impl ApiCaller {
    /// Refuse the call unless the token holds `scope`.
    pub fn require(&self, scope: Scope) -> ApiResult<()> {
        match self.scopes.allows(scope) {
            true => Ok(()),
            false => Err(ApiError::insufficient_scope(scope)),
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ApiCaller {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<ApiCaller>()
            .cloned()
            .ok_or_else(ApiError::unauthorized)
    }
}

pub fn router(state: &AppState) -> Router<AppState> {
    let authenticated = Router::new()
        .route("/sessions", get(sessions::list))
        .route("/sessions/{id}", get(sessions::one))
        .route("/sessions/{id}/transcript", get(sessions::transcript))
        .route("/sessions/{id}/survey", get(sessions::survey))
        .route(
            "/sites/{site}/notices",
            get(notices::list).post(notices::create),
        )
        .route("/notices/{id}/end", post(notices::end))
        .route("/sites", get(sites::list))
        .route("/sites/{site}", get(sites::one))
        .route("/sites/{site}/texts", patch(sites::update_texts))
        .route(
            "/sites/{site}/schedule",
            put(sites::set_schedule).delete(sites::remove_schedule),
        )
        .route("/keys", post(keys::issue))
        .route("/keys/{id}/revoke", post(keys::revoke))
        .route("/reports/sessions", get(reports::sessions))
        .route("/reps", get(directory::reps))
        .route("/teams", get(directory::teams))
        .route("/issue-types", get(directory::issue_types))
        .route_layer(from_fn_with_state(state.clone(), authenticate));
    let v1 = Router::new()
        .route("/openapi.json", get(docs::openapi))
        .route("/docs", get(docs::page))
        .merge(authenticated)
        .fallback(|| async { ApiError::not_found("route") });
    Router::new().nest(PREFIX, v1)
}

/// Where the API lives (its routes are written below it).
pub const PREFIX: &str = "/api/v1";

/// Find the caller's token (refused: 401), count the call against its limit (429), run the
/// call, and record it in the organization's audit log with its answer.
async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // Owned before any await: a request (its body) is not shared across threads.
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let caller = match caller(&state, authorization.as_deref()).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    if let Err(retry_after) = state.api_limiter.check(&caller.token_id).await {
        return ApiError::rate_limited(retry_after).into_response();
    }
    // The whole path: inside the nest, the request's own URI has lost the prefix.
    let path = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |uri| uri.path().to_owned());
    let what = format!("{} {path}", req.method());
    req.extensions_mut().insert(caller.clone());
    let response = next.run(req).await;
    // Off the answer's path: the audit row and the token's last use are not the caller's wait.
    let (store, now) = (state.store.clone(), state.now());
    let detail = format!(
        "{what} → {} (token “{}”)",
        response.status().as_u16(),
        caller.token_name
    );
    // The audit row first: whoever sees the last use may count on the call being in the log.
    tokio::spawn(async move {
        let audited = store
            .record_audit(Some(caller.org), None, "api.call", &detail, now)
            .await;
        let noted = store.note_api_token_use(caller.token_id, now).await;
        if let Err(err) = audited.and(noted) {
            tracing::warn!(error = %err, "an API call was not recorded");
        }
    });
    response
}

async fn caller(state: &AppState, authorization: Option<&str>) -> ApiResult<ApiCaller> {
    let token = authorization
        .and_then(from_authorization)
        .ok_or_else(ApiError::unauthorized)?;
    let row = state
        .store
        .live_api_token(&domain::secret::token_digest(token))
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    let scopes = Scopes::from_stored(&row.scopes)
        .map_err(|_| ApiError::internal(format!("token {} has unreadable scopes", row.id)))?;
    Ok(ApiCaller {
        org: row.org_id,
        token_id: row.id,
        token_name: row.name,
        scopes,
    })
}
