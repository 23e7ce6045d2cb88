//! Fault injection (issue 9): what is kept and what the user is told when
//! the disk, the database or the jobs misbehave, or the daemon is killed.

use std::time::Duration;

use crate::support::*;

const NEVER: &str = "0 0 1 1 *";

fn cfg(jobs: &str) -> String {
    format!("timezone: UTC\njobs:\n{jobs}")
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s[s.rfind(')').unwrap() + 2..].starts_with('Z'))
        .unwrap_or(false)
}

#[test]
fn log_dir_removed_while_a_job_runs() {
    let sb = Sandbox::new(&cfg(&format!(
        "  chatty: {{ schedule: \"{NEVER}\", command: \"for i in $(seq 1 30); do echo line $i; sleep 0.05; done\" }}\n"
    )));
    sb.start();
    sb.run(&["trigger", "chatty"]);
    assert!(sb.wait_file(&sb.log_dir().join("chatty.log"), Duration::from_secs(5)));
    std::fs::remove_dir_all(sb.log_dir()).unwrap();
    let r = sb.wait_runs("chatty", 1, Duration::from_secs(15)).remove(0);
    assert_eq!(r["outcome"], "ok");
    // The dir is back, with the rest of the run and its end frame.
    let log = sb.job_log("chatty");
    assert!(log.contains("line 30"), "{log}");
    assert!(log.contains("<== run"), "{log}");
    let lost = r["log_lost_bytes"].as_u64().unwrap();
    let bytes = r["log_bytes"].as_u64().unwrap();
    assert!(bytes > 200, "{r}");
    // Whatever went into the deleted file is not silently claimed as kept:
    // the new file holds at most what history says was not lost.
    assert!(lost < bytes, "{r}");
    assert!(
        sb.run(&["status"]).status.success(),
        "the daemon is still there"
    );
}

#[test]
fn corrupt_history_database_does_not_stop_jobs() {
    let sb = Sandbox::new(&cfg(&format!(
        "  j: {{ schedule: \"{NEVER}\", command: \"echo ran\" }}\n"
    )));
    std::fs::create_dir_all(sb.state_dir()).unwrap();
    std::fs::write(sb.state_dir().join("sundial.db"), vec![0x5a; 8192]).unwrap();
    sb.start();
    assert_eq!(sb.run(&["trigger", "j", "--wait"]).status.code(), Some(0));
    assert!(sb.job_log("j").contains("ran"));
    assert!(
        wait_until(Duration::from_secs(5), || sb
            .daemon_log()
            .contains("sundial.db")),
        "the daemon log names the database: {}",
        sb.daemon_log()
    );
    let out = sb.run(&["history", "j"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("sundial.db"), "{}", stderr(&out));
}

#[test]
fn locked_history_database_does_not_stop_jobs() {
    let sb = Sandbox::new(&cfg(&format!(
        "  j: {{ schedule: \"{NEVER}\", command: \"echo ran\" }}\n"
    )));
    sb.start();
    assert_eq!(sb.run(&["trigger", "j", "--wait"]).status.code(), Some(0));
    sb.wait_runs("j", 1, Duration::from_secs(5));
    // Another process takes an exclusive lock on the database.
    let db = rusqlite::Connection::open(sb.state_dir().join("sundial.db")).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    db.execute_batch("BEGIN IMMEDIATE;").unwrap();
    assert_eq!(sb.run(&["trigger", "j", "--wait"]).status.code(), Some(0));
    assert!(
        sb.job_log("j").matches("ran").count() >= 2,
        "the job ran while the db was locked"
    );
    assert!(
        wait_until(Duration::from_secs(20), || sb
            .daemon_log()
            .contains("history")),
        "the failure is logged: {}",
        sb.daemon_log()
    );
    drop(db);
    // Once the lock is gone, runs are recorded again.
    assert_eq!(sb.run(&["trigger", "j", "--wait"]).status.code(), Some(0));
    assert!(
        wait_until(Duration::from_secs(20), || sb.finished("j").len() >= 2),
        "{:?}",
        sb.history("j")
    );
    assert!(sb.run(&["status"]).status.success());
}

#[test]
fn daemon_killed_during_runs_recovers_history() {
    let sb = Sandbox::new(&cfg(&format!(
        "  quick: {{ schedule: \"{NEVER}\", command: \"true\" }}\n  long: {{ schedule: \"{NEVER}\", command: \"sleep 30\" }}\n"
    )));
    let pid = sb.start();
    for _ in 0..3 {
        assert_eq!(
            sb.run(&["trigger", "quick", "--wait"]).status.code(),
            Some(0)
        );
    }
    sb.run(&["trigger", "long"]);
    assert!(wait_until(Duration::from_secs(5), || sb
        .history("long")
        .iter()
        .any(|r| r["outcome"] == "running")));
    sb.wait_runs("quick", 3, Duration::from_secs(5));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    // The lock goes when the last of the daemon's threads is gone, which can
    // be a moment after its main thread shows as a zombie.
    assert!(wait_until(Duration::from_secs(5), || !alive(pid)
        && sb.run(&["status"]).status.code() == Some(3)));
    sb.start();
    let quick = sb.finished("quick");
    assert_eq!(
        quick.len(),
        3,
        "every finished run is there, once: {quick:?}"
    );
    assert!(quick.iter().all(|r| r["outcome"] == "ok"));
    let long = sb.history("long");
    assert_eq!(long.len(), 1, "{long:?}");
    assert_eq!(long[0]["outcome"], "interrupted", "{long:?}");
    assert!(long[0]["ended_at"].is_string());
    assert!(
        sb.daemon_log().contains("interrupted"),
        "{}",
        sb.daemon_log()
    );
    // Run ids continue after the old ones.
    assert_eq!(
        sb.run(&["trigger", "quick", "--wait"]).status.code(),
        Some(0)
    );
    let newest = sb.wait_runs("quick", 4, Duration::from_secs(5))[0]["run_id"]
        .as_i64()
        .unwrap();
    assert!(newest > long[0]["run_id"].as_i64().unwrap());
}

#[test]
fn a_job_that_closes_its_output_and_keeps_running() {
    let sb = Sandbox::new(&cfg(&format!(
        "  closer: {{ schedule: \"{NEVER}\", command: \"echo before; exec >&- 2>&-; sleep 1; exit 4\" }}\n"
    )));
    sb.start();
    assert_eq!(
        sb.run(&["trigger", "closer", "--wait"]).status.code(),
        Some(4)
    );
    let r = sb.wait_runs("closer", 1, Duration::from_secs(5)).remove(0);
    assert_eq!(
        r["exit_code"], 4,
        "the run lasted until the process ended: {r}"
    );
    let took = took(&r);
    assert!(took.as_millis() >= 900, "{took:?}");
    assert!(sb.job_log("closer").contains("before"));
}

#[test]
fn a_job_that_double_forks_ends_when_its_main_process_does() {
    let sb = Sandbox::new("");
    let pidfile = sb.path("orphan.pid");
    sb.write_config(&cfg(&format!(
        "  forker: {{ schedule: \"{NEVER}\", command: \"(sleep 3 & echo $! > {}); echo parent done\" }}\n",
        pidfile.display()
    )));
    let daemon = sb.start();
    assert_eq!(
        sb.run(&["trigger", "forker", "--wait"]).status.code(),
        Some(0)
    );
    let r = sb.wait_runs("forker", 1, Duration::from_secs(5)).remove(0);
    assert_eq!(r["outcome"], "ok");
    let took = took(&r);
    assert!(
        took.as_secs() < 2,
        "the run did not wait for the orphan holding its pipe: {took:?}"
    );
    assert!(sb.job_log("forker").contains("parent done"));
    // The orphan was re-parented to the daemon (a subreaper), which reaps it.
    let orphan: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    if let Ok(stat) = std::fs::read_to_string(format!("/proc/{orphan}/stat")) {
        let ppid = stat[stat.rfind(')').unwrap() + 2..]
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string();
        assert_eq!(ppid, daemon.to_string(), "orphan's parent");
    }
    assert!(
        wait_until(Duration::from_secs(10), || !std::path::Path::new(&format!(
            "/proc/{orphan}"
        ))
        .exists()),
        "the orphan was not reaped (a zombie remains)"
    );
}

#[test]
fn a_job_that_ignores_sigterm_is_killed_after_the_grace() {
    let sb = Sandbox::new(&cfg(&format!(
        "  stubborn: {{ schedule: \"{NEVER}\", command: [\"sh\", \"-c\", \"trap '' TERM; sleep 30 & wait; sleep 30\"], timeout: 1s, kill_grace: 1s }}\n"
    )));
    sb.start();
    assert_eq!(
        sb.run(&["trigger", "stubborn", "--wait"]).status.code(),
        Some(124)
    );
    let r = sb
        .wait_runs("stubborn", 1, Duration::from_secs(10))
        .remove(0);
    assert_eq!(r["outcome"], "timeout");
    assert_eq!(r["signal"], 9, "SIGKILL after the grace: {r}");
    let log = sb.job_log("stubborn");
    assert!(log.contains("outcome=timeout"), "{log}");
}

#[test]
fn stopping_the_daemon_stops_and_records_running_jobs() {
    let sb = Sandbox::new(&cfg(&format!(
        "  long: {{ schedule: \"{NEVER}\", command: \"sleep 30\", kill_grace: 2s }}\n"
    )));
    sb.start();
    sb.run(&["trigger", "long"]);
    assert!(wait_until(Duration::from_secs(5), || sb
        .history("long")
        .iter()
        .any(|r| r["outcome"] == "running")));
    let stop = sb.run(&["stop"]);
    assert!(stop.status.success(), "{}", stderr(&stop));
    let r = sb.finished("long").remove(0);
    assert_eq!(r["outcome"], "interrupted", "{r}");
    assert_eq!(r["signal"], 15);
}

#[test]
fn a_job_that_never_stops_printing_still_times_out() {
    let sb = Sandbox::new(&cfg(&format!(
        "  flood: {{ schedule: \"{NEVER}\", command: \"yes flood\", timeout: 2s, kill_grace: 1s, log: {{ max_size: 1MiB, keep: 1 }} }}\n"
    )));
    sb.start();
    assert_eq!(
        sb.run(&["trigger", "flood", "--wait"]).status.code(),
        Some(124)
    );
    let r = sb.wait_runs("flood", 1, Duration::from_secs(10)).remove(0);
    assert_eq!(r["outcome"], "timeout");
    assert!(
        r["log_bytes"].as_u64().unwrap() > 1_000_000,
        "the pipe was drained all along: {r}"
    );
    // The files stay within max_size × (keep + 1), whatever it printed.
    let total: u64 = std::fs::read_dir(sb.log_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("flood.log"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert!(total <= 2 * 1024 * 1024 + 64 * 1024, "{total}");
    assert!(sb.run(&["status"]).status.success());
}
