//! `sundial import-crontab`: a crontab turned into a sundial `jobs.yaml`.
//!
//! This module owns the conversion and nothing else: [`import`] is a pure
//! function from the crontab's text to the YAML text plus a list of the lines
//! it could not convert. Reading the file, printing and exit codes belong to
//! the command layer.
//!
//! # Why it carries its own crontab parser
//!
//! The promise is that the converted jobs fire at the same instants and run
//! the same bytes as cron would. So the crontab is read the way cronie/Vixie
//! cron reads it (`load_env` in `env.c`, `load_entry` in `entry.c`,
//! `child_process` in `do_command.c`), quirks included, instead of with a
//! looser grammar that would accept lines cron ignores:
//!
//! - a line is a variable assignment when cron's `load_env` state machine
//!   accepts it (quotes around name or value, blanks around `=`); otherwise it
//!   is an entry;
//! - schedule fields follow cron's grammar exactly (names only in the month
//!   and day-of-week fields, steps only after `*` or a range, no `L`/`#`,
//!   which are sundial extensions cron rejects); the text is then copied
//!   verbatim, because sundial's engine follows Vixie cron's rules
//!   (SPEC 4). Each expression must also pass
//!   [`crate::schedule::Schedule::parse`] and select, field by field, the
//!   same values with the same day-of-month/day-of-week rule as cron's
//!   reading of it; otherwise the line is skipped with the reason;
//! - a command is everything after the fields (trailing blanks included);
//!   cron refuses a command that starts with `*` (a sixth time field typed by
//!   mistake), and so does this module.
//!
//! # Decisions (mirrored in `docs/`)
//!
//! - **`%` in commands.** cron ends the command at the first unescaped `%`
//!   and writes the rest to the command's stdin, each further `%` turned into
//!   a newline, `\%` into `%`, and a newline appended when the text does not
//!   end with one. The converted command is
//!   `printf '%s' '<exact bytes>' | (` newline `<command>` newline `)`, which
//!   gives the command the same bytes on a pipe. The newlines keep a trailing
//!   `# comment` in the command from swallowing the `)`. Lines whose job
//!   shell is not a POSIX shell are refused, since the wrapper is shell
//!   syntax. `\%` in the command part becomes `%`, as cron does.
//! - **Environment.** Assignments apply to the entries after them, last one
//!   wins. `SHELL` → `shell`; `CRON_TZ` → `timezone` (file-wide when every
//!   job has the same value); `MAILTO` → `mail_to` (a list; empty means no
//!   mail); `HOME` → env `HOME` and `workdir` (cron `chdir`s to `$HOME`);
//!   `USER`/`LOGNAME` are reported and dropped (cron overwrites them with
//!   the job's user); a `SHELL` or `HOME` that is not an absolute path is
//!   reported and not applied (cron would fail every later job); `TZ` stays in `env` only: cron hands it to the job but
//!   schedules by the daemon's zone, so turning it into `timezone:` would
//!   move the fire times. `PATH` is always written, cron's default
//!   `/usr/bin:/bin` when the crontab sets none, because sundial's default
//!   PATH is longer. A setting shared by every job goes into `defaults:`
//!   (which is exact whether a job's `env` merges with or replaces the
//!   default), otherwise each job carries its own full value.
//! - **Overlap.** cron starts every run even when the last one still runs,
//!   so `defaults: { overlap: allow }` is written.
//! - **Names.** From the command: the first program that is not a guard
//!   (`test`, `[`, `cd`, `command -v`, inline `perl -e`, ...) or wrapper
//!   (`nice`, `flock FILE`, `VAR=x`, `if`, `{`), its basename without a
//!   script extension; for interpreters the script's name
//!   (`python3 /opt/x/sync.py` → `sync`), for dispatchers the program and
//!   its first argument (`run-parts /etc/cron.daily` →
//!   `run-parts-cron.daily`). Characters outside `[A-Za-z0-9_.-]` become
//!   `-`. Repeats get `-2`, `-3`, ... in file order, so the same crontab
//!   always gives the same names.
//! - **Comments.** The comment lines directly above an entry (no blank line
//!   between) become its `description`, joined with spaces, unless they
//!   contain a commented-out entry (then only the lines after it count).
//!   Every other comment, every assignment and every skipped line is
//!   carried into the YAML as a comment, so nothing disappears silently.
//! - **Line endings.** A `\r` before the newline is removed (cron itself would
//!   make it part of the command); the header notes it.

use std::collections::HashSet;
use std::fmt::Write as _;

/// The result of converting one crontab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The `jobs.yaml` text, starting with a comment that names the source
    /// and the conversion notes. Valid YAML even when no job was converted.
    pub yaml: String,
    /// The names given to the converted jobs, in crontab order, so the
    /// command can print a summary without parsing the YAML again.
    pub jobs: Vec<String>,
    /// Lines that were not converted (or assignments that were dropped),
    /// so the command can list them on stderr; they are also in the YAML as
    /// comments.
    pub skipped: Vec<Skipped>,
}

/// One input line that did not become (part of) a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// 1-based line number in the input.
    pub line: usize,
    /// The line as written, without its line ending.
    pub text: String,
    /// Why: what cron would say about it, or why sundial cannot express it.
    pub reason: String,
}

/// Converts a crontab to `jobs.yaml` text.
///
/// `text` is a user crontab (`crontab -l` format) or, with `system`, the
/// format with a user column (`/etc/crontab`, `/etc/cron.d/*`).
/// `source_name` only appears in the header comment (a path, or `-`).
/// Never fails and never panics: what cannot be converted is in
/// [`Import::skipped`].
pub fn import(text: &str, source_name: &str, system: bool) -> Import {
    let converted = convert(text, system);
    let yaml = render(&converted, source_name, system);
    Import {
        yaml,
        jobs: converted.jobs.iter().map(|j| j.name.clone()).collect(),
        skipped: converted.skipped,
    }
}

/// cron's PATH when a crontab sets none (glibc `_PATH_DEFPATH`, and what
/// Debian's crontab(5) documents).
const CRON_DEFAULT_PATH: &str = "/usr/bin:/bin";

/// Shells the `%` wrapper (`printf ... | ( ... )`) is valid in.
const POSIX_SHELLS: &[&str] = &[
    "sh", "bash", "dash", "ash", "ksh", "mksh", "lksh", "pdksh", "ksh93", "zsh", "yash", "posh",
    "busybox",
];

/// The whole crontab, read: jobs with their effective settings, plus what
/// goes into the YAML as comments and notes.
#[derive(Debug, Default)]
struct Converted {
    jobs: Vec<Job>,
    skipped: Vec<Skipped>,
    /// Comment lines that were not attached to a job and come after the last
    /// one; they close the `jobs:` map.
    trailing_comments: Vec<String>,
    /// Conditional notes for the header (each shown once).
    notes: Vec<&'static str>,
}

impl Converted {
    fn note(&mut self, note: &'static str) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}

/// One converted entry.
#[derive(Debug, Clone)]
struct Job {
    /// Line number of the entry, for the trace comment above the job.
    line: usize,
    /// The entry as written, for the same comment.
    source: String,
    name: String,
    description: Option<String>,
    /// Comments, assignments and skipped lines met since the previous job,
    /// emitted as YAML comments before this one.
    comments: Vec<String>,
    /// The expression as written (fields joined by one space) or the macro.
    schedule: String,
    /// The user column (system format only).
    user: Option<String>,
    /// The command for `<shell> -c`, with cron's `%` rules applied.
    command: String,
    settings: Settings,
}

/// What the assignments above an entry mean for the job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Settings {
    shell: Option<String>,
    timezone: Option<String>,
    workdir: Option<String>,
    /// `None`: MAILTO never set. `Some(empty)`: `MAILTO=""`, no mail.
    mail_to: Option<Vec<String>>,
    env: Vec<(String, String)>,
}

/// Reads the crontab line by line, as cron's `load_user` loop does.
fn convert(text: &str, system: bool) -> Converted {
    let mut out = Converted::default();
    // cron's environment list: ordered, a repeated name replaced in place
    // (`env_set`).
    let mut vars: Vec<(String, String)> = Vec::new();
    // The current run of comment lines (number, text) with no blank line
    // or other line after it yet: a candidate description.
    let mut block: Vec<(usize, String)> = Vec::new();
    // Comment lines for the YAML, waiting for the next job.
    let mut carried: Vec<String> = Vec::new();
    let mut names: HashSet<String> = HashSet::new();

    let mut lines: Vec<&str> = text.split('\n').collect();
    // A final newline does not start another line.
    if lines.last() == Some(&"") {
        lines.pop();
    }
    for (index, raw) in lines.into_iter().enumerate() {
        let number = index + 1;
        let line = match raw.strip_suffix('\r') {
            Some(stripped) => {
                out.note(NOTE_CRLF);
                stripped
            }
            None => raw,
        };
        // cron's skip_comments: only spaces and tabs count as leading blanks.
        let body = line.trim_start_matches([' ', '\t']);
        if body.is_empty() {
            flush_block(&mut block, &mut carried);
            continue;
        }
        if body.starts_with('#') {
            block.push((number, body.to_string()));
            continue;
        }
        let skip = |out: &mut Converted, carried: &mut Vec<String>, reason: String| {
            carried.push(format!("SKIPPED line {number} ({reason}): {line}"));
            out.skipped.push(Skipped {
                line: number,
                text: line.to_string(),
                reason,
            });
        };
        if body.contains('\0') {
            flush_block(&mut block, &mut carried);
            skip(&mut out, &mut carried, "contains a NUL byte".into());
            continue;
        }
        if let Some((name, value)) = parse_assignment(body) {
            flush_block(&mut block, &mut carried);
            match check_assignment(&name, &value) {
                Ok(()) => {
                    carried.push(format!("line {number}: {line}"));
                    set_var(&mut vars, name, value);
                }
                Err(reason) => skip(&mut out, &mut carried, reason),
            }
            continue;
        }
        let entry = match parse_entry(body, system) {
            Ok(entry) => entry,
            Err(reason) => {
                // The comments above a refused line stay in the YAML too.
                flush_block(&mut block, &mut carried);
                skip(&mut out, &mut carried, reason);
                continue;
            }
        };
        let settings = settings_of(&vars);
        if vars.iter().any(|(k, _)| k == "TZ") {
            out.note(NOTE_TZ);
        }
        let command = match convert_command(&entry.command, settings.shell.as_deref()) {
            Ok(command) => command,
            Err(reason) => {
                flush_block(&mut block, &mut carried);
                skip(&mut out, &mut carried, reason);
                continue;
            }
        };
        if command.stdin_text {
            out.note(NOTE_PERCENT);
        }
        if entry.no_log {
            out.note(NOTE_NO_LOG);
        }
        let description = take_description(&mut block, &mut carried);
        let name = unique_name(derive_name(&command.command_part), &mut names);
        out.jobs.push(Job {
            line: number,
            source: line.to_string(),
            name,
            description,
            comments: std::mem::take(&mut carried),
            schedule: entry.schedule,
            user: entry.user,
            command: command.text,
            settings,
        });
    }
    flush_block(&mut block, &mut carried);
    out.trailing_comments = carried;
    if !out.skipped.is_empty() {
        out.note(NOTE_SKIPPED);
    }
    out
}

const NOTE_CRLF: &str = "Windows (CRLF) line endings were removed; cron would have kept the \\r \
     as part of each command.";
const NOTE_TZ: &str = "TZ is kept in env only: cron passes it to the job but schedules by the \
     daemon's zone (CRON_TZ sets the schedule's zone, and became `timezone:`).";
const NOTE_PERCENT: &str = "Commands with cron's % (text for stdin) became \
     `printf '%s' '<text>' | ( <command> )`, feeding the command the same bytes.";
const NOTE_NO_LOG: &str = "The '-' prefix (no syslog line per run) was dropped: sundial records \
     every run in its history.";
const NOTE_SKIPPED: &str =
    "Some lines were not converted; they are kept below as comments starting with SKIPPED.";

/// Moves a comment block that did not end up as a description into the
/// comments carried to the YAML.
fn flush_block(block: &mut Vec<(usize, String)>, carried: &mut Vec<String>) {
    carried.extend(block.drain(..).map(|(_, text)| text));
}

/// Turns the comment block directly above an entry into its description.
/// Comment lines that are themselves commented-out entries (and the lines
/// before them, such as the example table in Debian's `/etc/crontab`) are
/// carried as comments instead.
fn take_description(block: &mut Vec<(usize, String)>, carried: &mut Vec<String>) -> Option<String> {
    let start = block
        .iter()
        .rposition(|(_, text)| looks_like_entry(text.trim_start_matches('#').trim_start()))
        .map_or(0, |i| i + 1);
    let described: Vec<(usize, String)> = block.drain(start..).collect();
    flush_block(block, carried);
    let words: Vec<&str> = described
        .iter()
        .map(|(_, text)| text.trim_start_matches('#').trim())
        .filter(|text| !text.is_empty())
        .collect();
    if words.is_empty() {
        None
    } else {
        Some(words.join(" "))
    }
}

/// Whether a comment's text reads as a crontab entry (either format), so it
/// is a disabled job or an example rather than a description.
fn looks_like_entry(text: &str) -> bool {
    if text.starts_with('@') {
        let word = text.split([' ', '\t']).next().unwrap_or("");
        return MACROS.contains(&&word[1..]) && text.len() > word.len();
    }
    let fields: Vec<&str> = text.split([' ', '\t']).filter(|f| !f.is_empty()).collect();
    fields.len() > 5
        && FIELDS
            .iter()
            .zip(&fields)
            .all(|(kind, text)| check_field(text, kind).is_ok())
}

// ---------------------------------------------------------------------------
// Assignments (cron's load_env)
// ---------------------------------------------------------------------------

/// cron's `isspace` (C locale).
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Parses `NAME=value` the way cronie's `load_env` does: the name and the
/// value may each be wrapped in `'` or `"` (no escapes inside), blanks around
/// `=` are allowed, an unquoted value loses its trailing blanks, and nothing
/// may follow a closing quote but blanks. `None`: not an assignment (cron
/// then reads the line as an entry). An empty unquoted value (`A=`) is not
/// an assignment for cron either.
fn parse_assignment(line: &str) -> Option<(String, String)> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum State {
        NameStart,
        Name,
        BeforeEq,
        AfterEq,
        ValueStart,
        Value,
        Done,
    }
    let bytes = line.as_bytes();
    let mut name = Vec::new();
    let mut value = Vec::new();
    let mut state = State::NameStart;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match state {
            State::NameStart | State::ValueStart => {
                if c == b'\'' || c == b'"' {
                    quote = Some(c);
                    i += 1;
                }
                state = if state == State::NameStart {
                    State::Name
                } else {
                    State::Value
                };
            }
            State::Name | State::Value => {
                if let Some(q) = quote {
                    if c == q {
                        state = if state == State::Name {
                            State::BeforeEq
                        } else {
                            State::Done
                        };
                        i += 1;
                        continue;
                    }
                    if state == State::Name && c == b'=' {
                        return None;
                    }
                } else if state == State::Name {
                    if is_c_space(c) {
                        state = State::BeforeEq;
                        i += 1;
                        continue;
                    }
                    if c == b'=' {
                        state = State::BeforeEq;
                        continue;
                    }
                }
                if state == State::Name {
                    name.push(c);
                } else {
                    value.push(c);
                }
                i += 1;
            }
            State::BeforeEq => {
                if c == b'=' {
                    state = State::AfterEq;
                    quote = None;
                } else if !is_c_space(c) {
                    return None;
                }
                i += 1;
            }
            State::AfterEq => {
                if is_c_space(c) {
                    i += 1;
                } else {
                    state = State::ValueStart;
                }
            }
            State::Done => {
                if is_c_space(c) {
                    i += 1;
                } else {
                    return None;
                }
            }
        }
    }
    match state {
        State::Done => {}
        State::Value if quote.is_none() => {
            while value.last().is_some_and(|&b| is_c_space(b)) {
                value.pop();
            }
        }
        _ => return None,
    }
    Some((
        String::from_utf8_lossy(&name).into_owned(),
        String::from_utf8_lossy(&value).into_owned(),
    ))
}

/// Assignments cron accepts that cannot (or need not) be carried over.
fn check_assignment(name: &str, value: &str) -> Result<(), String> {
    let valid_name = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid_name {
        return Err(format!(
            "`{name}` is not an environment variable name sundial accepts"
        ));
    }
    match name {
        "USER" | "LOGNAME" => Err(format!(
            "cron always sets {name} to the job's user, so this assignment has no effect"
        )),
        // cron execs SHELL without a PATH search and chdirs to HOME before
        // running a job: anything but an absolute path fails every later
        // job under cron, and sundial would refuse it in the config.
        "SHELL" | "HOME" if !value.starts_with('/') => Err(format!(
            "{name} must be an absolute path (cron would fail every job after it)"
        )),
        // cron refuses such a recipient; sundial refuses it in the config.
        "MAILTO" if value.chars().any(char::is_control) => {
            Err("MAILTO contains control characters".into())
        }
        _ => Ok(()),
    }
}

/// cronie's `env_set`: replace in place, else append.
fn set_var(vars: &mut Vec<(String, String)>, name: String, value: String) {
    match vars.iter_mut().find(|(k, _)| *k == name) {
        Some(slot) => slot.1 = value,
        None => vars.push((name, value)),
    }
}

/// What the variables set so far mean for a job (see the module doc).
fn settings_of(vars: &[(String, String)]) -> Settings {
    let mut settings = Settings::default();
    for (name, value) in vars {
        match name.as_str() {
            "SHELL" => settings.shell = Some(value.clone()),
            // An empty CRON_TZ is no zone at all: the daemon's.
            "CRON_TZ" => settings.timezone = (!value.is_empty()).then(|| value.clone()),
            "MAILTO" => {
                settings.mail_to = Some(
                    value
                        .split(|c: char| c == ',' || c.is_whitespace())
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect(),
                );
            }
            "HOME" => {
                settings.workdir = Some(value.clone());
                settings.env.push((name.clone(), value.clone()));
            }
            _ => settings.env.push((name.clone(), value.clone())),
        }
    }
    if !settings.env.iter().any(|(k, _)| k == "PATH") {
        settings
            .env
            .insert(0, ("PATH".into(), CRON_DEFAULT_PATH.into()));
    }
    settings
}

// ---------------------------------------------------------------------------
// Entries (cron's load_entry)
// ---------------------------------------------------------------------------

/// The macros cron knows (after `@`, lowercase only: cron uses `strcmp`).
const MACROS: &[&str] = &[
    "reboot", "yearly", "annually", "monthly", "weekly", "daily", "midnight", "hourly",
];

/// One entry as cron reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    schedule: String,
    user: Option<String>,
    /// Everything after the fields (or user), as cron stores it.
    command: String,
    /// cronie's `-` prefix: no syslog line per run.
    no_log: bool,
}

/// Splits off the next blank-separated word (cron's blanks: space and tab).
fn next_word(text: &str) -> (&str, &str) {
    let end = text.find([' ', '\t']).unwrap_or(text.len());
    (&text[..end], text[end..].trim_start_matches([' ', '\t']))
}

/// Reads an entry line (leading blanks already removed).
fn parse_entry(line: &str, system: bool) -> Result<Entry, String> {
    let (no_log, line) = match line.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let (schedule, sets, rest) = if let Some(after_at) = line.strip_prefix('@') {
        let (word, rest) = next_word(after_at);
        if !MACROS.contains(&word) {
            return Err(format!(
                "bad time specifier `@{word}`: cron knows @reboot, @yearly, @annually, \
                 @monthly, @weekly, @daily, @midnight and @hourly"
            ));
        }
        (format!("@{word}"), CronSets::of_macro(word), rest)
    } else {
        let mut rest = line;
        let mut fields = Vec::with_capacity(5);
        let mut bits = [0u64; 5];
        for (kind, slot) in FIELDS.iter().zip(&mut bits) {
            let (word, after) = next_word(rest);
            if word.is_empty() {
                return Err(format!("missing {} field", kind.name));
            }
            *slot = check_field(word, kind)?;
            fields.push(word);
            rest = after;
        }
        let schedule = fields.join(" ");
        check_can_fire(&fields)?;
        let sets = CronSets {
            minutes: bits[0],
            hours: bits[1],
            days_of_month: bits[2],
            months: bits[3],
            days_of_week: bits[4],
            dom_star: fields[2].starts_with('*'),
            dow_star: fields[4].starts_with('*'),
        };
        (schedule, Some(sets), rest)
    };
    if rest.is_empty() {
        return Err(if system {
            "missing user and command".into()
        } else {
            "missing command".into()
        });
    }
    // cron's check for a common typo: a sixth time field.
    if rest.starts_with('*') {
        return Err(format!(
            "{} starts with `*`: cron refuses this (a sixth time field?)",
            if system { "user" } else { "command" }
        ));
    }
    let (user, command) = if system {
        let (user, command) = next_word(rest);
        if command.is_empty() {
            return Err(format!("missing command after user `{user}`"));
        }
        (Some(user.to_string()), command)
    } else {
        (None, rest)
    };
    check_schedule(&schedule, sets)?;
    Ok(Entry {
        schedule,
        user,
        command: command.to_string(),
        no_log,
    })
}

/// What cron makes of a schedule (`entry.c`): the values of each field
/// (bit `n` for value `n`) and its `DOM_STAR`/`DOW_STAR` flags, which pick
/// AND (either flag) or OR (neither) for the two day fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CronSets {
    minutes: u64,
    hours: u64,
    days_of_month: u64,
    months: u64,
    /// 0..=7 as cron stores it; Sunday may be bit 0, bit 7 or both.
    days_of_week: u64,
    dom_star: bool,
    dow_star: bool,
}

impl CronSets {
    /// The expansion cron's `load_entry` gives each macro; `None` for
    /// `@reboot`, which has no times.
    fn of_macro(word: &str) -> Option<CronSets> {
        const ALL_HOURS: u64 = (1 << 24) - 1;
        const ALL_DAYS: u64 = ((1 << 32) - 1) & !1;
        const ALL_MONTHS: u64 = ((1 << 13) - 1) & !1;
        const ALL_WEEKDAYS: u64 = (1 << 8) - 1;
        let (days_of_month, months, days_of_week, dom_star, dow_star) = match word {
            "yearly" | "annually" => (1 << 1, 1 << 1, ALL_WEEKDAYS, false, true),
            "monthly" => (1 << 1, ALL_MONTHS, ALL_WEEKDAYS, false, true),
            "weekly" => (ALL_DAYS, ALL_MONTHS, 1, false, true),
            "daily" | "midnight" | "hourly" => (ALL_DAYS, ALL_MONTHS, ALL_WEEKDAYS, false, false),
            _ => return None,
        };
        let hours = if word == "hourly" { ALL_HOURS } else { 1 };
        Some(CronSets {
            minutes: 1,
            hours,
            days_of_month,
            months,
            days_of_week,
            dom_star,
            dow_star,
        })
    }

    /// The days cron would run on, as a predicate's inputs: with either
    /// flag a day must be in both sets, with neither in one of them. When a
    /// set is full the rule makes no difference, so it is normalized away.
    fn day_rule(dom: u64, dow: u64, dom_star: bool, dow_star: bool) -> (u64, u64, bool) {
        const ALL_DAYS: u64 = ((1 << 32) - 1) & !1;
        const ALL_WEEKDAYS: u64 = (1 << 7) - 1;
        let or = !(dom_star || dow_star);
        if dom == ALL_DAYS && dow == ALL_WEEKDAYS {
            return (dom, dow, false);
        }
        (dom, dow, or)
    }
}

/// Checks that sundial reads the expression the way cron does: it must
/// parse, and select the same values in every field with the same day rule
/// (SPEC 4 says the engines agree; this makes sure, line by line, and turns a
/// disagreement into a skipped line rather than a job firing at other times).
fn check_schedule(schedule: &str, cron: Option<CronSets>) -> Result<(), String> {
    use crate::schedule::Schedule;
    let parsed = Schedule::parse(schedule).map_err(|e| match &e.hint {
        Some(hint) => format!("sundial cannot read `{schedule}`: {e}; {hint}"),
        None => format!("sundial cannot read `{schedule}`: {e}"),
    })?;
    let differs = || {
        Err(format!(
            "sundial would read `{schedule}` differently from cron; please report this"
        ))
    };
    let (cron, sundial) = match (cron, parsed) {
        (None, Schedule::Reboot) => return Ok(()),
        (Some(cron), Schedule::Cron(sundial)) => (cron, sundial),
        _ => return differs(),
    };
    // cron keeps Sunday as both 0 and 7; sundial as 0 only.
    let mut cron_dow = cron.days_of_week;
    if cron_dow & (1 | 1 << 7) != 0 {
        cron_dow = (cron_dow | 1) & !(1 << 7);
    }
    let cron_days = CronSets::day_rule(cron.days_of_month, cron_dow, cron.dom_star, cron.dow_star);
    let sundial_days = CronSets::day_rule(
        sundial.days_of_month().bits(),
        sundial.days_of_week().bits(),
        !sundial.dom_restricted(),
        !sundial.dow_restricted(),
    );
    let same = !sundial.has_seconds()
        && sundial.seconds().bits() == 1
        && sundial.minutes().bits() == cron.minutes
        && sundial.hours().bits() == cron.hours
        && sundial.months().bits() == cron.months
        && cron_days == sundial_days
        && !sundial.last_day_of_month()
        && sundial.last_weekdays().is_empty()
        && sundial.nth_weekdays().is_empty();
    if same { Ok(()) } else { differs() }
}

/// A time field's bounds and names, as in cron's `entry.c`.
struct FieldKind {
    name: &'static str,
    low: u32,
    high: u32,
    names: &'static [&'static str],
}

const MONTH_NAMES: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DOW_NAMES: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const FIELDS: [FieldKind; 5] = [
    FieldKind {
        name: "minute",
        low: 0,
        high: 59,
        names: &[],
    },
    FieldKind {
        name: "hour",
        low: 0,
        high: 23,
        names: &[],
    },
    FieldKind {
        name: "day-of-month",
        low: 1,
        high: 31,
        names: &[],
    },
    FieldKind {
        name: "month",
        low: 1,
        high: 12,
        names: MONTH_NAMES,
    },
    FieldKind {
        name: "day-of-week",
        low: 0,
        high: 7,
        names: DOW_NAMES,
    },
];

/// Checks one field against cron's grammar (`get_list`, `get_range`,
/// `get_number`) and returns the set of values it selects, bit `n` for
/// value `n`. Stricter than cron in one way: cron ignores anything after a
/// bare `*` (`*-5`, `**` read as `*`); such fields are refused here, since
/// copying them would rely on sundial sharing that accident.
fn check_field(text: &str, kind: &FieldKind) -> Result<u64, String> {
    let bad = |why: &str| format!("bad {} `{text}`: {why}", kind.name);
    let number = |s: &str| -> Result<u32, String> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            let n = s.parse::<u32>().map_err(|_| bad("number too large"))?;
            return Ok(n);
        }
        kind.names
            .iter()
            .position(|name| name.eq_ignore_ascii_case(s))
            .map(|i| i as u32 + kind.low)
            .ok_or_else(|| {
                if s.is_empty() {
                    bad("empty list element")
                } else if kind.names.is_empty() {
                    bad(&format!("`{s}` is not a number"))
                } else {
                    bad(&format!("`{s}` is not a number or a three-letter name"))
                }
            })
    };
    let mut bits = 0u64;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                if step.is_empty() || !step.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad(&format!("step `{step}` is not a number")));
                }
                let step = step.parse::<u32>().unwrap_or(u32::MAX);
                if step == 0 {
                    return Err(bad("a step of 0"));
                }
                (range, Some(step))
            }
            None => (item, None),
        };
        let (first, last) = if range == "*" {
            (kind.low, kind.high)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (number(a)?, number(b)?);
            if a > b {
                return Err(bad(&format!("range {a}-{b} runs backwards")));
            }
            (a, b)
        } else {
            if step.is_some() {
                return Err(bad("a step needs `*` or a range before it"));
            }
            let n = number(range)?;
            (n, n)
        };
        // cron checks each value it visits, not the range's end.
        let mut value = first;
        while value <= last {
            if value < kind.low || value > kind.high {
                return Err(bad(&format!(
                    "{value} is outside {}-{}",
                    kind.low, kind.high
                )));
            }
            bits |= 1 << value;
            value = match value.checked_add(step.unwrap_or(1)) {
                Some(next) => next,
                None => break,
            };
        }
    }
    Ok(bits)
}

/// Refuses expressions cron accepts but that can never fire (`0 0 30 2 *`):
/// sundial reports those as configuration errors. When either day field
/// starts with `*` a day must match both, so only the day-of-month and month
/// fields decide; when both are restricted, any weekday makes it fire.
fn check_can_fire(fields: &[&str]) -> Result<(), String> {
    let [_, _, dom, month, dow] = fields else {
        return Ok(());
    };
    if !(dom.starts_with('*') || dow.starts_with('*')) {
        return Ok(());
    }
    let dom_bits = check_field(dom, &FIELDS[2])?;
    let month_bits = check_field(month, &FIELDS[3])?;
    const DAYS: [u32; 13] = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let possible = (1..=12u32)
        .filter(|m| month_bits & (1 << m) != 0)
        .any(|m| (1..=DAYS[m as usize]).any(|d| dom_bits & (1 << d) != 0));
    if possible {
        Ok(())
    } else {
        Err(format!(
            "`{} {}` never happens: cron accepts this but never runs it",
            dom, month
        ))
    }
}

// ---------------------------------------------------------------------------
// Commands (cron's `%` rules, do_command.c)
// ---------------------------------------------------------------------------

/// A cron command made fit for `<shell> -c`.
struct Command {
    /// The full text for sundial's `command:`.
    text: String,
    /// The part before the first unescaped `%`, for naming.
    command_part: String,
    /// Whether there was text for stdin (and so a wrapper).
    stdin_text: bool,
}

/// Applies cron's `%` rules (see the module doc) to a raw command.
fn convert_command(raw: &str, shell: Option<&str>) -> Result<Command, String> {
    let (command_part, input) = split_percent(raw);
    if command_part.trim().is_empty() {
        return Err("empty command".into());
    }
    if input.is_empty() {
        // Nothing for stdin: cron's pipe gives EOF at once, as /dev/null does.
        return Ok(Command {
            text: command_part.clone(),
            command_part,
            stdin_text: false,
        });
    }
    let shell_name = shell
        .map(|s| s.rsplit('/').next().unwrap_or(s))
        .unwrap_or("sh");
    if !POSIX_SHELLS.contains(&shell_name) {
        return Err(format!(
            "`%` feeds text to stdin, which needs a POSIX shell for the converted command, \
             but SHELL is `{}`",
            shell.unwrap_or_default()
        ));
    }
    let stdin = stdin_bytes(&input);
    let text = format!(
        "printf '%s' {} | (\n{}\n)",
        shell_single_quote(&stdin),
        command_part
    );
    Ok(Command {
        text,
        command_part,
        stdin_text: true,
    })
}

/// cron's first pass: the command ends at the first `%` not preceded by a
/// backslash; `\%` in the command becomes `%`, any other `\x` stays. A
/// backslash escapes exactly the next character (so `\\%` ends the command).
fn split_percent(raw: &str) -> (String, String) {
    let mut command = String::with_capacity(raw.len());
    let mut escaped = false;
    for (i, ch) in raw.char_indices() {
        if escaped {
            if ch == '%' {
                command.pop();
            }
            command.push(ch);
            escaped = false;
            continue;
        }
        if ch == '\\' {
            escaped = true;
            command.push(ch);
            continue;
        }
        if ch == '%' {
            return (command, raw[i + 1..].to_string());
        }
        command.push(ch);
    }
    (command, String::new())
}

/// cron's second pass over the text after the first `%`, byte for byte as
/// `child_process` writes it: `%` → newline, `\%` → `%`, any other
/// backslash kept; then a newline when the last character written was not
/// one (a trailing lone backslash is written after that check, as in cron).
fn stdin_bytes(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 1);
    let mut escaped = false;
    let mut need_newline = false;
    for mut ch in input.chars() {
        if escaped {
            if ch != '%' {
                out.push('\\');
            }
        } else if ch == '%' {
            ch = '\n';
        }
        escaped = ch == '\\';
        if !escaped {
            out.push(ch);
            need_newline = ch != '\n';
        }
    }
    if escaped {
        out.push('\\');
    }
    if need_newline {
        out.push('\n');
    }
    out
}

/// `'...'` for the shell: every byte literal, `'` written as `'\''`.
fn shell_single_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

// ---------------------------------------------------------------------------
// Job names
// ---------------------------------------------------------------------------

/// Reserved words and grouping that come before the real command.
const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time",
];
/// Programs that check or prepare rather than do the job's work.
const GUARDS: &[&str] = &[
    "test", "[", "[[", "]]", "cd", "true", "false", ":", "sleep", "echo", "printf", "exit",
    "return", "set", "export", "umask", "ulimit", "read", "wait", "which", "type", "hash",
    "source", ".", "date", "mkdir", "trap", "unset", "shift", "eval", "let", "local",
];
/// Programs that run another program given after their options.
const WRAPPERS: &[&str] = &[
    "nice",
    "ionice",
    "nohup",
    "sudo",
    "exec",
    "env",
    "timeout",
    "flock",
    "chronic",
    "setsid",
    "stdbuf",
    "chrt",
    "taskset",
    "setlock",
    "cronic",
    "time",
    "doas",
    "systemd-cat",
    "unbuffer",
];
/// Wrappers that take one positional argument before the program.
const WRAPPERS_WITH_ARG: &[&str] = &["flock", "chrt", "taskset", "setlock", "timeout"];
/// Each wrapper's options that take a separate value (`nice -n 19`).
const WRAPPER_OPTIONS_WITH_VALUE: &[(&str, &[&str])] = &[
    ("nice", &["-n", "--adjustment"]),
    (
        "ionice",
        &["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"],
    ),
    (
        "sudo",
        &["-u", "-g", "-C", "-p", "-h", "-U", "-r", "-t", "-D"],
    ),
    ("doas", &["-u", "-C"]),
    ("timeout", &["-s", "-k", "--signal", "--kill-after"]),
    ("flock", &["-w", "-E", "--timeout", "--conflict-exit-code"]),
    ("stdbuf", &["-i", "-o", "-e"]),
    ("systemd-cat", &["-t", "-p", "--identifier", "--priority"]),
    ("env", &["-u", "-C", "--unset", "--chdir"]),
    ("setlock", &[]),
];
/// Interpreters: the job is named after the script they run.
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "python", "python2", "python3", "perl", "php", "ruby",
    "node", "nodejs", "lua", "tclsh", "Rscript", "java", "deno", "bun", "pwsh",
];
/// Interpreter flags whose argument is inline code rather than a script.
const INLINE_CODE_FLAGS: &[&str] = &["-c", "-e", "-E", "-r", "--eval", "--command"];
/// Programs whose first argument says what they do.
const DISPATCHERS: &[&str] = &["run-parts", "invoke-rc.d", "service", "systemctl", "make"];
/// Extensions dropped from script names.
const SCRIPT_EXTENSIONS: &[&str] = &[
    ".sh", ".bash", ".zsh", ".ksh", ".py", ".pl", ".rb", ".php", ".js", ".lua", ".tcl", ".R",
];
/// Longest generated name, before a `-N` suffix.
const NAME_MAX: usize = 48;

/// A shell token, as far as naming needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A word with its quotes and escapes removed.
    Word(String),
    /// `>`, `2>>`, `<`, `&>` ...: the next word is a file, not an argument.
    Redirect,
    /// `;`, `&&`, `||`, `|`, `&`, `(`, `)`, newline: a new command starts.
    Separator,
}

/// A light shell lexer: quotes, escapes, `$( )` and backquotes are kept
/// inside words, a `#` at a word start ends the line. Good enough to find
/// program names; never used to run anything.
fn shell_tokens(command: &str) -> Vec<Token> {
    let chars: Vec<char> = command.chars().collect();
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut i = 0;
    let flush = |word: &mut String, in_word: &mut bool, tokens: &mut Vec<Token>| {
        if *in_word {
            tokens.push(Token::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            ' ' | '\t' => {
                flush(&mut word, &mut in_word, &mut tokens);
                i += 1;
            }
            '&' if next == Some('>') => {
                flush(&mut word, &mut in_word, &mut tokens);
                tokens.push(Token::Redirect);
                i += 2;
                while chars.get(i) == Some(&'>') {
                    i += 1;
                }
            }
            '\n' | ';' | '|' | '&' | '(' | ')' => {
                flush(&mut word, &mut in_word, &mut tokens);
                tokens.push(Token::Separator);
                i += 1;
            }
            '<' | '>' => {
                if in_word && word.bytes().all(|b| b.is_ascii_digit()) {
                    // `2>`: the digits name a descriptor, not an argument.
                    word.clear();
                    in_word = false;
                }
                flush(&mut word, &mut in_word, &mut tokens);
                tokens.push(Token::Redirect);
                i += 1;
                while i < chars.len() && matches!(chars[i], '<' | '>' | '&' | '|') {
                    i += 1;
                }
                if chars.get(i) == Some(&'-') {
                    // `>&-` closes a descriptor: no file word follows.
                    tokens.pop();
                    i += 1;
                }
            }
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '\\' => {
                in_word = true;
                if let Some(n) = next {
                    word.push(n);
                }
                i += 2;
            }
            '$' if next == Some('(') => {
                in_word = true;
                let mut depth = 0usize;
                while i < chars.len() {
                    match chars[i] {
                        '(' => depth += 1,
                        ')' => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                    word.push(chars[i]);
                    i += 1;
                    if depth == 0 && chars[i - 1] == ')' {
                        break;
                    }
                }
            }
            '`' => {
                in_word = true;
                word.push(c);
                i += 1;
                while i < chars.len() && chars[i] != '`' {
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '#' if !in_word => break,
            _ => {
                in_word = true;
                word.push(c);
                i += 1;
            }
        }
    }
    flush(&mut word, &mut in_word, &mut tokens);
    tokens
}

/// The argument words of each simple command, redirections removed.
fn simple_commands(tokens: &[Token]) -> Vec<Vec<String>> {
    let mut commands = vec![Vec::new()];
    let mut skip_next_word = false;
    for token in tokens {
        match token {
            Token::Separator => {
                commands.push(Vec::new());
                skip_next_word = false;
            }
            Token::Redirect => skip_next_word = true,
            Token::Word(word) => {
                if std::mem::take(&mut skip_next_word) {
                    continue;
                }
                if let Some(current) = commands.last_mut() {
                    current.push(word.clone());
                }
            }
        }
    }
    commands.retain(|c| !c.is_empty());
    commands
}

fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            name.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }
        None => false,
    }
}

/// Drops reserved words, `VAR=value` prefixes and wrappers (with their
/// options) from the front of a simple command.
fn strip_wrappers(words: &[String]) -> &[String] {
    let mut words = words;
    while let Some(first) = words.first() {
        if RESERVED.contains(&first.as_str()) || is_assignment(first) {
            words = &words[1..];
            continue;
        }
        let program = basename(first);
        if !WRAPPERS.contains(&program) {
            break;
        }
        words = &words[1..];
        while let Some(word) = words.first() {
            if word.starts_with('-') && word.len() > 1 {
                let takes_value = WRAPPER_OPTIONS_WITH_VALUE
                    .iter()
                    .any(|(w, opts)| *w == program && opts.contains(&word.as_str()));
                words = &words[(if takes_value { 2 } else { 1 }).min(words.len())..];
            } else if program == "env" && is_assignment(word) {
                words = &words[1..];
            } else {
                break;
            }
        }
        if WRAPPERS_WITH_ARG.contains(&program) && !words.is_empty() {
            words = &words[1..];
        }
    }
    words
}

/// The first argument that is not an option.
fn first_operand(args: &[String]) -> Option<&str> {
    args.iter()
        .map(String::as_str)
        .find(|a| !a.starts_with('-') && !a.is_empty())
}

fn strip_extension(name: &str) -> &str {
    SCRIPT_EXTENSIONS
        .iter()
        .find_map(|ext| name.strip_suffix(ext).filter(|s| !s.is_empty()))
        .unwrap_or(name)
}

/// A readable name for a command (see the module doc), not yet unique.
fn derive_name(command: &str) -> String {
    raw_name(command, 0).map_or_else(|| "job".to_string(), |n| sanitize_name(&n))
}

fn raw_name(command: &str, depth: usize) -> Option<String> {
    let mut fallback = None;
    for words in simple_commands(&shell_tokens(command)) {
        let words = strip_wrappers(&words);
        let Some(first) = words.first() else { continue };
        if matches!(first.as_str(), "for" | "case" | "select" | "function") {
            continue;
        }
        let program = basename(first);
        let args = &words[1..];
        fallback.get_or_insert_with(|| program.to_string());
        if GUARDS.contains(&program)
            || (program == "command" && args.first().is_some_and(|a| a == "-v" || a == "-V"))
        {
            continue;
        }
        if program == "command" && !args.is_empty() {
            // `command prog args`: name it after prog.
            return Some(strip_extension(basename(&args[0])).to_string());
        }
        let interpreter = INTERPRETERS.contains(&program)
            || program.starts_with("python")
            || program.starts_with("php");
        if interpreter {
            if let Some(i) = args
                .iter()
                .position(|a| INLINE_CODE_FLAGS.contains(&a.as_str()))
            {
                // `sh -c 'code'`: look inside the code; `perl -e` and the
                // like are usually helpers (a random sleep), not the job.
                if depth < 2
                    && ["sh", "bash", "dash", "zsh", "ksh"].contains(&program)
                    && let Some(name) = args.get(i + 1).and_then(|c| raw_name(c, depth + 1))
                {
                    return Some(name);
                }
                continue;
            }
            return Some(match first_operand(args) {
                Some(script) => strip_extension(basename(script)).to_string(),
                None => program.to_string(),
            });
        }
        if DISPATCHERS.contains(&program) {
            return Some(match first_operand(args) {
                Some(arg) => format!("{program}-{}", basename(arg)),
                None => program.to_string(),
            });
        }
        return Some(strip_extension(program).to_string());
    }
    fallback
}

/// Keeps `[A-Za-z0-9_.-]`, turns runs of anything else into one `-`.
fn sanitize_name(raw: &str) -> String {
    let mut name = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let mut name = name.trim_matches(['-', '.']).to_string();
    if name.len() > NAME_MAX {
        name.truncate(NAME_MAX);
        name = name.trim_end_matches(['-', '.']).to_string();
    }
    if name.is_empty() {
        "job".to_string()
    } else {
        name
    }
}

/// `base`, or `base-2`, `base-3`, ... whichever is free first.
fn unique_name(base: String, taken: &mut HashSet<String>) -> String {
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

// ---------------------------------------------------------------------------
// YAML output
// ---------------------------------------------------------------------------

/// A double-quoted YAML scalar: the only style where every string, whatever
/// it holds (`:`, `#`, quotes, a leading `*` or `@`, newlines), reads back
/// unchanged. Control characters and the characters YAML treats as line
/// breaks are escaped; other Unicode is written as is.
fn yaml_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if ('\u{80}'..='\u{9f}').contains(&c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            '\u{2028}' | '\u{2029}' | '\u{feff}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A mapping key: plain when it cannot be read as anything but that string,
/// double-quoted otherwise (`true`, `null`, `1.5`, `-x` ...).
fn yaml_key(key: &str) -> String {
    const SPECIAL: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ];
    let plain = key.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && !SPECIAL.iter().any(|s| s.eq_ignore_ascii_case(key));
    if plain {
        key.to_string()
    } else {
        yaml_str(key)
    }
}

/// A comment line's text: one line, no control characters.
fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn push_comment(out: &mut String, indent: &str, text: &str) {
    let text = comment_text(text);
    let text = text.trim_start_matches('#').trim_end();
    if text.is_empty() {
        let _ = writeln!(out, "{indent}#");
    } else {
        let _ = writeln!(out, "{indent}# {}", text.trim_start());
    }
}

fn push_env(out: &mut String, indent: &str, env: &[(String, String)]) {
    let _ = writeln!(out, "{indent}env:");
    for (name, value) in env {
        let _ = writeln!(out, "{indent}  {}: {}", yaml_key(name), yaml_str(value));
    }
}

fn push_list(out: &mut String, indent: &str, key: &str, items: &[String]) {
    let items: Vec<String> = items.iter().map(|s| yaml_str(s)).collect();
    let _ = writeln!(out, "{indent}{key}: [{}]", items.join(", "));
}

/// Which settings every job shares, so they go into `defaults:` (or the
/// top-level `timezone:`) once.
struct Shared {
    timezone: Option<String>,
    shell: Option<String>,
    workdir: Option<String>,
    mail_to: Option<Vec<String>>,
    env: Option<Vec<(String, String)>>,
}

fn shared_settings(jobs: &[Job]) -> Shared {
    fn common<T: Clone + PartialEq>(jobs: &[Job], get: impl Fn(&Settings) -> T) -> Option<T> {
        let first = get(&jobs.first()?.settings);
        jobs.iter()
            .all(|j| get(&j.settings) == first)
            .then_some(first)
    }
    Shared {
        timezone: common(jobs, |s| s.timezone.clone()).flatten(),
        shell: common(jobs, |s| s.shell.clone()).flatten(),
        workdir: common(jobs, |s| s.workdir.clone()).flatten(),
        // A shared "no mail" needs no key at all.
        mail_to: common(jobs, |s| s.mail_to.clone())
            .flatten()
            .filter(|l| !l.is_empty()),
        env: common(jobs, |s| s.env.clone()),
    }
}

fn render(conv: &Converted, source_name: &str, system: bool) -> String {
    let mut out = String::new();
    let format = if system {
        "system format, with a user column"
    } else {
        "user format"
    };
    push_comment(
        &mut out,
        "",
        &format!(
            "sundial jobs converted by `sundial import-crontab` from {source_name} ({format})."
        ),
    );
    let mut notes: Vec<&str> = vec![
        "Schedules are copied as written: sundial reads cron expressions the way Vixie cron does.",
        "overlap: allow, because cron starts every run even while the previous one still runs.",
        "PATH is written out: cron's default is /usr/bin:/bin, shorter than sundial's.",
        "cron mails any output to MAILTO (or the crontab's owner); sundial mails only the output \
         of failed runs, and only to mail_to. All output is kept in sundial's job logs.",
    ];
    notes.extend(conv.notes.iter().copied());
    let _ = writeln!(out, "#");
    let _ = writeln!(out, "# Conversion notes:");
    for note in notes {
        let _ = writeln!(out, "# - {note}");
    }
    let _ = writeln!(out);

    let shared = shared_settings(&conv.jobs);
    if let Some(tz) = &shared.timezone {
        let _ = writeln!(out, "timezone: {}", yaml_str(tz));
    }
    let _ = writeln!(out, "defaults:");
    let _ = writeln!(out, "  overlap: allow");
    if let Some(shell) = &shared.shell {
        let _ = writeln!(out, "  shell: {}", yaml_str(shell));
    }
    if let Some(workdir) = &shared.workdir {
        let _ = writeln!(out, "  workdir: {}", yaml_str(workdir));
    }
    if let Some(mail_to) = &shared.mail_to {
        push_list(&mut out, "  ", "mail_to", mail_to);
    }
    if let Some(env) = &shared.env {
        push_env(&mut out, "  ", env);
    }

    if conv.jobs.is_empty() {
        let _ = writeln!(out, "jobs: {{}}");
    } else {
        let _ = writeln!(out, "jobs:");
    }
    for job in &conv.jobs {
        let _ = writeln!(out);
        for comment in &job.comments {
            push_comment(&mut out, "  ", comment);
        }
        push_comment(
            &mut out,
            "  ",
            &format!("line {}: {}", job.line, job.source),
        );
        let _ = writeln!(out, "  {}:", yaml_key(&job.name));
        let ind = "    ";
        if let Some(description) = &job.description {
            let _ = writeln!(out, "{ind}description: {}", yaml_str(description));
        }
        let _ = writeln!(out, "{ind}schedule: {}", yaml_str(&job.schedule));
        let _ = writeln!(out, "{ind}command: {}", yaml_str(&job.command));
        if let Some(user) = &job.user {
            let _ = writeln!(out, "{ind}user: {}", yaml_str(user));
        }
        let s = &job.settings;
        if shared.timezone.is_none()
            && let Some(value) = &s.timezone
        {
            let _ = writeln!(out, "{ind}timezone: {}", yaml_str(value));
        }
        if shared.shell.is_none()
            && let Some(value) = &s.shell
        {
            let _ = writeln!(out, "{ind}shell: {}", yaml_str(value));
        }
        if shared.workdir.is_none()
            && let Some(value) = &s.workdir
        {
            let _ = writeln!(out, "{ind}workdir: {}", yaml_str(value));
        }
        if shared.mail_to.is_none()
            && let Some(mail_to) = s.mail_to.as_ref().filter(|l| !l.is_empty())
        {
            push_list(&mut out, ind, "mail_to", mail_to);
        }
        if shared.env.is_none() {
            push_env(&mut out, ind, &s.env);
        }
    }
    if !conv.trailing_comments.is_empty() {
        let _ = writeln!(out);
        for comment in &conv.trailing_comments {
            push_comment(&mut out, "  ", comment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    /// A job as the YAML says it, every field optional, unknown keys refused.
    #[derive(Debug, Default, Clone, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct YamlJob {
        description: Option<String>,
        schedule: Option<String>,
        command: Option<String>,
        user: Option<String>,
        timezone: Option<String>,
        shell: Option<String>,
        workdir: Option<String>,
        mail_to: Option<Vec<String>>,
        env: Option<BTreeMap<String, String>>,
        overlap: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct YamlFile {
        timezone: Option<String>,
        defaults: Option<YamlJob>,
        jobs: BTreeMap<String, YamlJob>,
    }

    /// Loads the YAML back and applies `defaults` field by field (a job's
    /// field replaces the default's), as SPEC 3 describes: what each job
    /// would run with.
    fn load(yaml: &str) -> BTreeMap<String, YamlJob> {
        let file: YamlFile = serde_saphyr::from_str(yaml)
            .unwrap_or_else(|e| panic!("invalid YAML: {e}\n---\n{yaml}"));
        let d = file.defaults.unwrap_or_default();
        file.jobs
            .into_iter()
            .map(|(name, j)| {
                let job = YamlJob {
                    description: j.description,
                    schedule: j.schedule,
                    command: j.command,
                    user: j.user,
                    timezone: j.timezone.or_else(|| file.timezone.clone()),
                    shell: j.shell.or_else(|| d.shell.clone()),
                    workdir: j.workdir.or_else(|| d.workdir.clone()),
                    mail_to: j.mail_to.or_else(|| d.mail_to.clone()),
                    env: j.env.or_else(|| d.env.clone()),
                    overlap: j.overlap.or_else(|| d.overlap.clone()),
                };
                (name, job)
            })
            .collect()
    }

    fn env(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn fixture(path: &str) -> String {
        let full = format!(
            "{}/tests/fixtures/crontab/{path}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
    }

    /// Converts a user crontab and returns the import and the loaded jobs.
    fn user(text: &str) -> (Import, BTreeMap<String, YamlJob>) {
        let import = import(text, "test", false);
        let jobs = load(&import.yaml);
        assert_eq!(jobs.len(), import.jobs.len(), "{}", import.yaml);
        (import, jobs)
    }

    fn only_job(text: &str) -> YamlJob {
        let (import, jobs) = user(text);
        assert_eq!(jobs.len(), 1, "{}\n{:?}", import.yaml, import.skipped);
        jobs.into_values().next().unwrap()
    }

    fn skip_reason(text: &str) -> String {
        let (import, jobs) = user(text);
        assert!(jobs.is_empty(), "{text:?}: {}", import.yaml);
        assert_eq!(import.skipped.len(), 1, "{text:?}: {:?}", import.skipped);
        import.skipped[0].reason.clone()
    }

    // -- real crontabs ------------------------------------------------------

    const DEBIAN_PATH: &str = "/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin";

    /// (name, schedule, command) of every job of a Debian fixture; all run
    /// as root.
    fn check_debian(
        file: &str,
        shell: Option<&str>,
        path: &str,
        expected: &[(&str, &str, &str, Option<&str>)],
    ) {
        let import = import(&fixture(&format!("debian/{file}")), file, true);
        assert!(import.skipped.is_empty(), "{file}: {:?}", import.skipped);
        let names: Vec<&str> = expected.iter().map(|e| e.0).collect();
        assert_eq!(import.jobs, names, "{file}");
        assert!(import.yaml.starts_with(&format!(
            "# sundial jobs converted by `sundial import-crontab` from {file} (system format"
        )));
        let jobs = load(&import.yaml);
        for (name, schedule, command, description) in expected {
            let job = &jobs[*name];
            assert_eq!(job.schedule.as_deref(), Some(*schedule), "{file} {name}");
            assert_eq!(job.command.as_deref(), Some(*command), "{file} {name}");
            assert_eq!(job.description.as_deref(), *description, "{file} {name}");
            assert_eq!(job.user.as_deref(), Some("root"), "{file} {name}");
            assert_eq!(job.shell.as_deref(), shell, "{file} {name}");
            assert_eq!(job.env, env(&[("PATH", path)]), "{file} {name}");
            assert_eq!(job.overlap.as_deref(), Some("allow"));
            assert_eq!(job.timezone, None);
            assert_eq!(job.mail_to, None);
            assert_eq!(job.workdir, None);
        }
    }

    #[test]
    fn debian_etc_crontab() {
        let daily = |period: &str| {
            format!(
                "test -x /usr/sbin/anacron || {{ cd / && run-parts --report /etc/cron.{period}; }}"
            )
        };
        check_debian(
            "crontab",
            Some("/bin/sh"),
            DEBIAN_PATH,
            &[
                (
                    "run-parts-cron.hourly",
                    "17 * * * *",
                    "cd / && run-parts --report /etc/cron.hourly",
                    None,
                ),
                ("run-parts-cron.daily", "25 6 * * *", &daily("daily"), None),
                (
                    "run-parts-cron.weekly",
                    "47 6 * * 7",
                    &daily("weekly"),
                    None,
                ),
                (
                    "run-parts-cron.monthly",
                    "52 6 1 * *",
                    &daily("monthly"),
                    None,
                ),
            ],
        );
        // The example table above the first entry is a comment, not its
        // description, and the trailing `#` line is kept.
        let yaml = import(&fixture("debian/crontab"), "x", true).yaml;
        assert!(yaml.contains("  # *  *  *  *  * user-name command to be executed\n"));
        assert!(yaml.contains("  # line 7: SHELL=/bin/sh\n"));
        assert!(yaml.ends_with("\n  #\n"), "{yaml}");
    }

    #[test]
    fn debian_cron_d_anacron() {
        check_debian(
            "cron.d-anacron",
            Some("/bin/sh"),
            DEBIAN_PATH,
            &[(
                "invoke-rc.d-anacron",
                "30 7-23 * * *",
                "[ -x /etc/init.d/anacron ] && if [ ! -d /run/systemd/system ]; then \
                 /usr/sbin/invoke-rc.d anacron start >/dev/null; fi",
                None,
            )],
        );
    }

    #[test]
    fn debian_cron_d_certbot() {
        check_debian(
            "cron.d-certbot",
            Some("/bin/sh"),
            DEBIAN_PATH,
            &[(
                "certbot",
                "0 */12 * * *",
                "test -x /usr/bin/certbot -a \\! -d /run/systemd/system && \
                 perl -e 'sleep int(rand(43200))' && certbot -q renew --no-random-sleep-on-renew",
                // The comment block ends before SHELL=, so it is no description.
                None,
            )],
        );
    }

    #[test]
    fn debian_cron_d_e2scrub_all() {
        check_debian(
            "cron.d-e2scrub_all",
            None,
            CRON_DEFAULT_PATH,
            &[
                (
                    "e2scrub_all_cron",
                    "30 3 * * 0",
                    "test -e /run/systemd/system || SERVICE_MODE=1 \
                     /usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron",
                    None,
                ),
                (
                    "e2scrub_all",
                    "10 3 * * *",
                    "test -e /run/systemd/system || SERVICE_MODE=1 /sbin/e2scrub_all -A -r",
                    None,
                ),
            ],
        );
    }

    #[test]
    fn debian_cron_d_mdadm() {
        check_debian(
            "cron.d-mdadm",
            None,
            CRON_DEFAULT_PATH,
            &[(
                "checkarray",
                "57 0 * * 0",
                // cron turns `\%` into `%` before running the command.
                "if [ -x /usr/share/mdadm/checkarray ] && [ $(date +%d) -le 7 ]; then \
                 /usr/share/mdadm/checkarray --cron --all --idle --quiet; fi",
                Some(
                    "By default, run at 00:57 on every Sunday, but do nothing unless the day of \
                     the month is less than or equal to 7. Thus, only run on the first Sunday of \
                     each month. crontab(5) sucks, unfortunately, in this regard; therefore this \
                     hack (see #380425).",
                ),
            )],
        );
    }

    #[test]
    fn debian_cron_d_php() {
        check_debian(
            "cron.d-php",
            None,
            CRON_DEFAULT_PATH,
            &[(
                "sessionclean",
                "09,39 * * * *",
                "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then \
                 /usr/lib/php/sessionclean; fi",
                Some("Look for and purge old sessions every 30 minutes"),
            )],
        );
    }

    #[test]
    fn debian_cron_d_sysstat() {
        check_debian(
            "cron.d-sysstat",
            None,
            "/usr/lib/sysstat:/usr/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
            &[
                (
                    "debian-sa1",
                    "5-55/10 * * * *",
                    "command -v debian-sa1 > /dev/null && debian-sa1 1 1",
                    Some("Activity reports every 10 minutes everyday"),
                ),
                (
                    "debian-sa1-2",
                    "59 23 * * *",
                    "command -v debian-sa1 > /dev/null && debian-sa1 60 2",
                    Some("Additional run at 23:59 to rotate the statistics file"),
                ),
            ],
        );
    }

    // -- hand-written user crontabs -----------------------------------------

    #[test]
    fn edge_cases_fixture() {
        let (import, jobs) = user(&fixture("user/edge-cases.crontab"));
        assert_eq!(
            import.jobs,
            [
                "backup-home",
                "backup-home-2",
                "weekly_report",
                "echo",
                "start",
                "mail",
                "date",
                "rsync",
                "cleanup"
            ]
        );
        let mail = Some(vec![
            "ops@example.com".to_string(),
            "dev@example.com".to_string(),
        ]);
        let job = &jobs["backup-home"];
        assert_eq!(job.description.as_deref(), Some("Nightly home backup"));
        assert_eq!(job.schedule.as_deref(), Some("30 2 * * *"));
        assert_eq!(job.mail_to, mail);
        assert_eq!(job.shell, None);
        assert_eq!(job.timezone, None);
        assert_eq!(job.env, env(&[("PATH", CRON_DEFAULT_PATH)]));

        // Assignments apply from their line on: SHELL, FOO, CRON_TZ.
        let job = &jobs["weekly_report"];
        assert_eq!(job.schedule.as_deref(), Some("0 9 * JAN Mon"));
        assert_eq!(job.shell.as_deref(), Some("/bin/bash"));
        assert_eq!(job.timezone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(job.mail_to, mail);
        let foo = env(&[("PATH", CRON_DEFAULT_PATH), ("FOO", "a b  ")]);
        assert_eq!(job.env, foo);

        // `#` inside a command is part of it.
        assert_eq!(
            jobs["echo"].command.as_deref(),
            Some("echo \"not # a comment\" # but part of the command")
        );
        // MAILTO="" turns mail off from there on.
        assert_eq!(jobs["start"].mail_to, None);
        assert_eq!(jobs["start"].schedule.as_deref(), Some("@reboot"));
        assert_eq!(
            jobs["mail"].command.as_deref(),
            Some("printf '%s' 'Disk usage:\n$(df -h)\n' | (\nmail -s \"disk report\" root\n)")
        );
        assert_eq!(
            jobs["date"].command.as_deref(),
            Some("date +%Y-%m-%d > /tmp/year")
        );
        // CRON_TZ switched mid-file.
        assert_eq!(jobs["rsync"].timezone.as_deref(), Some("UTC"));
        assert_eq!(jobs["rsync"].schedule.as_deref(), Some("5 4 * * sun,7"));
        // HOME is both the environment and the working directory.
        let job = &jobs["cleanup"];
        assert_eq!(job.workdir.as_deref(), Some("/srv/home"));
        assert_eq!(
            job.env,
            env(&[
                ("PATH", CRON_DEFAULT_PATH),
                ("FOO", "a b  "),
                ("HOME", "/srv/home")
            ])
        );

        let skipped: Vec<(usize, &str)> = import
            .skipped
            .iter()
            .map(|s| (s.line, s.text.as_str()))
            .collect();
        assert_eq!(
            skipped,
            [
                (22, "@Daily wrong-case-macro"),
                (23, "@every 5m not-cron"),
                (24, "61 * * * * bad-minute"),
                (25, "0 0 30 2 * never-runs"),
                (26, "0 0 * * * * looks-like-six-fields"),
                (27, "0 0 L * * sundial-only-syntax"),
                (28, "this is not a crontab line"),
                (30, "USER=someone"),
            ]
        );
        for s in &import.skipped {
            assert!(
                import.yaml.contains(&format!(
                    "# SKIPPED line {} ({}): {}\n",
                    s.line, s.reason, s.text
                )),
                "{s:?}"
            );
        }
        assert!(
            import
                .yaml
                .contains("# an indented comment is still a comment\n")
        );
    }

    #[test]
    fn crlf_fixture() {
        let (import, jobs) = user(&fixture("user/crlf.crontab"));
        assert!(import.skipped.is_empty());
        assert_eq!(import.jobs, ["nightly", "echo"]);
        assert_eq!(
            jobs["nightly"].command.as_deref(),
            Some("/opt/bin/nightly.sh")
        );
        assert_eq!(jobs["echo"].command.as_deref(), Some("echo done"));
        assert_eq!(jobs["echo"].env, env(&[("PATH", "/usr/bin:/bin:/opt/bin")]));
        assert!(import.yaml.contains(NOTE_CRLF));
        assert!(!import.yaml.contains('\r'));
    }

    // -- schedules ----------------------------------------------------------

    #[test]
    fn expressions_are_copied_as_written() {
        for expr in [
            "*/5 * * * *",
            "0 0 * jan,JUL Mon-fri",
            "0 12 * * 0,7",
            "10-50/20 1-23/2 1,15 * SUN",
            "0 0 */2 * mon",
            "07 08 09 10 6",
            "59 23 31 12 7",
            "0 0 29 2 *",
            "0 0 30 2 mon",
            "0 0 */30 feb *",
        ] {
            let job = only_job(&format!("{expr} run\n"));
            assert_eq!(job.schedule.as_deref(), Some(expr));
        }
        // Tabs and runs of blanks between fields become one space.
        let job = only_job("1\t2  *\t * *   run\n");
        assert_eq!(job.schedule.as_deref(), Some("1 2 * * *"));
        assert_eq!(job.command.as_deref(), Some("run"));
    }

    #[test]
    fn every_cron_macro_is_kept() {
        for m in MACROS {
            let job = only_job(&format!("@{m}  run it\n"));
            assert_eq!(job.schedule, Some(format!("@{m}")));
            assert_eq!(job.command.as_deref(), Some("run it"));
        }
    }

    #[test]
    fn expressions_cron_refuses_are_skipped() {
        for (line, reason) in [
            ("60 * * * * x", "bad minute `60`"),
            ("* 24 * * * x", "bad hour `24`"),
            ("* * 0 * * x", "bad day-of-month `0`"),
            ("* * 32 * * x", "bad day-of-month"),
            ("* * * 13 * x", "bad month `13`"),
            ("* * * * 8 x", "bad day-of-week `8`"),
            ("5/2 * * * * x", "a step needs `*` or a range"),
            ("*/0 * * * * x", "a step of 0"),
            ("*/x * * * * x", "step `x` is not a number"),
            ("5-1 * * * * x", "runs backwards"),
            ("*-5 * * * * x", "bad minute"),
            ("1, * * * * x", "empty list element"),
            (
                "* * * * monday x",
                "`monday` is not a number or a three-letter name",
            ),
            ("* * * mon * x", "bad month"),
            ("* * L * * x", "bad day-of-month `L`"),
            ("* * * * 1#2 x", "bad day-of-week"),
            ("* * * * 5L x", "bad day-of-week"),
            ("0 0 31 4,6 * x", "never happens"),
            ("0 0 30 2 * x", "never happens"),
            ("0 0 31 2 */1 x", "never happens"),
            ("* * * *", "missing day-of-week field"),
            ("* * * * *", "missing command"),
            ("* * * * *   ", "missing command"),
            ("* * * * * * x", "starts with `*`"),
            ("@Daily x", "bad time specifier `@Daily`"),
            ("@every 5m x", "bad time specifier"),
            ("@start x", "bad time specifier"),
            ("@daily", "missing command"),
            ("@daily *x", "starts with `*`"),
            ("-@reboot", "missing command"),
            ("FOO=\"unterminated", "bad minute"),
            ("A=\"b\" c", "bad minute"),
            ("A=", "bad minute"),
        ] {
            let got = skip_reason(&format!("{line}\n"));
            assert!(got.contains(reason), "{line:?}: {got:?}");
        }
    }

    #[test]
    fn cron_quirks_sundial_reads_otherwise_are_skipped() {
        // cron accepts these (it only checks the values a step visits);
        // sundial's parser refuses them, with its own explanation.
        for (line, reason) in [
            ("50-70/30 * * * * x", "70 is out of range"),
            ("*/100 * * * * x", "the step 100 is larger"),
            ("0 0 1 1 */9 x", "the step 9 is larger"),
        ] {
            let got = skip_reason(&format!("{line}\n"));
            assert!(got.starts_with("sundial cannot read `"), "{got}");
            assert!(got.contains(reason), "{got}");
        }
    }

    #[test]
    fn step_ranges_are_checked_value_by_value_like_cron() {
        // cron visits 50 and stops: 70 is never looked at.
        let job = only_job("50-59/30 * * * * x\n");
        assert_eq!(job.schedule.as_deref(), Some("50-59/30 * * * *"));
        assert_eq!(
            check_field("*/7", &FIELDS[0]),
            Ok((0..60).step_by(7).fold(0u64, |bits, v| bits | 1 << v))
        );
        assert_eq!(check_field("sun,7", &FIELDS[4]), Ok(0b1000_0001));
        assert_eq!(check_field("Jan-mar", &FIELDS[3]), Ok(0b1110));
    }

    // -- assignments ----------------------------------------------------------

    #[test]
    fn assignments_follow_cron_load_env() {
        let some = |n: &str, v: &str| Some((n.to_string(), v.to_string()));
        for (line, expected) in [
            ("A=b", some("A", "b")),
            ("A = b", some("A", "b")),
            ("A=  b  c  ", some("A", "b  c")),
            ("A=\"b c \"", some("A", "b c ")),
            ("A='b\"c'  ", some("A", "b\"c")),
            ("A = \"\"", some("A", "")),
            ("A=''", some("A", "")),
            ("'A'=b", some("A", "b")),
            ("\"A B\" = b", some("A B", "b")),
            ("A=b\"c", some("A", "b\"c")),
            ("A==b", some("A", "=b")),
            ("A=b # not a comment", some("A", "b # not a comment")),
            ("x=1 y", some("x", "1 y")),
            ("=b", some("", "b")),
            ("A=", None),
            ("A =  ", None),
            ("A=\"b", None),
            ("A=\"b\"c", None),
            ("A b=c", None),
            ("\"A=B\"=c", None),
            ("0 * * * * A=b", None),
            ("@daily A=b", None),
            ("A", None),
        ] {
            assert_eq!(parse_assignment(line), expected, "{line:?}");
        }
    }

    #[test]
    fn special_variables() {
        // MAILTO lists, split on commas and blanks.
        let job = only_job("MAILTO=\"a@x.org,b@x.org c\"\n* * * * * x\n");
        assert_eq!(
            job.mail_to,
            Some(vec!["a@x.org".into(), "b@x.org".into(), "c".into()])
        );
        // MAILTO="" means no mail: no key at all.
        let (import, _) = user("MAILTO=\"\"\n* * * * * x\n");
        assert!(!import.yaml.contains("mail_to:"), "{}", import.yaml);
        // A later MAILTO wins.
        let job = only_job("MAILTO=a\nMAILTO=b\n* * * * * x\n");
        assert_eq!(job.mail_to, Some(vec!["b".into()]));
        // TZ is the job's environment only; CRON_TZ is the schedule's zone.
        let (import, jobs) = user("TZ=Asia/Tokyo\n* * * * * x\n");
        let job = &jobs["x"];
        assert_eq!(job.timezone, None);
        assert_eq!(
            job.env,
            env(&[("PATH", CRON_DEFAULT_PATH), ("TZ", "Asia/Tokyo")])
        );
        assert!(import.yaml.contains(NOTE_TZ));
        // PATH replaces cron's default in place.
        let job = only_job("A=1\nPATH=/opt/bin\n* * * * * x\n");
        assert_eq!(job.env, env(&[("A", "1"), ("PATH", "/opt/bin")]));
        // Names sundial would refuse, USER, LOGNAME and an empty SHELL are
        // reported, and the jobs after them convert.
        for line in [
            "\"A B\"=1",
            "=1",
            "USER=x",
            "LOGNAME=x",
            "SHELL=\"\"",
            "SHELL=bash",
            "HOME=~/x",
            "MAILTO=\"a\x01b\"",
        ] {
            let (import, jobs) = user(&format!("{line}\n* * * * * x\n"));
            assert_eq!(jobs.len(), 1);
            assert_eq!(import.skipped.len(), 1, "{line}");
            assert_eq!(import.skipped[0].line, 1);
        }
    }

    #[test]
    fn cron_tz_before_all_entries_is_file_wide() {
        let (import, jobs) = user("CRON_TZ=America/New_York\n0 1 * * * a\n0 2 * * * b\n");
        assert!(import.yaml.contains("\ntimezone: \"America/New_York\"\n"));
        assert!(
            jobs.values()
                .all(|j| j.timezone.as_deref() == Some("America/New_York"))
        );
        // Switching mid-file: per job, and the jobs before keep the local zone.
        let (import, jobs) = user("0 1 * * * a\nCRON_TZ=UTC\n0 2 * * * b\nCRON_TZ=\n0 3 * * * c\n");
        assert!(!import.yaml.contains("\ntimezone:"));
        assert_eq!(jobs["a"].timezone, None);
        assert_eq!(jobs["b"].timezone.as_deref(), Some("UTC"));
        // `CRON_TZ=` is no assignment for cron (an empty unquoted value), so
        // the line is refused and UTC stays in force.
        assert_eq!(import.skipped.len(), 1);
        assert_eq!(jobs["c"].timezone.as_deref(), Some("UTC"));
    }

    #[test]
    fn shared_settings_go_to_defaults_others_stay_per_job() {
        let (import, jobs) = user("SHELL=/bin/bash\nMAILTO=me\n0 1 * * * a\n0 2 * * * b\n");
        let defaults = &import.yaml
            [import.yaml.find("defaults:").unwrap()..import.yaml.find("jobs:").unwrap()];
        assert!(defaults.contains("shell: \"/bin/bash\""));
        assert!(defaults.contains("mail_to: [\"me\"]"));
        assert!(defaults.contains("env:"));
        assert_eq!(jobs["a"], jobs["b"].clone().with_name_fields(&jobs["a"]));
        // Different env per job: every job carries its full env.
        let (import, jobs) = user("0 1 * * * a\nX=1\n0 2 * * * b\n");
        let defaults = &import.yaml
            [import.yaml.find("defaults:").unwrap()..import.yaml.find("jobs:").unwrap()];
        assert!(!defaults.contains("env:"));
        assert_eq!(jobs["a"].env, env(&[("PATH", CRON_DEFAULT_PATH)]));
        assert_eq!(
            jobs["b"].env,
            env(&[("PATH", CRON_DEFAULT_PATH), ("X", "1")])
        );
    }

    impl YamlJob {
        /// `self` with the fields that differ by nature between jobs taken
        /// from `other`, to compare the rest.
        fn with_name_fields(mut self, other: &YamlJob) -> YamlJob {
            self.schedule = other.schedule.clone();
            self.command = other.command.clone();
            self
        }
    }

    // -- commands and `%` -----------------------------------------------------

    #[test]
    fn percent_splits_like_cron() {
        for (raw, command, stdin) in [
            ("cat", "cat", ""),
            ("cat %", "cat ", ""),
            ("cat %a", "cat ", "a\n"),
            ("cat %a%b", "cat ", "a\nb\n"),
            ("cat %a%", "cat ", "a\n"),
            ("cat %%", "cat ", "\n"),
            ("cat %a%%", "cat ", "a\n\n"),
            ("date +\\%d", "date +%d", ""),
            ("a\\%b%c\\%d", "a%b", "c%d\n"),
            ("a\\\\%b", "a\\\\", "b\n"),
            ("a\\b%c\\d", "a\\b", "c\\d\n"),
            ("x%a\\\\%b", "x", "a\\%b\n"),
            ("x%abc\\", "x", "abc\\\n"),
            ("x%abc%\\", "x", "abc\n\\"),
            ("x%it's \"q\" $(no) `no`", "x", "it's \"q\" $(no) `no`\n"),
            ("x%ünï%çødé", "x", "ünï\nçødé\n"),
        ] {
            let (got_command, input) = split_percent(raw);
            assert_eq!(got_command, command, "{raw:?}");
            let got_stdin = if input.is_empty() {
                String::new()
            } else {
                stdin_bytes(&input)
            };
            assert_eq!(got_stdin, stdin, "{raw:?}");
        }
    }

    /// Runs the converted command through `sh -c`, as sundial will, and
    /// checks that `cat` receives exactly cron's stdin bytes.
    #[test]
    fn percent_wrapper_feeds_the_exact_bytes() {
        for (line, expected) in [
            ("* * * * * cat%hello%world", "hello\nworld\n"),
            ("* * * * * cat%it's%'\"'%", "it's\n'\"'\n"),
            (
                "* * * * * cat%$(echo no) `echo no` $HOME \\% \\n",
                "$(echo no) `echo no` $HOME % \\n\n",
            ),
            ("* * * * * cat # comment%data", "data\n"),
            ("* * * * * cat%abc%\\", "abc\n\\"),
            ("* * * * * cat%ünï", "ünï\n"),
            ("* * * * * (cat; echo \"[$?]\")%x", "x\n[0]\n"),
        ] {
            let job = only_job(&format!("{line}\n"));
            let command = job.command.unwrap();
            let output = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(&command)
                .output()
                .expect("run /bin/sh");
            assert!(output.status.success(), "{command}");
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                expected,
                "{command}"
            );
        }
    }

    #[test]
    fn percent_needs_a_posix_shell() {
        let reason = skip_reason("SHELL=/usr/bin/python3\n* * * * * print(1)%x\n");
        assert!(reason.contains("POSIX shell"), "{reason}");
        let job = only_job("SHELL=/usr/bin/fish\n* * * * * echo no-percent\n");
        assert_eq!(job.shell.as_deref(), Some("/usr/bin/fish"));
        // cron escapes backslashes in pairs, so the command part never ends
        // with a lone one that could join the wrapper's `)` line.
        let job = only_job("* * * * * foo \\\\%x\n");
        assert_eq!(
            job.command.as_deref(),
            Some("printf '%s' 'x\n' | (\nfoo \\\\\n)")
        );
        let reason = skip_reason("* * * * * %only input\n");
        assert_eq!(reason, "empty command");
    }

    #[test]
    fn tricky_commands_survive_yaml() {
        for command in [
            "echo a: b",
            "echo 'single' \"double\" \\back\\slash",
            "echo # not a comment",
            "echo - [x] {y} & | > < ! @ ` ~",
            "@not-a-macro",
            "&anchor *alias ? : , %",
            "echo ünïcødé ✓ 日本",
            "echo tab\there",
            "echo \u{85} \u{2028} \u{feff} \u{7f} \u{1b}[0m",
            "true",
            "null",
            "~",
            "0x10",
            "echo trailing blanks   ",
        ] {
            // `*` cannot start a command, `%` would split it: escape it.
            let escaped = command.replace('%', "\\%");
            let job = only_job(&format!("* * * * * {escaped}\n"));
            assert_eq!(job.command.as_deref(), Some(command));
        }
    }

    #[test]
    fn hash_after_the_fields_is_part_of_the_command() {
        let job = only_job("0 * * * * #notacomment\n");
        assert_eq!(job.command.as_deref(), Some("#notacomment"));
    }

    // -- names ----------------------------------------------------------------

    #[test]
    fn names_come_from_the_command() {
        for (command, name) in [
            ("/usr/local/bin/backup-home.sh --x", "backup-home"),
            ("python3 /opt/reports/weekly.py --all", "weekly"),
            ("/usr/bin/python3.11 -u sync.py", "sync"),
            ("bash -c 'cd /x && ./deploy.sh now'", "deploy"),
            ("cd /srv && ./manage.py clearsessions", "manage"),
            ("nice -n 19 ionice -c3 /opt/backup.sh", "backup"),
            ("flock -n /tmp/lock /usr/bin/rsync -a a b", "rsync"),
            ("timeout 5m curl -fsS https://example.com/ping", "curl"),
            (
                "sudo -u www-data php /var/www/artisan schedule:run",
                "artisan",
            ),
            ("env LANG=C FOO=1 /usr/bin/updatedb", "updatedb"),
            ("[ -x /usr/bin/x ] && /usr/bin/x >/dev/null 2>&1", "x"),
            (
                "test -f /a || exec /usr/sbin/logrotate /etc/logrotate.conf",
                "logrotate",
            ),
            ("run-parts /etc/cron.daily", "run-parts-cron.daily"),
            ("systemctl restart nginx.service", "systemctl-restart"),
            ("echo hello", "echo"),
            ("sleep 10", "sleep"),
            ("/opt/My App/run!.sh", "My"),
            ("'/opt/My App/run!.sh'", "run"),
            ("/opt/ünï/scrïpt.sh", "scr-pt"),
            ("$HOME/bin/report.sh", "report"),
            ("2>/dev/null /usr/bin/fetchmail", "fetchmail"),
            (
                "perl -e 'sleep rand 60' && /usr/bin/certbot renew",
                "certbot",
            ),
            ("perl -e 'print 1'", "perl"),
            ("X=1", "job"),
            ("...", "job"),
            ("{ echo; } | mail -s hi root", "mail"),
        ] {
            assert_eq!(derive_name(command), name, "{command:?}");
        }
        let long = format!("/bin/{}", "a".repeat(100));
        assert_eq!(derive_name(&long).len(), NAME_MAX);
    }

    #[test]
    fn names_are_unique_and_stable() {
        let text = "* * * * * /bin/job.sh 1\n* * * * * /bin/job.sh 2\n\
                    * * * * * /bin/job-2.sh\n* * * * * /bin/job.sh 3\n";
        let first = import(text, "x", false);
        assert_eq!(first.jobs, ["job", "job-2", "job-2-2", "job-3"]);
        assert_eq!(import(text, "x", false), first);
        for name in &first.jobs {
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            );
        }
    }

    #[test]
    fn descriptions_are_the_comments_right_above() {
        let text = "# header, separated by a blank line\n\n\
                    # first line\n#\n#   second line\n0 1 * * * a\n\
                    # above an assignment\nX=1\n0 2 * * * b\n\
                    # 0 3 * * * disabled-job\n# after the disabled job\n0 4 * * * c\n\
                    # @daily disabled\n0 5 * * * d\n";
        let (import, jobs) = user(text);
        assert_eq!(
            jobs["a"].description.as_deref(),
            Some("first line second line")
        );
        assert_eq!(jobs["b"].description, None);
        assert_eq!(
            jobs["c"].description.as_deref(),
            Some("after the disabled job")
        );
        assert_eq!(jobs["d"].description, None);
        for kept in [
            "# header, separated by a blank line",
            "# above an assignment",
            "# 0 3 * * * disabled-job",
            "# @daily disabled",
        ] {
            assert!(import.yaml.contains(kept), "{kept}");
        }
    }

    // -- the system format ------------------------------------------------------

    #[test]
    fn system_format() {
        let text = "-*/5 * * * * root /usr/bin/quiet\n@daily  www-data   /srv/cleanup\n\
                    0 * * * * nobody\n-@reboot root /sbin/boot-task\n";
        let import = import(text, "/etc/cron.d/x", true);
        let jobs = load(&import.yaml);
        assert_eq!(import.jobs, ["quiet", "cleanup", "boot-task"]);
        assert_eq!(jobs["quiet"].schedule.as_deref(), Some("*/5 * * * *"));
        assert_eq!(jobs["quiet"].user.as_deref(), Some("root"));
        assert_eq!(jobs["cleanup"].user.as_deref(), Some("www-data"));
        assert_eq!(jobs["cleanup"].command.as_deref(), Some("/srv/cleanup"));
        assert_eq!(jobs["boot-task"].schedule.as_deref(), Some("@reboot"));
        assert_eq!(import.skipped.len(), 1);
        assert!(
            import.skipped[0]
                .reason
                .contains("missing command after user `nobody`")
        );
        assert!(import.yaml.contains(NOTE_NO_LOG));
        // A user crontab has no user column: `root` is the command.
        let job = only_job("0 * * * * root /bin/x\n");
        assert_eq!(job.user, None);
        assert_eq!(job.command.as_deref(), Some("root /bin/x"));
    }

    // -- whole-file properties --------------------------------------------------

    #[test]
    fn empty_and_comment_only_crontabs_are_valid_yaml() {
        for text in ["", "\n\n", "# only a comment\n", "X=1\n", "garbage\n"] {
            let (import, jobs) = user(text);
            assert!(jobs.is_empty());
            assert!(import.yaml.contains("jobs: {}\n"), "{}", import.yaml);
        }
        let (import, _) = user("# only a comment\n");
        assert!(import.yaml.ends_with("  # only a comment\n"));
    }

    #[test]
    fn last_line_without_newline_is_read() {
        let job = only_job("0 * * * * x");
        assert_eq!(job.command.as_deref(), Some("x"));
    }

    #[test]
    fn header_names_the_source_without_control_characters() {
        let import = import("", "/tmp/evil\nname", false);
        assert!(import
            .yaml
            .starts_with("# sundial jobs converted by `sundial import-crontab` from /tmp/evil name (user format)."));
        assert!(!import.yaml.contains("{{"));
    }

    // -- loaded back by sundial's config loader -------------------------------

    /// Loads the YAML with the real loader and checks every job against what
    /// the YAML says (read independently by [`load`]): same jobs, schedules,
    /// commands, users and settings after `defaults:` are applied.
    fn cross_check(import: &Import, mode: crate::config::Mode) -> crate::config::Config {
        use crate::config::{Command as Run, EnvValue, Overlap};
        let config = crate::config::load_str(
            &import.yaml,
            std::path::Path::new("/etc/sundial/jobs.yaml"),
            mode,
        )
        .unwrap_or_else(|e| panic!("config refused the import: {e}\n---\n{}", import.yaml));
        let names: Vec<&str> = config.jobs.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(names, import.jobs, "job order");
        let yaml = load(&import.yaml);
        for job in &config.jobs {
            let want = &yaml[&job.name];
            assert_eq!(Some(&job.schedule_text), want.schedule.as_ref());
            assert_eq!(
                Some(job.command.clone()),
                want.command.clone().map(Run::Shell)
            );
            assert_eq!(job.description, want.description);
            assert_eq!(job.user, want.user);
            assert_eq!(job.overlap, Overlap::Allow);
            let shell = want.shell.as_deref().unwrap_or("/bin/sh");
            assert_eq!(job.shell, std::path::PathBuf::from(shell));
            assert_eq!(job.workdir, want.workdir.as_ref().map(Into::into));
            assert_eq!(job.mail_to, want.mail_to.clone().unwrap_or_default());
            if let Some(tz) = &want.timezone {
                assert_eq!(&job.timezone.name, tz);
            }
            let env: BTreeMap<String, String> = job
                .env
                .iter()
                .map(|(k, v)| match v {
                    EnvValue::Literal(v) => (k.clone(), v.clone()),
                    EnvValue::FromFile(_) => panic!("no from_file expected"),
                })
                .collect();
            assert_eq!(Some(env), want.env);
            assert_eq!(job.env.len(), want.env.as_ref().map_or(0, BTreeMap::len));
        }
        config
    }

    #[test]
    fn debian_crontabs_load_as_sundial_configs() {
        for file in [
            "crontab",
            "cron.d-anacron",
            "cron.d-certbot",
            "cron.d-e2scrub_all",
            "cron.d-mdadm",
            "cron.d-php",
            "cron.d-sysstat",
        ] {
            let import = import(&fixture(&format!("debian/{file}")), file, true);
            let config = cross_check(&import, crate::config::Mode::System);
            assert!(!config.jobs.is_empty(), "{file}");
        }
    }

    #[test]
    fn user_crontabs_load_as_sundial_configs() {
        let converted = import(&fixture("user/edge-cases.crontab"), "edge", false);
        let config = cross_check(&converted, crate::config::Mode::User);
        assert_eq!(config.jobs.len(), 9);
        let tz = |name: &str| config.job(name).map(|j| j.timezone.name.clone());
        assert_eq!(tz("weekly_report").as_deref(), Some("Europe/Berlin"));
        assert_eq!(tz("rsync").as_deref(), Some("UTC"));
        let converted = import(&fixture("user/crlf.crontab"), "crlf", false);
        cross_check(&converted, crate::config::Mode::User);
        let converted = import("CRON_TZ=Asia/Tokyo\n@daily a\n@weekly b\n", "tz", false);
        let config = cross_check(&converted, crate::config::Mode::User);
        assert_eq!(config.timezone.name, "Asia/Tokyo");
    }

    /// A minute, hour or day-of-month field as people write them (and
    /// some they should not).
    const FIELD: &str =
        "(\\*|[0-9]{1,2})(-[0-9]{1,2})?(/[0-9]{1,2})?(,[0-9]{1,2}(-[0-9]{1,2})?){0,2}";

    proptest::proptest! {
        // Failures are reported, not saved into the source tree.
        #![proptest_config(proptest::test_runner::Config {
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        /// Any input: no panic, valid YAML, and every line that is not
        /// blank or a comment is a job, an assignment in force, or skipped.
        #[test]
        fn never_panics_and_always_valid_yaml(
            text in "([0-9*/,@a-zA-Z_.%\\\\#='\" \t-]{0,30}\r?\n){0,6}",
            system in proptest::bool::ANY,
        ) {
            let import = import(&text, "p", system);
            let file: YamlFile = serde_saphyr::from_str(&import.yaml).map_err(|e| {
                proptest::test_runner::TestCaseError::fail(format!("{e}\n{}", import.yaml))
            })?;
            proptest::prop_assert_eq!(file.jobs.len(), import.jobs.len());
            if !system {
                // Whatever was converted is a valid configuration.
                let loaded = crate::config::load_str(
                    &import.yaml,
                    std::path::Path::new("/etc/sundial/jobs.yaml"),
                    crate::config::Mode::User,
                );
                proptest::prop_assert!(loaded.is_ok(), "{:?}\n{}", loaded.err(), import.yaml);
            }
            let bodies: Vec<&str> = text
                .lines()
                .map(|l| l.trim_end_matches('\r').trim_start_matches([' ', '\t']))
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect();
            let assignments = bodies
                .iter()
                .filter_map(|l| parse_assignment(l))
                .filter(|(n, v)| check_assignment(n, v).is_ok())
                .count();
            proptest::prop_assert_eq!(
                bodies.len(),
                import.jobs.len() + import.skipped.len() + assignments
            );
        }

        /// Cron-like entries: each one either converts with its expression
        /// copied verbatim and sundial agreeing with cron field by field, or
        /// is skipped for a reason cron or sundial's parser gives; never
        /// because the two engines disagree.
        #[test]
        fn entries_convert_with_sundial_agreeing_with_cron(
            minute in FIELD, hour in FIELD, dom in FIELD,
            month in "(\\*|[0-9]{1,2}|jan|FEB|Dec)(-([0-9]{1,2}|mar|Nov))?(/[1-9])?(,[0-9]{1,2}){0,2}",
            dow in "(\\*|[0-7]|sun|MON|Sat)(-([0-7]|fri|SUN))?(/[1-9])?(,[0-7]){0,2}",
            command in "[a-z/][ -~\u{e9}\u{2603}]{0,20}",
        ) {
            let expr = format!("{minute} {hour} {dom} {month} {dow}");
            let import = import(&format!("{expr} {command}\n"), "p", false);
            for skipped in &import.skipped {
                proptest::prop_assert!(!skipped.reason.contains("differently"), "{}", skipped.reason);
            }
            if import.jobs.len() == 1 {
                let jobs = load(&import.yaml);
                let job = jobs.values().next().expect("one job");
                proptest::prop_assert_eq!(job.schedule.as_deref(), Some(expr.as_str()));
                let loaded = crate::config::load_str(
                    &import.yaml,
                    std::path::Path::new("/etc/sundial/jobs.yaml"),
                    crate::config::Mode::User,
                );
                proptest::prop_assert!(loaded.is_ok(), "{:?}\n{}", loaded.err(), import.yaml);
            } else {
                proptest::prop_assert_eq!(import.skipped.len(), 1);
            }
        }

        #[test]
        fn any_string_round_trips_through_yaml_str(s in "\\PC*|[\\x00-\\x20\\x7f-\\u{a0}\\u{2028}\\u{2029}\\u{feff}]*") {
            let yaml = format!("k: {}\n", yaml_str(&s));
            let back: BTreeMap<String, String> = serde_saphyr::from_str(&yaml)
                .map_err(|e| proptest::test_runner::TestCaseError::fail(format!("{e}\n{yaml}")))?;
            proptest::prop_assert_eq!(&back["k"], &s);
        }
    }
}
