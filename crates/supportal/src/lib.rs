//! The Supportal binary's library: configuration, startup and commands, so tests run the real thing.

pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod demo;
pub mod startup;
pub mod telemetry;
