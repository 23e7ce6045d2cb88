//! Failure handling and recovery: retry, on_failure, mail_to, webhooks,
//! catch-up after downtime, jitter, @reboot, @start, @every.

use std::io::{BufRead, BufReader, Read, Write};
use std::time::Duration;

use crate::support::*;

const NEVER: &str = "0 0 1 1 *";

#[test]
fn retries_double_their_delay_and_link_to_the_first_run() {
    let sb = Sandbox::new(&format!(
        "timezone: UTC\njobs:\n  flaky: {{ schedule: \"{NEVER}\", command: \"exit 1\", retry: {{ attempts: 2, delay: 1s }} }}\n"
    ));
    sb.start();
    sb.run(&["trigger", "flaky"]);
    let rows = sb.wait_runs("flaky", 3, Duration::from_secs(20));
    // Newest first: retry 2, retry 1, the first run.
    let (r2, r1, first) = (&rows[0], &rows[1], &rows[2]);
    assert_eq!(first["trigger"], "manual");
    assert_eq!(first["retry_of"], serde_json::Value::Null);
    let id = &first["run_id"];
    for r in [r1, r2] {
        assert_eq!(r["trigger"], "retry");
        assert_eq!(
            &r["retry_of"], id,
            "retries link to the first run: {rows:?}"
        );
        assert_eq!(r["outcome"], "failed");
    }
    let gap1 = time(&r1["started_at"]).duration_since(time(&first["ended_at"]));
    let gap2 = time(&r2["started_at"]).duration_since(time(&r1["ended_at"]));
    assert!(
        (1000..1500).contains(&gap1.as_millis()),
        "first delay {gap1:?}"
    );
    assert!(
        (2000..2500).contains(&gap2.as_millis()),
        "doubled delay {gap2:?}"
    );
}

#[test]
fn on_failure_gets_the_run_details_and_writes_to_the_job_log() {
    let sb = Sandbox::new("");
    let out = sb.path("hook.env");
    sb.write_config(&format!(
        "timezone: UTC\njobs:\n  broken:\n    schedule: \"{NEVER}\"\n    command: \"echo trying; exit 7\"\n    on_failure: \"env | grep ^SUNDIAL_ | sort > {}; echo hook ran\"\n",
        out.display()
    ));
    sb.start();
    assert_eq!(
        sb.run(&["trigger", "broken", "--wait"]).status.code(),
        Some(7)
    );
    assert!(sb.wait_file(&out, Duration::from_secs(10)));
    let run_id = sb.wait_runs("broken", 1, Duration::from_secs(5))[0]["run_id"]
        .as_i64()
        .unwrap();
    assert!(wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .contains("SUNDIAL_RUN_ID")
    }));
    let env = std::fs::read_to_string(&out).unwrap();
    assert!(env.contains("SUNDIAL_JOB=broken\n"), "{env}");
    assert!(env.contains(&format!("SUNDIAL_RUN_ID={run_id}\n")), "{env}");
    assert!(env.contains("SUNDIAL_EXIT_CODE=7\n"), "{env}");
    assert!(env.contains("SUNDIAL_OUTCOME=failed\n"), "{env}");
    assert!(
        env.contains(&format!(
            "SUNDIAL_LOG_FILE={}\n",
            sb.log_dir().join("broken.log").display()
        )),
        "{env}"
    );
    assert!(
        wait_until(Duration::from_secs(5), || sb
            .job_log("broken")
            .contains("on_failure: hook ran")),
        "{}",
        sb.job_log("broken")
    );
    // The run's own outcome is unchanged.
    assert_eq!(sb.finished("broken")[0]["outcome"], "failed");
}

#[test]
fn mail_to_sends_the_framed_output_through_sendmail() {
    let sb = Sandbox::new("");
    let mailbox = sb.path("mailbox");
    let fake = sb.path("sendmail");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"args: $*\" > {mb}.tmp\ncat >> {mb}.tmp\nmv {mb}.tmp {mb}\n",
            mb = mailbox.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    sb.write_config(&format!(
        "timezone: UTC\nsendmail: {}\njobs:\n  report:\n    schedule: \"{NEVER}\"\n    command: \"echo the disk is on fire; exit 1\"\n    mail_to: [ops@example.com, dev@example.com]\n  quiet:\n    schedule: \"{NEVER}\"\n    command: \"true\"\n    mail_to: ops@example.com\n",
        fake.display()
    ));
    sb.start();
    sb.run(&["trigger", "quiet", "--wait"]);
    sb.run(&["trigger", "report", "--wait"]);
    assert!(
        sb.wait_file(&mailbox, Duration::from_secs(10)),
        "{}",
        sb.daemon_log()
    );
    let mail = std::fs::read_to_string(&mailbox).unwrap();
    assert!(mail.starts_with("args: -t -oi\n"), "{mail}");
    assert!(
        mail.contains("To: ops@example.com, dev@example.com\r\n"),
        "{mail}"
    );
    let host = nix::unistd::gethostname().unwrap().into_string().unwrap();
    assert!(
        mail.contains(&format!("Subject: [sundial] report failed on {host}\r\n")),
        "{mail}"
    );
    assert!(mail.contains("the disk is on fire"), "{mail}");
    assert!(mail.contains("==> run "), "the framed output: {mail}");
    assert!(mail.contains("outcome=failed"), "{mail}");
    assert!(!mail.contains("quiet"), "successful runs are not mailed");
}

/// A one-request-at-a-time HTTP server on loopback that records bodies.
fn webhook_server(status: u16) -> (u16, std::sync::mpsc::Receiver<serde_json::Value>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            if let Ok(v) = serde_json::from_slice(&body) {
                let _ = tx.send(v);
            }
        }
    });
    (port, rx)
}

#[test]
fn webhooks_report_failure_and_recovery() {
    let (port, bodies) = webhook_server(200);
    let sb = Sandbox::new("");
    let flag = sb.path("fail");
    std::fs::write(&flag, "").unwrap();
    sb.write_config(&format!(
        "timezone: UTC\njobs:\n  svc:\n    schedule: \"{NEVER}\"\n    command: \"echo checking; test ! -e {}\"\n    webhook: {{ url: \"http://127.0.0.1:{port}/hook\" }}\n",
        flag.display()
    ));
    sb.start();
    sb.run(&["trigger", "svc", "--wait"]);
    let failure = bodies
        .recv_timeout(Duration::from_secs(10))
        .expect("failure webhook");
    assert_eq!(failure["job"], "svc");
    assert_eq!(failure["event"], "failure");
    assert_eq!(failure["outcome"], "failed");
    assert_eq!(failure["exit_code"], 1);
    assert!(
        failure["output_tail"]
            .as_str()
            .unwrap()
            .contains("checking"),
        "{failure}"
    );
    std::fs::remove_file(&flag).unwrap();
    sb.run(&["trigger", "svc", "--wait"]);
    let recovery = bodies
        .recv_timeout(Duration::from_secs(10))
        .expect("recovery webhook");
    assert_eq!(recovery["event"], "recovery");
    assert_eq!(recovery["outcome"], "ok");
    // A success after a success is not announced without `on: [success]`.
    sb.run(&["trigger", "svc", "--wait"]);
    assert!(bodies.recv_timeout(Duration::from_millis(1500)).is_err());
}

#[test]
fn an_unreachable_webhook_never_changes_the_outcome() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sb = Sandbox::new(&format!(
        "timezone: UTC\njobs:\n  fine:\n    schedule: \"{NEVER}\"\n    command: \"true\"\n    webhook: {{ url: \"http://127.0.0.1:{port}/\", on: [success] }}\n"
    ));
    sb.start();
    assert_eq!(
        sb.run(&["trigger", "fine", "--wait"]).status.code(),
        Some(0)
    );
    assert_eq!(
        sb.wait_runs("fine", 1, Duration::from_secs(5))[0]["outcome"],
        "ok"
    );
    assert!(
        wait_until(Duration::from_secs(10), || sb
            .daemon_log()
            .contains("webhook failed")),
        "{}",
        sb.daemon_log()
    );
}

#[test]
fn catch_up_runs_once_for_the_newest_missed_fire() {
    let config = |catch_up: bool| {
        format!(
            "timezone: UTC\njobs:\n  every2s:\n    schedule: \"*/2 * * * * *\"\n    command: \"true\"\n    catch_up: {catch_up}\n"
        )
    };
    let sb = Sandbox::new(&config(true));
    sb.start();
    sb.wait_runs("every2s", 1, Duration::from_secs(10));
    assert!(sb.run(&["stop"]).status.success());
    let stopped = jiff::Timestamp::now();
    // Be down long enough to miss at least two fires.
    assert!(wait_until(
        Duration::from_secs(10),
        || jiff::Timestamp::now().duration_since(stopped).as_secs() >= 5
    ));
    let restarted = jiff::Timestamp::now();
    sb.start();
    let rows = sb.wait_runs("every2s", 3, Duration::from_secs(10));
    let catch: Vec<_> = rows.iter().filter(|r| r["trigger"] == "catch-up").collect();
    assert_eq!(catch.len(), 1, "exactly one catch-up run: {rows:?}");
    let sched = time(&catch[0]["scheduled_at"]);
    assert!(
        sched > stopped && sched <= restarted,
        "the newest missed fire: {sched} not in ({stopped}, {restarted}]"
    );
    assert!(
        restarted.duration_since(sched).as_secs() < 2,
        "newest, not oldest: {sched}"
    );

    // With catch_up off, nothing runs for the gap, and the log says so.
    sb.write_config(&config(false));
    assert!(sb.run(&["stop"]).status.success());
    let stopped = jiff::Timestamp::now();
    assert!(wait_until(
        Duration::from_secs(10),
        || jiff::Timestamp::now().duration_since(stopped).as_secs() >= 5
    ));
    let before = sb.finished("every2s").len();
    sb.start();
    sb.wait_runs("every2s", before + 1, Duration::from_secs(10));
    let catch_ups = sb
        .finished("every2s")
        .iter()
        .filter(|r| r["trigger"] == "catch-up")
        .count();
    assert_eq!(catch_ups, 1, "no second catch-up");
    assert!(
        sb.daemon_log().contains("catch_up is off"),
        "{}",
        sb.daemon_log()
    );
}

#[test]
fn jitter_delays_each_fire_and_records_it() {
    let sb = Sandbox::new(
        "timezone: UTC\njobs:\n  j: { schedule: \"*/2 * * * * *\", command: \"true\", jitter: 1500ms }\n",
    );
    let out = sb.run(&["check"]);
    if !out.status.success() {
        // Durations may not take milliseconds; a whole-second jitter works too.
        sb.write_config("timezone: UTC\njobs:\n  j: { schedule: \"*/2 * * * * *\", command: \"true\", jitter: 1s }\n");
    }
    sb.start();
    let rows = sb.wait_runs("j", 3, Duration::from_secs(15));
    for r in &rows {
        let delay = r["delay_ms"].as_i64().expect("delay recorded");
        assert!((0..1600).contains(&delay), "{r}");
        let late = time(&r["started_at"]).duration_since(time(&r["scheduled_at"]));
        assert!(late.as_millis() >= i128::from(delay) - 1000, "{r}");
    }
}

#[test]
fn reboot_start_and_every() {
    let sb = Sandbox::new(
        "timezone: UTC\njobs:\n  boot: { schedule: \"@reboot\", command: \"true\" }\n  start: { schedule: \"@start\", command: \"true\" }\n  interval: { schedule: \"@every 2s\", command: \"true\" }\n",
    );
    let started = jiff::Timestamp::now();
    sb.start();
    let boot = sb.wait_runs("boot", 1, Duration::from_secs(10));
    assert_eq!(boot[0]["trigger"], "reboot");
    assert_eq!(
        sb.wait_runs("start", 1, Duration::from_secs(10))[0]["trigger"],
        "start"
    );
    let every = sb.wait_runs("interval", 2, Duration::from_secs(10));
    let (second, first) = (
        time(&every[0]["scheduled_at"]),
        time(&every[1]["scheduled_at"]),
    );
    assert_eq!(second.duration_since(first).as_millis(), 2000, "{every:?}");
    assert!(
        first.duration_since(started).as_secs() <= 3,
        "counted from the start: {every:?}"
    );

    // A reload runs neither again.
    assert!(sb.run(&["reload"]).status.success());
    // A restart runs @start again, but not @reboot (same boot).
    assert!(sb.run(&["stop"]).status.success());
    sb.start();
    sb.wait_runs("start", 2, Duration::from_secs(10));
    assert_eq!(
        sb.finished("boot").len(),
        1,
        "@reboot ran again in the same boot"
    );
    assert_eq!(sb.finished("start").len(), 2);
}

/// A late wake-up (here: the daemon stopped with SIGSTOP, as a suspend
/// would) runs the newest overdue fire once, late, with the delay recorded.
#[test]
fn a_late_wake_up_runs_the_newest_fire_once() {
    let sb = Sandbox::new(
        "timezone: UTC\njobs:\n  tick: { schedule: \"*/2 * * * * *\", command: \"true\" }\n",
    );
    let pid = nix::unistd::Pid::from_raw(sb.start() as i32);
    sb.wait_runs("tick", 1, Duration::from_secs(10));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    let stopped = jiff::Timestamp::now();
    // Sleep through at least two fires.
    assert!(wait_until(Duration::from_secs(10), || {
        jiff::Timestamp::now().duration_since(stopped).as_millis() >= 5000
    }));
    let before = sb.finished("tick").len();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).unwrap();
    let rows = sb.wait_runs("tick", before + 1, Duration::from_secs(10));
    let late = rows
        .iter()
        .find(|r| r["delay_ms"].as_i64().unwrap_or(0) >= 500)
        .unwrap_or_else(|| panic!("no late run recorded: {rows:?}"));
    assert_eq!(late["trigger"], "schedule");
    assert!(
        wait_until(Duration::from_secs(5), || sb
            .daemon_log()
            .contains("fires were overdue")),
        "{}",
        sb.daemon_log()
    );
    // Once per wake-up, not once per missed fire.
    let resumed: Vec<_> = rows
        .iter()
        .filter(|r| time(&r["started_at"]) > stopped)
        .collect();
    assert!(resumed.len() <= 2, "{resumed:?}");
}

/// A run that sundial replaced (overlap: replace) is not the job's failure:
/// it is neither retried nor announced.
#[test]
fn a_replaced_run_is_not_retried_or_announced() {
    let sb = Sandbox::new("");
    let hook = sb.path("hook-ran");
    sb.write_config(&format!(
        "timezone: UTC\njobs:\n  r:\n    schedule: \"{NEVER}\"\n    command: \"sleep 30\"\n    overlap: replace\n    kill_grace: 1s\n    retry: {{ attempts: 2, delay: 1s }}\n    on_failure: \"touch {}\"\n",
        hook.display()
    ));
    sb.start();
    sb.run(&["trigger", "r"]);
    assert!(wait_until(Duration::from_secs(5), || sb
        .history("r")
        .iter()
        .any(|x| x["outcome"] == "running")));
    sb.run(&["trigger", "r"]);
    let rows = sb.wait_runs("r", 1, Duration::from_secs(10));
    assert_eq!(rows[0]["outcome"], "killed");
    // Give a retry (1 s) or hook a chance to show up; neither may.
    assert!(!wait_until(Duration::from_secs(2), || hook.exists()
        || sb.history("r").iter().any(|x| x["trigger"] == "retry")));
}
