//! One daemon per runtime dir: an exclusive `flock` on `sundial.lock`, held
//! for the daemon's whole life, and the pid written into `sundial.pid` once
//! the lock is ours.
//!
//! The lock, not the pid file, says whether a daemon lives: the kernel drops
//! a lock when its holder dies, however it dies, so a pid file left behind by
//! a `kill -9` never blocks the next start. The pid file is only a label that
//! tells the user (and `stop`) which process holds the lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub const LOCK_FILE: &str = "sundial.lock";
pub const PID_FILE: &str = "sundial.pid";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("already running (pid {pid}, lock {})", lock.display())]
    AlreadyRunning { pid: String, lock: PathBuf },
    #[error("cannot {op} {}: {source}{}", path.display(), permission_hint(source))]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

fn permission_hint(e: &io::Error) -> &'static str {
    if e.kind() == io::ErrorKind::PermissionDenied {
        "; that daemon belongs to another user (use sudo for the system daemon, or --runtime-dir for your own)"
    } else {
        ""
    }
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> LockError + 'a {
    move |source| LockError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// The held instance lock. Dropping it removes the pid file and releases the lock.
#[derive(Debug)]
pub struct InstanceLock {
    /// Kept open: closing it would release the lock.
    _file: File,
    pid_path: PathBuf,
}

/// Create the runtime dir when missing (0750: the lock and socket are not for everyone).
pub fn ensure_dir(dir: &Path) -> Result<(), LockError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(dir)
        .map_err(io_err("create runtime dir", dir))
}

/// Take the lock for `runtime_dir` and write our pid.
pub fn acquire(runtime_dir: &Path) -> Result<InstanceLock, LockError> {
    ensure_dir(runtime_dir)?;
    let lock_path = runtime_dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .open(&lock_path)
        .map_err(io_err("open lock file", &lock_path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(LockError::AlreadyRunning {
                pid: read_pid(runtime_dir).unwrap_or_else(|| "unknown".into()),
                lock: lock_path,
            });
        }
        Err(TryLockError::Error(e)) => return Err(io_err("lock", &lock_path)(e)),
    }
    let pid_path = runtime_dir.join(PID_FILE);
    write_pid(&pid_path, std::process::id())?;
    Ok(InstanceLock {
        _file: file,
        pid_path,
    })
}

/// Write the pid through a temporary file and a rename, so a reader never
/// sees a half-written number.
fn write_pid(pid_path: &Path, pid: u32) -> Result<(), LockError> {
    let tmp = pid_path.with_extension("pid.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&tmp)
        .map_err(io_err("create pid file", &tmp))?;
    writeln!(f, "{pid}").map_err(io_err("write pid file", &tmp))?;
    std::fs::rename(&tmp, pid_path).map_err(io_err("rename pid file into", pid_path))
}

impl Drop for InstanceLock {
    fn drop(&mut self) {
        // The lock file itself stays: removing it would let a second daemon
        // lock a fresh inode while a third still waits on the old one.
        let _ = std::fs::remove_file(&self.pid_path);
    }
}

/// Whether a daemon holds the lock of `runtime_dir`, and its pid when it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    NotRunning,
    /// The pid from the pid file (None when the file is missing or unreadable).
    Running(Option<u32>),
}

/// Look at the lock without keeping it.
pub fn probe(runtime_dir: &Path) -> Result<Holder, LockError> {
    let lock_path = runtime_dir.join(LOCK_FILE);
    let file = match File::open(&lock_path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Holder::NotRunning),
        Err(e) => return Err(io_err("open lock file", &lock_path)(e)),
    };
    match file.try_lock_shared() {
        Ok(()) => Ok(Holder::NotRunning),
        Err(TryLockError::WouldBlock) => Ok(Holder::Running(
            read_pid(runtime_dir).and_then(|p| p.parse().ok()),
        )),
        Err(TryLockError::Error(e)) => Err(io_err("lock", &lock_path)(e)),
    }
}

/// Block until nobody holds the lock, or `timeout` passes. Returns whether it
/// was released. Waiting on the lock itself means no polling: the kernel wakes
/// the waiter when the daemon's descriptor closes.
pub fn wait_released(runtime_dir: &Path, timeout: std::time::Duration) -> Result<bool, LockError> {
    let lock_path = runtime_dir.join(LOCK_FILE);
    let file = match File::open(&lock_path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(io_err("open lock file", &lock_path)(e)),
    };
    let (tx, rx) = std::sync::mpsc::channel();
    // A thread of its own because flock has no timeout; if we give up, the
    // process exits soon after and takes the blocked thread with it.
    std::thread::spawn(move || {
        let _ = tx.send(file.lock_shared());
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(())) => Ok(true),
        Ok(Err(e)) => Err(io_err("wait for lock", &lock_path)(e)),
        Err(_) => Ok(false),
    }
}

fn read_pid(runtime_dir: &Path) -> Option<String> {
    std::fs::read_to_string(runtime_dir.join(PID_FILE))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let lock = acquire(dir.path()).unwrap();
        let pid = std::process::id();
        assert_eq!(probe(dir.path()).unwrap(), Holder::Running(Some(pid)));
        match acquire(dir.path()) {
            Err(LockError::AlreadyRunning { pid: p, .. }) => assert_eq!(p, pid.to_string()),
            other => panic!("expected AlreadyRunning, got {other:?}"),
        }
        drop(lock);
        assert!(!dir.path().join(PID_FILE).exists());
        assert_eq!(probe(dir.path()).unwrap(), Holder::NotRunning);
    }

    #[test]
    fn stale_pid_file_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PID_FILE), "999999\n").unwrap();
        assert_eq!(probe(dir.path()).unwrap(), Holder::NotRunning);
        let _lock = acquire(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(PID_FILE)).unwrap(),
            format!("{}\n", std::process::id())
        );
    }

    #[test]
    fn wait_released_returns_when_free() {
        let dir = tempfile::tempdir().unwrap();
        assert!(wait_released(dir.path(), std::time::Duration::from_secs(1)).unwrap());
    }
}
