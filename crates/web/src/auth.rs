//! Signing in and out, and a user's own account (password change).

use crate::csrf::{CsrfForm, CsrfToken, NoFields};
use crate::error::AppResult;
use crate::extract::{ClientIp, CurrentUser, SESSION_COOKIE};
use crate::forms::{FieldErrors, Outcome};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::{passwords, paths};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use domain::text::{Email, NewPassword};
use domain::FieldError;
use minijinja::context;
use serde::Deserialize;
use store::users::User;

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

pub(crate) fn login_form(
    state: &AppState,
    csrf: &str,
    email: &str,
    next: Option<&str>,
    error: Option<String>,
    status: StatusCode,
) -> AppResult<Response> {
    let sso_link = match next {
        Some(next) => format!("/login/sso?next={}", crate::staff_sso::urlencode(next)),
        None => "/login/sso".to_owned(),
    };
    let html = state.templates.page(
        "login.html",
        context! { csrf, email, next, error, sso_link },
    )?;
    Ok((status, html).into_response())
}

pub async fn login_page(
    State(state): State<AppState>,
    CsrfToken(csrf): CsrfToken,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    login_form(
        &state,
        &csrf,
        "",
        paths::safe_next(q.next.as_deref()),
        None,
        StatusCode::OK,
    )
}

/// Start a signed-in session for `user`: a fresh random token in the cookie, its digest stored.
/// The browser's language becomes their chat language unless they chose one.
pub async fn sign_in(
    state: &AppState,
    jar: CookieJar,
    user: &User,
    browser: Lang,
) -> AppResult<CookieJar> {
    state
        .store
        .adopt_browser_language(user.org_id, user.id, browser.0)
        .await?;
    let token = domain::secret::random_token(&mut rand::rngs::OsRng);
    let now = state.now();
    let expires = now.plus_seconds(state.config.session_hours * 3600);
    state
        .store
        .create_web_session(&domain::secret::token_digest(&token), user.id, now, expires)
        .await?;
    let cookie = crate::cookies::private(
        (SESSION_COOKIE, token),
        "/",
        cookie::time::Duration::hours(state.config.session_hours),
        state.config.cookie_secure,
    );
    // Their pages in the language and time zone they chose (where they chose).
    Ok(crate::i18n::page_settings_cookies(jar.add(cookie), user))
}

pub async fn login(
    State(state): State<AppState>,
    browser: Lang,
    ClientIp(ip): ClientIp,
    CsrfToken(csrf): CsrfToken,
    jar: CookieJar,
    form: CsrfForm<LoginForm>,
) -> AppResult<Response> {
    let f = form.value;
    let next = paths::safe_next(f.next.as_deref());
    let attempt = match state.login_limiter.check(ip, f.email.trim()).await {
        Ok(attempt) => attempt,
        Err(secs) => return refused_sign_in(&state, &csrf, &f.email, next, secs),
    };
    let credentials = match Email::parse(&f.email) {
        Ok(email) => state.store.credentials(&email).await?,
        Err(_) => None,
    };
    let (user, hash) = credentials.map_or((None, None), |(u, h)| (Some(u), Some(h)));
    let Ok(password_ok) = passwords::verify(&f.password, hash).await else {
        state.login_limiter.lockout.not_judged(attempt).await;
        let message = "Many people are signing in right now. Try again in a few seconds.";
        let mut response = login_form(
            &state,
            &csrf,
            &f.email,
            next,
            Some(message.to_owned()),
            StatusCode::SERVICE_UNAVAILABLE,
        )?;
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
        return Ok(response);
    };
    let now = state.now();
    match password_ok {
        true => state.login_limiter.lockout.succeeded(attempt).await,
        false => state.login_limiter.lockout.failed(attempt),
    }
    match user {
        Some(user) if password_ok && user.active => {
            if !crate::staff_sso::password_allowed(&state, &user).await? {
                let message = "Your organization signs in with single sign-on: choose \
                               “Sign in with single sign-on” below."
                    .to_owned();
                let status = StatusCode::FORBIDDEN;
                return login_form(&state, &csrf, &f.email, next, Some(message), status);
            }
            // Someone with a second factor (or required to have one) is not signed in yet.
            if let Some(second) =
                crate::two_factor::second_step(&state, jar.clone(), &user, next).await?
            {
                return Ok(second);
            }
            let jar = sign_in(&state, jar, &user, browser)
                .await?
                .add(crate::csrf::rotated(state.config.cookie_secure));
            state
                .store
                .record_audit(Some(user.org_id), Some(user.id), "login", "", now)
                .await?;
            let target = next.unwrap_or(paths::home_for(user.role)).to_owned();
            Ok((jar, Redirect::to(&target)).into_response())
        }
        Some(_) if password_ok => {
            let message = "This account is deactivated. Ask your organization's admin.".to_owned();
            login_form(
                &state,
                &csrf,
                &f.email,
                next,
                Some(message),
                StatusCode::FORBIDDEN,
            )
        }
        user => {
            if let Some(user) = user {
                state
                    .store
                    .record_audit(
                        Some(user.org_id),
                        Some(user.id),
                        "login.failed",
                        "wrong password",
                        now,
                    )
                    .await?;
            }
            let message = "Email or password is wrong.".to_owned();
            login_form(
                &state,
                &csrf,
                &f.email,
                next,
                Some(message),
                StatusCode::UNAUTHORIZED,
            )
        }
    }
}

/// Too many guesses from here: say when to retry, keep what was typed.
fn refused_sign_in(
    state: &AppState,
    csrf: &str,
    email: &str,
    next: Option<&str>,
    secs: u64,
) -> AppResult<Response> {
    let message = format!("Too many sign-in attempts. Try again {}.", retry_in(secs));
    let mut response = login_form(
        state,
        csrf,
        email,
        next,
        Some(message),
        StatusCode::TOO_MANY_REQUESTS,
    )?;
    if let Ok(value) = secs.to_string().parse() {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Ok(response)
}

/// "in 40 seconds", "in 15 minutes": a wait a person can plan around.
fn retry_in(secs: u64) -> String {
    match secs {
        0..=1 => "in a second".to_owned(),
        2..=119 => format!("in {secs} seconds"),
        _ => format!("in {} minutes", secs.div_ceil(60)),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    if let Some(token) = jar.get(SESSION_COOKIE) {
        let digest = domain::secret::token_digest(token.value());
        let user = state.store.signed_in_user(&digest, state.now()).await?;
        state.store.delete_web_session(&digest).await?;
        if let Some(user) = user {
            state.announce_signed_out(user.org_id, user.id);
        }
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to(paths::LOGIN)).into_response())
}

async fn account_page(
    state: &AppState,
    me: &CurrentUser,
    csrf: &str,
    outcome: Outcome,
) -> AppResult<Response> {
    let org = state.store.organization(me.user.org_id).await?;
    let team_ids = state
        .store
        .user_team_ids(me.user.org_id, me.user.id)
        .await?;
    let teams: Vec<_> = state
        .store
        .teams(me.user.org_id)
        .await?
        .into_iter()
        .filter(|t| team_ids.contains(&t.id))
        .collect();
    let presences = [
        ("available", "Available: customers can pick me"),
        ("away", "Away"),
        ("busy", "Busy"),
        ("offline", "Offline"),
    ];
    let keys = crate::rep_keys::panel(state, me, "account").await?;
    let languages: Vec<_> = domain::Language::ALL
        .iter()
        .map(|l| (l.code(), l.native_name()))
        .collect();
    let two_factor = crate::two_factor::status(state, me.user.id).await?;
    let zones: Vec<String> = jiff::tz::db()
        .available()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.contains('/') || name == "UTC")
        .collect();
    let ctx = context! {
        me => &me.user, org, teams, csrf, presences, languages, two_factor, zones,
        errors => &outcome.errors, notice => &outcome.notice, ..keys
    };
    let html = state.templates.page("account.html", ctx)?;
    Ok(outcome.respond(html))
}

/// The account page with `message` beside `field` (a form on it was refused).
pub async fn account_with_error(
    state: &AppState,
    me: &CurrentUser,
    csrf: &str,
    field: &str,
    message: String,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    errors.add_message(field, message);
    account_page(state, me, csrf, Outcome::invalid(errors)).await
}

pub async fn account(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
) -> AppResult<Response> {
    account_page(&state, &me, &csrf, Outcome::fresh()).await
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    form: CsrfForm<PasswordForm>,
) -> AppResult<Response> {
    let f = form.value;
    let mut errors = FieldErrors::default();
    let email =
        Email::parse(&me.user.email).map_err(|e| anyhow::anyhow!("stored email invalid: {e}"))?;
    // Limited like signing in: the current password is a password guess too.
    let attempt = match state.login_limiter.check(ip, &me.user.email).await {
        Ok(attempt) => attempt,
        Err(secs) => {
            let message = format!("Too many attempts. Try again {}.", retry_in(secs));
            errors.add_message("current", message);
            let outcome = Outcome {
                status: StatusCode::TOO_MANY_REQUESTS,
                ..Outcome::invalid(errors)
            };
            return account_page(&state, &me, &csrf, outcome).await;
        }
    };
    let stored = state.store.credentials(&email).await?.map(|(_, hash)| hash);
    let lockout = &state.login_limiter.lockout;
    match passwords::verify(&f.current, stored).await {
        Ok(true) => lockout.succeeded(attempt).await,
        Ok(false) => {
            lockout.failed(attempt);
            errors.add("current", FieldError::WrongPassword)
        }
        Err(passwords::Busy) => {
            lockout.not_judged(attempt).await;
            errors.add_message("current", "The server is busy. Try again in a few seconds.")
        }
    }
    let new = errors.check("new", NewPassword::parse(&f.new));
    if new.is_some() && f.new != f.confirm {
        errors.add("confirm", FieldError::Mismatch);
    }
    let Some(new) = new.filter(|_| errors.is_empty()) else {
        return account_page(&state, &me, &csrf, Outcome::invalid(errors)).await;
    };
    state
        .store
        .set_password_hash(me.user.id, &passwords::hash(new.expose()).await?)
        .await?;
    let ended = state
        .store
        .delete_other_web_sessions(me.user.id, Some(&me.session_digest))
        .await?;
    state.announce_signed_out(me.user.org_id, me.user.id);
    state
        .store
        .record_audit(
            Some(me.user.org_id),
            Some(me.user.id),
            "password.changed",
            &format!("{ended} other sign-ins ended"),
            state.now(),
        )
        .await?;
    account_page(
        &state,
        &me,
        &csrf,
        Outcome::done("Your password was changed. Your other sign-ins were ended."),
    )
    .await
}

#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    language: String,
}

/// The language a rep chats in: customers' messages are translated into it on sites that
/// translate.
pub async fn set_language(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    form: CsrfForm<LanguageForm>,
) -> AppResult<Response> {
    let Some(language) = domain::Language::parse(&form.value.language) else {
        let mut errors = FieldErrors::default();
        errors.add("language", FieldError::InvalidChoice);
        return account_page(&state, &me, &csrf, Outcome::invalid(errors)).await;
    };
    let (org, id) = (me.user.org_id, me.user.id);
    state.store.set_user_language(org, id, language).await?;
    let user = state.store.user(org, id).await?.unwrap_or(me.user);
    let me = CurrentUser { user, ..me };
    let done = Outcome::done("Your chat language was changed.");
    account_page(&state, &me, &csrf, done).await
}

#[derive(Deserialize)]
pub struct PageSettingsForm {
    #[serde(default)]
    ui_language: String,
    #[serde(default)]
    time_zone: String,
}

/// The language of the rep's pages and the time zone of their times; empty: as the browser
/// says. Saved with the account and remembered in cookies (no read on every page); the
/// account page answers in the new settings at once.
pub async fn set_page_settings(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    jar: CookieJar,
    form: CsrfForm<PageSettingsForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let language = match form.value.ui_language.as_str() {
        "" => None,
        code => errors.check(
            "ui_language",
            domain::Language::parse(code).ok_or(FieldError::InvalidChoice),
        ),
    };
    let zone = match form.value.time_zone.trim() {
        "" => None,
        name => errors.check(
            "time_zone",
            jiff::tz::TimeZone::get(name)
                .map(|_| name.to_owned())
                .map_err(|_| FieldError::InvalidTimeZone),
        ),
    };
    if !errors.is_empty() {
        return account_page(&state, &me, &csrf, Outcome::invalid(errors)).await;
    }
    let (org, id) = (me.user.org_id, me.user.id);
    state
        .store
        .set_page_settings(org, id, language, zone.as_deref())
        .await?;
    let user = state.store.user(org, id).await?.unwrap_or(me.user);
    let jar = crate::i18n::page_settings_cookies(jar, &user);
    // The browser's own language and zone still stand where the rep left them to it.
    let locale = crate::i18n::locale_of(&user, crate::i18n::page_locale());
    let me = CurrentUser { user, ..me };
    let done = Outcome::done("Your language and time zone were saved.");
    let page = crate::i18n::in_locale(locale, account_page(&state, &me, &csrf, done)).await?;
    Ok((jar, page).into_response())
}

#[derive(Deserialize)]
pub struct PresenceForm {
    #[serde(default)]
    presence: String,
}

/// A rep says whether customers may pick them now (the live console takes this over later).
pub async fn set_presence(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    form: CsrfForm<PresenceForm>,
) -> AppResult<Response> {
    let Ok(presence) = domain::rep::Presence::parse(&form.value.presence) else {
        let mut errors = FieldErrors::default();
        errors.add("presence", FieldError::InvalidChoice);
        return account_page(&state, &me, &csrf, Outcome::invalid(errors)).await;
    };
    state
        .store
        .set_presence(me.user.org_id, me.user.id, presence, state.now())
        .await?;
    let me = CurrentUser {
        user: state
            .store
            .user(me.user.org_id, me.user.id)
            .await?
            .unwrap_or(me.user),
        session_digest: me.session_digest,
    };
    account_page(
        &state,
        &me,
        &csrf,
        Outcome::done("Your status was changed."),
    )
    .await
}

/// Generate a session key or a profile access key (from the account page or the console).
pub async fn generate_key(
    State(state): State<AppState>,
    me: CurrentUser,
    CsrfToken(csrf): CsrfToken,
    form: CsrfForm<crate::rep_keys::NewKeyForm>,
) -> AppResult<Response> {
    let to_console = form.value.return_to == "console";
    match crate::rep_keys::generate(&state, &me, &form.value).await? {
        Ok(()) if to_console => Ok(Redirect::to(paths::CONSOLE).into_response()),
        Ok(()) => {
            account_page(
                &state,
                &me,
                &csrf,
                Outcome::done("Key generated: read it out or send the message below."),
            )
            .await
        }
        Err(errors) if to_console => {
            crate::console::render(&state, &me, &csrf, Outcome::invalid(errors)).await
        }
        Err(errors) => account_page(&state, &me, &csrf, Outcome::invalid(errors)).await,
    }
}

pub async fn revoke_key(
    State(state): State<AppState>,
    me: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<String>,
    form: CsrfForm<crate::rep_keys::ReturnTo>,
) -> AppResult<Response> {
    crate::rep_keys::revoke(&state, &me, &id).await?;
    Ok(Redirect::to(crate::rep_keys::return_path(&form.value.return_to)).into_response())
}
