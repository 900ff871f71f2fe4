//! Opening the database: which backend, its connection settings, migrations.

use crate::{StoreError, StoreResult};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Database, PgPool, SqlitePool, Transaction};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// The backend a database URL names, or None for an unsupported scheme.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

#[derive(Clone)]
pub(crate) enum Pool {
    /// The pool, and the chat writer: a thread with its own connection (`sqlite_writer`).
    Sqlite(SqlitePool, Arc<crate::sqlite_writer::SqliteWriter>),
    Postgres(PgPool),
}

/// The one storage API. Cheap to clone (it holds a connection pool).
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    /// Bumped after every write that changes what a portal page shows (sites, their parts,
    /// reps' presence and teams, issue types): cached portal pages built before are stale.
    portal_epoch: Arc<AtomicU64>,
    /// Bumped by this process's own such writes only (not by news from other nodes): what the
    /// node tells the others, so that nodes never echo each other's news.
    own_portal_changes: Arc<AtomicU64>,
}

/// A write transaction: on SQLite `BEGIN IMMEDIATE`, the write lock up front, so a transaction
/// that reads before it writes cannot fail on a snapshot another writer moved in between.
/// (Queueing SQLite's writers behind an async gate as well was tried and measured: no gain in
/// sessions started, and 2.5× the fan-out latency, as writers held the gate while waiting for a
/// connection behind the readers. docs/benchmarks.md.)
pub(crate) struct WriteTx<'c, DB: Database> {
    tx: Transaction<'c, DB>,
}

impl<DB: Database> WriteTx<'_, DB> {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl<DB: Database> std::ops::Deref for WriteTx<'_, DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: Database> std::ops::DerefMut for WriteTx<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

pub(crate) trait BeginWrite {
    type Db: Database;
    async fn begin_write(&self) -> Result<WriteTx<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<WriteTx<'static, sqlx::Sqlite>, sqlx::Error> {
        Ok(WriteTx {
            tx: self.begin_with("BEGIN IMMEDIATE").await?,
        })
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<WriteTx<'static, sqlx::Postgres>, sqlx::Error> {
        // PostgreSQL locks rows, not the database: a plain BEGIN.
        Ok(WriteTx {
            tx: self.begin().await?,
        })
    }
}

/// Bumps the portal epoch when dropped, i.e. after the write method that holds it has finished
/// (committed or failed: a needless bump only costs one re-render).
pub(crate) struct PortalChange<'a> {
    epoch: &'a AtomicU64,
    own: &'a AtomicU64,
}

impl Drop for PortalChange<'_> {
    fn drop(&mut self) {
        self.epoch.fetch_add(1, Ordering::Release);
        self.own.fetch_add(1, Ordering::Release);
    }
}

/// Run the same query code against whichever pool this store holds.
/// `$p` is bound to `&SqlitePool` or `&PgPool`; the body is compiled once for each.
macro_rules! on_pool {
    ($store:expr, $p:ident => $body:expr) => {
        match &$store.pool {
            $crate::pool::Pool::Sqlite($p, _) => $body,
            $crate::pool::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use on_pool;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A URL safe to print: any password replaced.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// A PostgreSQL connection idle in the pool this long is pinged before it is handed out (one
/// that fails is closed and another taken). sqlx also pings every connection when it comes
/// back to the pool, so one used a moment ago was answering then: pinging it again before each
/// statement (sqlx's default) was one more round trip to the server per statement (decision
/// 0024 has what that cost).
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// A node's PostgreSQL connections unless configured (`database.max_connections`).
pub const POSTGRES_CONNECTIONS: u32 = 16;

/// The fewest a node runs with: the chat writer holds one for each group, the assignment and
/// housekeeping ticks take their own, and requests need the rest.
pub const MIN_POSTGRES_CONNECTIONS: u32 = 4;

/// SQLite connections: every commit empties the other connections' page caches (WAL) and each
/// connection is a thread, so more is not faster on a small machine: on 2 cores 4 started 25%
/// more sessions per second than 8 (docs/benchmarks.md). Readers still run side by side.
fn sqlite_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(2 * cores).unwrap_or(8).clamp(4, 8)
}

impl Store {
    fn with_pool(pool: Pool) -> Store {
        Store {
            pool,
            portal_epoch: Arc::default(),
            own_portal_changes: Arc::default(),
        }
    }

    /// The portal epoch now. Read it before reading what a cached page is built from: a write
    /// that commits in between then makes the new entry stale at once, never falsely fresh.
    pub fn portal_epoch(&self) -> u64 {
        self.portal_epoch.load(Ordering::Acquire)
    }

    /// Another node changed what portals show (heard on the bus): pages kept here are stale.
    pub fn portal_changed_elsewhere(&self) {
        self.portal_epoch.fetch_add(1, Ordering::Release);
    }

    pub(crate) fn portal_change(&self) -> PortalChange<'_> {
        PortalChange {
            epoch: &self.portal_epoch,
            own: &self.own_portal_changes,
        }
    }

    /// How many writes of this process changed what portals show (see `own_portal_changes`).
    pub fn own_portal_changes(&self) -> u64 {
        self.own_portal_changes.load(Ordering::Acquire)
    }

    /// Open (and for SQLite create) the database at `url`, a PostgreSQL one with a pool of
    /// `POSTGRES_CONNECTIONS`. Does not migrate.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        Store::connect_with(url, POSTGRES_CONNECTIONS).await
    }

    /// `connect`, with at most `postgres_connections` connections to a PostgreSQL server
    /// (SQLite sizes its pool by the machine's cores).
    pub async fn connect_with(url: &str, postgres_connections: u32) -> StoreResult<Store> {
        let unreachable = |reason: String| StoreError::Unreachable {
            url: redact_url(url),
            reason,
        };
        match Backend::of_url(url) {
            Some(Backend::Sqlite) => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|e| unreachable(e.to_string()))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    .pragma("temp_store", "memory");
                if options.get_filename() == std::path::Path::new(":memory:") {
                    return Err(unreachable(
                        "an in-memory database is not supported: give a file".into(),
                    ));
                }
                // No ping before handing out a connection: a connection to a local file
                // cannot have been cut, and each ping was a round trip to the connection's
                // thread (two futex wake-ups) before every statement.
                let pool = SqlitePoolOptions::new()
                    .max_connections(sqlite_connections())
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options.clone())
                    .await
                    .map_err(|e| unreachable(e.to_string()))?;
                // After sqlx has created the file in WAL mode.
                let writer = crate::sqlite_writer::SqliteWriter::start(options.get_filename())
                    .map_err(unreachable)?;
                Ok(Store::with_pool(Pool::Sqlite(pool, Arc::new(writer))))
            }
            Some(Backend::Postgres) => {
                // Every statement planned for its own values (decision 0023): a plan cached
                // while a table was small kept scanning it whole as it grew.
                let options = PgConnectOptions::from_str(url)
                    .map_err(|e| unreachable(e.to_string()))?
                    .options([("plan_cache_mode", "force_custom_plan")]);
                let pool = PgPoolOptions::new()
                    .max_connections(postgres_connections.max(MIN_POSTGRES_CONNECTIONS))
                    .test_before_acquire(false)
                    .before_acquire(|connection, meta| {
                        Box::pin(async move {
                            if meta.idle_for >= PING_IF_IDLE_FOR {
                                sqlx::Connection::ping(connection).await?;
                            }
                            Ok(true)
                        })
                    })
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await
                    .map_err(|e| unreachable(e.to_string()))?;
                Ok(Store::with_pool(Pool::Postgres(pool)))
            }
            None => Err(unreachable(
                "unsupported scheme: use sqlite://PATH or postgres://USER@HOST/DB".into(),
            )),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(..) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Apply every pending migration of this backend.
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.pool {
            Pool::Sqlite(p, _) => SQLITE_MIGRATIONS.run(p).await?,
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    /// True when the database answers a trivial query (for /readyz).
    pub async fn ping(&self) -> bool {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(p).await.is_ok())
    }

    pub async fn close(&self) {
        on_pool!(self, p => p.close().await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pooled PostgreSQL connection whose server process ended while it sat idle (a restart,
    /// a cut connection) is not handed out: the next statement runs on a fresh one.
    #[tokio::test]
    async fn a_postgres_connection_cut_while_idle_is_replaced_before_use() {
        let store = crate::testing::fresh_store(Backend::Postgres)
            .await
            .unwrap();
        let Pool::Postgres(pool) = &store.pool else {
            unreachable!("a PostgreSQL store")
        };
        let database: String = sqlx::query_scalar("SELECT current_database()")
            .fetch_one(pool)
            .await
            .unwrap();
        let admin = PgPool::connect(&crate::testing::postgres_admin_url())
            .await
            .unwrap();
        let cut: i64 = sqlx::query_scalar(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
        )
        .bind(&database)
        .fetch_one(&admin)
        .await
        .unwrap();
        assert!(cut >= 1, "the pool's connections were cut");
        tokio::time::sleep(PING_IF_IDLE_FOR + Duration::from_millis(200)).await;
        assert!(store.ping().await, "answered on a fresh connection");
        admin.close().await;
        store.close().await;
    }
}
