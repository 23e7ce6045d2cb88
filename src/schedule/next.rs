//! [`Cron::next_after`]: the next fire time, with cronie's daylight-saving
//! rules.
//!
//! # How the search works
//!
//! The search runs on local wall time, where the fields live: walk the days
//! (skipping whole months that are not selected), test each day with the
//! Vixie day rule, then find the first matching time of day with three
//! find-next-set-bit steps on the hour, minute and second bitsets. Nothing
//! scans second by second, so the common case costs a handful of calendar
//! operations.
//!
//! Local times are then turned into instants by the rules of the job's kind:
//!
//! - *Wildcard* jobs fire at every instant whose wall time matches. The
//!   timeline is cut at the zone's transitions; inside one piece the offset is
//!   fixed, so the wall clock runs straight and the first match inside the
//!   piece is the answer. Gaps are simply absent from every piece and a
//!   repeated hour is present in two pieces, which is exactly the rule.
//! - *Fixed-time* jobs map each matching wall time to one instant: itself when
//!   unambiguous, the first pass in a fold, the end of the gap in a gap. That
//!   map never goes backwards in time, so the first matching wall time whose
//!   instant is after `after` is the answer.
//!
//! Zones without transitions (UTC, fixed offsets) take the same path and find
//! no transition at once, so they pay almost nothing for daylight saving.
//!
//! # Termination
//!
//! Every loop is bounded by a horizon of 401 years: the Gregorian calendar
//! repeats every 400 years, so a day pattern that matches at all matches
//! within any such window, and the parser already rejects patterns that never
//! match. A schedule that still finds nothing (say, a wildcard job whose only
//! times always fall into a gap) gets `None` rather than a hang.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, ZonedDateTime};

use super::Cron;

/// How many years ahead the search looks before giving up.
const HORIZON_YEARS: i16 = 401;

/// A fixed-time search rejects a candidate only when its instant is not
/// after `after`, which the fold handling already prevents; this cap just
/// makes the loop provably finite.
const MAX_REJECTED: u32 = 1_000;

const ONE_SECOND: SignedDuration = SignedDuration::from_secs(1);

impl Cron {
    /// The next fire strictly after `after`, as a wall time in `tz`, or
    /// `None` if there is none within 400 years (or before the year 9999).
    ///
    /// Fires are on whole seconds. See the module docs of `schedule` for the
    /// daylight-saving rules.
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<ZonedDateTime> {
        let floor = floor_second(after)?;
        let instant = if self.fixed_time {
            self.next_fixed(after, floor, tz)
        } else {
            self.next_wildcard(floor.checked_add(ONE_SECOND).ok()?, tz)
        }?;
        Some(instant.to_zoned_datetime(tz.clone()))
    }

    /// Wildcard jobs: the first instant `>= start` whose wall time matches,
    /// searched one constant-offset piece of the timeline at a time.
    fn next_wildcard(&self, start: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let mut piece_start = start;
        let mut horizon = None;
        loop {
            let offset = tz.to_offset(piece_start);
            let piece_end = tz.following(piece_start).next().map(|t| t.timestamp());
            let from = offset.to_datetime(piece_start);
            let horizon = *horizon.get_or_insert(horizon_after(from.date())?);
            if from.date() > horizon {
                return None;
            }
            let until = piece_end.map(|end| offset.to_datetime(end));
            if let Some(found) = self.next_local(from, until, horizon) {
                return offset.to_timestamp(found).ok();
            }
            piece_start = piece_end?;
        }
    }

    /// Fixed-time jobs: the first matching wall time whose instant (under the
    /// gap and fold rules) is strictly after `after`.
    fn next_fixed(&self, after: Timestamp, floor: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let offset = tz.to_offset(floor);
        let local = offset.to_datetime(floor);
        let mut from = local.checked_add(ONE_SECOND).ok()?;
        // On the second pass of a repeated hour, the repeated wall times have
        // already fired on the first pass: start where the repetition ends,
        // the transition read with the earlier offset.
        if let AmbiguousOffset::Fold {
            before,
            after: later,
        } = tz.to_ambiguous_timestamp(local).offset()
            && offset == later
            && before != later
        {
            let first_pass = before.to_timestamp(local).ok()?;
            let transition = tz.following(first_pass).next()?.timestamp();
            from = from.max(before.to_datetime(transition));
        }
        let horizon = horizon_after(from.date())?;
        for _ in 0..MAX_REJECTED {
            let candidate = self.next_local(from, None, horizon)?;
            let instant = resolve_fixed(tz, candidate)?;
            if instant > after {
                return Some(instant);
            }
            from = candidate.checked_add(ONE_SECOND).ok()?;
        }
        None
    }

    /// The first matching wall time in `[from, until)` (`until` open-ended
    /// when `None`), not past the `horizon` day. `from` is whole seconds.
    fn next_local(
        &self,
        from: DateTime,
        until: Option<DateTime>,
        horizon: Date,
    ) -> Option<DateTime> {
        let mut date = from.date();
        let mut time = (from.hour() as u8, from.minute() as u8, from.second() as u8);
        let last_day = until.map_or(horizon, |u| u.date().min(horizon));
        while date <= last_day {
            if !self.months.contains(date.month() as u8) {
                date = self.next_month_start(date)?;
                time = (0, 0, 0);
                continue;
            }
            if self.day_matches(date)
                && let Some((h, m, s)) = self.next_time(time)
            {
                let found = date.to_datetime(Time::new(h as i8, m as i8, s as i8, 0).ok()?);
                return match until {
                    Some(until) if found >= until => None,
                    _ => Some(found),
                };
            }
            date = self.next_candidate_day(date)?;
            time = (0, 0, 0);
        }
        None
    }

    /// The next day after `date` that can match. When the days combine with
    /// AND, only days in the day-of-month set (or the last day, for `L`) can,
    /// so jump straight there: `0 0 29 2 *` visits one day a year, not 29.
    #[inline]
    fn next_candidate_day(&self, date: Date) -> Option<Date> {
        if self.dom_restricted && self.dow_restricted {
            return date.tomorrow().ok();
        }
        let day = date.day() as u8;
        let days_in_month = date.days_in_month() as u8;
        let mut next = self.days_of_month.next_from(day + 1);
        if self.last_day_of_month && day < days_in_month {
            next = Some(next.map_or(days_in_month, |n| n.min(days_in_month)));
        }
        match next {
            Some(n) if n <= days_in_month => Date::new(date.year(), date.month(), n as i8).ok(),
            _ => date.last_of_month().tomorrow().ok(),
        }
    }

    /// The first day of the next selected month after `date`'s month.
    fn next_month_start(&self, date: Date) -> Option<Date> {
        match self.months.next_from(date.month() as u8 + 1) {
            Some(month) => Date::new(date.year(), month as i8, 1).ok(),
            None => Date::new(date.year().checked_add(1)?, self.months.first()? as i8, 1).ok(),
        }
    }

    /// The first matching time of day at or after `(hour, minute, second)`.
    #[inline]
    fn next_time(&self, (hour, minute, second): (u8, u8, u8)) -> Option<(u8, u8, u8)> {
        if self.hours.contains(hour) {
            if self.minutes.contains(minute)
                && let Some(s) = self.seconds.next_from(second)
            {
                return Some((hour, minute, s));
            }
            if let Some(m) = self.minutes.next_from(minute + 1) {
                return Some((hour, m, self.seconds.first()?));
            }
        }
        let h = self.hours.next_from(hour + 1)?;
        Some((h, self.minutes.first()?, self.seconds.first()?))
    }
}

/// The instant a fixed-time job fires for a matching wall time.
fn resolve_fixed(tz: &TimeZone, local: DateTime) -> Option<Timestamp> {
    match tz.to_ambiguous_timestamp(local).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(local).ok(),
        // Repeated hour: the first pass only.
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(local).ok(),
        // Skipped time: when the clock lands, i.e. the transition itself.
        // Read with the later offset, the skipped time lies just before it.
        AmbiguousOffset::Gap { after, .. } => {
            let inside = after.to_timestamp(local).ok()?;
            tz.following(inside).next().map(|t| t.timestamp())
        }
    }
}

/// The whole second at or before `t`.
fn floor_second(t: Timestamp) -> Option<Timestamp> {
    let second = t.as_second();
    let second = if t.subsec_nanosecond() < 0 {
        second.checked_sub(1)?
    } else {
        second
    };
    Timestamp::from_second(second).ok()
}

fn horizon_after(date: Date) -> Option<Date> {
    let year = date.year().saturating_add(HORIZON_YEARS).min(9999);
    Date::new(year, 12, 31).ok()
}

#[cfg(test)]
mod tests {
    use super::super::Schedule;
    use super::*;

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).expect("zone in the tz database")
    }

    /// The next `n` fires of `expr` in `zone` after `from`, as
    /// `2026-03-29T03:00:00+02:00`.
    fn fires(expr: &str, zone_name: &str, from: &str, n: usize) -> Vec<String> {
        let schedule = Schedule::parse(expr).expect("valid expression");
        let tz = if zone_name == "UTC" {
            TimeZone::UTC
        } else {
            zone(zone_name)
        };
        let mut t: Timestamp = from.parse().expect("instant");
        let mut out = Vec::new();
        for _ in 0..n {
            let Some(next) = schedule.next_after(t, &tz) else {
                break;
            };
            assert!(next.timestamp() > t, "{expr}: not strictly after");
            out.push(
                next.timestamp()
                    .display_with_offset(next.offset())
                    .to_string(),
            );
            t = next.timestamp();
        }
        out
    }

    fn check(expr: &str, zone_name: &str, from: &str, expected: &[&str]) {
        let full: Vec<String> = expected
            .iter()
            .map(|e| {
                if e.matches(':').count() == 2 {
                    // `..T03:00+02:00` → `..T03:00:00+02:00`
                    let (head, tail) = e.split_at(16);
                    format!("{head}:00{tail}")
                } else {
                    (*e).to_string()
                }
            })
            .collect();
        assert_eq!(
            fires(expr, zone_name, from, expected.len()),
            full,
            "`{expr}` in {zone_name} from {from}"
        );
    }

    #[test]
    fn required_example() {
        check(
            "30 2 * * *",
            "Europe/Berlin",
            "2026-03-28T12:00:00Z",
            &[
                "2026-03-29T03:00+02:00",
                "2026-03-30T02:30+02:00",
                "2026-03-31T02:30+02:00",
            ],
        );
    }

    #[test]
    fn utc_basics() {
        check(
            "*/5 * * * *",
            "UTC",
            "2026-01-01T00:00:00Z",
            &["2026-01-01T00:05+00:00", "2026-01-01T00:10+00:00"],
        );
        // Strictly after, also with a fraction of a second.
        check(
            "*/5 * * * *",
            "UTC",
            "2026-01-01T00:04:59.999Z",
            &["2026-01-01T00:05+00:00"],
        );
        check(
            "* * * * * *",
            "UTC",
            "2026-01-01T00:00:00.5Z",
            &["2026-01-01T00:00:01+00:00"],
        );
        check(
            "59 59 23 31 12 *",
            "UTC",
            "2026-06-01T00:00:00Z",
            &["2026-12-31T23:59:59+00:00", "2027-12-31T23:59:59+00:00"],
        );
        check(
            "0 0 29 2 *",
            "UTC",
            "2026-01-01T00:00:00Z",
            &["2028-02-29T00:00+00:00", "2032-02-29T00:00+00:00"],
        );
        check(
            "0 12 * 1,7 *",
            "UTC",
            "2026-01-31T12:00:00Z",
            &["2026-07-01T12:00+00:00"],
        );
        // Before 1970, where seconds and nanoseconds are negative.
        check(
            "0 * * * *",
            "UTC",
            "1969-12-31T23:30:00.5Z",
            &["1970-01-01T00:00+00:00"],
        );
    }

    #[test]
    fn vixie_day_rule() {
        check(
            "0 0 1 * mon",
            "UTC",
            "2026-06-30T00:00:00Z",
            &[
                "2026-07-01T00:00+00:00",
                "2026-07-06T00:00+00:00",
                "2026-07-13T00:00+00:00",
            ],
        );
        // Odd days that are Mondays: 2026-06-01, 06-15, 06-29, then 2026-07-13.
        check(
            "0 0 */2 * mon",
            "UTC",
            "2026-05-31T00:00:00Z",
            &[
                "2026-06-01T00:00+00:00",
                "2026-06-15T00:00+00:00",
                "2026-06-29T00:00+00:00",
                "2026-07-13T00:00+00:00",
            ],
        );
        check(
            "0 0 1,15 * mon",
            "UTC",
            "2026-06-13T00:00:00Z",
            &[
                "2026-06-15T00:00+00:00",
                "2026-06-22T00:00+00:00",
                "2026-06-29T00:00+00:00",
                "2026-07-01T00:00+00:00",
            ],
        );
    }

    #[test]
    fn last_and_nth() {
        check(
            "0 9 L * *",
            "UTC",
            "2026-01-31T10:00:00Z",
            &["2026-02-28T09:00+00:00", "2026-03-31T09:00+00:00"],
        );
        check(
            "0 9 * * 5L",
            "UTC",
            "2026-01-01T00:00:00Z",
            &["2026-01-30T09:00+00:00", "2026-02-27T09:00+00:00"],
        );
        check(
            "0 9 * * 1#2",
            "UTC",
            "2026-01-01T00:00:00Z",
            &["2026-01-12T09:00+00:00", "2026-02-09T09:00+00:00"],
        );
        // Fifth Monday: only months that have one.
        check(
            "0 9 * * 1#5",
            "UTC",
            "2026-01-01T00:00:00Z",
            &["2026-03-30T09:00+00:00", "2026-06-29T09:00+00:00"],
        );
        // `1,L`: both, and together with a restricted weekday, either.
        check(
            "0 0 1,L * 1#1",
            "UTC",
            "2026-01-30T00:00:00Z",
            &[
                "2026-01-31T00:00+00:00",
                "2026-02-01T00:00+00:00",
                "2026-02-02T00:00+00:00",
                "2026-02-28T00:00+00:00",
            ],
        );
    }

    #[test]
    fn never_matching_times_end() {
        // A wildcard job whose only time is inside every spring-forward gap
        // still terminates; it fires on the other days.
        check(
            "*/30 2 29 3 *",
            "Europe/Berlin",
            "2026-03-28T00:00:00Z",
            &["2027-03-29T02:00+02:00"],
        );
        // The end of time.
        let cron = Schedule::parse("0 0 * * *").expect("valid");
        let wild = Schedule::parse("* * * * * *").expect("valid");
        for tz in [TimeZone::UTC, zone(BERLIN), zone(LORD_HOWE)] {
            assert_eq!(cron.next_after(Timestamp::MAX, &tz), None);
            assert_eq!(wild.next_after(Timestamp::MAX, &tz), None);
            let near_end = Timestamp::MAX - SignedDuration::from_hours(30);
            assert!(
                cron.next_after(near_end, &tz)
                    .is_some_and(|z| z.timestamp() > near_end)
            );
            assert!(cron.next_after(Timestamp::MIN, &tz).is_some());
            assert!(wild.next_after(Timestamp::MIN, &tz).is_some());
        }
    }

    const BERLIN: &str = "Europe/Berlin";
    const NEW_YORK: &str = "America/New_York";
    const LORD_HOWE: &str = "Australia/Lord_Howe";

    #[test]
    fn dst_berlin_fixed_time() {
        // Gap 2026-03-29 02:00+01:00 → 03:00+02:00.
        check(
            "30 2 * * *",
            BERLIN,
            "2026-03-28T12:00:00Z",
            &["2026-03-29T03:00+02:00", "2026-03-30T02:30+02:00"],
        );
        check(
            "0 1-3 * * *",
            BERLIN,
            "2026-03-28T23:00:00Z",
            &[
                "2026-03-29T01:00+01:00",
                "2026-03-29T03:00+02:00",
                "2026-03-30T01:00+02:00",
            ],
        );
        check(
            "0,30 2 * * *",
            BERLIN,
            "2026-03-28T12:00:00Z",
            &[
                "2026-03-29T03:00+02:00",
                "2026-03-30T02:00+02:00",
                "2026-03-30T02:30+02:00",
            ],
        );
        check(
            "15 1 * * *",
            BERLIN,
            "2026-03-28T12:00:00Z",
            &["2026-03-29T01:15+01:00", "2026-03-30T01:15+02:00"],
        );
        // Fold 2026-10-25 03:00+02:00 → 02:00+01:00.
        check(
            "30 2 * * *",
            BERLIN,
            "2026-10-24T12:00:00Z",
            &["2026-10-25T02:30+02:00", "2026-10-26T02:30+01:00"],
        );
        check(
            "0 1-3 * * *",
            BERLIN,
            "2026-10-24T22:00:00Z",
            &[
                "2026-10-25T01:00+02:00",
                "2026-10-25T02:00+02:00",
                "2026-10-25T03:00+01:00",
                "2026-10-26T01:00+01:00",
            ],
        );
        check(
            "0,30 2 * * *",
            BERLIN,
            "2026-10-24T12:00:00Z",
            &[
                "2026-10-25T02:00+02:00",
                "2026-10-25T02:30+02:00",
                "2026-10-26T02:00+01:00",
            ],
        );
        check(
            "15 1 * * *",
            BERLIN,
            "2026-10-24T12:00:00Z",
            &["2026-10-25T01:15+02:00", "2026-10-26T01:15+01:00"],
        );
        // Asked from inside the second pass: the repeated times are done,
        // the ones after the repetition are not.
        check(
            "30 2 * * *",
            BERLIN,
            "2026-10-25T01:10:00Z",
            &["2026-10-26T02:30+01:00"],
        );
        check(
            "0 0/1 * * *",
            BERLIN,
            "2026-10-25T01:00:00Z",
            &["2026-10-25T03:00+01:00"],
        );
        check(
            "0 1-3 * * *",
            NEW_YORK,
            "2026-11-01T06:00:00Z",
            &["2026-11-01T02:00-05:00"],
        );
        check(
            "30 1 * * *",
            NEW_YORK,
            "2026-11-01T06:10:00Z",
            &["2026-11-02T01:30-05:00"],
        );
        check(
            "0,30 2 * * *",
            BERLIN,
            "2026-10-25T01:00:00Z",
            &["2026-10-26T02:00+01:00"],
        );
        // Asked from inside the first pass.
        check(
            "0,30 2 * * *",
            BERLIN,
            "2026-10-25T00:10:00Z",
            &["2026-10-25T02:30+02:00", "2026-10-26T02:00+01:00"],
        );
        // Asked exactly at the gap's end, after it fired.
        check(
            "30 2 * * *",
            BERLIN,
            "2026-03-29T01:00:00Z",
            &["2026-03-30T02:30+02:00"],
        );
        // With seconds: all of 02:xx:yy collapse into the gap's end.
        check(
            "10,20 30 2 * * *",
            BERLIN,
            "2026-03-28T12:00:00Z",
            &["2026-03-29T03:00+02:00", "2026-03-30T02:30:10+02:00"],
        );
    }

    #[test]
    fn dst_berlin_wildcard() {
        check(
            "*/15 * * * *",
            BERLIN,
            "2026-03-29T00:30:00Z",
            &[
                "2026-03-29T01:45+01:00",
                "2026-03-29T03:00+02:00",
                "2026-03-29T03:15+02:00",
            ],
        );
        check(
            "*/15 * * * *",
            BERLIN,
            "2026-10-25T00:30:00Z",
            &[
                "2026-10-25T02:45+02:00",
                "2026-10-25T02:00+01:00",
                "2026-10-25T02:15+01:00",
                "2026-10-25T02:30+01:00",
                "2026-10-25T02:45+01:00",
                "2026-10-25T03:00+01:00",
            ],
        );
        check(
            "0 * * * *",
            BERLIN,
            "2026-03-28T23:30:00Z",
            &[
                "2026-03-29T01:00+01:00",
                "2026-03-29T03:00+02:00",
                "2026-03-29T04:00+02:00",
            ],
        );
        check(
            "0 * * * *",
            BERLIN,
            "2026-10-24T23:30:00Z",
            &[
                "2026-10-25T02:00+02:00",
                "2026-10-25T02:00+01:00",
                "2026-10-25T03:00+01:00",
            ],
        );
        check(
            "*/30 1 * * *",
            BERLIN,
            "2026-03-28T23:30:00Z",
            &[
                "2026-03-29T01:00+01:00",
                "2026-03-29T01:30+01:00",
                "2026-03-30T01:00+02:00",
            ],
        );
        check(
            "*/30 2 * * *",
            BERLIN,
            "2026-03-28T12:00:00Z",
            &["2026-03-30T02:00+02:00", "2026-03-30T02:30+02:00"],
        );
        check(
            "*/30 2 * * *",
            BERLIN,
            "2026-10-24T12:00:00Z",
            &[
                "2026-10-25T02:00+02:00",
                "2026-10-25T02:30+02:00",
                "2026-10-25T02:00+01:00",
                "2026-10-25T02:30+01:00",
                "2026-10-26T02:00+01:00",
            ],
        );
    }

    #[test]
    fn dst_new_york() {
        // Gap 2026-03-08 02:00-05:00 → 03:00-04:00.
        check(
            "30 2 * * *",
            NEW_YORK,
            "2026-03-07T12:00:00Z",
            &["2026-03-08T03:00-04:00", "2026-03-09T02:30-04:00"],
        );
        check(
            "0 1-3 * * *",
            NEW_YORK,
            "2026-03-08T05:00:00Z",
            &[
                "2026-03-08T01:00-05:00",
                "2026-03-08T03:00-04:00",
                "2026-03-09T01:00-04:00",
            ],
        );
        check(
            "0,30 2 * * *",
            NEW_YORK,
            "2026-03-07T12:00:00Z",
            &[
                "2026-03-08T03:00-04:00",
                "2026-03-09T02:00-04:00",
                "2026-03-09T02:30-04:00",
            ],
        );
        check(
            "*/15 * * * *",
            NEW_YORK,
            "2026-03-08T06:50:00Z",
            &["2026-03-08T03:00-04:00", "2026-03-08T03:15-04:00"],
        );
        // Fold 2026-11-01 02:00-04:00 → 01:00-05:00.
        check(
            "15 1 * * *",
            NEW_YORK,
            "2026-10-31T12:00:00Z",
            &["2026-11-01T01:15-04:00", "2026-11-02T01:15-05:00"],
        );
        check(
            "0 1-3 * * *",
            NEW_YORK,
            "2026-11-01T04:00:00Z",
            &[
                "2026-11-01T01:00-04:00",
                "2026-11-01T02:00-05:00",
                "2026-11-01T03:00-05:00",
            ],
        );
        check(
            "30 2 * * *",
            NEW_YORK,
            "2026-10-31T12:00:00Z",
            &["2026-11-01T02:30-05:00"],
        );
        // Eight fires in the two passes of 01:00-02:00.
        check(
            "*/15 * * * *",
            NEW_YORK,
            "2026-11-01T04:50:00Z",
            &[
                "2026-11-01T01:00-04:00",
                "2026-11-01T01:15-04:00",
                "2026-11-01T01:30-04:00",
                "2026-11-01T01:45-04:00",
                "2026-11-01T01:00-05:00",
                "2026-11-01T01:15-05:00",
                "2026-11-01T01:30-05:00",
                "2026-11-01T01:45-05:00",
                "2026-11-01T02:00-05:00",
            ],
        );
        check(
            "0 * * * *",
            NEW_YORK,
            "2026-11-01T04:30:00Z",
            &[
                "2026-11-01T01:00-04:00",
                "2026-11-01T01:00-05:00",
                "2026-11-01T02:00-05:00",
            ],
        );
        check(
            "*/30 1 * * *",
            NEW_YORK,
            "2026-11-01T04:00:00Z",
            &[
                "2026-11-01T01:00-04:00",
                "2026-11-01T01:30-04:00",
                "2026-11-01T01:00-05:00",
                "2026-11-01T01:30-05:00",
                "2026-11-02T01:00-05:00",
            ],
        );
    }

    #[test]
    fn dst_lord_howe() {
        // Fold 2026-04-05 02:00+11:00 → 01:30+10:30.
        check(
            "30 2 * * *",
            LORD_HOWE,
            "2026-04-04T00:00:00Z",
            &["2026-04-05T02:30+10:30"],
        );
        check(
            "15 1 * * *",
            LORD_HOWE,
            "2026-04-04T00:00:00Z",
            &["2026-04-05T01:15+11:00", "2026-04-06T01:15+10:30"],
        );
        check(
            "45 1 * * *",
            LORD_HOWE,
            "2026-04-04T00:00:00Z",
            &["2026-04-05T01:45+11:00", "2026-04-06T01:45+10:30"],
        );
        check(
            "0 1-3 * * *",
            LORD_HOWE,
            "2026-04-04T13:00:00Z",
            &[
                "2026-04-05T01:00+11:00",
                "2026-04-05T02:00+10:30",
                "2026-04-05T03:00+10:30",
            ],
        );
        check(
            "*/15 * * * *",
            LORD_HOWE,
            "2026-04-04T14:20:00Z",
            &[
                "2026-04-05T01:30+11:00",
                "2026-04-05T01:45+11:00",
                "2026-04-05T01:30+10:30",
                "2026-04-05T01:45+10:30",
                "2026-04-05T02:00+10:30",
            ],
        );
        check(
            "0 * * * *",
            LORD_HOWE,
            "2026-04-04T13:30:00Z",
            &["2026-04-05T01:00+11:00", "2026-04-05T02:00+10:30"],
        );
        check(
            "*/30 1 * * *",
            LORD_HOWE,
            "2026-04-04T13:30:00Z",
            &[
                "2026-04-05T01:00+11:00",
                "2026-04-05T01:30+11:00",
                "2026-04-05T01:30+10:30",
                "2026-04-06T01:00+10:30",
            ],
        );
        // Gap 2026-10-04 02:00+10:30 → 02:30+11:00.
        check(
            "30 2 * * *",
            LORD_HOWE,
            "2026-10-03T00:00:00Z",
            &["2026-10-04T02:30+11:00", "2026-10-05T02:30+11:00"],
        );
        check(
            "0 1-3 * * *",
            LORD_HOWE,
            "2026-10-03T13:30:00Z",
            &[
                "2026-10-04T01:00+10:30",
                "2026-10-04T02:30+11:00",
                "2026-10-04T03:00+11:00",
            ],
        );
        check(
            "0,30 2 * * *",
            LORD_HOWE,
            "2026-10-03T12:00:00Z",
            &[
                "2026-10-04T02:30+11:00",
                "2026-10-05T02:00+11:00",
                "2026-10-05T02:30+11:00",
            ],
        );
        check(
            "*/15 * * * *",
            LORD_HOWE,
            "2026-10-03T15:20:00Z",
            &["2026-10-04T02:30+11:00", "2026-10-04T02:45+11:00"],
        );
        check(
            "0 * * * *",
            LORD_HOWE,
            "2026-10-03T14:00:00Z",
            &["2026-10-04T01:00+10:30", "2026-10-04T03:00+11:00"],
        );
    }

    #[test]
    fn schedule_without_next() {
        let t: Timestamp = "2026-01-01T00:00:00Z".parse().expect("instant");
        for text in ["@reboot", "@start", "@every 5m"] {
            let s = Schedule::parse(text).expect("valid");
            assert_eq!(s.next_after(t, &TimeZone::UTC), None);
        }
    }
}
