//! The writer of the relays that commit before they forward (`Relay::Committing`,
//! `Relay::Complete`, `Relay::CompleteOneThread`): one SQLite connection in a temporary directory
//! that goes when the last handle does, the log in WAL mode with `synchronous = NORMAL` (no fsync
//! per commit) and never checkpointed during the run, as Supportal's chat writer between its
//! checkpoints. A thread of its own commits whatever is waiting in one transaction (group
//! commit); on one thread, the socket's task commits its message alone.

use super::relay::Relay;
use anyhow::{Context, Result};
use rusqlite::OptionalExtension;
use serde::Deserialize;
use std::sync::{mpsc, Arc, Mutex};
use tokio::sync::mpsc::UnboundedSender;

/// A message to commit, and where it goes once committed.
pub struct Job {
    /// The chat both sockets share (`/{chat}`).
    pub chat: String,
    pub payload: Payload,
    /// The other side's socket.
    pub to: UnboundedSender<String>,
    /// The sender's own socket (the complete relay's acknowledgement).
    pub back: UnboundedSender<String>,
}

/// What a socket sent, as its relay takes it.
pub enum Payload {
    /// The committing relay: the frame as it came, forwarded as it came.
    Plain(String),
    /// The complete relay: a `send` frame's message, from side `a` or `b`.
    Complete {
        side: &'static str,
        client_id: String,
        body: String,
    },
}

/// Supportal's `send` frame, as the page's script (and the tool) sends it.
#[derive(Deserialize)]
struct SendFrame {
    r#type: String,
    client_id: String,
    body: String,
}

/// A committing relay's writer, shared by its sockets' tasks.
#[derive(Clone)]
pub struct Committer {
    relay: Relay,
    writer: Writer,
    _dir: Arc<tempfile::TempDir>,
}

/// Who commits.
#[derive(Clone)]
enum Writer {
    /// A thread of its own, in groups.
    Thread(mpsc::Sender<Job>),
    /// The socket's task that took the message, alone.
    Inline(Arc<Mutex<rusqlite::Connection>>),
}

/// The most messages one transaction takes, as Supportal's chat writer.
const MOST_PER_GROUP: usize = 64;

/// The committing relay's table: one, without an index.
const PLAIN: &str =
    "CREATE TABLE lines (id INTEGER PRIMARY KEY, chat TEXT NOT NULL, body TEXT NOT NULL);";

/// The complete relay's: each message numbered in its chat, once per client id.
const COMPLETE: &str = "CREATE TABLE lines (chat TEXT NOT NULL, seq INTEGER NOT NULL, \
     client_id TEXT NOT NULL, side TEXT NOT NULL, body TEXT NOT NULL, \
     PRIMARY KEY (chat, seq), UNIQUE (chat, client_id));";

/// The next number in the chat, unless the client's id is there already (a resend).
const INSERT_NUMBERED: &str = "INSERT INTO lines (chat, seq, client_id, side, body) \
     SELECT ?1, coalesce(max(seq), 0) + 1, ?2, ?3, ?4 FROM lines WHERE chat = ?1 \
     ON CONFLICT (chat, client_id) DO NOTHING RETURNING seq";

/// What a resend finds: the message as first stored.
const STORED: &str = "SELECT seq, side, body FROM lines WHERE chat = ?1 AND client_id = ?2";

impl Committer {
    pub fn start(relay: Relay) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let db = rusqlite::Connection::open(dir.path().join("floor.db"))?;
        let schema = if relay == Relay::Committing {
            PLAIN
        } else {
            COMPLETE
        };
        db.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA wal_autocheckpoint = 0;",
        )
        .and_then(|()| db.execute_batch(schema))
        .context("the committing relay's database")?;
        let writer = if relay == Relay::CompleteOneThread {
            Writer::Inline(Arc::new(Mutex::new(db)))
        } else {
            let (jobs, waiting) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("relay-commit".into())
                .spawn(move || write_groups(db, waiting))?;
            Writer::Thread(jobs)
        };
        Ok(Self {
            relay,
            writer,
            _dir: Arc::new(dir),
        })
    }

    /// What this relay takes from a socket's frame `text` (None: nothing to commit).
    pub fn payload(&self, side: &'static str, text: &str) -> Option<Payload> {
        if self.relay == Relay::Committing {
            return Some(Payload::Plain(text.to_owned()));
        }
        let frame = serde_json::from_str::<SendFrame>(text).ok()?;
        (frame.r#type == "send").then_some(Payload::Complete {
            side,
            client_id: frame.client_id,
            body: frame.body,
        })
    }

    pub fn commit_then_forward(&self, job: Job) {
        match &self.writer {
            Writer::Thread(jobs) => {
                let _ = jobs.send(job);
            }
            Writer::Inline(db) => {
                let mut group = [job];
                let stored = match db.lock() {
                    Ok(mut db) => commit(&mut db, &mut group),
                    Err(_) => return,
                };
                if let Ok(stored) = stored {
                    forward(group, stored);
                }
            }
        }
    }
}

/// Wait for a message, commit it with whatever else is waiting, forward them; until every
/// sender is gone.
fn write_groups(mut db: rusqlite::Connection, waiting: mpsc::Receiver<Job>) {
    while let Ok(first) = waiting.recv() {
        let mut group = vec![first];
        while group.len() < MOST_PER_GROUP {
            match waiting.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let Ok(stored) = commit(&mut db, &mut group) else {
            // Not committed: not forwarded; the tool counts these as lost.
            continue;
        };
        forward(group, stored);
    }
}

/// Send each committed job's line where it goes.
fn forward(group: impl IntoIterator<Item = Job>, stored: Vec<Stored>) {
    for (job, stored) in group.into_iter().zip(stored) {
        match stored {
            Stored::Plain(body) => {
                let _ = job.to.send(body);
            }
            Stored::New(line) => {
                let _ = job.to.send(line.clone());
                let _ = job.back.send(line);
            }
            Stored::Again(line) => {
                let _ = job.back.send(line);
            }
        }
    }
}

/// What became of a job in its transaction.
enum Stored {
    /// Stored as it came (the committing relay): the frame, for the other side.
    Plain(String),
    /// Stored under the next number: the line, for both sides.
    New(String),
    /// There already (a resend): the line as first stored, for the sender only.
    Again(String),
}

/// Commit `group` in one transaction. A plain frame moves into its `Stored` (it is forwarded as
/// it came); a group that failed is forwarded to nobody.
fn commit(db: &mut rusqlite::Connection, group: &mut [Job]) -> rusqlite::Result<Vec<Stored>> {
    let transaction = db.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut stored = Vec::with_capacity(group.len());
    for job in group {
        stored.push(match &mut job.payload {
            Payload::Plain(body) => {
                transaction
                    .prepare_cached("INSERT INTO lines (chat, body) VALUES (?1, ?2)")?
                    .execute((&job.chat, &*body))?;
                Stored::Plain(std::mem::take(body))
            }
            Payload::Complete {
                side,
                client_id,
                body,
            } => store_numbered(&transaction, &job.chat, side, client_id, body)?,
        });
    }
    transaction.commit()?;
    Ok(stored)
}

/// The complete relay's message: under the chat's next number, or as first stored if its client
/// id is there already.
fn store_numbered(
    transaction: &rusqlite::Transaction,
    chat: &str,
    side: &str,
    client_id: &str,
    body: &str,
) -> rusqlite::Result<Stored> {
    let inserted = transaction
        .prepare_cached(INSERT_NUMBERED)?
        .query_row((chat, client_id, side, body), |row| row.get::<_, i64>(0))
        .optional()?;
    if let Some(seq) = inserted {
        return Ok(Stored::New(line(client_id, seq, side, body)));
    }
    let (seq, side, body): (i64, String, String) = transaction
        .prepare_cached(STORED)?
        .query_row((chat, client_id), |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
    Ok(Stored::Again(line(client_id, seq, &side, &body)))
}

/// A stored message as Supportal's sockets frame it (one line in a `chat` frame).
fn line(client_id: &str, seq: i64, side: &str, body: &str) -> String {
    serde_json::json!({
        "type": "chat",
        "lines": [{ "kind": "message", "id": client_id, "seq": seq, "from": side, "body": body }],
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(chat: &str, side: &'static str, client_id: &str) -> Job {
        let (to, _) = tokio::sync::mpsc::unbounded_channel();
        Job {
            chat: chat.into(),
            payload: Payload::Complete {
                side,
                client_id: client_id.into(),
                body: format!("body of {client_id}"),
            },
            back: to.clone(),
            to,
        }
    }

    fn seq_of(line: &str) -> i64 {
        let frame: serde_json::Value = serde_json::from_str(line).expect("JSON");
        frame["lines"][0]["seq"].as_i64().expect("a number")
    }

    #[test]
    fn the_complete_relay_numbers_each_chat_and_stores_a_resend_once() {
        let mut db = rusqlite::Connection::open_in_memory().expect("SQLite");
        db.execute_batch(COMPLETE).expect("the schema");
        let mut group = [
            job("/1", "a", "x"),
            job("/2", "a", "y"),
            job("/1", "b", "z"),
            job("/1", "a", "x"),
        ];
        let stored = commit(&mut db, &mut group).expect("committed");
        let described: Vec<(&str, i64)> = stored
            .iter()
            .map(|s| match s {
                Stored::New(line) => ("new", seq_of(line)),
                Stored::Again(line) => ("again", seq_of(line)),
                Stored::Plain(_) => ("plain", 0),
            })
            .collect();
        assert_eq!(
            described,
            [("new", 1), ("new", 1), ("new", 2), ("again", 1)],
            "numbered per chat; the resend finds its first number"
        );
        let Stored::Again(line) = &stored[3] else {
            unreachable!()
        };
        let frame: serde_json::Value = serde_json::from_str(line).expect("JSON");
        assert_eq!(frame["lines"][0]["from"], "a");
        assert_eq!(frame["lines"][0]["body"], "body of x");
        let rows: i64 = db
            .query_row("SELECT count(*) FROM lines", [], |r| r.get(0))
            .expect("counted");
        assert_eq!(rows, 3);
    }
}
