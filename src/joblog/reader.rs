//! Reading job logs back, for `sundial logs` (no daemon needed).
//!
//! The files of a job, oldest first, form one stream: `<job>.log.<keep>`
//! (or `.gz`) ... `<job>.log.1`, `<job>.log`. Every file starts at a line
//! boundary (the writer ends a file with a newline before rotating), so lines
//! never straddle files in a healthy log.
//!
//! A damaged `.gz` file is read up to the damage, then skipped: an old
//! broken file must not hide the runs after it. All files are opened before
//! any is read, so a rotation that happens meanwhile does not skip or repeat
//! a file (the descriptors keep pointing at the same data).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::frame::{LineKind, classify};
use super::rotate::rotated_files;
use super::{JobLogError, Op, log_path};

/// Reading happens in blocks of this size; a line start is always seen with
/// up to this many bytes of its line.
const BLOCK: usize = 64 * 1024;

/// Enough of a line's start to classify it.
const HEAD: usize = 48;

/// A job's log files, oldest first: `.log.N(.gz)` ... `.log.1`, `.log`.
/// When both `.N` and `.N.gz` exist (a compression was interrupted), the
/// uncompressed one is listed. Missing directory: empty.
pub fn log_files(dir: &Path, job: &str) -> Vec<PathBuf> {
    let mut rotated = rotated_files(dir, job).unwrap_or_default();
    // Highest index first; plain before gz at the same index.
    rotated.sort_by(|a, b| b.index.cmp(&a.index).then(a.gz.cmp(&b.gz)));
    rotated.dedup_by(|later, first| later.index == first.index);
    let mut files: Vec<PathBuf> = rotated.into_iter().map(|r| r.path).collect();
    let current = log_path(dir, job);
    if current.exists() {
        files.push(current);
    }
    files
}

/// One opened log file.
struct Source {
    path: PathBuf,
    file: File,
    gz: bool,
}

impl Source {
    /// A reader over the file's (decompressed) content. Damage in a gzip
    /// stream reads as its end.
    fn reader(&self) -> Box<dyn Read + '_> {
        if self.gz {
            Box::new(Lenient(MultiGzDecoder::new(BufReader::new(&self.file))))
        } else {
            Box::new(&self.file)
        }
    }
}

/// Turns decoding errors into end-of-file.
struct Lenient<R>(R);

impl<R: Read> Read for Lenient<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.read(buf) {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidData
                        | io::ErrorKind::InvalidInput
                        | io::ErrorKind::UnexpectedEof
                ) =>
            {
                Ok(0)
            }
            other => other,
        }
    }
}

/// Opens every log file of the job, oldest first. Files that vanish between
/// listing and opening (rotated away) are skipped.
fn open_all(dir: &Path, job: &str) -> Result<Vec<Source>, JobLogError> {
    let mut out = Vec::new();
    for path in log_files(dir, job) {
        match File::open(&path) {
            Ok(file) => out.push(Source {
                gz: path.extension().is_some_and(|e| e == "gz"),
                path,
                file,
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(JobLogError::io(&path, Op::OpenRead, e)),
        }
    }
    Ok(out)
}

/// Calls `f(piece, starts_line)` for the lines of `r`, in pieces: a piece
/// that starts a line holds the whole line when it is at most [`BLOCK`]
/// bytes, else its first [`BLOCK`] bytes and the rest follows in further
/// pieces. `f` returns `false` to stop.
fn for_each_line(r: &mut dyn Read, mut f: impl FnMut(&[u8], bool) -> bool) -> io::Result<bool> {
    let mut buf = vec![0u8; BLOCK];
    let (mut start, mut end) = (0, 0);
    let mut eof = false;
    let mut at_line_start = true;
    loop {
        let window = &buf[start..end];
        let newline = window.iter().position(|&b| b == b'\n');
        match newline {
            Some(i) => {
                if !f(&window[..=i], at_line_start) {
                    return Ok(false);
                }
                start += i + 1;
                at_line_start = true;
            }
            None if !eof && (window.is_empty() || (at_line_start && window.len() < BLOCK)) => {
                buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
                match r.read(&mut buf[end..]) {
                    Ok(0) => eof = true,
                    Ok(n) => end += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            None if window.is_empty() => return Ok(true),
            None => {
                if !f(window, at_line_start) {
                    return Ok(false);
                }
                start = end;
                at_line_start = false;
            }
        }
    }
}

/// The whole of run `run_id` (frames included), across rotated and gzipped
/// files, with `[run N] ` prefixes removed. `None` when the log does not
/// mention the run. Holds the run in memory; [`copy_run`] streams it.
pub fn read_run(dir: &Path, job: &str, run_id: i64) -> Result<Option<Vec<u8>>, JobLogError> {
    let mut out = Vec::new();
    let found = copy_run(dir, job, run_id, &mut out)?;
    Ok(found.then_some(out))
}

/// Streams run `run_id` into `out` (see [`read_run`]); `false` when the log
/// does not mention the run.
pub fn copy_run(
    dir: &Path,
    job: &str,
    run_id: i64,
    out: &mut dyn Write,
) -> Result<bool, JobLogError> {
    let mut demux = Demux {
        target: run_id,
        open: Vec::new(),
        owner: None,
        found: false,
        done: false,
        write_err: None,
    };
    for source in open_all(dir, job)? {
        let mut reader = source.reader();
        let result = for_each_line(&mut reader, |piece, starts| demux.piece(piece, starts, out));
        if let Some(e) = demux.write_err.take() {
            return Err(JobLogError::io("(output)", Op::Write, e));
        }
        result.map_err(|e| JobLogError::io(&source.path, Op::Read, e))?;
        if demux.done {
            break;
        }
        demux.owner = None;
    }
    Ok(demux.found)
}

/// Picks one run's lines out of the stream (the rules are in the module doc
/// of [`super`]).
struct Demux {
    target: i64,
    /// Runs started (or continued) and not ended, in start order.
    open: Vec<i64>,
    /// The run the current line belongs to.
    owner: Option<i64>,
    found: bool,
    /// The target's end frame was copied.
    done: bool,
    write_err: Option<io::Error>,
}

impl Demux {
    fn piece(&mut self, piece: &[u8], starts: bool, out: &mut dyn Write) -> bool {
        let mut data = piece;
        if starts {
            match classify(&piece[..piece.len().min(HEAD)]) {
                LineKind::Start(id) => {
                    self.open.retain(|&r| r != id);
                    self.open.push(id);
                    self.owner = Some(id);
                }
                LineKind::Note(id) => {
                    if !self.open.contains(&id) {
                        self.open.push(id);
                    }
                    self.owner = Some(id);
                }
                LineKind::End(id) => {
                    self.open.retain(|&r| r != id);
                    self.owner = Some(id);
                    if id == self.target {
                        self.done = true;
                    }
                }
                LineKind::Prefixed(id, len) => {
                    self.owner = Some(id);
                    data = &piece[len..];
                }
                LineKind::Output => self.owner = self.open.last().copied(),
            }
        }
        if self.owner == Some(self.target) {
            self.found = true;
            if let Err(e) = out.write_all(data) {
                self.write_err = Some(e);
                return false;
            }
        }
        // Stop after the end frame's line.
        !(self.done && piece.ends_with(b"\n"))
    }
}

/// The id of the newest run the log mentions, reading from the end.
pub fn last_run_id(dir: &Path, job: &str) -> Result<Option<i64>, JobLogError> {
    let mut best: Option<i64> = None;
    for source in open_all(dir, job)?.iter().rev() {
        let mut seen_start = false;
        let mut visit = |head: &[u8]| {
            let id = match classify(head) {
                LineKind::Start(id) => {
                    seen_start = true;
                    id
                }
                LineKind::Note(id) | LineKind::End(id) | LineKind::Prefixed(id, _) => id,
                LineKind::Output => return false,
            };
            best = Some(best.map_or(id, |b| b.max(id)));
            // Run ids grow with start order: before the newest start frame
            // there is nothing newer.
            seen_start
        };
        let result = if source.gz {
            let mut reader = source.reader();
            let mut ids_after_start: Option<i64> = None;
            let mut last_start: Option<i64> = None;
            let r = for_each_line(&mut reader, |piece, starts| {
                if starts {
                    match classify(&piece[..piece.len().min(HEAD)]) {
                        LineKind::Start(id) => {
                            last_start = Some(id);
                            ids_after_start = None;
                        }
                        LineKind::Note(id) | LineKind::End(id) | LineKind::Prefixed(id, _) => {
                            ids_after_start = Some(ids_after_start.map_or(id, |b| b.max(id)));
                        }
                        LineKind::Output => {}
                    }
                }
                true
            });
            // Replay in the order the backward scan would have seen them.
            if let Some(id) = ids_after_start {
                let _ = visit(format!("=== run {id}: ").as_bytes());
            }
            if let Some(id) = last_start {
                let _ = visit(format!("==> run {id} start:").as_bytes());
            }
            r.map(|_| ())
        } else {
            scan_line_starts_back(&source.file, &mut visit).map(|_| ())
        };
        result.map_err(|e| JobLogError::io(&source.path, Op::Read, e))?;
        if seen_start {
            break;
        }
    }
    Ok(best)
}

/// Calls `f` with the first bytes of each line of `file`, last line first,
/// until it returns `true`. Reads backward in blocks, so the cost is the
/// distance from the end, not the file's size.
fn scan_line_starts_back(file: &File, f: &mut dyn FnMut(&[u8]) -> bool) -> io::Result<bool> {
    let len = file.metadata()?.len();
    let mut end = len;
    // The first bytes of the region after `end`, already scanned.
    let mut carry: Vec<u8> = Vec::new();
    let mut block = Vec::with_capacity(BLOCK + HEAD);
    while end > 0 {
        let start = end.saturating_sub(BLOCK as u64);
        let blen = (end - start) as usize;
        block.clear();
        block.resize(blen, 0);
        file.read_exact_at(&mut block, start)?;
        block.extend_from_slice(&carry);
        let mut upto = blen;
        while let Some(i) = block[..upto].iter().rposition(|&b| b == b'\n') {
            let p = i + 1;
            if p < block.len() && f(&block[p..block.len().min(p + HEAD)]) {
                return Ok(true);
            }
            upto = i;
        }
        if start == 0 && f(&block[..block.len().min(HEAD)]) {
            return Ok(true);
        }
        carry = block[..block.len().min(HEAD)].to_vec();
        end = start;
    }
    Ok(false)
}

/// The last `lines` lines of the job's log, across files, reading from the
/// end (a rotated `.gz` file is streamed, keeping only the lines needed).
pub fn tail(dir: &Path, job: &str, lines: usize) -> Result<Vec<u8>, JobLogError> {
    tail_sources(open_all(dir, job)?, lines, None)
}

/// Like [`tail`], but only what lies before a [`Follower`]'s starting point
/// (see [`Follower::start_point`]), so that `logs -f` prints each line once
/// even when the job writes between the tail and the follow.
///
/// [`Follower`]: super::Follower
/// [`Follower::start_point`]: super::Follower::start_point
pub fn tail_before(
    dir: &Path,
    job: &str,
    lines: usize,
    start: Option<(u64, u64)>,
) -> Result<Vec<u8>, JobLogError> {
    let mut sources = open_all(dir, job)?;
    match start {
        // The follower had no file: everything in `<job>.log` is its to print.
        None => {
            let current = log_path(dir, job);
            sources.retain(|s| s.path != current);
            tail_sources(sources, lines, None)
        }
        Some((ino, pos)) => {
            // Its file may have been rotated since; find it by inode.
            let ours = sources
                .iter()
                .position(|s| !s.gz && s.file.metadata().is_ok_and(|m| m.ino() == ino));
            match ours {
                Some(i) => {
                    sources.truncate(i + 1);
                    tail_sources(sources, lines, Some(pos))
                }
                None => tail_sources(sources, lines, None),
            }
        }
    }
}

/// The tail of `sources` (oldest first), reading the newest at most up to
/// `limit` bytes.
fn tail_sources(
    sources: Vec<Source>,
    lines: usize,
    limit: Option<u64>,
) -> Result<Vec<u8>, JobLogError> {
    let mut need = lines;
    let mut parts: Vec<Vec<u8>> = Vec::new();
    if need == 0 {
        return Ok(Vec::new());
    }
    for (i, source) in sources.iter().rev().enumerate() {
        let limit = if i == 0 { limit } else { None };
        let (bytes, found) = if source.gz {
            tail_stream(&mut source.reader(), need)
        } else {
            tail_file(&source.file, need, limit)
        }
        .map_err(|e| JobLogError::io(&source.path, Op::Read, e))?;
        parts.push(bytes);
        need -= found.min(need);
        if need == 0 {
            break;
        }
    }
    parts.reverse();
    Ok(parts.concat())
}

/// The last `k` lines of a plain file (of its first `limit` bytes, when
/// given) and how many it had (at most `k`).
fn tail_file(file: &File, k: usize, limit: Option<u64>) -> io::Result<(Vec<u8>, usize)> {
    let len = file.metadata()?.len().min(limit.unwrap_or(u64::MAX));
    if len == 0 {
        return Ok((Vec::new(), 0));
    }
    let mut last = [0u8];
    file.read_exact_at(&mut last, len - 1)?;
    // A final newline ends the last line; it does not start another.
    let search_end = if last[0] == b'\n' { len - 1 } else { len };
    let mut found = 0;
    let mut from = None;
    let mut end = search_end;
    let mut block = vec![0u8; BLOCK];
    'outer: while end > 0 {
        let start = end.saturating_sub(BLOCK as u64);
        let b = &mut block[..(end - start) as usize];
        file.read_exact_at(b, start)?;
        let mut upto = b.len();
        while let Some(i) = b[..upto].iter().rposition(|&c| c == b'\n') {
            found += 1;
            if found == k {
                from = Some(start + i as u64 + 1);
                break 'outer;
            }
            upto = i;
        }
        end = start;
    }
    let (from, count) = match from {
        Some(from) => (from, k),
        None => (0, found + 1),
    };
    let mut out = vec![0u8; (len - from) as usize];
    file.read_exact_at(&mut out, from)?;
    Ok((out, count))
}

/// The last `k` lines of a stream, keeping only those in memory.
fn tail_stream(r: &mut dyn Read, k: usize) -> io::Result<(Vec<u8>, usize)> {
    let mut ring: VecDeque<Vec<u8>> = VecDeque::with_capacity(k.min(1024) + 1);
    for_each_line(r, |piece, starts| {
        if starts || ring.is_empty() {
            ring.push_back(Vec::new());
            if ring.len() > k {
                ring.pop_front();
            }
        }
        if let Some(line) = ring.back_mut() {
            line.extend_from_slice(piece);
        }
        true
    })?;
    let count = ring.len();
    Ok((ring.into_iter().flatten().collect(), count))
}
