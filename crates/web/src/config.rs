//! What the web layer is configured with (the binary fills it from its config file).

/// What the web layer needs to know about how it is reached.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The address people use, e.g. `https://support.example.com` (no trailing slash).
    pub public_url: String,
    /// Mark cookies `Secure` (true when the public URL is https).
    pub cookie_secure: bool,
    /// Trust the last `X-Forwarded-For` entry as the client address (set behind nginx)...
    pub behind_proxy: bool,
    /// ...when the request comes from one of these (the proxies' addresses).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a sign-in lasts.
    pub session_hours: i64,
    pub login_attempts_per_ip_per_minute: u32,
    /// Failed sign-ins per account and address, and per account (see `lockout`).
    pub login_lockout: crate::lockout::LockoutRules,
    /// Session, presentation and profile keys typed per client address per minute.
    pub key_attempts_per_ip_per_minute: u32,
    /// Wrong keys an organization's portals (and the global page, together) take an hour from
    /// all addresses; shorter keys need shorter validities to keep guessing odds low.
    pub failed_keys_per_org_per_hour: u32,
    /// Support requests (waiting sessions) one client address may start per hour; generous, an
    /// office behind one NAT shares an address.
    pub session_requests_per_ip_per_hour: u32,
    /// Support requests one browser may start per hour.
    pub session_requests_per_browser_per_hour: u32,
    /// Calls one API token may make per minute (all nodes together with Redis).
    pub api_requests_per_token_per_minute: u32,
    /// How long a rep's console may be disconnected before they count as offline and their
    /// sessions go back to the queues they came from.
    pub offline_grace_secs: u64,
    /// How long a waiting customer's page may stay closed before they leave the queue as
    /// abandoned (a reload or a dropped connection comes back well within it).
    pub customer_grace_secs: u64,
    /// Seconds between pings on every socket; a peer silent for two periods is dropped. A
    /// console's "last seen" is refreshed at the same pace.
    pub heartbeat_secs: u64,
    /// How many waiting customers a console's queue list shows (the oldest); "and N more" after.
    pub queue_list_limit: i64,
    /// Live sockets (consoles, waiting pages) one client address may hold at once.
    pub sockets_per_ip: usize,
    /// Connections open at once (WebSockets included); past it new ones wait to be accepted.
    pub max_connections: usize,
    /// Longest a client may take to send a request's headers before it is dropped.
    pub header_read_timeout_secs: u64,
    /// Longest a request may take, body included (slow senders are answered 408 and dropped).
    pub request_timeout_secs: u64,
    /// The nameserver asked for hostname ownership records; None: the system's.
    pub dns_server: Option<std::net::SocketAddr>,
    /// With it `/metrics` needs `Authorization: Bearer <token>`; without, only loopback may ask.
    pub metrics_token: Option<String>,
    /// The translation provider for chats on sites that translate.
    pub translation: crate::translate::TranslationConfig,
    /// Files sent in chats.
    pub files: FilesConfig,
    /// STUN and TURN servers for screen sharing (none: browsers connect directly).
    pub ice: domain::ice::IceConfig,
    /// Attendees one presentation takes at once.
    pub presentation_attendees: i64,
    /// Webhook endpoints may be on loopback or private networks.
    pub webhooks_allow_private_targets: bool,
}

/// Where chat files are kept and what may be sent.
#[derive(Debug, Clone)]
pub struct FilesConfig {
    /// `<data_dir>/files` (on shared storage when several nodes serve one database).
    pub dir: std::path::PathBuf,
    pub max_mb: usize,
    /// Extensions refused, lower-case without the dot.
    pub blocked_extensions: Vec<String>,
}

impl FilesConfig {
    pub fn max_bytes(&self) -> u64 {
        self.max_mb as u64 * 1024 * 1024
    }
}

/// Programs and scripts a customer could be talked into running.
pub const BLOCKED_EXTENSIONS: [&str; 16] = [
    "exe", "msi", "bat", "cmd", "com", "scr", "pif", "ps1", "vbs", "vbe", "js", "jse", "wsf",
    "hta", "jar", "lnk",
];

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            dir: std::path::PathBuf::from("./supportal-data/files"),
            max_mb: 10,
            blocked_extensions: BLOCKED_EXTENSIONS.map(str::to_owned).to_vec(),
        }
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            public_url: "http://127.0.0.1:8080".into(),
            cookie_secure: false,
            behind_proxy: false,
            trusted_proxies: loopback(),
            session_hours: 12,
            login_attempts_per_ip_per_minute: 20,
            login_lockout: crate::lockout::LockoutRules {
                per_account_and_address: 5,
                per_account: 50,
                window: std::time::Duration::from_secs(15 * 60),
            },
            key_attempts_per_ip_per_minute: 10,
            failed_keys_per_org_per_hour: 200,
            session_requests_per_ip_per_hour: 100,
            api_requests_per_token_per_minute: 600,
            session_requests_per_browser_per_hour: 10,
            offline_grace_secs: 30,
            customer_grace_secs: 120,
            heartbeat_secs: 25,
            queue_list_limit: 100,
            metrics_token: None,
            dns_server: None,
            request_timeout_secs: 30,
            max_connections: 20_000,
            header_read_timeout_secs: 10,
            sockets_per_ip: 500,
            translation: crate::translate::TranslationConfig::default(),
            files: FilesConfig::default(),
            ice: domain::ice::IceConfig::default(),
            presentation_attendees: 10,
            webhooks_allow_private_targets: false,
        }
    }
}

/// 127.0.0.0/8 and ::1: a proxy on the same machine.
pub fn loopback() -> Vec<ipnet::IpNet> {
    ["127.0.0.0/8", "::1/128"]
        .iter()
        .filter_map(|net| net.parse().ok())
        .collect()
}
