//! Failed password guesses, counted per account *and* client address, with a slower ceiling per
//! account. An address that keeps guessing is locked out for that account; the account's own
//! user, signing in from an address with no failures, still gets in while the ceiling holds
//! (the "familiar address" rule of common lockout guidance). Counts live in fixed windows, in
//! this node's memory or, with several nodes, in Redis.
//!
//! An attempt is counted as a failure when it starts and taken back when it succeeds or is not
//! judged at all, so parallel guesses cannot all slip in before the first failure is recorded.

use crate::rate_limit::Shared;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct LockoutRules {
    /// Failures one address may make for one account in a window.
    pub per_account_and_address: u32,
    /// Failures from all addresses together after which only addresses without failures may try.
    pub per_account: u32,
    pub window: Duration,
}

pub struct Lockout {
    rules: LockoutRules,
    local: Mutex<HashMap<String, Window>>,
    shared: Option<Shared>,
}

#[derive(Clone, Copy)]
struct Window {
    count: u32,
    ends: Instant,
}

/// An attempt that was let through and counted as a failure until told otherwise.
#[must_use = "say how the attempt ended"]
pub struct Attempt {
    pair: String,
    account: String,
}

/// The counts after this attempt was added: (failures, seconds left in the window).
struct Counts {
    pair: (u32, u64),
    account: (u32, u64),
}

impl Lockout {
    pub fn new(rules: LockoutRules, shared: Option<Shared>) -> Self {
        Lockout {
            rules,
            local: Mutex::new(HashMap::new()),
            shared,
        }
    }

    /// Let an attempt at `account`'s password from `ip` through, or say in how many seconds to retry.
    pub async fn begin(&self, account: &str, ip: IpAddr) -> Result<Attempt, u64> {
        let account = account.trim().to_lowercase();
        let attempt = Attempt {
            pair: format!("pair:{account}|{ip}"),
            account: format!("account:{account}"),
        };
        let counts = self.add(&attempt).await;
        let rules = &self.rules;
        let refusal = if counts.pair.0 > rules.per_account_and_address {
            Some(counts.pair.1)
        } else if counts.account.0 > rules.per_account && counts.pair.0 > 1 {
            // The ceiling is reached and this address has failed before: only clean addresses may try.
            Some(counts.account.1)
        } else {
            None
        };
        match refusal {
            Some(secs) => {
                self.take_back(&attempt, false).await;
                Err(secs.max(1))
            }
            None => Ok(attempt),
        }
    }

    /// The password was right: this address starts clean again, and it was no failure.
    pub async fn succeeded(&self, attempt: Attempt) {
        self.take_back(&attempt, true).await;
    }

    /// The password was never judged (the server was busy): it counts for nothing.
    pub async fn not_judged(&self, attempt: Attempt) {
        self.take_back(&attempt, false).await;
    }

    /// The password was wrong: it stays counted.
    pub fn failed(&self, attempt: Attempt) {
        drop(attempt);
    }

    async fn add(&self, attempt: &Attempt) -> Counts {
        if let Some(shared) = &self.shared {
            match self.add_shared(shared, attempt).await {
                Ok(counts) => return counts,
                Err(err) => {
                    tracing::warn!(error = %err, "Redis lockout counts unavailable: counting on this node")
                }
            }
        }
        let now = Instant::now();
        let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        let mut bump = |key: &str| {
            let window = local
                .entry(key.to_owned())
                .and_modify(|w| {
                    if w.ends <= now {
                        *w = Window {
                            count: 0,
                            ends: now + self.rules.window,
                        }
                    }
                })
                .or_insert(Window {
                    count: 0,
                    ends: now + self.rules.window,
                });
            window.count += 1;
            (window.count, window.ends.duration_since(now).as_secs())
        };
        Counts {
            pair: bump(&attempt.pair),
            account: bump(&attempt.account),
        }
    }

    /// One round trip: start each key's window if it has none, count, read what is left of it.
    async fn add_shared(&self, shared: &Shared, attempt: &Attempt) -> redis::RedisResult<Counts> {
        let secs = self.rules.window.as_secs().max(1);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in [&attempt.pair, &attempt.account] {
            let key = format!("{}:{key}", shared.prefix);
            pipe.cmd("SET")
                .arg(&key)
                .arg(0)
                .arg("EX")
                .arg(secs)
                .arg("NX");
            pipe.ignore().cmd("INCR").arg(&key).cmd("TTL").arg(&key);
        }
        let (pair, pair_ttl, account, account_ttl): (u32, i64, u32, i64) =
            pipe.query_async(&mut shared.redis.clone()).await?;
        let left = |ttl: i64| u64::try_from(ttl).unwrap_or(1);
        Ok(Counts {
            pair: (pair, left(pair_ttl)),
            account: (account, left(account_ttl)),
        })
    }

    /// Undo this attempt's count; `clear_pair` also forgets the address's earlier failures.
    async fn take_back(&self, attempt: &Attempt, clear_pair: bool) {
        if let Some(shared) = &self.shared {
            let (pair, account) = (
                format!("{}:{}", shared.prefix, attempt.pair),
                format!("{}:{}", shared.prefix, attempt.account),
            );
            // A window that ended meanwhile stays ended: DECR alone would recreate its key at
            // -1 with no expiry, a credit of extra guesses for good.
            const TAKE_BACK: &str = "
                if ARGV[1] == '1' then redis.call('DEL', KEYS[1])
                elseif redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECR', KEYS[1]) end
                if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('DECR', KEYS[2]) end
                return 0";
            let done: redis::RedisResult<()> = redis::cmd("EVAL")
                .arg(TAKE_BACK)
                .arg(2)
                .arg(&pair)
                .arg(&account)
                .arg(if clear_pair { "1" } else { "0" })
                .query_async(&mut shared.redis.clone())
                .await;
            match done {
                Ok(()) => return,
                Err(err) => tracing::warn!(error = %err, "Redis lockout counts unavailable"),
            }
        }
        let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        if clear_pair {
            local.remove(&attempt.pair);
        } else if let Some(w) = local.get_mut(&attempt.pair) {
            w.count = w.count.saturating_sub(1);
        }
        if let Some(w) = local.get_mut(&attempt.account) {
            w.count = w.count.saturating_sub(1);
        }
    }

    /// Drop windows that have ended (called periodically).
    pub fn forget_ended(&self) {
        let now = Instant::now();
        let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        local.retain(|_, w| w.ends > now);
    }
}

/// Wrong keys typed on one organization's portals (or on the global key page, counted together),
/// from all addresses: a ceiling an hour, so many addresses together cannot guess faster than the
/// odds the admin page shows. The same counting as sign-in failures, with the portal as account.
pub struct KeyCeiling(Lockout);

impl KeyCeiling {
    pub fn new(per_hour: u32, shared: Option<Shared>) -> Self {
        let rules = LockoutRules {
            per_account_and_address: per_hour,
            per_account: u32::MAX,
            window: Duration::from_secs(3600),
        };
        KeyCeiling(Lockout::new(rules, shared))
    }

    /// Let a key typed on `portal`'s pages be looked up, or say in how many seconds to retry.
    pub async fn begin(&self, portal: &str) -> Result<Attempt, u64> {
        let everyone = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        self.0.begin(portal, everyone).await
    }

    /// The key was live, or not a guess at all (empty, malformed): it does not count.
    pub async fn not_a_guess(&self, attempt: Attempt) {
        self.0.not_judged(attempt).await;
    }

    /// The key was wrong: it counts.
    pub fn wrong(&self, attempt: Attempt) {
        self.0.failed(attempt);
    }

    pub fn forget_ended(&self) {
        self.0.forget_ended();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lockout(pair: u32, account: u32) -> Lockout {
        let rules = LockoutRules {
            per_account_and_address: pair,
            per_account: account,
            window: Duration::from_secs(900),
        };
        Lockout::new(rules, None)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn a_guessing_address_is_locked_out_and_a_clean_one_is_not() {
        let lockout = lockout(3, 100);
        for _ in 0..3 {
            lockout.failed(lockout.begin("a@x.test", ip("192.0.2.1")).await.unwrap());
        }
        let secs = lockout.begin("A@x.test", ip("192.0.2.1")).await.err();
        assert!(secs.is_some_and(|s| s > 800), "{secs:?}");
        let attempt = lockout.begin("a@x.test", ip("192.0.2.2")).await.unwrap();
        lockout.succeeded(attempt).await;
        assert!(lockout.begin("b@x.test", ip("192.0.2.1")).await.is_ok());
    }

    #[tokio::test]
    async fn past_the_ceiling_only_addresses_without_failures_may_try() {
        let lockout = lockout(10, 4);
        for addr in ["192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.3"] {
            lockout.failed(lockout.begin("a@x.test", ip(addr)).await.unwrap());
        }
        assert!(lockout.begin("a@x.test", ip("192.0.2.2")).await.is_err());
        // Refused attempts do not push the ceiling further.
        let clean = lockout.begin("a@x.test", ip("198.51.100.7")).await.unwrap();
        lockout.succeeded(clean).await;
        let again = lockout.begin("a@x.test", ip("198.51.100.7")).await.unwrap();
        lockout.not_judged(again).await;
    }

    #[tokio::test]
    async fn parallel_guesses_are_counted_before_they_are_judged() {
        let lockout = lockout(2, 100);
        let a = lockout.begin("a@x.test", ip("192.0.2.1")).await;
        let b = lockout.begin("a@x.test", ip("192.0.2.1")).await;
        let c = lockout.begin("a@x.test", ip("192.0.2.1")).await;
        assert!(a.is_ok() && b.is_ok() && c.is_err());
    }
}
