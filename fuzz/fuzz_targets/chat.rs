//! Chat messages as people type them, client ids as clients send them, and the links shown.
#![no_main]

use domain::chat::{segments, ClientId, MessageBody, MAX_MESSAGE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    if let Ok(body) = MessageBody::parse(raw) {
        let text = body.as_str();
        assert!(!text.is_empty() && text.chars().count() <= MAX_MESSAGE);
        assert!(!text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')));
    }
    if let Ok(id) = ClientId::parse(raw) {
        assert_eq!(id.as_str(), raw);
    }
    let parts = segments(raw);
    let joined: String = parts.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(joined, raw, "showing a message loses and adds nothing");
    for href in parts.iter().filter_map(|s| s.href.as_deref()) {
        let lower = href.to_ascii_lowercase();
        assert!(lower.starts_with("http://") || lower.starts_with("https://"));
        assert!(!href.chars().any(char::is_whitespace));
    }
});
