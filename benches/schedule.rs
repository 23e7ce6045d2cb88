//! `next_after` throughput (goal: >= 1,000,000 calls per second for
//! `*/5 * * * *`). Each iteration asks for the fire after the previous one,
//! as the daemon does, wrapping back to the start after a few years so the
//! instants stay in a realistic range.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use sundial::schedule::Schedule;

fn bench_next_after(c: &mut Criterion) {
    let start: Timestamp = "2026-01-01T00:00:00Z".parse().expect("instant");
    let wrap: Timestamp = "2029-01-01T00:00:00Z".parse().expect("instant");
    let berlin = TimeZone::get("Europe/Berlin").expect("zone");
    let cases = [
        ("*/5 * * * * UTC", "*/5 * * * *", TimeZone::UTC),
        ("*/5 * * * * Europe/Berlin", "*/5 * * * *", berlin.clone()),
        ("30 2 * * * Europe/Berlin", "30 2 * * *", berlin.clone()),
        ("0 0 29 2 * UTC", "0 0 29 2 *", TimeZone::UTC),
        ("0 0 1 * mon UTC", "0 0 1 * mon", TimeZone::UTC),
        ("*/10 * * * * * UTC", "*/10 * * * * *", TimeZone::UTC),
    ];
    for (name, expr, tz) in cases {
        let schedule = Schedule::parse(expr).expect("valid expression");
        let mut t = start;
        c.bench_function(name, |b| {
            b.iter(|| {
                let next = schedule
                    .next_after(black_box(t), &tz)
                    .map_or(start, |z| z.timestamp());
                t = if next >= wrap { start } else { next };
            })
        });
    }
}

fn bench_parse(c: &mut Criterion) {
    c.bench_function("parse 0 9-17/2,20 * jan-jun mon-fri", |b| {
        b.iter(|| Schedule::parse(black_box("0 9-17/2,20 * jan-jun mon-fri")))
    });
}

criterion_group!(benches, bench_next_after, bench_parse);
criterion_main!(benches);
