//! Two reps and a customer, each in their own headless Chromium: the customer asks for help,
//! both consoles show it without a reload, one rep accepts, it disappears from the other, and
//! the customer's page moves on.

use crate::browser::Browser;
use crate::helpers::{spawn_app, PASSWORD};
use crate::portal::portal_app;
use fantoccini::Locator;
use std::time::Duration;
use store::Backend;

pub(crate) async fn sign_in_to_console(browser: &Browser, base: &str, email: &str) {
    browser
        .client
        .goto(&format!("{base}/login?next=%2Fconsole"))
        .await
        .unwrap();
    browser.fill("login-email", email).await;
    browser.fill("login-password", PASSWORD).await;
    browser.click("login-submit").await;
    // Live once the socket is open.
    browser
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath("//span[@id='live-state' and text()='Live']"))
        .await
        .expect("the console goes live");
}

async fn count(browser: &Browser, css: &str) -> usize {
    browser
        .client
        .find_all(Locator::Css(css))
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_request_reaches_both_consoles_live_and_only_one_rep_gets_it() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let sam = p.app.add_rep(p.org, "sam@acme.test").await;
    p.app
        .store
        .set_user_teams(p.org, sam, &[p.team])
        .await
        .unwrap();
    let base = p.app.address.clone();

    let riley = Browser::start().await;
    let sam = Browser::start().await;
    let customer = Browser::start().await;
    sign_in_to_console(&riley, &base, "riley@acme.test").await;
    sign_in_to_console(&sam, &base, "sam@acme.test").await;

    customer.ask_with_contact_button(&base, "Quinn").await;
    let capability = customer
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .trim_start_matches("/s/")
        .to_owned();
    let session = p
        .app
        .store
        .session_by_capability(&domain::secret::token_digest(&capability))
        .await
        .unwrap()
        .unwrap()
        .id;
    let item = format!("[data-testid='queue-item'][data-session-id='{session}']");

    // Both consoles show the new customer without a reload.
    for console in [&riley, &sam] {
        let shown = console
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(&item))
            .await;
        assert!(shown.is_ok(), "the arrival is pushed to every console");
    }
    riley.screenshot("console").await;

    riley
        .wait_for(&format!("{item} [data-testid='accept']"))
        .await
        .click()
        .await
        .unwrap();
    let panel = riley.wait_for("[data-testid='session-panel']").await;
    assert!(panel.text().await.unwrap().contains("Quinn"));
    assert!(riley
        .client
        .find(Locator::Css("[data-testid='routing-reason']"))
        .await
        .is_ok());

    // Gone from Sam's list within moments, pushed, not reloaded.
    let mut remaining = 1;
    for _ in 0..50 {
        remaining = count(&sam, &item).await;
        if remaining == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(remaining, 0, "taken sessions leave the other consoles");

    let taken = customer
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid='session-taken']"))
        .await
        .unwrap();
    assert_eq!(taken.text().await.unwrap(), "Robin Rep is now helping you.");

    for browser in [riley, sam, customer] {
        browser.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_generated_in_the_console_brings_the_customer_to_that_rep() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let base = p.app.address.clone();
    let rep = Browser::start().await;
    let customer = Browser::start().await;
    sign_in_to_console(&rep, &base, "riley@acme.test").await;

    rep.click("generate-key").await;
    let spaced = rep.text_of("session-key").await;
    assert_eq!(
        spaced.replace(' ', "").len(),
        9,
        "nine digits, grouped for reading out: {spaced}"
    );
    // The join link and its message fit the console's sidebar (nothing sticks out of it).
    let overflow = "const k = document.querySelector('.issued-key'); \
                    return [k.scrollWidth, k.clientWidth];";
    let widths = rep.client.execute(overflow, vec![]).await.unwrap();
    let (scroll, client) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
    assert!(
        scroll <= client,
        "the key's block is {scroll}px wide in {client}px"
    );

    customer
        .client
        .goto(&format!("{base}/p/help"))
        .await
        .unwrap();
    customer.fill("session-key-input", &spaced).await;
    customer.click("session-key-submit").await;
    assert_eq!(
        customer.text_of("rep-name").await,
        "Robin Rep",
        "the customer sees who issued the key"
    );
    customer.fill("customer-name", "Kim").await;
    customer
        .wait_for("[data-testid='custom-field-device']")
        .await
        .select_by_value("Laptop")
        .await
        .unwrap();
    customer.click("submit-request").await;
    assert_eq!(
        customer.text_of("queue-position").await,
        "Your position in the queue: 1"
    );

    // Straight into Riley's own queue, pushed to the console; the used key is gone from the panel.
    let item = rep
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//li[@data-testid='queue-item'][.//strong[text()='Kim']]",
        ))
        .await
        .unwrap();
    assert!(item.text().await.unwrap().contains("your queue"));
    rep.client.refresh().await.unwrap();
    rep.wait_for("[data-testid='get-next']").await;
    assert_eq!(
        count(&rep, "[data-testid='session-key']").await,
        0,
        "a used key is no longer offered"
    );

    for browser in [rep, customer] {
        browser.close().await;
    }
}

/// With more customers waiting than the list shows, the console lists the oldest and says how
/// many more wait, updated live as they arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_queue_shows_the_oldest_and_how_many_more() {
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, |c| {
        c.console.queue_list_limit = 2;
    })
    .await;
    let p = portal_app(app).await;
    let base = p.app.address.clone();
    let riley = Browser::start().await;
    sign_in_to_console(&riley, &base, "riley@acme.test").await;
    for name in ["First", "Second", "Third", "Fourth"] {
        p.contact_request(name).await;
    }
    let more = riley
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//li[@data-testid='queue-more' and normalize-space(text())='and 2 more waiting']",
        ))
        .await;
    assert!(
        more.is_ok(),
        "the count of the rest is pushed to the console"
    );
    // Read in one go: a live refresh replaces the list, and elements found before it go stale.
    let shown = riley
        .client
        .execute(
            "return Array.from(document.querySelectorAll(\"[data-testid='queue-item'] strong\"))\
             .map(e => e.textContent.trim());",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        shown,
        serde_json::json!(["First", "Second"]),
        "the oldest, in line order"
    );
    riley.close().await;
}
