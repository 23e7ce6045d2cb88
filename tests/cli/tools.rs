//! Commands that need no daemon: check, next, list, logs, history,
//! import-crontab, completions, man.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use crate::support::*;

const NEVER: &str = "0 0 1 1 *";

fn bare(args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("SUNDIAL_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn next_applies_the_vixie_or_rule() {
    let out = bare(&[
        "next",
        "0 0 1 * mon",
        "-n",
        "3",
        "--tz",
        "UTC",
        "--from",
        "2026-06-30T00:00:00Z",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("at 00:00 on day 1 of the month and on Mondays"),
        "{text}"
    );
    let times: Vec<&str> = text.lines().skip(1).map(str::trim).collect();
    assert_eq!(
        times,
        [
            "2026-07-01 00:00:00 +00:00",
            "2026-07-06 00:00:00 +00:00",
            "2026-07-13 00:00:00 +00:00"
        ]
    );
}

#[test]
fn next_runs_a_gap_time_at_the_end_of_the_gap() {
    let out = bare(&[
        "next",
        "30 2 * * *",
        "-n",
        "3",
        "--tz",
        "Europe/Berlin",
        "--from",
        "2026-03-28T12:00:00Z",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["fires"],
        serde_json::json!([
            "2026-03-29T03:00:00+02:00",
            "2026-03-30T02:30:00+02:00",
            "2026-03-31T02:30:00+02:00"
        ])
    );
    assert_eq!(v["description"], "at 02:30 every day");
}

#[test]
fn next_rejects_bad_input_with_usage_errors() {
    let out = bare(&["next", "61 * * * *"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("minute"), "{}", stderr(&out));
    let out = bare(&["next", "* * * * *", "--tz", "Mars/Olympus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown time zone"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_reports_every_mistake_with_positions() {
    let sb = Sandbox::new(
        "timezone: UTC\njobs:\n  a:\n    schedule: \"61 * * * *\"\n    command: \"true\"\n  b:\n    schedule: \"* * * * *\"\n    comand: \"true\"\n    command: x\n  c:\n    schedule: \"@daily\"\n    command: y\n    timezone: Mars/Base\n",
    );
    let out = sb.run(&["check"]);
    assert_eq!(out.status.code(), Some(78));
    let err = stderr(&out);
    let file = sb.config.display().to_string();
    assert!(err.contains(&format!("{file}:4:16: job 'a': invalid schedule '61 * * * *': minute field: 61 is out of range 0-59")), "{err}");
    assert!(
        err.contains(&format!("{file}:8:5: job 'b': unknown key 'comand'")),
        "{err}"
    );
    assert!(err.contains("did you mean 'command'?"), "{err}");
    assert!(
        err.contains(&format!(
            "{file}:13:15: job 'c': unknown time zone 'Mars/Base'"
        )),
        "{err}"
    );
    assert!(err.contains("3 errors"), "{err}");
}

#[test]
fn check_summarises_a_good_file() {
    let sb = Sandbox::new(&format!(
        "timezone: UTC\njobs:\n  a: {{ schedule: \"{NEVER}\", command: \"true\" }}\n  b: {{ schedule: \"@start\", command: \"true\", enabled: false }}\n"
    ));
    let out = sb.run(&["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("ok, 2 jobs"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("a ") && l.contains("2027-01-01 00:00:00 +00:00")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("b ") && l.contains("disabled")),
        "{text}"
    );
}

#[test]
fn example_config_is_valid() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/jobs.yaml.example");
    let out = bare(&["--config", example, "check"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn list_history_and_logs_without_a_daemon() {
    let sb = Sandbox::new(&format!(
        "timezone: Europe/Berlin\njobs:\n  hello: {{ schedule: \"{NEVER}\", command: \"echo one; echo two; echo three\" }}\n  other: {{ schedule: \"@every 5m\", command: \"true\" }}\n"
    ));
    sb.start();
    sb.run(&["trigger", "hello", "--wait"]);
    sb.run(&["trigger", "hello", "--wait"]);
    sb.wait_runs("hello", 2, Duration::from_secs(10));
    assert!(sb.run(&["stop"]).status.success());

    let out = sb.run(&["list", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hello = &list[0];
    for key in [
        "name",
        "schedule",
        "timezone",
        "enabled",
        "next_run",
        "last_run",
        "last_outcome",
        "last_duration_ms",
    ] {
        assert!(hello.get(key).is_some(), "list lacks {key}: {hello}");
    }
    assert_eq!(hello["name"], "hello");
    assert_eq!(hello["timezone"], "Europe/Berlin");
    assert_eq!(hello["last_outcome"], "ok");
    assert!(
        hello["next_run"]
            .as_str()
            .unwrap()
            .starts_with("2027-01-01T00:00:00+01:00"),
        "{hello}"
    );
    assert_eq!(
        list[1]["next_run"],
        serde_json::Value::Null,
        "@every needs a running daemon"
    );

    let human = stdout(&sb.run(&["list"]));
    assert!(human.starts_with("JOB"), "{human}");
    assert!(
        human.contains(" ago") || human.contains(" now "),
        "relative times: {human}"
    );
    assert!(human.contains("(in "), "relative times: {human}");

    let rows = sb.history("hello");
    assert_eq!(rows.len(), 2);
    for key in [
        "run_id",
        "job",
        "trigger",
        "scheduled_at",
        "started_at",
        "ended_at",
        "outcome",
        "exit_code",
        "signal",
        "retry_of",
        "log_bytes",
        "log_lost_bytes",
    ] {
        assert!(
            rows[0].get(key).is_some(),
            "history lacks {key}: {}",
            rows[0]
        );
    }
    assert!(
        rows[0]["run_id"].as_i64() > rows[1]["run_id"].as_i64(),
        "newest first"
    );
    assert_eq!(rows[0]["log_bytes"], 14);

    let tail = stdout(&sb.run(&["logs", "hello", "-n", "2"]));
    assert_eq!(tail.lines().count(), 2, "{tail}");
    assert!(
        tail.lines().last().unwrap().starts_with("<== run"),
        "{tail}"
    );
    let last = stdout(&sb.run(&["logs", "hello", "--last"]));
    let newest = rows[0]["run_id"].as_i64().unwrap();
    assert!(last.starts_with(&format!("==> run {newest} ")), "{last}");
    assert_eq!(
        last.lines()
            .filter(|l| !l.starts_with("==") && !l.starts_with("<=="))
            .count(),
        3
    );

    for cmd in [&["logs", "helo"][..], &["history", "helo"]] {
        let out = sb.run(cmd);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("did you mean 'hello'?"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn logs_follow_prints_new_output() {
    let sb = Sandbox::new(&format!(
        "timezone: UTC\njobs:\n  talk: {{ schedule: \"{NEVER}\", command: \"echo follow-me\" }}\n"
    ));
    // Before any daemon ran there is nothing to watch: say so, do not hang.
    let early = sb.run(&["logs", "talk", "-f"]);
    assert_eq!(early.status.code(), Some(1));
    assert!(
        stderr(&early).contains("does not exist yet"),
        "{}",
        stderr(&early)
    );
    sb.start();
    let mut follower = sb
        .cmd(&["logs", "talk", "-f"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = follower.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // The follower may start before the file exists; it must wait for it.
    sb.run(&["trigger", "talk", "--wait"]);
    let seen = (0..10).find_map(|_| {
        rx.recv_timeout(Duration::from_secs(5))
            .ok()
            .filter(|l| l == "follow-me")
    });
    let _ = follower.kill();
    let _ = follower.wait();
    assert_eq!(seen.as_deref(), Some("follow-me"));
}

#[test]
fn import_crontab_reads_stdin() {
    let mut child = std::process::Command::new(BIN)
        .args(["import-crontab", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"MAILTO=ops@example.com\n# nightly backup\n30 2 * * * /usr/local/bin/backup.sh --all\nnot a cron line\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let yaml = stdout(&out);
    assert!(yaml.contains("backup"), "{yaml}");
    assert!(yaml.contains("30 2 * * *"), "{yaml}");
    assert!(yaml.contains("ops@example.com"), "{yaml}");
    assert!(
        stderr(&out).contains(":4:"),
        "the skipped line is named: {}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(1), "something was skipped");
    // What it printed is a valid config.
    let sb = Sandbox::new(&yaml);
    let check = sb.run(&["check"]);
    assert!(check.status.success(), "{}\n{yaml}", stderr(&check));
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let out = bare(&["completions", shell]);
        assert!(out.status.success());
        assert!(stdout(&out).contains("import-crontab"), "{shell}");
    }
    let man = bare(&["man"]);
    assert!(man.status.success());
    assert!(
        stdout(&man).starts_with(".ie"),
        "roff: {}",
        &stdout(&man)[..40]
    );
    assert!(stdout(&man).contains("sundial"));
}

/// The files shipped in contrib/ are generated from the CLI; they must be
/// regenerated when it changes (the message says how).
#[test]
fn shipped_completions_and_man_page_are_current() {
    let root = env!("CARGO_MANIFEST_DIR");
    for (args, file) in [
        (
            &["completions", "bash"][..],
            "contrib/completions/sundial.bash",
        ),
        (&["completions", "zsh"], "contrib/completions/_sundial"),
        (&["completions", "fish"], "contrib/completions/sundial.fish"),
        (&["man"], "contrib/man/sundial.1"),
    ] {
        let shipped = std::fs::read_to_string(format!("{root}/{file}")).unwrap();
        assert!(
            stdout(&bare(args)) == shipped,
            "{file} is out of date: run `sundial {} > {file}`",
            args.join(" ")
        );
    }
}
