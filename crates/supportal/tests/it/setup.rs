//! First start without --demo: the one-time setup link creates the first organization.

use crate::helpers::{location, spawn_app};
use crate::on_both_backends;
use store::Backend;

async fn the_setup_link_creates_the_first_organization_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = "a".repeat(43);
    app.store
        .replace_setup_token(&domain::secret::token_digest(&token), crate::helpers::now())
        .await
        .unwrap();

    assert_eq!(app.get("/setup?token=wrong").await.status(), 404);
    assert_eq!(app.get("/setup").await.status(), 404);
    let page = format!("/setup?token={token}");
    let (status, html) = app.get_text(&page).await;
    assert_eq!(status, 200);
    assert!(html.contains("Create organization"));

    let mut fields = vec![
        ("token", token.as_str()),
        ("org_name", "Initech"),
        ("org_slug", "Initech Corp"),
        ("admin_name", "Peter"),
        ("admin_email", "peter@initech.test"),
        ("password", "tps reports!"),
        ("confirm", "tps reports?"),
    ];
    let response = app.submit(&page, "/setup", &fields).await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Use 2–40 lowercase letters")
            && html.contains("The two entries do not match.")
    );
    assert!(
        html.contains("value=\"Initech Corp\"") && html.contains("value=\"peter@initech.test\""),
        "values kept"
    );

    fields[2] = ("org_slug", "initech");
    fields[6] = ("confirm", "tps reports!");
    let response = app.submit(&page, "/setup", &fields).await;
    assert_eq!(location(&response), "/admin", "the new admin is signed in");
    let (_, admin) = app.get_text("/admin").await;
    assert!(
        admin.contains("Initech") && admin.contains("All organizations"),
        "and is the instance admin"
    );

    assert_eq!(
        app.other_browser().get(&page).await.status(),
        404,
        "the link works once"
    );
}

on_both_backends!(the_setup_link_creates_the_first_organization_once);
