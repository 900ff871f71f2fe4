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

/// Whether a rep holding `held` sessions may take another under their `limit`.
pub fn has_room(held: i64, limit: i64) -> bool {
    held < limit
}

impl TryFrom<String> for Presence {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Presence::parse(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_under_the_limit_only() {
        assert!(has_room(2, 3));
        assert!(!has_room(3, 3));
        assert!(!has_room(4, 3));
    }
}
