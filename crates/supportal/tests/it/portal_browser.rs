//! The portal in headless Chromium: every start method clicked through to the waiting page,
//! live updates, both languages, and an axe-core accessibility scan of every portal page.

use crate::browser::{accessibility_violations, axe_source, Browser};
use crate::helpers::{now, spawn_app};
use crate::portal::{portal_app, Portal};
use domain::session_key::SessionKey;
use fantoccini::Locator;
use std::time::Duration;
use store::keys::{KeyTarget, NewKey};
use store::Backend;

async fn portal() -> Portal {
    portal_app(spawn_app(Backend::Sqlite).await).await
}

async fn issue_key(p: &Portal, digits: &str, target: KeyTarget) {
    let key = SessionKey::parse(digits).unwrap();
    let new = NewKey {
        org: p.org,
        rep: p.rep,
        site: Some(p.site),
        key: &key,
        target,
        expires_at: now().plus_seconds(900),
    };
    p.app.store.create_key(&new, now()).await.unwrap();
}

async fn choose(browser: &Browser, testid: &str, value: &str) {
    browser
        .wait_for(&format!("[data-testid='{testid}']"))
        .await
        .select_by_value(value)
        .await
        .unwrap();
}

async fn position_shown(browser: &Browser) -> String {
    browser.text_of("queue-position").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_start_method_clicked_through_to_the_waiting_page() {
    let p = portal().await;
    let browser = Browser::start().await;
    let home = p.app.url("/p/help");

    browser.client.goto(&home).await.unwrap();
    browser.screenshot("portal").await;
    browser.click("rep-option").await;
    browser.fill("customer-name", "Cleo").await;
    choose(&browser, "custom-field-device", "Laptop").await;
    browser.click("submit-request").await;
    assert_eq!(
        position_shown(&browser).await,
        "Your position in the queue: 1"
    );

    // The next customers use the same browser: each starts as a new visitor (no cookies), since
    // a browser still waiting on a site is sent back to its waiting page.
    browser.client.delete_all_cookies().await.unwrap();
    browser.client.goto(&home).await.unwrap();
    browser.click("open-issue-form").await;
    browser.fill("customer-name", "Dan").await;
    browser.fill("company", "Initech").await;
    choose(&browser, "issue-type", &p.issue.to_string()).await;
    browser.fill("description", "The printer jams").await;
    choose(&browser, "custom-field-device", "Phone").await;
    browser.click("submit-request").await;
    assert_eq!(
        position_shown(&browser).await,
        "Your position in the queue: 1",
        "first in the team queue"
    );

    assert!(browser
        .client
        .source()
        .await
        .unwrap()
        .contains("Thank you, Dan."));

    browser.client.delete_all_cookies().await.unwrap();
    browser.client.goto(&home).await.unwrap();
    browser.fill("customer-name", "Eve").await;
    browser.click("contact-button").await;
    assert_eq!(
        position_shown(&browser).await,
        "Your position in the queue: 1",
        "first in the general queue"
    );
    browser.click("cancel-request").await;
    browser.wait_for("[data-testid='session-ended']").await;

    issue_key(&p, "123456789", KeyTarget::Support).await;
    browser.client.goto(&home).await.unwrap();
    browser.fill("session-key-input", "123 456 789").await;
    browser.click("session-key-submit").await;
    assert_eq!(
        browser.text_of("rep-name").await,
        "Robin Rep",
        "who issued the key, before confirming"
    );
    assert_eq!(browser.text_of("rep-organization").await, "Org acme");
    browser.fill("customer-name", "Fay").await;
    choose(&browser, "custom-field-device", "Laptop").await;
    browser.click("submit-request").await;
    assert_eq!(
        position_shown(&browser).await,
        "Your position in the queue: 2",
        "behind Cleo in Robin's queue"
    );

    let presentation = p
        .app
        .store
        .create_presentation(p.org, p.rep, "Release walkthrough", now())
        .await
        .unwrap();
    issue_key(&p, "555000111", KeyTarget::Presentation(presentation)).await;
    browser.client.goto(&home).await.unwrap();
    browser.fill("presentation-key-input", "555000111").await;
    browser.click("presentation-key-submit").await;
    let lobby = browser
        .wait_for("[data-testid='presentation-lobby']")
        .await
        .text()
        .await
        .unwrap();
    assert!(lobby.contains("Release walkthrough"));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiting_page_updates_live_and_moves_on_when_a_rep_takes_it() {
    let p = portal().await;
    let browser = Browser::start().await;
    browser.client.goto(&p.app.url("/p/help")).await.unwrap();
    browser.fill("customer-name", "Gus").await;
    browser.click("contact-button").await;
    assert_eq!(
        position_shown(&browser).await,
        "Your position in the queue: 1"
    );
    browser.screenshot("waiting").await;
    let waiting_page = browser.client.current_url().await.unwrap();
    let capability = waiting_page.path().trim_start_matches("/s/").to_owned();

    // An admin publishes a notice: it reaches the customer who is already waiting, without a reload.
    let admin = p.app.other_browser();
    admin
        .login("admin@acme.test", crate::helpers::PASSWORD)
        .await;
    let notices = format!("/admin/sites/{}/notices", p.site);
    let fields = [
        ("name", "Phones"),
        ("severity", "warning"),
        ("text_en", "Phones are down; we answer here."),
    ];
    assert!(admin
        .submit(&notices, &notices, &fields)
        .await
        .text()
        .await
        .unwrap()
        .contains("Notice saved."));
    let banner = browser
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid='notice']"))
        .await
        .unwrap();
    assert!(banner.text().await.unwrap().contains("Phones are down"));

    // A rep takes the request in their console: the customer's page moves on.
    let session = p
        .app
        .store
        .session_by_capability(&domain::secret::token_digest(&capability))
        .await
        .unwrap()
        .unwrap();
    let rep = p.app.other_browser();
    rep.login("riley@acme.test", crate::helpers::PASSWORD).await;
    let accepted = rep
        .submit(
            "/console",
            &format!("/console/sessions/{}/accept", session.id),
            &[],
        )
        .await;
    assert_eq!(accepted.status(), 303);
    let taken = browser
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid='session-taken']"))
        .await
        .unwrap();
    assert_eq!(taken.text().await.unwrap(), "Robin Rep is now helping you.");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_in_english_and_german() {
    let p = portal().await;
    let browser = Browser::start().await;
    browser.client.goto(&p.app.url("/p/help")).await.unwrap();
    assert_eq!(
        browser
            .client
            .find(Locator::Css("h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "How can we help?"
    );
    browser
        .wait_for("[data-testid='language-switch'][hreflang='de']")
        .await
        .click()
        .await
        .unwrap();
    let heading = browser
        .client
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::XPath("//h1[text()='Wie können wir helfen?']"))
        .await;
    assert!(heading.is_ok(), "German after switching");
    browser.click("open-issue-form").await;
    let label = browser
        .client
        .find(Locator::Css("label[for='f-field_device']"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(label, "Gerät", "custom field labels follow the language");
    browser.click("submit-request").await;
    let error = browser
        .wait_for("#f-customer_name-error")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(error, "Dieses Feld ist erforderlich.", "errors too");
    browser.screenshot("portal-de").await;
    browser
        .wait_for("[data-testid='language-switch'][hreflang='en']")
        .await
        .click()
        .await
        .unwrap();
    assert!(browser
        .client
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::XPath("//h1[text()='Ask for help']"))
        .await
        .is_ok());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_portal_page_passes_an_accessibility_scan() {
    use domain::notice::Severity;
    use store::sites::NewNotice;
    let axe = axe_source();
    let p = portal().await;
    let texts = [
        (domain::Language::En, "Maintenance tonight.".to_owned()),
        (domain::Language::De, "Wartung heute Nacht.".to_owned()),
    ]
    .into();
    let notice = NewNotice {
        name: &domain::text::DisplayName::parse("Maint").unwrap(),
        severity: Severity::Info,
        texts: &texts,
        starts_at: None,
        ends_at: None,
    };
    p.app
        .store
        .create_notice(p.org, p.site, &notice, now())
        .await
        .unwrap();
    let presentation = p
        .app
        .store
        .create_presentation(p.org, p.rep, "Walkthrough", now())
        .await
        .unwrap();
    issue_key(&p, "555000111", KeyTarget::Presentation(presentation)).await;
    issue_key(&p, "123456789", KeyTarget::Support).await;

    let browser = Browser::start().await;
    let mut report = Vec::new();
    let mut scan = |name: &'static str, found: Vec<String>| {
        if !found.is_empty() {
            report.push(format!("{name}:\n  {}", found.join("\n  ")));
        }
    };
    for (name, path) in [
        ("home", "/p/help".to_owned()),
        ("home (de)", "/p/help?lang=de".to_owned()),
        ("issue form", "/p/help/request?lang=en".to_owned()),
        ("rep form", format!("/p/help/rep/{}", p.rep)),
        ("global key page", "/".to_owned()),
        ("presentation lobby", "/presentations/555000111".to_owned()),
        ("not found", "/p/nowhere".to_owned()),
    ] {
        browser.client.goto(&p.app.url(&path)).await.unwrap();
        browser.wait_for("main").await;
        scan(name, accessibility_violations(&browser, &axe).await);
    }
    // Pages reached by submitting: an error beside a field, the key confirmation, the waiting page.
    browser
        .client
        .goto(&p.app.url("/p/help/request"))
        .await
        .unwrap();
    browser.click("submit-request").await;
    browser.wait_for("#f-customer_name-error").await;
    scan(
        "issue form with errors",
        accessibility_violations(&browser, &axe).await,
    );
    browser.client.goto(&p.app.url("/p/help")).await.unwrap();
    browser.fill("session-key-input", "123456789").await;
    browser.click("session-key-submit").await;
    browser.wait_for("[data-testid='rep-name']").await;
    scan(
        "key confirmation",
        accessibility_violations(&browser, &axe).await,
    );
    browser.fill("customer-name", "Ada").await;
    choose(&browser, "custom-field-device", "Laptop").await;
    browser.click("submit-request").await;
    browser.wait_for("[data-testid='queue-position']").await;
    scan(
        "waiting page",
        accessibility_violations(&browser, &axe).await,
    );
    let closed = domain::schedule::Schedule {
        time_zone: "UTC".into(),
        weekly: Default::default(),
        holidays: vec![],
    };
    p.app
        .store
        .set_schedule(p.org, p.site, Some(&closed))
        .await
        .unwrap();
    browser.client.goto(&p.app.url("/p/help")).await.unwrap();
    browser.wait_for("[data-testid='portal-closed']").await;
    scan(
        "closed home",
        accessibility_violations(&browser, &axe).await,
    );
    // The issue form's address (a bookmark) shows the closed page too, with key entry.
    browser
        .client
        .goto(&p.app.url("/p/help/request"))
        .await
        .unwrap();
    browser.wait_for("[data-testid='portal-closed']").await;
    browser.wait_for("[data-testid='session-key-input']").await;
    browser.close().await;
    assert!(
        report.is_empty(),
        "accessibility violations:\n{}",
        report.join("\n")
    );
}

/// The profiles card looks like the other doors: a card with the same frame, each private
/// profile's key input and button side by side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profiles_card_is_styled_like_the_other_doors() {
    let p =
        crate::portal::portal_app(crate::helpers::spawn_app(store::Backend::Sqlite).await).await;
    p.add_profile("VPN", "Office", false).await;
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!("{}/p/help", p.app.address))
        .await
        .unwrap();
    browser.wait_for("[data-testid='profile-key-input']").await;
    let looks = "const frame = (el) => { const s = getComputedStyle(el); \
        return [s.borderTopStyle, s.borderTopColor, s.borderRadius, s.backgroundColor, s.paddingTop].join(' '); }; \
        const input = document.querySelector(\"[data-testid='profile-key-input']\"); \
        const button = input.closest('form').querySelector('button'); \
        const middle = (el) => { const r = el.getBoundingClientRect(); return r.top + r.height / 2; }; \
        return [frame(document.querySelector('.door.profiles')), frame(document.querySelector('.doors .door')), \
                String(Math.abs(middle(input) - middle(button)) < 24)];";
    let seen = browser.client.execute(looks, vec![]).await.unwrap();
    let seen: Vec<String> = serde_json::from_value(seen).unwrap();
    assert_eq!(seen[0], seen[1], "the profiles card has the doors' frame");
    assert_eq!(
        seen[2], "true",
        "the key input and its button are side by side"
    );
    browser.close().await;
}
