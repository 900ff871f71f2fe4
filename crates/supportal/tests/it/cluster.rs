//! Several nodes on one PostgreSQL and one Redis: what happens when Redis goes away and comes
//! back. A node without Redis is not ready (a load balancer stops sending to it) yet keeps
//! serving pages; when Redis returns it is ready again and its announcements reach the other
//! nodes' consoles live.

use crate::browser::free_port;
use crate::console::{console_socket, next_message, session_cookie};
use crate::helpers::{spawn_with, test_config};
use crate::portal::portal_app;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use store::Backend;

/// A Redis of this test's own on `port`, keeping nothing on disk.
fn redis_on(port: u16) -> Child {
    Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server is installed")
}

/// `/readyz`'s status once it is `want`, or after a bounded wait whatever it is.
async fn readiness_becomes(app: &crate::helpers::TestApp, want: u16) -> u16 {
    let mut status = 0;
    for _ in 0..50 {
        status = app.get("/readyz").await.status().as_u16();
        if status == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    status
}

/// How many listen on `channel` of the Redis at `url` (each node's bus is one).
async fn listeners(url: &str, channel: &str) -> i64 {
    let Ok(client) = redis::Client::open(url) else {
        return 0;
    };
    let Ok(mut connection) = client.get_multiplexed_async_connection().await else {
        return 0;
    };
    let counts: Vec<(String, i64)> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async(&mut connection)
        .await
        .unwrap_or_default();
    counts.first().map_or(0, |(_, n)| *n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_redis_is_not_ready_keeps_serving_and_recovers() {
    let port = free_port();
    let mut redis = redis_on(port);
    let url = format!("redis://127.0.0.1:{port}");
    let mut config = test_config(Backend::Postgres).await;
    config.bus.url = Some(url.clone());
    config.bus.channel = format!("supportal:test:{}", rand::random::<u64>());
    let mut started = false;
    for _ in 0..50 {
        let client = redis::Client::open(url.as_str()).unwrap();
        if client.get_multiplexed_async_connection().await.is_ok() {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(started, "the test's Redis starts");
    let node_a = spawn_with(&config).await;
    let p = portal_app(spawn_with(&config).await).await;
    assert_eq!(readiness_becomes(&node_a, 200).await, 200);

    // Redis goes away: not ready, but the portal still answers.
    redis.kill().unwrap();
    redis.wait().unwrap();
    assert_eq!(
        readiness_becomes(&node_a, 503).await,
        503,
        "not ready without Redis"
    );
    assert_eq!(
        node_a.get("/p/help").await.status(),
        200,
        "pages are still served"
    );

    // Redis returns: ready again, and both nodes listen again.
    let mut redis = redis_on(port);
    assert_eq!(
        readiness_becomes(&node_a, 200).await,
        200,
        "ready once Redis answers"
    );
    let mut both = 0;
    for _ in 0..100 {
        both = listeners(&url, &config.bus.channel).await;
        if both >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(both, 2, "each node's bus subscribed again");

    // A customer arriving through A reaches a console on B live, through the new Redis.
    let cookie = session_cookie(&p.app, "riley@acme.test").await;
    let after = p.app.store.latest_event_seq(p.org).await.unwrap();
    let mut console_b = console_socket(&p.app, &cookie, after).await;
    assert_eq!(next_message(&mut console_b).await["type"], "ready");
    let customer = node_a.other_browser();
    let waiting = crate::helpers::location(
        &customer
            .submit(
                "/p/help",
                "/p/help/contact",
                &[("customer_name", "After the restart")],
            )
            .await,
    );
    let session = p.session_at(&waiting).await.id;
    let heard = next_message(&mut console_b).await;
    assert_eq!(
        (heard["kind"].as_str(), heard["session"].as_i64()),
        (Some("queued"), Some(session.0)),
        "node B hears node A's announcement"
    );
    redis.kill().unwrap();
    redis.wait().unwrap();
}

/// The close frame `socket` gets, skipping everything before it (within 10 s).
async fn close_code(socket: &mut crate::console::Socket) -> Option<u16> {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, socket.next()).await {
        match frame {
            Ok(Message::Close(close)) => return close.map(|c| c.code.into()),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
    None
}

/// A node going away (SIGTERM) asks every socket to reconnect elsewhere with 1012, exits
/// promptly, and does not take that as the rep or the customer leaving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_going_away_tells_its_sockets_to_reconnect_elsewhere() {
    // Node A goes away; node B, on the same database, stays to tell what A left behind.
    let config = test_config(Backend::Postgres).await;
    let node_a = spawn_with(&config).await;
    let p = portal_app(spawn_with(&config).await).await;
    let cookie = session_cookie(&p.app, "riley@acme.test").await;
    let mut console = console_socket(&node_a, &cookie, 0).await;
    assert_eq!(next_message(&mut console).await["type"], "ready");
    let (session, waiting) = p.contact_request("Quinn").await;
    let mut page = crate::console::socket_at(&node_a, &format!("{waiting}/ws?after=0"), None).await;
    // The page is open (marked seen) before the node goes.
    for _ in 0..50 {
        if p.session(session).await.customer_seen_at.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (org, rep, store) = (p.org, p.rep, p.app.store.clone());

    let started = std::time::Instant::now();
    let stopping = tokio::spawn(node_a.stop());
    assert_eq!(
        close_code(&mut console).await,
        Some(1012),
        "the console is told to reconnect"
    );
    assert_eq!(
        close_code(&mut page).await,
        Some(1012),
        "so is the customer's page"
    );
    stopping.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the node exits once its sockets closed: {:?}",
        started.elapsed()
    );
    let row = store.support_session(org, session).await.unwrap().unwrap();
    assert_eq!(row.customer_gone_at, None, "the customer did not leave");
    let riley = store.user(org, rep).await.unwrap().unwrap();
    assert_eq!(riley.console_closed_at, None, "nor did the rep");
}
