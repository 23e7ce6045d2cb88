//! Job log throughput against a plain `write_all` loop (what `cat > file`
//! does at best): `SUNDIAL_BENCH_MB` MiB (default 256) in 64 KiB chunks,
//! best of `SUNDIAL_BENCH_ROUNDS` (default 7) interleaved rounds, in
//! `SUNDIAL_BENCH_DIR` (default: a temporary dir under /dev/shm when it
//! exists, so the disk's writeback does not drown the CPU cost measured).
//!
//! `cargo bench --bench joblog`

use std::fs::File;
use std::io::Write;
use std::time::{Duration, Instant};

use sundial::config::LogSettings;
use sundial::joblog::{JobLog, RunEnd, RunStart};
use sundial::run::{Outcome, Trigger};

fn chunk() -> Vec<u8> {
    (0..64 * 1024)
        .map(|i| {
            if i % 80 == 79 {
                b'\n'
            } else {
                b'a' + (i % 26) as u8
            }
        })
        .collect()
}

fn plain(dir: &std::path::Path, total: usize, data: &[u8]) -> Duration {
    let path = dir.join("plain.out");
    let t = Instant::now();
    let mut f = File::create(&path).unwrap();
    let mut n = 0;
    while n < total {
        f.write_all(data).unwrap();
        n += data.len();
    }
    drop(f);
    let d = t.elapsed();
    std::fs::remove_file(path).unwrap();
    d
}

fn joblog(dir: &std::path::Path, total: usize, data: &[u8], settings: LogSettings) -> Duration {
    let logs = dir.join("logs");
    let t = Instant::now();
    let mut log = JobLog::new(logs.clone(), "bench".into(), settings);
    log.begin(&RunStart {
        run_id: 1,
        trigger: Trigger::Manual,
        scheduled_at: None,
        started_at: jiff::ZonedDateTime::now(),
        pid: Some(1),
        command: "bench",
    })
    .unwrap();
    let mut n = 0;
    while n < total {
        log.write(1, data).unwrap();
        n += data.len();
    }
    let (stats, err) = log.end(&RunEnd {
        run_id: 1,
        outcome: Outcome::Ok,
        exit_code: Some(0),
        signal: None,
        duration: t.elapsed(),
        dropped: 0,
    });
    assert!(err.is_none() && stats.lost == 0);
    let d = t.elapsed();
    std::fs::remove_dir_all(logs).unwrap();
    d
}

fn main() {
    let mb: usize = std::env::var("SUNDIAL_BENCH_MB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let rounds: usize = std::env::var("SUNDIAL_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let total = mb << 20;
    let data = chunk();
    let base_dir = std::env::var_os("SUNDIAL_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| Some(std::path::PathBuf::from("/dev/shm")).filter(|p| p.is_dir()))
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(&base_dir).unwrap();
    let cases = [
        (
            "no rotation",
            LogSettings {
                max_size: u64::MAX,
                keep: 1,
                compress: false,
                timestamps: false,
            },
        ),
        (
            "10MiB keep 5",
            LogSettings {
                max_size: 10 << 20,
                keep: 5,
                compress: false,
                timestamps: false,
            },
        ),
        (
            "timestamps",
            LogSettings {
                max_size: 10 << 20,
                keep: 5,
                compress: false,
                timestamps: true,
            },
        ),
    ];
    let rate = |d: Duration| total as f64 / d.as_secs_f64() / (1 << 20) as f64;
    // Interleave the runs and flush dirty pages before each one, so that
    // writeback of an earlier run does not throttle a later one.
    let mut base = Duration::MAX;
    let mut best = [Duration::MAX; 3];
    for _ in 0..rounds {
        for (i, (_, s)) in cases.iter().enumerate() {
            nix::unistd::sync();
            base = base.min(plain(dir.path(), total, &data));
            nix::unistd::sync();
            best[i] = best[i].min(joblog(dir.path(), total, &data, *s));
        }
    }
    println!(
        "{mb} MiB in 64 KiB chunks, best of {rounds}, in {}",
        base_dir.display()
    );
    println!("plain write_all: {:.0} MiB/s", rate(base));
    for (i, (name, _)) in cases.iter().enumerate() {
        println!(
            "joblog {name}: {:.0} MiB/s ({:.0}% of plain)",
            rate(best[i]),
            100.0 * base.as_secs_f64() / best[i].as_secs_f64()
        );
    }
}
