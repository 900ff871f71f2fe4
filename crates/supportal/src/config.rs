//! Configuration: defaults in code → TOML file → environment (`SUPPORTAL_SECTION__KEY`).
//! Each section validates itself and names the key at fault; secrets are never printed.

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where Supportal keeps its files (the default SQLite database among them).
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub security: SecurityConfig,
    pub console: ConsoleConfig,
    pub bus: BusConfig,
    pub translation: TranslationSection,
    pub files: FilesSection,
    pub webrtc: WebRtcSection,
    pub webhooks: WebhooksSection,
}

/// Webhook deliveries to other systems.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksSection {
    /// Let endpoints be on loopback or private networks (refused by default: an admin could
    /// otherwise make the server call the machine's own or its network's services).
    pub allow_private_targets: bool,
}

/// Screen sharing's ICE servers. Without any, browsers connect directly (same network, or
/// both reachable); behind NAT they need a TURN server such as coturn, configured with
/// `use-auth-secret` and `static-auth-secret` equal to `turn_secret` (docs/operations.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebRtcSection {
    /// `stun:host:port` addresses.
    pub stun: Vec<String>,
    /// `turn:host:port` / `turns:host:port` addresses (with `?transport=udp|tcp` if wanted).
    pub turn: Vec<String>,
    /// coturn's `static-auth-secret`; a secret: `config check` prints it as ***.
    pub turn_secret: Option<String>,
    /// How long a TURN credential a page is given stays valid (60 to 86400 seconds).
    pub credential_secs: i64,
    /// Attendees one presentation takes at once (1 to 100): the presenter's browser sends its
    /// screen to each over a connection of its own, so its upload bounds this.
    pub presentation_attendees: i64,
}

impl Default for WebRtcSection {
    fn default() -> Self {
        WebRtcSection {
            stun: Vec::new(),
            turn: Vec::new(),
            turn_secret: None,
            credential_secs: 3600,
            presentation_attendees: 10,
        }
    }
}

impl WebRtcSection {
    pub fn web(&self) -> Result<domain::ice::IceConfig, ConfigError> {
        let scheme_ok = |urls: &[String], schemes: &[&str]| {
            urls.iter().all(|u| {
                schemes.iter().any(|s| u.starts_with(s)) && !u.contains(char::is_whitespace)
            })
        };
        if !scheme_ok(&self.stun, &["stun:", "stuns:"]) {
            return Err(bad(
                "webrtc.stun",
                "each address must start with stun: or stuns:",
            ));
        }
        if !scheme_ok(&self.turn, &["turn:", "turns:"]) {
            return Err(bad(
                "webrtc.turn",
                "each address must start with turn: or turns:",
            ));
        }
        let secret = self.turn_secret.clone().filter(|s| !s.trim().is_empty());
        if !self.turn.is_empty() && secret.is_none() {
            return Err(bad(
                "webrtc.turn_secret",
                "TURN needs the secret shared with the TURN server (coturn's static-auth-secret)",
            ));
        }
        if !(60..=86_400).contains(&self.credential_secs) {
            return Err(bad("webrtc.credential_secs", "must be from 60 to 86400"));
        }
        if !(1..=100).contains(&self.presentation_attendees) {
            return Err(bad(
                "webrtc.presentation_attendees",
                "must be from 1 to 100",
            ));
        }
        Ok(domain::ice::IceConfig {
            stun: self.stun.clone(),
            turn: self.turn.clone(),
            turn_secret: secret,
            credential_secs: self.credential_secs,
        })
    }
}

/// Files sent in chats: kept under `<data_dir>/files`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilesSection {
    /// The largest file, in megabytes (1 to 100).
    pub max_mb: usize,
    /// Extensions refused (without the dot, any case).
    pub blocked_extensions: Vec<String>,
}

impl Default for FilesSection {
    fn default() -> Self {
        let web = web::config::FilesConfig::default();
        FilesSection {
            max_mb: web.max_mb,
            blocked_extensions: web.blocked_extensions,
        }
    }
}

/// Live translation of chats (sites turn it on for themselves).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TranslationSection {
    /// `none`, `libretranslate` or `deepl`.
    pub provider: String,
    /// The service's address; DeepL's default follows its key (free keys end in `:fx`).
    pub url: Option<String>,
    /// A secret: `config check` prints it as ***.
    pub api_key: Option<String>,
    /// The longest a message waits for its translation, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for TranslationSection {
    fn default() -> Self {
        TranslationSection {
            provider: "none".into(),
            url: None,
            api_key: None,
            timeout_ms: 3000,
        }
    }
}

impl TranslationSection {
    pub fn web(&self) -> Result<web::translate::TranslationConfig, ConfigError> {
        use web::translate::{ProviderConfig, ProviderKind};
        let timeout = std::time::Duration::from_millis(self.timeout_ms);
        if !(100..=60_000).contains(&self.timeout_ms) {
            return Err(bad("translation.timeout_ms", "must be from 100 to 60000"));
        }
        if self.provider.trim().eq_ignore_ascii_case("none") {
            return Ok(web::translate::TranslationConfig {
                provider: None,
                timeout,
            });
        }
        let kind = ProviderKind::parse(&self.provider).ok_or_else(|| {
            bad(
                "translation.provider",
                format!("'{}' is not none, libretranslate or deepl", self.provider),
            )
        })?;
        let free_key = self.api_key.as_deref().is_some_and(|k| k.ends_with(":fx"));
        let url = match (&self.url, kind) {
            (Some(url), _) => url.clone(),
            (None, ProviderKind::DeepL) if free_key => "https://api-free.deepl.com".into(),
            (None, ProviderKind::DeepL) => "https://api.deepl.com".into(),
            (None, ProviderKind::LibreTranslate) => {
                return Err(bad(
                    "translation.url",
                    "LibreTranslate needs its address, e.g. http://127.0.0.1:5000",
                ))
            }
        };
        let parsed = url::Url::parse(&url).map_err(|e| bad("translation.url", e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad(
                "translation.url",
                "must start with http:// or https://",
            ));
        }
        if kind == ProviderKind::DeepL && self.api_key.is_none() {
            return Err(bad("translation.api_key", "DeepL needs an API key"));
        }
        Ok(web::translate::TranslationConfig {
            provider: Some(ProviderConfig {
                kind,
                url,
                api_key: self.api_key.clone(),
            }),
            timeout,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BusConfig {
    /// `redis://HOST:PORT` to share live updates between nodes; none: one process.
    pub url: Option<String>,
    /// The pub/sub channel: one per installation sharing a Redis.
    pub channel: String,
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            url: None,
            channel: "supportal:bus".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Seconds a rep's console may be disconnected before they go offline and their sessions
    /// return to the queues they came from.
    pub offline_grace_secs: u64,
    /// Seconds a waiting customer's page may stay closed before they leave the queue as
    /// abandoned.
    pub customer_grace_secs: u64,
    /// How often automatic assignment and waiting rules run, in milliseconds (0: never).
    pub assignment_interval_ms: u64,
    /// Seconds between pings on every live connection; a peer silent for two is dropped.
    pub heartbeat_secs: u64,
    /// How many waiting customers a console's queue list shows (the oldest first).
    pub queue_list_limit: i64,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            offline_grace_secs: web::WebConfig::default().offline_grace_secs,
            customer_grace_secs: web::WebConfig::default().customer_grace_secs,
            assignment_interval_ms: 1000,
            heartbeat_secs: web::WebConfig::default().heartbeat_secs,
            queue_list_limit: web::WebConfig::default().queue_list_limit,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub bind: String,
    /// The address people use; defaults to `http://<bind>`.
    pub public_url: Option<String>,
    /// Mark cookies Secure; defaults to true when the public URL is https.
    pub cookie_secure: Option<bool>,
    /// Trust X-Forwarded-For from the reverse proxy in front (nginx)...
    pub behind_proxy: bool,
    /// ...when the request comes from one of these addresses or networks (default: loopback).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub session_hours: i64,
    /// `/metrics` answers only with `Authorization: Bearer <token>`; unset, only to this
    /// machine (loopback). A secret: `config check` prints it as ***.
    pub metrics_token: Option<String>,
    /// The nameserver (`ip:port`) asked for hostname ownership records; unset, the system's.
    pub dns_server: Option<std::net::SocketAddr>,
    /// Seconds a request may take, its body included; a slower one is answered 408.
    pub request_timeout_secs: u64,
    /// Connections open at once, WebSockets included; past it, new ones wait to be accepted.
    pub max_connections: usize,
    /// Seconds a client may take to send a request's headers; a slower one is dropped.
    pub header_read_timeout_secs: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`; defaults to `<data_dir>/supportal.db`.
    pub url: Option<String>,
    /// PostgreSQL only: the most connections this node opens (16 unless set). With several
    /// nodes, their sum must stay under the server's `max_connections`.
    pub max_connections: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `pretty` (for a terminal) or `json` (for a log collector).
    pub format: String,
    /// A tracing filter, e.g. `info` or `info,web=debug`.
    pub level: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    pub login_attempts_per_ip_per_minute: u32,
    /// Failed sign-ins one address may make for one account in a lockout window.
    pub login_failures_per_account_and_address: u32,
    /// Failed sign-ins for one account from all addresses in a window, after which only
    /// addresses without failures may still try.
    pub login_failures_per_account: u32,
    pub login_lockout_minutes: u64,
    pub key_attempts_per_ip_per_minute: u32,
    /// Wrong keys an organization's portals take an hour from all addresses together.
    pub failed_keys_per_org_per_hour: u32,
    /// Support requests one client address may start per hour (generous: offices share one).
    pub session_requests_per_ip_per_hour: u32,
    /// Support requests one browser may start per hour.
    pub session_requests_per_browser_per_hour: u32,
    /// Live sockets (consoles, waiting pages) one client address may hold at once.
    pub sockets_per_ip: usize,
    /// Calls one API token may make per minute.
    pub api_requests_per_token_per_minute: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./supportal-data"),
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            log: LogConfig::default(),
            security: SecurityConfig::default(),
            console: ConsoleConfig::default(),
            bus: BusConfig::default(),
            translation: TranslationSection::default(),
            files: FilesSection::default(),
            webrtc: WebRtcSection::default(),
            webhooks: WebhooksSection::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: "127.0.0.1:8080".into(),
            public_url: None,
            cookie_secure: None,
            behind_proxy: false,
            trusted_proxies: web::config::loopback(),
            session_hours: 12,
            metrics_token: None,
            dns_server: None,
            request_timeout_secs: web::WebConfig::default().request_timeout_secs,
            max_connections: web::WebConfig::default().max_connections,
            header_read_timeout_secs: web::WebConfig::default().header_read_timeout_secs,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: "pretty".into(),
            level: "info".into(),
        }
    }
}

impl Default for SecurityConfig {
    fn default() -> Self {
        let web = web::WebConfig::default();
        SecurityConfig {
            login_attempts_per_ip_per_minute: web.login_attempts_per_ip_per_minute,
            login_failures_per_account_and_address: web.login_lockout.per_account_and_address,
            login_failures_per_account: web.login_lockout.per_account,
            login_lockout_minutes: web.login_lockout.window.as_secs() / 60,
            key_attempts_per_ip_per_minute: web.key_attempts_per_ip_per_minute,
            failed_keys_per_org_per_hour: web.failed_keys_per_org_per_hour,
            session_requests_per_ip_per_hour: web.session_requests_per_ip_per_hour,
            session_requests_per_browser_per_hour: web.session_requests_per_browser_per_hour,
            sockets_per_ip: web.sockets_per_ip,
            api_requests_per_token_per_minute: web.api_requests_per_token_per_minute,
        }
    }
}

/// An operator mistake in the configuration: which key, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("config {key}: {problem}")]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

fn bad(key: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.into(),
        problem: problem.into(),
    }
}

const SECTIONS: [&str; 10] = [
    "data_dir",
    "server",
    "database",
    "log",
    "security",
    "console",
    "bus",
    "translation",
    "files",
    "webrtc",
];

impl Config {
    /// Defaults, then the TOML file (if given or `./supportal.toml` exists), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => {
                return Err(bad("--config", format!("no file at {}", path.display())));
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new("supportal.toml").exists() => {
                figment = figment.merge(Toml::file_exact("supportal.toml"))
            }
            None => {}
        }
        // Only our sections: SUPPORTAL_ADMIN_PASSWORD and friends are not configuration.
        let env = Env::prefixed("SUPPORTAL_").split("__").filter(|key| {
            SECTIONS
                .iter()
                .any(|s| key.as_str().to_ascii_lowercase().starts_with(s))
        });
        let config: Config = figment.merge(env).extract().map_err(|err| {
            let key = err.path.join(".");
            let key = if key.is_empty() {
                "file".to_owned()
            } else {
                key
            };
            bad(&key, err.kind.to_string())
        })?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.bind_addr()?;
        let public = url::Url::parse(&self.public_url())
            .map_err(|e| bad("server.public_url", e.to_string()))?;
        if !matches!(public.scheme(), "http" | "https") {
            return Err(bad(
                "server.public_url",
                "must start with http:// or https://",
            ));
        }
        if store::Backend::of_url(&self.database_url()).is_none() {
            return Err(bad(
                "database.url",
                "must start with sqlite:// or postgres://",
            ));
        }
        if let Some(connections) = self.database.max_connections {
            if store::Backend::of_url(&self.database_url()) != Some(store::Backend::Postgres) {
                return Err(bad(
                    "database.max_connections",
                    "applies to PostgreSQL only: SQLite sizes its pool by the machine's cores",
                ));
            }
            if !(store::MIN_POSTGRES_CONNECTIONS..=10_000).contains(&connections) {
                return Err(bad(
                    "database.max_connections",
                    format!("must be from {} to 10000", store::MIN_POSTGRES_CONNECTIONS),
                ));
            }
        }
        if !matches!(self.log.format.as_str(), "pretty" | "json") {
            return Err(bad(
                "log.format",
                format!("'{}' is neither pretty nor json", self.log.format),
            ));
        }
        if !(1..=24 * 30).contains(&self.server.session_hours) {
            return Err(bad("server.session_hours", "must be from 1 to 720"));
        }
        if self.security.login_attempts_per_ip_per_minute == 0
            || self.security.login_failures_per_account_and_address == 0
            || self.security.login_failures_per_account == 0
            || self.security.login_lockout_minutes == 0
            || self.security.key_attempts_per_ip_per_minute == 0
            || self.security.failed_keys_per_org_per_hour == 0
            || self.security.session_requests_per_ip_per_hour == 0
            || self.security.session_requests_per_browser_per_hour == 0
            || self.security.api_requests_per_token_per_minute == 0
        {
            return Err(bad(
                "security",
                "attempt and request limits must be at least 1",
            ));
        }
        if self.security.sockets_per_ip == 0 {
            return Err(bad("security.sockets_per_ip", "must be at least 1"));
        }
        if self.server.request_timeout_secs == 0 {
            return Err(bad("server.request_timeout_secs", "must be at least 1"));
        }
        if self.server.max_connections == 0 {
            return Err(bad("server.max_connections", "must be at least 1"));
        }
        if self.server.header_read_timeout_secs == 0 {
            return Err(bad("server.header_read_timeout_secs", "must be at least 1"));
        }
        if self.console.heartbeat_secs == 0 {
            return Err(bad("console.heartbeat_secs", "must be at least 1"));
        }
        if self.console.queue_list_limit < 1 {
            return Err(bad("console.queue_list_limit", "must be at least 1"));
        }
        self.translation.web()?;
        self.webrtc.web()?;
        if !(1..=100).contains(&self.files.max_mb) {
            return Err(bad("files.max_mb", "must be from 1 to 100"));
        }
        if let Some(url) = &self.bus.url {
            if !url.starts_with("redis://") {
                return Err(bad("bus.url", "must start with redis://"));
            }
        }
        Ok(())
    }

    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.server.bind.parse().map_err(|_| {
            bad(
                "server.bind",
                format!(
                    "'{}' is not an address like 127.0.0.1:8080",
                    self.server.bind
                ),
            )
        })
    }

    pub fn public_url(&self) -> String {
        let url = self
            .server
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.server.bind));
        url.trim_end_matches('/').to_owned()
    }

    /// The most connections this node opens to PostgreSQL.
    pub fn postgres_connections(&self) -> u32 {
        self.database
            .max_connections
            .unwrap_or(store::POSTGRES_CONNECTIONS)
    }

    pub fn database_url(&self) -> String {
        self.database
            .url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("supportal.db").display()))
    }

    pub fn web(&self) -> web::WebConfig {
        let public_url = self.public_url();
        web::WebConfig {
            cookie_secure: self
                .server
                .cookie_secure
                .unwrap_or(public_url.starts_with("https://")),
            public_url,
            behind_proxy: self.server.behind_proxy,
            trusted_proxies: self.server.trusted_proxies.clone(),
            session_hours: self.server.session_hours,
            login_attempts_per_ip_per_minute: self.security.login_attempts_per_ip_per_minute,
            login_lockout: web::lockout::LockoutRules {
                per_account_and_address: self.security.login_failures_per_account_and_address,
                per_account: self.security.login_failures_per_account,
                window: std::time::Duration::from_secs(self.security.login_lockout_minutes * 60),
            },
            key_attempts_per_ip_per_minute: self.security.key_attempts_per_ip_per_minute,
            failed_keys_per_org_per_hour: self.security.failed_keys_per_org_per_hour,
            session_requests_per_ip_per_hour: self.security.session_requests_per_ip_per_hour,
            session_requests_per_browser_per_hour: self
                .security
                .session_requests_per_browser_per_hour,
            api_requests_per_token_per_minute: self.security.api_requests_per_token_per_minute,
            offline_grace_secs: self.console.offline_grace_secs,
            customer_grace_secs: self.console.customer_grace_secs,
            heartbeat_secs: self.console.heartbeat_secs,
            queue_list_limit: self.console.queue_list_limit,
            metrics_token: self.server.metrics_token.clone(),
            dns_server: self.server.dns_server,
            request_timeout_secs: self.server.request_timeout_secs,
            max_connections: self.server.max_connections,
            header_read_timeout_secs: self.server.header_read_timeout_secs,
            sockets_per_ip: self.security.sockets_per_ip,
            translation: self.translation.web().unwrap_or_default(),
            files: web::config::FilesConfig {
                dir: self.data_dir.join("files"),
                max_mb: self.files.max_mb,
                blocked_extensions: self.files.blocked_extensions.clone(),
            },
            ice: self.webrtc.web().unwrap_or_default(),
            presentation_attendees: self.webrtc.presentation_attendees,
            webhooks_allow_private_targets: self.webhooks.allow_private_targets,
        }
    }

    /// The effective configuration as TOML, with the database password replaced.
    pub fn redacted_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database.url = Some(store::redact_url(&self.database_url()));
        shown.server.public_url = Some(self.public_url());
        if shown.translation.api_key.is_some() {
            shown.translation.api_key = Some("***".into());
        }
        if shown.webrtc.turn_secret.is_some() {
            shown.webrtc.turn_secret = Some("***".into());
        }
        if shown.server.metrics_token.is_some() {
            shown.server.metrics_token = Some("***".into());
        }
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot show config: {e}"))
    }
}

pub const EXAMPLE: &str = include_str!("../../../config/supportal.example.toml");
