//! Flows a person clicks through, in headless Chromium driven over WebDriver (chromedriver).
//! The harness here is what later browser tests build on.

use crate::helpers::{spawn_app, TestApp};
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use store::Backend;

const DEMO_PASSWORD: &str = "demo password 1";

/// A chromedriver process and one headless Chromium session; both end when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: std::path::PathBuf,
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    pub async fn start() -> Browser {
        Browser::start_with(&[]).await
    }

    /// A browser started with `extra` Chromium flags besides the harness's own.
    pub async fn start_with(extra: &[&str]) -> Browser {
        let driver_bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let port = free_port();
        // Without other flags chromedriver listens on loopback only.
        let driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {driver_bin} ({e}): run scripts/test, which installs it")
            });
        let profile =
            std::env::temp_dir().join(format!("supportal-chromium-{:x}", rand::random::<u64>()));
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
        ];
        let mut chrome_args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        chrome_args.extend(extra.iter().map(|a| a.to_string()));
        chrome_args.push(format!("--user-data-dir={}", profile.display()));
        let mut options = serde_json::json!({ "args": chrome_args });
        if let Ok(binary) = std::env::var("CHROMIUM") {
            options["binary"] = binary.into();
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..100 {
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        driver,
                        profile,
                    }
                }
                Err(e) => last_error = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start a browser: {last_error:?}");
    }

    /// As a customer on `base`'s help site, press the contact button as `name` and wait on the
    /// waiting page.
    pub async fn ask_with_contact_button(&self, base: &str, name: &str) {
        self.client.goto(&format!("{base}/p/help")).await.unwrap();
        self.fill("customer-name", name).await;
        self.click("contact-button").await;
        self.wait_for("[data-testid='queue-position']").await;
    }

    /// On `base`'s sign-in page, type `email` and the test password and sign in (where that
    /// leads is the caller's to check).
    pub async fn sign_in(&self, base: &str, email: &str) {
        self.client.goto(&format!("{base}/login")).await.unwrap();
        self.fill("login-email", email).await;
        self.fill("login-password", crate::helpers::PASSWORD).await;
        self.click("login-submit").await;
    }

    /// Wait for an element to appear (pages and scripts take a moment).
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Wait until a chat line of `kind` (`chat-message`, `chat-system-message`) containing
    /// `text` appears.
    pub async fn shows_chat_line(&self, kind: &str, text: &str) {
        let xpath = format!("//li[@data-testid='{kind}' and contains(., \"{text}\")]");
        let found = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await;
        assert!(found.is_ok(), "the line {text:?} appears");
    }

    pub async fn fill(&self, testid: &str, value: &str) {
        let field = self.wait_for(&format!("[data-testid='{testid}']")).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Click the element with `testid`. Live lists (the console's queue) are re-rendered by
    /// push, so the element found may be replaced before the click lands: then find it again,
    /// as a person would click the one now shown.
    pub async fn click(&self, testid: &str) {
        let css = format!("[data-testid='{testid}']");
        for _ in 0..5 {
            match self.wait_for(&css).await.click().await {
                Ok(_) => return,
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::StaleElementReference =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("clicking {testid}: {e}"),
            }
        }
        panic!("{testid} kept being replaced before it could be clicked");
    }

    /// Click `testid`, a form's submit button, and wait for the page the server answers (the
    /// page shown until then is marked, so that nothing is read from it).
    pub async fn submit_and_wait(&self, testid: &str) {
        let mark = "document.body.dataset.submitted = '1'; return null;";
        self.client.execute(mark, vec![]).await.unwrap();
        self.click(testid).await;
        self.wait_for("body:not([data-submitted])").await;
    }

    /// Press `keys` (WebDriver key codes for Tab, Enter, …) on whatever has the focus, as a
    /// keyboard does.
    pub async fn press(&self, keys: &str) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut typing = KeyActions::new("keyboard".into());
        for value in keys.chars() {
            typing = typing
                .then(KeyAction::Down { value })
                .then(KeyAction::Up { value });
        }
        self.client.perform_actions(typing).await.unwrap();
    }

    /// Move the focus with Tab alone until the element with `testid` has it (at most `most`
    /// presses); whether it got there.
    pub async fn tab_to(&self, testid: &str, most: usize) -> bool {
        let focused =
            "return document.activeElement && document.activeElement.dataset.testid || null;";
        for _ in 0..most {
            self.press("\u{E004}").await;
            if self.client.execute(focused, vec![]).await.unwrap() == testid {
                return true;
            }
        }
        false
    }

    pub async fn text_of(&self, testid: &str) -> String {
        self.wait_for(&format!("[data-testid='{testid}']"))
            .await
            .text()
            .await
            .unwrap()
    }

    /// With `SUPPORTAL_SCREENSHOTS=<dir>` set, save what the browser shows as `<dir>/<name>.png`
    /// (how the README's pictures are made).
    pub async fn screenshot(&self, name: &str) {
        if let Ok(dir) = std::env::var("SUPPORTAL_SCREENSHOTS") {
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
        }
    }

    /// End the WebDriver session (Chromium quits), then the rest as on drop.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// A browser a test did not close (it failed first, or forgot): its Chromium, found by its
/// own profile directory, and its driver are stopped, so no test leaves browsers running.
impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::process::Command::new("pkill")
            .arg("-f")
            .arg(format!("user-data-dir={}", self.profile.display()))
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

async fn demo_app() -> TestApp {
    let app = spawn_app(Backend::Sqlite).await;
    let hash = crate::helpers::hash(DEMO_PASSWORD).await;
    assert!(
        supportal::demo::seed(&app.store, &hash, crate::helpers::now())
            .await
            .unwrap()
    );
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_admin_signs_in_and_sees_the_admin_page() {
    let app = demo_app().await;
    let browser = Browser::start().await;
    browser.client.goto(&app.url("/admin")).await.unwrap();
    // Sent to sign in first, then back to the page asked for.
    browser
        .fill("login-email", supportal::demo::ADMIN_EMAIL)
        .await;
    browser.screenshot("login").await;
    browser.fill("login-password", "not the password").await;
    browser.click("login-submit").await;
    assert_eq!(
        browser.text_of("login-error").await,
        "Email or password is wrong."
    );
    let kept = browser
        .wait_for("[data-testid='login-email']")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        kept.as_deref(),
        Some(supportal::demo::ADMIN_EMAIL),
        "the email stays typed"
    );

    browser.fill("login-password", DEMO_PASSWORD).await;
    browser.click("login-submit").await;
    assert_eq!(browser.text_of("admin-heading").await, "Demo");
    assert!(browser
        .client
        .current_url()
        .await
        .unwrap()
        .path()
        .ends_with("/admin"));
    let page = browser.client.source().await.unwrap();
    for expected in ["Support", "Billing", "Question about an invoice", "/p/demo"] {
        assert!(
            page.contains(expected),
            "the demo data is shown: {expected}"
        );
    }
    browser.screenshot("admin").await;

    // The demo site offers every start method, with the available demo reps listed.
    browser.client.goto(&app.url("/p/demo")).await.unwrap();
    let reps = browser
        .client
        .find_all(Locator::Css("[data-testid='rep-option']"))
        .await
        .unwrap();
    assert_eq!(reps.len(), 2, "Riley and Sam are available");
    for hook in [
        "open-issue-form",
        "contact-button",
        "session-key-input",
        "presentation-key-input",
    ] {
        browser.wait_for(&format!("[data-testid='{hook}']")).await;
    }
    browser.screenshot("demo-portal").await;
    browser.client.goto(&app.url("/admin")).await.unwrap();

    browser.click("logout").await;
    browser.wait_for("[data-testid='login-submit']").await;
    browser.client.goto(&app.url("/admin")).await.unwrap();
    browser.wait_for("[data-testid='login-email']").await;
    browser.close().await;
}

/// axe-core, the accessibility checker (scripts/test installs it).
pub fn axe_source() -> String {
    let path = std::env::var("AXE_CORE_JS").unwrap_or_else(|_| {
        format!(
            "{}/../../target/e2e/node_modules/axe-core/axe.min.js",
            env!("CARGO_MANIFEST_DIR")
        )
    });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("axe-core not found at {path} ({e}): run scripts/test, which installs it")
    })
}

/// Run axe-core on the current page; the violations, described for a failure message.
pub async fn accessibility_violations(browser: &Browser, axe: &str) -> Vec<String> {
    browser
        .client
        .execute(&format!("{axe}\nreturn true;"), vec![])
        .await
        .unwrap();
    let script = "const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ['violations'] })
          .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' @ ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
          .catch(e => done(['axe failed: ' + e]));";
    let found = browser.client.execute_async(script, vec![]).await.unwrap();
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}
