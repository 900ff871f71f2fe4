//! Scenario 1, the portal page: GET of a site's first page with a browser's cookies, keep-alive,
//! N connections. Baseline: the same bytes served as a static file, measured in the same run.

use crate::baseline::StaticServer;
use crate::http::Browser;
use crate::report::{thousands, Latencies, Outcome};
use crate::target::{Accounts, Target};
use anyhow::{anyhow, Result};
use std::time::{Duration, Instant};

pub struct Options {
    pub connections: usize,
    pub duration: Duration,
    /// Baseline and server are measured alternately this many times each.
    pub rounds: usize,
}

#[derive(Default)]
struct Run {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    latencies: Latencies,
    cpu_secs: Option<f64>,
}

impl Run {
    fn add(&mut self, other: Run) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.elapsed += other.elapsed;
        self.latencies.merge(&other.latencies);
        self.cpu_secs = match (self.cpu_secs, other.cpu_secs) {
            (Some(a), Some(b)) => Some(a + b),
            (None, b) => b,
            (a, None) => a,
        };
    }

    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Every browser GETs `path` in a loop until `duration` has passed.
async fn hammer(browsers: Vec<Browser>, path: &str, duration: Duration) -> (Vec<Browser>, Run) {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = browsers
        .into_iter()
        .map(|mut browser| {
            let path = path.to_owned();
            tokio::spawn(async move {
                let (mut latencies, mut requests, mut errors) = (Latencies::default(), 0u64, 0u64);
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match browser.get(&path).await {
                        Ok(r) if r.status.is_success() && !r.body.is_empty() => {
                            latencies.record(sent.elapsed());
                            requests += 1;
                        }
                        _ => errors += 1,
                    }
                }
                (browser, latencies, requests, errors)
            })
        })
        .collect();
    let mut run = Run::default();
    let mut back = Vec::new();
    for task in tasks {
        if let Ok((browser, latencies, requests, errors)) = task.await {
            back.push(browser);
            run.latencies.merge(&latencies);
            run.requests += requests;
            run.errors += errors;
        } else {
            run.errors += 1;
        }
    }
    run.elapsed = started.elapsed();
    (back, run)
}

pub async fn run(target: &Target, accounts: &Accounts, options: &Options) -> Result<Vec<Outcome>> {
    let server = target.start().await?;
    let path = format!("/p/{}", accounts.site);
    // Each connection is its own browser: a first visit sets its cookies, as a customer's would.
    let mut browsers = Vec::new();
    for _ in 0..options.connections.max(1) {
        let mut browser = Browser::new(server.addr);
        browser.get(&path).await?.ok()?;
        browsers.push(browser);
    }
    let page = browsers[0].get(&path).await?.ok()?;
    let content_type = page
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("text/html; charset=utf-8")
        .to_owned();
    let baseline = StaticServer::start(page.body.clone(), &content_type).await?;
    let mut baseline_browsers: Vec<Browser> = browsers
        .iter()
        .map(|b| b.with_cookies_at(baseline.addr))
        .collect();
    println!(
        "== portal page: GET {path} ({} bytes) with a browser's cookies, keep-alive, {} connections, {} × {:.0} s each",
        page.body.len(),
        options.connections,
        options.rounds,
        options.duration.as_secs_f64()
    );
    let (mut ours, mut theirs) = (Run::default(), Run::default());
    let mut memory = None;
    for _ in 0..options.rounds.max(1) {
        let (back, run) = hammer(baseline_browsers, &path, options.duration).await;
        baseline_browsers = back;
        theirs.add(run);
        let before = server.sample();
        let (back, mut run) = hammer(browsers, &path, options.duration).await;
        let after = server.sample();
        run.cpu_secs = crate::procstat::cpu_between(before, after);
        memory = after.map(|a| a.rss_bytes).or(memory);
        browsers = back;
        ours.add(run);
    }
    let baseline_kind = baseline.kind;
    baseline.stop().await;
    let cpu = ours
        .cpu_secs
        .map(|cpu| {
            format!(
                "  server CPU {:.0} µs/request, memory {}",
                cpu * 1e6 / (ours.requests.max(1) as f64),
                memory.map_or("?".into(), |m| crate::report::mib(m as f64))
            )
        })
        .unwrap_or_default();
    println!(
        "   baseline, {:<44} {:>8} req/s  {}  errors {}",
        format!("{baseline_kind}:"),
        thousands(theirs.per_second()),
        theirs.latencies.summary(),
        theirs.errors
    );
    println!(
        "   supportal: {:<42} {:>8} req/s  {}  errors {}{cpu}",
        "",
        thousands(ours.per_second()),
        ours.latencies.summary(),
        ours.errors
    );
    let ratio = ours.per_second() / theirs.per_second().max(1e-9);
    println!("   ratio supportal / baseline: {ratio:.2} (target ≥ 0.60)");
    server.stop().await?;
    if ours.requests == 0 {
        return Err(anyhow!("the portal page answered no request"));
    }
    Ok(vec![
        Outcome {
            name: "portal page: baseline".into(),
            errors: theirs.errors,
        },
        Outcome {
            name: "portal page".into(),
            errors: ours.errors,
        },
    ])
}
