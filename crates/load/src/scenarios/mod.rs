//! The scenarios, each measuring one thing a user waits for against a baseline run beside it.

pub mod chat;
pub mod cluster;
pub mod fanout;
pub mod idle;
pub mod page;
pub mod relay;
mod relay_commit;
pub mod reports;
pub mod start;
