//! GoToAssist's SmartBox: a customer types a question and a name; it waits in the general
//! queue, where every available rep's console shows it at once, question and all.

use crate::browser::Browser;
use crate::console_browser::sign_in_to_console;
use crate::helpers::spawn_app;
use crate::portal::portal_app;
use fantoccini::Locator;
use std::time::Duration;
use store::Backend;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_question_reaches_every_available_rep() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    // Sam is in no team at all: the general queue reaches him too.
    p.app.add_rep(p.org, "sam@acme.test").await;
    let base = p.app.address.clone();
    let riley = Browser::start().await;
    let sam = Browser::start().await;
    let customer = Browser::start().await;
    sign_in_to_console(&riley, &base, "riley@acme.test").await;
    sign_in_to_console(&sam, &base, "sam@acme.test").await;
    // A click anywhere lets the console play the arrival sound (headless Chromium does not
    // hold audio back before one, so this shows the sound plays, not that it was held).
    riley
        .wait_for("h2#waiting-title")
        .await
        .click()
        .await
        .unwrap();

    // Without a question, nothing is sent: the message is beside the field, the name kept.
    customer
        .client
        .goto(&format!("{base}/p/help"))
        .await
        .unwrap();
    customer.fill("smartbox-name", "Quinn").await;
    customer.submit_and_wait("smartbox-submit").await;
    let field = customer
        .wait_for("[data-testid='smartbox-question'][aria-invalid='true']")
        .await;
    let error_id = field.attr("aria-describedby").await.unwrap().unwrap();
    let error = customer.wait_for(&format!("#{error_id}")).await;
    assert_eq!(error.text().await.unwrap(), "This field is required.");
    let kept = customer.wait_for("[data-testid='smartbox-name']").await;
    assert_eq!(kept.prop("value").await.unwrap().as_deref(), Some("Quinn"));

    customer
        .fill(
            "smartbox-question",
            "The printer on floor 2 prints blank pages.",
        )
        .await;
    customer.submit_and_wait("smartbox-submit").await;
    customer.wait_for("[data-testid='queue-position']").await;

    // Both consoles show it without a reload, marked as a SmartBox question.
    for console in [&riley, &sam] {
        let item = console
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(
                "//li[@data-testid='queue-item' and contains(., 'Quinn') and contains(., 'SmartBox') and contains(., 'general queue')]",
            ))
            .await;
        assert!(item.is_ok(), "every available rep sees the question arrive");
    }
    let beeps = "return document.getElementById('console').dataset.beeps || '0';";
    let mut sounded = String::new();
    for _ in 0..50 {
        sounded = riley
            .client
            .execute(beeps, vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        if sounded != "0" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        sounded, "1",
        "the arrival sounded in the console that was clicked"
    );
    sam.click("accept").await;
    let details = sam.text_of("session-details").await;
    assert!(
        details.contains("The printer on floor 2 prints blank pages."),
        "the question is in the session's details: {details}"
    );
    for browser in [riley, sam, customer] {
        browser.close().await;
    }
}
