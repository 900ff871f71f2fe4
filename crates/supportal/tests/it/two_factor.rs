//! Two-factor sign-in for staff, on both backends: set up from the account page (a wrong first
//! code keeps the set-up), then a password alone no longer signs in; the code step takes each
//! code once and each recovery code once, and five wrong codes end the challenge; an admin
//! resets it; an organization that requires it has its members set it up at sign-in and they
//! cannot turn it off.

use crate::helpers::{location, now, spawn_app_with, TestApp, PASSWORD};
use crate::on_both_backends;
use crate::portal::{portal_app, Portal};
use domain::two_factor::TotpSecret;
use domain::Timestamp;
use store::Backend;

/// The secret an enrolment page shows (in groups of four).
fn secret_on(page: &str) -> TotpSecret {
    let at = page
        .find("data-testid=\"totp-enrol-secret\">")
        .expect("the secret is shown");
    let shown = page[at..]
        .split('>')
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap();
    TotpSecret::from_base32(&shown.replace(' ', "")).expect("a Base32 secret")
}

/// The recovery codes a page shows.
fn recovery_codes_on(page: &str) -> Vec<String> {
    page.split("data-testid=\"recovery-code\">")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_owned())
        .collect()
}

/// The code the app shows one step from now: accepted (skew of one step) even when the
/// current step was just used to set up.
fn next_code(secret: &TotpSecret) -> String {
    secret.code_at(Timestamp(now().millis() + 30_000))
}

/// A code that is not right now (nor one step either way).
fn wrong_code(secret: &TotpSecret) -> String {
    let taken: Vec<String> = [-30_000, 0, 30_000]
        .iter()
        .map(|d| secret.code_at(Timestamp(now().millis() + d)))
        .collect();
    (0..)
        .map(|n: u32| format!("{:06}", (n * 7919) % 1_000_000))
        .find(|c| !taken.contains(c))
        .unwrap()
}

/// A new browser at the address 10.0.0.1 signs in with the password: where it is sent.
async fn password_step(app: &TestApp, email: &str) -> (TestApp, String) {
    password_step_from(app, email, "10.0.0.1").await
}

async fn password_step_from(app: &TestApp, email: &str, ip: &str) -> (TestApp, String) {
    let browser = app.browser_at(ip);
    let response = browser.login(email, PASSWORD).await;
    assert_eq!(response.status(), 303, "{email}'s password is right");
    (browser, location(&response))
}

async fn second_step(browser: &TestApp, action: &str, code: &str) -> reqwest::Response {
    browser.submit(action, action, &[("code", code)]).await
}

async fn signed_in(browser: &TestApp) -> bool {
    browser.get("/console").await.status() == 200
}

async fn setup(backend: Backend) -> Portal {
    let app = spawn_app_with(backend, |c| {
        c.security.login_attempts_per_ip_per_minute = 200;
        c.server.behind_proxy = true;
    })
    .await;
    portal_app(app).await
}

async fn a_rep_signs_in_with_a_code_or_a_recovery_code_each_once(backend: Backend) {
    let p = setup(backend).await;
    let app = &p.app;
    let riley = crate::console::rep(app, "riley@acme.test").await;

    // Set up from the account page: a wrong first code is said beside the field, the same
    // secret stays; the right one turns it on and shows ten recovery codes once.
    let (_, page) = riley.get_text("/account/two-factor").await;
    let secret = secret_on(&page);
    let refused = second_step(&riley, "/account/two-factor", &wrong_code(&secret)).await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(page.contains("This code is not right."), "{page}");
    assert_eq!(secret_on(&page), secret, "the same set-up");
    let on = second_step(&riley, "/account/two-factor", &secret.code_at(now())).await;
    assert_eq!(on.status(), 200);
    let codes = recovery_codes_on(&on.text().await.unwrap());
    assert_eq!(codes.len(), 10);
    let (_, account) = riley.get_text("/account").await;
    assert!(account.contains("10 recovery codes left"), "{account}");

    // The password alone no longer signs in.
    let (ann, to) = password_step(app, "riley@acme.test").await;
    assert_eq!(to, "/login/code");
    assert!(!signed_in(&ann).await);
    let wrong = second_step(&ann, "/login/code", &wrong_code(&secret)).await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("data-testid=\"totp-error\""));
    assert!(!signed_in(&ann).await);
    let code = next_code(&secret);
    let right = second_step(&ann, "/login/code", &code).await;
    assert_eq!(
        (right.status().as_u16(), location(&right)),
        (303, "/console".into())
    );
    assert!(signed_in(&ann).await);

    // The same code again is refused: a code seen over a shoulder cannot be replayed.
    let (ben, _) = password_step(app, "riley@acme.test").await;
    assert_eq!(second_step(&ben, "/login/code", &code).await.status(), 401);
    // A recovery code, typed loosely, signs in once.
    let loose = codes[0].to_uppercase().replace('-', " ");
    assert_eq!(second_step(&ben, "/login/code", &loose).await.status(), 303);
    assert!(signed_in(&ben).await);
    let (cid, _) = password_step(app, "riley@acme.test").await;
    assert_eq!(
        second_step(&cid, "/login/code", &codes[0]).await.status(),
        401
    );
    // Five wrong codes end the challenge: back to the password.
    for _ in 0..4 {
        assert_eq!(
            second_step(&cid, "/login/code", &wrong_code(&secret))
                .await
                .status(),
            401
        );
    }
    let ended = second_step(&cid, "/login/code", &codes[1]).await;
    assert_eq!(ended.status(), 429);
    assert!(ended
        .text()
        .await
        .unwrap()
        .contains("Sign in with your password again."));
    assert_eq!(location(&cid.get("/login/code").await), "/login");
    // Wrong codes count like wrong passwords: this address is locked out for the account.
    let locked = app
        .browser_at("10.0.0.1")
        .login("riley@acme.test", PASSWORD)
        .await;
    assert_eq!(locked.status(), 429);

    // An admin resets it (audited); the password alone signs in again.
    let (admin, _) = password_step(app, "admin@acme.test").await;
    let page = format!("/admin/reps/{}", p.rep.0);
    let (_, rep_page) = admin.get_text(&page).await;
    assert!(rep_page.contains("data-testid=\"reset-two-factor\""));
    let reset = admin
        .submit(&page, &format!("{page}/two-factor/reset"), &[])
        .await;
    assert!(reset
        .text()
        .await
        .unwrap()
        .contains("Two-factor sign-in was reset."));
    assert!(!signed_in(&ann).await, "their sign-ins ended");
    let entries = app.store.audit_entries(p.org, 50).await.unwrap();
    assert!(entries.iter().any(|e| e.action == "two_factor.reset"));
    assert!(entries
        .iter()
        .any(|e| e.action == "login" && e.detail == "recovery code"));
    let (_, to) = password_step_from(app, "riley@acme.test", "10.0.0.2").await;
    assert_eq!(to, "/console");
    // The admin requires it for everyone on the organization page (audited).
    let org = app.store.organization(p.org).await.unwrap().unwrap();
    let fields = [
        ("name", org.name.clone()),
        (
            "default_session_limit",
            org.default_session_limit.to_string(),
        ),
        ("key_digits", org.key_digits.to_string()),
        ("key_max_validity", org.key_max_validity_minutes.to_string()),
        ("require_two_factor", "on".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = "/admin/organization";
    let saved = admin.submit(page, page, &fields).await;
    assert!(saved.text().await.unwrap().contains("Settings saved."));
    assert!(
        app.store
            .organization(p.org)
            .await
            .unwrap()
            .unwrap()
            .require_two_factor
    );
    let entries = app.store.audit_entries(p.org, 50).await.unwrap();
    assert!(entries
        .iter()
        .any(|e| e.action == "two_factor.policy" && e.detail == "required"));
    let (_, to) = password_step_from(app, "riley@acme.test", "10.0.0.3").await;
    assert_eq!(to, "/login/enrol", "now required");
}

async fn an_organization_that_requires_it_has_members_set_it_up_at_sign_in(backend: Backend) {
    let p = setup(backend).await;
    let app = &p.app;
    app.store.set_require_two_factor(p.org, true).await.unwrap();

    let (riley, to) = password_step(app, "riley@acme.test").await;
    assert_eq!(to, "/login/enrol");
    assert!(!signed_in(&riley).await);
    let (_, page) = riley.get_text("/login/enrol").await;
    assert!(page.contains("Your organization requires a second step"));
    let unescaped = page.replace("&#x2f;", "/");
    assert!(
        unescaped.contains("src=\"data:image/svg+xml;base64,"),
        "a QR code"
    );
    let secret = secret_on(&page);
    let wrong = second_step(&riley, "/login/enrol", &wrong_code(&secret)).await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(secret_on(&wrong.text().await.unwrap()), secret);
    let on = second_step(&riley, "/login/enrol", &secret.code_at(now())).await;
    assert_eq!(on.status(), 200);
    assert_eq!(recovery_codes_on(&on.text().await.unwrap()).len(), 10);
    assert!(signed_in(&riley).await, "the first code signs in too");

    // Required: it cannot be turned off.
    let (_, account) = riley.get_text("/account").await;
    assert!(!account.contains("data-testid=\"two-factor-off\""));
    let off = riley
        .submit(
            "/account",
            "/account/two-factor/off",
            &[("two_factor_code", &next_code(&secret))],
        )
        .await;
    assert!(off
        .text()
        .await
        .unwrap()
        .contains("Your organization requires two-factor sign-in."));
    let (_, to) = password_step(app, "riley@acme.test").await;
    assert_eq!(to, "/login/code", "still on");
}

on_both_backends!(
    a_rep_signs_in_with_a_code_or_a_recovery_code_each_once,
    an_organization_that_requires_it_has_members_set_it_up_at_sign_in,
);

/// Type `code`, send it, wait for the element `shown`, and scan the page it led to.
async fn code_then_scan(browser: &crate::browser::Browser, axe: &str, code: &str, shown: &str) {
    browser.fill("totp-code", code).await;
    browser.click("totp-submit").await;
    browser.wait_for(&format!("[data-testid='{shown}']")).await;
    let violations = crate::browser::accessibility_violations(browser, axe).await;
    assert_eq!(violations, Vec::<String>::new(), "the page showing {shown}");
}

/// The set-up, code and recovery-code pages in a real browser, scanned by axe-core.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_two_factor_pages_pass_an_accessibility_scan() {
    use crate::browser::{accessibility_violations, axe_source, Browser};
    let p = setup(Backend::Sqlite).await;
    p.app
        .store
        .set_require_two_factor(p.org, true)
        .await
        .unwrap();
    let base = p.app.address.clone();
    let browser = Browser::start().await;
    let axe = axe_source();
    browser.sign_in(&base, "riley@acme.test").await;
    let secret = browser.text_of("totp-enrol-secret").await;
    let secret = TotpSecret::from_base32(&secret.replace(' ', "")).unwrap();
    assert_eq!(
        accessibility_violations(&browser, &axe).await,
        Vec::<String>::new(),
        "set-up"
    );
    let code = secret.code_at(now());
    code_then_scan(&browser, &axe, &code, "recovery-code").await;
    browser.click("recovery-codes-done").await;
    browser.wait_for("[data-testid='logout']").await;
    browser.click("logout").await;
    browser.sign_in(&base, "riley@acme.test").await;
    code_then_scan(&browser, &axe, &wrong_code(&secret), "totp-error").await;
    browser.close().await;
    drop(p);
}
