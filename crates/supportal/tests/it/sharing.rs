//! Screen sharing's signaling over the session sockets, on both backends: ICE servers with
//! TURN credentials of each peer's own, frames that reach only the peer they name in the
//! session they were sent in, and what became of a share as a system line and a logged event.

use crate::chat::accept;
use crate::chat::{frame_of, taken_chat_with, TakenChat};
use crate::console::{next_frame, rep, session_cookie, socket_at, Socket};
use crate::on_both_backends;
use crate::portal::portal_app;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use store::Backend;
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "coturn-shared-secret";

/// Send `frame` to the server as a page would.
pub(crate) async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

/// The frames of `kinds` that arrive on `socket` within `wait`.
async fn frames_within(socket: &mut Socket, kinds: &[&str], wait: Duration) -> Vec<Value> {
    let mut seen = Vec::new();
    let until = tokio::time::Instant::now() + wait;
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(until, socket.next()).await {
        if let Message::Text(text) = message {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if kinds.iter().any(|k| frame["type"] == *k) {
                seen.push(frame);
            }
        }
    }
    seen
}

/// The TURN entry of an `ice` frame: its user name must end with `who` and its password be
/// coturn's for that name and the configured secret.
fn assert_turn_for(ice: &Value, who: &str) {
    let servers = ice["servers"].as_array().unwrap();
    assert_eq!(servers[0]["urls"], json!(["stun:127.0.0.1:3478"]), "{ice}");
    let turn = &servers[1];
    assert_eq!(turn["urls"], json!(["turn:127.0.0.1:3478"]));
    let username = turn["username"].as_str().unwrap();
    assert!(username.ends_with(who), "{username} names {who}");
    let expiry: i64 = username.split(':').next().unwrap().parse().unwrap();
    let now = crate::helpers::now().millis() / 1000;
    assert!((now + 590..=now + 610).contains(&expiry), "valid 600 s");
    let password = domain::ice::turn_password(SECRET, username);
    assert_eq!(turn["credential"], json!(password));
}

async fn signaling_stays_between_the_sessions_participants(backend: Backend) {
    let TakenChat {
        p,
        session,
        mut customer,
        mut console,
        ..
    } = taken_chat_with(backend, 0, |c| {
        c.webrtc.stun = vec!["stun:127.0.0.1:3478".into()];
        c.webrtc.turn = vec!["turn:127.0.0.1:3478".into()];
        c.webrtc.turn_secret = Some(SECRET.into());
        c.webrtc.credential_secs = 600;
    })
    .await;
    let id = session.0;
    assert_turn_for(
        &frame_of(&mut customer, "ice").await,
        &format!(":s{id}-customer"),
    );
    // The rep's peer is this console tab: rep<id>.<tab>.
    let rep_ice = frame_of(&mut console, "ice").await;
    let username = rep_ice["servers"][1]["username"].as_str().unwrap();
    let riley = username.split_once('-').unwrap().1.to_owned();
    assert!(riley.starts_with(&format!("rep{}.", p.rep.0)), "{riley}");
    assert_turn_for(&rep_ice, &format!(":s{id}-{riley}"));
    // A second tab of the same rep on the same session is a peer of its own.
    let cookie = session_cookie(&p.app, "riley@acme.test").await;
    let path = format!("/console/sessions/{id}/ws?after=100");
    let mut second_tab = socket_at(&p.app, &path, Some(&cookie)).await;
    let second_ice = frame_of(&mut second_tab, "ice").await;
    let second_name = second_ice["servers"][1]["username"].as_str().unwrap();
    assert!(
        !second_name.ends_with(&riley),
        "{second_name} is not {riley}"
    );

    // Another customer, waiting in the same organization, with their page's socket open.
    let (_, other_waiting) = p.contact_request("Dana").await;
    let mut other = socket_at(&p.app, &format!("{other_waiting}/ws?after=100"), None).await;

    // The rep asks; the customer hears who asks.
    send(&mut console, json!({ "type": "share", "what": "request" })).await;
    let asked = frame_of(&mut customer, "share").await;
    assert_eq!(asked["what"], "request");
    assert_eq!(asked["from"], json!(riley));
    assert_eq!(asked["name"], "Robin Rep");

    // An offer to the rep reaches the rep, from the customer, whatever the page claims.
    let offer =
        json!({ "type": "rtc", "to": riley, "from": "rep99", "data": { "sdp": "v=0 offer" } });
    send(&mut customer, offer).await;
    let heard = frame_of(&mut console, "rtc").await;
    assert_eq!(heard["from"], "customer");
    assert_eq!(heard["data"]["sdp"], "v=0 offer");
    let kinds = ["rtc"];
    let elsewhere = frames_within(&mut second_tab, &kinds, Duration::from_millis(300)).await;
    assert!(elsewhere.is_empty(), "the other tab: {elsewhere:?}");
    // The answer goes back the other way; frames to nobody, to oneself or too large go nowhere.
    send(
        &mut customer,
        json!({ "type": "rtc", "to": "customer", "data": 1 }),
    )
    .await;
    send(
        &mut customer,
        json!({ "type": "rtc", "to": "everyone", "data": 2 }),
    )
    .await;
    let huge = "x".repeat(40 * 1024);
    send(
        &mut console,
        json!({ "type": "rtc", "to": "customer", "data": huge }),
    )
    .await;
    let answer = json!({ "type": "rtc", "to": "customer", "data": { "sdp": "v=0 answer" } });
    send(&mut console, answer).await;
    let heard = frame_of(&mut customer, "rtc").await;
    assert_eq!(heard["from"], json!(riley));
    assert_eq!(
        heard["data"]["sdp"], "v=0 answer",
        "the dropped ones did not come first"
    );

    // The customer's share started: a line in everyone's chat, an event in the log.
    send(&mut customer, json!({ "type": "share", "what": "started" })).await;
    let (mut told, mut line) = (false, None);
    while !told || line.is_none() {
        let frame = next_frame(&mut console).await;
        told |= frame["type"] == "share" && frame["what"] == "started";
        let lines = frame["lines"].as_array().cloned().unwrap_or_default();
        let started = |l: &Value| l["text"] == "The customer started sharing their screen.";
        line = line.or(lines.into_iter().find(started));
    }
    let line = line.unwrap();
    assert_eq!(line["kind"], "system");
    // A customer cannot speak as a rep, nor a rep report the customer's share.
    send(&mut customer, json!({ "type": "share", "what": "request" })).await;
    send(&mut console, json!({ "type": "share", "what": "stopped" })).await;
    send(
        &mut customer,
        json!({ "type": "share", "what": "declined" }),
    )
    .await;
    let kinds = |events: Vec<store::support::StoredEvent>| {
        events
            .iter()
            .filter(|e| e.kind == "screen_sharing")
            .map(|e| e.payload.clone())
            .collect::<Vec<_>>()
    };
    let mut logged = Vec::new();
    for _ in 0..50 {
        logged = kinds(p.app.store.session_events(p.org, session).await.unwrap());
        if logged.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(logged.len(), 2, "{logged:?}");
    assert!(logged[0].contains("started") && logged[1].contains("declined"));
    let shares = frames_within(&mut console, &["share"], Duration::from_millis(500)).await;
    assert_eq!(shares.len(), 1, "only the decline: {shares:?}");
    assert_eq!(shares[0]["what"], "declined");

    // Nothing of it reached the other session.
    let leaked = frames_within(&mut other, &["rtc", "share"], Duration::from_millis(300)).await;
    assert!(leaked.is_empty(), "{leaked:?}");
}

/// A site that does not allow screen sharing: no button on either side, and frames that ask
/// or report a share go nowhere and record nothing.
async fn a_site_without_screen_sharing_carries_none(backend: Backend) {
    let p = portal_app(crate::helpers::spawn_app(backend).await).await;
    p.settings(|s| s.screen_sharing = false).await;
    let (session, waiting) = p.contact_request("Cleo").await;
    let riley = rep(&p.app, "riley@acme.test").await;
    accept(&riley, session.0).await;
    let (_, page) = p.app.get_text(&waiting).await;
    assert!(page.contains("Robin Rep"), "the page of the taken session");
    assert!(!page.contains("offer-screen-share"), "no offer on the page");
    let (_, console) = riley
        .get_text(&format!("/console/sessions/{}", session.0))
        .await;
    assert!(console.contains("chat-input"), "the session's panel");
    assert!(
        !console.contains("request-screen-share"),
        "no request in the console"
    );

    let mut customer = socket_at(&p.app, &format!("{waiting}/ws?after=100"), None).await;
    let cookie = session_cookie(&p.app, "riley@acme.test").await;
    let path = format!("/console/sessions/{}/ws?after=100", session.0);
    let mut console = socket_at(&p.app, &path, Some(&cookie)).await;
    send(&mut console, json!({ "type": "share", "what": "request" })).await;
    let to = format!("rep{}", p.rep.0);
    send(&mut customer, json!({ "type": "rtc", "to": to, "data": 1 })).await;
    send(&mut customer, json!({ "type": "share", "what": "started" })).await;
    let kinds = ["rtc", "share"];
    let heard = frames_within(&mut customer, &kinds, Duration::from_millis(500)).await;
    assert!(heard.is_empty(), "{heard:?}");
    let heard = frames_within(&mut console, &kinds, Duration::from_millis(200)).await;
    assert!(heard.is_empty(), "{heard:?}");
    let events = p.app.store.session_events(p.org, session).await.unwrap();
    assert!(
        events.iter().all(|e| e.kind != "screen_sharing"),
        "nothing recorded"
    );
}

async fn an_invited_rep_views_on_a_connection_of_their_own(backend: Backend) {
    let TakenChat {
        p,
        session,
        riley,
        mut customer,
        ..
    } = taken_chat_with(backend, 0, |_| {}).await;
    let id = session.0;
    let sam = p.app.add_rep(p.org, "sam@acme.test").await;
    let page = format!("/console/sessions/{id}");
    let sam_browser = crate::console::rep(&p.app, "sam@acme.test").await;
    crate::console::invite_and_join(&p, &riley, id, sam, &sam_browser).await;
    let cookie = session_cookie(&p.app, "sam@acme.test").await;
    let mut sam_tab = socket_at(&p.app, &format!("{page}/ws?after=100"), Some(&cookie)).await;
    frame_of(&mut sam_tab, "ice").await;
    // Sam asks to view; the customer's page hears it from Sam's tab and offers to that tab.
    send(&mut sam_tab, json!({ "type": "share", "what": "view" })).await;
    let view = frame_of(&mut customer, "share").await;
    let sam_peer = view["from"].as_str().unwrap().to_owned();
    assert!(
        sam_peer.starts_with(&format!("rep{}.", sam.0)),
        "{sam_peer}"
    );
    let offer = json!({ "type": "rtc", "to": sam_peer, "data": { "sdp": "v=0 offer" } });
    send(&mut customer, offer).await;
    let heard = frame_of(&mut sam_tab, "rtc").await;
    assert_eq!(
        (heard["from"].as_str(), heard["data"]["sdp"].as_str()),
        (Some("customer"), Some("v=0 offer"))
    );
}

on_both_backends!(
    an_invited_rep_views_on_a_connection_of_their_own,
    signaling_stays_between_the_sessions_participants,
    a_site_without_screen_sharing_carries_none,
);
