//! Latency histograms and the lines the tool prints.

use hdrhistogram::Histogram;
use std::time::Duration;

/// Latencies in microseconds, 1 µs to 10 minutes, three significant figures.
#[derive(Clone)]
pub struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        // The bounds are constants that hdrhistogram accepts; a failure here is a bug in this line.
        #[allow(clippy::expect_used)]
        let histogram =
            Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds");
        Latencies(histogram)
    }
}

impl Latencies {
    pub fn record(&mut self, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        self.0.saturating_record(micros);
    }

    pub fn merge(&mut self, other: &Latencies) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.0.add(&other.0);
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// The median in microseconds (0 without samples).
    pub fn p50_micros(&self) -> u64 {
        self.0.value_at_quantile(0.5)
    }

    /// The 99th percentile in microseconds (0 without samples).
    pub fn p99_micros(&self) -> u64 {
        self.0.value_at_quantile(0.99)
    }

    fn at(&self, quantile: f64) -> String {
        millis(self.0.value_at_quantile(quantile))
    }

    /// "p50 1.20 ms  p90 …  p99 …  max …", or "no samples".
    pub fn summary(&self) -> String {
        if self.0.is_empty() {
            return "no samples".into();
        }
        format!(
            "p50 {}  p90 {}  p99 {}  max {}",
            self.at(0.5),
            self.at(0.9),
            self.at(0.99),
            millis(self.0.max())
        )
    }
}

pub fn millis(micros: u64) -> String {
    let ms = micros as f64 / 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// 12345.6 → "12,346".
pub fn thousands(value: f64) -> String {
    let rounded = value.round() as i64;
    let digits = rounded.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0 {
        format!("-{out}")
    } else {
        out
    }
}

pub fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
}

/// What one measurement found, for the closing summary and the exit code.
pub struct Outcome {
    pub name: String,
    pub errors: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.0), "1,234,567");
    }

    #[test]
    fn summary_reports_quantiles() {
        let mut l = Latencies::default();
        for ms in 1..=100 {
            l.record(Duration::from_millis(ms));
        }
        assert_eq!(l.count(), 100);
        let s = l.summary();
        assert!(s.starts_with("p50 50"), "{s}");
        assert!(s.contains("max 100 ms"), "{s}");
    }
}
