//! The daemon's own log (SPEC 5): `tracing` events to
//! `<log_dir>/sundial.log` under `start`, rotated by size like job logs; to
//! stderr (or the journal, when stderr is connected to it) under `run`.
//!
//! Writes are synchronous and small (one line per start, stop, reload, run
//! start and run end). No background writer thread is used: the subscriber
//! is installed right after detaching, and a thread that existed before a
//! fork would not survive it.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

pub const DAEMON_LOG: &str = "sundial.log";
/// The daemon log rotates at this size, keeping [`KEEP`] old files.
const MAX_SIZE: u64 = 10 * 1024 * 1024;
const KEEP: u32 = 5;

/// The filter from `--log-level`, else `RUST_LOG`, else `info`.
pub fn filter(level: Option<&str>) -> EnvFilter {
    match level {
        Some(l) => EnvFilter::try_new(l).unwrap_or_else(|_| EnvFilter::new("info")),
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    }
}

/// Log to stderr, or to the journal when systemd connected stderr to it.
pub fn init_foreground(level: Option<&str>) {
    use tracing_subscriber::prelude::*;
    if std::env::var_os("JOURNAL_STREAM").is_some()
        && let Ok(layer) = tracing_journald::layer()
    {
        let _ = tracing_subscriber::registry()
            .with(filter(level))
            .with(layer)
            .try_init();
        return;
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_writer(io::stderr)
        .with_ansi(false)
        .try_init();
}

/// Log to `<log_dir>/sundial.log`.
pub fn init_file(log_dir: &Path, level: Option<&str>) -> io::Result<()> {
    let writer = RotatingFile::open(log_dir.join(DAEMON_LOG))?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(level))
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    Ok(())
}

struct State {
    path: PathBuf,
    file: Option<File>,
    size: u64,
}

/// A size-rotated append-only file, shared by every thread that logs.
#[derive(Clone)]
pub struct RotatingFile {
    state: Arc<Mutex<State>>,
}

fn open_append(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(dir)?;
    }
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
}

impl RotatingFile {
    pub fn open(path: PathBuf) -> io::Result<RotatingFile> {
        let file = open_append(&path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            state: Arc::new(Mutex::new(State {
                path,
                file: Some(file),
                size,
            })),
        })
    }
}

impl State {
    fn rotate(&mut self) {
        self.file = None;
        for i in (1..KEEP).rev() {
            let from = numbered(&self.path, i);
            let _ = std::fs::rename(&from, numbered(&self.path, i + 1));
        }
        let _ = std::fs::rename(&self.path, numbered(&self.path, 1));
        self.size = 0;
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.size > 0 && self.size + buf.len() as u64 > MAX_SIZE {
            self.rotate();
        }
        // Reopen when the file was rotated, or removed under us (the log dir
        // deleted): the next line recreates it instead of vanishing.
        let gone = match &self.file {
            Some(f) => f.metadata().map(|m| {
                use std::os::unix::fs::MetadataExt;
                m.nlink() == 0
            }),
            None => Ok(true),
        };
        if gone.unwrap_or(true) {
            self.file = Some(open_append(&self.path)?);
            self.size = 0;
        }
        let f = self.file.as_mut().expect("opened above");
        f.write_all(buf)?;
        self.size += buf.len() as u64;
        Ok(buf.len())
    }
}

fn numbered(path: &Path, i: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{i}"));
    PathBuf::from(s)
}

pub struct Guard<'a>(std::sync::MutexGuard<'a, State>);

impl Write for Guard<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for RotatingFile {
    type Writer = Guard<'a>;
    fn make_writer(&'a self) -> Self::Writer {
        Guard(self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_and_recreates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.log");
        let f = RotatingFile::open(path.clone()).unwrap();
        let line = vec![b'x'; 1024 * 1024];
        for _ in 0..12 {
            f.make_writer().write_all(&line).unwrap();
        }
        assert!(numbered(&path, 1).exists());
        assert!(std::fs::metadata(&path).unwrap().len() <= MAX_SIZE);
        std::fs::remove_file(&path).unwrap();
        f.make_writer().write_all(b"again\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"again\n");
    }
}
