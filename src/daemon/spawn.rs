//! Starting a job's process without copying the daemon: `clone` with
//! `CLONE_VM | CLONE_VFORK`, the way glibc's `posix_spawn` works inside, plus
//! the setup `posix_spawn` cannot express (umask, resource limits, nice,
//! groups and user, workdir).
//!
//! # Why not fork
//!
//! `fork` copies the daemon's page tables, and every page the daemon writes
//! afterwards faults and is copied until the child has exec'd. With a
//! thousand jobs due at once that was most of the daemon's CPU per fire
//! (docs/performance.md). With `CLONE_VM` the child borrows the parent's
//! memory instead, and `CLONE_VFORK` suspends the calling thread until the
//! child has exec'd or exited, so everything the child reads ([`Plan`], the
//! stack below) stays valid and unchanged while it runs.
//!
//! # What the child may do
//!
//! The child runs on a stack of its own inside the daemon's memory. It must
//! not allocate, take locks, panic or touch the daemon's state: it reads the
//! [`Plan`] built beforehand, makes plain system calls, and on failure writes
//! what failed into a shared `Failure` (atomics, seen by the parent when it
//! resumes) before `_exit(127)`.
//!
//! - Signals: the parent blocks every signal around the clone, so no handler
//!   of the daemon can run in the child; the child sets every disposition to
//!   the default (the daemon ignores TTOU/TTIN/TSTP/PIPE, and ignored
//!   dispositions survive exec) and only then empties its mask.
//! - Credentials change through raw system calls: glibc's `setuid` family
//!   would try to change the credentials of the daemon's other threads too
//!   (it believes it runs in the daemon, which has several), and wait for
//!   them.
//! - The program is searched in the job's `PATH` by the parent (the child
//!   cannot set up an environment for `execvp`); the child tries each
//!   candidate like `execvp` does, including running a file without a `#!`
//!   line through `/bin/sh`.

use std::ffi::{CString, OsStr};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::errno::Errno;
use nix::libc::{self, c_char};
use nix::sched::{CloneFlags, clone};
use nix::sys::signal::{SigSet, SigmaskHow, pthread_sigmask};
use nix::unistd::Pid;

/// Stack for the child, allocated once per thread: the child runs one
/// function of plain system calls and uses a few KiB of it.
const CHILD_STACK: usize = 64 * 1024;

/// A resource limit to set: (resource, soft, hard).
pub type Rlimit = (libc::__rlimit_resource_t, libc::rlim_t, libc::rlim_t);

/// Everything the child needs, prepared in the parent, where allocation and
/// errors are allowed.
pub struct Plan {
    /// The name the user wrote, for messages.
    program: String,
    /// Paths to try in turn (the `PATH` search).
    candidates: Vec<CString>,
    _argv: Vec<CString>,
    argv: Vec<*const c_char>,
    /// `/bin/sh`, a slot for the candidate, then the arguments: for a file
    /// the kernel cannot execute (no `#!` line), as `execvp` does.
    sh_argv: Vec<*const c_char>,
    _envp: Vec<CString>,
    envp: Vec<*const c_char>,
    workdir: CString,
    umask: libc::mode_t,
    rlimits: Vec<Rlimit>,
    nice: Option<i32>,
    /// (supplementary groups, gid, uid) when the job runs as another user.
    ids: Option<(Vec<libc::gid_t>, libc::gid_t, libc::uid_t)>,
}

/// What the child sets up, in order; names the step that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    ProcessGroup = 1,
    Stdio,
    Limit,
    Nice,
    Credentials,
    Workdir,
    Exec,
}

impl Stage {
    fn from_i32(v: i32) -> Option<Stage> {
        use Stage::*;
        [ProcessGroup, Stdio, Limit, Nice, Credentials, Workdir, Exec]
            .into_iter()
            .find(|s| *s as i32 == v)
    }
}

/// Why a process could not be started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnError {
    /// A plan string had a NUL byte in it (argument, environment, workdir).
    Nul(&'static str),
    /// `clone` itself failed (out of processes or memory).
    Clone(Errno),
    /// The child failed at `stage` with `errno` and exited.
    Child(Stage, Errno),
}

/// The child's report to the parent. Both share the memory, so plain atomics
/// carry it across.
#[derive(Default)]
struct Failure {
    stage: AtomicI32,
    errno: AtomicI32,
}

fn cstring(bytes: &[u8], what: &'static str) -> Result<CString, SpawnError> {
    CString::new(bytes).map_err(|_| SpawnError::Nul(what))
}

fn pointers(strings: &[CString]) -> Vec<*const c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// Settings a [`Plan`] is built from.
pub struct Setup<'a> {
    pub umask: u32,
    pub rlimits: Vec<Rlimit>,
    pub nice: Option<i32>,
    pub ids: Option<(Vec<libc::gid_t>, libc::gid_t, libc::uid_t)>,
    pub workdir: &'a OsStr,
}

impl Plan {
    /// `argv[0]` is the program; `env` is the whole environment, in order,
    /// each name once.
    pub fn new<'e>(
        argv: &[&OsStr],
        env: impl IntoIterator<Item = (&'e OsStr, &'e OsStr)>,
        setup: Setup<'_>,
    ) -> Result<Plan, SpawnError> {
        let program = argv.first().copied().unwrap_or_default();
        let owned_argv = argv
            .iter()
            .map(|a| cstring(a.as_bytes(), "argument"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut path = None;
        let owned_envp = env
            .into_iter()
            .map(|(k, v)| {
                if k.as_bytes() == b"PATH" {
                    path = Some(v);
                }
                let mut kv = k.as_bytes().to_vec();
                kv.push(b'=');
                kv.extend_from_slice(v.as_bytes());
                cstring(&kv, "environment variable")
            })
            .collect::<Result<Vec<_>, _>>()?;
        let candidates = search(program.as_bytes(), path.map(OsStr::as_bytes))
            .into_iter()
            .map(|c| cstring(&c, "program"))
            .collect::<Result<Vec<_>, _>>()?;
        let argv = pointers(&owned_argv);
        let sh_argv = [c"/bin/sh".as_ptr(), std::ptr::null()]
            .into_iter()
            .chain(argv.iter().skip(1).copied())
            .collect();
        Ok(Plan {
            program: program.to_string_lossy().into_owned(),
            candidates,
            _argv: owned_argv,
            argv,
            sh_argv,
            envp: pointers(&owned_envp),
            _envp: owned_envp,
            workdir: cstring(setup.workdir.as_bytes(), "workdir")?,
            umask: setup.umask as libc::mode_t,
            rlimits: setup.rlimits,
            nice: setup.nice,
            ids: setup.ids,
        })
    }

    /// The program as the user wrote it.
    pub fn program(&self) -> &str {
        &self.program
    }
}

/// The paths `execvp` would try for `program` with this `PATH`: the program
/// itself when it has a slash, else each directory in turn (an empty entry
/// is the working directory). No `PATH` means the job has none: glibc's
/// default then is `/bin:/usr/bin`.
fn search(program: &[u8], path: Option<&[u8]>) -> Vec<Vec<u8>> {
    if program.contains(&b'/') || program.is_empty() {
        return vec![program.to_vec()];
    }
    path.unwrap_or(b"/bin:/usr/bin")
        .split(|&b| b == b':')
        .map(|dir| {
            if dir.is_empty() {
                program.to_vec()
            } else {
                let mut p = dir.to_vec();
                if !p.ends_with(b"/") {
                    p.push(b'/');
                }
                p.extend_from_slice(program);
                p
            }
        })
        .collect()
}

thread_local! {
    /// One stack serves every spawn of the thread: `CLONE_VFORK` returns
    /// only once the child no longer uses it.
    static STACK: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; CHILD_STACK]);
}

/// Starts the planned process in its own process group, with `stdin` as fd 0
/// and `output` as fds 1 and 2. Returns once the child has exec'd (or failed
/// and been reaped).
pub fn spawn(
    plan: &mut Plan,
    stdin: BorrowedFd<'_>,
    output: BorrowedFd<'_>,
) -> Result<Pid, SpawnError> {
    let failure = Failure::default();
    let (stdin, output) = (stdin.as_raw_fd(), output.as_raw_fd());
    let mut old = SigSet::empty();
    // Blocking cannot fail with a valid `how`; a failure would only mean a
    // handler might run in the child, which the child's reset makes short.
    let _ = pthread_sigmask(
        SigmaskHow::SIG_SETMASK,
        Some(&SigSet::all()),
        Some(&mut old),
    );
    let result = STACK.with_borrow_mut(|stack| {
        let child = Box::new(|| child(plan, &failure, stdin, output));
        // SAFETY: CLONE_VM | CLONE_VFORK: the child shares our memory and
        // this thread is suspended until it has exec'd or exited, so `plan`,
        // `failure` and the stack stay valid for as long as it uses them.
        // `child` makes only raw system calls and does not allocate, lock,
        // panic or return to our frames (see the module doc). SIGCHLD as the
        // exit signal makes it an ordinary child for `waitpid`.
        unsafe {
            clone(
                child,
                stack,
                CloneFlags::CLONE_VM | CloneFlags::CLONE_VFORK,
                Some(libc::SIGCHLD),
            )
        }
    });
    let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    let pid = result.map_err(SpawnError::Clone)?;
    let stage = failure.stage.load(Ordering::Acquire);
    if stage == 0 {
        return Ok(pid);
    }
    // The child has exited already (`_exit` released us); collect it here so
    // it is not reported to anyone as a job's exit.
    let _ = nix::sys::wait::waitpid(pid, None);
    Err(SpawnError::Child(
        Stage::from_i32(stage).unwrap_or(Stage::Exec),
        Errno::from_raw(failure.errno.load(Ordering::Acquire)),
    ))
}

/// The child side. Only system calls on values prepared before the clone.
fn child(plan: &mut Plan, failure: &Failure, stdin: i32, output: i32) -> isize {
    let fail = |stage: Stage| -> isize {
        failure.errno.store(Errno::last_raw(), Ordering::Release);
        failure.stage.store(stage as i32, Ordering::Release);
        // SAFETY: `_exit` ends only this child (its own thread group); it
        // runs no destructors or atexit handlers of the shared memory.
        unsafe { libc::_exit(127) }
    };
    // SAFETY (whole block): plain system calls with pointers into `plan`,
    // which the suspended parent keeps alive and unchanged.
    unsafe {
        for sig in 1..=64 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        if libc::setpgid(0, 0) != 0 {
            return fail(Stage::ProcessGroup);
        }
        for (from, to) in [(stdin, 0), (output, 1), (output, 2)] {
            // dup2 onto itself would keep close-on-exec set.
            let ok = if from == to {
                libc::fcntl(from, libc::F_SETFD, 0) == 0
            } else {
                libc::dup2(from, to) == to
            };
            if !ok {
                return fail(Stage::Stdio);
            }
        }
        libc::umask(plan.umask);
        for (resource, soft, hard) in &plan.rlimits {
            let limit = libc::rlimit {
                rlim_cur: *soft,
                rlim_max: *hard,
            };
            if libc::setrlimit(*resource, &limit) != 0 {
                return fail(Stage::Limit);
            }
        }
        if let Some(n) = plan.nice
            && libc::setpriority(libc::PRIO_PROCESS, 0, n) != 0
        {
            return fail(Stage::Nice);
        }
        if let Some((groups, gid, uid)) = &plan.ids
            && (libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) != 0
                || libc::syscall(libc::SYS_setresgid, *gid, *gid, *gid) != 0
                || libc::syscall(libc::SYS_setresuid, *uid, *uid, *uid) != 0)
        {
            return fail(Stage::Credentials);
        }
        if libc::chdir(plan.workdir.as_ptr()) != 0 {
            return fail(Stage::Workdir);
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());

        // The candidates in turn, as execvp: a missing file tries the next,
        // a permission problem is remembered, anything else ends the search.
        let mut denied = false;
        for candidate in &plan.candidates {
            libc::execve(candidate.as_ptr(), plan.argv.as_ptr(), plan.envp.as_ptr());
            match Errno::last() {
                Errno::ENOEXEC => {
                    if let Some(slot) = plan.sh_argv.get_mut(1) {
                        *slot = candidate.as_ptr();
                    }
                    libc::execve(
                        c"/bin/sh".as_ptr(),
                        plan.sh_argv.as_ptr(),
                        plan.envp.as_ptr(),
                    );
                    return fail(Stage::Exec);
                }
                Errno::EACCES => denied = true,
                Errno::ENOENT
                | Errno::ENOTDIR
                | Errno::ENODEV
                | Errno::ETIMEDOUT
                | Errno::ESTALE => {}
                _ => return fail(Stage::Exec),
            }
        }
        if denied {
            Errno::set_raw(libc::EACCES);
        }
        fail(Stage::Exec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_follows_execvp() {
        let s = |p: &str, path: Option<&str>| -> Vec<String> {
            search(p.as_bytes(), path.map(str::as_bytes))
                .into_iter()
                .map(|c| String::from_utf8(c).unwrap())
                .collect()
        };
        assert_eq!(s("/bin/true", Some("/x")), ["/bin/true"]);
        assert_eq!(s("./run.sh", Some("/x")), ["./run.sh"]);
        assert_eq!(s("tar", Some("/a:/b/:")), ["/a/tar", "/b/tar", "tar"]);
        assert_eq!(s("tar", None), ["/bin/tar", "/usr/bin/tar"]);
    }
}
