//! The representative console over HTTP and WebSocket: exactly-once accept under 50 reps,
//! Get Next, transfer, invite, end, session limits, live events with resume, fallback when a
//! rep's console stays disconnected.

use crate::helpers::{csrf_in, location, now, spawn_app_with, TestApp, PASSWORD};
use crate::on_both_backends;
use crate::portal::{portal_app, Portal};
use domain::session::{Queue, SessionState, Status};
use domain::SessionId;
use futures::StreamExt;
use std::time::Duration;
use store::Backend;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

async fn customer_arrives(p: &Portal, name: &str) -> (SessionId, String) {
    p.contact_request(name).await
}

/// `owner` invites the rep `invited` (signed in as `invited_browser`, made available first, as
/// only a rep who is there is asked) into their session `id`, and the rep joins.
pub(crate) async fn invite_and_join(
    p: &Portal,
    owner: &TestApp,
    id: i64,
    invited: domain::UserId,
    invited_browser: &TestApp,
) {
    let available = domain::rep::Presence::Available;
    p.app
        .store
        .set_presence(p.org, invited, available, now())
        .await
        .unwrap();
    let page = format!("/console/sessions/{id}");
    let field = invited.to_string();
    let asked = owner
        .submit(&page, &format!("{page}/invite"), &[("rep", &field)])
        .await;
    assert_eq!(location(&asked), page, "invited");
    let joined = invited_browser
        .submit(
            "/console",
            &format!("/console/invitations/{id}/accept"),
            &[],
        )
        .await;
    assert_eq!(location(&joined), page, "joined");
}

/// Every rep of `ready` (each with the CSRF token of their open console) presses Accept on
/// `session` at once: each one's status and page.
pub(crate) async fn press_accept_at_once(
    ready: Vec<(String, TestApp)>,
    session: SessionId,
) -> Vec<(u16, String)> {
    let presses = ready.into_iter().map(|(csrf, rep)| {
        tokio::spawn(async move {
            let response = rep
                .client
                .post(rep.url(&format!("/console/sessions/{session}/accept")))
                .form(&[("csrf", csrf)])
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
    });
    futures::future::join_all(presses)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

pub(crate) async fn rep(app: &TestApp, email: &str) -> TestApp {
    let browser = app.other_browser();
    assert_eq!(
        browser.login(email, PASSWORD).await.status(),
        303,
        "{email} signs in"
    );
    browser
}

async fn fifty_reps_pressing_accept_at_once_have_exactly_one_winner(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.security.login_attempts_per_ip_per_minute = 200
    })
    .await;
    let p = portal_app(app).await;
    let mut reps = Vec::new();
    for i in 0..50 {
        let email = format!("rep{i}@acme.test");
        let id = p.app.add_rep(p.org, &email).await;
        p.app
            .store
            .set_user_teams(p.org, id, &[p.team])
            .await
            .unwrap();
        reps.push(rep(&p.app, &email).await);
    }
    let (session, waiting) = customer_arrives(&p, "Popular").await;
    // Each rep has the console open (and so its CSRF token) before anyone presses.
    let mut ready = Vec::new();
    for rep in reps {
        let (_, page) = rep.get_text("/console").await;
        assert!(
            page.contains(&format!("data-session-id=\"{session}\"")),
            "every rep sees the customer"
        );
        ready.push((csrf_in(&page), rep));
    }
    let results = press_accept_at_once(ready, session).await;
    assert_eq!(
        results.iter().filter(|(status, _)| *status == 303).count(),
        1,
        "exactly one winner"
    );
    let losers: Vec<_> = results
        .iter()
        .filter(|(status, _)| *status == 409)
        .collect();
    assert_eq!(losers.len(), 49);
    assert!(
        losers
            .iter()
            .all(|(_, page)| page.contains("Taken by Robin Rep.")),
        "the others are told who took it"
    );
    let accepted = p
        .app
        .store
        .session_events(p.org, session)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.kind == "accepted")
        .count();
    assert_eq!(accepted, 1);
    assert!(
        p.app
            .get_text(&waiting)
            .await
            .1
            .contains("is now helping you"),
        "the customer's page moves on"
    );
}

async fn a_rep_works_sessions_from_the_console(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |_| {}).await).await;
    let billing = p
        .app
        .store
        .create_team(
            p.org,
            &domain::text::DisplayName::parse("Billing").unwrap(),
            now(),
        )
        .await
        .unwrap();
    let sam_id = p.app.add_rep(p.org, "sam@acme.test").await;
    p.app
        .store
        .set_user_teams(p.org, sam_id, &[p.team])
        .await
        .unwrap();
    let riley = rep(&p.app, "riley@acme.test").await;
    let sam = rep(&p.app, "sam@acme.test").await;

    let (first, _) = customer_arrives(&p, "First").await;
    let (second, second_page) = customer_arrives(&p, "Second").await;
    let status: serde_json::Value = p
        .app
        .get(&format!("{second_page}/status"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["position"], 2);

    let response = riley
        .submit(
            "/console",
            &format!("/console/sessions/{first}/accept"),
            &[],
        )
        .await;
    assert_eq!(location(&response), format!("/console/sessions/{first}"));
    let status: serde_json::Value = p
        .app
        .get(&format!("{second_page}/status"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["position"], 1, "positions move up when one is taken");
    let (_, tab) = riley.get_text(&format!("/console/sessions/{first}")).await;
    assert!(
        tab.contains("data-testid=\"session-tab\"")
            && tab.contains("data-testid=\"routing-reason\"")
    );
    assert!(
        tab.contains("pressed the contact button: the general queue"),
        "why it was routed there"
    );
    assert_eq!(
        sam.get(&format!("/console/sessions/{first}"))
            .await
            .status(),
        404,
        "not Sam's session"
    );

    // Invite Sam, who joins: the session shows in his console too.
    invite_and_join(&p, &riley, first.0, sam_id, &sam).await;
    assert!(sam
        .get_text("/console")
        .await
        .1
        .contains(&format!("data-session-id=\"{}\" href", first)));

    // Transfer to Billing with a note: back in a queue, for Billing, with the note as its reason.
    let response = riley
        .submit(
            "/console",
            &format!("/console/sessions/{first}/transfer"),
            &[
                ("target", &format!("team:{billing}")),
                ("note", "invoice question"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/console");
    let moved = p
        .app
        .store
        .support_session(p.org, first)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        moved.session_state().unwrap(),
        SessionState::Waiting {
            queue: Queue::Team(billing)
        }
    );
    let log = p.app.store.session_events(p.org, first).await.unwrap();
    assert!(log
        .last()
        .unwrap()
        .payload
        .contains("Transferred by Robin Rep to team Billing: invoice question"));
    assert!(
        !riley
            .get_text("/console")
            .await
            .1
            .contains(&format!("data-session-id=\"{first}\"")),
        "not in Riley's queues any more"
    );
    // Billing's reps see it as what it is, a transfer with its note, before accepting.
    p.app
        .store
        .set_user_teams(p.org, sam_id, &[p.team, billing])
        .await
        .unwrap();
    let (_, sams) = sam.get_text("/console").await;
    let item = sams
        .split("data-testid=\"queue-item\"")
        .find(|i| i.contains(&format!("data-session-id=\"{first}\"")))
        .unwrap_or_default();
    assert!(
        item.contains("Transferred by Robin Rep to team Billing: invoice question")
            && !item.contains("Contact button"),
        "{item}"
    );

    // Get Next takes the oldest session of Riley's team queues; Sam ends the other with notes.
    let (team_session, _) = p.team_request("Teamed").await;
    let response = riley.submit("/console", "/console/next", &[]).await;
    assert_eq!(
        location(&response),
        format!("/console/sessions/{team_session}")
    );
    let response = riley.submit("/console", "/console/next", &[]).await;
    let page = response.text().await.unwrap();
    let main = &page[page.find("<main").unwrap_or(0)..];
    assert!(
        main.contains("Nobody is waiting in your team queues."),
        "{main}"
    );

    sam.submit(
        "/console",
        &format!("/console/sessions/{second}/accept"),
        &[],
    )
    .await;
    let response = sam
        .submit(
            "/console",
            &format!("/console/sessions/{second}/end"),
            &[("outcome", "finished"), ("notes", "")],
        )
        .await;
    assert_eq!(response.status(), 422, "an outcome from the list");
    let response = sam
        .submit(
            "/console",
            &format!("/console/sessions/{second}/end"),
            &[("outcome", "resolved"), ("notes", "Reset the router.")],
        )
        .await;
    assert_eq!(location(&response), "/console");
    let ended = p
        .app
        .store
        .support_session(p.org, second)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            ended.state.as_str(),
            ended.outcome.as_deref(),
            ended.notes.as_deref()
        ),
        ("ended", Some("resolved"), Some("Reset the router."))
    );
    let audit = p.app.store.audit_entries(p.org, 10).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "session.ended"
            && e.detail == format!("session {second}: resolved; notes: Reset the router.")),
        "the outcome and notes in the audit log"
    );
    // Ending it again (a second click, another tab): the console says so, with its way on.
    let again = sam
        .submit(
            "/console",
            &format!("/console/sessions/{second}/end"),
            &[("outcome", "resolved"), ("notes", "")],
        )
        .await;
    assert_eq!(again.status(), 409);
    let page = again.text().await.unwrap();
    assert!(
        page.contains("This session has already ended.")
            && page.contains("data-testid=\"console-message\""),
        "{page}"
    );
    assert!(p
        .app
        .get_text(&second_page)
        .await
        .1
        .contains("This support session has ended."));
}

async fn a_rep_cannot_hold_more_sessions_than_their_limit(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |_| {}).await).await;
    p.limit_rep_to(1).await;
    let console = rep(&p.app, "riley@acme.test").await;
    let (a, _) = customer_arrives(&p, "A").await;
    let (b, _) = customer_arrives(&p, "B").await;
    assert_eq!(
        console
            .submit("/console", &format!("/console/sessions/{a}/accept"), &[])
            .await
            .status(),
        303
    );
    let response = console
        .submit("/console", &format!("/console/sessions/{b}/accept"), &[])
        .await;
    assert_eq!(response.status(), 409);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("You already hold 1 sessions, your limit."));
}

/// Sign in over plain HTTP and return the session cookie, for a WebSocket client.
pub(crate) async fn session_cookie(app: &TestApp, email: &str) -> String {
    let browser = app.other_browser();
    let response = browser.login(email, PASSWORD).await;
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .find(|c| c.starts_with("supportal_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .expect("a session cookie")
}

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn console_socket(app: &TestApp, cookie: &str, after: i64) -> Socket {
    socket_at(app, &format!("/console/ws?after={after}"), Some(cookie)).await
}

/// A socket opened on `path` of `app`, with `cookie` (a sign-in) when given.
pub(crate) async fn socket_at(app: &TestApp, path: &str, cookie: Option<&str>) -> Socket {
    let url = format!("{}{path}", app.address.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", cookie.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .expect("the socket opens")
        .0
}

/// The next JSON message (skipping pings and chat lines), within 10 s.
pub(crate) async fn next_message(socket: &mut Socket) -> serde_json::Value {
    loop {
        let frame = next_frame(socket).await;
        // The conversation's own frames (lines, read marks, typing, ICE servers) are not the
        // ones sought.
        if !matches!(
            frame["type"].as_str(),
            Some("chat" | "marks" | "typing" | "ice")
        ) {
            return frame;
        }
    }
}

/// The next JSON message of any kind (skipping pings), within 10 s.
pub(crate) async fn next_frame(socket: &mut Socket) -> serde_json::Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message in time")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

async fn the_console_socket_pushes_events_and_resumes_after_the_last_one_seen(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |_| {}).await).await;
    let cookie = session_cookie(&p.app, "riley@acme.test").await;
    let latest = p.app.store.latest_event_seq(p.org).await.unwrap();
    let mut socket = console_socket(&p.app, &cookie, latest).await;
    assert_eq!(
        next_message(&mut socket).await,
        serde_json::json!({ "type": "ready", "v": 1, "seq": latest })
    );

    let (first, _) = customer_arrives(&p, "Live").await;
    let event = next_message(&mut socket).await;
    assert_eq!(
        (
            event["type"].as_str(),
            event["kind"].as_str(),
            event["session"].as_i64()
        ),
        (Some("event"), Some("queued"), Some(first.0))
    );
    let seen = event["seq"].as_i64().unwrap();
    socket.close(None).await.unwrap();

    // While disconnected: another arrival, and the first is cancelled.
    let (second, second_page) = customer_arrives(&p, "Missed").await;
    let customer = p.app.other_browser();
    customer
        .submit(&second_page, &format!("{second_page}/cancel"), &[])
        .await;

    let mut socket = console_socket(&p.app, &cookie, seen).await;
    let replayed: Vec<serde_json::Value> = vec![
        next_message(&mut socket).await,
        next_message(&mut socket).await,
    ];
    assert_eq!(
        replayed
            .iter()
            .map(|e| (
                e["kind"].as_str().unwrap().to_owned(),
                e["session"].as_i64().unwrap()
            ))
            .collect::<Vec<_>>(),
        vec![
            ("queued".to_owned(), second.0),
            ("ended".to_owned(), second.0)
        ],
        "exactly the missed events, in order"
    );
    assert_eq!(next_message(&mut socket).await["type"], "ready");

    // A console sees only its own organization's events; without a sign-in there is no socket.
    let url = format!("{}/console/ws", p.app.address.replace("http://", "ws://"));
    assert!(
        tokio_tungstenite::connect_async(url).await.is_err(),
        "signed-out: refused"
    );
}

async fn a_session_returns_to_its_queue_when_its_reps_console_stays_away(backend: Backend) {
    let p = portal_app(
        spawn_app_with(backend, |c| {
            c.console.offline_grace_secs = 1;
            c.console.heartbeat_secs = 1;
        })
        .await,
    )
    .await;
    let cookie = session_cookie(&p.app, "riley@acme.test").await;
    let console = rep(&p.app, "riley@acme.test").await;
    let (session, _) = customer_arrives(&p, "Stranded").await;
    let mut socket = console_socket(
        &p.app,
        &cookie,
        p.app.store.latest_event_seq(p.org).await.unwrap(),
    )
    .await;
    next_message(&mut socket).await;
    console
        .submit(
            "/console",
            &format!("/console/sessions/{session}/accept"),
            &[],
        )
        .await;
    drop(socket);

    // Bounded wait for the grace period to pass and the fallback to run.
    let state = p.state_becomes(session, Status::Waiting).await;
    assert_eq!(
        state,
        Status::Waiting,
        "back in line after the grace period"
    );
    let back = p
        .app
        .store
        .support_session(p.org, session)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        back.session_state().unwrap(),
        SessionState::Waiting {
            queue: Queue::General
        },
        "the queue it came from"
    );
    assert!(p
        .app
        .store
        .session_events(p.org, session)
        .await
        .unwrap()
        .last()
        .unwrap()
        .payload
        .contains("Robin Rep was disconnected"));
    assert_eq!(
        p.app
            .store
            .user(p.org, p.rep)
            .await
            .unwrap()
            .unwrap()
            .presence,
        domain::rep::Presence::Offline
    );
}

async fn a_waiting_customer_gets_positions_notices_and_the_rep_pushed(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |_| {}).await).await;
    let (_, first_page) = customer_arrives(&p, "Ahead").await;
    let (second, second_page) = customer_arrives(&p, "Behind").await;
    let url = format!(
        "{}{second_page}/ws",
        p.app.address.replace("http://", "ws://")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("the waiting page's socket opens");
    assert_eq!(next_message(&mut socket).await["position"], 2);

    let ahead = p.app.other_browser();
    ahead
        .submit(&first_page, &format!("{first_page}/cancel"), &[])
        .await;
    assert_eq!(
        next_message(&mut socket).await["position"],
        1,
        "pushed when the one ahead leaves"
    );

    let admin = rep(&p.app, "admin@acme.test").await;
    let notices = format!("/admin/sites/{}/notices", p.site);
    admin
        .submit(
            &notices,
            &notices,
            &[
                ("name", "Phones"),
                ("severity", "warning"),
                ("text_en", "Phones are down."),
            ],
        )
        .await;
    let update = next_message(&mut socket).await;
    assert_eq!(
        update["notices"][0]["text"], "Phones are down.",
        "a published notice reaches customers already waiting"
    );

    let riley = rep(&p.app, "riley@acme.test").await;
    riley
        .submit(
            "/console",
            &format!("/console/sessions/{second}/accept"),
            &[],
        )
        .await;
    let taken = next_message(&mut socket).await;
    assert_eq!(
        (taken["state"].as_str(), taken["rep_name"].as_str()),
        (Some("active"), Some("Robin Rep"))
    );
    assert!(tokio_tungstenite::connect_async(format!(
        "{}/s/unknown/ws",
        p.app.address.replace("http://", "ws://")
    ))
    .await
    .is_err());
}

async fn custom_fields_show_their_labels_in_the_session(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |_| {}).await).await;
    let customer = p.app.other_browser();
    let asked = customer
        .submit(
            "/p/help",
            &format!("/p/help/rep/{}", p.rep),
            &[("customer_name", "Cleo"), ("field_device", "Laptop")],
        )
        .await;
    let session = p.session_at(&location(&asked)).await;
    let riley = rep(&p.app, "riley@acme.test").await;
    let accept = format!("/console/sessions/{}/accept", session.id);
    riley.submit("/console", &accept, &[]).await;
    let (_, tab) = riley
        .get_text(&format!("/console/sessions/{}", session.id))
        .await;
    assert!(
        tab.contains("<dt>Device</dt><dd>Laptop</dd>"),
        "the field's label, not its key"
    );
}

/// A notice planned ahead shows on the pages of customers already waiting when its window
/// opens, and goes when it closes, without anyone acting (the notice's logged start and end).
async fn a_planned_notice_reaches_waiting_customers_when_its_window_opens(backend: Backend) {
    let p = portal_app(spawn_app_with(backend, |_| {}).await).await;
    let (_, page) = customer_arrives(&p, "Waiting").await;
    let url = format!("{}{page}/ws", p.app.address.replace("http://", "ws://"));
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(next_message(&mut socket).await["position"], 1);
    p.plan_notice("Maintenance now.", 1_500, 3_000).await;
    let opened = next_message(&mut socket).await;
    assert_eq!(opened["notices"][0]["text"], "Maintenance now.", "{opened}");
    let closed = next_message(&mut socket).await;
    assert_eq!(closed["notices"], serde_json::json!([]), "{closed}");
}

on_both_backends!(
    a_planned_notice_reaches_waiting_customers_when_its_window_opens,
    custom_fields_show_their_labels_in_the_session,
    a_waiting_customer_gets_positions_notices_and_the_rep_pushed,
    fifty_reps_pressing_accept_at_once_have_exactly_one_winner,
    a_rep_works_sessions_from_the_console,
    a_rep_cannot_hold_more_sessions_than_their_limit,
    the_console_socket_pushes_events_and_resumes_after_the_last_one_seen,
    a_session_returns_to_its_queue_when_its_reps_console_stays_away,
);
