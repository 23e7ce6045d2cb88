//! `check`, `next`, `import-crontab`, `export`, `completions` and `man`:
//! commands that work on files and expressions alone.

use std::io::Read;
use std::path::Path;

use clap::CommandFactory;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::cli::{Cli, ExportArgs, ExportTarget, NextArgs};
use crate::config::Config;
use crate::daemon::fires;
use crate::error::{Failure, Result};
use crate::schedule::Schedule;
use crate::timefmt;

use super::{Context, Style, find_job};

/// `sundial check`: every error at once (exit 78), or a line per job.
pub fn check(ctx: &Context) -> Result<()> {
    let config: Config = ctx.load_config()?;
    let now = Timestamp::now();
    println!(
        "{}: ok, {} job{}",
        config.path.display(),
        config.jobs.len(),
        if config.jobs.len() == 1 { "" } else { "s" }
    );
    let style = Style::stdout();
    let rows: Vec<Vec<String>> = config
        .jobs
        .iter()
        .map(|job| {
            let next = if !job.enabled {
                style.dim("disabled")
            } else {
                match fires::next_fire(job, now, now) {
                    Some(t) if matches!(job.schedule, Schedule::Cron(_)) => format!(
                        "{} ({})",
                        timefmt::human(&t.to_zoned_datetime(job.timezone.zone.clone())),
                        timefmt::relative(t, now)
                    ),
                    _ => job.schedule.describe(),
                }
            };
            vec![job.name.clone(), job.schedule_text.clone(), next]
        })
        .collect();
    if !rows.is_empty() {
        super::print_table(&["JOB", "SCHEDULE", "NEXT"], &rows, style);
    }
    Ok(())
}

#[derive(Serialize)]
struct NextOutput {
    expression: String,
    timezone: String,
    description: String,
    fires: Vec<String>,
}

fn parse_from(text: &str, tz: &TimeZone) -> Result<Timestamp> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    // A civil time without offset is read in the chosen zone.
    text.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned_datetime(tz.clone()).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            Failure::usage(format!(
                "--from {text}: not a time; write RFC 3339 like 2026-06-30T00:00:00Z, or 2026-06-30T00:00 in the --tz zone"
            ))
        })
}

fn zone(name: &str) -> Result<TimeZone> {
    TimeZone::get(name).map_err(|_| {
        Failure::usage(format!(
            "unknown time zone '{name}'; use an IANA name like Europe/Berlin or UTC"
        ))
    })
}

/// `sundial next`.
pub fn next(ctx: &Context, args: &NextArgs) -> Result<()> {
    let (schedule, text, tz, tz_name) = match (&args.job, &args.expr) {
        (Some(name), _) => {
            let config = ctx.load_config()?;
            let job = find_job(&config, name)?;
            let (tz, tz_name) = match &args.tz {
                Some(n) => (zone(n)?, n.clone()),
                None => (job.timezone.zone.clone(), job.timezone.name.clone()),
            };
            (job.schedule.clone(), job.schedule_text.clone(), tz, tz_name)
        }
        (None, Some(expr)) => {
            let schedule = Schedule::parse(expr).map_err(|e| {
                let mut msg = format!("{expr}: {e}");
                if let Some(h) = &e.hint {
                    msg.push_str(&format!("\n  hint: {h}"));
                }
                Failure::usage(msg)
            })?;
            let (tz, tz_name) = match &args.tz {
                Some(n) => (zone(n)?, n.clone()),
                None => (
                    TimeZone::system(),
                    TimeZone::system()
                        .iana_name()
                        .unwrap_or("local")
                        .to_string(),
                ),
            };
            (schedule, expr.clone(), tz, tz_name)
        }
        (None, None) => return Err(Failure::usage("give an expression or --job NAME")),
    };
    let from = match &args.from {
        Some(f) => parse_from(f, &tz)?,
        None => Timestamp::now(),
    };
    let mut times = Vec::new();
    if let Schedule::Every(_) = schedule {
        // Intervals count from the daemon's start; show them from --from.
        let mut t = from;
        let anchor = from;
        for _ in 0..args.count {
            match schedule_every_next(&schedule, t, anchor) {
                Some(n) => {
                    times.push(n);
                    t = n;
                }
                None => break,
            }
        }
    } else {
        let mut t = from;
        for _ in 0..args.count {
            match schedule.next_after(t, &tz) {
                Some(z) => {
                    t = z.timestamp();
                    times.push(t);
                }
                None => break,
            }
        }
    }
    let description = schedule.describe();
    if args.json {
        let out = NextOutput {
            expression: text,
            timezone: tz_name,
            description,
            fires: times.iter().map(|t| timefmt::rfc3339(*t, &tz)).collect(),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("serializes")
        );
        return Ok(());
    }
    println!("{text}: {description} ({tz_name})");
    match schedule {
        Schedule::Reboot | Schedule::Start => {
            println!("  (no fire times: it runs on an event, not at a time)");
        }
        Schedule::Every(_) => {
            println!(
                "  counted from the daemon's start; shown as if it started at {}",
                timefmt::human(&from.to_zoned_datetime(tz.clone()))
            );
        }
        Schedule::Cron(_) => {}
    }
    for t in &times {
        println!("  {}", timefmt::human(&t.to_zoned_datetime(tz.clone())));
    }
    Ok(())
}

fn schedule_every_next(
    schedule: &Schedule,
    after: Timestamp,
    anchor: Timestamp,
) -> Option<Timestamp> {
    let Schedule::Every(period) = schedule else {
        return None;
    };
    let step = jiff::SignedDuration::try_from(*period).ok()?;
    let mut t = anchor.checked_add(step).ok()?;
    while t <= after {
        t = t.checked_add(step).ok()?;
    }
    Some(t)
}

/// `sundial import-crontab`.
pub fn import_crontab(file: Option<&Path>, system: bool) -> Result<()> {
    let (text, name) = match file {
        None => read_stdin()?,
        Some(p) if p == Path::new("-") => read_stdin()?,
        Some(p) => (
            std::fs::read_to_string(p)
                .map_err(|e| Failure::runtime(format!("cannot read {}: {e}", p.display())))?,
            p.display().to_string(),
        ),
    };
    let import = crate::crontab::import(&text, &name, system);
    print!("{}", import.yaml);
    if import.skipped.is_empty() {
        return Ok(());
    }
    for s in &import.skipped {
        eprintln!(
            "sundial: {name}:{}: skipped: {}\n    {}",
            s.line, s.reason, s.text
        );
    }
    Err(Failure::runtime(format!(
        "{} line{} of {name} could not be converted (listed above); the YAML printed holds the rest",
        import.skipped.len(),
        if import.skipped.len() == 1 { "" } else { "s" }
    )))
}

fn read_stdin() -> Result<(String, String)> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Failure::runtime(format!("cannot read standard input: {e}")))?;
    Ok((text, "<stdin>".into()))
}

/// `sundial export`: print the files (or write them with `--dir`), warn
/// about approximations, and fail when a job had to be left out.
pub fn export(ctx: &Context, args: &ExportArgs) -> Result<()> {
    let config = ctx.load_config()?;
    let jobs: Vec<&crate::config::Job> = if args.jobs.is_empty() {
        config.jobs.iter().collect()
    } else {
        args.jobs
            .iter()
            .map(|name| find_job(&config, name))
            .collect::<Result<_>>()?
    };
    let exported = match args.to {
        ExportTarget::Kubernetes => {
            crate::export::kubernetes(&jobs, &args.image, args.namespace.as_deref())
        }
        ExportTarget::Systemd => {
            let exe = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| "/usr/bin/sundial".into());
            crate::export::systemd(&jobs, args.user, &exe)
        }
    };
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Failure::runtime(format!("cannot create {}: {e}", dir.display())))?;
            for (name, contents) in &exported.files {
                let path = dir.join(name);
                std::fs::write(&path, contents).map_err(|e| {
                    Failure::runtime(format!("cannot write {}: {e}", path.display()))
                })?;
                eprintln!("sundial: wrote {}", path.display());
            }
        }
        None => {
            let many = exported.files.len() > 1;
            for (name, contents) in &exported.files {
                if many {
                    println!("# --- {name} ---");
                }
                print!("{contents}");
            }
        }
    }
    for w in &exported.warnings {
        eprintln!("sundial: warning: {w}");
    }
    for (job, reason) in &exported.refused {
        eprintln!("sundial: job '{job}' not exported: {reason}");
    }
    if exported.refused.is_empty() {
        Ok(())
    } else {
        Err(Failure::runtime(format!(
            "{} job{} could not be exported (listed above); the rest were",
            exported.refused.len(),
            if exported.refused.len() == 1 { "" } else { "s" }
        )))
    }
}

pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "sundial", &mut std::io::stdout());
    Ok(())
}

pub fn man() -> Result<()> {
    let cmd = Cli::command();
    clap_mangen::Man::new(cmd)
        .render(&mut std::io::stdout())
        .map_err(|e| Failure::runtime(format!("cannot write the man page: {e}")))
}
