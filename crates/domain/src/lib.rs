//! Supportal's domain: plain types and pure functions. No async, no I/O.
//! HTTP, storage and the event bus call into this crate; it calls none of them.

pub mod api_token;
pub mod assignment;
pub mod canned;
pub mod chat;
pub mod error;
pub mod files;
pub mod framing;
pub mod history;
pub mod ice;
pub mod ids;
pub mod intake;
pub mod language;
pub mod notice;
pub mod portal_sign_in;
pub mod queue;
pub mod realtime;
pub mod rep;
pub mod report;
pub mod role;
pub mod routing;
pub mod schedule;
pub mod secret;
pub mod session;
pub mod session_key;
pub mod site;
pub mod text;
pub mod time;
pub mod two_factor;
pub mod webhook;

pub use error::FieldError;
pub use ids::*;
pub use language::Language;
pub use role::Role;
pub use text::SessionLimit;
pub use time::{Clock, Timestamp};
