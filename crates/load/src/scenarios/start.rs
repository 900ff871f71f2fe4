//! Scenario 2, sessions started: customers submit the contact button and the issue form (in
//! turn), then open the waiting page's socket, while W customers already wait with their sockets
//! open. Sessions per second, the server's CPU per session, and the time until a rep's open
//! console shows the arrival. Baseline: the same measurement with nobody waiting (W = 0).
//!
//! Measured customers close their socket after its first view and stay in the queue (as a
//! customer who switched tabs would): the queue grows during a step, the open sockets do not.

use crate::console::{customer_name, sign_in, Arrivals, Console};
use crate::customer::{open_waiting_socket, queue_many, Customer, Door, Fleet};
use crate::report::{thousands, Latencies, Outcome};
use crate::target::{Accounts, Target};
use anyhow::Result;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Options {
    pub connections: usize,
    pub duration: Duration,
    pub waiting: Vec<usize>,
}

pub struct Measured {
    pub per_second: f64,
    pub cpu_per_session_ms: Option<f64>,
    pub latencies: Latencies,
}

pub async fn run(target: &Target, accounts: &Accounts, options: &Options) -> Result<Vec<Outcome>> {
    println!(
        "== sessions started: contact button and issue form in turn, then the waiting socket's first view; \
         {} connections, {:.0} s per step",
        options.connections,
        options.duration.as_secs_f64()
    );
    let mut outcomes = Vec::new();
    let mut baseline: Option<Measured> = None;
    for &waiting in &options.waiting {
        let (measured, errors) = step(target, accounts, options, waiting).await?;
        if waiting == 0 {
            println!("   (W = 0 is the baseline of the steps after it)");
        }
        if let Some(base) = baseline.as_ref().filter(|_| waiting > 0) {
            let cpu = match (measured.cpu_per_session_ms, base.cpu_per_session_ms) {
                (Some(now), Some(then)) => {
                    format!(", CPU per session {:.2}× W = 0", now / then.max(1e-9))
                }
                _ => String::new(),
            };
            println!(
                "   ratio W = {} / W = 0: sessions/s {:.2}{cpu}",
                thousands(waiting as f64),
                measured.per_second / base.per_second.max(1e-9)
            );
        }
        if waiting == 0 {
            baseline = Some(measured);
        }
        outcomes.push(Outcome {
            name: format!("sessions started, W = {waiting}"),
            errors,
        });
    }
    Ok(outcomes)
}

/// One step: sessions started on a fresh server of `target` while `waiting` customers wait.
pub async fn step(
    target: &Target,
    accounts: &Accounts,
    options: &Options,
    waiting: usize,
) -> Result<(Measured, u64)> {
    let server = target.start().await?;
    let addr = server.addr;
    let (pages, mut errors) = queue_many(addr, &accounts.site, waiting, 16).await?;
    let fleet = Fleet::open(addr, &pages, 256).await;
    errors += fleet.errors;
    // One rep whose console shows the team and general queues the customers land in.
    let rep_email = accounts.rep_emails.last().cloned().unwrap_or_default();
    let arrivals = Arrivals::new(1);
    let console = Console::open(
        sign_in(addr, &rep_email, &accounts.password).await?,
        arrivals.clone(),
    )
    .await?;

    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + options.duration;
    let before = server.sample();
    let workers: Vec<_> = (0..options.connections.max(1))
        .map(|_| {
            let (next, arrivals, site) = (next.clone(), arrivals.clone(), accounts.site.clone());
            tokio::spawn(async move {
                let (mut latencies, mut done, mut errors) = (Latencies::default(), 0u64, 0u64);
                let mut customer = match Customer::arrive(addr, &site).await {
                    Ok(c) => c,
                    Err(_) => return (latencies, done, errors + 1),
                };
                while Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let door = if n.is_multiple_of(2) {
                        Door::ContactButton
                    } else {
                        Door::IssueForm
                    };
                    let sent = Instant::now();
                    arrivals.started(n, sent);
                    let page = match customer.ask(door, &customer_name(n)).await {
                        Ok(page) => {
                            arrivals.committed(n);
                            page
                        }
                        Err(_) => {
                            errors += 1;
                            continue;
                        }
                    };
                    match open_waiting_socket(addr, &page, 0).await {
                        Ok((mut ws, _first_view)) => {
                            latencies.record(sent.elapsed());
                            done += 1;
                            let _ = ws.close(None).await;
                        }
                        Err(_) => errors += 1,
                    }
                }
                (latencies, done, errors)
            })
        })
        .collect();
    let (mut latencies, mut done) = (Latencies::default(), 0u64);
    for worker in workers {
        match worker.await {
            Ok((l, d, e)) => {
                latencies.merge(&l);
                done += d;
                errors += e;
            }
            Err(_) => errors += 1,
        }
    }
    let elapsed = started.elapsed();
    let after = server.sample();
    let cpu = crate::procstat::cpu_between(before, after);
    // Give the console a moment to show the last arrivals.
    let grace = Instant::now() + Duration::from_secs(5);
    while arrivals.pending() > 0 && Instant::now() < grace {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (shown, _, tracked) = arrivals.results();
    console.close().await?;
    fleet.close().await;
    server.stop().await?;

    let per_second = done as f64 / elapsed.as_secs_f64().max(1e-9);
    let cpu_per_session_ms = cpu.map(|c| c * 1000.0 / (done.max(1) as f64));
    println!(
        "   W = {:>6}: {:>6} sessions/s  {}  errors {}{}",
        thousands(waiting as f64),
        thousands(per_second),
        latencies.summary(),
        errors,
        match (cpu_per_session_ms, after) {
            (Some(ms), Some(after)) => format!(
                "  server CPU {ms:.2} ms/session, memory {}",
                crate::report::mib(after.rss_bytes as f64)
            ),
            _ => String::new(),
        }
    );
    println!(
        "   {:>10}  console shows the arrival: {} ({} of {} shown within 5 s of the end)",
        "",
        shown.summary(),
        shown.count(),
        tracked
    );
    Ok((
        Measured {
            per_second,
            cpu_per_session_ms,
            latencies,
        },
        errors,
    ))
}
