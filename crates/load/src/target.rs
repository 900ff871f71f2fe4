//! The server under test: a fresh Supportal started by the tool (its own data directory, or a
//! fresh database on a PostgreSQL server), several such nodes behind nginx, or one already
//! running at a URL.

use crate::http::Browser;
use crate::nginx::Nginx;
use crate::procstat::{self, Sample};
use anyhow::{anyhow, bail, Context, Result};
use sqlx::Connection;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// Who the tool signs in as. The demo organization's accounts when the tool starts the server.
#[derive(Debug, Clone)]
pub struct Accounts {
    pub site: String,
    pub admin_email: String,
    pub password: String,
    pub rep_emails: Vec<String>,
}

pub enum Target {
    /// Start `binary serve --demo` for each measurement.
    Spawn {
        binary: PathBuf,
        /// A PostgreSQL server URL; each start gets a fresh database there. None: SQLite.
        postgres: Option<String>,
        /// Behind nginx: this many nodes sharing the database (and, past one, a Redis bus).
        balanced: Option<Balanced>,
    },
    /// A server that is already running (its process id, when on this machine, for /proc).
    Running { addr: SocketAddr, pid: Option<u32> },
}

/// Nodes behind an nginx the tool starts, round robin, as docs/operations.md deploys them.
#[derive(Debug, Clone)]
pub struct Balanced {
    pub nginx: PathBuf,
    pub nodes: usize,
    /// The Redis the nodes share their live updates through (needed past one node).
    pub redis: Option<String>,
}

pub struct Server {
    pub addr: SocketAddr,
    pids: Vec<u32>,
    children: Vec<Child>,
    nginx: Option<Nginx>,
    fresh_database: Option<(String, String)>,
    _data_dirs: Vec<tempfile::TempDir>,
}

const DEMO_PASSWORD: &str = "load tool demo password";

impl Target {
    pub fn describe(&self) -> String {
        match self {
            Target::Spawn {
                binary,
                postgres,
                balanced,
            } => format!(
                "{} serve --demo, fresh {} per measurement{}",
                binary.display(),
                if postgres.is_some() {
                    "PostgreSQL database"
                } else {
                    "SQLite data directory"
                },
                match balanced {
                    Some(b) => format!(", {} behind nginx", nodes(b.nodes)),
                    None => String::new(),
                }
            ),
            Target::Running { addr, .. } => format!("the server at http://{addr}"),
        }
    }

    pub fn demo_accounts(&self) -> Accounts {
        Accounts {
            site: "demo".into(),
            admin_email: "admin@demo.test".into(),
            password: DEMO_PASSWORD.into(),
            rep_emails: vec!["rep1@demo.test".into(), "rep2@demo.test".into()],
        }
    }

    pub async fn start(&self) -> Result<Server> {
        match self {
            Target::Running { addr, pid } => Ok(Server {
                addr: *addr,
                pids: pid.iter().copied().collect(),
                children: Vec::new(),
                nginx: None,
                fresh_database: None,
                _data_dirs: Vec::new(),
            }),
            Target::Spawn {
                binary,
                postgres,
                balanced,
            } => spawn(binary, postgres.as_deref(), balanced.as_ref()).await,
        }
    }
}

fn free_port() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

static DATABASES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Create an empty database on the PostgreSQL server at `server_url`; (its URL, its name).
async fn fresh_postgres(server_url: &str) -> Result<(String, String)> {
    let n = DATABASES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("supportal_load_{}_{n}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(server_url)
        .await
        .with_context(|| format!("connecting to {server_url}"))?;
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut conn)
        .await?;
    let mut url = url::Url::parse(server_url)?;
    url.set_path(&name);
    Ok((url.to_string(), name))
}

pub fn nodes(n: usize) -> String {
    if n == 1 {
        "one node".into()
    } else {
        format!("{n} nodes")
    }
}

async fn spawn(
    binary: &Path,
    postgres: Option<&str>,
    balanced: Option<&Balanced>,
) -> Result<Server> {
    if !binary.exists() {
        bail!(
            "no server binary at {}: build it with `cargo build --release -p supportal`, or pass --server PATH",
            binary.display()
        );
    }
    let fresh_database = match postgres {
        Some(server_url) => Some(fresh_postgres(server_url).await?),
        None => None,
    };
    let mut server = Server {
        addr: free_port()?,
        pids: Vec::new(),
        children: Vec::new(),
        nginx: None,
        fresh_database: fresh_database
            .as_ref()
            .map(|(_, name)| (postgres.unwrap_or_default().to_owned(), name.clone())),
        _data_dirs: Vec::new(),
    };
    let shared = Shared {
        database_url: fresh_database.map(|(url, _)| url),
        redis: balanced.and_then(|b| b.redis.clone()),
        // One channel per run: two runs sharing a Redis do not hear each other.
        channel: format!(
            "supportal-load:{}:{}",
            std::process::id(),
            DATABASES.load(std::sync::atomic::Ordering::Relaxed)
        ),
    };
    // One after the other: the first seeds the demo organization, the others find it.
    for _ in 0..balanced.map_or(1, |b| b.nodes.max(1)) {
        let (addr, child, dir) = spawn_node(binary, &shared).await?;
        server.addr = addr;
        server.pids.extend(child.id());
        server.children.push(child);
        server._data_dirs.push(dir);
    }
    if let Some(balanced) = balanced {
        let upstreams: Vec<SocketAddr> = server
            .children
            .iter()
            .zip(&server._data_dirs)
            .filter_map(|(_, dir)| node_addr(dir.path()))
            .collect();
        let nginx = Nginx::start(&balanced.nginx, |_, addr| Ok(balancer(addr, &upstreams))).await?;
        server.addr = nginx.addr;
        server.nginx = Some(nginx);
    }
    Ok(server)
}

/// What every node of one measurement shares.
struct Shared {
    database_url: Option<String>,
    redis: Option<String>,
    channel: String,
}

/// The address a node listens on, kept beside its log.
fn node_addr(dir: &Path) -> Option<SocketAddr> {
    std::fs::read_to_string(dir.join("addr")).ok()?.parse().ok()
}

/// The balancer as docs/operations.md configures it: round robin, WebSockets upgraded and kept
/// open, plain requests over kept-alive connections to the nodes.
fn balancer(listen: SocketAddr, nodes: &[SocketAddr]) -> String {
    let servers: String = nodes
        .iter()
        .map(|addr| format!("    server {addr} max_fails=1 fail_timeout=2s;\n"))
        .collect();
    format!(
        "  map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}\n\
           upstream supportal {{\n{servers}    keepalive 256;\n  }}\n\
           server {{\n\
             listen {listen};\n\
             location / {{\n\
               proxy_pass http://supportal;\n\
               proxy_http_version 1.1;\n\
               proxy_set_header Upgrade $http_upgrade;\n\
               proxy_set_header Connection $connection_upgrade;\n\
               proxy_set_header Host $http_host;\n\
               proxy_set_header X-Forwarded-For $remote_addr;\n\
               proxy_read_timeout 1h;\n\
               proxy_next_upstream error timeout http_502 http_503;\n\
             }}\n\
           }}"
    )
}

async fn spawn_node(
    binary: &Path,
    shared: &Shared,
) -> Result<(SocketAddr, Child, tempfile::TempDir)> {
    let dir = tempfile::Builder::new()
        .prefix("supportal-load-")
        .tempdir()?;
    let addr = free_port()?;
    std::fs::write(dir.path().join("addr"), addr.to_string())?;
    let log = std::fs::File::create(dir.path().join("server.log"))?;
    let mut command = Command::new(binary);
    command
        .args(["serve", "--demo", "--bind", &addr.to_string()])
        .env("SUPPORTAL_DATA_DIR", dir.path())
        .env("SUPPORTAL_DEMO_PASSWORD", DEMO_PASSWORD)
        // The load comes from one address: per-address limits would measure the limiter.
        .env(
            "SUPPORTAL_SECURITY__LOGIN_ATTEMPTS_PER_IP_PER_MINUTE",
            "1000000",
        )
        .env(
            "SUPPORTAL_SECURITY__LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS",
            "1000000",
        )
        .env("SUPPORTAL_SECURITY__LOGIN_FAILURES_PER_ACCOUNT", "1000000")
        .env(
            "SUPPORTAL_SECURITY__SESSION_REQUESTS_PER_IP_PER_HOUR",
            "1000000",
        )
        .env(
            "SUPPORTAL_SECURITY__SESSION_REQUESTS_PER_BROWSER_PER_HOUR",
            "1000000",
        )
        .env(
            "SUPPORTAL_SECURITY__KEY_ATTEMPTS_PER_IP_PER_MINUTE",
            "1000000",
        )
        .env("SUPPORTAL_SECURITY__SOCKETS_PER_IP", "1000000")
        .env("SUPPORTAL_SERVER__MAX_CONNECTIONS", "1000000")
        .env(
            "SUPPORTAL_SECURITY__FAILED_KEYS_PER_ORG_PER_HOUR",
            "1000000",
        )
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true);
    if let Some(url) = &shared.database_url {
        command.env("SUPPORTAL_DATABASE__URL", url);
    }
    if let Some(redis) = &shared.redis {
        command
            .env("SUPPORTAL_BUS__URL", redis)
            .env("SUPPORTAL_BUS__CHANNEL", &shared.channel);
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            bail!("the server exited ({status}) before it was ready:\n{log}");
        }
        let mut probe = Browser::new(addr);
        if let Ok(r) = probe.get("/readyz").await {
            if r.status.is_success() {
                break;
            }
        }
        if Instant::now() > deadline {
            bail!("the server at {addr} was not ready within 2 minutes");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok((addr, child, dir))
}

impl Server {
    pub fn sample(&self) -> Option<Sample> {
        // Every node's CPU and memory together.
        self.pids
            .iter()
            .try_fold(
                Sample {
                    cpu_secs: 0.0,
                    rss_bytes: 0,
                },
                |sum, pid| {
                    let one = procstat::sample(*pid)?;
                    Some(Sample {
                        cpu_secs: sum.cpu_secs + one.cpu_secs,
                        rss_bytes: sum.rss_bytes + one.rss_bytes,
                    })
                },
            )
            .filter(|_| !self.pids.is_empty())
    }

    /// The database of a server the tool started (None for one already running).
    pub fn database_url(&self) -> Option<String> {
        if let Some((server_url, name)) = &self.fresh_database {
            let mut url = url::Url::parse(server_url).ok()?;
            url.set_path(name);
            return Some(url.to_string());
        }
        let dir = self._data_dirs.first()?;
        Some(format!(
            "sqlite://{}",
            dir.path().join("supportal.db").display()
        ))
    }

    /// Stop a server the tool started (and drop its fresh database); a running one is left alone.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(nginx) = self.nginx.take() {
            nginx.stop().await;
        }
        for mut child in self.children.drain(..) {
            child.kill().await.ok();
            child.wait().await.ok();
        }
        if let Some((server_url, name)) = self.fresh_database.take() {
            let mut conn = sqlx::PgConnection::connect(&server_url).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .map_err(|e| anyhow!("dropping {name}: {e}"))?;
        }
        Ok(())
    }
}
