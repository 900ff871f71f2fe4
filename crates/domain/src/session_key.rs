//! Session keys: short numeric codes a rep hands out (by phone, mail). One use, expiring.
//! The same codes open a presentation or unlock a private iOS profile; what a key opens is
//! stored beside it.

use crate::Timestamp;
use rand::Rng;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct SessionKey(String);

pub const MIN_DIGITS: usize = 6;
pub const MAX_DIGITS: usize = 12;
pub const DEFAULT_DIGITS: usize = 9;
/// A rep holds at most this many live keys at once.
pub const MAX_LIVE_PER_REP: usize = 8;

/// How long a new key stays usable: the choices offered, in minutes (the first is the default).
pub const VALIDITY_MINUTES: [i64; 6] = [15, 5, 30, 60, 240, 1440];

/// A validity the rep picked from the list; anything else is refused.
pub fn parse_validity(raw: &str) -> Result<i64, crate::FieldError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|m| VALIDITY_MINUTES.contains(m))
        .ok_or(crate::FieldError::InvalidChoice)
}

/// The number of digits an organization's keys have (6–12).
pub fn parse_digits(raw: &str) -> Result<usize, crate::FieldError> {
    let n: i64 = raw
        .trim()
        .parse()
        .map_err(|_| crate::FieldError::InvalidNumber)?;
    if (MIN_DIGITS as i64..=MAX_DIGITS as i64).contains(&n) {
        Ok(n as usize)
    } else {
        Err(crate::FieldError::OutOfRange {
            min: MIN_DIGITS as i64,
            max: MAX_DIGITS as i64,
        })
    }
}

/// The most a single key may be exposed to: a 1 in 10,000 chance of being guessed over its
/// whole validity, by the most failed guesses the limits allow.
pub const SAFE_ODDS: f64 = 1e-4;

/// The chance that `guesses` distinct guesses hit one given key of `digits` digits.
pub fn guess_odds(digits: usize, guesses: u64) -> f64 {
    (guesses as f64 / 10f64.powi(digits as i32)).min(1.0)
}

/// Whether keys of `digits` digits may stay valid up to `minutes` when an organization's portals
/// take at most `failed_per_hour` wrong keys an hour: always from the default length on; shorter
/// keys only with a validity short enough to keep within `SAFE_ODDS`.
pub fn validity_allowed(digits: usize, minutes: i64, failed_per_hour: u64) -> bool {
    let guesses = guesses_within(failed_per_hour, minutes);
    digits >= DEFAULT_DIGITS || guess_odds(digits, guesses) <= SAFE_ODDS
}

/// The most wrong keys the limits let through in `minutes`, at `failed_per_hour`.
pub fn guesses_within(failed_per_hour: u64, minutes: i64) -> u64 {
    failed_per_hour
        .saturating_mul(minutes.max(0) as u64)
        .div_ceil(60)
}

/// "1 in 20,834" for a chance (rounded to a whole "1 in N"; "certain" at 1).
pub fn one_in(chance: f64) -> String {
    if chance >= 1.0 {
        return "certain".to_owned();
    }
    let n = (1.0 / chance.max(f64::MIN_POSITIVE)).round().min(1e15) as u64;
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("1 in {grouped}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("empty")]
    Empty,
    #[error("malformed")]
    Malformed,
}

impl SessionKey {
    /// `digits` random digits (clamped to 6–12).
    pub fn generate(rng: &mut impl Rng, digits: usize) -> SessionKey {
        let n = digits.clamp(MIN_DIGITS, MAX_DIGITS);
        SessionKey(
            (0..n)
                .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
                .collect(),
        )
    }

    /// What a person typed: spaces and dashes are ignored ("123 456 789", "123-456-789").
    pub fn parse(raw: &str) -> Result<SessionKey, KeyError> {
        let digits: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if digits.is_empty() {
            return Err(KeyError::Empty);
        }
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits.len())
            || !digits.chars().all(|c| c.is_ascii_digit())
        {
            return Err(KeyError::Malformed);
        }
        Ok(SessionKey(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Grouped in threes for reading aloud: "123 456 789".
    pub fn spaced(&self) -> String {
        let mut out = String::new();
        for (i, c) in self.0.chars().enumerate() {
            if i > 0 && i % 3 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }
}

/// Why a stored key can or cannot be used now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    Live,
    Expired,
    Used,
    Revoked,
}

pub fn key_state(
    expires_at: Timestamp,
    used_at: Option<Timestamp>,
    revoked_at: Option<Timestamp>,
    now: Timestamp,
) -> KeyState {
    if revoked_at.is_some() {
        KeyState::Revoked
    } else if used_at.is_some() {
        KeyState::Used
    } else if now >= expires_at {
        KeyState::Expired
    } else {
        KeyState::Live
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn typed_keys_are_forgiving_about_spacing_only() {
        assert_eq!(
            SessionKey::parse(" 123 456-789 ").unwrap().as_str(),
            "123456789"
        );
        assert_eq!(SessionKey::parse(""), Err(KeyError::Empty));
        for bad in ["12345", "1234567890123", "12345a789", "１２３４５６"] {
            assert_eq!(SessionKey::parse(bad), Err(KeyError::Malformed), "{bad}");
        }
        assert_eq!(
            SessionKey::parse("123456789").unwrap().spaced(),
            "123 456 789"
        );
    }

    #[test]
    fn short_keys_need_a_short_validity() {
        // 200 wrong keys an hour: 6 digits for 30 minutes is the limit, 9 digits always pass.
        assert!(validity_allowed(6, 30, 200));
        assert!(!validity_allowed(6, 60, 200));
        assert!(validity_allowed(7, 240, 200));
        assert!(!validity_allowed(7, 1440, 200));
        assert!(validity_allowed(9, 1440, 1_000_000));
        assert_eq!(one_in(guess_odds(6, 4800)), "1 in 208");
        assert_eq!(one_in(guess_odds(9, 4800)), "1 in 208,333");
        assert_eq!(one_in(1.0), "certain");
    }

    #[test]
    fn validity_and_digits_come_from_their_lists() {
        assert_eq!(parse_validity("15"), Ok(15));
        assert_eq!(parse_validity("16"), Err(crate::FieldError::InvalidChoice));
        assert_eq!(parse_digits("9"), Ok(9));
        assert_eq!(
            parse_digits("13"),
            Err(crate::FieldError::OutOfRange { min: 6, max: 12 })
        );
        assert_eq!(parse_digits("nine"), Err(crate::FieldError::InvalidNumber));
    }

    #[test]
    fn key_states_in_priority_order() {
        let (t, later) = (Timestamp(1_000), Timestamp(2_000));
        assert_eq!(key_state(later, None, None, t), KeyState::Live);
        assert_eq!(key_state(later, None, None, later), KeyState::Expired);
        assert_eq!(key_state(later, Some(t), None, t), KeyState::Used);
        assert_eq!(key_state(later, Some(t), Some(t), t), KeyState::Revoked);
    }

    proptest! {
        #[test]
        fn generated_keys_parse_back(seed: u64, digits in 0usize..20) {
            let key = SessionKey::generate(&mut StdRng::seed_from_u64(seed), digits);
            prop_assert_eq!(key.as_str().len(), digits.clamp(MIN_DIGITS, MAX_DIGITS));
            prop_assert_eq!(SessionKey::parse(&key.spaced()), Ok(key.clone()));
        }
    }
}
