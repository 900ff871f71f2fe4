//! Screen sharing between two headless Chromium instances (a synthetic screen from Chromium's
//! fake capture device): the rep asks, the customer declines and then accepts in the page's own
//! prompt, the rep's video decodes the screen, and it ends when the customer stops.

use crate::browser::Browser;
use crate::console_browser::sign_in_to_console;
use crate::helpers::spawn_app;
use crate::portal::{portal_app, Portal};
use std::time::Duration;
use store::Backend;

/// Chromium flags for WebRTC on loopback with a synthetic screen (../shared/TESTING-NOTES.md).
pub const MEDIA: [&str; 3] = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
];

/// Wait until `browser` shows a system line containing `text`.
async fn shows_system_line(browser: &Browser, text: &str) {
    browser.shows_chat_line("chat-system-message", text).await;
}

/// Where a page shows a screen it receives: its video element, and the script expression of
/// the negotiation whose connection carries it.
pub struct View {
    pub video: &'static str,
    pub negotiation: &'static str,
}

/// The rep's view of the customer's screen, in the console.
const REP_VIEW: View = View {
    video: "screen-view",
    negotiation:
        "document.querySelector('[data-testid=screen-pane]').screenViewer.receiver.negotiation",
};

/// What a view has decoded: the video's width and the connection's decoded frames.
pub async fn decoded_in(browser: &Browser, view: &View) -> (u64, u64) {
    let script = format!(
        "const done = arguments[0]; \
        const video = document.querySelector('[data-testid={}]'); \
        let n = null; try {{ n = {}; }} catch (e) {{ n = null; }} \
        if (!n || !video) {{ done([video ? video.videoWidth : 0, 0]); return; }} \
        n.pc.getStats().then((stats) => {{ let frames = 0; \
          stats.forEach((s) => {{ if (s.type === 'inbound-rtp' && s.kind === 'video') frames = s.framesDecoded || 0; }}); \
          done([video.videoWidth, frames]); }});",
        view.video, view.negotiation
    );
    let value = browser.client.execute_async(&script, vec![]).await.unwrap();
    (
        value[0].as_u64().unwrap_or(0),
        value[1].as_u64().unwrap_or(0),
    )
}

/// What the rep's view has decoded.
pub async fn decoded(riley: &Browser) -> (u64, u64) {
    decoded_in(riley, &REP_VIEW).await
}

/// Wait until a view decodes frames of the screen sent to it.
pub async fn frames_arrive_in(browser: &Browser, view: &View) -> (u64, u64) {
    let mut seen = (0, 0);
    for _ in 0..150 {
        seen = decoded_in(browser, view).await;
        if seen.0 > 0 && seen.1 > 0 {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no frames decoded in 15 s: width {}, frames {}",
        seen.0, seen.1
    );
}

/// Wait until the rep's view decodes frames of the customer's screen.
pub async fn frames_arrive(riley: &Browser) -> (u64, u64) {
    frames_arrive_in(riley, &REP_VIEW).await
}

async fn visible(browser: &Browser, testid: &str) -> bool {
    let script = format!(
        "const e = document.querySelector('[data-testid={testid}]'); \
         return Boolean(e && e.offsetParent !== null);"
    );
    browser.client.execute(&script, vec![]).await.unwrap() == serde_json::json!(true)
}

async fn becomes(browser: &Browser, testid: &str, shown: bool) {
    for _ in 0..100 {
        if visible(browser, testid).await == shown {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{testid} did not become {}",
        if shown { "visible" } else { "hidden" }
    );
}

/// Quinn asks on `p`'s site and Riley takes them, each in a browser that can share a screen.
pub async fn taken_in_browsers(p: &Portal) -> (Browser, Browser) {
    let base = p.app.address.clone();
    let (customer, riley) = (
        Browser::start_with(&MEDIA).await,
        Browser::start_with(&MEDIA).await,
    );
    customer.ask_with_contact_button(&base, "Quinn").await;
    sign_in_to_console(&riley, &base, "riley@acme.test").await;
    riley.click("accept").await;
    riley.wait_for("[data-testid='session-panel']").await;
    customer.wait_for("[data-testid='session-taken']").await;
    (customer, riley)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_sees_the_customers_screen_only_after_consent() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let (customer, riley) = taken_in_browsers(&p).await;

    // Asked, and declined: no stream, and the rep is told in the chat.
    becomes(&customer, "offer-screen-share", true).await;
    riley.click("request-screen-share").await;
    becomes(&customer, "share-consent", true).await;
    let asked = customer.text_of("share-consent").await;
    assert!(asked.contains("Robin Rep of Org acme"), "{asked}");
    customer.click("share-consent-decline").await;
    shows_system_line(&riley, "The customer declined to share their screen.").await;
    assert_eq!(decoded(&riley).await, (0, 0));

    // Asked again, and accepted: the rep's video decodes the screen.
    riley.click("request-screen-share").await;
    becomes(&customer, "share-consent", true).await;
    customer.click("share-consent-accept").await;
    becomes(&customer, "sharing-banner", true).await;
    shows_system_line(&riley, "The customer started sharing their screen.").await;
    let (width, frames) = frames_arrive(&riley).await;
    assert!(width > 0 && frames > 0);

    // The rep draws a stroke across the view: the customer's preview shows it, then it fades.
    let draw = "const c = document.querySelector('[data-testid=screen-annotate]'); \
        const r = c.getBoundingClientRect(); const at = (f) => ({ clientX: r.left + r.width * f, \
          clientY: r.top + r.height / 2, pointerId: 1, bubbles: true }); \
        c.dispatchEvent(new PointerEvent('pointerdown', at(0.3))); \
        for (const f of [0.35, 0.4, 0.45, 0.5]) c.dispatchEvent(new PointerEvent('pointermove', at(f))); \
        c.dispatchEvent(new PointerEvent('pointerup', at(0.5))); return null;";
    riley.client.execute(draw, vec![]).await.unwrap();
    let preview = |attribute: &'static str| {
        let customer = &customer;
        async move {
            let script = format!(
                "return document.querySelector('[data-testid=annotation-preview]').dataset.{attribute} || '0';"
            );
            let value = customer.client.execute(&script, vec![]).await.unwrap();
            value.as_str().unwrap_or("0").to_owned()
        }
    };
    let mut strokes = String::new();
    for _ in 0..50 {
        strokes = preview("strokes").await;
        if strokes != "0" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(strokes, "1", "the stroke reached the customer's preview");
    assert_ne!(preview("visible").await, "0", "shown");
    customer.screenshot("sharing-customer").await;
    riley.screenshot("sharing-console").await;
    let mut marks_shown = String::new();
    for _ in 0..80 {
        marks_shown = preview("visible").await;
        if marks_shown == "0" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(marks_shown, "0", "faded after a few seconds");

    // The network under the connection changes: the customer's page restarts ICE (what it does
    // when its connection fails), and the rep's same connection resumes, without a new consent.
    let rep_side = "const n = document.querySelector('[data-testid=screen-pane]').screenViewer.receiver.negotiation; \
        if (!n.pc.marked) n.pc.marked = 'first'; \
        const ufrag = (n.pc.remoteDescription.sdp.match(/a=ice-ufrag:(\\S+)/) || [])[1]; \
        return [n.pc.marked, ufrag, n.pc.connectionState];";
    let before = riley.client.execute(rep_side, vec![]).await.unwrap();
    let restart = "const senders = document.getElementById('screen-share').screenSender.senders; \
        const peer = senders.names()[0]; senders.offer(peer, senders.peers.get(peer).pc, true); return peer;";
    customer.client.execute(restart, vec![]).await.unwrap();
    let mut after = before.clone();
    for _ in 0..100 {
        after = riley.client.execute(rep_side, vec![]).await.unwrap();
        if after[1] != before[1] && after[2] == "connected" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(
        after[1], before[1],
        "new ICE credentials: {before} → {after}"
    );
    assert_eq!(
        (&after[0], &after[2]),
        (&serde_json::json!("first"), &serde_json::json!("connected")),
        "the same connection"
    );
    let (_, frames_before) = decoded(&riley).await;
    let mut frames_after = frames_before;
    for _ in 0..50 {
        frames_after = decoded(&riley).await.1;
        if frames_after > frames_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        frames_after > frames_before,
        "frames keep coming after the restart"
    );
    assert!(!visible(&customer, "share-consent").await, "no new consent");

    // The customer stops: the rep's view ends at once.
    customer.click("stop-sharing").await;
    becomes(&customer, "sharing-banner", false).await;
    shows_system_line(&riley, "The customer stopped sharing their screen.").await;
    let ended = riley
        .client
        .execute(
            "return document.querySelector('[data-testid=screen-view]').srcObject === null;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(ended, serde_json::json!(true), "the view ends");
    customer.close().await;
    riley.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_session_asks_for_the_screen_as_soon_as_a_rep_takes_it() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    p.settings(|s| s.start_as = domain::site::StartAs::FullSession)
        .await;
    let (customer, riley) = taken_in_browsers(&p).await;
    // Nobody clicked "ask": the prompt is there once the rep took the session.
    becomes(&customer, "share-consent", true).await;
    customer.click("share-consent-accept").await;
    frames_arrive(&riley).await;
    customer.close().await;
    riley.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_offers_their_screen_from_the_chat() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let (customer, riley) = taken_in_browsers(&p).await;
    // The rep did not ask: the customer offers, agrees in the page's own prompt, and the rep
    // sees the screen.
    customer.click("offer-screen-share").await;
    becomes(&customer, "share-consent", true).await;
    let asked = customer.text_of("share-consent").await;
    assert!(asked.contains("Robin Rep of Org acme"), "{asked}");
    customer.click("share-consent-accept").await;
    becomes(&customer, "sharing-banner", true).await;
    let (width, frames) = frames_arrive(&riley).await;
    assert!(width > 0 && frames > 0);
    customer.close().await;
    riley.close().await;
}
