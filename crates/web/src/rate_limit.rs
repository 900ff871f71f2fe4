//! Attempts limited per key: sign-ins per client address and per account, key entries per
//! client address. In memory per node (GCRA, `governor`) for one process; in Redis when the bus
//! is Redis, so a limit holds across nodes (a fixed one-minute window per key: at most `n` tries
//! in any window). If Redis does not answer, the node's own limiter decides meanwhile.

use crate::config::WebConfig;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::fmt::Display;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;

/// Where counts are shared between nodes: a Redis connection and the prefix of this limit's keys.
#[derive(Clone)]
pub struct Shared {
    pub redis: redis::aio::MultiplexedConnection,
    pub prefix: String,
}

/// At most `n` attempts a minute per key (bursts up to `n`).
pub struct Limiter<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
    n: u32,
    shared: Option<Shared>,
}

impl<K: Hash + Eq + Clone + Display> Limiter<K> {
    pub fn per_minute(n: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Limiter {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            n,
            shared: None,
        }
    }

    /// Count in Redis under `shared.prefix` instead of in this node's memory.
    pub fn shared(mut self, shared: Option<Shared>) -> Self {
        self.shared = shared;
        self
    }

    /// Count one attempt. Err(seconds to wait) when over the limit.
    pub async fn check(&self, key: &K) -> Result<(), u64> {
        if let Some(shared) = &self.shared {
            match self.check_shared(shared, key).await {
                Ok(verdict) => return verdict,
                Err(err) => {
                    tracing::warn!(error = %err, "Redis rate limit unavailable: counting on this node")
                }
            }
        }
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()).as_secs().max(1))
    }

    /// One round trip: start the key's minute if it has none, count, read what is left of it.
    async fn check_shared(&self, shared: &Shared, key: &K) -> redis::RedisResult<Result<(), u64>> {
        let key = format!("{}:{key}", shared.prefix);
        let mut redis = shared.redis.clone();
        let (count, ttl): (u64, i64) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&key)
            .arg(0)
            .arg("EX")
            .arg(60)
            .arg("NX")
            .ignore()
            .cmd("INCR")
            .arg(&key)
            .cmd("TTL")
            .arg(&key)
            .query_async(&mut redis)
            .await?;
        Ok(match count > u64::from(self.n) {
            true => Err(u64::try_from(ttl).unwrap_or(1).max(1)),
            false => Ok(()),
        })
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
    /// `shared`: the Redis connection and key prefix when limits are shared between nodes.
    pub fn new(config: &WebConfig, shared: Option<&Shared>) -> Self {
        let under = |name: &str| {
            shared.map(|s| Shared {
                redis: s.redis.clone(),
                prefix: format!("{}:{name}", s.prefix),
            })
        };
        LoginLimiter {
            per_ip: Limiter::per_minute(config.login_attempts_per_ip_per_minute)
                .shared(under("login-ip")),
            per_account: Limiter::per_minute(config.login_attempts_per_account_per_minute)
                .shared(under("login-account")),
        }
    }

    pub async fn check(&self, ip: IpAddr, account: &str) -> Result<(), u64> {
        self.per_ip.check(&ip).await?;
        self.per_account.check(&account.to_lowercase()).await
    }

    pub fn forget_recovered(&self) {
        self.per_ip.forget_recovered();
        self.per_account.forget_recovered();
    }
}
