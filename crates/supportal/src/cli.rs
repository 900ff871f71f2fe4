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
    /// Configure a site.
    #[command(subcommand)]
    Site(SiteCommand),
}

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Set (or turn off) the identity provider a site's customers sign in at. Writes what the
    /// admin page writes; a running server picks it up within a few seconds.
    Sso(SsoArgs),
}

#[derive(Debug, Args)]
pub struct SsoArgs {
    /// The site's short name.
    #[arg(long, value_name = "SLUG")]
    pub site: String,
    /// SAML 2.0: the identity provider's metadata address (read now, and again hourly while
    /// in use). Register the site at the provider with /p/SLUG/saml/metadata.
    #[arg(long, value_name = "URL", conflicts_with_all = ["oidc_issuer", "oidc_client_id", "scopes"])]
    pub saml_metadata_url: Option<String>,
    /// SAML 2.0: this site's entity id at the provider (default: its metadata address).
    #[arg(long, value_name = "ID", requires = "saml_metadata_url")]
    pub saml_entity_id: Option<String>,
    /// OpenID Connect issuer (its discovery document is read from there).
    #[arg(long, value_name = "URL")]
    pub oidc_issuer: Option<String>,
    #[arg(long, value_name = "ID")]
    pub oidc_client_id: Option<String>,
    /// The client secret (or SUPPORTAL_OIDC_CLIENT_SECRET, kept out of the shell's history).
    #[arg(
        long,
        value_name = "SECRET",
        env = "SUPPORTAL_OIDC_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub oidc_client_secret: Option<String>,
    /// Scopes to ask for besides openid (repeatable; default: profile, email).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// FIELD=ATTRIBUTE (repeatable): `name`, `email` or a custom field's key, from the
    /// provider's attribute (claim) of that name.
    #[arg(long = "map", value_name = "FIELD=ATTRIBUTE")]
    pub map: Vec<String>,
    /// Customers must sign in before they ask for help (the default).
    #[arg(long, conflicts_with = "optional")]
    pub require: bool,
    /// Customers may sign in; those who do are verified.
    #[arg(long)]
    pub optional: bool,
    /// Session keys a rep gave need a sign-in too (by default they work without).
    #[arg(long)]
    pub keys_need_sign_in: bool,
    /// No identity provider: customers ask without signing in.
    #[arg(long, conflicts_with_all = ["oidc_issuer", "oidc_client_id", "saml_metadata_url", "require", "optional", "map"])]
    pub off: bool,
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
