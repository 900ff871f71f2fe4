#![recursion_limit = "1024"] // the template test's sample data is one large json! literal
//! How Supportal reaches people: HTTP routers per area, server-rendered pages, static assets.

pub mod admin;
pub mod api;
pub mod app;
pub mod assets;
pub mod auth;
pub mod bus;
pub mod chat;
pub mod config;
pub mod console;
pub mod cookies;
pub mod csrf;
pub mod error;
pub mod explain;
pub mod extract;
pub mod files;
pub mod forms;
pub mod framing;
pub mod hostnames;
pub mod i18n;
pub mod lockout;
pub mod metrics;
pub mod ops;
pub mod passwords;
pub mod paths;
pub mod portal;
pub mod presentations;
pub mod rate_limit;
pub mod realtime;
pub mod rep_keys;
pub mod router;
pub mod serve;
pub mod setup;
pub mod sso;
pub mod staff_sso;
pub mod state;
pub mod templates;
pub mod translate;
pub mod two_factor;
pub mod webhooks;

pub use router::router;

pub use state::{AppState, WebConfig};
