//! Proof that an organization controls a hostname before its site answers on it. The admin adds
//! a DNS TXT record `_supportal-challenge.<host>` holding `supportal-verification=<challenge>`
//! (the challenge is their claim's own random value), and the server looks it up; or an
//! instance admin approves the claim. Until then the claim is pending and the host shows
//! nothing of the site. (docs/decisions/0010-hostname-ownership.md)

use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::TokioResolver;
use std::net::SocketAddr;
use std::time::Duration;

/// The name of the TXT record that proves `host`.
pub fn record_name(host: &str) -> String {
    format!("_supportal-challenge.{host}")
}

/// The value that record must hold for `challenge`.
pub fn record_value(challenge: &str) -> String {
    format!("supportal-verification={challenge}")
}

/// Looks up ownership records, fresh each time (no cache: an admin who just added the record
/// checks again at once).
pub struct OwnershipCheck {
    resolver: Option<TokioResolver>,
}

/// Why a check could not be made (not "the record is missing": that is Ok(false)).
#[derive(Debug)]
pub struct CheckFailed(pub String);

impl OwnershipCheck {
    /// `dns_server`: the nameserver to ask; None for the system's (`/etc/resolv.conf`).
    pub fn new(dns_server: Option<SocketAddr>) -> Self {
        let mut options = ResolverOpts::default();
        options.cache_size = 0;
        options.timeout = Duration::from_secs(3);
        options.attempts = 2;
        let provider = TokioConnectionProvider::default();
        let builder = match dns_server {
            Some(addr) => {
                let servers =
                    NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true);
                let config = ResolverConfig::from_parts(None, vec![], servers);
                Ok(TokioResolver::builder_with_config(config, provider))
            }
            None => TokioResolver::builder(provider),
        };
        let resolver = match builder {
            Ok(builder) => Some(builder.with_options(options).build()),
            Err(err) => {
                tracing::warn!(error = %err, "no DNS configuration: hostname claims need an instance admin's approval");
                None
            }
        };
        OwnershipCheck { resolver }
    }

    /// Whether `host`'s ownership record holds `challenge`.
    pub async fn proven(&self, host: &str, challenge: &str) -> Result<bool, CheckFailed> {
        let Some(resolver) = &self.resolver else {
            return Err(CheckFailed("this server has no DNS configuration".into()));
        };
        let name = format!("{}.", record_name(host));
        let lookup = match resolver.txt_lookup(name).await {
            Ok(lookup) => lookup,
            Err(err) if err.is_no_records_found() || err.is_nx_domain() => return Ok(false),
            Err(err) => return Err(CheckFailed(err.to_string())),
        };
        let wanted = record_value(challenge);
        Ok(lookup.iter().any(|txt| {
            let joined: Vec<u8> = txt
                .txt_data()
                .iter()
                .flat_map(|part| part.iter())
                .copied()
                .collect();
            String::from_utf8_lossy(&joined).trim() == wanted
        }))
    }
}
