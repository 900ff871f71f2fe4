//! Portal sign-in through a real SAML 2.0 identity provider: SimpleSAMLphp (Debian's package,
//! installed by scripts/test) on PHP's built-in server on loopback, with its own signing key
//! made per run and users from `exampleauth:UserPass`. An operator points the help site at the
//! provider's metadata with `supportal site sso --saml-metadata-url`; the customer signs in
//! there in headless Chromium and comes back verified, with the name and mapped fields read
//! from the assertion. Refusals, driven by hand over HTTP so that the provider's signed answer
//! can be replayed or altered: an assertion used twice, a changed value (signature), an answer
//! to another login (InResponseTo), another audience, a login finished in another browser, and
//! an assertion already expired by the server's clock — each a page with a way back.

use crate::browser::Browser;
use crate::console_browser::sign_in_to_console;
use crate::helpers::{location, spawn_app, spawn_with, test_config, TestApp};
use crate::oidc::{
    add_customer_number, asks_to_sign_in_within, asks_with_a_tampered_name, site_sso, TwoHoursAhead,
};
use crate::portal::{portal_app, Portal};
use base64::Engine;
use domain::portal_sign_in::{Provider, SsoSettings};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use store::Backend;

const USER: &str = "quinn";
const PASSWORD: &str = "quinn-password";
/// A rep of the acme organization at the provider, and someone with no account yet.
pub(crate) const RILEY: (&str, &str) = ("riley", "riley-password");
pub(crate) const NEWCOMER: (&str, &str) = ("newcomer", "newcomer-password");

/// SimpleSAMLphp on a free loopback port with the help site of `app` registered as a service
/// provider (and its "other" site); stopped (and its directory removed) when dropped.
pub struct SamlIdp {
    child: Child,
    dir: PathBuf,
    pub metadata_url: String,
}

impl SamlIdp {
    pub async fn start(app: &TestApp) -> SamlIdp {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let dir = std::env::temp_dir().join(format!("supportal-idp-{:x}", rand::random::<u64>()));
        for sub in ["metadata", "log", "data", "tmp"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args([
                "-keyout",
                "idp.key",
                "-out",
                "idp.crt",
                "-subj",
                "/CN=idp.test",
            ])
            .current_dir(&dir)
            .output()
            .expect("openssl makes the provider's signing key");
        assert!(made.status.success(), "openssl: {made:?}");
        write_config(&dir, &base, &app.address);
        let child = Command::new("php")
            .args(["-S", &format!("127.0.0.1:{port}")])
            .args(["-t", "/usr/share/simplesamlphp/www"])
            .env("SIMPLESAMLPHP_CONFIG_DIR", &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start php ({e}): run scripts/test"));
        // From here the process is stopped and its directory removed when this is dropped.
        let idp = SamlIdp {
            child,
            dir,
            metadata_url: format!("{base}/saml2/idp/metadata.php"),
        };
        for _ in 0..100 {
            if let Ok(response) = reqwest::get(&idp.metadata_url).await {
                if response.status().is_success() {
                    return idp;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "SimpleSAMLphp did not answer at {}: run scripts/test, which installs it",
            idp.metadata_url
        );
    }
}

impl Drop for SamlIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// SimpleSAMLphp's configuration: Debian's, with its addresses and directories moved here,
/// the IdP on, one user with attributes, and the help site of `app` as the one service
/// provider (its entity id is its metadata address, as Supportal's default).
fn write_config(dir: &std::path::Path, base: &str, app: &str) {
    let d = dir.display();
    let config = format!(
        "<?php\nrequire '/etc/simplesamlphp/config.php';\n\
         $config['baseurlpath'] = '{base}/';\n\
         $config['certdir'] = '{d}/';\n\
         $config['loggingdir'] = '{d}/log/';\n\
         $config['datadir'] = '{d}/data/';\n\
         $config['tempdir'] = '{d}/tmp';\n\
         $config['metadatadir'] = '{d}/metadata/';\n\
         $config['metadata.sources'] = [['type' => 'flatfile', 'directory' => '{d}/metadata/']];\n\
         $config['secretsalt'] = 'a-salt-for-tests';\n\
         $config['enable.saml20-idp'] = true;\n\
         $config['module.enable']['exampleauth'] = true;\n\
         $config['session.cookie.secure'] = false;\n\
         $config['session.cookie.samesite'] = 'Lax';\n\
         $config['logging.handler'] = 'file';\n\
         $config['store.type'] = 'phpsession';\n"
    );
    let user = |login: &str, password: &str, name: &str, mail: &str| {
        format!(
            "    '{login}:{password}' => ['uid' => ['{login}'], 'displayName' => ['{name}'], \
             'mail' => ['{mail}'], 'customer_no' => ['C-1001']],\n"
        )
    };
    let users = [
        user(USER, PASSWORD, "Quinn Verified", "quinn@example.test"),
        user(RILEY.0, RILEY.1, "Robin Rep", "riley@acme.test"),
        user(NEWCOMER.0, NEWCOMER.1, "New Comer", "newcomer@acme.test"),
    ]
    .concat();
    let sources = format!(
        "<?php\n$config = [\n  'admin' => ['core:AdminPassword'],\n  'users' => [\n    \
         'exampleauth:UserPass',\n{users}  ],\n];\n"
    );
    let hosted = "<?php\n$metadata['__DYNAMIC:1__'] = [\n  'host' => '__DEFAULT__',\n  \
                  'privatekey' => 'idp.key',\n  'certificate' => 'idp.crt',\n  'auth' => 'users',\n];\n";
    // The help and other sites' portals, and the acme organization's staff.
    let remote: String = ["p/help", "p/other", "login/sso/acme"]
        .map(|base| {
            format!(
                "$metadata['{app}/{base}/saml/metadata'] = [\n  \
                 'AssertionConsumerService' => '{app}/{base}/saml/acs',\n];\n"
            )
        })
        .concat();
    let remote = format!("<?php\n{remote}");
    std::fs::write(dir.join("config.php"), config).unwrap();
    std::fs::write(dir.join("authsources.php"), sources).unwrap();
    std::fs::write(dir.join("metadata/saml20-idp-hosted.php"), hosted).unwrap();
    std::fs::write(dir.join("metadata/saml20-sp-remote.php"), remote).unwrap();
}

/// The help site signs its customers in at `idp`: name, email and the customer number mapped.
async fn require_saml(p: &Portal, idp: &SamlIdp) {
    let sso = saml_settings(idp).await;
    p.settings(move |s| s.sso = Some(sso)).await;
}

async fn saml_settings(idp: &SamlIdp) -> SsoSettings {
    let url = idp.metadata_url.clone();
    let metadata = reqwest::get(&url).await.unwrap().text().await.unwrap();
    SsoSettings {
        provider: Provider::Saml {
            metadata_url: Some(url),
            metadata,
            entity_id: None,
        },
        map: mapping(),
        required: true,
        keys_without_sign_in: true,
    }
}

/// A second site of the same organization, "other", signing in at `idp` too.
async fn other_site(p: &Portal, idp: &SamlIdp) {
    use domain::text::{DisplayName, Slug};
    let (name, slug) = (
        DisplayName::parse("Other help").unwrap(),
        Slug::parse("other").unwrap(),
    );
    let now = domain::Timestamp(0);
    let store = &p.app.store;
    let site = store.create_site(p.org, &name, &slug, now).await.unwrap();
    let mut settings = store.site(p.org, site).await.unwrap().unwrap().settings;
    settings.sso = Some(saml_settings(idp).await);
    store
        .update_site(p.org, site, &name, &slug, &settings)
        .await
        .unwrap();
}

fn mapping() -> std::collections::BTreeMap<String, String> {
    [
        ("name", "displayName"),
        ("email", "mail"),
        ("customer_number", "customer_no"),
    ]
    .map(|(f, a)| (f.to_owned(), a.to_owned()))
    .into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_signs_in_by_saml_and_the_rep_sees_them_verified() {
    let config = test_config(Backend::Sqlite).await;
    let database = config.database.url.clone().unwrap();
    let p = portal_app(spawn_with(&config).await).await;
    let base = p.app.address.clone();
    add_customer_number(&p).await;
    let idp = SamlIdp::start(&p.app).await;

    // The site's service-provider metadata, at its stable address.
    let (status, sp) = p.app.get_text("/p/help/saml/metadata").await;
    assert_eq!(status, 200);
    assert!(
        sp.contains(&format!("entityID=\"{base}/p/help/saml/metadata\""))
            && sp.contains(&format!("Location=\"{base}/p/help/saml/acs\"")),
        "{sp}"
    );

    // An operator points the site at the provider's metadata.
    let wrong = site_sso(&database, &["--saml-metadata-url", "http://127.0.0.1:9/md"]);
    assert!(!wrong.status.success());
    let said = String::from_utf8_lossy(&wrong.stderr);
    assert!(said.contains("--saml-metadata-url: cannot read"), "{said}");
    let mut args = vec![
        "--saml-metadata-url",
        idp.metadata_url.as_str(),
        "--require",
    ];
    for m in [
        "name=displayName",
        "email=mail",
        "customer_number=customer_no",
    ] {
        args.extend(["--map", m]);
    }
    let set = site_sso(&database, &args);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    assert!(asks_to_sign_in_within(&p.app, true, Duration::from_secs(8)).await);

    // The customer signs in at the provider and comes back verified.
    let customer = Browser::start().await;
    customer
        .client
        .goto(&format!("{base}/p/help/request"))
        .await
        .unwrap();
    customer.click("sso-login").await;
    customer
        .wait_for("input[name='username']")
        .await
        .send_keys(USER)
        .await
        .unwrap();
    customer
        .wait_for("input[name='password']")
        .await
        .send_keys(PASSWORD)
        .await
        .unwrap();
    customer
        .wait_for("#submit_button")
        .await
        .click()
        .await
        .unwrap();
    // Back where they were going (RelayState): the issue form, the mapped field read-only.
    let number = customer
        .wait_for("[data-testid='custom-field-customer_number']")
        .await;
    let here = customer.client.current_url().await.unwrap();
    assert_eq!(here.path(), "/p/help/request");
    assert_eq!(
        number.prop("value").await.unwrap().as_deref(),
        Some("C-1001")
    );
    assert!(number.attr("readonly").await.unwrap().is_some());
    let (_, session) = asks_with_a_tampered_name(&p, &customer).await;
    assert_eq!(
        session.verified_by.as_deref(),
        Some(idp.metadata_url.as_str()),
        "the provider's entity id"
    );
    let attributes = session.verified_attributes.unwrap_or_default();
    assert!(attributes.contains("quinn@example.test"), "{attributes}");

    // The rep sees the check mark and the attributes.
    let riley = Browser::start().await;
    sign_in_to_console(&riley, &base, "riley@acme.test").await;
    riley.wait_for("[data-testid='verified-mark']").await;
    riley.click("accept").await;
    let sent = riley.text_of("verified-attributes").await;
    assert!(
        sent.contains("C-1001") && sent.contains("Quinn Verified"),
        "{sent}"
    );

    // Sign-out forgets the identity here.
    customer
        .client
        .goto(&format!("{base}/p/help"))
        .await
        .unwrap();
    customer.click("sso-logout").await;
    customer.wait_for("[data-testid='portal-sign-in']").await;
    customer.close().await;
    riley.close().await;
    drop(idp);
    drop(p);
}

/// One login at the help site by hand: Supportal's redirect to the provider (with this
/// client's login cookie), the provider's form, and its signed answer, not yet posted:
/// (SAMLResponse, RelayState).
async fn answer_of_a_login(app: &TestApp) -> (String, String) {
    answer_of_a_login_at(app, "/p/help/sign-in?next=/p/help").await
}

/// The same, starting at `start` (another site, another "next").
async fn answer_of_a_login_at(app: &TestApp, start: &str) -> (String, String) {
    answer_for(app, start, (USER, PASSWORD)).await
}

/// The same for `user` (login, password), starting at `start`.
pub(crate) async fn answer_for(
    app: &TestApp,
    start: &str,
    (user, password): (&str, &str),
) -> (String, String) {
    let start = app.get(start).await;
    assert_eq!(start.status(), 303, "{}", start.text().await.unwrap());
    let to_idp = location(&start);
    let idp = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login_page = idp.get(&to_idp).send().await.unwrap();
    let login_url = login_page.url().clone();
    let page = login_page.text().await.unwrap();
    let auth_state = hidden(&page, "AuthState").expect("the provider's login form");
    let answer = idp
        .post(login_url)
        .form(&[
            ("username", user),
            ("password", password),
            ("AuthState", &auth_state),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = hidden(&answer, "SAMLResponse").expect("a signed answer");
    let relay = hidden(&answer, "RelayState").expect("the login's state back");
    (response, relay)
}

/// The value of hidden input `name` in a page.
fn hidden(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\""))?;
    let rest = &page[at..];
    let value = rest.split("value=\"").nth(1)?.split('"').next()?;
    Some(
        value
            .replace("&amp;", "&")
            .replace("&quot;", "\"")
            .replace("&#039;", "'"),
    )
}

async fn post_answer(app: &TestApp, answer: (&str, &str)) -> reqwest::Response {
    post_answer_to(app, "/p/help/saml/acs", answer).await
}

pub(crate) async fn post_answer_to(
    app: &TestApp,
    acs: &str,
    (response, relay): (&str, &str),
) -> reqwest::Response {
    app.client
        .post(app.url(acs))
        .form(&[("SAMLResponse", response), ("RelayState", relay)])
        .send()
        .await
        .unwrap()
}

const FAILED: &str = "The sign-in could not be confirmed.";
const EXPIRED: &str = "This sign-in took too long or was already used.";

async fn refused_with(response: reqwest::Response, message: &str) {
    assert_eq!(response.status(), 403);
    let page = response.text().await.unwrap();
    assert!(page.contains(message), "{page}");
    assert!(
        page.contains("href=\"&#x2f;p&#x2f;help\""),
        "a way back: {page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saml_answers_are_checked_and_each_assertion_counts_once() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let idp = SamlIdp::start(&p.app).await;
    require_saml(&p, &idp).await;
    let app = &p.app;

    // Good: posted, then collected by the browser that started the login.
    let (response, relay) = answer_of_a_login(app).await;
    let posted = post_answer(app, (&response, &relay)).await;
    assert_eq!(posted.status(), 303);
    let done = location(&posted);
    assert!(done.starts_with("/p/help/sign-in/done?state="), "{done}");
    // The same assertion again, while its login still waits: refused (kept in the database).
    refused_with(post_answer(app, (&response, &relay)).await, FAILED).await;
    // Collected from another browser (no login cookie): refused.
    refused_with(app.other_browser().get(&done).await, EXPIRED).await;
    let collected = app.get(&done).await;
    assert_eq!(collected.status(), 303);
    assert_eq!(location(&collected), "/p/help");
    let (_, home) = app.get_text("/p/help").await;
    assert!(home.contains("data-testid=\"signed-in\""), "{home}");
    // A form with a mistake, shown again, still shows the provider's name, read-only.
    let again = app
        .submit(
            "/p/help/request",
            "/p/help/request",
            &[("customer_name", "Mallory")],
        )
        .await;
    assert_ne!(again.status(), 303);
    let page = again.text().await.unwrap();
    let name_field = page
        .split("<input")
        .find(|i| i.contains("name=\"customer_name\""))
        .unwrap_or_default()
        .to_owned();
    assert!(
        name_field.contains("value=\"Quinn Verified\"") && name_field.contains("readonly"),
        "{name_field}"
    );

    // A value changed in the signed answer: the signature no longer holds.
    let customer = app.other_browser();
    let (response, relay) = answer_of_a_login(&customer).await;
    let engine = base64::engine::general_purpose::STANDARD;
    let xml = String::from_utf8(engine.decode(&response).unwrap()).unwrap();
    assert!(xml.contains("Quinn Verified"));
    let forged = engine.encode(xml.replace("Quinn Verified", "Mallory Admin"));
    refused_with(post_answer(&customer, (&forged, &relay)).await, FAILED).await;

    // The answer to one login posted for another: InResponseTo names the first.
    let (first, _) = answer_of_a_login(&customer).await;
    let (_, second) = answer_of_a_login(&customer).await;
    refused_with(post_answer(&customer, (&first, &second)).await, FAILED).await;
    // An answer addressed to another site's consumer (Destination and Recipient), for a login
    // of this one.
    other_site(&p, &idp).await;
    let (elsewhere, _) = answer_of_a_login_at(&customer, "/p/other/sign-in").await;
    let (_, here) = answer_of_a_login(&customer).await;
    refused_with(post_answer(&customer, (&elsewhere, &here)).await, FAILED).await;
    // A state nobody started.
    refused_with(
        post_answer(&customer, (&first, "never-issued")).await,
        EXPIRED,
    )
    .await;

    // Another audience: the site's entity id changed after the request went out.
    let (response, relay) = answer_of_a_login(&customer).await;
    p.settings(|s| {
        if let Some(Provider::Saml { entity_id, .. }) = s.sso.as_mut().map(|s| &mut s.provider) {
            *entity_id = Some("https://elsewhere.example/sp".into());
        }
    })
    .await;
    refused_with(post_answer(&customer, (&response, &relay)).await, FAILED).await;

    // A sign-in asked to return to another host returns to the site instead.
    require_saml(&p, &idp).await;
    let customer = app.other_browser();
    let start = "/p/help/sign-in?next=https://evil.example/p/help";
    let answer = answer_of_a_login_at(&customer, start).await;
    let posted = post_answer(&customer, (&answer.0, &answer.1)).await;
    let collected = customer.get(&location(&posted)).await;
    assert_eq!(location(&collected), "/p/help");

    // In German, with the way back.
    let german = app.browser_speaking("de");
    let expired = "Diese Anmeldung hat zu lange gedauert oder wurde schon verwendet.";
    refused_with(post_answer(&german, (&response, "x")).await, expired).await;
    drop(idp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assertion_expired_by_the_servers_clock_is_refused() {
    let config = test_config(Backend::Sqlite).await;
    let app = crate::helpers::spawn_with_clock(&config, std::sync::Arc::new(TwoHoursAhead)).await;
    let p = portal_app(app).await;
    let idp = SamlIdp::start(&p.app).await;
    require_saml(&p, &idp).await;
    let (response, relay) = answer_of_a_login(&p.app).await;
    refused_with(post_answer(&p.app, (&response, &relay)).await, FAILED).await;
    drop(idp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_saml_on_the_site_page() {
    let p = portal_app(spawn_app(Backend::Sqlite).await).await;
    let base = p.app.address.clone();
    let idp = SamlIdp::start(&p.app).await;
    let admin = Browser::start().await;
    admin.sign_in(&base, "admin@acme.test").await;
    admin.wait_for("[data-testid='logout']").await;
    let page = format!("{base}/admin/sites/{}", p.site);
    admin.client.goto(&page).await.unwrap();
    // The address to register at the provider is on the page.
    let sp = admin.text_of("site-sso-sp-metadata").await;
    assert_eq!(sp, format!("{base}/p/help/saml/metadata"));

    // An address that does not answer: said beside the field, what was typed kept.
    admin.click("site-sso-required").await;
    admin.click("site-sso-saml").await;
    let nowhere = "http://127.0.0.1:9/metadata";
    admin.fill("site-sso-saml-metadata-url", nowhere).await;
    admin.submit_and_wait("site-save").await;
    let error = admin
        .wait_for("#f-sso_saml_metadata_url ~ .error, .field.has-error .error")
        .await;
    let said = error.text().await.unwrap();
    assert!(said.contains("The metadata could not be read"), "{said}");
    let kept = admin
        .wait_for("[data-testid='site-sso-saml-metadata-url']")
        .await;
    assert_eq!(kept.prop("value").await.unwrap().as_deref(), Some(nowhere));
    let site = p.app.store.site(p.org, p.site).await.unwrap().unwrap();
    assert!(site.settings.sso.is_none(), "nothing saved");

    // The provider's address: read and saved.
    admin
        .fill("site-sso-saml-metadata-url", &idp.metadata_url)
        .await;
    admin
        .fill(
            "site-sso-map",
            "name=displayName\ncustomer_number=customer_no",
        )
        .await;
    admin.submit_and_wait("site-save").await;
    admin.wait_for("[data-testid='site-sso']").await;
    let site = p.app.store.site(p.org, p.site).await.unwrap().unwrap();
    let sso = site.settings.sso.expect("saved from the admin page");
    let Provider::Saml {
        metadata_url,
        metadata,
        ..
    } = &sso.provider
    else {
        panic!("SAML was chosen: {sso:?}");
    };
    assert_eq!(metadata_url.as_deref(), Some(idp.metadata_url.as_str()));
    assert!(metadata.contains("IDPSSODescriptor"));
    assert_eq!(sso.map["name"], "displayName");

    // Pasted metadata instead of an address; something that is not metadata is refused.
    admin.fill("site-sso-saml-metadata-url", "").await;
    admin
        .fill("site-sso-saml-metadata", "<html>hello</html>")
        .await;
    admin.submit_and_wait("site-save").await;
    let error = admin.wait_for(".field.has-error .error").await;
    let said = error.text().await.unwrap();
    assert!(said.contains("The metadata is not usable"), "{said}");
    // The provider's metadata file, chosen on the page (read into the field by the browser).
    let file = std::env::temp_dir().join(format!("idp-{:x}.xml", rand::random::<u64>()));
    std::fs::write(&file, metadata).unwrap();
    admin
        .wait_for("[data-testid='site-sso-saml-metadata-file']")
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    let filled = "return document.querySelector('[data-testid=site-sso-saml-metadata]').value;";
    for _ in 0..50 {
        let text = admin.client.execute(filled, vec![]).await.unwrap();
        if text
            .as_str()
            .is_some_and(|t| t.contains("IDPSSODescriptor"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::fs::remove_file(&file).unwrap();
    admin.submit_and_wait("site-save").await;
    admin.wait_for("[data-testid='site-sso']").await;
    let site = p.app.store.site(p.org, p.site).await.unwrap().unwrap();
    let sso = site.settings.sso.unwrap();
    assert!(
        matches!(&sso.provider, Provider::Saml { metadata_url: None, metadata, .. } if metadata.contains("IDPSSODescriptor")),
        "{sso:?}"
    );
    admin.close().await;
    drop(idp);
}
