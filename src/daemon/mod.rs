//! The running daemon: everything from "the lock is ours" to "the pid file is
//! gone". `commands::lifecycle` gets the process here (detached by
//! `start`, or in the foreground by `run`); this module builds the runtime,
//! wires the parts and runs the loop.
//!
//! # Layout
//! - [`scheduler`]: the deadline loop and the state of every job.
//! - [`fires`]: fire-time arithmetic (pure).
//! - [`clock`]: the wall-clock timer that wakes on clock changes.
//! - [`runner`]: building, spawning and supervising job processes.
//! - [`reaper`]: SIGCHLD, for jobs and for orphans they leave behind.
//! - [`sinks`]: the log-writing and history-writing threads.
//! - [`control`]: the control socket server.
//! - [`logging`]: the daemon's own log.
//! - [`notify`]: `on_failure`, mail and webhooks after a run.
//! - [`metrics`]: the Prometheus endpoint.
//! - [`watch`]: reloading when the config file changes.
//!
//! The runtime is a current-thread tokio runtime created here, after the
//! detach, never before: fork and threads do not mix.

pub mod clock;
pub mod control;
pub mod fires;
pub mod logging;
pub mod metrics;
pub mod notify;
pub mod ratelimit;
pub mod reaper;
pub mod runner;
pub mod scheduler;
pub mod sinks;
pub mod spawn;
pub mod watch;

use crate::config::{Config, Mode};
use crate::daemonize::Readiness;
use crate::lockfile::InstanceLock;
use crate::paths::Paths;

/// What the daemon starts with.
pub struct Setup {
    pub config: Config,
    pub paths: Paths,
    pub mode: Mode,
    /// Held for the daemon's life; dropped last, removing the pid file.
    pub lock: InstanceLock,
    /// `start`: the pipe to report readiness on. `run`: None.
    pub readiness: Option<Readiness>,
    /// Under `run`: tell systemd when ready (`Type=notify`).
    pub notify_systemd: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot {op}: {source}")]
    Setup {
        op: &'static str,
        source: std::io::Error,
    },
}

/// Give the heap's free pages back to the kernel. Loading a config builds a
/// positioned YAML tree larger than the jobs it yields; once it is dropped,
/// glibc keeps the pages it cannot return by shrinking the heap's top, and
/// they would count in the daemon's memory for its whole life. Called after a load, not on a
/// timer: the daemon's own allocations are small and reused.
pub fn release_free_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim takes glibc's arena locks itself and only returns
    // free chunks' pages; callable from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Run the daemon until it is told to stop. Returns once every run has been
/// stopped and recorded and the socket removed.
pub fn serve(setup: Setup) -> Result<(), DaemonError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(DaemonError::Runtime)?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, scheduler::run(setup))
}
