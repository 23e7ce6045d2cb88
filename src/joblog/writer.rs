//! [`JobLog`]: the writing side of one job's log, driven by the daemon's log
//! thread (see the [module doc](super) for the file format).
//!
//! # How bytes reach the file
//!
//! Every call turns into one *batch*: a byte buffer plus the ranges of it
//! that are not job output (frames, prefixes, inserted newlines), so that a
//! failed or partial write can be turned into an exact count of lost output
//! bytes. `JobLog::emit` writes a batch, splitting it where the file would
//! pass `max_size` (at a newline when there is one nearby), rotating in
//! between. With one run active and no timestamps, the batch is the caller's
//! slice itself: no copy, no scanning.
//!
//! # Surviving a hostile file system
//!
//! - The file is opened with `O_NOFOLLOW` (a planted symlink is refused) and
//!   must be a regular file; the directory is created (0750) when missing.
//! - After each batch, `fstat` says whether the file still has a name
//!   (`st_nlink > 0`). If it was removed (or its directory was), the batch's
//!   bytes went nowhere: the file is recreated and the batch written again.
//!   So every byte is either in a file that existed after it was written, or
//!   counted as lost.
//! - A failed write closes the file; the next call reopens it. Errors are
//!   returned for the daemon to log, never panicked on.
//!
//! Memory per run: a pending partial line of at most [`MAX_LINE`] bytes while
//! runs overlap, nothing otherwise. Batches are as big as the caller's chunk
//! plus prefixes.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, MetadataExt, OpenOptionsExt};
use std::path::PathBuf;
use std::time::Duration;

use jiff::ZonedDateTime;
use jiff::tz::TimeZone;

use super::rotate::Rotator;
use super::{JobLogError, Op, frame, log_path};
use crate::config::LogSettings;
use crate::run::{Outcome, Trigger};

/// While runs overlap, a line longer than this is written in pieces of this
/// size (each ended with an inserted newline), bounding memory per run.
pub const MAX_LINE: usize = 64 * 1024;

/// When splitting output at the size limit, look back this far for a newline
/// so that files end at line boundaries when they can.
const SPLIT_LOOKBACK: usize = 8 * 1024;

/// What the daemon knows when a run starts.
#[derive(Debug, Clone)]
pub struct RunStart<'a> {
    pub run_id: i64,
    pub trigger: Trigger,
    /// The fire time the run is for; `None` for manual runs.
    pub scheduled_at: Option<ZonedDateTime>,
    /// Also gives the time zone of `timestamps` prefixes.
    pub started_at: ZonedDateTime,
    /// `None` when the process could not be started.
    pub pid: Option<u32>,
    pub command: &'a str,
}

/// What the daemon knows when a run ends.
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub run_id: i64,
    pub outcome: Outcome,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub duration: Duration,
    /// Bytes the daemon had to drop before they reached the writer (a full
    /// channel); counted as produced and lost.
    pub dropped: u64,
}

/// A run's output accounting, for the end frame and the history row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunStats {
    /// Output bytes the job produced (including dropped ones).
    pub bytes: u64,
    /// Of those, bytes that are not in the log: disk full, directory gone,
    /// dropped by the daemon.
    pub lost: u64,
}

/// Per-run state while a run is active.
#[derive(Debug)]
struct RunState {
    run_id: i64,
    /// The zone of the run's `started_at`, for timestamp prefixes.
    tz: TimeZone,
    /// Output bytes received so far.
    bytes: u64,
    /// Output bytes that could not be written.
    lost: u64,
    /// Whether the run's next output byte starts a line (timestamps on the
    /// single-run path).
    at_line_start: bool,
    /// While runs overlap: the run's unfinished line, prefix included.
    line: Vec<u8>,
    /// How many bytes at the start of `line` are prefix, not output.
    line_prefix: usize,
}

impl RunState {
    fn new(run_id: i64, tz: TimeZone) -> RunState {
        RunState {
            run_id,
            tz,
            bytes: 0,
            lost: 0,
            at_line_start: true,
            line: Vec::new(),
            line_prefix: 0,
        }
    }
}

/// The open log file.
#[derive(Debug)]
struct Output {
    file: File,
    /// Its size, tracked as we append (we are its only writer).
    size: u64,
    /// Whether it ends with a newline (or is empty).
    at_line_start: bool,
}

/// Bytes to write plus which of them are not job output.
#[derive(Debug, Default)]
struct Batch {
    buf: Vec<u8>,
    /// Sorted, disjoint `(start, end)` ranges of `buf` that are not output.
    overhead: Vec<(usize, usize)>,
}

impl Batch {
    fn clear(&mut self) {
        self.buf.clear();
        self.overhead.clear();
    }

    fn push_overhead(&mut self, bytes: &[u8]) {
        let start = self.buf.len();
        self.buf.extend_from_slice(bytes);
        match self.overhead.last_mut() {
            Some((_, end)) if *end == start => *end = self.buf.len(),
            _ => self.overhead.push((start, self.buf.len())),
        }
    }

    fn push_output(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn output_len(&self) -> u64 {
        output_in(&self.overhead, 0, self.buf.len())
    }
}

/// Output bytes in `buf[from..to]`, given the overhead ranges.
fn output_in(overhead: &[(usize, usize)], from: usize, to: usize) -> u64 {
    let over: usize = overhead
        .iter()
        .map(|&(s, e)| e.min(to).saturating_sub(s.max(from)))
        .sum();
    (to - from - over) as u64
}

/// How [`JobLog::emit`] may split a batch across files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// Never: a frame goes whole into one file.
    Never,
    /// Only after a newline (overlapping runs: a line must keep its prefix).
    AtNewline,
    /// Anywhere, preferring a newline close to the limit.
    Anywhere,
}

/// The log of one job. Not thread-safe by design: the daemon's log thread
/// owns every `JobLog`.
#[derive(Debug)]
pub struct JobLog {
    dir: PathBuf,
    job: String,
    settings: LogSettings,
    out: Option<Output>,
    /// Active runs, in the order they began.
    runs: Vec<RunState>,
    rotator: Rotator,
    /// Reused batch buffer.
    batch: Batch,
}

impl JobLog {
    /// A job's log in `dir`. Does no I/O: the file is opened at the first
    /// write.
    pub fn new(dir: PathBuf, job: String, settings: LogSettings) -> JobLog {
        JobLog {
            rotator: Rotator::new(dir.clone(), job.clone()),
            dir,
            job,
            settings,
            out: None,
            runs: Vec::new(),
            batch: Batch::default(),
        }
    }

    /// New settings after a reload; they apply from the next write.
    pub fn set_settings(&mut self, settings: LogSettings) {
        self.settings = settings;
    }

    /// `<dir>/<job>.log`.
    pub fn path(&self) -> PathBuf {
        log_path(&self.dir, &self.job)
    }

    /// The runs currently active, in the order they began.
    pub fn active_runs(&self) -> Vec<i64> {
        self.runs.iter().map(|r| r.run_id).collect()
    }

    /// The accounting so far of an active run.
    pub fn stats(&self, run_id: i64) -> Option<RunStats> {
        self.runs
            .iter()
            .find(|r| r.run_id == run_id)
            .map(|r| RunStats {
                bytes: r.bytes,
                lost: r.lost,
            })
    }

    /// Blocks until rotated files queued for gzip are compressed (shutdown,
    /// tests). The writer itself never waits for this.
    pub fn wait_for_compression(&mut self) {
        self.rotator.wait();
    }

    /// Writes the start frame and registers the run. The run is registered
    /// even when the frame cannot be written, so its output is still counted.
    pub fn begin(&mut self, start: &RunStart) -> Result<(), JobLogError> {
        let line = frame::start_line(
            start.run_id,
            start.trigger,
            start.scheduled_at.as_ref(),
            &start.started_at,
            start.pid,
            start.command,
        );
        let result = self.emit_frame(line.as_bytes());
        if self.run_index(start.run_id).is_none() {
            let tz = start.started_at.time_zone().clone();
            self.runs.push(RunState::new(start.run_id, tz));
        }
        result
    }

    /// A daemon remark inside the run's frame (`=== run N: TEXT`).
    pub fn note(&mut self, run_id: i64, text: &str) -> Result<(), JobLogError> {
        let result = self.emit_frame(frame::note_line(run_id, text).as_bytes());
        if let Some(i) = self.run_index(run_id)
            && self.runs.len() == 1
        {
            // The note ended the file's line; the run's output resumes at a
            // line start.
            self.runs[i].at_line_start = true;
        }
        result
    }

    /// Output bytes as read from the job's pipe, in chunks of any size.
    /// Bytes that cannot be written are counted as lost for the run, and the
    /// error returned; the next call tries again.
    pub fn write(&mut self, run_id: i64, data: &[u8]) -> Result<(), JobLogError> {
        if data.is_empty() {
            return Ok(());
        }
        let i = self.run_index_or_add(run_id);
        self.runs[i].bytes += data.len() as u64;
        let overlapping = self.runs.len() > 1;
        if !overlapping && !self.settings.timestamps {
            // The fast path: the caller's bytes, untouched.
            let (written, err) = self.emit(data, &[], Split::Anywhere);
            let run = &mut self.runs[i];
            run.lost += data.len() as u64 - written;
            if written > 0 {
                run.at_line_start = data.ends_with(b"\n");
            }
            return err.map_or(Ok(()), Err);
        }
        let mut batch = std::mem::take(&mut self.batch);
        batch.clear();
        let stamp = self
            .settings
            .timestamps
            .then(|| stamp_now(&self.runs[i].tz));
        let split = if overlapping {
            push_overlapping(&mut self.runs[i], data, stamp.as_deref(), &mut batch);
            Split::AtNewline
        } else {
            push_stamped(
                &mut self.runs[i],
                data,
                stamp.as_deref().unwrap_or(""),
                &mut batch,
            );
            Split::Anywhere
        };
        let result = self.emit_batch(&batch, i, split);
        self.batch = batch;
        result
    }

    /// Writes the end frame (after the unfinished line, if any, and a
    /// newline when the output did not end with one) and forgets the run.
    /// The stats are returned whatever happened; the error, if any, is the
    /// first one met.
    pub fn end(&mut self, end: &RunEnd) -> (RunStats, Option<JobLogError>) {
        let mut first_err = None;
        let Some(i) = self.run_index(end.run_id) else {
            let stats = RunStats {
                bytes: end.dropped,
                lost: end.dropped,
            };
            let line = end_frame(end, stats);
            return (stats, self.emit_frame(line.as_bytes()).err());
        };
        // Flush the run's unfinished line while it still counts as active.
        if !self.runs[i].line.is_empty()
            && let Err(e) = self.flush_line(i, true)
        {
            first_err.get_or_insert(e);
        }
        let run = self.runs.remove(i);
        let stats = RunStats {
            bytes: run.bytes + end.dropped,
            lost: run.lost + end.dropped,
        };
        let line = end_frame(end, stats);
        if let Err(e) = self.emit_frame(line.as_bytes()) {
            first_err.get_or_insert(e);
        }
        // Back to one run: its unfinished line goes out now (prefixed, as it
        // started while runs overlapped), and its output continues raw.
        if self.runs.len() == 1
            && !self.runs[0].line.is_empty()
            && let Err(e) = self.flush_line(0, false)
        {
            first_err.get_or_insert(e);
        }
        (stats, first_err)
    }

    fn run_index(&self, run_id: i64) -> Option<usize> {
        self.runs.iter().position(|r| r.run_id == run_id)
    }

    /// Output for a run that was never begun (a daemon bug, or `begin` was
    /// skipped) is still written and counted.
    fn run_index_or_add(&mut self, run_id: i64) -> usize {
        self.run_index(run_id).unwrap_or_else(|| {
            self.runs.push(RunState::new(run_id, TimeZone::system()));
            self.runs.len() - 1
        })
    }

    /// Writes run `i`'s pending line; `terminate` adds a newline (an
    /// overhead byte) after it.
    fn flush_line(&mut self, i: usize, terminate: bool) -> Result<(), JobLogError> {
        let run = &mut self.runs[i];
        let mut batch = std::mem::take(&mut self.batch);
        batch.clear();
        batch.push_overhead(&run.line[..run.line_prefix]);
        batch.push_output(&run.line[run.line_prefix..]);
        if terminate {
            batch.push_overhead(b"\n");
            run.at_line_start = true;
        } else {
            run.at_line_start = false;
        }
        run.line.clear();
        run.line_prefix = 0;
        let result = self.emit_batch(&batch, i, Split::AtNewline);
        self.batch = batch;
        result
    }

    /// Emits a batch of run `i`'s output and counts what did not make it.
    fn emit_batch(&mut self, batch: &Batch, i: usize, split: Split) -> Result<(), JobLogError> {
        let (written, err) = self.emit(&batch.buf, &batch.overhead, split);
        self.runs[i].lost += batch.output_len() - written;
        err.map_or(Ok(()), Err)
    }

    /// Writes a frame line, on its own line, whole, into one file.
    fn emit_frame(&mut self, line: &[u8]) -> Result<(), JobLogError> {
        let at_line_start = self.out.as_ref().is_none_or(|o| o.at_line_start);
        let (buf, over): (Vec<u8>, _) = if at_line_start {
            (line.to_vec(), vec![(0, line.len())])
        } else {
            let mut buf = Vec::with_capacity(line.len() + 1);
            buf.push(b'\n');
            buf.extend_from_slice(line);
            let len = buf.len();
            (buf, vec![(0, len)])
        };
        self.emit(&buf, &over, Split::Never).1.map_or(Ok(()), Err)
    }

    /// Writes `buf` to the log, rotating as needed. Returns the output bytes
    /// (per `overhead`) that reached a file that still exists, and the first
    /// error.
    fn emit(
        &mut self,
        buf: &[u8],
        overhead: &[(usize, usize)],
        split: Split,
    ) -> (u64, Option<JobLogError>) {
        let mut first_err: Option<JobLogError> = None;
        let mut pos = 0;
        // Where the part of `buf` in the current file begins (rewritten if
        // the file turns out to have been removed).
        let mut file_start = 0;
        let mut rewritten = false;
        let mut rotation_failed = false;
        // A file just rotated to takes at least one piece before the next
        // rotation, whatever its size, so rotation always makes progress.
        let mut fresh = false;
        let mut written_output = 0;
        while pos < buf.len() {
            if self.out.is_none() {
                match self.open("continued in a new log file") {
                    Ok(()) => file_start = pos,
                    Err(e) => {
                        first_err.get_or_insert(e);
                        break;
                    }
                }
            }
            let max = self.settings.max_size.max(1);
            let remaining = &buf[pos..];
            let size = self.out.as_ref().map_or(0, |o| o.size);
            let mut n = remaining.len();
            if !rotation_failed && size + n as u64 > max {
                let room = (max - size.min(max)) as usize;
                let cut = match split {
                    Split::Never => None,
                    Split::AtNewline => last_newline(&remaining[..room.min(n)], room),
                    Split::Anywhere => {
                        let at_line_start = self.out.as_ref().is_none_or(|o| o.at_line_start);
                        match last_newline(&remaining[..room], SPLIT_LOOKBACK) {
                            Some(cut) => Some(cut),
                            // The next line would straddle the limit: start
                            // it in the next file.
                            None if at_line_start && !fresh && size > 0 => None,
                            // Mid-line: finish the line if it ends soon,
                            // else cut at the limit.
                            None => {
                                let slack = (max as usize / 8).min(SPLIT_LOOKBACK);
                                let ext = &remaining[room..n.min(room + slack)];
                                Some(
                                    ext.iter()
                                        .position(|&b| b == b'\n')
                                        .map_or(room, |p| room + p + 1),
                                )
                            }
                        }
                    }
                };
                match cut {
                    Some(cut) if cut > 0 => n = cut,
                    _ if size == 0 || fresh => {
                        // Nothing fits, even in a new file: a frame goes
                        // whole, an overlapping run's line up to its end.
                        match split {
                            Split::Never => {}
                            Split::AtNewline => {
                                n = remaining
                                    .iter()
                                    .position(|&b| b == b'\n')
                                    .map_or(n, |p| p + 1);
                            }
                            Split::Anywhere => n = n.min(max as usize),
                        }
                    }
                    _ => {
                        match self.rotate() {
                            Ok(moved_err) => {
                                fresh = true;
                                file_start = pos;
                                if let Some(e) = moved_err {
                                    first_err.get_or_insert(e);
                                }
                            }
                            Err(e) => {
                                rotation_failed = true;
                                first_err.get_or_insert(e);
                            }
                        }
                        continue;
                    }
                }
            }
            let Some(out) = self.out.as_mut() else {
                continue; // rotated but not reopened: the loop opens it
            };
            let (w, err) = write_counting(&mut out.file, &remaining[..n]);
            if w > 0 {
                fresh = false;
                out.size += w as u64;
                out.at_line_start = remaining[w - 1] == b'\n';
            }
            written_output += output_in(overhead, pos, pos + w);
            pos += w;
            if let Some(e) = err {
                first_err.get_or_insert(JobLogError::io(self.path(), Op::Write, e));
                self.out = None;
                break;
            }
            if pos == buf.len() && !rewritten && self.file_was_removed() {
                // The bytes since `file_start` went to a file without a name.
                rewritten = true;
                written_output -= output_in(overhead, file_start, pos);
                pos = file_start;
                self.out = None;
            }
        }
        (written_output, first_err)
    }

    /// Whether the open file lost its last name (removed, or its directory
    /// was). An `fstat`; errors count as "removed" so the file is reopened.
    fn file_was_removed(&self) -> bool {
        self.out
            .as_ref()
            .is_some_and(|o| o.file.metadata().map_or(true, |m| m.nlink() == 0))
    }

    /// Ends the current file at a line boundary and rotates. `Err` when the
    /// current file could not be moved (writing goes on into it);
    /// `Ok(Some(e))` when it was, with something else to report. The new file
    /// is opened by the caller's next write.
    fn rotate(&mut self) -> Result<Option<JobLogError>, JobLogError> {
        if let Some(out) = self.out.as_mut()
            && !out.at_line_start
        {
            let (w, _) = write_counting(&mut out.file, b"\n");
            if w == 1 {
                out.size += 1;
                out.at_line_start = true;
            }
        }
        let report = self
            .rotator
            .rotate(self.settings.keep, self.settings.compress)?;
        self.out = None;
        if let Err(e) = self.open("continued after rotation") {
            return Ok(Some(e));
        }
        Ok(report)
    }

    /// Opens (creating it, and its directory, when missing) `<job>.log`. A
    /// new, empty file starts with a `note` line for each active run, so the
    /// reader can attribute their output even though their start frames are
    /// in another file (rotated, or removed with the old file).
    fn open(&mut self, note: &str) -> Result<(), JobLogError> {
        let path = self.path();
        let file = match open_append(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                DirBuilder::new()
                    .recursive(true)
                    .mode(0o750)
                    .create(&self.dir)
                    .map_err(|e| JobLogError::io(&self.dir, Op::CreateDir, e))?;
                open_append(&path)
            }
            other => other,
        };
        let mut file = file.map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => JobLogError::Symlink { path: path.clone() },
            _ => JobLogError::io(&path, Op::OpenAppend, e),
        })?;
        let meta = file
            .metadata()
            .map_err(|e| JobLogError::io(&path, Op::Stat, e))?;
        if !meta.file_type().is_file() {
            return Err(JobLogError::NotRegular { path });
        }
        let mut size = meta.len();
        let mut last = [0u8];
        let at_line_start =
            size == 0 || matches!(file.read_at(&mut last, size - 1), Ok(1) if last[0] == b'\n');
        if size == 0 && !self.runs.is_empty() {
            let mut notes = Vec::new();
            for run in &self.runs {
                notes.extend_from_slice(frame::note_line(run.run_id, note).as_bytes());
            }
            let (w, err) = write_counting(&mut file, &notes);
            size += w as u64;
            if let Some(e) = err {
                return Err(JobLogError::io(&path, Op::Write, e));
            }
        }
        self.out = Some(Output {
            file,
            size,
            at_line_start,
        });
        Ok(())
    }
}

/// `O_APPEND`, mode 0640 when created, never through a symlink, and never
/// blocking on a FIFO planted under the name (checked for regular-file-ness
/// right after).
fn open_append(path: &std::path::Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o640)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// `write_all` that says how much was written before an error.
fn write_counting(file: &mut File, mut buf: &[u8]) -> (usize, Option<io::Error>) {
    let mut done = 0;
    while !buf.is_empty() {
        match file.write(buf) {
            Ok(0) => return (done, Some(io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                done += n;
                buf = &buf[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (done, Some(e)),
        }
    }
    (done, None)
}

/// The length up to and including the last newline among the last
/// `lookback` bytes of `buf`.
fn last_newline(buf: &[u8], lookback: usize) -> Option<usize> {
    let from = buf.len().saturating_sub(lookback);
    buf[from..]
        .iter()
        .rposition(|&b| b == b'\n')
        .map(|i| from + i + 1)
}

/// The end frame line of `end` with its final byte counts.
fn end_frame(end: &RunEnd, stats: RunStats) -> String {
    frame::end_line(
        end.run_id,
        end.outcome,
        end.exit_code,
        end.signal,
        end.duration,
        stats.bytes,
        stats.lost,
    )
}

/// The timestamp prefix for lines read now.
fn stamp_now(tz: &TimeZone) -> String {
    let now = jiff::Timestamp::now().to_zoned_datetime(tz.clone());
    let mut s = frame::format_time_ms(&now);
    s.push(' ');
    s
}

/// Splits `data` into pieces that each end with a newline, except maybe the
/// last.
fn pieces(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split_inclusive(|&b| b == b'\n')
}

/// One run active, timestamps on: a prefix at each line start.
fn push_stamped(run: &mut RunState, data: &[u8], stamp: &str, batch: &mut Batch) {
    for piece in pieces(data) {
        if run.at_line_start {
            batch.push_overhead(stamp.as_bytes());
        }
        batch.push_output(piece);
        run.at_line_start = piece.ends_with(b"\n");
    }
}

/// Runs overlap: whole lines only, each prefixed `[run N] ` (and the
/// timestamp); the unfinished rest waits in the run's line buffer, which is
/// cut at [`MAX_LINE`].
fn push_overlapping(run: &mut RunState, data: &[u8], stamp: Option<&str>, batch: &mut Batch) {
    for mut piece in pieces(data) {
        while !piece.is_empty() {
            if run.line.is_empty() {
                run.line
                    .extend_from_slice(format!("[run {}] ", run.run_id).as_bytes());
                if let Some(stamp) = stamp {
                    run.line.extend_from_slice(stamp.as_bytes());
                }
                run.line_prefix = run.line.len();
            }
            let room = MAX_LINE - (run.line.len() - run.line_prefix);
            let take = piece.len().min(room);
            run.line.extend_from_slice(&piece[..take]);
            piece = &piece[take..];
            let complete = run.line.ends_with(b"\n");
            if complete || run.line.len() - run.line_prefix >= MAX_LINE {
                batch.push_overhead(&run.line[..run.line_prefix]);
                batch.push_output(&run.line[run.line_prefix..]);
                if !complete {
                    batch.push_overhead(b"\n");
                }
                run.line.clear();
                run.line_prefix = 0;
            }
        }
        run.at_line_start = run.line.is_empty();
    }
}
