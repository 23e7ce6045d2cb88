//! `sundial export`: jobs as Kubernetes CronJobs or systemd service and
//! timer units, for teams that outgrow one host (see `docs/scaling.md`).
//!
//! This module owns the translation only: pure functions from validated
//! [`Job`]s to file names and contents, plus the warnings and refusals a
//! user must read. Writing files and printing is the CLI's business.
//!
//! The one rule everything here follows: a job's meaning is never changed
//! silently. What the target expresses exactly is exported; what it
//! approximates is exported with a warning that says how; what it cannot
//! express (a schedule above all) is refused for that job with the reason,
//! and the other jobs are still exported.
//!
//! # Layout
//!
//! - [`calendar`](on_calendar): a [`Cron`] as systemd `OnCalendar=` lines,
//!   checked against sundial's own day rule before it is returned.
//! - `kubernetes`: `batch/v1` CronJobs, serialized with `serde-saphyr`.
//! - `systemd`: `.service` + `.timer` pairs.

mod calendar;
mod kubernetes;
mod systemd;

#[cfg(test)]
mod analyze_tests;

use std::time::Duration;

use crate::config::Job;
#[cfg(doc)]
use crate::schedule::Cron;

pub use calendar::on_calendar;
pub use kubernetes::kubernetes;
pub use systemd::systemd;

/// The result of an export: what to write, and what the user must know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exported {
    /// `(file name, contents)`, in job order. Kubernetes: one
    /// `cronjobs.yaml` holding a multi-document stream; systemd: a `.service`
    /// and a `.timer` per exported job.
    pub files: Vec<(String, String)>,
    /// Exported, but not with exactly sundial's behaviour; each names the
    /// job, what differs and what to do about it.
    pub warnings: Vec<String>,
    /// `(job, reason)` for jobs left out entirely.
    pub refused: Vec<(String, String)>,
}

/// A duration as whole seconds, rounded up so a timeout is never shortened.
fn whole_seconds(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// The fields of the expression as written, for messages (the macro text
/// itself for `@daily` and friends).
fn schedule_text(job: &Job) -> &str {
    job.schedule_text.trim()
}

#[cfg(test)]
pub(crate) mod test_jobs {
    //! Jobs built directly (the config loader lives elsewhere), with the
    //! same defaults a minimal `jobs.yaml` entry would get.

    use std::path::PathBuf;
    use std::time::Duration;

    use crate::config::{Command, Job, LogSettings, Overlap, Tz};
    use crate::schedule::Schedule;

    pub(crate) fn job(name: &str, schedule: &str, command: &str) -> Job {
        Job {
            name: name.to_string(),
            description: None,
            schedule: Schedule::parse(schedule).unwrap_or_else(|e| panic!("{schedule}: {e}")),
            schedule_text: schedule.to_string(),
            command: Command::Shell(command.to_string()),
            enabled: true,
            timezone: tz("UTC"),
            shell: PathBuf::from("/bin/sh"),
            workdir: None,
            user: None,
            group: None,
            env: Vec::new(),
            umask: 0o022,
            timeout: None,
            kill_grace: Duration::from_secs(10),
            overlap: Overlap::Skip,
            retry: None,
            jitter: None,
            catch_up: false,
            on_failure: None,
            mail_to: Vec::new(),
            webhook: None,
            log: LogSettings::default(),
            limits: Default::default(),
        }
    }

    pub(crate) fn tz(name: &str) -> Tz {
        Tz {
            name: name.to_string(),
            zone: jiff::tz::TimeZone::get(name).unwrap_or_else(|e| panic!("{name}: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_rounds_up() {
        assert_eq!(whole_seconds(Duration::from_secs(90)), 90);
        assert_eq!(whole_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(whole_seconds(Duration::ZERO), 0);
    }
}
