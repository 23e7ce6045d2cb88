//! The frame lines that bracket each run in a job log, written by
//! [`crate::joblog::JobLog`] and parsed here for the reader.
//!
//! # Grammar
//!
//! ```text
//! start  = "==> run " ID " start:" *( " " KEY "=" VALUE ) [ " command=" TEXT ] LF
//! note   = "=== run " ID ": " TEXT LF
//! end    = "<== run " ID " end:" *( " " KEY "=" VALUE / " (" SIGNAME ")" ) LF
//! prefix = "[run " ID "] "          ; before output lines while runs overlap
//! ```
//!
//! Start keys: `trigger` (a [`Trigger`] name), `scheduled` and `started`
//! (RFC 3339 with offset, `-` when absent), `pid` (`-` when absent), then
//! `command`, which runs to the end of the line. End keys: `outcome` (an
//! [`Outcome`] name), `exit` (a code, or `-`) or `signal` (a number followed
//! by its name in parentheses), `duration` (seconds with millisecond
//! precision, `1.234s`), `bytes` (output bytes the job produced), `lost`
//! (of those, bytes that did not reach the file). TEXT escapes `\` as `\\`,
//! LF as `\n` and CR as `\r`, and is cut at [`MAX_TEXT`] bytes.
//!
//! The parser is lenient: unknown keys and stray tokens are ignored, and a
//! value that does not parse reads as `None`, so a newer sundial's frames (or
//! a damaged line) still give the run id. Only the marker and the id are
//! required.

use std::fmt::Write as _;
use std::time::Duration;

use jiff::{Timestamp, ZonedDateTime};

use crate::run::{Outcome, Trigger};

/// The longest command or note text written into a frame, in bytes after
/// escaping; longer text is cut and ends with `...`.
pub const MAX_TEXT: usize = 4096;

pub(crate) const START: &[u8] = b"==> run ";
pub(crate) const NOTE: &[u8] = b"=== run ";
pub(crate) const END: &[u8] = b"<== run ";
pub(crate) const PREFIX: &[u8] = b"[run ";

/// A parsed frame line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Start(StartFrame),
    Note { run_id: i64, text: String },
    End(EndFrame),
}

impl Frame {
    pub fn run_id(&self) -> i64 {
        match self {
            Frame::Start(s) => s.run_id,
            Frame::Note { run_id, .. } => *run_id,
            Frame::End(e) => e.run_id,
        }
    }
}

/// The fields of a start line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StartFrame {
    pub run_id: i64,
    pub trigger: Option<Trigger>,
    pub scheduled_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub pid: Option<u32>,
    pub command: Option<String>,
}

/// The fields of an end line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EndFrame {
    pub run_id: i64,
    pub outcome: Option<Outcome>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub duration: Option<Duration>,
    pub bytes: Option<u64>,
    pub lost: Option<u64>,
}

/// What kind of line a log line is, judged from its first bytes only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineKind {
    Start(i64),
    Note(i64),
    End(i64),
    /// `[run N] `: output of run N; the prefix is this many bytes.
    Prefixed(i64, usize),
    Output,
}

/// Classifies a line (or the start of one) by its marker.
pub(crate) fn classify(line: &[u8]) -> LineKind {
    let marker = |m: &[u8], tail: &[u8]| -> Option<i64> {
        let rest = line.strip_prefix(m)?;
        let (id, len) = leading_int(rest)?;
        rest[len..].starts_with(tail).then_some(id)
    };
    match line.first() {
        Some(b'=') => {
            if let Some(id) = marker(START, b" start:") {
                LineKind::Start(id)
            } else if let Some(id) = marker(NOTE, b": ") {
                LineKind::Note(id)
            } else {
                LineKind::Output
            }
        }
        Some(b'<') => marker(END, b" end:").map_or(LineKind::Output, LineKind::End),
        Some(b'[') => {
            let Some(rest) = line.strip_prefix(PREFIX) else {
                return LineKind::Output;
            };
            match leading_int(rest) {
                Some((id, len)) if rest[len..].starts_with(b"] ") => {
                    LineKind::Prefixed(id, PREFIX.len() + len + 2)
                }
                _ => LineKind::Output,
            }
        }
        _ => LineKind::Output,
    }
}

/// A non-negative decimal at the start of `s`: (value, digits).
fn leading_int(s: &[u8]) -> Option<(i64, usize)> {
    let len = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if len == 0 || len > 18 {
        return None;
    }
    let v = std::str::from_utf8(&s[..len]).ok()?.parse().ok()?;
    Some((v, len))
}

/// `2026-11-25T10:00:00.003+01:00`, millisecond precision.
pub(crate) fn format_time_ms(t: &ZonedDateTime) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// `2026-11-25T10:00:00+01:00`, fraction only when there is one.
fn format_time(t: &ZonedDateTime) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.f%:z").to_string()
}

/// Escapes text for a frame (see the module doc) and cuts it at [`MAX_TEXT`].
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_TEXT) + 8);
    for c in text.chars() {
        if out.len() >= MAX_TEXT {
            out.push_str("...");
            break;
        }
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// Reverses [`escape`]; unknown escapes are kept as written.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The start line, with its newline.
pub(crate) fn start_line(
    run_id: i64,
    trigger: Trigger,
    scheduled_at: Option<&ZonedDateTime>,
    started_at: &ZonedDateTime,
    pid: Option<u32>,
    command: &str,
) -> String {
    let mut s = format!("==> run {run_id} start: trigger={trigger}");
    let _ = write!(
        s,
        " scheduled={} started={} pid=",
        scheduled_at.map_or_else(|| "-".to_string(), format_time),
        format_time_ms(started_at),
    );
    match pid {
        Some(pid) => {
            let _ = write!(s, "{pid}");
        }
        None => s.push('-'),
    }
    let _ = writeln!(s, " command={}", escape(command));
    s
}

/// A note line, with its newline.
pub(crate) fn note_line(run_id: i64, text: &str) -> String {
    format!("=== run {run_id}: {}\n", escape(text))
}

/// The end line, with its newline.
pub(crate) fn end_line(
    run_id: i64,
    outcome: Outcome,
    exit_code: Option<i32>,
    signal: Option<i32>,
    duration: Duration,
    bytes: u64,
    lost: u64,
) -> String {
    let mut s = format!("<== run {run_id} end: outcome={outcome}");
    match (signal, exit_code) {
        (Some(sig), _) => {
            let _ = write!(s, " signal={sig} ({})", signal_name(sig));
        }
        (None, Some(code)) => {
            let _ = write!(s, " exit={code}");
        }
        (None, None) => s.push_str(" exit=-"),
    }
    let _ = writeln!(
        s,
        " duration={}.{:03}s bytes={bytes} lost={lost}",
        duration.as_secs(),
        duration.subsec_millis()
    );
    s
}

fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::iterator()
        .find(|s| *s as i32 == sig)
        .map_or_else(|| format!("SIG{sig}"), |s| s.as_str().to_string())
}

/// Parses a frame line (with or without its newline). `None` for anything
/// that is not a frame.
pub fn parse(line: &[u8]) -> Option<Frame> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let kind = classify(line);
    let line = String::from_utf8_lossy(line);
    match kind {
        LineKind::Start(run_id) => Some(Frame::Start(parse_start(run_id, &line))),
        LineKind::End(run_id) => Some(Frame::End(parse_end(run_id, &line))),
        LineKind::Note(run_id) => {
            let text = line.split_once(": ").map_or("", |(_, t)| t);
            Some(Frame::Note {
                run_id,
                text: unescape(text),
            })
        }
        LineKind::Prefixed(..) | LineKind::Output => None,
    }
}

fn parse_start(run_id: i64, line: &str) -> StartFrame {
    let mut frame = StartFrame {
        run_id,
        ..StartFrame::default()
    };
    let fields = line.split_once(" start:").map_or("", |(_, f)| f);
    let (fields, command) = match fields.find(" command=") {
        Some(i) => (&fields[..i], Some(&fields[i + " command=".len()..])),
        None => (fields, None),
    };
    frame.command = command.map(unescape);
    for (key, value) in pairs(fields) {
        match key {
            "trigger" => frame.trigger = value.parse().ok(),
            "scheduled" => frame.scheduled_at = value.parse().ok(),
            "started" => frame.started_at = value.parse().ok(),
            "pid" => frame.pid = value.parse().ok(),
            _ => {}
        }
    }
    frame
}

fn parse_end(run_id: i64, line: &str) -> EndFrame {
    let mut frame = EndFrame {
        run_id,
        ..EndFrame::default()
    };
    let fields = line.split_once(" end:").map_or("", |(_, f)| f);
    for (key, value) in pairs(fields) {
        match key {
            "outcome" => frame.outcome = value.parse().ok(),
            "exit" => frame.exit_code = value.parse().ok(),
            "signal" => frame.signal = value.parse().ok(),
            "duration" => frame.duration = parse_duration(value),
            "bytes" => frame.bytes = value.parse().ok(),
            "lost" => frame.lost = value.parse().ok(),
            _ => {}
        }
    }
    frame
}

/// `key=value` tokens separated by spaces; other tokens are skipped.
fn pairs(fields: &str) -> impl Iterator<Item = (&str, &str)> {
    fields.split(' ').filter_map(|t| t.split_once('='))
}

/// `1.234s` (or `12s`).
fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.strip_suffix('s')?;
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: u64 = secs.parse().ok()?;
    let nanos = if frac.is_empty() {
        0
    } else {
        if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u32 = frac.parse().ok()?;
        n * 10u32.pow(9 - frac.len() as u32)
    };
    Some(Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    fn zdt(s: &str) -> ZonedDateTime {
        let ts: Timestamp = s.parse().unwrap();
        ts.to_zoned_datetime(TimeZone::fixed(jiff::tz::offset(1)))
    }

    #[test]
    fn start_line_reads_well_and_round_trips() {
        let line = start_line(
            42,
            Trigger::CatchUp,
            Some(&zdt("2026-11-25T09:00:00Z")),
            &zdt("2026-11-25T09:00:00.003Z"),
            Some(1234),
            "echo 'a\\b'\nrm -rf x command=y",
        );
        assert_eq!(
            line,
            "==> run 42 start: trigger=catch-up scheduled=2026-11-25T10:00:00+01:00 \
             started=2026-11-25T10:00:00.003+01:00 pid=1234 \
             command=echo 'a\\\\b'\\nrm -rf x command=y\n"
        );
        let Some(Frame::Start(f)) = parse(line.as_bytes()) else {
            panic!("not a start frame: {line}");
        };
        assert_eq!(f.run_id, 42);
        assert_eq!(f.trigger, Some(Trigger::CatchUp));
        assert_eq!(
            f.scheduled_at,
            Some("2026-11-25T09:00:00Z".parse().unwrap())
        );
        assert_eq!(
            f.started_at,
            Some("2026-11-25T09:00:00.003Z".parse().unwrap())
        );
        assert_eq!(f.pid, Some(1234));
        assert_eq!(
            f.command.as_deref(),
            Some("echo 'a\\b'\nrm -rf x command=y")
        );

        let line = start_line(
            7,
            Trigger::Manual,
            None,
            &zdt("2026-11-25T09:00:00Z"),
            None,
            "",
        );
        let Some(Frame::Start(f)) = parse(line.as_bytes()) else {
            panic!()
        };
        assert_eq!((f.scheduled_at, f.pid), (None, None));
        assert_eq!(f.started_at, Some("2026-11-25T09:00:00Z".parse().unwrap()));
    }

    #[test]
    fn end_line_round_trips() {
        let d = Duration::from_millis(1234);
        let line = end_line(42, Outcome::Ok, Some(0), None, d, 120, 0);
        assert_eq!(
            line,
            "<== run 42 end: outcome=ok exit=0 duration=1.234s bytes=120 lost=0\n"
        );
        assert_eq!(
            parse(line.as_bytes()),
            Some(Frame::End(EndFrame {
                run_id: 42,
                outcome: Some(Outcome::Ok),
                exit_code: Some(0),
                signal: None,
                duration: Some(d),
                bytes: Some(120),
                lost: Some(0),
            }))
        );
        let line = end_line(43, Outcome::Killed, None, Some(15), d, 1, 2);
        assert!(line.contains(" signal=15 (SIGTERM) "), "{line}");
        let Some(Frame::End(f)) = parse(line.as_bytes()) else {
            panic!()
        };
        assert_eq!((f.signal, f.exit_code, f.lost), (Some(15), None, Some(2)));
        let line = end_line(44, Outcome::Error, None, None, Duration::ZERO, 0, 0);
        assert!(line.contains(" exit=- duration=0.000s"), "{line}");
    }

    #[test]
    fn notes_escape_and_cut() {
        let line = note_line(5, "cannot start: a\nb");
        assert_eq!(line, "=== run 5: cannot start: a\\nb\n");
        assert_eq!(
            parse(line.as_bytes()),
            Some(Frame::Note {
                run_id: 5,
                text: "cannot start: a\nb".into()
            })
        );
        let long = "x".repeat(3 * MAX_TEXT);
        assert!(note_line(1, &long).len() < MAX_TEXT + 32);
    }

    #[test]
    fn garbage_is_not_a_frame() {
        for line in [
            &b""[..],
            b"==> run",
            b"==> run x start:",
            b"==> run 12",
            b"==> run 12 stop: x",
            b"<== run 99999999999999999999999 end:",
            b"[run 3]x",
            b"hello",
            b"=== run 4 no colon",
            b"\xff\xfe==> run 1 start:",
        ] {
            assert_eq!(parse(line), None, "{:?}", String::from_utf8_lossy(line));
        }
        // Damaged values: still a frame, fields unknown.
        let Some(Frame::End(f)) = parse(b"<== run 9 end: outcome=maybe exit=x duration=zz \xff")
        else {
            panic!()
        };
        assert_eq!(
            (f.run_id, f.outcome, f.exit_code, f.duration),
            (9, None, None, None)
        );
        assert_eq!(classify(b"[run 12] hi"), LineKind::Prefixed(12, 9));
    }

    proptest::proptest! {
        #[test]
        fn escape_round_trips(s in ".{0,200}") {
            proptest::prop_assert_eq!(unescape(&escape(&s)), s.clone());
            proptest::prop_assert!(!escape(&s).contains('\n'));
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..120)) {
            let mut line = b"==> run 1 start:".to_vec();
            line.extend_from_slice(&bytes);
            let _ = parse(&line);
            let _ = parse(&bytes);
        }
    }
}
