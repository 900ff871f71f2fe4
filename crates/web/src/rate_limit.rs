//! Attempts limited per key: sign-ins, key entries and support requests per client address,
//! support requests per browser. In memory per node (GCRA, `governor`) for one process; in Redis
//! when the bus is Redis, so a limit holds across nodes (a fixed window per key: at most `n`
//! tries in any window). If Redis does not answer, the node's own limiter decides meanwhile.

use crate::config::WebConfig;
use crate::lockout::{Attempt, Lockout};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::fmt::Display;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// Where counts are shared between nodes: a Redis connection and the prefix of this limit's keys.
#[derive(Clone)]
pub struct Shared {
    pub redis: redis::aio::MultiplexedConnection,
    pub prefix: String,
}

impl Shared {
    /// The same connection for the counts named `name`, under their own prefix.
    pub fn under(&self, name: &str) -> Shared {
        Shared {
            redis: self.redis.clone(),
            prefix: format!("{}:{name}", self.prefix),
        }
    }
}

/// At most `n` attempts a period per key (bursts up to `n`).
pub struct Limiter<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
    n: u32,
    period: Duration,
    shared: Option<Shared>,
}

impl<K: Hash + Eq + Clone + Display> Limiter<K> {
    pub fn per_minute(n: u32) -> Self {
        Self::per(n, Duration::from_secs(60))
    }

    pub fn per_hour(n: u32) -> Self {
        Self::per(n, Duration::from_secs(3600))
    }

    fn per(n: u32, period: Duration) -> Self {
        let burst = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period / burst.get())
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
            .allow_burst(burst);
        Limiter {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            n,
            period,
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

    /// One round trip: start the key's period if it has none, count, read what is left of it.
    async fn check_shared(&self, shared: &Shared, key: &K) -> redis::RedisResult<Result<(), u64>> {
        let key = format!("{}:{key}", shared.prefix);
        let mut redis = shared.redis.clone();
        let (count, ttl): (u64, i64) = redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(&key)
            .arg(0)
            .arg("EX")
            .arg(self.period.as_secs().max(1))
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

/// Password guesses: attempts per client address (any account), and failures per account and
/// address with a ceiling per account (see `lockout`).
pub struct LoginLimiter {
    per_ip: Limiter<IpAddr>,
    pub lockout: Lockout,
}

impl LoginLimiter {
    /// `shared`: the Redis connection and key prefix when limits are shared between nodes.
    /// `shared`: where each of its counts lives between nodes, by name (None: on this node).
    pub fn new(config: &WebConfig, shared: impl Fn(&str) -> Option<Shared>) -> Self {
        LoginLimiter {
            per_ip: Limiter::per_minute(config.login_attempts_per_ip_per_minute)
                .shared(shared("login-ip")),
            lockout: Lockout::new(config.login_lockout, shared("login-failures")),
        }
    }

    /// Let a guess at `account`'s password through, or say in how many seconds to retry. Tell
    /// `lockout` how it ended.
    pub async fn check(&self, ip: IpAddr, account: &str) -> Result<Attempt, u64> {
        self.per_ip.check(&ip).await?;
        self.lockout.begin(account, ip).await
    }

    pub fn forget_recovered(&self) {
        self.per_ip.forget_recovered();
        self.lockout.forget_ended();
    }
}

/// Support requests started (waiting sessions created), per client address and per browser.
pub struct RequestLimits {
    per_ip: Limiter<IpAddr>,
    per_browser: Limiter<String>,
}

impl RequestLimits {
    pub fn new(config: &WebConfig, shared: impl Fn(&str) -> Option<Shared>) -> Self {
        RequestLimits {
            per_ip: Limiter::per_hour(config.session_requests_per_ip_per_hour)
                .shared(shared("request-ip")),
            per_browser: Limiter::per_hour(config.session_requests_per_browser_per_hour)
                .shared(shared("request-browser")),
        }
    }

    /// Count one request. `browser`: the browser's own random token, when it has one.
    pub async fn check(&self, ip: IpAddr, browser: Option<&str>) -> Result<(), u64> {
        if let Some(browser) = browser {
            self.per_browser
                .check(&domain::secret::token_digest(browser))
                .await?;
        }
        self.per_ip.check(&ip).await
    }

    pub fn forget_recovered(&self) {
        self.per_ip.forget_recovered();
        self.per_browser.forget_recovered();
    }
}
