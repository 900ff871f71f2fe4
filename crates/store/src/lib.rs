//! Where Supportal's state is kept. One API (`Store`) over SQLite and PostgreSQL.
//!
//! Every query is written once, in SQL both engines accept (`$1` placeholders, `RETURNING`,
//! BIGINT milliseconds, JSON in TEXT), and sent to whichever native pool is configured by the
//! `on_pool!` macro. See docs/decisions/0001-one-sql-two-backends.md.

mod error;
mod pool;

pub mod api_tokens;
pub mod assignment;
pub mod audit;
pub mod canned;
pub mod chat;
mod chat_group;
pub mod console;
pub mod directory;
pub mod extras;
pub mod generated_history;
pub mod group_commit;
pub mod history;
pub mod keys;
pub mod notice_log;
pub mod orgs;
pub mod portal_sign_in;
pub mod presence;
pub mod presentations;
pub mod reports;
pub mod session_list;
pub mod setup;
pub mod sites;
mod sqlite_group_statements;
mod sqlite_search_index;
mod sqlite_writer;
pub mod support;
pub mod two_factor;
pub mod users;
pub mod web_sessions;
pub mod webhooks;

#[cfg(feature = "testing")]
pub mod testing;

pub use error::{StoreError, StoreResult};
pub use pool::{redact_url, Backend, Store, MIN_POSTGRES_CONNECTIONS, POSTGRES_CONNECTIONS};
