//! Sign-in attempts limited per client address and per account (GCRA, `governor`).
//! Kept in memory per node: a limit an attacker must beat on every node is still a limit.

use crate::state::WebConfig;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;

pub struct LoginLimiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl LoginLimiter {
    pub fn new(config: &WebConfig) -> Self {
        LoginLimiter {
            per_ip: DefaultKeyedRateLimiter::keyed(per_minute(
                config.login_attempts_per_ip_per_minute,
            )),
            per_account: DefaultKeyedRateLimiter::keyed(per_minute(
                config.login_attempts_per_account_per_minute,
            )),
            clock: DefaultClock::default(),
        }
    }

    /// Count one attempt. Err(seconds) when the address or the account must wait first.
    pub fn check(&self, ip: IpAddr, account: &str) -> Result<(), u64> {
        let wait = |not_until: governor::NotUntil<_>| {
            not_until.wait_time_from(self.clock.now()).as_secs().max(1)
        };
        self.per_ip.check_key(&ip).map_err(wait)?;
        self.per_account
            .check_key(&account.to_lowercase())
            .map_err(wait)?;
        Ok(())
    }

    /// Drop keys whose limits have fully recovered (called periodically).
    pub fn forget_recovered(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
    }
}
