//! A presentation between three headless Chromium instances: the rep starts it and shares a
//! synthetic screen; one attendee joins by the link on a phone-sized screen, another by typing
//! the key on the portal; both see the stream and chat with everyone; the removed attendee's
//! view ends; the end reaches the one left.

use crate::browser::{accessibility_violations, axe_source, Browser};
use crate::console_browser::sign_in_to_console;
use crate::helpers::spawn_app;
use crate::portal::portal_app;
use crate::sharing_browser::{frames_arrive_in, View, MEDIA};
use std::time::Duration;
use store::Backend;

/// The attendee's view of the presenter's screen.
const ATTENDEE_VIEW: View = View {
    video: "presentation-view",
    negotiation: "window.supportalAttendee.receiver.negotiation",
};

async fn frames_arrive(attendee: &Browser) {
    frames_arrive_in(attendee, &ATTENDEE_VIEW).await;
}

/// Wait until the element with `testid` reads `text` (or contains it).
async fn reads(browser: &Browser, testid: &str, text: &str) {
    let mut shown = String::new();
    for _ in 0..100 {
        shown = browser.text_of(testid).await;
        if shown.contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{testid} reads {shown:?}, not {text:?}");
}

async fn count(browser: &Browser, css: &str) -> u64 {
    let script = format!("return document.querySelectorAll(\"{css}\").length;");
    let value = browser.client.execute(&script, vec![]).await.unwrap();
    value.as_u64().unwrap()
}

async fn attendees_listed(riley: &Browser, expected: u64) {
    for _ in 0..100 {
        if count(riley, "[data-testid=attendee]").await == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the presenter does not list {expected} attendees");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_presents_to_attendees_who_join_by_link_and_by_key() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let base = p.app.address.clone();
    let riley = Browser::start_with(&MEDIA).await;
    sign_in_to_console(&riley, &base, "riley@acme.test").await;
    riley
        .client
        .goto(&format!("{base}/console/presentations"))
        .await
        .unwrap();
    riley
        .fill("presentation-title", "Release walkthrough")
        .await;
    riley.click("start-presentation").await;
    let key = riley.text_of("presentation-key").await.replace(' ', "");
    let link = riley
        .wait_for("[data-testid='presentation-link']")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(link.ends_with(&format!("/presentations/{key}")), "{link}");
    riley.click("share-presentation").await;
    reads(&riley, "presenter-status", "You are sharing your screen.").await;

    // Ann follows the link on a phone-sized screen.
    let ann = Browser::start_with(&MEDIA).await;
    ann.client.set_window_size(390, 844).await.unwrap();
    ann.client.goto(&link).await.unwrap();
    ann.fill("attendee-name", "Ann").await;
    ann.click("join-presentation").await;
    frames_arrive(&ann).await;
    reads(
        &ann,
        "attend-status",
        "You are watching the presenter's screen.",
    )
    .await;
    let fits = "return document.documentElement.scrollWidth <= window.innerWidth;";
    assert_eq!(
        ann.client.execute(fits, vec![]).await.unwrap(),
        true,
        "no sideways scrolling at 390 px"
    );

    // Ben types the key on the portal.
    let ben = Browser::start_with(&MEDIA).await;
    ben.client.goto(&format!("{base}/p/help")).await.unwrap();
    ben.fill("presentation-key-input", &key).await;
    ben.click("presentation-key-submit").await;
    ben.fill("attendee-name", "Ben").await;
    ben.click("join-presentation").await;
    frames_arrive(&ben).await;
    attendees_listed(&riley, 2).await;
    let axe = axe_source();
    for (browser, page) in [
        (&riley, "the presenter's page"),
        (&ann, "the attendee's page"),
    ] {
        let violations = accessibility_violations(browser, &axe).await;
        assert_eq!(violations, Vec::<String>::new(), "{page}");
    }
    riley.screenshot("presentation-presenter").await;
    ann.screenshot("presentation-attendee-phone").await;

    // The chat reaches everyone.
    ann.fill(
        "presentation-message",
        "Can everyone see the release notes?",
    )
    .await;
    ann.click("presentation-send").await;
    let line = "//li[@data-testid='presentation-line' and contains(., 'release notes')]";
    for browser in [&riley, &ben] {
        let found = browser
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(fantoccini::Locator::XPath(line))
            .await;
        assert!(found.is_ok(), "the line reaches everyone");
    }

    // Riley removes Ben: his view ends, and he is told.
    let remove_ben = "//li[@data-testid='attendee' and contains(., 'Ben')]//button[@data-testid='remove-attendee']";
    riley
        .client
        .find(fantoccini::Locator::XPath(remove_ben))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    reads(
        &ben,
        "attend-status",
        "The presenter removed you from this presentation.",
    )
    .await;
    let view_ended =
        "return document.querySelector('[data-testid=presentation-view]').srcObject === null;";
    assert_eq!(ben.client.execute(view_ended, vec![]).await.unwrap(), true);
    attendees_listed(&riley, 1).await;

    // The end reaches Ann.
    riley.click("end-presentation").await;
    reads(&ann, "attend-status", "This presentation has ended.").await;
    assert_eq!(ann.client.execute(view_ended, vec![]).await.unwrap(), true);
    reads(&riley, "presenter-status", "This presentation has ended.").await;

    for browser in [ann, ben, riley] {
        browser.close().await;
    }
    drop(p);
}
