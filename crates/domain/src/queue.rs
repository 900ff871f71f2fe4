//! What a waiting customer is told about their wait.

/// Minutes still to wait, from how long recent customers of the same queue waited: the median
/// recent wait less what this customer already waited, at least one minute. None without
/// history (the page then promises nothing it cannot know).
pub fn estimated_wait_minutes(recent_waits_ms: &[i64], waited_ms: i64) -> Option<i64> {
    if recent_waits_ms.is_empty() {
        return None;
    }
    let mut sorted = recent_waits_ms.to_vec();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    let left_ms = (median - waited_ms).max(0);
    Some(((left_ms + 59_999) / 60_000).max(1))
}

/// Whether a change announced in a waiting customer's organization can change what their waiting
/// page shows. A new arrival joins behind everyone already waiting in its queue (new sessions
/// start at the lowest priority, and arrive last), so another customer's `queued` moves no one;
/// everything else (an accept, a leave, a transfer, a raised priority, a notice) may.
pub fn may_change_wait(kind: &str, about_this_session: bool) -> bool {
    about_this_session || kind != "queued"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_less_time_already_waited_never_below_a_minute() {
        assert_eq!(estimated_wait_minutes(&[], 0), None);
        assert_eq!(
            estimated_wait_minutes(&[300_000, 60_000, 600_000], 0),
            Some(5)
        );
        assert_eq!(
            estimated_wait_minutes(&[300_000, 60_000, 600_000], 120_000),
            Some(3)
        );
        assert_eq!(estimated_wait_minutes(&[300_000], 900_000), Some(1));
        assert_eq!(estimated_wait_minutes(&[1], 0), Some(1));
    }

    #[test]
    fn only_another_customers_arrival_is_ignored() {
        assert!(!may_change_wait("queued", false));
        assert!(may_change_wait("queued", true));
        for kind in [
            "accepted",
            "ended",
            "transferred",
            "priority_raised",
            "notice",
        ] {
            assert!(may_change_wait(kind, false), "{kind}");
        }
    }
}
