//! Webhooks as the Standard Webhooks specification has them (standardwebhooks.com): each
//! delivery carries `webhook-id`, `webhook-timestamp` and `webhook-signature` (`v1,` and the
//! base64 HMAC-SHA256 of `id.timestamp.body` under the endpoint's secret), so receivers verify
//! with the specification's own libraries. Also: which events there are, how long a failing
//! delivery waits before the next try, and which addresses a delivery may not go to.

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::net::IpAddr;

/// Secrets are written so (`whsec_` and base64 of random bytes), as the libraries expect.
pub const SECRET_PREFIX: &str = "whsec_";

/// The events an endpoint may ask for.
pub const EVENTS: [(&str, &str); 8] = [
    (
        "session.queued",
        "A customer asked for help and waits in a queue",
    ),
    ("session.accepted", "A rep took a session"),
    (
        "session.transferred",
        "A rep transferred a session to another rep or team",
    ),
    (
        "session.requeued",
        "A session went back to a queue because its rep went offline",
    ),
    ("session.ended", "A session ended (with its outcome)"),
    ("survey.submitted", "A customer rated a session (1 to 5)"),
    (
        "notice.started",
        "A notice began to show on its site (created, or its start time came)",
    ),
    (
        "notice.ended",
        "A notice stopped showing (ended, deleted, or its end time came)",
    ),
];

/// A new secret: 32 random bytes.
pub fn new_secret(rng: &mut impl RngCore) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The `webhook-signature` header's value for a delivery.
pub fn signature(secret: &str, id: &str, timestamp_secs: i64, body: &str) -> Option<String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp_secs}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// How long after failed attempt `attempts` (1 for the first) the next one is made, in seconds:
/// the specification's suggested schedule, then every ten hours. A delivery still failing a day
/// after it was made is given up.
pub fn retry_after_secs(attempts: i64) -> i64 {
    match attempts {
        i64::MIN..=1 => 5,
        2 => 5 * 60,
        3 => 30 * 60,
        4 => 2 * 3600,
        5 => 5 * 3600,
        _ => 10 * 3600,
    }
}

/// How long a delivery is tried before it is marked failed.
pub const GIVE_UP_AFTER_MS: i64 = 24 * 3600 * 1000;

/// Addresses a delivery may not reach unless the instance allows private targets: loopback,
/// private networks, link-local (cloud metadata), unspecified, multicast, and the IPv6 forms
/// of those (unique local, IPv4-mapped).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                // 100.64.0.0/10, carrier-grade NAT.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private(IpAddr::V4(v4)),
            None => {
                v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    // fc00::/7 unique local, fe80::/10 link-local.
                    || (v6.segments()[0] & 0xfe00) == 0xfc00
                    || (v6.segments()[0] & 0xffc0) == 0xfe80
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The specification's own example (its libraries' test vector).
    #[test]
    fn signs_as_the_specification_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, id, 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn private_addresses_are_told_apart() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "2606:2800:220:1::1", "100.128.0.1"] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn retries_back_off_and_secrets_have_the_prefix() {
        let waits: Vec<i64> = (1..=7).map(retry_after_secs).collect();
        assert!(waits.windows(2).all(|w| w[0] <= w[1]));
        let secret = new_secret(&mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(3));
        assert!(secret.starts_with(SECRET_PREFIX));
        assert!(signature(&secret, "msg_1", 1, "{}").is_some());
    }
}
