//! Reading one cookie without parsing the rest: the middlewares every request passes need one
//! value each, and a whole `CookieJar` per middleware is allocations on the hottest path.

use axum::http::{header, HeaderMap};

/// A cookie only the server reads (HttpOnly, SameSite=Lax; Secure on https) under `path`,
/// kept for `max_age`: a sign-in, or a sign-in waiting for its second step.
pub fn private(
    (name, value): (impl Into<std::borrow::Cow<'static, str>>, String),
    path: &'static str,
    max_age: cookie::time::Duration,
    secure: bool,
) -> axum_extra::extract::cookie::Cookie<'static> {
    axum_extra::extract::cookie::Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Lax)
        .secure(secure)
        .max_age(max_age)
        .build()
}

/// The value of cookie `name` as the browser sent it, if any.
pub fn value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn finds_one_cookie_among_several_headers() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; supportal_lang=de"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("b=2;c=x=y"));
        assert_eq!(value(&headers, "supportal_lang"), Some("de"));
        assert_eq!(value(&headers, "b"), Some("2"));
        assert_eq!(value(&headers, "c"), Some("x=y"));
        assert_eq!(value(&headers, "lang"), None);
        assert_eq!(value(&HeaderMap::new(), "a"), None);
    }
}
