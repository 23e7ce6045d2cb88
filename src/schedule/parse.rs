//! Text to [`Schedule`].
//!
//! Owns the grammar (fields, lists, ranges, steps, names, `L`, `nL`, `n#k`,
//! macros) and every parse error. Errors carry the byte span of the part that
//! is wrong so `sundial check` can print `file:line:column`, name the field,
//! and say what to write instead.
//!
//! It also owns the static "does this ever fire?" check: a schedule such as
//! `0 0 30 2 *` is rejected here, with a reason, instead of becoming a job
//! that silently never runs.

use std::time::Duration;

use super::{Cron, FieldSet, ParseError, Schedule};

/// The macros, for the "unknown macro" hint and its "did you mean".
const MACROS: [&str; 10] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
    "@reboot",
    "@start",
    "@every",
];

const MONTH_NAMES: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

const WEEKDAY_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Which of the six fields is being parsed: its name in messages and its
/// bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Second => "second",
            Kind::Minute => "minute",
            Kind::Hour => "hour",
            Kind::DayOfMonth => "day-of-month",
            Kind::Month => "month",
            Kind::DayOfWeek => "day-of-week",
        }
    }

    /// Smallest and largest value the text may use. Day of week allows 7
    /// (Sunday again), and `*` or `n/step` run up to 7 as in cronie.
    fn bounds(self) -> (u8, u8) {
        match self {
            Kind::Second | Kind::Minute => (0, 59),
            Kind::Hour => (0, 23),
            Kind::DayOfMonth => (1, 31),
            Kind::Month => (1, 12),
            Kind::DayOfWeek => (0, 7),
        }
    }

    /// How many distinct values the field has: the largest useful step.
    fn size(self) -> u8 {
        match self {
            Kind::Second | Kind::Minute => 60,
            Kind::Hour => 24,
            Kind::DayOfMonth => 31,
            Kind::Month => 12,
            Kind::DayOfWeek => 7,
        }
    }

    fn range_hint(self) -> &'static str {
        match self {
            Kind::Second => "seconds are 0-59",
            Kind::Minute => "minutes are 0-59",
            Kind::Hour => "hours are 0-23 (midnight is 0)",
            Kind::DayOfMonth => "days of the month are 1-31, or `L` for the last day",
            Kind::Month => "months are 1-12 or jan-dec",
            Kind::DayOfWeek => "days of the week are 0-7 (0 and 7 are both Sunday) or sun-sat",
        }
    }

    /// Sunday is stored as 0 whichever way it was written.
    fn fold(self, value: u8) -> u8 {
        if self == Kind::DayOfWeek && value == 7 {
            0
        } else {
            value
        }
    }
}

/// One whitespace-separated word of the text and where it starts.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    text: &'a str,
    offset: usize,
}

impl Token<'_> {
    fn end(&self) -> usize {
        self.offset + self.text.len()
    }
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push(Token {
                    text: &text[s..i],
                    offset: s,
                });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Token {
            text: &text[s..],
            offset: s,
        });
    }
    out
}

pub(super) fn parse(text: &str) -> Result<Schedule, ParseError> {
    let toks = tokens(text);
    let (Some(first), Some(last)) = (toks.first(), toks.last()) else {
        return Err(ParseError::new("the schedule is empty", 0, text.len())
            .hint("write five fields such as `*/5 * * * *`, or a macro such as `@daily`"));
    };
    // A `#` that starts a word is a comment pasted into the value (`1#2`
    // and `#2` are day-of-week items, handled with that field).
    if let Some(comment) = toks
        .iter()
        .find(|t| t.text.starts_with('#') && parse_number(&t.text[1..]).is_none())
    {
        return Err(ParseError::new(
            format!(
                "unexpected `{}`: a schedule cannot hold a comment",
                &text[comment.offset..last.end()]
            ),
            comment.offset,
            last.end() - comment.offset,
        )
        .hint(
            "end the quoted schedule before the comment, e.g. schedule: \"0 0 * * *\"  # nightly",
        ));
    }
    if first.text.starts_with('@') {
        return parse_macro(text, &toks);
    }
    match toks.len() {
        5 => parse_cron(&toks, false).map(Schedule::Cron),
        6 => parse_cron(&toks, true).map(Schedule::Cron).map_err(|err| {
            // `0 0 * * * 2025`: a year where sundial reads a day of week.
            let year = toks[5].text;
            if year.len() == 4 && parse_number(year).is_some_and(|y| y >= 1970) && err.offset == toks[5].offset {
                err.hint("sundial has no year field: six fields are `second minute hour day-of-month month day-of-week`")
            } else {
                err
            }
        }),
        n => {
            let mut hint = String::from(
                "a cron schedule is `minute hour day-of-month month day-of-week`, \
                 optionally with a leading `second`; use `*` for any value",
            );
            if n > 6 {
                hint.push_str("; the command goes in the job's `command`, not in its schedule");
            }
            Err(ParseError::new(
                format!("expected 5 or 6 fields, found {n}"),
                first.offset,
                last.end() - first.offset,
            )
            .hint(hint))
        }
    }
}

fn parse_macro(text: &str, toks: &[Token<'_>]) -> Result<Schedule, ParseError> {
    let tok = toks[0];
    // `@` is one byte, so slicing after it stays on a char boundary.
    let name = tok.text[1..].to_ascii_lowercase();
    let expansion = match name.as_str() {
        "yearly" | "annually" => Some("0 0 1 1 *"),
        "monthly" => Some("0 0 1 * *"),
        "weekly" => Some("0 0 * * 0"),
        "daily" | "midnight" => Some("0 0 * * *"),
        "hourly" => Some("0 * * * *"),
        _ => None,
    };
    let no_extra = || match toks.get(1) {
        Some(extra) => {
            let end = toks.last().map_or(extra.end(), Token::end);
            Err(ParseError::new(
                format!(
                    "unexpected `{}` after `{}`",
                    &text[extra.offset..end],
                    tok.text
                ),
                extra.offset,
                end - extra.offset,
            )
            .hint("a macro stands alone; remove the rest, or write five cron fields instead"))
        }
        None => Ok(()),
    };
    if let Some(expansion) = expansion {
        no_extra()?;
        let fields = tokens(expansion);
        // The expansions are valid; should that ever change, point at the
        // macro rather than at text the user never wrote.
        return parse_cron(&fields, false)
            .map(Schedule::Cron)
            .map_err(|e| ParseError::new(e.message, tok.offset, tok.text.len()));
    }
    match name.as_str() {
        "reboot" => no_extra().map(|()| Schedule::Reboot),
        "start" => no_extra().map(|()| Schedule::Start),
        "every" => parse_every(text, tok),
        _ => {
            let mut hint = String::new();
            if name.starts_with("every") {
                hint.push_str("put a space after `@every`, e.g. `@every 90s`. ");
            } else if name == "minutely" {
                hint.push_str("every minute is `* * * * *` or `@every 1m`. ");
            } else if let Some(close) = MACROS
                .iter()
                .map(|m| (strsim::levenshtein(&m[1..], &name), m))
                .filter(|(d, _)| *d <= 2)
                .min_by_key(|(d, _)| *d)
            {
                hint.push_str(&format!("did you mean `{}`? ", close.1));
            }
            hint.push_str(
                "The macros are @yearly, @annually, @monthly, @weekly, @daily, @midnight, \
                 @hourly, @reboot, @start and @every <duration>",
            );
            Err(ParseError::new(
                format!("unknown macro `{}`", tok.text),
                tok.offset,
                tok.text.len(),
            )
            .hint(hint))
        }
    }
}

fn parse_every(text: &str, tok: Token<'_>) -> Result<Schedule, ParseError> {
    const EXAMPLES: &str = "write it like `90s`, `5m`, `1h30m`, `1h 30m` or `2d`";
    let rest = &text[tok.end()..];
    let duration_text = rest.trim();
    if duration_text.is_empty() {
        return Err(
            ParseError::new("`@every` needs a duration", tok.offset, tok.text.len())
                .hint(format!("{EXAMPLES}, e.g. `@every 90s`")),
        );
    }
    let offset = tok.end() + (rest.len() - rest.trim_start().len());
    let len = duration_text.len();
    let err = |message: String, hint: &str| Err(ParseError::new(message, offset, len).hint(hint));
    let Ok(span) = duration_text.parse::<jiff::Span>() else {
        if parse_number(duration_text).is_some() {
            return err(
                format!("`{duration_text}` needs a unit"),
                &format!("write `{duration_text}s`, `{duration_text}m` or `{duration_text}h`"),
            );
        }
        return err(format!("`{duration_text}` is not a duration"), EXAMPLES);
    };
    let Ok(duration) = span.to_duration(jiff::SpanRelativeTo::days_are_24_hours()) else {
        return err(
            format!("`{duration_text}` uses months or years, which have no fixed length"),
            "use days or weeks, e.g. `@every 30d`, or a cron schedule such as `@monthly`",
        );
    };
    if duration.is_negative() {
        return err(
            format!("the interval `{duration_text}` is negative"),
            "write how often to run, e.g. `@every 5m`",
        );
    }
    if duration.is_zero() {
        return err(
            format!("the interval `{duration_text}` must be longer than zero"),
            "the shortest interval is `1s`",
        );
    }
    if duration.subsec_nanos() != 0 {
        return err(
            format!("the interval `{duration_text}` is not a whole number of seconds"),
            "sundial counts intervals in whole seconds; the shortest is `1s`",
        );
    }
    match u64::try_from(duration.as_secs()) {
        Ok(secs) => Ok(Schedule::Every(Duration::from_secs(secs))),
        Err(_) => err(
            format!("the interval `{duration_text}` is too long"),
            EXAMPLES,
        ),
    }
}

/// One field after parsing: its plain set plus the `L`-style extras.
#[derive(Debug, Default)]
struct Field {
    set: FieldSet,
    last_day_of_month: bool,
    last_weekdays: FieldSet,
    nth_weekdays: u64,
}

fn parse_cron(toks: &[Token<'_>], has_seconds: bool) -> Result<Cron, ParseError> {
    let (second, rest) = if has_seconds {
        (Some(toks[0]), &toks[1..])
    } else {
        (None, toks)
    };
    let [minute, hour, dom, month, dow] = [rest[0], rest[1], rest[2], rest[3], rest[4]];
    let seconds = match second {
        Some(tok) => parse_field(Kind::Second, tok)?.set,
        None => FieldSet::single(0),
    };
    let minutes = parse_field(Kind::Minute, minute)?.set;
    let hours = parse_field(Kind::Hour, hour)?.set;
    let dom_field = parse_field(Kind::DayOfMonth, dom)?;
    let months = parse_field(Kind::Month, month)?.set;
    let dow_field = parse_field(Kind::DayOfWeek, dow)?;
    let starts_with_star = |tok: Token<'_>| tok.text.starts_with('*');
    let cron = Cron {
        seconds,
        minutes,
        hours,
        days_of_month: dom_field.set,
        months,
        days_of_week: dow_field.set,
        last_day_of_month: dom_field.last_day_of_month,
        last_weekdays: dow_field.last_weekdays,
        nth_weekdays: dow_field.nth_weekdays,
        dom_restricted: !starts_with_star(dom),
        dow_restricted: !starts_with_star(dow),
        has_seconds,
        fixed_time: !starts_with_star(minute)
            && !starts_with_star(hour)
            && !second.is_some_and(starts_with_star),
    };
    if !ever_fires(&cron) {
        return Err(never_fires_error(&cron, dom, month, dow));
    }
    Ok(cron)
}

fn parse_field(kind: Kind, tok: Token<'_>) -> Result<Field, ParseError> {
    let mut field = Field::default();
    let mut start = 0;
    for item in tok.text.split(',') {
        if item.is_empty() {
            return Err(ParseError::new(
                format!(
                    "{} field: `{}` has an empty list item",
                    kind.name(),
                    tok.text
                ),
                tok.offset,
                tok.text.len(),
            )
            .hint("remove the extra comma; list items are separated by single commas"));
        }
        parse_item(kind, item, tok.offset + start, &mut field)?;
        start += item.len() + 1;
    }
    Ok(field)
}

fn field_error(
    kind: Kind,
    message: impl std::fmt::Display,
    offset: usize,
    len: usize,
) -> ParseError {
    ParseError::new(format!("{} field: {message}", kind.name()), offset, len)
}

/// Parses one list item (`*/5`, `10-50/20`, `5/15`, `mon-fri`, `L`, `5L`,
/// `1#2`) starting at byte `offset` of the text and adds it to `field`.
fn parse_item(kind: Kind, item: &str, offset: usize, field: &mut Field) -> Result<(), ParseError> {
    let (base, step) = match item.split_once('/') {
        Some((base, step_text)) => {
            let step_offset = offset + base.len() + 1;
            (base, Some(parse_step(kind, item, step_text, step_offset)?))
        }
        None => (item, None),
    };
    let (min, max) = kind.bounds();
    let no_step = |what: &str| match step {
        Some(_) => Err(field_error(
            kind,
            format!("`{item}`: {what} cannot take a step"),
            offset,
            item.len(),
        )
        .hint("remove the `/` and the step")),
        None => Ok(()),
    };

    if base == "*" {
        add_range(kind, field, min, max, step.unwrap_or(1));
        return Ok(());
    }
    if let Some(rest) = base.strip_prefix('*') {
        // `*;`, `**`: blame what follows the star, not the star.
        let c = rest.chars().next().unwrap_or('*');
        return Err(field_error(
            kind,
            format!("unexpected {} after `*` in `{base}`", describe_char(c)),
            offset + 1,
            c.len_utf8(),
        )
        .hint(if is_invisible(c) {
            INVISIBLE_HINT
        } else {
            "`*` stands alone (every value) or takes a step, like `*/5`"
        }));
    }
    if base.is_empty() {
        return Err(field_error(
            kind,
            format!("`{item}` is missing a value before `/`"),
            offset,
            item.len(),
        )
        .hint("write `*/5` for every fifth value, or `0/5` to start at 0"));
    }
    if base.eq_ignore_ascii_case("l") {
        return match kind {
            Kind::DayOfMonth => {
                no_step("`L`")?;
                field.last_day_of_month = true;
                Ok(())
            }
            Kind::DayOfWeek => Err(field_error(
                kind,
                "`L` needs a weekday in front of it",
                offset,
                base.len(),
            )
            .hint("write `5L` for the last Friday of the month; for the last day of the month put `L` in the day-of-month field")),
            _ => Err(field_error(
                kind,
                "`L` (last) only works in the day-of-month and day-of-week fields",
                offset,
                base.len(),
            )
            .hint(kind.range_hint())),
        };
    }
    if let Some((weekday_text, k_text)) = base.split_once('#') {
        if kind != Kind::DayOfWeek {
            return Err(field_error(
                kind,
                format!("`{base}`: `#` only works in the day-of-week field"),
                offset,
                base.len(),
            )
            .hint("`1#2` in the day-of-week field means the second Monday of the month"));
        }
        no_step("`n#k`")?;
        if weekday_text.is_empty() {
            return Err(field_error(
                kind,
                format!("`{base}` needs a weekday before `#`"),
                offset,
                0,
            )
            .hint("`1#2` is the second Monday of the month"));
        }
        let weekday = kind.fold(parse_value(kind, weekday_text, offset)?);
        let k_offset = offset + weekday_text.len() + 1;
        let k = parse_number(k_text);
        let hint =
            "`1#2` is the second Monday of the month; a month has at most five of any weekday";
        match k {
            Some(k @ 1..=5) => {
                field.nth_weekdays |= 1u64 << (u32::from(weekday) * 8 + k as u32);
                Ok(())
            }
            Some(_) => Err(field_error(
                kind,
                format!("in `{base}`, {k_text} is out of range 1-5"),
                k_offset,
                k_text.len(),
            )
            .hint(hint)),
            None if k_text.is_empty() => Err(field_error(
                kind,
                format!("in `{base}`, a number 1-5 is missing after `#`"),
                k_offset,
                0,
            )
            .hint(hint)),
            None => Err(field_error(
                kind,
                format!("in `{base}`, `{k_text}` after `#` is not a number 1-5"),
                k_offset,
                k_text.len(),
            )
            .hint(hint)),
        }
    } else if let Some(weekday_text) = last_weekday_text(kind, base) {
        no_step("`nL`")?;
        let weekday = kind.fold(parse_value(kind, weekday_text, offset)?);
        field.last_weekdays.insert(weekday);
        Ok(())
    } else if let Some((lo_text, hi_text)) = base.split_once('-') {
        if hi_text.contains('-') {
            return Err(
                field_error(kind, format!("`{base}` is not a range"), offset, base.len())
                    .hint("a range is `low-high`, e.g. `1-5`; separate several with commas"),
            );
        }
        let is_last = |t: &str| t.eq_ignore_ascii_case("l") || last_weekday_text(kind, t).is_some();
        if matches!(kind, Kind::DayOfMonth | Kind::DayOfWeek)
            && (is_last(lo_text) || is_last(hi_text))
        {
            let hint = if kind == Kind::DayOfMonth {
                "`L` alone is the last day of the month; list it with other days, like `1,15,L`"
            } else {
                "`5L` alone is the last Friday of the month; list several, like `1L,5L`"
            };
            return Err(field_error(
                kind,
                format!("`{base}`: a last-day item (`L`, `nL`) cannot be part of a range"),
                offset,
                base.len(),
            )
            .hint(hint));
        }
        if lo_text.is_empty() || hi_text.is_empty() {
            return Err(field_error(
                kind,
                format!("the range `{base}` is missing a bound"),
                offset,
                base.len(),
            )
            .hint("a range is `low-high`, e.g. `1-5`; negative numbers are not allowed"));
        }
        let lo = parse_value(kind, lo_text, offset)?;
        let mut hi = parse_value(kind, hi_text, offset + lo_text.len() + 1)?;
        // `fri-sun`: a range that ends on the name `sun` means up to 7.
        if kind == Kind::DayOfWeek && hi == 0 && lo > 0 && parse_number(hi_text).is_none() {
            hi = 7;
        }
        if lo > hi {
            let (fmin, fmax) = match kind {
                Kind::DayOfWeek => (0, 6),
                _ => (min, max),
            };
            let bound = |a: u8, b: u8| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            };
            let reversed = field_error(
                kind,
                format!("the range `{base}` is reversed ({lo} is after {hi})"),
                offset,
                base.len(),
            );
            if kind == Kind::DayOfWeek && lo == 7 {
                // 7 is Sunday, which is also 0: `7-1` meant `0-1`.
                return Err(reversed.hint(format!(
                    "7 is Sunday, like 0: write `0-{hi}` to start on Sunday, or `{hi}-7` for the values in between"
                )));
            }
            return Err(reversed
            .hint(format!(
                "ranges do not wrap around: write `{},{}` to wrap, or `{hi}-{lo}` for the values in between",
                bound(lo.min(fmax), fmax),
                bound(fmin, hi)
            )));
        }
        add_range(kind, field, lo, hi, step.unwrap_or(1));
        Ok(())
    } else {
        let value = parse_value(kind, base, offset)?;
        match step {
            // `5/15` means `5-max/15`, as in cronie.
            Some(step) => add_range(kind, field, value, max, step),
            None => field.set.insert(kind.fold(value)),
        }
        Ok(())
    }
}

const INVISIBLE_HINT: &str =
    "remove the invisible character; it often comes along when text is copied from a web page";

/// Characters that print as nothing: control and format characters
/// (zero-width spaces, the byte-order mark, direction marks).
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{ad}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// A character as a message names it: invisible ones by code point, since
/// quoting them would show nothing.
fn describe_char(c: char) -> String {
    if is_invisible(c) {
        format!("invisible character U+{:04X}", u32::from(c))
    } else {
        format!("character `{c}`")
    }
}

/// The weekday part of a `nL` item, if `base` is one.
fn last_weekday_text(kind: Kind, base: &str) -> Option<&str> {
    if kind != Kind::DayOfWeek || base.len() < 2 {
        return None;
    }
    let weekday = base.strip_suffix('L').or_else(|| base.strip_suffix('l'))?;
    let is_number = weekday.bytes().all(|b| b.is_ascii_digit());
    let is_name = WEEKDAY_NAMES
        .iter()
        .any(|n| n.eq_ignore_ascii_case(weekday));
    (is_number || is_name).then_some(weekday)
}

fn add_range(kind: Kind, field: &mut Field, lo: u8, hi: u8, step: u8) {
    let mut value = lo;
    while value <= hi {
        field.set.insert(kind.fold(value));
        match value.checked_add(step) {
            Some(next) => value = next,
            None => break,
        }
    }
}

fn parse_step(kind: Kind, item: &str, text: &str, offset: usize) -> Result<u8, ParseError> {
    let size = kind.size();
    if text.is_empty() {
        return Err(field_error(
            kind,
            format!("`{item}` is missing a step after `/`"),
            offset,
            0,
        )
        .hint("a step is a whole number after `/`, e.g. `*/5`"));
    }
    let Some(step) = parse_number(text) else {
        return Err(field_error(
            kind,
            format!("the step `{text}` is not a number"),
            offset,
            text.len(),
        )
        .hint("a step is a whole number after `/`, e.g. `*/5`"));
    };
    if step == 0 {
        return Err(
            field_error(kind, "the step must be at least 1", offset, text.len())
                .hint("`*/1` (or `*`) means every value; for one value write just that value"),
        );
    }
    if step > u64::from(size) {
        return Err(field_error(
            kind,
            format!("the step {text} is larger than the field's {size} values"),
            offset,
            text.len(),
        )
        .hint(format!(
            "a step that large selects only its first value, so write that value instead; {}",
            kind.range_hint()
        )));
    }
    // `step <= size <= 60` was just checked.
    Ok(step as u8)
}

/// A run of ASCII digits as a number; saturates instead of overflowing so a
/// huge number is reported as out of range rather than as garbage.
fn parse_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

/// One value: a number in the field's bounds or, for months and weekdays, a
/// three-letter name.
fn parse_value(kind: Kind, text: &str, offset: usize) -> Result<u8, ParseError> {
    let (min, max) = kind.bounds();
    if text.is_empty() {
        return Err(field_error(kind, "a value is missing", offset, 0).hint(kind.range_hint()));
    }
    if let Some(number) = parse_number(text) {
        if number < u64::from(min) || number > u64::from(max) {
            let mut hint = kind.range_hint().to_string();
            if kind == Kind::DayOfMonth && number == 0 {
                hint = format!("days of the month start at 1; {hint}");
            }
            return Err(field_error(
                kind,
                format!("{text} is out of range {min}-{max}"),
                offset,
                text.len(),
            )
            .hint(hint));
        }
        // In range, so it fits.
        return Ok(number as u8);
    }
    if let Some((i, c)) = text
        .char_indices()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
    {
        let hint = match c {
            '?' => "`?` is not supported; use `*`".to_string(),
            '-' => "a range is `low-high`, e.g. `1-5`".to_string(),
            '\u{2010}'..='\u{2015}' | '\u{2212}' => {
                format!("`{c}` is a typographic dash (word processors make them); write a plain `-`")
            }
            c if is_invisible(c) => INVISIBLE_HINT.to_string(),
            c if c.is_numeric() => {
                format!("only the digits 0-9 work (`{c}` is another digit character); {}", kind.range_hint())
            }
            c if !c.is_ascii() => {
                "only plain ASCII works in a schedule: digits 0-9, names like `mon` or `jan`, and `* , - /`".to_string()
            }
            _ => kind.range_hint().to_string(),
        };
        return Err(field_error(
            kind,
            format!("unexpected {} in `{text}`", describe_char(c)),
            offset + i,
            c.len_utf8(),
        )
        .hint(hint));
    }
    let lower = text.to_ascii_lowercase();
    let month = MONTH_NAMES.iter().position(|n| *n == lower);
    let weekday = WEEKDAY_NAMES.iter().position(|n| *n == lower);
    let err = |message: String, hint: String| {
        Err(field_error(kind, message, offset, text.len()).hint(hint))
    };
    match kind {
        Kind::Month => match month {
            Some(i) => Ok(i as u8 + 1),
            None if weekday.is_some() => err(
                format!("`{text}` is a day of the week, not a month"),
                "days of the week go in the fifth field (the sixth with seconds); months are jan-dec or 1-12".into(),
            ),
            None => err(format!("unknown month `{text}`"), kind.range_hint().into()),
        },
        Kind::DayOfWeek => match weekday {
            Some(i) => Ok(i as u8),
            None if month.is_some() => err(
                format!("`{text}` is a month, not a day of the week"),
                "months go in the fourth field (the fifth with seconds); days of the week are sun-sat or 0-7".into(),
            ),
            None => err(format!("unknown day of the week `{text}`"), kind.range_hint().into()),
        },
        _ => {
            let hint = if kind == Kind::DayOfMonth && lower.ends_with('w') {
                "`W` (nearest weekday) is not supported".to_string()
            } else if kind == Kind::DayOfMonth && lower.ends_with('l') {
                "`nL` (last weekday n of the month) belongs in the day-of-week field; `L` alone here is the last day of the month".to_string()
            } else if month.is_some() || weekday.is_some() {
                format!("names only work in the month and day-of-week fields; {}", kind.range_hint())
            } else {
                kind.range_hint().to_string()
            };
            err(format!("`{text}` is not a number"), hint)
        }
    }
}

/// Whether any day in any kind of month matches. Every (month, month length,
/// weekday of the 1st) combination recurs within each 400-year Gregorian
/// cycle, so this is exact for the day fields; the time fields can never be
/// empty.
pub(super) fn ever_fires(cron: &Cron) -> bool {
    cron.months.iter().any(|month| {
        month_lengths(month).iter().any(|&len| {
            (0u8..7).any(|first_weekday| {
                (1..=len).any(|day| cron.day_matches_parts(day, (first_weekday + day - 1) % 7, len))
            })
        })
    })
}

fn month_lengths(month: u8) -> &'static [u8] {
    match month {
        2 => &[28, 29],
        4 | 6 | 9 | 11 => &[30],
        _ => &[31],
    }
}

fn never_fires_error(cron: &Cron, dom: Token<'_>, month: Token<'_>, dow: Token<'_>) -> ParseError {
    let dow_matches_all = cron.days_of_week.len() == 7 && !cron.dow_restricted;
    if dow_matches_all && !cron.last_day_of_month {
        // Day of week is out of play, so the only way to never fire is a
        // day of the month that the selected months do not have.
        let first_day = cron.days_of_month.first().unwrap_or(1);
        let months: Vec<u8> = cron.months.iter().collect();
        let longest = |m: u8| month_lengths(m).iter().copied().max().unwrap_or(31);
        let names: Vec<&str> = months
            .iter()
            .filter_map(|&m| super::FULL_MONTH_NAMES.get(usize::from(m)).copied())
            .collect();
        let verb = if names.len() == 1 { "has" } else { "have" };
        let same_length = months.windows(2).all(|w| longest(w[0]) == longest(w[1]));
        let reason = match (same_length, months.first()) {
            (true, Some(&m)) => format!("{} {verb} at most {} days", join_and(&names), longest(m)),
            _ => format!("{} {verb} fewer than {first_day} days", join_and(&names)),
        };
        return ParseError::new(
            format!("never fires: {reason}"),
            dom.offset,
            month.end() - dom.offset,
        )
        .hint("pick days that exist in those months, or `L` for the last day of the month");
    }
    ParseError::new(
        "never fires: no day matches both the day-of-month and the day-of-week fields",
        dom.offset,
        dow.end() - dom.offset,
    )
    .hint(
        "when either day field starts with `*`, a day must match both; \
         check the two fields, or drop the `*` to match either",
    )
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn join_and<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", init.join(", "), last.as_ref())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cron(text: &str) -> Cron {
        match Schedule::parse(text) {
            Ok(Schedule::Cron(c)) => c,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn set(values: &[u8]) -> FieldSet {
        let mut s = FieldSet::EMPTY;
        for &v in values {
            s.insert(v);
        }
        s
    }

    /// Asserts the exact error: message, hint presence and the span's text.
    fn err(text: &str) -> ParseError {
        match Schedule::parse(text) {
            Err(e) => {
                assert!(e.offset + e.len <= text.len(), "{text}: span {e:?}");
                assert!(text.is_char_boundary(e.offset) && text.is_char_boundary(e.offset + e.len));
                e
            }
            Ok(s) => panic!("{text} parsed as {s:?}"),
        }
    }

    fn err_at(text: &str, message: &str, span: &str) -> ParseError {
        let e = err(text);
        assert_eq!(e.message, message, "{text}");
        assert_eq!(&text[e.offset..e.offset + e.len], span, "{text}: span");
        assert!(e.hint.is_some(), "{text}: no hint");
        e
    }

    #[test]
    fn five_fields() {
        let c = cron("30 2 * * *");
        assert_eq!(c.seconds(), set(&[0]));
        assert_eq!(c.minutes(), set(&[30]));
        assert_eq!(c.hours(), set(&[2]));
        assert_eq!(c.days_of_month(), FieldSet::range(1, 31));
        assert_eq!(c.months(), FieldSet::range(1, 12));
        assert_eq!(c.days_of_week(), FieldSet::range(0, 6));
        assert!(!c.has_seconds());
        assert!(c.is_fixed_time());
        assert!(!c.dom_restricted() && !c.dow_restricted());
    }

    #[test]
    fn six_fields_and_whitespace() {
        let c = cron("  */10\t*  *\n* *   *  ");
        assert!(c.has_seconds());
        assert_eq!(c.seconds(), set(&[0, 10, 20, 30, 40, 50]));
        assert_eq!(c.minutes(), FieldSet::range(0, 59));
        assert!(!c.is_fixed_time());
        assert!(cron("5 30 2 * * *").is_fixed_time());
        assert!(!cron("* 30 2 * * *").is_fixed_time());
    }

    #[test]
    fn lists_ranges_steps() {
        assert_eq!(cron("1,2,5-7 * * * *").minutes(), set(&[1, 2, 5, 6, 7]));
        assert_eq!(cron("*/20 * * * *").minutes(), set(&[0, 20, 40]));
        assert_eq!(cron("10-50/20 * * * *").minutes(), set(&[10, 30, 50]));
        assert_eq!(cron("5/15 * * * *").minutes(), set(&[5, 20, 35, 50]));
        assert_eq!(cron("0 */6 * * *").hours(), set(&[0, 6, 12, 18]));
        assert_eq!(cron("0 0 */10 * *").days_of_month(), set(&[1, 11, 21, 31]));
        assert_eq!(cron("0 0 * */5 *").months(), set(&[1, 6, 11]));
        assert_eq!(cron("0 0 * * */3").days_of_week(), set(&[0, 3, 6]));
        assert_eq!(cron("0 0 * * 1/3").days_of_week(), set(&[1, 4, 0]));
        assert_eq!(cron("00 05 * * *").hours(), set(&[5]));
        assert_eq!(cron("59 23 31 12 7").minutes(), set(&[59]));
        assert_eq!(cron("*/60 * * * *").minutes(), set(&[0]));
    }

    #[test]
    fn names_any_case_and_sunday() {
        assert_eq!(cron("0 0 * jan-Mar,DEC *").months(), set(&[1, 2, 3, 12]));
        assert_eq!(
            cron("0 0 * * MON-fri").days_of_week(),
            set(&[1, 2, 3, 4, 5])
        );
        assert_eq!(cron("0 0 * * 7").days_of_week(), set(&[0]));
        assert_eq!(cron("0 0 * * 5-7").days_of_week(), set(&[5, 6, 0]));
        assert_eq!(cron("0 0 * * fri-sun").days_of_week(), set(&[5, 6, 0]));
        assert_eq!(cron("0 0 * * sun-tue").days_of_week(), set(&[0, 1, 2]));
        assert_eq!(cron("0 0 * * sun-sun").days_of_week(), set(&[0]));
        assert_eq!(cron("0 0 * * 0-7").days_of_week(), FieldSet::range(0, 6));
        assert_eq!(cron("0 0 * * 0"), cron("0 0 * * 7"));
    }

    #[test]
    fn vixie_restriction() {
        let c = cron("0 0 */2 * mon");
        assert!(!c.dom_restricted() && c.dow_restricted() && !c.days_combine_with_or());
        let c = cron("0 0 1,15 * mon");
        assert!(c.dom_restricted() && c.dow_restricted() && c.days_combine_with_or());
        let c = cron("0 0 L * *");
        assert!(c.dom_restricted() && !c.dow_restricted());
        assert!(cron("0 0 1-31 * *").dom_restricted());
        assert!(!cron("0 0 *,1 * *").dom_restricted());
    }

    #[test]
    fn last_and_nth() {
        let c = cron("0 9 L * *");
        assert!(c.last_day_of_month() && c.days_of_month().is_empty());
        let c = cron("0 9 1,l * *");
        assert!(c.last_day_of_month() && c.days_of_month() == set(&[1]));
        let c = cron("0 9 * * 5L");
        assert_eq!(c.last_weekdays(), set(&[5]));
        assert!(c.days_of_week().is_empty());
        assert_eq!(cron("0 9 * * 7l,friL").last_weekdays(), set(&[0, 5]));
        let c = cron("0 9 * * 1#2");
        assert_eq!(c.nth_weekdays(), vec![(1, 2)]);
        let c = cron("0 9 * * 1#1,5L,3,sun#5,7#4");
        assert_eq!(c.nth_weekdays(), vec![(0, 4), (0, 5), (1, 1)]);
        assert_eq!(c.last_weekdays(), set(&[5]));
        assert_eq!(c.days_of_week(), set(&[3]));
    }

    #[test]
    fn macros() {
        assert_eq!(Schedule::parse("@yearly"), Schedule::parse("0 0 1 1 *"));
        assert_eq!(Schedule::parse("@ANNUALLY"), Schedule::parse("0 0 1 1 *"));
        assert_eq!(Schedule::parse("@monthly"), Schedule::parse("0 0 1 * *"));
        assert_eq!(Schedule::parse("@Weekly"), Schedule::parse("0 0 * * 0"));
        assert_eq!(Schedule::parse("@daily"), Schedule::parse("0 0 * * *"));
        assert_eq!(Schedule::parse(" @midnight "), Schedule::parse("0 0 * * *"));
        assert_eq!(Schedule::parse("@hourly"), Schedule::parse("0 * * * *"));
        assert_eq!(Schedule::parse("@reboot"), Ok(Schedule::Reboot));
        assert_eq!(Schedule::parse("@START"), Ok(Schedule::Start));
        let every = |t: &str| Schedule::parse(t).map_err(|e| e.message);
        let secs = |s| Ok(Schedule::Every(Duration::from_secs(s)));
        assert_eq!(every("@every 90s"), secs(90));
        assert_eq!(every("@every 5m"), secs(300));
        assert_eq!(every("@every 1h30m"), secs(5400));
        assert_eq!(every("@every   1h 30m  "), secs(5400));
        assert_eq!(every("@EVERY 1s"), secs(1));
        assert_eq!(every("@every 2d"), secs(172_800));
        assert_eq!(every("@every 1.5m"), secs(90));
    }

    #[test]
    fn macro_errors() {
        let e = err_at("@dialy", "unknown macro `@dialy`", "@dialy");
        assert!(
            e.hint
                .as_deref()
                .is_some_and(|h| h.starts_with("did you mean `@daily`?"))
        );
        assert!(
            e.hint
                .as_deref()
                .is_some_and(|h| h.contains("@every <duration>"))
        );
        let e = err_at("@every90s", "unknown macro `@every90s`", "@every90s");
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("space after")));
        err_at("@", "unknown macro `@`", "@");
        err_at("@daily 5", "unexpected `5` after `@daily`", "5");
        err_at(
            "@reboot now please",
            "unexpected `now please` after `@reboot`",
            "now please",
        );
        err_at("@every", "`@every` needs a duration", "@every");
        err_at("@every  ", "`@every` needs a duration", "@every");
        err_at("@every soon", "`soon` is not a duration", "soon");
        err_at("@every 90", "`90` needs a unit", "90");
        err_at(
            "@every 0s",
            "the interval `0s` must be longer than zero",
            "0s",
        );
        err_at("@every -5m", "the interval `-5m` is negative", "-5m");
        err_at(
            "@every 1.5s",
            "the interval `1.5s` is not a whole number of seconds",
            "1.5s",
        );
        err_at(
            "@every 500ms",
            "the interval `500ms` is not a whole number of seconds",
            "500ms",
        );
        err_at(
            "@every 1mo",
            "`1mo` uses months or years, which have no fixed length",
            "1mo",
        );
    }

    #[test]
    fn field_count_errors() {
        let e = err("");
        assert_eq!(
            (e.message.as_str(), e.offset, e.len),
            ("the schedule is empty", 0, 0)
        );
        let e = err("   ");
        assert_eq!(
            (e.message.as_str(), e.offset, e.len),
            ("the schedule is empty", 0, 3)
        );
        err_at(" * * * *", "expected 5 or 6 fields, found 4", "* * * *");
        let e = err_at(
            "0 5 * * * /usr/bin/backup --now",
            "expected 5 or 6 fields, found 7",
            "0 5 * * * /usr/bin/backup --now",
        );
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("`command`")));
    }

    #[test]
    fn range_errors() {
        let e = err_at(
            "0 0 32 * *",
            "day-of-month field: 32 is out of range 1-31",
            "32",
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("days of the month are 1-31, or `L` for the last day")
        );
        err_at("60 * * * *", "minute field: 60 is out of range 0-59", "60");
        err_at("0 24 * * *", "hour field: 24 is out of range 0-23", "24");
        err_at(
            "0 0 0 * *",
            "day-of-month field: 0 is out of range 1-31",
            "0",
        );
        err_at("0 0 * 13 *", "month field: 13 is out of range 1-12", "13");
        err_at("0 0 * 0 *", "month field: 0 is out of range 1-12", "0");
        err_at("0 0 * * 8", "day-of-week field: 8 is out of range 0-7", "8");
        err_at(
            "60 0 0 * * *",
            "second field: 60 is out of range 0-59",
            "60",
        );
        err_at(
            "99999999999999999999 * * * *",
            "minute field: 99999999999999999999 is out of range 0-59",
            "99999999999999999999",
        );
        err_at(
            "1,2,3-99 * * * *",
            "minute field: 99 is out of range 0-59",
            "99",
        );
    }

    #[test]
    fn reversed_ranges() {
        let e = err_at(
            "0 0 * * 5-1",
            "day-of-week field: the range `5-1` is reversed (5 is after 1)",
            "5-1",
        );
        assert_eq!(
            e.hint.as_deref(),
            Some(
                "ranges do not wrap around: write `5-6,0-1` to wrap, or `1-5` for the values in between"
            )
        );
        let e = err_at(
            "50-10 * * * *",
            "minute field: the range `50-10` is reversed (50 is after 10)",
            "50-10",
        );
        assert!(
            e.hint
                .as_deref()
                .is_some_and(|h| h.contains("`50-59,0-10`"))
        );
        let e = err_at(
            "0 22-2 * * *",
            "hour field: the range `22-2` is reversed (22 is after 2)",
            "22-2",
        );
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("`22-23,0-2`")));
        err_at(
            "0 0 * nov-feb *",
            "month field: the range `nov-feb` is reversed (11 is after 2)",
            "nov-feb",
        );
        let e = err_at(
            "0 0 * * sat-mon",
            "day-of-week field: the range `sat-mon` is reversed (6 is after 1)",
            "sat-mon",
        );
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("`6,0-1`")));
        err_at(
            "0 0 * * 7-0",
            "day-of-week field: the range `7-0` is reversed (7 is after 0)",
            "7-0",
        );
    }

    #[test]
    fn step_errors() {
        err_at(
            "*/0 * * * *",
            "minute field: the step must be at least 1",
            "0",
        );
        err_at(
            "0 0 */0 * *",
            "day-of-month field: the step must be at least 1",
            "0",
        );
        err_at(
            "*/61 * * * *",
            "minute field: the step 61 is larger than the field's 60 values",
            "61",
        );
        err_at(
            "0 0 * * */99999999999999999999999",
            "day-of-week field: the step 99999999999999999999999 is larger than the field's 7 values",
            "99999999999999999999999",
        );
        err_at(
            "*/x * * * *",
            "minute field: the step `x` is not a number",
            "x",
        );
        err_at(
            "*/ * * * *",
            "minute field: `*/` is missing a step after `/`",
            "",
        );
        err_at(
            "*/5/2 * * * *",
            "minute field: the step `5/2` is not a number",
            "5/2",
        );
        err_at(
            "/5 * * * *",
            "minute field: `/5` is missing a value before `/`",
            "/5",
        );
    }

    #[test]
    fn syntax_errors() {
        err_at(
            "1,,2 * * * *",
            "minute field: `1,,2` has an empty list item",
            "1,,2",
        );
        err_at(
            "0 0 1, * *",
            "day-of-month field: `1,` has an empty list item",
            "1,",
        );
        err_at(
            "1-2-3 * * * *",
            "minute field: `1-2-3` is not a range",
            "1-2-3",
        );
        err_at(
            "5- * * * *",
            "minute field: the range `5-` is missing a bound",
            "5-",
        );
        err_at(
            "-5 * * * *",
            "minute field: the range `-5` is missing a bound",
            "-5",
        );
        let e = err_at(
            "0 0 ? * *",
            "day-of-month field: unexpected character `?` in `?`",
            "?",
        );
        assert_eq!(e.hint.as_deref(), Some("`?` is not supported; use `*`"));
        err_at(
            "0 0 * * mon,é",
            "day-of-week field: unexpected character `é` in `é`",
            "é",
        );
        err_at(
            "0 0 1日 * *",
            "day-of-month field: unexpected character `日` in `1日`",
            "日",
        );
        err_at("5x * * * *", "minute field: `5x` is not a number", "5x");
        err_at("abc * * * *", "minute field: `abc` is not a number", "abc");
        err_at("0 0 * foo *", "month field: unknown month `foo`", "foo");
        err_at(
            "0 0 * mon *",
            "month field: `mon` is a day of the week, not a month",
            "mon",
        );
        err_at(
            "0 0 * * jan",
            "day-of-week field: `jan` is a month, not a day of the week",
            "jan",
        );
        err_at(
            "0 0 * * monday",
            "day-of-week field: unknown day of the week `monday`",
            "monday",
        );
        err_at(
            "0 0 * * jul",
            "day-of-week field: `jul` is a month, not a day of the week",
            "jul",
        );
        let e = err_at(
            "0 0 15W * *",
            "day-of-month field: `15W` is not a number",
            "15W",
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("`W` (nearest weekday) is not supported")
        );
        let e = err_at(
            "0 0 5L * *",
            "day-of-month field: `5L` is not a number",
            "5L",
        );
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("day-of-week")));
    }

    #[test]
    fn special_item_errors() {
        err_at(
            "L * * * *",
            "minute field: `L` (last) only works in the day-of-month and day-of-week fields",
            "L",
        );
        err_at(
            "0 0 * * L",
            "day-of-week field: `L` needs a weekday in front of it",
            "L",
        );
        err_at(
            "0 0 L/2 * *",
            "day-of-month field: `L/2`: `L` cannot take a step",
            "L/2",
        );
        err_at(
            "0 0 * * 5L/2",
            "day-of-week field: `5L/2`: `nL` cannot take a step",
            "5L/2",
        );
        err_at(
            "0 0 * * 1#2/2",
            "day-of-week field: `1#2/2`: `n#k` cannot take a step",
            "1#2/2",
        );
        err_at(
            "0 0 1#2 * *",
            "day-of-month field: `1#2`: `#` only works in the day-of-week field",
            "1#2",
        );
        let e = err_at(
            "0 0 * * 1#6",
            "day-of-week field: in `1#6`, 6 is out of range 1-5",
            "6",
        );
        assert!(
            e.hint
                .as_deref()
                .is_some_and(|h| h.contains("at most five"))
        );
        err_at(
            "0 0 * * 1#0",
            "day-of-week field: in `1#0`, 0 is out of range 1-5",
            "0",
        );
        err_at(
            "0 0 * * 1#",
            "day-of-week field: in `1#`, a number 1-5 is missing after `#`",
            "",
        );
        err_at(
            "0 0 * * 8#1",
            "day-of-week field: 8 is out of range 0-7",
            "8",
        );
        err_at(
            "0 0 * * 9L",
            "day-of-week field: 9 is out of range 0-7",
            "9",
        );
        err_at(
            "0 0 * * #1",
            "day-of-week field: `#1` needs a weekday before `#`",
            "",
        );
    }

    #[test]
    fn never_fires() {
        let e = err_at(
            "0 0 30 2 *",
            "never fires: February has at most 29 days",
            "30 2",
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("pick days that exist in those months, or `L` for the last day of the month")
        );
        err_at(
            "0 0 31 4,6,9,11 *",
            "never fires: April, June, September and November have at most 30 days",
            "31 4,6,9,11",
        );
        err_at(
            "0 0 31 feb,apr *",
            "never fires: February and April have fewer than 31 days",
            "31 feb,apr",
        );
        err_at(
            "0 0 0 30-31 2 *",
            "never fires: February has at most 29 days",
            "30-31 2",
        );
        err_at(
            "0 0 30 2 */7",
            "never fires: no day matches both the day-of-month and the day-of-week fields",
            "30 2 */7",
        );
        err_at(
            "0 0 */30 2 1#5",
            "never fires: no day matches both the day-of-month and the day-of-week fields",
            "*/30 2 1#5",
        );
        // Possible, if rare.
        cron("0 0 29 2 *");
        cron("0 0 * 2 1#5");
        cron("0 0 30 2 mon");
        cron("0 0 29 2 */7");
        cron("0 0 31 * *");
        cron("0 0 L 2 */7");
    }

    #[test]
    fn join() {
        assert_eq!(join_and::<&str>(&[]), "");
        assert_eq!(join_and(&["a"]), "a");
        assert_eq!(join_and(&["a", "b"]), "a and b");
        assert_eq!(join_and(&["a", "b", "c"]), "a, b and c");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for text in [
            "",
            " ",
            "@",
            "@@",
            "*",
            "* * * * * * *",
            ",",
            ", , , , ,",
            "- - - - -",
            "/ / / / /",
            "# # # # #",
            "L L L L L",
            "0 0 * * 0#0",
            "é é é é é",
            "\u{0}",
            "@every 99999999999999999999999h",
            "@every 1y",
            "@every PT1M",
            "0 0 * * sun#5L",
            "0 0 LL * *",
            "0 0 * * LL",
            "0 0 * * 5LL",
            "0 0 * * -L",
            "0 0 * * #",
            "0 0 * * 1#99999999999999999999",
            "*/1 */1 */1 */1 */1 */1",
        ] {
            let _ = Schedule::parse(text);
        }
        assert_eq!(
            Schedule::parse("@every PT1M"),
            Ok(Schedule::Every(Duration::from_secs(60)))
        );
    }
}
