//! Fire-time arithmetic for the scheduler, kept free of I/O so tests can move
//! a fake clock through it: the next fire of a job, and the fires missed
//! between two instants (downtime, a clock jump).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::config::Job;
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
