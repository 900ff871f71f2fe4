//! The portal's first page is kept rendered (decision 0006). What a customer sees must not change
//! for it: each browser gets its own CSRF token, and a change shows on the next request, whether
//! it comes from a write (a rep going away) or from the clock (a notice's window opening).

use crate::helpers::{csrf_in, now, spawn_app};
use crate::on_both_backends;
use crate::portal::portal_app;
use domain::rep::Presence;
use domain::text::DisplayName;
use domain::Language;
use store::Backend;

async fn each_browser_gets_its_own_token_in_the_kept_page(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let (ann, bob) = (&p.app, p.app.other_browser());
    let (_, ann_page) = ann.get_text("/p/help").await;
    let (_, bob_page) = bob.get_text("/p/help").await;
    let (ann_token, bob_token) = (csrf_in(&ann_page), csrf_in(&bob_page));
    assert_ne!(ann_token, bob_token);
    assert_eq!(ann_token.len(), 43);
    assert!(!ann_page.contains(web::portal::cache::CSRF_PLACEHOLDER));
    // The same browser keeps its token; the page around it is the same bytes.
    let (_, again) = ann.get_text("/p/help").await;
    assert_eq!(again, ann_page);
    // Bob cannot use Ann's token; his own works.
    let post = |token: String| {
        bob.client
            .post(bob.url("/p/help/contact"))
            .form(&[("csrf", token), ("customer_name", "Bob".to_owned())])
            .send()
    };
    assert_eq!(post(ann_token).await.unwrap().status(), 403);
    assert_eq!(post(bob_token).await.unwrap().status(), 303);
}

async fn a_kept_page_changes_with_a_write_and_when_a_notice_window_opens(backend: Backend) {
    use domain::notice::Severity;
    use store::sites::NewNotice;
    let p = portal_app(spawn_app(backend).await).await;
    let app = &p.app;
    let rep_listed = |html: &str| html.contains("data-testid=\"rep-option\"");
    let (_, before) = app.get_text("/p/help").await;
    assert!(rep_listed(&before));
    app.store
        .set_presence(p.org, p.rep, Presence::Away, now())
        .await
        .unwrap();
    let (_, after) = app.get_text("/p/help").await;
    assert!(!rep_listed(&after), "the rep who went away is still listed");

    let opens = now().plus_seconds(2);
    let texts = [(Language::En, "Printers are down.".to_owned())].into();
    let notice = NewNotice {
        name: &DisplayName::parse("printers").unwrap(),
        severity: Severity::Outage,
        texts: &texts,
        starts_at: Some(opens),
        ends_at: None,
    };
    app.store
        .create_notice(p.org, p.site, &notice, now())
        .await
        .unwrap();
    let (_, early) = app.get_text("/p/help").await;
    assert!(!early.contains("Printers are down."));
    // No write happens now: only the notice's window decides.
    let wait = opens.millis() - now().millis() + 50;
    tokio::time::sleep(std::time::Duration::from_millis(wait.max(0) as u64)).await;
    let (_, open) = app.get_text("/p/help").await;
    assert!(
        open.contains("Printers are down."),
        "the notice did not appear when its window opened"
    );
}

async fn the_site_stylesheet_follows_an_accent_colour_change(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let app = &p.app;
    let (status, before) = app.get_text("/p/help/theme.css").await;
    assert_eq!(status, 200);
    assert!(!before.contains("#aa0000"));
    let settings = domain::site::SiteSettings {
        accent_colour: "#aa0000".into(),
        ..Default::default()
    };
    let slug = domain::text::Slug::parse("help").unwrap();
    let name = DisplayName::parse("Acme Help").unwrap();
    assert!(app
        .store
        .update_site(p.org, p.site, &name, &slug, &settings)
        .await
        .unwrap());
    let (_, after) = app.get_text("/p/help/theme.css").await;
    assert!(after.contains("--brand: #aa0000"), "{after}");
    assert_eq!(app.get_text("/p/nowhere/theme.css").await.0, 404);
}

async fn an_uploaded_logo_shows_on_the_kept_page_and_is_served(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let app = &p.app;
    let logo_tag = "src=\"/p/help/logo\"";
    let (_, before) = app.get_text("/p/help").await;
    assert!(!before.contains(logo_tag));
    assert_eq!(app.get("/p/help/logo").await.status(), 404);
    let png = b"\x89PNG\r\n\x1a\nnot really an image";
    app.store
        .set_site_logo(p.org, p.site, "image/png", png)
        .await
        .unwrap();
    let (_, after) = app.get_text("/p/help").await;
    assert!(
        after.contains(logo_tag),
        "the kept page did not pick up the logo"
    );
    let logo = app.get("/p/help/logo").await;
    assert_eq!(logo.status(), 200);
    assert_eq!(logo.headers()["content-type"], "image/png");
    assert_eq!(&logo.bytes().await.unwrap()[..], &png[..]);
}

on_both_backends!(
    an_uploaded_logo_shows_on_the_kept_page_and_is_served,
    each_browser_gets_its_own_token_in_the_kept_page,
    a_kept_page_changes_with_a_write_and_when_a_notice_window_opens,
    the_site_stylesheet_follows_an_accent_colour_change,
);
