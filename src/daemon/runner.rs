//! Running one job: building its process exactly as SPEC 5 describes, then
//! supervising it (output, timeout, stop) until it ends.
//!
//! # Theory of operation
//!
//! [`prepare`] turns a [`Job`] into a [`spawn::Plan`] in the parent, where
//! it may allocate, read files and look up users: environment, workdir, user
//! and groups are all resolved here, so that a run which cannot start says
//! why in words. The child ([`super::spawn`]) then only makes system calls:
//! reset every signal disposition and the signal mask (the daemon ignores
//! TTOU/TTIN/TSTP and Rust ignores PIPE; ignored dispositions survive exec,
//! so jobs would inherit them), set the umask, the resource limits and the
//! nice value while still privileged, then drop privileges (groups, gid,
//! uid, in that order) and change into the workdir as the job's user.
//!
//! Every job gets its own process group (so a timeout reaches its
//! grandchildren), `/dev/null` as stdin, and one pipe for stdout and stderr
//! so their interleaving is kept. All of the daemon's own descriptors are
//! close-on-exec, so the job inherits nothing else.
//!
//! [`supervise`] reads the pipe as data arrives and hands it to the log
//! thread, enforces `timeout` (SIGTERM to the group, `kill_grace`, SIGKILL to
//! the group) and obeys stop requests (overlap `replace`, shutdown). A run
//! ends when its main process has exited: what is already in the pipe is
//! drained, and output that processes left behind by the job write later is
//! not attributed to the run.

use std::ffi::{CString, OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Gid, Group, Pid, Uid, User};
use tokio::sync::mpsc;

use super::reaper::{ExitInfo, Reaper};
use super::sinks::RunOutput;
use super::spawn::{self, Plan, SpawnError, Stage};
use crate::config::{Command, EnvValue, Job, Limits, Mode};
use crate::run::Outcome;

/// PATH for jobs that do not set their own (SPEC 9).
const USER_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A run ready to spawn.
pub struct Prepared {
    plan: Plan,
    /// Remarks for the run's log frame (e.g. the workdir fallback).
    pub notes: Vec<String>,
}

/// Why a run could not start, in words for its log and the daemon log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CannotStart(pub String);

/// The identity a job runs as.
struct Identity {
    uid: Uid,
    gid: Gid,
    name: String,
    home: PathBuf,
    /// Supplementary groups to set; None when the daemon keeps its own.
    groups: Option<Vec<Gid>>,
}

fn identity(job: &Job, mode: Mode) -> Result<Identity, CannotStart> {
    let me = Uid::effective();
    let user = match (&job.user, mode) {
        (Some(name), Mode::System) => User::from_name(name)
            .map_err(|e| CannotStart(format!("cannot look up user '{name}': {e}")))?
            .ok_or_else(|| CannotStart(format!("unknown user '{name}'")))?,
        _ => User::from_uid(me)
            .ok()
            .flatten()
            .ok_or_else(|| CannotStart(format!("uid {me} has no passwd entry")))?,
    };
    let gid = match &job.group {
        Some(name) if mode == Mode::System => {
            Group::from_name(name)
                .map_err(|e| CannotStart(format!("cannot look up group '{name}': {e}")))?
                .ok_or_else(|| CannotStart(format!("unknown group '{name}'")))?
                .gid
        }
        _ => user.gid,
    };
    let switching = mode == Mode::System && (user.uid != me || gid != Gid::effective());
    let groups = if switching {
        let cname = CString::new(user.name.clone())
            .map_err(|_| CannotStart(format!("bad user name '{}'", user.name)))?;
        let mut list = nix::unistd::getgrouplist(&cname, gid)
            .map_err(|e| CannotStart(format!("cannot list groups of '{}': {e}", user.name)))?;
        if !list.contains(&gid) {
            list.push(gid);
        }
        Some(list)
    } else {
        None
    };
    Ok(Identity {
        uid: user.uid,
        gid,
        name: user.name,
        home: user.dir,
        groups,
    })
}

/// Resolve everything about a run that can fail with a clear message.
pub fn prepare(job: &Job, mode: Mode, run_id: i64) -> Result<Prepared, CannotStart> {
    let who = identity(job, mode)?;
    if let Some(n) = job.limits.nice
        && n < 0
        && !Uid::effective().is_root()
    {
        return Err(CannotStart(format!(
            "limits.nice {n} needs root: only root may raise a job's priority; use 0 to 19 in user mode"
        )));
    }
    let mut notes = Vec::new();

    let workdir = match &job.workdir {
        Some(dir) => {
            if !dir.is_dir() {
                return Err(CannotStart(format!(
                    "workdir {} does not exist or is not a directory",
                    dir.display()
                )));
            }
            dir.clone()
        }
        None if who.home.is_dir() => who.home.clone(),
        None => {
            notes.push(format!(
                "home {} of user {} does not exist; running in /",
                who.home.display(),
                who.name
            ));
            PathBuf::from("/")
        }
    };

    let argv: Vec<&OsStr> = match &job.command {
        Command::Shell(text) => vec![job.shell.as_os_str(), OsStr::new("-c"), OsStr::new(text)],
        Command::Exec(argv) => argv.iter().map(OsStr::new).collect(),
    };

    // Later entries replace earlier ones with the same name, as with
    // `Command::env`: the job's `env` over the defaults, sundial's own last.
    let mut env: Vec<(OsString, OsString)> = Vec::new();
    let mut set = |key: &str, value: OsString| match env.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value,
        None => env.push((key.into(), value)),
    };
    let path = if mode == Mode::System {
        SYSTEM_PATH
    } else {
        USER_PATH
    };
    set("PATH", path.into());
    set("HOME", who.home.clone().into());
    set("USER", who.name.clone().into());
    set("LOGNAME", who.name.clone().into());
    set("SHELL", job.shell.clone().into());
    for (key, value) in &job.env {
        let value = match value {
            EnvValue::Literal(v) => v.clone(),
            EnvValue::FromFile(path) => read_secret(path, key, mode)?,
        };
        set(key, value.into());
    }
    set("SUNDIAL_JOB", job.name.clone().into());
    set("SUNDIAL_RUN_ID", run_id.to_string().into());

    let setup = child_setup(job.umask, job.limits, job.kill_grace, &who, &workdir);
    let plan = Plan::new(
        &argv,
        env.iter().map(|(k, v)| (k.as_os_str(), v.as_os_str())),
        setup,
    )
    .map_err(|e| describe_spawn_error(argv.first().copied().unwrap_or_default(), e))?;
    Ok(Prepared { plan, notes })
}

/// The most of a secret file sundial reads: one environment string cannot
/// pass the kernel's 128 KiB per-string limit anyway.
const MAX_SECRET: u64 = 64 * 1024;

/// Read a `from_file` secret for this run. It runs on the scheduler thread,
/// so nothing here may block: a FIFO or device under the name is refused,
/// not read. In system mode the load-time rule (owned by root, not writable
/// by group or others) is checked again on the opened file, since the file
/// may have changed since the config was loaded.
fn read_secret(path: &Path, key: &str, mode: Mode) -> Result<String, CannotStart> {
    let fail = |why: String| {
        CannotStart(format!(
            "cannot read env {key} from {}: {why}",
            path.display()
        ))
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| fail(e.to_string()))?;
    let meta = file.metadata().map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    if mode == Mode::System
        && let Some(bad) = crate::config::insecure_file(path, &meta)
    {
        return Err(CannotStart(format!(
            "refusing env {key} from {}: it {}, so others could choose what a root-started job gets; fix: {}",
            path.display(),
            bad.problem,
            bad.fix
        )));
    }
    if meta.len() > MAX_SECRET {
        return Err(fail(format!(
            "{} bytes, more than the {} KiB a secret may have",
            meta.len(),
            MAX_SECRET >> 10
        )));
    }
    let mut text = String::new();
    file.take(MAX_SECRET)
        .read_to_string(&mut text)
        .map_err(|e| fail(e.to_string()))?;
    // A trailing newline is an artefact of editors, not part of the secret.
    Ok(text.strip_suffix('\n').unwrap_or(&text).to_string())
}

/// What the child applies before exec: the limits, nice value, identity and
/// workdir of the run.
fn child_setup<'a>(
    umask: u32,
    limits: Limits,
    kill_grace: Duration,
    who: &Identity,
    workdir: &'a Path,
) -> spawn::Setup<'a> {
    let ids = who.groups.as_ref().map(|groups| {
        let raw: Vec<nix::libc::gid_t> = groups.iter().map(|g| g.as_raw()).collect();
        (raw, who.gid.as_raw(), who.uid.as_raw())
    });
    // (resource, soft, hard). Soft and hard are equal, so the job cannot
    // raise them, except for the CPU limit: at a hard CPU limit the kernel
    // sends SIGKILL, at the soft one SIGXCPU. The hard limit is set
    // `kill_grace` later, so a job first gets a signal it can clean up on,
    // as with `timeout`.
    let cpu = limits.cpu_time.map(|d| {
        let soft = d.as_secs().max(1);
        (soft, soft.saturating_add(kill_grace.as_secs().max(1)))
    });
    let same = |v: Option<u64>| v.map(|v| (v, v));
    let rlimits = [
        (nix::libc::RLIMIT_AS, same(limits.memory)),
        (nix::libc::RLIMIT_CPU, cpu),
        (nix::libc::RLIMIT_NOFILE, same(limits.open_files)),
        (nix::libc::RLIMIT_NPROC, same(limits.processes)),
    ]
    .into_iter()
    .filter_map(|(res, v)| v.map(|(soft, hard)| (res, soft, hard)))
    .collect();
    spawn::Setup {
        umask,
        rlimits,
        nice: limits.nice,
        ids,
        workdir: workdir.as_os_str(),
    }
}

/// A started process and the read end of its output pipe.
pub struct Spawned {
    pub pid: u32,
    reader: tokio::net::unix::pipe::Receiver,
    exit: tokio::sync::oneshot::Receiver<ExitInfo>,
}

/// Start the process. The exit status is registered with the reaper before
/// this returns, so it cannot be lost.
pub fn spawn(prepared: Prepared, reaper: &Reaper) -> Result<Spawned, CannotStart> {
    let Prepared { mut plan, .. } = prepared;
    let (read_end, write_end) = nix::unistd::pipe2(OFlag::O_CLOEXEC)
        .map_err(|e| CannotStart(format!("cannot create output pipe: {e}")))?;
    // A larger pipe lets a chatty job write in bigger bursts between reads.
    let _ = fcntl(&write_end, FcntlArg::F_SETPIPE_SZ(1 << 20));
    let null = std::fs::File::open("/dev/null")
        .map_err(|e| CannotStart(format!("cannot open /dev/null for stdin: {e}")))?;
    let pid = spawn::spawn(&mut plan, null.as_fd(), write_end.as_fd())
        .map_err(|e| describe_spawn_error(OsStr::new(plan.program()), e))?;
    let pid = pid.as_raw() as u32;
    let exit = reaper.register(pid);
    // Our write end must close, or the pipe never reports EOF.
    drop(write_end);
    let reader =
        receiver(read_end).map_err(|e| CannotStart(format!("cannot watch output pipe: {e}")))?;
    Ok(Spawned { pid, reader, exit })
}

fn receiver(fd: OwnedFd) -> io::Result<tokio::net::unix::pipe::Receiver> {
    tokio::net::unix::pipe::Receiver::from_owned_fd(fd)
}

fn describe_spawn_error(program: &OsStr, e: SpawnError) -> CannotStart {
    let program = program.to_string_lossy();
    let what = match e {
        SpawnError::Nul(what) => format!("{program}: its {what} contains a NUL byte"),
        SpawnError::Clone(e) => format!("{program}: cannot create a process: {e}"),
        SpawnError::Child(Stage::Exec, Errno::ENOENT) => {
            format!("{program}: command not found (no such file in the job's PATH)")
        }
        SpawnError::Child(Stage::Exec, Errno::EACCES) => {
            format!(
                "{program}: permission denied (not executable, or a directory on the way is not accessible)"
            )
        }
        SpawnError::Child(stage, e) => {
            let step = match stage {
                Stage::ProcessGroup => "creating its process group",
                Stage::Stdio => "connecting its stdin and output",
                Stage::Limit => "applying its limits",
                Stage::Nice => "setting its nice value",
                Stage::Credentials => "switching to its user and groups",
                Stage::Workdir => "changing into its workdir as its user",
                Stage::Exec => "executing it",
            };
            format!("{program}: {e} (while {step})")
        }
    };
    CannotStart(what)
}

/// Why sundial stops a run before it ends by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Overlap `replace`: a new run took its place.
    Replaced,
    /// The daemon is shutting down.
    Shutdown,
}

/// How a supervised run ended.
pub struct Ended {
    pub outcome: Outcome,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub duration: Duration,
    pub output: RunOutput,
    /// Set when sundial itself stopped the run (replace, shutdown).
    pub stopped: Option<StopReason>,
}

/// Read output, enforce the timeout and stop requests, until the main
/// process has exited.
pub async fn supervise(
    spawned: Spawned,
    mut output: RunOutput,
    timeout: Option<Duration>,
    kill_grace: Duration,
    mut stop: mpsc::UnboundedReceiver<StopReason>,
) -> Ended {
    let Spawned {
        pid,
        reader,
        mut exit,
    } = spawned;
    let group = Pid::from_raw(pid as i32);
    let started = Instant::now();
    let far = tokio::time::Instant::now() + Duration::from_secs(100 * 365 * 86400);
    let timeout_at = timeout
        .map(|t| tokio::time::Instant::now() + t)
        .unwrap_or(far);
    let mut kill_at = far;
    let mut timed_out = false;
    let mut stopped: Option<StopReason> = None;
    let mut eof = false;
    let mut buf = vec![0u8; 64 * 1024];

    let status = loop {
        tokio::select! {
            // Control first: a job that never stops printing must not starve
            // its exit, its timeout or a stop request.
            biased;
            st = &mut exit => {
                break st.ok();
            }
            Some(reason) = stop.recv(), if stopped.is_none() => {
                stopped = Some(reason);
                let _ = killpg(group, Signal::SIGTERM);
                if kill_at == far {
                    kill_at = tokio::time::Instant::now() + kill_grace;
                }
            }
            _ = tokio::time::sleep_until(kill_at), if kill_at != far => {
                let _ = killpg(group, Signal::SIGKILL);
                kill_at = far;
            }
            _ = tokio::time::sleep_until(timeout_at), if !timed_out && stopped.is_none() && timeout.is_some() => {
                timed_out = true;
                let _ = killpg(group, Signal::SIGTERM);
                kill_at = tokio::time::Instant::now() + kill_grace;
            }
            r = reader.readable(), if !eof => {
                if r.is_err() { eof = true; continue; }
                drain(&reader, &mut buf, &mut output, &mut eof, (PER_WAKE, ReadMode::Ready));
            }
        }
    };
    // Whatever the job wrote before exiting is already in the pipe.
    if !eof {
        drain(
            &reader,
            &mut buf,
            &mut output,
            &mut eof,
            (FINAL_DRAIN, ReadMode::Final),
        );
    }
    drop(reader);
    let duration = started.elapsed();

    if kill_at != far {
        // We were stopping the group: members that outlive the main process
        // still get their SIGKILL when the grace period ends.
        tokio::task::spawn_local(async move {
            tokio::time::sleep_until(kill_at).await;
            let _ = killpg(group, Signal::SIGKILL);
        });
    }

    let (exit_code, signal) = match status {
        Some(ExitInfo::Exited(code)) => (Some(code), None),
        Some(ExitInfo::Signaled(sig)) => (None, Some(sig)),
        None => (None, None),
    };
    let outcome = if timed_out {
        Outcome::Timeout
    } else {
        match (stopped, status) {
            (Some(StopReason::Shutdown), _) => Outcome::Interrupted,
            (_, Some(ExitInfo::Exited(0))) => Outcome::Ok,
            (_, Some(ExitInfo::Exited(_))) => Outcome::Failed,
            (_, Some(ExitInfo::Signaled(_))) => Outcome::Killed,
            (_, None) => Outcome::Error,
        }
    };
    Ended {
        outcome,
        exit_code,
        signal,
        duration,
        output,
        stopped,
    }
}

/// Reads per wakeup: enough to empty a full pipe, few enough that one
/// chatty job cannot starve the scheduler thread.
const PER_WAKE: usize = 32;
/// Reads after the main process exited: what it wrote is at most one pipe's
/// worth; a leftover process still writing must not hold the run open.
const FINAL_DRAIN: usize = 64;

/// How a drain reads the pipe.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ReadMode {
    /// Through tokio, after it reported the pipe readable (a WouldBlock
    /// then clears the readiness, so the next wait really waits).
    Ready,
    /// Straight from the descriptor, after the process exited: tokio may not
    /// have seen the pipe become readable yet, and would answer WouldBlock
    /// without trying, losing the run's last output.
    Final,
}

fn read_once(
    reader: &tokio::net::unix::pipe::Receiver,
    buf: &mut [u8],
    mode: ReadMode,
) -> io::Result<usize> {
    match mode {
        ReadMode::Ready => reader.try_read(buf),
        ReadMode::Final => {
            use std::os::fd::AsFd;
            nix::unistd::read(reader.as_fd(), buf).map_err(io::Error::from)
        }
    }
}

/// Read what is available now, without waiting, up to `max_reads` reads.
fn drain(
    reader: &tokio::net::unix::pipe::Receiver,
    buf: &mut [u8],
    output: &mut RunOutput,
    eof: &mut bool,
    (max_reads, mode): (usize, ReadMode),
) {
    for _ in 0..max_reads {
        match read_once(reader, buf, mode) {
            Ok(0) => {
                *eof = true;
                return;
            }
            Ok(n) => output.push(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                *eof = true;
                return;
            }
        }
    }
}

/// Run a helper command (an `on_failure` hook) to its end and keep the first
/// `cap` bytes of its output. A `timeout` ends it with SIGKILL to its group.
pub async fn capture(
    prepared: Prepared,
    reaper: &Reaper,
    cap: usize,
    timeout: Option<Duration>,
) -> Result<(ExitInfo, Vec<u8>), CannotStart> {
    let Spawned {
        pid,
        reader,
        mut exit,
    } = spawn(prepared, reaper)?;
    let group = Pid::from_raw(pid as i32);
    let far = tokio::time::Instant::now() + Duration::from_secs(100 * 365 * 86400);
    let deadline = timeout.map_or(far, |t| tokio::time::Instant::now() + t);
    let mut out = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut eof = false;
    let mut killed = false;
    let mut read_some =
        |out: &mut Vec<u8>, eof: &mut bool, (max_reads, mode): (usize, ReadMode)| {
            for _ in 0..max_reads {
                match read_once(&reader, &mut buf, mode) {
                    Ok(0) => {
                        *eof = true;
                        return;
                    }
                    Ok(n) => {
                        let room = cap.saturating_sub(out.len());
                        out.extend_from_slice(&buf[..n.min(room)]);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                    Err(_) => {
                        *eof = true;
                        return;
                    }
                }
            }
        };
    loop {
        tokio::select! {
            r = reader.readable(), if !eof => {
                if r.is_err() { eof = true; } else { read_some(&mut out, &mut eof, (PER_WAKE, ReadMode::Ready)); }
            }
            st = &mut exit => {
                if !eof { read_some(&mut out, &mut eof, (FINAL_DRAIN, ReadMode::Final)); }
                let status = st.map_err(|_| CannotStart("exit status lost".into()))?;
                return Ok((status, out));
            }
            _ = tokio::time::sleep_until(deadline), if deadline != far && !killed => {
                killed = true;
                let _ = killpg(group, Signal::SIGKILL);
            }
        }
    }
}
