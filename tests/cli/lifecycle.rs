//! `start`, `run`, `stop`: the detach steps as seen from /proc, one instance
//! per runtime dir, exit codes.

use std::process::Command;
use std::time::Duration;

use crate::support::*;

const IDLE: &str = "timezone: UTC\numask: \"0027\"\njobs:\n  idle:\n    schedule: \"0 0 1 1 *\"\n    command: \"true\"\n";

fn proc_stat(pid: u32) -> Vec<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // The command name may contain spaces; fields resume after the last ')'.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    rest.split_whitespace().map(String::from).collect()
}

fn status_field(pid: u32, key: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat[stat.rfind(')').unwrap() + 2..].starts_with('Z'),
        Err(_) => false,
    }
}

#[test]
fn start_detaches_as_spec_5_says() {
    let sb = Sandbox::new(IDLE);
    // Start through a shell that leaves an extra descriptor open, to prove
    // the daemon closes what it inherits.
    let out = Command::new("sh")
        .arg("-c")
        .arg("exec 7</etc/passwd; exec \"$@\"")
        .arg("sh")
        .arg(BIN)
        .args(sb.cmd(&["start"]).get_args())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let pid = sb.pid().expect("pid file");
    assert_eq!(stdout(&out).trim(), format!("sundial: started (pid {pid})"));

    // stat fields after "(comm) ": state ppid pgrp session tty_nr ...
    let f = proc_stat(pid);
    let (ppid, pgrp, session, tty_nr) = (&f[1], &f[2], &f[3], &f[4]);
    assert_ne!(
        ppid,
        &std::process::id().to_string(),
        "parent is still the caller"
    );
    assert_ne!(
        session,
        &pid.to_string(),
        "daemon is a session leader (no second fork)"
    );
    assert_eq!(pgrp, session, "daemon is in the session made by setsid");
    assert_eq!(tty_nr, "0", "daemon has a controlling terminal");
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap(),
        std::path::PathBuf::from("/")
    );
    assert_eq!(status_field(pid, "Umask"), "0027");
    let sigign = u64::from_str_radix(&status_field(pid, "SigIgn"), 16).unwrap();
    for (name, sig) in [("TSTP", 20), ("TTIN", 21), ("TTOU", 22)] {
        assert!(
            sigign & (1 << (sig - 1)) != 0,
            "SIG{name} not ignored: {sigign:x}"
        );
    }
    let sandbox = sb.dir.path().canonicalize().unwrap();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap() {
        let entry = entry.unwrap();
        let fd: i32 = entry.file_name().to_str().unwrap().parse().unwrap();
        let target = std::fs::read_link(entry.path()).unwrap();
        let t = target.to_string_lossy();
        if fd <= 2 {
            assert_eq!(t, "/dev/null", "fd {fd}");
        } else {
            assert!(
                target.starts_with(&sandbox)
                    || t.starts_with("socket:")
                    || t.starts_with("anon_inode:")
                    || t.starts_with("pipe:"),
                "fd {fd} -> {t} is not one of the daemon's own files"
            );
        }
    }

    // One instance: a second start names the first pid and exits 4.
    let again = sb.run(&["start"]);
    assert_eq!(again.status.code(), Some(4), "{}", stderr(&again));
    assert!(
        stderr(&again).contains(&format!("already running (pid {pid}, lock ")),
        "{}",
        stderr(&again)
    );

    // stop removes the pid file and the socket and exits 0.
    let stop = sb.run(&["stop"]);
    assert!(stop.status.success(), "{}", stderr(&stop));
    assert!(!sb.runtime_dir().join("sundial.pid").exists());
    assert!(!sb.runtime_dir().join("sundial.sock").exists());
    assert!(
        !process_alive(pid),
        "stop returned while pid {pid} still runs"
    );
    assert!(
        sb.daemon_log().contains("sundial started"),
        "{}",
        sb.daemon_log()
    );
    assert!(
        sb.daemon_log().contains("sundial stopped"),
        "{}",
        sb.daemon_log()
    );
}

#[test]
fn start_after_kill_9_succeeds() {
    let sb = Sandbox::new(IDLE);
    let pid = sb.start();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(wait_until(Duration::from_secs(10), || {
        sb.run(&["status"]).status.code() == Some(3)
    }));
    // The stale pid file and socket are still there, and must not matter.
    assert!(sb.runtime_dir().join("sundial.pid").exists());
    let pid2 = sb.start();
    assert_ne!(pid, pid2);
    let st = sb.run(&["status", "--json"]);
    assert!(st.status.success(), "{}", stderr(&st));
    let v: serde_json::Value = serde_json::from_slice(&st.stdout).unwrap();
    assert_eq!(v["pid"], pid2);
}

#[test]
fn bad_config_exits_78_and_leaves_no_daemon() {
    let sb = Sandbox::new("jobs:\n  a:\n    schedule: \"61 * * * *\"\n    command: \"true\"\n");
    let out = sb.run(&["start"]);
    assert_eq!(out.status.code(), Some(78), "{}", stderr(&out));
    assert!(stderr(&out).contains("jobs.yaml:3:"), "{}", stderr(&out));
    assert!(sb.pid().is_none());
    assert_eq!(sb.run(&["status"]).status.code(), Some(3));
}

#[test]
fn not_running_is_exit_3() {
    let sb = Sandbox::new(IDLE);
    for cmd in [
        &["status"][..],
        &["stop"],
        &["reload"],
        &["trigger", "idle"],
    ] {
        let out = sb.run(cmd);
        assert_eq!(out.status.code(), Some(3), "{cmd:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("not running"), "{}", stderr(&out));
    }
}

#[test]
fn run_stops_on_sigint_with_exit_0() {
    let sb = Sandbox::new(IDLE);
    let mut child = sb
        .cmd(&["run"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(sb.wait_file(
        &sb.runtime_dir().join("sundial.sock"),
        Duration::from_secs(10)
    ));
    // A second daemon, detached or not, is refused while `run` holds the lock.
    assert_eq!(sb.run(&["start"]).status.code(), Some(4));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(!sb.runtime_dir().join("sundial.pid").exists());
}

#[test]
fn sighup_does_not_kill_the_daemon() {
    let sb = Sandbox::new(IDLE);
    let pid = sb.start();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    assert!(wait_until(Duration::from_secs(5), || sb
        .daemon_log()
        .contains("configuration reloaded")));
    assert!(sb.run(&["status"]).status.success());
}

#[test]
fn start_names_a_dir_it_cannot_create() {
    let sb = Sandbox::new(IDLE);
    let out = std::process::Command::new(BIN)
        .args(["--config"])
        .arg(&sb.config)
        .args(["--log-dir", "/proc/sundial-cannot-exist", "--state-dir"])
        .arg(sb.state_dir())
        .arg("--runtime-dir")
        .arg(sb.runtime_dir())
        .arg("start")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot create log dir /proc/sundial-cannot-exist"),
        "{}",
        stderr(&out)
    );
    assert!(sb.pid().is_none(), "no daemon left behind");
}
