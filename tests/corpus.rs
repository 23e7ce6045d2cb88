//! The bad-input corpus (issue #9): broken cron expressions and broken
//! configuration files, each with the exact error a user sees.
//!
//! - `tests/corpus/expressions.txt`: blocks of `expr "TEXT"` (a Rust-style
//!   quoted string, so tabs, newlines and odd characters stay visible) followed
//!   by the expected `error`, `span` and `hint` lines, separated by blank
//!   lines. Lines starting with `#` are comments.
//! - `tests/corpus/configs/NN-name.yaml`: a broken `jobs.yaml`, and beside it
//!   `NN-name.expected`: the error exactly as `sundial check` prints it, with
//!   the file shown as `jobs.yaml`. A first line `# mode: system` loads the
//!   file in system mode (default: user mode). A file that is not UTF-8 is
//!   read with `config::load`, the others with `config::load_str`.
//!
//! `BLESS=1 cargo test --test corpus` rewrites the expectations from what
//! the code produces now; review the diff before committing it.
//!
//! Every expression case is also checked inside a config file: the loader
//! must report it once, as `invalid schedule '…': <message>`, at the column
//! of the span.
//!
//! Last, the fuzzers' minimized corpora (`fuzz/corpus/`, see
//! `fuzz/README.md`) are replayed through the same entry points in this
//! debug build, where arithmetic overflow panics.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sundial::config::{self, ConfigError, Mode};
use sundial::schedule::Schedule;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn blessing() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// `expected` vs `actual` as `-`/`+` lines, for a readable failure.
fn diff(name: &str, expected: &str, actual: &str) -> String {
    let mut out = format!("--- {name}: expected\n+++ {name}: actual\n");
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if x == y => writeln!(out, "  {x}").unwrap(),
            (x, y) => {
                if let Some(x) = x {
                    writeln!(out, "- {x}").unwrap();
                }
                if let Some(y) = y {
                    writeln!(out, "+ {y}").unwrap();
                }
            }
        }
    }
    out
}

fn finish(kind: &str, cases: usize, failures: &[String]) {
    assert!(cases > 0, "no {kind} cases found");
    if !failures.is_empty() {
        panic!(
            "{} of {cases} {kind} cases differ (rerun with BLESS=1 to accept, then review):\n\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------

/// Quotes a schedule the way the corpus writes it: printable characters as
/// they are, `"` and `\` escaped, everything else as `\t`, `\n`, `\u{…}`.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            ' ' => out.push(' '),
            c if c.is_control() || c.is_whitespace() || is_invisible(c) => {
                write!(out, "\\u{{{:x}}}", u32::from(c)).unwrap()
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters that print as nothing (zero-width, byte-order mark).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}' | '\u{ad}'
    )
}

fn unquote(text: &str) -> Result<String, String> {
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .ok_or_else(|| format!("not a quoted string: {text}"))?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let rest: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let hex = rest
                    .strip_prefix('{')
                    .ok_or_else(|| format!("bad \\u escape in {text}"))?;
                let c = u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("bad \\u escape in {text}"))?;
                out.push(c);
            }
            other => return Err(format!("unknown escape \\{other:?} in {text}")),
        }
    }
    Ok(out)
}

/// What the parser says about one expression, in the corpus's block form
/// (without the `expr` line).
fn render_expression(text: &str) -> String {
    match Schedule::parse(text) {
        Ok(schedule) => format!("PARSED (not an error!): {}\n", schedule.describe()),
        Err(err) => {
            let span = text
                .get(err.offset..err.offset + err.len)
                .map_or_else(|| "OUT OF BOUNDS".to_owned(), quote);
            let mut out = format!(
                "error {}\nspan  {}..{} {span}\n",
                err.message,
                err.offset,
                err.offset + err.len
            );
            match &err.hint {
                Some(hint) => writeln!(out, "hint  {hint}").unwrap(),
                None => out.push_str("hint  NONE\n"),
            }
            out
        }
    }
}

struct ExpressionCase {
    /// The comment lines before it, kept when blessing.
    comments: String,
    text: String,
    /// Line number of its `expr` line.
    line: usize,
    expected: String,
}

fn read_expressions(path: &Path) -> (Vec<ExpressionCase>, String) {
    let content = std::fs::read_to_string(path).unwrap();
    let mut cases = Vec::new();
    let mut comments = String::new();
    let mut current: Option<ExpressionCase> = None;
    for (i, line) in content.lines().enumerate() {
        if let Some(expr) = line.strip_prefix("expr  ") {
            cases.extend(current.take());
            let text =
                unquote(expr).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1));
            current = Some(ExpressionCase {
                comments: std::mem::take(&mut comments),
                text,
                line: i + 1,
                expected: String::new(),
            });
        } else if line.starts_with('#') {
            cases.extend(current.take());
            comments.push_str(line);
            comments.push('\n');
        } else if line.is_empty() {
            cases.extend(current.take());
            if !comments.is_empty() {
                comments.push('\n');
            }
        } else {
            let case = current
                .as_mut()
                .unwrap_or_else(|| panic!("{}:{}: line outside a case", path.display(), i + 1));
            case.expected.push_str(line);
            case.expected.push('\n');
        }
    }
    cases.extend(current);
    (cases, comments)
}

#[test]
fn expressions_fail_with_the_expected_error() {
    let path = corpus_dir().join("expressions.txt");
    let (cases, trailing) = read_expressions(&path);
    let mut failures = Vec::new();
    let mut blessed = String::new();
    for case in &cases {
        let actual = render_expression(&case.text);
        if actual.starts_with("PARSED") {
            failures.push(format!(
                "line {}: {} parses, but the corpus is for bad input\n",
                case.line,
                quote(&case.text)
            ));
        } else if actual != case.expected {
            failures.push(diff(
                &format!("expressions.txt:{} {}", case.line, quote(&case.text)),
                &case.expected,
                &actual,
            ));
        }
        blessed.push_str(&case.comments);
        writeln!(blessed, "expr  {}\n{actual}", quote(&case.text)).unwrap();
    }
    blessed.push_str(trailing.trim_end_matches('\n'));
    if blessing() {
        std::fs::write(&path, blessed.trim_end().to_owned() + "\n").unwrap();
        return;
    }
    finish("expression", cases.len(), &failures);
}

/// Each bad expression inside a job: reported once, at the span's column.
#[test]
fn expressions_are_reported_at_their_column_in_a_config() {
    let (cases, _) = read_expressions(&corpus_dir().join("expressions.txt"));
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in &cases {
        let text = &case.text;
        // Only texts that a YAML double-quoted scalar holds verbatim; a
        // blank schedule is refused by the loader before it is parsed.
        if text.trim().is_empty()
            || text
                .chars()
                .any(|c| c == '"' || c == '\\' || c.is_control())
        {
            continue;
        }
        let Err(err) = Schedule::parse(text) else {
            continue;
        };
        checked += 1;
        let yaml = format!("jobs:\n  j:\n    command: \"true\"\n    schedule: \"{text}\"\n");
        let actual = match config::load_str(&yaml, Path::new("/corpus/jobs.yaml"), Mode::User) {
            Ok(_) => "loaded without errors".to_owned(),
            Err(e) => render_config_error(&e),
        };
        let prefix: String = text[..err.offset].chars().collect();
        let column = "    schedule: \"".len() + prefix.chars().count() + 1;
        let mut expected = format!(
            "jobs.yaml:4:{column}: job 'j': invalid schedule '{text}': {}",
            err.message
        );
        if let Some(hint) = &err.hint {
            write!(expected, "\n  hint: {hint}").unwrap();
        }
        expected.push_str("\n1 error in configuration");
        if actual != expected {
            failures.push(diff(
                &format!("expressions.txt:{} in a config", case.line),
                &expected,
                &actual,
            ));
        }
    }
    finish("expression-in-config", checked, &failures);
}

// ---------------------------------------------------------------------------
// Configuration files
// ---------------------------------------------------------------------------

/// The error as `sundial check` prints it, with every diagnostic's file
/// shown as `jobs.yaml` so the text does not depend on where the test runs.
fn render_config_error(err: &ConfigError) -> String {
    match err {
        ConfigError::Invalid(diagnostics) => {
            let renamed = diagnostics
                .iter()
                .cloned()
                .map(|mut d| {
                    d.file = PathBuf::from("jobs.yaml");
                    d
                })
                .collect();
            ConfigError::Invalid(renamed).to_string()
        }
        other => other.to_string(),
    }
}

fn render_config(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let mode = if bytes.starts_with(b"# mode: system\n") {
        Mode::System
    } else {
        Mode::User
    };
    let result = match std::str::from_utf8(&bytes) {
        Ok(text) => config::load_str(text, Path::new("/corpus/jobs.yaml"), mode),
        Err(_) => config::load(path, mode),
    };
    match result {
        Ok(config) => format!("LOADED (not an error!): {} jobs\n", config.jobs.len()),
        Err(err) => render_config_error(&err) + "\n",
    }
}

#[test]
fn configs_fail_with_the_expected_errors() {
    let dir = corpus_dir().join("configs");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    inputs.sort();
    let mut failures = Vec::new();
    for input in &inputs {
        let name = input.file_name().unwrap().to_string_lossy().into_owned();
        let expected_path = input.with_extension("expected");
        let actual = render_config(input);
        let actual = actual.replace(dir.to_str().unwrap(), "CORPUS");
        // Hints for `~/x` spell out the home directory.
        let actual = match std::env::var("HOME") {
            Ok(home) if home.len() > 1 => actual.replace(&format!(": {home}/"), ": $HOME/"),
            _ => actual,
        };
        if blessing() {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        if actual.starts_with("LOADED") {
            failures.push(format!("{name} loads, but the corpus is for bad input\n"));
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            failures.push(diff(&name, &expected, &actual));
        }
    }
    finish("config", inputs.len(), &failures);
}

// ---------------------------------------------------------------------------
// The fuzzers' corpora, replayed with overflow checks on
// ---------------------------------------------------------------------------

/// The inputs the fuzzers kept (`fuzz/corpus/<target>/`), each run through
/// the same entry point as its fuzz target. The fuzzers run optimized, with
/// overflow checks off; this replays their findings in a debug build, where
/// an arithmetic overflow panics.
fn fuzz_inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{}: empty", dir.display());
    inputs
}

#[test]
fn fuzz_corpus_schedules_parse_and_step_forward() {
    let zones = ["UTC", "Europe/Berlin", "Australia/Lord_Howe"]
        .map(|z| jiff::tz::TimeZone::get(z).unwrap());
    let start = jiff::Timestamp::from_second(1_700_000_000).unwrap();
    for (name, data) in fuzz_inputs("schedule") {
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        let schedule = match Schedule::parse(text) {
            Ok(schedule) => schedule,
            Err(err) => {
                assert!(
                    text.get(err.offset..err.offset + err.len).is_some(),
                    "{name}: {err:?}"
                );
                continue;
            }
        };
        let _ = schedule.describe();
        for tz in &zones {
            let mut after = start;
            for _ in 0..3 {
                let Some(next) = schedule.next_after(after, tz) else {
                    break;
                };
                assert!(
                    next.timestamp() > after,
                    "{name}: {text:?} did not move forward"
                );
                after = next.timestamp();
            }
        }
    }
}

#[test]
fn fuzz_corpus_configs_load_or_fail_cleanly() {
    for (name, data) in fuzz_inputs("config") {
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        match config::load_str(text, Path::new("/fuzz/jobs.yaml"), Mode::User) {
            Ok(_) => {}
            Err(err) => {
                assert!(!err.to_string().is_empty(), "{name}");
                assert!(
                    err.diagnostics()
                        .iter()
                        .all(|d| d.line >= 1 && d.column >= 1),
                    "{name}: {err}"
                );
            }
        }
    }
}

#[test]
fn fuzz_corpus_control_requests_decode_or_get_an_error_reply() {
    use sundial::daemon::control;
    for (name, data) in fuzz_inputs("control") {
        match control::parse(&data) {
            Ok(request) => {
                let line = serde_json::to_vec(&request).unwrap();
                assert_eq!(control::parse(&line).ok(), Some(request), "{name}");
            }
            Err(reply) => {
                serde_json::to_vec(&*reply).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
    }
}
