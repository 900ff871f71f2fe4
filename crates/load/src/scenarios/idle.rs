//! Scenario 3, idle sockets: K waiting customers who only keep their page's socket open. The
//! server's resident memory per socket: measured after queueing them, and again with every
//! socket open.

use crate::customer::{queue_many, Fleet};
use crate::report::{mib, thousands, Outcome};
use crate::target::{Accounts, Target};
use anyhow::{bail, Result};
use std::time::Duration;

pub struct Options {
    pub sockets: usize,
}

/// Sockets the tool (and a server it starts) may open, after raising the soft limit to the hard one.
pub fn raise_open_file_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024)
}

pub async fn run(
    target: &Target,
    accounts: &Accounts,
    options: &Options,
    file_limit: u64,
) -> Result<Vec<Outcome>> {
    let wanted = options.sockets as u64 + 200;
    if wanted > file_limit {
        bail!(
            "{} sockets need about {wanted} open files in this tool and in the server, but the limit here is {file_limit}: \
             raise it (as root: `ulimit -n {wanted}` in the shell that starts both, or LimitNOFILE={wanted} in the \
             server's systemd unit) or ask for fewer with --sockets",
            options.sockets
        );
    }
    println!(
        "== idle sockets: {} waiting customers keep their page's socket open (open-file limit here: {file_limit}; \
         a server this tool starts inherits it)",
        thousands(options.sockets as f64)
    );
    let server = target.start().await?;
    let (pages, mut errors) = queue_many(server.addr, &accounts.site, options.sockets, 16).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = server.sample();
    let fleet = Fleet::open(server.addr, &pages, 256).await;
    errors += fleet.errors;
    let open = fleet.open;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.sample();
    match (before, after) {
        (Some(before), Some(after)) => {
            let grown = after.rss_bytes as f64 - before.rss_bytes as f64;
            println!(
                "   {} sockets open: server memory {} → {} ({} more), {:.1} KiB per socket  errors {errors}",
                thousands(open as f64),
                mib(before.rss_bytes as f64),
                mib(after.rss_bytes as f64),
                mib(grown),
                grown / 1024.0 / (open.max(1) as f64)
            );
        }
        _ => println!(
            "   {} sockets open  errors {errors} (the server is not on this machine: no memory figure)",
            thousands(open as f64)
        ),
    }
    fleet.close().await;
    server.stop().await?;
    Ok(vec![Outcome {
        name: "idle sockets".into(),
        errors,
    }])
}
