//! Detaching from the terminal (SPEC 5, steps 2 to 8), and the readiness
//! pipe through which the daemon tells the waiting `sundial start` whether
//! it came up.
//!
//! Everything here runs while the process has exactly one thread: `fork` in
//! a threaded process copies only the calling thread, and any lock another
//! thread held stays locked forever in the child. So no runtime, no logging
//! thread and no helper thread may exist before [`detach`] returns in the
//! daemon; a debug build checks it.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use nix::fcntl::OFlag;
use nix::sys::signal::{SigHandler, Signal, signal};
use nix::sys::stat::{Mode, umask};
use nix::unistd::{ForkResult, chdir, dup2_stderr, dup2_stdin, dup2_stdout, fork, setsid};

#[derive(Debug, thiserror::Error)]
pub enum DaemonizeError {
    #[error("cannot {op}: {source}")]
    Sys {
        op: &'static str,
        source: nix::Error,
    },
    #[error("the daemon exited during startup without saying why; see its log in {log_hint}")]
    NoVerdict { log_hint: String },
}

fn sys(op: &'static str) -> impl FnOnce(nix::Error) -> DaemonizeError {
    move |source| DaemonizeError::Sys { op, source }
}

/// What [`detach`] returns in each process that survives it.
pub enum Detached {
    /// The original process: the daemon's verdict, read from the readiness pipe.
    Parent(Verdict),
    /// The daemon: detached, and holding the pipe on which it reports readiness.
    Daemon(Readiness),
}

/// The daemon's answer to `sundial start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ready { pid: u32 },
    Failed { code: i32, message: String },
}

/// The write end of the readiness pipe, held by the daemon until it has
/// taken its lock and opened its socket.
pub struct Readiness {
    fd: OwnedFd,
}

impl Readiness {
    pub fn ready(self) {
        self.send(&format!("ok {}\n", std::process::id()));
    }

    pub fn failed(self, code: i32, message: &str) {
        self.send(&format!(
            "exit {code} {}\n",
            message.replace('\n', "\u{1f}")
        ));
    }

    fn send(self, line: &str) {
        let mut f = std::fs::File::from(self.fd);
        // If `start` has gone away there is nobody to tell; nothing to do.
        let _ = f.write_all(line.as_bytes());
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

fn parse_verdict(text: &str) -> Option<Verdict> {
    let line = text.lines().next()?;
    if let Some(pid) = line.strip_prefix("ok ") {
        return Some(Verdict::Ready {
            pid: pid.trim().parse().ok()?,
        });
    }
    let rest = line.strip_prefix("exit ")?;
    let (code, message) = rest.split_once(' ').unwrap_or((rest, ""));
    Some(Verdict::Failed {
        code: code.parse().ok()?,
        message: message.replace('\u{1f}', "\n"),
    })
}

/// Count this process's threads; detaching is only safe with one.
pub fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(1)
}

/// Steps 2-8 of SPEC 5: fork (the parent waits for the verdict), setsid,
/// ignore the terminal signals, fork again, chdir `/`, umask, close every
/// inherited descriptor and point 0, 1, 2 at `/dev/null`.
///
/// `log_hint` names where the daemon logs, for the message shown when it
/// dies without a verdict.
pub fn detach(mask: u32, log_hint: &str) -> Result<Detached, DaemonizeError> {
    debug_assert_eq!(
        thread_count(),
        1,
        "detach() needs a single-threaded process"
    );
    let (read_end, write_end) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(sys("create pipe"))?;

    // SAFETY: the process is single-threaded (checked above in debug builds;
    // nothing before this point starts threads), so the child is a full copy
    // with no lock held by a vanished thread.
    match unsafe { fork() }.map_err(sys("fork"))? {
        ForkResult::Parent { child } => {
            drop(write_end);
            let mut text = String::new();
            let _ = std::fs::File::from(read_end).read_to_string(&mut text);
            // Reap the intermediate child, which exits right after the second fork.
            let _ = nix::sys::wait::waitpid(child, None);
            return match parse_verdict(&text) {
                Some(v) => Ok(Detached::Parent(v)),
                None => Err(DaemonizeError::NoVerdict {
                    log_hint: log_hint.to_string(),
                }),
            };
        }
        ForkResult::Child => {}
    }
    drop(read_end);
    let readiness = Readiness { fd: write_end };
    if let Err(e) = become_daemon(mask, &readiness) {
        readiness.failed(1, &e.to_string());
        exit_now(1);
    }
    Ok(Detached::Daemon(readiness))
}

fn become_daemon(mask: u32, readiness: &Readiness) -> Result<(), DaemonizeError> {
    setsid().map_err(sys("setsid"))?;
    for sig in [
        Signal::SIGTTOU,
        Signal::SIGTTIN,
        Signal::SIGTSTP,
        Signal::SIGHUP,
    ] {
        // SAFETY: installing SIG_IGN runs no code in signal context. SIGHUP is
        // ignored only until the runtime installs its reload handler, so that
        // a hangup can never kill the daemon in between.
        unsafe { signal(sig, SigHandler::SigIgn) }.map_err(sys("ignore terminal signals"))?;
    }
    debug_assert_eq!(
        thread_count(),
        1,
        "second fork needs a single-threaded process"
    );
    // SAFETY: still single-threaded, as above.
    match unsafe { fork() }.map_err(sys("fork a second time"))? {
        ForkResult::Parent { .. } => exit_now(0),
        ForkResult::Child => {}
    }
    chdir("/").map_err(sys("chdir to /"))?;
    umask(Mode::from_bits_truncate(mask as nix::libc::mode_t));
    close_inherited(&[readiness.raw_fd()]);
    redirect_stdio_to_null()?;
    Ok(())
}

/// Leave a forked intermediate process without running atexit handlers or
/// flushing stdio buffers that belong to the original process.
fn exit_now(code: i32) -> ! {
    // SAFETY: _exit only ends the process; it touches no Rust state.
    unsafe { nix::libc::_exit(code) }
}

/// Close every descriptor but `keep`. /proc lists exactly what is open,
/// however high the numbers go.
pub fn close_inherited(keep: &[RawFd]) {
    let fds: Vec<RawFd> = match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect(),
        Err(_) => (3..1024).collect(),
    };
    for fd in fds {
        if fd > 2 && !keep.contains(&fd) {
            // SAFETY: these descriptors were inherited from whoever started us;
            // no Rust object owns them (the only one we keep is in `keep`), so
            // closing them by number cannot invalidate a live handle. EBADF for
            // the already closed read_dir handle is expected and harmless.
            unsafe { nix::libc::close(fd) };
        }
    }
}

fn redirect_stdio_to_null() -> Result<(), DaemonizeError> {
    let null = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| DaemonizeError::Sys {
            op: "open /dev/null",
            source: nix::Error::from_raw(e.raw_os_error().unwrap_or(0)),
        })?;
    dup2_stdin(&null).map_err(sys("point stdin at /dev/null"))?;
    dup2_stdout(&null).map_err(sys("point stdout at /dev/null"))?;
    dup2_stderr(&null).map_err(sys("point stderr at /dev/null"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_round_trip() {
        assert_eq!(parse_verdict("ok 42\n"), Some(Verdict::Ready { pid: 42 }));
        assert_eq!(
            parse_verdict("exit 4 already running (pid 7, lock /x)\n"),
            Some(Verdict::Failed {
                code: 4,
                message: "already running (pid 7, lock /x)".into()
            })
        );
        assert_eq!(
            parse_verdict("exit 78 a\u{1f}b\n"),
            Some(Verdict::Failed {
                code: 78,
                message: "a\nb".into()
            })
        );
        assert_eq!(parse_verdict(""), None);
        assert_eq!(parse_verdict("garbage"), None);
    }
}
