//! `Schedule::parse` on any text; on success, a few `next_after` calls in a
//! couple of zones, each strictly later than the last.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sundial::schedule::Schedule;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let schedule = match Schedule::parse(text) {
        Ok(schedule) => schedule,
        Err(err) => {
            // The span must lie inside the text, on character boundaries.
            let end = err.offset.checked_add(err.len).expect("span overflows");
            assert!(end <= text.len(), "span {err:?} outside {text:?}");
            assert!(text.is_char_boundary(err.offset) && text.is_char_boundary(end));
            assert!(!err.message.is_empty());
            return;
        }
    };
    let _ = schedule.describe();
    // DST-heavy zones plus UTC; a start that depends on the input so the
    // fuzzer also explores different starting points.
    let seed = data.iter().fold(0i64, |acc, &b| {
        acc.wrapping_mul(31).wrapping_add(i64::from(b))
    });
    let start_secs = 946_684_800 + seed.rem_euclid(60 * 365 * 86_400); // 2000..2060
    let start = jiff::Timestamp::from_second(start_secs).expect("in range");
    for zone in ["UTC", "Europe/Berlin", "Australia/Lord_Howe"] {
        let tz = jiff::tz::TimeZone::get(zone).expect("zone in the bundled database");
        let mut after = start;
        for _ in 0..4 {
            let Some(next) = schedule.next_after(after, &tz) else {
                break;
            };
            let next = next.timestamp();
            assert!(
                next > after,
                "{text:?} in {zone}: {next} is not after {after}"
            );
            after = next;
        }
    }
});
