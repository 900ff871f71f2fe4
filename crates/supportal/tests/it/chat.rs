//! Web chat over real WebSockets, on both backends: one order for every participant, resume
//! after a number with nothing lost or doubled, idempotent resends, limits, access, inert HTML,
//! and messages that outlive the server.

use crate::console::{next_frame, rep, session_cookie, socket_at, Socket};
use crate::helpers::{spawn_with, test_config, TestApp};
use crate::on_both_backends;
use crate::portal::{portal_app, Portal};
use serde_json::Value;
use std::time::Duration;
use store::Backend;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Send `body` from `browser` as the page's script does: the form's token from `page`, posted
/// to `action` as JSON-wanting, with the sender's own client id.
pub async fn say(
    browser: &TestApp,
    page: &str,
    action: &str,
    body: &str,
    id: &str,
) -> (u16, Value) {
    let (_, html) = browser.get_text(page).await;
    let csrf = crate::helpers::csrf_in(&html);
    let response = browser
        .client
        .post(browser.url(action))
        .header("accept", "application/json")
        .form(&[("csrf", csrf.as_str()), ("body", body), ("client_id", id)])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Send `body` as the customer of `waiting`.
pub async fn customer_says(
    app: &TestApp,
    waiting: &str,
    body: &str,
    client_id: &str,
) -> (u16, Value) {
    let action = format!("{waiting}/messages");
    say(app, waiting, &action, body, client_id).await
}

/// Send `body` as a signed-in rep into session `id`.
pub async fn rep_says(rep: &TestApp, id: i64, body: &str, client_id: &str) -> (u16, Value) {
    let action = format!("/console/sessions/{id}/messages");
    say(rep, "/console", &action, body, client_id).await
}

/// Chat lines from `socket` (skipping other frames) until `count` have arrived: their texts
/// with their numbers.
async fn lines(socket: &mut Socket, count: usize) -> Vec<(i64, String)> {
    let got = chat_lines(socket, count).await;
    got.iter()
        .map(|line| {
            let text = line["text"].as_str().unwrap().to_owned();
            (line["seq"].as_i64().unwrap(), text)
        })
        .collect()
}

/// Chat lines from `socket` (skipping other frames) until `count` have arrived, whole.
pub async fn chat_lines(socket: &mut Socket, count: usize) -> Vec<Value> {
    let mut got = Vec::new();
    while got.len() < count {
        let frame = next_frame(socket).await;
        if frame["type"] != "chat" {
            continue;
        }
        got.extend(frame["lines"].as_array().unwrap().iter().cloned());
    }
    got
}

/// Nothing more arrives on `socket` for a moment but heartbeats and views.
async fn no_more_lines(socket: &mut Socket) {
    use futures::StreamExt;
    let quiet = tokio::time::timeout(Duration::from_millis(600), async {
        loop {
            match socket.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) => {
                    let frame: Value = serde_json::from_str(&text).unwrap();
                    if frame["type"] == "chat" {
                        return frame;
                    }
                }
                Some(Ok(_)) => {}
                _ => std::future::pending::<()>().await,
            }
        }
    });
    if let Ok(frame) = quiet.await {
        panic!("no more lines expected, got {frame}");
    }
}

/// The rep ends session `id` from its page with `outcome`.
pub async fn end_session(rep: &TestApp, id: i64, outcome: &str) {
    let end = format!("/console/sessions/{id}/end");
    rep.submit(
        &format!("/console/sessions/{id}"),
        &end,
        &[("outcome", outcome)],
    )
    .await;
}

pub async fn accept(rep: &TestApp, id: i64) {
    let action = format!("/console/sessions/{id}/accept");
    let response = rep.submit("/console", &action, &[]).await;
    assert_eq!(response.status(), 303);
}

async fn three_people_see_one_order_and_a_cut_reader_resumes(backend: Backend) {
    let p = portal_app(crate::helpers::spawn_app(backend).await).await;
    let (session, waiting) = p.contact_request("Cleo").await;
    let id = session.0;
    // The customer writes while still waiting; the page's socket shows it.
    let mut customer = socket_at(&p.app, &format!("{waiting}/ws?after=0"), None).await;
    let (status, sent) = customer_says(&p.app, &waiting, "Printer is on fire", "c-1").await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["line"]["text"], "Printer is on fire");

    // Riley takes it and sees what was written; Sam is invited.
    let riley = rep(&p.app, "riley@acme.test").await;
    accept(&riley, id).await;
    let sam_id = p.app.add_rep(p.org, "sam@acme.test").await;
    let sam = rep(&p.app, "sam@acme.test").await;
    crate::console::invite_and_join(&p, &riley, id, sam_id, &sam).await;
    let riley_cookie = session_cookie(&p.app, "riley@acme.test").await;
    let sam_cookie = session_cookie(&p.app, "sam@acme.test").await;
    let ws = format!("/console/sessions/{id}/ws?after=0");
    let mut riley_socket = socket_at(&p.app, &ws, Some(&riley_cookie)).await;
    let mut sam_socket = socket_at(&p.app, &ws, Some(&sam_cookie)).await;
    // The invited rep's console hears of new lines too (its tab is marked unread).
    let latest = p.app.store.latest_event_seq(p.org).await.unwrap();
    let mut sam_console = crate::console::console_socket(&p.app, &sam_cookie, latest).await;
    assert_eq!(next_frame(&mut sam_console).await["type"], "ready");

    // Three people write at once.
    let (a, b, c) = tokio::join!(
        customer_says(&p.app, &waiting, "Smoke everywhere", "c-2"),
        rep_says(&riley, id, "Unplug it, please", "r-1"),
        rep_says(&sam, id, "I am here too", "s-1"),
    );
    assert_eq!((a.0, b.0, c.0), (200, 200, 200));
    for _ in 0..3 {
        assert_eq!(
            next_frame(&mut sam_console).await,
            serde_json::json!({ "type": "message", "v": 1, "session": id })
        );
    }

    // Everyone sees every line once, in one order: the first message, joined, invited, then
    // the three in the order they were committed.
    let expected = p
        .app
        .store
        .chat_after(p.org, session, 0, 100)
        .await
        .unwrap();
    assert_eq!(expected.len(), 6, "{expected:?}");
    let order: Vec<i64> = expected.iter().map(|i| i.seq).collect();
    let seen_by = |got: Vec<(i64, String)>| got.into_iter().map(|(seq, _)| seq).collect::<Vec<_>>();
    assert_eq!(seen_by(lines(&mut riley_socket, 6).await), order);
    assert_eq!(seen_by(lines(&mut sam_socket, 6).await), order);
    assert_eq!(seen_by(lines(&mut customer, 6).await), order);
    let texts = lines_of(&p, session).await;
    assert_eq!(texts[0], "Printer is on fire");
    assert!(texts[1].contains("Robin Rep joined"), "{texts:?}");
    assert!(texts[2].contains("was invited and joined"), "{texts:?}");

    // The customer's connection is cut after line 4; reopened "after 4", it gets exactly
    // lines 5 and 6 and nothing twice.
    drop(customer);
    let fourth = order[3];
    let mut back = socket_at(&p.app, &format!("{waiting}/ws?after={fourth}"), None).await;
    assert_eq!(seen_by(lines(&mut back, 2).await), order[4..].to_vec());
    no_more_lines(&mut back).await;

    // A resend with the same client id (the answer was lost) stores nothing new.
    let (status, again) = customer_says(&p.app, &waiting, "Smoke everywhere", "c-2").await;
    assert_eq!(status, 200);
    assert_eq!(again["line"]["seq"], a.1["line"]["seq"]);
    assert_eq!(
        p.app
            .store
            .chat_after(p.org, session, 0, 100)
            .await
            .unwrap()
            .len(),
        6
    );
    no_more_lines(&mut back).await;

    // The customer leaves: everyone sees it, and nothing more can be sent.
    let leave = format!("{waiting}/cancel");
    p.app.submit(&waiting, &leave, &[]).await;
    let left = lines(&mut riley_socket, 1).await;
    assert!(left[0].1.contains("The customer left"), "{left:?}");
    let (status, refused) = rep_says(&riley, id, "Hello?", "r-2").await;
    assert_eq!(status, 422);
    assert!(refused["error"].as_str().unwrap().contains("ended"));
    let _ = back.close(None).await;
}

async fn lines_of(p: &Portal, session: domain::SessionId) -> Vec<String> {
    let state = &p.app.state;
    let reader = web::chat::Reader {
        lang: domain::Language::En,
        reads: domain::Language::En,
        translating: false,
    };
    let lines = web::chat::lines_after(state, p.org, session, 0, &reader).await;
    lines.unwrap().into_iter().map(|l| l.text).collect()
}

async fn what_cannot_be_sent_is_said_and_kept(backend: Backend) {
    let p = portal_app(crate::helpers::spawn_app(backend).await).await;
    let (_, waiting) = p.contact_request("Cleo").await;
    let (status, empty) = customer_says(&p.app, &waiting, "  \n ", "c-1").await;
    assert_eq!(
        (status, empty["error"].as_str()),
        (422, Some("This field is required."))
    );
    let long = "x".repeat(4001);
    let (status, too_long) = customer_says(&p.app, &waiting, &long, "c-2").await;
    assert_eq!(status, 422);
    assert!(too_long["error"].as_str().unwrap().contains("4000"));
    let (status, _) = customer_says(&p.app, &waiting, "ok", "not valid!").await;
    assert_eq!(status, 400, "a client id outside its alphabet");
    // Without script: the page comes back with the message beside the input, the text kept.
    let response = p
        .app
        .submit(&waiting, &format!("{waiting}/messages"), &[("body", &long)])
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("data-testid=\"chat-error\"") && page.contains("At most 4000 characters.")
    );
    assert!(page.contains(&long), "what was typed stays");
    // German page, German message.
    let response = p
        .app
        .client
        .post(p.app.url(&format!("{waiting}/messages")))
        .header("accept", "application/json")
        .header("accept-language", "de")
        .form(&[
            (
                "csrf",
                crate::helpers::csrf_in(&p.app.get_text(&waiting).await.1).as_str(),
            ),
            ("body", ""),
            ("client_id", "c-3"),
        ])
        .send()
        .await
        .unwrap();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"], "Dieses Feld ist erforderlich.");
}

async fn only_the_sessions_people_read_and_write_it(backend: Backend) {
    let p = portal_app(crate::helpers::spawn_app(backend).await).await;
    let (session, waiting) = p.contact_request("Cleo").await;
    let (_, other_waiting) = p.contact_request("Eve").await;
    let id = session.0;
    customer_says(&p.app, &waiting, "my secret", "c-1").await;
    // Another session's customer reads only their own conversation.
    let (_, theirs) = p
        .app
        .get_text(&format!("{other_waiting}/messages?after=0"))
        .await;
    assert!(!theirs.contains("my secret"));
    // A rep who is not in the session, and another organization's admin, find nothing.
    p.app.add_rep(p.org, "outsider@acme.test").await;
    let outsider = rep(&p.app, "outsider@acme.test").await;
    let path = format!("/console/sessions/{id}/messages?after=0");
    assert_eq!(outsider.get(&path).await.status(), 404);
    p.app.org_with_admin("globex").await;
    let globex = rep(&p.app, "admin@globex.test").await;
    assert_eq!(globex.get(&path).await.status(), 404);
    let (status, _) = rep_says(&outsider, id, "let me in", "o-1").await;
    assert_eq!(status, 404);
    assert!(!lines_of(&p, session).await.iter().any(|t| t == "let me in"));
    // The session's socket refuses them too.
    let cookie = session_cookie(&p.app, "outsider@acme.test").await;
    let url = format!(
        "{}/console/sessions/{id}/ws",
        p.app.address.replace("http://", "ws://")
    );
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_err());
}

async fn html_in_messages_stays_text_everywhere(backend: Backend) {
    let p = portal_app(crate::helpers::spawn_app(backend).await).await;
    let (session, waiting) = p.contact_request("Cleo <b>").await;
    let riley = rep(&p.app, "riley@acme.test").await;
    accept(&riley, session.0).await;
    let payloads = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "javascript:alert(1)",
        "\"><svg onload=alert(1)>",
        "https://ok.example/?q=<script>",
    ];
    for (n, payload) in payloads.iter().enumerate() {
        let (status, _) = customer_says(&p.app, &waiting, payload, &format!("x-{n}")).await;
        assert_eq!(status, 200);
    }
    let (_, customer_page) = p.app.get_text(&waiting).await;
    let (_, console_page) = riley
        .get_text(&format!("/console/sessions/{}", session.0))
        .await;
    for page in [customer_page, console_page] {
        for raw in [
            "<script>alert",
            "<img src=x",
            "<svg onload",
            "href=\"javascript:",
        ] {
            assert!(!page.contains(raw), "{raw} rendered as HTML");
        }
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(
            page.contains("<a href=\"https:&#x2f;&#x2f;ok.example&#x2f;?q=&lt;script&gt;\" rel=\"noopener noreferrer\""),
            "http(s) links stay links, escaped"
        );
    }
}

async fn messages_outlive_the_server(backend: Backend) {
    let config = test_config(backend).await;
    let first = spawn_with(&config).await;
    let p = portal_app(first).await;
    let (session, waiting) = p.contact_request("Cleo").await;
    customer_says(&p.app, &waiting, "before the restart", "c-1").await;
    let org = p.org;
    drop(p);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let again = spawn_with(&config).await;
    let (_, page) = again.get_text(&waiting).await;
    assert!(page.contains("before the restart"));
    let lines = again.store.chat_after(org, session, 0, 10).await.unwrap();
    assert_eq!(lines.len(), 1);
}

async fn the_customer_keeps_the_transcript_and_rates_the_session(backend: Backend) {
    let p = portal_app(crate::helpers::spawn_app(backend).await).await;
    let (session, waiting) = p.contact_request("Cleo").await;
    let id = session.0;
    let riley = rep(&p.app, "riley@acme.test").await;
    accept(&riley, id).await;
    // The owner's console hears of each message (its tab shows it unread).
    let cookie = session_cookie(&p.app, "riley@acme.test").await;
    let latest = p.app.store.latest_event_seq(p.org).await.unwrap();
    let mut console = crate::console::console_socket(&p.app, &cookie, latest).await;
    assert_eq!(next_frame(&mut console).await["type"], "ready");
    customer_says(&p.app, &waiting, "Hello <b>there</b>", "c-1").await;
    assert_eq!(
        next_frame(&mut console).await,
        serde_json::json!({ "type": "message", "v": 1, "session": id })
    );
    rep_says(&riley, id, "Hi Cleo", "r-1").await;
    let (_, page) = p.app.get_text(&waiting).await;
    assert!(
        page.contains("data-testid=\"survey\" aria-labelledby=\"survey-title\" hidden"),
        "no survey while the session runs"
    );
    end_session(&riley, id, "resolved").await;

    // The transcript: a plain-text download with every line, system lines included.
    let response = p.app.get(&format!("{waiting}/transcript")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    let disposition = response.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"transcript-"),
        "{disposition}"
    );
    let text = response.text().await.unwrap();
    assert!(text.starts_with("Conversation with Cleo"), "{text}");
    for line in [
        "Cleo: Hello <b>there</b>",
        "(Robin Rep joined the conversation.)",
        "Robin Rep: Hi Cleo",
        "(The session has ended.)",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }

    // The survey, once the session ended: refused without a rating (the comment kept), then
    // kept once.
    let (_, page) = p.app.get_text(&waiting).await;
    assert!(page.contains("data-testid=\"survey-submit\""));
    assert!(!page.contains("aria-labelledby=\"survey-title\" hidden"));
    let survey = format!("{waiting}/survey");
    let response = p
        .app
        .submit(&waiting, &survey, &[("comment", "Quick <i>help</i>")])
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("This field is required.")
            && page.contains("Quick &lt;i&gt;help&lt;&#x2f;i&gt;")
    );
    let response = p.app.submit(&waiting, &survey, &[("rating", "9")]).await;
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Enter a number from 1 to 5."));
    let fields = [("rating", "4"), ("comment", "Quick <i>help</i>")];
    assert_eq!(p.app.submit(&waiting, &survey, &fields).await.status(), 303);
    assert!(p
        .app
        .get_text(&waiting)
        .await
        .1
        .contains("data-testid=\"survey-thanks\""));
    p.app.submit(&waiting, &survey, &[("rating", "1")]).await;
    let kept = p.app.store.survey(p.org, session).await.unwrap().unwrap();
    assert_eq!(kept.rating, 4, "rated once");
    // The rep sees the rating beside the session, the comment as text.
    let (_, panel) = riley.get_text(&format!("/console/sessions/{id}")).await;
    assert!(
        panel.contains("4 of 5: “Quick &lt;i&gt;help&lt;&#x2f;i&gt;”"),
        "{panel}"
    );
}

on_both_backends!(
    sent_on_the_socket_stored_once_and_answered_there,
    a_transfer_says_to_whom_and_carries_the_conversation,
    typing_and_read_marks_reach_the_other_side,
    the_customer_keeps_the_transcript_and_rates_the_session,
    three_people_see_one_order_and_a_cut_reader_resumes,
    what_cannot_be_sent_is_said_and_kept,
    only_the_sessions_people_read_and_write_it,
    html_in_messages_stays_text_everywhere,
    messages_outlive_the_server,
);

/// Cleo's session, taken by Riley, with both sides' chat sockets open after number `after`.
pub struct TakenChat {
    pub p: Portal,
    pub session: domain::SessionId,
    pub riley: TestApp,
    pub customer: Socket,
    pub console: Socket,
}

async fn taken_chat(backend: Backend, after: i64) -> TakenChat {
    taken_chat_with(backend, after, |_| {}).await
}

/// `taken_chat` on a server whose configuration `adjust` changed.
pub async fn taken_chat_with(
    backend: Backend,
    after: i64,
    adjust: impl FnOnce(&mut supportal::config::Config),
) -> TakenChat {
    let app = crate::helpers::spawn_app_with(backend, adjust).await;
    let p = portal_app(app).await;
    let (session, waiting) = p.contact_request("Cleo").await;
    let riley = rep(&p.app, "riley@acme.test").await;
    accept(&riley, session.0).await;
    let customer = socket_at(&p.app, &format!("{waiting}/ws?after={after}"), None).await;
    let cookie = session_cookie(&p.app, "riley@acme.test").await;
    let console_path = format!("/console/sessions/{}/ws?after={after}", session.0);
    let console = socket_at(&p.app, &console_path, Some(&cookie)).await;
    TakenChat {
        p,
        session,
        riley,
        customer,
        console,
    }
}

/// Typing and read marks over the sockets: a rep's typing reaches the customer (not the rep);
/// what the customer's page reports read reaches the rep as marks, kept, never past the end.
async fn typing_and_read_marks_reach_the_other_side(backend: Backend) {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let TakenChat {
        p,
        session,
        riley,
        mut customer,
        mut console,
    } = taken_chat(backend, 100).await;
    let id = session.0;
    let first_marks = |frame: Value| frame["type"] == "marks" && frame["customer_read"] == 0;
    assert!(first_marks(frame_of(&mut customer, "marks").await));
    assert!(first_marks(frame_of(&mut console, "marks").await));

    console
        .send(Message::Text(r#"{"type":"typing"}"#.into()))
        .await
        .unwrap();
    let typing = frame_of(&mut customer, "typing").await;
    assert_eq!(
        (typing["from"].as_str(), typing["name"].as_str()),
        (Some("rep"), Some("Robin Rep"))
    );

    let (_, sent) = rep_says(&riley, id, "Hello Cleo", "r-1").await;
    let seq = sent["line"]["seq"].as_i64().unwrap();
    let seen = format!(r#"{{"type":"seen","received":{seq},"read":{seq}}}"#);
    customer.send(Message::Text(seen.into())).await.unwrap();
    let marks = frame_of(&mut console, "marks").await;
    assert_eq!(
        (
            marks["customer_received"].as_i64(),
            marks["customer_read"].as_i64()
        ),
        (Some(seq), Some(seq))
    );
    // A number past the end counts as the end; nothing moved, nothing is announced.
    customer
        .send(Message::Text(
            r#"{"type":"seen","received":999,"read":999}"#.into(),
        ))
        .await
        .unwrap();
    let kept = p.app.store.marks(p.org, session).await.unwrap();
    assert_eq!((kept.customer_received, kept.customer_read), (seq, seq));
    // Nonsense is ignored; the socket stays (and typing passes again once two seconds have).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    customer
        .send(Message::Text("{not json".into()))
        .await
        .unwrap();
    console
        .send(Message::Text(r#"{"type":"typing"}"#.into()))
        .await
        .unwrap();
    assert_eq!(frame_of(&mut customer, "typing").await["from"], "rep");
}

/// A transfer says in the conversation to whom, and the new rep reads it whole.
async fn a_transfer_says_to_whom_and_carries_the_conversation(backend: Backend) {
    let p = portal_app(crate::helpers::spawn_app(backend).await).await;
    let (session, waiting) = p.contact_request("Cleo").await;
    let riley = rep(&p.app, "riley@acme.test").await;
    accept(&riley, session.0).await;
    customer_says(&p.app, &waiting, "Still broken", "c-1").await;
    let to_team = format!("team:{}", p.team);
    let transfer = format!("/console/sessions/{}/transfer", session.0);
    let moved = riley
        .submit(
            "/console",
            &transfer,
            &[("target", to_team.as_str()), ("note", "")],
        )
        .await;
    assert!(moved.status().is_redirection());
    let lines = lines_of(&p, session).await;
    assert_eq!(
        lines.last().map(String::as_str),
        Some("The conversation was handed over to team Support.")
    );
    // The rep of the team who takes it reads everything that was said.
    let sam_id = p.app.add_rep(p.org, "sam@acme.test").await;
    p.app
        .store
        .set_user_teams(p.org, sam_id, &[p.team])
        .await
        .unwrap();
    let sam = rep(&p.app, "sam@acme.test").await;
    accept(&sam, session.0).await;
    let read = format!("/console/sessions/{}/messages?after=0", session.0);
    let seen: Value = sam.get(&read).await.json().await.unwrap();
    let texts: Vec<&str> = seen
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"Still broken"), "{texts:?}");
}

/// A page's `send` frame: a message with the id the page chose.
async fn send_on(socket: &mut Socket, client_id: &str, body: &str) {
    use futures::SinkExt;
    let frame = serde_json::json!({ "type": "send", "client_id": client_id, "body": body });
    let text = tokio_tungstenite::tungstenite::Message::Text(frame.to_string().into());
    socket.send(text).await.unwrap();
}

/// The line with message id `id` on `socket`, skipping other lines and frames.
async fn line_with_id(socket: &mut Socket, id: &str) -> Value {
    loop {
        let frame = frame_of(socket, "chat").await;
        let lines = frame["lines"].as_array().unwrap();
        if let Some(line) = lines.iter().find(|l| l["id"] == id) {
            return line.clone();
        }
    }
}

/// Messages a page's script sends on its socket: the stored line comes back on the sender's
/// socket (the page matches it by id) and reaches the other side; the same id again stores
/// nothing new; what cannot be sent comes back refused with the reason, and so does anything
/// sent after the end.
async fn sent_on_the_socket_stored_once_and_answered_there(backend: Backend) {
    let TakenChat {
        p,
        session,
        riley,
        mut customer,
        mut console,
    } = taken_chat(backend, 0).await;
    let id = session.0;

    send_on(&mut customer, "c-1", "Over the socket").await;
    let mine = line_with_id(&mut customer, "c-1").await;
    assert_eq!(
        (&mine["text"], &mine["from"]),
        (&"Over the socket".into(), &"customer".into())
    );
    let theirs = line_with_id(&mut console, "c-1").await;
    assert_eq!(theirs["seq"], mine["seq"]);

    send_on(&mut console, "r-1", "Answered on mine").await;
    assert_eq!(line_with_id(&mut console, "r-1").await["from"], "rep");
    assert_eq!(
        line_with_id(&mut customer, "r-1").await["text"],
        "Answered on mine"
    );

    // The page lost the answer and sends again with the same id: nothing new for anyone.
    send_on(&mut customer, "c-1", "Over the socket").await;
    no_more_lines(&mut console).await;
    let texts = lines_of(&p, session).await;
    let copies = texts.iter().filter(|t| *t == "Over the socket").count();
    assert_eq!(copies, 1, "{texts:?}");
    // The operator's metrics timed each message stored, once: not the resend.
    let (_, metrics) = p.app.get_text("/metrics").await;
    assert!(
        metrics.contains("supportal_chat_message_stored_seconds_count 2"),
        "{metrics}"
    );

    send_on(&mut customer, "c-2", "   ").await;
    let refused = frame_of(&mut customer, "refused").await;
    assert_eq!(
        (refused["client_id"].as_str(), refused["error"].as_str()),
        (Some("c-2"), Some("This field is required."))
    );
    let end = format!("/console/sessions/{id}/end");
    let panel = format!("/console/sessions/{id}");
    riley.submit(&panel, &end, &[("outcome", "resolved")]).await;
    send_on(&mut customer, "c-3", "Still there?").await;
    let refused = frame_of(&mut customer, "refused").await;
    assert_eq!(refused["client_id"], "c-3");
    assert!(
        refused["error"].as_str().unwrap().contains("ended"),
        "{refused}"
    );

    // A frame larger than any message could be closes the socket (a page sends such text by
    // POST, whose answer says it is too long).
    let huge = "x".repeat(web::realtime::MAX_FRAME + 1);
    send_on(&mut customer, "c-4", &huge).await;
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            match customer.next().await {
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            }
        }
    });
    assert!(closed.await.is_ok(), "the socket closes");
}

/// The next frame of `kind` on `socket`, skipping others.
pub async fn frame_of(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let frame = next_frame(socket).await;
        if frame["type"] == kind {
            return frame;
        }
    }
}
