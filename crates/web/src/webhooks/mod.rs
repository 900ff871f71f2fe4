//! Webhook deliveries: a background task on every node turns the session event log (the outbox:
//! each event is committed with its change) into deliveries, once, and sends what is due,
//! each delivery in a task of its own so that one slow or dead endpoint never holds up
//! another. Failed attempts are tried again on the Standard Webhooks schedule for a day.

pub mod target;

use crate::state::AppState;
use domain::webhook::{retry_after_secs, signature, GIVE_UP_AFTER_MS};
use domain::{OrgId, Timestamp};
use std::time::{Duration, Instant};
use store::support::StoredEvent;
use store::webhooks::{Attempt, Delivery, Endpoint, NewDelivery};

/// How often each node looks for new events and due deliveries.
const TICK: Duration = Duration::from_millis(250);
/// How long a node holds a delivery it is sending (past the request's own 10 s timeout).
const HOLD_MS: i64 = 30_000;
/// Events turned into deliveries per organization and tick.
const EVENTS_PER_TICK: i64 = 500;

/// Start the worker (None when no HTTP client can be made; the log says why).
pub fn start(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let client = match target::client(state.config.webhooks_allow_private_targets) {
        Ok(client) => client,
        Err(err) => {
            tracing::error!(error = %err, "webhooks cannot be sent: no HTTP client");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(err) = feed(&state).await {
                tracing::warn!(error = %err, "webhook events not turned into deliveries this time");
            }
            if let Err(err) = send_due(&state, &client).await {
                tracing::warn!(error = %err, "webhook deliveries not claimed this time");
            }
        }
    }))
}

/// The webhook event type of a session event (None: not one endpoints receive).
pub fn event_type(event: &StoredEvent) -> Option<&'static str> {
    match event.kind.as_str() {
        "queued" => Some("session.queued"),
        "accepted" => Some("session.accepted"),
        "ended" => Some("session.ended"),
        "survey_submitted" => Some("survey.submitted"),
        store::notice_log::NOTICE_STARTED => Some("notice.started"),
        store::notice_log::NOTICE_ENDED => Some("notice.ended"),
        // A requeue is a transfer when a rep made it (its reason says so), else the rep
        // went offline and the session went back.
        "requeued" => Some(match event.event() {
            Ok(domain::session::SessionEvent::Requeued { reason, .. })
                if reason.starts_with(crate::explain::TRANSFERRED_PREFIX) =>
            {
                "session.transferred"
            }
            _ => "session.requeued",
        }),
        _ => None,
    }
}

/// The body endpoints receive: `{"type", "timestamp", "data"}` as the specification suggests.
pub fn payload(org: OrgId, event: &StoredEvent, event_type: &str) -> String {
    let recorded: serde_json::Value =
        serde_json::from_str(&event.payload).unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "type": event_type,
        "timestamp": crate::api::json::time(event.created_at.millis()),
        "data": {
            "organization_id": org.0,
            "session_id": event.session_id,
            "event_seq": event.seq,
            "event": recorded,
        },
    })
    .to_string()
}

/// Turn each organization's new events into deliveries for the endpoints that want them.
async fn feed(state: &AppState) -> store::StoreResult<()> {
    for (org, from) in state.store.webhook_cursors().await? {
        let events = state.store.events_after(org, from, EVENTS_PER_TICK).await?;
        let Some(to) = events.last().map(|e| e.seq) else {
            continue;
        };
        let endpoints = state.store.webhook_endpoints(org).await?;
        let mut deliveries = Vec::new();
        for event in &events {
            let Some(kind) = event_type(event) else {
                continue;
            };
            let body = payload(org, event, kind);
            for endpoint in endpoints.iter().filter(|e| e.wants(kind)) {
                deliveries.push(NewDelivery {
                    message_id: message_id(),
                    endpoint_id: endpoint.id,
                    event_type: kind.to_owned(),
                    session_id: event.session_id,
                    payload: body.clone(),
                });
            }
        }
        // False: another node turned them first; nothing was written here.
        state
            .store
            .feed_webhooks(org, from, to, &deliveries, state.now())
            .await?;
    }
    Ok(())
}

fn message_id() -> String {
    let token = domain::secret::random_token(&mut rand::rngs::OsRng);
    format!("msg_{}", token.replace(['-', '_'], ""))
}

/// Claim what is due and send each in a task of its own.
async fn send_due(state: &AppState, client: &reqwest::Client) -> store::StoreResult<()> {
    let claimed = state
        .store
        .claim_webhook_deliveries(state.now(), HOLD_MS, 64)
        .await?;
    for (delivery, endpoint) in claimed {
        let (state, client) = (state.clone(), client.clone());
        tokio::spawn(async move {
            let attempt = deliver(&client, &delivery, &endpoint, state.now()).await;
            let recorded = match attempt {
                Sent::Delivered { status, latency_ms } => Attempt::Delivered { status, latency_ms },
                Sent::Failed {
                    status,
                    ref error,
                    latency_ms,
                } => {
                    let now = state.now();
                    let given_up = now.millis() - delivery.created_at > GIVE_UP_AFTER_MS;
                    Attempt::Failed {
                        status,
                        error,
                        latency_ms,
                        retry_at: (!given_up)
                            .then(|| now.plus_seconds(retry_after_secs(delivery.attempts + 1))),
                    }
                }
            };
            if let Err(err) = state
                .store
                .finish_webhook_delivery(delivery.id, &recorded, state.now())
                .await
            {
                tracing::warn!(error = %err, delivery = delivery.id, "a webhook attempt was not recorded");
            }
        });
    }
    Ok(())
}

enum Sent {
    Delivered {
        status: i64,
        latency_ms: i64,
    },
    Failed {
        status: Option<i64>,
        error: String,
        latency_ms: i64,
    },
}

/// One attempt: the signed POST, answered 2xx within the timeout or not.
async fn deliver(
    client: &reqwest::Client,
    delivery: &Delivery,
    endpoint: &Endpoint,
    now: Timestamp,
) -> Sent {
    let started = Instant::now();
    let elapsed = || i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    if let Some(why) = target::refusal(&endpoint.url, true) {
        return Sent::Failed {
            status: None,
            error: why.to_owned(),
            latency_ms: 0,
        };
    }
    let timestamp = now.millis() / 1000;
    let Some(signed) = signature(
        &endpoint.secret,
        &delivery.message_id,
        timestamp,
        &delivery.payload,
    ) else {
        return Sent::Failed {
            status: None,
            error: "the endpoint's secret cannot be read".into(),
            latency_ms: 0,
        };
    };
    let sent = client
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signed)
        .body(delivery.payload.clone())
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => Sent::Delivered {
            status: i64::from(response.status().as_u16()),
            latency_ms: elapsed(),
        },
        Ok(response) => Sent::Failed {
            status: Some(i64::from(response.status().as_u16())),
            error: format!("answered {}", response.status()),
            latency_ms: elapsed(),
        },
        Err(err) => Sent::Failed {
            status: None,
            error: format!("{err:#}").chars().take(500).collect(),
            latency_ms: elapsed(),
        },
    }
}
