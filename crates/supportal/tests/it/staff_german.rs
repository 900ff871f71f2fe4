//! Every staff page in both languages: an admin (who also administers the instance) chooses
//! German on their account page and walks the console, their account and every admin page; a
//! text missing from the German catalogue fails the page (debug builds refuse to render it),
//! and one left in English fails the walk. Then back to English, the same walk.

use crate::browser::Browser;
use crate::console_browser::sign_in_to_console;
use crate::helpers::spawn_app;
use crate::portal::portal_app;
use fantoccini::Locator;
use store::Backend;

/// Every page a rep or admin sees (with `{session}`, `{site}`, `{team}`, `{rep}` filled in).
const PAGES: [&str; 25] = [
    "/console",
    "/console/sessions/{session}",
    "/console/history",
    "/console/history/{session}",
    "/console/canned",
    "/console/presentations",
    "/account",
    "/admin",
    "/admin/organization",
    "/admin/reps",
    "/admin/reps/{rep}",
    "/admin/teams",
    "/admin/teams/{team}",
    "/admin/issue-types",
    "/admin/sites",
    "/admin/sites/{site}",
    "/admin/sites/{site}/fields",
    "/admin/sites/{site}/notices",
    "/admin/sites/{site}/schedule",
    "/admin/sites/{site}/profiles",
    "/admin/audit",
    "/admin/reports",
    "/admin/api",
    "/admin/webhooks",
    "/admin/organizations",
];

async fn choose_language(browser: &Browser, base: &str, language: &str) {
    browser
        .client
        .goto(&format!("{base}/account"))
        .await
        .unwrap();
    let select = browser.wait_for("[data-testid='rep-language']").await;
    select.select_by_label(language).await.unwrap();
    browser.submit_and_wait("page-settings-save").await;
}

async fn walk(browser: &Browser, base: &str, ids: &[(&str, String)], german: bool) {
    for page in PAGES {
        let path = domain::text::fill(page, ids);
        browser.client.goto(&format!("{base}{path}")).await.unwrap();
        let html = browser.client.source().await.unwrap();
        assert!(
            browser
                .client
                .find(Locator::Css("[data-testid='error-page']"))
                .await
                .is_err(),
            "{path} shows (a text missing from the catalogue fails it): {html}"
        );
        let lang = if german { "lang=\"de\"" } else { "lang=\"en\"" };
        assert!(html.contains(lang), "{path} says it is {lang}");
        if german {
            let left = web::i18n::english_left(&html);
            assert!(left.is_empty(), "{path} in German still says {left:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_staff_page_reads_in_german_and_in_english() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let admin = p.app.add_instance_admin(p.org, "ops@acme.test").await;
    p.app
        .store
        .set_user_teams(p.org, admin, &[p.team])
        .await
        .unwrap();
    let base = p.app.address.clone();
    let (session, _) = p.contact_request("Quinn").await;

    let browser = Browser::start().await;
    sign_in_to_console(&browser, &base, "ops@acme.test").await;
    choose_language(&browser, &base, "Deutsch").await;
    let saved = browser.wait_for("[data-testid='rep-language']").await;
    assert_eq!(saved.prop("value").await.unwrap().as_deref(), Some("de"));

    // A conversation and its record, so that those pages have something to say.
    browser
        .client
        .goto(&format!("{base}/console"))
        .await
        .unwrap();
    browser.click("accept").await;
    browser.wait_for("[data-testid='session-panel']").await;
    browser
        .shows_chat_line("chat-system-message", "ist der Unterhaltung beigetreten")
        .await;
    let ids = [
        ("session", session.to_string()),
        ("site", p.site.to_string()),
        ("team", p.team.to_string()),
        ("rep", p.rep.to_string()),
    ];
    walk(&browser, &base, &ids, true).await;

    choose_language(&browser, &base, "English").await;
    walk(&browser, &base, &ids, false).await;
    browser.close().await;
}

/// Times in the rep's own zone: the browser's until they choose one, then theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_are_shown_in_the_reps_time_zone() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let base = p.app.address.clone();
    let browser = Browser::start().await;
    // Until the rep chooses, the staff pages' script tells the server the browser's zone.
    browser.client.goto(&format!("{base}/login")).await.unwrap();
    let reported: String = browser
        .client
        .execute(
            "return Intl.DateTimeFormat().resolvedOptions().timeZone;",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    let cookie: String = browser
        .client
        .execute("return document.cookie;", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    let encoded: String = url::form_urlencoded::byte_serialize(reported.as_bytes()).collect();
    assert!(
        cookie.contains(&format!("supportal_tz={}", encoded)),
        "the browser's zone {reported} is reported: {cookie}"
    );
    browser.sign_in(&base, "admin@acme.test").await;
    // Signed in once the next page shows (going on sooner cancels the sign-in's request).
    browser.wait_for("[data-testid='logout']").await;
    browser
        .client
        .goto(&format!("{base}/account"))
        .await
        .unwrap();
    let zone = browser.wait_for("[data-testid='rep-time-zone']").await;
    zone.select_by_value("Asia/Tokyo").await.unwrap();
    browser.submit_and_wait("page-settings-save").await;
    browser
        .client
        .goto(&format!("{base}/admin/audit"))
        .await
        .unwrap();
    let shown = browser.text_of("audit-table").await;
    assert!(shown.contains("JST"), "in the chosen zone: {shown}");
    assert!(!shown.contains("UTC"), "never raw UTC: {shown}");
    browser.close().await;
}
