//! SQLite's chat writer: one thread with its own connection to the database file stores every
//! chat message of the node, a group at a time (decision 0015). Whatever arrived while the
//! previous group was being committed goes into the next, in one `BEGIN IMMEDIATE` transaction;
//! a lone message waits for nobody.
//!
//! Why a thread of our own: sqlx runs each statement on its connection's thread, and every
//! hand-off there and back is two futex wake-ups (~125 µs at rest). A group is six statements
//! with `BEGIN` and `COMMIT`, so most of a message's time and half the server's CPU under
//! load went to hand-offs (perf, docs/benchmarks.md). Here the group's statements run back to
//! back on the thread that holds the connection: one hand-off in, one answer out. The plan is
//! `chat_group::post_in`, shared with PostgreSQL; its SQLite statements are in
//! `sqlite_group_statements`.

use crate::chat::{NewMessage, Posted};
use crate::chat_group::post_in;
use crate::group_commit::{ask, Group, OnCommit, Post, MOST_PER_GROUP, WAITING};
use crate::sqlite_search_index::SearchIndex;
use crate::{StoreError, StoreResult};
use domain::Timestamp;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How long commits gather in the write-ahead log before the checkpointer copies them into the
/// database (one copy of each page, however often it changed in between).
const CHECKPOINT_AFTER: Duration = Duration::from_millis(250);

/// Pages in the log (16 MiB of 4 KiB pages) past which the writer finishes a checkpoint itself,
/// between groups, so that the log starts again from its beginning.
const RESTART_LOG_AT: i64 = 4096;

/// What the writer thread is asked to do.
enum Job {
    /// Store messages together (one caller's group); their answers go to `answer`.
    Post(Post),
    /// Bring the search index up to date: a search is about to run.
    Index(oneshot::Sender<StoreResult<()>>),
}

/// The handle of the writer thread. The thread ends (and closes its connection) when the last
/// handle is dropped.
pub(crate) struct SqliteWriter {
    jobs: mpsc::Sender<Job>,
}

impl SqliteWriter {
    /// Open a connection to the database at `path` (created by sqlx before, in WAL mode) and
    /// start the thread that writes with it, and the one that checkpoints after it.
    ///
    /// The writer's connection does not checkpoint in its commits: SQLite's automatic
    /// checkpoint runs in the commit that fills the log past 1,000 pages, and with its fsyncs
    /// it took 4–6 ms, about ten times a second at 2,000 messages a second, which every message
    /// of the next groups waited for (timed in the writer). A second connection on its own
    /// thread copies the log back `PASSIVE`ly, so commits do not wait for it.
    ///
    /// A passive checkpoint never catches up with a writer that keeps writing, and the log
    /// starts again from its beginning only after one has caught up: under steady load it grew
    /// by 50 MB a second. So once the log is past `RESTART_LOG_AT`, the writer finishes the
    /// checkpoint itself the next time it has nothing waiting: little is left to copy by then.
    /// The pool's connections keep the automatic checkpoint: they write rarely, and the log
    /// still gets copied back when no chat runs.
    pub(crate) fn start(path: &Path) -> Result<SqliteWriter, String> {
        let failed = |e: rusqlite::Error| e.to_string();
        let connection = open(path).map_err(failed)?;
        connection
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(failed)?;
        connection
            .busy_handler(Some(wait_for_the_write_lock))
            .map_err(failed)?;
        let checkpoints = open(path).map_err(failed)?;
        let (jobs, waiting) = mpsc::channel(WAITING);
        let (written, wake) = std::sync::mpsc::sync_channel(1);
        let restart_due = Arc::new(AtomicBool::new(false));
        let log = (written, restart_due.clone());
        let spawn = |name: &str, work: Box<dyn FnOnce() + Send>| {
            let thread = std::thread::Builder::new().name(name.into());
            thread.spawn(work).map(drop).map_err(|e| e.to_string())
        };
        spawn(
            "chat-writer",
            Box::new(move || write_groups(connection, waiting, log)),
        )?;
        spawn(
            "wal-checkpoint",
            Box::new(move || checkpoint(checkpoints, wake, &restart_due)),
        )?;
        Ok(SqliteWriter { jobs })
    }

    /// Store `messages` together, in one transaction (with whatever else is waiting);
    /// `on_commit` sees them on this thread once committed, before the answer.
    pub(crate) async fn post(
        &self,
        messages: Vec<(NewMessage, Timestamp)>,
        on_commit: Option<OnCommit>,
    ) -> StoreResult<Vec<Posted>> {
        let post = |answer| {
            Job::Post(Post {
                messages,
                on_commit,
                answer,
            })
        };
        ask(&self.jobs, post).await
    }

    /// Index every message stored so far for search (`sqlite_search_index`).
    pub(crate) async fn index_for_search(&self) -> StoreResult<()> {
        ask(&self.jobs, Job::Index).await
    }
}

/// The same settings as sqlx's connections (`Store::connect`).
fn open(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_timeout(Duration::from_secs(10))?;
    connection.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    connection.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = memory;",
    )?;
    Ok(connection)
}

/// Tries of `wait_for_the_write_lock` that pause briefly.
const SHORT_PAUSES: i32 = 20;

/// How the writer waits when a group's `BEGIN IMMEDIATE` finds the write lock held by one of
/// the pool's connections (a session start, a mark, a tick's update): 50 µs at a time for the
/// first millisecond, then a millisecond at a time, giving up after ~10 s as the pool does.
/// SQLite's own busy timeout sleeps 1, 2, 5, 10 ms… from the first try: a group that met
/// another write of a few hundred µs waited a millisecond or more, and so did every message
/// that arrived meanwhile (counted in the chat scenario: each such wait was a millisecond).
// The writer's own thread, outside the runtime: pausing it holds up no one else.
#[allow(clippy::disallowed_methods)]
fn wait_for_the_write_lock(tries: i32) -> bool {
    let pause = if tries < SHORT_PAUSES {
        Duration::from_micros(50)
    } else {
        Duration::from_millis(1)
    };
    std::thread::sleep(pause);
    tries < SHORT_PAUSES + 10_000
}

/// Commit groups as they come; tell the checkpointer after each (without waiting for it).
/// When nothing is waiting: index messages for search now and then, and finish a checkpoint
/// when the checkpointer says the log should start again.
fn write_groups(
    mut connection: Connection,
    mut waiting: mpsc::Receiver<Job>,
    (written, restart_due): (std::sync::mpsc::SyncSender<()>, Arc<AtomicBool>),
) {
    let mut search = SearchIndex::new();
    while let Some(first) = waiting.blocking_recv() {
        let (mut posts, mut searches, mut count) = (Vec::new(), Vec::new(), 0);
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Post(post) => {
                    count += post.messages.len();
                    posts.push(post);
                }
                Job::Index(answer) => searches.push(answer),
            }
            if count < MOST_PER_GROUP {
                next = waiting.try_recv().ok();
            }
        }
        if !posts.is_empty() {
            commit(&mut connection, posts);
            search.written();
            let _ = written.try_send(());
        }
        let idle = waiting.is_empty();
        if !searches.is_empty() || search.due(idle) {
            let indexed = search.catch_up(&mut connection).map_err(|e| e.to_string());
            if let Err(e) = &indexed {
                tracing::warn!(error = %e, "chat messages could not be indexed for search");
            }
            for answer in searches {
                let _ = answer.send(indexed.clone().map_err(StoreError::Corrupt));
            }
        }
        if idle && restart_due.load(Ordering::Relaxed) {
            // Caught up: the next transaction starts the log again.
            let caught_up = checkpoint_now(&connection).is_some_and(|(log, copied)| log == copied);
            restart_due.store(!caught_up, Ordering::Relaxed);
        }
    }
}

/// A passive checkpoint: the pages in the log, and how many of them are in the database now
/// (None when it failed, or could not run because the other connection was running one).
fn checkpoint_now(connection: &Connection) -> Option<(i64, i64)> {
    let done = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        let busy: bool = row.get(0)?;
        Ok((!busy).then_some((row.get(1)?, row.get(2)?)))
    });
    done.inspect_err(
        |e| tracing::warn!(error = %e, "the write-ahead log could not be checkpointed"),
    )
    .ok()
    .flatten()
}

/// Copy the log back into the database a moment after commits; ends with the writer.
// A thread of its own, outside the runtime: waiting is what it is for.
#[allow(clippy::disallowed_methods)]
fn checkpoint(
    connection: Connection,
    wake: std::sync::mpsc::Receiver<()>,
    restart_due: &AtomicBool,
) {
    while wake.recv().is_ok() {
        std::thread::sleep(CHECKPOINT_AFTER);
        let _ = wake.try_recv();
        if let Some((log, _)) = checkpoint_now(&connection) {
            if log >= RESTART_LOG_AT {
                restart_due.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Commit the waiting jobs together and answer each (each job alone if that failed).
fn commit(connection: &mut Connection, posts: Vec<Post>) {
    let group = Group::of(posts);
    let together = post(connection, &group.messages);
    for alone in group.settle(together) {
        let group = Group::of(vec![alone]);
        let posted = post(connection, &group.messages);
        group.settle(posted);
    }
}

/// One transaction: the group plan on this connection. `BEGIN` and `COMMIT` are prepared once
/// and kept, like the plan's statements (rusqlite's `Transaction` prepares both anew each time).
fn post(
    connection: &mut Connection,
    messages: &[(NewMessage, Timestamp)],
) -> StoreResult<Vec<Posted>> {
    connection.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let posted = run_now(post_in(connection, messages)).and_then(|posted| {
        connection.prepare_cached("COMMIT")?.execute([])?;
        Ok(posted)
    });
    if posted.is_err() && !connection.is_autocommit() {
        if let Err(e) = connection.execute_batch("ROLLBACK") {
            tracing::warn!(error = %e, "a failed chat group could not be rolled back");
        }
    }
    Ok(posted?)
}

/// The value of a future that never waits (the statements below are synchronous; they are
/// `async` only to share the plan with PostgreSQL's).
fn run_now<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => unreachable!("SQLite statements run to completion when called"),
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError::Sqlite(err)
    }
}
