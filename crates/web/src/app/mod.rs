//! Use cases: between the handlers and the store (decision 0007). A use case validates, commits
//! through the store in one transaction, then announces what it stored on the bus.

pub mod assignment;
pub mod chat;
pub mod notices;
pub mod reps;
pub mod sessions;
