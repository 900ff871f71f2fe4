//! Invitations ask: the owner invites a colleague, whose console shows a live notice to join or
//! decline; an away colleague is not offered; an invited rep can leave again. And the rep sees
//! whether the customer is still there; a waiting customer who closes their page and stays
//! away past the grace leaves the queue as abandoned.

use crate::browser::Browser;
use crate::console_browser::sign_in_to_console;
use crate::helpers::{spawn_app, spawn_app_with};
use crate::portal::portal_app;
use domain::rep::Presence;
use domain::{OrgId, UserId};
use fantoccini::Locator;
use std::time::Duration;
use store::Backend;

async fn rename(app: &crate::helpers::TestApp, org: OrgId, id: UserId, name: &str) {
    let name = domain::text::DisplayName::parse(name).unwrap();
    let update = store::users::UserUpdate {
        display_name: &name,
        title: None,
        role: domain::Role::Rep,
        active: true,
        session_limit: 3,
    };
    assert!(app.store.update_user(org, id, &update).await.unwrap());
}

/// Wait until the element at `css` says `text` (live updates take a moment).
async fn until_text(browser: &Browser, css: &str, text: &str) {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(element) = browser.client.find(Locator::Css(css)).await {
            last = element.text().await.unwrap_or_default();
            if last.contains(text) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} says {last:?}, not {text:?}");
}

async fn options_of(browser: &Browser, css: &str) -> Vec<String> {
    let mut names = Vec::new();
    for option in browser.client.find_all(Locator::Css(css)).await.unwrap() {
        names.push(option.text().await.unwrap());
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_rep_is_asked_and_can_decline_join_and_leave() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    rename(&p.app, p.org, p.rep, "Riley Owner").await;
    let sam = p.app.add_rep(p.org, "sam@acme.test").await;
    rename(&p.app, p.org, sam, "Sam Helper").await;
    let ava = p.app.add_rep(p.org, "ava@acme.test").await;
    rename(&p.app, p.org, ava, "Ava Away").await;
    let base = p.app.address.clone();

    let owner = Browser::start().await;
    let helper = Browser::start().await;
    let away = Browser::start().await;
    let customer = Browser::start().await;
    sign_in_to_console(&owner, &base, "riley@acme.test").await;
    sign_in_to_console(&helper, &base, "sam@acme.test").await;
    sign_in_to_console(&away, &base, "ava@acme.test").await;
    let now = crate::helpers::now();
    p.app
        .store
        .set_presence(p.org, ava, Presence::Away, now)
        .await
        .unwrap();

    customer.ask_with_contact_button(&base, "Quinn").await;
    owner.click("accept").await;
    owner.wait_for("[data-testid='session-panel']").await;

    // Ava is away: not offered. Sam is.
    let offered = options_of(&owner, "#f-invite option").await;
    assert!(offered.iter().any(|o| o == "Sam Helper"), "{offered:?}");
    assert!(
        !offered.iter().any(|o| o == "Ava Away"),
        "an away rep is not offered: {offered:?}"
    );

    // Asked, Sam sees the notice live and declines: nobody joins.
    invite(&owner, "Sam Helper").await;
    let notice = helper.wait_for("[data-testid='invitation']").await;
    let said = notice.text().await.unwrap();
    assert!(
        said.contains("Quinn") && said.contains("Riley Owner"),
        "{said}"
    );
    helper.click("invitation-decline").await;
    helper.wait_for("[data-testid='queue-empty']").await;
    assert!(helper
        .client
        .find(Locator::Css("[data-testid='invitation']"))
        .await
        .is_err());
    owner.client.refresh().await.unwrap();
    until_text(
        &owner,
        "[data-testid='session-details'] .log",
        "A colleague declined the invitation",
    )
    .await;

    // Asked again, Sam joins: the conversation says so on every side.
    invite(&owner, "Sam Helper").await;
    helper.click("invitation-accept").await;
    helper.wait_for("[data-testid='session-panel']").await;
    helper
        .shows_chat_line("chat-system-message", "Sam Helper was invited and joined")
        .await;
    owner
        .shows_chat_line("chat-system-message", "Sam Helper was invited and joined")
        .await;
    customer
        .shows_chat_line("chat-system-message", "Sam Helper was invited and joined")
        .await;

    // The one who joined can leave again; the owner stays with the customer.
    helper.submit_and_wait("leave-session").await;
    helper.wait_for("[data-testid='no-session']").await;
    owner
        .shows_chat_line("chat-system-message", "Sam Helper left the conversation")
        .await;
    customer
        .shows_chat_line("chat-system-message", "Sam Helper left the conversation")
        .await;
    assert!(p
        .app
        .store
        .participants(p.org, p.session_of(&customer).await)
        .await
        .unwrap()
        .is_empty());

    for browser in [owner, helper, away, customer] {
        browser.close().await;
    }
}

async fn invite(owner: &Browser, name: &str) {
    let select = owner.wait_for("#f-invite").await;
    select.select_by_label(name).await.unwrap();
    owner.submit_and_wait("invite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_who_closes_their_page_is_shown_gone_and_abandoned_when_waiting() {
    let p =
        portal_app(spawn_app_with(Backend::Sqlite, |c| c.console.customer_grace_secs = 2).await)
            .await;
    let base = p.app.address.clone();
    let rep = Browser::start().await;
    let customer = Browser::start().await;
    sign_in_to_console(&rep, &base, "riley@acme.test").await;

    // In a conversation: the pane follows the customer's page, live.
    customer.ask_with_contact_button(&base, "Quinn").await;
    let page = customer.client.current_url().await.unwrap();
    rep.click("accept").await;
    let presence = "[data-testid='customer-presence']";
    until_text(&rep, presence, "Here").await;
    customer.client.goto("about:blank").await.unwrap();
    until_text(&rep, presence, "Gone").await;
    // Past the grace, a customer in a conversation stays: the rep decides.
    tokio::time::sleep(Duration::from_secs(3)).await;
    customer.client.goto(page.as_str()).await.unwrap();
    until_text(&rep, presence, "Here").await;
    // The customer ends the chat themselves: the rep reads that they left, the page ends.
    customer.submit_and_wait("customer-end-session").await;
    customer
        .wait_for("[data-testid='ask-again']:not([hidden])")
        .await;
    rep.shows_chat_line("chat-system-message", "The customer left the conversation")
        .await;

    // Waiting: closed past the grace, they leave the queue as abandoned.
    let other = Browser::start().await;
    other.ask_with_contact_button(&base, "Robin").await;
    let waiting = p.session_of(&other).await;
    let item = format!("[data-testid='queue-item'][data-session-id='{waiting}']");
    rep.wait_for(&item).await;
    other.client.goto("about:blank").await.unwrap();
    let mut ended = None;
    for _ in 0..100 {
        let session = p.session(waiting).await;
        if session.state == domain::session::Status::Ended {
            ended = Some(session);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ended =
        ended.expect("the waiting customer who left is abandoned within moments of the grace");
    assert_eq!(ended.outcome.as_deref(), Some("abandoned"));
    let mut still_listed = true;
    for _ in 0..50 {
        still_listed = rep.client.find(Locator::Css(&item)).await.is_ok();
        if !still_listed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!still_listed, "gone from the rep's queue without a reload");
    // Coming back later shows the end, with a way to ask again.
    other.client.back().await.unwrap();
    other
        .wait_for("[data-testid='ask-again']:not([hidden])")
        .await;

    for browser in [rep, customer, other] {
        browser.close().await;
    }
}
