//! Screen sharing through a real TURN server: Debian's coturn on loopback with
//! `use-auth-secret`, both browsers forced to relayed candidates (`iceTransportPolicy: "relay"`)
//! with the credentials Supportal issued. With the secret coturn knows, frames decode; with a
//! forged one (Supportal configured with another secret) or an expired one (issued by a clock two
//! hours behind, valid a minute), no connection is made.

use crate::browser::Browser;
use crate::helpers::{spawn_with_clock, test_config, TestApp};
use crate::portal::{portal_app, Portal};
use crate::sharing_browser::{decoded, frames_arrive, taken_in_browsers};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use store::Backend;
use supportal::clock::SystemClock;

/// A coturn process on a free loopback port, stopped when dropped.
struct Coturn {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Coturn {
    fn start(secret: &str) -> Coturn {
        let port = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let relay_from = 50_000 + (rand::random::<u16>() % 70) * 200;
        let dir =
            std::env::temp_dir().join(format!("supportal-coturn-{:x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("turnserver")
            .args([
                "-n",
                "--no-cli",
                "--no-tls",
                "--no-dtls",
                // The pages reach it over UDP only. The port was found free for UDP; a TCP
                // listener on it could find it taken (by any test's connection) and kept
                // retrying for seconds before it answered anyone.
                "--no-tcp",
                "--allow-loopback-peers",
            ])
            .args([
                "--listening-ip=127.0.0.1",
                "--relay-ip=127.0.0.1",
                "--realm=supportal.test",
            ])
            .arg(format!("--listening-port={port}"))
            // A relay range of its own, so that two tests' servers do not compete for ports.
            .arg(format!("--min-port={relay_from}"))
            .arg(format!("--max-port={}", relay_from + 199))
            .arg("--use-auth-secret")
            .arg(format!("--static-auth-secret={secret}"))
            .arg(format!("--db={}", dir.join("turndb").display()))
            .arg(format!(
                "--pidfile={}",
                dir.join("turnserver.pid").display()
            ))
            .arg(format!("--log-file={}", dir.join("turn.log").display()))
            .args(["--simple-log", "--no-stdout-log"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start turnserver ({e}): run scripts/test, which installs coturn")
            });
        Coturn { child, port, dir }
    }

    /// What coturn logged (shown when a test fails).
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("turn.log")).unwrap_or_default()
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A site whose pages get only this TURN server, with `secret` to make credentials.
async fn app_with_turn(port: u16, secret: &str) -> TestApp {
    app_with_turn_at(port, secret, Arc::new(SystemClock)).await
}

/// The same, with `clock` as the app's "now" (the credentials run out from it).
async fn app_with_turn_at(port: u16, secret: &str, clock: Arc<dyn domain::Clock>) -> TestApp {
    let mut config = test_config(Backend::Sqlite).await;
    config.webrtc.turn = vec![format!("turn:127.0.0.1:{port}?transport=udp")];
    config.webrtc.turn_secret = Some(secret.to_owned());
    config.webrtc.credential_secs = 60;
    spawn_with_clock(&config, clock).await
}

/// The system's time, two hours ago: a credential issued by it ran out long before it is used.
struct TwoHoursAgo;

impl domain::Clock for TwoHoursAgo {
    fn now(&self) -> domain::Timestamp {
        domain::Timestamp(SystemClock.now().millis() - 2 * 3600 * 1000)
    }
}

/// Customer and rep in their browsers, relayed only, the customer's screen shared after
/// consent; the portal (whose server must outlive the browsers) goes back with them.
async fn share_relayed(app: TestApp) -> (Portal, Browser, Browser) {
    let p = portal_app(app).await;
    let (customer, riley) = taken_in_browsers(&p).await;
    for browser in [&customer, &riley] {
        let relay_only = "window.supportalIcePolicy = 'relay'; return null;";
        browser.client.execute(relay_only, vec![]).await.unwrap();
    }
    riley.click("request-screen-share").await;
    customer
        .wait_for("[data-testid='share-consent']:not([hidden])")
        .await;
    customer.click("share-consent-accept").await;
    (p, customer, riley)
}

/// The candidate types (local, remote) of the pair the rep's connection selected, once it has.
async fn pair_in_use(riley: &Browser) -> serde_json::Value {
    let script = "const done = arguments[0]; \
        const n = document.querySelector('[data-testid=screen-pane]').screenViewer.receiver.negotiation; \
        n.pc.getStats().then((stats) => { const all = new Map(); stats.forEach((s) => all.set(s.id, s)); \
          const transport = [...all.values()].find((s) => s.type === 'transport' && s.selectedCandidatePairId); \
          const pair = transport && all.get(transport.selectedCandidatePairId); \
          done(pair ? [all.get(pair.localCandidateId).candidateType, all.get(pair.remoteCandidateId).candidateType] : null); });";
    let mut pair = serde_json::Value::Null;
    for _ in 0..50 {
        pair = riley.client.execute_async(script, vec![]).await.unwrap();
        if !pair.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pair
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screen_reaches_the_rep_through_turn_with_the_credentials_supportal_issued() {
    let coturn = Coturn::start("the-secret-coturn-knows");
    let app = app_with_turn(coturn.port, "the-secret-coturn-knows").await;
    let (_portal, customer, riley) = share_relayed(app).await;
    let (width, frames) = frames_arrive(&riley).await;
    assert!(width > 0 && frames > 0, "{}", coturn.log());
    assert_eq!(
        pair_in_use(&riley).await,
        serde_json::json!(["relay", "relay"])
    );
    customer.close().await;
    riley.close().await;
}

/// Nothing is relayed for a page whose credential coturn refuses, and coturn says it refused.
async fn nothing_relayed(app: TestApp, coturn: &Coturn) {
    let (_portal, customer, riley) = share_relayed(app).await;
    customer.wait_for("[data-testid='sharing-banner']").await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        decoded(&riley).await,
        (0, 0),
        "nothing relayed without a valid credential"
    );
    // coturn refused both pages' credentials.
    let log = coturn.log();
    assert!(
        log.contains("check_stun_auth") && log.contains("-customer>") && log.contains("-rep"),
        "{log}"
    );
    customer.close().await;
    riley.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_turn_credential_connects_nothing() {
    let coturn = Coturn::start("the-secret-coturn-knows");
    let app = app_with_turn(coturn.port, "a-secret-coturn-does-not-know").await;
    nothing_relayed(app, &coturn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_turn_credential_connects_nothing() {
    let coturn = Coturn::start("the-secret-coturn-knows");
    let app = app_with_turn_at(
        coturn.port,
        "the-secret-coturn-knows",
        Arc::new(TwoHoursAgo),
    )
    .await;
    nothing_relayed(app, &coturn).await;
}
