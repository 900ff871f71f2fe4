//! Opening hours as admins type them: time ranges, holidays, time zones, and the schedule they
//! make, asked whether it is open at a time taken from the input.
#![no_main]

use domain::schedule::{parse_ranges, parse_time_zone, Holiday, Range, Schedule};
use domain::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &str, i64)| {
    let (ranges, holiday, zone, at) = input;
    let _ = Range::parse(ranges);
    let weekly = parse_ranges(ranges).unwrap_or_default();
    let holidays: Vec<Holiday> = Holiday::parse(holiday).into_iter().collect();
    let time_zone = parse_time_zone(zone).unwrap_or_else(|_| "UTC".to_owned());
    let schedule = Schedule {
        time_zone,
        weekly: std::array::from_fn(|_| weekly.clone()),
        holidays,
    };
    let at = Timestamp(at);
    let open = schedule.is_open(at);
    if let Some(change) = schedule.next_change(at) {
        assert!(change.millis() > at.millis(), "the next change is later");
        let _ = open;
    }
});
