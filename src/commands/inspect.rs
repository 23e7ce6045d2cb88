//! `list`, `logs` and `history`: read the config, the job logs and the
//! history database directly, so they work whether or not a daemon runs.

use std::collections::HashMap;
use std::io::Write;

use jiff::Timestamp;
use serde::Serialize;

use crate::cli::LogsArgs;
use crate::config::{Config, Job};
use crate::daemon::fires;
use crate::error::{Failure, Result};
use crate::history::{History, RunRow};
use crate::joblog;
use crate::lockfile::{self, Holder};
use crate::paths::Paths;
use crate::timefmt;

use super::{Context, Style, find_job};

fn open_history(paths: &Paths) -> Result<Option<History>> {
    History::open_read_only(&paths.state_dir).map_err(|e| Failure::runtime(e.to_string()))
}

/// `@every` counts from the daemon's start; the pid file is written then.
fn daemon_started(paths: &Paths) -> Option<Timestamp> {
    if !matches!(lockfile::probe(&paths.runtime_dir), Ok(Holder::Running(_))) {
        return None;
    }
    let modified = std::fs::metadata(paths.runtime_dir.join(lockfile::PID_FILE))
        .ok()?
        .modified()
        .ok()?;
    Timestamp::try_from(modified).ok()
}

fn next_run(job: &Job, now: Timestamp, anchor: Option<Timestamp>) -> Option<Timestamp> {
    if !job.enabled {
        return None;
    }
    match &job.schedule {
        crate::schedule::Schedule::Every(_) => anchor.and_then(|a| fires::next_fire(job, now, a)),
        _ => fires::next_fire(job, now, now),
    }
}

#[derive(Serialize)]
struct ListEntry {
    name: String,
    schedule: String,
    timezone: String,
    enabled: bool,
    next_run: Option<String>,
    last_run: Option<String>,
    last_outcome: Option<String>,
    last_duration_ms: Option<u64>,
}

fn duration_ms(row: &RunRow) -> Option<u64> {
    let ended = row.ended_at?;
    Some(ended.duration_since(row.started_at).as_millis().max(0) as u64)
}

pub fn list(ctx: &Context, json: bool) -> Result<()> {
    let config = ctx.load_config()?;
    let paths = ctx.paths(Some(&config));
    let last: HashMap<String, RunRow> = match open_history(&paths)? {
        Some(h) => h.last_runs().map_err(|e| Failure::runtime(e.to_string()))?,
        None => HashMap::new(),
    };
    let now = Timestamp::now();
    let anchor = daemon_started(&paths);
    let entries: Vec<ListEntry> = config
        .jobs
        .iter()
        .map(|job| {
            let tz = &job.timezone.zone;
            let row = last.get(&job.name);
            ListEntry {
                name: job.name.clone(),
                schedule: job.schedule_text.clone(),
                timezone: job.timezone.name.clone(),
                enabled: job.enabled,
                next_run: next_run(job, now, anchor).map(|t| timefmt::rfc3339(t, tz)),
                last_run: row.map(|r| timefmt::rfc3339(r.started_at, tz)),
                last_outcome: row.map(|r| r.outcome.as_str().to_string()),
                last_duration_ms: row.and_then(duration_ms),
            }
        })
        .collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&entries).expect("serializes")
        );
        return Ok(());
    }
    if entries.is_empty() {
        println!("no jobs in {}", config.path.display());
        return Ok(());
    }
    let style = Style::stdout();
    let rows: Vec<Vec<String>> = config
        .jobs
        .iter()
        .zip(&entries)
        .map(|(job, _)| {
            let next = match (job.enabled, next_run(job, now, anchor)) {
                (false, _) => style.dim("disabled"),
                (true, Some(t)) => format!(
                    "{} ({})",
                    timefmt::human(&t.to_zoned_datetime(job.timezone.zone.clone())),
                    timefmt::relative(t, now)
                ),
                (true, None) => style.dim(match job.schedule {
                    crate::schedule::Schedule::Reboot => "at boot",
                    crate::schedule::Schedule::Start => "at daemon start",
                    _ => "when the daemon runs",
                }),
            };
            let row = last.get(&job.name);
            vec![
                job.name.clone(),
                job.schedule_text.clone(),
                job.timezone.name.clone(),
                next,
                row.map_or("-".into(), |r| timefmt::relative(r.started_at, now)),
                row.map_or("-".into(), |r| style.outcome(r.outcome.as_str())),
                row.and_then(duration_ms)
                    .map_or("-".into(), timefmt::duration_ms),
            ]
        })
        .collect();
    super::print_table(
        &["JOB", "SCHEDULE", "TZ", "NEXT", "LAST", "RESULT", "TOOK"],
        &rows,
        style,
    );
    Ok(())
}

pub fn logs(ctx: &Context, args: &LogsArgs) -> Result<()> {
    let config = ctx.load_config()?;
    find_job(&config, &args.job)?;
    let paths = ctx.paths(Some(&config));
    let dir = &paths.log_dir;
    let io = |e: joblog::JobLogError| Failure::runtime(e.to_string());
    let mut out = std::io::stdout().lock();
    let print = |out: &mut std::io::StdoutLock, bytes: &[u8]| {
        // A closed pipe (`sundial logs x | head`) is not an error to report.
        let _ = out.write_all(bytes);
        let _ = out.flush();
    };
    let run_id = match (args.run, args.last) {
        (Some(id), _) => Some(id),
        (None, true) => Some(
            joblog::last_run_id(dir, &args.job)
                .map_err(io)?
                .ok_or_else(|| {
                    Failure::runtime(format!(
                        "job '{}' has no output in {} yet",
                        args.job,
                        dir.display()
                    ))
                })?,
        ),
        (None, false) => None,
    };
    if let Some(id) = run_id {
        // Streamed: a run of any size comes back without being held in memory.
        let found = joblog::copy_run(dir, &args.job, id, &mut out).map_err(io)?;
        if !found {
            return Err(Failure::runtime(format!(
                "run {id} of '{}' is not in its logs (rotated away, or another job's run); see `sundial history {}`",
                args.job, args.job
            )));
        }
        let _ = out.flush();
        return Ok(());
    }
    if args.follow {
        if !dir.is_dir() {
            return Err(Failure::runtime(format!(
                "cannot follow '{}': the log directory {} does not exist yet; the daemon creates it when it starts (`sundial start`), or check `log_dir`/--log-dir",
                args.job,
                dir.display()
            )));
        }
        // Follow first, then print the tail up to where following starts:
        // output written in between is printed once, not lost.
        let mut follower = joblog::follow(dir, &args.job, true).map_err(io)?;
        let tail =
            joblog::tail_before(dir, &args.job, args.lines, follower.start_point()).map_err(io)?;
        print(&mut out, &tail);
        loop {
            let chunk = follower.next_chunk().map_err(io)?;
            print(&mut out, &chunk);
        }
    }
    let tail = joblog::tail(dir, &args.job, args.lines).map_err(io)?;
    print(&mut out, &tail);
    if tail.is_empty() && !joblog::log_files(dir, &args.job).iter().any(|p| p.exists()) {
        eprintln!(
            "sundial: job '{}' has no output in {} yet",
            args.job,
            dir.display()
        );
    }
    Ok(())
}

#[derive(Serialize)]
struct HistoryEntry {
    run_id: i64,
    job: String,
    trigger: String,
    scheduled_at: Option<String>,
    started_at: String,
    ended_at: Option<String>,
    outcome: String,
    exit_code: Option<i32>,
    signal: Option<i32>,
    retry_of: Option<i64>,
    log_bytes: u64,
    log_lost_bytes: u64,
    delay_ms: Option<i64>,
}

pub fn history(ctx: &Context, name: &str, limit: usize, json: bool) -> Result<()> {
    let config: Config = ctx.load_config()?;
    let job = find_job(&config, name)?;
    let paths = ctx.paths(Some(&config));
    let rows = match open_history(&paths)? {
        Some(h) => h
            .runs(name, limit)
            .map_err(|e| Failure::runtime(e.to_string()))?,
        None => Vec::new(),
    };
    let tz = &job.timezone.zone;
    if json {
        let entries: Vec<HistoryEntry> = rows
            .iter()
            .map(|r| HistoryEntry {
                run_id: r.run_id,
                job: r.job.clone(),
                trigger: r.trigger.as_str().to_string(),
                scheduled_at: r.scheduled_at.map(|t| timefmt::rfc3339_ms(t, tz)),
                started_at: timefmt::rfc3339_ms(r.started_at, tz),
                ended_at: r.ended_at.map(|t| timefmt::rfc3339_ms(t, tz)),
                outcome: r.outcome.as_str().to_string(),
                exit_code: r.exit_code,
                signal: r.signal,
                retry_of: r.retry_of,
                log_bytes: r.log_bytes,
                log_lost_bytes: r.log_lost_bytes,
                delay_ms: r.delay_ms,
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&entries).expect("serializes")
        );
        return Ok(());
    }
    if rows.is_empty() {
        println!("no runs of '{name}' recorded yet");
        return Ok(());
    }
    let style = Style::stdout();
    let now = Timestamp::now();
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let result = match (r.exit_code, r.signal) {
                (_, Some(sig)) => format!("signal {sig}"),
                (Some(c), _) => format!("exit {c}"),
                _ => "-".into(),
            };
            let mut lost = String::new();
            if r.log_lost_bytes > 0 {
                lost = format!(" ({} bytes of output lost)", r.log_lost_bytes);
            }
            vec![
                r.run_id.to_string(),
                r.trigger.as_str().to_string(),
                r.scheduled_at.map_or("-".into(), |t| {
                    timefmt::human(&t.to_zoned_datetime(tz.clone()))
                }),
                format!(
                    "{} ({})",
                    timefmt::human(&r.started_at.to_zoned_datetime(tz.clone())),
                    timefmt::relative(r.started_at, now)
                ),
                duration_ms(r).map_or("-".into(), timefmt::duration_ms),
                style.outcome(r.outcome.as_str()),
                format!("{result}{lost}"),
            ]
        })
        .collect();
    super::print_table(
        &[
            "RUN",
            "TRIGGER",
            "SCHEDULED",
            "STARTED",
            "TOOK",
            "OUTCOME",
            "EXIT",
        ],
        &table,
        style,
    );
    Ok(())
}
