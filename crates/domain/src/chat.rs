//! Chat messages: what may be sent, and how a message's text is shown (text, with http and
//! https links made clickable, nothing else).

use crate::FieldError;
use serde::Serialize;

/// The longest message, in characters.
pub const MAX_MESSAGE: usize = 4000;

/// A message's text: 1–4,000 characters after trimming, control characters removed (line
/// breaks and tabs kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let cleaned = crate::text::without_controls(raw);
        let text = cleaned.trim();
        if text.is_empty() {
            return Err(FieldError::Required);
        }
        if text.chars().count() > MAX_MESSAGE {
            return Err(FieldError::TooLong { max: MAX_MESSAGE });
        }
        Ok(MessageBody(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id a sender's client gives a message, so that sending it again (after a reconnect)
/// never stores a second copy: 1–64 of `A–Z a–z 0–9 - _`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let ok = (1..=64).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        match ok {
            true => Ok(ClientId(raw.to_owned())),
            false => Err(FieldError::InvalidChoice),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The customer's rating of a session: 1 (poor) to 5 (excellent).
pub fn parse_rating(raw: &str) -> Result<i64, FieldError> {
    match raw.trim().parse::<i64>() {
        Ok(n) if (1..=5).contains(&n) => Ok(n),
        Ok(_) => Err(FieldError::OutOfRange { min: 1, max: 5 }),
        Err(_) => Err(FieldError::Required),
    }
}

/// The longest survey comment, in characters.
pub const MAX_COMMENT: usize = 2000;

/// The survey's optional comment: cleaned of control characters, trimmed, at most 2,000
/// characters; None when empty.
pub fn parse_comment(raw: &str) -> Result<Option<String>, FieldError> {
    let cleaned = crate::text::without_controls(raw);
    let text = cleaned.trim();
    if text.chars().count() > MAX_COMMENT {
        return Err(FieldError::TooLong { max: MAX_COMMENT });
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// A piece of a message as shown: text, or a link to `href` (only http and https).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub text: String,
    pub href: Option<String>,
}

/// Split `text` into plain pieces and links. A link starts at `http://` or `https://` and runs
/// to the next whitespace; closing punctuation at its end stays text.
pub fn segments(text: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = next_link(rest) {
        let (before, from) = rest.split_at(start);
        let end = from.find(char::is_whitespace).unwrap_or(from.len());
        let mut link = &from[..end];
        while let Some(last) = link.chars().last() {
            if ".,;:!?)]}'\"".contains(last) {
                link = &link[..link.len() - last.len_utf8()];
            } else {
                break;
            }
        }
        let scheme_only = link.ends_with("://");
        if !before.is_empty() {
            out.push(text_segment(before));
        }
        match scheme_only {
            true => out.push(text_segment(link)),
            false => out.push(Segment {
                text: link.to_owned(),
                href: Some(link.to_owned()),
            }),
        }
        rest = &from[link.len()..];
    }
    if !rest.is_empty() {
        out.push(text_segment(rest));
    }
    out
}

fn text_segment(text: &str) -> Segment {
    Segment {
        text: text.to_owned(),
        href: None,
    }
}

/// Where the next `http://` or `https://` starts (case-insensitively).
fn next_link(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    [lower.find("https://"), lower.find("http://")]
        .into_iter()
        .flatten()
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_trimmed_cleaned_and_bounded() {
        assert_eq!(MessageBody::parse("  hi\u{0}\n ").unwrap().as_str(), "hi");
        assert_eq!(MessageBody::parse(" \n\t"), Err(FieldError::Required));
        assert!(MessageBody::parse(&"é".repeat(4000)).is_ok());
        assert_eq!(
            MessageBody::parse(&"é".repeat(4001)),
            Err(FieldError::TooLong { max: 4000 })
        );
    }

    #[test]
    fn ratings_run_from_one_to_five_and_comments_are_bounded() {
        assert_eq!(parse_rating(" 4 "), Ok(4));
        assert_eq!(parse_rating(""), Err(FieldError::Required));
        assert_eq!(
            parse_rating("6"),
            Err(FieldError::OutOfRange { min: 1, max: 5 })
        );
        assert_eq!(parse_comment("  "), Ok(None));
        assert_eq!(parse_comment(" fine\u{0} "), Ok(Some("fine".into())));
        assert!(parse_comment(&"x".repeat(2001)).is_err());
    }

    #[test]
    fn client_ids_are_short_and_plain() {
        assert!(ClientId::parse("m-1_a").is_ok());
        for bad in ["", "a b", "<x>", &"a".repeat(65)] {
            assert!(ClientId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_http_and_https_become_links() {
        let parts = segments("see https://example.com/a?b=1, or javascript:alert(1) HTTP://x.y.");
        let links: Vec<_> = parts.iter().filter_map(|s| s.href.as_deref()).collect();
        assert_eq!(links, ["https://example.com/a?b=1", "HTTP://x.y"]);
        let joined: String = parts.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            joined,
            "see https://example.com/a?b=1, or javascript:alert(1) HTTP://x.y."
        );
        assert!(segments("http:// alone").iter().all(|s| s.href.is_none()));
    }
}
