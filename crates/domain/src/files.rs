//! Files sent in a chat: the name a file is shown and saved under, which types are refused,
//! and sizes as people read them.

use crate::text::without_controls;
use crate::FieldError;

/// The longest file name kept, in characters.
pub const MAX_NAME: usize = 200;

/// A file's name as sent: the last path component, tabs and line breaks made spaces, other
/// control characters removed, trimmed, 1–200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
        // A name is one line: a tab or line break (which chat text keeps) becomes a space.
        let one_line = last.replace(['\t', '\n', '\r'], " ");
        let cleaned = without_controls(&one_line);
        // Cut first, then judged: 300 dots and a letter would otherwise become 200 dots.
        let cut: String = cleaned.trim().chars().take(MAX_NAME).collect();
        let name = cut.trim();
        if name.is_empty() || name.chars().all(|c| c == '.') {
            return Err(FieldError::Required);
        }
        Ok(FileName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name of a file whose recorded name no longer parses.
    pub fn fallback() -> Self {
        FileName("file".into())
    }

    /// The extension, lower-cased, without the dot.
    pub fn extension(&self) -> Option<String> {
        let (stem, ext) = self.0.rsplit_once('.')?;
        (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
    }

    /// Refused when its extension is one of `blocked` (case-insensitive, dots ignored).
    pub fn check_type(&self, blocked: &[String]) -> Result<(), FieldError> {
        let Some(ext) = self.extension() else {
            return Ok(());
        };
        let refused = blocked
            .iter()
            .any(|b| b.trim_start_matches('.').eq_ignore_ascii_case(&ext));
        match refused {
            true => Err(FieldError::FileTypeBlocked),
            false => Ok(()),
        }
    }

    /// The name for `Content-Disposition`'s plain `filename=`: printable ASCII without quotes
    /// or backslashes (the exact name goes in `filename*`).
    pub fn ascii_fallback(&self) -> String {
        self.0
            .chars()
            .map(|c| match c {
                ' '..='~' if c != '"' && c != '\\' => c,
                _ => '_',
            })
            .collect()
    }
}

/// `text` for an RFC 5987 `filename*=UTF-8''…` value: attr-chars kept, every other byte
/// percent-encoded.
pub fn rfc5987(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => out.push(byte as char),
            b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A size as people read it: "512 bytes", "12 KB", "3.4 MB".
pub fn size_text(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.0} KB", (b / KB).ceil())
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_its_last_component_cleaned() {
        assert_eq!(
            FileName::parse("C:\\Users\\me\\report.pdf")
                .unwrap()
                .as_str(),
            "report.pdf"
        );
        assert_eq!(
            FileName::parse("../../etc/passwd").unwrap().as_str(),
            "passwd"
        );
        assert_eq!(FileName::parse(" a\u{0}b.txt ").unwrap().as_str(), "ab.txt");
        assert_eq!(FileName::parse("dir/"), Err(FieldError::Required));
        assert_eq!(FileName::parse(".."), Err(FieldError::Required));
        assert_eq!(
            FileName::parse(&"x".repeat(300)).unwrap().as_str().len(),
            200
        );
    }

    #[test]
    fn a_name_is_one_line() {
        // Found by the fuzz target: tabs and line breaks were kept, as in chat text.
        assert_eq!(FileName::parse("_\u{2}\t~").unwrap().as_str(), "_ ~");
        assert_eq!(
            FileName::parse("\tweekly\r\nreport.pdf\n")
                .unwrap()
                .as_str(),
            "weekly  report.pdf"
        );
        // Found by the fuzz target too: what is left after the cut is judged.
        let dots = format!("{}x", ".".repeat(MAX_NAME + 5));
        assert_eq!(FileName::parse(&dots), Err(FieldError::Required));
    }

    #[test]
    fn blocked_types_are_refused_whatever_their_case() {
        let blocked = vec!["exe".to_owned(), ".BAT".to_owned()];
        let check = |n: &str| FileName::parse(n).unwrap().check_type(&blocked);
        assert_eq!(check("setup.EXE"), Err(FieldError::FileTypeBlocked));
        assert_eq!(check("run.bat"), Err(FieldError::FileTypeBlocked));
        assert_eq!(check("photo.exe.jpg"), Ok(()));
        assert_eq!(check("README"), Ok(()));
        assert_eq!(check(".exe"), Ok(()), "a dot file has no extension");
    }

    #[test]
    fn the_ascii_fallback_has_no_quotes_and_sizes_read_naturally() {
        let name = FileName::parse("Grüße \"x\".pdf").unwrap();
        assert_eq!(name.ascii_fallback(), "Gr__e _x_.pdf");
        assert_eq!(rfc5987(name.as_str()), "Gr%C3%BC%C3%9Fe%20%22x%22.pdf");
        assert_eq!(size_text(512), "512 bytes");
        assert_eq!(size_text(12 * 1024), "12 KB");
        assert_eq!(size_text(3_565_158), "3.4 MB");
    }
}
