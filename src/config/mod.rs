//! Configuration: `jobs.yaml` turned into typed, validated [`Config`] and
//! [`Job`] values (SPEC 3).
//!
//! The loader reports every problem of a file in one pass, each with
//! `file:line:column`, the job it belongs to and a hint, so a user fixes a
//! file in one edit instead of one error at a time. Everything after loading
//! (the daemon, the client commands) works on these validated types only.
//!
//! # Layout
//!
//! - `load.rs`: [`load`] and [`load_str`]: read the file, check ownership in
//!   system mode, run the passes below, check `from_file` secrets.
//! - `tree.rs`: YAML text to a generic tree of nodes that know their
//!   line:column, within size, depth, node and alias limits.
//! - `validate.rs`: the walk: top-level keys, map handling (unknown keys with
//!   "did you mean", duplicate keys), collecting [`Diagnostic`]s.
//! - `job.rs`: job fields, and the merge of `defaults:` into each job.
//! - `values.rs`: single values: durations, sizes, paths, commands,
//!   schedules, time zones, users.
//! - [`units`]: parsing and formatting durations, sizes and umasks.
//! - `host.rs`: users, groups and file owners, behind a trait for tests.
//! - `error.rs`: [`ConfigError`], [`Diagnostic`], [`InsecureFile`].
//!
//! # Rules the docs record
//!
//! - Relative paths (`log_dir`, `state_dir`, `runtime_dir`, `workdir`,
//!   `from_file`, and `shell`/`sendmail` written with a `/`) resolve against
//!   the config file's folder. `~` is not expanded (an error says the full
//!   path to write). `shell` and `sendmail` must be paths: a bare `bash` is
//!   refused, since sundial does not search PATH for them.
//! - A job field overrides `defaults:`; `env` merges per variable, `log` and
//!   `limits` field by field; null (`timeout: ~`) means the built-in default.
//!   `defaults:` takes any job field but `schedule` and `command`.
//! - Time zone: job, `defaults:`, top-level `timezone`, else the system's
//!   zone, named by its IANA name (`/etc/localtime`'s target) or `local`
//!   when it has none; `timezone: local` selects it explicitly.
//! - The umask is read from the text as written, always octal: `0022`,
//!   `022`, `22`, `"0027"`, `0o027`; at most `0777`. The top-level `umask` is
//!   the daemon's and the jobs' default.
//! - Units: see [`units`]. Durations are at most a year.
//! - System mode: the config file and every `from_file` secret must be owned
//!   by root and not writable by group or others ([`ConfigError::Insecure`]);
//!   a missing secret is a diagnostic. User mode: `user`/`group` may only
//!   name sundial's own user and group.

mod error;
mod host;
mod job;
mod load;
#[cfg(test)]
mod tests;
mod tree;
pub mod units;
mod validate;
mod values;

pub use error::{ConfigError, Diagnostic, InsecureFile};
pub use load::{load, load_str};

use std::path::PathBuf;
use std::time::Duration;

use crate::schedule::Schedule;

/// The system-mode rule for a file sundial trusts (the config, a
/// `from_file` secret), for checks after loading, e.g. a secret at each run:
/// `None` when it is owned by root and not writable by group or others.
pub fn insecure_file(path: &std::path::Path, meta: &std::fs::Metadata) -> Option<InsecureFile> {
    use std::os::unix::fs::MetadataExt;
    host::check_secure(
        path,
        host::FileStatus {
            uid: meta.uid(),
            mode: meta.mode(),
        },
    )
}

/// Whether sundial runs as root (system mode) or as an ordinary user (SPEC 1).
/// Some checks differ: `user`/`group` and file ownership rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    System,
    User,
}

impl Mode {
    /// The mode of the current process: system mode when the effective uid is 0.
    pub fn current() -> Mode {
        if nix::unistd::geteuid().is_root() {
            Mode::System
        } else {
            Mode::User
        }
    }
}

/// A time zone with the name the user wrote, so it can be shown back as written.
#[derive(Debug, Clone)]
pub struct Tz {
    /// An IANA name (`Europe/Berlin`), or `local` for the system zone.
    pub name: String,
    pub zone: jiff::tz::TimeZone,
}

impl PartialEq for Tz {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// A validated configuration file.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The absolute path of the file it was read from.
    pub path: PathBuf,
    /// The file-wide default zone; jobs without `timezone` use it.
    pub timezone: Tz,
    /// Directory paths from the file, already resolved against the file's folder.
    pub log_dir: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub runtime_dir: Option<PathBuf>,
    /// The daemon's own umask (default 0o022).
    pub umask: u32,
    /// Watch the config file's folder and reload on change (default true).
    pub watch: bool,
    pub metrics: Option<MetricsConfig>,
    /// The program `mail_to` hands messages to (default `/usr/sbin/sendmail`).
    pub sendmail: PathBuf,
    /// Jobs in the order the file lists them.
    pub jobs: Vec<Job>,
}

impl Config {
    pub fn job(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.name == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MetricsConfig {
    pub listen: std::net::SocketAddr,
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A string: run as `<shell> -c <string>`.
    Shell(String),
    /// A list: exec'd directly, the first element is the program.
    Exec(Vec<String>),
}

impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Shell(s) => f.write_str(s),
            Command::Exec(v) => f.write_str(&v.join(" ")),
        }
    }
}

/// An `env` value: a literal, or a secret read from a file at each run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Literal(String),
    FromFile(PathBuf),
}

/// What to do when a run comes due while the previous one still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overlap {
    #[default]
    Skip,
    Queue,
    Allow,
    Replace,
}

impl Overlap {
    pub const fn as_str(self) -> &'static str {
        match self {
            Overlap::Skip => "skip",
            Overlap::Queue => "queue",
            Overlap::Allow => "allow",
            Overlap::Replace => "replace",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Extra attempts after the first run (0 means no retry).
    pub attempts: u32,
    /// Delay before the first retry; doubled for each further one, capped at 1 h.
    pub delay: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    Failure,
    Recovery,
    Success,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub on: Vec<WebhookEvent>,
}

/// Per-job log file settings (`log:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSettings {
    /// Rotate when the current file passes this many bytes.
    pub max_size: u64,
    /// Rotated files kept: `<job>.log.1` ... `<job>.log.<keep>`.
    pub keep: u32,
    /// gzip rotated files.
    pub compress: bool,
    /// Prefix every output line with the time it was read.
    pub timestamps: bool,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            max_size: 10 * 1024 * 1024,
            keep: 5,
            compress: false,
            timestamps: false,
        }
    }
}

/// Resource limits applied in the job's process before exec (SPEC 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Absolute nice value, -20..=19.
    pub nice: Option<i32>,
    /// RLIMIT_AS in bytes.
    pub memory: Option<u64>,
    /// RLIMIT_CPU.
    pub cpu_time: Option<Duration>,
    /// RLIMIT_NOFILE.
    pub open_files: Option<u64>,
    /// RLIMIT_NPROC.
    pub processes: Option<u64>,
}

/// One validated job, with `defaults` already merged in.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub name: String,
    pub description: Option<String>,
    pub schedule: Schedule,
    /// The expression as the user wrote it, for display.
    pub schedule_text: String,
    pub command: Command,
    pub enabled: bool,
    pub timezone: Tz,
    pub shell: PathBuf,
    /// None: the job user's home (or `/` when it does not exist).
    pub workdir: Option<PathBuf>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub env: Vec<(String, EnvValue)>,
    pub umask: u32,
    pub timeout: Option<Duration>,
    pub kill_grace: Duration,
    pub overlap: Overlap,
    pub retry: Option<Retry>,
    pub jitter: Option<Duration>,
    pub catch_up: bool,
    pub on_failure: Option<Command>,
    pub mail_to: Vec<String>,
    pub webhook: Option<Webhook>,
    pub log: LogSettings,
    pub limits: Limits,
}

/// "no job named 'x'", with the closest existing names (SPEC 9).
pub fn unknown_job_message(name: &str, known: &[&str]) -> String {
    let mut scored: Vec<(f64, &str)> = known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), *k))
        .filter(|(s, _)| *s > 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let close: Vec<&str> = scored.iter().take(3).map(|(_, k)| *k).collect();
    match (close.is_empty(), known.is_empty()) {
        (_, true) => format!("no job named '{name}': the config defines no jobs"),
        (false, _) => format!(
            "no job named '{name}'; did you mean {}?",
            close
                .iter()
                .map(|c| format!("'{c}'"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        (true, _) => format!("no job named '{name}'; jobs: {}", known.join(", ")),
    }
}
