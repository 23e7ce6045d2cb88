//! How times are shown: RFC 3339 with the zone's offset for scripts (SPEC 9),
//! a short local form and relative phrases ("in 4m", "3h ago") for people.

use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime};

/// RFC 3339 with the offset of `tz` at that instant, to the second.
pub fn rfc3339(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// RFC 3339 with milliseconds, for history rows, where latency and
/// durations matter below the second.
pub fn rfc3339_ms(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

/// `2026-07-01 00:00:00 +02:00`: readable, and still unambiguous in a fold.
pub fn human(z: &ZonedDateTime) -> String {
    z.strftime("%Y-%m-%d %H:%M:%S %:z").to_string()
}

/// "in 4m", "3h ago", "now".
pub fn relative(t: Timestamp, now: Timestamp) -> String {
    let secs = t.as_second() - now.as_second();
    if secs == 0 {
        return "now".into();
    }
    let span = short_duration(secs.unsigned_abs());
    if secs > 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// The largest one or two units: `45s`, `4m`, `3h 5m`, `2d 3h`.
pub fn short_duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) if s == 0 => format!("{m}m"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, 0) => format!("{h}h"),
        (0, _, _) => format!("{h}h {m}m"),
        (_, 0, _) => format!("{d}d"),
        _ => format!("{d}d {h}h"),
    }
}

/// Milliseconds as `1.234s`, `2m 3s`.
pub fn duration_ms(ms: u64) -> String {
    if ms < 60_000 {
        format!("{}.{:03}s", ms / 1000, ms % 1000)
    } else {
        short_duration(ms / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_phrases() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let later: Timestamp = "2026-01-01T00:04:00Z".parse().unwrap();
        assert_eq!(relative(later, now), "in 4m");
        assert_eq!(relative(now, later), "4m ago");
        assert_eq!(relative(now, now), "now");
        assert_eq!(short_duration(3 * 3600 + 300), "3h 5m");
        assert_eq!(short_duration(2 * 86400 + 3 * 3600), "2d 3h");
        assert_eq!(duration_ms(1234), "1.234s");
    }

    #[test]
    fn rfc3339_uses_the_zone_offset() {
        let t: Timestamp = "2026-07-01T00:00:00Z".parse().unwrap();
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        assert_eq!(rfc3339(t, &tz), "2026-07-01T02:00:00+02:00");
        assert_eq!(rfc3339(t, &TimeZone::UTC), "2026-07-01T00:00:00+00:00");
        let t: Timestamp = "2026-07-01T00:00:00.0421Z".parse().unwrap();
        assert_eq!(
            rfc3339_ms(t, &TimeZone::UTC),
            "2026-07-01T00:00:00.042+00:00"
        );
    }
}
