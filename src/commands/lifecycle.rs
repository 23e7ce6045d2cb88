//! `start`, `run` and `stop`: bringing the daemon up (detached or in the
//! foreground) and down.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use crate::config::Config;
use crate::daemon::{self, Setup, logging};
use crate::daemonize::{self, Detached, Verdict};
use crate::error::{Failure, Result, exit};
use crate::lockfile::{self, Holder};
use crate::paths::Paths;

use super::Context;

/// Create the log, state and runtime dirs in the foreground, so that a dir
/// that cannot be created is reported to the user, by name.
fn ensure_dirs(paths: &Paths) -> Result<()> {
    for (what, dir) in [
        ("runtime dir", &paths.runtime_dir),
        ("log dir", &paths.log_dir),
        ("state dir", &paths.state_dir),
    ] {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(dir)
            .map_err(|e| {
                Failure::runtime(format!(
                    "cannot create {what} {}: {e}; create it or point --{}-dir elsewhere",
                    dir.display(),
                    what.split(' ').next().unwrap_or("")
                ))
            })?;
    }
    Ok(())
}

fn already_running(paths: &Paths) -> Result<()> {
    if let Holder::Running(pid) = lockfile::probe(&paths.runtime_dir)? {
        return Err(Failure::new(
            exit::ALREADY_RUNNING,
            format!(
                "already running (pid {}, lock {})",
                pid.map_or("unknown".to_string(), |p| p.to_string()),
                paths.runtime_dir.join(lockfile::LOCK_FILE).display()
            ),
        ));
    }
    Ok(())
}

fn validated(ctx: &Context) -> Result<(Config, Paths)> {
    let config = ctx.load_config()?;
    let paths = ctx.paths(Some(&config));
    Ok((config, paths))
}

/// `sundial start`: SPEC 5, in order.
pub fn start(ctx: &Context) -> Result<()> {
    // 1. Validate and check the lock in the foreground.
    let (config, paths) = validated(ctx)?;
    already_running(&paths)?;
    ensure_dirs(&paths)?;
    let log_hint = paths
        .log_dir
        .join(logging::DAEMON_LOG)
        .display()
        .to_string();
    // 2-8. Detach; the parent waits for the daemon's verdict.
    let readiness = match daemonize::detach(config.umask, &log_hint) {
        Ok(Detached::Parent(Verdict::Ready { pid })) => {
            println!("sundial: started (pid {pid})");
            return Ok(());
        }
        Ok(Detached::Parent(Verdict::Failed { code, message })) => {
            return Err(Failure::new(code, message));
        }
        Err(e) => return Err(Failure::runtime(e.to_string())),
        Ok(Detached::Daemon(r)) => r,
    };
    // 9. The lock, then the pid file.
    let lock = match lockfile::acquire(&paths.runtime_dir) {
        Ok(l) => l,
        Err(e) => {
            let f = Failure::from(e);
            readiness.failed(f.code, &f.message);
            return Err(Failure::silent(f.code));
        }
    };
    if let Err(e) = logging::init_file(&paths.log_dir, ctx.global.log_level.as_deref()) {
        readiness.failed(
            exit::FAILURE,
            &format!("cannot open the daemon log {log_hint}: {e}"),
        );
        return Err(Failure::silent(exit::FAILURE));
    }
    // 10. Threads and the runtime only now.
    serve(ctx, config, paths, lock, Some(readiness), false)
}

/// `sundial run`: the same daemon in the foreground.
pub fn run(ctx: &Context) -> Result<()> {
    let (config, paths) = validated(ctx)?;
    ensure_dirs(&paths)?;
    let lock = lockfile::acquire(&paths.runtime_dir)?;
    logging::init_foreground(ctx.global.log_level.as_deref());
    let notify = std::env::var_os("NOTIFY_SOCKET").is_some();
    serve(ctx, config, paths, lock, None, notify)
}

fn serve(
    ctx: &Context,
    config: Config,
    paths: Paths,
    lock: lockfile::InstanceLock,
    readiness: Option<daemonize::Readiness>,
    notify_systemd: bool,
) -> Result<()> {
    let setup = Setup {
        config,
        paths,
        mode: ctx.mode,
        lock,
        readiness,
        notify_systemd,
    };
    daemon::serve(setup).map_err(|e| {
        tracing::error!("daemon failed: {e}");
        Failure::runtime(e.to_string())
    })
}

/// `sundial stop`: SIGTERM, then wait for the lock to be released.
pub fn stop(ctx: &Context, timeout: &str) -> Result<()> {
    let timeout = crate::config::units::parse_duration(timeout)
        .map_err(|e| Failure::usage(format!("--timeout {timeout}: {e}")))?;
    let paths = ctx.paths_best_effort();
    let pid = match lockfile::probe(&paths.runtime_dir)? {
        Holder::NotRunning => return Err(not_running(&paths.runtime_dir)),
        Holder::Running(Some(pid)) => pid,
        Holder::Running(None) => {
            return Err(Failure::runtime(format!(
                "a daemon holds {} but its pid file is missing; find it with `fuser {}` and stop it with kill",
                paths.runtime_dir.join(lockfile::LOCK_FILE).display(),
                paths.runtime_dir.join(lockfile::LOCK_FILE).display()
            )));
        }
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .map_err(|e| Failure::runtime(format!("cannot signal pid {pid}: {e}")))?;
    if lockfile::wait_released(&paths.runtime_dir, timeout)? {
        wait_exited(pid);
        println!("sundial: stopped (pid {pid})");
        Ok(())
    } else {
        Err(Failure::runtime(format!(
            "pid {pid} is still running after {}: it is waiting for jobs to end (each job's kill_grace). \
             Wait longer with --timeout, or force it with `kill -KILL {pid}` (running jobs are then recorded as interrupted at the next start)",
            crate::config::units::format_duration(timeout)
        )))
    }
}

/// The daemon releases its lock as the very last thing before exiting, so
/// the process is gone a moment later; wait that moment (bounded), so that
/// `stop` returning means the pid no longer runs. A zombie waiting for init
/// to reap it counts as gone.
fn wait_exited(pid: u32) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while std::time::Instant::now() < deadline {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) if !stat.rsplit(") ").next().unwrap_or("").starts_with('Z') => {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            _ => return,
        }
    }
}

/// The exit-3 error of every command that needs a daemon.
pub fn not_running(runtime_dir: &Path) -> Failure {
    Failure::not_running(format!(
        "not running (no daemon holds {}); start it with `sundial start`",
        runtime_dir.join(lockfile::LOCK_FILE).display()
    ))
}
