//! Framed, rotating per-job output files: `<log_dir>/<job>.log` (SPEC 6).
//!
//! # What this owns
//!
//! Everything about a job's log files: their names, modes and rotation, the
//! frame lines that mark where each run starts and ends, and reading them
//! back (`sundial logs`: one run, the last lines, or follow live). The daemon
//! hands this module the bytes it read from a job's pipe; nothing else in
//! sundial opens a job log.
//!
//! - [`frame`]: the frame line format and its parser.
//! - [`writer`]: [`JobLog`], one per job, used by the daemon's log thread.
//! - `rotate`: shifting `<job>.log.N` and compressing rotated files off-thread.
//! - [`reader`]: [`log_files`], [`read_run`], [`copy_run`], [`last_run_id`],
//!   [`tail`] for the client commands (no daemon needed).
//! - [`mod@follow`]: [`Follower`], `sundial logs -f`, woken by inotify.
//!
//! # Why one dedicated log thread
//!
//! Disk writes block: a slow disk, a full disk, an NFS hiccup. The scheduler
//! is async and must never wait on a disk, and a job must never stall on a
//! full pipe (SPEC 6), so the daemon drains pipes into bounded channels and
//! one std thread owns every [`JobLog`] and does plain synchronous I/O. One
//! thread keeps the frame and rotation logic free of locks; the only work
//! that leaves it is gzip, which runs on a short-lived thread per job so a
//! rotation never stalls the writer for the length of a compression.
//!
//! # The file format
//!
//! A job's log is its output, raw, between frame lines:
//!
//! ```text
//! ==> run 42 start: trigger=schedule scheduled=2026-11-25T10:00:00+01:00 started=2026-11-25T10:00:00.003+01:00 pid=1234 command=tar czf /srv/backup/home.tgz /home
//! === run 42: workdir /home/x does not exist; running in /
//! ...the job's output, byte for byte...
//! <== run 42 end: outcome=ok exit=0 duration=1.234s bytes=120 lost=0
//! ```
//!
//! The frames are readable by a person running `less` and parseable by
//! [`frame::parse`]: a fixed marker (`==> run N start:`, `=== run N:`,
//! `<== run N end:`) and `key=value` fields without spaces, except the
//! command and the note text, which take the rest of the line with `\`,
//! newline and carriage return escaped as `\\`, `\n`, `\r`. Absent values are
//! `-`. A killed run's end line says `signal=15 (SIGTERM)` instead of `exit=`.
//! The full grammar is in [`frame`].
//!
//! Output that does not end in a newline gets one before the next frame, so
//! frames always start a line (that newline is not counted as output).
//!
//! With `timestamps: true` each output line starts with the time it was read,
//! RFC 3339 in the run's time zone (`2026-11-25T10:00:01.123+01:00 `).
//!
//! While more than one run of the job is active (overlap `allow`, or
//! `replace` during the old run's grace period), every output line is
//! prefixed `[run N] ` and written whole, so the reader can tell the runs
//! apart; a line longer than 64 KiB is cut into 64 KiB lines. With one run
//! active the bytes go to the file unchanged (the fast path). The reader's
//! rule: a `[run N] ` line belongs to run N, any other output line to the most
//! recently started run that has not ended.
//!
//! Rotation: before a write would take `<job>.log` past `max_size`, the files
//! shift (`<job>.log` → `.1` → `.2` …, anything past `keep` removed) and a
//! new file starts with a note `=== run N: continued after rotation` for each
//! active run, so a run whose start frame has been rotated away can still be
//! read. Each file ends at a line boundary. With `compress`, rotated files
//! become `<job>.log.N.gz`.
//!
//! # Limits, on purpose
//!
//! - Output on the fast path is not escaped: a job that prints a line that
//!   looks exactly like a frame can confuse the reader (not the writer).
//! - A partial line that is interrupted by another run's frame, or a line
//!   split by a rotation, reads back as two lines.

use std::fmt;
use std::io;
use std::path::PathBuf;

pub mod follow;
pub mod frame;
pub mod reader;
mod rotate;
pub mod writer;

pub use follow::{Follower, follow};
pub use frame::Frame;
pub use reader::{copy_run, last_run_id, log_files, read_run, tail, tail_before};
pub use rotate::remove_stale_temps;
pub use writer::{JobLog, RunEnd, RunStart, RunStats};

#[cfg(test)]
mod tests;

/// What was being done when an I/O error happened, phrased to read well in
/// "cannot {op}: {error}".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    OpenAppend,
    OpenRead,
    CreateDir,
    Write,
    Stat,
    Read,
    ReadDir,
    Rename,
    Remove,
    Compress,
    Watch,
}

impl Op {
    fn describe(self, path: &std::path::Path) -> String {
        let p = path.display();
        match self {
            Op::OpenAppend => format!("open {p} for appending"),
            Op::OpenRead => format!("open {p} for reading"),
            Op::CreateDir => format!("create the log directory {p}"),
            Op::Write => format!("write to {p}"),
            Op::Stat => format!("inspect {p}"),
            Op::Read => format!("read {p}"),
            Op::ReadDir => format!("list the log directory {p}"),
            Op::Rename => format!("rotate {p}"),
            Op::Remove => format!("remove the old log file {p}"),
            Op::Compress => format!("compress {p}"),
            Op::Watch => format!("watch the log directory {p}"),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Everything that can go wrong with a job log. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum JobLogError {
    /// An I/O error, with the path and what was being done:
    /// "cannot open /var/log/sundial/backup.log for appending: Permission denied".
    #[error("cannot {}: {source}", op.describe(path))]
    Io {
        path: PathBuf,
        op: Op,
        #[source]
        source: io::Error,
    },
    /// The log file's name is a symbolic link; sundial will not follow it.
    #[error(
        "refusing to write {}: it is a symbolic link (remove it; sundial creates its log files itself)",
        path.display()
    )]
    Symlink { path: PathBuf },
    /// The log file's name is something other than a regular file.
    #[error(
        "refusing to write {}: it is not a regular file (remove or rename it)",
        path.display()
    )]
    NotRegular { path: PathBuf },
}

impl JobLogError {
    pub(crate) fn io(path: impl Into<PathBuf>, op: Op, source: io::Error) -> JobLogError {
        JobLogError::Io {
            path: path.into(),
            op,
            source,
        }
    }

    /// The file or directory the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            JobLogError::Io { path, .. }
            | JobLogError::Symlink { path }
            | JobLogError::NotRegular { path } => path,
        }
    }

    /// The OS error number, when there is one (lets the daemon rate-limit
    /// "disk full" separately from other errors).
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            JobLogError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

/// The current log file of a job: `<dir>/<job>.log`.
pub fn log_path(dir: &std::path::Path, job: &str) -> PathBuf {
    dir.join(format!("{job}.log"))
}
