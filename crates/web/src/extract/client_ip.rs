use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The client's address: the peer, or, when the peer is one of the configured proxies
/// (`server.trusted_proxies`, loopback by default), the address it appended last to
/// `X-Forwarded-For` (entries further left are whatever the client claimed). Anyone else's
/// `X-Forwarded-For` is ignored: it is only a claim.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let trusted = state.config.behind_proxy
            && state
                .config
                .trusted_proxies
                .iter()
                .any(|net| net.contains(&peer));
        if !trusted {
            return Ok(ClientIp(peer));
        }
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|last| last.trim().parse().ok());
        Ok(ClientIp(forwarded.unwrap_or(peer)))
    }
}
