//! The realtime core: a waiting customer hears only what changes their wait; a silent peer is
//! dropped; two tabs of one rep stay within the session limit; two nodes share one PostgreSQL
//! and one Redis (live arrivals across nodes, a console moving between nodes, a crashed node).

use crate::console::{console_socket, next_message, rep, session_cookie, Socket};
use crate::helpers::{now, spawn_app_with, test_config, test_redis_url, Node, TestApp};
use crate::on_both_backends;
use crate::portal::{portal_app, Portal};
use domain::realtime::Topic;
use domain::session::{Queue, SessionState, Status};
use domain::text::{DisplayName, Slug};
use futures::StreamExt;
use std::time::Duration;
use store::Backend;
use tokio_tungstenite::tungstenite::Message;

async fn waiting_socket(app: &TestApp, waiting_page: &str) -> Socket {
    let url = format!(
        "{}{waiting_page}/ws",
        app.address.replace("http://", "ws://")
    );
    tokio_tungstenite::connect_async(url)
        .await
        .expect("the waiting page's socket opens")
        .0
}

/// True when no text message arrives within `quiet` (pings are skipped).
async fn hears_nothing(socket: &mut Socket, quiet: Duration) -> Result<(), serde_json::Value> {
    let deadline = tokio::time::Instant::now() + quiet;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return Ok(()),
            Ok(Some(Ok(Message::Text(text)))) => {
                return Err(serde_json::from_str(&text).unwrap());
            }
            Ok(Some(Ok(_))) => continue,
            Ok(other) => panic!("the socket ended: {other:?}"),
        }
    }
}

/// Another organization with a site whose customers wait in its general queue.
async fn queue_elsewhere(app: &TestApp) -> domain::OrgId {
    let (globex, _) = app.org_with_admin("globex").await;
    let name = DisplayName::parse("Globex Help").unwrap();
    app.store
        .create_site(globex, &name, &Slug::parse("globex").unwrap(), now())
        .await
        .unwrap();
    globex
}

async fn arrives_elsewhere(p: &Portal, org: domain::OrgId, capability: &str) {
    let fields = serde_json::json!({});
    let new = store::support::NewSupportSession {
        site: None,
        start_method: domain::session::StartMethod::ContactButton,
        queue: Queue::General,
        issue_type: None,
        customer_name: "Elsewhere",
        company: None,
        company_code: None,
        description: None,
        fields: &fields,
        language: "en",
        verified: false,
        verified_by: None,
        verified_attributes: None,
        capability_digest: capability,
        routing_reason: "test",
    };
    let (id, seq) = p
        .app
        .store
        .create_support_session(org, &new, now())
        .await
        .unwrap();
    // What the portal's start flow does after committing.
    web::app::sessions::arrived(&p.app.state, org, id, seq, Queue::General);
}

async fn a_waiting_customer_hears_only_what_changes_their_wait(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |_| {}).await).await;
    let globex = queue_elsewhere(&p.app).await;
    let (first, _) = p.contact_request("First").await;
    let (_, mine) = p.contact_request("Mine").await;
    let mut socket = waiting_socket(&p.app, &mine).await;
    assert_eq!(next_message(&mut socket).await["position"], 2);
    let quiet = Duration::from_millis(800);

    // Another organization's arrival, another queue's arrival and accept, arrivals behind me.
    arrives_elsewhere(&p, globex, "elsewhere-1").await;
    let (team_session, _) = p.team_request("Other queue").await;
    let riley = rep(&p.app, "riley@acme.test").await;
    let accept = |id: domain::SessionId| format!("/console/sessions/{id}/accept");
    assert_eq!(
        riley
            .submit("/console", &accept(team_session), &[])
            .await
            .status(),
        303
    );
    p.contact_request("Behind me").await;
    assert_eq!(
        hears_nothing(&mut socket, quiet).await,
        Ok(()),
        "nothing that leaves my wait as it is reaches me"
    );

    // The one ahead is taken: I move up, told once.
    assert_eq!(
        riley.submit("/console", &accept(first), &[]).await.status(),
        303
    );
    let moved = next_message(&mut socket).await;
    assert_eq!(moved["position"], 1, "{moved}");
    assert_eq!(
        moved["estimated_minutes"], 1,
        "the estimate now has a recent wait"
    );
    assert_eq!(hears_nothing(&mut socket, quiet).await, Ok(()), "once");
    // Only my session's own topic, my site's notices and my organization's repairs are heard
    // by my page: no queue topic and no rep topic.
    let session = p.session_at(&mine).await;
    let hub = p.app.state.hub();
    assert_eq!(
        hub.subscribers(&Topic::Session {
            session: session.id
        }),
        1
    );
    assert_eq!(
        hub.subscribers(&Topic::Queue {
            org: p.org,
            queue: Queue::General
        }),
        0,
        "no console is open, and pages do not subscribe to queues"
    );
}

async fn a_peer_that_stops_answering_pings_is_dropped(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |c| c.console.heartbeat_secs = 1).await).await;
    let (_, page) = p.contact_request("Lid closed").await;
    let mut socket = waiting_socket(&p.app, &page).await;
    next_message(&mut socket).await;
    // Not reading means not answering pings (the client answers when it reads).
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the server closed a silent peer");

    // A peer that answers stays.
    let mut live = waiting_socket(&p.app, &page).await;
    let stayed = tokio::time::timeout(Duration::from_millis(3_500), async {
        loop {
            match live.next().await {
                Some(Ok(_)) => continue,
                _ => return,
            }
        }
    })
    .await;
    assert!(stayed.is_err(), "still open after three heartbeats");
}

async fn two_tabs_of_one_rep_stay_within_the_session_limit(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |_| {}).await).await;
    p.limit_rep_to(1).await;
    let (a, _) = p.contact_request("A").await;
    let (b, _) = p.contact_request("B").await;
    let (tab_one, tab_two) = (
        rep(&p.app, "riley@acme.test").await,
        rep(&p.app, "riley@acme.test").await,
    );
    let (accept_a, accept_b) = (
        format!("/console/sessions/{a}/accept"),
        format!("/console/sessions/{b}/accept"),
    );
    let (one, two) = tokio::join!(
        tab_one.submit("/console", &accept_a, &[]),
        tab_two.submit("/console", &accept_b, &[]),
    );
    let mut statuses = [one.status().as_u16(), two.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [303, 409], "one tab takes, the other is refused");
    assert_eq!(
        p.app.store.owned_session_count(p.org, p.rep).await.unwrap(),
        1
    );
}

async fn a_console_hears_only_the_queues_its_rep_may_take_from(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |c| c.console.heartbeat_secs = 1).await).await;
    let billing = p
        .app
        .store
        .create_team(p.org, &DisplayName::parse("Billing").unwrap(), now())
        .await
        .unwrap();
    let colleague = p.app.add_rep(p.org, "casey@acme.test").await;
    let cookie = session_cookie(&p.app, "riley@acme.test").await;
    let mut console = console_socket(&p.app, &cookie, 0).await;
    assert_eq!(next_message(&mut console).await["type"], "ready");
    let hub = p.app.state.hub();
    let queue = |queue| Topic::Queue { org: p.org, queue };
    let heard = |queue_| hub.subscribers(&queue(queue_));
    assert_eq!(heard(Queue::Team(p.team)), 1, "riley's team");
    assert_eq!(heard(Queue::General), 1);
    assert_eq!(heard(Queue::Personal(p.rep)), 1, "riley's own queue");
    assert_eq!(heard(Queue::Team(billing)), 0, "not riley's team");
    assert_eq!(
        heard(Queue::Personal(colleague)),
        0,
        "a colleague's own queue"
    );
    assert_eq!(hub.subscribers(&Topic::Rep { rep: colleague }), 0);

    // Moved from Support to Billing: the next heartbeat follows the change.
    p.app
        .store
        .set_user_teams(p.org, p.rep, &[billing])
        .await
        .unwrap();
    let mut moved = false;
    for _ in 0..30 {
        tokio::time::timeout(Duration::from_millis(200), console.next())
            .await
            .ok();
        if heard(Queue::Team(billing)) == 1 && heard(Queue::Team(p.team)) == 0 {
            moved = true;
            break;
        }
    }
    assert!(moved, "no longer subscribed to the team riley left");

    // A customer in the Support queue now reaches riley's console with nothing.
    p.team_request("For Support").await;
    assert_eq!(
        hears_nothing(&mut console, Duration::from_millis(800)).await,
        Ok(())
    );
}

async fn a_change_whose_announcement_was_lost_arrives_from_the_log(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |_| {}).await).await;
    let (session, page) = p.contact_request("Lost").await;
    let cookie = session_cookie(&p.app, "riley@acme.test").await;
    let latest = p.app.store.latest_event_seq(p.org).await.unwrap();
    let mut console = console_socket(&p.app, &cookie, latest).await;
    assert_eq!(next_message(&mut console).await["type"], "ready");
    let mut customer = waiting_socket(&p.app, &page).await;
    assert_eq!(next_message(&mut customer).await["state"], "waiting");
    // Committed, never announced: what a crash between the two, or a dropped Redis message
    // with nothing after it, leaves behind.
    p.app
        .store
        .claim_session(p.org, session, p.rep, 5, now())
        .await
        .unwrap()
        .won()
        .unwrap();
    let heard = next_message(&mut console).await;
    assert_eq!(
        (heard["kind"].as_str(), heard["seq"].as_i64()),
        (Some("accepted"), Some(latest + 1)),
        "the console learns it from the log"
    );
    // The page may show its line once more (a position update racing the claim) before
    // the repair reaches it.
    let mut state = next_message(&mut customer).await["state"].clone();
    for _ in 0..3 {
        if state != "waiting" {
            break;
        }
        state = next_message(&mut customer).await["state"].clone();
    }
    assert_eq!(state, "active", "and so does the customer's page");
}

/// Two changes committed and never announced, each followed by one that was: both reach the
/// organization's topic from the log (where nothing else is published), the second although
/// it went missing while the first one's repair was still waiting (a repair reads only what
/// it was owed; a hole newer than that gets a wait and a repair of its own).
async fn holes_behind_later_announcements_are_each_filled_from_the_log(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |_| {}).await).await;
    let (first, _) = p.contact_request("First").await;
    let (second, _) = p.contact_request("Second").await;
    let mut repaired = p.app.state.hub().subscribe(vec![Topic::Org { org: p.org }]);
    let unannounced = |session| {
        let store = p.app.store.clone();
        let (org, rep) = (p.org, p.rep);
        async move {
            let claim = store.claim_session(org, session, rep, 5, now()).await;
            claim.unwrap().won().expect("claimed").seq
        }
    };
    let lost_first = unannounced(first).await;
    p.contact_request("After the first").await;
    let lost_second = unannounced(second).await;
    p.contact_request("After the second").await;

    let mut heard = Vec::new();
    while heard.len() < 2 {
        let next = tokio::time::timeout(Duration::from_secs(5), repaired.recv()).await;
        let (announcement, _) = next.expect("repaired within 5 s").expect("subscribed");
        heard.push((announcement.seq, announcement.kind.clone()));
    }
    assert_eq!(
        heard,
        [
            (lost_first, "accepted".to_owned()),
            (lost_second, "accepted".to_owned())
        ]
    );
}

/// Open a socket at `path` as a browser page at `origin` would.
async fn socket_from(
    app: &TestApp,
    path: &str,
    origin: &str,
    cookie: Option<&str>,
) -> Result<Socket, u16> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!("{}{path}", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", origin.parse().unwrap());
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(other) => panic!("{other}"),
    }
}

async fn sockets_open_only_from_this_instances_pages(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |_| {}).await).await;
    p.bind_hostname("help.acme.test").await;
    let cookie = session_cookie(&p.app, "riley@acme.test").await;
    let (_, page) = p.contact_request("Origin").await;
    let ours = p.app.address.clone();
    let console = "/console/ws?after=0";
    let waiting = format!("{page}/ws");
    // Another site's page cannot ride the rep's cookies into their console.
    assert_eq!(
        socket_from(&p.app, console, "https://evil.example", Some(&cookie))
            .await
            .err(),
        Some(403)
    );
    assert_eq!(
        socket_from(&p.app, &waiting, "http://evil.example", None)
            .await
            .err(),
        Some(403)
    );
    assert_eq!(
        socket_from(&p.app, console, "null", Some(&cookie))
            .await
            .err(),
        Some(403),
        "an opaque origin"
    );
    // The instance's own pages, and a site's bound hostname, may.
    assert!(socket_from(&p.app, console, &ours, Some(&cookie))
        .await
        .is_ok());
    assert!(socket_from(&p.app, &waiting, &ours, None).await.is_ok());
    assert!(
        socket_from(&p.app, &waiting, "https://help.acme.test", None)
            .await
            .is_ok()
    );
}

/// True when the socket ends (closed by the server) within `within`.
async fn closes_within(socket: &mut Socket, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            }
        }
    })
    .await
    .is_ok()
}

/// Change the password as the browser holding sign-in `cookie` would (its CSRF cookie and
/// field from its own account page).
async fn change_password_as(app: &TestApp, cookie: &str, current: &str, new: &str) -> u16 {
    let client = crate::helpers::client();
    let page = client
        .get(app.url("/account"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let token = crate::helpers::csrf_in(&page.text().await.unwrap());
    let fields = [
        ("current", current),
        ("new", new),
        ("confirm", new),
        ("csrf", token.as_str()),
    ];
    client
        .post(app.url("/account/password"))
        .header("cookie", format!("{cookie}; supportal_csrf={token}"))
        .form(&fields)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn a_console_closes_when_its_sign_in_ends(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |_| {}).await).await;
    let (laptop, desk) = (
        session_cookie(&p.app, "riley@acme.test").await,
        session_cookie(&p.app, "riley@acme.test").await,
    );
    let mut on_laptop = console_socket(&p.app, &laptop, 0).await;
    let mut on_desk = console_socket(&p.app, &desk, 0).await;
    assert_eq!(next_message(&mut on_desk).await["type"], "ready");
    // Riley changes their password at the desk: the laptop's sign-in ends, and its console;
    // the desk's own sign-in, and its console, stay.
    let new = "a much better passphrase";
    assert_eq!(
        change_password_as(&p.app, &desk, crate::helpers::PASSWORD, new).await,
        200
    );
    assert!(closes_within(&mut on_laptop, Duration::from_secs(3)).await);
    assert!(
        !closes_within(&mut on_desk, Duration::from_secs(1)).await,
        "the sign-in that changed the password keeps its console"
    );

    // Deactivating Riley closes the desk's console at once.
    let admin = rep(&p.app, "admin@acme.test").await;
    let page = format!("/admin/reps/{}", p.rep);
    let team = p.team.to_string();
    let deactivate = [
        ("display_name", "Robin Rep"),
        ("role", "rep"),
        ("session_limit", "3"),
        ("teams", team.as_str()),
    ];
    assert_eq!(admin.submit(&page, &page, &deactivate).await.status(), 200);
    assert!(
        closes_within(&mut on_desk, Duration::from_secs(3)).await,
        "a deactivated rep's console closes at once"
    );
}

async fn an_address_holds_a_limited_number_of_sockets(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |c| c.security.sockets_per_ip = 2).await).await;
    let (_, page) = p.contact_request("Many tabs").await;
    let ours = p.app.address.clone();
    let waiting = format!("{page}/ws");
    let first = socket_from(&p.app, &waiting, &ours, None).await.unwrap();
    let _second = socket_from(&p.app, &waiting, &ours, None).await.unwrap();
    assert_eq!(
        socket_from(&p.app, &waiting, &ours, None).await.err(),
        Some(429),
        "a third from the same address"
    );
    drop(first);
    let mut reopened = None;
    for _ in 0..20 {
        if let Ok(socket) = socket_from(&p.app, &waiting, &ours, None).await {
            reopened = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "a closed socket gives its place back");
}

/// The next message on a socket that `wanted` accepts (others are skipped).
async fn view_where(
    socket: &mut Socket,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    loop {
        let view = next_message(socket).await;
        if wanted(&view) {
            return view;
        }
    }
}

/// The customer sees their rep lose the connection when the rep's last console closes (not
/// when one of two tabs does), and sees them back when a console opens again; the page's
/// polling fallback says the same.
async fn a_customer_sees_their_rep_drop_and_come_back(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |_| {}).await).await;
    let (id, page) = p.contact_request("Dana").await;
    let cookie = session_cookie(&p.app, "riley@acme.test").await;
    let mut first_tab = console_socket(&p.app, &cookie, 0).await;
    let mut second_tab = console_socket(&p.app, &cookie, 0).await;
    let ready = |v: &serde_json::Value| v["type"] == "ready";
    view_where(&mut first_tab, ready).await;
    view_where(&mut second_tab, ready).await;
    let riley = rep(&p.app, "riley@acme.test").await;
    let accept = format!("/console/sessions/{id}/accept");
    assert_eq!(riley.submit("/console", &accept, &[]).await.status(), 303);
    let mut customer = waiting_socket(&p.app, &page).await;
    let taken = view_where(&mut customer, |v| v["state"] == "active").await;
    assert_eq!(taken["rep_disconnected"], false, "{taken}");
    let rep_name = taken["rep_name"].as_str().unwrap().to_owned();
    assert!(!rep_name.is_empty(), "{taken}");

    second_tab.close(None).await.unwrap();
    assert_eq!(
        hears_nothing(&mut customer, Duration::from_millis(800)).await,
        Ok(()),
        "another console of the rep is still open"
    );
    first_tab.close(None).await.unwrap();
    let dropped = view_where(&mut customer, |v| v["state"].is_string()).await;
    assert_eq!(dropped["rep_disconnected"], true, "{dropped}");
    assert_eq!(dropped["state"], "active", "the session stays with the rep");
    assert_eq!(dropped["rep_name"], rep_name.as_str());
    let status = p.app.get(&format!("{page}/status")).await;
    let polled: serde_json::Value = status.json().await.unwrap();
    assert_eq!(polled["rep_disconnected"], true, "{polled}");

    let _back = console_socket(&p.app, &cookie, 0).await;
    let back = view_where(&mut customer, |v| v["state"].is_string()).await;
    assert_eq!(back["rep_disconnected"], false, "{back}");
    assert_eq!(back["state"], "active");
}

on_both_backends!(
    a_customer_sees_their_rep_drop_and_come_back,
    an_address_holds_a_limited_number_of_sockets,
    a_console_closes_when_its_sign_in_ends,
    sockets_open_only_from_this_instances_pages,
    a_change_whose_announcement_was_lost_arrives_from_the_log,
    holes_behind_later_announcements_are_each_filled_from_the_log,
    a_console_hears_only_the_queues_its_rep_may_take_from,
    a_waiting_customer_hears_only_what_changes_their_wait,
    a_peer_that_stops_answering_pings_is_dropped,
    two_tabs_of_one_rep_stay_within_the_session_limit,
);

/// Two nodes (B in this test's runtime, A in its own so it can crash) on one PostgreSQL
/// database and one Redis channel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_queues_consoles_and_presence() {
    let mut config = test_config(Backend::Postgres).await;
    config.bus.url = Some(test_redis_url());
    config.bus.channel = format!("supportal:test:{}", rand::random::<u64>());
    config.console.heartbeat_secs = 1;
    config.console.offline_grace_secs = 1;
    config.security.key_attempts_per_ip_per_minute = 3;
    config.security.login_failures_per_account_and_address = 2;
    let mut node_a = Node::start(config.clone()).await;
    let p = portal_app(crate::helpers::spawn_with(&config).await).await;
    let on_a = node_a.browser(&p.app);

    // A customer arrives through node A; a console on node B shows it live.
    let cookie = session_cookie(&p.app, "riley@acme.test").await;
    let mut console_b = console_socket(
        &p.app,
        &cookie,
        p.app.store.latest_event_seq(p.org).await.unwrap(),
    )
    .await;
    assert_eq!(next_message(&mut console_b).await["type"], "ready");
    let customer = on_a.other_browser();
    let waiting = crate::helpers::location(
        &customer
            .submit("/p/help", "/p/help/contact", &[("customer_name", "Via A")])
            .await,
    );
    let session = p.session_at(&waiting).await.id;
    let heard = next_message(&mut console_b).await;
    assert_eq!(
        (heard["kind"].as_str(), heard["session"].as_i64()),
        (Some("queued"), Some(session.0)),
        "node B's console hears node A's arrival"
    );
    let (_, list) = rep(&p.app, "riley@acme.test")
        .await
        .get_text("/console/queue")
        .await;
    assert!(list.contains("Via A"));

    // The rep takes it on B, then their console moves to A: the session stays theirs.
    let riley_b = rep(&p.app, "riley@acme.test").await;
    assert_eq!(
        riley_b
            .submit(
                "/console",
                &format!("/console/sessions/{session}/accept"),
                &[]
            )
            .await
            .status(),
        303
    );
    let mut console_a = console_socket(&on_a, &cookie, 0).await;
    drop(console_b);
    // Longer than grace + heartbeat: a node-local timer on B would have fired by now.
    for _ in 0..8 {
        tokio::time::timeout(Duration::from_millis(500), console_a.next())
            .await
            .ok();
    }
    let row = p.session(session).await;
    assert_eq!(
        row.session_state().unwrap(),
        SessionState::Active { owner: p.rep },
        "the console moved nodes, the session stayed the rep's"
    );

    // Node A crashes with the rep's only console; the rep does not come back. Node B's sweep
    // takes them offline after the grace and requeues the session exactly once.
    node_a.crash();
    drop(console_a);
    let state = p.state_becomes(session, Status::Waiting).await;
    assert_eq!(
        state,
        Status::Waiting,
        "requeued after the crashed node's rep went silent"
    );
    // Let several more sweeps run: still exactly one requeue.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(p.events_of(session, "requeued").await, 1);
    let riley = p.app.store.user(p.org, p.rep).await.unwrap().unwrap();
    assert_eq!(riley.presence, domain::rep::Presence::Offline);

    // Presence changes reach other nodes' portal pages at once (not after their 5 s bound).
    // Node A is gone: a third node takes its place.
    let node_c = Node::start(config.clone()).await;
    let on_c = node_c.browser(&p.app);
    let lists_riley = |app: TestApp| async move {
        let (_, home) = app.get_text("/p/help").await;
        home.contains("data-testid=\"rep-option\"") && home.contains("Robin Rep")
    };
    assert!(
        !lists_riley(on_c.other_browser()).await,
        "offline: not listed"
    );
    let back = console_socket(&p.app, &cookie, 0).await;
    let listed_within = |want: bool| {
        let on_c = on_c.other_browser();
        async move {
            for _ in 0..10 {
                if lists_riley(on_c.other_browser()).await == want {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            false
        }
    };
    assert!(
        listed_within(true).await,
        "node C lists riley within a second of their console opening on B"
    );
    let riley_b = rep(&p.app, "riley@acme.test").await;
    riley_b
        .submit("/console", "/console/presence", &[("presence", "away")])
        .await;
    assert!(
        listed_within(false).await,
        "and stops within a second of riley stepping away"
    );
    drop(back);

    let wrong_key = |app: TestApp| async move {
        app.submit("/p/help", "/p/help/key", &[("key", "987654321")])
            .await
            .status()
            .as_u16()
    };
    let tries = [
        wrong_key(on_c.other_browser()).await,
        wrong_key(p.app.other_browser()).await,
        wrong_key(on_c.other_browser()).await,
        wrong_key(p.app.other_browser()).await,
    ];
    assert_eq!(tries, [422, 422, 422, 429], "one limit for every node");

    // Password guesses, too, are counted once for every node, and a right one clears them.
    let guess = |app: TestApp, password: &'static str| async move {
        app.login("riley@acme.test", password)
            .await
            .status()
            .as_u16()
    };
    let tries = [
        guess(on_c.other_browser(), "wrong one").await,
        guess(p.app.other_browser(), "wrong two").await,
        guess(on_c.other_browser(), crate::helpers::PASSWORD).await,
    ];
    assert_eq!(tries, [401, 401, 429], "one lockout for every node");
}
