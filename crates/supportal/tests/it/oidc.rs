//! Portal sign-in through a real OpenID Connect provider: oidc-provider (the OpenID-certified
//! Node.js library, installed by scripts/test) on loopback with its development login. A site
//! that requires sign-in shows "Portal sign-in" first; the customer signs in at the provider in
//! headless Chromium and comes back with their name filled in and read-only; a name changed in
//! the page before sending is ignored by the server; the rep sees the verified mark and the
//! attributes the provider sent. The admin sets the provider on the site's page (the secret
//! kept, never shown again); an operator does the same with `supportal site sso`. Refusals: a login's state used twice, a provider that
//! cannot be reached, a cancelled sign-in — each a page with a way back.

use crate::browser::{accessibility_violations, axe_source, Browser};
use crate::console_browser::sign_in_to_console;
use crate::helpers::{spawn_app, spawn_with, test_config, TestApp};
use crate::portal::{portal_app, Portal};
use domain::intake::{CustomField, FieldKind};
use domain::portal_sign_in::{Provider, SsoSettings};
use domain::Language;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use store::Backend;

pub(crate) const CLIENT_ID: &str = "supportal-portal";
pub(crate) const CLIENT_SECRET: &str = "a-client-secret-for-tests";

/// oidc-provider on a free loopback port, stopped when dropped.
pub(crate) struct OidcProvider {
    child: Child,
    pub issuer: String,
    port: u16,
    redirect_uri: String,
}

impl OidcProvider {
    /// Start it with one client that may return to `redirect_uri`.
    pub async fn start(redirect_uri: &str) -> OidcProvider {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        OidcProvider::start_on(port, redirect_uri, &[]).await
    }

    /// One whose published key set names a key it does not sign with.
    pub async fn start_publishing_another_key(redirect_uri: &str) -> OidcProvider {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let env = [("OIDC_PUBLISH_OTHER_KEY", "1")];
        OidcProvider::start_on(port, redirect_uri, &env).await
    }

    /// Stop it and start it again on the same address: a new process makes new signing keys
    /// (a key rotation, as Supportal sees it).
    pub async fn restart(self) -> OidcProvider {
        let (port, redirect_uri) = (self.port, self.redirect_uri.clone());
        drop(self);
        OidcProvider::start_on(port, &redirect_uri, &[]).await
    }

    async fn start_on(port: u16, redirect_uri: &str, env: &[(&str, &str)]) -> OidcProvider {
        let e2e = format!("{}/../../target/e2e", env!("CARGO_MANIFEST_DIR"));
        let script = format!("{e2e}/oidc-provider.mjs");
        std::fs::write(&script, include_str!("../idp/oidc-provider.mjs")).unwrap();
        let child = Command::new("node")
            .arg("oidc-provider.mjs")
            .current_dir(&e2e)
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_REDIRECT_URIS", redirect_uri)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node ({e}): run scripts/test"));
        // From here the process is stopped and reaped when this is dropped.
        let provider = OidcProvider {
            child,
            issuer: format!("http://127.0.0.1:{port}"),
            port,
            redirect_uri: redirect_uri.to_owned(),
        };
        let discovery = format!("{}/.well-known/openid-configuration", provider.issuer);
        for _ in 0..100 {
            if let Ok(response) = reqwest::get(&discovery).await {
                if response.status().is_success() {
                    return provider;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("oidc-provider did not answer at {discovery}: run scripts/test, which installs it");
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The help site requires sign-in at `issuer`, mapping the provider's `customer_number` claim
/// to nothing the form asks (it is shown to the rep with the other attributes).
async fn require_sign_in(p: &Portal, issuer: &str) {
    let issuer = issuer.to_owned();
    p.settings(move |s| {
        s.sso = Some(SsoSettings {
            provider: Provider::Oidc {
                issuer,
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                scopes: vec!["profile".into(), "email".into(), "customer".into()],
            },
            map: Default::default(),
            required: true,
            keys_without_sign_in: true,
        })
    })
    .await;
}

/// The provider's development login: any name signs in; then its consent.
pub(crate) async fn sign_in_at_provider(customer: &Browser, login: &str) {
    let field = customer.wait_for("input[name='login']").await;
    field.send_keys(login).await.unwrap();
    let password = customer.wait_for("input[name='password']").await;
    password.send_keys("anything").await.unwrap();
    customer
        .wait_for("button.login-submit")
        .await
        .click()
        .await
        .unwrap();
    // The consent page (its own "Continue"), unless the provider skips it.
    for _ in 0..50 {
        let url = customer.client.current_url().await.unwrap();
        // Back at Supportal (the provider's own pages are /interaction/…, /auth/…).
        let ours = ["/p/", "/console", "/admin", "/login"];
        if ours.iter().any(|p| url.path().starts_with(p)) {
            return;
        }
        if let Ok(button) = customer
            .client
            .find(fantoccini::Locator::Css("button.login-submit"))
            .await
        {
            let _ = button.click().await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the provider did not send the customer back");
}

fn callback(app: &TestApp) -> String {
    format!("{}/p/help/sign-in/callback", app.address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_signs_in_at_the_provider_and_the_rep_sees_them_verified() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let base = p.app.address.clone();
    let provider = OidcProvider::start(&callback(&p.app)).await;
    add_customer_number(&p).await;

    // The organization's admin sets the provider on the site's page.
    let admin = Browser::start().await;
    admin.sign_in(&base, "admin@acme.test").await;
    admin.wait_for("[data-testid='logout']").await;
    admin
        .client
        .goto(&format!("{base}/admin/sites/{}", p.site))
        .await
        .unwrap();
    admin.click("site-sso-required").await;
    admin.fill("site-sso-issuer", &provider.issuer).await;
    admin.fill("site-sso-client-id", CLIENT_ID).await;
    admin.fill("site-sso-client-secret", CLIENT_SECRET).await;
    admin
        .fill("site-sso-scopes", "profile email customer")
        .await;
    admin
        .fill("site-sso-map", "customer_number=customer_number")
        .await;
    admin.submit_and_wait("site-save").await;
    admin.wait_for("[data-testid='site-sso']").await;
    let site = p.app.store.site(p.org, p.site).await.unwrap().unwrap();
    let sso = site.settings.sso.expect("saved from the admin page");
    assert!(sso.required && sso.keys_without_sign_in);
    let Provider::Oidc { scopes, .. } = &sso.provider else {
        panic!("OpenID Connect was chosen");
    };
    assert_eq!(scopes, &["profile", "email", "customer"]);
    // Saved again without typing the secret: the stored one is kept.
    admin.submit_and_wait("site-save").await;
    admin.wait_for("[data-testid='site-sso']").await;
    let site = p.app.store.site(p.org, p.site).await.unwrap().unwrap();
    let Provider::Oidc { client_secret, .. } = site.settings.sso.unwrap().provider else {
        panic!("still OpenID Connect");
    };
    assert_eq!(client_secret, CLIENT_SECRET);
    let shown = admin.client.source().await.unwrap();
    assert!(!shown.contains(CLIENT_SECRET), "the secret is never shown");
    admin.close().await;

    // "Portal sign-in" first; the key entry stays (the site lets keys through).
    let customer = Browser::start().await;
    customer
        .client
        .goto(&format!("{base}/p/help"))
        .await
        .unwrap();
    customer.wait_for("[data-testid='portal-sign-in']").await;
    customer.wait_for("[data-testid='session-key-input']").await;
    let axe = axe_source();
    let violations = accessibility_violations(&customer, &axe).await;
    assert_eq!(violations, Vec::<String>::new(), "the sign-in page");
    customer.click("sso-login").await;
    sign_in_at_provider(&customer, "quinn").await;

    // Back on the portal, signed in: the name is the provider's and cannot be edited.
    customer.wait_for("[data-testid='signed-in']").await;
    // A mapped custom field is filled in and read-only on the issue form.
    customer
        .client
        .goto(&format!("{base}/p/help/request"))
        .await
        .unwrap();
    let number = customer
        .wait_for("[data-testid='custom-field-customer_number']")
        .await;
    assert_eq!(
        number.prop("value").await.unwrap().as_deref(),
        Some("C-1001")
    );
    assert!(
        number.attr("readonly").await.unwrap().is_some(),
        "read-only"
    );
    customer
        .client
        .goto(&format!("{base}/p/help"))
        .await
        .unwrap();
    let (capability, session) = asks_with_a_tampered_name(&p, &customer).await;
    assert_eq!(
        session.verified_by.as_deref(),
        Some(provider.issuer.as_str())
    );
    let attributes = session.verified_attributes.as_deref().unwrap_or_default();
    assert!(
        attributes.contains("C-1001") && attributes.contains("quinn@example.test"),
        "{attributes}"
    );

    // The rep sees the check mark and what the provider sent.
    let riley = Browser::start().await;
    sign_in_to_console(&riley, &base, "riley@acme.test").await;
    riley.wait_for("[data-testid='verified-mark']").await;
    riley.click("accept").await;
    // In the session's tab and heading too.
    let marks = "return document.querySelectorAll('[data-testid=verified-mark]').length;";
    for _ in 0..50 {
        if riley.client.execute(marks, vec![]).await.unwrap().as_u64() >= Some(2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let shown = riley.client.execute(marks, vec![]).await.unwrap();
    assert!(shown.as_u64() >= Some(2), "tab and heading: {shown}");
    // And beside the customer's name in the chat: a line they write now shows it.
    customer
        .fill("chat-input", "Hello from a verified customer")
        .await;
    customer.click("chat-send").await;
    let verified_line = "//li[@data-from='customer' and contains(., 'verified customer')]//span[@data-testid='verified-mark']";
    let found = riley
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::XPath(verified_line))
        .await;
    assert!(found.is_ok(), "the mark beside the customer's chat line");
    // The transcript says who vouched for the customer.
    let transcript = p
        .app
        .get_text(&format!("/s/{capability}/transcript"))
        .await
        .1;
    assert!(
        transcript.contains(&format!("Verified: signed in at {}", provider.issuer)),
        "{transcript}"
    );
    let sent = riley.text_of("verified-attributes").await;
    assert!(
        sent.contains("C-1001") && sent.contains("quinn@example.test"),
        "{sent}"
    );
    riley.screenshot("verified-customer-console").await;

    customer.close().await;
    riley.close().await;
    drop(provider);
    drop(p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_sign_ins_say_so_with_a_way_back() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let app = &p.app;
    // A provider nobody answers at: a clear page, in the customer's language.
    require_sign_in(&p, "http://127.0.0.1:9").await;
    let response = app.get("/p/help/sign-in").await;
    assert_eq!(response.status(), 403);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("The sign-in service cannot be reached right now."),
        "{page}"
    );
    assert!(page.contains("href=\"&#x2f;p&#x2f;help\"") || page.contains("href=\"/p/help\""));
    // An answer with a state nobody started (or one used already).
    let forged = app
        .get("/p/help/sign-in/callback?code=x&state=never-issued")
        .await;
    assert_eq!(forged.status(), 403);
    assert!(forged.text().await.unwrap().contains("already used"));
    // Cancelled at the provider, in German.
    let german = app.browser_speaking("de");
    let cancelled = german
        .get("/p/help/sign-in/callback?error=access_denied&state=x")
        .await;
    assert!(cancelled
        .text()
        .await
        .unwrap()
        .contains("Die Anmeldung wurde beim Anmeldedienst abgebrochen"));
    // Without signing in nobody is queued.
    let refused = app
        .submit(
            "/p/help",
            "/p/help/contact",
            &[("customer_name", "Mallory")],
        )
        .await;
    assert_ne!(refused.status(), 303);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Please sign in first."));

    // A key a rep gave still works without signing in, where the site says so...
    use store::keys::KeyTarget;
    p.key("123456789", KeyTarget::Support, 3600).await;
    let confirm = [
        ("key", "123456789"),
        ("customer_name", "Fay"),
        ("field_device", "Laptop"),
    ];
    let by_key = app.submit("/p/help", "/p/help/key/confirm", &confirm).await;
    let session = p.session_at(&crate::helpers::location(&by_key)).await;
    assert_eq!(session.customer_name, "Fay");
    assert!(!session.verified, "not signed in: not verified");
    // ...and not where it does not.
    p.settings(|s| {
        if let Some(sso) = s.sso.as_mut() {
            sso.keys_without_sign_in = false;
        }
    })
    .await;
    p.key("987654321", KeyTarget::Support, 3600).await;
    let confirm = [
        ("key", "987654321"),
        ("customer_name", "Fay"),
        ("field_device", "Laptop"),
    ];
    // (The sign-in page has no form now: the CSRF token comes from the key page.)
    let refused = app.submit("/join", "/p/help/key/confirm", &confirm).await;
    assert_ne!(refused.status(), 303);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Please sign in first."));
}

/// The help site's forms ask for a customer number (which the providers vouch for).
pub(crate) async fn add_customer_number(p: &Portal) {
    let number = CustomField {
        key: "customer_number".into(),
        kind: FieldKind::Text,
        required: false,
        labels: [(Language::En, "Customer number".to_owned())].into(),
        options: vec![],
    };
    p.app
        .store
        .add_custom_field(p.org, p.site, &number)
        .await
        .unwrap();
}

/// The signed-in customer on the portal's home page: their name is the provider's and
/// read-only; changed in the page anyway, it is ignored by the server. They ask for help with
/// one click; their capability and session, verified, with the mapped customer number.
pub(crate) async fn asks_with_a_tampered_name(
    p: &Portal,
    customer: &Browser,
) -> (String, store::support::SupportSession) {
    let home = format!("{}/p/help", p.app.address);
    customer.client.goto(&home).await.unwrap();
    customer.wait_for("[data-testid='signed-in']").await;
    let name = customer.wait_for("[data-testid='customer-name']").await;
    assert_eq!(
        name.prop("value").await.unwrap().as_deref(),
        Some("Quinn Verified")
    );
    assert!(name.attr("readonly").await.unwrap().is_some(), "read-only");
    let tamper = "const f = document.querySelector('[data-testid=customer-name]'); \
                  f.removeAttribute('readonly'); f.value = 'Mallory'; return null;";
    customer.client.execute(tamper, vec![]).await.unwrap();
    customer.click("contact-button").await;
    customer.wait_for("[data-testid='queue-position']").await;
    let waiting = customer.client.current_url().await.unwrap();
    let capability = waiting.path().strip_prefix("/s/").unwrap().to_owned();
    let digest = domain::secret::token_digest(&capability);
    let session = p
        .app
        .store
        .session_by_capability(&digest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.customer_name, "Quinn Verified");
    assert!(session.verified);
    assert!(
        session.fields.contains("C-1001"),
        "the mapped field: {}",
        session.fields
    );
    (capability, session)
}

/// `supportal site sso` as an operator runs it, against the database a server is using.
pub(crate) fn site_sso(database: &str, args: &[&str]) -> std::process::Output {
    let dir = std::env::temp_dir().join(format!("supportal-sso-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    Command::new(env!("CARGO_BIN_EXE_supportal"))
        .args(["site", "sso", "--site", "help"])
        .args(args)
        .current_dir(&dir)
        .env("SUPPORTAL_DATA_DIR", dir.join("data"))
        .env("SUPPORTAL_DATABASE__URL", database)
        .env("SUPPORTAL_OIDC_CLIENT_SECRET", CLIENT_SECRET)
        .output()
        .unwrap()
}

/// Whether the running server's home page asks to sign in, within `wait`.
pub(crate) async fn asks_to_sign_in_within(app: &TestApp, wanted: bool, wait: Duration) -> bool {
    let until = tokio::time::Instant::now() + wait;
    loop {
        let (_, page) = app.get_text("/p/help").await;
        if page.contains("data-testid=\"portal-sign-in\"") == wanted {
            return true;
        }
        if tokio::time::Instant::now() > until {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sets_the_identity_provider_from_the_command_line() {
    let config = test_config(Backend::Sqlite).await;
    let database = config.database.url.clone().unwrap();
    let p = portal_app(spawn_with(&config).await).await;
    let app = &p.app;
    assert!(asks_to_sign_in_within(app, false, Duration::ZERO).await);

    // A mistake: one clear line, nothing written.
    let wrong = site_sso(
        &database,
        &["--oidc-issuer", "idp.example", "--oidc-client-id", "c"],
    );
    assert!(!wrong.status.success());
    let said = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        said.contains("--oidc-issuer: Write an address that starts with https://."),
        "{said}"
    );
    let wrong = site_sso(
        &database,
        &[
            "--oidc-issuer",
            "https://idp.example",
            "--oidc-client-id",
            "c",
            "--map",
            "Bad Key=x",
        ],
    );
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("--map Bad Key=x"));

    let set = site_sso(
        &database,
        &[
            "--oidc-issuer",
            "https://idp.example/",
            "--oidc-client-id",
            CLIENT_ID,
            "--map",
            "customer_number=customer_no",
            "--require",
        ],
    );
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&set.stdout).trim(),
        "site help: sign-in at https://idp.example (required)"
    );
    let site = app.store.site(p.org, p.site).await.unwrap().unwrap();
    let sso = site.settings.sso.expect("stored");
    assert_eq!(sso.map["customer_number"], "customer_no");
    assert!(sso.required && sso.keys_without_sign_in);
    // The running server picks it up within a few seconds (another process wrote it).
    assert!(asks_to_sign_in_within(app, true, Duration::from_secs(8)).await);

    let off = site_sso(&database, &["--off"]);
    assert!(off.status.success());
    assert!(asks_to_sign_in_within(app, false, Duration::from_secs(8)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_rolled_its_keys_is_read_again() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let (provider, customer) = signed_in_through_a_provider(&p).await;
    customer.wait_for("[data-testid='signed-in']").await;
    customer.click("sso-logout").await;
    customer.wait_for("[data-testid='portal-sign-in']").await;

    // New keys at the provider: the ID token is signed with a key the kept discovery
    // document does not have; Supportal reads it again and the sign-in works.
    let keys = |issuer: String| async move {
        let jwks: serde_json::Value = reqwest::get(format!("{issuer}/jwks"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        jwks["keys"].to_string()
    };
    let before = keys(provider.issuer.clone()).await;
    let provider = provider.restart().await;
    assert_ne!(
        keys(provider.issuer.clone()).await,
        before,
        "the provider's keys changed"
    );
    customer.click("sso-login").await;
    sign_in_at_provider(&customer, "quinn").await;
    customer.wait_for("[data-testid='signed-in']").await;
    customer.close().await;
    drop(provider);
    drop(p);
}

/// A provider for `p`'s help site, which requires sign-in there, and a customer who went
/// through it (signed in, or refused: the page they came back to says).
async fn signed_in_through_a_provider(p: &Portal) -> (OidcProvider, Browser) {
    let provider = OidcProvider::start(&callback(&p.app)).await;
    let customer = off_to(p, &provider).await;
    sign_in_at_provider(&customer, "quinn").await;
    (provider, customer)
}

/// The help site requires sign-in at `provider`; a customer opens it and clicks Sign in:
/// their browser, at the provider's login.
async fn off_to(p: &Portal, provider: &OidcProvider) -> Browser {
    require_sign_in(p, &provider.issuer).await;
    let customer = Browser::start().await;
    let home = format!("{}/p/help", p.app.address);
    customer.client.goto(&home).await.unwrap();
    customer.click("sso-login").await;
    customer
}

/// Back from the provider on a refusal: "could not be confirmed".
async fn not_confirmed(customer: &Browser) {
    let refused = customer.text_of("sign-in-refused").await;
    assert!(
        refused.contains("The sign-in could not be confirmed."),
        "{refused}"
    );
}

/// The system's time, two hours on: an ID token the provider issues now has run out by it.
pub(crate) struct TwoHoursAhead;

impl domain::Clock for TwoHoursAhead {
    fn now(&self) -> domain::Timestamp {
        let system = supportal::clock::SystemClock.now();
        domain::Timestamp(system.millis() + 2 * 3600 * 1000)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_id_token_is_refused() {
    let config = test_config(Backend::Sqlite).await;
    let app = crate::helpers::spawn_with_clock(&config, std::sync::Arc::new(TwoHoursAhead)).await;
    let p = portal_app(app).await;
    let base = p.app.address.clone();
    let (provider, customer) = signed_in_through_a_provider(&p).await;
    not_confirmed(&customer).await;
    customer
        .client
        .goto(&format!("{base}/p/help"))
        .await
        .unwrap();
    customer.wait_for("[data-testid='portal-sign-in']").await;
    customer.close().await;
    drop(provider);
    drop(p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_for_another_login_is_refused() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let provider = OidcProvider::start(&callback(&p.app)).await;
    let customer = off_to(&p, &provider).await;
    // While the customer is at the provider, their login comes to expect another nonce: the
    // ID token the provider then signs names a nonce this login did not send.
    customer.wait_for("input[name='login']").await;
    assert_eq!(p.app.store.testing_expect_other_nonces().await.unwrap(), 1);
    sign_in_at_provider(&customer, "quinn").await;
    not_confirmed(&customer).await;
    customer.close().await;
    drop(provider);
    drop(p);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_signed_with_an_unknown_key_is_refused() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let provider = OidcProvider::start_publishing_another_key(&callback(&p.app)).await;
    let customer = off_to(&p, &provider).await;
    // The key set is read again once (a rotation?), and still lacks the token's key.
    sign_in_at_provider(&customer, "quinn").await;
    not_confirmed(&customer).await;
    customer.close().await;
    drop(provider);
    drop(p);
}
