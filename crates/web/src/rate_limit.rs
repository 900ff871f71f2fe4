//! Attempts limited per key (GCRA, `governor`): sign-ins per client address and per account,
//! key entries per client address. Kept in memory per node: a limit an attacker must beat on
//! every node is still a limit.

use crate::state::WebConfig;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;

/// At most `n` attempts a minute per key (bursts up to `n`).
pub struct Limiter<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub fn per_minute(n: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Limiter {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Count one attempt. Err(seconds to wait) when over the limit.
    pub fn check(&self, key: &K) -> Result<(), u64> {
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()).as_secs().max(1))
    }

    /// Drop keys whose limits have fully recovered (called periodically).
    pub fn forget_recovered(&self) {
        self.limiter.retain_recent();
    }
}

/// Sign-in attempts, limited per client address and per account.
pub struct LoginLimiter {
    per_ip: Limiter<IpAddr>,
    per_account: Limiter<String>,
}

impl LoginLimiter {
    pub fn new(config: &WebConfig) -> Self {
        LoginLimiter {
            per_ip: Limiter::per_minute(config.login_attempts_per_ip_per_minute),
            per_account: Limiter::per_minute(config.login_attempts_per_account_per_minute),
        }
    }

    pub fn check(&self, ip: IpAddr, account: &str) -> Result<(), u64> {
        self.per_ip.check(&ip)?;
        self.per_account.check(&account.to_lowercase())
    }

    pub fn forget_recovered(&self) {
        self.per_ip.forget_recovered();
        self.per_account.forget_recovered();
    }
}
