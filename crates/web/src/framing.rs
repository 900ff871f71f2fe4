//! Who may show a page in a frame, and cookies that work inside one.
//!
//! Every page forbids framing (`frame-ancestors 'none'`, `X-Frame-Options: DENY`) except a
//! site's portal pages when its admin lists origins for the help button's panel: those pages
//! name exactly these origins. A page framed on another site gets only the cookies it is given
//! as `SameSite=None; Secure; Partitioned` (browsers refuse the others there), kept in a jar of
//! that host site's own, so nothing set in the panel is seen outside it.
//! (docs/decisions/0022-portal-in-a-panel.md)

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use domain::site::SiteSettings;

/// No inline script or style anywhere: pages load only their own files. (A macro, so that
/// the default policy below is one constant.)
macro_rules! policy_without_framing {
    () => {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; base-uri 'none'; form-action 'self'"
    };
}

/// Every page but a framable portal page: nobody may frame it.
const DEFAULT_POLICY: &str = concat!(policy_without_framing!(), "; frame-ancestors 'none'");

/// A portal page's own `frame-ancestors`, set on its response by the handler that knows its site.
#[derive(Clone)]
struct FrameAncestors(HeaderValue);

/// `response`, a page of a site with `settings`, may be framed by the origins its admin listed.
pub fn for_site(mut response: Response, settings: &SiteSettings) -> Response {
    if settings.framing_origins.is_empty() {
        return response;
    }
    let policy = policy(&domain::framing::frame_ancestors(&settings.framing_origins));
    // Origins are checked when saved (letters, digits, `.:/-*`), so this always parses.
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.extensions_mut().insert(FrameAncestors(value));
    }
    response
}

fn policy(frame_ancestors: &str) -> String {
    format!(
        concat!(policy_without_framing!(), "; frame-ancestors {}"),
        frame_ancestors
    )
}

/// Middleware: the security policy every response carries (a page that sets its own keeps it),
/// and frame-fit cookies for a customer page loaded in a frame.
pub async fn headers(req: Request, next: Next) -> Response {
    let framed = loaded_in_frame(req.headers()) && customer_path(req.uri().path());
    let mut response = next.run(req).await;
    let framing = response.extensions().get::<FrameAncestors>().cloned();
    let headers = response.headers_mut();
    match framing {
        Some(FrameAncestors(policy)) => {
            headers
                .entry(header::CONTENT_SECURITY_POLICY)
                .or_insert(policy);
        }
        None => {
            headers
                .entry(header::CONTENT_SECURITY_POLICY)
                .or_insert(HeaderValue::from_static(DEFAULT_POLICY));
            headers
                .entry(header::X_FRAME_OPTIONS)
                .or_insert(HeaderValue::from_static("DENY"));
        }
    }
    if framed {
        for_frames(headers);
    }
    response
}

/// Whether the browser loads this as a frame's document (`Sec-Fetch-Dest`, which pages cannot
/// set). A same-site frame gets frame-fit cookies too; they work the same there.
fn loaded_in_frame(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-dest")
        .is_some_and(|v| v == "iframe" || v == "frame")
}

/// The customers' side: the portal, waiting and chat pages, key entry. Staff pages are never
/// framed (their policy forbids it), and their sign-in cookies stay `SameSite=Lax`.
fn customer_path(path: &str) -> bool {
    path == "/" || path.starts_with("/p/") || path.starts_with("/s/") || path.starts_with("/join")
}

/// Each cookie set here made `SameSite=None; Secure; Partitioned`: the only kind a cross-site
/// frame may keep. (Browsers accept `Secure` on http only from localhost; a panel elsewhere
/// needs https, as the operations guide says.)
fn for_frames(headers: &mut HeaderMap) {
    let set: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    if set.is_empty() {
        return;
    }
    headers.remove(header::SET_COOKIE);
    for value in set {
        let fit = value
            .to_str()
            .ok()
            .and_then(|v| cookie::Cookie::parse(v.to_owned()).ok())
            .and_then(|mut c| {
                c.set_same_site(cookie::SameSite::None);
                c.set_secure(true);
                c.set_partitioned(true);
                HeaderValue::from_str(&c.to_string()).ok()
            });
        headers.append(header::SET_COOKIE, fit.unwrap_or(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_for_frames_are_cross_site_secure_and_partitioned() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::SET_COOKIE,
            HeaderValue::from_static("supportal_csrf=abc; HttpOnly; SameSite=Lax; Path=/"),
        );
        headers.append(
            header::SET_COOKIE,
            HeaderValue::from_static("supportal_lang=de; SameSite=Lax; Path=/; Max-Age=60"),
        );
        for_frames(&mut headers);
        let set: Vec<cookie::Cookie> = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| cookie::Cookie::parse(v.to_str().unwrap().to_owned()).unwrap())
            .collect();
        assert_eq!(set.len(), 2);
        for c in &set {
            assert_eq!(c.same_site(), Some(cookie::SameSite::None));
            assert_eq!(c.secure(), Some(true));
            assert_eq!(c.partitioned(), Some(true));
            assert_eq!(c.path(), Some("/"));
        }
        assert_eq!((set[0].name(), set[0].value()), ("supportal_csrf", "abc"));
        assert_eq!(set[0].http_only(), Some(true));
        assert_eq!(set[1].max_age(), Some(cookie::time::Duration::seconds(60)));
    }

    #[test]
    fn only_customer_pages_loaded_as_frames_get_them() {
        let mut headers = HeaderMap::new();
        assert!(!loaded_in_frame(&headers));
        headers.insert("sec-fetch-dest", HeaderValue::from_static("document"));
        assert!(!loaded_in_frame(&headers));
        headers.insert("sec-fetch-dest", HeaderValue::from_static("iframe"));
        assert!(loaded_in_frame(&headers));
        for path in ["/", "/p/help", "/p/help/request", "/s/abc", "/join/123"] {
            assert!(customer_path(path), "{path}");
        }
        for path in [
            "/login",
            "/console",
            "/admin/sites",
            "/account",
            "/api/v1/sites",
        ] {
            assert!(!customer_path(path), "{path}");
        }
    }

    #[test]
    fn a_site_with_origins_names_them_and_one_without_is_left_alone() {
        let mut settings = SiteSettings::default();
        let plain = for_site(Response::default(), &settings);
        assert!(plain.extensions().get::<FrameAncestors>().is_none());
        settings.framing_origins = vec!["https://shop.example.com".into()];
        let framable = for_site(Response::default(), &settings);
        let FrameAncestors(value) = framable.extensions().get::<FrameAncestors>().unwrap();
        assert!(value
            .to_str()
            .unwrap()
            .ends_with("; frame-ancestors https://shop.example.com"));
        assert_eq!(DEFAULT_POLICY, policy("'none'"));
    }
}
