//! Business hours: weekly ranges in a time zone's wall-clock time, holidays that close a day or
//! give it special hours. Ranges may be split (several a day) and may run past midnight
//! ("22:00-06:00" opens at 22:00 and closes at 06:00 the next morning). Because ranges are wall
//! clock, opening hours stay put across DST changes.

use crate::{FieldError, Timestamp};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

const DAY: u16 = 24 * 60;

/// Open from `start` until `end`, in minutes after local midnight. `end <= start` means the
/// range runs past midnight into the next day; `end == 1440` is midnight at the day's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    pub start: u16,
    pub end: u16,
}

impl Range {
    fn crosses_midnight(self) -> bool {
        self.end <= self.start
    }

    /// Parse `HH:MM-HH:MM`.
    pub fn parse(raw: &str) -> Result<Range, FieldError> {
        let (a, b) = raw
            .trim()
            .split_once('-')
            .ok_or(FieldError::InvalidTimeRange)?;
        let minutes = |s: &str| -> Result<u16, FieldError> {
            let (h, m) = s
                .trim()
                .split_once(':')
                .ok_or(FieldError::InvalidTimeRange)?;
            let (h, m): (u16, u16) = (
                h.parse().map_err(|_| FieldError::InvalidTimeRange)?,
                m.parse().map_err(|_| FieldError::InvalidTimeRange)?,
            );
            if m >= 60 || h > 24 || (h == 24 && m > 0) {
                return Err(FieldError::InvalidTimeRange);
            }
            Ok(h * 60 + m)
        };
        let (start, end) = (minutes(a)?, minutes(b)?);
        if start == end || start >= DAY {
            return Err(FieldError::InvalidTimeRange);
        }
        Ok(Range { start, end })
    }

    pub fn format(self) -> String {
        format!(
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

/// Ranges separated by commas; empty text is "closed".
pub fn parse_ranges(raw: &str) -> Result<Vec<Range>, FieldError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Range::parse)
        .collect()
}

pub fn format_ranges(ranges: &[Range]) -> String {
    ranges
        .iter()
        .map(|r| r.format())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A date with special hours; no ranges means closed all day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    pub date: Date,
    pub hours: Vec<Range>,
}

impl Holiday {
    /// `YYYY-MM-DD closed` or `YYYY-MM-DD 09:00-12:00, 13:00-15:00`.
    pub fn parse(line: &str) -> Result<Holiday, FieldError> {
        let line = line.trim();
        let (date, rest) = line
            .split_once(char::is_whitespace)
            .unwrap_or((line, "closed"));
        let date: Date = date.parse().map_err(|_| FieldError::InvalidDate)?;
        let rest = rest.trim();
        let hours = if rest.eq_ignore_ascii_case("closed") {
            Vec::new()
        } else {
            parse_ranges(rest)?
        };
        Ok(Holiday { date, hours })
    }

    pub fn format(&self) -> String {
        match self.hours.as_slice() {
            [] => format!("{} closed", self.date),
            hours => format!("{} {}", self.date, format_ranges(hours)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// An IANA time zone name, e.g. `Europe/Berlin`.
    pub time_zone: String,
    /// Monday first.
    pub weekly: [Vec<Range>; 7],
    pub holidays: Vec<Holiday>,
}

pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Check an IANA time zone name.
pub fn parse_time_zone(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FieldError::Required);
    }
    TimeZone::get(name)
        .map(|_| name.to_owned())
        .map_err(|_| FieldError::InvalidTimeZone)
}

impl Schedule {
    /// Every day the whole day: what a site without a schedule behaves like.
    pub fn always_open(time_zone: &str) -> Schedule {
        let all_day = vec![Range { start: 0, end: DAY }];
        Schedule {
            time_zone: time_zone.to_owned(),
            weekly: std::array::from_fn(|_| all_day.clone()),
            holidays: Vec::new(),
        }
    }

    fn zone(&self) -> TimeZone {
        TimeZone::get(&self.time_zone).unwrap_or(TimeZone::UTC)
    }

    fn hours_on(&self, date: Date) -> &[Range] {
        match self.holidays.iter().find(|h| h.date == date) {
            Some(holiday) => &holiday.hours,
            None => &self.weekly[date.weekday().to_monday_zero_offset() as usize],
        }
    }

    pub fn is_open(&self, at: Timestamp) -> bool {
        let Ok(instant) = jiff::Timestamp::from_millisecond(at.millis()) else {
            return false;
        };
        let local = instant.to_zoned(self.zone());
        let (date, minute) = (
            local.date(),
            local.hour() as u16 * 60 + local.minute() as u16,
        );
        let today = self.hours_on(date).iter().any(|r| {
            if r.crosses_midnight() {
                minute >= r.start
            } else {
                (r.start..r.end).contains(&minute)
            }
        });
        let from_yesterday = date
            .yesterday()
            .map(|y| {
                self.hours_on(y)
                    .iter()
                    .any(|r| r.crosses_midnight() && minute < r.end)
            })
            .unwrap_or(false);
        today || from_yesterday
    }

    /// The first instant at which the local wall clock on `date` has reached `minute`. A minute
    /// skipped by a DST change is reached at the change itself (the clock jumps past it), so
    /// two boundaries in one gap never land on different sides of a later one: before, 02:15
    /// in a 02:00→03:00 gap became 03:15, and a range starting at 03:15 hid that the site
    /// had closed at 03:00 (found by `next_change_is_the_first_flip`).
    fn instant(&self, date: Date, minute: u16) -> Option<Timestamp> {
        let (date, minute) = if minute >= DAY {
            (date.tomorrow().ok()?, minute - DAY)
        } else {
            (date, minute)
        };
        let local = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        let zone = self.zone();
        let ambiguous = zone.to_ambiguous_timestamp(local);
        let skipped = matches!(ambiguous.offset(), jiff::tz::AmbiguousOffset::Gap { .. });
        let reached = match skipped {
            // Read with the offset before the gap, a skipped minute is an instant after the
            // change; the change is the transition just before it.
            true => {
                let after_gap = ambiguous.later().ok()?;
                zone.preceding(after_gap + jiff::SignedDuration::from_millis(1))
                    .next()
                    .map_or(after_gap, |change| change.timestamp())
            }
            // A minute the clock shows twice (autumn) is first reached the first time.
            false => ambiguous.earlier().ok()?,
        };
        Some(Timestamp(reached.as_millisecond()))
    }

    /// The next instant after `at` when the site opens or closes; None if it never changes
    /// within a year (always open, or closed throughout).
    pub fn next_change(&self, at: Timestamp) -> Option<Timestamp> {
        let open_now = self.is_open(at);
        let start = jiff::Timestamp::from_millisecond(at.millis())
            .ok()?
            .to_zoned(self.zone())
            .date();
        let mut date = start.yesterday().ok()?;
        let mut unchanged_until = at;
        for _ in 0..400 {
            let mut boundaries: Vec<Timestamp> = self
                .hours_on(date)
                .iter()
                .flat_map(|r| {
                    let end = if r.crosses_midnight() {
                        r.end + DAY
                    } else {
                        r.end
                    };
                    [self.instant(date, r.start), self.instant(date, end)]
                })
                .flatten()
                .filter(|b| *b > at)
                .collect();
            boundaries.sort();
            for boundary in boundaries {
                if boundary <= unchanged_until {
                    continue;
                }
                if self.is_open(boundary) == open_now {
                    unchanged_until = boundary;
                } else {
                    return Some(self.first_flip(unchanged_until, boundary, open_now));
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// The first instant in `(unchanged, changed]` whose state differs from `open` (bisection to
    /// the millisecond: exact even when a DST gap moved the wall-clock boundary).
    fn first_flip(
        &self,
        mut unchanged: Timestamp,
        mut changed: Timestamp,
        open: bool,
    ) -> Timestamp {
        while changed.0 - unchanged.0 > 1 {
            let middle = Timestamp(unchanged.0 + (changed.0 - unchanged.0) / 2);
            if self.is_open(middle) == open {
                unchanged = middle;
            } else {
                changed = middle;
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(rfc3339: &str) -> Timestamp {
        let ts: jiff::Timestamp = rfc3339.parse().unwrap();
        Timestamp(ts.as_millisecond())
    }

    fn office(tz: &str) -> Schedule {
        let day = parse_ranges("09:00-12:00, 13:00-17:00").unwrap();
        let mut weekly: [Vec<Range>; 7] = Default::default();
        for d in weekly.iter_mut().take(5) {
            *d = day.clone();
        }
        Schedule {
            time_zone: tz.into(),
            weekly,
            holidays: vec![],
        }
    }

    #[test]
    fn a_range_ending_inside_the_spring_gap_closes_at_the_change() {
        // Found by the property test below: Saturday 09:30 to Sunday 02:15 and Sunday 03:15 to
        // 03:30 in Berlin, where on 2026-03-29 the clock jumps from 02:00 to 03:00. The site
        // closes at the jump (02:15 never comes) and reopens at 03:15.
        let mut weekly: [Vec<Range>; 7] = Default::default();
        weekly[5] = vec![Range::parse("09:30-02:15").unwrap()];
        weekly[6] = vec![Range::parse("03:15-03:30").unwrap()];
        let s = Schedule {
            time_zone: "Europe/Berlin".into(),
            weekly,
            holidays: vec![],
        };
        let before = at("2026-03-29T00:59:59.999Z");
        assert!(s.is_open(before));
        assert_eq!(s.next_change(before), Some(at("2026-03-29T01:00:00Z")));
        let closed = at("2026-03-29T01:00:00Z");
        assert!(!s.is_open(closed));
        assert_eq!(s.next_change(closed), Some(at("2026-03-29T01:15:00Z")));
    }

    #[test]
    fn parses_ranges_and_refuses_nonsense() {
        assert_eq!(
            Range::parse("09:00-17:30").unwrap(),
            Range {
                start: 540,
                end: 1050
            }
        );
        assert_eq!(Range::parse("22:00-06:00").unwrap().format(), "22:00-06:00");
        assert_eq!(
            Range::parse("00:00-24:00").unwrap(),
            Range {
                start: 0,
                end: 1440
            }
        );
        for bad in [
            "9-5",
            "25:00-26:00",
            "09:00-09:00",
            "09:60-10:00",
            "nine-five",
            "24:00-01:00",
        ] {
            assert_eq!(
                Range::parse(bad),
                Err(FieldError::InvalidTimeRange),
                "{bad}"
            );
        }
        assert_eq!(parse_ranges(" ").unwrap(), vec![]);
        assert_eq!(Holiday::parse("2026-12-25 closed").unwrap().hours, vec![]);
        assert_eq!(
            Holiday::parse("2026-12-24 09:00-12:00").unwrap().format(),
            "2026-12-24 09:00-12:00"
        );
        assert_eq!(
            Holiday::parse("2026-13-01 closed"),
            Err(FieldError::InvalidDate)
        );
        assert_eq!(parse_time_zone("Europe/Berlin").unwrap(), "Europe/Berlin");
        assert_eq!(
            parse_time_zone("Mars/Olympus"),
            Err(FieldError::InvalidTimeZone)
        );
    }

    #[test]
    fn split_shifts_weekends_and_holidays() {
        let mut s = office("Europe/Berlin");
        assert!(s.is_open(at("2026-11-23T09:00:00+01:00")), "Monday 09:00");
        assert!(!s.is_open(at("2026-11-23T12:30:00+01:00")), "lunch break");
        assert!(
            !s.is_open(at("2026-11-23T17:00:00+01:00")),
            "closing time is exclusive"
        );
        assert!(!s.is_open(at("2026-11-21T10:00:00+01:00")), "Saturday");
        s.holidays = vec![
            Holiday::parse("2026-11-23 closed").unwrap(),
            Holiday::parse("2026-11-24 10:00-11:00").unwrap(),
        ];
        assert!(
            !s.is_open(at("2026-11-23T10:00:00+01:00")),
            "holiday closed"
        );
        assert!(
            !s.is_open(at("2026-11-24T09:30:00+01:00"))
                && s.is_open(at("2026-11-24T10:30:00+01:00")),
            "special hours"
        );
        assert_eq!(
            s.next_change(at("2026-11-23T10:00:00+01:00")),
            Some(at("2026-11-24T10:00:00+01:00"))
        );
    }

    #[test]
    fn overnight_ranges_across_both_dst_changes() {
        let mut s = Schedule {
            time_zone: "Europe/Berlin".into(),
            weekly: Default::default(),
            holidays: vec![],
        };
        s.weekly[5] = vec![Range::parse("22:00-06:00").unwrap()]; // Saturday night into Sunday
                                                                  // 2026-03-29: clocks jump from 02:00 to 03:00 (CET → CEST).
        assert!(s.is_open(at("2026-03-28T22:00:00+01:00")));
        assert!(s.is_open(at("2026-03-29T01:59:00+01:00")));
        assert!(
            s.is_open(at("2026-03-29T03:00:00+02:00")),
            "the hour after the gap"
        );
        assert!(s.is_open(at("2026-03-29T05:59:00+02:00")));
        assert!(!s.is_open(at("2026-03-29T06:00:00+02:00")));
        assert_eq!(
            s.next_change(at("2026-03-29T01:00:00+01:00")),
            Some(at("2026-03-29T06:00:00+02:00"))
        );
        // 2026-10-25: 02:00-03:00 happens twice (CEST → CET); both are inside the range.
        assert!(s.is_open(at("2026-10-25T02:30:00+02:00")));
        assert!(s.is_open(at("2026-10-25T02:30:00+01:00")));
        assert!(!s.is_open(at("2026-10-25T06:00:00+01:00")));
        // The same schedule in New York changes on other dates; still wall clock there.
        s.time_zone = "America/New_York".into();
        assert!(
            s.is_open(at("2026-03-08T05:30:00-04:00")),
            "US spring forward night"
        );
    }

    #[test]
    fn always_open_never_changes() {
        let s = Schedule::always_open("Europe/Berlin");
        assert!(s.is_open(at("2026-03-29T02:30:00+00:00")));
        assert_eq!(s.next_change(at("2026-03-29T00:00:00+00:00")), None);
    }

    /// Instants spread over 2026, dense around both European and American DST changes.
    fn instant() -> impl Strategy<Value = Timestamp> {
        let anchors = [
            "2026-03-08T07:00:00Z",
            "2026-03-29T01:00:00Z",
            "2026-10-25T01:00:00Z",
            "2026-11-01T06:00:00Z",
            "2026-06-15T12:00:00Z",
        ];
        (0..anchors.len(), -3 * 86_400_000_i64..3 * 86_400_000)
            .prop_map(move |(i, offset)| Timestamp(at(anchors[i]).0 + offset))
    }

    fn range() -> impl Strategy<Value = Range> {
        (0u16..96, 1u16..96)
            .prop_map(|(start, len)| Range {
                start: start * 15,
                end: ((start + len) % 96) * 15,
            })
            .prop_filter("non-empty", |r| r.start != r.end)
    }

    fn schedule() -> impl Strategy<Value = Schedule> {
        let zones = [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Sydney",
            "UTC",
        ];
        (
            0..zones.len(),
            proptest::collection::vec(proptest::collection::vec(range(), 0..3), 7),
        )
            .prop_map(move |(z, days)| {
                let weekly: [Vec<Range>; 7] = std::array::from_fn(|i| days[i].clone());
                Schedule {
                    time_zone: zones[z].into(),
                    weekly,
                    holidays: vec![],
                }
            })
    }

    proptest! {
        #[test]
        fn office_hours_match_the_local_wall_clock(t in instant(), tz in prop::sample::select(vec!["Europe/Berlin", "America/New_York"])) {
            let local = jiff::Timestamp::from_millisecond(t.0).unwrap().to_zoned(TimeZone::get(tz).unwrap());
            let weekday = local.weekday().to_monday_zero_offset() < 5;
            let hm = (local.hour(), local.minute());
            let expected = weekday && (((9, 0)..(12, 0)).contains(&hm) || ((13, 0)..(17, 0)).contains(&hm));
            prop_assert_eq!(office(tz).is_open(t), expected);
        }

        #[test]
        fn next_change_is_the_first_flip(s in schedule(), t in instant()) {
            let open = s.is_open(t);
            match s.next_change(t) {
                Some(change) => {
                    prop_assert!(change > t);
                    prop_assert_ne!(s.is_open(change), open, "it changes there");
                    // Nothing flips before it: check every minute up to a day, then every 15.
                    let mut probe = t.0 + 60_000 - t.0.rem_euclid(60_000);
                    while probe < change.0 {
                        prop_assert_eq!(s.is_open(Timestamp(probe)), open, "flipped early at {}", probe);
                        probe += if probe - t.0 < 86_400_000 { 60_000 } else { 900_000 };
                    }
                }
                None => {
                    for day in 0..8 {
                        prop_assert_eq!(s.is_open(Timestamp(t.0 + day * 86_400_000)), open);
                    }
                }
            }
        }
    }
}
