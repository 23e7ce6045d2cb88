//! The two threads that own the daemon's disk I/O: one writes job logs, one
//! writes run history.
//!
//! The scheduler thread never waits on a disk or on SQLite: starting a run
//! must not wait on disk, the database or another job. It hands messages to
//! these threads through channels and moves on. Queued output is bounded per
//! run and in total: a reader that finds too many bytes still queued drops
//! the next chunk and counts it as lost, so a job printing faster than the
//! disk writes can neither stall (its pipe keeps draining) nor grow the
//! daemon's memory.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::config::LogSettings;
use crate::history::{FinishedRun, History, NewRun};
use crate::joblog::{JobLog, RunEnd, RunStart, RunStats};
use crate::run::Trigger;

/// Bytes of one run's output that may wait for the log thread before new
/// output is dropped (and counted as lost).
pub const MAX_QUEUED_PER_RUN: u64 = 8 * 1024 * 1024;
/// Bytes of all runs' output that may wait for the log thread together, so
/// that many chatty runs at once cannot add up to unbounded memory either.
pub const MAX_QUEUED_TOTAL: u64 = 64 * 1024 * 1024;

/// What the log thread needs to open a run's frame.
pub struct Begin {
    pub job: String,
    pub settings: LogSettings,
    pub run_id: i64,
    pub trigger: Trigger,
    pub scheduled_at: Option<jiff::ZonedDateTime>,
    pub started_at: jiff::ZonedDateTime,
    pub pid: Option<u32>,
    pub command: String,
}

enum LogMsg {
    Begin(Box<Begin>),
    Note {
        job: String,
        run_id: i64,
        text: String,
    },
    Data {
        job: String,
        run_id: i64,
        bytes: Vec<u8>,
        queued: Arc<AtomicU64>,
        total: Arc<AtomicU64>,
    },
    End {
        job: String,
        end: RunEnd,
        reply: oneshot::Sender<RunStats>,
    },
    Flush(oneshot::Sender<()>),
}

/// The scheduler's handle on the log thread. Cheap to clone.
#[derive(Clone)]
pub struct LogSink {
    tx: mpsc::Sender<LogMsg>,
    /// Bytes queued by every run together.
    total: Arc<AtomicU64>,
}

/// One run's output channel into the log thread, with its queue accounting.
pub struct RunOutput {
    sink: LogSink,
    job: String,
    run_id: i64,
    queued: Arc<AtomicU64>,
    /// Bytes dropped because the queue was full.
    pub dropped: u64,
    /// Bytes the job printed.
    pub bytes: u64,
}

impl LogSink {
    /// Start the log thread. `dir` is the job log folder.
    pub fn start(dir: PathBuf) -> std::io::Result<LogSink> {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("sundial-joblog".into())
            .spawn(move || log_thread(dir, rx))?;
        Ok(LogSink {
            tx,
            total: Arc::new(AtomicU64::new(0)),
        })
    }

    pub fn begin(&self, begin: Begin) {
        let _ = self.tx.send(LogMsg::Begin(Box::new(begin)));
    }

    pub fn note(&self, job: &str, run_id: i64, text: impl Into<String>) {
        let _ = self.tx.send(LogMsg::Note {
            job: job.to_string(),
            run_id,
            text: text.into(),
        });
    }

    pub fn output(&self, job: &str, run_id: i64) -> RunOutput {
        RunOutput {
            sink: self.clone(),
            job: job.to_string(),
            run_id,
            queued: Arc::new(AtomicU64::new(0)),
            dropped: 0,
            bytes: 0,
        }
    }

    /// Close a run's frame; resolves with what was written and lost.
    pub async fn end(&self, job: &str, end: RunEnd) -> RunStats {
        let (reply, rx) = oneshot::channel();
        let dropped = end.dropped;
        let _ = self.tx.send(LogMsg::End {
            job: job.to_string(),
            end,
            reply,
        });
        rx.await.unwrap_or(RunStats {
            bytes: 0,
            lost: dropped,
        })
    }

    /// Wait until everything sent so far is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(LogMsg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

impl RunOutput {
    /// Queue a chunk, or drop and count it when the run's queue is full.
    pub fn push(&mut self, chunk: &[u8]) {
        let n = chunk.len() as u64;
        self.bytes += n;
        if self.queued.load(Ordering::Acquire) + n > MAX_QUEUED_PER_RUN
            || self.sink.total.load(Ordering::Acquire) + n > MAX_QUEUED_TOTAL
        {
            self.dropped += n;
            return;
        }
        self.queued.fetch_add(n, Ordering::AcqRel);
        self.sink.total.fetch_add(n, Ordering::AcqRel);
        let _ = self.sink.tx.send(LogMsg::Data {
            job: self.job.clone(),
            run_id: self.run_id,
            bytes: chunk.to_vec(),
            queued: self.queued.clone(),
            total: self.sink.total.clone(),
        });
    }
}

fn log_thread(dir: PathBuf, rx: mpsc::Receiver<LogMsg>) {
    crate::joblog::remove_stale_temps(&dir);
    let mut logs: HashMap<String, JobLog> = HashMap::new();
    let mut errors = crate::daemon::ratelimit::RateLimit::new(std::time::Duration::from_secs(60));
    let mut report = |job: &str, e: &dyn std::fmt::Display| {
        if let Some(suppressed) = errors.allow(job) {
            tracing::error!(job, suppressed, "job log: {e}");
        }
    };
    for msg in rx {
        match msg {
            LogMsg::Begin(b) => {
                let log = logs
                    .entry(b.job.clone())
                    .or_insert_with(|| JobLog::new(dir.clone(), b.job.clone(), b.settings));
                log.set_settings(b.settings);
                let start = RunStart {
                    run_id: b.run_id,
                    trigger: b.trigger,
                    scheduled_at: b.scheduled_at,
                    started_at: b.started_at,
                    pid: b.pid,
                    command: &b.command,
                };
                if let Err(e) = log.begin(&start) {
                    report(&b.job, &e);
                }
            }
            LogMsg::Note { job, run_id, text } => {
                if let Some(log) = logs.get_mut(&job)
                    && let Err(e) = log.note(run_id, &text)
                {
                    report(&job, &e);
                }
            }
            LogMsg::Data {
                job,
                run_id,
                bytes,
                queued,
                total,
            } => {
                if let Some(log) = logs.get_mut(&job)
                    && let Err(e) = log.write(run_id, &bytes)
                {
                    report(&job, &e);
                }
                queued.fetch_sub(bytes.len() as u64, Ordering::AcqRel);
                total.fetch_sub(bytes.len() as u64, Ordering::AcqRel);
            }
            LogMsg::End { job, end, reply } => {
                let stats = match logs.get_mut(&job) {
                    Some(log) => {
                        let (stats, err) = log.end(&end);
                        if let Some(e) = err {
                            report(&job, &e);
                        }
                        stats
                    }
                    None => RunStats {
                        bytes: 0,
                        lost: end.dropped,
                    },
                };
                let _ = reply.send(stats);
            }
            LogMsg::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// What the history thread is asked to do.
enum DbMsg {
    Start(NewRun),
    Finish(FinishedRun),
    Whole(NewRun, FinishedRun),
    Flush(oneshot::Sender<()>),
}

/// The scheduler's handle on the history thread.
#[derive(Clone)]
pub struct DbSink {
    tx: mpsc::Sender<DbMsg>,
}

impl DbSink {
    /// Start the history thread with an opened database, or without one when
    /// it could not be opened (runs still happen; the error was logged).
    pub fn start(db: Option<History>, path: PathBuf) -> std::io::Result<DbSink> {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("sundial-history".into())
            .spawn(move || db_thread(db, path, rx))?;
        Ok(DbSink { tx })
    }

    pub fn start_run(&self, run: NewRun) {
        let _ = self.tx.send(DbMsg::Start(run));
    }

    pub fn finish_run(&self, end: FinishedRun) {
        let _ = self.tx.send(DbMsg::Finish(end));
    }

    pub fn whole_run(&self, run: NewRun, end: FinishedRun) {
        let _ = self.tx.send(DbMsg::Whole(run, end));
    }

    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(DbMsg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

/// The most messages one transaction takes: enough for a burst of runs to
/// cost one commit, few enough that a flush is answered promptly.
const DB_BATCH: usize = 512;

fn db_thread(mut db: Option<History>, state_dir: PathBuf, rx: mpsc::Receiver<DbMsg>) {
    let mut errors = crate::daemon::ratelimit::RateLimit::new(std::time::Duration::from_secs(60));
    let mut batch = Vec::new();
    let mut flushed = Vec::new();
    while let Ok(first) = rx.recv() {
        batch.push(first);
        batch.extend(rx.try_iter().take(DB_BATCH - 1));
        if db.is_none() {
            // The database was unusable at start (locked, corrupt, disk
            // full): try again, so history resumes once the cause is gone.
            match History::open(&state_dir) {
                Ok(h) => {
                    tracing::info!(dir = %state_dir.display(), "run history is writable again");
                    db = Some(h);
                }
                Err(e) => {
                    if let Some(suppressed) = errors.allow("open") {
                        tracing::error!(suppressed, "run history not recorded: {e}");
                    }
                }
            }
        }
        match &db {
            Some(h) => {
                let written = h.batch(|h| write(h, &mut batch, &mut flushed, &mut errors));
                if let Err(e) = written {
                    // BEGIN failed: the writes are still queued, so each
                    // goes on its own, as far as it can. (A failed COMMIT
                    // has rolled them back; written alone, they would have
                    // failed the same way.)
                    if let Some(suppressed) = errors.allow("write") {
                        tracing::error!(suppressed, "cannot record run history: {e}");
                    }
                    write(h, &mut batch, &mut flushed, &mut errors);
                }
            }
            None => flushed.extend(batch.drain(..).filter_map(|m| match m {
                DbMsg::Flush(done) => Some(done),
                _ => None,
            })),
        }
        // Answered after the commit: a flush means "what came before is on disk".
        for done in flushed.drain(..) {
            let _ = done.send(());
        }
    }
}

/// Applies the queued messages (none left afterwards), keeping the flush
/// requests to answer once they are committed.
fn write(
    h: &History,
    batch: &mut Vec<DbMsg>,
    flushed: &mut Vec<oneshot::Sender<()>>,
    errors: &mut crate::daemon::ratelimit::RateLimit,
) {
    for msg in batch.drain(..) {
        let result = match msg {
            DbMsg::Flush(done) => {
                flushed.push(done);
                Ok(())
            }
            DbMsg::Start(run) => h.insert_run(&run),
            DbMsg::Finish(end) => h.finish_run(&end),
            DbMsg::Whole(run, end) => h.insert_finished(&run, &end),
        };
        if let Err(e) = result
            && let Some(suppressed) = errors.allow("write")
        {
            tracing::error!(suppressed, "cannot record run history: {e}");
        }
    }
}
