//! Running jobs: the process each job gets, outcomes, overlap, timeouts,
//! output capture and rotation, and a full log disk.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::support::*;

const NEVER: &str = "0 0 1 1 *";

fn cfg(jobs: &str) -> String {
    format!("timezone: UTC\njobs:\n{jobs}")
}

/// `sundial trigger JOB --wait`, returning the exit code.
fn trigger_wait(sb: &Sandbox, job: &str) -> i32 {
    let out = sb.run(&["trigger", job, "--wait"]);
    out.status.code().unwrap_or(-1)
}

#[test]
fn job_process_is_set_up_as_spec_5_says() {
    let sb = Sandbox::new("");
    let work = sb.path("work");
    std::fs::create_dir(&work).unwrap();
    // The probes report on the job process itself: a shell in between
    // blocks and ignores signals of its own, which would hide ours.
    sb.write_config(&cfg(&format!(
        r#"  signals:
    schedule: "{NEVER}"
    umask: "0077"
    command: ["grep", "-E", "^(SigIgn|SigBlk|Umask):", "/proc/self/status"]
  fds:
    schedule: "{NEVER}"
    command: ["sh", "-c", "exec ls -l /proc/self/fd/"]
  shell:
    schedule: "{NEVER}"
    workdir: {}
    env: {{ GREETING: hello }}
    command: |
      echo "stdin: $(readlink /proc/$$/fd/0)"
      echo "pgid: $(cut -d' ' -f5 /proc/$$/stat) pid: $$"
      echo "cwd: $(pwd -P)"
      echo "env: $GREETING $SUNDIAL_JOB $SHELL"
      echo "path: $PATH"
"#,
        work.display()
    )));
    sb.start();
    for job in ["signals", "fds", "shell"] {
        assert_eq!(trigger_wait(&sb, job), 0, "{job}: {}", sb.daemon_log());
    }
    let value = |job: &str, key: &str| {
        let log = sb.job_log(job);
        log.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| panic!("no {key} in {log}"))
    };
    // Signals 32 and 33 are glibc's own (thread cancellation, setxid): libc
    // refuses to change them, and an ignored disposition there can only come
    // from whoever started the daemon. Every other signal must be default.
    let mask = |key: &str| u64::from_str_radix(&value("signals", key), 16).unwrap() & !(0b11 << 31);
    assert_eq!(mask("SigIgn:"), 0, "ignored signals leaked into the job");
    assert_eq!(value("signals", "SigBlk:"), "0000000000000000");
    assert_eq!(value("signals", "Umask:"), "0077");

    // `ls -l /proc/self/fd/`: 0 is /dev/null, 1 and 2 the same pipe, and the
    // only other descriptor is the directory ls itself is reading.
    let log = sb.job_log("fds");
    let fds: Vec<(String, String)> = log
        .lines()
        .filter_map(|l| l.split_once(" -> "))
        .map(|(left, target)| {
            (
                left.split_whitespace().last().unwrap().to_string(),
                target.to_string(),
            )
        })
        .collect();
    let target = |fd: &str| fds.iter().find(|(f, _)| f == fd).map(|(_, t)| t.clone());
    assert_eq!(target("0").as_deref(), Some("/dev/null"), "{log}");
    assert!(target("1").unwrap().starts_with("pipe:"), "{log}");
    assert_eq!(
        target("1"),
        target("2"),
        "stdout and stderr share one pipe: {log}"
    );
    for (fd, t) in &fds {
        if !["0", "1", "2"].contains(&fd.as_str()) {
            assert!(
                t.starts_with("/proc/") && t.ends_with("/fd"),
                "inherited fd {fd} -> {t}: {log}"
            );
        }
    }

    assert_eq!(value("shell", "stdin:"), "/dev/null");
    let pg = value("shell", "pgid:");
    let (pgid, pid) = pg.split_once(" pid: ").unwrap();
    assert_eq!(pgid, pid, "the job leads its own process group");
    assert_eq!(
        value("shell", "cwd:"),
        work.canonicalize().unwrap().display().to_string()
    );
    assert_eq!(value("shell", "env:"), "hello shell /bin/sh");
    assert!(value("shell", "path:").starts_with("/usr/local"));
}

#[test]
fn outcomes_are_recorded() {
    let sb = Sandbox::new(&cfg(&format!(
        r#"  ok: {{ schedule: "{NEVER}", command: "echo fine" }}
  fails: {{ schedule: "{NEVER}", command: "exit 3" }}
  killed: {{ schedule: "{NEVER}", command: "kill -9 $$" }}
  slow: {{ schedule: "{NEVER}", command: "sleep 30", timeout: 1s, kill_grace: 1s }}
  missing: {{ schedule: "{NEVER}", command: ["/nonexistent/program", "x"] }}
"#
    )));
    sb.start();
    assert_eq!(trigger_wait(&sb, "ok"), 0);
    assert_eq!(trigger_wait(&sb, "fails"), 3);
    assert_eq!(trigger_wait(&sb, "killed"), 128 + 9);
    assert_eq!(trigger_wait(&sb, "slow"), 124);
    assert_eq!(trigger_wait(&sb, "missing"), 1);
    let one = |job: &str| sb.wait_runs(job, 1, Duration::from_secs(10)).remove(0);
    let r = one("ok");
    assert_eq!(
        (r["outcome"].as_str(), r["exit_code"].as_i64()),
        (Some("ok"), Some(0))
    );
    assert_eq!(r["trigger"], "manual");
    let r = one("fails");
    assert_eq!(
        (r["outcome"].as_str(), r["exit_code"].as_i64()),
        (Some("failed"), Some(3))
    );
    let r = one("killed");
    assert_eq!(
        (r["outcome"].as_str(), r["signal"].as_i64()),
        (Some("killed"), Some(9))
    );
    let r = one("slow");
    assert_eq!(
        (r["outcome"].as_str(), r["signal"].as_i64()),
        (Some("timeout"), Some(15))
    );
    let r = one("missing");
    assert_eq!(r["outcome"], "error");
    assert!(
        sb.job_log("missing").contains("/nonexistent/program"),
        "the reason is in the log: {}",
        sb.job_log("missing")
    );
    // Each run is framed, and the end line carries the outcome.
    let log = sb.job_log("fails");
    assert!(log.contains("==> run "), "{log}");
    assert!(log.contains("outcome=failed"), "{log}");
}

#[test]
fn exec_commands_are_found_like_execvp() {
    let sb = Sandbox::new("");
    let bin = sb.path("bin");
    std::fs::create_dir(&bin).unwrap();
    // No `#!` line: the kernel refuses it, and it runs through /bin/sh.
    std::fs::write(bin.join("hello"), "echo from-script \"$1\" \"$0\"\n").unwrap();
    std::fs::set_permissions(bin.join("hello"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(bin.join("plain"), "echo never\n").unwrap();
    std::fs::set_permissions(bin.join("plain"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let bin = bin.display();
    sb.write_config(&cfg(&format!(
        r#"  viapath: {{ schedule: "{NEVER}", command: ["hello", "x y"], env: {{ PATH: "/nonexistent:{bin}:/usr/bin:/bin" }} }}
  notexec: {{ schedule: "{NEVER}", command: ["{bin}/plain"] }}
  nowhere: {{ schedule: "{NEVER}", command: ["no-such-program-sundial"] }}
"#
    )));
    sb.start();
    assert_eq!(trigger_wait(&sb, "viapath"), 0);
    assert!(
        sb.job_log("viapath")
            .contains(&format!("\nfrom-script x y {bin}/hello\n")),
        "{}",
        sb.job_log("viapath")
    );
    assert_eq!(trigger_wait(&sb, "notexec"), 1);
    assert!(
        sb.job_log("notexec").contains("permission denied"),
        "{}",
        sb.job_log("notexec")
    );
    assert_eq!(trigger_wait(&sb, "nowhere"), 1);
    assert!(
        sb.job_log("nowhere")
            .contains("no-such-program-sundial: command not found"),
        "{}",
        sb.job_log("nowhere")
    );
    for job in ["notexec", "nowhere"] {
        assert_eq!(sb.finished(job)[0]["outcome"], "error");
    }
}

#[test]
fn timeout_kills_the_whole_process_group() {
    let sb = Sandbox::new("");
    let pidfile = sb.path("grandchild.pid");
    sb.write_config(&cfg(&format!(
        r#"  tree:
    schedule: "{NEVER}"
    timeout: 1s
    kill_grace: 1s
    command: "sh -c 'trap \"\" TERM; sleep 300' & echo $! > {}; wait"
"#,
        pidfile.display()
    )));
    sb.start();
    assert_eq!(trigger_wait(&sb, "tree"), 124);
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The grandchild ignores SIGTERM; SIGKILL after kill_grace must get it,
    // and the daemon (a subreaper) must reap it.
    assert!(
        wait_until(Duration::from_secs(10), || !std::path::Path::new(&format!(
            "/proc/{pid}"
        ))
        .exists()),
        "grandchild {pid} survived the timeout"
    );
}

#[test]
fn stdout_and_stderr_interleave_in_order() {
    let sb = Sandbox::new(&cfg(&format!(
        r#"  mix: {{ schedule: "{NEVER}", command: "echo out1; echo err1 >&2; echo out2; echo err2 >&2" }}
"#
    )));
    sb.start();
    assert_eq!(trigger_wait(&sb, "mix"), 0);
    let log = sb.job_log("mix");
    let body: Vec<&str> = log
        .lines()
        .filter(|l| !l.starts_with("==") && !l.starts_with("<=="))
        .collect();
    assert_eq!(body, ["out1", "err1", "out2", "err2"], "{log}");
}

#[test]
fn seconds_schedule_fires_on_time() {
    let sb = Sandbox::new(&cfg(
        "  tick: { schedule: \"* * * * * *\", command: \"true\" }\n",
    ));
    sb.start();
    let rows = sb.wait_runs("tick", 3, Duration::from_secs(15));
    for r in &rows {
        assert_eq!(r["trigger"], "schedule");
        assert_eq!(r["outcome"], "ok");
        let sched: jiff::Timestamp = r["scheduled_at"].as_str().unwrap().parse().unwrap();
        let started: jiff::Timestamp = r["started_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(sched.subsec_nanosecond(), 0, "fires land on whole seconds");
        let late = started.duration_since(sched);
        assert!(
            late.as_millis() >= 0 && late.as_millis() < 500,
            "started {late:?} after the fire: {r}"
        );
    }
}

#[test]
fn overlap_skip_records_skipped_fires() {
    let sb = Sandbox::new(&cfg(
        "  long: { schedule: \"* * * * * *\", command: \"sleep 2.5\" }\n",
    ));
    sb.start();
    assert!(
        wait_until(Duration::from_secs(20), || {
            let rows = sb.finished("long");
            rows.iter().any(|r| r["outcome"] == "skipped")
                && rows.iter().any(|r| r["outcome"] == "ok")
        }),
        "{:?}",
        sb.history("long")
    );
    // Never two at once.
    let st = sb.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert!(v["running"].as_array().unwrap().len() <= 1);
}

#[test]
fn overlap_queue_runs_one_after_another() {
    let sb = Sandbox::new(&cfg(&format!(
        "  q: {{ schedule: \"{NEVER}\", command: \"sleep 0.5\", overlap: queue }}\n"
    )));
    sb.start();
    for _ in 0..3 {
        assert!(sb.run(&["trigger", "q"]).status.success());
    }
    let rows = sb.wait_runs("q", 3, Duration::from_secs(15));
    let mut runs: Vec<(jiff::Timestamp, jiff::Timestamp)> = rows
        .iter()
        .map(|r| {
            (
                r["started_at"].as_str().unwrap().parse().unwrap(),
                r["ended_at"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    runs.sort();
    assert!(rows.iter().all(|r| r["outcome"] == "ok"), "{rows:?}");
    for w in runs.windows(2) {
        assert!(
            w[1].0 >= w[0].1 - jiff::SignedDuration::from_secs(1),
            "overlapping runs: {runs:?}"
        );
    }
}

#[test]
fn overlap_allow_and_replace() {
    let sb = Sandbox::new(&cfg(&format!(
        r#"  both: {{ schedule: "{NEVER}", command: "sleep 3", overlap: allow }}
  newest: {{ schedule: "{NEVER}", command: "sleep 30", overlap: replace, kill_grace: 1s }}
"#
    )));
    sb.start();
    assert!(sb.run(&["trigger", "both"]).status.success());
    assert!(sb.run(&["trigger", "both"]).status.success());
    let st = sb.run(&["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    let running = v["running"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["job"] == "both")
        .count();
    assert_eq!(running, 2, "allow runs them side by side: {v}");

    assert!(sb.run(&["trigger", "newest"]).status.success());
    assert!(sb.run(&["trigger", "newest"]).status.success());
    let rows = sb.wait_runs("newest", 1, Duration::from_secs(10));
    assert_eq!(
        rows[0]["outcome"], "killed",
        "the older run was replaced: {rows:?}"
    );
    assert_eq!(rows[0]["signal"], 15);
}

#[test]
fn rotation_keeps_files_bounded_and_runs_readable() {
    let sb = Sandbox::new(&cfg(&format!(
        r#"  chatty:
    schedule: "{NEVER}"
    log: {{ max_size: 64KiB, keep: 3 }}
    command: "seq 1 30000"
"#
    )));
    sb.start();
    assert_eq!(trigger_wait(&sb, "chatty"), 0);
    assert_eq!(trigger_wait(&sb, "chatty"), 0);
    let rows = sb.wait_runs("chatty", 2, Duration::from_secs(10));
    let files: Vec<_> = std::fs::read_dir(sb.log_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("chatty.log"))
        .collect();
    assert!(files.len() <= 4, "keep 3 plus the current file: {files:?}");
    let total: u64 = files.iter().map(|f| f.metadata().unwrap().len()).sum();
    assert!(total <= 4 * 64 * 1024 + 4096, "files total {total} bytes");
    // The newest run (seq 1 30000 is ~169 KB) spans rotated files and comes back whole.
    let newest = rows[0]["run_id"].as_i64().unwrap();
    let out = sb.run(&["logs", "chatty", "--run", &newest.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let numbers: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("==") && !l.starts_with("<=="))
        .collect();
    assert_eq!(numbers.len(), 30000, "whole run back");
    assert_eq!(numbers[0], "1");
    assert_eq!(numbers[29999], "30000");
}

#[test]
fn full_log_disk_still_records_the_run() {
    if !is_root() {
        skip!("mounting a small tmpfs needs root");
    }
    let sb = Sandbox::new(&cfg(&format!(
        "  big: {{ schedule: \"{NEVER}\", command: \"head -c 2000000 /dev/zero | tr '\\\\0' x\", log: {{ max_size: 10MiB }} }}\n"
    )));
    std::fs::create_dir_all(sb.log_dir()).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(sb.log_dir())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !mounted {
        skip!("cannot mount a tmpfs here");
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
    let _unmount = Unmount(sb.log_dir());
    sb.start();
    assert_eq!(trigger_wait(&sb, "big"), 0);
    let r = sb.wait_runs("big", 1, Duration::from_secs(10)).remove(0);
    assert_eq!(r["outcome"], "ok");
    assert_eq!(r["log_bytes"], 2_000_000);
    assert!(r["log_lost_bytes"].as_u64().unwrap() > 1_000_000, "{r}");
    // The daemon is still there and says what happened.
    assert!(sb.run(&["status"]).status.success());
}

#[test]
fn short_runs_keep_their_output() {
    // The exit can be seen before the pipe is reported readable; the last
    // output must still be read, at startup as later.
    let sb = Sandbox::new(&cfg(&format!(
        "  hi: {{ schedule: \"{NEVER}\", command: \"echo hi\", overlap: allow }}\n  boot: {{ schedule: \"@start\", command: \"echo started\" }}\n"
    )));
    for round in 1..=3 {
        sb.start();
        for _ in 0..5 {
            sb.run(&["trigger", "hi"]);
        }
        sb.wait_runs("hi", 5 * round, Duration::from_secs(10));
        sb.wait_runs("boot", round, Duration::from_secs(10));
        assert!(sb.run(&["stop"]).status.success());
    }
    for r in sb.finished("hi").iter().chain(sb.finished("boot").iter()) {
        assert_eq!(r["outcome"], "ok");
        assert!(r["log_bytes"].as_u64().unwrap() >= 3, "output lost: {r}");
        assert_eq!(r["log_lost_bytes"], 0);
    }
    assert_eq!(sb.finished("boot").len(), 3);
    // Runs that overlap (`allow`) get `[run N] ` before each line.
    let log = sb.job_log("hi");
    let his = log
        .lines()
        .filter(|l| *l == "hi" || (l.starts_with("[run ") && l.ends_with("] hi")))
        .count();
    assert_eq!(his, 15, "{log}");
}
