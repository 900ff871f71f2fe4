//! Reps' consoles as console.js drives them: a socket that says "something happened", then a
//! fetch of the rep's queue list (bursts coalesced into one fetch after 100 ms). The list shows
//! the oldest waiting customers and the number of all of them (`data-total`); nobody is taken
//! during a measurement, so an arrival counts as shown once a fetched total includes it: the
//! k-th arrival to be committed (in the order their requests completed) is shown by the first
//! fetch whose total exceeds the console's first one by k.

use crate::http::{open_form, websocket, Browser, Socket};
use crate::report::Latencies;
use crate::target::Accounts;
use anyhow::{anyhow, bail, Result};
use futures::StreamExt;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

/// Names of measured customers: the prefix, then their number.
pub const NAME_PREFIX: &str = "Load customer ";

pub fn customer_name(n: u64) -> String {
    format!("{NAME_PREFIX}{n}")
}

/// When each measured customer arrived and how many consoles have shown them.
pub struct Arrivals {
    consoles: usize,
    inner: Mutex<Tracked>,
}

#[derive(Default)]
struct Tracked {
    started: HashMap<u64, Instant>,
    /// Arrivals in the order their requests completed (after their commit).
    committed: Vec<u64>,
    shown_by: HashMap<u64, usize>,
    each_console: Latencies,
    every_console: Latencies,
}

impl Arrivals {
    pub fn new(consoles: usize) -> Arc<Arrivals> {
        Arc::new(Arrivals {
            consoles,
            inner: Mutex::default(),
        })
    }

    fn tracked(&self) -> std::sync::MutexGuard<'_, Tracked> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn started(&self, n: u64, at: Instant) {
        self.tracked().started.insert(n, at);
    }

    /// Arrival `n`'s request completed: it is in the queue.
    pub fn committed(&self, n: u64) {
        self.tracked().committed.push(n);
    }

    /// A console that had already credited `credited` arrivals now counts `arrived` more than
    /// at its first fetch: credit the rest; how many it has credited now.
    fn shown_through(&self, credited: usize, arrived: usize, now: Instant) -> usize {
        let ready: Vec<u64> = {
            let t = self.tracked();
            let upto = arrived.min(t.committed.len());
            t.committed.get(credited..upto).unwrap_or_default().to_vec()
        };
        for n in &ready {
            self.shown(*n, now);
        }
        credited + ready.len()
    }

    fn shown(&self, n: u64, now: Instant) {
        let mut t = self.tracked();
        let Some(&started) = t.started.get(&n) else {
            return;
        };
        let took = now.saturating_duration_since(started);
        t.each_console.record(took);
        let count = t.shown_by.entry(n).or_insert(0);
        *count += 1;
        if *count == self.consoles {
            t.every_console.record(took);
        }
    }

    /// Arrivals not yet shown on every console.
    pub fn pending(&self) -> usize {
        let t = self.tracked();
        t.started
            .keys()
            .filter(|n| t.shown_by.get(n).copied().unwrap_or(0) < self.consoles)
            .count()
    }

    /// (latency to each console, latency until every console, arrivals tracked).
    pub fn results(&self) -> (Latencies, Latencies, usize) {
        let t = self.tracked();
        (
            t.each_console.clone(),
            t.every_console.clone(),
            t.started.len(),
        )
    }
}

/// How many customers wait in all, as a queue list says (`data-total`; a server from before the
/// list was bounded lists everyone, so its items are the total).
fn total_in(html: &str) -> Option<usize> {
    let marker = "data-total=\"";
    let Some(at) = html.find(marker) else {
        let items = html.matches("data-testid=\"queue-item\"").count();
        return html.contains("data-testid=\"queue-list\"").then_some(items);
    };
    let rest = &html[at + marker.len()..];
    rest[..rest.find('"')?].parse().ok()
}

/// `count` new rep accounts, created by the admin through the admin pages, each allowed
/// `session_limit` sessions at once.
pub async fn create_reps(
    addr: SocketAddr,
    accounts: &Accounts,
    count: usize,
    session_limit: usize,
) -> Result<Vec<String>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let mut admin = sign_in(addr, &accounts.admin_email, &accounts.password).await?;
    let page = admin.get("/admin/reps").await?.ok()?;
    let token = crate::http::csrf_field(page.text())
        .unwrap_or_default()
        .to_owned();
    let run = std::process::id();
    let limit = session_limit.to_string();
    let mut emails = Vec::with_capacity(count);
    for n in 0..count {
        let email = format!("load-rep-{run}-{}@load.test", next_account());
        let name = format!("Load Rep {n}");
        let fields = [
            ("csrf", token.as_str()),
            ("display_name", name.as_str()),
            ("email", email.as_str()),
            ("role", "rep"),
            ("session_limit", limit.as_str()),
            ("password", accounts.password.as_str()),
        ];
        let created = admin.post_form("/admin/reps", &fields).await?;
        if !created.status.is_redirection() {
            bail!(
                "the admin could not create {email} (HTTP {})",
                created.status
            );
        }
        emails.push(email);
    }
    Ok(emails)
}

/// Numbers the accounts this process creates (with the process id: unique per server).
fn next_account() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Sign a rep in; their browser holds the session cookie.
pub async fn sign_in(addr: SocketAddr, email: &str, password: &str) -> Result<Browser> {
    let (mut browser, token) = open_form(addr, "/login").await?;
    let fields = [
        ("csrf", token.as_str()),
        ("email", email),
        ("password", password),
    ];
    let response = browser.post_form("/login", &fields).await?;
    if !response.status.is_redirection() {
        bail!("{email} could not sign in (HTTP {})", response.status);
    }
    Ok(browser)
}

pub struct Console {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl Console {
    /// Open `rep`'s console (signed in already) and report what its lists show to `arrivals`.
    pub async fn open(rep: Browser, arrivals: Arc<Arrivals>) -> Result<Console> {
        let cookie = rep
            .cookie_header()
            .ok_or_else(|| anyhow!("not signed in"))?;
        let ws = websocket(rep.addr(), "/console/ws?after=0", Some(cookie), 0).await?;
        let mut rep = rep;
        let before = rep.get("/console/queue").await?.ok()?;
        let baseline = total_in(before.text()).ok_or_else(|| anyhow!("no total in the list"))?;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(watch_queue(rep, ws, arrivals, baseline, stopped));
        Ok(Console { stop, task })
    }

    /// Close the console; an error if it failed while open.
    pub async fn close(self) -> Result<()> {
        let _ = self.stop.send(true);
        self.task.await?
    }
}

async fn watch_queue(
    mut rep: Browser,
    mut ws: Socket,
    arrivals: Arc<Arrivals>,
    baseline: usize,
    mut stopped: watch::Receiver<bool>,
) -> Result<()> {
    let mut credited = 0;
    let mut refresh_at: Option<tokio::time::Instant> = None;
    loop {
        let refresh = async {
            match refresh_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stopped.changed() => return Ok(()),
            message = ws.next() => match message {
                Some(Ok(Message::Text(_))) => {
                    // Several events in a burst cause one fetch (as console.js does).
                    refresh_at.get_or_insert_with(|| tokio::time::Instant::now() + Duration::from_millis(100));
                }
                Some(Ok(_)) => {}
                _ => bail!("the console's socket closed"),
            },
            _ = refresh => {
                refresh_at = None;
                let list = rep.get("/console/queue").await?.ok()?;
                let now = Instant::now();
                let total = total_in(list.text()).unwrap_or(baseline);
                credited = arrivals.shown_through(credited, total.saturating_sub(baseline), now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_total_from_a_list() {
        let html = r#"<ul class="queue" data-testid="queue-list" data-total="1234"><li>"#;
        assert_eq!(total_in(html), Some(1234));
        assert_eq!(total_in("<ul>"), None);
        let unbounded = r#"<ul data-testid="queue-list"><li data-testid="queue-item"></li></ul>"#;
        assert_eq!(total_in(unbounded), Some(1));
    }

    #[test]
    fn an_arrival_counts_once_every_console_showed_it() {
        let arrivals = Arrivals::new(2);
        let t0 = Instant::now();
        arrivals.started(1, t0);
        arrivals.started(2, t0);
        arrivals.committed(2);
        arrivals.committed(1);
        // The first console's total grew by one: the first committed (2) is shown there.
        assert_eq!(
            arrivals.shown_through(0, 1, t0 + Duration::from_millis(5)),
            1
        );
        assert_eq!(arrivals.pending(), 2);
        // The second console sees both, the first catches up.
        assert_eq!(
            arrivals.shown_through(0, 2, t0 + Duration::from_millis(9)),
            2
        );
        assert_eq!(
            arrivals.shown_through(1, 2, t0 + Duration::from_millis(9)),
            2
        );
        assert_eq!(arrivals.pending(), 0);
        let (each, every, tracked) = arrivals.results();
        assert_eq!((each.count(), every.count(), tracked), (4, 2, 2));
    }
}
