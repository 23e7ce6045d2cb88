//! A [`Cron`] as systemd `OnCalendar=` expressions, exactly or not at all.
//!
//! # How the translation works
//!
//! systemd's calendar syntax, `[weekdays] year-month-day hour:minute:second
//! [zone]`, ANDs its weekday and date parts, and a timer with several
//! `OnCalendar=` lines fires at the union of them. The time of day translates
//! field by field (sets of values stay sets of values); the whole difficulty
//! is the day rule, so each kind of day item becomes one *day term*, a
//! [`Line`]: "these weekdays, on these days of these months", where the days
//! may be counted from the end of the month (systemd's `~`):
//!
//! | sundial | term |
//! |---|---|
//! | days of month `D` | `*-*-D` |
//! | `L` | `*-*~01` |
//! | weekdays `W` | `W *-*-*` |
//! | `5L` (last Friday) | `Fri *-*~01..07` (a Friday among the last seven days) |
//! | `1#2` (second Monday) | `Mon *-*-08..14` |
//!
//! When both day fields are restricted sundial ORs them (Vixie cron), which
//! is simply every term of both fields. Otherwise it ANDs them: a full field
//! drops out, and two partial fields give the pairwise intersections of
//! their terms. An intersection systemd cannot write (a plain day set against
//! days counted from the end, e.g. `0 0 */2 * 5L`) is refused.
//!
//! # Why there is a check at the end
//!
//! Export must never change a schedule silently. After building the terms,
//! [`on_calendar`] compares them with sundial's own day rule on every day of
//! a full 400-year Gregorian cycle (after which the calendar repeats); any
//! disagreement is refused instead of exported. That costs a few
//! milliseconds per job and turns a translation bug into an error message.
//! That the *rendered* text means to systemd what the terms mean here is
//! what the `systemd-analyze` tests check.

use jiff::civil::Date;

use crate::schedule::{Cron, FieldSet};

/// Weekday names as systemd writes them, indexed Sunday = 0 like sundial.
const WEEKDAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// systemd's week starts on Monday, so ranges like `Sat..Sun` would be
/// backwards there; lists and ranges are built in this order.
const MONDAY_FIRST: [u8; 7] = [1, 2, 3, 4, 5, 6, 0];

/// The first year of the 400-year cycle the final check walks.
const CHECK_FROM_YEAR: i16 = 2000;

/// Which days of a month a [`Line`] selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Days {
    /// Every day (`*-*-*`).
    Any,
    /// These days of the month, 1..=31.
    Plain(FieldSet),
    /// Counted from the end of the month: 1 is the last day, 7 the
    /// seventh-to-last (systemd's `~01`, `~07`).
    FromEnd(FieldSet),
}

/// One day term: an `OnCalendar=` line without the time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Line {
    /// `None`: any weekday.
    weekdays: Option<FieldSet>,
    months: FieldSet,
    days: Days,
}

impl Line {
    fn matches(&self, month: u8, day: u8, weekday: u8, days_in_month: u8) -> bool {
        self.months.contains(month)
            && self.weekdays.is_none_or(|w| w.contains(weekday))
            && match self.days {
                Days::Any => true,
                Days::Plain(set) => set.contains(day),
                Days::FromEnd(set) => set.contains(days_in_month + 1 - day),
            }
    }
}

/// The `OnCalendar=` values equivalent to `cron` in the zone `tz_name`, one
/// per line of the timer (a timer fires at the union of its lines).
///
/// `tz_name` is an IANA name appended to every line; empty or `local` means
/// the system's zone, which is what systemd assumes without a suffix.
///
/// Refuses (with the reason) the rare day combinations systemd cannot
/// express exactly; never returns an approximation.
pub fn on_calendar(cron: &Cron, tz_name: &str) -> Result<Vec<String>, String> {
    if tz_name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("time zone `{tz_name}` is not a valid zone name"));
    }
    let lines = day_lines(cron)?;
    let used = check_day_rule(cron, &lines)?;
    // Intersections can leave a term that never matches (`Wed *-02-31`);
    // it changes nothing, so it is not written.
    let lines: Vec<Line> = lines
        .into_iter()
        .zip(used)
        .filter_map(|(line, used)| used.then_some(line))
        .collect();
    let time = format!(
        "{}:{}:{}",
        render_numbers(cron.hours(), 0, 23),
        render_numbers(cron.minutes(), 0, 59),
        render_numbers(cron.seconds(), 0, 59)
    );
    let zone = match tz_name {
        "" | "local" => String::new(),
        name => format!(" {name}"),
    };
    Ok(lines
        .iter()
        .map(|line| format!("{} {time}{zone}", render_date(line)))
        .collect())
}

/// The day terms of `cron` (see the module docs), in a stable order.
fn day_lines(cron: &Cron) -> Result<Vec<Line>, String> {
    let months = cron.months();
    let all_days = FieldSet::range(1, 31);
    let all_weekdays = FieldSet::range(0, 6);

    let mut dom_terms = Vec::new();
    if !cron.days_of_month().is_empty() {
        dom_terms.push(Line {
            weekdays: None,
            months,
            days: Days::Plain(cron.days_of_month()),
        });
    }
    if cron.last_day_of_month() {
        dom_terms.push(Line {
            weekdays: None,
            months,
            days: Days::FromEnd(FieldSet::single(1)),
        });
    }

    let mut dow_terms = Vec::new();
    if !cron.days_of_week().is_empty() {
        dow_terms.push(Line {
            weekdays: Some(cron.days_of_week()),
            months,
            days: Days::Any,
        });
    }
    if !cron.last_weekdays().is_empty() {
        dow_terms.push(Line {
            weekdays: Some(cron.last_weekdays()),
            months,
            days: Days::FromEnd(FieldSet::range(1, 7)),
        });
    }
    // `n#k` items with the same k share their week of the month, so they
    // share one line: `Mon,Fri *-*-08..14`.
    for k in 1u8..=5 {
        let weekdays = cron
            .nth_weekdays()
            .into_iter()
            .filter(|&(_, kk)| kk == k)
            .fold(FieldSet::EMPTY, |set, (w, _)| {
                set.union(FieldSet::single(w))
            });
        if !weekdays.is_empty() {
            let first = 7 * k - 6;
            dow_terms.push(Line {
                weekdays: Some(weekdays),
                months,
                days: Days::Plain(FieldSet::range(first, (first + 6).min(31))),
            });
        }
    }

    if cron.days_combine_with_or() {
        dom_terms.extend(dow_terms);
        return Ok(dom_terms);
    }
    // AND: a field that selects every day adds nothing.
    if cron.days_of_month() == all_days {
        return Ok(dow_terms);
    }
    if cron.days_of_week() == all_weekdays {
        return Ok(dom_terms);
    }
    let mut lines = Vec::new();
    for a in &dom_terms {
        for b in &dow_terms {
            if let Some(line) = intersect(a, b)? {
                lines.push(line);
            }
        }
    }
    Ok(lines)
}

/// The days both terms select, as one term; `None` when there are none.
fn intersect(a: &Line, b: &Line) -> Result<Option<Line>, String> {
    let weekdays = match (a.weekdays, b.weekdays) {
        (None, w) | (w, None) => w,
        (Some(x), Some(y)) => Some(intersection(x, y)),
    };
    let months = intersection(a.months, b.months);
    let days = match (a.days, b.days) {
        (Days::Any, d) | (d, Days::Any) => Some(d),
        (Days::Plain(x), Days::Plain(y)) => {
            Some(Days::Plain(intersection(x, y))).filter(|d| *d != Days::Plain(FieldSet::EMPTY))
        }
        (Days::FromEnd(x), Days::FromEnd(y)) => {
            Some(Days::FromEnd(intersection(x, y))).filter(|d| *d != Days::FromEnd(FieldSet::EMPTY))
        }
        (Days::Plain(plain), Days::FromEnd(from_end))
        | (Days::FromEnd(from_end), Days::Plain(plain)) => plain_and_from_end(plain, from_end)?,
    };
    if weekdays.is_some_and(FieldSet::is_empty) || months.is_empty() {
        return Ok(None);
    }
    Ok(days.map(|days| Line {
        weekdays,
        months,
        days,
    }))
}

/// The values in both sets.
fn intersection(a: FieldSet, b: FieldSet) -> FieldSet {
    a.iter()
        .filter(|&v| b.contains(v))
        .fold(FieldSet::EMPTY, |set, v| set.union(FieldSet::single(v)))
}

/// Plain days against days counted from the end: expressible only when, in
/// every month length, the plain set holds all of those days (the result is
/// the from-end set) or none of them (the result is empty).
fn plain_and_from_end(plain: FieldSet, from_end: FieldSet) -> Result<Option<Days>, String> {
    let mut all = true;
    let mut none = true;
    for days_in_month in 28u8..=31 {
        for back in from_end.iter().filter(|&b| b >= 1 && b <= days_in_month) {
            let day = days_in_month + 1 - back;
            if plain.contains(day) {
                none = false;
            } else {
                all = false;
            }
        }
    }
    if all {
        Ok(Some(Days::FromEnd(from_end)))
    } else if none {
        Ok(None)
    } else {
        Err(
            "its day-of-month set must match together with a day counted from the end of \
             the month (`L` or `nL`), and systemd cannot intersect those two in one \
             calendar expression"
                .to_string(),
        )
    }
}

/// Compares the terms with sundial's own day rule on every day of one
/// 400-year cycle (months included); any difference is an error. Returns,
/// per term, whether it matched any day at all.
fn check_day_rule(cron: &Cron, lines: &[Line]) -> Result<Vec<bool>, String> {
    let mut used = vec![false; lines.len()];
    for year in CHECK_FROM_YEAR..CHECK_FROM_YEAR + 400 {
        for month in 1i8..=12 {
            let first = Date::new(year, month, 1).map_err(|e| e.to_string())?;
            let days_in_month = first.days_in_month() as u8;
            let first_weekday = first.weekday().to_sunday_zero_offset() as u8;
            let month = month as u8;
            for day in 1..=days_in_month {
                let weekday = (first_weekday + day - 1) % 7;
                let sundial = cron.months().contains(month)
                    && cron.day_matches_parts(day, weekday, days_in_month);
                let mut systemd = false;
                for (line, used) in lines.iter().zip(used.iter_mut()) {
                    if line.matches(month, day, weekday, days_in_month) {
                        *used = true;
                        systemd = true;
                    }
                }
                if sundial != systemd {
                    return Err(format!(
                        "the systemd translation would differ on {year}-{month:02}-{day:02} \
                         (sundial: {}, systemd: {}); please report this as a bug",
                        if sundial { "runs" } else { "does not run" },
                        if systemd { "runs" } else { "does not run" },
                    ));
                }
            }
        }
    }
    Ok(used)
}

/// `[weekdays ]*-months-days` or `[weekdays ]*-months~days`.
fn render_date(line: &Line) -> String {
    let weekdays = match line.weekdays {
        Some(set) if set.len() < 7 => format!("{} ", render_weekdays(set)),
        _ => String::new(),
    };
    let months = render_numbers(line.months, 1, 12);
    match line.days {
        Days::Any => format!("{weekdays}*-{months}-*"),
        Days::Plain(set) => format!("{weekdays}*-{months}-{}", render_numbers(set, 1, 31)),
        Days::FromEnd(set) => format!("{weekdays}*-{months}~{}", render_list(set)),
    }
}

/// A set of numbers in systemd syntax: `*` for the whole range `lo..=hi`,
/// `start/step` for a step that runs to the end (at least three values),
/// else a list of values and `a..b` ranges. Two digits, like systemd's own
/// normalized form.
fn render_numbers(set: FieldSet, lo: u8, hi: u8) -> String {
    let values: Vec<u8> = set.iter().collect();
    if values.len() == usize::from(hi - lo + 1) {
        return "*".to_string();
    }
    if let Some((start, step)) = step_to_end(&values, hi) {
        return format!("{start:02}/{step}");
    }
    render_list(set)
}

/// `start/step` when `values` are `start, start+step, …` up to the last one
/// at or below `hi`, with at least three values and a step above one.
pub(super) fn step_to_end(values: &[u8], hi: u8) -> Option<(u8, u8)> {
    let (&first, &second) = (values.first()?, values.get(1)?);
    let step = second - first;
    let arithmetic = values.windows(2).all(|w| w[1] - w[0] == step);
    let runs_to_end = values
        .last()
        .is_some_and(|&last| u16::from(last) + u16::from(step) > u16::from(hi));
    (values.len() >= 3 && step > 1 && arithmetic && runs_to_end).then_some((first, step))
}

/// Weekday names, Monday first, with `a..b` for runs of three or more.
fn render_weekdays(set: FieldSet) -> String {
    let order: Vec<u8> = MONDAY_FIRST
        .iter()
        .copied()
        .filter(|&w| set.contains(w))
        .collect();
    let position = |w: u8| MONDAY_FIRST.iter().position(|&x| x == w).unwrap_or(0);
    join_runs(
        &order,
        &|a, b| position(b) == position(a) + 1,
        &|w| WEEKDAY_NAMES[usize::from(w % 7)].to_string(),
        "..",
    )
}

/// Values in ascending order as `a..b` runs (three or more) and singles.
fn render_list(set: FieldSet) -> String {
    let values: Vec<u8> = set.iter().collect();
    join_runs(&values, &|a, b| b == a + 1, &|v| format!("{v:02}"), "..")
}

/// Joins `values` with commas, writing runs of three or more consecutive
/// values (as `next` defines them) as `first<range>last`.
pub(super) fn join_runs(
    values: &[u8],
    next: &dyn Fn(u8, u8) -> bool,
    show: &dyn Fn(u8) -> String,
    range: &str,
) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let mut j = i;
        while j + 1 < values.len() && next(values[j], values[j + 1]) {
            j += 1;
        }
        if j - i >= 2 {
            parts.push(format!("{}{range}{}", show(values[i]), show(values[j])));
        } else {
            parts.extend(values[i..=j].iter().map(|&v| show(v)));
        }
        i = j + 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Schedule;

    fn cron(text: &str) -> Cron {
        match Schedule::parse(text) {
            Ok(Schedule::Cron(cron)) => cron,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn cal(text: &str) -> Vec<String> {
        on_calendar(&cron(text), "UTC").unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn time_of_day_fields() {
        assert_eq!(cal("30 2 * * *"), ["*-*-* 02:30:00 UTC"]);
        assert_eq!(cal("*/15 * * * *"), ["*-*-* *:00/15:00 UTC"]);
        assert_eq!(cal("5/20 8-17 * * *"), ["*-*-* 08..17:05/20:00 UTC"]);
        assert_eq!(cal("0,30 9,12 * * *"), ["*-*-* 09,12:00,30:00 UTC"]);
        assert_eq!(cal("*/10 * * * * *"), ["*-*-* *:*:00/10 UTC"]);
        assert_eq!(cal("* * * * * *"), ["*-*-* *:*:* UTC"]);
        // A step that stops before the end is a list, not `start/step`.
        assert_eq!(cal("0-20/10 0 * * *"), ["*-*-* 00:00,10,20:00 UTC"]);
    }

    #[test]
    fn months_and_names() {
        assert_eq!(cal("0 0 1 jan,jul *"), ["*-01,07-01 00:00:00 UTC"]);
        assert_eq!(cal("0 0 * * MON-fri"), ["Mon..Fri *-*-* 00:00:00 UTC"]);
        assert_eq!(cal("0 0 * * 0,6"), ["Sat,Sun *-*-* 00:00:00 UTC"]);
        assert_eq!(cal("0 0 * * 7"), ["Sun *-*-* 00:00:00 UTC"]);
        assert_eq!(cal("0 0 * * fri-sun"), ["Fri..Sun *-*-* 00:00:00 UTC"]);
        assert_eq!(cal("@monthly"), ["*-*-01 00:00:00 UTC"]);
        assert_eq!(cal("@yearly"), ["*-01-01 00:00:00 UTC"]);
    }

    #[test]
    fn last_and_nth() {
        assert_eq!(cal("0 12 L * *"), ["*-*~01 12:00:00 UTC"]);
        assert_eq!(
            cal("0 12 1,L * *"),
            ["*-*-01 12:00:00 UTC", "*-*~01 12:00:00 UTC"]
        );
        assert_eq!(cal("0 12 * * 5L"), ["Fri *-*~01..07 12:00:00 UTC"]);
        assert_eq!(cal("0 12 * * 1#2"), ["Mon *-*-08..14 12:00:00 UTC"]);
        assert_eq!(
            cal("0 12 * * 1#2,5#2,3#5"),
            [
                "Mon,Fri *-*-08..14 12:00:00 UTC",
                "Wed *-*-29..31 12:00:00 UTC"
            ]
        );
    }

    #[test]
    fn vixie_or_rule() {
        assert_eq!(
            cal("0 0 1,15 * mon"),
            ["*-*-01,15 00:00:00 UTC", "Mon *-*-* 00:00:00 UTC"]
        );
        assert_eq!(
            cal("0 0 L * 5L"),
            ["*-*~01 00:00:00 UTC", "Fri *-*~01..07 00:00:00 UTC"]
        );
    }

    #[test]
    fn vixie_and_rule() {
        // `*/2` starts with `*`: odd days that are Mondays.
        assert_eq!(cal("0 0 */2 * mon"), ["Mon *-*-01/2 00:00:00 UTC"]);
        assert_eq!(
            cal("0 0 1-7 * */2"),
            ["Tue,Thu,Sat,Sun *-*-01..07 00:00:00 UTC"]
        );
        assert_eq!(cal("0 0 */2 * 1#2"), ["Mon *-*-09,11,13 00:00:00 UTC"]);
        assert_eq!(cal("0 0 L * */2"), ["Tue,Thu,Sat,Sun *-*~01 00:00:00 UTC"]);
    }

    #[test]
    fn drops_terms_that_never_match() {
        // Days 1, 11, 21, 31 of February against the second Monday (8-14)
        // and the fifth Wednesday (29-31): only the first can ever match.
        assert_eq!(cal("0 0 */10 2 3#5,1#2"), ["Mon *-02-11 00:00:00 UTC"]);
    }

    #[test]
    fn time_zones() {
        let c = cron("0 9 * * *");
        assert_eq!(
            on_calendar(&c, "Europe/Berlin").unwrap(),
            ["*-*-* 09:00:00 Europe/Berlin"]
        );
        assert_eq!(on_calendar(&c, "local").unwrap(), ["*-*-* 09:00:00"]);
        assert_eq!(on_calendar(&c, "").unwrap(), ["*-*-* 09:00:00"]);
        assert!(on_calendar(&c, "Europe/Berlin; rm").is_err());
    }

    #[test]
    fn refuses_what_systemd_cannot_intersect() {
        let err = on_calendar(&cron("0 0 */2 * 5L"), "UTC").unwrap_err();
        assert!(err.contains("counted from the end"), "{err}");
    }

    #[test]
    fn step_detection() {
        assert_eq!(step_to_end(&[0, 15, 30, 45], 59), Some((0, 15)));
        assert_eq!(step_to_end(&[0, 15, 30], 59), None);
        assert_eq!(step_to_end(&[1, 2, 3], 59), None);
        assert_eq!(step_to_end(&[3], 59), None);
    }
}
