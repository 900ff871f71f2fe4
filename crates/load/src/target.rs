//! The server under test: a fresh Supportal started by the tool (its own data directory, or a
//! fresh database on a PostgreSQL server), or one already running at a URL.

use crate::http::Browser;
use crate::procstat::{self, Sample};
use anyhow::{anyhow, bail, Context, Result};
use sqlx::Connection;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
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
    },
    /// A server that is already running (its process id, when on this machine, for /proc).
    Running { addr: SocketAddr, pid: Option<u32> },
}

pub struct Server {
    pub addr: SocketAddr,
    pub pid: Option<u32>,
    child: Option<Child>,
    fresh_database: Option<(String, String)>,
    _data_dir: Option<tempfile::TempDir>,
}

const DEMO_PASSWORD: &str = "load tool demo password";

impl Target {
    pub fn describe(&self) -> String {
        match self {
            Target::Spawn { binary, postgres } => format!(
                "{} serve --demo, fresh {} per measurement",
                binary.display(),
                if postgres.is_some() {
                    "PostgreSQL database"
                } else {
                    "SQLite data directory"
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
                pid: *pid,
                child: None,
                fresh_database: None,
                _data_dir: None,
            }),
            Target::Spawn { binary, postgres } => spawn(binary, postgres.as_deref()).await,
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

async fn spawn(binary: &PathBuf, postgres: Option<&str>) -> Result<Server> {
    if !binary.exists() {
        bail!(
            "no server binary at {}: build it with `cargo build --release -p supportal`, or pass --server PATH",
            binary.display()
        );
    }
    let dir = tempfile::Builder::new()
        .prefix("supportal-load-")
        .tempdir()?;
    let addr = free_port()?;
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
    let fresh_database = match postgres {
        Some(server_url) => {
            let (url, name) = fresh_postgres(server_url).await?;
            command.env("SUPPORTAL_DATABASE__URL", &url);
            Some((server_url.to_owned(), name))
        }
        None => None,
    };
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let pid = child.id();
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
    Ok(Server {
        addr,
        pid,
        child: Some(child),
        fresh_database,
        _data_dir: Some(dir),
    })
}

impl Server {
    pub fn sample(&self) -> Option<Sample> {
        procstat::sample(self.pid?)
    }

    /// Stop a server the tool started (and drop its fresh database); a running one is left alone.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
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
