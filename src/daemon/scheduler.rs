//! The deadline loop and the state of every job.
//!
//! # Theory of operation
//!
//! One task owns all scheduling state ([`Daemon`]); nothing else mutates it.
//! It sleeps on a single wall-clock timer armed for the earliest deadline (a
//! job's next fire, a jitter delay, a pending retry) and wakes only for that
//! timer, a clock change, a control request, a run ending, or a signal. Run
//! supervision happens in tasks of their own that report back through the
//! event channel, so a slow or chatty job never delays another's start.
//!
//! Lateness and clock jumps are one rule (issue 7): when the loop wakes and a
//! job's fires lie in the past, the newest of them still runs if it is at
//! most [`fires::LATE_GRACE`] old (recorded as late); older fires are missed
//! and follow the job's `catch_up`. After the clock is set back, each job
//! keeps its next fire, so nothing that already ran runs again.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::time::Duration;

use jiff::{Timestamp, ZonedDateTime};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::clock::{Wake, WallTimer};
use super::fires::{self, Due, MISSED_WALK_LIMIT};
use super::metrics::Metrics;
use super::notify::{Notice, Notifier};
use super::ratelimit::RateLimit;
use super::reaper::Reaper;
use super::runner::{self, CannotStart, Ended, StopReason};
use super::sinks::{Begin, DbSink, LogSink};
use super::{DaemonError, Setup, control};
use crate::config::{Config, Job, Overlap, WebhookEvent};
use crate::history::{FinishedRun, History, NewRun};
use crate::joblog::{RunEnd, RunStats};
use crate::protocol::{self, ErrorCode, Reply, ReplyBody, RequestBody};
use crate::run::{Outcome, Trigger};
use crate::schedule::Schedule;

/// Queued runs kept per job under `overlap: queue`; fires beyond are skipped.
const MAX_QUEUED_RUNS: usize = 16;
/// Retry delays double up to this (SPEC 9).
const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);
/// How long config-file events must settle before a reload (SPEC 9: a
/// change applies within 1 s).
const WATCH_DEBOUNCE: Duration = Duration::from_millis(300);

/// A run waiting to start.
#[derive(Debug, Clone)]
struct Pending {
    trigger: Trigger,
    scheduled_at: Option<Timestamp>,
    /// The first run of a retry chain.
    retry_of: Option<i64>,
    /// 0 for a first run, n for the n-th retry.
    attempt: u32,
    /// How late (or jittered) the start is relative to `scheduled_at`.
    delay_ms: Option<i64>,
}

/// A start deferred to a later instant (jitter, retry delay).
#[derive(Debug, Clone)]
struct Delayed {
    at: Timestamp,
    job: String,
    pending: Pending,
}

/// A run in progress.
struct Running {
    run_id: i64,
    pid: u32,
    started_at: ZonedDateTime,
    stop: mpsc::UnboundedSender<StopReason>,
    pending: Pending,
}

struct JobState {
    /// Shared with [`Daemon::listed`]: a job is held once, not once per
    /// index, which matters with thousands of jobs.
    job: Rc<Job>,
    /// The next scheduled fire; None for @reboot/@start/disabled jobs.
    next: Option<Timestamp>,
    running: Vec<Running>,
    queued: VecDeque<Pending>,
    /// Final failures in a row (retries that later succeeded do not count),
    /// for the recovery notification.
    failures: u32,
    /// Removed from the config by a reload; kept until its runs end.
    removed: bool,
}

/// What the loop hears from its tasks.
pub enum Event {
    Finished {
        job: String,
        run_id: i64,
        ended: Box<Ended>,
        stats: RunStats,
        ended_at: Timestamp,
    },
    Control {
        request: RequestBody,
        reply: mpsc::UnboundedSender<Reply>,
    },
}

pub struct Daemon {
    /// The loaded configuration without its `jobs`: those were moved into
    /// `listed` and `jobs`, so the daemon does not keep a second copy.
    config: Config,
    /// The configured jobs in the order the file lists them (for counts and
    /// "did you mean" lists); jobs removed by a reload are not here.
    listed: Vec<Rc<Job>>,
    paths: crate::paths::Paths,
    mode: crate::config::Mode,
    /// `@every` counts from here.
    started: Timestamp,
    started_mono: std::time::Instant,
    loaded_at: Timestamp,
    jobs: BTreeMap<String, JobState>,
    delayed: Vec<Delayed>,
    next_run_id: i64,
    reaper: Rc<Reaper>,
    log: LogSink,
    db: DbSink,
    events: mpsc::UnboundedSender<Event>,
    waiters: HashMap<i64, Vec<mpsc::UnboundedSender<Reply>>>,
    warnings: RateLimit,
    shutting_down: bool,
    stop_waiters: Vec<mpsc::UnboundedSender<Reply>>,
    /// None without `metrics:` in the config: nothing could read them, and
    /// they cost about 80 bytes a job.
    metrics: Option<Rc<Metrics>>,
    notifier: Notifier,
}

fn now() -> Timestamp {
    Timestamp::now()
}

/// Entry point from [`super::serve`]: set up, report readiness, loop, drain.
pub async fn run(setup: Setup) -> Result<(), DaemonError> {
    let Setup {
        config,
        paths,
        mode,
        lock,
        mut readiness,
        notify_systemd,
    } = setup;

    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::warn!(
            "cannot become a child subreaper ({e}); orphaned job processes will be reaped by init"
        );
    }
    let (events_tx, mut events_rx) = mpsc::unbounded_channel();
    let start = now();
    let Parts {
        listener,
        mut sigterm,
        mut sigint,
        mut sighup,
        mut timer,
        log,
        db,
        next_run_id,
        last_fires,
        metrics,
        failing,
    } = match set_up(&config, &paths, start) {
        Ok(parts) => parts,
        Err(e) => {
            if let Some(r) = readiness.take() {
                r.failed(crate::error::exit::FAILURE, &e.to_string());
            }
            return Err(e);
        }
    };

    let reaper = Rc::new(Reaper::default());
    {
        let reaper = reaper.clone();
        tokio::task::spawn_local(async move {
            if let Err(e) = reaper.run().await {
                tracing::error!("child reaper stopped: {e}");
            }
        });
    }
    tokio::task::spawn_local(control::serve(listener, events_tx.clone()));
    if let (Some(listener), Some(metrics)) = (
        config
            .metrics
            .as_ref()
            .and_then(|m| super::metrics::bind(m.listen)),
        &metrics,
    ) {
        tokio::task::spawn_local(super::metrics::serve(listener, metrics.clone()));
    }
    let (watch_tx, mut watch_rx) = mpsc::unbounded_channel();
    let _watch = if config.watch {
        match super::watch::watch(&config.path, watch_tx) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(
                    "cannot watch {} for changes ({e}); use `sundial reload` after editing it",
                    config.path.display()
                );
                None
            }
        }
    } else {
        drop(watch_tx);
        None
    };
    let notifier = Notifier {
        reaper: reaper.clone(),
        log: log.clone(),
        log_dir: paths.log_dir.clone(),
        sendmail: config.sendmail.clone(),
        mode,
    };

    let mut daemon = Daemon {
        config,
        listed: Vec::new(),
        paths,
        mode,
        started: start,
        started_mono: std::time::Instant::now(),
        loaded_at: start,
        jobs: BTreeMap::new(),
        delayed: Vec::new(),
        next_run_id,
        reaper,
        log,
        db,
        events: events_tx,
        waiters: HashMap::new(),
        warnings: RateLimit::new(Duration::from_secs(300)),
        shutting_down: false,
        stop_waiters: Vec::new(),
        metrics,
        notifier,
    };
    let jobs = std::mem::take(&mut daemon.config.jobs);
    daemon.listed.reserve_exact(jobs.len());
    for job in jobs {
        let job = Rc::new(job);
        daemon.listed.push(job.clone());
        daemon.add_job(job, start);
    }
    for name in failing {
        if let Some(state) = daemon.jobs.get_mut(&name) {
            state.failures = 1;
        }
    }
    tracing::info!(
        pid = std::process::id(),
        config = %daemon.config.path.display(),
        jobs = daemon.jobs.len(),
        "sundial started"
    );
    daemon.startup_runs(start, &last_fires);
    drop(last_fires);
    super::release_free_memory();

    if let Some(r) = readiness.take() {
        r.ready();
    }
    if notify_systemd {
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    }

    // An editor's save is several inotify events: reload once they settle.
    let mut reload_at: Option<tokio::time::Instant> = None;
    loop {
        if daemon.shutting_down && daemon.running_count() == 0 {
            break;
        }
        let deadline = if daemon.shutting_down {
            None
        } else {
            daemon.earliest_deadline()
        };
        if let Err(e) = timer.arm(deadline) {
            tracing::error!("cannot arm the timer: {e}");
        }
        tokio::select! {
            wake = timer.wait() => match wake {
                Ok(Wake::Deadline) => daemon.on_wake(now(), false),
                Ok(Wake::ClockChanged) => daemon.on_wake(now(), true),
                Err(e) => tracing::error!("timer failed: {e}"),
            },
            Some(event) = events_rx.recv() => daemon.on_event(event).await,
            _ = sigterm.recv() => daemon.begin_shutdown("SIGTERM"),
            _ = sigint.recv() => daemon.begin_shutdown("SIGINT"),
            _ = sighup.recv() => {
                tracing::info!("SIGHUP: reloading the configuration");
                daemon.reload();
            }
            Some(()) = watch_rx.recv() => {
                reload_at = Some(tokio::time::Instant::now() + WATCH_DEBOUNCE);
            }
            _ = sleep_until_opt(reload_at) => {
                reload_at = None;
                if !daemon.shutting_down {
                    tracing::info!("the config file changed; reloading");
                    daemon.reload();
                }
            }
        }
    }

    if notify_systemd {
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    }
    daemon.log.flush().await;
    daemon.db.flush().await;
    control::remove(&daemon.paths.runtime_dir);
    tracing::info!("sundial stopped");
    for w in daemon.stop_waiters.drain(..) {
        drop(w);
    }
    drop(lock);
    Ok(())
}

/// Everything the loop needs that can fail to set up; a failure is reported
/// to the waiting `sundial start` before the daemon exits.
struct Parts {
    listener: tokio::net::UnixListener,
    sigterm: tokio::signal::unix::Signal,
    sigint: tokio::signal::unix::Signal,
    sighup: tokio::signal::unix::Signal,
    timer: WallTimer,
    log: LogSink,
    db: DbSink,
    next_run_id: i64,
    last_fires: HashMap<String, Timestamp>,
    metrics: Option<Rc<Metrics>>,
    failing: Vec<String>,
}

fn set_up(
    config: &Config,
    paths: &crate::paths::Paths,
    start: Timestamp,
) -> Result<Parts, DaemonError> {
    let op = |op: &'static str| move |source| DaemonError::Setup { op, source };
    let listener = control::bind(&paths.runtime_dir)?;
    let sigterm = signal(SignalKind::terminate()).map_err(op("install signal handlers"))?;
    let sigint = signal(SignalKind::interrupt()).map_err(op("install signal handlers"))?;
    let sighup = signal(SignalKind::hangup()).map_err(op("install signal handlers"))?;
    let timer = WallTimer::new().map_err(op("create the wall-clock timer"))?;
    let startup = open_history(&paths.state_dir, config, start);
    let log = LogSink::start(paths.log_dir.clone()).map_err(op("start the log thread"))?;
    let db = DbSink::start(startup.history, paths.state_dir.clone())
        .map_err(op("start the history thread"))?;
    Ok(Parts {
        listener,
        sigterm,
        sigint,
        sighup,
        timer,
        log,
        db,
        next_run_id: startup.next_run_id,
        last_fires: startup.last_fires,
        metrics: startup.metrics,
        failing: startup.failing,
    })
}

/// What the daemon learns from its history at start.
struct Startup {
    history: Option<History>,
    /// The first run id to hand out.
    next_run_id: i64,
    /// Each job's newest scheduled fire, for catch-up.
    last_fires: HashMap<String, Timestamp>,
    /// Only when the config asks for a metrics endpoint.
    metrics: Option<Rc<Metrics>>,
    /// Jobs whose last run failed: their next success is a recovery, even
    /// across a daemon restart.
    failing: Vec<String>,
}

/// Open the history, close runs a dead daemon left open, and read what
/// startup needs. Failures are logged, never fatal: jobs run without history.
fn open_history(state_dir: &std::path::Path, config: &Config, start: Timestamp) -> Startup {
    let mut startup = Startup {
        history: None,
        // Ids from the clock cannot collide with the small ids a database
        // hands out, so history stays consistent once it is back.
        next_run_id: start.as_millisecond(),
        last_fires: HashMap::new(),
        metrics: config.metrics.is_some().then(|| Rc::new(Metrics::new())),
        failing: Vec::new(),
    };
    let history = match History::open(state_dir) {
        Ok(h) => h,
        Err(e) => {
            tracing::error!("run history unavailable, runs will not be recorded until it is: {e}");
            return startup;
        }
    };
    match history.close_interrupted(start) {
        Ok(ids) if !ids.is_empty() => {
            tracing::warn!(runs = ?ids, "closed runs left open by a daemon that died: outcome interrupted")
        }
        Ok(_) => {}
        Err(e) => tracing::error!("cannot close interrupted runs: {e}"),
    }
    match history.max_run_id() {
        Ok(id) => startup.next_run_id = id + 1,
        Err(e) => tracing::error!("cannot read the last run id: {e}"),
    }
    for job in &config.jobs {
        if let Ok(Some(t)) = history.last_scheduled_fire(&job.name) {
            startup.last_fires.insert(job.name.clone(), t);
        }
    }
    if let Some(metrics) = &startup.metrics {
        for job in &config.jobs {
            if let Ok(Some(t)) = history.last_success(&job.name) {
                metrics.set_last_success(&job.name, t);
            }
            metrics.declare(&job.name);
        }
        match history.outcome_counts() {
            Ok(counts) => metrics.seed(&counts),
            Err(e) => tracing::error!("cannot read run counts for metrics: {e}"),
        }
    }
    if let Ok(runs) = history.last_runs() {
        startup.failing = runs
            .into_iter()
            .filter(|(_, r)| r.outcome.is_failure())
            .map(|(job, _)| job)
            .collect();
    }
    startup.history = Some(history);
    startup
}

impl Daemon {
    fn running_count(&self) -> usize {
        self.jobs.values().map(|s| s.running.len()).sum()
    }

    fn add_job(&mut self, job: Rc<Job>, from: Timestamp) {
        let next = if job.enabled {
            fires::next_fire(&job, from, self.started)
        } else {
            None
        };
        let name = job.name.clone();
        match self.jobs.get_mut(&name) {
            Some(state) => {
                state.job = job;
                state.next = next;
                state.removed = false;
            }
            None => {
                self.jobs.insert(
                    name,
                    JobState {
                        job,
                        next,
                        running: Vec::new(),
                        queued: VecDeque::new(),
                        failures: 0,
                        removed: false,
                    },
                );
            }
        }
    }

    /// `@reboot`, `@start` and catch-up after downtime.
    fn startup_runs(&mut self, start: Timestamp, last_fires: &HashMap<String, Timestamp>) {
        let first_boot_start = reboot_marker(&self.paths.runtime_dir);
        let names: Vec<String> = self.jobs.keys().cloned().collect();
        for name in names {
            let job = &self.jobs[&name].job;
            if !job.enabled {
                continue;
            }
            let trigger = match job.schedule {
                Schedule::Start => Some(Trigger::Start),
                Schedule::Reboot if first_boot_start => Some(Trigger::Reboot),
                _ => None,
            };
            if let Some(trigger) = trigger {
                self.start_run(
                    &name,
                    Pending {
                        trigger,
                        scheduled_at: None,
                        retry_of: None,
                        attempt: 0,
                        delay_ms: None,
                    },
                    None,
                );
                continue;
            }
            let Some(last) = last_fires.get(&name) else {
                continue;
            };
            let (count, newest) = fires::missed(job, *last, start, self.started, MISSED_WALK_LIMIT);
            let Some(newest) = newest else { continue };
            if job.catch_up {
                tracing::info!(job = %name, missed = count, "catching up: running once for the newest missed fire");
                self.start_run(
                    &name,
                    Pending {
                        trigger: Trigger::CatchUp,
                        scheduled_at: Some(newest),
                        retry_of: None,
                        attempt: 0,
                        delay_ms: Some(start.duration_since(newest).as_millis() as i64),
                    },
                    None,
                );
            } else {
                tracing::info!(job = %name, missed = count, "fires missed while the daemon was down were skipped (catch_up is off)");
            }
        }
    }

    fn earliest_deadline(&self) -> Option<Timestamp> {
        let fires = self
            .jobs
            .values()
            .filter(|s| !s.removed)
            .filter_map(|s| s.next);
        let delayed = self.delayed.iter().map(|d| d.at);
        fires.chain(delayed).min()
    }

    /// The timer fired, or the clock was set: run what is due.
    fn on_wake(&mut self, now: Timestamp, clock_changed: bool) {
        if clock_changed {
            tracing::info!("the wall clock was set; recomputing fire times");
        }
        let names: Vec<String> = self
            .jobs
            .iter()
            .filter(|(_, s)| !s.removed && s.next.is_some_and(|n| n <= now))
            .map(|(n, _)| n.clone())
            .collect();
        for name in names {
            self.fire_due(&name, now);
        }
        // Deferred starts whose time has come.
        let (due, later): (Vec<Delayed>, Vec<Delayed>) =
            self.delayed.drain(..).partition(|d| d.at <= now);
        self.delayed = later;
        for d in due {
            if self.jobs.get(&d.job).is_some_and(|s| !s.removed) {
                self.start_run(&d.job, d.pending, None);
            }
        }
    }

    /// Fires of one job lie at or before `now`: run the newest if on time,
    /// otherwise apply `catch_up`, then move to the next fire after `now`.
    fn fire_due(&mut self, name: &str, now: Timestamp) {
        let Some(state) = self.jobs.get_mut(name) else {
            return;
        };
        let Some(first) = state.next else { return };
        let job = state.job.clone();
        state.next = fires::next_fire(&job, now, self.started);

        // A scheduled fire supersedes pending retries (SPEC 9).
        self.delayed
            .retain(|d| !(d.job == name && d.pending.trigger == Trigger::Retry));

        let pending = match fires::plan(&job, first, now, self.started) {
            Due::Run {
                trigger,
                scheduled_at,
                late,
                overdue,
            } => {
                if trigger == Trigger::CatchUp {
                    tracing::info!(job = %name, missed = overdue + 1, "fires were missed (clock jump or suspend); catching up once for the newest");
                } else if overdue > 0 {
                    tracing::warn!(job = %name, skipped = overdue, "fires were overdue; running once for the newest");
                }
                Some(Pending {
                    trigger,
                    scheduled_at: Some(scheduled_at),
                    retry_of: None,
                    attempt: 0,
                    delay_ms: Some(late.as_millis() as i64),
                })
            }
            Due::Missed { count } => {
                tracing::info!(job = %name, missed = count, "fires were missed (clock jump or suspend) and skipped: catch_up is off");
                None
            }
        };
        let Some(mut pending) = pending else { return };
        if let Some(jitter) = job.jitter.filter(|j| !j.is_zero()) {
            let delay = Duration::from_nanos(rand::random_range(0..jitter.as_nanos() as u64));
            pending.delay_ms = Some(pending.delay_ms.unwrap_or(0) + delay.as_millis() as i64);
            let at = now
                .checked_add(jiff::SignedDuration::try_from(delay).unwrap_or_default())
                .unwrap_or(now);
            self.delayed.push(Delayed {
                at,
                job: name.to_string(),
                pending,
            });
            return;
        }
        self.start_run(name, pending, None);
    }

    fn alloc_run_id(&mut self) -> i64 {
        let id = self.next_run_id;
        self.next_run_id += 1;
        id
    }

    /// Start a run now, honouring the overlap policy. Replies to `reply`
    /// (a `trigger` request) with the run id or why it did not start.
    fn start_run(
        &mut self,
        name: &str,
        pending: Pending,
        reply: Option<(&mpsc::UnboundedSender<Reply>, bool)>,
    ) {
        let Some(state) = self.jobs.get_mut(name) else {
            return;
        };
        if !state.running.is_empty() {
            match state.job.overlap {
                Overlap::Skip => {
                    let running: Vec<String> =
                        state.running.iter().map(|r| r.run_id.to_string()).collect();
                    let reason = format!(
                        "run {} is still running (overlap: skip)",
                        running.join(", ")
                    );
                    self.skip_fire(name, pending, reason, "skip", reply);
                    return;
                }
                Overlap::Queue => {
                    if state.queued.len() >= MAX_QUEUED_RUNS {
                        let reason =
                            format!("{MAX_QUEUED_RUNS} runs already queued (overlap: queue)");
                        self.skip_fire(name, pending, reason, "queue", reply);
                        return;
                    }
                    state.queued.push_back(pending);
                    tracing::info!(job = %name, queued = state.queued.len(), "previous run still running; queued (overlap: queue)");
                    if let Some((tx, _)) = reply {
                        // The run id is only known when it starts; tell the client it is queued.
                        let _ = tx.send(Reply::new(ReplyBody::Skipped {
                            run_id: 0,
                            reason: "queued behind the running run (overlap: queue)".into(),
                        }));
                    }
                    return;
                }
                Overlap::Allow => {}
                Overlap::Replace => {
                    for r in &state.running {
                        tracing::info!(job = %name, run_id = r.run_id, "replacing the running run (overlap: replace)");
                        let _ = r.stop.send(StopReason::Replaced);
                    }
                }
            }
        }
        let run_id = self.alloc_run_id();
        if let Some((tx, wait)) = reply {
            let _ = tx.send(Reply::new(ReplyBody::Started { run_id }));
            if wait {
                self.waiters.entry(run_id).or_default().push(tx.clone());
            }
        }
        self.spawn_run(name, run_id, pending);
    }

    /// A fire the overlap policy keeps from starting: recorded as a
    /// `skipped` run, warned about (rate-limited per job and policy), and
    /// answered to a waiting `trigger`.
    fn skip_fire(
        &mut self,
        name: &str,
        pending: Pending,
        reason: String,
        policy: &str,
        reply: Option<(&mpsc::UnboundedSender<Reply>, bool)>,
    ) {
        let run_id = self.alloc_run_id();
        if let Some(suppressed) = self.warnings.allow(&format!("{policy}:{name}")) {
            tracing::warn!(job = %name, run_id, suppressed, "{reason}; this fire is skipped");
        }
        self.record_unstarted(name, run_id, &pending, Outcome::Skipped);
        if let Some((tx, _)) = reply {
            let _ = tx.send(Reply::new(ReplyBody::Skipped { run_id, reason }));
        }
    }

    fn spawn_run(&mut self, name: &str, run_id: i64, pending: Pending) {
        let state = self.jobs.get_mut(name).expect("job exists");
        let job = &state.job;
        let tz = job.timezone.zone.clone();
        let started_at = ZonedDateTime::now().with_time_zone(tz.clone());
        let scheduled_at = pending
            .scheduled_at
            .map(|t| t.to_zoned_datetime(tz.clone()));
        let prepared = runner::prepare(job, self.mode, run_id);
        let spawned = prepared.and_then(|p| {
            let notes = p.notes.clone();
            runner::spawn(p, &self.reaper).map(|s| (s, notes))
        });
        let begin = Begin {
            job: name.to_string(),
            settings: job.log,
            run_id,
            trigger: pending.trigger,
            scheduled_at,
            started_at: started_at.clone(),
            pid: spawned.as_ref().ok().map(|(s, _)| s.pid),
            command: job.command.to_string(),
        };
        self.log.begin(begin);
        let new_run = NewRun {
            run_id,
            job: name.to_string(),
            trigger: pending.trigger,
            scheduled_at: pending.scheduled_at,
            started_at: started_at.timestamp(),
            retry_of: pending.retry_of,
            delay_ms: pending.delay_ms,
        };
        match spawned {
            Err(CannotStart(reason)) => {
                tracing::error!(job = %name, run_id, "cannot start: {reason}");
                self.log
                    .note(name, run_id, format!("cannot start: {reason}"));
                let log = self.log.clone();
                let events = self.events.clone();
                let job_name = name.to_string();
                let output = self.log.output(name, run_id);
                // Close the frame and record through the same path as a run
                // that ended, so notifications and waiters see it too.
                tokio::task::spawn_local(async move {
                    let ended = Ended {
                        outcome: Outcome::Error,
                        exit_code: None,
                        signal: None,
                        duration: Duration::ZERO,
                        output,
                        stopped: None,
                    };
                    let stats = log.end(&job_name, run_end(run_id, &ended)).await;
                    let _ = events.send(Event::Finished {
                        job: job_name,
                        run_id,
                        ended: Box::new(ended),
                        stats,
                        ended_at: now(),
                    });
                });
                self.db.start_run(new_run);
                state.running.push(Running {
                    run_id,
                    pid: 0,
                    started_at,
                    stop: mpsc::unbounded_channel().0,
                    pending,
                });
            }
            Ok((spawned, notes)) => {
                tracing::info!(job = %name, run_id, pid = spawned.pid, trigger = %pending.trigger, "run started");
                if let Some(m) = &self.metrics {
                    m.started(name, started_at.timestamp());
                }
                for n in notes {
                    self.log.note(name, run_id, n);
                }
                self.db.start_run(new_run);
                let (stop_tx, stop_rx) = mpsc::unbounded_channel();
                state.running.push(Running {
                    run_id,
                    pid: spawned.pid,
                    started_at,
                    stop: stop_tx,
                    pending,
                });
                let output = self.log.output(name, run_id);
                let (timeout, grace) = (job.timeout, job.kill_grace);
                let log = self.log.clone();
                let events = self.events.clone();
                let job_name = name.to_string();
                tokio::task::spawn_local(async move {
                    let ended = runner::supervise(spawned, output, timeout, grace, stop_rx).await;
                    let stats = log.end(&job_name, run_end(run_id, &ended)).await;
                    let _ = events.send(Event::Finished {
                        job: job_name,
                        run_id,
                        ended: Box::new(ended),
                        stats,
                        ended_at: now(),
                    });
                });
            }
        }
    }

    /// A row for a run that never started (skipped).
    fn record_unstarted(&mut self, name: &str, run_id: i64, pending: &Pending, outcome: Outcome) {
        let t = now();
        if let Some(m) = &self.metrics {
            m.finished(name, outcome, Duration::ZERO, t, false);
        }
        self.db.whole_run(
            NewRun {
                run_id,
                job: name.to_string(),
                trigger: pending.trigger,
                scheduled_at: pending.scheduled_at,
                started_at: t,
                retry_of: pending.retry_of,
                delay_ms: pending.delay_ms,
            },
            FinishedRun {
                run_id,
                outcome,
                exit_code: None,
                signal: None,
                ended_at: t,
                log_bytes: 0,
                log_lost_bytes: 0,
            },
        );
    }

    async fn on_event(&mut self, event: Event) {
        match event {
            Event::Finished {
                job,
                run_id,
                ended,
                stats,
                ended_at,
            } => self.on_finished(&job, run_id, *ended, stats, ended_at),
            Event::Control { request, reply } => self.on_request(request, reply),
        }
    }

    fn on_finished(
        &mut self,
        name: &str,
        run_id: i64,
        ended: Ended,
        stats: RunStats,
        ended_at: Timestamp,
    ) {
        let Some(state) = self.jobs.get_mut(name) else {
            return;
        };
        let Some(pos) = state.running.iter().position(|r| r.run_id == run_id) else {
            return;
        };
        let running = state.running.remove(pos);
        tracing::info!(
            job = %name,
            run_id,
            outcome = %ended.outcome,
            exit_code = ended.exit_code,
            signal = ended.signal,
            duration_ms = ended.duration.as_millis() as u64,
            bytes = stats.bytes,
            lost = stats.lost,
            "run ended"
        );
        self.db.finish_run(FinishedRun {
            run_id,
            outcome: ended.outcome,
            exit_code: ended.exit_code,
            signal: ended.signal,
            ended_at,
            log_bytes: stats.bytes,
            log_lost_bytes: stats.lost,
        });
        if let Some(waiters) = self.waiters.remove(&run_id) {
            let result = protocol::RunResult {
                run_id,
                outcome: ended.outcome.as_str().to_string(),
                exit_code: ended.exit_code,
                signal: ended.signal,
            };
            for w in waiters {
                let _ = w.send(Reply::new(ReplyBody::Finished(result.clone())));
            }
        }

        if let Some(m) = &self.metrics {
            m.finished(
                name,
                ended.outcome,
                ended.duration,
                ended_at,
                running.pid != 0,
            );
        }
        // Runs sundial stopped itself (overlap: replace, shutdown) are not
        // the job's failures: no retry, no notification, no change to its
        // failure streak.
        let stopped_by_us = ended.stopped.is_some() || self.shutting_down;
        let state = self.jobs.get_mut(name).expect("still there");
        let mut retrying = false;
        if ended.outcome.is_failure()
            && !stopped_by_us
            && let Some(retry) = state.job.retry
        {
            let attempt = running.pending.attempt + 1;
            if attempt <= retry.attempts {
                let factor = 1u32 << (attempt - 1).min(20);
                let delay = retry.delay.saturating_mul(factor).min(MAX_RETRY_DELAY);
                let at = ended_at
                    .checked_add(jiff::SignedDuration::try_from(delay).unwrap_or_default())
                    .unwrap_or(ended_at);
                tracing::info!(job = %name, run_id, attempt, delay_s = delay.as_secs(), "scheduling a retry");
                retrying = true;
                self.delayed.push(Delayed {
                    at,
                    job: name.to_string(),
                    pending: Pending {
                        trigger: Trigger::Retry,
                        scheduled_at: running.pending.scheduled_at,
                        retry_of: Some(running.pending.retry_of.unwrap_or(run_id)),
                        attempt,
                        delay_ms: None,
                    },
                });
            }
        }

        // Notifications act once, after the final attempt (SPEC 9). A
        // recovery is the first success after a failure that was announced.
        let final_failure = ended.outcome.is_failure() && !stopped_by_us && !retrying;
        let was_failing = state.failures > 0;
        let event = if final_failure {
            state.failures += 1;
            Some(WebhookEvent::Failure)
        } else if ended.outcome == Outcome::Ok {
            state.failures = 0;
            Some(if was_failing {
                WebhookEvent::Recovery
            } else {
                WebhookEvent::Success
            })
        } else {
            None
        };
        let job = &self.jobs[name].job;
        let wants = |e: WebhookEvent| {
            job.webhook
                .as_ref()
                .is_some_and(|w| super::notify::webhook_event(e, &w.on).is_some())
                || (e == WebhookEvent::Failure
                    && (job.on_failure.is_some() || !job.mail_to.is_empty()))
        };
        if let Some(event) = event.filter(|e| wants(*e)) {
            let notice = Notice {
                job: Job::clone(job),
                run_id,
                outcome: ended.outcome,
                exit_code: ended.exit_code,
                signal: ended.signal,
                scheduled_at: running.pending.scheduled_at,
                started_at: running.started_at.timestamp(),
                ended_at,
                event,
            };
            tokio::task::spawn_local(self.notifier.clone().dispatch(notice));
        }

        let state = self.jobs.get_mut(name).expect("still there");
        if state.removed && state.running.is_empty() {
            self.jobs.remove(name);
            return;
        }
        if !self.shutting_down
            && state.running.is_empty()
            && let Some(next) = state.queued.pop_front()
        {
            self.start_run(name, next, None);
        }
    }

    fn on_request(&mut self, request: RequestBody, reply: mpsc::UnboundedSender<Reply>) {
        match request {
            RequestBody::Status => {
                let _ = reply.send(Reply::new(ReplyBody::Status(self.status())));
            }
            RequestBody::Reload => {
                let body = self.reload();
                let _ = reply.send(Reply::new(body));
            }
            RequestBody::Trigger { job, wait } => {
                if self.shutting_down {
                    let _ = reply.send(Reply::error(
                        ErrorCode::Internal,
                        "the daemon is shutting down",
                    ));
                    return;
                }
                match self.jobs.get(&job) {
                    Some(s) if !s.removed => {
                        self.start_run(
                            &job,
                            Pending {
                                trigger: Trigger::Manual,
                                scheduled_at: None,
                                retry_of: None,
                                attempt: 0,
                                delay_ms: None,
                            },
                            Some((&reply, wait)),
                        );
                    }
                    _ => {
                        let names: Vec<&str> =
                            self.listed.iter().map(|j| j.name.as_str()).collect();
                        let _ = reply.send(Reply::error(
                            ErrorCode::UnknownJob,
                            crate::config::unknown_job_message(&job, &names),
                        ));
                    }
                }
            }
            RequestBody::Stop => {
                let _ = reply.send(Reply::new(ReplyBody::Stopping {
                    pid: std::process::id(),
                }));
                self.begin_shutdown("stop request");
            }
        }
    }

    fn status(&self) -> protocol::Status {
        let enabled = self.listed.iter().filter(|j| j.enabled).count();
        let mut running: Vec<protocol::RunningRun> = self
            .jobs
            .iter()
            .flat_map(|(name, s)| {
                s.running.iter().map(move |r| protocol::RunningRun {
                    job: name.clone(),
                    run_id: r.run_id,
                    started_at: crate::timefmt::rfc3339_ms(
                        r.started_at.timestamp(),
                        r.started_at.time_zone(),
                    ),
                })
            })
            .collect();
        running.sort_by_key(|r| r.run_id);
        let next = self
            .jobs
            .iter()
            .filter(|(_, s)| !s.removed)
            .filter_map(|(n, s)| s.next.map(|t| (t, n, &s.job)))
            .min_by_key(|(t, _, _)| *t);
        protocol::Status {
            pid: std::process::id(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            uptime_s: self.started_mono.elapsed().as_secs(),
            config: self.config.path.display().to_string(),
            config_loaded_at: self
                .loaded_at
                .to_zoned_datetime(self.config.timezone.zone.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string(),
            jobs: protocol::JobCounts {
                total: self.listed.len(),
                enabled,
                disabled: self.listed.len() - enabled,
            },
            running,
            next_fire: next.map(|(t, _, job)| crate::timefmt::rfc3339(t, &job.timezone.zone)),
            next_job: next.map(|(_, n, _)| n.clone()),
        }
    }

    /// Re-read the config. A bad file leaves everything as it was.
    fn reload(&mut self) -> ReplyBody {
        let body = self.load_and_apply();
        // A rejected file was parsed too: its tree is as large as an accepted one's.
        super::release_free_memory();
        body
    }

    fn load_and_apply(&mut self) -> ReplyBody {
        let mut new = match crate::config::load(&self.config.path, self.mode) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("reload rejected, the running configuration stays:\n{e}");
                return ReplyBody::ReloadRejected {
                    errors: e.to_string(),
                };
            }
        };
        let t = now();
        let mut added = Vec::new();
        let mut changed = Vec::new();
        let mut removed = Vec::new();
        for job in &new.jobs {
            match self.jobs.get(&job.name) {
                Some(s) if !s.removed && *s.job == *job => {}
                Some(s) if !s.removed => changed.push(job.name.clone()),
                _ => added.push(job.name.clone()),
            }
        }
        // Sets, not list searches: a reload of 10,000 jobs stays linear.
        let in_new: HashSet<&str> = new.jobs.iter().map(|j| j.name.as_str()).collect();
        for (name, s) in &self.jobs {
            if !s.removed && !in_new.contains(name.as_str()) {
                removed.push(name.clone());
            }
        }
        drop(in_new);
        let gone: HashSet<&String> = removed.iter().collect();
        self.delayed.retain(|d| !gone.contains(&d.job));
        for name in &removed {
            let state = self.jobs.get_mut(name).expect("listed");
            if state.running.is_empty() {
                self.jobs.remove(name);
            } else {
                state.removed = true;
                state.next = None;
                state.queued.clear();
            }
        }
        let jobs = std::mem::take(&mut new.jobs);
        let fresh: HashSet<&String> = added.iter().chain(&changed).collect();
        self.delayed.retain(|d| !fresh.contains(&d.job));
        self.listed = Vec::with_capacity(jobs.len());
        for job in jobs {
            let job = if fresh.contains(&job.name) {
                let job = Rc::new(job);
                self.add_job(job.clone(), t);
                job
            } else {
                self.jobs[&job.name].job.clone()
            };
            self.listed.push(job);
        }
        let dirs = |c: &Config| {
            (
                c.log_dir.clone(),
                c.state_dir.clone(),
                c.runtime_dir.clone(),
            )
        };
        if dirs(&new) != dirs(&self.config) {
            tracing::warn!(
                "log_dir, state_dir and runtime_dir changes take effect at the next start"
            );
        }
        self.notifier.sendmail = new.sendmail.clone();
        self.config = new;
        self.loaded_at = t;
        tracing::info!(?added, ?removed, ?changed, "configuration reloaded");
        ReplyBody::Reloaded {
            added,
            removed,
            changed,
        }
    }

    fn begin_shutdown(&mut self, why: &str) {
        if self.shutting_down {
            return;
        }
        self.shutting_down = true;
        let running = self.running_count();
        tracing::info!(
            running,
            "{why}: stopping; running jobs get SIGTERM, then SIGKILL after their kill_grace"
        );
        self.delayed.clear();
        for state in self.jobs.values_mut() {
            state.queued.clear();
            for r in &state.running {
                let _ = r.stop.send(StopReason::Shutdown);
            }
        }
    }
}

async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn run_end(run_id: i64, ended: &Ended) -> RunEnd {
    RunEnd {
        run_id,
        outcome: ended.outcome,
        exit_code: ended.exit_code,
        signal: ended.signal,
        duration: ended.duration,
        dropped: ended.output.dropped,
    }
}

/// Whether this is the first daemon start of this boot (for `@reboot`),
/// recording that it happened. The marker holds the kernel's boot id, so a
/// runtime dir that survives reboots (user mode without XDG_RUNTIME_DIR)
/// still tells boots apart.
fn reboot_marker(runtime_dir: &std::path::Path) -> bool {
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let marker = runtime_dir.join("reboot.done");
    let seen = std::fs::read_to_string(&marker).unwrap_or_default();
    if !boot_id.is_empty() && seen.trim() == boot_id {
        return false;
    }
    if let Err(e) = std::fs::write(&marker, format!("{boot_id}\n")) {
        tracing::warn!(
            "cannot write {}: {e}; @reboot jobs may run again at the next start",
            marker.display()
        );
    }
    true
}
