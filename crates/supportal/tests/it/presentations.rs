//! Presentations over HTTP and their sockets, on both backends: a rep starts one and gets a key
//! and a link; attendees join with a name up to the limit (the next is told it is full);
//! signaling goes only between the presenter and an attendee; the chat reaches everyone, once
//! per line; a removed attendee's socket ends and their seat is free again; the end reaches
//! everyone, and the key, the link and the portal's list stop offering it.

use crate::chat::frame_of;
use crate::console::{rep, session_cookie, socket_at, Socket};
use crate::helpers::{location, spawn_app_with, TestApp};
use crate::on_both_backends;
use crate::portal::portal_app;
use crate::sharing::send;
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;
use store::Backend;
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "coturn-shared-secret";

/// Whether a frame of `kind` arrives on `socket` within half a second.
async fn hears_within(socket: &mut Socket, kind: &str) -> bool {
    let until = tokio::time::Instant::now() + Duration::from_millis(500);
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(until, socket.next()).await {
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if frame["type"] == kind {
                return true;
            }
        }
    }
    false
}

/// Whether the server closed `socket` (within 5 s).
async fn closes(socket: &mut Socket) -> bool {
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(until, socket.next()).await {
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => continue,
            Err(_) => return false,
        }
    }
}

/// The presenter's attendee list once it has `count` names.
async fn attendees_when(socket: &mut Socket, count: usize) -> Vec<Value> {
    loop {
        let frame = frame_of(socket, "attendees").await;
        let list = frame["list"].as_array().unwrap().clone();
        if list.len() == count {
            return list;
        }
    }
}

/// Someone joins through the lobby with `name`: the response (303 to their address, or the
/// lobby again).
async fn join(app: &TestApp, lobby: &str, name: &str) -> reqwest::Response {
    let browser = app.other_browser();
    browser.submit(lobby, lobby, &[("name", name)]).await
}

async fn a_presentation_seats_its_limit_and_keeps_its_signaling_and_chat_inside(backend: Backend) {
    let p = portal_app(
        spawn_app_with(backend, |c| {
            c.webrtc.stun = vec!["stun:127.0.0.1:3478".into()];
            c.webrtc.turn = vec!["turn:127.0.0.1:3478".into()];
            c.webrtc.turn_secret = Some(SECRET.into());
        })
        .await,
    )
    .await;
    p.settings(|s| s.list_presentations = true).await;
    let app = &p.app;
    let riley = rep(app, "riley@acme.test").await;

    // No title: said beside the field, nothing started.
    let page = "/console/presentations";
    let refused = riley.submit(page, page, &[("title", "  ")]).await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("f-title-error"));
    let started = riley
        .submit(page, page, &[("title", "Release walkthrough")])
        .await;
    let presenter_page = location(&started);
    let id: i64 = presenter_page
        .strip_prefix("/console/presentations/")
        .unwrap()
        .parse()
        .unwrap();
    let (_, html) = riley.get_text(&presenter_page).await;
    assert!(html.contains("data-testid=\"presentation-key\""));
    // The link as the page shows it (minijinja escapes its slashes in the attribute).
    let link = html
        .split("data-testid=\"presentation-link\" href=\"")
        .nth(1)
        .unwrap();
    let link = link.split('"').next().unwrap().replace("&#x2f;", "/");
    assert!(link.starts_with("http://127.0.0.1:"), "{link}");
    let key = link.rsplit('/').next().unwrap().to_owned();
    let spaced = domain::session_key::SessionKey::parse(&key)
        .unwrap()
        .spaced();
    assert!(html.contains(&spaced), "the key is shown, spaced");
    let lobby = format!("/presentations/{key}");
    // Nobody signed out, and no other rep, opens it or its socket.
    let other = app.other_browser();
    assert_eq!(other.get(&presenter_page).await.status(), 303, "signed out");
    app.add_rep(p.org, "sam@acme.test").await;
    let sam = rep(app, "sam@acme.test").await;
    assert_eq!(sam.get(&presenter_page).await.status(), 404, "another rep");
    let sam_cookie = session_cookie(app, "sam@acme.test").await;
    let sam_socket = format!(
        "{}{presenter_page}/ws",
        app.address.replace("http://", "ws://")
    );
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(sam_socket)
            .unwrap();
    request
        .headers_mut()
        .insert("cookie", sam_cookie.parse().unwrap());
    assert!(
        tokio_tungstenite::connect_async(request).await.is_err(),
        "another rep's socket"
    );

    // The portal lists it.
    let (_, home) = app.get_text("/p/help").await;
    assert!(
        home.contains("data-testid=\"listed-presentation\""),
        "listed"
    );
    assert!(home.replace("&#x2f;", "/").contains(&lobby));

    let cookie = session_cookie(app, "riley@acme.test").await;
    let mut presenter = socket_at(app, &format!("{presenter_page}/ws"), Some(&cookie)).await;
    let ice = frame_of(&mut presenter, "ice").await;
    let username = ice["servers"][1]["username"].as_str().unwrap().to_owned();
    assert!(
        username.ends_with(&format!(":p{id}-presenter")),
        "{username}"
    );
    assert_eq!(
        ice["servers"][1]["credential"],
        json!(domain::ice::turn_password(SECRET, &username))
    );

    // Ten join (the default limit); the eleventh is told the presentation is full, name kept.
    let mut tokens = Vec::new();
    for n in 0..10 {
        let joined = join(app, &lobby, &format!("Attendee {n}")).await;
        assert_eq!(joined.status(), 303, "attendee {n} joins");
        let to = location(&joined);
        tokens.push(to.strip_prefix("/attend/").unwrap().to_owned());
    }
    let full = join(app, &lobby, "Eleventh Person").await;
    assert_eq!(full.status(), 409);
    let full = full.text().await.unwrap();
    assert!(full.contains("data-testid=\"presentation-full\""));
    assert!(full.contains("This presentation is full."));
    assert!(full.contains("value=\"Eleventh Person\""));
    let list = attendees_when(&mut presenter, 10).await;
    assert_eq!(list[0]["name"], "Attendee 0");
    let (first, second) = (
        list[0]["id"].as_i64().unwrap(),
        list[1]["id"].as_i64().unwrap(),
    );

    let mut ann = socket_at(app, &format!("/attend/{}/ws", tokens[0]), None).await;
    let mut ben = socket_at(app, &format!("/attend/{}/ws", tokens[1]), None).await;
    let ice = frame_of(&mut ann, "ice").await;
    let username = ice["servers"][1]["username"].as_str().unwrap();
    assert!(
        username.ends_with(&format!(":p{id}-a{first}")),
        "{username}"
    );

    // Signaling: an attendee reaches the presenter only, as itself; the presenter one attendee.
    send(
        &mut ann,
        json!({ "type": "rtc", "to": format!("a{second}"), "data": 1 }),
    )
    .await;
    assert!(
        !hears_within(&mut ben, "rtc").await,
        "attendees cannot signal each other"
    );
    send(
        &mut ann,
        json!({ "type": "rtc", "to": "presenter", "from": "a99", "data": { "sdp": "answer" } }),
    )
    .await;
    let heard = frame_of(&mut presenter, "rtc").await;
    assert_eq!(heard["from"], json!(format!("a{first}")));
    assert_eq!(heard["data"]["sdp"], "answer");
    send(
        &mut presenter,
        json!({ "type": "rtc", "to": format!("a{second}"), "data": { "sdp": "offer" } }),
    )
    .await;
    assert_eq!(frame_of(&mut ben, "rtc").await["from"], "presenter");
    assert!(
        !hears_within(&mut ann, "rtc").await,
        "only the attendee named"
    );
    // The presenter says they share; an attendee asks to view.
    send(
        &mut presenter,
        json!({ "type": "share", "what": "started" }),
    )
    .await;
    assert_eq!(frame_of(&mut ann, "share").await["what"], "started");
    assert_eq!(frame_of(&mut ben, "share").await["what"], "started");
    send(&mut ann, json!({ "type": "share", "what": "view" })).await;
    let view = frame_of(&mut presenter, "share").await;
    assert_eq!(
        (view["what"].as_str(), view["from"].clone()),
        (Some("view"), json!(format!("a{first}")))
    );
    assert!(
        !hears_within(&mut ben, "share").await,
        "a view is for the presenter"
    );

    // The chat: everyone sees a line once; a resend with the same id stores nothing new.
    send(
        &mut ann,
        json!({ "type": "say", "id": "line-1", "text": "Hello all" }),
    )
    .await;
    for socket in [&mut presenter, &mut ben] {
        let line = frame_of(socket, "line").await;
        assert_eq!(
            (line["name"].as_str(), line["text"].as_str()),
            (Some("Attendee 0"), Some("Hello all"))
        );
        assert_eq!(line["seq"], 1);
    }
    assert_eq!(frame_of(&mut ann, "line").await["mine"], true);
    send(
        &mut ann,
        json!({ "type": "say", "id": "line-1", "text": "Hello all" }),
    )
    .await;
    send(
        &mut presenter,
        json!({ "type": "say", "id": "p-1", "text": "Welcome" }),
    )
    .await;
    let line = frame_of(&mut ben, "line").await;
    assert_eq!(
        (line["seq"].as_i64(), line["name"].as_str()),
        (Some(2), Some("Robin Rep"))
    );
    send(
        &mut ann,
        json!({ "type": "say", "id": "line-2", "text": "   " }),
    )
    .await;
    let refused = frame_of(&mut ann, "refused").await;
    assert_eq!(refused["id"], "line-2");
    assert_eq!(refused["error"], "This field is required.");
    // A page that comes back after line 1 gets what followed.
    let mut again = socket_at(app, &format!("/attend/{}/ws?after=1", tokens[1]), None).await;
    assert_eq!(frame_of(&mut again, "line").await["text"], "Welcome");
    drop(again);

    // Removed: Ben's socket is told and closes, his address says so, his seat is free.
    send(
        &mut presenter,
        json!({ "type": "remove", "attendee": second }),
    )
    .await;
    assert_eq!(frame_of(&mut ben, "removed").await["type"], "removed");
    assert!(closes(&mut ben).await);
    assert_eq!(attendees_when(&mut presenter, 9).await.len(), 9);
    let (_, page) = app.get_text(&format!("/attend/{}", tokens[1])).await;
    assert!(page.contains("The presenter removed you from this presentation."));
    let url = format!(
        "{}/attend/{}/ws",
        app.address.replace("http://", "ws://"),
        tokens[1]
    );
    assert!(
        tokio_tungstenite::connect_async(url).await.is_err(),
        "no way back in"
    );
    assert_eq!(join(app, &lobby, "Eleventh Person").await.status(), 303);
    // Someone leaves: the presenter's list loses them, their address says so.
    let third = format!("/attend/{}", tokens[2]);
    let left = app
        .other_browser()
        .submit(&third, &format!("{third}/leave"), &[])
        .await;
    assert_eq!(location(&left), third);
    attendees_when(&mut presenter, 9).await;
    let (_, page) = app.get_text(&third).await;
    assert!(page.contains("You left this presentation."));
    // A portal that does not offer presentations does not take their keys.
    p.settings(|s| {
        s.methods.remove(&domain::site::Method::Presentation);
    })
    .await;
    let elsewhere = app
        .submit(
            "/p/help",
            "/p/help/presentation",
            &[("presentation_key", &key)],
        )
        .await;
    assert_eq!(elsewhere.status(), 404);

    // The end reaches everyone; the key, the link and the portal's list stop offering it.
    send(&mut presenter, json!({ "type": "end" })).await;
    assert_eq!(frame_of(&mut ann, "ended").await["type"], "ended");
    assert!(closes(&mut presenter).await);
    assert_eq!(app.get(&lobby).await.status(), 404);
    let (_, page) = app.get_text(&format!("/attend/{}", tokens[0])).await;
    assert!(page.contains("This presentation has ended."));
    let typed = app.submit("/join", "/join", &[("key", &key)]).await;
    assert_eq!(typed.status(), 422, "the key is spent");
    p.settings(|s| {
        s.methods.insert(domain::site::Method::Presentation);
    })
    .await;
    let typed = app
        .submit(
            "/p/help",
            "/p/help/presentation",
            &[("presentation_key", &key)],
        )
        .await;
    assert_eq!(typed.status(), 422, "spent on the portal too");
    let (_, home) = app.get_text("/p/help").await;
    assert!(!home.contains("listed-presentation"), "no longer listed");
}

on_both_backends!(a_presentation_seats_its_limit_and_keeps_its_signaling_and_chat_inside);
