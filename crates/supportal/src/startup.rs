//! Building the application: database, state, listener. Binding happens here so tests can ask
//! for port 0 and learn the real one.

use crate::config::Config;
use anyhow::Context;
use domain::Clock;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use store::Store;
use tokio::net::TcpListener;
use web::AppState;

pub struct Application {
    listener: TcpListener,
    state: AppState,
    assignment_interval: Option<Duration>,
}

/// Open and migrate the configured database, creating the data directory for SQLite.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url();
    if store::Backend::of_url(&url) == Some(store::Backend::Sqlite) && config.database.url.is_none()
    {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data_dir {}", config.data_dir.display()))?;
    }
    let store = Store::connect_with(&url, config.postgres_connections())
        .await
        .context("database.url")?;
    store.migrate().await.context("migrating the database")?;
    Ok(store)
}

impl Application {
    pub async fn build(
        config: &Config,
        store: Store,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Application> {
        let addr = config.bind_addr()?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (server.bind)"))?;
        let bus = config
            .bus
            .url
            .as_deref()
            .map(|url| (url, config.bus.channel.as_str()));
        let mut web = config.web();
        if config.server.public_url.is_none() {
            // The default is this server's own address: the port actually bound (port 0 asks
            // the system for one), so pages and socket origins match what browsers use.
            web.public_url = format!("http://{}", listener.local_addr()?);
        }
        let state = AppState::new(store, clock, web, bus)
            .await
            .context("bus.url")?;
        let interval = config.console.assignment_interval_ms;
        let assignment_interval = (interval > 0).then(|| Duration::from_millis(interval));
        Ok(Application {
            listener,
            state,
            assignment_interval,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serve until `shutdown` resolves, then finish the requests in flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let housekeeping = tokio::spawn(housekeeping(self.state.clone()));
        let presence = tokio::spawn(presence(self.state.clone()));
        let portal_news = tokio::spawn(portal_news(self.state.clone()));
        let webhooks = web::webhooks::start(self.state.clone());
        let assignment = self
            .assignment_interval
            .map(|every| tokio::spawn(assignment(self.state.clone(), every)));
        let config = &self.state.config;
        let limits = web::serve::ConnectionLimits {
            max_connections: config.max_connections,
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs),
        };
        let app = web::router(self.state.clone());
        // Going away: stop accepting, and ask every socket to reconnect elsewhere at once.
        let draining = self.state.clone();
        let shutdown = async move {
            shutdown.await;
            draining.start_draining();
        };
        web::serve::serve(self.listener, app, limits, shutdown).await;
        let deadline = tokio::time::Instant::now() + DRAIN_AT_MOST;
        while self.state.sockets_open() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        housekeeping.abort();
        presence.abort();
        portal_news.abort();
        if let Some(webhooks) = webhooks {
            webhooks.abort();
        }
        if let Some(assignment) = assignment {
            assignment.abort();
        }
        self.state.store.close().await;
        Ok(())
    }
}

/// Every `console.assignment_interval_ms`: automatic assignment offers and waiting rules. Every
/// node runs this; each step is a conditional write, so several at once change nothing twice.
async fn assignment(state: AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Err(err) = web::app::assignment::tick(&state, state.now()).await {
            tracing::warn!(error = %err, "assignment tick failed");
        }
    }
}

/// Every second: reps whose consoles fell silent past the grace go offline, their sessions back
/// to their queues; waiting customers whose pages stayed closed past theirs leave the queue;
/// notice windows that opened or closed are logged. Every node sweeps; each change happens
/// once, on one of them.
async fn presence(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(err) = web::app::sessions::sweep_presence(&state).await {
            tracing::warn!(error = %err, "presence sweep failed");
        }
        if let Err(err) = web::portal::presence::sweep(&state).await {
            tracing::warn!(error = %err, "customer presence sweep failed");
        }
        if let Err(err) = web::app::notices::log_windows(&state).await {
            tracing::warn!(error = %err, "notice windows not logged this time");
        }
    }
}

/// Every quarter second: when this node wrote something portals show (a site's settings, its
/// fields, profiles, issue types…), the other nodes are told, and their kept portal pages are
/// read again at once rather than when they grow old. One announcement covers a burst.
async fn portal_news(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut told = state.store.own_portal_changes();
    loop {
        tick.tick().await;
        let now = state.store.own_portal_changes();
        if now != told {
            told = now;
            // Nobody on this node listens for it (its own cache saw the write); the org is
            // not read by the other nodes either.
            state.announce_portal_change(domain::OrgId(0));
        }
    }
}

/// Periodic clean-up: expired sign-ins, recovered rate-limit keys.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(err) = state.store.delete_expired_web_sessions(state.now()).await {
            tracing::warn!(error = %err, "could not delete expired sign-ins");
        }
        state.login_limiter.forget_recovered();
        state.key_limiter.forget_recovered();
        state.lobby_limiter.forget_recovered();
        state.request_limits.forget_recovered();
        state.api_limiter.forget_recovered();
        state.key_ceiling.forget_ended();
    }
}

/// How long a node going away waits for its sockets to close after asking them to (each needs
/// only to send its close frame); then it exits whatever is left.
const DRAIN_AT_MOST: Duration = Duration::from_secs(10);

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is called, before the
/// server says it runs, not when the future is first polled: a SIGTERM arriving in between
/// took the default action and killed the process at once (the CLI test, under load).
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        [SignalKind::terminate(), SignalKind::interrupt()].map(|kind| signal(kind).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let [term, interrupt] = signals.map(|installed| async move {
                match installed {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            });
            tokio::select! { () = term => {}, () = interrupt => {} }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}
