//! Scenario 5, chat delivery: N chats, a customer and a rep in each, every side sending one
//! message a second as the page's script does (a `send` frame with its own id on its socket;
//! `--chat-send post` for the page's HTTP fallback) and reading the other side's on its
//! socket. The sends spread evenly over each second; a chat's customer and rep send half a
//! second apart, as a conversation alternates. Measured: the time from send to receipt on the
//! other side, and every message lost or received twice (the tool counts). Baseline in the same
//! run: a bare WebSocket relay inside the tool, with the same N, rate and timing.

use super::relay::{self, Relay};
use crate::console::{create_reps, sign_in};
use crate::customer::{Customer, Door};
use crate::http::{csrf_field, websocket, Browser, Socket};
use crate::procstat;
use crate::report::{thousands, Latencies, Outcome};
use crate::target::{Accounts, Target};
use anyhow::{anyhow, bail, Context, Result};
use futures::{SinkExt, StreamExt};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

pub struct Options {
    pub chats: usize,
    pub duration: Duration,
    pub send_by: SendBy,
    /// Also measure the relay that commits each message to SQLite before forwarding it.
    pub floor: bool,
    /// Write each of Supportal's messages here: its id, when it was sent on CLOCK_MONOTONIC
    /// (the clock of `perf record -k CLOCK_MONOTONIC`), and its latency.
    pub latencies_to: Option<PathBuf>,
}

/// How a page sends its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SendBy {
    /// A `send` frame on the page's socket; the stored line comes back on it.
    Socket,
    /// An HTTP POST of the chat form, answered with the stored line.
    Post,
}

/// The chats a rep takes at once (the most an admin may set).
const PER_REP: usize = 50;

/// Sends and receipts, counted once for the whole run.
#[derive(Default)]
struct Tracker {
    sent: Mutex<HashMap<String, Instant>>,
    received: Mutex<HashSet<String>>,
    latencies: Mutex<Latencies>,
    duplicates: AtomicU64,
    errors: AtomicU64,
    /// Each message received (id, sent, latency), when asked for (`--chat-latencies`).
    each: Option<Mutex<Vec<(String, Instant, Duration)>>>,
}

impl Tracker {
    fn sending(&self, id: &str) {
        if let Ok(mut sent) = self.sent.lock() {
            sent.insert(id.to_owned(), Instant::now());
        }
    }

    fn failed(&self, id: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut sent) = self.sent.lock() {
            sent.remove(id);
        }
    }

    /// `id` came in a frame read `at` (before the tool parsed it: parsing is the tool's time,
    /// not delivery's).
    fn received(&self, id: &str, at: Instant) {
        let first = self
            .received
            .lock()
            .is_ok_and(|mut r| r.insert(id.to_owned()));
        if !first {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let started = self.sent.lock().ok().and_then(|s| s.get(id).copied());
        let Some(started) = started else { return };
        let latency = at.saturating_duration_since(started);
        if let Ok(mut latencies) = self.latencies.lock() {
            latencies.record(latency);
        }
        if let Some(Ok(mut each)) = self.each.as_ref().map(Mutex::lock) {
            each.push((id.to_owned(), started, latency));
        }
    }

    /// Sent (acknowledged) but never received.
    fn lost(&self) -> u64 {
        let (Ok(sent), Ok(received)) = (self.sent.lock(), self.received.lock()) else {
            return 0;
        };
        sent.keys().filter(|id| !received.contains(*id)).count() as u64
    }

    fn report(&self) -> (Latencies, u64, u64, u64, u64) {
        let latencies = self.latencies.lock().map(|l| l.clone()).unwrap_or_default();
        let sent = self.sent.lock().map(|s| s.len() as u64).unwrap_or(0);
        let lost = self.lost();
        let duplicates = self.duplicates.load(Ordering::Relaxed);
        let errors = self.errors.load(Ordering::Relaxed);
        (latencies, sent, lost, duplicates, errors)
    }
}

/// One side of a chat: how it sends and what it reads.
enum Side {
    /// A Supportal page: send the message with its id (on the socket, or by POST); read the
    /// chat lines of the others.
    Page {
        browser: Box<Browser>,
        csrf: String,
        send_path: String,
        me: &'static str,
        send_by: SendBy,
    },
    /// The bare and the committing relay: send the id over the socket itself.
    Relay,
    /// The complete relay: a `send` frame on the socket, as a Supportal page sends it; read the
    /// lines from the other side (`me` is `a` or `b`).
    Framed { me: &'static str },
}

/// Send one message a second from `side` (offset by `phase`) until `stop`; read the other side's
/// on `socket` until `stop` and a grace after it.
async fn run_side(
    mut side: Side,
    socket: Socket,
    name: String,
    phase: Duration,
    tracker: Arc<Tracker>,
    mut stop: watch::Receiver<bool>,
) {
    let (mut write, mut read) = socket.split();
    let reader_tracker = tracker.clone();
    let me = match &side {
        Side::Page { me, .. } | Side::Framed { me } => *me,
        Side::Relay => "",
    };
    let reader = tokio::spawn(async move {
        while let Some(Ok(message)) = read.next().await {
            let at = Instant::now();
            let Message::Text(text) = message else {
                continue;
            };
            for id in ids_from_others(&text, me) {
                reader_tracker.received(&id, at);
            }
            if let Some(id) = refused(&text) {
                reader_tracker.failed(&id);
            }
        }
    });
    tokio::time::sleep(phase).await;
    let mut every = tokio::time::interval(Duration::from_secs(1));
    let mut n = 0u64;
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stop.changed() => break,
        }
        let id = format!("{name}-{n}");
        n += 1;
        tracker.sending(&id);
        let sent = match &mut side {
            Side::Page {
                send_by: SendBy::Socket,
                ..
            }
            | Side::Framed { .. } => {
                let frame = serde_json::json!({ "type": "send", "client_id": id, "body": id });
                write
                    .send(Message::Text(frame.to_string().into()))
                    .await
                    .is_ok()
            }
            Side::Page {
                browser,
                csrf,
                send_path,
                ..
            } => {
                let fields = [
                    ("csrf", csrf.as_str()),
                    ("body", id.as_str()),
                    ("client_id", id.as_str()),
                ];
                browser
                    .post_json_form(send_path, &fields)
                    .await
                    .is_ok_and(|r| r.status.is_success())
            }
            Side::Relay => write.send(Message::Text(id.clone().into())).await.is_ok(),
        };
        if !sent {
            tracker.failed(&id);
        }
    }
    // Let the last messages arrive, then close.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = write.close().await;
    reader.abort();
}

/// The ids in a frame that came from the other side: chat lines of Supportal (`from` is not
/// `me`), or the bare id the relay forwards.
fn ids_from_others(text: &str, me: &str) -> Vec<String> {
    if me.is_empty() {
        return vec![text.to_owned()];
    }
    let Ok(frame) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    if frame["type"] != "chat" {
        return Vec::new();
    }
    frame["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["kind"] == "message" && l["from"] != me)
        .filter_map(|l| l["id"].as_str().map(str::to_owned))
        .collect()
}

/// The id of a message the server refused to store (a `refused` frame), if this is one.
fn refused(text: &str) -> Option<String> {
    let frame = serde_json::from_str::<serde_json::Value>(text).ok()?;
    (frame["type"] == "refused").then(|| frame["client_id"].as_str().map(str::to_owned))?
}

/// Run `sides` for `duration`; what the tracker counted (`each` message too, if asked), and the
/// CPU seconds the tool itself spent meanwhile (its clients share the machine with the server
/// they measure).
async fn measure(
    sides: Vec<(Side, Socket, String)>,
    duration: Duration,
    each: bool,
) -> (Arc<Tracker>, Option<f64>) {
    let tool_before = procstat::sample(std::process::id());
    let tracker = Arc::new(Tracker {
        each: each.then(Mutex::default),
        ..Tracker::default()
    });
    let (stop, stopped) = watch::channel(false);
    let count = sides.len().max(1) as u32;
    let mut running = JoinSet::new();
    for (n, (side, socket, name)) in sides.into_iter().enumerate() {
        let phase = phase_of(n, count);
        running.spawn(run_side(
            side,
            socket,
            name,
            phase,
            tracker.clone(),
            stopped.clone(),
        ));
    }
    tokio::time::sleep(duration).await;
    let _ = stop.send(true);
    while running.join_next().await.is_some() {}
    let tool_cpu = procstat::cpu_between(tool_before, procstat::sample(std::process::id()));
    (tracker, tool_cpu)
}

/// When the `n`-th of `count` sides sends within each second. The sends spread evenly over the
/// second, and the two sides of a chat (next to each other in `sides`) are half a second apart,
/// as a conversation alternates: one writes, the other answers.
fn phase_of(n: usize, count: u32) -> Duration {
    let pairs = (count / 2).max(1);
    let slot = (n as u32 / 2 + (n as u32 % 2) * pairs) % count;
    Duration::from_secs(1) * slot / count
}

/// `chats` chats on a Supportal server: a customer who asked through the contact button and a rep
/// who accepted, each with their socket open.
async fn supportal_chats(
    addr: SocketAddr,
    accounts: &Accounts,
    chats: usize,
    send_by: SendBy,
) -> Result<Vec<(Side, Socket, String)>> {
    let reps_needed = chats.div_ceil(PER_REP);
    let emails = create_reps(addr, accounts, reps_needed, PER_REP).await?;
    let mut sides = Vec::new();
    for (r, email) in emails.iter().enumerate() {
        let mut rep = sign_in(addr, email, &accounts.password).await?;
        let console = rep.get("/console").await?.ok()?;
        let rep_csrf = csrf_field(console.text())
            .ok_or_else(|| anyhow!("no csrf on the console"))?
            .to_owned();
        for c in (r * PER_REP)..((r + 1) * PER_REP).min(chats) {
            let mut customer = Customer::arrive(addr, &accounts.site).await?;
            let waiting = customer
                .ask(Door::ContactButton, &format!("Chat customer {c}"))
                .await?;
            let list = rep.get("/console/queue").await?.ok()?;
            let session =
                first_session_id(list.text()).context("the new customer in the rep's list")?;
            let accepted = rep
                .post_form(
                    &format!("/console/sessions/{session}/accept"),
                    &[("csrf", rep_csrf.as_str())],
                )
                .await?;
            if !accepted.status.is_redirection() {
                bail!("accepting session {session} answered {}", accepted.status);
            }
            let (customer_browser, customer_csrf) = customer.into_parts();
            let customer_socket = websocket(
                addr,
                &format!("{waiting}/ws?after=0"),
                customer_browser.cookie_header(),
                sides.len(),
            )
            .await?;
            let rep_browser = rep.with_cookies_at(addr);
            let rep_socket = websocket(
                addr,
                &format!("/console/sessions/{session}/ws?after=0"),
                rep_browser.cookie_header(),
                sides.len() + 1,
            )
            .await?;
            sides.push((
                Side::Page {
                    browser: Box::new(customer_browser),
                    csrf: customer_csrf,
                    send_path: format!("{waiting}/messages"),
                    me: "customer",
                    send_by,
                },
                customer_socket,
                format!("c{c}"),
            ));
            sides.push((
                Side::Page {
                    browser: Box::new(rep_browser),
                    csrf: rep_csrf.clone(),
                    send_path: format!("/console/sessions/{session}/messages"),
                    me: "rep",
                    send_by,
                },
                rep_socket,
                format!("r{c}"),
            ));
        }
    }
    Ok(sides)
}

/// The first session in a console's queue list (`data-session-id="…"`).
fn first_session_id(html: &str) -> Option<i64> {
    let marker = "data-session-id=\"";
    let at = html.find(marker)? + marker.len();
    let rest = &html[at..];
    rest[..rest.find('"')?].parse().ok()
}

/// One of the tool's relays, measured like Supportal: its latencies and faults. `apart`: the
/// relay in a process of its own.
async fn measure_relay(
    name: &str,
    relay: Relay,
    apart: bool,
    options: &Options,
) -> Result<(Latencies, u64)> {
    let (sockets, server) = relay::open(options.chats, relay, apart).await?;
    // The socket's name ends with its side (`relay-{chat}-a` or `-b`).
    let side = |name: &str| match relay {
        Relay::Complete | Relay::CompleteOneThread => Side::Framed {
            me: if name.ends_with("-a") { "a" } else { "b" },
        },
        Relay::Bare | Relay::Committing => Side::Relay,
    };
    let sides = sockets
        .into_iter()
        .map(|(socket, name)| (side(&name), socket, name))
        .collect();
    let process = server.process_id();
    let before = process.and_then(procstat::sample);
    let (tracker, tool_cpu) = measure(sides, options.duration, false).await;
    let relay_cpu = process.and_then(|pid| procstat::cpu_between(before, procstat::sample(pid)));
    drop(server);
    let measured = print(name, &tracker, options.duration);
    print_cpu(&tracker, tool_cpu, relay_cpu.map(|cpu| ("relay", cpu)));
    Ok(measured)
}

fn print(name: &str, tracker: &Tracker, duration: Duration) -> (Latencies, u64) {
    let (latencies, sent, lost, duplicates, errors) = tracker.report();
    println!(
        "   {name}: {} messages ({}/s)  send → other side: {}  lost {lost}  twice {duplicates}  send errors {errors}",
        thousands(sent as f64),
        thousands(sent as f64 / duration.as_secs_f64().max(1e-9)),
        latencies.summary()
    );
    (latencies, lost + duplicates + errors)
}

/// The CPU the tool, and the process it measures (named), spent per message received.
fn print_cpu(tracker: &Tracker, tool: Option<f64>, server: Option<(&str, f64)>) {
    let messages = tracker.received.lock().map(|r| r.len()).unwrap_or(0).max(1) as f64;
    let per_message = |cpu: f64| format!("{:.0} µs", cpu * 1e6 / messages);
    let mut parts = Vec::new();
    if let Some((name, cpu)) = server {
        parts.push(format!("{name} {}", per_message(cpu)));
    }
    if let Some(cpu) = tool {
        parts.push(format!("this tool {}", per_message(cpu)));
    }
    if !parts.is_empty() {
        println!("   CPU per message: {}", parts.join(", "));
    }
}

/// Each message the tracker kept, in the order sent: its id, when it was sent in seconds on
/// CLOCK_MONOTONIC (what Rust's `Instant` reads on Linux, and what `perf record -k
/// CLOCK_MONOTONIC` stamps samples with, so a slow message can be laid beside what the machine
/// did then), and its latency in µs.
fn write_each(tracker: &Tracker, path: &Path) -> Result<()> {
    let (now, monotonic) = (
        Instant::now(),
        rustix::time::clock_gettime(rustix::time::ClockId::Monotonic),
    );
    let now_secs = monotonic.tv_sec as f64 + monotonic.tv_nsec as f64 / 1e9;
    let mut each = tracker
        .each
        .as_ref()
        .and_then(|e| e.lock().ok().map(|e| e.clone()))
        .unwrap_or_default();
    each.sort_by_key(|(_, sent, _)| *sent);
    let mut text = String::from("# id, sent (CLOCK_MONOTONIC, s), send → other side (µs)\n");
    for (id, sent, latency) in each {
        let sent_secs = now_secs - now.saturating_duration_since(sent).as_secs_f64();
        text.push_str(&format!("{id} {sent_secs:.6} {}\n", latency.as_micros()));
    }
    std::fs::write(path, text)?;
    Ok(())
}

pub async fn run(target: &Target, accounts: &Accounts, options: &Options) -> Result<Vec<Outcome>> {
    println!(
        "== chat delivery: {} chats, each side sending one message a second ({}) for {:.0} s",
        options.chats,
        match options.send_by {
            SendBy::Socket => "on its socket",
            SendBy::Post => "by HTTP POST",
        },
        options.duration.as_secs_f64()
    );
    let (relay_latencies, relay_faults) = measure_relay(
        "baseline, a bare WebSocket relay in the tool",
        Relay::Bare,
        false,
        options,
    )
    .await?;
    let mut outcomes = vec![Outcome {
        name: "chat relay baseline".into(),
        errors: relay_faults,
    }];
    if options.floor {
        let floors = [
            (
                "floor, the relay committing each message to SQLite before forwarding it",
                Relay::Committing,
                false,
            ),
            ("the bare relay in a process of its own", Relay::Bare, true),
            (
                "the committing relay in a process of its own",
                Relay::Committing,
                true,
            ),
            (
                "the complete relay (numbered, idempotent, acknowledged) in a process of its own",
                Relay::Complete,
                true,
            ),
            (
                "the complete relay on one thread in a process of its own",
                Relay::CompleteOneThread,
                true,
            ),
        ];
        for (name, relay, apart) in floors {
            let (floor, faults) = measure_relay(name, relay, apart, options).await?;
            let ratio = floor.p99_micros() as f64 / relay_latencies.p99_micros().max(1) as f64;
            println!("   ratio of p99 to the relay in the tool: {ratio:.2}");
            outcomes.push(Outcome {
                name: format!("chat {name}"),
                errors: faults,
            });
        }
    }

    let (latencies, faults) = measure_supportal("supportal", target, accounts, options).await?;
    let ratio = latencies.p99_micros() as f64 / relay_latencies.p99_micros().max(1) as f64;
    println!("   ratio of p99 supportal / relay: {ratio:.2} (target ≤ 2 at 1,000 chats on SQLite)");
    outcomes.push(Outcome {
        name: "chat delivery".into(),
        errors: faults,
    });
    Ok(outcomes)
}

/// Supportal's chats on a fresh server of `target`: the latencies and the faults (lost, twice,
/// send errors), printed under `name` with the server's CPU per message.
pub async fn measure_supportal(
    name: &str,
    target: &Target,
    accounts: &Accounts,
    options: &Options,
) -> Result<(Latencies, u64)> {
    let server = target.start().await?;
    let sides = supportal_chats(server.addr, accounts, options.chats, options.send_by).await?;
    let before = server.sample();
    let each = options.latencies_to.is_some();
    let (tracker, tool_cpu) = measure(sides, options.duration, each).await;
    let after = server.sample();
    let (latencies, faults) = print(name, &tracker, options.duration);
    let server_cpu = procstat::cpu_between(before, after);
    print_cpu(&tracker, tool_cpu, server_cpu.map(|cpu| ("server", cpu)));
    if let Some(after) = after {
        println!(
            "   server memory {}",
            crate::report::mib(after.rss_bytes as f64)
        );
    }
    if let Some(path) = &options.latencies_to {
        write_each(&tracker, path)
            .with_context(|| format!("writing the latencies to {}", path.display()))?;
        println!("   each message's latency written to {}", path.display());
    }
    server.stop().await?;
    Ok((latencies, faults))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_spread_over_the_second_with_each_chats_sides_half_a_second_apart() {
        let count = 6;
        let phases: Vec<u128> = (0..6).map(|n| phase_of(n, count).as_millis()).collect();
        // Sides in pairs: chat 0 is sides 0 and 1, chat 1 sides 2 and 3, …
        assert_eq!(phases, [0, 500, 166, 666, 333, 833]);
        let mut spread = phases.clone();
        spread.sort_unstable();
        assert_eq!(spread, [0, 166, 333, 500, 666, 833], "one slot each");
        assert_eq!(phase_of(0, 1), Duration::ZERO, "a lone side");
    }
}
