//! Chat messages committed in groups (decision 0015): whatever arrived while the previous
//! group was being committed goes into the next, in one transaction. A lone message waits for
//! nobody (its group is itself); under load, one lock, one commit and one WAL write serve many
//! messages instead of each fighting for the write lock. On PostgreSQL one task per node
//! gathers the groups; on SQLite the store's own writer thread does (`sqlite_writer`). Both
//! gather `Post`s into a `Group` and settle it the same way.

use crate::chat::{NewMessage, Posted};
use crate::pool::Pool;
use crate::sqlite_writer::SqliteWriter;
use crate::{Store, StoreError, StoreResult};
use domain::Timestamp;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most messages one transaction holds (bounds how long the write lock is held).
pub(crate) const MOST_PER_GROUP: usize = 256;

/// Jobs waiting for a writer before senders wait for room (backpressure, not loss).
pub(crate) const WAITING: usize = 4096;

/// What to do with a job's messages as soon as they are committed, before its sender hears:
/// announce them, so readers are woken at the same time as the sender rather than after the
/// sender's task has run (on SQLite this runs on the writer's thread).
pub(crate) type OnCommit = Box<dyn FnOnce(&[Posted]) + Send>;

/// Where what became of a job's messages goes.
type Answer = oneshot::Sender<StoreResult<Vec<Posted>>>;

/// Messages one caller stores together, and where what became of them goes.
pub(crate) struct Post {
    pub(crate) messages: Vec<(NewMessage, Timestamp)>,
    pub(crate) on_commit: Option<OnCommit>,
    pub(crate) answer: Answer,
}

/// Send a job to a writer and wait for its answer.
pub(crate) async fn ask<J, T>(
    jobs: &mpsc::Sender<J>,
    job: impl FnOnce(oneshot::Sender<StoreResult<T>>) -> J,
) -> StoreResult<T> {
    let (answer, answered) = oneshot::channel();
    let stopped = || StoreError::Corrupt("the chat writer has stopped".into());
    jobs.send(job(answer)).await.map_err(|_| stopped())?;
    answered.await.map_err(|_| stopped())?
}

/// Jobs gathered into one transaction: all their messages in order, and each job's share.
pub(crate) struct Group {
    pub(crate) messages: Vec<(NewMessage, Timestamp)>,
    shares: Vec<(usize, Option<OnCommit>, Answer)>,
}

impl Group {
    pub(crate) fn of(posts: Vec<Post>) -> Group {
        let mut group = Group {
            messages: Vec::new(),
            shares: Vec::with_capacity(posts.len()),
        };
        for post in posts {
            let share = (post.messages.len(), post.on_commit, post.answer);
            group.shares.push(share);
            group.messages.extend(post.messages);
        }
        group
    }

    /// Answer each job from what the group's transaction did, each after its `on_commit`. When
    /// the transaction failed and several jobs shared it, they come back to be tried alone, so
    /// one bad message (or a lost deadlock) fails only its own sender.
    pub(crate) fn settle(self, together: StoreResult<Vec<Posted>>) -> Vec<Post> {
        let Group {
            messages,
            mut shares,
        } = self;
        match together {
            Ok(mut posted) if posted.len() == messages.len() => {
                for (len, on_commit, answer) in shares {
                    let rest = posted.split_off(len);
                    answer_one(on_commit, answer, Ok(std::mem::replace(&mut posted, rest)));
                }
                Vec::new()
            }
            together if shares.len() == 1 => {
                if let Some((_, on_commit, answer)) = shares.pop() {
                    answer_one(on_commit, answer, together);
                }
                Vec::new()
            }
            _ => {
                let mut messages = messages.into_iter();
                let shares = shares.into_iter();
                shares
                    .map(|(len, on_commit, answer)| Post {
                        messages: messages.by_ref().take(len).collect(),
                        on_commit,
                        answer,
                    })
                    .collect()
            }
        }
    }
}

/// Tell a job's sender what became of its messages, after `on_commit` has seen them.
fn answer_one(on_commit: Option<OnCommit>, answer: Answer, posted: StoreResult<Vec<Posted>>) {
    if let (Ok(posted), Some(on_commit)) = (&posted, on_commit) {
        on_commit(posted);
    }
    let _ = answer.send(posted);
}

/// The node's chat writer. Cheap to clone; the task ends when the last clone is dropped.
#[derive(Clone)]
pub struct ChatWriter(Gathering);

/// Who gathers the groups.
#[derive(Clone)]
enum Gathering {
    /// PostgreSQL: a task of this writer's.
    Task(mpsc::Sender<Post>),
    /// SQLite: the store's writer thread.
    Thread(Arc<SqliteWriter>),
}

impl ChatWriter {
    /// Start the writer (on PostgreSQL, a task on the current tokio runtime).
    pub fn start(store: Store) -> ChatWriter {
        if let Pool::Sqlite(_, writer) = &store.pool {
            return ChatWriter(Gathering::Thread(writer.clone()));
        }
        let (jobs, waiting) = mpsc::channel(WAITING);
        tokio::spawn(write_groups(store, waiting));
        ChatWriter(Gathering::Task(jobs))
    }

    /// Store `message` as `Store::post_message` does, committed with whatever else is waiting.
    /// `on_commit` sees what became of it once its group has committed; then this answers.
    pub async fn post(
        &self,
        message: NewMessage,
        now: Timestamp,
        on_commit: impl FnOnce(&Posted) + Send + 'static,
    ) -> StoreResult<Posted> {
        let messages = vec![(message, now)];
        let on_commit: OnCommit = Box::new(move |posted: &[Posted]| {
            if let Some(posted) = posted.first() {
                on_commit(posted);
            }
        });
        let mut posted = match &self.0 {
            Gathering::Thread(writer) => writer.post(messages, Some(on_commit)).await?,
            Gathering::Task(jobs) => {
                let post = |answer| Post {
                    messages,
                    on_commit: Some(on_commit),
                    answer,
                };
                ask(jobs, post).await?
            }
        };
        Ok(posted.pop().unwrap_or(Posted::Closed))
    }
}

/// PostgreSQL's gathering task: each group in one transaction, then each job alone if it failed.
async fn write_groups(store: Store, mut waiting: mpsc::Receiver<Post>) {
    let mut posts = Vec::with_capacity(MOST_PER_GROUP);
    while waiting.recv_many(&mut posts, MOST_PER_GROUP).await > 0 {
        let group = Group::of(std::mem::take(&mut posts));
        let together = store.post_messages(&group.messages).await;
        for alone in group.settle(together) {
            let group = Group::of(vec![alone]);
            let posted = store.post_messages(&group.messages).await;
            group.settle(posted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::Sender;
    use domain::{OrgId, SessionId};
    use std::sync::Mutex;

    fn message(client_id: &str) -> (NewMessage, Timestamp) {
        let message = NewMessage {
            org: OrgId(1),
            session: SessionId(1),
            sender: Sender::Customer,
            sender_name: "Cleo".into(),
            client_id: client_id.into(),
            body: client_id.into(),
            language: "en",
            translations: "{}".into(),
            customer_language: None,
            file: None,
        };
        (message, Timestamp::from_millis(0))
    }

    /// A job of `ids`, whose hook records what it saw in `seen`; and its answer.
    fn post(
        ids: &[&str],
        seen: &Arc<Mutex<Vec<usize>>>,
    ) -> (Post, oneshot::Receiver<StoreResult<Vec<Posted>>>) {
        let (answer, answered) = oneshot::channel();
        let seen = seen.clone();
        let on_commit: OnCommit = Box::new(move |posted| seen.lock().unwrap().push(posted.len()));
        let messages = ids.iter().map(|id| message(id)).collect();
        let post = Post {
            messages,
            on_commit: Some(on_commit),
            answer,
        };
        (post, answered)
    }

    #[test]
    fn a_group_that_committed_answers_each_job_its_share_after_its_hook() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (a, mut a_answer) = post(&["a1", "a2"], &seen);
        let (b, mut b_answer) = post(&["b1"], &seen);
        let group = Group::of(vec![a, b]);
        assert_eq!(group.messages.len(), 3);
        let posted = vec![Posted::Closed, Posted::Closed, Posted::Closed];
        assert!(group.settle(Ok(posted)).is_empty());
        assert_eq!(*seen.lock().unwrap(), [2, 1]);
        assert_eq!(a_answer.try_recv().unwrap().unwrap().len(), 2);
        assert_eq!(b_answer.try_recv().unwrap().unwrap().len(), 1);
    }

    #[test]
    fn a_failed_group_gives_its_jobs_back_whole_and_a_lone_job_its_error() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (a, mut a_answer) = post(&["a1", "a2"], &seen);
        let (b, _) = post(&["b1"], &seen);
        let failed = Err(StoreError::Corrupt("lost a deadlock".into()));
        let again = Group::of(vec![a, b]).settle(failed);
        let ids = |post: &Post| -> Vec<String> {
            post.messages
                .iter()
                .map(|(m, _)| m.client_id.clone())
                .collect()
        };
        assert_eq!(
            again.iter().map(ids).collect::<Vec<_>>(),
            [vec!["a1", "a2"], vec!["b1"]]
        );
        assert!(
            a_answer.try_recv().is_err(),
            "not answered yet: tried alone next"
        );
        let mut again = again.into_iter();
        let alone = Group::of(vec![again.next().unwrap()]);
        let failed = Err(StoreError::Corrupt("a bad message".into()));
        assert!(alone.settle(failed).is_empty());
        assert!(a_answer.try_recv().unwrap().is_err());
        assert!(
            seen.lock().unwrap().is_empty(),
            "no hook for what was not committed"
        );
    }
}
