//! Chat messages committed in groups (decision 0015): whatever arrived while the previous
//! group was being committed goes into the next, in one transaction. A lone message waits for
//! nobody (its group is itself); under load, one lock, one commit and one full-text merge serve
//! many messages instead of each fighting for the write lock. On PostgreSQL one task per node
//! gathers the groups; on SQLite the store's own writer thread does (`sqlite_writer`).

use crate::chat::{NewMessage, Posted};
use crate::{Store, StoreError, StoreResult};
use domain::Timestamp;
use tokio::sync::{mpsc, oneshot};

/// The most messages one transaction holds (bounds how long the write lock is held).
const MOST_PER_GROUP: usize = 256;

/// Messages waiting for the writer before senders wait for room (backpressure, not loss).
const WAITING: usize = 4096;

type Request = (
    NewMessage,
    Timestamp,
    OnCommit,
    oneshot::Sender<StoreResult<Posted>>,
);

/// What to do with a message as soon as it is committed, before its sender hears: announce
/// it, so its readers are woken at the same time as the sender rather than after the sender's
/// task has run (on SQLite this runs on the writer's thread).
pub type OnCommit = Box<dyn FnOnce(&Posted) + Send>;

/// The node's chat writer. Cheap to clone; the task ends when the last clone is dropped.
#[derive(Clone)]
pub struct ChatWriter(Gathering);

/// Who gathers the groups.
#[derive(Clone)]
enum Gathering {
    /// PostgreSQL: a task of this writer's.
    Task(mpsc::Sender<Request>),
    /// SQLite: the store's writer thread.
    Store(Store),
}

impl ChatWriter {
    /// Start the writer (on PostgreSQL, a task on the current tokio runtime).
    pub fn start(store: Store) -> ChatWriter {
        if store.backend() == crate::Backend::Sqlite {
            return ChatWriter(Gathering::Store(store));
        }
        let (requests, waiting) = mpsc::channel(WAITING);
        tokio::spawn(write_groups(store, waiting));
        ChatWriter(Gathering::Task(requests))
    }

    /// Store `message` as `Store::post_message` does, committed with whatever else is waiting.
    /// `committed` sees what became of it once its group has committed; then this answers.
    pub async fn post(
        &self,
        message: NewMessage,
        now: Timestamp,
        committed: OnCommit,
    ) -> StoreResult<Posted> {
        let requests = match &self.0 {
            Gathering::Task(requests) => requests,
            Gathering::Store(store) => {
                let first = move |posted: &[Posted]| {
                    if let Some(posted) = posted.first() {
                        committed(posted);
                    }
                };
                let mut posted = store
                    .post_group(vec![(message, now)], Some(Box::new(first)))
                    .await?;
                return Ok(posted.pop().unwrap_or(Posted::Closed));
            }
        };
        let (answer, answered) = oneshot::channel();
        let stopped = || StoreError::Corrupt("the chat writer has stopped".into());
        requests
            .send((message, now, committed, answer))
            .await
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

async fn write_groups(store: Store, mut waiting: mpsc::Receiver<Request>) {
    let mut group = Vec::with_capacity(MOST_PER_GROUP);
    while waiting.recv_many(&mut group, MOST_PER_GROUP).await > 0 {
        commit(&store, std::mem::take(&mut group)).await;
    }
}

/// Commit one group and answer each sender. When the group's transaction fails, each message
/// is tried again alone, so one bad message (or a lost deadlock) fails only its own sender.
async fn commit(store: &Store, group: Vec<Request>) {
    // One clock reading per message is kept: each sender's own.
    let (messages, answers): (Vec<_>, Vec<_>) = group
        .into_iter()
        .map(|(message, now, committed, answer)| ((message, now), (committed, answer)))
        .unzip();
    let together = store.post_messages(&messages).await;
    match together {
        Ok(posted) if posted.len() == answers.len() => {
            for ((committed, answer), posted) in answers.into_iter().zip(posted) {
                committed(&posted);
                let _ = answer.send(Ok(posted));
            }
        }
        _ => {
            for ((message, now), (committed, answer)) in messages.iter().zip(answers) {
                let posted = store.post_message(message, *now).await;
                if let Ok(posted) = &posted {
                    committed(posted);
                }
                let _ = answer.send(posted);
            }
        }
    }
}
