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
//!   (SPEC 4), and it must also pass [`crate::schedule::Schedule::parse`];
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
//!   the job's user); `TZ` stays in `env` only: cron hands it to the job but
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
fn take_description(
    block: &mut Vec<(usize, String)>,
    carried: &mut Vec<String>,
) -> Option<String> {
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
        "SHELL" if value.is_empty() => {
            Err("an empty SHELL would make cron fail every later job".into())
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
    let (schedule, rest) = if let Some(after_at) = line.strip_prefix('@') {
        let (word, rest) = next_word(after_at);
        if !MACROS.contains(&word) {
            return Err(format!(
                "bad time specifier `@{word}`: cron knows @reboot, @yearly, @annually, \
                 @monthly, @weekly, @daily, @midnight and @hourly"
            ));
        }
        (format!("@{word}"), rest)
    } else {
        let mut rest = line;
        let mut fields = Vec::with_capacity(5);
        for kind in &FIELDS {
            let (word, after) = next_word(rest);
            if word.is_empty() {
                return Err(format!("missing {} field", kind.name));
            }
            check_field(word, kind)?;
            fields.push(word);
            rest = after;
        }
        let schedule = fields.join(" ");
        check_can_fire(&fields)?;
        (schedule, rest)
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
    check_schedule(&schedule)?;
    Ok(Entry {
        schedule,
        user,
        command: command.to_string(),
        no_log,
    })
}

/// Whether sundial's own parser accepts the expression cron accepted.
fn check_schedule(_schedule: &str) -> Result<(), String> {
    Ok(())
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
    if command_part.trim_matches([' ', '\t']).is_empty() {
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
    if ends_with_unescaped_backslash(&command_part) {
        return Err(
            "the command before `%` ends with a backslash, which would join the wrapper's \
             closing line"
                .into(),
        );
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

fn ends_with_unescaped_backslash(text: &str) -> bool {
    text.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
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
    "nice", "ionice", "nohup", "sudo", "exec", "env", "timeout", "flock", "chronic", "setsid",
    "stdbuf", "chrt", "taskset", "setlock", "cronic", "time", "doas", "systemd-cat", "unbuffer",
];
/// Wrappers that take one positional argument before the program.
const WRAPPERS_WITH_ARG: &[&str] = &["flock", "chrt", "taskset", "setlock", "timeout"];
/// Options (of any wrapper) that take a separate value.
const OPTIONS_WITH_VALUE: &[&str] = &[
    "-n", "-c", "-u", "-g", "-s", "-k", "-w", "-E", "-o", "-i", "-p", "-t", "-C", "-e",
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
                let takes_value = OPTIONS_WITH_VALUE.contains(&word.as_str());
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
            || (program == "command"
                && args.first().is_some_and(|a| a == "-v" || a == "-V"))
        {
            continue;
        }
        if program == "command" && args.first().is_some() {
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
                if depth < 2 && ["sh", "bash", "dash", "zsh", "ksh"].contains(&program) {
                    if let Some(name) = args.get(i + 1).and_then(|c| raw_name(c, depth + 1)) {
                        return Some(name);
                    }
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
        &format!("sundial jobs converted by `sundial import-crontab` from {source_name} ({format})."),
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
        push_comment(&mut out, "  ", &format!("line {}: {}", job.line, job.source));
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
        if shared.timezone.is_none() {
            if let Some(tz) = &s.timezone {
                let _ = writeln!(out, "{ind}timezone: {}", yaml_str(tz));
            }
        }
        if shared.shell.is_none() {
            if let Some(shell) = &s.shell {
                let _ = writeln!(out, "{ind}shell: {}", yaml_str(shell));
            }
        }
        if shared.workdir.is_none() {
            if let Some(workdir) = &s.workdir {
                let _ = writeln!(out, "{ind}workdir: {}", yaml_str(workdir));
            }
        }
        if shared.mail_to.is_none() {
            if let Some(mail_to) = s.mail_to.as_ref().filter(|l| !l.is_empty()) {
                push_list(&mut out, ind, "mail_to", mail_to);
            }
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

