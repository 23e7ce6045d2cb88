//! The control socket: reload (command, SIGHUP, file watching), trigger,
//! peer credentials, malformed requests, and the metrics endpoint.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::support::*;

const NEVER: &str = "0 0 1 1 *";

fn two_jobs(extra: &str) -> String {
    format!(
        "timezone: UTC\nwatch: false\njobs:\n  keep: {{ schedule: \"{NEVER}\", command: \"true\" }}\n  tick: {{ schedule: \"* * * * * *\", command: \"true\" }}\n{extra}"
    )
}

fn status(sb: &Sandbox) -> serde_json::Value {
    let out = sb.run(&["status", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn reload_rejects_a_broken_file_and_keeps_running() {
    let sb = Sandbox::new(&two_jobs(""));
    sb.start();
    sb.wait_runs("tick", 1, Duration::from_secs(10));
    sb.write_config(
        "timezone: Nowhere/City\njobs:\n  tick: { schedule: \"99 * * * *\", command: \"true\" }\n",
    );
    let out = sb.run(&["reload"]);
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("reload rejected"), "{err}");
    assert!(
        err.contains("jobs.yaml:1:11"),
        "every error, positioned: {err}"
    );
    assert!(
        err.contains("jobs.yaml:3:"),
        "every error, positioned: {err}"
    );
    // The old configuration still fires. (Client commands that read the
    // config refuse the broken file too, so count frames in the log.)
    let ends = || sb.job_log("tick").matches("<== run").count();
    let before = ends();
    assert!(
        wait_until(Duration::from_secs(10), || ends() >= before + 2),
        "{}",
        sb.daemon_log()
    );
    assert_eq!(status(&sb)["jobs"]["total"], 2);
}

#[test]
fn reload_applies_the_difference() {
    let sb = Sandbox::new(&two_jobs(
        "  gone: { schedule: \"@every 1h\", command: \"true\" }\n",
    ));
    sb.start();
    sb.write_config(&format!(
        "timezone: UTC\nwatch: false\njobs:\n  keep: {{ schedule: \"{NEVER}\", command: \"true\" }}\n  tick: {{ schedule: \"* * * * * *\", command: \"echo changed\" }}\n  fresh: {{ schedule: \"* * * * * *\", command: \"true\" }}\n"
    ));
    let out = sb.run(&["reload"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("+ fresh"), "{text}");
    assert!(text.contains("- gone"), "{text}");
    assert!(text.contains("~ tick"), "{text}");
    assert!(
        !text.contains("keep"),
        "unchanged jobs are not listed: {text}"
    );
    sb.wait_runs("fresh", 1, Duration::from_secs(10));
    assert!(wait_until(Duration::from_secs(10), || sb
        .job_log("tick")
        .contains("changed")));
    assert_eq!(status(&sb)["jobs"]["total"], 3);
}

#[test]
fn sighup_reloads() {
    let sb = Sandbox::new(&two_jobs(""));
    let pid = sb.start();
    sb.write_config(&two_jobs(
        "  added: { schedule: \"* * * * * *\", command: \"true\" }\n",
    ));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    sb.wait_runs("added", 1, Duration::from_secs(10));
}

#[test]
fn editor_style_atomic_rename_is_picked_up() {
    let sb = Sandbox::new(&format!(
        "timezone: UTC\njobs:\n  keep: {{ schedule: \"{NEVER}\", command: \"true\" }}\n"
    ));
    sb.start();
    let tmp = sb.path(".jobs.yaml.swp");
    std::fs::write(
        &tmp,
        format!("timezone: UTC\njobs:\n  keep: {{ schedule: \"{NEVER}\", command: \"true\" }}\n  new: {{ schedule: \"* * * * * *\", command: \"true\" }}\n"),
    )
    .unwrap();
    std::fs::rename(&tmp, &sb.config).unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || status(&sb)["jobs"]["total"] == 2),
        "{}",
        sb.daemon_log()
    );
    sb.wait_runs("new", 1, Duration::from_secs(10));
}

#[test]
fn trigger_unknown_job_names_the_closest() {
    let sb = Sandbox::new(&two_jobs(""));
    sb.start();
    let out = sb.run(&["trigger", "tik"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("'tick'"), "{}", stderr(&out));
    let out = sb.run(&["trigger", "keep"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("started (run "), "{}", stdout(&out));
}

fn raw_request(sb: &Sandbox, bytes: &[u8]) -> String {
    let mut s = UnixStream::connect(sb.runtime_dir().join("sundial.sock")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The daemon may answer and close before reading everything we send.
    let _ = s.write_all(bytes);
    let mut reply = String::new();
    let _ = BufReader::new(s).read_line(&mut reply);
    reply
}

#[test]
fn garbage_and_huge_requests_leave_the_daemon_healthy() {
    let sb = Sandbox::new(&two_jobs(""));
    sb.start();
    let reply = raw_request(&sb, b"this is not json\n");
    assert!(reply.contains("\"bad-request\""), "{reply}");
    let reply = raw_request(&sb, b"{\"protocol\":999,\"request\":\"status\"}\n");
    assert!(reply.contains("\"version\""), "{reply}");
    let mut huge = vec![b'x'; 10 * 1024 * 1024];
    huge.push(b'\n');
    let reply = raw_request(&sb, &huge);
    assert!(reply.contains("longer than 65536 bytes"), "{reply}");
    // A client that connects and says nothing, then goes away.
    drop(UnixStream::connect(sb.runtime_dir().join("sundial.sock")).unwrap());
    assert_eq!(status(&sb)["jobs"]["total"], 2);
}

#[test]
fn other_users_are_refused() {
    if !is_root() {
        skip!("needs root to connect as another user");
    }
    let setpriv = std::process::Command::new("setpriv")
        .arg("--version")
        .output();
    if setpriv.map(|o| !o.status.success()).unwrap_or(true) {
        skip!("setpriv (util-linux) is not installed");
    }
    let sb = Sandbox::new(&two_jobs(""));
    sb.start();
    // Let nobody reach the socket through the file system, so that the
    // refusal comes from the daemon's SO_PEERCRED check.
    use std::os::unix::fs::PermissionsExt;
    for dir in [sb.dir.path().to_path_buf(), sb.runtime_dir()] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let sock = sb.runtime_dir().join("sundial.sock");
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"])
        .arg(BIN)
        .args(sb.cmd(&["status"]).get_args())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("may not control this daemon"),
        "{}",
        stderr(&out)
    );
    assert!(
        wait_until(Duration::from_secs(5), || sb
            .daemon_log()
            .contains("refused a control connection")),
        "{}",
        sb.daemon_log()
    );
    assert!(sb.run(&["status"]).status.success());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn http_get(port: u16, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn metrics_match_the_history() {
    let port = free_port();
    let sb = Sandbox::new(&format!(
        "timezone: UTC\nmetrics: {{ listen: \"127.0.0.1:{port}\" }}\njobs:\n  good: {{ schedule: \"{NEVER}\", command: \"true\" }}\n  bad: {{ schedule: \"{NEVER}\", command: \"exit 2\" }}\n"
    ));
    sb.start();
    for job in ["good", "good", "bad"] {
        sb.run(&["trigger", job, "--wait"]);
    }
    sb.wait_runs("good", 2, Duration::from_secs(10));
    sb.wait_runs("bad", 1, Duration::from_secs(10));
    let response = http_get(port, "/metrics");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("text/plain; version=0.0.4"), "{response}");
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    // Every sample line is `name{labels} value`, and the value is a number.
    let mut samples = std::collections::HashMap::new();
    for line in body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (key, value) = line.rsplit_once(' ').expect("name value");
        let v: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        samples.insert(key.to_string(), v);
    }
    assert_eq!(
        samples[r#"sundial_job_runs_total{job="good",outcome="ok"}"#],
        2.0
    );
    assert_eq!(
        samples[r#"sundial_job_runs_total{job="bad",outcome="failed"}"#],
        1.0
    );
    assert_eq!(samples[r#"sundial_job_running{job="good"}"#], 0.0);
    assert!(samples[r#"sundial_job_last_success_timestamp_seconds{job="good"}"#] > 1.7e9);
    assert!(samples.contains_key(r#"sundial_job_last_duration_seconds{job="bad"}"#));
    assert!(samples.contains_key(r#"sundial_job_last_start_timestamp_seconds{job="bad"}"#));
    // Counters start from the history after a restart.
    assert!(sb.run(&["stop"]).status.success());
    sb.start();
    let body = http_get(port, "/metrics");
    assert!(
        body.contains(r#"sundial_job_runs_total{job="good",outcome="ok"} 2"#),
        "{body}"
    );
    assert!(http_get(port, "/nope").starts_with("HTTP/1.1 404"));
}

#[test]
fn a_broken_file_still_leads_to_the_daemon_it_names() {
    // The runtime dir comes from the file itself, not the command line.
    let sb = Sandbox::new(&format!(
        "timezone: UTC\nruntime_dir: own-run\nlog_dir: own-logs\nstate_dir: own-state\njobs:\n  a: {{ schedule: \"{NEVER}\", command: \"true\" }}\n"
    ));
    let cmd = |args: &[&str]| {
        std::process::Command::new(BIN)
            .arg("--config")
            .arg(&sb.config)
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    assert!(cmd(&["start"]).status.success());
    sb.write_config("timezone: UTC\nruntime_dir: own-run\njobs:\n  a: { schedule: \"nope\", command: \"true\" }\n");
    let reload = cmd(&["reload"]);
    assert_eq!(reload.status.code(), Some(78), "{}", stderr(&reload));
    assert!(
        stderr(&reload).contains("reload rejected"),
        "{}",
        stderr(&reload)
    );
    assert!(cmd(&["status"]).status.success());
    assert!(cmd(&["stop"]).status.success());
    assert!(!sb.path("own-run/sundial.pid").exists());
}
