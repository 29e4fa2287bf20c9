//! UTC dates for people and file names, without a date crate: wtrace only
//! ever prints Unix times.

/// `20261124T225900Z` for a Unix time in seconds.
pub fn compact_utc(secs: u64) -> String {
    let (y, m, d, hh, mm, ss) = civil_from_unix(secs);
    format!("{y:04}{m:02}{d:02}T{hh:02}{mm:02}{ss:02}Z")
}

/// (year, month, day, hour, minute, second) in UTC; Howard Hinnant's
/// days-to-civil algorithm.
pub fn civil_from_unix(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// `2026-11-24 22:52:16.123 UTC` for nanoseconds since the Unix epoch.
pub fn utc(unix_ns: u64) -> String {
    let (y, m, d, hh, mm, ss) = civil_from_unix(unix_ns / 1_000_000_000);
    let ms = unix_ns / 1_000_000 % 1000;
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}.{ms:03} UTC")
}

/// `1.234 s`, `12.3 ms`, `45 µs` for a duration in nanoseconds.
pub fn duration(ns: u64) -> String {
    match ns {
        n if n >= 1_000_000_000 => format!("{:.3} s", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.1} ms", n as f64 / 1e6),
        n => format!("{} µs", n / 1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_durations() {
        assert_eq!(compact_utc(0), "19700101T000000Z");
        assert_eq!(compact_utc(951_782_400), "20000229T000000Z");
        assert_eq!(
            utc(1_795_560_736_123_456_789),
            "2026-11-24 22:52:16.123 UTC"
        );
        assert_eq!(duration(1_234_000_000), "1.234 s");
        assert_eq!(duration(12_345_678), "12.3 ms");
        assert_eq!(duration(45_600), "45 µs");
    }
}
