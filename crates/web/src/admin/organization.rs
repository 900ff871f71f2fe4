use super::{admin_page, own_organization};
use crate::csrf::CsrfForm;
use crate::error::AppResult;
use crate::extract::AdminUser;
use crate::forms::{FieldErrors, Outcome};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use domain::portal_sign_in::StaffSso;
use domain::session_key;
use domain::text::DisplayName;
use domain::SessionLimit;
use minijinja::context;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize, Default)]
pub struct OrgForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    default_session_limit: String,
    #[serde(default)]
    key_digits: String,
    #[serde(default)]
    key_max_validity: String,
    /// "on": every member signs in with a second factor.
    #[serde(default)]
    require_two_factor: Option<String>,
    /// Staff sign-in at the organization's identity provider: the mode ("off", "optional":
    /// passwords too, "required": single sign-on only, admins keep their password) and the
    /// provider, as on a site's page.
    #[serde(flatten)]
    sso: super::site_sso::SsoForm,
    /// "on": someone the provider vouches for who has no account gets one.
    #[serde(default)]
    staff_create_accounts: Option<String>,
    /// The team such new accounts join ("" for none).
    #[serde(default)]
    staff_default_team: String,
}

impl OrgForm {
    fn of(org: &store::orgs::Organization) -> OrgForm {
        let staff = staff_sso_of(org);
        let sso = match &staff {
            Some(s) => {
                let mode = if s.passwords_too {
                    "optional"
                } else {
                    "required"
                };
                super::site_sso::SsoForm::of_provider(mode, &s.provider, &s.map)
            }
            None => super::site_sso::SsoForm::of(None),
        };
        OrgForm {
            name: org.name.clone(),
            default_session_limit: org.default_session_limit.to_string(),
            key_digits: org.key_digits.to_string(),
            key_max_validity: org.key_max_validity_minutes.to_string(),
            require_two_factor: org.require_two_factor.then(|| "on".into()),
            sso,
            staff_create_accounts: staff
                .as_ref()
                .filter(|s| s.create_accounts)
                .map(|_| "on".into()),
            staff_default_team: staff
                .and_then(|s| s.default_team)
                .map(|t| t.0.to_string())
                .unwrap_or_default(),
        }
    }
}

/// How the organization's staff sign in at its identity provider, if it set one.
pub fn staff_sso_of(org: &store::orgs::Organization) -> Option<StaffSso> {
    serde_json::from_str(org.staff_sso.as_deref()?).ok()
}

/// The guessing odds for the chosen key settings, as the page shows them.
#[derive(Serialize)]
struct Odds {
    per_key: String,
    per_day: String,
    wrong_keys_per_hour: u32,
}

fn odds(state: &AppState, digits: usize, minutes: i64) -> Odds {
    let per_hour = state.config.failed_keys_per_org_per_hour;
    let over = |minutes| session_key::guesses_within(u64::from(per_hour), minutes);
    Odds {
        per_key: session_key::one_in(session_key::guess_odds(digits, over(minutes))),
        per_day: session_key::one_in(session_key::guess_odds(digits, over(24 * 60))),
        wrong_keys_per_hour: per_hour,
    }
}

async fn render(
    state: &AppState,
    me: &AdminUser,
    form: &OrgForm,
    slug: &str,
    outcome: Outcome,
) -> AppResult<Response> {
    let relying = crate::sso::Relying::staff(state, me.org_id(), slug);
    let (sso_callback, sp_metadata, sp_acs) = (
        relying.callback_url(),
        relying.sp_metadata_url(),
        relying.acs_url(),
    );
    let staff_sign_in = format!("{}/login/sso/{slug}", state.config.public_url);
    let teams = state.store.teams(me.org_id()).await?;
    let digits = session_key::parse_digits(&form.key_digits).ok();
    let minutes = session_key::parse_validity(&form.key_max_validity).ok();
    let odds = digits.zip(minutes).map(|(d, m)| odds(state, d, m));
    let validities: Vec<(String, String)> = crate::rep_keys::validity_choices(i64::MAX)
        .into_iter()
        .map(|(minutes, label)| (minutes.to_string(), label))
        .collect();
    admin_page(
        state,
        me,
        "organization",
        "admin/organization.html",
        outcome,
        context! { form, slug, odds, validities, sso_callback, sp_metadata, sp_acs, staff_sign_in, teams },
    )
}

pub async fn show(State(state): State<AppState>, me: AdminUser) -> AppResult<Response> {
    let org = own_organization(&state, &me).await?;
    let form = OrgForm::of(&org);
    render(&state, &me, &form, &org.slug, Outcome::fresh()).await
}

pub async fn update(
    State(state): State<AppState>,
    me: AdminUser,
    form: CsrfForm<OrgForm>,
) -> AppResult<Response> {
    let org = own_organization(&state, &me).await?;
    let mut f = form.value;
    f.sso.fetch().await;
    let mut errors = FieldErrors::default();
    let staff_sso = staff_sso_asked(&state, &me, &org, &f, &mut errors).await?;
    let name = errors.check("name", DisplayName::parse(&f.name));
    let limit = errors.check(
        "default_session_limit",
        SessionLimit::parse(&f.default_session_limit),
    );
    let digits = errors.check(
        "key_digits",
        domain::session_key::parse_digits(&f.key_digits),
    );
    let minutes = errors.check(
        "key_max_validity",
        session_key::parse_validity(&f.key_max_validity),
    );
    let per_hour = u64::from(state.config.failed_keys_per_org_per_hour);
    if let (Some(d), Some(m)) = (digits, minutes) {
        if !session_key::validity_allowed(d, m, per_hour) {
            let message = format!(
                "Keys of {d} digits valid {} could be guessed with a chance of {}. Choose a \
                 shorter validity or more digits.",
                crate::rep_keys::validity_label(m),
                odds(&state, d, m).per_key,
            );
            errors.add_message("key_max_validity", message);
        }
    }
    let (Some(name), Some(limit), Some(digits), Some(minutes), true) =
        (name, limit, digits, minutes, errors.is_empty())
    else {
        return render(&state, &me, &f, &org.slug, Outcome::invalid(errors)).await;
    };
    let keys = store::orgs::KeySettings {
        digits: digits as i64,
        max_validity_minutes: minutes,
    };
    state
        .store
        .update_organization(org.id, &name, limit.get(), keys)
        .await?;
    let require = f.require_two_factor.is_some();
    if require != org.require_two_factor {
        state.store.set_require_two_factor(org.id, require).await?;
        let detail = if require { "required" } else { "optional" };
        me.audit(&state, "two_factor.policy", detail).await?;
    }
    if staff_sso != staff_sso_of(&org) {
        let json = staff_sso.as_ref().map(serde_json::to_string).transpose();
        let json = json.map_err(crate::error::AppError::internal)?;
        state.store.set_staff_sso(org.id, json.as_deref()).await?;
        let detail = match &staff_sso {
            None => "passwords only",
            Some(s) if s.passwords_too => "passwords and single sign-on",
            Some(_) => "single sign-on only",
        };
        me.audit(&state, "staff_sso.policy", detail).await?;
    }
    me.audit(&state, "organization.updated", name.as_str())
        .await?;
    render(&state, &me, &f, &org.slug, Outcome::done("Settings saved.")).await
}

/// The staff sign-in the form asks for (errors beside the fields): the provider as a site's,
/// and a default team of this organization for accounts made at sign-in.
async fn staff_sso_asked(
    state: &AppState,
    me: &AdminUser,
    org: &store::orgs::Organization,
    f: &OrgForm,
    errors: &mut FieldErrors,
) -> AppResult<Option<StaffSso>> {
    let stored = staff_sso_of(org);
    let asked = f
        .sso
        .parse_provider(stored.as_ref().map(|s| &s.provider), errors);
    let team = match f.staff_default_team.trim() {
        "" => None,
        id => {
            let teams = state.store.teams(me.org_id()).await?;
            let found = teams.iter().find(|t| t.id.0.to_string() == id);
            if found.is_none() {
                errors.add("staff_default_team", domain::FieldError::InvalidChoice);
            }
            found.map(|t| t.id)
        }
    };
    Ok(asked.map(|(required, provider, map)| StaffSso {
        provider,
        map,
        passwords_too: !required,
        create_accounts: f.staff_create_accounts.is_some(),
        default_team: team,
    }))
}
