//! Parsed text: once a value is one of these types it is known to be acceptable.
//! Fields are private; the only way in is `parse`, which says why it refused.

use crate::FieldError;
use std::borrow::Cow;

/// Text from outside without its control characters, except tabs and line breaks: a NUL is
/// refused by PostgreSQL (and accepted by SQLite), the others only hide or garble text, so
/// every form value is cleaned of them the same way on both backends.
/// `template` with each `{name}` replaced by its value (the catalogues' and the stored
/// sentences' placeholders; a name with no value stays as it is).
pub fn fill<V: AsRef<str>>(template: &str, args: &[(&str, V)]) -> String {
    let mut text = template.to_owned();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value.as_ref());
    }
    text
}

pub fn without_controls(text: &str) -> Cow<'_, str> {
    let unwanted = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    match text.contains(unwanted) {
        true => Cow::Owned(text.chars().filter(|c| !unwanted(*c)).collect()),
        false => Cow::Borrowed(text),
    }
}

/// Whether a URL part percent-decodes to a control character (other than tab and line breaks):
/// such a path or query is refused before any handler sees it.
/// At most `max` characters of `text`, with "…" when something was cut.
pub fn shortened(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        Some((cut, _)) => Cow::Owned(format!("{}…", text[..cut].trim_end())),
        None => Cow::Borrowed(text),
    }
}

pub fn decodes_to_control(part: &str) -> bool {
    let bytes = part.as_bytes();
    bytes.iter().enumerate().any(|(i, b)| {
        let decoded = match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(*h), hex(*l)) {
                    (Some(h), Some(l)) => (h * 16 + l) as u8,
                    _ => return false,
                }
            }
            _ => *b,
        };
        (decoded < 0x20 && !matches!(decoded, b'\t' | b'\n' | b'\r')) || decoded == 0x7f
    })
}
use serde::Serialize;

fn single_line(raw: &str, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::Required);
    }
    if value.chars().count() > max {
        return Err(FieldError::TooLong { max });
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::ControlCharacters);
    }
    Ok(value.to_owned())
}

/// A person's or organization's name as shown to others: 1–100 characters, one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX: usize = 100;
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        single_line(raw, Self::MAX).map(DisplayName)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, lower-cased. Deliberately permissive (one `@`, a dot in the domain):
/// the real test of an address is mail arriving, not a regex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const MAX: usize = 254;
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = single_line(raw, Self::MAX)?.to_lowercase();
        let (local, domain) = value.split_once('@').ok_or(FieldError::InvalidEmail)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@');
        if local.is_empty() || !domain_ok || value.contains(char::is_whitespace) {
            return Err(FieldError::InvalidEmail);
        }
        Ok(Email(value))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A URL-safe short name (organization or site): 2–40 of `a-z 0-9 -`, starting with a letter,
/// not ending with a dash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err(FieldError::Required);
        }
        let ok = (2..=40).contains(&value.len())
            && value.starts_with(|c: char| c.is_ascii_lowercase())
            && !value.ends_with('-')
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(Slug(value))
        } else {
            Err(FieldError::InvalidSlug)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 10–1024 characters. Length is the rule that matters (NIST SP 800-63B);
/// no composition rules. Never Debug-printed.
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN: usize = 10;
    pub const MAX: usize = 1024;
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let n = raw.chars().count();
        if n == 0 {
            Err(FieldError::Required)
        } else if n < Self::MIN {
            Err(FieldError::TooShort { min: Self::MIN })
        } else if n > Self::MAX {
            Err(FieldError::TooLong { max: Self::MAX })
        } else {
            Ok(NewPassword(raw.to_owned()))
        }
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// How many sessions a rep may hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SessionLimit(u8);

impl SessionLimit {
    pub const MIN: i64 = 1;
    pub const MAX: i64 = 50;
    pub const DEFAULT: SessionLimit = SessionLimit(3);
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let n: i64 = raw.trim().parse().map_err(|_| match raw.trim() {
            "" => FieldError::Required,
            _ => FieldError::InvalidNumber,
        })?;
        Self::from_i64(n)
    }
    pub fn from_i64(n: i64) -> Result<Self, FieldError> {
        if (Self::MIN..=Self::MAX).contains(&n) {
            Ok(SessionLimit(n as u8))
        } else {
            Err(FieldError::OutOfRange {
                min: Self::MIN,
                max: Self::MAX,
            })
        }
    }
    pub fn get(self) -> i64 {
        i64::from(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortened_cuts_at_characters_and_says_so() {
        assert_eq!(shortened("Grüße", 10), "Grüße");
        assert_eq!(shortened("Grüße aus Köln", 5), "Grüße…");
        assert_eq!(shortened("ab cd", 3), "ab…");
    }

    #[test]
    fn control_characters_are_cleaned_from_text_and_refused_in_urls() {
        assert_eq!(without_controls("a\u{0}b\u{7}c\td\ne\u{7f}"), "abc\td\ne");
        assert!(matches!(without_controls("plain"), Cow::Borrowed(_)));
        for bad in ["/p/%00", "/p/%1b", "/p/%7F", "/x?next=%01", "/p/%0"] {
            assert_eq!(decodes_to_control(bad), bad != "/p/%0", "{bad}");
        }
        for fine in ["/p/help", "/p/%20x", "/s/abc%09", "/a?b=%0A", "%zz"] {
            assert!(!decodes_to_control(fine), "{fine}");
        }
    }
    use proptest::prelude::*;

    #[test]
    fn display_name_trims_and_limits() {
        assert_eq!(DisplayName::parse("  Ada  ").unwrap().as_str(), "Ada");
        assert_eq!(DisplayName::parse("   "), Err(FieldError::Required));
        assert_eq!(
            DisplayName::parse(&"x".repeat(101)),
            Err(FieldError::TooLong { max: 100 })
        );
        assert!(
            DisplayName::parse(&"é".repeat(100)).is_ok(),
            "counts characters, not bytes"
        );
        assert_eq!(
            DisplayName::parse("a\nb"),
            Err(FieldError::ControlCharacters)
        );
    }

    #[test]
    fn email_accepts_ordinary_addresses_and_lowercases() {
        assert_eq!(
            Email::parse(" Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.de",
            "a@.de",
        ] {
            assert_eq!(Email::parse(bad), Err(FieldError::InvalidEmail), "{bad}");
        }
    }

    #[test]
    fn slug_rules() {
        assert_eq!(Slug::parse("Demo").unwrap().as_str(), "demo");
        assert!(Slug::parse("acme-support-2").is_ok());
        for bad in ["a", "2fast", "acme-", "ac me", "acme_x", &"a".repeat(41)] {
            assert_eq!(Slug::parse(bad), Err(FieldError::InvalidSlug), "{bad}");
        }
    }

    #[test]
    fn password_length_rules_and_no_leak_in_debug() {
        assert_eq!(
            NewPassword::parse("short").err(),
            Some(FieldError::TooShort { min: 10 })
        );
        let p = NewPassword::parse("correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn session_limit_bounds() {
        assert_eq!(SessionLimit::parse("3").unwrap().get(), 3);
        assert_eq!(
            SessionLimit::parse("0"),
            Err(FieldError::OutOfRange { min: 1, max: 50 })
        );
        assert_eq!(SessionLimit::parse("three"), Err(FieldError::InvalidNumber));
        assert_eq!(SessionLimit::parse(""), Err(FieldError::Required));
    }

    proptest! {
        #[test]
        fn parsed_names_are_trimmed_bounded_single_lines(raw in "\\PC{0,120}") {
            if let Ok(name) = DisplayName::parse(&raw) {
                prop_assert_eq!(name.as_str(), name.as_str().trim());
                prop_assert!(name.as_str().chars().count() <= 100);
                prop_assert!(!name.as_str().chars().any(char::is_control));
            }
        }

        #[test]
        fn parsed_slugs_reparse_to_themselves(raw in "[a-zA-Z0-9_ -]{0,45}") {
            if let Ok(slug) = Slug::parse(&raw) {
                prop_assert_eq!(Slug::parse(slug.as_str()), Ok(slug.clone()));
            }
        }
    }
}
