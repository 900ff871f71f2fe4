//! Scenario 6, several nodes: sessions started and chat delivery through nginx, against one node
//! and against N nodes sharing the same PostgreSQL server (and a Redis bus), measured in turn in
//! the same run. The single node behind the same nginx is the baseline: the ratio shows what
//! spreading the load over nodes costs or gains, the balancer's hop cancelled out.

use super::{chat, start};
use crate::report::{millis, thousands, Outcome};
use crate::target::{nodes, Accounts, Target};
use anyhow::Result;
use std::time::Duration;

pub struct Options {
    pub nodes: usize,
    pub rounds: usize,
    pub start_connections: usize,
    pub chat: chat::Options,
}

/// One round's figures for one deployment.
struct Figures {
    sessions_per_second: f64,
    start_p99_micros: u64,
    chat_p50_micros: u64,
    chat_p99_micros: u64,
}

/// `single` is one node behind nginx, `cluster` the N nodes behind nginx, on the same database server.
pub async fn run(
    single: &Target,
    cluster: &Target,
    accounts: &Accounts,
    options: &Options,
) -> Result<Vec<Outcome>> {
    println!(
        "== several nodes: one node and {} behind nginx on the same PostgreSQL, {} round(s) in turn; \
         sessions started ({} connections, {:.0} s) and chat delivery ({} chats, {:.0} s)",
        nodes(options.nodes),
        options.rounds,
        options.start_connections,
        options.chat.duration.as_secs_f64(),
        options.chat.chats,
        options.chat.duration.as_secs_f64(),
    );
    let mut errors = 0;
    let mut rounds = Vec::new();
    for round in 1..=options.rounds.max(1) {
        let mut pair = Vec::new();
        for (target, size) in [(single, 1), (cluster, options.nodes)] {
            println!("   round {round}, {}:", nodes(size));
            let (figures, faults) = measure(target, accounts, options).await?;
            errors += faults;
            pair.push(figures);
        }
        rounds.push(pair);
    }
    println!(
        "   {:>5}  {:>20}  {:>20}  {:>20}  {:>20}",
        "round", "sessions/s (1 / N)", "start p99 (1 / N)", "chat p50 (1 / N)", "chat p99 (1 / N)"
    );
    for (i, pair) in rounds.iter().enumerate() {
        let (one, many) = (&pair[0], &pair[1]);
        println!(
            "   {:>5}  {:>20}  {:>20}  {:>20}  {:>20}",
            i + 1,
            format!(
                "{} / {}",
                thousands(one.sessions_per_second),
                thousands(many.sessions_per_second)
            ),
            format!(
                "{} / {}",
                millis(one.start_p99_micros),
                millis(many.start_p99_micros)
            ),
            format!(
                "{} / {}",
                millis(one.chat_p50_micros),
                millis(many.chat_p50_micros)
            ),
            format!(
                "{} / {}",
                millis(one.chat_p99_micros),
                millis(many.chat_p99_micros)
            ),
        );
        println!(
            "   ratio {} / one node: sessions/s {:.2} (target ≥ 1), chat p99 {:.2} (target ≤ 1.5)",
            nodes(options.nodes),
            many.sessions_per_second / one.sessions_per_second.max(1e-9),
            many.chat_p99_micros as f64 / one.chat_p99_micros.max(1) as f64
        );
    }
    Ok(vec![Outcome {
        name: "several nodes".into(),
        errors,
    }])
}

async fn measure(
    target: &Target,
    accounts: &Accounts,
    options: &Options,
) -> Result<(Figures, u64)> {
    let start_options = start::Options {
        connections: options.start_connections,
        duration: options.chat.duration,
        waiting: vec![0],
    };
    let (started, start_errors) = start::step(target, accounts, &start_options, 0).await?;
    // A moment for the previous server's sockets to close before the next one's chats open.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (latencies, chat_faults) =
        chat::measure_supportal("chat", target, accounts, &options.chat).await?;
    Ok((
        Figures {
            sessions_per_second: started.per_second,
            start_p99_micros: started.latencies.p99_micros(),
            chat_p50_micros: latencies.p50_micros(),
            chat_p99_micros: latencies.p99_micros(),
        },
        start_errors + chat_faults,
    ))
}
