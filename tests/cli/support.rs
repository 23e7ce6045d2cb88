//! Shared test fixtures: a sandbox directory with its own config, log, state
//! and runtime dirs, the real binary pointed at them, and `wait_until` for
//! synchronising on files and history rows instead of sleeping.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_sundial");

/// Poll `cond` until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Print why a test does not run here and return from it.
#[macro_export]
macro_rules! skip {
    ($($arg:tt)*) => {{
        eprintln!("SKIPPED: {}", format!($($arg)*));
        return;
    }};
}

pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Sandbox {
    /// A sandbox whose jobs.yaml holds `yaml`.
    pub fn new(yaml: &str) -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("sundial-test-")
            .tempdir()
            .expect("tempdir");
        let config = dir.path().join("jobs.yaml");
        std::fs::write(&config, yaml).expect("write config");
        Sandbox { dir, config }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn log_dir(&self) -> PathBuf {
        self.path("logs")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.path("state")
    }

    pub fn runtime_dir(&self) -> PathBuf {
        self.path("run")
    }

    pub fn write_config(&self, yaml: &str) {
        std::fs::write(&self.config, yaml).expect("write config");
    }

    /// The binary with every location pointed into the sandbox.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--config")
            .arg(&self.config)
            .arg("--log-dir")
            .arg(self.log_dir())
            .arg("--state-dir")
            .arg(self.state_dir())
            .arg("--runtime-dir")
            .arg(self.runtime_dir())
            .args(args)
            .env_remove("SUNDIAL_CONFIG")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("run sundial")
    }

    /// `sundial start`, asserting success.
    pub fn start(&self) -> u32 {
        let out = self.run(&["start"]);
        assert!(
            out.status.success(),
            "start failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.daemon_log()
        );
        self.pid().expect("pid file after start")
    }

    pub fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.runtime_dir().join("sundial.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    pub fn daemon_log(&self) -> String {
        std::fs::read_to_string(self.log_dir().join("sundial.log")).unwrap_or_default()
    }

    pub fn job_log(&self, job: &str) -> String {
        std::fs::read_to_string(self.log_dir().join(format!("{job}.log"))).unwrap_or_default()
    }

    /// `sundial history JOB --json`, newest first.
    pub fn history(&self, job: &str) -> Vec<serde_json::Value> {
        let out = self.run(&["history", job, "--json", "-n", "1000"]);
        if !out.status.success() {
            return Vec::new();
        }
        serde_json::from_slice(&out.stdout).unwrap_or_default()
    }

    /// Finished runs (outcome other than running), newest first.
    pub fn finished(&self, job: &str) -> Vec<serde_json::Value> {
        self.history(job)
            .into_iter()
            .filter(|r| r["outcome"] != "running")
            .collect()
    }

    /// Wait until `job` has at least `n` finished runs; returns them.
    pub fn wait_runs(&self, job: &str, n: usize, timeout: Duration) -> Vec<serde_json::Value> {
        let mut rows = Vec::new();
        let ok = wait_until(timeout, || {
            rows = self.finished(job);
            rows.len() >= n
        });
        assert!(
            ok,
            "job {job}: wanted {n} finished runs within {timeout:?}, have {}: {rows:?}\ndaemon log:\n{}\njob log:\n{}",
            rows.len(),
            self.daemon_log(),
            self.job_log(job)
        );
        rows
    }

    pub fn wait_file(&self, path: &Path, timeout: Duration) -> bool {
        wait_until(timeout, || path.exists())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = self.cmd(&["stop", "--timeout", "15s"]).output();
            // Whatever happened, leave no daemon behind.
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// An RFC 3339 time from a JSON row.
pub fn time(v: &serde_json::Value) -> jiff::Timestamp {
    v.as_str()
        .unwrap_or_else(|| panic!("not a time: {v}"))
        .parse()
        .unwrap_or_else(|e| panic!("not a time: {v}: {e}"))
}

/// How long a history row's run took.
pub fn took(row: &serde_json::Value) -> jiff::SignedDuration {
    time(&row["ended_at"]).duration_since(time(&row["started_at"]))
}
