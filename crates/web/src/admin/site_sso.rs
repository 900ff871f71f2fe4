//! The site page's "Portal sign-in" part: the OpenID Connect provider a site's customers sign
//! in at, checked as `supportal site sso` checks it. The client secret is never shown again:
//! left empty, the stored one is kept.

use crate::forms::FieldErrors;
use domain::portal_sign_in::{parse_issuer, parse_mapping, Provider, SsoSettings};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize, Default, Clone)]
pub struct SsoForm {
    /// "off", "optional" or "required".
    #[serde(default)]
    pub sso_mode: String,
    #[serde(default)]
    pub sso_issuer: String,
    #[serde(default)]
    pub sso_client_id: String,
    #[serde(default, skip_serializing)]
    pub sso_client_secret: String,
    /// Space-separated, besides openid.
    #[serde(default)]
    pub sso_scopes: String,
    /// One `FIELD=CLAIM` per line.
    #[serde(default)]
    pub sso_map: String,
    #[serde(default)]
    pub sso_keys_without: Option<String>,
}

impl SsoForm {
    pub fn of(sso: Option<&SsoSettings>) -> SsoForm {
        let Some(sso) = sso else {
            return SsoForm {
                sso_mode: "off".into(),
                sso_scopes: "profile email".into(),
                sso_keys_without: Some("on".into()),
                ..SsoForm::default()
            };
        };
        let Provider::Oidc {
            issuer,
            client_id,
            scopes,
            ..
        } = &sso.provider;
        SsoForm {
            sso_mode: if sso.required { "required" } else { "optional" }.into(),
            sso_issuer: issuer.clone(),
            sso_client_id: client_id.clone(),
            sso_client_secret: String::new(),
            sso_scopes: scopes.join(" "),
            sso_map: sso
                .map
                .iter()
                .map(|(field, claim)| format!("{field}={claim}"))
                .collect::<Vec<_>>()
                .join("\n"),
            sso_keys_without: sso.keys_without_sign_in.then(|| "on".into()),
        }
    }

    /// The settings the form asks for (`stored` keeps its secret when none was typed); errors
    /// beside the fields.
    pub fn parse(
        &self,
        stored: Option<&SsoSettings>,
        errors: &mut FieldErrors,
    ) -> Option<SsoSettings> {
        let required = match self.sso_mode.as_str() {
            "" | "off" => return None,
            "required" => true,
            "optional" => false,
            _ => {
                errors.add("sso_mode", domain::FieldError::InvalidChoice);
                return None;
            }
        };
        let issuer = errors.check("sso_issuer", parse_issuer(&self.sso_issuer));
        let client_id = self.sso_client_id.trim().to_owned();
        if client_id.is_empty() {
            errors.add("sso_client_id", domain::FieldError::Required);
        }
        let kept = stored.map(|s| match &s.provider {
            Provider::Oidc { client_secret, .. } => client_secret.clone(),
        });
        let client_secret = match (self.sso_client_secret.as_str(), kept) {
            ("", Some(kept)) => kept,
            ("", None) => {
                errors.add("sso_client_secret", domain::FieldError::Required);
                String::new()
            }
            (typed, _) => typed.to_owned(),
        };
        let mut map = std::collections::BTreeMap::new();
        for line in self
            .sso_map
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            match parse_mapping(line) {
                Ok((field, claim)) => {
                    map.insert(field, claim);
                }
                Err(_) => errors.add_message(
                    "sso_map",
                    format!(
                        "“{line}” is not FIELD=CLAIM (FIELD: name, email or a custom field's key)."
                    ),
                ),
            }
        }
        let scopes = self
            .sso_scopes
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        Some(SsoSettings {
            provider: Provider::Oidc {
                issuer: issuer?,
                client_id,
                client_secret,
                scopes,
            },
            map,
            required,
            keys_without_sign_in: self.sso_keys_without.is_some(),
        })
    }
}
