#![recursion_limit = "512"] // the template test's sample data is one large json! literal
//! How Supportal reaches people: HTTP routers per area, server-rendered pages, static assets.

pub mod admin;
pub mod assets;
pub mod auth;
pub mod bus;
pub mod console;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod forms;
pub mod i18n;
pub mod metrics;
pub mod ops;
pub mod passwords;
pub mod paths;
pub mod portal;
pub mod rate_limit;
pub mod rep_keys;
pub mod router;
pub mod setup;
pub mod state;
pub mod templates;

pub use router::router;

/// Our sockets carry small JSON messages and a page may hold one open for hours: a 4 KiB read
/// buffer instead of tungstenite's eagerly allocated 128 KiB (which was 137 KiB of server memory
/// per idle waiting customer, docs/benchmarks.md). Larger messages still arrive; the buffer grows.
pub fn realtime_socket(
    upgrade: axum::extract::WebSocketUpgrade,
) -> axum::extract::WebSocketUpgrade {
    upgrade.read_buffer_size(4096)
}
pub use state::{AppState, WebConfig};
