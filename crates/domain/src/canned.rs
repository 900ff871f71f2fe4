//! Canned messages: prepared answers a rep inserts with a click or by typing `/` and the
//! first letters of their shortcut.

use crate::FieldError;

/// The longest shortcut.
pub const MAX_SHORTCUT: usize = 30;

/// A canned message's shortcut: 1–30 of lower-case letters, digits, `-` and `_`; typed without
/// the slash (a leading `/` is dropped) and lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortcut(String);

impl Shortcut {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        let text = trimmed.strip_prefix('/').unwrap_or(trimmed).to_lowercase();
        if text.is_empty() {
            return Err(FieldError::Required);
        }
        if text.chars().count() > MAX_SHORTCUT {
            return Err(FieldError::TooLong { max: MAX_SHORTCUT });
        }
        let allowed = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
        match text.chars().all(allowed) {
            true => Ok(Shortcut(text)),
            false => Err(FieldError::InvalidSlug),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_are_words_without_the_slash() {
        assert_eq!(Shortcut::parse(" /Restart ").unwrap().as_str(), "restart");
        assert_eq!(Shortcut::parse("grüße_1").unwrap().as_str(), "grüße_1");
        assert_eq!(Shortcut::parse("/"), Err(FieldError::Required));
        assert_eq!(Shortcut::parse("two words"), Err(FieldError::InvalidSlug));
        assert_eq!(Shortcut::parse("<b>"), Err(FieldError::InvalidSlug));
        assert_eq!(
            Shortcut::parse(&"a".repeat(31)),
            Err(FieldError::TooLong { max: 30 })
        );
    }
}
