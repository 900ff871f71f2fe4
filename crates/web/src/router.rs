//! The whole HTTP surface: each area's routes, then the layers every request passes.

use crate::error::{wants_json, AppError, PendingError};
use crate::state::AppState;
use crate::{admin, assets, auth, console, csrf, i18n, metrics, ops, paths, portal, setup};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::{header, HeaderValue};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(paths::LOGIN, get(auth::login_page).post(auth::login))
        .route(paths::LOGOUT, post(auth::logout))
        .route("/login/sso", get(crate::staff_sso::choose))
        .route("/login/sso/{org}", get(crate::staff_sso::start))
        .route("/login/sso/{org}/callback", get(crate::staff_sso::callback))
        .route("/login/sso/{org}/done", get(crate::staff_sso::done))
        .route(
            "/login/sso/{org}/saml/metadata",
            get(crate::staff_sso::saml_metadata),
        )
        .route("/login/sso/{org}/saml/acs", post(crate::staff_sso::acs))
        .route(paths::ACCOUNT, get(auth::account))
        .route(paths::ACCOUNT_PASSWORD, post(auth::change_password))
        .route("/account/presence", post(auth::set_presence))
        .route("/account/language", post(auth::set_language))
        .route("/account/page-settings", post(auth::set_page_settings))
        .route("/account/keys", post(auth::generate_key))
        .route("/account/keys/{id}/revoke", post(auth::revoke_key))
        .route(
            crate::two_factor::LOGIN_CODE,
            get(crate::two_factor::code_form).post(crate::two_factor::code),
        )
        .route(
            crate::two_factor::LOGIN_ENROL,
            get(crate::two_factor::login_enrol_form).post(crate::two_factor::login_enrol),
        )
        .route(
            crate::two_factor::ACCOUNT_TWO_FACTOR,
            get(crate::two_factor::account_enrol_form).post(crate::two_factor::account_enrol),
        )
        .route(
            "/account/two-factor/codes",
            post(crate::two_factor::new_codes),
        )
        .route("/account/two-factor/off", post(crate::two_factor::turn_off))
        .route(paths::SETUP, get(setup::setup_page).post(setup::setup))
        .merge(admin::router())
        .merge(crate::api::router(&state))
        .merge(portal::router())
        .merge(console::router())
        .merge(crate::presentations::router())
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/static/{name}", get(assets::serve))
        // Browsers ask for it whatever the page says: the same icon.
        .route(
            "/favicon.ico",
            get(|| async { axum::response::Redirect::permanent("/static/favicon.svg") }),
        )
        .fallback(not_found)
        // Each `.layer` call boxes every route once more, and axum clones a route's whole box
        // chain for every request: two calls instead of ten took ~4% off the portal page (perf).
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(from_fn_with_state(state.metrics.clone(), metrics::track))
                .layer(axum::middleware::from_fn(crate::framing::headers))
                .layer(axum::middleware::from_fn(i18n::choose_language))
                .layer(from_fn_with_state(state.clone(), csrf::ensure_cookie))
                .layer(from_fn_with_state(state.clone(), render_errors))
                .layer(axum::middleware::from_fn(refuse_control_characters)),
        )
        .layer(
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                // Pages carry a browser's CSRF token, a signed-in person's data or a waiting
                // customer's session: no cache keeps them (static files say otherwise).
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::STRICT_TRANSPORT_SECURITY,
                    strict_transport_security(&state),
                ))
                // Forms and JSON take at most 1 MiB; chat files (their routes lift this) up to
                // `files.max_mb`, which bounds every body.
                .layer(RequestBodyLimitLayer::new(body_limit(&state)))
                .layer(axum::extract::DefaultBodyLimit::max(FORM_LIMIT))
                // A request that takes longer (a body sent a byte at a time) is answered 408 and
                // its connection freed. WebSockets are not held by it: their handler answers at
                // once and the socket lives on in its own task.
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(state.config.request_timeout_secs),
                )),
        )
        .with_state(state)
}

/// The largest form or JSON body.
const FORM_LIMIT: usize = 1024 * 1024;

/// The largest body at all: a chat file with its form around it.
fn body_limit(state: &AppState) -> usize {
    let file = usize::try_from(state.config.files.max_bytes()).unwrap_or(usize::MAX);
    file.saturating_add(64 * 1024).max(FORM_LIMIT)
}

/// HSTS only where the instance is reached over https (on http it would be ignored at best).
fn strict_transport_security(state: &AppState) -> Option<HeaderValue> {
    state
        .config
        .public_url
        .starts_with("https://")
        .then(|| HeaderValue::from_static("max-age=31536000"))
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// A path or query that decodes to a control character names nothing here, and would reach the
/// database as text PostgreSQL refuses (a NUL): refused before any handler sees it. (Form values
/// are cleaned of them by the form extractor.)
async fn refuse_control_characters(req: Request, next: Next) -> Result<Response, AppError> {
    let uri = req.uri();
    if domain::text::decodes_to_control(uri.path()) {
        return Err(AppError::NotFound);
    }
    if uri.query().is_some_and(domain::text::decodes_to_control) {
        return Err(AppError::BadRequest(
            "The address holds a control character.".into(),
        ));
    }
    Ok(next.run(req).await)
}

/// Turn an `AppError` a handler returned into its page (or JSON), with the state at hand.
async fn render_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let json = wants_json(req.headers(), req.uri().path());
    // The API answers its errors in its own shape, whichever layer refused the request.
    let api = req.uri().path().starts_with(crate::api::PREFIX);
    let lang = req
        .extensions()
        .get::<i18n::Lang>()
        .map_or(domain::Language::DEFAULT, |l| l.0);
    let response = next.run(req).await;
    let pending = response.extensions().get::<PendingError>().and_then(|p| {
        p.0.lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    });
    match pending {
        Some(error) if api => crate::api::ApiError::from(error).into_response(),
        Some(error) => error.render(&state, json, lang),
        None => response,
    }
}
