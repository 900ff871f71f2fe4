//! A site's settings as admins type them: hostnames, framing origins, colours, modes, notice
//! texts.
#![no_main]

use domain::site::{parse_colour, parse_hostnames, FieldMode, Method, Preset};
use domain::Language;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    if let Ok(names) = parse_hostnames(raw) {
        for name in &names {
            assert_eq!(name, &name.to_ascii_lowercase());
            assert!(name.len() <= 253 && name.contains('.'));
        }
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "no hostname twice");
    }
    if let Ok(origins) = domain::framing::parse_origins(raw) {
        // They go into a response header (the portal's frame-ancestors): nothing but an origin.
        assert!(origins.len() <= domain::framing::MAX_ORIGINS);
        for origin in &origins {
            assert!(origin.starts_with("http://") || origin.starts_with("https://"));
            let safe =
                |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b".:/-*".contains(&b);
            assert!(origin.bytes().all(safe), "{origin:?}");
            assert!(!origin.ends_with('/') && origin.matches('/').count() == 2);
        }
        let unique: std::collections::BTreeSet<_> = origins.iter().collect();
        assert_eq!(unique.len(), origins.len(), "no origin twice");
    }
    if let Ok(colour) = parse_colour(raw) {
        assert!(colour.starts_with('#') && colour.len() == 7);
    }
    let _ = FieldMode::parse(raw);
    let _ = Method::parse(raw);
    let _ = Preset::parse(raw);
    let _ = Language::parse(raw);
    let texts = [(Language::En, raw.to_owned())].into_iter().collect();
    let _ = domain::notice::parse_texts(&texts);
});
