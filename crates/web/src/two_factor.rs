//! Two-factor sign-in for staff (TOTP). A right password for someone who has it on, or whose
//! organization requires it, starts a challenge instead of a session: a cookie for ten
//! minutes and five tries, each try counted like a password guess by the sign-in lockout.
//! The second step takes a code from the authenticator app (each accepted once) or a
//! one-time recovery code; someone required to use it who has not set it up sets it up there.
//! On the account page a user turns it on (QR code and the secret as text, confirmed by a
//! first code, then ten recovery codes shown once), gets new recovery codes, or turns it off.

use crate::csrf::{CsrfForm, CsrfToken};
use crate::error::{AppError, AppResult};
use crate::extract::{ClientIp, CurrentUser};
use crate::forms::{FieldErrors, Outcome};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::{auth, paths};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use base64::Engine;
use domain::two_factor::{
    normalize_recovery_code, recovery_code, Code, TotpSecret, RECOVERY_CODES,
};
use domain::{secret, UserId};
use minijinja::context;
use serde::Deserialize;
use store::users::User;

pub const CHALLENGE_COOKIE: &str = "supportal_challenge";
const CHALLENGE_MINUTES: i64 = 10;
const MOST_TRIES: i64 = 5;
pub const LOGIN_CODE: &str = "/login/code";
pub const LOGIN_ENROL: &str = "/login/enrol";
pub const ACCOUNT_TWO_FACTOR: &str = "/account/two-factor";

#[derive(Deserialize, Default)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// After a right password: the response that starts the second step, when the user has
/// two-factor on or their organization requires it; None to sign in at once.
pub async fn second_step(
    state: &AppState,
    jar: CookieJar,
    user: &User,
    next: Option<&str>,
) -> AppResult<Option<Response>> {
    let enabled = enabled_secret(state, user.id).await?.is_some();
    let org = state.store.organization(user.org_id).await?;
    let required = org.is_some_and(|o| o.require_two_factor);
    if !enabled && !required {
        return Ok(None);
    }
    let token = secret::random_token(&mut rand::rngs::OsRng);
    let expires = state.now().plus_seconds(CHALLENGE_MINUTES * 60);
    let digest = secret::token_digest(&token);
    state
        .store
        .create_challenge(&digest, user.id, next, expires)
        .await?;
    let cookie = crate::cookies::private(
        (CHALLENGE_COOKIE, token),
        "/login",
        cookie::time::Duration::minutes(CHALLENGE_MINUTES),
        state.config.cookie_secure,
    );
    let to = if enabled { LOGIN_CODE } else { LOGIN_ENROL };
    Ok(Some((jar.add(cookie), Redirect::to(to)).into_response()))
}

/// The user's secret, when two-factor is on for them, with the last step accepted.
async fn enabled_secret(state: &AppState, user: UserId) -> AppResult<Option<(TotpSecret, i64)>> {
    let stored = state.store.two_factor_of(user).await?;
    Ok(stored
        .filter(|t| t.enabled())
        .and_then(|t| TotpSecret::from_base32(&t.secret).map(|s| (s, t.last_step))))
}

/// Whether `typed` is a right second factor for `user` now, each code or recovery code good
/// once: what it was, for the audit log.
async fn second_factor_ok(
    state: &AppState,
    user: UserId,
    typed: &str,
) -> AppResult<Option<&'static str>> {
    let now = state.now();
    if let Ok(code) = Code::parse(typed) {
        let Some((secret, last_step)) = enabled_secret(state, user).await? else {
            return Ok(None);
        };
        let accepted = match secret.accepts(&code, now, last_step) {
            Some(step) => state.store.accept_step(user, step).await?,
            None => false,
        };
        return Ok(accepted.then_some("authenticator code"));
    }
    let Some(recovery) = normalize_recovery_code(typed) else {
        return Ok(None);
    };
    let digest = secret::token_digest(&recovery);
    let used = state.store.use_recovery_code(user, &digest, now).await?;
    Ok(used.then_some("recovery code"))
}

/// The sign-in a challenge cookie stands for: its digest, the user and where they go next.
async fn challenged(
    state: &AppState,
    jar: &CookieJar,
) -> AppResult<Option<(String, User, Option<String>, i64)>> {
    let Some(token) = jar.get(CHALLENGE_COOKIE) else {
        return Ok(None);
    };
    let digest = secret::token_digest(token.value());
    let Some(challenge) = state.store.challenge(&digest, state.now()).await? else {
        return Ok(None);
    };
    let org = domain::OrgId(challenge.org_id);
    let user = state.store.user(org, UserId(challenge.user_id)).await?;
    Ok(user
        .filter(|u| u.active)
        .map(|u| (digest, u, challenge.next_path, challenge.attempts)))
}

fn code_page(
    state: &AppState,
    csrf: &str,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let html = state
        .templates
        .page("two_factor_code.html", context! { csrf, error })?;
    Ok((status, html).into_response())
}

pub async fn code_form(
    State(state): State<AppState>,
    CsrfToken(csrf): CsrfToken,
    jar: CookieJar,
) -> AppResult<Response> {
    match challenged(&state, &jar).await? {
        Some(_) => code_page(&state, &csrf, None, StatusCode::OK),
        None => Ok(Redirect::to(paths::LOGIN).into_response()),
    }
}

/// What a try at the second step came to.
enum Tried {
    /// Right: signed in (the response goes where they were going, or shows recovery codes).
    SignedIn(Response),
    /// Wrong, refused or given up: the page again with why.
    Again(String, StatusCode),
    /// No challenge (expired, or never): back to the password.
    Start,
}

/// One try at a challenge: limited like a password guess, and to five per challenge.
async fn attempt(
    state: &AppState,
    (ip, jar, browser): (std::net::IpAddr, CookieJar, Lang),
    judge: impl AsyncFnOnce(&User) -> AppResult<Result<(&'static str, Option<Vec<String>>), String>>,
) -> AppResult<Tried> {
    let Some((digest, user, next, tries)) = challenged(state, &jar).await? else {
        return Ok(Tried::Start);
    };
    if tries >= MOST_TRIES {
        state.store.end_challenge(&digest, state.now()).await?;
        let again = "Too many wrong codes. Sign in with your password again.".to_owned();
        return Ok(Tried::Again(again, StatusCode::TOO_MANY_REQUESTS));
    }
    let guess = match state.login_limiter.check(ip, &user.email).await {
        Ok(guess) => guess,
        Err(secs) => {
            let again = format!("Too many sign-in attempts. Try again in {secs} seconds.");
            return Ok(Tried::Again(again, StatusCode::TOO_MANY_REQUESTS));
        }
    };
    let now = state.now();
    match judge(&user).await? {
        Ok((how, recovery_codes)) => {
            state.login_limiter.lockout.succeeded(guess).await;
            state.store.end_challenge(&digest, now).await?;
            let jar = auth::sign_in(state, jar, &user, browser)
                .await?
                .add(crate::csrf::rotated(state.config.cookie_secure))
                .remove(Cookie::build(CHALLENGE_COOKIE).path("/login"));
            let (org, id) = (Some(user.org_id), Some(user.id));
            state.store.record_audit(org, id, "login", how, now).await?;
            let target = next
                .as_deref()
                .and_then(|n| paths::safe_next(Some(n)))
                .unwrap_or(paths::home_for(user.role))
                .to_owned();
            let response = match recovery_codes {
                Some(codes) => (jar, codes_page(state, &codes, &target)?).into_response(),
                None => (jar, Redirect::to(&target)).into_response(),
            };
            Ok(Tried::SignedIn(response))
        }
        Err(why) => {
            state.login_limiter.lockout.failed(guess);
            state.store.challenge_failed(&digest).await?;
            let (org, id) = (Some(user.org_id), Some(user.id));
            state
                .store
                .record_audit(org, id, "login.failed", "wrong code", now)
                .await?;
            Ok(Tried::Again(why, StatusCode::UNAUTHORIZED))
        }
    }
}

const WRONG_CODE: &str =
    "This code is not right. Type the newest code your app shows, or one of your recovery codes.";

pub async fn code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    browser: Lang,
    CsrfToken(csrf): CsrfToken,
    jar: CookieJar,
    form: CsrfForm<CodeForm>,
) -> AppResult<Response> {
    let typed = form.value.code;
    let judge = async |user: &User| {
        Ok(match second_factor_ok(&state, user.id, &typed).await? {
            Some(how) => Ok((how, None)),
            None => Err(WRONG_CODE.to_owned()),
        })
    };
    match attempt(&state, (ip, jar, browser), judge).await? {
        Tried::SignedIn(response) => Ok(response),
        Tried::Again(why, status) => code_page(&state, &csrf, Some(why), status),
        Tried::Start => Ok(Redirect::to(paths::LOGIN).into_response()),
    }
}

/// The set-up page: the QR code and the secret as text, and the field for a first code.
fn enrol_page(
    state: &AppState,
    (csrf, action): (&str, &str),
    user: &User,
    secret: &TotpSecret,
    outcome: Outcome,
) -> AppResult<Response> {
    let issuer = format!("Supportal {}", host_of(&state.config.public_url));
    let url = secret
        .otpauth_url(&user.email, &issuer)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no otpauth address")))?;
    let qr = qr_data_url(&url)?;
    let spaced = spaced(&secret.to_base32());
    let ctx = context! {
        csrf, action, qr, spaced, email => &user.email,
        errors => &outcome.errors, me => (action == ACCOUNT_TWO_FACTOR).then_some(user),
    };
    let html = state.templates.page("two_factor_enrol.html", ctx)?;
    Ok(outcome.respond(html))
}

fn host_of(public_url: &str) -> String {
    url::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The secret in groups of four, as people type it into an app.
fn spaced(base32: &str) -> String {
    let chars: Vec<char> = base32.trim_end_matches('=').chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The otpauth address as a QR code: SVG drawn here, as a data URL (no outside service sees
/// the secret, and the page's policy allows `data:` images only).
fn qr_data_url(url: &str) -> AppResult<String> {
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(AppError::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    let encoded = base64::engine::general_purpose::STANDARD.encode(svg);
    Ok(format!("data:image/svg+xml;base64,{encoded}"))
}

/// The user's pending secret, made now if there is none.
async fn pending_secret(state: &AppState, user: UserId) -> AppResult<TotpSecret> {
    let stored = state.store.two_factor_of(user).await?;
    if let Some(secret) = stored
        .filter(|t| !t.enabled())
        .and_then(|t| TotpSecret::from_base32(&t.secret))
    {
        return Ok(secret);
    }
    let secret = TotpSecret::generate(&mut rand::rngs::OsRng);
    state
        .store
        .start_two_factor(user, &secret.to_base32())
        .await?;
    Ok(secret)
}

/// A first code confirms the pending secret: two-factor is on, with ten recovery codes.
async fn confirm(
    state: &AppState,
    user: &User,
    typed: &str,
) -> AppResult<Result<Vec<String>, String>> {
    let code = match Code::parse(typed) {
        Ok(code) => code,
        Err(err) => return Ok(Err(err.message())),
    };
    let stored = state.store.two_factor_of(user.id).await?;
    let Some(pending) = stored.filter(|t| !t.enabled()) else {
        return Ok(Err("Two-factor sign-in is already on.".to_owned()));
    };
    let Some(secret) = TotpSecret::from_base32(&pending.secret) else {
        return Ok(Err("Start the set-up again.".to_owned()));
    };
    let now = state.now();
    let Some(step) = secret.accepts(&code, now, pending.last_step) else {
        return Ok(Err(
            "This code is not right. Type the newest code your app shows.".to_owned(),
        ));
    };
    let (codes, digests) = new_recovery_codes();
    if !state
        .store
        .enable_two_factor(user.id, step, &digests, now)
        .await?
    {
        return Ok(Err("Two-factor sign-in is already on.".to_owned()));
    }
    let (org, id) = (Some(user.org_id), Some(user.id));
    state
        .store
        .record_audit(org, id, "two_factor.enabled", "", now)
        .await?;
    Ok(Ok(codes))
}

/// Ten recovery codes and their digests (only the digests are kept).
fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| recovery_code(&mut rand::rngs::OsRng))
        .collect();
    let digests = codes.iter().map(|c| secret::token_digest(c)).collect();
    (codes, digests)
}

/// The recovery codes, shown once, and the way on.
fn codes_page(
    state: &AppState,
    codes: &[String],
    onward: &str,
) -> AppResult<axum::response::Html<String>> {
    state
        .templates
        .page("two_factor_codes.html", context! { codes, onward })
}

pub async fn login_enrol_form(
    State(state): State<AppState>,
    CsrfToken(csrf): CsrfToken,
    jar: CookieJar,
) -> AppResult<Response> {
    let Some((_, user, _, _)) = challenged(&state, &jar).await? else {
        return Ok(Redirect::to(paths::LOGIN).into_response());
    };
    let secret = pending_secret(&state, user.id).await?;
    enrol_page(
        &state,
        (&csrf, LOGIN_ENROL),
        &user,
        &secret,
        Outcome::fresh(),
    )
}

/// Set up during sign-in (the organization requires it): the first code signs in too.
pub async fn login_enrol(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    browser: Lang,
    CsrfToken(csrf): CsrfToken,
    jar: CookieJar,
    form: CsrfForm<CodeForm>,
) -> AppResult<Response> {
    let typed = form.value.code;
    let judge = async |user: &User| {
        Ok(confirm(&state, user, &typed)
            .await?
            .map(|codes| ("two-factor set up", Some(codes))))
    };
    match attempt(&state, (ip, jar.clone(), browser), judge).await? {
        Tried::SignedIn(response) => Ok(response),
        Tried::Again(why, status) => {
            let Some((_, user, _, _)) = challenged(&state, &jar).await? else {
                return code_page(&state, &csrf, Some(why), status);
            };
            let secret = pending_secret(&state, user.id).await?;
            let mut errors = FieldErrors::default();
            errors.add_message("code", why);
            let mut outcome = Outcome::invalid(errors);
            outcome.status = status;
            enrol_page(&state, (&csrf, LOGIN_ENROL), &user, &secret, outcome)
        }
        Tried::Start => Ok(Redirect::to(paths::LOGIN).into_response()),
    }
}

/// The account page's set-up.
pub async fn account_enrol_form(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    if enabled_secret(&state, me.user.id).await?.is_some() {
        return Ok(Redirect::to(paths::ACCOUNT).into_response());
    }
    let secret = pending_secret(&state, me.user.id).await?;
    enrol_page(
        &state,
        (&csrf, ACCOUNT_TWO_FACTOR),
        &me.user,
        &secret,
        Outcome::fresh(),
    )
}

pub async fn account_enrol(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    form: CsrfForm<CodeForm>,
) -> AppResult<Response> {
    match confirm(&state, &me.user, &form.value.code).await? {
        Ok(codes) => Ok(codes_page(&state, &codes, paths::ACCOUNT)?.into_response()),
        Err(why) => {
            let secret = pending_secret(&state, me.user.id).await?;
            let mut errors = FieldErrors::default();
            errors.add_message("code", why);
            let outcome = Outcome::invalid(errors);
            enrol_page(
                &state,
                (&csrf, ACCOUNT_TWO_FACTOR),
                &me.user,
                &secret,
                outcome,
            )
        }
    }
}

/// New recovery codes (the old ones stop working), after a current code.
pub async fn new_codes(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    form: CsrfForm<CodeForm>,
) -> AppResult<Response> {
    if let Some(why) = refused_code(&state, ip, &me, &form.value.code).await? {
        return auth::account_with_error(&state, &me, &csrf, "two_factor_code", why).await;
    }
    let (codes, digests) = new_recovery_codes();
    state
        .store
        .replace_recovery_codes(me.user.id, &digests)
        .await?;
    let (org, id) = (Some(me.user.org_id), Some(me.user.id));
    let now = state.now();
    state
        .store
        .record_audit(org, id, "two_factor.new_codes", "", now)
        .await?;
    Ok(codes_page(&state, &codes, paths::ACCOUNT)?.into_response())
}

/// Two-factor off, after a current code; not where the organization requires it.
pub async fn turn_off(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    form: CsrfForm<CodeForm>,
) -> AppResult<Response> {
    let org = state.store.organization(me.user.org_id).await?;
    if org.is_some_and(|o| o.require_two_factor) {
        let why = "Your organization requires two-factor sign-in.".to_owned();
        return auth::account_with_error(&state, &me, &csrf, "two_factor_code", why).await;
    }
    if let Some(why) = refused_code(&state, ip, &me, &form.value.code).await? {
        return auth::account_with_error(&state, &me, &csrf, "two_factor_code", why).await;
    }
    state
        .store
        .remove_two_factor(me.user.org_id, me.user.id)
        .await?;
    let (org, id) = (Some(me.user.org_id), Some(me.user.id));
    let now = state.now();
    state
        .store
        .record_audit(org, id, "two_factor.disabled", "", now)
        .await?;
    Ok(Redirect::to(paths::ACCOUNT).into_response())
}

/// Why a signed-in user's code is refused (limited like a password guess), or None when right.
async fn refused_code(
    state: &AppState,
    ip: std::net::IpAddr,
    me: &CurrentUser,
    typed: &str,
) -> AppResult<Option<String>> {
    let guess = match state.login_limiter.check(ip, &me.user.email).await {
        Ok(guess) => guess,
        Err(secs) => {
            return Ok(Some(format!(
                "Too many attempts. Try again in {secs} seconds."
            )))
        }
    };
    match second_factor_ok(state, me.user.id, typed).await? {
        Some(_) => {
            state.login_limiter.lockout.succeeded(guess).await;
            Ok(None)
        }
        None => {
            state.login_limiter.lockout.failed(guess);
            Ok(Some(WRONG_CODE.to_owned()))
        }
    }
}

/// What the account page shows of it.
pub async fn status(state: &AppState, user: UserId) -> AppResult<minijinja::Value> {
    let on = enabled_secret(state, user).await?.is_some();
    let left = match on {
        true => state.store.recovery_codes_left(user).await?,
        false => 0,
    };
    Ok(context! { on, left })
}
