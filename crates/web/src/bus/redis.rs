//! The bus across nodes: Redis pub/sub on one channel (per installation: `bus.channel`). A node hands its own announcements to its
//! hub at once and publishes them for the others; it skips its own when they come back. Redis
//! pub/sub may drop messages (a reconnect, a slow subscriber): the intake notices the missing
//! number and repairs from the database.

use super::{Announcement, EventBus, Intake};
use crate::realtime::hub::Hub;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

#[derive(Serialize, Deserialize)]
struct Envelope {
    node: u64,
    announcement: Announcement,
}

pub struct RedisBus {
    intake: Arc<Intake>,
    node: u64,
    outbox: mpsc::UnboundedSender<String>,
    client: ::redis::Client,
}

impl RedisBus {
    /// Connect to Redis at `url`, start publishing and listening. Fails when Redis cannot be
    /// reached now (a node should not start half connected); later drops are reconnected.
    pub async fn connect(url: &str, channel: &str, intake: Arc<Intake>) -> anyhow::Result<Self> {
        let client = ::redis::Client::open(url)?;
        let publisher = client.get_multiplexed_async_connection().await?;
        let listener = client.get_async_pubsub().await?;
        let node = rand::random::<u64>();
        let (outbox, pending) = mpsc::unbounded_channel();
        let channel: Arc<str> = channel.into();
        tokio::spawn(publish(client.clone(), publisher, channel.clone(), pending));
        tokio::spawn(listen(
            client.clone(),
            listener,
            channel,
            node,
            intake.clone(),
        ));
        Ok(RedisBus {
            intake,
            node,
            outbox,
            client,
        })
    }
}

impl EventBus for RedisBus {
    fn publish(&self, announcement: Announcement) {
        let mut envelope = Envelope {
            node: self.node,
            announcement,
        };
        envelope.announcement.carried = envelope
            .announcement
            .line
            .as_deref()
            .and_then(crate::chat::CarriedLine::of);
        if let Ok(text) = serde_json::to_string(&envelope) {
            let _ = self.outbox.send(text);
        }
        self.intake.receive(envelope.announcement);
    }

    fn hub(&self) -> &Arc<Hub> {
        self.intake.hub()
    }

    /// Redis answers a PING on a fresh connection within a second.
    fn ready(&self) -> futures::future::BoxFuture<'_, bool> {
        Box::pin(async move {
            let ping = async {
                let mut connection = self.client.get_multiplexed_async_connection().await?;
                ::redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
            };
            matches!(
                tokio::time::timeout(Duration::from_secs(1), ping).await,
                Ok(Ok(_))
            )
        })
    }
}

/// Publish in the order announced, as many as are waiting in one round trip (a pipeline of
/// PUBLISH commands): one at a time, a node could not publish faster than one Redis round trip
/// per announcement, and under load the queue (and every delivery's wait) grew without bound.
/// A failed batch is logged (the other nodes notice the gap and repair from the database) and
/// the connection is made afresh and the batch sent once more, so a Redis that restarted
/// carries this node's announcements again.
async fn publish(
    client: ::redis::Client,
    mut connection: ::redis::aio::MultiplexedConnection,
    channel: Arc<str>,
    mut pending: mpsc::UnboundedReceiver<String>,
) {
    let mut batch = Vec::new();
    while pending.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
        let mut pipe = ::redis::pipe();
        for text in &batch {
            pipe.cmd("PUBLISH").arg(&*channel).arg(text).ignore();
        }
        let sent: ::redis::RedisResult<()> = pipe.query_async(&mut connection).await;
        if let Err(err) = sent {
            tracing::warn!(error = %err, "could not publish to Redis: reconnecting");
            let fresh = client.get_multiplexed_async_connection();
            if let Ok(Ok(fresh)) = tokio::time::timeout(Duration::from_secs(1), fresh).await {
                connection = fresh;
                // Once more on the new connection: a Redis that restarted loses nothing of ours.
                let again: ::redis::RedisResult<()> = pipe.query_async(&mut connection).await;
                if let Err(err) = again {
                    tracing::warn!(error = %err, "could not publish to Redis");
                }
            }
        }
        batch.clear();
    }
}

/// At most this many announcements go to Redis in one round trip.
const PUBLISH_BATCH: usize = 256;

/// Hand other nodes' announcements to this node's intake; reconnect when Redis goes away.
async fn listen(
    client: ::redis::Client,
    mut listener: ::redis::aio::PubSub,
    channel: Arc<str>,
    node: u64,
    intake: Arc<Intake>,
) {
    loop {
        match listener.subscribe(&*channel).await {
            Ok(()) => {
                let mut messages = listener.on_message();
                let own = OwnEnvelopes::of(node);
                while let Some(message) = messages.next().await {
                    let payload = message.get_payload_bytes();
                    if own.sent(payload) {
                        continue;
                    }
                    let Ok(envelope) = serde_json::from_slice::<Envelope>(payload) else {
                        continue;
                    };
                    let mut announcement = envelope.announcement;
                    announcement.line = announcement
                        .carried
                        .take()
                        .map(|carried| Arc::new(carried.into_line()));
                    intake.receive_from_elsewhere(announcement);
                }
                tracing::warn!("the Redis bus connection closed: reconnecting");
            }
            Err(err) => tracing::warn!(error = %err, "could not subscribe to the Redis bus"),
        }
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            match client.get_async_pubsub().await {
                Ok(fresh) => {
                    listener = fresh;
                    break;
                }
                Err(err) => tracing::warn!(error = %err, "Redis is unreachable"),
            }
        }
    }
}

/// Recognizes this node's own envelopes coming back from Redis by their first bytes, so that
/// they are skipped unparsed: every node hears every node's announcements, its own among them,
/// and parsing a chat line's envelope only to drop it was a third of a node's bus parsing in a
/// three-node cluster. `Envelope` serializes its `node` first, so every envelope of this
/// node's starts with the same bytes (the test below fails if the fields are reordered).
struct OwnEnvelopes {
    prefix: Vec<u8>,
}

impl OwnEnvelopes {
    fn of(node: u64) -> Self {
        OwnEnvelopes {
            prefix: format!("{{\"node\":{node},").into_bytes(),
        }
    }

    fn sent(&self, payload: &[u8]) -> bool {
        payload.starts_with(&self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::{CarriedLine, ChatLine, FileRef};
    use domain::Language;

    /// A message's line reaches another node as its own node had it: the reader there shows it
    /// without reading the conversation back.
    #[test]
    fn a_message_line_crosses_nodes_whole() {
        let line = ChatLine {
            seq: 7,
            kind: "message",
            id: "c-7".into(),
            from: "customer".into(),
            name: "Cleo".into(),
            text: "See https://example.test/a <b>".into(),
            segments: domain::chat::segments("See https://example.test/a <b>"),
            at: 1_700_000_000_000,
            original: None,
            not_translated: false,
            lang: Some(Language::De),
            translations: [(Language::En, "See it".to_owned())].into(),
            file: Some(FileRef {
                id: 3,
                name: "log.txt".into(),
                size: "2 KB".into(),
            }),
        };
        let envelope = Envelope {
            node: 1,
            announcement: Announcement {
                org: domain::OrgId(1),
                seq: 0,
                kind: crate::bus::MESSAGE.into(),
                session: Some(domain::SessionId(2)),
                topics: vec![],
                line: None,
                said: None,
                carried: CarriedLine::of(&line),
                signal: None,
            },
        };
        let wire = serde_json::to_string(&envelope).unwrap();
        let back: Envelope = serde_json::from_str(&wire).unwrap();
        assert_eq!(back.announcement.carried.unwrap().into_line(), line);
    }

    /// A node's own envelope is recognized before parsing; another node's, even one whose
    /// number starts with the same digits, is not.
    #[test]
    fn only_this_nodes_own_envelopes_are_skipped_unparsed() {
        let announcement = || Announcement {
            org: domain::OrgId(1),
            seq: 4,
            kind: crate::bus::MESSAGE.into(),
            session: None,
            topics: vec![],
            line: None,
            said: None,
            carried: None,
            signal: None,
        };
        let wire = |node| {
            serde_json::to_vec(&Envelope {
                node,
                announcement: announcement(),
            })
            .unwrap()
        };
        let own = OwnEnvelopes::of(12);
        assert!(own.sent(&wire(12)));
        assert!(!own.sent(&wire(123)));
        assert!(!own.sent(&wire(1)));
        assert!(!own.sent(&wire(u64::MAX)));
        assert!(OwnEnvelopes::of(u64::MAX).sent(&wire(u64::MAX)));
    }
}
