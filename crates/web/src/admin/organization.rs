use super::{admin_page, own_organization};
use crate::csrf::CsrfForm;
use crate::error::AppResult;
use crate::extract::AdminUser;
use crate::forms::{FieldErrors, Outcome};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
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

fn render(
    state: &AppState,
    me: &AdminUser,
    form: &OrgForm,
    slug: &str,
    outcome: Outcome,
) -> AppResult<Response> {
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
        context! { form, slug, odds, validities },
    )
}

pub async fn show(State(state): State<AppState>, me: AdminUser) -> AppResult<Response> {
    let org = own_organization(&state, &me).await?;
    let form = OrgForm {
        name: org.name,
        default_session_limit: org.default_session_limit.to_string(),
        key_digits: org.key_digits.to_string(),
        key_max_validity: org.key_max_validity_minutes.to_string(),
        require_two_factor: org.require_two_factor.then(|| "on".into()),
    };
    render(&state, &me, &form, &org.slug, Outcome::fresh())
}

pub async fn update(
    State(state): State<AppState>,
    me: AdminUser,
    form: CsrfForm<OrgForm>,
) -> AppResult<Response> {
    let org = own_organization(&state, &me).await?;
    let f = form.value;
    let mut errors = FieldErrors::default();
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
        return render(&state, &me, &f, &org.slug, Outcome::invalid(errors));
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
    me.audit(&state, "organization.updated", name.as_str())
        .await?;
    render(&state, &me, &f, &org.slug, Outcome::done("Settings saved."))
}
