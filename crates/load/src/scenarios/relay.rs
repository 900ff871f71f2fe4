//! The chat scenario's baselines: a bare WebSocket relay inside the tool, the same relay
//! committing each message to SQLite before it forwards it (`--chat-floor`), and one that also
//! keeps the rest of issue 10's delivery guarantees (`Relay::Complete`, and the same with the
//! sockets and the commit on one thread): the least any server that keeps them does.
//!
//! The committing relay is the floor for any server that, like Supportal, commits a message
//! before anyone sees it: one table without an index, a dedicated writer thread that commits
//! whatever is waiting in one transaction (group commit), the log in WAL mode with
//! `synchronous = NORMAL` (no fsync per commit) and never checkpointed during the run. Whatever
//! it adds to the bare relay's latency, no design that keeps the guarantee can avoid on the same
//! machine.
//!
//! Each also runs in a process of its own (`--serve-relay`, the tool started again), as a server
//! does: what crossing to another process and back costs on this machine, apart from anything
//! the server does.

use super::relay_commit::{Committer, Job};
use crate::http::{websocket, Socket};
use anyhow::{Context, Result};
use clap::ValueEnum;
use futures::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::mpsc::UnboundedSender;
use tokio_tungstenite::tungstenite::Message;

/// How the relay treats a message between its two sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Relay {
    /// Forward it at once.
    Bare,
    /// Commit it to SQLite first, then forward it.
    Committing,
    /// What issue 10 asks of any chat server, and nothing more: take Supportal's `send` frame
    /// (JSON, with the client's id), commit the message numbered in its chat and idempotent on
    /// that id, then send the stored line, as JSON, to the other side and back to the sender
    /// (the acknowledgement). The least a server with those guarantees does per message.
    Complete,
    /// The complete relay on one thread: the socket's own task commits each message as it
    /// comes (no writer thread, no group), and the relay process has one runtime thread. The
    /// shape with no hand-off at all between sockets and the database.
    CompleteOneThread,
}

/// A relay's server, stopped when dropped.
pub enum Running {
    /// A task in the tool's own runtime.
    InTool(tokio::task::JoinHandle<()>),
    /// The tool started again as a relay (killed on drop).
    Apart(Child),
}

impl Running {
    /// The relay's process, when it has one of its own.
    pub fn process_id(&self) -> Option<u32> {
        match self {
            Running::InTool(_) => None,
            Running::Apart(child) => child.id(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Running::InTool(task) = self {
            task.abort();
        }
    }
}

/// Each chat's two sockets, named by `/{chat}/a` and `/{chat}/b`; whatever one sends goes to
/// the other. The sockets are the tool's clients; the relay's server is in the tool's runtime,
/// or `apart`, in a process of its own.
pub async fn open(
    chats: usize,
    relay: Relay,
    apart: bool,
) -> Result<(Vec<(Socket, String)>, Running)> {
    if apart {
        return open_apart(chats, relay).await;
    }
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(serve(listener, relay.committer()?));
    Ok((connect(addr, chats).await?, Running::InTool(server)))
}

/// The relay in a process of its own: this tool, started again with `--serve-relay`, which
/// prints its address first.
async fn open_apart(chats: usize, relay: Relay) -> Result<(Vec<(Socket, String)>, Running)> {
    let name = relay.to_possible_value().context("the relay's name")?;
    let mut command = Command::new(std::env::current_exe()?);
    if relay == Relay::CompleteOneThread {
        // tokio's multi-thread runtime reads it: one worker for the relay's every socket.
        command.env("TOKIO_WORKER_THREADS", "1");
    }
    let mut child = command
        .arg("--serve-relay")
        .arg(name.get_name())
        // Kept open while the child is: the relay ends when it closes, even if this tool is
        // killed before it can kill the relay.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting the tool again as a relay")?;
    let stdout = child.stdout.take().context("the relay's output")?;
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first).await?;
    let addr: SocketAddr = first
        .trim()
        .strip_prefix(LISTENING)
        .and_then(|a| a.parse().ok())
        .with_context(|| format!("the relay process said {first:?}"))?;
    Ok((connect(addr, chats).await?, Running::Apart(child)))
}

/// What a relay process prints first, followed by its address.
const LISTENING: &str = "relay listening on ";

/// The relay process (`--serve-relay`): serve until killed, or until its standard input closes
/// (the tool that started it is gone).
pub async fn serve_alone(relay: Relay) -> Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("{LISTENING}{}", listener.local_addr()?);
    let mut input = tokio::io::stdin();
    let mut sink = tokio::io::sink();
    tokio::select! {
        () = serve(listener, relay.committer()?) => {}
        _ = tokio::io::copy(&mut input, &mut sink) => {}
    }
    Ok(())
}

impl Relay {
    fn committer(self) -> Result<Option<Committer>> {
        Ok(match self {
            Relay::Bare => None,
            Relay::Committing | Relay::Complete | Relay::CompleteOneThread => {
                Some(Committer::start(self)?)
            }
        })
    }
}

/// Accept sockets and pair them by path: whatever `/{chat}/a` sends goes to `/{chat}/b` and back,
/// committed first when there is a `committer`.
// tungstenite's handshake callback returns its (large) error response by value: its API.
#[allow(clippy::result_large_err)]
async fn serve(listener: TcpListener, committer: Option<Committer>) {
    type Peers = Arc<Mutex<HashMap<String, UnboundedSender<String>>>>;
    let peers: Peers = Arc::default();
    while let Ok((stream, _)) = listener.accept().await {
        let peers = peers.clone();
        let committer = committer.clone();
        tokio::spawn(async move {
            let mut path = String::new();
            let callback =
                |request: &tokio_tungstenite::tungstenite::handshake::server::Request, response| {
                    path = request.uri().path().to_owned();
                    Ok(response)
                };
            let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
                return;
            };
            let (mut write, mut read) = ws.split();
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
            let (chat, side, other) = pair_of(&path);
            if let Ok(mut p) = peers.lock() {
                p.insert(path.clone(), tx.clone());
            }
            let forward = tokio::spawn(async move {
                while let Some(text) = rx.recv().await {
                    if write.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
            });
            while let Some(Ok(Message::Text(text))) = read.next().await {
                let to = peers.lock().ok().and_then(|p| p.get(&other).cloned());
                let Some(to) = to else { continue };
                match &committer {
                    None => {
                        let _ = to.send(text.to_string());
                    }
                    Some(committer) => {
                        let Some(payload) = committer.payload(side, text.as_str()) else {
                            continue;
                        };
                        committer.commit_then_forward(Job {
                            chat: chat.clone(),
                            payload,
                            to,
                            back: tx.clone(),
                        });
                    }
                }
            }
            forward.abort();
        });
    }
}

/// A socket's chat, its side and the other side's path, from its path (`/{chat}/a` or
/// `/{chat}/b`).
fn pair_of(path: &str) -> (String, &'static str, String) {
    match path.strip_suffix("/a") {
        Some(chat) => (chat.to_owned(), "a", format!("{chat}/b")),
        None => {
            let chat = path.strip_suffix("/b").unwrap_or(path);
            (chat.to_owned(), "b", format!("{chat}/a"))
        }
    }
}

/// The tool's side of `chats` chats on the relay at `addr`: each chat's two sockets.
async fn connect(addr: SocketAddr, chats: usize) -> Result<Vec<(Socket, String)>> {
    let mut sockets = Vec::new();
    for chat in 0..chats {
        for side in ["a", "b"] {
            let socket = websocket(addr, &format!("/{chat}/{side}"), None, 0).await?;
            sockets.push((socket, format!("relay-{chat}-{side}")));
        }
    }
    Ok(sockets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_side_of_a_chat_finds_the_other() {
        assert_eq!(pair_of("/12/a"), ("/12".into(), "a", "/12/b".into()));
        assert_eq!(pair_of("/12/b"), ("/12".into(), "b", "/12/a".into()));
        assert_eq!(pair_of("/1/b"), ("/1".into(), "b", "/1/a".into()));
    }
}
