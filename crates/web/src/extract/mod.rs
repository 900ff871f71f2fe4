//! Per-request facts handlers ask for: who is signed in, with which rights, from where.

mod client_ip;
mod current_user;

pub use client_ip::ClientIp;
pub use current_user::{AdminUser, CurrentUser, InstanceAdmin, SESSION_COOKIE};
