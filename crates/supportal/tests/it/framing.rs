//! Who may show a page in a frame: a site's portal pages name the origins its admin listed for
//! the help button's panel; every other page forbids framing. Cookies a portal page loaded in a
//! frame is given are fit for one (`SameSite=None; Secure; Partitioned`); staff cookies never.

use crate::helpers::{spawn_app, PASSWORD};
use crate::portal::{portal_app, site_form, Portal};
use store::Backend;

/// The site's admin form with the fields it needs and `origins` in the panel's list.
async fn save_origins(p: &Portal, origins: &str) -> (u16, String) {
    let page = &format!("/admin/sites/{}", p.site);
    let fields = site_form(&[("framing_origins", origins)]);
    let response = p.app.submit(page, page, &fields).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    let value = response.headers().get(name)?;
    Some(value.to_str().unwrap().to_owned())
}

fn frame_ancestors(response: &reqwest::Response) -> String {
    let policy = header(response, "content-security-policy").expect("every page has a policy");
    let directive = policy
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("frame-ancestors "))
        .expect("the policy says who may frame the page");
    directive["frame-ancestors ".len()..].to_owned()
}

/// The cookies a response sets, parsed.
fn set_cookies(response: &reqwest::Response) -> Vec<cookie::Cookie<'static>> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| cookie::Cookie::parse(v.to_str().unwrap().to_owned()).unwrap())
        .collect()
}

#[tokio::test]
async fn a_site_is_framed_only_by_the_origins_its_admin_lists() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let before = p.app.get("/p/help").await;
    assert_eq!(
        frame_ancestors(&before),
        "'none'",
        "no list: nobody frames it"
    );
    assert_eq!(header(&before, "x-frame-options").as_deref(), Some("DENY"));

    p.app.login("admin@acme.test", PASSWORD).await;
    // Not an origin (a path after the host): said beside the field, the list kept as typed.
    let typed = "https://shop.example.com/help";
    let (status, html) = save_origins(&p, typed).await;
    assert_eq!(status, 422);
    assert!(html.contains("Write each origin as https:&#x2f;&#x2f;www.example.com"));
    assert!(html.contains("has-error"));
    assert!(html.contains("https:&#x2f;&#x2f;shop.example.com&#x2f;help</textarea>"));
    let site = p.app.store.site(p.org, p.site).await.unwrap().unwrap();
    assert!(site.settings.framing_origins.is_empty(), "nothing saved");

    let (status, html) = save_origins(&p, "https://Shop.example.com/\nhttp://localhost:8080").await;
    assert_eq!(status, 200, "{html}");
    let site = p.app.store.site(p.org, p.site).await.unwrap().unwrap();
    let listed = ["https://shop.example.com", "http://localhost:8080"];
    assert_eq!(site.settings.framing_origins, listed);
    assert!(
        html.contains("data-open=&quot;panel&quot;"),
        "the snippet opens a panel"
    );

    // The portal's pages name exactly those origins (the first page, kept or rendered with
    // answers, the forms, the waiting page), and say nothing that would contradict them.
    let customer = p.app.other_browser();
    let contact = customer
        .submit("/p/help", "/p/help/contact", &[("customer_name", "Quinn")])
        .await;
    let waiting = header(&contact, "location").expect("queued, sent to the waiting page");
    for path in ["/p/help", "/p/help?name=Quinn", "/p/help/request", &waiting] {
        let page = customer.get(path).await;
        assert_eq!(page.status(), 200, "{path}");
        assert_eq!(frame_ancestors(&page), listed.join(" "), "{path}");
        assert_eq!(header(&page, "x-frame-options"), None, "{path}");
    }
    // Staff pages and everything else still forbid it.
    for path in ["/login", "/admin/sites", "/static/embed.js"] {
        let page = p.app.get(path).await;
        assert_eq!(frame_ancestors(&page), "'none'", "{path}");
        assert_eq!(header(&page, "x-frame-options").as_deref(), Some("DENY"));
    }
}

#[tokio::test]
async fn a_portal_page_loaded_in_a_frame_gets_cookies_that_work_there_and_staff_pages_do_not() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    // What a browser says when it loads a frame's document.
    let framed = p.app.browser_sending("sec-fetch-dest", "iframe");
    let page = framed.get("/p/help?lang=de").await;
    let cookies = set_cookies(&page);
    let names: Vec<&str> = cookies.iter().map(|c| c.name()).collect();
    assert!(names.contains(&"supportal_csrf") && names.contains(&"supportal_lang"));
    for c in &cookies {
        assert_eq!(c.same_site(), Some(cookie::SameSite::None), "{c}");
        assert_eq!(
            (c.secure(), c.partitioned()),
            (Some(true), Some(true)),
            "{c}"
        );
    }
    // The same page as a tab of its own: first-party cookies as always.
    let page = p.app.other_browser().get("/p/help").await;
    for c in set_cookies(&page) {
        assert_eq!(c.same_site(), Some(cookie::SameSite::Lax), "{c}");
        assert_eq!(c.partitioned(), None, "{c}");
    }
    // A staff page asked for as a frame is refused by its policy, and its cookies stay Lax.
    let framed_staff = p.app.browser_sending("sec-fetch-dest", "iframe");
    let login = framed_staff.get("/login").await;
    assert_eq!(frame_ancestors(&login), "'none'");
    let cookies = set_cookies(&login);
    assert!(!cookies.is_empty());
    for c in cookies {
        assert_eq!(c.same_site(), Some(cookie::SameSite::Lax), "{c}");
        assert_eq!(c.partitioned(), None, "{c}");
    }
}
