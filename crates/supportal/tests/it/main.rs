//! The one integration-test binary: the real application on port 0, against SQLite and
//! PostgreSQL, driven over HTTP, from the command line, and in headless Chromium.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failed unwrap is a failed test

mod helpers;

mod admin_pages;
mod api;
mod api_fuzz;
mod assignment;
mod auth;
mod bad_input;
mod browser;
mod canned;
mod chat;
mod chat_browser;
mod cli;
mod cluster;
mod cluster_browser;
mod console;
mod console_browser;
mod dns;
mod embed_browser;
mod files;
mod framing;
mod history;
mod invitations;
mod isolation;
mod oidc;
mod ops;
mod portal;
mod portal_browser;
mod portal_cache;
mod presentation_browser;
mod presentations;
mod realtime;
mod rep_keys;
mod reports;
mod saml;
mod setup;
mod sharing;
mod sharing_browser;
mod smartbox;
mod staff_german;
mod staff_sso;
mod stand_in;
mod translation;
mod turn;
mod two_factor;
mod webhooks;
