//! The site page's "Portal sign-in" part: the identity provider a site's customers sign in at
//! (OpenID Connect or SAML), checked as `supportal site sso` checks it. The OIDC client secret
//! is never shown again: left empty, the stored one is kept. SAML metadata comes from a URL
//! (read when saving, and again hourly while in use) or is pasted.

use crate::forms::FieldErrors;
use crate::sso::saml::{check_idp_metadata, fetch_idp_metadata};
use domain::portal_sign_in::{parse_issuer, parse_mapping, parse_url, Provider, SsoSettings};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// "oidc" or "saml".
    #[serde(default)]
    pub sso_protocol: String,
    #[serde(default)]
    pub sso_saml_metadata_url: String,
    /// Pasted metadata XML (when there is no URL).
    #[serde(default)]
    pub sso_saml_metadata: String,
    #[serde(default)]
    pub sso_saml_entity_id: String,
    /// The metadata read from `sso_saml_metadata_url` before parsing (reading is async, the
    /// parse is not).
    #[serde(skip)]
    pub fetched: Option<Result<String, String>>,
}

impl SsoForm {
    pub fn of(sso: Option<&SsoSettings>) -> SsoForm {
        let Some(sso) = sso else {
            return SsoForm {
                sso_mode: "off".into(),
                sso_scopes: "profile email".into(),
                sso_keys_without: Some("on".into()),
                sso_protocol: "oidc".into(),
                ..SsoForm::default()
            };
        };
        let mode = if sso.required { "required" } else { "optional" };
        let mut form = SsoForm::of_provider(mode, &sso.provider, &sso.map);
        form.sso_keys_without = sso.keys_without_sign_in.then(|| "on".into());
        form
    }

    /// The form for `provider` and its mapping, in `mode` ("optional" or "required").
    pub fn of_provider(mode: &str, provider: &Provider, map: &BTreeMap<String, String>) -> SsoForm {
        let mut form = SsoForm {
            sso_mode: mode.into(),
            sso_map: map
                .iter()
                .map(|(field, claim)| format!("{field}={claim}"))
                .collect::<Vec<_>>()
                .join("\n"),
            sso_scopes: "profile email".into(),
            ..SsoForm::default()
        };
        match provider {
            Provider::Oidc {
                issuer,
                client_id,
                scopes,
                ..
            } => {
                form.sso_protocol = "oidc".into();
                form.sso_issuer = issuer.clone();
                form.sso_client_id = client_id.clone();
                form.sso_scopes = scopes.join(" ");
            }
            Provider::Saml {
                metadata_url,
                metadata,
                entity_id,
            } => {
                form.sso_protocol = "saml".into();
                match metadata_url {
                    Some(url) => form.sso_saml_metadata_url = url.clone(),
                    None => form.sso_saml_metadata = metadata.clone(),
                }
                form.sso_saml_entity_id = entity_id.clone().unwrap_or_default();
            }
        }
        form
    }

    /// Read the SAML metadata URL the form names, if it names one (before `parse`).
    pub async fn fetch(&mut self) {
        let url = self.sso_saml_metadata_url.trim();
        if self.sso_protocol == "saml" && self.sso_mode != "off" && parse_url(url).is_ok() {
            self.fetched = Some(fetch_idp_metadata(url).await);
        }
    }

    /// The settings the form asks for (`stored` keeps its secret when none was typed); errors
    /// beside the fields.
    pub fn parse(
        &self,
        stored: Option<&SsoSettings>,
        errors: &mut FieldErrors,
    ) -> Option<SsoSettings> {
        let (required, provider, map) = self.parse_provider(stored.map(|s| &s.provider), errors)?;
        Some(SsoSettings {
            provider,
            map,
            required,
            keys_without_sign_in: self.sso_keys_without.is_some(),
        })
    }

    /// Whether the mode is "required", the provider and the mapping the form asks for; none
    /// when it is off or has errors (said beside the fields). `stored` keeps its OIDC secret
    /// when none was typed.
    pub fn parse_provider(
        &self,
        stored: Option<&Provider>,
        errors: &mut FieldErrors,
    ) -> Option<(bool, Provider, BTreeMap<String, String>)> {
        let required = match self.sso_mode.as_str() {
            "" | "off" => return None,
            "required" => true,
            "optional" => false,
            _ => {
                errors.add("sso_mode", domain::FieldError::InvalidChoice);
                return None;
            }
        };
        let provider = match self.sso_protocol.as_str() {
            "saml" => self.saml(errors),
            _ => self.oidc(stored, errors),
        };
        let mut map = BTreeMap::new();
        for line in self
            .sso_map
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            match parse_mapping(line) {
                Ok((field, attribute)) => {
                    map.insert(field, attribute);
                }
                Err(_) => errors.add_message(
                    "sso_map",
                    format!(
                        "“{line}” is not FIELD=ATTRIBUTE (FIELD: name, email or a custom field's key)."
                    ),
                ),
            }
        }
        Some((required, provider?, map))
    }

    /// SAML: the metadata from its URL (read by `fetch`) or as pasted, checked.
    fn saml(&self, errors: &mut FieldErrors) -> Option<Provider> {
        let url = self.sso_saml_metadata_url.trim();
        let entity_id = Some(self.sso_saml_entity_id.trim())
            .filter(|e| !e.is_empty())
            .map(str::to_owned);
        let (metadata_url, metadata) = if !url.is_empty() {
            let url = errors.check("sso_saml_metadata_url", parse_url(url))?;
            match &self.fetched {
                Some(Ok(xml)) => (Some(url), xml.clone()),
                Some(Err(why)) => {
                    let why = format!("The metadata could not be read: {why}.");
                    errors.add_message("sso_saml_metadata_url", why);
                    return None;
                }
                None => {
                    let why = "The metadata could not be read.";
                    errors.add_message("sso_saml_metadata_url", why);
                    return None;
                }
            }
        } else if !self.sso_saml_metadata.trim().is_empty() {
            (None, self.sso_saml_metadata.trim().to_owned())
        } else {
            errors.add_message(
                "sso_saml_metadata_url",
                "Give the address of the provider's metadata, or paste the metadata below.",
            );
            return None;
        };
        let field = match metadata_url {
            Some(_) => "sso_saml_metadata_url",
            None => "sso_saml_metadata",
        };
        if let Err(why) = check_idp_metadata(&metadata) {
            errors.add_message(field, format!("The metadata is not usable: {why}."));
            return None;
        }
        Some(Provider::Saml {
            metadata_url,
            metadata,
            entity_id,
        })
    }

    /// OpenID Connect: issuer, client id and secret (the stored one kept when none is typed).
    fn oidc(&self, stored: Option<&Provider>, errors: &mut FieldErrors) -> Option<Provider> {
        let issuer = errors.check("sso_issuer", parse_issuer(&self.sso_issuer));
        let client_id = self.sso_client_id.trim().to_owned();
        if client_id.is_empty() {
            errors.add("sso_client_id", domain::FieldError::Required);
        }
        let kept = stored.and_then(|s| match s {
            Provider::Oidc { client_secret, .. } => Some(client_secret.clone()),
            Provider::Saml { .. } => None,
        });
        let client_secret = match (self.sso_client_secret.as_str(), kept) {
            ("", Some(kept)) => kept,
            ("", None) => {
                errors.add("sso_client_secret", domain::FieldError::Required);
                String::new()
            }
            (typed, _) => typed.to_owned(),
        };
        let scopes = self
            .sso_scopes
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        Some(Provider::Oidc {
            issuer: issuer?,
            client_id,
            client_secret,
            scopes,
        })
    }
}
