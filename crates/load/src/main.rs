//! supportal-load: drives a running Supportal over real HTTP and WebSockets and reports
//! latencies (p50, p90, p99, max), throughput, errors, the server's CPU and memory, and ratios to
//! a baseline measured in the same run. See docs/benchmarks.md for the method and the figures.

mod baseline;
mod console;
mod customer;
mod http;
mod nginx;
mod procstat;
mod report;
mod scenarios;
mod target;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use scenarios::{chat, cluster, fanout, idle, page, reports, start};
use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use target::{Balanced, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// The portal's first page against the same bytes from nginx.
    Page,
    /// Sessions started while W customers wait with their sockets open.
    Start,
    /// Server memory per idle waiting socket.
    Idle,
    /// Time from an arrival to every open console showing it.
    Fanout,
    /// Chat delivery: send to receipt on the other side, against a bare WebSocket relay.
    Chat,
    /// Several nodes behind nginx against one node, on the same PostgreSQL (needs --postgres and
    /// a Redis; not part of the default set).
    Cluster,
    /// Reports of a month among a year of sessions (--sessions of them, written into a fresh
    /// server's database first; not part of the default set).
    Reports,
}

#[derive(Parser, Debug)]
#[command(
    name = "supportal-load",
    version,
    about = "Load scenarios against Supportal, with same-run baselines"
)]
struct Cli {
    /// Which scenarios to run (default: all).
    #[arg(value_enum)]
    scenarios: Vec<Scenario>,
    /// Small and short: every scenario in well under a minute (the test suite's smoke test).
    #[arg(long)]
    quick: bool,
    /// Measure the server already running at this URL (e.g. http://127.0.0.1:8080) instead of
    /// starting one per measurement.
    #[arg(long)]
    url: Option<String>,
    /// With --url: the server's process id, to read its CPU time and memory from /proc.
    #[arg(long, requires = "url")]
    server_pid: Option<u32>,
    /// The supportal binary to start (default: the one beside this tool, i.e. the same build profile).
    #[arg(long)]
    server: Option<PathBuf>,
    /// A PostgreSQL server (e.g. postgres://postgres@127.0.0.1:5432/postgres): each start gets a
    /// fresh database there. Default: SQLite in a fresh data directory.
    #[arg(long)]
    postgres: Option<String>,
    /// With --url: the site, the admin and the reps to use (default: the demo organization's).
    #[arg(long, default_value = "demo")]
    site: String,
    /// With --url: the password of the admin and reps.
    #[arg(long, env = "SUPPORTAL_DEMO_PASSWORD")]
    password: Option<String>,
    /// Seconds per measurement (default 10; 2 with --quick).
    #[arg(long)]
    duration: Option<f64>,
    /// Portal page: connections (default 32).
    #[arg(long, default_value_t = 32)]
    page_connections: usize,
    /// Portal page: baseline and server measured alternately this many times (default 2; 1 with --quick).
    #[arg(long)]
    rounds: Option<usize>,
    /// Sessions started: connections (default 16).
    #[arg(long, default_value_t = 16)]
    start_connections: usize,
    /// Sessions started: customers already waiting, one step each (default 0,1000,10000; 0,30 with --quick).
    #[arg(long, value_delimiter = ',')]
    waiting: Option<Vec<usize>>,
    /// Idle sockets: how many (default 10000; 100 with --quick).
    #[arg(long)]
    sockets: Option<usize>,
    /// Console fan-out: consoles open (default 100; 3 with --quick).
    #[arg(long)]
    reps: Option<usize>,
    /// Console fan-out: arrivals per second (default 50; 10 with --quick).
    #[arg(long)]
    rate: Option<f64>,
    /// Chat delivery: chats at once, each side sending a message a second (default 1000; 10 with --quick).
    #[arg(long)]
    chats: Option<usize>,
    /// Chat delivery: how each side sends (as the page's script does: on its socket; or by
    /// HTTP POST, the page's fallback and the way servers before `send` frames took messages).
    #[arg(long, value_enum, default_value_t = chat::SendBy::Socket)]
    chat_send: chat::SendBy,
    /// Chat delivery: also measure the floor, the tool's relay committing each message to
    /// SQLite before forwarding it (what any commit-before-delivery design adds on this machine),
    /// both relays again in a process of their own (what a server's process boundary adds), and
    /// the complete relay there, which keeps every delivery guarantee of issue 10 (numbered,
    /// idempotent on the client's id, acknowledged), with a writer thread and on one thread.
    #[arg(long)]
    chat_floor: bool,
    /// Chat delivery: write each of Supportal's messages to this file (id, send time on
    /// CLOCK_MONOTONIC, latency in µs), to lay slow ones beside `perf record -k CLOCK_MONOTONIC`.
    #[arg(long)]
    chat_latencies: Option<PathBuf>,
    /// Not a measurement: serve the chat scenario's relay on a loopback port (printed first) until
    /// killed. `--chat-floor` starts the tool so, to measure a relay in a process of its own.
    #[arg(long, value_enum, hide = true)]
    serve_relay: Option<scenarios::relay::Relay>,
    /// Several nodes: how many nodes the cluster has (default 3).
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Several nodes: the Redis the nodes share live updates through.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis: String,
    /// Reports: sessions written over the last 365 days (default 1000000; 20000 with --quick).
    #[arg(long)]
    sessions: Option<u64>,
}

fn default_server() -> Result<PathBuf> {
    let me = std::env::current_exe()?;
    let dir = me.parent().context("the tool's own directory")?;
    Ok(dir.join("supportal"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // On Ctrl-C or SIGTERM the run is dropped, and with it every server and nginx it started.
    let outcome = tokio::select! {
        outcome = run(cli) => outcome,
        _ = stopped() => Err(anyhow::anyhow!("stopped by a signal")),
    };
    match outcome {
        Ok(0) => ExitCode::SUCCESS,
        Ok(errors) => {
            eprintln!("supportal-load: {errors} errors");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("supportal-load: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// One node and `--nodes` nodes, both behind an nginx the tool starts, on fresh databases of the
/// `--postgres` server; the nodes of the cluster share `--redis`.
fn cluster_targets(cli: &Cli, target: &Target) -> Result<(Target, Target)> {
    let Target::Spawn { binary, .. } = target else {
        anyhow::bail!("the cluster scenario starts its own nodes: it does not take --url");
    };
    let postgres = cli
        .postgres
        .clone()
        .context("several nodes share one database: pass --postgres URL")?;
    let nginx = nginx::installed()
        .context("the cluster scenario balances through nginx, which is not installed")?;
    anyhow::ensure!(cli.nodes >= 2, "--nodes: a cluster has at least 2 nodes");
    let behind_nginx = |nodes: usize, redis: Option<String>| Target::Spawn {
        binary: binary.clone(),
        postgres: Some(postgres.clone()),
        balanced: Some(Balanced {
            nginx: nginx.clone(),
            nodes,
            redis,
        }),
    };
    // One node needs no bus: it is deployed without Redis, as docs/operations.md says.
    Ok((
        behind_nginx(1, None),
        behind_nginx(cli.nodes, Some(cli.redis.clone())),
    ))
}

async fn stopped() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return std::future::pending().await,
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

async fn run(cli: Cli) -> Result<u64> {
    let file_limit = idle::raise_open_file_limit();
    if let Some(relay) = cli.serve_relay {
        scenarios::relay::serve_alone(relay).await?;
        return Ok(0);
    }
    let target = match &cli.url {
        Some(url) => {
            let parsed = url::Url::parse(url).context("--url")?;
            let host = parsed.host_str().context("--url has no host")?;
            let port = parsed.port_or_known_default().unwrap_or(80);
            let addr = (host, port)
                .to_socket_addrs()?
                .next()
                .context("--url does not resolve")?;
            Target::Running {
                addr,
                pid: cli.server_pid,
            }
        }
        None => Target::Spawn {
            binary: cli.server.clone().map_or_else(default_server, Ok)?,
            postgres: cli.postgres.clone(),
            balanced: None,
        },
    };
    let mut accounts = target.demo_accounts();
    if cli.url.is_some() {
        accounts.site = cli.site.clone();
        if let Some(password) = &cli.password {
            accounts.password = password.clone();
        }
    }
    let quick = cli.quick;
    let pick = |full: f64, small: f64| if quick { small } else { full };
    let duration = Duration::from_secs_f64(cli.duration.unwrap_or(pick(10.0, 2.0)));
    let scenarios = if cli.scenarios.is_empty() {
        vec![
            Scenario::Page,
            Scenario::Start,
            Scenario::Idle,
            Scenario::Fanout,
            Scenario::Chat,
        ]
    } else {
        cli.scenarios.clone()
    };
    println!(
        "supportal-load{}: {}; {} cores",
        if quick { " --quick" } else { "" },
        target.describe(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let began = Instant::now();
    let mut outcomes = Vec::new();
    for scenario in scenarios {
        let found = match scenario {
            Scenario::Page => {
                let options = page::Options {
                    connections: cli.page_connections,
                    duration,
                    rounds: cli.rounds.unwrap_or(if quick { 1 } else { 2 }),
                };
                page::run(&target, &accounts, &options).await
            }
            Scenario::Start => {
                let options = start::Options {
                    connections: cli.start_connections,
                    duration,
                    waiting: cli.waiting.clone().unwrap_or(if quick {
                        vec![0, 30]
                    } else {
                        vec![0, 1000, 10_000]
                    }),
                };
                start::run(&target, &accounts, &options).await
            }
            Scenario::Idle => {
                let options = idle::Options {
                    sockets: cli.sockets.unwrap_or(pick(10_000.0, 100.0) as usize),
                };
                idle::run(&target, &accounts, &options, file_limit).await
            }
            Scenario::Fanout => {
                let options = fanout::Options {
                    reps: cli.reps.unwrap_or(pick(100.0, 3.0) as usize),
                    rate: cli.rate.unwrap_or(pick(50.0, 10.0)),
                    duration,
                };
                fanout::run(&target, &accounts, &options).await
            }
            Scenario::Chat => {
                let options = chat::Options {
                    chats: cli.chats.unwrap_or(pick(1000.0, 10.0) as usize),
                    duration,
                    send_by: cli.chat_send,
                    floor: cli.chat_floor,
                    latencies_to: cli.chat_latencies.clone(),
                };
                chat::run(&target, &accounts, &options).await
            }
            Scenario::Cluster => {
                let (single, several) = cluster_targets(&cli, &target)?;
                let options = cluster::Options {
                    nodes: cli.nodes,
                    rounds: cli.rounds.unwrap_or(if quick { 1 } else { 2 }),
                    start_connections: cli.start_connections,
                    chat: chat::Options {
                        chats: cli.chats.unwrap_or(pick(1000.0, 10.0) as usize),
                        duration,
                        send_by: cli.chat_send,
                        floor: false,
                        latencies_to: None,
                    },
                };
                cluster::run(&single, &several, &accounts, &options).await
            }
            Scenario::Reports => {
                let options = reports::Options {
                    sessions: cli.sessions.unwrap_or(pick(1_000_000.0, 20_000.0) as u64),
                    repeats: if quick { 2 } else { 5 },
                };
                reports::run(&target, &accounts, &options).await
            }
        };
        outcomes.extend(found.with_context(|| format!("scenario {scenario:?}"))?);
    }
    let errors: u64 = outcomes.iter().map(|o| o.errors).sum();
    for failed in outcomes.iter().filter(|o| o.errors > 0) {
        println!("   {}: {} errors", failed.name, failed.errors);
    }
    println!(
        "supportal-load: {} measurements, {errors} errors, {:.0} s",
        outcomes.len(),
        began.elapsed().as_secs_f64()
    );
    Ok(errors)
}
