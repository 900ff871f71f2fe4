//! A site's settings as admins type them: hostnames, colours, modes, notice texts.
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
