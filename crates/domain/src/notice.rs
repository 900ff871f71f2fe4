//! Customer notices ("Important message"): outage warnings shown on a site during a window.

use crate::{FieldError, Language, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Per BeyondTrust's limits: at most 10 notices a site, each at most 1,020 characters.
pub const MAX_PER_SITE: usize = 10;
pub const MAX_TEXT: usize = 1020;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Outage,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Outage];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Outage => "outage",
        }
    }
    pub fn parse(s: &str) -> Result<Severity, FieldError> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or(FieldError::InvalidChoice)
    }
}

/// Per-language texts (1–1,020 characters each; at least one language).
pub fn parse_texts(
    raw: &BTreeMap<Language, String>,
) -> Result<BTreeMap<Language, String>, FieldError> {
    let mut texts = BTreeMap::new();
    for (language, text) in raw {
        let text = text.trim();
        if text.chars().count() > MAX_TEXT {
            return Err(FieldError::TooLong { max: MAX_TEXT });
        }
        if !text.is_empty() {
            texts.insert(*language, text.to_owned());
        }
    }
    if texts.is_empty() {
        return Err(FieldError::Required);
    }
    Ok(texts)
}

/// Shown from `starts_at` (inclusive) until `ends_at` (exclusive); an open end never expires.
pub fn is_shown(starts_at: Option<Timestamp>, ends_at: Option<Timestamp>, now: Timestamp) -> bool {
    starts_at.is_none_or(|s| now >= s) && ends_at.is_none_or(|e| now < e)
}

/// The text in `language`, else English, else any: a notice is never hidden for lack of a translation.
pub fn text_for(texts: &BTreeMap<Language, String>, language: Language) -> Option<&str> {
    texts
        .get(&language)
        .or_else(|| texts.get(&Language::DEFAULT))
        .or_else(|| texts.values().next())
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_fallback_language() {
        let (a, b) = (Timestamp(10), Timestamp(20));
        assert!(is_shown(None, None, a));
        assert!(is_shown(Some(a), Some(b), a) && !is_shown(Some(a), Some(b), b));
        assert!(!is_shown(Some(b), None, a));
        let texts = BTreeMap::from([(Language::En, "Outage".to_owned())]);
        assert_eq!(text_for(&texts, Language::De), Some("Outage"));
        let raw = BTreeMap::from([
            (Language::En, "  ".to_owned()),
            (Language::De, "x".repeat(1021)),
        ]);
        assert_eq!(parse_texts(&raw), Err(FieldError::TooLong { max: 1020 }));
        assert_eq!(parse_texts(&BTreeMap::new()), Err(FieldError::Required));
    }
}
