//! Schedules: cron expressions and macros, parsed once and asked for their
//! next fire time (SPEC 4).
//!
//! This is a pure leaf: it imports nothing else of ours, does no I/O and never
//! reads the clock. The daemon asks [`Schedule::next_after`] for the next fire
//! after "now" and sleeps until then; tests pass any instant they like.
//!
//! # Layout
//!
//! - `mod.rs` (this file): the types other modules hold ([`Schedule`],
//!   [`Cron`], [`FieldSet`], [`ParseError`]) and the read-only accessors an
//!   exporter needs to translate a [`Cron`] into systemd or Kubernetes terms.
//! - `parse.rs`: text to [`Schedule`], with every error pointing at the byte
//!   span that caused it, plus the static "does this ever fire?" check.
//! - `next.rs`: [`Cron::next_after`], the bounded day-by-day search and the
//!   cronie daylight-saving rules.
//! - `describe.rs`: [`Schedule::describe`], plain English for `sundial next`
//!   and `sundial list`.
//!
//! # Semantics in one place
//!
//! - Each field is a bitset; a value matches when its bit is set. Day of week
//!   uses Sunday = 0 (a `7` in the text is stored as 0).
//! - The Vixie day rule: a day-of-month or day-of-week field is *restricted*
//!   when its text does not start with `*`. `L`, `5L` and `1#2` count as
//!   restricted (they do not start with `*`), and they are part of their
//!   field: `1,L` in day-of-month matches the 1st and the last day. When both
//!   fields are restricted a day matches if either matches; otherwise both
//!   must (and a `*…` field matches the days in its set, all of them for `*`).
//! - A job is *fixed-time* when its second (if present), minute and hour
//!   fields all do not start with `*`. Fixed-time jobs follow cronie in
//!   daylight-saving transitions: a local time skipped by a spring-forward gap
//!   fires once at the instant the gap ends (several skipped times of one job
//!   collapse into that one instant), and a local time repeated by a
//!   fall-back fires once, on the first pass. All other (*wildcard*) jobs fire
//!   at every real instant whose local wall time matches: never inside a gap,
//!   on both passes of a repeated hour.

mod describe;
mod next;
mod parse;
#[cfg(test)]
mod proptests;

use std::time::Duration;

/// Month names by number (index 0 unused), for messages and descriptions.
const FULL_MONTH_NAMES: [&str; 13] = [
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A parsed `schedule:` value of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// A cron expression, or a macro that stands for one (`@daily`, …).
    Cron(Cron),
    /// `@every <duration>`: a fixed interval counted from the daemon's start.
    /// Always a whole number of seconds, at least one second.
    Every(Duration),
    /// `@reboot`: once per boot of the machine.
    Reboot,
    /// `@start`: each time the daemon starts.
    Start,
}

/// A set of small integers (0..=63) stored as a bitset: the values one cron
/// field selects.
///
/// The same type serves every field so an exporter needs one vocabulary;
/// what a value means depends on the field (see the accessors on [`Cron`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FieldSet(u64);

impl FieldSet {
    /// The empty set.
    pub const EMPTY: FieldSet = FieldSet(0);

    /// The set of `lo..=hi` (both below 64).
    pub(crate) const fn range(lo: u8, hi: u8) -> FieldSet {
        if lo > hi || hi >= 64 {
            return FieldSet(0);
        }
        let width = hi - lo + 1;
        let ones = if width == 64 {
            u64::MAX
        } else {
            (1u64 << width) - 1
        };
        FieldSet(ones << lo)
    }

    /// The set holding only `value`.
    pub(crate) const fn single(value: u8) -> FieldSet {
        if value >= 64 {
            FieldSet(0)
        } else {
            FieldSet(1u64 << value)
        }
    }

    pub(crate) fn insert(&mut self, value: u8) {
        if value < 64 {
            self.0 |= 1u64 << value;
        }
    }

    /// The values in either set.
    pub const fn union(self, other: FieldSet) -> FieldSet {
        FieldSet(self.0 | other.0)
    }

    /// Whether `value` is in the set.
    #[inline]
    pub const fn contains(self, value: u8) -> bool {
        value < 64 && (self.0 >> value) & 1 == 1
    }

    /// The raw bits: bit `n` is set when value `n` is in the set.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// How many values the set holds.
    pub const fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The smallest value, if any.
    pub const fn first(self) -> Option<u8> {
        if self.0 == 0 {
            None
        } else {
            Some(self.0.trailing_zeros() as u8)
        }
    }

    /// The largest value, if any.
    pub const fn last(self) -> Option<u8> {
        if self.0 == 0 {
            None
        } else {
            Some(63 - self.0.leading_zeros() as u8)
        }
    }

    /// The smallest value `>= from`, if any: one shift and one
    /// trailing-zeros count, which is what keeps the search fast.
    #[inline]
    pub const fn next_from(self, from: u8) -> Option<u8> {
        if from >= 64 {
            return None;
        }
        let rest = self.0 >> from;
        if rest == 0 {
            None
        } else {
            Some(from + rest.trailing_zeros() as u8)
        }
    }

    /// The values in ascending order.
    pub fn iter(self) -> impl Iterator<Item = u8> {
        (0u8..64).filter(move |&v| self.contains(v))
    }
}

/// A cron expression: five fields (`minute hour day-of-month month
/// day-of-week`) or six with a leading `second`, already reduced to sets.
///
/// Equality is semantic: `0 0 * * 0` equals `0 0 * * 7` and `@daily`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    /// Seconds 0..=59. `{0}` for the five-field form.
    seconds: FieldSet,
    /// Minutes 0..=59.
    minutes: FieldSet,
    /// Hours 0..=23.
    hours: FieldSet,
    /// Plain days of the month 1..=31 (without `L`).
    days_of_month: FieldSet,
    /// Months 1..=12.
    months: FieldSet,
    /// Plain days of the week 0..=6, Sunday = 0 (without `nL` and `n#k`).
    days_of_week: FieldSet,
    /// `L` in day-of-month: the last day of each month.
    last_day_of_month: bool,
    /// `nL` in day-of-week: the weekdays (0..=6) whose last occurrence in the
    /// month matches.
    last_weekdays: FieldSet,
    /// `n#k` in day-of-week: bit `n * 8 + k` for weekday `n` (0..=6) and
    /// occurrence `k` (1..=5). One word keeps `Cron` small and cheap to
    /// clone and compare.
    nth_weekdays: u64,
    /// Day-of-month text did not start with `*` (the Vixie rule).
    dom_restricted: bool,
    /// Day-of-week text did not start with `*` (the Vixie rule).
    dow_restricted: bool,
    /// Six-field form.
    has_seconds: bool,
    /// Second (if any), minute and hour text all do not start with `*`:
    /// selects the daylight-saving behaviour.
    fixed_time: bool,
}

/// Why a schedule's text was rejected, and where.
///
/// `offset` and `len` are a byte span inside the text given to
/// [`Schedule::parse`] (leading whitespace included in the counting), so a
/// caller can turn them into a line and column inside its config file. The
/// span covers the offending part: one value or item of a field, a whole
/// field, the day fields together for a schedule that never fires, the macro
/// token for an unknown macro, or the duration after `@every`. `len` is 0
/// only when something is missing (an empty text, a value before `#`, a step
/// after `/`): the span then sits where it is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// What is wrong, naming the field: `day-of-month field: 32 is out of
    /// range 1-31`.
    pub message: String,
    /// What to do about it, when there is something useful to say.
    pub hint: Option<String>,
    /// Byte offset of the offending part inside the parsed text.
    pub offset: usize,
    /// Byte length of the offending part.
    pub len: usize,
}

impl ParseError {
    pub(crate) fn new(message: impl Into<String>, offset: usize, len: usize) -> ParseError {
        ParseError {
            message: message.into(),
            hint: None,
            offset,
            len,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> ParseError {
        self.hint = Some(hint.into());
        self
    }
}

impl Schedule {
    /// Parses a schedule: five or six cron fields, or a macro (`@daily`,
    /// `@every 90s`, `@reboot`, …; macros are case-insensitive).
    ///
    /// Rejects schedules that can never fire, such as `0 0 30 2 *`.
    pub fn parse(text: &str) -> Result<Schedule, ParseError> {
        parse::parse(text)
    }

    /// The schedule in plain English, e.g. "at 02:30 every day".
    pub fn describe(&self) -> String {
        describe::describe(self)
    }

    /// The next fire strictly after `after`, as a wall time in `tz`; `None`
    /// for `@every`, `@reboot` and `@start`, which the daemon times itself.
    pub fn next_after(
        &self,
        after: jiff::Timestamp,
        tz: &jiff::tz::TimeZone,
    ) -> Option<jiff::ZonedDateTime> {
        match self {
            Schedule::Cron(cron) => cron.next_after(after, tz),
            Schedule::Every(_) | Schedule::Reboot | Schedule::Start => None,
        }
    }
}

impl Cron {
    /// Whether the job is *fixed-time*: its second (if present), minute and
    /// hour fields all do not start with `*`. Decides the daylight-saving
    /// behaviour (see the module docs).
    pub fn is_fixed_time(&self) -> bool {
        self.fixed_time
    }

    /// Whether the expression has six fields (a leading seconds field).
    pub fn has_seconds(&self) -> bool {
        self.has_seconds
    }

    /// Seconds 0..=59 the job fires at; `{0}` for a five-field expression.
    pub fn seconds(&self) -> FieldSet {
        self.seconds
    }

    /// Minutes 0..=59.
    pub fn minutes(&self) -> FieldSet {
        self.minutes
    }

    /// Hours 0..=23.
    pub fn hours(&self) -> FieldSet {
        self.hours
    }

    /// Plain days of the month 1..=31. `L` is not in here: see
    /// [`Cron::last_day_of_month`].
    pub fn days_of_month(&self) -> FieldSet {
        self.days_of_month
    }

    /// Months 1..=12.
    pub fn months(&self) -> FieldSet {
        self.months
    }

    /// Plain days of the week 0..=6, Sunday = 0 (a `7` in the text is 0).
    /// `5L` and `1#2` are not in here: see [`Cron::last_weekdays`] and
    /// [`Cron::nth_weekdays`].
    pub fn days_of_week(&self) -> FieldSet {
        self.days_of_week
    }

    /// `L` in day-of-month: the last day of each month matches.
    pub fn last_day_of_month(&self) -> bool {
        self.last_day_of_month
    }

    /// Weekdays (0..=6, Sunday = 0) given as `nL`: the last such weekday of
    /// the month matches.
    pub fn last_weekdays(&self) -> FieldSet {
        self.last_weekdays
    }

    /// `n#k` items as `(weekday, k)` pairs, weekday 0..=6 (Sunday = 0) and
    /// k 1..=5, in ascending order: the k-th such weekday of the month.
    pub fn nth_weekdays(&self) -> Vec<(u8, u8)> {
        let mut out = Vec::new();
        for weekday in 0u8..7 {
            for k in 1u8..=5 {
                if self.has_nth_weekday(weekday, k) {
                    out.push((weekday, k));
                }
            }
        }
        out
    }

    /// Whether the day-of-month field is restricted (its text does not start
    /// with `*`). With [`Cron::dow_restricted`] it picks the Vixie rule:
    /// both restricted means a day matches when either field matches,
    /// otherwise both fields must match.
    pub fn dom_restricted(&self) -> bool {
        self.dom_restricted
    }

    /// Whether the day-of-week field is restricted (its text does not start
    /// with `*`). See [`Cron::dom_restricted`].
    pub fn dow_restricted(&self) -> bool {
        self.dow_restricted
    }

    /// Whether a day-of-month field and day-of-week field both restricted
    /// combine with OR (the Vixie rule); `false` means AND.
    pub fn days_combine_with_or(&self) -> bool {
        self.dom_restricted && self.dow_restricted
    }

    /// Whether a local wall time matches every field, ignoring daylight
    /// saving (sub-second precision is ignored).
    pub fn matches(&self, datetime: jiff::civil::DateTime) -> bool {
        self.months.contains(datetime.month() as u8)
            && self.day_matches(datetime.date())
            && self.hours.contains(datetime.hour() as u8)
            && self.minutes.contains(datetime.minute() as u8)
            && self.seconds.contains(datetime.second() as u8)
    }

    fn has_nth_weekday(&self, weekday: u8, k: u8) -> bool {
        let bit = u32::from(weekday) * 8 + u32::from(k);
        bit < 64 && (self.nth_weekdays >> bit) & 1 == 1
    }

    /// The day rule on a date, with the month set ignored.
    #[inline]
    pub(crate) fn day_matches(&self, date: jiff::civil::Date) -> bool {
        self.day_matches_parts(
            date.day() as u8,
            date.weekday().to_sunday_zero_offset() as u8,
            date.days_in_month() as u8,
        )
    }

    /// The day rule from a day of month, its weekday (Sunday = 0) and the
    /// month's length. Kept apart from [`jiff`] so the static "does it ever
    /// fire" check can enumerate every kind of month without building dates.
    #[inline]
    pub(crate) fn day_matches_parts(&self, day: u8, weekday: u8, days_in_month: u8) -> bool {
        let dom =
            self.days_of_month.contains(day) || (self.last_day_of_month && day == days_in_month);
        let dow = self.days_of_week.contains(weekday)
            || (self.last_weekdays.contains(weekday) && day + 7 > days_in_month)
            || (self.nth_weekdays != 0 && self.has_nth_weekday(weekday, day.div_ceil(7)));
        if self.dom_restricted && self.dow_restricted {
            dom || dow
        } else {
            dom && dow
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_set_basics() {
        let set = FieldSet::range(5, 9).union(FieldSet::single(63));
        assert_eq!(set.len(), 6);
        assert_eq!(set.first(), Some(5));
        assert_eq!(set.last(), Some(63));
        assert_eq!(set.next_from(0), Some(5));
        assert_eq!(set.next_from(9), Some(9));
        assert_eq!(set.next_from(10), Some(63));
        assert_eq!(set.next_from(64), None);
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![5, 6, 7, 8, 9, 63]);
        assert_eq!(FieldSet::range(0, 63).bits(), u64::MAX);
        assert!(FieldSet::range(3, 2).is_empty());
        assert_eq!(FieldSet::EMPTY.first(), None);
    }
}
