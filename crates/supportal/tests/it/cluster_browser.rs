//! Pages in a real browser behind nginx while the nodes restart one at a time: each node going
//! away closes its sockets with 1012, and the customer's page and the rep's console reconnect
//! through nginx to a node still running at once, without a reload, the conversation going on.

use crate::browser::{free_port, Browser};
use crate::cluster::Balancer;
use crate::console_browser::sign_in_to_console;
use crate::helpers::{spawn_with, test_config, test_redis_url, Node};
use crate::portal::portal_app;
use std::time::Duration;
use store::Backend;

/// Whether the page is still the one a marker was set on (a reload erases it).
async fn still_this_page(browser: &Browser) -> bool {
    browser
        .client
        .execute("return window.stillThisPage === true;", vec![])
        .await
        .unwrap()
        == serde_json::json!(true)
}

/// Mark the page (a reload erases the mark) and log every socket it makes from now on: when
/// each was made, opened, and when and how each closed.
async fn mark_page(browser: &Browser) {
    browser
        .client
        .execute(
            "window.stillThisPage = true; window.socketLog = [];
             const Original = window.WebSocket;
             window.WebSocket = class extends Original {
               constructor(...args) {
                 super(...args);
                 window.socketLog.push(['new', Date.now(), 0]);
                 this.addEventListener('open', () => window.socketLog.push(['open', Date.now(), 0]));
                 this.addEventListener('close', (e) => window.socketLog.push(['close', Date.now(), e.code]));
               }
             };
             return null;",
            vec![],
        )
        .await
        .unwrap();
}

/// The page's socket log: (what, when in ms, close code).
async fn socket_log(browser: &Browser) -> Vec<(String, i64, i64)> {
    let log = browser
        .client
        .execute("return window.socketLog;", vec![])
        .await
        .unwrap();
    serde_json::from_value(log).unwrap()
}

/// Sockets the page was told to move (1012), and for those not tried again within `within` ms
/// (or never open again) how long it took (-1: never).
fn moved_and_back(log: &[(String, i64, i64)], within: i64) -> (usize, Vec<i64>) {
    let mut told = 0;
    let mut slow = Vec::new();
    for (i, (what, at, code)) in log.iter().enumerate() {
        if what != "close" || *code != 1012 {
            continue;
        }
        told += 1;
        let after = |kind: &str| {
            log[i..]
                .iter()
                .find(|(what, _, _)| what == kind)
                .map(|(_, when, _)| when - at)
        };
        match (after("new"), after("open")) {
            (Some(tried), Some(_)) if tried <= within => {}
            (tried, _) => slow.push(tried.unwrap_or(-1)),
        }
    }
    (told, slow)
}

/// Wait for `text` on `page`'s conversation; when it does not come, fail with what both pages
/// hold: their socket logs and conversations (lines still pending or marked unsent).
async fn shows_or_tells(page: &Browser, text: &str, pages: [&Browser; 2]) {
    let xpath = format!("//li[@data-testid='chat-message' and contains(., \"{text}\")]");
    let found = page
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::XPath(&xpath))
        .await;
    if found.is_ok() {
        return;
    }
    let mut told = String::new();
    for (name, browser) in ["customer", "console"].into_iter().zip(pages) {
        let lines = browser
            .client
            .execute(
                "return Array.from(document.querySelectorAll('.chat-line')).map(l => \
                 `${l.className} seq=${l.dataset.seq} ${l.title || ''}: ${l.textContent}`);",
                vec![],
            )
            .await
            .unwrap();
        told += &format!(
            "\n{name}: sockets {:?}\n{name}: lines {lines}",
            socket_log(browser).await
        );
    }
    panic!("the line {text:?} did not appear{told}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_follow_a_rolling_restart_through_nginx_without_a_reload() {
    let mut config = test_config(Backend::Postgres).await;
    config.bus.url = Some(test_redis_url());
    config.bus.channel = format!("supportal:test:{}", rand::random::<u64>());
    let nginx_port = free_port();
    config.server.public_url = Some(format!("http://127.0.0.1:{nginx_port}"));
    let p = portal_app(spawn_with(&config).await).await;
    let ports = [free_port(), free_port()];
    let on = |port: u16| {
        let mut config = config.clone();
        config.server.bind = format!("127.0.0.1:{port}");
        config
    };
    let mut nodes = [
        Node::start(on(ports[0])).await,
        Node::start(on(ports[1])).await,
    ];
    let addresses: Vec<String> = nodes.iter().map(|n| n.address.clone()).collect();
    let refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
    let nginx = Balancer::start_on(nginx_port, &refs).await;
    let base = nginx.address.clone();

    let (customer, riley) = (Browser::start().await, Browser::start().await);
    customer.ask_with_contact_button(&base, "Quinn").await;
    let waiting = customer.client.current_url().await.unwrap();
    let session = p.session_at(waiting.path()).await.id;
    sign_in_to_console(&riley, &base, "riley@acme.test").await;
    riley.click("accept").await;
    riley.wait_for("[data-testid='session-panel']").await;
    assert_eq!(
        customer.text_of("session-taken").await,
        "Robin Rep is now helping you."
    );
    mark_page(&customer).await;
    mark_page(&riley).await;
    // The sockets the pages have now were opened before the log: each page's first 1012
    // closes one of those, and its reconnect (made after the log began) is logged.

    // Each node goes away in turn (as SIGTERM does) and comes back on its port, as
    // docs/operations.md rolls an upgrade: the next only once nginx counts the last one back
    // (its fail_timeout, 2 s). A, B, then A again: a socket moves only while one node is down,
    // so it lands on the other, and every socket opened after the log began (all but the
    // first of each kind) is told to move by the next round.
    for (round, i) in [0, 1, 0].into_iter().enumerate() {
        let port = ports[i];
        nodes[i].stop();
        // Both ways, written right after the node went: nothing is lost in the hand-over.
        let (from_customer, from_riley) =
            (format!("Still there? {round}"), format!("Yes, {round}"));
        customer.fill("chat-input", &from_customer).await;
        customer.click("chat-send").await;
        riley.fill("chat-input", &from_riley).await;
        riley.click("chat-send").await;
        shows_or_tells(&riley, &from_customer, [&customer, &riley]).await;
        shows_or_tells(&customer, &from_riley, [&customer, &riley]).await;
        nodes[i] = Node::start(on(port)).await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
    }
    // Told to move, each socket tried again at once (its page waits up to 250 ms; an ordinary
    // close waits 1–3 s, and longer each time) and was open again.
    for (page, browser) in [("the customer's page", &customer), ("the console", &riley)] {
        let log = socket_log(browser).await;
        let (told, slow) = moved_and_back(&log, 750);
        assert!(told >= 1, "{page} was told to reconnect: {log:?}");
        assert!(
            slow.is_empty(),
            "{page} came back at once (ms): {slow:?} in {log:?}"
        );
    }
    assert!(
        still_this_page(&customer).await,
        "the customer's page was not reloaded"
    );
    assert!(still_this_page(&riley).await, "nor was the console");
    // The console ends live (a socket that closed otherwise than by 1012 comes back after
    // its ordinary wait, within the 10 s this allows).
    let live = riley
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::XPath(
            "//span[@id='live-state' and text()='Live']",
        ))
        .await;
    assert!(live.is_ok(), "the console says it is live");
    assert_eq!(
        p.session(session).await.session_state().unwrap(),
        domain::session::SessionState::Active { owner: p.rep },
        "the session stayed the rep's throughout"
    );
    customer.close().await;
    riley.close().await;
    drop(nginx);
}
