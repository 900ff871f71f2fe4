//! A user of one organization never sees or touches another's data; reps are not admins.

use crate::helpers::{spawn_app, PASSWORD};
use crate::on_both_backends;
use domain::text::DisplayName;
use store::Backend;

async fn an_admin_gets_404_for_another_organizations_objects(backend: Backend) {
    let app = spawn_app(backend).await;
    let (acme, _) = app.org_with_admin("acme").await;
    let (globex, _) = app.org_with_admin("globex").await;
    let globex_rep = app.add_rep(globex, "rep@globex.test").await;
    let globex_team = app
        .store
        .create_team(
            globex,
            &DisplayName::parse("Globex Support").unwrap(),
            crate::helpers::now(),
        )
        .await
        .unwrap();
    let acme_team = app
        .store
        .create_team(
            acme,
            &DisplayName::parse("Acme Support").unwrap(),
            crate::helpers::now(),
        )
        .await
        .unwrap();

    app.login("admin@acme.test", PASSWORD).await;
    for path in [
        format!("/admin/reps/{globex_rep}"),
        format!("/admin/teams/{globex_team}"),
        "/admin/reps/not-a-number".into(),
    ] {
        let (status, page) = app.get_text(&path).await;
        assert_eq!(status, 404, "{path}");
        assert!(page.contains("Page not found"));
    }
    let listing = app.get_text("/admin/reps").await.1;
    assert!(
        !listing.contains("rep@globex.test"),
        "lists only this organization's users"
    );
    assert!(!app
        .get_text("/admin/teams")
        .await
        .1
        .contains("Globex Support"));

    // Writes to foreign ids are refused the same way, and change nothing.
    let own_rep_page = format!("/admin/teams/{acme_team}");
    let response = app
        .submit(
            &own_rep_page,
            &format!("/admin/reps/{globex_rep}"),
            &[
                ("display_name", "Pwned"),
                ("role", "admin"),
                ("session_limit", "3"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(response.status(), 404);
    let response = app
        .submit(
            &own_rep_page,
            &format!("/admin/teams/{globex_team}/delete"),
            &[("confirm", "on")],
        )
        .await;
    assert_eq!(response.status(), 404);
    let rep = app.store.user(globex, globex_rep).await.unwrap().unwrap();
    assert_eq!(
        (rep.display_name.as_str(), rep.role),
        ("Robin Rep", domain::Role::Rep)
    );
    assert!(app.store.team(globex, globex_team).await.unwrap().is_some());
}

async fn a_rep_cannot_open_admin_pages(backend: Backend) {
    let app = spawn_app(backend).await;
    let (acme, _) = app.org_with_admin("acme").await;
    app.add_rep(acme, "rep@acme.test").await;
    let response = app.login("rep@acme.test", PASSWORD).await;
    assert_eq!(
        crate::helpers::location(&response),
        "/console",
        "reps land in their console"
    );
    let (status, page) = app.get_text("/account").await;
    assert_eq!(status, 200);
    assert!(page.contains("rep@acme.test") && page.contains("Representative"));
    for path in [
        "/admin",
        "/admin/reps",
        "/admin/teams",
        "/admin/organizations",
    ] {
        assert_eq!(app.get(path).await.status(), 403, "{path}");
    }
    // An organization admin who is not the instance admin cannot create organizations.
    let admin = app.other_browser();
    admin.login("admin@acme.test", PASSWORD).await;
    assert_eq!(admin.get("/admin/organizations").await.status(), 403);
}

on_both_backends!(
    an_admin_gets_404_for_another_organizations_objects,
    a_rep_cannot_open_admin_pages
);
