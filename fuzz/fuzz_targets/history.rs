//! History searches as people type them: no query syntax of either backend gets through.
#![no_main]

use domain::history::{SearchTerms, MAX_TERMS, MAX_TERM_CHARS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let terms = SearchTerms::parse(raw);
    assert!(terms.words().len() <= MAX_TERMS);
    for word in terms.words() {
        assert!(!word.is_empty());
        // Lower-casing may lengthen a word (İ → i̇), never by more than a few characters each.
        assert!(word.chars().count() <= MAX_TERM_CHARS * 3);
        assert!(!word
            .chars()
            .any(|c| c.is_whitespace() || "\"'&|!():*<>\\-^{}[]+,.;".contains(c)));
    }
    if terms.is_empty() {
        assert!(terms.fts5_query().is_empty() && terms.tsquery().is_empty());
    }
});
