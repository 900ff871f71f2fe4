//! Keys as customers type them, and the key settings admins and reps choose.
#![no_main]

use domain::session_key::{self, SessionKey, MAX_DIGITS, MIN_DIGITS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    if let Ok(key) = SessionKey::parse(raw) {
        let digits = key.as_str();
        assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        assert!((MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()));
        assert_eq!(
            SessionKey::parse(digits).ok(),
            Some(key.clone()),
            "parsing is stable"
        );
    }
    if let Ok(minutes) = session_key::parse_validity(raw) {
        assert!(session_key::VALIDITY_MINUTES.contains(&minutes));
    }
    if let Ok(digits) = session_key::parse_digits(raw) {
        assert!((MIN_DIGITS..=MAX_DIGITS).contains(&digits));
        let odds = session_key::guess_odds(digits, raw.len() as u64 * 1000);
        assert!((0.0..=1.0).contains(&odds));
        let _ = session_key::one_in(odds);
    }
});
