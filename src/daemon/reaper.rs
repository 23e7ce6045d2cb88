//! Reaping children: one SIGCHLD handler that collects every exit status
//! with `waitpid(-1)` and hands each to whoever waits for that pid.
//!
//! The daemon is a child subreaper (SPEC 5), so processes a job leaves behind
//! are re-parented to it when their parent dies; nobody registered for them,
//! and reaping them here is what keeps them from lingering as zombies. This
//! is also why job processes are not `tokio::process` children: its reaper
//! waits on known pids only and would leave the orphans behind, while ours,
//! waiting on any pid, would steal its statuses.

use std::cell::RefCell;
use std::collections::HashMap;

use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::oneshot;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitInfo {
    Exited(i32),
    Signaled(i32),
}

#[derive(Default)]
pub struct Reaper {
    waiters: RefCell<HashMap<i32, oneshot::Sender<ExitInfo>>>,
}

impl Reaper {
    /// Ask for `pid`'s exit status. Call right after spawning, before the
    /// next `.await`, so the status cannot be reaped before anyone asked.
    pub fn register(&self, pid: u32) -> oneshot::Receiver<ExitInfo> {
        let (tx, rx) = oneshot::channel();
        self.waiters.borrow_mut().insert(pid as i32, tx);
        rx
    }

    /// Serve SIGCHLD until the runtime stops.
    pub async fn run(&self) -> std::io::Result<()> {
        let mut sigchld = signal(SignalKind::child())?;
        loop {
            self.reap_all();
            if sigchld.recv().await.is_none() {
                return Ok(());
            }
        }
    }

    /// Collect every status that is ready. Signals coalesce, so one SIGCHLD
    /// may stand for many exits.
    pub fn reap_all(&self) {
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) => self.deliver(pid, ExitInfo::Exited(code)),
                Ok(WaitStatus::Signaled(pid, sig, _core)) => {
                    self.deliver(pid, ExitInfo::Signaled(sig as i32))
                }
                Ok(WaitStatus::StillAlive) => return,
                // Stopped/continued are not reported without WUNTRACED; loop on.
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => {}
                Err(_) => return, // ECHILD: no children left
            }
        }
    }

    fn deliver(&self, pid: Pid, info: ExitInfo) {
        if let Some(tx) = self.waiters.borrow_mut().remove(&pid.as_raw()) {
            let _ = tx.send(info);
        }
        // Otherwise an orphan a job left behind: reaping it was the point.
    }
}
