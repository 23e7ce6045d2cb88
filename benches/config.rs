//! Loading a generated 10,000-job configuration: the budget is 200 ms in a
//! release build (parse, validate, merge defaults, parse every schedule).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use sundial::config::{Mode, load_str};

/// A file shaped like a large real one: defaults, and jobs that use a mix of
/// fields, zones and schedule forms.
fn generated_config(jobs: usize) -> String {
    let zones = ["Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo"];
    let schedules = [
        "*/5 * * * *",
        "30 2 * * *",
        "0 0 1,15 * mon",
        "@hourly",
        "@every 90s",
    ];
    let mut text = String::from(
        "timezone: Europe/Berlin\n\
         defaults:\n  timeout: 1h\n  env: { PATH: /usr/local/bin:/usr/bin:/bin, LANG: C.UTF-8 }\n  \
         log: { max_size: 10MiB, keep: 5 }\n\
         jobs:\n",
    );
    for i in 0..jobs {
        text.push_str(&format!(
            "  job-{i}:\n    description: Generated job {i}\n    schedule: \"{}\"\n    command: /usr/local/bin/task --id {i}\n    timezone: {}\n    retry: {{ attempts: 3, delay: 30s }}\n    env: {{ JOB_ID: {i} }}\n",
            schedules[i % schedules.len()],
            zones[i % zones.len()],
        ));
        if i % 3 == 0 {
            text.push_str("    limits: { nice: 10, memory: 1GiB }\n    overlap: queue\n");
        }
    }
    text
}

fn bench_load(c: &mut Criterion) {
    let text = generated_config(10_000);
    let path = Path::new("/etc/sundial/jobs.yaml");
    // Fail loudly rather than benchmark an error path.
    let config = load_str(&text, path, Mode::User).expect("the generated config is valid");
    assert_eq!(config.jobs.len(), 10_000);
    report_cpu_time(|| {
        let _ = load_str(&text, path, Mode::User);
    });
    let mut group = c.benchmark_group("config");
    group.sample_size(20);
    group.bench_function("load_str 10k jobs", |b| {
        b.iter(|| load_str(black_box(&text), path, Mode::User))
    });
    group.finish();
}

criterion_group!(benches, bench_load);
criterion_main!(benches);

/// Prints the median thread CPU time of a few loads. Criterion measures wall
/// time, which on a busy shared machine includes time spent waiting for a
/// CPU; the CPU time is the figure to compare with the 200 ms budget there.
fn report_cpu_time(mut load: impl FnMut()) {
    use nix::time::{ClockId, clock_gettime};
    let now = || {
        clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
            .map(std::time::Duration::from)
            .unwrap_or_default()
    };
    let mut times: Vec<_> = (0..9)
        .map(|_| {
            let start = now();
            load();
            now() - start
        })
        .collect();
    times.sort();
    eprintln!(
        "config/load_str 10k jobs: CPU time median {:?}, min {:?}",
        times[times.len() / 2],
        times[0]
    );
}
