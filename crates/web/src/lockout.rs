//! Failures counted in fixed windows, counted when an attempt starts and taken back when it
//! turns out not to be one, so parallel attempts cannot all slip in before the first failure is
//! recorded. In this node's memory or, with several nodes, in Redis. Two rules use it:
//!
//! - `Lockout`, failed password guesses per account *and* client address, with a slower ceiling
//!   per account. An address that keeps guessing is locked out for that account; the account's
//!   own user, signing in from an address with no failures, still gets in while the ceiling holds
//!   (the "familiar address" rule of common lockout guidance).
//! - `KeyCeiling`, wrong keys typed on one organization's portals from all addresses together.

use crate::rate_limit::Shared;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts per key in fixed windows of `window`.
struct Windows {
    window: Duration,
    local: Mutex<HashMap<String, Window>>,
    shared: Option<Shared>,
}

#[derive(Clone, Copy)]
struct Window {
    count: u32,
    ends: Instant,
}

/// A key's count after an attempt was added, and the seconds left in its window.
#[derive(Clone, Copy)]
struct Count {
    failures: u32,
    secs_left: u64,
}

impl Windows {
    fn new(window: Duration, shared: Option<Shared>) -> Self {
        Windows {
            window,
            local: Mutex::new(HashMap::new()),
            shared,
        }
    }

    /// Count one more under each key (starting a window where there is none); their counts.
    async fn add<const N: usize>(&self, keys: [&str; N]) -> [Count; N] {
        if let Some(shared) = &self.shared {
            match self.add_shared(shared, keys).await {
                Ok(counts) => return counts,
                Err(err) => {
                    tracing::warn!(error = %err, "Redis failure counts unavailable: counting on this node")
                }
            }
        }
        let now = Instant::now();
        let fresh = Window {
            count: 0,
            ends: now + self.window,
        };
        let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        keys.map(|key| {
            let window = local.entry(key.to_owned()).or_insert(fresh);
            if window.ends <= now {
                *window = fresh;
            }
            window.count += 1;
            Count {
                failures: window.count,
                secs_left: window.ends.duration_since(now).as_secs(),
            }
        })
    }

    /// One round trip: start each key's window if it has none, count, read what is left of it.
    async fn add_shared<const N: usize>(
        &self,
        shared: &Shared,
        keys: [&str; N],
    ) -> redis::RedisResult<[Count; N]> {
        let secs = self.window.as_secs().max(1);
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in keys {
            let key = format!("{}:{key}", shared.prefix);
            pipe.cmd("SET")
                .arg(&key)
                .arg(0)
                .arg("EX")
                .arg(secs)
                .arg("NX");
            pipe.ignore().cmd("INCR").arg(&key).cmd("TTL").arg(&key);
        }
        let replies: Vec<i64> = pipe.query_async(&mut shared.redis.clone()).await?;
        Ok(std::array::from_fn(|i| Count {
            failures: replies
                .get(2 * i)
                .map_or(0, |c| u32::try_from(*c).unwrap_or(u32::MAX)),
            secs_left: replies
                .get(2 * i + 1)
                .map_or(1, |t| u64::try_from(*t).unwrap_or(1)),
        }))
    }

    /// Undo one count under each key; `clear` forgets the key's window altogether. A window that
    /// ended meanwhile stays ended.
    async fn take_back(&self, keys: &[(&str, bool)]) {
        if let Some(shared) = &self.shared {
            // DECR alone would recreate an ended window's key at -1 with no expiry: a credit of
            // extra attempts for good. Only keys that still exist are touched.
            const TAKE_BACK: &str = "
                for i, key in ipairs(KEYS) do
                    if ARGV[i] == '1' then redis.call('DEL', key)
                    elseif redis.call('EXISTS', key) == 1 then redis.call('DECR', key) end
                end
                return 0";
            let mut script = redis::cmd("EVAL");
            script.arg(TAKE_BACK).arg(keys.len());
            for (key, _) in keys {
                script.arg(format!("{}:{key}", shared.prefix));
            }
            for (_, clear) in keys {
                script.arg(if *clear { "1" } else { "0" });
            }
            let done: redis::RedisResult<()> = script.query_async(&mut shared.redis.clone()).await;
            match done {
                Ok(()) => return,
                Err(err) => tracing::warn!(error = %err, "Redis failure counts unavailable"),
            }
        }
        let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        for (key, clear) in keys {
            if *clear {
                local.remove(*key);
            } else if let Some(w) = local.get_mut(*key) {
                w.count = w.count.saturating_sub(1);
            }
        }
    }

    /// Drop windows that have ended (called periodically).
    fn forget_ended(&self) {
        let now = Instant::now();
        let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        local.retain(|_, w| w.ends > now);
    }
}

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
    windows: Windows,
}

/// A password guess that was let through and counted as a failure until told otherwise.
#[must_use = "say how the attempt ended"]
pub struct Attempt {
    pair: String,
    account: String,
}

impl Lockout {
    pub fn new(rules: LockoutRules, shared: Option<Shared>) -> Self {
        Lockout {
            rules,
            windows: Windows::new(rules.window, shared),
        }
    }

    /// Let an attempt at `account`'s password from `ip` through, or say in how many seconds to retry.
    pub async fn begin(&self, account: &str, ip: IpAddr) -> Result<Attempt, u64> {
        let account = account.trim().to_lowercase();
        let attempt = Attempt {
            pair: format!("pair:{account}|{ip}"),
            account: format!("account:{account}"),
        };
        let [pair, all] = self.windows.add([&attempt.pair, &attempt.account]).await;
        let rules = &self.rules;
        let refusal = if pair.failures > rules.per_account_and_address {
            Some(pair.secs_left)
        } else if all.failures > rules.per_account && pair.failures > 1 {
            // The ceiling is reached and this address has failed before: only clean addresses may try.
            Some(all.secs_left)
        } else {
            None
        };
        match refusal {
            Some(secs) => {
                self.not_judged(attempt).await;
                Err(secs.max(1))
            }
            None => Ok(attempt),
        }
    }

    /// The password was right: this address starts clean again, and it was no failure.
    pub async fn succeeded(&self, attempt: Attempt) {
        let keys = [(attempt.pair.as_str(), true), (&attempt.account, false)];
        self.windows.take_back(&keys).await;
    }

    /// The password was never judged (refused, or the server was busy): it counts for nothing.
    pub async fn not_judged(&self, attempt: Attempt) {
        let keys = [(attempt.pair.as_str(), false), (&attempt.account, false)];
        self.windows.take_back(&keys).await;
    }

    /// The password was wrong: it stays counted.
    pub fn failed(&self, attempt: Attempt) {
        drop(attempt);
    }

    pub fn forget_ended(&self) {
        self.windows.forget_ended();
    }
}

/// Wrong keys typed on one organization's portals (or on the global key page, counted together),
/// from all addresses: a ceiling an hour, so many addresses together cannot guess faster than the
/// odds the admin page shows.
pub struct KeyCeiling {
    per_hour: u32,
    windows: Windows,
}

/// A key lookup that was let through and counted as a wrong key until told otherwise.
#[must_use = "say how the lookup ended"]
pub struct Lookup {
    portal: String,
}

impl KeyCeiling {
    pub fn new(per_hour: u32, shared: Option<Shared>) -> Self {
        KeyCeiling {
            per_hour,
            windows: Windows::new(Duration::from_secs(3600), shared),
        }
    }

    /// Let a key typed on `portal`'s pages be looked up, or say in how many seconds to retry.
    pub async fn begin(&self, portal: &str) -> Result<Lookup, u64> {
        let lookup = Lookup {
            portal: portal.to_owned(),
        };
        let [count] = self.windows.add([&lookup.portal]).await;
        if count.failures > self.per_hour {
            self.not_a_guess(lookup).await;
            return Err(count.secs_left.max(1));
        }
        Ok(lookup)
    }

    /// The key was live, or the lookup was refused: it does not count.
    pub async fn not_a_guess(&self, lookup: Lookup) {
        self.windows.take_back(&[(&lookup.portal, false)]).await;
    }

    /// The key was wrong: it counts.
    pub fn wrong(&self, lookup: Lookup) {
        drop(lookup);
    }

    pub fn forget_ended(&self) {
        self.windows.forget_ended();
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
    async fn a_portal_takes_its_ceiling_of_wrong_keys_and_right_ones_do_not_count() {
        let ceiling = KeyCeiling::new(2, None);
        let right = ceiling.begin("org:1").await.unwrap();
        ceiling.not_a_guess(right).await;
        ceiling.wrong(ceiling.begin("org:1").await.unwrap());
        ceiling.wrong(ceiling.begin("org:1").await.unwrap());
        let refused = ceiling.begin("org:1").await.err();
        assert!(refused.is_some_and(|secs| secs > 3500), "{refused:?}");
        assert!(
            ceiling.begin("org:2").await.is_ok(),
            "another portal counts apart"
        );
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
