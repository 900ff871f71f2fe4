//! Searching past sessions: what a person typed, as words each backend's full-text search can
//! take without any of its query syntax (letters and digits only, so nothing typed can be an
//! operator).

/// At most this many words count; more add little and cost the index.
pub const MAX_TERMS: usize = 8;
/// A longer word is cut to this many characters (it still matches as a prefix).
pub const MAX_TERM_CHARS: usize = 40;

/// The words of a search, lower-cased, in the order typed, each once. Empty: no search (the
/// latest sessions).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchTerms(Vec<String>);

impl SearchTerms {
    pub fn parse(raw: &str) -> Self {
        let mut terms: Vec<String> = Vec::new();
        for word in raw.split(|c: char| !c.is_alphanumeric()) {
            if word.is_empty() || terms.len() == MAX_TERMS {
                continue;
            }
            let word: String = word
                .chars()
                .take(MAX_TERM_CHARS)
                .collect::<String>()
                .to_lowercase();
            if !terms.contains(&word) {
                terms.push(word);
            }
        }
        SearchTerms(terms)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn words(&self) -> &[String] {
        &self.0
    }

    /// SQLite FTS5: every word, each as a quoted prefix (`"print"* "rot"*`: all must match).
    pub fn fts5_query(&self) -> String {
        let quoted: Vec<String> = self.0.iter().map(|w| format!("\"{w}\"*")).collect();
        quoted.join(" ")
    }

    /// PostgreSQL `to_tsquery`: every word as a prefix, all required (`print:* & rot:*`).
    pub fn tsquery(&self) -> String {
        let prefixed: Vec<String> = self.0.iter().map(|w| format!("{w}:*")).collect();
        prefixed.join(" & ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_words_survive_so_no_query_syntax_gets_through() {
        let terms = SearchTerms::parse(r#"Drucker "OR" x* NEAR(a b) -- ' ; : Drucker Grüße"#);
        assert_eq!(
            terms.words(),
            ["drucker", "or", "x", "near", "a", "b", "grüße"]
        );
        assert_eq!(
            terms.fts5_query(),
            r#""drucker"* "or"* "x"* "near"* "a"* "b"* "grüße"*"#
        );
        assert_eq!(SearchTerms::parse("print rot").tsquery(), "print:* & rot:*");
        assert!(SearchTerms::parse("  -- !! ").is_empty());
        assert_eq!(SearchTerms::parse(&"w ".repeat(20)).words().len(), 1);
        let many: String = (0..20).map(|i| format!("w{i} ")).collect();
        assert_eq!(SearchTerms::parse(&many).words().len(), MAX_TERMS);
    }
}
