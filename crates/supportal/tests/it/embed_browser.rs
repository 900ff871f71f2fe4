//! The embeddable help button in headless Chromium: a plain page on another loopback port, with
//! a strict Content-Security-Policy that allows only the portal's origin for scripts, embeds
//! the snippet the site's admin page gives. The button shows; pressed, it opens the portal in a
//! window of its own with the customer's name filled in; the customer reaches the waiting page,
//! and the rep sees which page they came from.

use crate::browser::Browser;
use crate::helpers::PASSWORD;
use crate::portal::portal_app;
use store::Backend;

/// Serve `html` at `/shop` on a loopback port of its own; its address.
async fn host_page(html: String) -> String {
    let app = axum::Router::new().route(
        "/shop",
        axum::routing::get(move || {
            let html = html.clone();
            async move { axum::response::Html(html) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}/shop", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
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
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'; script-src {}\">\
         <title>Acme shop</title></head><body><h1>Acme shop</h1>{snippet}</body></html>",
        p.app.address
    );
    let shop = host_page(html).await;

    let browser = Browser::start().await;
    browser.client.goto(&shop).await.unwrap();
    let button = browser.wait_for("[data-testid='help-button']").await;
    assert_eq!(button.text().await.unwrap(), "Get help");
    let before = browser.client.windows().await.unwrap();
    button.click().await.unwrap();
    // A window of its own, on the portal.
    let mut portal_window = None;
    for _ in 0..50 {
        let now = browser.client.windows().await.unwrap();
        if let Some(new) = now.into_iter().find(|w| !before.contains(w)) {
            portal_window = Some(new);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    browser
        .client
        .switch_to_window(portal_window.expect("the portal opens in a window of its own"))
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
