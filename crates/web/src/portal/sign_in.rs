//! Portal sign-in: a site whose admin set an identity provider has its customers sign in there,
//! with OpenID Connect or SAML 2.0 (the `sso` machinery, the site as relying party). The
//! identity that comes back is kept under a cookie of this site; its attributes fill the
//! request's name and mapped fields (`requester::queue_customer` enforces that, whatever a
//! form sends) and the rep sees the customer as verified.

pub use crate::sso::Verified;

use super::Portal;
use crate::csrf::{CsrfForm, NoFields};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::sso::{self, Refusal, Relying};
use crate::state::AppState;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use domain::portal_sign_in::SsoSettings;
use domain::{Language, SiteId};
use minijinja::context;
use serde::Deserialize;

/// How long a sign-in lasts on the portal.
const IDENTITY_HOURS: i64 = 8;

/// The cookie that carries this browser's sign-in on `site`.
fn cookie_name(site: SiteId) -> String {
    format!("supportal_signed_in_{site}")
}

/// The customer this browser signed in as on `site`, if it did and it still lasts.
pub async fn identity_in(
    state: &AppState,
    jar: &CookieJar,
    site: SiteId,
) -> AppResult<Option<Verified>> {
    let Some(token) = jar.get(&cookie_name(site)) else {
        return Ok(None);
    };
    let digest = domain::secret::token_digest(token.value());
    let stored = state
        .store
        .portal_identity(&digest, site, state.now())
        .await?;
    Ok(stored.map(|identity| Verified {
        issuer: identity.issuer,
        attributes: serde_json::from_str(&identity.attributes).unwrap_or_default(),
    }))
}

/// The site's provider settings, or not found when it has none.
fn sso_of(portal: &Portal) -> AppResult<SsoSettings> {
    portal.site.settings.sso.clone().ok_or(AppError::NotFound)
}

/// The "Portal sign-in" page: a site that requires sign-in shows it first.
pub fn sign_in_page(
    state: &AppState,
    portal: &Portal,
    csrf: &str,
    next: &str,
) -> AppResult<Response> {
    let keys = portal
        .site
        .settings
        .sso
        .as_ref()
        .is_some_and(|s| s.keys_without_sign_in);
    let ctx = context! { next, keys_without_sign_in => keys, ..portal.context(csrf, false) };
    let html = state.templates.page("portal/sign_in.html", ctx)?;
    Ok(portal.page(html.into_response()))
}

#[derive(Deserialize, Default)]
pub struct Next {
    #[serde(default)]
    next: Option<String>,
}

/// Only a path of this site may be where a sign-in returns to.
fn return_path(slug: &str, next: Option<&str>) -> String {
    let home = format!("/p/{slug}");
    // A local path by the rule every "next" follows, and one of this site's.
    crate::paths::safe_next(next)
        .filter(|path| *path == home || path.starts_with(&format!("{home}/")))
        .filter(|path| !path.contains("//"))
        .map_or_else(|| home.clone(), str::to_owned)
}

/// The site as the relying party of its provider.
fn relying(state: &AppState, portal: &Portal) -> Relying {
    Relying::site(state, portal.site.id, &portal.site.slug)
}

/// Off to the provider. A link, not a form: the page's policy lets forms post only to this
/// instance, and a form's redirect to the provider would count as posting there.
pub async fn start(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(slug): Path<String>,
    Query(next): Query<Next>,
    jar: CookieJar,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let sso = sso_of(&portal)?;
    let next = return_path(&slug, next.next.as_deref());
    let went = sso::go(&state, jar, &relying(&state, &portal), &sso.provider, &next).await;
    went.or_else(|refusal| refused(&state, lang, &slug, refusal))
}

/// Back from an OIDC provider: the login it answers is taken (once), the code exchanged, the
/// ID token checked; the identity is kept under this site's cookie.
pub async fn callback(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(slug): Path<String>,
    Query(answer): Query<sso::Answer>,
    jar: CookieJar,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let sso = sso_of(&portal)?;
    if let Some(error) = answer.error {
        return refused_with(&state, lang, &slug, "sign_in.cancelled", &error);
    }
    let (Some(code), Some(login_state)) = (answer.code, answer.state) else {
        let refusal = Refusal::Failed("no code or state".into());
        return refused(&state, lang, &slug, refusal);
    };
    let relying = relying(&state, &portal);
    let answer = (code, login_state.as_str());
    match sso::oidc_answer(&state, jar, &relying, &sso.provider, answer).await {
        Ok((jar, vouched, next)) => signed_in(&state, jar, &portal, &vouched, next).await,
        Err(refusal) => refused(&state, lang, &slug, refusal),
    }
}

/// The SAML assertion consumer: the provider's answer, checked, waits for the browser.
pub async fn acs(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(slug): Path<String>,
    Form(posted): Form<sso::saml::Posted>,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let sso = sso_of(&portal)?;
    let relying = relying(&state, &portal);
    match sso::saml::answer(&state, &relying, &sso.provider, &posted).await {
        Ok(done) => Ok(Redirect::to(&done).into_response()),
        Err(refusal) => refused(&state, lang, &slug, refusal),
    }
}

/// Back in the browser that started a SAML login (its cookie proves it): the checked answer is
/// taken and the customer signed in.
pub async fn done(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(slug): Path<String>,
    Query(done): Query<sso::Done>,
    jar: CookieJar,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let relying = relying(&state, &portal);
    match sso::saml_collected(&state, jar, &relying, &done.state).await {
        Ok((jar, vouched, next)) => signed_in(&state, jar, &portal, &vouched, next).await,
        Err(refusal) => refused(&state, lang, &slug, refusal),
    }
}

/// The site's SAML service-provider metadata, at a stable address whether or not the site
/// uses SAML yet (so that an admin can register it at the provider first).
pub async fn saml_metadata(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let provider = portal.site.settings.sso.as_ref().map(|s| &s.provider);
    sso::saml::metadata_response(&relying(&state, &portal), provider)
}

/// The customer is signed in: the identity kept under this site's cookie, back to `next`.
async fn signed_in(
    state: &AppState,
    jar: CookieJar,
    portal: &Portal,
    vouched: &sso::Vouched,
    next: Option<String>,
) -> AppResult<Response> {
    let (slug, verified) = (portal.site.slug.as_str(), &vouched.verified);
    let token = domain::secret::random_token(&mut rand::rngs::OsRng);
    let attributes = serde_json::to_string(&verified.attributes).map_err(AppError::internal)?;
    let identity = store::portal_sign_in::NewIdentity {
        token_digest: &domain::secret::token_digest(&token),
        site: portal.site.id,
        issuer: &verified.issuer,
        subject: &vouched.subject,
        attributes: &attributes,
        expires: state.now().plus_seconds(IDENTITY_HOURS * 3600),
    };
    state
        .store
        .save_portal_identity(&identity, state.now())
        .await?;
    tracing::info!(site = %slug, issuer = %verified.issuer, "a customer signed in at the portal");
    let cookie = crate::cookies::private(
        (cookie_name(portal.site.id), token),
        "/",
        cookie::time::Duration::hours(IDENTITY_HOURS),
        state.config.cookie_secure,
    );
    let next = return_path(slug, next.as_deref());
    Ok((jar.add(cookie), Redirect::to(&next)).into_response())
}

/// Sign out of the portal: the identity is forgotten here (the provider's own session stays).
pub async fn sign_out(
    State(state): State<AppState>,
    Lang(lang): Lang,
    Path(slug): Path<String>,
    jar: CookieJar,
    _form: CsrfForm<NoFields>,
) -> AppResult<Response> {
    let portal = Portal::load(&state, &slug, lang).await?;
    let name = cookie_name(portal.site.id);
    if let Some(token) = jar.get(&name) {
        let digest = domain::secret::token_digest(token.value());
        state.store.forget_portal_identity(&digest).await?;
    }
    let jar = jar.remove(Cookie::build(name).path("/"));
    Ok((jar, Redirect::to(&format!("/p/{slug}"))).into_response())
}

/// A sign-in that did not work: a page in the customer's language with a way back; the
/// reason goes to the log.
fn refused(state: &AppState, lang: Language, slug: &str, refusal: Refusal) -> AppResult<Response> {
    let whom = format!("site {slug}");
    sso::refusal_page(refusal, &whom, |key| refusal_page(state, lang, slug, key))
}

/// The same for a provider's own "no" (a cancelled sign-in).
fn refused_with(
    state: &AppState,
    lang: Language,
    slug: &str,
    key: &str,
    why: &str,
) -> AppResult<Response> {
    tracing::warn!(site = %slug, reason = %why, "portal sign-in refused at the provider");
    refusal_page(state, lang, slug, key)
}

fn refusal_page(state: &AppState, lang: Language, slug: &str, key: &str) -> AppResult<Response> {
    let message = state
        .catalog
        .text(lang, key, &[])
        .unwrap_or_else(|| key.to_owned());
    let languages = crate::i18n::languages();
    let back = format!("/p/{slug}");
    let ctx = context! { lang => lang.code(), languages, message, back };
    let html = state.templates.page("portal/sign_in_refused.html", ctx)?;
    Ok((StatusCode::FORBIDDEN, html).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_returns_only_to_a_path_of_its_site() {
        assert_eq!(
            return_path("help", Some("/p/help/form/2")),
            "/p/help/form/2"
        );
        assert_eq!(return_path("help", Some("/p/other")), "/p/help");
        assert_eq!(
            return_path("help", Some("https://evil.example/p/help")),
            "/p/help"
        );
        assert_eq!(
            return_path("help", Some("/p/help//evil.example")),
            "/p/help"
        );
        assert_eq!(return_path("help", Some("/p/helpdesk")), "/p/help");
        assert_eq!(return_path("help", None), "/p/help");
        assert_eq!(return_path("help", Some("/p/help/\\evil")), "/p/help");
    }
}
