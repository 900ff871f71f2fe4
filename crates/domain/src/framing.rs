//! Which other web pages may show a site's portal in a frame (the help button's panel): the
//! origins its admin lists, written into the portal's `Content-Security-Policy` as
//! `frame-ancestors`. No list: no page may frame it.

/// More would be a sign of a list that should be a pattern (`https://*.example.com`).
pub const MAX_ORIGINS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// A line that is not `http(s)://host[:port]`.
    #[error("not an origin: {0}")]
    NotAnOrigin(String),
    #[error("more than {MAX_ORIGINS} origins")]
    TooMany,
}

/// The origins in `raw` (one per line, or separated by spaces or commas), lower-cased, each
/// once, in the order given. An origin is `http` or `https`, `://`, a host name (its first
/// label may be `*`, standing for any subdomain) or IPv4 address, and an optional port; a
/// trailing `/` is dropped, anything else after the host is refused (a frame's ancestors are
/// matched by origin, so a path would only mislead).
pub fn parse_origins(raw: &str) -> Result<Vec<String>, OriginError> {
    let mut origins: Vec<String> = Vec::new();
    for item in raw
        .split([',', '\n', ' ', '\t', '\r'])
        .filter(|s| !s.is_empty())
    {
        let origin = parse_origin(item).ok_or_else(|| OriginError::NotAnOrigin(item.into()))?;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    match origins.len() > MAX_ORIGINS {
        true => Err(OriginError::TooMany),
        false => Ok(origins),
    }
}

fn parse_origin(item: &str) -> Option<String> {
    let item = item.to_ascii_lowercase();
    let item = item.strip_suffix('/').unwrap_or(&item);
    let (scheme, rest) = item.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (rest, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && {
            let n: u32 = p.parse().unwrap_or(0);
            (1..=65535).contains(&n)
        }
    });
    (port_ok && host_ok(host)).then(|| item.to_owned())
}

/// A DNS name (letters, digits, hyphens; `*` only as the whole first label, and then with at
/// least two labels after it) or a dotted IPv4 address.
fn host_ok(host: &str) -> bool {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let named = match host.strip_prefix("*.") {
        Some(rest) if rest.split('.').count() >= 2 => rest,
        Some(_) => return false,
        None => host,
    };
    !named.is_empty() && named.len() <= 253 && named.split('.').all(label_ok)
}

/// The `frame-ancestors` source list for `origins`.
pub fn frame_ancestors(origins: &[String]) -> String {
    match origins.is_empty() {
        true => "'none'".into(),
        false => origins.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_taken_lower_cased_once_each_without_a_trailing_slash() {
        let parsed = parse_origins(
            "https://Shop.Example.com/\nhttp://localhost:8080, https://*.example.org\n\nhttps://shop.example.com",
        );
        assert_eq!(
            parsed,
            Ok(vec![
                "https://shop.example.com".to_owned(),
                "http://localhost:8080".to_owned(),
                "https://*.example.org".to_owned(),
            ])
        );
        assert_eq!(parse_origins("  \n "), Ok(vec![]));
        assert_eq!(
            parse_origins("http://127.0.0.1:49152"),
            Ok(vec!["http://127.0.0.1:49152".to_owned()])
        );
    }

    #[test]
    fn anything_but_an_origin_is_refused_by_name() {
        for bad in [
            "shop.example.com",
            "ftp://shop.example.com",
            "https://shop.example.com/help",
            "https://shop.example.com?x=1",
            "https://user@shop.example.com",
            "https://shop.example.com:0",
            "https://shop.example.com:65536",
            "https://shop.example.com:",
            "https://*",
            "*",
            "https://*.com",
            "https://shop.*.com",
            "https://-shop.example.com",
            "https://",
            "'self'",
            "https://shop.example.com;script-src",
        ] {
            assert_eq!(
                parse_origins(bad),
                Err(OriginError::NotAnOrigin(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn at_most_twenty_origins() {
        let list: Vec<String> = (0..=MAX_ORIGINS)
            .map(|i| format!("https://s{i}.example.com"))
            .collect();
        assert_eq!(parse_origins(&list.join("\n")), Err(OriginError::TooMany));
        assert_eq!(
            parse_origins(&list[..MAX_ORIGINS].join("\n")).map(|o| o.len()),
            Ok(MAX_ORIGINS)
        );
    }

    #[test]
    fn the_source_list_names_the_origins_or_none() {
        assert_eq!(frame_ancestors(&[]), "'none'");
        let two = [
            "https://a.example".to_owned(),
            "http://localhost:1".to_owned(),
        ];
        assert_eq!(
            frame_ancestors(&two),
            "https://a.example http://localhost:1"
        );
    }
}
