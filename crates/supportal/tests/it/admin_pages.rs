//! Admin pages: reps, teams, organization settings, audit log; errors beside fields, values kept.

use crate::helpers::{location, spawn_app, PASSWORD};
use crate::on_both_backends;
use domain::Role;
use store::Backend;

async fn adding_a_rep_with_bad_input_keeps_what_was_typed(backend: Backend) {
    let app = spawn_app(backend).await;
    let (acme, _) = app.org_with_admin("acme").await;
    app.login("admin@acme.test", PASSWORD).await;

    let typed = [
        ("display_name", "<b>Bobby</b> Tables"),
        ("email", "bobby at acme"),
        ("role", "rep"),
        ("session_limit", "99"),
        ("password", "short"),
    ];
    let response = app.submit("/admin/reps", "/admin/reps", &typed).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("Enter an email address like name@example.com."));
    assert!(page.contains("Enter a number from 1 to 50."));
    assert!(page.contains("At least 10 characters."));
    assert!(page.contains("value=\"bobby at acme\""), "email kept");
    assert!(
        page.contains("&lt;b&gt;Bobby&lt;&#x2f;b&gt; Tables"),
        "HTML typed is kept as text"
    );
    assert!(!page.contains("<b>Bobby</b>"));
    assert!(
        !page.contains("value=\"short\""),
        "passwords are never echoed"
    );
    assert_eq!(
        app.store.users(acme).await.unwrap().len(),
        1,
        "nothing created"
    );

    let good = [
        ("display_name", "<b>Bobby</b> Tables"),
        ("email", "Bobby@Acme.test"),
        ("role", "rep"),
        ("session_limit", "4"),
        ("password", "a long enough one"),
    ];
    let response = app.submit("/admin/reps", "/admin/reps", &good).await;
    assert_eq!(response.status(), 303);
    let rep_page = location(&response);
    let (_, page) = app.get_text(&rep_page).await;
    assert!(page.contains("bobby@acme.test"));
    assert!(
        page.contains("&lt;b&gt;Bobby"),
        "shown as text on its own page too"
    );

    let response = app.submit("/admin/reps", "/admin/reps", &good).await;
    assert_eq!(response.status(), 422);
    let own = response.text().await.unwrap();
    assert!(
        own.contains("This email cannot be used. Choose another."),
        "duplicate email beside the field"
    );
    // Another organization's email gets the very same words: nothing tells that it exists.
    app.org_with_admin("globex").await;
    let theirs: Vec<_> = good
        .iter()
        .map(|&(k, v)| (k, if k == "email" { "admin@globex.test" } else { v }))
        .collect();
    let response = app.submit("/admin/reps", "/admin/reps", &theirs).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("This email cannot be used. Choose another."));
    assert!(!page.contains("already") && !page.contains("another organization"));

    let rep = app.other_browser();
    assert_eq!(
        location(&rep.login("bobby@acme.test", "a long enough one").await),
        "/console",
        "the new rep can sign in"
    );
}

async fn an_admin_edits_a_rep_teams_and_deactivates_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let (acme, _) = app.org_with_admin("acme").await;
    let rep = app.add_rep(acme, "rep@acme.test").await;
    app.login("admin@acme.test", PASSWORD).await;
    for name in ["Support", "Billing"] {
        assert_eq!(
            app.submit("/admin/teams", "/admin/teams", &[("name", name)])
                .await
                .status(),
            303
        );
    }
    let response = app
        .submit("/admin/teams", "/admin/teams", &[("name", "Support")])
        .await;
    assert_eq!(response.status(), 422);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("This is already in use."));
    let teams = app.store.teams(acme).await.unwrap();
    let support = teams.iter().find(|t| t.name == "Support").unwrap().id;

    let rep_browser = app.other_browser();
    rep_browser.login("rep@acme.test", PASSWORD).await;
    let page = format!("/admin/reps/{rep}");
    let support_id = support.to_string();
    let response = app
        .submit(
            &page,
            &page,
            &[
                ("display_name", "Robin R."),
                ("title", "Tier 2"),
                ("role", "rep"),
                ("session_limit", "5"),
                ("teams", &support_id),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Saved."));
    let saved = app.store.user(acme, rep).await.unwrap().unwrap();
    assert_eq!(
        (
            saved.display_name.as_str(),
            saved.title.as_deref(),
            saved.session_limit,
            saved.active
        ),
        ("Robin R.", Some("Tier 2"), 5, false)
    );
    assert_eq!(
        app.store.user_team_ids(acme, rep).await.unwrap(),
        vec![support]
    );
    assert_eq!(
        rep_browser.get("/account").await.status(),
        303,
        "deactivation ends the rep's sign-in"
    );
    assert_eq!(
        rep_browser.login("rep@acme.test", PASSWORD).await.status(),
        403
    );

    let (_, team_page) = app.get_text(&format!("/admin/teams/{support}")).await;
    assert!(
        team_page.contains("Robin R."),
        "the team page lists its members"
    );
}

async fn the_last_admin_cannot_be_demoted_or_deactivated(backend: Backend) {
    let app = spawn_app(backend).await;
    let (acme, admin) = app.org_with_admin("acme").await;
    app.login("admin@acme.test", PASSWORD).await;
    let page = format!("/admin/reps/{admin}");
    let response = app
        .submit(
            &page,
            &page,
            &[
                ("display_name", "Boss"),
                ("role", "rep"),
                ("session_limit", "3"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("at least one active admin"));
    assert!(html.contains("value=\"Boss\""), "typed name kept");
    let response = app
        .submit(
            &page,
            &page,
            &[
                ("display_name", "Boss"),
                ("role", "admin"),
                ("session_limit", "3"),
            ],
        )
        .await;
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("You cannot deactivate your own account."));
    assert_eq!(
        app.store.user(acme, admin).await.unwrap().unwrap().role,
        Role::Admin
    );
}

async fn organization_settings_teams_and_the_audit_log(backend: Backend) {
    let app = spawn_app(backend).await;
    let (acme, _) = app.org_with_admin("acme").await;
    app.login("admin@acme.test", PASSWORD).await;
    let response = app
        .submit(
            "/admin/organization",
            "/admin/organization",
            &[("name", ""), ("default_session_limit", "x")],
        )
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("This field is required.") && page.contains("Enter a whole number."));
    let response = app
        .submit(
            "/admin/organization",
            "/admin/organization",
            &[
                ("name", "Acme & Sons"),
                ("default_session_limit", "4"),
                ("key_digits", "7"),
                ("key_max_validity", "240"),
            ],
        )
        .await;
    assert!(response.text().await.unwrap().contains("Settings saved."));
    let org = app.store.organization(acme).await.unwrap().unwrap();
    assert_eq!(
        (org.name.as_str(), org.default_session_limit, org.key_digits),
        ("Acme & Sons", 4, 7)
    );
    assert!(
        app.get_text("/admin/reps").await.1.contains("value=\"4\""),
        "new reps default to the organization's limit"
    );

    let response = app
        .submit("/admin/teams", "/admin/teams", &[("name", "Support")])
        .await;
    let team_page = location(&response);
    let response = app
        .submit(&team_page, &team_page, &[("name", "Customer Care")])
        .await;
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("value=\"Customer Care\""));
    // The page says what goes with the team; deleting asks for a confirmation first.
    let team = app.store.teams(acme).await.unwrap()[0].id;
    app.store
        .create_issue_type(
            acme,
            team,
            &domain::text::DisplayName::parse("Printers").unwrap(),
            &domain::text::Slug::parse("printers").unwrap(),
        )
        .await
        .unwrap();
    let (_, page) = app.get_text(&team_page).await;
    assert!(
        page.contains("Its issue types go with it: Printers."),
        "{page}"
    );
    let unconfirmed = app
        .submit(&team_page, &format!("{team_page}/delete"), &[])
        .await;
    assert_eq!(unconfirmed.status(), 422);
    assert!(unconfirmed
        .text()
        .await
        .unwrap()
        .contains("Tick the box to confirm"));
    assert_eq!(app.store.teams(acme).await.unwrap().len(), 1, "still there");
    let response = app
        .submit(
            &team_page,
            &format!("{team_page}/delete"),
            &[("confirm", "on")],
        )
        .await;
    assert_eq!(location(&response), "/admin/teams");
    assert!(app.store.teams(acme).await.unwrap().is_empty());
    assert_eq!(app.get(&team_page).await.status(), 404);

    let (_, audit) = app.get_text("/admin/audit").await;
    // Each as a sentence, its code kept beside it for whoever searches by code.
    for (action, sentence) in [
        ("login", "Signed in"),
        (
            "organization.updated",
            "Changed the organization&#x27;s settings",
        ),
        ("team.created", "Added a team"),
        ("team.renamed", "Renamed a team"),
        ("team.deleted", "Deleted a team"),
    ] {
        assert!(
            audit.contains(&format!("<td title=\"{action}\">{sentence}</td>")),
            "{action} recorded as “{sentence}”"
        );
    }
}

async fn the_instance_admin_creates_an_organization(backend: Backend) {
    let app = spawn_app(backend).await;
    let (acme, _) = app.org_with_admin("acme").await;
    app.add_instance_admin(acme, "root@acme.test").await;
    app.login("root@acme.test", PASSWORD).await;

    let fields = [
        ("org_name", "Globex"),
        ("org_slug", "acme"),
        ("admin_name", "Gina"),
        ("admin_email", "gina@globex.test"),
        ("password", "globex password"),
        ("confirm", "globex password"),
    ];
    let response = app
        .submit("/admin/organizations", "/admin/organizations", &fields)
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("This is already in use.") && page.contains("value=\"Globex\""));

    let mut fields = fields;
    fields[1] = ("org_slug", "globex");
    let response = app
        .submit("/admin/organizations", "/admin/organizations", &fields)
        .await;
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Organization Globex created"));
    let gina = app.other_browser();
    assert_eq!(
        location(&gina.login("gina@globex.test", "globex password").await),
        "/admin"
    );
    assert!(gina.get_text("/admin").await.1.contains("Globex"));
}

/// An issue type named in German shows in German to customers who read it, in English to the
/// others; a bad name is refused beside its row, the names kept.
async fn issue_types_have_names_per_language(backend: Backend) {
    let p = crate::portal::portal_app(spawn_app(backend).await).await;
    let admin = p.app.other_browser();
    admin.login("admin@acme.test", PASSWORD).await;
    let page = "/admin/issue-types";
    let save = format!("{page}/{}", p.issue);
    let refused = admin
        .submit(page, &save, &[("name", ""), ("name_de", "Drucker")])
        .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("This field is required."), "{html}");
    let saved = admin
        .submit(page, &save, &[("name", "Printers"), ("name_de", "Drucker")])
        .await;
    assert_eq!(saved.status(), 200);
    assert!(saved.text().await.unwrap().contains("value=\"Drucker\""));

    let customer = p.app.other_browser();
    let (_, german) = customer.get_text("/p/help/request?lang=de").await;
    assert!(german.contains(">Drucker</option>"), "{german}");
    let (_, english) = customer.get_text("/p/help/request?lang=en").await;
    assert!(english.contains(">Printers</option>") && !english.contains("Drucker"));
}

/// Admins change a custom field (its key stays) and put the fields in the order customers
/// see them; the admin list shows labels, not keys.
async fn custom_fields_are_edited_and_reordered(backend: Backend) {
    let p = crate::portal::portal_app(spawn_app(backend).await).await;
    let admin = p.app.other_browser();
    admin.login("admin@acme.test", PASSWORD).await;
    let page = format!("/admin/sites/{}/fields", p.site);
    let added = admin
        .submit(
            &page,
            &page,
            &[
                ("key", "serial"),
                ("kind", "text"),
                ("label_en", "Serial number"),
                ("label_de", "Seriennummer"),
            ],
        )
        .await;
    assert_eq!(added.status(), 200);
    let list = added.text().await.unwrap();
    assert!(
        list.contains("<td>Serial number</td>"),
        "labels, not keys: {list}"
    );

    // The edit form holds the field's settings; saving changes them, the key kept.
    let (_, form) = admin.get_text(&format!("{page}?edit=device")).await;
    assert!(form.contains("name=\"editing\" value=\"device\""), "{form}");
    let saved = admin
        .submit(
            &format!("{page}?edit=device"),
            &page,
            &[
                ("editing", "device"),
                ("key", "device"),
                ("kind", "select"),
                ("label_en", "Your device"),
                ("label_de", "Ihr Gerät"),
                ("options", "PC\nPhone\nTablet"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 200);
    let fields = p.app.store.custom_fields(p.site).await.unwrap();
    let device = fields.iter().find(|f| f.key == "device").unwrap();
    assert_eq!(device.options, ["PC", "Phone", "Tablet"]);
    assert!(!device.required, "unchecked: no longer required");

    // Serial moves above device; customers see that order, in their language.
    let moved = admin
        .submit(&page, &format!("{page}/serial/move"), &[("to", "up")])
        .await;
    assert_eq!(location(&moved), page);
    let keys: Vec<String> = p
        .app
        .store
        .custom_fields(p.site)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.key)
        .collect();
    assert_eq!(keys, ["serial", "device"]);
    let (_, german) = p
        .app
        .other_browser()
        .get_text("/p/help/request?lang=de")
        .await;
    let (serial, device) = (
        german.find("Seriennummer").unwrap(),
        german.find("Ihr Gerät").unwrap(),
    );
    assert!(serial < device, "the order the admin chose");
}

/// A profile's name and description in German show to customers reading German.
async fn profiles_have_names_per_language(backend: Backend) {
    let p = crate::portal::portal_app(spawn_app(backend).await).await;
    let id = p.add_profile("Wi-Fi", "Office network", true).await;
    let admin = p.app.other_browser();
    admin.login("admin@acme.test", PASSWORD).await;
    let page = format!("/admin/sites/{}/profiles", p.site);
    let fields = [
        ("name", "Wi-Fi"),
        ("name_de", "WLAN"),
        ("description", "Office network"),
        ("description_de", "Büronetz"),
    ];
    let saved = admin.submit(&page, &format!("{page}/{id}"), &fields).await;
    assert_eq!(saved.status(), 200);
    let customer = p.app.other_browser();
    let (_, german) = customer.get_text("/p/help?lang=de").await;
    assert!(
        german.contains("<strong>WLAN</strong> · Büronetz"),
        "{german}"
    );
    let (_, english) = customer.get_text("/p/help?lang=en").await;
    assert!(
        english.contains("<strong>Wi-Fi</strong> · Office network"),
        "{english}"
    );
}

on_both_backends!(
    profiles_have_names_per_language,
    custom_fields_are_edited_and_reordered,
    issue_types_have_names_per_language,
    adding_a_rep_with_bad_input_keeps_what_was_typed,
    an_admin_edits_a_rep_teams_and_deactivates_them,
    the_last_admin_cannot_be_demoted_or_deactivated,
    organization_settings_teams_and_the_audit_log,
    the_instance_admin_creates_an_organization,
);
