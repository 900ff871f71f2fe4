//! Fresh, migrated databases for tests: a new SQLite file, or a new PostgreSQL database on the
//! server named by `SUPPORTAL_TEST_DATABASE_URL` (default: the local server, user postgres).
//! Test databases are named `supportal_t_*`; scripts/test drops leftovers before a run.

use crate::{Backend, Store, StoreResult};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn postgres_admin_url() -> String {
    std::env::var("SUPPORTAL_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// A database URL for a brand-new, empty database of `backend` (created for PostgreSQL).
pub async fn fresh_database_url(backend: Backend) -> StoreResult<String> {
    let name = format!("supportal_t_{:016x}", rand::random::<u64>());
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            Ok(format!("sqlite://{}", path.display()))
        }
        Backend::Postgres => {
            let admin_url = postgres_admin_url();
            let admin = Store::connect(&admin_url).await?;
            crate::pool::on_pool!(admin, p => {
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(p).await?;
            });
            admin.close().await;
            let mut url = url::Url::parse(&admin_url)
                .map_err(|e| crate::StoreError::Corrupt(format!("bad test database URL: {e}")))?;
            url.set_path(&name);
            Ok(url.to_string())
        }
    }
}

/// A connected, migrated store on a brand-new database.
pub async fn fresh_store(backend: Backend) -> StoreResult<Store> {
    let store = Store::connect(&fresh_database_url(backend).await?).await?;
    store.migrate().await?;
    Ok(store)
}

impl Store {
    /// PostgreSQL only: hold one of the pool's connections for `seconds`.
    pub async fn testing_hold_a_connection(&self, seconds: f64) -> StoreResult<()> {
        crate::pool::on_pool!(self, p => sqlx::query("SELECT pg_sleep($1)").bind(seconds).execute(p).await.map(drop))?;
        Ok(())
    }

    /// Write `session`'s row in a transaction of the pool and hold it for `millis` before the
    /// commit: on SQLite the database's one write lock, on PostgreSQL that row's lock, which a
    /// chat group of the session needs too. `held` hears when the hold began: nobody else
    /// writes that row (on SQLite: anything) until `millis` after that instant.
    pub async fn testing_hold_a_write(
        &self,
        session: domain::SessionId,
        millis: u64,
        held: tokio::sync::oneshot::Sender<std::time::Instant>,
    ) -> StoreResult<()> {
        use crate::pool::BeginWrite;
        crate::pool::on_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE support_sessions SET state = state WHERE id = $1")
                .bind(session.0).execute(&mut *tx).await?;
            let _ = held.send(std::time::Instant::now());
            tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
            tx.commit().await?;
        });
        Ok(())
    }

    /// PostgreSQL only: how many connections the server has open to this store's database.
    pub async fn testing_connections_open(&self) -> StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()";
        Ok(crate::pool::on_pool!(self, p => sqlx::query_scalar(sql).fetch_one(p).await)?)
    }

    /// Every login waiting for its provider now expects another nonce: as if the ID token that
    /// comes back had been minted for another login (which PKCE alone would not show when the
    /// provider is tricked into it). Returns how many logins were changed.
    pub async fn testing_expect_other_nonces(&self) -> StoreResult<u64> {
        let sql = "UPDATE sso_logins SET nonce = 'another-login' WHERE vouched IS NULL";
        Ok(
            crate::pool::on_pool!(self, p => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()))?,
        )
    }
}
