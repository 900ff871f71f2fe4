//! Where a webhook may go: http or https only, and (unless the instance allows private
//! targets) never to loopback, private or link-local addresses. The check is made on the
//! addresses a name resolves to when the request is made (a name that resolved to a public
//! address when the endpoint was added may not later point inside), and again for every
//! redirect.

use domain::webhook::is_private;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Why a URL is refused as a target, in words an admin reads beside the field.
pub fn refusal(url: &str, allow_private: bool) -> Option<&'static str> {
    let Ok(parsed) = url::Url::parse(url.trim()) else {
        return Some("Enter a full address, such as https://example.com/hooks/supportal.");
    };
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Some("Only http and https addresses can receive webhooks.");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some("Put no user name or password in the address: verify the signature instead.");
    }
    if !allow_private && private_literal(&parsed) {
        return Some("This address is on a private network or this machine: not allowed here.");
    }
    None
}

/// The URL's host is an IP address in a private range (names are checked when resolved).
fn private_literal(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(v4)) => is_private(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => is_private(IpAddr::V6(v6)),
        _ => false,
    }
}

/// Resolves names with the system's resolver and drops private addresses (all of them
/// private: the request fails as if the name did not resolve).
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| !is_private(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// The client deliveries go out through: bounded time, few redirects, each checked.
pub fn client(allow_private: bool) -> reqwest::Result<reqwest::Client> {
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 3 {
            attempt.error("too many redirects")
        } else if refusal(attempt.url().as_str(), allow_private).is_some() {
            attempt.error("redirected to an address webhooks may not go to")
        } else {
            attempt.follow()
        }
    });
    let builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5))
        .redirect(redirects)
        .user_agent(concat!("Supportal-Webhooks/", env!("CARGO_PKG_VERSION")));
    let builder = match allow_private {
        true => builder,
        false => builder.dns_resolver(Arc::new(PublicOnly)),
    };
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_to_public_literals_unless_allowed() {
        assert!(refusal("https://hooks.example.com/x", false).is_none());
        assert!(refusal("ftp://hooks.example.com/x", false).is_some());
        assert!(refusal("hooks.example.com", false).is_some());
        assert!(refusal("https://user:pw@hooks.example.com/", false).is_some());
        assert!(refusal("http://127.0.0.1:9000/", false).is_some());
        assert!(refusal("http://[::1]:9000/", false).is_some());
        assert!(refusal("http://169.254.169.254/latest", false).is_some());
        assert!(refusal("http://127.0.0.1:9000/", true).is_none());
    }

    /// A name that resolves to this machine: the guarded client refuses it at resolution (so
    /// the error says why), the one that allows private targets reaches the listener there.
    #[tokio::test]
    async fn a_name_that_resolves_inside_is_refused_when_called() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                    .await;
            }
        });
        let url = format!("http://localhost:{port}/hook");
        let err = client(false).unwrap().get(&url).send().await.unwrap_err();
        assert!(
            format!("{err:?}").contains("no public address"),
            "refused by the resolver, not by the listener: {err:?}"
        );
        let reached = client(true).unwrap().get(&url).send().await.unwrap();
        assert_eq!(reached.status(), 204);
    }
}
