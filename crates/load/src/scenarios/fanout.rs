//! Scenario 4, console fan-out: R reps with consoles open while customers arrive at a given rate;
//! the time from an arrival to every console showing it.

use crate::console::{create_reps, customer_name, sign_in, Arrivals, Console};
use crate::customer::{Customer, Door};
use crate::report::{thousands, Outcome};
use crate::target::{Accounts, Target};
use anyhow::Result;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Options {
    pub reps: usize,
    pub rate: f64,
    pub duration: Duration,
}

/// Rep accounts to sign in: the known ones, then as many new ones as the admin must create.
async fn rep_accounts(addr: SocketAddr, accounts: &Accounts, reps: usize) -> Result<Vec<String>> {
    let mut emails: Vec<String> = accounts.rep_emails.iter().take(reps).cloned().collect();
    let missing = reps - emails.len();
    emails.extend(create_reps(addr, accounts, missing, 3).await?);
    Ok(emails)
}

pub async fn run(target: &Target, accounts: &Accounts, options: &Options) -> Result<Vec<Outcome>> {
    println!(
        "== console fan-out: {} consoles open, {} arrivals/s for {:.0} s (contact button, general queue)",
        options.reps,
        options.rate,
        options.duration.as_secs_f64()
    );
    let server = target.start().await?;
    let addr = server.addr;
    let emails = rep_accounts(addr, accounts, options.reps).await?;
    let arrivals = Arrivals::new(emails.len());
    let mut consoles = Vec::new();
    for email in &emails {
        let rep = sign_in(addr, email, &accounts.password).await?;
        consoles.push(Console::open(rep, arrivals.clone()).await?);
    }

    // Arrivals on a fixed schedule, each from a browser of a small pool.
    let pool: Arc<Mutex<Vec<Customer>>> = Arc::default();
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let every = Duration::from_secs_f64(1.0 / options.rate.max(0.1));
    let total = (options.duration.as_secs_f64() * options.rate)
        .round()
        .max(1.0) as u64;
    let mut ticker = tokio::time::interval(every);
    let mut sending = tokio::task::JoinSet::new();
    let started = Instant::now();
    for n in 0..total {
        ticker.tick().await;
        let (pool, errors, arrivals, site) = (
            pool.clone(),
            errors.clone(),
            arrivals.clone(),
            accounts.site.clone(),
        );
        sending.spawn(async move {
            let taken = pool.lock().ok().and_then(|mut p| p.pop());
            let customer = match taken {
                Some(c) => Ok(c),
                None => Customer::arrive(addr, &site).await,
            };
            let outcome = match customer {
                Ok(mut customer) => {
                    arrivals.started(n, Instant::now());
                    let asked = customer.ask(Door::ContactButton, &customer_name(n)).await;
                    if asked.is_ok() {
                        arrivals.committed(n);
                    }
                    if let Ok(mut p) = pool.lock() {
                        p.push(customer);
                    }
                    asked.map(|_| ())
                }
                Err(e) => Err(e),
            };
            if outcome.is_err() {
                errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
    }
    while sending.join_next().await.is_some() {}
    let sent_for = started.elapsed();
    let grace = Instant::now() + Duration::from_secs(10);
    while arrivals.pending() > 0 && Instant::now() < grace {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let not_shown = arrivals.pending() as u64;
    let (each, every_console, tracked) = arrivals.results();
    for console in consoles {
        if console.close().await.is_err() {
            errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    server.stop().await?;
    let errors = errors.load(std::sync::atomic::Ordering::Relaxed) + not_shown;
    println!(
        "   {} arrivals in {:.1} s ({:.1}/s); not shown on every console within 10 s: {not_shown}; errors {errors}",
        thousands(tracked as f64),
        sent_for.as_secs_f64(),
        tracked as f64 / sent_for.as_secs_f64().max(1e-9)
    );
    println!("   arrival → one console:   {}", each.summary());
    println!(
        "   arrival → every console: {}  (target p99 < 500 ms at 100 consoles, 50/s)",
        every_console.summary()
    );
    Ok(vec![Outcome {
        name: "console fan-out".into(),
        errors,
    }])
}
