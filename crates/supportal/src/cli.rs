use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Supportal: a self-hosted remote-support portal.
#[derive(Debug, Parser)]
#[command(name = "supportal", version, about)]
pub struct Cli {
    /// Configuration file (default: ./supportal.toml if it exists).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Log format: pretty or json (overrides log.format).
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (migrates the database first).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Inspect configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Seed a demo organization when the database is empty.
    #[arg(long)]
    pub demo: bool,
    /// Listen address (overrides server.bind).
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate and print the effective configuration (secrets redacted).
    Check,
    /// Print a commented example configuration file.
    Example,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an admin account. The password comes from SUPPORTAL_ADMIN_PASSWORD or stdin.
    Create(CreateAdminArgs),
}

#[derive(Debug, Args)]
pub struct CreateAdminArgs {
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    /// The organization's short name; it is created if it does not exist.
    /// May be left out when there is at most one organization.
    #[arg(long, value_name = "SLUG")]
    pub org: Option<String>,
    /// Also make this account the instance admin (may create organizations).
    #[arg(long)]
    pub instance_admin: bool,
}
