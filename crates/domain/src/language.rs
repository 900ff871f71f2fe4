//! The languages portal pages are offered in, and choosing one from what a browser asks for.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    De,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::De];
    pub const DEFAULT: Language = Language::En;

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::De => "de",
        }
    }

    /// The language's own name, for the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::De => "Deutsch",
        }
    }

    /// A tag like `de`, `de-AT` or `EN_us`; None when we do not offer it.
    pub fn parse(tag: &str) -> Option<Language> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Language::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The best offered language for an `Accept-Language` header (RFC 9110 q-values).
    pub fn negotiate(accept_language: &str) -> Option<Language> {
        let mut best: Option<(f32, usize, Language)> = None;
        for (position, item) in accept_language.split(',').enumerate() {
            let mut parts = item.split(';');
            let Some(language) = parts.next().and_then(Language::parse) else {
                continue;
            };
            let q = parts
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            // Higher q wins; on a tie the earlier entry wins.
            let better = match best {
                None => true,
                Some((best_q, _, _)) => q > best_q,
            };
            if better {
                best = Some((q, position, language));
            }
        }
        best.map(|(_, _, language)| language)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_q_values_and_order() {
        assert_eq!(
            Language::negotiate("de-DE,de;q=0.9,en;q=0.8"),
            Some(Language::De)
        );
        assert_eq!(
            Language::negotiate("fr-FR, en;q=0.5, de;q=0.7"),
            Some(Language::De)
        );
        assert_eq!(Language::negotiate("en-US,de"), Some(Language::En));
        assert_eq!(Language::negotiate("fr, it"), None);
        assert_eq!(Language::negotiate("de;q=0, en;q=0.1"), Some(Language::En));
        assert_eq!(Language::negotiate(""), None);
        assert_eq!(Language::parse("DE_at"), Some(Language::De));
    }
}
