//! File names as browsers send them, and the headers a download is served with.
#![no_main]

use domain::files::{rfc5987, FileName, MAX_NAME};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let Ok(name) = FileName::parse(raw) else {
        return;
    };
    let text = name.as_str();
    let count = text.chars().count();
    assert!((1..=MAX_NAME).contains(&count));
    assert!(!text.contains(['/', '\\']), "no path survives: {text:?}");
    assert!(!text.chars().any(char::is_control));
    assert!(!text.chars().all(|c| c == '.'));
    let plain = name.ascii_fallback();
    assert!(plain.chars().all(|c| (' '..='~').contains(&c) && c != '"' && c != '\\'));
    let encoded = rfc5987(text);
    assert!(encoded
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~%".contains(&b)));
    if let Some(ext) = name.extension() {
        assert!(name.check_type(std::slice::from_ref(&ext)).is_err());
    }
});
