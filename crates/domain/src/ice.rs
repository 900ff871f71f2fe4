//! The ICE servers a session's browsers use for WebRTC (screen sharing), with TURN credentials
//! in the time-limited shared-secret scheme that coturn implements (`use-auth-secret` with
//! `static-auth-secret`): the user name is `<expiry in Unix seconds>:<who>`, the password the
//! Base64 of HMAC-SHA1 over that name with the shared secret. The TURN server checks both
//! without asking Supportal, and refuses the name once its time has passed.

use crate::{SessionId, Timestamp};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Serialize;

/// STUN and TURN servers as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IceConfig {
    /// `stun:host:port` addresses, given to browsers as they are.
    pub stun: Vec<String>,
    /// `turn:` / `turns:` addresses, given with credentials when there is a secret.
    pub turn: Vec<String>,
    /// coturn's `static-auth-secret`.
    pub turn_secret: Option<String>,
    /// How long a credential stays valid, in seconds.
    pub credential_secs: i64,
}

/// One entry of `RTCConfiguration.iceServers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

impl IceConfig {
    /// The servers for `peer` (e.g. `rep7`, `customer`) in `session`, with TURN credentials
    /// that name both and run out `credential_secs` from `now`. TURN addresses without a
    /// secret are left out: a browser cannot use them.
    pub fn servers_for(&self, session: SessionId, peer: &str, now: Timestamp) -> Vec<IceServer> {
        self.servers_named(&format!("s{}-{peer}", session.0), now)
    }

    /// The servers for `peer` (`presenter`, `a<attendee>`) of presentation `presentation`.
    pub fn presentation_servers(
        &self,
        presentation: i64,
        peer: &str,
        now: Timestamp,
    ) -> Vec<IceServer> {
        self.servers_named(&format!("p{presentation}-{peer}"), now)
    }

    /// The servers with TURN credentials under the user name `<expiry>:<who>`.
    fn servers_named(&self, who: &str, now: Timestamp) -> Vec<IceServer> {
        let mut servers = Vec::new();
        if !self.stun.is_empty() {
            servers.push(IceServer {
                urls: self.stun.clone(),
                username: None,
                credential: None,
            });
        }
        if let (false, Some(secret)) = (self.turn.is_empty(), &self.turn_secret) {
            let expiry = now.plus_seconds(self.credential_secs).millis() / 1000;
            let username = format!("{expiry}:{who}");
            servers.push(IceServer {
                urls: self.turn.clone(),
                credential: Some(turn_password(secret, &username)),
                username: Some(username),
            });
        }
        servers
    }
}

/// coturn's password for a time-limited user name: Base64(HMAC-SHA1(secret, name)).
pub fn turn_password(secret: &str, username: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_what_coturn_computes_from_the_secret() {
        // Computed independently with Python's hmac and base64 modules.
        assert_eq!(
            turn_password("north-wind", "1764000000:s42-rep7"),
            "QDX4Wx3T5Vy4No8u87PU9FEAB4g="
        );
    }

    fn config() -> IceConfig {
        IceConfig {
            stun: vec!["stun:turn.example.com:3478".into()],
            turn: vec!["turn:turn.example.com:3478?transport=udp".into()],
            turn_secret: Some("north-wind".into()),
            credential_secs: 3600,
        }
    }

    #[test]
    fn turn_names_the_session_and_peer_and_runs_out_after_the_configured_time() {
        let now = Timestamp::from_millis(1_763_996_400_500);
        let servers = config().servers_for(SessionId(42), "rep7", now);
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0].username, None);
        let turn = &servers[1];
        assert_eq!(turn.username.as_deref(), Some("1764000000:s42-rep7"));
        assert_eq!(
            turn.credential.as_deref(),
            Some("QDX4Wx3T5Vy4No8u87PU9FEAB4g=")
        );
    }

    #[test]
    fn turn_without_a_secret_is_left_out() {
        let mut config = config();
        config.turn_secret = None;
        let servers = config.servers_for(SessionId(1), "customer", Timestamp::from_millis(0));
        assert_eq!(servers.len(), 1);
        assert_eq!(servers[0].urls, vec!["stun:turn.example.com:3478"]);
        assert!(IceConfig::default()
            .servers_for(SessionId(1), "customer", Timestamp::from_millis(0))
            .is_empty());
    }
}
