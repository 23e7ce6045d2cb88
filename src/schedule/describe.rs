//! [`Schedule::describe`]: a schedule in plain English, for `sundial next`
//! and `sundial list`.
//!
//! Works from the parsed sets, not the text, so equivalent spellings read
//! the same (`0 0 * * 7` and `@weekly`). It aims to be honest first: small
//! sets of clock times are listed outright ("at 00:00 and 12:00"), regular
//! steps are named ("every 15 minutes"), and anything else falls back to
//! listing each field's values rather than guessing a nicer phrase.

use std::time::Duration;

use super::parse::join_and;
use super::{Cron, FULL_MONTH_NAMES, FieldSet, Schedule};

const WEEKDAYS: [&str; 8] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

const NTH: [&str; 6] = ["", "first", "second", "third", "fourth", "fifth"];

/// Up to this many clock times are listed outright.
const MAX_LISTED_TIMES: u32 = 6;

pub(super) fn describe(schedule: &Schedule) -> String {
    match schedule {
        Schedule::Cron(cron) => describe_cron(cron),
        Schedule::Every(interval) => format!("every {} from daemon start", duration(*interval)),
        Schedule::Reboot => "once at each boot".to_string(),
        Schedule::Start => "each time the daemon starts".to_string(),
    }
}

/// `1d 2h 3m 4s`, leaving out zero parts.
fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    let parts: Vec<String> = [
        (secs / 86_400, "d"),
        (secs / 3600 % 24, "h"),
        (secs / 60 % 60, "m"),
        (secs % 60, "s"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, unit)| format!("{n}{unit}"))
    .collect();
    if parts.is_empty() {
        "0s".to_string()
    } else {
        parts.join(" ")
    }
}

fn describe_cron(cron: &Cron) -> String {
    let (mut out, point) = time_phrase(cron);
    let (days, month_named) = day_phrase(cron);
    match days {
        Some(days) => out.push_str(&days),
        None if point => out.push_str(" every day"),
        None => {}
    }
    if let Some(months) = month_phrase(cron).filter(|_| !month_named) {
        out.push(' ');
        out.push_str(&months);
    }
    out
}

/// How one time field reads.
enum Shape {
    /// Every value.
    All,
    /// What `*/n` selects, n >= 2.
    Step(u8),
    /// Anything else.
    Values(FieldSet),
}

fn shape(set: FieldSet, lo: u8, hi: u8) -> Shape {
    if set == FieldSet::range(lo, hi) {
        return Shape::All;
    }
    if let Some(step) = progression_step(set)
        && step >= 2
        && set.first() == Some(lo)
        && set.last().is_some_and(|last| last + step > hi)
    {
        return Shape::Step(step);
    }
    Shape::Values(set)
}

/// The common difference if `set` is an arithmetic progression of at least
/// two values.
fn progression_step(set: FieldSet) -> Option<u8> {
    let values: Vec<u8> = set.iter().collect();
    let step = values.get(1)?.checked_sub(*values.first()?)?;
    values
        .windows(2)
        .all(|w| w[1] - w[0] == step)
        .then_some(step)
}

/// The time of day, and whether it reads as a point ("at …") rather than as
/// a repetition ("every …"): a point needs "every day" after it.
fn time_phrase(cron: &Cron) -> (String, bool) {
    let (secs, mins, hours) = (cron.seconds(), cron.minutes(), cron.hours());
    let whole_minutes = secs == FieldSet::single(0);
    let clock = |h: u8, m: u8, s: u8| {
        if whole_minutes {
            format!("{h:02}:{m:02}")
        } else {
            format!("{h:02}:{m:02}:{s:02}")
        }
    };

    let count = secs.len() * mins.len() * hours.len();
    if count <= MAX_LISTED_TIMES {
        let mut times = Vec::new();
        for h in hours.iter() {
            for m in mins.iter() {
                for s in secs.iter() {
                    times.push(clock(h, m, s));
                }
            }
        }
        return (format!("at {}", join_and(&times)), true);
    }

    // `0 9-17 * * *`: "every hour from 09:00 to 17:00".
    if secs.len() == 1
        && mins.len() == 1
        && hours != FieldSet::range(0, 23)
        && let (Some(step), Some(first), Some(last), Some(m), Some(s)) = (
            progression_step(hours),
            hours.first(),
            hours.last(),
            mins.first(),
            secs.first(),
        )
    {
        let every = if step == 1 {
            "every hour".to_string()
        } else {
            format!("every {step} hours")
        };
        let (from, to) = (clock(first, m, s), clock(last, m, s));
        return (format!("{every} from {from} to {to}"), false);
    }

    // Finest field first, each coarser one joined on.
    let mut out = String::new();
    let mut point = false;
    if !whole_minutes {
        (out, point) = first_fragment(shape(secs, 0, 59), "second");
    }
    if out.is_empty() {
        (out, point) = first_fragment(shape(mins, 0, 59), "minute");
    } else {
        point = join_fragment(&mut out, point, shape(mins, 0, 59), "minute");
    }
    let hours_listed = match shape(hours, 0, 23) {
        Shape::Values(set) if progression_step(set) == Some(1) || set.len() == 1 => {
            if let (Some(first), Some(last)) = (set.first(), set.last()) {
                out.push_str(&format!(" between {first:02}:00 and {last:02}:59"));
            }
            true
        }
        hour_shape @ Shape::Values(_) => {
            join_fragment(&mut out, point, hour_shape, "hour");
            true
        }
        hour_shape => {
            join_fragment(&mut out, point, hour_shape, "hour");
            false
        }
    };
    // "at minutes 0 and 20 past hours 1 and 5" wants "every day" after it;
    // "every 30 minutes …" and "… of every hour" already repeat.
    let point = hours_listed && out.starts_with("at ");
    (out, point)
}

fn first_fragment(shape: Shape, unit: &str) -> (String, bool) {
    match shape {
        Shape::All => (format!("every {unit}"), false),
        Shape::Step(n) => (format!("every {n} {unit}s"), false),
        Shape::Values(set) => (format!("at {}", values(set, unit)), true),
    }
}

/// Appends a coarser field to a finer fragment; returns whether the result
/// still reads as a point.
fn join_fragment(out: &mut String, point: bool, shape: Shape, unit: &str) -> bool {
    match shape {
        // "every 10 seconds" already covers every minute; "at second 5"
        // needs "of every minute".
        Shape::All => {
            if point {
                out.push_str(&format!(" of every {unit}"));
            }
            false
        }
        Shape::Step(n) => {
            let link = if point { "past" } else { "during" };
            out.push_str(&format!(" {link} every {} {unit}", ordinal(n)));
            false
        }
        Shape::Values(set) => {
            let link = if point { "past" } else { "during" };
            out.push_str(&format!(" {link} {}", values(set, unit)));
            true
        }
    }
}

/// `minute 5`, `minutes 0-10 and 30`.
fn values(set: FieldSet, unit: &str) -> String {
    let plural = if set.len() == 1 { "" } else { "s" };
    format!("{unit}{plural} {}", join_and(&runs(set, |v| v.to_string())))
}

/// Consecutive values as `a-b` (three or more) or single items.
fn runs(set: FieldSet, name: impl Fn(u8) -> String) -> Vec<String> {
    runs_of(&set.iter().collect::<Vec<_>>(), "-", name)
}

fn runs_of(values: &[u8], dash: &str, name: impl Fn(u8) -> String) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < values.len() {
        let mut j = i;
        while j + 1 < values.len() && values[j + 1] == values[j] + 1 {
            j += 1;
        }
        if j - i >= 2 {
            out.push(format!("{}{dash}{}", name(values[i]), name(values[j])));
            i = j + 1;
        } else {
            out.push(name(values[i]));
            i += 1;
        }
    }
    out
}

fn ordinal(n: u8) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Leading text such as " on day 1 of the month", or `None` for every day;
/// and whether that text already named the month.
fn day_phrase(cron: &Cron) -> (Option<String>, bool) {
    let dom_all = cron.days_of_month() == FieldSet::range(1, 31);
    let dow_all = cron.days_of_week() == FieldSet::range(0, 6);
    if cron.days_combine_with_or() {
        if dom_all || dow_all {
            return (None, false);
        }
        let phrase = format!(
            " on {} and on {}",
            dom_phrase(cron),
            join_and(&dow_items(cron, true))
        );
        return (Some(phrase), false);
    }
    let phrase = match (dom_all, dow_all) {
        (true, true) => return (None, false),
        (false, true) => match single_month_dates(cron) {
            Some(dates) => return (Some(format!(" on {dates}")), true),
            None => format!(" on {}", dom_phrase(cron)),
        },
        (true, false) => {
            let items = dow_items(cron, true);
            match items.as_slice() {
                [only] if only.contains(" to ") => format!(", {only}"),
                _ => format!(" on {}", join_and(&items)),
            }
        }
        (false, false) => format!(
            " on {} if it is {}",
            dom_phrase(cron),
            join_or(&dow_items(cron, false))
        ),
    };
    (Some(phrase), false)
}

/// `a`, `a or b`, `a, b or c`.
fn join_or(items: &[String]) -> String {
    match items {
        [init @ .., last] if !init.is_empty() => format!("{} or {last}", init.join(", ")),
        _ => join_and(items),
    }
}

/// `January 1`, `February 29`, `March 1 and 15`: when one month and a few
/// plain days, this reads better than "day 1 of the month in January".
fn single_month_dates(cron: &Cron) -> Option<String> {
    let months = cron.months();
    let dom = cron.days_of_month();
    if months.len() != 1 || cron.last_day_of_month() || dom.len() > 3 {
        return None;
    }
    let name = FULL_MONTH_NAMES.get(usize::from(months.first()?))?;
    let days: Vec<String> = dom.iter().map(|d| d.to_string()).collect();
    Some(format!("{name} {}", join_and(&days)))
}

/// `day 1 of the month`, `days 1, 15 and the last day of the month`,
/// `every 2nd day of the month`, `the last day of the month`.
fn dom_phrase(cron: &Cron) -> String {
    let dom = cron.days_of_month();
    if dom.is_empty() {
        return "the last day of the month".to_string();
    }
    if let Shape::Step(n) = shape(dom, 1, 31)
        && !cron.last_day_of_month()
    {
        return format!("every {} day of the month", ordinal(n));
    }
    let mut items = runs(dom, |d| d.to_string());
    if cron.last_day_of_month() {
        items.push("the last day".to_string());
    }
    let plural = if dom.len() == 1 { "" } else { "s" };
    format!("day{plural} {} of the month", join_and(&items))
}

/// Day-of-week items: `Mondays` or `Monday to Friday` (plural form) or `a
/// Monday` (singular, for "if it is …"), then `the last Friday of the
/// month`, `the second Monday of the month`.
fn dow_items(cron: &Cron, plural: bool) -> Vec<String> {
    let dow = cron.days_of_week();
    // Weekend-spanning sets read Monday first (`Friday to Sunday`), others
    // Sunday first (`Sunday to Tuesday`).
    let order: Vec<u8> = if dow.contains(0) && dow.contains(6) {
        (1..=7).filter(|&d| dow.contains(d % 7)).collect()
    } else {
        dow.iter().collect()
    };
    let name = |d: u8| {
        WEEKDAYS
            .get(usize::from(d))
            .copied()
            .unwrap_or("?")
            .to_string()
    };
    let mut items = if plural {
        runs_of(&order, " to ", name)
            .into_iter()
            .map(|item| {
                if item.contains(" to ") {
                    item
                } else {
                    format!("{item}s")
                }
            })
            .collect::<Vec<_>>()
    } else {
        let names: Vec<String> = dow.iter().map(name).collect();
        if names.is_empty() {
            Vec::new()
        } else {
            vec![format!("a {}", join_or(&names))]
        }
    };
    for d in cron.last_weekdays().iter() {
        items.push(format!("the last {} of the month", name(d)));
    }
    for (d, k) in cron.nth_weekdays() {
        let nth = NTH.get(usize::from(k)).copied().unwrap_or("?");
        items.push(format!("the {nth} {} of the month", name(d)));
    }
    items
}

/// `in January`, `in January and July`, `from March to May`; `None` for
/// every month.
fn month_phrase(cron: &Cron) -> Option<String> {
    let months = cron.months();
    if months == FieldSet::range(1, 12) {
        return None;
    }
    let name = |m: u8| {
        FULL_MONTH_NAMES
            .get(usize::from(m))
            .copied()
            .unwrap_or("?")
            .to_string()
    };
    let items = runs_of(&months.iter().collect::<Vec<_>>(), " to ", name);
    Some(match items.as_slice() {
        [only] if only.contains(" to ") => format!("from {only}"),
        _ => format!("in {}", join_and(&items)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn says(text: &str, expected: &str) {
        let schedule = Schedule::parse(text).expect("valid");
        assert_eq!(schedule.describe(), expected, "{text}");
    }

    #[test]
    fn brief_examples() {
        says("30 2 * * *", "at 02:30 every day");
        says("*/15 * * * 1-5", "every 15 minutes, Monday to Friday");
        says(
            "0 0 1 * mon",
            "at 00:00 on day 1 of the month and on Mondays",
        );
        says(
            "0 0 */2 * mon",
            "at 00:00 on every 2nd day of the month if it is a Monday",
        );
        says("*/10 * * * * *", "every 10 seconds");
        says("@every 90s", "every 1m 30s from daemon start");
        says("@reboot", "once at each boot");
        says("@start", "each time the daemon starts");
        says("0 9 L * *", "at 09:00 on the last day of the month");
        says("0 9 * * 5L", "at 09:00 on the last Friday of the month");
        says("0 9 * * 1#2", "at 09:00 on the second Monday of the month");
    }

    #[test]
    fn times() {
        says("* * * * *", "every minute");
        says("* * * * * *", "every second");
        says("0 * * * *", "at minute 0 of every hour");
        says("15,45 * * * *", "at minutes 15 and 45 of every hour");
        says("0 0,12 * * *", "at 00:00 and 12:00 every day");
        says("5 0-3 * * *", "at 00:05, 01:05, 02:05 and 03:05 every day");
        says("0 9-17 * * *", "every hour from 09:00 to 17:00");
        says("30 */2 * * *", "every 2 hours from 00:30 to 22:30");
        says("*/30 1 * * *", "at 01:00 and 01:30 every day");
        says("*/10 1-2 * * *", "every 10 minutes between 01:00 and 02:59");
        says("* 5 * * *", "every minute between 05:00 and 05:59");
        says(
            "0,30 9-17 * * 1-5",
            "every 30 minutes between 09:00 and 17:59, Monday to Friday",
        );
        says(
            "0,20 9-17 * * 1-5",
            "at minutes 0 and 20 between 09:00 and 17:59, Monday to Friday",
        );
        says("0-10,30 * * * *", "at minutes 0-10 and 30 of every hour");
        says("*/15 */2 * * *", "every 15 minutes during every 2nd hour");
        says(
            "0,20 9-17 * * *",
            "at minutes 0 and 20 between 09:00 and 17:59 every day",
        );
        says(
            "0,20 1,5,9,13 * * *",
            "at minutes 0 and 20 past hours 1, 5, 9 and 13 every day",
        );
        says(
            "*/30 1,5,9,13 * * *",
            "every 30 minutes during hours 1, 5, 9 and 13",
        );
        says("30 * * * * *", "at second 30 of every minute");
        says(
            "*/5 30 * * * *",
            "every 5 seconds during minute 30 of every hour",
        );
        says("15 30 2 * * *", "at 02:30:15 every day");
        says("0 */5 * * * *", "every 5 minutes");
    }

    #[test]
    fn days_and_months() {
        says("@daily", "at 00:00 every day");
        says("@weekly", "at 00:00 on Sundays");
        says("@monthly", "at 00:00 on day 1 of the month");
        says("@yearly", "at 00:00 on January 1");
        says("@hourly", "at minute 0 of every hour");
        says("0 0 29 2 *", "at 00:00 on February 29");
        says("0 0 1,15 * *", "at 00:00 on days 1 and 15 of the month");
        says(
            "0 0 1,L * *",
            "at 00:00 on day 1 and the last day of the month",
        );
        says(
            "0 0 1,15,L * *",
            "at 00:00 on days 1, 15 and the last day of the month",
        );
        says("0 0 1-5 * *", "at 00:00 on days 1-5 of the month");
        says("0 0 * * sat,sun", "at 00:00 on Saturdays and Sundays");
        says("0 0 * * fri-sun", "at 00:00, Friday to Sunday");
        says(
            "0 0 * * 1,3,5",
            "at 00:00 on Mondays, Wednesdays and Fridays",
        );
        says(
            "0 0 * * 1#1,5L",
            "at 00:00 on the last Friday of the month and the first Monday of the month",
        );
        says("0 0 * jan *", "at 00:00 every day in January");
        says("0 0 * 3-5 *", "at 00:00 every day from March to May");
        says("*/5 * * 1,7 *", "every 5 minutes in January and July");
        says(
            "0 0 1 */3 *",
            "at 00:00 on day 1 of the month in January, April, July and October",
        );
        says(
            "0 0 1 * */2",
            "at 00:00 on day 1 of the month if it is a Sunday, Tuesday, Thursday or Saturday",
        );
        says("0 0 * * */1", "at 00:00 every day");
        says("@every 1h30m", "every 1h 30m from daemon start");
        says("@every 2d", "every 2d from daemon start");
    }
}
