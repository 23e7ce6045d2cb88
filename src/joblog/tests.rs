//! Writer and reader together: what the daemon writes, `sundial logs` reads.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use jiff::ZonedDateTime;

use super::frame::{self, Frame};
use super::*;
use crate::config::LogSettings;
use crate::run::{Outcome, Trigger};

fn settings(max_size: u64, keep: u32) -> LogSettings {
    LogSettings {
        max_size,
        keep,
        compress: false,
        timestamps: false,
    }
}

fn now() -> ZonedDateTime {
    "2026-11-25T10:00:00.003+01:00[Europe/Berlin]"
        .parse()
        .unwrap()
}

fn begin(log: &mut JobLog, run_id: i64) {
    log.begin(&RunStart {
        run_id,
        trigger: Trigger::Schedule,
        scheduled_at: Some("2026-11-25T10:00:00+01:00[Europe/Berlin]".parse().unwrap()),
        started_at: now(),
        pid: Some(1234),
        command: "echo hi",
    })
    .unwrap();
}

fn end_of(run_id: i64) -> RunEnd {
    RunEnd {
        run_id,
        outcome: Outcome::Ok,
        exit_code: Some(0),
        signal: None,
        duration: Duration::from_millis(1234),
        dropped: 0,
    }
}

fn end(log: &mut JobLog, run_id: i64) -> RunStats {
    let (stats, err) = log.end(&end_of(run_id));
    assert!(err.is_none(), "{err:?}");
    stats
}

/// The output lines of a run as `read_run` gives it: frames and notes
/// removed.
fn output_of(dir: &Path, job: &str, run_id: i64) -> Vec<u8> {
    let run = read_run(dir, job, run_id).unwrap().expect("run in the log");
    run.split_inclusive(|&b| b == b'\n')
        .filter(|l| frame::parse(l).is_none())
        .flatten()
        .copied()
        .collect()
}

/// Every file of the job, concatenated (decompressed), oldest first.
fn whole_stream(dir: &Path, job: &str) -> Vec<u8> {
    let mut all = Vec::new();
    for path in log_files(dir, job) {
        let bytes = fs::read(&path).unwrap();
        if path.extension().is_some_and(|e| e == "gz") {
            use std::io::Read;
            flate2::read::MultiGzDecoder::new(&bytes[..])
                .read_to_end(&mut all)
                .unwrap();
        } else {
            all.extend_from_slice(&bytes);
        }
    }
    all
}

/// Equality with a readable report: where the first difference is.
#[track_caller]
fn assert_same(got: &[u8], exp: &[u8]) {
    if got == exp {
        return;
    }
    let at = got.iter().zip(exp).take_while(|(a, b)| a == b).count();
    let ctx = |b: &[u8]| {
        String::from_utf8_lossy(&b[at.saturating_sub(80)..(at + 80).min(b.len())]).into_owned()
    };
    panic!(
        "differ at byte {at} (got {} bytes, expected {}):\n got: {:?}\n exp: {:?}",
        got.len(),
        exp.len(),
        ctx(got),
        ctx(exp)
    );
}

fn lines(n: usize, tag: &str) -> Vec<u8> {
    (0..n)
        .flat_map(|i| format!("{tag} line {i:05} some text to fill the line\n").into_bytes())
        .collect()
}

#[test]
fn framing_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("logs");
    let mut log = JobLog::new(d.clone(), "backup".into(), settings(1 << 20, 3));
    assert_eq!(log.path(), d.join("backup.log"));
    assert!(!d.exists(), "new() does no I/O");
    begin(&mut log, 42);
    log.note(42, "workdir /home/x does not exist; running in /")
        .unwrap();
    log.write(42, b"hello\nwor").unwrap();
    log.write(42, b"ld").unwrap();
    let stats = end(&mut log, 42);
    assert_eq!(stats, RunStats { bytes: 11, lost: 0 });

    let text = fs::read_to_string(d.join("backup.log")).unwrap();
    assert_eq!(
        text,
        "==> run 42 start: trigger=schedule scheduled=2026-11-25T10:00:00+01:00 \
         started=2026-11-25T10:00:00.003+01:00 pid=1234 command=echo hi\n\
         === run 42: workdir /home/x does not exist; running in /\n\
         hello\nworld\n\
         <== run 42 end: outcome=ok exit=0 duration=1.234s bytes=11 lost=0\n"
    );
    let frames: Vec<Frame> = text
        .lines()
        .filter_map(|l| frame::parse(l.as_bytes()))
        .collect();
    assert_eq!(frames.len(), 3);
    assert!(matches!(&frames[0], Frame::Start(s) if s.run_id == 42 && s.pid == Some(1234)));
    assert!(
        matches!(&frames[2], Frame::End(e) if e.bytes == Some(11) && e.outcome == Some(Outcome::Ok))
    );
    assert_eq!(
        read_run(&d, "backup", 42).unwrap().unwrap(),
        text.as_bytes()
    );
    assert_eq!(read_run(&d, "backup", 41).unwrap(), None);
    assert_eq!(last_run_id(&d, "backup").unwrap(), Some(42));

    let dir_mode = fs::metadata(&d).unwrap().mode() & 0o777;
    let file_mode = fs::metadata(d.join("backup.log")).unwrap().mode() & 0o777;
    assert_eq!((dir_mode, file_mode & !0o022), (0o750, 0o640 & !0o022));
}

#[test]
fn killed_run_and_dropped_bytes_in_end_frame() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = JobLog::new(dir.path().into(), "j".into(), settings(1 << 20, 3));
    begin(&mut log, 1);
    log.write(1, b"abc").unwrap();
    let (stats, err) = log.end(&RunEnd {
        run_id: 1,
        outcome: Outcome::Killed,
        exit_code: None,
        signal: Some(15),
        duration: Duration::from_secs(2),
        dropped: 10,
    });
    assert!(err.is_none());
    assert_eq!(
        stats,
        RunStats {
            bytes: 13,
            lost: 10
        }
    );
    let text = fs::read_to_string(dir.path().join("j.log")).unwrap();
    assert!(
        text.ends_with("abc\n<== run 1 end: outcome=killed signal=15 (SIGTERM) duration=2.000s bytes=13 lost=10\n"),
        "{text}"
    );
}

#[test]
fn read_run_across_rotation_and_lost_start_frame() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut log = JobLog::new(d.into(), "j".into(), settings(2048, 50));
    for run in 1..=3 {
        begin(&mut log, run);
        let out = lines(100, &format!("run{run}"));
        for chunk in out.chunks(700) {
            log.write(run, chunk).unwrap();
        }
        end(&mut log, run);
    }
    let files = log_files(d, "j");
    assert!(files.len() > 5, "{files:?}");
    for run in 1..=3 {
        assert_same(&output_of(d, "j", run), &lines(100, &format!("run{run}")));
    }
    // Every file but the current one ends at a line boundary and stays near
    // the limit.
    for f in &files {
        let bytes = fs::read(f).unwrap();
        assert!(bytes.ends_with(b"\n"), "{f:?}");
        assert!(bytes.len() <= 2048 + 200, "{f:?}: {}", bytes.len());
    }
    assert_eq!(last_run_id(d, "j").unwrap(), Some(3));

    // With few files kept, run 1's start frame is gone, yet its remaining
    // output is found through the "continued" notes.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut log = JobLog::new(d.into(), "j".into(), settings(2048, 2));
    begin(&mut log, 1);
    let out = lines(300, "one");
    log.write(1, &out).unwrap();
    end(&mut log, 1);
    let got = output_of(d, "j", 1);
    assert!(
        !got.is_empty() && out.ends_with(&got),
        "{}",
        String::from_utf8_lossy(&got)
    );
    assert!(
        !read_run(d, "j", 1)
            .unwrap()
            .unwrap()
            .starts_with(b"==> run 1 start")
    );
}

#[test]
fn read_run_across_gz_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut s = settings(4096, 20);
    s.compress = true;
    let mut log = JobLog::new(d.into(), "z".into(), s);
    for run in 1..=4 {
        begin(&mut log, run);
        for chunk in lines(150, &format!("r{run}")).chunks(1000) {
            log.write(run, chunk).unwrap();
        }
        end(&mut log, run);
    }
    log.wait_for_compression();
    let files = log_files(d, "z");
    let gz = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "gz"))
        .count();
    assert_eq!(gz, files.len() - 1, "{files:?}");
    for run in 1..=4 {
        assert_same(&output_of(d, "z", run), &lines(150, &format!("r{run}")));
    }
    // No temporary files left.
    assert!(
        fs::read_dir(d).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with('.'))
    );
    assert_eq!(last_run_id(d, "z").unwrap(), Some(4));
    // tail reads through the gz files too.
    let stream = whole_stream(d, "z");
    let expected: Vec<u8> = last_lines(&stream, 400);
    assert_eq!(tail(d, "z", 400).unwrap(), expected);
}

#[test]
fn corrupt_gz_is_skipped_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("j.log.2.gz"), b"\x1f\x8b\x08\x00garbage garbage").unwrap();
    fs::write(
        d.join("j.log.1"),
        b"==> run 5 start: trigger=manual\nfive\n",
    )
    .unwrap();
    fs::write(d.join("j.log"), b"<== run 5 end: outcome=ok\n").unwrap();
    let run = read_run(d, "j", 5).unwrap().unwrap();
    assert_eq!(
        run,
        b"==> run 5 start: trigger=manual\nfive\n<== run 5 end: outcome=ok\n"
    );
    assert_eq!(last_run_id(d, "j").unwrap(), Some(5));
    assert_eq!(tail(d, "j", 10).unwrap(), run);
    // Truncated frames and garbage lines are just output.
    fs::write(d.join("k.log"), b"==> run\n<== run 9 en\n\xff\xfe[run 3\n").unwrap();
    assert_eq!(read_run(d, "k", 9).unwrap(), None);
    assert_eq!(last_run_id(d, "k").unwrap(), None);
}

#[test]
fn rotation_bound_with_a_flood() {
    for (compress, newlines) in [(false, true), (false, false), (true, true)] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let max = 4096;
        let keep = 3;
        let mut s = settings(max, keep);
        s.compress = compress;
        let mut log = JobLog::new(d.into(), "flood".into(), s);
        begin(&mut log, 1);
        let chunk: Vec<u8> = if newlines {
            lines(64 * 1024 / 48, "x")
        } else {
            vec![b'y'; 64 * 1024]
        };
        let mut total = 0;
        while total < 4 << 20 {
            log.write(1, &chunk).unwrap();
            total += chunk.len();
        }
        let stats = end(&mut log, 1);
        assert_eq!(
            stats,
            RunStats {
                bytes: total as u64,
                lost: 0
            }
        );
        log.wait_for_compression();
        let files: Vec<_> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(files.len() <= keep as usize + 1, "{files:?}");
        let mut sum = 0;
        for f in &files {
            let len = fs::metadata(f).unwrap().len();
            assert!(len <= max + 200, "{f:?} is {len} bytes");
            sum += len;
        }
        assert!(sum <= (max + 200) * (keep as u64 + 1), "{sum}");
    }
}

#[test]
fn huge_single_write_is_split_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let max = 64 * 1024;
    let mut log = JobLog::new(d.into(), "big".into(), settings(max, 100));
    begin(&mut log, 1);
    let data: Vec<u8> = (0..1_000_000u32)
        .map(|i| b"abcdefghij\n"[(i % 11) as usize])
        .collect();
    log.write(1, &data).unwrap();
    end(&mut log, 1);
    let files = log_files(d, "big");
    assert!(files.len() >= 15, "{}", files.len());
    for f in &files {
        assert!(fs::metadata(f).unwrap().len() <= max + 200);
    }
    // The output did not end with a newline; the end frame's line adds one.
    let mut expected = data.clone();
    expected.push(b'\n');
    assert_same(&output_of(d, "big", 1), &expected);
}

#[test]
fn interleaved_runs_are_demultiplexed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut log = JobLog::new(d.into(), "o".into(), settings(1 << 20, 3));
    begin(&mut log, 1);
    log.write(1, b"a1\n").unwrap();
    begin(&mut log, 2);
    log.write(1, b"x").unwrap();
    log.write(2, b"y1\ny").unwrap();
    log.write(1, b"x2\n").unwrap();
    log.write(2, b"2\n").unwrap();
    log.write(2, b"no newline at the end").unwrap();
    assert_eq!(end(&mut log, 2), RunStats { bytes: 27, lost: 0 });
    log.write(1, b"z\n").unwrap();
    end(&mut log, 1);
    let text = fs::read_to_string(d.join("o.log")).unwrap();
    assert!(
        text.contains("\n[run 2] y1\n[run 1] xx2\n[run 2] y2\n"),
        "{text}"
    );
    assert!(text.contains("\nz\n<== run 1 end"), "{text}");
    assert_eq!(output_of(d, "o", 1), b"a1\nxx2\nz\n");
    assert_eq!(output_of(d, "o", 2), b"y1\ny2\nno newline at the end\n");
}

#[test]
fn overlong_lines_while_overlapping_are_cut() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut log = JobLog::new(d.into(), "o".into(), settings(1 << 30, 3));
    begin(&mut log, 1);
    begin(&mut log, 2);
    let long = vec![b'q'; writer::MAX_LINE * 3 + 5];
    for chunk in long.chunks(10_000) {
        log.write(1, chunk).unwrap();
    }
    log.write(1, b"\n").unwrap();
    end(&mut log, 2);
    end(&mut log, 1);
    let out = output_of(d, "o", 1);
    assert_eq!(out.iter().filter(|&&b| b == b'q').count(), long.len());
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 4);
}

#[test]
fn timestamps_prefix_each_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut s = settings(1 << 20, 3);
    s.timestamps = true;
    let mut log = JobLog::new(d.into(), "t".into(), s);
    begin(&mut log, 1);
    log.write(1, b"a\nb").unwrap();
    log.write(1, b"c\n").unwrap();
    begin(&mut log, 2);
    log.write(2, b"d\n").unwrap();
    let stats = end(&mut log, 2);
    assert_eq!(stats.bytes, 2);
    assert_eq!(end(&mut log, 1), RunStats { bytes: 5, lost: 0 });
    let out = output_of(d, "t", 1);
    let text = String::from_utf8(out).unwrap();
    let got: Vec<(&str, &str)> = text.lines().map(|l| l.split_once(' ').unwrap()).collect();
    assert_eq!(got.len(), 2, "{text}");
    for (stamp, _) in &got {
        assert!(stamp.parse::<jiff::Timestamp>().is_ok(), "{stamp}");
        // The run's zone (Europe/Berlin), millisecond precision.
        assert!(
            stamp.len() == "2026-11-25T10:00:00.003+01:00".len(),
            "{stamp}"
        );
    }
    assert_eq!(got.iter().map(|g| g.1).collect::<Vec<_>>(), ["a", "bc"]);
    let raw = fs::read_to_string(d.join("t.log")).unwrap();
    let line = raw.lines().find(|l| l.starts_with("[run 2] ")).unwrap();
    let (stamp, rest) = line["[run 2] ".len()..].split_once(' ').unwrap();
    assert!(
        stamp.parse::<jiff::Timestamp>().is_ok() && rest == "d",
        "{line}"
    );
}

#[test]
fn a_planted_symlink_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let target = d.join("precious");
    fs::write(&target, b"keep me").unwrap();
    std::os::unix::fs::symlink(&target, d.join("j.log")).unwrap();
    let mut log = JobLog::new(d.into(), "j".into(), settings(1 << 20, 3));
    let err = log
        .begin(&RunStart {
            run_id: 1,
            trigger: Trigger::Manual,
            scheduled_at: None,
            started_at: now(),
            pid: None,
            command: "x",
        })
        .unwrap_err();
    assert!(matches!(err, JobLogError::Symlink { .. }), "{err:?}");
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert!(log.write(1, b"data").is_err());
    let (stats, err) = log.end(&end_of(1));
    assert!(err.is_some());
    assert_eq!(stats, RunStats { bytes: 4, lost: 4 });
    assert_eq!(fs::read(&target).unwrap(), b"keep me");
}

#[test]
fn a_removed_directory_is_recreated_and_nothing_is_silently_lost() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("logs");
    let mut log = JobLog::new(d.clone(), "j".into(), settings(1 << 20, 3));
    begin(&mut log, 1);
    log.write(1, b"before\n").unwrap();
    fs::remove_dir_all(&d).unwrap();
    log.write(1, b"after\n").unwrap();
    let stats = end(&mut log, 1);
    assert_eq!(stats, RunStats { bytes: 13, lost: 0 });
    let text = fs::read_to_string(d.join("j.log")).unwrap();
    assert_eq!(
        text,
        "=== run 1: continued in a new log file\nafter\n\
         <== run 1 end: outcome=ok exit=0 duration=1.234s bytes=13 lost=0\n"
    );
    assert_eq!(output_of(&d, "j", 1), b"after\n");

    // The file alone removed: same.
    begin(&mut log, 2);
    fs::remove_file(d.join("j.log")).unwrap();
    log.write(2, b"x\n").unwrap();
    end(&mut log, 2);
    assert_eq!(output_of(&d, "j", 2), b"x\n");
}

#[test]
fn an_unwritable_directory_counts_lost_bytes_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the log dir's parent should be: the dir cannot be
    // created (root ignores permission bits, so modes would not do).
    let blocker = dir.path().join("blocker");
    fs::write(&blocker, b"").unwrap();
    let d = blocker.join("logs");
    let mut log = JobLog::new(d.clone(), "j".into(), settings(1 << 20, 3));
    assert!(
        log.begin(&RunStart {
            run_id: 1,
            trigger: Trigger::Manual,
            scheduled_at: None,
            started_at: now(),
            pid: None,
            command: "x",
        })
        .is_err()
    );
    let err = log.write(1, b"12345").unwrap_err();
    assert!(err.to_string().contains("blocker/logs"), "{err}");
    let (stats, err) = log.end(&end_of(1));
    assert!(err.is_some());
    assert_eq!(stats, RunStats { bytes: 5, lost: 5 });

    // The next run, once the directory can be made, is written.
    fs::remove_file(&blocker).unwrap();
    begin(&mut log, 2);
    log.write(2, b"ok\n").unwrap();
    assert_eq!(end(&mut log, 2), RunStats { bytes: 3, lost: 0 });
    assert_eq!(output_of(&d, "j", 2), b"ok\n");
}

#[test]
fn a_read_only_file_is_a_clear_error() {
    if nix::unistd::geteuid().is_root() {
        // Root writes through any mode; covered by the test above.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("j.log"), b"").unwrap();
    fs::set_permissions(dir.path().join("j.log"), fs::Permissions::from_mode(0o400)).unwrap();
    let mut log = JobLog::new(dir.path().into(), "j".into(), settings(1 << 20, 3));
    let err = log.write(1, b"x").unwrap_err();
    assert!(err.to_string().contains("for appending"), "{err}");
}

/// The last `n` lines of `stream`, as `tail -n` gives them.
fn last_lines(stream: &[u8], n: usize) -> Vec<u8> {
    let lines: Vec<&[u8]> = stream.split_inclusive(|&b| b == b'\n').collect();
    lines[lines.len().saturating_sub(n)..].concat()
}

#[test]
fn tail_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut log = JobLog::new(d.into(), "t".into(), settings(1000, 30));
    for run in 1..=3 {
        begin(&mut log, run);
        log.write(run, &lines(60, &format!("r{run}"))).unwrap();
        end(&mut log, run);
    }
    begin(&mut log, 4);
    log.write(4, b"unfinished line").unwrap();
    let stream = whole_stream(d, "t");
    assert!(log_files(d, "t").len() > 5);
    for n in [0, 1, 2, 5, 30, 100, 250, 10_000] {
        assert_eq!(
            String::from_utf8(tail(d, "t", n).unwrap()).unwrap(),
            String::from_utf8(last_lines(&stream, n)).unwrap(),
            "tail -n {n}"
        );
    }
    assert_eq!(tail(&d.join("nope"), "t", 5).unwrap(), b"");
    assert_eq!(tail(d, "other", 5).unwrap(), b"");
    assert_eq!(last_run_id(d, "t").unwrap(), Some(4));
}

#[test]
fn log_files_are_listed_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for name in [
        "j.log",
        "j.log.1",
        "j.log.2.gz",
        "j.log.10",
        "j.log.3",
        "j.log.3.gz",
        "jj.log.1",
    ] {
        fs::write(d.join(name), b"").unwrap();
    }
    let names: Vec<String> = log_files(d, "j")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["j.log.10", "j.log.3", "j.log.2.gz", "j.log.1", "j.log"]
    );
    assert!(log_files(&d.join("missing"), "j").is_empty());
    assert_eq!(read_run(&d.join("missing"), "j", 1).unwrap(), None);
    assert_eq!(last_run_id(&d.join("missing"), "j").unwrap(), None);
}

#[test]
fn follower_sees_appends_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut log = JobLog::new(d.into(), "f".into(), settings(4096, 5));
    begin(&mut log, 1);
    log.write(1, b"old data\n").unwrap();
    let mut follower = follow(d, "f", true).unwrap();
    let wait = Duration::from_secs(10);

    log.write(1, b"first\n").unwrap();
    let got = follower
        .next_chunk_timeout(wait)
        .unwrap()
        .expect("data in time");
    assert_eq!(got, b"first\n");

    // Enough to rotate several times; the follower must see all of it, in
    // order, across the renames.
    let more = lines(300, "more");
    for chunk in more.chunks(1500) {
        log.write(1, chunk).unwrap();
    }
    log.write(1, b"the very end\n").unwrap();
    assert!(log_files(d, "f").len() > 2);
    let mut seen = Vec::new();
    while !seen.ends_with(b"the very end\n") {
        let chunk = follower
            .next_chunk_timeout(wait)
            .unwrap()
            .unwrap_or_else(|| panic!("stalled after {} bytes", seen.len()));
        seen.extend_from_slice(&chunk);
    }
    let output: Vec<u8> = seen
        .split_inclusive(|&b| b == b'\n')
        .filter(|l| frame::parse(l).is_none())
        .flatten()
        .copied()
        .collect();
    let mut expected = more.clone();
    expected.extend_from_slice(b"the very end\n");
    assert_same(&output, &expected);
    // Nothing more: a bounded wait returns None.
    assert_eq!(
        follower
            .next_chunk_timeout(Duration::from_millis(50))
            .unwrap(),
        None
    );
}

#[test]
fn follower_waits_for_a_file_that_does_not_exist_yet() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut follower = follow(d, "late", false).unwrap();
    let mut log = JobLog::new(d.into(), "late".into(), settings(1 << 20, 3));
    begin(&mut log, 1);
    let mut seen = Vec::new();
    while !seen.ends_with(b"start: trigger=schedule scheduled=2026-11-25T10:00:00+01:00 started=2026-11-25T10:00:00.003+01:00 pid=1234 command=echo hi\n") {
        seen.extend(follower.next_chunk_timeout(Duration::from_secs(10)).unwrap().unwrap());
    }
    assert!(follow(&d.join("missing"), "x", true).is_err());
}

#[test]
fn tail_before_stops_where_the_follower_starts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // No file when following starts: the tail must leave the whole new file
    // to the follower, or its lines would print twice.
    let follower = follow(d, "t", true).unwrap();
    assert_eq!(follower.start_point(), None);
    fs::write(d.join("t.log"), b"a\nb\n").unwrap();
    assert_eq!(super::tail_before(d, "t", 10, None).unwrap(), b"");
    // Lines written after the follower took its place are its to print.
    let follower = follow(d, "t", true).unwrap();
    let start = follower.start_point();
    assert_eq!(start.map(|(_, pos)| pos), Some(4));
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(d.join("t.log"))
        .unwrap();
    f.write_all(b"c\n").unwrap();
    assert_eq!(super::tail_before(d, "t", 10, start).unwrap(), b"a\nb\n");
    assert_eq!(super::tail(d, "t", 10).unwrap(), b"a\nb\nc\n");
    // Rotated in between: the follower's file is found by its inode.
    fs::rename(d.join("t.log"), d.join("t.log.1")).unwrap();
    fs::write(d.join("t.log"), b"d\n").unwrap();
    assert_eq!(super::tail_before(d, "t", 10, start).unwrap(), b"a\nb\n");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Overlapping runs, arbitrary chunking: each run reads back exactly as
    /// it was written.
    #[test]
    fn demux_recovers_each_run(
        writes in proptest::collection::vec((0usize..3, proptest::collection::vec(
            proptest::prop_oneof![proptest::strategy::Just(b'\n'), b'a'..=b'e'], 0..40)), 1..60),
        max_size in 300u64..5000,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut log = JobLog::new(d.into(), "p".into(), settings(max_size, 1000));
        let mut expected = [Vec::new(), Vec::new(), Vec::new()];
        for run in 0..3 {
            begin(&mut log, run as i64 + 1);
        }
        for (run, data) in &writes {
            log.write(*run as i64 + 1, data).unwrap();
            expected[*run].extend_from_slice(data);
        }
        for (run, exp) in expected.iter_mut().enumerate() {
            if !exp.ends_with(b"\n") {
                log.write(run as i64 + 1, b"\n").unwrap();
                exp.push(b'\n');
            }
        }
        for run in 0..3 {
            let stats = end(&mut log, run as i64 + 1);
            proptest::prop_assert_eq!(stats.lost, 0);
        }
        for (run, exp) in expected.iter().enumerate() {
            let got = output_of(d, "p", run as i64 + 1);
            // A run with no output reads as one empty line.
            let exp: &[u8] = if exp == b"\n" { b"\n" } else { exp };
            proptest::prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(exp));
        }
    }
}

#[test]
fn leftovers_are_compressed_and_keep_shrinks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A previous daemon without compress, with a larger keep, and a dead
    // daemon's temporary file.
    for i in 1..=6 {
        fs::write(d.join(format!("j.log.{i}")), format!("old {i}\n")).unwrap();
    }
    fs::write(d.join(".j.log.gz-tmp.1.7"), b"half").unwrap();
    super::remove_stale_temps(d);
    let mut s = settings(100, 3);
    s.compress = true;
    let mut log = JobLog::new(d.into(), "j".into(), s);
    begin(&mut log, 1);
    log.write(1, &lines(5, "new")).unwrap();
    end(&mut log, 1);
    log.wait_for_compression();
    let mut names: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["j.log", "j.log.1.gz", "j.log.2.gz", "j.log.3.gz"]);
    let end_line = format!(
        "<== run 1 end: outcome=ok exit=0 duration=1.234s bytes={} lost=0\n",
        lines(5, "new").len()
    );
    assert!(whole_stream(d, "j").ends_with(end_line.as_bytes()));
}

#[test]
fn writer_and_follower_can_move_between_threads() {
    fn send<T: Send>() {}
    send::<JobLog>();
    send::<Follower>();
    send::<JobLogError>();
}
