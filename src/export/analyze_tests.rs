//! The systemd translation checked against systemd itself.
//!
//! `systemd-analyze calendar --base-time=@T --iterations=N EXPR` prints the
//! next N elapses of a calendar expression after T, computed by systemd's
//! own code. For every expression here the union of the `OnCalendar=` lines
//! (a timer fires at the earliest of them) must give exactly the fires that
//! [`Schedule::next_after`] gives. Base times and hours are chosen outside
//! daylight-saving transitions; the transitions, where systemd and sundial
//! differ on purpose, have their own test that pins the differences
//! `docs/scaling.md` describes.
//!
//! `systemd-analyze verify` checks that the generated units load without a
//! complaint and that `Environment=` quoting survives systemd's parser.
//!
//! Without `systemd-analyze` (Debian: `apt-get install systemd`) these tests
//! print `SKIPPED: …` and pass.

use std::process::Command;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use super::on_calendar;
use crate::schedule::{Cron, Schedule};

/// Fires compared per expression.
const ITERATIONS: usize = 20;

fn analyze_available(test: &str) -> bool {
    let ok = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: {test}: systemd-analyze is not installed (apt-get install systemd)");
    }
    ok
}

fn cron(text: &str) -> Cron {
    match Schedule::parse(text) {
        Ok(Schedule::Cron(cron)) => cron,
        other => panic!("{text}: {other:?}"),
    }
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// The next `n` elapses of one calendar expression after `base`, by systemd.
fn systemd_elapses(expr: &str, base: Timestamp, n: usize) -> Vec<Timestamp> {
    let output = Command::new("systemd-analyze")
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .arg("calendar")
        .arg(format!("--base-time=@{}", base.as_second()))
        .arg(format!("--iterations={n}"))
        .arg(expr)
        .output()
        .expect("run systemd-analyze");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "systemd-analyze rejected `{expr}`: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("Next elapse:") || l.starts_with("Iter. #"))
        .take_while(|l| !l.ends_with("never"))
        .map(|l| {
            // "Next elapse: Fri 2026-11-27 10:00:00 UTC"
            let fields: Vec<&str> = l.split_whitespace().collect();
            let n = fields.len();
            assert_eq!(fields[n - 1], "UTC", "{l}");
            let civil: DateTime = format!("{}T{}", fields[n - 3], fields[n - 2])
                .parse()
                .unwrap_or_else(|e| panic!("{l}: {e}"));
            civil.to_zoned_datetime(TimeZone::UTC).unwrap().timestamp()
        })
        .collect()
}

/// The first `n` fires of a timer with these `OnCalendar=` lines.
fn timer_fires(lines: &[String], base: Timestamp, n: usize) -> Vec<Timestamp> {
    let mut all: Vec<Timestamp> = lines
        .iter()
        .flat_map(|line| systemd_elapses(line, base, n))
        .collect();
    all.sort();
    all.dedup();
    all.truncate(n);
    all
}

fn sundial_fires(cron: &Cron, tz: &TimeZone, base: Timestamp, n: usize) -> Vec<Timestamp> {
    let mut out = Vec::new();
    let mut t = base;
    while out.len() < n {
        match cron.next_after(t, tz) {
            Some(next) => {
                t = next.timestamp();
                out.push(t);
            }
            None => break,
        }
    }
    out
}

/// Translates `text` for `tz` and compares the fires; returns an error text
/// instead of panicking so one run reports every mismatch.
fn compare(text: &str, tz_name: &str, base: Timestamp) -> Result<(), String> {
    let cron = cron(text);
    let tz = TimeZone::get(tz_name).unwrap();
    let lines = on_calendar(&cron, tz_name).map_err(|e| format!("{text}: refused: {e}"))?;
    let expected = sundial_fires(&cron, &tz, base, ITERATIONS);
    let got = timer_fires(&lines, base, ITERATIONS);
    if expected == got {
        Ok(())
    } else {
        let first = expected
            .iter()
            .zip(&got)
            .position(|(a, b)| a != b)
            .unwrap_or(expected.len().min(got.len()));
        Err(format!(
            "`{text}` in {tz_name} as {lines:?}: first difference at fire #{}: sundial {:?}, \
             systemd {:?}",
            first + 1,
            expected.get(first).map(|t| t.to_zoned_datetime(tz.clone())),
            got.get(first).map(|t| t.to_zoned_datetime(tz.clone())),
        ))
    }
}

/// Hand-picked expressions: every feature, each in three zones. Hours stay
/// clear of 01:00-03:00 so no fire touches a transition.
#[test]
fn on_calendar_gives_the_engines_fire_times() {
    if !analyze_available("on_calendar_gives_the_engines_fire_times") {
        return;
    }
    let expressions = [
        // plain, lists, ranges, steps, names
        "30 4 * * *",
        "*/5 * * * *",
        "0 */6 * * *",
        "15,45 8-18 * * *",
        "5/20 9-17/2 * * *",
        "0-10/5 12 * * *",
        "0 9 * * mon-fri",
        "0 9 * * MON,wed,FRI",
        "0 9 * * sat,sun",
        "0 9 * * fri-sun",
        "0 22 * * 7",
        "0 9 1 jan,apr,jul,oct *",
        "0 12 * feb-mar *",
        "0 0 29 2 *",
        "0 0 31 * *",
        "0 10 1-7 * *",
        "@hourly",
        "@daily",
        "@weekly",
        "@monthly",
        "@yearly",
        // the Vixie day rule: OR when both are restricted
        "0 9 1,15 * mon",
        "0 9 13 * fri",
        "0 9 1-31 * mon",
        "0 9 1 * 0-6",
        // ...and AND when one starts with `*`
        "0 9 */2 * mon",
        "0 9 */3 * *",
        "0 9 * * */2",
        "0 9 1-10 * */2",
        "0 9 */1 * mon",
        // L, nL, #
        "0 12 L * *",
        "0 12 1,L * *",
        "0 12 L feb *",
        "0 12 * * 5L",
        "0 12 * * 0L,1L",
        "0 12 * * 1#2",
        "0 12 * * 5#5",
        "0 12 * * 1#1,1#3,4#2",
        "0 12 L * 5L",
        "0 12 15 * 1#2",
        "0 12 L * */2",
        "0 12 */2 * 1#2",
        "0 12 * * 1#2,5L,wed",
        // seconds
        "*/10 * * * * *",
        "30 0 12 * * *",
        "0,30 */15 * * * *",
        "15-20 0 9 * * mon",
    ];
    let mut failures = Vec::new();
    let mut checked = 0;
    for zone in ["UTC", "Europe/Berlin", "Asia/Kolkata"] {
        for text in expressions {
            // Mid-January: no transition within reach of the frequent
            // expressions, and the rare ones fire at hours clear of them.
            match compare(text, zone, ts("2026-01-10T07:13:20Z")) {
                Ok(()) => checked += 1,
                Err(e) => failures.push(e),
            }
        }
    }
    eprintln!("verified {checked} expressions x {ITERATIONS} fires against systemd-analyze");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A small deterministic generator (no dependency, reproducible failures).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u32) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % u64::from(bound)) as u32
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next(items.len() as u32) as usize]
    }
}

/// Random combinations of field shapes, checked the same way.
#[test]
fn random_expressions_give_the_engines_fire_times() {
    if !analyze_available("random_expressions_give_the_engines_fire_times") {
        return;
    }
    let mut rng = Lcg(0x05ee_d0f5_ca1e);
    let seconds = ["0", "*/20", "5,35", "10-12"];
    let minutes = ["0", "*/15", "5,35", "10-14", "7/20", "*", "59"];
    // Hour 2 (and 1 for New York) would meet a transition in some years.
    let hours = ["0", "9-17", "*/4", "23", "4,8,12", "6/6", "12"];
    let doms = [
        "*", "1", "1,15", "*/2", "10-20", "L", "28-31", "*/10", "1,L", "31",
    ];
    let months = ["*", "*", "1-6", "*/3", "feb", "jan,jul", "11,12"];
    let dows = [
        "*", "mon", "mon-fri", "*/2", "5L", "1#2", "0,6", "3#5", "2L,4#1", "sun",
    ];
    let zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"];
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut refused = 0;
    for _ in 0..250 {
        let with_seconds = rng.next(4) == 0;
        let text = format!(
            "{}{} {} {} {} {}",
            if with_seconds {
                format!("{} ", rng.pick(&seconds))
            } else {
                String::new()
            },
            rng.pick(&minutes),
            rng.pick(&hours),
            rng.pick(&doms),
            rng.pick(&months),
            rng.pick(&dows)
        );
        let Ok(Schedule::Cron(parsed)) = Schedule::parse(&text) else {
            continue; // e.g. `31` in February only
        };
        let zone = rng.pick(&zones);
        if on_calendar(&parsed, zone).is_err() {
            // Only the documented plain-days-against-`L` case may refuse.
            assert!(
                !parsed.days_combine_with_or()
                    && (parsed.last_day_of_month() || !parsed.last_weekdays().is_empty()),
                "{text} refused unexpectedly"
            );
            refused += 1;
            continue;
        }
        // A base in early January or early July: far from March/October
        // and November transitions for all but the rarest expressions.
        let base = if rng.next(2) == 0 {
            "2026-01-03T10:00:00Z"
        } else {
            "2026-07-04T10:00:00Z"
        };
        match compare(&text, zone, ts(base)) {
            Ok(()) => checked += 1,
            Err(e) => failures.push(e),
        }
    }
    eprintln!("verified {checked} random expressions x {ITERATIONS} fires ({refused} refused)");
    assert!(checked > 150);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Where systemd's calendar and sundial's cronie rules part ways, pinned so
/// `docs/scaling.md` stays true (Europe/Berlin, 2026: clocks go forward on
/// 29 March at 02:00, back on 25 October at 03:00).
#[test]
fn daylight_saving_differences() {
    if !analyze_available("daylight_saving_differences") {
        return;
    }
    let berlin = TimeZone::get("Europe/Berlin").unwrap();
    let fires = |text: &str, base: &str, n: usize| {
        let cron = cron(text);
        let lines = on_calendar(&cron, "Europe/Berlin").unwrap();
        let base = ts(base);
        (
            sundial_fires(&cron, &berlin, base, n),
            timer_fires(&lines, base, n),
        )
    };
    let utc = |list: &[&str]| list.iter().map(|t| ts(t)).collect::<Vec<_>>();

    // Spring forward, fixed time inside the gap: sundial runs at the end of
    // the gap (03:00 CEST), systemd skips the day.
    let (sundial, systemd) = fires("30 2 * * *", "2026-03-28T12:00:00Z", 2);
    assert_eq!(
        sundial,
        utc(&["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"])
    );
    assert_eq!(
        systemd,
        utc(&["2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"])
    );

    // Spring forward, wildcard: neither runs inside the gap.
    let (sundial, systemd) = fires("30 * * * *", "2026-03-28T23:00:00Z", 4);
    assert_eq!(sundial, systemd);

    // Fall back, fixed time in the repeated hour: both run once, first pass.
    let (sundial, systemd) = fires("30 2 * * *", "2026-10-24T12:00:00Z", 2);
    assert_eq!(sundial, systemd);
    assert_eq!(sundial[0], ts("2026-10-25T00:30:00Z"));

    // Fall back, wildcard: sundial runs on both passes of 02:30, systemd
    // only on the first.
    let (sundial, systemd) = fires("30 * * * *", "2026-10-24T23:00:00Z", 3);
    assert_eq!(
        sundial,
        utc(&[
            "2026-10-24T23:30:00Z",
            "2026-10-25T00:30:00Z",
            "2026-10-25T01:30:00Z"
        ])
    );
    assert_eq!(
        systemd,
        utc(&[
            "2026-10-24T23:30:00Z",
            "2026-10-25T00:30:00Z",
            "2026-10-25T02:30:00Z"
        ])
    );
}

/// The generated units load in systemd without a single complaint, and
/// `Environment=` values come out of systemd's parser as they went in.
#[test]
fn generated_units_pass_systemd_analyze_verify() {
    use std::path::PathBuf;
    use std::time::Duration;

    use crate::config::{Command as JobCommand, EnvValue, Retry};
    use crate::export::systemd;
    use crate::export::test_jobs::{job, tz};

    if !analyze_available("generated_units_pass_systemd_analyze_verify") {
        return;
    }
    let awkward = "quote \" backslash \\ dollar $HOME percent 100% tab\t; semicolon";
    let mut full = job("full", "0 9 1,15 * mon", "echo \"$HOME\" 100% && exit 0");
    full.timezone = tz("Europe/Berlin");
    full.description = Some("A 100% \"quoted\" description".into());
    full.env = vec![
        ("AWKWARD".into(), EnvValue::Literal(awkward.into())),
        ("EMPTY".into(), EnvValue::Literal(String::new())),
        (
            "TOKEN".into(),
            EnvValue::FromFile(PathBuf::from("/etc/hostname")),
        ),
    ];
    full.workdir = Some(PathBuf::from("/tmp"));
    full.timeout = Some(Duration::from_secs(90));
    full.jitter = Some(Duration::from_secs(30));
    full.catch_up = true;
    full.retry = Some(Retry {
        attempts: 1,
        delay: Duration::from_secs(5),
    });
    let mut exec = job("exec", "@every 90s", "");
    exec.command = JobCommand::Exec(vec![
        "/bin/echo".into(),
        ";".into(),
        "a b".into(),
        "$x".into(),
    ]);
    let boot = job("boot", "@reboot", "true");
    let last = job("last", "*/10 0 12 L * 5L", "true");

    for user_units in [false, true] {
        let out = systemd(&[&full, &exec, &boot, &last], user_units, "sundial");
        assert!(out.refused.is_empty(), "{:?}", out.refused);
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (name, contents) in &out.files {
            let path = dir.path().join(name);
            std::fs::write(&path, contents).unwrap();
            paths.push(path);
        }
        let verify = |files: &[PathBuf]| {
            let mut cmd = Command::new("systemd-analyze");
            cmd.env("SYSTEMD_LOG_LEVEL", "debug")
                .arg("verify")
                .arg("--man=no");
            if user_units {
                // The user manager wants a runtime dir, which a test
                // environment may lack.
                cmd.arg("--user").env("XDG_RUNTIME_DIR", dir.path());
            }
            let output = cmd.args(files).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            assert!(output.status.success(), "{stderr}");
            (String::from_utf8_lossy(&output.stdout).into_owned(), stderr)
        };
        // Complaints name the file and line.
        let (_, stderr) = verify(&paths);
        let complaints: Vec<&str> = stderr
            .lines()
            .filter(|l| paths.iter().any(|p| l.starts_with(&*p.to_string_lossy())))
            .collect();
        assert!(complaints.is_empty(), "{}", complaints.join("\n"));
        // With debug logging, verifying one unit dumps its parsed settings
        // on stdout.
        let (dump, _) = verify(&[dir.path().join("sundial-full.service")]);
        let environment: Vec<&str> = dump
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Environment: "))
            .collect();
        assert!(
            environment.contains(&format!("AWKWARD={awkward}").as_str()),
            "{environment:?}"
        );
        assert!(environment.contains(&"EMPTY="), "{environment:?}");
        assert!(!environment.iter().any(|e| e.starts_with("TOKEN")));
    }
}
