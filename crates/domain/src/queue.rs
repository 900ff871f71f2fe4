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

/// What a change announced to a queue does to that queue's line (the order of its waiting
/// customers and their recent waits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineChange {
    /// A new arrival joins the back: new sessions start at the lowest priority and arrive
    /// last, so nobody already waiting moves.
    JoinsBack,
    /// Offers and invitations change who is asked or helping, not who waits in what order.
    Unchanged,
    /// Anything else (an accept, a leave, a transfer in or out, a raised priority) may move
    /// people or the recent waits: the line is read again.
    Reread,
}

pub fn line_change(kind: &str) -> LineChange {
    match kind {
        "queued" => LineChange::JoinsBack,
        "offered" | "offer_closed" | "invited" => LineChange::Unchanged,
        _ => LineChange::Reread,
    }
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
    fn only_changes_that_move_people_reread_the_line() {
        assert_eq!(line_change("queued"), LineChange::JoinsBack);
        for kind in ["offered", "offer_closed", "invited"] {
            assert_eq!(line_change(kind), LineChange::Unchanged, "{kind}");
        }
        for kind in ["accepted", "ended", "requeued", "overdue", "unknown"] {
            assert_eq!(line_change(kind), LineChange::Reread, "{kind}");
        }
    }
}
