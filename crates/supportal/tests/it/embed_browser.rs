//! The embeddable help button in headless Chromium: a plain page on another loopback port, with
//! a strict Content-Security-Policy that allows only the portal's origin for scripts, embeds
//! the snippet the site's admin page gives. The button shows; pressed, it opens the portal in a
//! window of its own with the customer's name filled in; the customer reaches the waiting page,
//! and the rep sees which page they came from.

use crate::browser::Browser;
use crate::helpers::PASSWORD;
use crate::portal::portal_app;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::Backend;

/// A plain page at `/shop` on a loopback port of its own, addressed by `host` (`localhost` is
/// another site than the portal's `127.0.0.1`); its origin, and its HTML to fill in.
async fn host_page_on(host: &str) -> (String, Arc<Mutex<String>>) {
    let html = Arc::new(Mutex::new(String::new()));
    let served = html.clone();
    let app = axum::Router::new().route(
        "/shop",
        axum::routing::get(move || {
            let html = served.lock().unwrap().clone();
            async move { axum::response::Html(html) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{host}:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (origin, html)
}

/// Serve `html` at `/shop` on a loopback port of its own; its address.
async fn host_page(html: String) -> String {
    let (origin, page) = host_page_on("127.0.0.1").await;
    *page.lock().unwrap() = html;
    format!("{origin}/shop")
}

/// A shop's page embedding `snippet`, under a strict policy that allows the portal's origin
/// for scripts and frames only.
fn shop_html(portal: &str, snippet: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; script-src {portal}; frame-src {portal}\">\
         <title>Acme shop</title></head><body><main><h1>Acme shop</h1></main>{snippet}</body></html>"
    )
}

/// The window that opens after `before` were open.
async fn new_window(
    browser: &Browser,
    before: &[fantoccini::wd::WindowHandle],
) -> fantoccini::wd::WindowHandle {
    for _ in 0..50 {
        let now = browser.client.windows().await.unwrap();
        if let Some(new) = now.into_iter().find(|w| !before.contains(w)) {
            return new;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("a window of its own opens");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_elsewhere_embeds_the_help_button_and_its_customer_reaches_the_waiting_page() {
    let p = portal_app(crate::helpers::spawn_app(Backend::Sqlite).await).await;
    // The snippet, as the admin copies it from the site's page.
    let admin = p.app.other_browser();
    assert_eq!(admin.login("admin@acme.test", PASSWORD).await.status(), 303);
    let (_, page) = admin.get_text(&format!("/admin/sites/{}", p.site)).await;
    let marker = "data-testid=\"embed-snippet\">";
    let start = page.find(marker).expect("the site page gives the snippet") + marker.len();
    let snippet = page[start..].split("</code>").next().unwrap();
    let snippet = snippet
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x2f;", "/");
    assert!(
        snippet.contains(&format!("{}/static/embed.js", p.app.address)),
        "{snippet}"
    );
    // The host page knows its customer: two optional attributes.
    let snippet = snippet.replace(
        " async>",
        " data-customer-name=\"Quinn Shopper\" data-company=\"Acme Shop\" async>",
    );
    let shop = host_page(shop_html(&p.app.address, &snippet)).await;

    let browser = Browser::start().await;
    browser.client.goto(&shop).await.unwrap();
    let button = browser.wait_for("[data-testid='help-button']").await;
    assert_eq!(button.text().await.unwrap(), "Get help");
    let before = browser.client.windows().await.unwrap();
    button.click().await.unwrap();
    // A window of its own, on the portal.
    let portal_window = new_window(&browser, &before).await;
    browser
        .client
        .switch_to_window(portal_window)
        .await
        .unwrap();
    let name = browser.wait_for("[data-testid='customer-name']").await;
    assert_eq!(
        name.prop("value").await.unwrap().as_deref(),
        Some("Quinn Shopper"),
        "the name the host page knew is filled in"
    );
    browser.click("contact-button").await;
    browser.wait_for("[data-testid='queue-position']").await;
    let waiting = browser.client.current_url().await.unwrap();
    let session = p.session_at(waiting.path()).await;
    assert_eq!(session.customer_name, "Quinn Shopper");
    let fields: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&session.fields).unwrap();
    assert_eq!(
        fields.get(domain::intake::EMBEDDED_FROM),
        Some(&shop),
        "the rep sees which page the customer came from"
    );
    browser.close().await;
}

/// Where the document the browser is in (a frame's, inside one) is.
async fn path_here(browser: &Browser) -> String {
    let path = browser.client.execute("return location.pathname;", vec![]);
    path.await.unwrap().as_str().unwrap().to_owned()
}

/// Whether the element with `testid` is shown (or, with `shown` false, hidden) within `secs`
/// seconds.
async fn displayed_within(browser: &Browser, testid: &str, shown: bool, secs: u64) -> bool {
    let element = browser.wait_for(&format!("[data-testid='{testid}']")).await;
    for _ in 0..secs * 10 {
        if element.is_displayed().await.unwrap() == shown {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listed_page_on_another_site_shows_the_portal_in_a_panel_where_its_customer_chats() {
    let p = portal_app(crate::helpers::spawn_app(Backend::Sqlite).await).await;
    let base = &p.app.address;
    // The shop is another site than the portal's: `localhost` against `127.0.0.1`. There the
    // browser keeps the portal's cookies only as the frame-fit kind, so the forms in the panel
    // work only if the server gives those.
    let (shop, shop_page) = host_page_on("localhost").await;
    let (elsewhere, elsewhere_page) = host_page_on("localhost").await;

    // The admin lists the shop's origin on the site's page; a line that is no origin is said
    // beside the field and kept as typed.
    let browser = Browser::start().await;
    browser.sign_in(base, "admin@acme.test").await;
    browser.wait_for("[data-testid='logout']").await;
    let site_page = format!("{base}/admin/sites/{}", p.site);
    browser.client.goto(&site_page).await.unwrap();
    browser.fill("site-framing-origins", "localhost/shop").await;
    browser.submit_and_wait("site-save").await;
    let error = browser.wait_for("#e-framing-origins").await;
    assert!(error.text().await.unwrap().contains("Write each origin"));
    let field = browser
        .wait_for("[data-testid='site-framing-origins']")
        .await;
    assert_eq!(
        field.prop("value").await.unwrap().as_deref(),
        Some("localhost/shop")
    );
    browser.fill("site-framing-origins", &shop).await;
    browser.submit_and_wait("site-save").await;
    let snippet = browser.text_of("embed-snippet").await;
    assert!(snippet.contains("data-open=\"panel\""), "{snippet}");
    let snippet = snippet.replace(" async>", " data-customer-name=\"Quinn Shopper\" async>");
    *shop_page.lock().unwrap() = shop_html(base, &snippet);
    let german = snippet.replace(" async>", " data-lang=\"de\" async>");
    *elsewhere_page.lock().unwrap() = shop_html(base, &german);

    // On the shop, the button opens the portal in a panel on the page.
    let shop_url = format!("{shop}/shop");
    browser.client.goto(&shop_url).await.unwrap();
    browser.click("help-button").await;
    let frame = browser.wait_for("[data-testid='help-panel-frame']").await;
    // The open panel on the shop's page: labelled, reachable, nothing axe-core objects to.
    let axe = crate::browser::axe_source();
    let violations = crate::browser::accessibility_violations(&browser, &axe).await;
    assert!(violations.is_empty(), "{violations:#?}");
    frame.enter_frame().await.unwrap();
    let name = browser.wait_for("[data-testid='customer-name']").await;
    assert_eq!(
        name.prop("value").await.unwrap().as_deref(),
        Some("Quinn Shopper")
    );
    // A link that leaves the portal (its pages refuse frames) opens a window of its own.
    let staff = browser.wait_for("a[href='/login']").await;
    assert_eq!(
        staff.attr("target").await.unwrap().as_deref(),
        Some("_blank")
    );
    browser.click("contact-button").await;
    browser.wait_for("[data-testid='queue-position']").await;
    let waiting = path_here(&browser).await;
    let session = p.session_at(&waiting).await;
    assert_eq!(session.customer_name, "Quinn Shopper");
    let fields: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&session.fields).unwrap();
    assert_eq!(fields.get(domain::intake::EMBEDDED_FROM), Some(&shop_url));
    // The customer writes from the panel: a form that needs the browser's token cookie.
    browser.fill("chat-input", "Hello from the panel").await;
    browser.click("chat-send").await;
    browser
        .shows_chat_line("chat-message", "Hello from the panel")
        .await;

    // On the shop's next page (here: the same, loaded again) the panel opens by itself and
    // takes the customer back to the conversation.
    browser.client.enter_parent_frame().await.unwrap();
    browser.client.goto(&shop_url).await.unwrap();
    let frame = browser.wait_for("[data-testid='help-panel-frame']").await;
    frame.enter_frame().await.unwrap();
    browser
        .shows_chat_line("chat-message", "Hello from the panel")
        .await;
    assert_eq!(path_here(&browser).await, waiting);

    // "Open in a new window", offered in the panel only, carries the customer's place: the
    // same conversation in a window of its own, and the panel closes.
    let before = browser.client.windows().await.unwrap();
    let shop_window = browser.client.window().await.unwrap();
    browser.click("open-in-window").await;
    let window = new_window(&browser, &before).await;
    browser.client.switch_to_window(window).await.unwrap();
    browser
        .shows_chat_line("chat-message", "Hello from the panel")
        .await;
    assert_eq!(path_here(&browser).await, waiting);
    let link = browser.wait_for("[data-testid='open-in-window']").await;
    assert!(
        !link.is_displayed().await.unwrap(),
        "only a framed page offers it"
    );
    browser.client.switch_to_window(shop_window).await.unwrap();
    assert!(
        displayed_within(&browser, "help-panel", false, 5).await,
        "the panel closes"
    );

    // A page whose origin is not listed (here a German one) gets no portal: the browser
    // refuses the frame, and the panel offers a window instead, in the page's language.
    browser
        .client
        .goto(&format!("{elsewhere}/shop"))
        .await
        .unwrap();
    assert_eq!(browser.text_of("help-button").await, "Hilfe holen");
    browser.click("help-button").await;
    assert!(
        displayed_within(&browser, "help-panel-stuck", true, 15).await,
        "an unlisted page's panel offers a window of its own"
    );
    let stuck = browser.text_of("help-panel-stuck").await;
    assert!(
        stuck.starts_with("Die Hilfe kann auf dieser Seite nicht angezeigt werden."),
        "{stuck}"
    );
    browser.close().await;
}
