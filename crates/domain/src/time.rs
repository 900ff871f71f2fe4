//! Instants as milliseconds since the Unix epoch (portable across both databases),
//! and the clock that code is handed instead of reading the system time itself.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl From<i64> for Timestamp {
    fn from(ms: i64) -> Self {
        Timestamp(ms)
    }
}

impl Timestamp {
    pub fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }
    pub fn millis(self) -> i64 {
        self.0
    }
    pub fn plus_seconds(self, s: i64) -> Self {
        Timestamp(self.0.saturating_add(s.saturating_mul(1000)))
    }
    /// Whole seconds from `self` until `later`, never negative.
    pub fn seconds_until(self, later: Timestamp) -> i64 {
        ((later.0 - self.0).max(0) + 999) / 1000
    }
}

/// The source of "now". Production passes the system clock; tests pass one they control.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_until_rounds_up_and_never_goes_negative() {
        let t = Timestamp(1_000);
        assert_eq!(t.seconds_until(Timestamp(1_001)), 1);
        assert_eq!(t.seconds_until(Timestamp(3_000)), 2);
        assert_eq!(t.seconds_until(Timestamp(0)), 0);
        assert_eq!(t.plus_seconds(5), Timestamp(6_000));
    }
}
