//! A representative's presence: whether they can take customers now.

use crate::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Available,
    Busy,
    Away,
    Offline,
}

impl Presence {
    pub const ALL: [Presence; 4] = [
        Presence::Available,
        Presence::Busy,
        Presence::Away,
        Presence::Offline,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Available => "available",
            Presence::Busy => "busy",
            Presence::Away => "away",
            Presence::Offline => "offline",
        }
    }
    pub fn parse(s: &str) -> Result<Presence, FieldError> {
        Presence::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(FieldError::InvalidChoice)
    }
}

impl TryFrom<String> for Presence {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Presence::parse(&s)
    }
}
