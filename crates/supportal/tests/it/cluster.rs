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

/// nginx in front of `nodes` (round robin), on a free loopback port, as a child process.
pub(crate) struct Balancer {
    pub(crate) address: String,
    process: Child,
    _dir: tempfile_dir::Dir,
}

mod tempfile_dir {
    /// A directory of the test's own, removed when dropped.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Balancer {
    async fn start(nodes: &[&str]) -> Balancer {
        Balancer::start_on(free_port(), nodes).await
    }

    /// On a chosen port: the nodes' public URL (which a browser's socket origin must match) is
    /// the balancer's, known before they start.
    pub(crate) async fn start_on(port: u16, nodes: &[&str]) -> Balancer {
        let dir = std::env::temp_dir().join(format!("supportal-nginx-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let servers: String = nodes
            .iter()
            .map(|n| {
                format!(
                    "    server {} max_fails=1 fail_timeout=2s;\n",
                    n.trim_start_matches("http://")
                )
            })
            .collect();
        // The configuration docs/operations.md gives, with this test's paths.
        let conf = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
               map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}\n\
               upstream supportal {{\n{servers}  }}\n\
               server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
                 proxy_pass http://supportal;\n      proxy_http_version 1.1;\n\
                 proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection $connection_upgrade;\n\
                 proxy_set_header Host $host;\n      proxy_set_header X-Forwarded-For $remote_addr;\n\
                 proxy_read_timeout 75s;\n      proxy_next_upstream error timeout http_502 http_503;\n    }}\n  }}\n}}\n",
            d = dir.display()
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let nginx = if std::path::Path::new("/usr/sbin/nginx").exists() {
            "/usr/sbin/nginx"
        } else {
            "nginx"
        };
        let process = Command::new(nginx)
            .arg("-c")
            .arg(&path)
            .arg("-p")
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("nginx is installed (scripts/test installs it)");
        let address = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if reqwest::get(format!("{address}/healthz"))
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Balancer {
            address,
            process,
            _dir: tempfile_dir::Dir(dir),
        }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// The texts of the chat messages (not system lines) `socket` shows, until `want` of them have
/// arrived or nothing more comes (10 s).
async fn messages_seen(
    socket: &mut crate::console::Socket,
    want: usize,
    last: &mut i64,
) -> Vec<String> {
    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let mut texts = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while texts.len() < want {
        let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, socket.next()).await else {
            break;
        };
        let Message::Text(text) = frame else { continue };
        let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
        if frame["type"] != "chat" {
            continue;
        }
        for line in frame["lines"].as_array().unwrap() {
            *last = (*last).max(line["seq"].as_i64().unwrap_or(0));
            if line["kind"] == "message" {
                texts.push(line["text"].as_str().unwrap().to_owned());
            }
        }
    }
    texts
}

/// Three nodes behind nginx on one PostgreSQL and one Redis. A customer on node A chats with a
/// rep whose conversation is open on node B and a colleague on node C; node B dies mid-chat
/// while both sides keep writing. The rep reconnects through nginx and resumes: every
/// acknowledged message is on every screen once, in one order, and in the transcript, and the
/// rep's session never went back to the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_chat_loses_nothing_behind_nginx() {
    use crate::chat::{customer_says, rep_says};
    let mut config = test_config(Backend::Postgres).await;
    config.bus.url = Some(crate::helpers::test_redis_url());
    config.bus.channel = format!("supportal:test:{}", rand::random::<u64>());
    config.console.heartbeat_secs = 1;
    config.console.offline_grace_secs = 4;
    config.security.login_attempts_per_ip_per_minute = 100;
    let node_a = crate::helpers::Node::start(config.clone()).await;
    let mut node_b = crate::helpers::Node::start(config.clone()).await;
    let node_c = crate::helpers::Node::start(config.clone()).await;
    let p = portal_app(spawn_with(&config).await).await;
    let nginx = Balancer::start(&[&node_a.address, &node_b.address, &node_c.address]).await;
    let through_nginx = |app: &crate::helpers::TestApp| {
        let mut browser = app.other_browser();
        browser.address = nginx.address.clone();
        browser
    };

    let customer = through_nginx(&p.app);
    let waiting = crate::helpers::location(
        &customer
            .submit("/p/help", "/p/help/contact", &[("customer_name", "Quinn")])
            .await,
    );
    let id = p.session_at(&waiting).await.id;
    let riley = through_nginx(&p.app);
    riley
        .login("riley@acme.test", crate::helpers::PASSWORD)
        .await;
    crate::chat::accept(&riley, id.0).await;
    let sam_id = p.app.add_rep(p.org, "sam@acme.test").await;
    let sam = through_nginx(&p.app);
    sam.login("sam@acme.test", crate::helpers::PASSWORD).await;
    crate::console::invite_and_join(&p, &riley, id.0, sam_id, &sam).await;

    // Each participant's conversation open on "their" node.
    let chat = format!("/console/sessions/{id}/ws?after=0");
    let riley_cookie = session_cookie(&p.app, "riley@acme.test").await;
    let sam_cookie = session_cookie(&p.app, "sam@acme.test").await;
    let on = |address: &str| {
        let mut browser = p.app.other_browser();
        browser.address = address.to_owned();
        browser
    };
    let mut customer_page =
        crate::console::socket_at(&on(&node_a.address), &format!("{waiting}/ws?after=0"), None)
            .await;
    let mut riley_chat =
        crate::console::socket_at(&on(&node_b.address), &chat, Some(&riley_cookie)).await;
    // Riley's console (their presence) is on node B too.
    let mut riley_console = console_socket(&on(&node_b.address), &riley_cookie, 0).await;
    let mut crashed_at = None;
    let mut sam_chat =
        crate::console::socket_at(&on(&node_c.address), &chat, Some(&sam_cookie)).await;

    // Both sides write, through nginx; node B dies halfway.
    let mut sent = Vec::new();
    let mut riley_saw = Vec::new();
    let mut riley_last = 0;
    for i in 0..20 {
        if i == 10 {
            riley_saw = messages_seen(&mut riley_chat, 10, &mut riley_last).await;
            node_b.crash();
            crashed_at = Some(tokio::time::Instant::now());
            // The rep's console reconnects through nginx at once, as its page does, landing
            // on another node.
            let after = p.app.store.latest_event_seq(p.org).await.unwrap();
            let mut again = console_socket(&riley, &riley_cookie, after).await;
            assert_eq!(next_message(&mut again).await["type"], "ready");
            riley_console = again;
        }
        let text = format!("message {i:02}");
        let (status, _) = match i % 2 {
            0 => customer_says(&customer, &waiting, &text, &format!("c-{i}")).await,
            _ => rep_says(&riley, id.0, &text, &format!("r-{i}")).await,
        };
        assert_eq!(status, 200, "{text} is acknowledged");
        sent.push(text);
    }
    // The conversation reconnects through nginx after the last line it saw.
    let resumed = format!("/console/sessions/{id}/ws?after={riley_last}");
    let mut riley_again = crate::console::socket_at(&riley, &resumed, Some(&riley_cookie)).await;
    riley_saw.extend(messages_seen(&mut riley_again, 10, &mut riley_last).await);
    let mut ignored = 0;
    let customer_saw = messages_seen(&mut customer_page, 20, &mut ignored).await;
    let sam_saw = messages_seen(&mut sam_chat, 20, &mut ignored).await;
    assert_eq!(
        riley_saw, sent,
        "the rep saw every message once, in order, across the crash"
    );
    assert_eq!(customer_saw, sent, "so did the customer (node A)");
    assert_eq!(sam_saw, sent, "and the invited rep (node C)");

    // The transcript holds them all, in that order.
    let (_, transcript) = riley
        .get_text(&format!("/console/history/{id}/transcript"))
        .await;
    let positions: Vec<usize> = sent
        .iter()
        .map(|t| transcript.find(t.as_str()).expect("in the transcript"))
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "in order: {transcript}"
    );

    // The rep came back within the grace: past it, the session is still theirs.
    let past_the_grace = crashed_at.unwrap() + Duration::from_secs(6);
    tokio::time::sleep_until(past_the_grace).await;
    drop(riley_console);
    assert_eq!(
        p.session(id).await.session_state().unwrap(),
        domain::session::SessionState::Active { owner: p.rep },
        "not requeued"
    );
    drop(nginx);
}

/// 200 reps spread over three nodes press Accept on the same session at once: exactly one wins,
/// the others are told who took it, and the session has one owner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_reps_on_three_nodes_have_exactly_one_winner() {
    let mut config = test_config(Backend::Postgres).await;
    config.bus.url = Some(crate::helpers::test_redis_url());
    config.bus.channel = format!("supportal:test:{}", rand::random::<u64>());
    config.security.login_attempts_per_ip_per_minute = 1000;
    let p = portal_app(spawn_with(&config).await).await;
    let nodes = [
        spawn_with(&config).await,
        spawn_with(&config).await,
        p.app.other_browser(),
    ];
    let (session, _) = p.contact_request("Popular").await;
    let mut ready = Vec::new();
    for i in 0..200 {
        let email = format!("rep{i}@acme.test");
        let id = p.app.add_rep(p.org, &email).await;
        p.app
            .store
            .set_user_teams(p.org, id, &[p.team])
            .await
            .unwrap();
        let rep = nodes[i % 3].other_browser();
        rep.login(&email, crate::helpers::PASSWORD).await;
        let (_, page) = rep.get_text("/console").await;
        assert!(
            page.contains(&format!("data-session-id=\"{session}\"")),
            "rep {i} sees the customer"
        );
        ready.push((crate::helpers::csrf_in(&page), rep));
    }
    let results = crate::console::press_accept_at_once(ready, session).await;
    let won = results.iter().filter(|(status, _)| *status == 303).count();
    assert_eq!(won, 1, "exactly one winner of 200 on three nodes");
    assert!(
        results
            .iter()
            .filter(|(status, _)| *status != 303)
            .all(|(status, page)| *status == 409 && page.contains("Taken by")),
        "the others are told it is taken"
    );
    let owner = p.session(session).await.owner_user_id;
    assert!(owner.is_some());
    assert_eq!(
        p.events_of(session, "accepted").await,
        1,
        "accepted once in the log"
    );
}

/// Restart all three nodes behind nginx, one at a time (each stopped as SIGTERM does, then
/// started again on its port), while customers keep arriving through nginx. Every request a
/// customer was told succeeded has its session waiting afterwards, and no request failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_arriving_customers_loses_no_request() {
    let mut config = test_config(Backend::Postgres).await;
    config.bus.url = Some(crate::helpers::test_redis_url());
    config.bus.channel = format!("supportal:test:{}", rand::random::<u64>());
    config.security.session_requests_per_ip_per_hour = 100_000;
    config.security.session_requests_per_browser_per_hour = 100_000;
    let p = portal_app(spawn_with(&config).await).await;
    let ports = [free_port(), free_port(), free_port()];
    let config_on = |port: u16| {
        let mut config = config.clone();
        config.server.bind = format!("127.0.0.1:{port}");
        config
    };
    let mut nodes = Vec::new();
    for port in ports {
        nodes.push(crate::helpers::Node::start(config_on(port)).await);
    }
    let addresses: Vec<String> = nodes.iter().map(|n| n.address.clone()).collect();
    let refs: Vec<&str> = addresses.iter().map(String::as_str).collect();
    let nginx = Balancer::start(&refs).await;

    // Customers arrive through nginx, four at a time, until told to stop.
    let going = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut arrivals = Vec::new();
    for worker in 0..4 {
        // Each arrival is a new customer (a browser of its own: one browser that asks again
        // gets its own waiting page back).
        let base = p.app.other_browser();
        let address = nginx.address.clone();
        let going = going.clone();
        arrivals.push(tokio::spawn(async move {
            let (mut told_ok, mut failed) = (Vec::new(), Vec::new());
            let mut n = 0;
            while going.load(std::sync::atomic::Ordering::Relaxed) {
                n += 1;
                let name = format!("Customer {worker}-{n}");
                let mut customer = base.other_browser();
                customer.address = address.clone();
                // The form's page, then the form, as a browser does (each may reach any node).
                let (status, page) = customer.get_text("/p/help").await;
                if status != 200 || !page.contains("name=\"csrf\"") {
                    failed.push((format!("{name}: the portal page"), status, page));
                    continue;
                }
                let csrf = crate::helpers::csrf_in(&page);
                let response = customer
                    .client
                    .post(customer.url("/p/help/contact"))
                    .form(&[("csrf", csrf.as_str()), ("customer_name", name.as_str())])
                    .send()
                    .await
                    .unwrap();
                match response.status().as_u16() {
                    303 => told_ok.push(crate::helpers::location(&response)),
                    status => {
                        failed.push((name, status, response.text().await.unwrap_or_default()))
                    }
                }
            }
            (told_ok, failed)
        }));
    }
    // One node after the other: stopped, started again on its port, ready, then the next.
    for (i, port) in ports.into_iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let mut node = nodes.remove(0);
        tokio::task::block_in_place(|| node.stop());
        let restarted = crate::helpers::Node::start(config_on(port)).await;
        let mut browser = p.app.other_browser();
        browser.address = restarted.address.clone();
        assert_eq!(
            readiness_becomes(&browser, 200).await,
            200,
            "node {i} is back"
        );
        nodes.push(restarted);
        // nginx tries a failed node again after its fail_timeout (2 s): only then the next.
        tokio::time::sleep(Duration::from_millis(2500)).await;
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    going.store(false, std::sync::atomic::Ordering::Relaxed);
    let (mut told_ok, mut failed) = (Vec::new(), Vec::new());
    for worker in arrivals {
        let (ok, bad) = worker.await.unwrap();
        told_ok.extend(ok);
        failed.extend(bad);
    }
    let log = std::fs::read_to_string(nginx._dir.0.join("error.log")).unwrap_or_default();
    assert!(
        failed.is_empty(),
        "no request failed during the restarts: {failed:?}\n{log}"
    );
    assert!(
        told_ok.len() >= 20,
        "customers kept arriving: {}",
        told_ok.len()
    );
    for waiting in &told_ok {
        let session = p.session_at(waiting).await;
        assert_eq!(
            session.state,
            domain::session::Status::Waiting,
            "{waiting} waits"
        );
    }
    let (_, waiting_in_all) = p
        .app
        .store
        .visible_queue(p.org, &[domain::session::Queue::General], 1)
        .await
        .unwrap();
    assert_eq!(
        usize::try_from(waiting_in_all).unwrap(),
        told_ok.len(),
        "as many waiting as customers were told"
    );
    drop(nginx);
}

/// An admin's edit through one node shows on another node's portal at once, not when its kept
/// page grows old (5 seconds).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_edit_on_one_node_refreshes_the_others_portal_at_once() {
    let mut config = test_config(Backend::Postgres).await;
    config.bus.url = Some(crate::helpers::test_redis_url());
    config.bus.channel = format!("supportal:test:{}", rand::random::<u64>());
    let node_a = spawn_with(&config).await;
    let p = portal_app(spawn_with(&config).await).await;
    let id = p.add_profile("Wi-Fi", "", true).await;
    // Node B keeps its portal page.
    let customer = p.app.other_browser();
    assert!(customer
        .get_text("/p/help")
        .await
        .1
        .contains("<strong>Wi-Fi</strong>"));

    let admin = node_a.other_browser();
    admin
        .login("admin@acme.test", crate::helpers::PASSWORD)
        .await;
    let page = format!("/admin/sites/{}/profiles", p.site);
    let renamed = admin
        .submit(
            &page,
            &format!("{page}/{id}"),
            &[("name", "Office Wi-Fi"), ("description", "")],
        )
        .await;
    assert_eq!(renamed.status(), 200);
    let started = std::time::Instant::now();
    let mut shown = false;
    while started.elapsed() < Duration::from_millis(2000) {
        if customer
            .get_text("/p/help")
            .await
            .1
            .contains("<strong>Office Wi-Fi</strong>")
        {
            shown = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        shown,
        "node B's portal shows the edit within 2 s, not after its 5 s"
    );
}
