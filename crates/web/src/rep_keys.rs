//! Keys a rep hands out: a session key (the customer lands straight in the rep's queue) or a
//! one-time access key for a private iOS profile. Shown with a join link and a message ready to
//! copy; at most 8 live at once; revocable.

use crate::error::{AppError, AppResult};
use crate::extract::CurrentUser;
use crate::forms::FieldErrors;
use crate::state::AppState;
use domain::session_key::{self, SessionKey, MAX_LIVE_PER_REP};
use domain::FieldError;
use serde::{Deserialize, Serialize};
use store::audit::AuditRow;
use store::keys::{Issued, KeyRecord, KeyTarget, NewKey};

#[derive(Serialize)]
pub struct LiveKey {
    id: i64,
    spaced: String,
    purpose: String,
    pub link: String,
    pub message: String,
    expires_at: i64,
}

/// The rep's live keys, described for their account page.
pub async fn live_keys(state: &AppState, me: &CurrentUser) -> AppResult<Vec<LiveKey>> {
    let keys = state
        .store
        .live_keys(me.user.org_id, me.user.id, state.now())
        .await?;
    let mut shown = Vec::new();
    for key in keys {
        shown.push(describe(state, &key).await?);
    }
    Ok(shown)
}

/// A key as its rep (or another system) hands it on: the link and a message to send.
pub async fn describe(state: &AppState, key: &KeyRecord) -> AppResult<LiveKey> {
    let spaced = SessionKey::parse(&key.key_value)
        .map(|k| k.spaced())
        .unwrap_or_else(|_| key.key_value.clone());
    let base = &state.config.public_url;
    let (purpose, link, message) = match key.target() {
        KeyTarget::Profile(id) => {
            let (name, site) = match state.store.ios_profile(id).await? {
                Some((profile, site)) => (profile.name, Some(domain::SiteId(site))),
                None => (String::new(), None),
            };
            // The portal page of the profile's site, where the profile and its key field are.
            let site = match site {
                Some(site) => state.store.site(key.org_id, site).await?,
                None => None,
            };
            let link = match site {
                Some(site) => format!("{base}{}", crate::paths::portal(&site.slug, "")),
                None => format!("{base}/"),
            };
            let message = format!("To install the configuration profile \u{201c}{name}\u{201d}, open {link} on your iPhone or iPad and enter the access key {spaced} beside it.");
            (format!("Access key for profile {name}"), link, message)
        }
        KeyTarget::Presentation(id) => {
            let title = state
                .store
                .presentation(id)
                .await?
                .map(|p| p.title)
                .unwrap_or_default();
            let link = format!("{base}{}", crate::paths::presentation(&key.key_value));
            let message = format!("To watch the presentation \u{201c}{title}\u{201d} by {} of {}, open {link} or enter the presentation key {spaced} at {base}/.", key.rep_name, key.org_name);
            (format!("Presentation key for {title}"), link, message)
        }
        KeyTarget::Support => {
            let link = format!("{base}/join/{}", key.key_value);
            let message = format!("To connect with {} of {}, open {link} or enter the session key {spaced} at {base}/.", key.rep_name, key.org_name);
            ("Session key".to_owned(), link, message)
        }
    };
    Ok(LiveKey {
        id: key.id,
        spaced,
        purpose,
        link,
        message,
        expires_at: key.expires_at,
    })
}

/// What the keys panel shows (account page and console): live keys, the rep's organization's
/// private profiles, the validity choices, and which page the forms return to.
pub async fn panel(
    state: &AppState,
    me: &CurrentUser,
    return_to: &str,
) -> AppResult<minijinja::Value> {
    let keys = live_keys(state, me).await?;
    let profiles = state.store.private_ios_profiles(me.user.org_id).await?;
    let longest = organization(state, me).await?.key_max_validity_minutes;
    let validities = validity_choices(longest);
    Ok(minijinja::context! { keys, profiles, validities, keys_return_to => return_to })
}

/// The validities a rep may choose, up to `longest` minutes, as (minutes, label).
pub fn validity_choices(longest: i64) -> Vec<(i64, String)> {
    session_key::VALIDITY_MINUTES
        .iter()
        .filter(|m| **m <= longest)
        .map(|m| (*m, validity_label(*m)))
        .collect()
}

pub fn validity_label(minutes: i64) -> String {
    match minutes {
        m if m < 60 => format!("{m} minutes"),
        60 => "1 hour".into(),
        m if m < 1440 => format!("{} hours", m / 60),
        _ => "1 day".into(),
    }
}

pub async fn organization(
    state: &AppState,
    me: &CurrentUser,
) -> AppResult<store::orgs::Organization> {
    state
        .store
        .organization(me.user.org_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Where the keys forms go back to.
pub fn return_path(return_to: &str) -> &'static str {
    if return_to == "console" {
        crate::paths::CONSOLE
    } else {
        crate::paths::ACCOUNT
    }
}

#[derive(Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    validity: String,
    #[serde(default)]
    pub return_to: String,
}

#[derive(Deserialize)]
pub struct ReturnTo {
    #[serde(default)]
    pub return_to: String,
}

/// Generate a key; Err(errors) to show beside the form.
pub async fn generate(
    state: &AppState,
    me: &CurrentUser,
    form: &NewKeyForm,
) -> AppResult<Result<(), FieldErrors>> {
    let mut errors = FieldErrors::default();
    let minutes = errors.check("validity", session_key::parse_validity(&form.validity));
    let target = match form.purpose.as_str() {
        "support" => Some(KeyTarget::Support),
        other => match other
            .strip_prefix("profile:")
            .and_then(|id| id.parse::<i64>().ok())
        {
            Some(id)
                if state
                    .store
                    .private_ios_profiles(me.user.org_id)
                    .await?
                    .iter()
                    .any(|p| p.id == id) =>
            {
                Some(KeyTarget::Profile(id))
            }
            _ => {
                errors.add("purpose", FieldError::InvalidChoice);
                None
            }
        },
    };
    let org = organization(state, me).await?;
    // The organization's admin may have shortened the longest validity (short keys need it).
    let minutes = minutes.filter(|m| match *m <= org.key_max_validity_minutes {
        true => true,
        false => {
            let longest = validity_label(org.key_max_validity_minutes);
            errors.add_message(
                "validity",
                format!("Keys here are valid {longest} at most."),
            );
            false
        }
    });
    let (Some(minutes), Some(target), true) = (minutes, target, errors.is_empty()) else {
        return Ok(Err(errors));
    };
    let detail = format!("{minutes} min");
    let issuer = Issuer {
        rep: me.user.id,
        actor: Some(me.user.id),
        detail: &detail,
    };
    match issue(state, &org, issuer, target, minutes).await? {
        Some(_) => Ok(Ok(())),
        None => {
            errors.add_message("purpose", at_cap_message());
            Ok(Err(errors))
        }
    }
}

/// Why a rep cannot have another key now.
pub fn at_cap_message() -> String {
    format!("You already have {MAX_LIVE_PER_REP} live keys: revoke one first.")
}

/// Whose key it is, who issued it (None: an API token) and what the audit row says.
pub struct Issuer<'a> {
    pub rep: domain::UserId,
    pub actor: Option<domain::UserId>,
    pub detail: &'a str,
}

/// Issue a key of `target` for `issuer.rep`, valid `minutes`, with its audit row: the key, or
/// None when the rep already holds as many live keys as they may.
pub async fn issue(
    state: &AppState,
    org: &store::orgs::Organization,
    issuer: Issuer<'_>,
    target: KeyTarget,
    minutes: i64,
) -> AppResult<Option<SessionKey>> {
    let now = state.now();
    // Digits collide with another live key now and then: draw again (a few times is plenty).
    for _ in 0..5 {
        let key = SessionKey::generate(&mut rand::rngs::OsRng, org.key_digits as usize);
        let new = NewKey {
            org: org.id,
            rep: issuer.rep,
            site: None,
            key: &key,
            target,
            expires_at: now.plus_seconds(minutes * 60),
        };
        let audit = AuditRow {
            org: Some(org.id),
            actor: issuer.actor,
            action: "key.issued",
            detail: issuer.detail,
        };
        match state
            .store
            .issue_key(&new, MAX_LIVE_PER_REP, &audit, now)
            .await
        {
            Ok(Issued::Key(_)) => return Ok(Some(key)),
            Ok(Issued::AtCap { .. }) => return Ok(None),
            Err(store::StoreError::Conflict(_)) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(AppError::Internal(anyhow::anyhow!(
        "no free key after 5 draws"
    )))
}

pub async fn revoke(state: &AppState, me: &CurrentUser, id: &str) -> AppResult<()> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    if !state
        .store
        .revoke_key(me.user.org_id, me.user.id, id, state.now())
        .await?
    {
        return Err(AppError::NotFound);
    }
    state
        .store
        .record_audit(
            Some(me.user.org_id),
            Some(me.user.id),
            "key.revoked",
            "",
            state.now(),
        )
        .await?;
    Ok(())
}
