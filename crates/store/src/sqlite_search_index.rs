//! SQLite's full-text index of chat messages (FTS5, `chat_search`), filled in batches by the
//! chat writer's thread instead of by a trigger in each message's transaction (migration 0019,
//! decision 0015). Indexing in the message's transaction wrote a new index segment and its
//! bookkeeping pages in every commit; with the trigger dropped the chat scenario's median fell
//! from 0.66–0.72 to 0.50–0.59 ms (docs/benchmarks.md). A search brings the index up to date
//! before it runs, so it still finds the last message written.

use rusqlite::{Connection, TransactionBehavior};
use std::time::{Duration, Instant};

/// How long messages wait for the next batch when the writer has nothing else to do.
const WHEN_IDLE: Duration = Duration::from_secs(1);

/// How long they wait at most, however busy the writer is.
const AT_MOST: Duration = Duration::from_secs(5);

/// Every message after the last one indexed, indexed as it is now; then that one is the last.
const CATCH_UP: &str = "INSERT INTO chat_search (rowid, body, translations) \
     SELECT id, body, translations FROM chat_messages \
     WHERE id > (SELECT indexed_upto FROM chat_search_progress) ORDER BY id; \
     UPDATE chat_search_progress SET indexed_upto = \
     MAX(indexed_upto, (SELECT COALESCE(MAX(id), 0) FROM chat_messages));";

/// Whether messages wait to be indexed, and when the last batch was.
pub(crate) struct SearchIndex {
    behind: bool,
    last_batch: Instant,
}

impl SearchIndex {
    pub(crate) fn new() -> Self {
        SearchIndex {
            // Messages of a previous run may wait.
            behind: true,
            last_batch: Instant::now(),
        }
    }

    /// Messages were stored.
    pub(crate) fn written(&mut self) {
        self.behind = true;
    }

    /// Whether to index what waits now: a second after the last batch when the writer has
    /// nothing waiting (`idle`), five in any case.
    pub(crate) fn due(&self, idle: bool) -> bool {
        let wait = if idle { WHEN_IDLE } else { AT_MOST };
        self.behind && self.last_batch.elapsed() >= wait
    }

    /// Index every message stored since the last batch, in one transaction (nothing to do when
    /// none was: only this thread stores messages).
    pub(crate) fn catch_up(&mut self, connection: &mut Connection) -> rusqlite::Result<()> {
        if !self.behind {
            return Ok(());
        }
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(CATCH_UP)?;
        tx.commit()?;
        self.behind = false;
        self.last_batch = Instant::now();
        Ok(())
    }
}
