//! Scenario 7, reports on a year of data: a fresh server's demo organization is given
//! `--sessions` ended sessions (default 1,000,000) spread over the last 365 days, written
//! straight into its database (`store::generated_history`); then the admin opens the report
//! of one month, timed from request to the last byte: the page with its charts by day and by
//! rep, and the same month's CSV. The target (issue 15) is under a second on both backends.

use crate::http::Browser;
use crate::report::{thousands, Latencies, Outcome};
use crate::target::{Accounts, Target};
use anyhow::{bail, Context, Result};
use std::time::{Duration, Instant, SystemTime};
use store::generated_history::HistoryPlan;

pub struct Options {
    pub sessions: u64,
    /// Each report is loaded this many times.
    pub repeats: usize,
}

const DAY_MS: i64 = 24 * 3600 * 1000;

pub async fn run(target: &Target, accounts: &Accounts, options: &Options) -> Result<Vec<Outcome>> {
    println!(
        "== reports: {} sessions over 365 days, then one month's report loaded {} times each",
        thousands(options.sessions as f64),
        options.repeats
    );
    let server = target.start().await?;
    let url = server.database_url().context(
        "the reports scenario writes into the server's database: it does not take --url",
    )?;
    let now = wall_clock_millis()?;
    let plan = plan(&url, &accounts.site, options.sessions, now).await?;
    let store = store::Store::connect(&url).await?;
    let org = plan.0;
    let began = Instant::now();
    let written = store.generate_history(org, &plan.1).await?;
    let took = began.elapsed().as_secs_f64();
    println!(
        "   written: {} sessions in {took:.0} s ({}/s)",
        thousands(written as f64),
        thousands(written as f64 / took.max(0.001))
    );
    store.close().await;

    // The month that ended a month ago: every one of its sessions has ended.
    let (from, to) = (date(now - 60 * DAY_MS)?, date(now - 31 * DAY_MS)?);
    let mut admin =
        crate::console::sign_in(server.addr, &accounts.admin_email, &accounts.password).await?;
    let reports = [
        (
            "page by day",
            format!("/admin/reports?from={from}&to={to}"),
            "report-chart",
        ),
        (
            "page by rep",
            format!("/admin/reports?from={from}&to={to}&group=rep"),
            "report-chart",
        ),
        (
            "CSV by day",
            format!("/admin/reports.csv?from={from}&to={to}"),
            "arrived",
        ),
    ];
    let mut errors = 0;
    println!("   {from} to {to}, {} loads each:", options.repeats);
    for (name, path, expected) in reports {
        let mut latencies = Latencies::default();
        for _ in 0..options.repeats {
            match timed_get(&mut admin, &path, expected).await {
                Ok(took) => latencies.record(took),
                Err(err) => {
                    errors += 1;
                    eprintln!("   {name}: {err:#}");
                }
            }
        }
        println!("   {name:<12} {}", latencies.summary());
    }
    server.stop().await?;
    Ok(vec![Outcome {
        name: "reports".into(),
        errors,
    }])
}

/// The demo organization and what its generated sessions are spread among.
async fn plan(
    url: &str,
    site: &str,
    sessions: u64,
    now: i64,
) -> Result<(domain::OrgId, HistoryPlan)> {
    let store = store::Store::connect(url).await?;
    let org = store
        .site_by_slug(site)
        .await?
        .context("the demo site")?
        .org_id;
    let sites = store.sites(org).await?.into_iter().map(|s| s.id).collect();
    let teams = store.teams(org).await?.into_iter().map(|t| t.id).collect();
    let reps = store.users(org).await?.into_iter().map(|u| u.id).collect();
    store.close().await;
    let plan = HistoryPlan {
        sessions,
        from: domain::Timestamp(now - 365 * DAY_MS),
        to: domain::Timestamp(now - DAY_MS),
        sites,
        teams,
        reps,
    };
    if plan.sites.is_empty() || plan.teams.is_empty() || plan.reps.is_empty() {
        bail!("the demo organization needs a site, a team and a rep");
    }
    Ok((org, plan))
}

/// Load `path` to its last byte; an error unless it answers 200 with `expected` in it.
async fn timed_get(browser: &mut Browser, path: &str, expected: &str) -> Result<Duration> {
    let began = Instant::now();
    let response = browser.get(path).await?;
    let took = began.elapsed();
    if !response.status.is_success() || !response.text().contains(expected) {
        bail!("{path}: HTTP {} without {expected:?}", response.status);
    }
    Ok(took)
}

/// The UTC day of a moment, `YYYY-MM-DD`.
fn date(millis: i64) -> Result<String> {
    let at = jiff::Timestamp::from_millisecond(millis)?;
    Ok(at.to_zoned(jiff::tz::TimeZone::UTC).date().to_string())
}

/// Now, in milliseconds since 1970: where the generated year ends (the server's reports count
/// days by its own clock, the same machine's).
#[allow(clippy::disallowed_methods)]
fn wall_clock_millis() -> Result<i64> {
    Ok(SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)?
        .as_millis() as i64)
}
