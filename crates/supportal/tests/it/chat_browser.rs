//! A customer and a rep chatting, each in their own headless Chromium: the customer writes while
//! waiting, the page becomes the chat without a reload when the rep accepts, messages go both
//! ways live, links are links and HTML is text, and a reload shows the conversation once.

use crate::browser::{accessibility_violations, axe_source, Browser};
use crate::console_browser::sign_in_to_console;
use crate::helpers::spawn_app;
use crate::portal::portal_app;
use fantoccini::Locator;
use std::time::Duration;
use store::Backend;

/// Wait until `browser` shows a chat line containing `text`.
async fn shows_line(browser: &Browser, text: &str) {
    browser.shows_chat_line("chat-message", text).await;
}

async fn count(browser: &Browser, css: &str) -> usize {
    let found = browser.client.find_all(Locator::Css(css)).await.unwrap();
    found.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_and_a_rep_chat_in_the_same_window() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let base = p.app.address.clone();
    let (customer, riley) = (Browser::start().await, Browser::start().await);

    customer.ask_with_contact_button(&base, "Quinn").await;
    let waiting_url = customer.client.current_url().await.unwrap();
    let first = p.session_at(waiting_url.path()).await.id;
    // Written while waiting: the rep who takes the request reads it.
    customer
        .fill("chat-input", "My printer <b>smokes</b>")
        .await;
    customer.click("chat-send").await;
    shows_line(&customer, "My printer <b>smokes</b>").await;
    // A marker that a reload would erase.
    customer
        .client
        .execute("window.stillThisPage = true; return null;", vec![])
        .await
        .unwrap();

    sign_in_to_console(&riley, &base, "riley@acme.test").await;
    riley.click("accept").await;
    riley.wait_for("[data-testid='session-panel']").await;
    shows_line(&riley, "My printer <b>smokes</b>").await;
    // On a 1280×800 screen the rep sees their sessions, the conversation and its input, and the
    // session's actions side by side, none below the fold.
    riley.client.set_window_size(1280, 800).await.unwrap();
    let placed = riley
        .client
        .execute(
            "const inView = (css) => { const r = document.querySelector(css).getBoundingClientRect(); \
               return r.top >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth; }; \
             return ['nav[aria-label=\"My sessions\"]', '[data-testid=chat-input]', '[data-testid=chat-send]', \
                     '[data-testid=transfer]', '[data-testid=invite]'].filter((css) => !inView(css));",
            vec![],
        )
        .await
        .unwrap();
    riley.screenshot("console").await;
    assert_eq!(placed, serde_json::json!([]), "below the fold at 1280×800");

    // The customer's page becomes the chat: same window, same address, no reload.
    let taken = customer.text_of("session-taken").await;
    assert_eq!(taken, "Robin Rep is now helping you.");
    let same_page = customer
        .client
        .execute("return window.stillThisPage === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, serde_json::json!(true), "no reload");
    assert_eq!(customer.client.current_url().await.unwrap(), waiting_url);

    // Both ways, live; a link is a link, nothing else is.
    riley
        .fill("chat-input", "Unplug it: https://help.example/unplug")
        .await;
    riley.click("chat-send").await;
    shows_line(&customer, "Unplug it").await;
    let link = customer
        .wait_for("[data-testid='chat-message'] a[href='https://help.example/unplug']")
        .await;
    assert_eq!(
        link.attr("rel").await.unwrap().as_deref(),
        Some("noopener noreferrer")
    );
    assert_eq!(count(&customer, "[data-testid='chat-message'] b").await, 0);
    customer.fill("chat-input", "Done, thanks").await;
    customer.click("chat-send").await;
    shows_line(&riley, "Done, thanks").await;

    // A second chat, taken while the first is open: its messages mark its tab unread.
    let (second, second_waiting) = p.contact_request("Zoe").await;
    let riley_elsewhere = crate::console::rep(&p.app, "riley@acme.test").await;
    let accept = format!("/console/sessions/{}/accept", second.0);
    riley_elsewhere.submit("/console", &accept, &[]).await;
    riley.client.refresh().await.unwrap();
    riley.wait_for("[data-testid='chat-log']").await;
    let badge = format!(
        "[data-testid='unread-badge'][data-session-id='{}']",
        second.0
    );
    assert!(!riley.wait_for(&badge).await.is_displayed().await.unwrap());
    let zoe = p.app.other_browser();
    let send = format!("{second_waiting}/messages");
    let sent = zoe
        .submit(&second_waiting, &send, &[("body", "Are you there?")])
        .await;
    assert!(sent.status().is_redirection());
    let mut shown = false;
    for _ in 0..50 {
        if riley.wait_for(&badge).await.is_displayed().await.unwrap() {
            shown = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(shown, "the other chat's tab is marked unread");

    // A reload shows the whole conversation once.
    customer.client.refresh().await.unwrap();
    shows_line(&customer, "Done, thanks").await;
    assert_eq!(count(&customer, "[data-testid='chat-message']").await, 3);
    assert_eq!(
        count(&customer, "[data-testid='chat-system-message']").await,
        1
    );
    customer.screenshot("chat").await;

    // With the keyboard alone: Tab reaches the message field, Enter sends.
    assert!(
        customer.tab_to("chat-input", 40).await,
        "Tab reaches the message field"
    );
    customer.press("Sent from the keyboard\u{E007}").await;
    shows_line(&riley, "Sent from the keyboard").await;
    // A line that arrives lands in the polite live region a screen reader announces.
    riley.fill("chat-input", "Heard you").await;
    riley.click("chat-send").await;
    shows_line(&customer, "Heard you").await;
    let announced =
        "//*[@aria-live='polite']/li[@data-testid='chat-message' and contains(., 'Heard you')]";
    assert!(
        customer
            .client
            .find(Locator::XPath(announced))
            .await
            .is_ok(),
        "the new line is inside the polite live region"
    );
    // Both sides of a conversation under way pass an accessibility scan.
    let axe = axe_source();
    assert_eq!(
        accessibility_violations(&customer, &axe).await,
        Vec::<String>::new(),
        "the customer's chat"
    );
    assert_eq!(
        accessibility_violations(&riley, &axe).await,
        Vec::<String>::new(),
        "the rep's console"
    );

    // Nothing to send, or too much: the reason beside the field, the text kept, nothing sent
    // (the empty one is refused on the socket, the long one by the POST's answer).
    customer.fill("chat-input", "   ").await;
    customer.click("chat-send").await;
    let error = "[data-testid='chat-error']:not([hidden])";
    assert_eq!(
        customer.wait_for(error).await.text().await.unwrap(),
        "This field is required."
    );
    customer
        .client
        .execute(
            "document.querySelector(\"[data-testid='chat-input']\").value = 'x'.repeat(4001); return null;",
            vec![],
        )
        .await
        .unwrap();
    customer.click("chat-send").await;
    let mut said = String::new();
    for _ in 0..50 {
        said = customer.wait_for(error).await.text().await.unwrap();
        if said.contains("4000") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(said, "At most 4000 characters.");
    let kept = customer
        .client
        .execute(
            "return document.querySelector(\"[data-testid='chat-input']\").value.length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(kept, serde_json::json!(4001), "the text is kept");
    assert_eq!(
        count(&customer, "[data-testid='chat-message']").await,
        5,
        "nothing was sent"
    );
    customer.fill("chat-input", "").await;

    // The rep's console closes (they opened their account page instead): the customer is told
    // at once, without a reload, and the notice goes when the console is back.
    let console_url = riley.client.current_url().await.unwrap();
    riley.client.goto(&format!("{base}/account")).await.unwrap();
    let away = "[data-testid='rep-disconnected']:not([hidden])";
    let notice = customer.wait_for(away).await.text().await.unwrap();
    assert!(
        notice.starts_with("Robin Rep lost the connection"),
        "{notice}"
    );
    riley.client.goto(console_url.as_str()).await.unwrap();
    customer
        .wait_for("[data-testid='rep-disconnected'][hidden]")
        .await;
    riley.wait_for("[data-testid='end-session']").await;

    // The rep ends the session: the customer's page shows the end without a reload, offers the
    // transcript and the survey, and takes a rating.
    customer
        .client
        .execute("window.stillThisPage = true; return null;", vec![])
        .await
        .unwrap();
    riley.click("end-session").await;
    assert_eq!(
        customer.text_of("session-ended").await,
        "This support session has ended."
    );
    let same_page = customer
        .client
        .execute("return window.stillThisPage === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, serde_json::json!(true), "no reload at the end");
    let transcript = customer
        .wait_for("[data-testid='transcript-download']")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let text = p.app.get_text(&transcript).await.1;
    assert!(text.contains("Quinn: Done, thanks"), "{text}");
    customer
        .wait_for("[data-testid='survey-rating'][value='5']")
        .await
        .click()
        .await
        .unwrap();
    customer.fill("survey-comment", "Fixed in minutes").await;
    customer.click("survey-submit").await;
    customer.wait_for("[data-testid='survey-thanks']").await;
    let kept = p.app.store.survey(p.org, first).await.unwrap().unwrap();
    assert_eq!(
        (kept.rating, kept.comment.as_deref()),
        (5, Some("Fixed in minutes"))
    );

    for browser in [customer, riley] {
        browser.close().await;
    }
}

/// Reveal the original of the line that shows `text`, and return what it says once visible.
async fn reveal_original(browser: &Browser, text: &str) -> String {
    let line = format!("//li[@data-testid='chat-message' and contains(., \"{text}\")]");
    let summary = browser
        .client
        .find(Locator::XPath(&format!(
            "{line}//summary[@data-testid='show-original']"
        )))
        .await
        .expect("a control to see the original");
    summary.click().await.unwrap();
    let original = browser
        .client
        .find(Locator::XPath(&format!(
            "{line}//*[@data-testid='original-text']"
        )))
        .await
        .unwrap();
    assert!(original.is_displayed().await.unwrap(), "the original shows");
    original.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_german_customer_and_an_english_rep_each_read_their_own_language() {
    use crate::stand_in::{ENGLISH_ANSWER, ENGLISH_QUESTION, GERMAN_ANSWER, GERMAN_QUESTION};
    let stand_in = crate::stand_in::libretranslate(Duration::ZERO).await;
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, |c| {
        c.translation.provider = "libretranslate".into();
        c.translation.url = Some(stand_in.url.clone());
    })
    .await;
    let p = portal_app(app).await;
    p.settings(|s| s.translation = true).await;
    let base = p.app.address.clone();
    let (customer, riley) = (Browser::start().await, Browser::start().await);

    customer
        .client
        .goto(&format!("{base}/p/help?lang=de"))
        .await
        .unwrap();
    customer.ask_with_contact_button(&base, "Jonas").await;
    customer.fill("chat-input", GERMAN_QUESTION).await;
    customer.click("chat-send").await;
    shows_line(&customer, GERMAN_QUESTION).await;
    // On a phone-sized screen the chat, its input and the file form fit the width: nothing
    // scrolls sideways.
    customer.client.set_window_size(390, 844).await.unwrap();
    let fits = customer
        .client
        .execute(
            "const width = document.documentElement.clientWidth; \
             const over = ['[data-testid=chat-input]', '[data-testid=chat-send]', '[data-testid=attach-file]', '[data-testid=chat-log]'] \
               .filter((css) => document.querySelector(css).getBoundingClientRect().right > width); \
             return { narrow: width <= 400, scrolls: document.documentElement.scrollWidth > width, over };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        fits,
        serde_json::json!({ "narrow": true, "scrolls": false, "over": [] }),
        "at 390 px wide"
    );

    sign_in_to_console(&riley, &base, "riley@acme.test").await;
    riley.click("accept").await;
    riley.wait_for("[data-testid='session-panel']").await;
    shows_line(&riley, ENGLISH_QUESTION).await;
    assert_eq!(
        reveal_original(&riley, ENGLISH_QUESTION).await,
        GERMAN_QUESTION
    );
    // Riley has read it: the customer's message says so; Riley typing shows on their side.
    let read = "[data-testid='chat-message'][data-from='customer'] [data-testid='receipt'][data-state='read']";
    assert_eq!(
        customer.wait_for(read).await.text().await.unwrap(),
        "Gelesen"
    );
    riley.fill("chat-input", "Let me look").await;
    let typing = customer
        .wait_for("[data-testid='typing']:not([hidden])")
        .await;
    assert_eq!(typing.text().await.unwrap(), "Robin Rep schreibt…");

    // The answer is the team's canned message: "/res" and Enter put it in the message.
    let restart = domain::canned::Shortcut::parse("restart").unwrap();
    let answer = domain::chat::MessageBody::parse(ENGLISH_ANSWER).unwrap();
    let team = store::canned::CannedOwner::Team(p.team);
    let now = crate::helpers::now();
    let created = p
        .app
        .store
        .create_canned(p.org, team, &restart, &answer, now);
    assert!(created.await.unwrap());
    riley.client.refresh().await.unwrap();
    riley.wait_for("[data-testid='canned-message']").await;
    riley.fill("chat-input", "/res").await;
    let input = riley.wait_for("[data-testid='chat-input']").await;
    input.send_keys("\u{E007}").await.unwrap();
    assert_eq!(
        input.prop("value").await.unwrap().as_deref(),
        Some(ENGLISH_ANSWER)
    );
    riley.click("chat-send").await;
    shows_line(&riley, ENGLISH_ANSWER).await;
    shows_line(&customer, GERMAN_ANSWER).await;
    assert_eq!(
        reveal_original(&customer, GERMAN_ANSWER).await,
        ENGLISH_ANSWER
    );
    assert_eq!(
        count(&customer, "[data-testid='not-translated']").await,
        0,
        "everything was translated"
    );

    // A file from the customer's window: the rep gets a download link, nothing leaves the page.
    let photo = std::env::temp_dir().join(format!("display-{}.png", std::process::id()));
    std::fs::write(&photo, b"\x89PNG pretend").unwrap();
    let chooser = customer.wait_for("[data-testid='attach-file']").await;
    chooser.send_keys(photo.to_str().unwrap()).await.unwrap();
    customer.click("send-file").await;
    let name = photo.file_name().unwrap().to_str().unwrap().to_owned();
    let link = "[data-testid='attachment-link']";
    let on_console = riley.wait_for(link).await;
    assert_eq!(on_console.text().await.unwrap(), name);
    assert_eq!(customer.wait_for(link).await.text().await.unwrap(), name);
    let _ = std::fs::remove_file(&photo);

    // Later, Riley finds the conversation by a word of its English translation.
    riley.click("history-link").await;
    riley.fill("history-search", "printed").await;
    riley.click("history-submit").await;
    // The page before the search lists every session too: wait for the results of this one.
    for _ in 0..50 {
        let url = riley.client.current_url().await.unwrap();
        if url.query().is_some_and(|q| q.contains("q=printed")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let result = riley.wait_for("[data-testid='history-result'] a").await;
    result.click().await.unwrap();
    riley.wait_for("[data-testid='history-session']").await;
    shows_line(&riley, ENGLISH_QUESTION).await;
    shows_line(&riley, ENGLISH_ANSWER).await;
    customer.close().await;
    riley.close().await;
}

/// Hold the page's new sockets unopened (`window.releaseSockets()` opens them), and remember
/// every socket the page sends on (`window.sentOn`).
const HOLD_SOCKETS: &str = "
    const Real = window.WebSocket;
    window.sentOn = new Set();
    const send = Real.prototype.send;
    Real.prototype.send = function (data) { window.sentOn.add(this); return send.call(this, data); };
    window.heldSockets = [];
    class Held extends EventTarget {
      constructor(url) { super(); this.url = url; this.real = null; window.heldSockets.push(this); }
      get readyState() { return this.real ? this.real.readyState : 0; }
      send(data) { if (this.real) this.real.send(data); }
      close(...args) { if (this.real) this.real.close(...args); }
      connect() {
        this.real = new Real(this.url);
        this.real.addEventListener('open', () => this.dispatchEvent(new Event('open')));
        this.real.addEventListener('message', (e) => this.dispatchEvent(new MessageEvent('message', { data: e.data })));
        this.real.addEventListener('close', (e) => this.dispatchEvent(new CloseEvent('close', { code: e.code, reason: e.reason })));
      }
    }
    Object.assign(Held, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
    window.WebSocket = Held;
    window.releaseSockets = () => { window.WebSocket = Real; window.heldSockets.forEach((h) => h.connect()); };
    return null;";

/// A rep whose conversation socket is down sends by POST; the customer's message committed just
/// before theirs is not lost: the socket that comes back resumes before it. (The answer to the
/// send once moved the page's place past it: found by the rolling-restart test behind nginx.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_while_the_socket_is_down_skips_nothing_before_it() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let base = p.app.address.clone();
    let (_, waiting) = p.contact_request("Quinn").await;
    let riley = Browser::start().await;
    sign_in_to_console(&riley, &base, "riley@acme.test").await;
    riley.click("accept").await;
    riley.wait_for("[data-testid='session-panel']").await;
    crate::chat::customer_says(&p.app, &waiting, "Hello?", "c-1").await;
    shows_line(&riley, "Hello?").await;

    // The conversation's socket closes (typing sends on it, so the page names it) and the
    // next one is held back.
    riley.client.execute(HOLD_SOCKETS, vec![]).await.unwrap();
    riley.fill("chat-input", "typing").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let closed = riley
        .client
        .execute(
            "window.sentOn.forEach((s) => s.close()); return window.sentOn.size;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(closed, serde_json::json!(1), "the conversation's socket");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The customer writes; then the rep, by POST while the socket is away.
    let (status, _) = crate::chat::customer_says(&p.app, &waiting, "Are you there?", "c-2").await;
    assert_eq!(status, 200);
    riley.fill("chat-input", "Here I am").await;
    riley.click("chat-send").await;
    shows_line(&riley, "Here I am").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let held = riley
        .client
        .execute(
            "const n = window.heldSockets.length; window.releaseSockets(); return n;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        held,
        serde_json::json!(1),
        "the page reconnected once, held"
    );
    shows_line(&riley, "Are you there?").await;
    let order = riley
        .client
        .execute(
            "return Array.from(document.querySelectorAll(\"[data-testid='chat-message']\")).map(l => l.dataset.seq);",
            vec![],
        )
        .await
        .unwrap();
    let seqs: Vec<i64> = serde_json::from_value::<Vec<String>>(order)
        .unwrap()
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
    riley.close().await;
}
