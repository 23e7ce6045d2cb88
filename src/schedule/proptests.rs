//! Property tests: random expressions and instants against a brute-force
//! reference.
//!
//! The reference is deliberately independent of the engine: the generators
//! compute each field's value set themselves (from the same pieces they glue
//! into text), the day rule uses jiff's own `nth_weekday_of_month`, and fires
//! are found by testing every minute (every second for six fields) of a small
//! window against the DST rules as the spec words them.

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};

use super::{Cron, Schedule};

/// A field's text and the values it selects, computed without the parser.
#[derive(Debug, Clone)]
struct RefField {
    text: String,
    values: Vec<bool>,
    last_dom: bool,
    last_weekdays: [bool; 7],
    nth: [[bool; 6]; 7],
}

#[derive(Debug, Clone)]
struct RefCron {
    text: String,
    has_seconds: bool,
    seconds: RefField,
    minutes: RefField,
    hours: RefField,
    dom: RefField,
    months: RefField,
    dow: RefField,
}

#[derive(Debug, Clone)]
enum Item {
    Star(u8),
    Value(u8),
    Range(u8, u8, u8),
    ValueStep(u8, u8),
    Last,
    LastWeekday(u8),
    Nth(u8, u8),
}

/// `(min, max, largest step)` of a field as the text may use it.
fn bounds(field: usize) -> (u8, u8, u8) {
    match field {
        0 | 1 => (0, 59, 60),
        2 => (0, 23, 24),
        3 => (1, 31, 31),
        4 => (1, 12, 12),
        _ => (0, 7, 7),
    }
}

fn item(field: usize) -> BoxedStrategy<Item> {
    let (min, max, max_step) = bounds(field);
    // Hours crowd around the DST transitions (01:00-03:00 local).
    let value = if field == 2 {
        prop_oneof![0u8..=3, min..=max].boxed()
    } else {
        (min..=max).boxed()
    };
    let step = 1u8..=max_step;
    let plain = prop_oneof![
        3 => step.clone().prop_map(Item::Star),
        3 => value.clone().prop_map(Item::Value),
        2 => (value.clone(), value.clone(), step.clone())
            .prop_map(|(a, b, s)| Item::Range(a.min(b), a.max(b), s)),
        1 => (value, step).prop_map(|(v, s)| Item::ValueStep(v, s)),
    ];
    match field {
        3 => prop_oneof![6 => plain, 1 => Just(Item::Last)].boxed(),
        5 => prop_oneof![
            6 => plain,
            1 => (0u8..=7).prop_map(Item::LastWeekday),
            1 => (0u8..=7, 1u8..=5).prop_map(|(w, k)| Item::Nth(w, k)),
        ]
        .boxed(),
        _ => plain.boxed(),
    }
}

/// A field; with `fixed`, one whose text does not start with `*` (the
/// time fields of a fixed-time job).
fn field(index: usize, fixed: bool) -> BoxedStrategy<RefField> {
    let (min, max, _) = bounds(index);
    let size = if index == 5 { 7 } else { usize::from(max) + 1 };
    let fold = move |v: u8| {
        if index == 5 && v == 7 {
            0
        } else {
            usize::from(v)
        }
    };
    // Mostly `*` in the day fields so that fires land inside the small
    // windows; the time fields get more variety.
    let star_weight = if fixed {
        0
    } else if index >= 3 {
        4
    } else {
        2
    };
    let items = prop_oneof![
        star_weight => Just(vec![Item::Star(1)]),
        3 => proptest::collection::vec(item(index), 1..=3)
            .prop_filter("fixed-time fields do not start with `*`", move |items| {
                !fixed || !matches!(items.first(), Some(Item::Star(_)))
            }),
    ];
    items
        .prop_map(move |items| {
            let mut f = RefField {
                text: String::new(),
                values: vec![false; size],
                last_dom: false,
                last_weekdays: [false; 7],
                nth: [[false; 6]; 7],
            };
            let mut parts = Vec::new();
            let add = |lo: u8, hi: u8, step: u8, values: &mut Vec<bool>| {
                let mut v = lo;
                while v <= hi {
                    values[fold(v)] = true;
                    v += step;
                }
            };
            for item in items {
                match item {
                    Item::Star(1) => {
                        parts.push("*".to_string());
                        add(min, max, 1, &mut f.values);
                    }
                    Item::Star(s) => {
                        parts.push(format!("*/{s}"));
                        add(min, max, s, &mut f.values);
                    }
                    Item::Value(v) => {
                        parts.push(v.to_string());
                        f.values[fold(v)] = true;
                    }
                    Item::Range(a, b, 1) => {
                        parts.push(format!("{a}-{b}"));
                        add(a, b, 1, &mut f.values);
                    }
                    Item::Range(a, b, s) => {
                        parts.push(format!("{a}-{b}/{s}"));
                        add(a, b, s, &mut f.values);
                    }
                    Item::ValueStep(v, s) => {
                        parts.push(format!("{v}/{s}"));
                        add(v, max, s, &mut f.values);
                    }
                    Item::Last => {
                        parts.push("L".into());
                        f.last_dom = true;
                    }
                    Item::LastWeekday(w) => {
                        parts.push(format!("{w}L"));
                        f.last_weekdays[fold(w)] = true;
                    }
                    Item::Nth(w, k) => {
                        parts.push(format!("{w}#{k}"));
                        f.nth[fold(w)][usize::from(k)] = true;
                    }
                }
            }
            f.text = parts.join(",");
            f
        })
        .boxed()
}

fn ref_cron(fixed: bool) -> impl Strategy<Value = RefCron> {
    (
        any::<bool>(),
        (field(0, fixed), field(1, fixed), field(2, fixed)),
        (field(3, false), field(4, false), field(5, false)),
    )
        .prop_map(
            |(has_seconds, (seconds, minutes, hours), (dom, months, dow))| {
                let mut texts = Vec::new();
                if has_seconds {
                    texts.push(seconds.text.clone());
                }
                for f in [&minutes, &hours, &dom, &months, &dow] {
                    texts.push(f.text.clone());
                }
                let mut seconds = seconds;
                if !has_seconds {
                    seconds.values = (0..60).map(|s| s == 0).collect();
                }
                RefCron {
                    text: texts.join(" "),
                    has_seconds,
                    seconds,
                    minutes,
                    hours,
                    dom,
                    months,
                    dow,
                }
            },
        )
}

impl RefCron {
    fn fixed_time(&self) -> bool {
        let star = |f: &RefField| f.text.starts_with('*');
        let any_star =
            star(&self.minutes) || star(&self.hours) || (self.has_seconds && star(&self.seconds));
        !any_star
    }

    fn day_matches(&self, date: Date) -> bool {
        let weekday = date.weekday();
        let w = weekday.to_sunday_zero_offset() as usize;
        let is_nth = |k: i8| date.nth_weekday_of_month(k, weekday).ok() == Some(date);
        let dom = self.dom.values[date.day() as usize]
            || (self.dom.last_dom && date == date.last_of_month());
        let dow = self.dow.values[w]
            || (self.dow.last_weekdays[w] && is_nth(-1))
            || (1..=5).any(|k| self.dow.nth[w][k as usize] && is_nth(k));
        if !self.dom.text.starts_with('*') && !self.dow.text.starts_with('*') {
            dom || dow
        } else {
            dom && dow
        }
    }

    fn matches(&self, dt: DateTime) -> bool {
        self.months.values[dt.month() as usize]
            && self.hours.values[dt.hour() as usize]
            && self.minutes.values[dt.minute() as usize]
            && self.seconds.values[dt.second() as usize]
            && self.day_matches(dt.date())
    }

    /// Whether the job fires at instant `t`, by the rule definitions.
    fn is_fire(&self, tz: &TimeZone, t: Timestamp) -> bool {
        let local = tz.to_datetime(t);
        if !self.fixed_time() {
            return self.matches(local);
        }
        let first_instant = match tz.to_ambiguous_timestamp(local).offset() {
            AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(local).ok(),
            AmbiguousOffset::Fold { before, .. } => before.to_timestamp(local).ok(),
            AmbiguousOffset::Gap { .. } => None,
        };
        if self.matches(local) && first_instant == Some(t) {
            return true;
        }
        // The end of a gap fires for any matching wall time the gap skipped.
        let before = tz.to_offset(t - SignedDuration::from_secs(1));
        let after = tz.to_offset(t);
        if after.seconds() > before.seconds() {
            let mut dt = before.to_datetime(t);
            let end = after.to_datetime(t);
            while dt < end {
                if self.matches(dt) {
                    return true;
                }
                dt += SignedDuration::from_secs(1);
            }
        }
        false
    }

    /// The first fire in `(after, after + window]`, scanning every minute
    /// (every second with six fields).
    fn brute_next(
        &self,
        tz: &TimeZone,
        after: Timestamp,
        window: SignedDuration,
    ) -> Option<Timestamp> {
        let step = if self.has_seconds { 1 } else { 60 };
        let first = (after.as_second().div_euclid(step) + 1) * step;
        let last = (after + window).as_second();
        (first..=last)
            .step_by(step as usize)
            .filter_map(|s| Timestamp::from_second(s).ok())
            .find(|&t| self.is_fire(tz, t))
    }

    fn ever_matches_a_day(&self) -> bool {
        let mut date = Date::constant(2000, 1, 1);
        let end = Date::constant(2400, 1, 1);
        while date < end {
            if self.months.values[date.month() as usize] && self.day_matches(date) {
                return true;
            }
            date = date.tomorrow().expect("in range");
        }
        false
    }
}

fn zones() -> Vec<TimeZone> {
    [
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe",
    ]
    .iter()
    .map(|n| {
        if *n == "UTC" {
            TimeZone::UTC
        } else {
            TimeZone::get(n).expect("zone")
        }
    })
    .collect()
}

/// A zone index and an instant: anywhere in 2024-2028, or near one of the
/// zone's transitions.
fn zone_and_instant() -> impl Strategy<Value = (usize, Timestamp)> {
    let start = Timestamp::constant(1_704_067_200, 0); // 2024-01-01
    let years = 5 * 365 * 86_400i64;
    (
        0usize..4,
        any::<bool>(),
        0..years,
        -4 * 3600i64..4 * 3600,
        0usize..10,
    )
        .prop_map(move |(zone, near, secs, around, nth)| {
            let tz = &zones()[zone];
            let base = if near {
                tz.following(start)
                    .nth(nth)
                    .map(|t| t.timestamp())
                    .unwrap_or(start)
            } else {
                start
            };
            let secs = if near { around } else { secs };
            (zone, base + SignedDuration::from_secs(secs))
        })
}

/// The heart of the properties: `next_after` agrees with the brute-force
/// first fire in a window, and iterating it stays on fires.
fn check_against_brute_force(
    r: &RefCron,
    zone: usize,
    after: Timestamp,
) -> Result<(), TestCaseError> {
    let tz = &zones()[zone];
    let cron: Cron = match Schedule::parse(&r.text) {
        Ok(Schedule::Cron(c)) => c,
        Ok(other) => panic!("{} parsed as {other:?}", r.text),
        Err(e) => {
            prop_assert!(e.message.starts_with("never fires"), "{}: {e:?}", r.text);
            prop_assert!(!r.ever_matches_a_day(), "{} rejected but matches", r.text);
            return Ok(());
        }
    };
    prop_assert_eq!(cron.is_fixed_time(), r.fixed_time(), "{}", r.text);
    prop_assert!(!Schedule::Cron(cron.clone()).describe().is_empty());

    let window = SignedDuration::from_hours(if r.has_seconds { 3 } else { 96 });
    let expected = r.brute_next(tz, after, window);
    let got = cron.next_after(after, tz).map(|z| z.timestamp());
    match expected {
        Some(t) => prop_assert_eq!(
            got,
            Some(t),
            "{} after {} in {:?}",
            r.text,
            after,
            tz.iana_name()
        ),
        None => prop_assert!(
            got.is_none_or(|g| g > after + window),
            "{} after {} in {:?}: got {:?}, brute force found none",
            r.text,
            after,
            tz.iana_name(),
            got
        ),
    }

    // Iterating is strictly increasing and lands only on fires.
    let mut t = after;
    for _ in 0..6 {
        let Some(next) = cron.next_after(t, tz) else {
            break;
        };
        let next = next.timestamp();
        prop_assert!(next > t);
        prop_assert!(
            r.is_fire(tz, next),
            "{} fired at {} which is not a fire",
            r.text,
            next
        );
        t = next;
    }
    Ok(())
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Keep found failures inside this module's folder.
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "src/schedule/proptest-regressions.txt",
        ))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(384))]

    #[test]
    fn agrees_with_brute_force(r in ref_cron(false), (zone, after) in zone_and_instant()) {
        check_against_brute_force(&r, zone, after)?;
    }

    #[test]
    fn fixed_time_agrees_with_brute_force(r in ref_cron(true), (zone, after) in zone_and_instant()) {
        check_against_brute_force(&r, zone, after)?;
    }

    #[test]
    fn matches_agrees_with_reference(r in ref_cron(false), secs in 0i64..5 * 365 * 86_400) {
        if let Ok(Schedule::Cron(cron)) = Schedule::parse(&r.text) {
            let dt = TimeZone::UTC.to_datetime(Timestamp::constant(1_704_067_200 + secs, 0));
            prop_assert_eq!(cron.matches(dt), r.matches(dt), "{} at {}", r.text, dt);
        }
    }

    #[test]
    fn parse_never_panics(text in "\\PC{0,40}") {
        let _ = Schedule::parse(&text);
    }

    #[test]
    fn parse_never_panics_on_cron_like_text(text in "[-0-9*/,#LlA-Za-z@ ]{0,30}") {
        if let Ok(s) = Schedule::parse(&text) {
            let _ = s.describe();
            let _ = s.next_after(Timestamp::constant(1_780_000_000, 0), &TimeZone::UTC);
        }
    }
}

#[test]
fn weekday_helper_is_sane() {
    // Guards the reference itself: 2026-01-30 is the last Friday of January.
    let d = Date::constant(2026, 1, 30);
    assert_eq!(d.nth_weekday_of_month(-1, Weekday::Friday).ok(), Some(d));
}
