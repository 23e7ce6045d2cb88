//! Fire-time arithmetic for the scheduler, kept free of I/O so tests can move
//! a fake clock through it: the next fire of a job, and the fires missed
//! between two instants (downtime, a clock jump).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::config::Job;
use crate::run::Trigger;
use crate::schedule::Schedule;

/// How late a fire may run after a wake-up (a suspend, a small clock step)
/// and still count as on time rather than missed (issue 7: 5 minutes).
pub const LATE_GRACE: Duration = Duration::from_secs(5 * 60);

/// The first fire of `job` strictly after `after`. `anchor` is the instant
/// `@every` intervals count from (the daemon's start).
pub fn next_fire(job: &Job, after: Timestamp, anchor: Timestamp) -> Option<Timestamp> {
    match &job.schedule {
        Schedule::Cron(_) => job
            .schedule
            .next_after(after, &job.timezone.zone)
            .map(|z| z.timestamp()),
        Schedule::Every(period) => next_every(*period, after, anchor),
        Schedule::Reboot | Schedule::Start => None,
    }
}

fn next_every(period: Duration, after: Timestamp, anchor: Timestamp) -> Option<Timestamp> {
    let period_ns = period.as_nanos() as i128;
    if period_ns == 0 {
        return None;
    }
    let since = after.as_nanosecond() - anchor.as_nanosecond();
    let k = if since < 0 { 0 } else { since / period_ns + 1 };
    Timestamp::from_nanosecond(anchor.as_nanosecond() + k * period_ns).ok()
}

/// What to do when the loop finds a job's fires at or before `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Start one run for `scheduled_at`; `overdue` older fires are dropped.
    Run {
        trigger: Trigger,
        scheduled_at: Timestamp,
        late: SignedDuration,
        overdue: u64,
    },
    /// Every due fire is older than the grace and `catch_up` is off.
    Missed { count: u64 },
}

/// The rule for due fires (issue 7), one place for a timer that fired on
/// time, a late wake-up, a suspend and a forward clock jump: the newest due
/// fire runs when it is at most [`LATE_GRACE`] old; otherwise it runs as a
/// catch-up when the job has `catch_up`, and is skipped when not.
///
/// `first` is the job's next fire as the loop knew it (at or before `now`).
pub fn plan(job: &Job, first: Timestamp, now: Timestamp, anchor: Timestamp) -> Due {
    let (more, newest) = missed(job, first, now, anchor, MISSED_WALK_LIMIT);
    let newest = newest.unwrap_or(first);
    let count = more + 1;
    let late = now.duration_since(newest);
    if late.unsigned_abs() <= LATE_GRACE {
        Due::Run {
            trigger: Trigger::Schedule,
            scheduled_at: newest,
            late,
            overdue: count - 1,
        }
    } else if job.catch_up {
        Due::Run {
            trigger: Trigger::CatchUp,
            scheduled_at: newest,
            late,
            overdue: count - 1,
        }
    } else {
        Due::Missed { count }
    }
}

/// Fires counted one by one when looking back over downtime; past this the
/// newest is found from the end.
pub const MISSED_WALK_LIMIT: u64 = 100_000;

/// Fires of `job` in `(from, to]`: how many, and the newest.
/// Stops counting at `limit` so a years-long gap in a per-second job costs a
/// bounded amount of work; the newest is then found from the end.
pub fn missed(
    job: &Job,
    from: Timestamp,
    to: Timestamp,
    anchor: Timestamp,
    limit: u64,
) -> (u64, Option<Timestamp>) {
    let mut count = 0;
    let mut newest = None;
    let mut t = from;
    while let Some(next) = next_fire(job, t, anchor) {
        if next > to {
            return (count, newest);
        }
        count += 1;
        newest = Some(next);
        t = next;
        if count >= limit {
            break;
        }
    }
    if count < limit {
        return (count, newest);
    }
    // Too many to walk: find the newest by stepping back from `to`.
    let mut back = SignedDuration::from_secs(60);
    loop {
        let start = to.checked_sub(back).unwrap_or(from).max(from);
        let mut last = None;
        let mut t = start;
        while let Some(next) = next_fire(job, t, anchor) {
            if next > to {
                break;
            }
            last = Some(next);
            t = next;
        }
        if last.is_some() || start == from {
            return (count, last.or(newest));
        }
        back = back.checked_mul(8).unwrap_or(back);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(yaml_job: &str) -> Job {
        let text = format!("timezone: UTC\njobs:\n  j:\n{yaml_job}");
        let config = crate::config::load_str(
            &text,
            std::path::Path::new("/t/jobs.yaml"),
            crate::config::Mode::User,
        )
        .expect("valid test config");
        config.jobs[0].clone()
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn on_time_fire_runs() {
        let j = job("    schedule: \"0 * * * *\"\n    command: x\n");
        let due = plan(
            &j,
            t("2026-01-01T10:00:00Z"),
            t("2026-01-01T10:00:00.002Z"),
            t("2026-01-01T00:00:00Z"),
        );
        assert_eq!(
            due,
            Due::Run {
                trigger: Trigger::Schedule,
                scheduled_at: t("2026-01-01T10:00:00Z"),
                late: SignedDuration::from_millis(2),
                overdue: 0
            }
        );
    }

    #[test]
    fn late_wake_within_grace_runs_late_once() {
        // Woken 4 minutes late (a suspend): the fire still runs, late.
        let j = job("    schedule: \"*/2 * * * *\"\n    command: x\n");
        let due = plan(
            &j,
            t("2026-01-01T10:00:00Z"),
            t("2026-01-01T10:04:00Z"),
            t("2026-01-01T00:00:00Z"),
        );
        assert_eq!(
            due,
            Due::Run {
                trigger: Trigger::Schedule,
                scheduled_at: t("2026-01-01T10:04:00Z"),
                late: SignedDuration::ZERO,
                overdue: 2
            }
        );
        let j = job("    schedule: \"0 * * * *\"\n    command: x\n");
        let due = plan(
            &j,
            t("2026-01-01T10:00:00Z"),
            t("2026-01-01T10:04:59Z"),
            t("2026-01-01T00:00:00Z"),
        );
        assert!(
            matches!(due, Due::Run { trigger: Trigger::Schedule, late, .. } if late.as_secs() == 299)
        );
    }

    #[test]
    fn jump_past_the_grace_follows_catch_up() {
        // The clock jumps forward three hours past three hourly fires.
        let off = job("    schedule: \"0 * * * *\"\n    command: x\n");
        let (first, now, anchor) = (
            t("2026-01-01T10:00:00Z"),
            t("2026-01-01T12:30:00Z"),
            t("2026-01-01T00:00:00Z"),
        );
        assert_eq!(plan(&off, first, now, anchor), Due::Missed { count: 3 });
        let on = job("    schedule: \"0 * * * *\"\n    command: x\n    catch_up: true\n");
        assert_eq!(
            plan(&on, first, now, anchor),
            Due::Run {
                trigger: Trigger::CatchUp,
                scheduled_at: t("2026-01-01T12:00:00Z"),
                late: SignedDuration::from_secs(1800),
                overdue: 2
            }
        );
    }

    #[test]
    fn missed_counts_are_bounded_for_dense_schedules() {
        // A per-second job after a week of downtime: counting stops at the
        // walk limit, and the newest fire is still exact.
        let j = job("    schedule: \"* * * * * *\"\n    command: x\n");
        let (n, newest) = missed(
            &j,
            t("2026-01-01T00:00:00Z"),
            t("2026-01-08T00:00:00Z"),
            t("2026-01-01T00:00:00Z"),
            1000,
        );
        assert_eq!(n, 1000);
        assert_eq!(newest, Some(t("2026-01-08T00:00:00Z")));
    }

    #[test]
    fn every_job_next_fire_uses_the_anchor() {
        let j = job("    schedule: \"@every 90s\"\n    command: x\n");
        let anchor = t("2026-01-01T00:00:00Z");
        assert_eq!(
            next_fire(&j, t("2026-01-01T00:02:00Z"), anchor),
            Some(t("2026-01-01T00:03:00Z"))
        );
        let r = job("    schedule: \"@reboot\"\n    command: x\n");
        assert_eq!(next_fire(&r, anchor, anchor), None);
    }

    #[test]
    fn every_counts_from_the_anchor() {
        let anchor: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let p = Duration::from_secs(90);
        assert_eq!(
            next_every(p, anchor, anchor),
            Some("2026-01-01T00:01:30Z".parse().unwrap())
        );
        let after: Timestamp = "2026-01-01T00:01:30Z".parse().unwrap();
        assert_eq!(
            next_every(p, after, anchor),
            Some("2026-01-01T00:03:00Z".parse().unwrap())
        );
        let before: Timestamp = "2025-12-31T23:00:00Z".parse().unwrap();
        assert_eq!(next_every(p, before, anchor), Some(anchor));
    }
}
