//! [`Follower`]: `sundial logs -f`, the job's log as it grows, across
//! rotations, without polling.
//!
//! An inotify watch on the log directory (through `notify`) wakes the
//! follower whenever one of the job's files changes. The wake-up is a
//! one-slot channel: many writes while the follower is busy collapse into
//! one pending wake-up, and a wake-up that arrives between "read to the end"
//! and "wait" is never missed, because the follower reads again after every
//! wake-up.
//!
//! Rotation: at the end of its file, the follower checks whether
//! `<job>.log` is still the file it has open (same inode). If not, the writer
//! renamed it away; the writer never writes to a file after renaming it, so
//! the follower reads the old one to its end once more and then switches to
//! the new file from its start. A follower that fell behind by several
//! rotations finds its old file among `<job>.log.N` by inode and first reads
//! the files rotated after it (`.N-1` ... `.1`, gzipped or not). If its old
//! file is gone from the plain names (compressed or removed meanwhile), it
//! cannot tell how far behind it is and goes on with the current file.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher};

use flate2::read::MultiGzDecoder;

use super::rotate::rotated_files;
use super::{JobLogError, Op, log_path};

/// The most a single [`Follower::next_chunk`] returns.
const CHUNK: usize = 64 * 1024;

/// Follows a job's log. Create with [`follow`].
pub struct Follower {
    dir: PathBuf,
    job: String,
    path: PathBuf,
    /// Rotated files to read whole before the current one (when the
    /// follower fell behind several rotations).
    backlog: VecDeque<(PathBuf, Box<dyn Read + Send>)>,
    /// The file being read, its inode and the read position.
    current: Option<(File, u64)>,
    pos: u64,
    /// Wake-ups from the watcher.
    wake: Receiver<()>,
    /// Kept alive for its watch; dropping it ends the watch.
    _watcher: notify::RecommendedWatcher,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower")
            .field("path", &self.path)
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

/// Starts following `<dir>/<job>.log`: from its current end when `from_end`,
/// else from its beginning. The directory must exist (the file need not).
pub fn follow(dir: &Path, job: &str, from_end: bool) -> Result<Follower, JobLogError> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let name = format!("{job}.log");
    let watch_err = |e: notify::Error| {
        let source = match e.kind {
            notify::ErrorKind::Io(io) => io,
            notify::ErrorKind::PathNotFound => io::ErrorKind::NotFound.into(),
            other => io::Error::other(format!("{other:?}")),
        };
        JobLogError::io(dir, Op::Watch, source)
    };
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let relevant = match &event {
            Ok(ev) => ev.paths.iter().any(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&name))
            }),
            // A watcher error: wake the follower so it looks for itself.
            Err(_) => true,
        };
        if relevant {
            wake(&tx);
        }
    })
    .map_err(watch_err)?;
    watcher
        .watch(dir, RecursiveMode::NonRecursive)
        .map_err(watch_err)?;
    // The watch is in place before the file is opened: nothing written
    // from now on can be missed.
    let mut follower = Follower {
        dir: dir.to_path_buf(),
        job: job.to_string(),
        path: log_path(dir, job),
        backlog: VecDeque::new(),
        current: None,
        pos: 0,
        wake: rx,
        _watcher: watcher,
    };
    follower.open_current()?;
    if from_end && let Some((file, _)) = follower.current.as_mut() {
        follower.pos = file
            .seek(SeekFrom::End(0))
            .map_err(|e| JobLogError::io(&follower.path, Op::Read, e))?;
    }
    Ok(follower)
}

fn wake(tx: &SyncSender<()>) {
    match tx.try_send(()) {
        Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
    }
}

impl Follower {
    /// The file followed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The inode of the file followed and the offset it reads from next;
    /// `None` while `<job>.log` does not exist. Taken before the first read,
    /// it tells [`tail_before`](super::reader::tail_before) where to stop.
    pub fn start_point(&self) -> Option<(u64, u64)> {
        self.current.as_ref().map(|(_, ino)| (*ino, self.pos))
    }

    /// Blocks until there is new data and returns it (at most 64 KiB).
    pub fn next_chunk(&mut self) -> Result<Vec<u8>, JobLogError> {
        loop {
            if let Some(data) = self.next_chunk_timeout(Duration::from_secs(3600))? {
                return Ok(data);
            }
        }
    }

    /// Like [`Follower::next_chunk`], but gives up after `timeout` with
    /// `Ok(None)` (for a CLI that also watches for Ctrl-C, and for tests).
    pub fn next_chunk_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<Vec<u8>>, JobLogError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(data) = self.read_available()? {
                return Ok(Some(data));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.wake.recv_timeout(left) {
                Ok(()) => {}
                Err(RecvTimeoutError::Timeout) => return Ok(None),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(JobLogError::io(
                        self.path.parent().unwrap_or(Path::new("/")),
                        Op::Watch,
                        io::Error::other("the inotify watcher stopped"),
                    ));
                }
            }
        }
    }

    /// Data that is there now, without waiting: the backlog of rotated
    /// files, the rest of the open file, then, if the file was rotated away,
    /// the new one.
    fn read_available(&mut self) -> Result<Option<Vec<u8>>, JobLogError> {
        let mut buf = vec![0u8; CHUNK];
        loop {
            if let Some((path, reader)) = self.backlog.front_mut() {
                let n = read_some(reader, &mut buf)
                    .map_err(|e| JobLogError::io(path.as_path(), Op::Read, e))?;
                if n > 0 {
                    buf.truncate(n);
                    return Ok(Some(buf));
                }
                self.backlog.pop_front();
                continue;
            }
            if let Some((file, _)) = self.current.as_mut() {
                let n = read_some(file, &mut buf)
                    .map_err(|e| JobLogError::io(&self.path, Op::Read, e))?;
                if n > 0 {
                    self.pos += n as u64;
                    buf.truncate(n);
                    return Ok(Some(buf));
                }
                // Truncated under us (someone ran `: > job.log`): start over.
                if file.metadata().is_ok_and(|m| m.len() < self.pos) {
                    file.seek(SeekFrom::Start(0))
                        .map_err(|e| JobLogError::io(&self.path, Op::Read, e))?;
                    self.pos = 0;
                    continue;
                }
            }
            // At the end of what we have. Is there a newer file?
            let now = match std::fs::metadata(&self.path) {
                Ok(m) => Some(m.ino()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(JobLogError::io(&self.path, Op::Stat, e)),
            };
            let ours = self.current.as_ref().map(|(_, ino)| *ino);
            if now.is_none() || now == ours {
                return Ok(None);
            }
            // Rotated (or created). The writer never writes a file after
            // renaming it, so one more read finishes the old one.
            if let Some((file, _)) = self.current.as_mut() {
                let n = read_some(file, &mut buf)
                    .map_err(|e| JobLogError::io(&self.path, Op::Read, e))?;
                if n > 0 {
                    self.pos += n as u64;
                    buf.truncate(n);
                    return Ok(Some(buf));
                }
            }
            if let Some(ino) = ours {
                self.queue_rotated_after(ino);
            }
            self.open_current()?;
        }
    }

    /// Queues the files rotated after the one with inode `ino`, oldest
    /// first, opening them now so further rotations cannot move them away.
    fn queue_rotated_after(&mut self, ino: u64) {
        let Ok(files) = rotated_files(&self.dir, &self.job) else {
            return;
        };
        let Some(ours) = files
            .iter()
            .filter(|f| !f.gz)
            .find(|f| std::fs::metadata(&f.path).is_ok_and(|m| m.ino() == ino))
            .map(|f| f.index)
        else {
            return;
        };
        for index in (1..ours).rev() {
            let plain = files.iter().find(|f| f.index == index && !f.gz);
            let gz = files.iter().find(|f| f.index == index && f.gz);
            let opened = plain
                .and_then(|f| File::open(&f.path).ok().map(|file| (f, file)))
                .or_else(|| gz.and_then(|f| File::open(&f.path).ok().map(|file| (f, file))));
            let Some((f, file)) = opened else { continue };
            let reader: Box<dyn Read + Send> = if f.gz {
                Box::new(MultiGzDecoder::new(BufReader::new(file)))
            } else {
                Box::new(file)
            };
            self.backlog.push_back((f.path.clone(), reader));
        }
    }

    /// Opens `<job>.log` from its start, if it exists.
    fn open_current(&mut self) -> Result<(), JobLogError> {
        match File::open(&self.path) {
            Ok(file) => {
                let ino = file
                    .metadata()
                    .map_err(|e| JobLogError::io(&self.path, Op::Stat, e))?
                    .ino();
                self.current = Some((file, ino));
                self.pos = 0;
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.current = None;
                self.pos = 0;
                Ok(())
            }
            Err(e) => Err(JobLogError::io(&self.path, Op::OpenRead, e)),
        }
    }
}

/// One read, retried on EINTR; a damaged gzip stream reads as its end.
fn read_some(r: &mut (impl Read + ?Sized), buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::InvalidData => return Ok(0),
            other => return other,
        }
    }
}
