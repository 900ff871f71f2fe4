//! Webhooks end to end, against receivers on loopback (the instance allows private targets for
//! that, as an operator would for a receiver on the same network): signed deliveries checked
//! with the Standard Webhooks reference library (Python's `standardwebhooks`, which
//! scripts/test installs), every event once and in order per session though the receiver was
//! down at first, a slow receiver that holds up no other, a restart that loses nothing, "send
//! again", and refused private addresses by default.

use crate::chat::{accept, end_session};
use crate::console::rep;
use crate::helpers::{spawn_with, test_config, TestApp, PASSWORD};
use crate::portal::{portal_app, Portal};
use axum::http::HeaderMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::Backend;

/// How a receiver answers: down (503), up (200), or slowly (200 after 8 s).
const DOWN: u8 = 0;
const UP: u8 = 1;
const SLOW: u8 = 2;

/// What a receiver got: the three Standard Webhooks headers and the body.
#[derive(Clone, Debug, serde::Serialize)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

impl Received {
    fn event_type(&self) -> String {
        let body: serde_json::Value = serde_json::from_str(&self.body).unwrap();
        body["type"].as_str().unwrap().to_owned()
    }
}

/// An HTTP receiver on a loopback port of its own.
struct Receiver {
    url: String,
    mode: Arc<AtomicU8>,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(mode: u8) -> Receiver {
        let mode = Arc::new(AtomicU8::new(mode));
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let (m, g) = (mode.clone(), got.clone());
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let (mode, got) = (m.clone(), g.clone());
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    match mode.load(Ordering::SeqCst) {
                        DOWN => return axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        SLOW => tokio::time::sleep(Duration::from_secs(8)).await,
                        _ => {}
                    }
                    got.lock().unwrap().push(Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body,
                    });
                    axum::http::StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, mode, got }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// What arrived once `count` deliveries have (or after 20 s, whatever did).
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            if self.received().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.received()
    }
}

async fn admin(app: &TestApp) -> TestApp {
    let admin = app.other_browser();
    assert_eq!(admin.login("admin@acme.test", PASSWORD).await.status(), 303);
    admin
}

/// Add an endpoint for `events` on the admin page: its id and secret.
async fn add_endpoint(admin: &TestApp, url: &str, events: &[&str]) -> (i64, String) {
    let mut fields = vec![("url", url)];
    fields.extend(events.iter().map(|e| ("events", *e)));
    let response = admin
        .submit("/admin/webhooks", "/admin/webhooks", &fields)
        .await;
    assert_eq!(response.status(), 303, "{}", response.text().await.unwrap());
    let page = crate::helpers::location(&response);
    let id: i64 = page.rsplit('/').next().unwrap().parse().unwrap();
    let (_, html) = admin.get_text(&page).await;
    let marker = "data-testid=\"webhook-secret\">";
    let start = html.find(marker).unwrap() + marker.len();
    // As the page shows it (HTML escapes a slash, which base64 may hold).
    let secret = html[start..]
        .split('<')
        .next()
        .unwrap()
        .replace("&#x2f;", "/");
    (id, secret)
}

/// Check every delivery with the Standard Webhooks reference library.
fn verified_by_the_reference_library(secret: &str, received: &[Received]) {
    let python = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/schemathesis/bin/python");
    let script = "import json, sys\n\
        from standardwebhooks.webhooks import Webhook\n\
        secret, deliveries = sys.argv[1], json.load(sys.stdin)\n\
        for d in deliveries:\n\
        \x20   Webhook(secret).verify(d['body'], {'webhook-id': d['id'], 'webhook-timestamp': d['timestamp'], 'webhook-signature': d['signature']})\n\
        print(len(deliveries), 'verified')\n";
    let mut child = std::process::Command::new(&python)
        .args(["-c", script, secret])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{} (scripts/test installs standardwebhooks): {e}",
                python.display()
            )
        });
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(received).unwrap().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the reference library refused a signature:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn portal_allowing_loopback(backend: Backend) -> (Portal, supportal::config::Config) {
    let mut config = test_config(backend).await;
    config.webhooks.allow_private_targets = true;
    (portal_app(spawn_with(&config).await).await, config)
}

async fn every_event_arrives_once_signed_and_in_order_though_the_receiver_was_down(
    backend: Backend,
) {
    let (p, _) = portal_allowing_loopback(backend).await;
    let admin = admin(&p.app).await;
    let receiver = Receiver::start(DOWN).await;
    let all = [
        "session.queued",
        "session.accepted",
        "session.transferred",
        "session.requeued",
        "session.ended",
        "survey.submitted",
    ];
    let (endpoint, secret) = add_endpoint(&admin, &receiver.url, &all).await;

    let (session, waiting) = p.contact_request("Quinn").await;
    let riley = rep(&p.app, "riley@acme.test").await;
    accept(&riley, session.0).await;
    end_session(&riley, session.0, "resolved").await;
    let survey = format!("{waiting}/survey");
    let rated = p.app.submit(&waiting, &survey, &[("rating", "4")]).await;
    assert_eq!(rated.status(), 303);
    // Down: the first attempt fails and is shown so; the rest wait behind it, in order.
    let mut failed_once = false;
    for _ in 0..50 {
        let rows = p
            .app
            .store
            .webhook_deliveries(p.org, endpoint, 10)
            .await
            .unwrap();
        if rows
            .iter()
            .any(|d| d.attempts >= 1 && d.last_status == Some(503))
        {
            failed_once = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(failed_once, "the first attempt met the receiver down");
    receiver.mode.store(UP, Ordering::SeqCst);
    let got = receiver.wait_for(4).await;
    let kinds: Vec<String> = got.iter().map(Received::event_type).collect();
    assert_eq!(
        kinds,
        [
            "session.queued",
            "session.accepted",
            "session.ended",
            "survey.submitted"
        ],
        "each once, in order"
    );
    let ended: serde_json::Value = serde_json::from_str(&got[2].body).unwrap();
    assert_eq!(ended["data"]["session_id"], session.0);
    assert_eq!(ended["data"]["event"]["outcome"], "resolved", "{ended}");
    let rated: serde_json::Value = serde_json::from_str(&got[3].body).unwrap();
    assert_eq!(rated["data"]["event"]["rating"], 4, "{rated}");
    verified_by_the_reference_library(&secret, &got);

    // The admin page shows each delivery; one sent again arrives again with the same id.
    let (_, page) = admin.get_text(&format!("/admin/webhooks/{endpoint}")).await;
    assert_eq!(page.matches("data-testid=\"webhook-delivery\"").count(), 4);
    assert!(page.contains("Delivered") && page.contains("204"));
    let first = p
        .app
        .store
        .webhook_deliveries(p.org, endpoint, 10)
        .await
        .unwrap();
    let queued = first
        .iter()
        .find(|d| d.event_type == "session.queued")
        .unwrap();
    assert_eq!(queued.attempts, 2, "failed once, then delivered");
    let resend = format!("/admin/webhooks/{endpoint}/deliveries/{}/resend", queued.id);
    let response = admin
        .submit(&format!("/admin/webhooks/{endpoint}"), &resend, &[])
        .await;
    assert_eq!(response.status(), 200);
    let again = receiver.wait_for(5).await;
    assert_eq!(
        again[4].id, got[0].id,
        "the same webhook-id: receivers drop a repeat"
    );
    verified_by_the_reference_library(&secret, &again);
}

async fn a_slow_receiver_holds_up_no_other(backend: Backend) {
    let (p, _) = portal_allowing_loopback(backend).await;
    let admin = admin(&p.app).await;
    let (slow, fast) = (Receiver::start(SLOW).await, Receiver::start(UP).await);
    add_endpoint(&admin, &slow.url, &["session.queued"]).await;
    add_endpoint(&admin, &fast.url, &["session.queued"]).await;
    let started = std::time::Instant::now();
    p.contact_request("Quinn").await;
    p.contact_request("Cleo").await;
    let got = fast.wait_for(2).await;
    assert_eq!(got.len(), 2);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the fast receiver got both while the slow one still held its first: {:?}",
        started.elapsed()
    );
    assert!(
        slow.received().is_empty(),
        "the slow one is still answering"
    );
}

async fn a_restart_loses_no_delivery(backend: Backend) {
    let (p, config) = portal_allowing_loopback(backend).await;
    let admin = admin(&p.app).await;
    let receiver = Receiver::start(DOWN).await;
    let (endpoint, _) = add_endpoint(&admin, &receiver.url, &["session.queued"]).await;
    p.contact_request("Quinn").await;
    let (org, store) = (p.org, p.app.store.clone());
    for _ in 0..50 {
        if !store
            .webhook_deliveries(org, endpoint, 5)
            .await
            .unwrap()
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    p.app.stop().await;
    // Events that happen while no node runs are turned into deliveries when one starts.
    let quiet = spawn_with(&config).await;
    receiver.mode.store(UP, Ordering::SeqCst);
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1, "delivered after the restart");
    drop(quiet);
}

/// An outage posted and ended through the API, and a notice whose window opens and closes at its
/// own times (found by the once-a-second sweep): each opening and closing reaches the receiver
/// once, signed, in order.
async fn notices_reach_the_receiver_when_they_start_and_end(backend: Backend) {
    use serde_json::json;
    let (p, _) = portal_allowing_loopback(backend).await;
    let admin = admin(&p.app).await;
    let receiver = Receiver::start(UP).await;
    let (_, secret) =
        add_endpoint(&admin, &receiver.url, &["notice.started", "notice.ended"]).await;
    let token = crate::api::make_token(&admin, "Monitoring", &["notices:write"]).await;
    let api = crate::api::Api::new(&p.app, Some(&token));
    let (status, posted) = api
        .post(
            &format!("/api/v1/sites/{}/notices", p.site),
            json!({ "name": "Mail outage", "severity": "outage", "texts": { "en": "Email is down." } }),
        )
        .await;
    assert_eq!(status, 201, "{posted}");
    let outage = posted["id"].as_i64().unwrap();
    assert_eq!(receiver.wait_for(1).await.len(), 1, "started at once");
    let (status, _) = api
        .post(&format!("/api/v1/notices/{outage}/end"), json!({}))
        .await;
    assert_eq!(status, 200);
    let got = receiver.wait_for(2).await;
    let kinds: Vec<String> = got.iter().map(Received::event_type).collect();
    assert_eq!(kinds, ["notice.started", "notice.ended"]);
    let ended: serde_json::Value = serde_json::from_str(&got[1].body).unwrap();
    assert_eq!(
        (
            &ended["data"]["event"]["notice_id"],
            &ended["data"]["event"]["name"],
            &ended["data"]["session_id"]
        ),
        (
            &json!(outage),
            &json!("Mail outage"),
            &serde_json::Value::Null
        ),
        "{ended}"
    );

    // Planned maintenance: nobody acts when it begins or ends.
    p.plan_notice("Maintenance tonight.", 1_500, 3_000).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(receiver.received().len(), 2, "not begun yet");
    let got = receiver.wait_for(4).await;
    let kinds: Vec<String> = got.iter().map(Received::event_type).collect();
    assert_eq!(
        kinds,
        [
            "notice.started",
            "notice.ended",
            "notice.started",
            "notice.ended"
        ]
    );
    let begun: serde_json::Value = serde_json::from_str(&got[2].body).unwrap();
    assert_eq!(begun["data"]["event"]["name"], "Maintenance", "{begun}");
    verified_by_the_reference_library(&secret, &got);
}

#[tokio::test]
async fn private_addresses_are_refused_unless_the_instance_allows_them() {
    let p = portal_app(crate::helpers::spawn_app(Backend::Sqlite).await).await;
    let admin = admin(&p.app).await;
    for url in [
        "http://127.0.0.1:9000/hook",
        "http://169.254.169.254/latest/meta-data",
        "ftp://hooks.example.com/",
        "hooks.example.com",
    ] {
        let response = admin
            .submit(
                "/admin/webhooks",
                "/admin/webhooks",
                &[("url", url), ("events", "session.queued")],
            )
            .await;
        assert_eq!(response.status(), 422, "{url}");
        let page = response.text().await.unwrap();
        assert!(page.contains("id=\"f-url-error\""), "{url}: {page}");
        assert!(
            page.contains(&format!("value=\"{}\"", url.replace('/', "&#x2f;"))),
            "kept: {url}"
        );
    }
    assert!(p
        .app
        .store
        .webhook_endpoints(p.org)
        .await
        .unwrap()
        .is_empty());
}

crate::on_both_backends!(
    notices_reach_the_receiver_when_they_start_and_end,
    every_event_arrives_once_signed_and_in_order_though_the_receiver_was_down,
    a_slow_receiver_holds_up_no_other,
    a_restart_loses_no_delivery,
);
