//! API tokens: what an organization's admin lets another system do through `/api/v1`. A token
//! is shown once; only its digest is kept (`secret::token_digest`), with a short prefix that
//! lets an admin tell tokens apart in a list.

use crate::secret::random_token;
use crate::FieldError;
use rand::RngCore;
use serde::{Deserialize, Serialize};

/// Every token starts so: secret scanners and people recognise it (`spt` = Supportal token).
pub const PREFIX: &str = "spt_";

/// How much of a token the admin pages keep showing after it was created.
const SHOWN: usize = PREFIX.len() + 6;

/// What a token may do. A call needs its route's scope; scopes do not imply one another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// Read support sessions, their events, transcripts and surveys; reps, teams, issue types.
    #[serde(rename = "sessions:read")]
    ReadSessions,
    /// Post customer notices and end them.
    #[serde(rename = "notices:write")]
    WriteNotices,
    /// Issue session keys for a rep and revoke them.
    #[serde(rename = "keys:write")]
    IssueKeys,
    /// Read sites and change their texts and schedules.
    #[serde(rename = "sites:write")]
    ManageSites,
    /// Read the reports.
    #[serde(rename = "reports:read")]
    ReadReports,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::ReadSessions,
        Scope::WriteNotices,
        Scope::IssueKeys,
        Scope::ManageSites,
        Scope::ReadReports,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ReadSessions => "sessions:read",
            Scope::WriteNotices => "notices:write",
            Scope::IssueKeys => "keys:write",
            Scope::ManageSites => "sites:write",
            Scope::ReadReports => "reports:read",
        }
    }

    /// What the scope allows, in English (the admin pages translate it).
    pub fn label(self) -> &'static str {
        match self {
            Scope::ReadSessions => "Read support sessions, reps, teams and issue types",
            Scope::WriteNotices => "Post and end customer notices",
            Scope::IssueKeys => "Issue and revoke session keys",
            Scope::ManageSites => "Read sites and change their texts and schedules",
            Scope::ReadReports => "Read reports",
        }
    }

    pub fn parse(s: &str) -> Result<Scope, FieldError> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or(FieldError::InvalidChoice)
    }
}

/// A token's scopes, at least one, each once, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// From the names an admin ticked (or a stored list): none is refused, an unknown one too.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Scopes, FieldError> {
        let mut scopes = names
            .into_iter()
            .filter(|name| !name.is_empty())
            .map(Scope::parse)
            .collect::<Result<Vec<_>, _>>()?;
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(FieldError::Required);
        }
        Ok(Scopes(scopes))
    }

    /// As stored: the names separated by spaces (as OAuth writes scopes).
    pub fn stored(&self) -> String {
        self.0
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn from_stored(stored: &str) -> Result<Scopes, FieldError> {
        Scopes::parse(stored.split(' '))
    }

    pub fn allows(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

/// A new token: the prefix and 256 random bits.
pub fn new_token(rng: &mut impl RngCore) -> String {
    format!("{PREFIX}{}", random_token(rng))
}

/// The part of a token the admin pages show after creation ("spt_Ab3dE9…").
pub fn shown_part(token: &str) -> String {
    token.chars().take(SHOWN).collect()
}

/// The token an `Authorization` header carries: `Bearer spt_…` (case-insensitive scheme).
pub fn from_authorization(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && token.starts_with(PREFIX)).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn scopes_parse_sorted_once_and_refuse_none_or_unknown() {
        let scopes = Scopes::parse(["reports:read", "sessions:read", "reports:read"]).unwrap();
        assert_eq!(scopes.stored(), "sessions:read reports:read");
        assert_eq!(Scopes::from_stored(&scopes.stored()).unwrap(), scopes);
        assert!(scopes.allows(Scope::ReadReports));
        assert!(!scopes.allows(Scope::WriteNotices));
        assert_eq!(Scopes::parse([]), Err(FieldError::Required));
        assert_eq!(Scopes::parse([""]), Err(FieldError::Required));
        assert_eq!(
            Scopes::parse(["sessions:read", "admin"]),
            Err(FieldError::InvalidChoice)
        );
    }

    #[test]
    fn tokens_carry_the_prefix_and_are_read_from_a_bearer_header() {
        let token = new_token(&mut StdRng::seed_from_u64(1));
        assert!(token.starts_with("spt_"));
        assert_eq!(token.len(), 4 + 43);
        assert_eq!(shown_part(&token).len(), 10);
        assert_eq!(
            from_authorization(&format!("Bearer {token}")),
            Some(token.as_str())
        );
        assert_eq!(
            from_authorization(&format!("bearer  {token} ")),
            Some(token.as_str())
        );
        assert_eq!(from_authorization(&format!("Basic {token}")), None);
        assert_eq!(from_authorization("Bearer something-else"), None);
        assert_eq!(from_authorization(""), None);
    }
}
