//! Text from outside: the newtypes' parsers and the control-character cleaning.
#![no_main]

use domain::text::{self, DisplayName, Email, NewPassword, SessionLimit, Slug};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let cleaned = text::without_controls(raw);
    assert!(
        !cleaned
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')),
        "cleaned text keeps no control characters but tabs and line breaks"
    );
    assert_eq!(
        text::without_controls(&cleaned),
        cleaned,
        "cleaning twice changes nothing"
    );
    let _ = text::decodes_to_control(raw);
    if let Ok(name) = DisplayName::parse(raw) {
        assert!(!name.as_str().is_empty() && !name.as_str().chars().any(char::is_control));
    }
    if let Ok(slug) = Slug::parse(raw) {
        assert!(slug
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
    }
    if let Ok(email) = Email::parse(raw) {
        assert!(email.as_str().contains('@'));
    }
    let _ = NewPassword::parse(raw);
    if let Ok(limit) = SessionLimit::parse(raw) {
        assert!(limit.get() >= 1);
    }
});
