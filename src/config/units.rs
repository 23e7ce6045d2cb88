//! Units written in `jobs.yaml`: durations (`30s`, `1h30m`), sizes
//! (`512KiB`, `10MiB`, `1GB`) and umasks (`0022`).
//!
//! These are hand-written rather than borrowed from `jiff`'s friendly
//! duration format because that format also accepts negative spans
//! (`1h ago`), fractions and calendar units, none of which mean anything for
//! a timeout, and because a hand-written parser can say exactly which part of
//! the text is wrong.
//!
//! Accepted forms:
//! - durations: one or more `<integer><unit>` parts, optionally separated by
//!   spaces; units `ms`, `s`, `m`, `h`, `d`, `w` (also `sec`, `min`, `hour`,
//!   `day`, `week` and their plurals), any case. A bare number is refused
//!   because `30` could mean seconds or minutes.
//! - sizes: `<integer>` optionally followed by a unit, any case: `B`;
//!   `KB`/`MB`/`GB`/`TB` are decimal (1000); `KiB`/`MiB`/`GiB`/`TiB` and the
//!   short `K`/`M`/`G`/`T` are binary (1024), as in `ulimit` and systemd.
//!   A bare number is bytes.
//! - umask: octal digits, always read as octal whatever their number of
//!   leading zeros (`22`, `022`, `0022`), or `0o022`; at most `0777`.

use std::time::Duration;

/// Parses a duration such as `30s`, `5m`, `1h30m`, `1h 30m` or `2d`.
///
/// The error is a sentence that can be shown to the user as is.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("expected a duration like 30s, 5m or 1h30m, got an empty value".into());
    }
    if trimmed.starts_with('-') {
        return Err(format!("a duration cannot be negative, got '{trimmed}'"));
    }
    let mut total = Duration::ZERO;
    let mut rest = trimmed;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(format!(
                "expected a duration like 30s, 5m or 1h30m, got '{trimmed}'"
            ));
        }
        let (number, after) = rest.split_at(digits);
        let after = after.trim_start();
        let unit_len = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let (unit, after) = after.split_at(unit_len);
        if unit.is_empty() {
            return Err(if after.starts_with('.') || after.starts_with(',') {
                format!(
                    "fractions are not supported in durations, got '{trimmed}': combine units instead, like 1h30m"
                )
            } else if after.is_empty() && rest.len() == trimmed.len() {
                format!("'{trimmed}' needs a unit: write {number}s, {number}m or {number}h")
            } else {
                format!("'{number}' in '{trimmed}' needs a unit (ms, s, m, h, d or w)")
            });
        }
        let Some(unit_ms) = duration_unit_ms(unit) else {
            return Err(format!(
                "unknown unit '{unit}' in duration '{trimmed}': use ms, s, m, h, d or w"
            ));
        };
        let part = number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(unit_ms))
            .map(Duration::from_millis)
            .ok_or_else(|| format!("duration '{trimmed}' is too large"))?;
        total = total
            .checked_add(part)
            .ok_or_else(|| format!("duration '{trimmed}' is too large"))?;
        rest = after.trim_start();
    }
    Ok(total)
}

/// The length of a duration unit in milliseconds.
fn duration_unit_ms(unit: &str) -> Option<u64> {
    const SECOND: u64 = 1000;
    const MINUTE: u64 = 60 * SECOND;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    let unit = unit.to_ascii_lowercase();
    Some(match unit.as_str() {
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => 1,
        "s" | "sec" | "secs" | "second" | "seconds" => SECOND,
        "m" | "min" | "mins" | "minute" | "minutes" => MINUTE,
        "h" | "hr" | "hrs" | "hour" | "hours" => HOUR,
        "d" | "day" | "days" => DAY,
        "w" | "week" | "weeks" => 7 * DAY,
        _ => return None,
    })
}

/// Formats a duration in the form [`parse_duration`] reads back: `1h30m`,
/// `2d`, `1s500ms`, `0s`.
pub fn format_duration(duration: Duration) -> String {
    let mut out = String::new();
    let mut secs = duration.as_secs();
    for (unit, len) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= len {
            out.push_str(&format!("{}{unit}", secs / len));
            secs %= len;
        }
    }
    let millis = duration.subsec_millis();
    if millis > 0 {
        out.push_str(&format!("{millis}ms"));
    }
    if out.is_empty() {
        // Sub-millisecond remainders cannot be written in the config, so
        // they are shown as zero rather than as an unreadable unit.
        out.push_str("0s");
    }
    out
}

/// Parses a size such as `512KiB`, `10MiB`, `1GB`, `64M` or `4096`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('-') {
        return Err(format!("a size cannot be negative, got '{trimmed}'"));
    }
    let digits = trimmed.len()
        - trimmed
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .len();
    if digits == 0 {
        return Err(format!(
            "expected a size like 512KiB, 10MiB or 1GB, got '{trimmed}'"
        ));
    }
    let (number, unit) = trimmed.split_at(digits);
    let unit = unit.trim_start();
    if unit.starts_with('.') || unit.starts_with(',') {
        return Err(format!(
            "fractions are not supported in sizes, got '{trimmed}': use a smaller unit, like 1536MiB"
        ));
    }
    let Some(multiplier) = size_unit(unit) else {
        return Err(format!(
            "unknown unit '{unit}' in size '{trimmed}': use B, KiB, MiB, GiB, TiB (1024) or KB, MB, GB, TB (1000)"
        ));
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| format!("size '{trimmed}' is too large"))
}

fn size_unit(unit: &str) -> Option<u64> {
    const KI: u64 = 1024;
    let unit = unit.to_ascii_lowercase();
    Some(match unit.as_str() {
        "" | "b" => 1,
        "k" | "kib" => KI,
        "m" | "mib" => KI.pow(2),
        "g" | "gib" => KI.pow(3),
        "t" | "tib" => KI.pow(4),
        "kb" => 1000,
        "mb" => 1000u64.pow(2),
        "gb" => 1000u64.pow(3),
        "tb" => 1000u64.pow(4),
        _ => return None,
    })
}

/// Formats a size with the largest unit that divides it exactly, binary
/// units first: `10MiB`, `1GB`, `1500B`.
pub fn format_size(bytes: u64) -> String {
    if bytes > 0 {
        for (unit, len) in [
            ("TiB", 1u64 << 40),
            ("GiB", 1 << 30),
            ("MiB", 1 << 20),
            ("KiB", 1 << 10),
            ("TB", 1_000_000_000_000),
            ("GB", 1_000_000_000),
            ("MB", 1_000_000),
            ("KB", 1_000),
        ] {
            if bytes.is_multiple_of(len) {
                return format!("{}{unit}", bytes / len);
            }
        }
    }
    format!("{bytes}B")
}

/// Parses a umask from the text the user wrote (YAML would read `0022` as
/// the decimal number 22, so the caller passes the scalar's source text).
pub fn parse_umask(text: &str) -> Result<u32, String> {
    let trimmed = text.trim();
    let digits = trimmed
        .strip_prefix("0o")
        .or_else(|| trimmed.strip_prefix("0O"))
        .unwrap_or(trimmed);
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(format!(
            "expected an octal umask like 0022 or 0027, got '{trimmed}'"
        ));
    }
    match u32::from_str_radix(digits, 8) {
        Ok(value) if value <= 0o777 => Ok(value),
        _ => Err(format!(
            "umask '{trimmed}' is too large: the largest is 0777"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn durations_in_every_form() {
        assert_eq!(parse_duration("30s"), Ok(secs(30)));
        assert_eq!(parse_duration("5m"), Ok(secs(300)));
        assert_eq!(parse_duration("1h30m"), Ok(secs(5400)));
        assert_eq!(parse_duration("1h 30m"), Ok(secs(5400)));
        assert_eq!(parse_duration(" 2d "), Ok(secs(2 * 86_400)));
        assert_eq!(parse_duration("1w"), Ok(secs(7 * 86_400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1s500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("10 min"), Ok(secs(600)));
        assert_eq!(parse_duration("2 hours 5 minutes"), Ok(secs(7500)));
        assert_eq!(parse_duration("1H30M"), Ok(secs(5400)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("5000000000s"), Ok(secs(5_000_000_000)));
    }

    #[test]
    fn durations_refused_with_a_reason() {
        assert!(parse_duration("30").unwrap_err().contains("needs a unit"));
        assert!(parse_duration("1h30").unwrap_err().contains("needs a unit"));
        assert!(parse_duration("-5m").unwrap_err().contains("negative"));
        assert!(parse_duration("1.5h").unwrap_err().contains("fractions"));
        assert!(
            parse_duration("5 fortnights")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_duration("").unwrap_err().contains("empty"));
        assert!(
            parse_duration("soon")
                .unwrap_err()
                .contains("expected a duration")
        );
        assert!(
            parse_duration("99999999999999999999s")
                .unwrap_err()
                .contains("too large")
        );
        assert!(
            parse_duration("18446744073709551615w")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn durations_format_back_to_parseable_text() {
        for text in ["30s", "5m", "1h30m", "2d", "1s500ms", "0s", "1d1h1m1s"] {
            let duration = parse_duration(text).unwrap();
            assert_eq!(format_duration(duration), text);
        }
        assert_eq!(format_duration(secs(7 * 86_400)), "7d");
    }

    #[test]
    fn sizes_in_every_form() {
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1TiB"), Ok(1 << 40));
        assert_eq!(parse_size("1KB"), Ok(1000));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("2TB"), Ok(2_000_000_000_000));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("10 mib"), Ok(10 << 20));
        assert_eq!(parse_size("100B"), Ok(100));
        assert_eq!(parse_size("4096"), Ok(4096));
    }

    #[test]
    fn sizes_refused_with_a_reason() {
        assert!(parse_size("1.5GB").unwrap_err().contains("fractions"));
        assert!(parse_size("-1MB").unwrap_err().contains("negative"));
        assert!(
            parse_size("10 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_size("big").unwrap_err().contains("expected a size"));
        assert!(parse_size("99999999TiB").unwrap_err().contains("too large"));
    }

    #[test]
    fn sizes_format_back_to_parseable_text() {
        assert_eq!(format_size(10 << 20), "10MiB");
        assert_eq!(format_size(1_000_000_000), "1GB");
        assert_eq!(format_size(1500), "1500B");
        assert_eq!(format_size(0), "0B");
        for n in [1u64, 1024, 1536, 1 << 40, 3_000_000] {
            assert_eq!(parse_size(&format_size(n)), Ok(n));
        }
    }

    #[test]
    fn umask_forms() {
        assert_eq!(parse_umask("0022"), Ok(0o022));
        assert_eq!(parse_umask("022"), Ok(0o022));
        assert_eq!(parse_umask("22"), Ok(0o022));
        assert_eq!(parse_umask("0027"), Ok(0o027));
        assert_eq!(parse_umask("0o027"), Ok(0o027));
        assert_eq!(parse_umask("0"), Ok(0));
        assert_eq!(parse_umask("0777"), Ok(0o777));
        assert!(parse_umask("0028").unwrap_err().contains("octal"));
        assert!(parse_umask("0o").unwrap_err().contains("octal"));
        assert!(parse_umask("1000").unwrap_err().contains("largest is 0777"));
        assert!(parse_umask("u=rwx").unwrap_err().contains("octal"));
    }
}
