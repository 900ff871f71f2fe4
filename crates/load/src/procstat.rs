//! The server's CPU time and resident memory, read from /proc when it runs on this machine.

/// Linux reports utime and stime in USER_HZ ticks, which is 100 on every mainstream build.
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub cpu_secs: f64,
    pub rss_bytes: u64,
}

pub fn sample(pid: u32) -> Option<Sample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of the line (utime, stime) are 12th and 13th after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(Sample {
        cpu_secs: (utime + stime) / TICKS_PER_SECOND,
        rss_bytes: rss_kib * 1024,
    })
}

/// CPU seconds the server spent between two samples.
pub fn cpu_between(before: Option<Sample>, after: Option<Sample>) -> Option<f64> {
    Some(after?.cpu_secs - before?.cpu_secs)
}
