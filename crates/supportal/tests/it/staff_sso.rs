//! Staff sign-in at the organization's identity provider, through the same real providers as
//! the portal's: SimpleSAMLphp (driven over HTTP) and oidc-provider (in Chromium, set up on the
//! organization's admin page). A rep is matched by the email the provider vouches for; someone
//! without an account is refused unless the admin lets accounts be made (then a rep in the
//! default team); "single sign-on only" refuses reps' passwords but not admins'.

use crate::browser::Browser;
use crate::helpers::{location, spawn_app, TestApp, PASSWORD};
use crate::oidc::{sign_in_at_provider, OidcProvider, CLIENT_ID, CLIENT_SECRET};
use crate::portal::{portal_app, Portal};
use crate::saml::{answer_for, post_answer_to, SamlIdp, NEWCOMER, RILEY};
use domain::portal_sign_in::{Provider, StaffSso};
use domain::text::Email;
use std::time::Duration;
use store::Backend;

async fn staff_sign_in_by_saml(p: &Portal, idp: &SamlIdp, change: impl FnOnce(&mut StaffSso)) {
    let url = idp.metadata_url.clone();
    let metadata = reqwest::get(&url).await.unwrap().text().await.unwrap();
    let mut staff = StaffSso {
        provider: Provider::Saml {
            metadata_url: Some(url),
            metadata,
            entity_id: None,
        },
        map: [("name", "displayName"), ("email", "mail")]
            .map(|(f, a)| (f.to_owned(), a.to_owned()))
            .into(),
        passwords_too: true,
        create_accounts: false,
        default_team: None,
    };
    change(&mut staff);
    let json = serde_json::to_string(&staff).unwrap();
    p.app.store.set_staff_sso(p.org, Some(&json)).await.unwrap();
}

/// `who` signs in at the provider from a fresh browser: the page Supportal answers with at
/// the end (a redirect into the app, or a refusal), and that browser.
async fn sso_sign_in(app: &TestApp, who: (&str, &str)) -> (reqwest::Response, TestApp) {
    let browser = app.other_browser();
    let answer = answer_for(&browser, "/login/sso/acme", who).await;
    let posted = post_answer_to(&browser, "/login/sso/acme/saml/acs", (&answer.0, &answer.1)).await;
    assert_eq!(posted.status(), 303, "{}", posted.text().await.unwrap());
    let done = location(&posted);
    assert!(done.starts_with("/login/sso/acme/done?state="), "{done}");
    let collected = browser.get(&done).await;
    (collected, browser)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reps_sign_in_at_the_organizations_saml_provider() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let app = &p.app;
    let idp = SamlIdp::start(app).await;
    staff_sign_in_by_saml(&p, &idp, |_| {}).await;
    let (status, sp) = app.get_text("/login/sso/acme/saml/metadata").await;
    assert_eq!(status, 200);
    assert!(
        sp.contains(&format!("{}/login/sso/acme/saml/acs", app.address)),
        "{sp}"
    );

    // Riley is matched by email and lands in the console.
    let (collected, riley) = sso_sign_in(app, RILEY).await;
    assert_eq!(collected.status(), 303);
    assert_eq!(location(&collected), "/console");
    let (status, console) = riley.get_text("/console").await;
    assert_eq!(status, 200);
    assert!(console.contains("Robin Rep"), "signed in as Riley");
    let audit = app.store.audit_entries(p.org, 5).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "login" && e.detail.contains("single sign-on")),
        "audited"
    );

    // Nobody here has newcomer's email: refused, no account made.
    let (refused, _) = sso_sign_in(app, NEWCOMER).await;
    assert_eq!(refused.status(), 403);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("There is no account for newcomer@acme.test in Org acme."),
        "{page}"
    );
    let newcomer = Email::parse("newcomer@acme.test").unwrap();
    assert!(app.store.credentials(&newcomer).await.unwrap().is_none());

    // The admin lets accounts be made, in the support team: newcomer becomes a rep there.
    let team = p.team;
    staff_sign_in_by_saml(&p, &idp, |s| {
        s.create_accounts = true;
        s.default_team = Some(team);
    })
    .await;
    let (collected, _) = sso_sign_in(app, NEWCOMER).await;
    assert_eq!(location(&collected), "/console");
    let (user, _) = app.store.credentials(&newcomer).await.unwrap().unwrap();
    assert_eq!(
        (user.display_name.as_str(), user.role, user.org_id),
        ("New Comer", domain::Role::Rep, p.org)
    );
    let teams = app.store.user_team_ids(p.org, user.id).await.unwrap();
    assert_eq!(teams, vec![team]);

    // Single sign-on only: a rep's password no longer signs in; an admin's still does.
    staff_sign_in_by_saml(&p, &idp, |s| s.passwords_too = false).await;
    let by_password = app.other_browser();
    let refused = by_password.login("riley@acme.test", PASSWORD).await;
    assert_eq!(refused.status(), 403);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Your organization signs in with single sign-on"));
    let admin = app.other_browser();
    let signed_in = admin.login("admin@acme.test", PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
    let (collected, _) = sso_sign_in(app, RILEY).await;
    assert_eq!(location(&collected), "/console", "SSO still works");
    drop(idp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_oidc_for_staff_and_a_rep_signs_in_with_it() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let base = p.app.address.clone();
    let callback = format!("{base}/login/sso/acme/callback");
    let provider = OidcProvider::start(&callback).await;

    let admin = Browser::start().await;
    admin.sign_in(&base, "admin@acme.test").await;
    admin.wait_for("[data-testid='logout']").await;
    let page = format!("{base}/admin/organization");
    admin.client.goto(&page).await.unwrap();
    let link = admin.text_of("org-sso-link").await;
    assert_eq!(link, format!("{base}/login/sso/acme"));
    admin.click("org-sso-both").await;
    admin.click("org-sso-oidc").await;
    admin.fill("org-sso-issuer", &provider.issuer).await;
    admin.fill("org-sso-client-id", CLIENT_ID).await;
    admin.fill("org-sso-client-secret", CLIENT_SECRET).await;
    admin.submit_and_wait("org-save").await;
    admin.wait_for("[data-testid='org-sso']").await;
    let org = p.app.store.organization(p.org).await.unwrap().unwrap();
    let staff: StaffSso = serde_json::from_str(org.staff_sso.as_deref().expect("saved")).unwrap();
    assert!(staff.passwords_too && !staff.create_accounts);
    assert!(
        matches!(&staff.provider, Provider::Oidc { client_secret, .. } if client_secret == CLIENT_SECRET)
    );
    admin.close().await;

    // Riley starts at the sign-in page, finds the organization, signs in at its provider.
    let riley = Browser::start().await;
    riley.client.goto(&format!("{base}/login")).await.unwrap();
    riley.click("login-sso").await;
    riley.fill("sso-org", "nobody").await;
    riley.click("sso-find").await;
    let said = riley.wait_for("#sso-org-error").await.text().await.unwrap();
    assert!(
        said.contains("No organization with this short name"),
        "{said}"
    );
    riley.fill("sso-org", "acme").await;
    riley.click("sso-find").await;
    riley.click("sso-login").await;
    sign_in_at_provider(&riley, "riley").await;
    riley
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::XPath(
            "//span[@id='live-state' and text()='Live']",
        ))
        .await
        .expect("Riley's console goes live");
    assert_eq!(riley.client.current_url().await.unwrap().path(), "/console");
    riley.close().await;
    drop(provider);
}
