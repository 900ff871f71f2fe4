//! Shortcuts of canned messages as reps type them.
#![no_main]

use domain::canned::{Shortcut, MAX_SHORTCUT};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let Ok(shortcut) = Shortcut::parse(raw) else {
        return;
    };
    let text = shortcut.as_str();
    assert!((1..=MAX_SHORTCUT).contains(&text.chars().count()));
    assert!(text
        .chars()
        .all(|c| c.is_alphanumeric() || c == '-' || c == '_'));
    assert_eq!(Shortcut::parse(text).as_ref(), Ok(&shortcut), "stable");
});
