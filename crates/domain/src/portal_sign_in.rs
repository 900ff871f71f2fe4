//! Portal sign-in: a site may have its customers sign in at an identity provider first. What
//! the provider says of them (their attributes) fills the request's name and mapped fields,
//! whatever the form sent; the rep sees them as verified.

use crate::intake::Intake;
use crate::text::DisplayName;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A site's identity provider and what it decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoSettings {
    pub provider: Provider,
    /// Request field (`name`, `email`, or a custom field's key) → the provider's attribute.
    pub map: BTreeMap<String, String>,
    /// Customers must sign in before they ask for help.
    pub required: bool,
    /// A session key a rep gave works without signing in.
    pub keys_without_sign_in: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "protocol", rename_all = "lowercase")]
pub enum Provider {
    /// OpenID Connect: discovery from the issuer, the code flow with PKCE.
    Oidc {
        issuer: String,
        client_id: String,
        client_secret: String,
        /// Besides `openid`.
        scopes: Vec<String>,
    },
    /// SAML 2.0: the identity provider's metadata (its sign-in address and signing
    /// certificates), from a URL that is read again hourly, or pasted.
    Saml {
        metadata_url: Option<String>,
        /// The metadata as last read or pasted (what is used when the URL does not answer).
        metadata: String,
        /// This site's entity id at the provider; its metadata address when not set.
        entity_id: Option<String>,
    },
}

impl Provider {
    /// Who vouches, as the rep and the transcript see it: the OIDC issuer, or the SAML
    /// metadata's address (or "SAML" for pasted metadata until its entity id is read).
    pub fn label(&self) -> &str {
        match self {
            Provider::Oidc { issuer, .. } => issuer,
            Provider::Saml { metadata_url, .. } => metadata_url.as_deref().unwrap_or("SAML"),
        }
    }
}

impl SsoSettings {
    /// The attribute that gives `field`: the mapping's, else the standard claim of that name
    /// for `name` and `email`.
    pub fn attribute_for<'a>(&'a self, field: &'a str) -> Option<&'a str> {
        attribute_for(&self.map, field)
    }
}

fn attribute_for<'a>(map: &'a BTreeMap<String, String>, field: &'a str) -> Option<&'a str> {
    match map.get(field) {
        Some(attribute) => Some(attribute),
        None if field == "name" || field == "email" => Some(field),
        None => None,
    }
}

/// How an organization's staff sign in at its identity provider (the same machinery as the
/// portal's). A member is matched by the email the provider vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffSso {
    pub provider: Provider,
    /// `name` and `email` → the provider's attribute (default: attributes of those names).
    pub map: BTreeMap<String, String>,
    /// Passwords keep working beside the provider. When not, only admins keep theirs: the way
    /// back in when the provider fails.
    pub passwords_too: bool,
    /// Someone the provider vouches for who has no account here gets one, as a rep in
    /// `default_team`; else they are refused.
    pub create_accounts: bool,
    pub default_team: Option<crate::TeamId>,
}

impl StaffSso {
    pub fn attribute_for<'a>(&'a self, field: &'a str) -> Option<&'a str> {
        attribute_for(&self.map, field)
    }

    /// Whether someone of `role` may still sign in with a password.
    pub fn password_allowed(&self, role: crate::Role) -> bool {
        self.passwords_too || role == crate::Role::Admin
    }
}

/// An issuer address: http or https, no spaces, no trailing slash kept (what discovery adds
/// `/.well-known/openid-configuration` to).
pub fn parse_issuer(raw: &str) -> Result<String, crate::FieldError> {
    let issuer = raw.trim().trim_end_matches('/');
    if issuer.is_empty() {
        return Err(crate::FieldError::Required);
    }
    let scheme_ok = issuer.starts_with("https://") || issuer.starts_with("http://");
    let host = issuer.split("://").nth(1).unwrap_or_default();
    if !scheme_ok || host.is_empty() || issuer.contains(char::is_whitespace) {
        return Err(crate::FieldError::InvalidUrl);
    }
    Ok(issuer.to_owned())
}

/// An http or https address, as typed (a SAML metadata URL).
pub fn parse_url(raw: &str) -> Result<String, crate::FieldError> {
    let url = raw.trim();
    parse_issuer(url)?;
    Ok(url.to_owned())
}

/// One mapping `FIELD=ATTRIBUTE`: FIELD is `name`, `email` or a custom field's key.
pub fn parse_mapping(raw: &str) -> Result<(String, String), crate::FieldError> {
    let (field, attribute) = raw
        .split_once('=')
        .ok_or(crate::FieldError::InvalidChoice)?;
    let (field, attribute) = (field.trim(), attribute.trim());
    let field = match field {
        "name" | "email" => field.to_owned(),
        other => crate::intake::parse_field_key(other)?,
    };
    let attribute_ok = !attribute.is_empty()
        && attribute.len() <= 100
        && attribute.chars().all(|c| c.is_ascii_graphic());
    if !attribute_ok {
        return Err(crate::FieldError::InvalidChoice);
    }
    Ok((field, attribute.to_owned()))
}

/// What a provider said of a signed-in customer: attribute → value (text only).
pub type Attributes = BTreeMap<String, String>;

/// The request as the provider vouches for it: the name and every mapped custom field from
/// the attributes. Also the fields whose typed value differed from the provider's (a tampered
/// form, or a stale page), for the log.
pub fn vouched(
    intake: &Intake,
    sso: &SsoSettings,
    attributes: &Attributes,
) -> (Intake, Vec<String>) {
    let mut vouched = intake.clone();
    let mut differed = Vec::new();
    if let Some(name) = sso
        .attribute_for("name")
        .and_then(|a| attributes.get(a))
        .and_then(|v| DisplayName::parse(v).ok())
    {
        if name != intake.name {
            differed.push("name".to_owned());
        }
        vouched.name = name;
    }
    for (field, attribute) in &sso.map {
        if field == "name" || field == "email" {
            continue;
        }
        if let Some(value) = attributes.get(attribute) {
            if intake.fields.get(field) != Some(value) {
                differed.push(field.clone());
            }
            vouched.fields.insert(field.clone(), value.clone());
        }
    }
    (vouched, differed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sso() -> SsoSettings {
        SsoSettings {
            provider: Provider::Oidc {
                issuer: "https://idp.example".into(),
                client_id: "c".into(),
                client_secret: "s".into(),
                scopes: vec![],
            },
            map: [("customer_number".to_owned(), "customer_no".to_owned())].into(),
            required: true,
            keys_without_sign_in: false,
        }
    }

    #[test]
    fn the_provider_s_name_and_mapped_fields_win_over_what_was_typed() {
        let typed = Intake {
            name: DisplayName::parse("Mallory").unwrap(),
            company: None,
            company_code: None,
            description: Some("Help".into()),
            fields: [("customer_number".to_owned(), "X-1".to_owned())].into(),
        };
        let attributes: Attributes = [
            ("name".to_owned(), "Quinn Verified".to_owned()),
            ("customer_no".to_owned(), "C-1001".to_owned()),
        ]
        .into();
        let (vouched, differed) = vouched(&typed, &sso(), &attributes);
        assert_eq!(vouched.name.as_str(), "Quinn Verified");
        assert_eq!(vouched.fields["customer_number"], "C-1001");
        assert_eq!(
            vouched.description.as_deref(),
            Some("Help"),
            "not mapped: as typed"
        );
        assert_eq!(differed, vec!["name", "customer_number"]);
    }

    #[test]
    fn issuers_and_mappings_are_checked() {
        assert_eq!(
            parse_issuer(" https://idp.example/ ").unwrap(),
            "https://idp.example"
        );
        assert_eq!(parse_issuer(""), Err(crate::FieldError::Required));
        assert_eq!(
            parse_issuer("idp.example"),
            Err(crate::FieldError::InvalidUrl)
        );
        assert_eq!(parse_issuer("https://"), Err(crate::FieldError::InvalidUrl));
        assert_eq!(
            parse_mapping("email=mail").unwrap(),
            ("email".into(), "mail".into())
        );
        assert_eq!(
            parse_mapping("customer_number = customer_no").unwrap(),
            ("customer_number".into(), "customer_no".into())
        );
        assert!(parse_mapping("name").is_err());
        assert!(parse_mapping("name=").is_err());
        assert!(parse_mapping("Bad Key=x").is_err());
    }

    #[test]
    fn what_matches_is_not_reported() {
        let attributes: Attributes = [("name".to_owned(), "Quinn".to_owned())].into();
        let typed = Intake {
            name: DisplayName::parse("Quinn").unwrap(),
            company: None,
            company_code: None,
            description: None,
            fields: BTreeMap::new(),
        };
        assert!(vouched(&typed, &sso(), &attributes).1.is_empty());
    }
}
