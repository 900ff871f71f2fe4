//! Reports: sessions counted and timed per day or per group (site, team, rep, start method),
//! from one row of facts per session. Pure, so both backends give the same figures: the store
//! reads the facts of a range, this module adds them up.

use crate::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// What is known of one session, for reports.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionFacts {
    pub queued_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    /// `resolved`, `unresolved`, `abandoned`, `expired`; None while it runs.
    pub outcome: Option<String>,
    /// Transfers by a rep to another rep or team.
    pub transfers: i64,
    /// The customer's survey rating, 1–5.
    pub rating: Option<i64>,
}

/// One line of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    /// The day (`2026-12-04`) or the group's name.
    pub key: String,
    /// Customers who asked for help.
    pub arrived: i64,
    /// Taken by a rep.
    pub accepted: i64,
    /// Ended resolved.
    pub resolved: i64,
    /// Left (or stopped answering) while waiting, never taken.
    pub abandoned_waiting: i64,
    pub transfers: i64,
    /// Wait from arrival to a rep taking it, in seconds: median and 90th percentile.
    pub wait_median_secs: Option<i64>,
    pub wait_p90_secs: Option<i64>,
    /// From a rep taking it to its end, median, in seconds.
    pub handle_median_secs: Option<i64>,
    /// Average survey rating (1–5), and how many rated.
    pub rating_average: Option<f64>,
    pub rated: i64,
}

/// The value at quantile `q` (0–1) of `sorted` by the nearest-rank method.
pub fn percentile(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

/// One row for `key` from the sessions in it.
pub fn row(key: String, sessions: &[&SessionFacts]) -> ReportRow {
    let mut waits: Vec<i64> = sessions
        .iter()
        .filter_map(|s| Some((s.accepted_at?.millis() - s.queued_at.millis()) / 1000))
        .collect();
    waits.sort_unstable();
    let mut handles: Vec<i64> = sessions
        .iter()
        .filter_map(|s| Some((s.ended_at?.millis() - s.accepted_at?.millis()) / 1000))
        .collect();
    handles.sort_unstable();
    let ratings: Vec<i64> = sessions.iter().filter_map(|s| s.rating).collect();
    let count = |f: &dyn Fn(&SessionFacts) -> bool| sessions.iter().filter(|s| f(s)).count() as i64;
    ReportRow {
        key,
        arrived: sessions.len() as i64,
        accepted: count(&|s| s.accepted_at.is_some()),
        resolved: count(&|s| s.outcome.as_deref() == Some("resolved")),
        abandoned_waiting: count(&|s| {
            s.accepted_at.is_none() && matches!(s.outcome.as_deref(), Some("abandoned" | "expired"))
        }),
        transfers: sessions.iter().map(|s| s.transfers).sum(),
        wait_median_secs: percentile(&waits, 0.5),
        wait_p90_secs: percentile(&waits, 0.9),
        handle_median_secs: percentile(&handles, 0.5),
        rating_average: (!ratings.is_empty())
            .then(|| ratings.iter().sum::<i64>() as f64 / ratings.len() as f64),
        rated: ratings.len() as i64,
    }
}

/// Rows per key that `group` gives each session (every key in `keys` first, in that order,
/// also when empty, then any other key in sorted order), and the total.
pub fn grouped<'a>(
    sessions: impl IntoIterator<Item = (String, &'a SessionFacts)>,
    keys: &[String],
) -> (Vec<ReportRow>, ReportRow) {
    let mut by_key: BTreeMap<String, Vec<&SessionFacts>> = BTreeMap::new();
    let mut all = Vec::new();
    for (key, facts) in sessions {
        by_key.entry(key).or_default().push(facts);
        all.push(facts);
    }
    let mut rows: Vec<ReportRow> = keys
        .iter()
        .map(|k| row(k.clone(), by_key.remove(k).as_deref().unwrap_or(&[])))
        .collect();
    rows.extend(by_key.into_iter().map(|(k, v)| row(k, &v)));
    (rows, row("Total".into(), &all))
}

/// The report as CSV (RFC 4180): the same columns the page's table shows.
pub fn csv(key_title: &str, rows: &[ReportRow], total: &ReportRow) -> String {
    let quote = |s: &str| match s.contains([',', '"', '\n', '\r']) {
        true => format!("\"{}\"", s.replace('"', "\"\"")),
        false => s.to_owned(),
    };
    let opt = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut out = format!(
        "{},arrived,accepted,resolved,abandoned_waiting,transfers,wait_median_secs,wait_p90_secs,handle_median_secs,rating_average,rated\r\n",
        quote(key_title)
    );
    for r in rows.iter().chain(std::iter::once(total)) {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\r\n",
            quote(&r.key),
            r.arrived,
            r.accepted,
            r.resolved,
            r.abandoned_waiting,
            r.transfers,
            opt(r.wait_median_secs),
            opt(r.wait_p90_secs),
            opt(r.handle_median_secs),
            r.rating_average
                .map(|a| format!("{a:.2}"))
                .unwrap_or_default(),
            r.rated
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(
        queued: i64,
        accepted: Option<i64>,
        ended: Option<i64>,
        outcome: &str,
    ) -> SessionFacts {
        SessionFacts {
            queued_at: Timestamp(queued * 1000),
            accepted_at: accepted.map(|a| Timestamp(a * 1000)),
            ended_at: ended.map(|e| Timestamp(e * 1000)),
            outcome: (!outcome.is_empty()).then(|| outcome.to_owned()),
            transfers: 0,
            rating: None,
        }
    }

    /// A fixture computed by hand.
    #[test]
    fn figures_match_a_hand_computed_fixture() {
        let mut a = facts(0, Some(10), Some(70), "resolved");
        a.rating = Some(5);
        a.transfers = 1;
        let b = facts(0, Some(30), Some(330), "unresolved");
        let mut c = facts(0, Some(50), Some(110), "resolved");
        c.rating = Some(2);
        let d = facts(0, None, Some(100), "abandoned");
        let e = facts(0, None, None, "");
        let all = [&a, &b, &c, &d, &e];
        let r = row("Day".into(), &all);
        assert_eq!(
            (r.arrived, r.accepted, r.resolved, r.abandoned_waiting),
            (5, 3, 2, 1)
        );
        assert_eq!(r.transfers, 1);
        // Waits 10, 30, 50: median 30, p90 50. Handles 60, 300, 60: median 60.
        assert_eq!((r.wait_median_secs, r.wait_p90_secs), (Some(30), Some(50)));
        assert_eq!(r.handle_median_secs, Some(60));
        assert_eq!((r.rating_average, r.rated), (Some(3.5), 2));
    }

    #[test]
    fn groups_keep_their_order_empty_ones_included_and_csv_equals_the_rows() {
        let (a, b) = (
            facts(0, Some(60), None, ""),
            facts(0, None, None, "expired"),
        );
        let keys = vec!["2026-12-01".to_owned(), "2026-12-02".to_owned()];
        let (rows, total) = grouped(
            [("2026-12-02".to_owned(), &a), ("2026-12-02".to_owned(), &b)],
            &keys,
        );
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].arrived, rows[1].arrived, total.arrived), (0, 2, 2));
        let text = csv("day", &rows, &total);
        let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[2], "2026-12-02,2,1,0,1,0,60,60,,,0");
        assert_eq!(lines[3], "Total,2,1,0,1,0,60,60,,,0");
        assert!(csv("a,b", &rows, &total).starts_with("\"a,b\","));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[1, 2, 3, 4], 0.5), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), Some(9));
    }
}
