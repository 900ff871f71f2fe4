//! What a signed-in user may do inside their organization.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Configures the organization: reps, teams, sites.
    Admin,
    /// Helps customers.
    Rep,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Admin, Role::Rep];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Rep => "rep",
        }
    }

    pub fn parse(s: &str) -> Result<Role, crate::FieldError> {
        match s {
            "admin" => Ok(Role::Admin),
            "rep" => Ok(Role::Rep),
            _ => Err(crate::FieldError::InvalidChoice),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Organization admin",
            Role::Rep => "Representative",
        }
    }
}

impl TryFrom<String> for Role {
    type Error = crate::FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Role::parse(&s)
    }
}
