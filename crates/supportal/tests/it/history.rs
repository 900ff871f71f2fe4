//! The console's history, on both backends: full-text search over customer name, company and
//! message text (SQLite FTS5, PostgreSQL tsvector), only the sessions a rep may see (all for an
//! admin), query syntax inert, typed HTML inert, pages of 20, the record and its transcript.

use crate::chat::{accept, customer_says, rep_says};
use crate::console::rep;
use crate::helpers::{location, spawn_app, TestApp, PASSWORD};
use crate::on_both_backends;
use crate::portal::{portal_app, Portal};
use store::Backend;

/// A customer with a company asks for help: their browser and waiting page.
async fn customer_of(p: &Portal, name: &str, company: &str) -> (TestApp, String) {
    let customer = p.app.other_browser();
    let fields = [
        ("customer_name", name),
        ("company", company),
        ("issue_type", &p.issue.to_string()),
        ("field_device", "Phone"),
    ];
    let asked = customer
        .submit("/p/help/request", "/p/help/request", &fields)
        .await;
    (customer, location(&asked))
}

async fn ids_found(browser: &TestApp, query: &str) -> Vec<i64> {
    let path = format!("/console/history?q={}", query.replace(' ', "+"));
    let (status, html) = browser.get_text(&path).await;
    assert_eq!(status, 200, "{query}: {html}");
    ids_found_in(&html)
}

async fn a_rep_finds_their_sessions_by_a_word_name_or_company(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let riley = rep(&p.app, "riley@acme.test").await;
    let (cleo, cleo_page) = customer_of(&p, "Cleo Jones", "Globex").await;
    let cleo_id = p.session_at(&cleo_page).await.id.0;
    customer_says(
        &cleo,
        &cleo_page,
        "My printer prints purple stripes <script>alert(1)</script>",
        "c-1",
    )
    .await;
    accept(&riley, cleo_id).await;
    rep_says(&riley, cleo_id, "Let us clean the print heads.", "r-1").await;
    let (dana, dana_page) = customer_of(&p, "Dana Smith", "Initech").await;
    let dana_id = p.session_at(&dana_page).await.id.0;
    customer_says(&dana, &dana_page, "The keyboard is broken", "d-1").await;
    accept(&riley, dana_id).await;

    // Sam's session also mentions a printer: Riley never sees it, the admin does.
    let sam = p.app.add_rep(p.org, "sam@acme.test").await;
    let (erin, erin_page) = customer_of(&p, "Erin Printer-Fan", "Hooli").await;
    let erin_id = p.session_at(&erin_page).await.id;
    let claim = p
        .app
        .store
        .claim_session(p.org, erin_id, sam, 5, crate::helpers::now());
    claim.await.unwrap().won().unwrap();
    customer_says(&erin, &erin_page, "purple printer again", "e-1").await;

    assert_eq!(
        ids_found(&riley, "purple").await,
        [cleo_id],
        "a word of the conversation"
    );
    assert_eq!(
        ids_found(&riley, "PRINT").await,
        [cleo_id],
        "a prefix, any case; not Sam's"
    );
    assert_eq!(ids_found(&riley, "globex").await, [cleo_id], "the company");
    assert_eq!(
        ids_found(&riley, "dana").await,
        [dana_id],
        "the customer's name"
    );
    assert_eq!(
        ids_found(&riley, "print heads").await,
        [cleo_id],
        "the rep's words too"
    );
    assert!(
        ids_found(&riley, "purple keyboard").await.is_empty(),
        "every word must match"
    );
    assert_eq!(
        ids_found(&riley, "").await,
        [dana_id, cleo_id],
        "newest first"
    );
    for syntax in [
        "\"purple",
        "purple OR keyboard",
        "NEAR(purple",
        "pur*",
        "-- ' ;",
        "a:* & b",
    ] {
        let encoded: String = url::form_urlencoded::byte_serialize(syntax.as_bytes()).collect();
        let (status, _) = riley
            .get_text(&format!("/console/history?q={encoded}"))
            .await;
        assert_eq!(status, 200, "{syntax} is only words");
    }
    let admin = p.app.other_browser();
    admin.login("admin@acme.test", PASSWORD).await;
    let mut found = ids_found(&admin, "purple").await;
    found.sort();
    assert_eq!(
        found,
        [cleo_id, erin_id.0],
        "an admin sees the organization's"
    );

    // The page shows the match as text; the record has the conversation and its transcript.
    let (_, page) = riley.get_text("/console/history?q=purple").await;
    assert!(page.contains("purple stripes &lt;script&gt;"), "{page}");
    assert!(!page.contains("<script>alert"));
    let (status, record) = riley.get_text(&format!("/console/history/{cleo_id}")).await;
    assert_eq!(status, 200);
    assert!(record.contains("Let us clean the print heads.") && record.contains("Globex"));
    let transcript = riley
        .get(&format!("/console/history/{cleo_id}/transcript"))
        .await;
    assert_eq!(transcript.headers()["x-content-type-options"], "nosniff");
    assert!(transcript
        .text()
        .await
        .unwrap()
        .contains("purple stripes <script>"));
    let sams = format!("/console/history/{}", erin_id.0);
    assert_eq!(riley.get(&sams).await.status(), 404, "not Riley's");
    let (other_org, _) = p.app.org_with_admin("globex").await;
    let _ = other_org;
    let stranger = p.app.other_browser();
    stranger.login("admin@globex.test", PASSWORD).await;
    let cleos = format!("/console/history/{cleo_id}");
    assert_eq!(
        stranger.get(&cleos).await.status(),
        404,
        "another organization's"
    );
    assert!(ids_found(&stranger, "purple").await.is_empty());
}

async fn results_come_twenty_to_a_page(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let mut ids = Vec::new();
    for n in 0..22 {
        let (_, page) = customer_of(&p, &format!("Customer {n}"), "Umbrella").await;
        ids.push(p.session_at(&page).await.id.0);
    }
    ids.reverse();
    let admin = p.app.other_browser();
    admin.login("admin@acme.test", PASSWORD).await;
    let first = ids_found(&admin, "umbrella").await;
    assert_eq!(first, ids[..20]);
    let (_, html) = admin.get_text("/console/history?q=umbrella").await;
    let older = format!("before={}", ids[19]);
    assert!(html.contains(&older), "a link to the older ones");
    let path = format!("/console/history?q=umbrella&{older}");
    let (_, second) = admin.get_text(&path).await;
    let rest: Vec<i64> = ids_found_in(&second);
    assert_eq!(rest, ids[20..]);
    assert!(
        !second.contains("data-testid=\"history-older\""),
        "the last page"
    );
}

fn ids_found_in(html: &str) -> Vec<i64> {
    html.match_indices("data-testid=\"history-result\" data-session-id=\"")
        .map(|(at, m)| {
            let rest = &html[at + m.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

on_both_backends!(
    a_rep_finds_their_sessions_by_a_word_name_or_company,
    results_come_twenty_to_a_page,
);
