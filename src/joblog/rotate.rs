//! Rotation of a job's log files, and gzip of rotated files off the writer's
//! thread.
//!
//! The writer calls [`Rotator::rotate`] (a few renames, under a lock) and goes
//! on writing into a fresh file. With `compress`, the rotated file joins a
//! queue that one short-lived thread per job works through: it gzips
//! `<job>.log.N` into a hidden temporary file, then, under the same lock,
//! renames it to `<job>.log.N.gz` and removes `<job>.log.N`. Because the
//! writer may rotate again while a compression runs, the queue records each
//! file's *current* index and the rename cascade updates it; the lock makes
//! "rename the cascade" and "put the .gz in place" exclusive, so the
//! compressor never installs a file under a stale name.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use flate2::Compression;
use flate2::write::GzEncoder;

use super::{JobLogError, Op, log_path};

/// One rotated file waiting for compression.
#[derive(Debug)]
struct Pending {
    /// Identifies the entry across renames (and names its temporary file).
    seq: u64,
    /// Its current name is `<job>.log.<index>`.
    index: u32,
}

/// What the writer and the compressor share.
#[derive(Debug, Default)]
struct Shared {
    /// Rotated, not yet compressed files.
    pending: Vec<Pending>,
    /// Whether a compressor thread is working on `pending`.
    running: bool,
    /// The next `Pending::seq`.
    next_seq: u64,
    /// The compressor's last failure, handed to the writer at its next
    /// rotation so the daemon can log it.
    error: Option<JobLogError>,
}

/// The rotation state of one job's files.
#[derive(Debug)]
pub(crate) struct Rotator {
    dir: PathBuf,
    job: String,
    shared: Arc<Mutex<Shared>>,
    /// The compressor thread, if one was started.
    worker: Option<JoinHandle<()>>,
}

/// A rotated file of a job: `<job>.log.<index>` or `<job>.log.<index>.gz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rotated {
    pub index: u32,
    pub gz: bool,
    pub path: PathBuf,
}

/// The rotated files of `job` in `dir`, in no particular order.
pub(crate) fn rotated_files(dir: &Path, job: &str) -> io::Result<Vec<Rotated>> {
    let prefix = format!("{job}.log.");
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let (num, gz) = match rest.strip_suffix(".gz") {
            Some(num) => (num, true),
            None => (rest, false),
        };
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(index) = num.parse::<u32>() else {
            continue;
        };
        if index == 0 {
            continue;
        }
        out.push(Rotated {
            index,
            gz,
            path: entry.path(),
        });
    }
    Ok(out)
}

fn rotated_path(dir: &Path, job: &str, index: u32, gz: bool) -> PathBuf {
    let ext = if gz { ".gz" } else { "" };
    dir.join(format!("{job}.log.{index}{ext}"))
}

/// The hidden name a compression writes to before it is complete. The pid
/// keeps a restarted daemon from mistaking a dead one's leftovers for its own.
fn temp_path(dir: &Path, job: &str, seq: u64) -> PathBuf {
    dir.join(format!(".{job}.log.gz-tmp.{}.{seq}", std::process::id()))
}

/// Removes the temporary files that dead daemons left in `dir` mid-compression
/// (any job's: one pass over the directory, not one per job, so that a
/// thousand jobs cost one scan at startup).
pub fn remove_stale_temps(dir: &Path) {
    let ours = format!(".gz-tmp.{}.", std::process::id());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') && name.contains(".log.gz-tmp.") && !name.contains(&ours) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panic in the compressor cannot leave `Shared` inconsistent in a way
    // that matters more than losing the log; keep going.
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

impl Rotator {
    pub(crate) fn new(dir: PathBuf, job: String) -> Rotator {
        Rotator {
            dir,
            job,
            shared: Arc::default(),
            worker: None,
        }
    }

    /// Shifts `<job>.log.N` to `.N+1` (removing what would pass `keep`) and
    /// `<job>.log` to `.1`. The caller must reopen `<job>.log` afterwards
    /// when this returns `Ok`. With `compress`, queues the new `.1` (and any
    /// uncompressed leftovers) for gzip.
    ///
    /// `Err`: `<job>.log` was not moved (keep writing to it). `Ok(Some(e))`:
    /// it was moved, but something else failed (an old file could not be
    /// removed, a compression failed earlier) and should be reported.
    pub(crate) fn rotate(
        &mut self,
        keep: u32,
        compress: bool,
    ) -> Result<Option<JobLogError>, JobLogError> {
        let current = log_path(&self.dir, &self.job);
        let mut shared = lock(&self.shared);
        let mut files = rotated_files(&self.dir, &self.job)
            .map_err(|e| JobLogError::io(&self.dir, Op::ReadDir, e))?;
        files.sort_by_key(|f| std::cmp::Reverse(f.index));
        let mut first_err = None;
        for f in &files {
            let result = if f.index >= keep {
                fs::remove_file(&f.path).map_err(|e| JobLogError::io(&f.path, Op::Remove, e))
            } else {
                fs::rename(
                    &f.path,
                    rotated_path(&self.dir, &self.job, f.index + 1, f.gz),
                )
                .map_err(|e| JobLogError::io(&f.path, Op::Rename, e))
            };
            if let Err(e) = result {
                first_err.get_or_insert(e);
            }
        }
        for p in &mut shared.pending {
            p.index += 1;
        }
        shared.pending.retain(|p| p.index <= keep);
        let moved = if keep == 0 {
            fs::remove_file(&current).map_err(|e| JobLogError::io(&current, Op::Remove, e))
        } else {
            fs::rename(&current, rotated_path(&self.dir, &self.job, 1, false))
                .map_err(|e| JobLogError::io(&current, Op::Rename, e))
        };
        // On failure the current file stays; the writer keeps appending to it.
        moved?;
        if compress && keep > 0 {
            self.queue_uncompressed(&mut shared, keep);
        }
        let start = compress && !shared.pending.is_empty() && !shared.running;
        if start {
            shared.running = true;
        }
        let compress_err = shared.error.take();
        drop(shared);
        if start {
            self.spawn_worker();
        }
        Ok(first_err.or(compress_err))
    }

    /// Queues every plain `<job>.log.N` (N <= keep) that has no `.gz` twin
    /// and is not queued yet: the file just rotated, and leftovers from a
    /// daemon that died or ran without `compress`.
    fn queue_uncompressed(&self, shared: &mut Shared, keep: u32) {
        let Ok(files) = rotated_files(&self.dir, &self.job) else {
            return;
        };
        let gz: HashSet<u32> = files.iter().filter(|f| f.gz).map(|f| f.index).collect();
        let queued: HashSet<u32> = shared.pending.iter().map(|p| p.index).collect();
        let mut plain: Vec<u32> = files
            .iter()
            .filter(|f| !f.gz && f.index <= keep && !gz.contains(&f.index))
            .filter(|f| !queued.contains(&f.index))
            .map(|f| f.index)
            .collect();
        plain.sort_unstable();
        for index in plain {
            let seq = shared.next_seq;
            shared.next_seq += 1;
            shared.pending.push(Pending { seq, index });
        }
    }

    fn spawn_worker(&mut self) {
        if let Some(old) = self.worker.take() {
            // It has set `running = false`, so it is returning; this does not wait.
            let _ = old.join();
        }
        let shared = Arc::clone(&self.shared);
        let dir = self.dir.clone();
        let job = self.job.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("gzip {job}"))
            .spawn(move || compress_queue(&shared, &dir, &job));
        match spawned {
            Ok(handle) => self.worker = Some(handle),
            Err(e) => {
                let mut shared = lock(&self.shared);
                shared.running = false;
                shared.error = Some(JobLogError::io(&self.dir, Op::Compress, e));
            }
        }
    }

    /// Blocks until queued compressions are done (daemon shutdown, tests).
    pub(crate) fn wait(&mut self) {
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// The compressor thread: works through the queue, then exits.
fn compress_queue(shared: &Mutex<Shared>, dir: &Path, job: &str) {
    loop {
        let (seq, source, src_path) = {
            let mut s = lock(shared);
            let Some(i) = (0..s.pending.len()).min_by_key(|&i| s.pending[i].seq) else {
                s.running = false;
                return;
            };
            let Pending { seq, index } = s.pending[i];
            let path = rotated_path(dir, job, index, false);
            match File::open(&path) {
                Ok(f) => (seq, f, path),
                Err(e) => {
                    s.pending.remove(i);
                    if e.kind() != io::ErrorKind::NotFound {
                        s.error = Some(JobLogError::io(&path, Op::Compress, e));
                    }
                    continue;
                }
            }
        };
        let tmp = temp_path(dir, job, seq);
        let result = gzip(&source, &tmp);
        let mut s = lock(shared);
        let Some(i) = s.pending.iter().position(|p| p.seq == seq) else {
            // Rotated past `keep` while we compressed it.
            let _ = fs::remove_file(&tmp);
            continue;
        };
        let index = s.pending.remove(i).index;
        if let Err(e) = result {
            let _ = fs::remove_file(&tmp);
            s.error = Some(JobLogError::io(&src_path, Op::Compress, e));
            continue;
        }
        let plain = rotated_path(dir, job, index, false);
        let same_file = match (source.metadata(), fs::symlink_metadata(&plain)) {
            (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
            _ => false,
        };
        if !same_file {
            let _ = fs::remove_file(&tmp);
            continue;
        }
        let gz = rotated_path(dir, job, index, true);
        if let Err(e) = fs::rename(&tmp, &gz) {
            let _ = fs::remove_file(&tmp);
            s.error = Some(JobLogError::io(&gz, Op::Compress, e));
            continue;
        }
        if let Err(e) = fs::remove_file(&plain) {
            s.error = Some(JobLogError::io(&plain, Op::Remove, e));
        }
    }
}

fn gzip(source: &File, tmp: &Path) -> io::Result<()> {
    let out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .custom_flags(libc::O_NOFOLLOW)
        .open(tmp)?;
    let mut enc = GzEncoder::new(io::BufWriter::new(out), Compression::default());
    io::copy(&mut BufReader::new(source), &mut enc)?;
    enc.finish()?.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_only_this_jobs_rotated_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "a.log",
            "a.log.1",
            "a.log.2.gz",
            "a.log.x",
            "a.log.0",
            "a.log.3.gz.tmp",
            "a.log.log",
            "a.log.log.1",
            "b.log.1",
            "a.log.",
        ] {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        let mut files = rotated_files(dir.path(), "a").unwrap();
        files.sort_by_key(|f| f.index);
        let got: Vec<_> = files.iter().map(|f| (f.index, f.gz)).collect();
        assert_eq!(got, [(1, false), (2, true)]);
    }

    #[test]
    fn rotation_shifts_and_drops_past_keep() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for (name, body) in [
            ("j.log", "cur"),
            ("j.log.1", "one"),
            ("j.log.2.gz", "two"),
            ("j.log.3", "three"),
            ("j.log.7", "old"),
        ] {
            fs::write(d.join(name), body).unwrap();
        }
        let mut r = Rotator::new(d.to_path_buf(), "j".into());
        assert!(r.rotate(3, false).unwrap().is_none());
        assert!(!d.join("j.log").exists());
        assert_eq!(fs::read_to_string(d.join("j.log.1")).unwrap(), "cur");
        assert_eq!(fs::read_to_string(d.join("j.log.2")).unwrap(), "one");
        assert_eq!(fs::read_to_string(d.join("j.log.3.gz")).unwrap(), "two");
        assert!(!d.join("j.log.4").exists());
        assert!(!d.join("j.log.7").exists());
    }
}
