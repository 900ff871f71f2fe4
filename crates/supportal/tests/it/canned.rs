//! Canned messages, on both backends: admins keep their teams', reps their own; a rep's
//! console offers their own and their teams' (not other teams'), as text; bad input is said
//! beside the field with what was typed kept; nobody deletes what is not theirs.

use crate::chat::accept;
use crate::console::rep;
use crate::helpers::{spawn_app, TestApp, PASSWORD};
use crate::on_both_backends;
use crate::portal::portal_app;
use store::Backend;

async fn add(browser: &TestApp, fields: &[(&str, &str)]) -> (u16, String) {
    let response = browser
        .submit("/console/canned", "/console/canned", fields)
        .await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn a_rep_gets_their_own_and_their_teams_canned_messages(backend: Backend) {
    let p = portal_app(spawn_app(backend).await).await;
    let other_team = p
        .app
        .store
        .create_team(
            p.org,
            &domain::text::DisplayName::parse("Billing").unwrap(),
            crate::helpers::now(),
        )
        .await
        .unwrap();
    let admin = p.app.other_browser();
    admin.login("admin@acme.test", PASSWORD).await;
    let support = format!("team:{}", p.team);
    let restart = [
        ("shortcut", "/restart"),
        ("body", "Please restart <b>it</b>"),
        ("owner", support.as_str()),
    ];
    assert_eq!(add(&admin, &restart).await.0, 303);
    let billing = format!("team:{}", other_team);
    let invoice = [
        ("shortcut", "invoice"),
        ("body", "See your invoice"),
        ("owner", billing.as_str()),
    ];
    assert_eq!(add(&admin, &invoice).await.0, 303);

    let riley = rep(&p.app, "riley@acme.test").await;
    assert_eq!(
        add(&riley, &[("shortcut", "thanks"), ("body", "Thank you!")])
            .await
            .0,
        303
    );
    // Refusals beside the field, what was typed kept.
    let (status, page) = add(&riley, &[("shortcut", "THANKS"), ("body", "Again")]).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("This is already in use.") && page.contains(">Again</textarea>"),
        "{page}"
    );
    let (status, page) = add(&riley, &[("shortcut", ""), ("body", "Kept text")]).await;
    assert_eq!(status, 422);
    assert!(page.contains("This field is required.") && page.contains("Kept text"));
    let (status, _) = add(
        &riley,
        &[
            ("shortcut", "mine"),
            ("body", "x"),
            ("owner", support.as_str()),
        ],
    )
    .await;
    assert_eq!(status, 422, "a rep cannot add a team's");

    // In a session, Riley is offered their own and their team's, as text; not Billing's.
    let (session, _) = p.contact_request("Cleo").await;
    accept(&riley, session.0).await;
    let (_, panel) = riley
        .get_text(&format!("/console/sessions/{}", session.0))
        .await;
    let offered: Vec<&str> = panel
        .match_indices("data-testid=\"canned-message\" data-shortcut=\"")
        .map(|(at, m)| {
            let rest = &panel[at + m.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect();
    assert_eq!(offered, ["thanks", "restart"], "own first, then the team's");
    assert!(panel.contains("data-body=\"Please restart &lt;b&gt;it&lt;&#x2f;b&gt;\""));
    assert!(!panel.contains("<b>it</b>"));

    // Nobody deletes what is not theirs.
    let thanks = p.app.store.canned_for_rep(p.org, p.rep).await.unwrap();
    let thanks_id = thanks.iter().find(|c| c.shortcut == "thanks").unwrap().id;
    let restart_id = thanks.iter().find(|c| c.shortcut == "restart").unwrap().id;
    p.app.add_rep(p.org, "sam@acme.test").await;
    let sam = rep(&p.app, "sam@acme.test").await;
    let delete = format!("/console/canned/{thanks_id}/delete");
    assert_eq!(
        sam.submit("/console/canned", &delete, &[]).await.status(),
        404
    );
    let team_delete = format!("/console/canned/{restart_id}/delete?team={}", p.team);
    assert_eq!(
        riley
            .submit("/console/canned", &team_delete, &[])
            .await
            .status(),
        403
    );
    assert_eq!(
        riley.submit("/console/canned", &delete, &[]).await.status(),
        303
    );
    assert_eq!(
        admin
            .submit("/console/canned", &team_delete, &[])
            .await
            .status(),
        303
    );
    assert!(p
        .app
        .store
        .canned_for_rep(p.org, p.rep)
        .await
        .unwrap()
        .is_empty());
}

on_both_backends!(a_rep_gets_their_own_and_their_teams_canned_messages);
