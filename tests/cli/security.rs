//! Hardening (issue #11, `docs/security.md`): privilege drop, resource
//! limits, secrets, refusal of insecure configuration, file modes, planted
//! symlinks and the control socket's peer check.
//!
//! Most of these need root (system mode); they use the `nobody` user and
//! skip with a reason elsewhere. The sandbox lives under /tmp in a 0700 dir
//! owned by root, so jobs that run as nobody use `workdir: /` (or their
//! home's fallback, `/`) and write only to the daemon's pipe.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::*;

const NEVER: &str = "0 0 1 1 *";
const NOBODY: u32 = 65534;
const WAIT: Duration = Duration::from_secs(30);

fn cfg(jobs: &str) -> String {
    format!("timezone: UTC\njobs:\n{jobs}")
}

/// `sundial trigger JOB --wait`, returning the exit code.
fn trigger_wait(sb: &Sandbox, job: &str) -> i32 {
    let out = sb.run(&["trigger", job, "--wait"]);
    out.status.code().unwrap_or(-1)
}

/// The newest finished run of `job`.
fn last_run(sb: &Sandbox, job: &str) -> serde_json::Value {
    sb.wait_runs(job, 1, WAIT).remove(0)
}

/// The value after `key` on the first job-log line that starts with it.
fn log_value(sb: &Sandbox, job: &str, key: &str) -> String {
    let log = sb.job_log(job);
    log.lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no '{key}' in the log of {job}:\n{log}"))
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .mode()
        & 0o7777
}

/// The binary run as `nobody`, pointed at the sandbox (whose dir the caller
/// has opened up with `chmod 0755`).
fn as_nobody(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    let mut c = sb.cmd(args);
    c.uid(NOBODY)
        .gid(NOBODY)
        .env_clear()
        .env("HOME", "/nonexistent")
        .env("NO_COLOR", "1");
    c.output().expect("run sundial as nobody")
}

/// Run `sundial ARGS` expecting it to exit by itself within `timeout`
/// (a `sundial run` that wrongly accepted its config would run forever).
fn run_expecting_exit(sb: &Sandbox, args: &[&str], timeout: Duration) -> (i32, String) {
    let mut child = sb
        .cmd(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sundial");
    let mut status = None;
    let exited = wait_until(timeout, || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    if !exited {
        let _ = child.kill();
        let _ = child.wait();
        panic!("sundial {args:?} did not exit within {timeout:?}");
    }
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    (status.unwrap().code().unwrap_or(-1), err)
}

/// The four (or one) ids of a `/proc/self/status` line.
fn ids(sb: &Sandbox, job: &str, key: &str) -> Vec<String> {
    log_value(sb, job, key)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn system_mode_jobs_drop_to_their_user_for_good() {
    if !is_root() {
        skip!("dropping privileges needs root");
    }
    // `nobody`'s home (/nonexistent) does not exist: the run falls back to /.
    let probe = r#"grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapAmb):' /proc/self/status
      echo "HOME=$HOME USER=$USER LOGNAME=$LOGNAME SHELL=$SHELL"
      echo "cwd: $(pwd -P)"
      if ( : > /etc/sundial-security-probe ) 2>/dev/null; then echo "root write: yes"; rm -f /etc/sundial-security-probe; else echo "root write: no"; fi"#;
    let sb = Sandbox::new(&cfg(&format!(
        r#"  as-nobody:
    schedule: "{NEVER}"
    user: nobody
    command: |
      {probe}
  with-group:
    schedule: "{NEVER}"
    user: nobody
    group: daemon
    workdir: /
    command: |
      {probe}
"#
    )));
    sb.start();
    assert_eq!(trigger_wait(&sb, "as-nobody"), 0, "{}", sb.daemon_log());
    assert_eq!(trigger_wait(&sb, "with-group"), 0, "{}", sb.daemon_log());

    // Real, effective, saved and file-system ids: all the target user's, so
    // nothing is left to switch back to.
    let four = |id: &str| vec![id.to_string(); 4];
    assert_eq!(ids(&sb, "as-nobody", "Uid:"), four("65534"));
    assert_eq!(ids(&sb, "as-nobody", "Gid:"), four("65534"));
    assert_eq!(ids(&sb, "as-nobody", "Groups:"), vec!["65534"]);
    for cap in ["CapInh:", "CapPrm:", "CapEff:", "CapAmb:"] {
        assert_eq!(
            log_value(&sb, "as-nobody", cap),
            "0000000000000000",
            "{cap}"
        );
    }
    assert_eq!(log_value(&sb, "as-nobody", "root write:"), "no");
    // SPEC 9: HOME, USER, LOGNAME from passwd; SHELL is the job's shell
    // (nobody's login shell is nologin, which would be no use).
    assert_eq!(
        log_value(&sb, "as-nobody", "HOME="),
        "/nonexistent USER=nobody LOGNAME=nobody SHELL=/bin/sh"
    );
    assert_eq!(log_value(&sb, "as-nobody", "cwd:"), "/");
    let log = sb.job_log("as-nobody");
    assert!(
        log.contains("home /nonexistent of user nobody does not exist; running in /"),
        "the start of the run says where it runs: {log}"
    );

    // `group:` replaces the primary group; the supplementary list is
    // initgroups' for that user and group, nothing of root's.
    assert_eq!(ids(&sb, "with-group", "Uid:"), four("65534"));
    assert_eq!(ids(&sb, "with-group", "Gid:"), four("1"));
    assert_eq!(ids(&sb, "with-group", "Groups:"), vec!["1"]);
}

#[test]
fn user_mode_cannot_ask_for_another_user_or_group() {
    if !is_root() {
        skip!("needs root to run the binary as nobody");
    }
    let sb = Sandbox::new(&cfg(&format!(
        r#"  other-user: {{ schedule: "{NEVER}", command: "true", user: root }}
  other-group: {{ schedule: "{NEVER}", command: "true", group: root }}
"#
    )));
    chmod(sb.dir.path(), 0o755);
    let out = as_nobody(&sb, &["check"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(err.contains("only root can switch users"), "{err}");
    assert!(err.contains("only root can switch groups"), "{err}");
    assert!(
        err.contains("other-user") && err.contains("other-group"),
        "{err}"
    );
}

#[test]
fn limits_are_applied_before_exec() {
    if !is_root() {
        skip!("a negative nice value and switching to nobody need root");
    }
    let sb = Sandbox::new(&cfg(&format!(
        r#"  limited:
    schedule: "{NEVER}"
    user: nobody
    workdir: /
    limits: {{ nice: -5, memory: 512MiB, cpu_time: 90s, open_files: 64, processes: 200 }}
    command: |
      grep -E '^Max (address space|cpu time|open files|processes) ' /proc/self/limits
      echo "stat: $(cat /proc/self/stat)"
"#
    )));
    sb.start();
    assert_eq!(trigger_wait(&sb, "limited"), 0, "{}", sb.daemon_log());
    let limit = |name: &str| -> (String, String) {
        let v = log_value(&sb, "limited", &format!("Max {name}"));
        let mut parts = v.split_whitespace();
        (
            parts.next().unwrap().to_string(),
            parts.next().unwrap().to_string(),
        )
    };
    let both = |v: &str| (v.to_string(), v.to_string());
    assert_eq!(limit("address space"), both("536870912"));
    // Soft at the limit (SIGXCPU), hard `kill_grace` (10s) later (SIGKILL).
    assert_eq!(limit("cpu time"), ("90".to_string(), "100".to_string()));
    assert_eq!(limit("open files"), both("64"));
    assert_eq!(limit("processes"), both("200"));
    // /proc/PID/stat: field 19 is nice; the name (field 2) may hold spaces,
    // so count from the ')' that closes it.
    let stat = log_value(&sb, "limited", "stat:");
    let after = &stat[stat.rfind(')').unwrap() + 1..];
    let nice = after.split_whitespace().nth(19 - 3).unwrap();
    assert_eq!(nice, "-5", "stat: {stat}");
}

#[test]
fn a_job_over_its_limit_is_recorded_with_what_it_got() {
    if !is_root() {
        skip!("the processes limit is shown on nobody's jobs, which needs root");
    }
    let nulls = vec!["\"/dev/null\""; 20].join(", ");
    let sb = Sandbox::new(&cfg(&format!(
        r#"  cpu:
    schedule: "{NEVER}"
    timeout: 2m
    limits: {{ cpu_time: 1s }}
    command: "while :; do :; done"
  memory:
    schedule: "{NEVER}"
    limits: {{ memory: 64MiB }}
    command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"]
  files:
    schedule: "{NEVER}"
    limits: {{ open_files: 8 }}
    command: ["paste", {nulls}]
  forks:
    schedule: "{NEVER}"
    user: nobody
    workdir: /
    limits: {{ processes: 1 }}
    command: "/bin/true; echo status $?"
  root-forks:
    schedule: "{NEVER}"
    limits: {{ processes: 1 }}
    command: "/bin/true; echo status $?"
"#
    )));
    sb.start();

    // RLIMIT_CPU: SIGXCPU (24) at the soft limit, which is the default action's kill.
    assert_eq!(trigger_wait(&sb, "cpu"), 128 + 24, "{}", sb.daemon_log());
    let run = last_run(&sb, "cpu");
    assert_eq!(run["outcome"], "killed", "{run}");
    assert_eq!(run["signal"], 24, "{run}");

    // RLIMIT_AS: dd's 256 MiB buffer cannot be allocated.
    assert_eq!(trigger_wait(&sb, "memory"), 1);
    let run = last_run(&sb, "memory");
    assert_eq!(
        (&run["outcome"], &run["exit_code"]),
        (&"failed".into(), &1.into())
    );
    assert!(
        sb.job_log("memory").contains("memory exhausted"),
        "{}",
        sb.job_log("memory")
    );

    // RLIMIT_NOFILE: paste opens its files at once and meets EMFILE.
    assert_eq!(trigger_wait(&sb, "files"), 1);
    assert_eq!(last_run(&sb, "files")["outcome"], "failed");
    assert!(
        sb.job_log("files").contains("Too many open files"),
        "{}",
        sb.job_log("files")
    );

    // RLIMIT_NPROC counts nobody's processes: the shell is one, so it
    // cannot fork. (If another nobody process exists at that moment, the
    // exec itself fails with EAGAIN, which is recorded as `error`.)
    trigger_wait(&sb, "forks");
    let run = last_run(&sb, "forks");
    let log = sb.job_log("forks");
    let fork_failed = log.contains("Cannot fork") && run["outcome"] == "failed";
    let exec_failed = run["outcome"] == "error" && log.contains("Resource temporarily unavailable");
    assert!(fork_failed || exec_failed, "{run}\n{log}");
    assert!(!log.contains("status 0"), "{log}");

    // ... and does not bind root, as docs/security.md warns.
    assert_eq!(trigger_wait(&sb, "root-forks"), 0);
    assert!(sb.job_log("root-forks").contains("status 0"));
}

#[test]
fn secrets_reach_the_job_and_nothing_else() {
    if !is_root() {
        skip!("secrets are checked for ownership by root in system mode");
    }
    const SECRET: &str = "hunter2-sundial-secret";
    // What the job prints: the value rot13'd, so the job log proves it
    // arrived without containing it.
    const ROT13: &str = "<uhagre2-fhaqvny-frperg>";
    let sb = Sandbox::new("");
    let secrets = sb.path("secrets");
    std::fs::create_dir(&secrets).unwrap();
    let secret = secrets.join("token");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    chmod(&secret, 0o600);
    sb.write_config(&cfg(&format!(
        r#"  uses-secret:
    schedule: "{NEVER}"
    env:
      TOKEN: {{ from_file: {} }}
      PLAIN: visible
    command: |
      printf '<%s>\n' "$TOKEN" | tr a-z n-za-m
      echo "plain: $PLAIN"
"#,
        secret.display()
    )));

    let check = sb.run(&["check"]);
    assert!(check.status.success(), "{}", stderr(&check));
    let out = sb.run(&["--log-level", "debug", "start"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(trigger_wait(&sb, "uses-secret"), 0, "{}", sb.daemon_log());
    // Read at run time, trailing newline stripped.
    assert!(
        sb.job_log("uses-secret").lines().any(|l| l == ROT13),
        "{}",
        sb.job_log("uses-secret")
    );
    assert_eq!(log_value(&sb, "uses-secret", "plain:"), "visible");

    let mut seen = vec![
        ("check", format!("{}{}", stdout(&check), stderr(&check))),
        ("start", format!("{}{}", stdout(&out), stderr(&out))),
    ];
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["history", "uses-secret", "--json"],
        &["history", "uses-secret"],
        &["status", "--json"],
        &["logs", "uses-secret"],
    ] {
        let o = sb.run(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        seen.push((
            "a command",
            format!("{args:?}: {}{}", stdout(&o), stderr(&o)),
        ));
    }
    for (what, text) in &seen {
        assert!(!text.contains(SECRET), "{what} shows the secret: {text}");
    }
    // Every file sundial wrote: daemon log, job log, history db and WAL.
    for dir in [sb.log_dir(), sb.state_dir(), sb.runtime_dir()] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                let found = bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes());
                assert!(!found, "{} contains the secret", path.display());
            }
        }
    }

    // Gone at run time (the config was valid when loaded): that run fails
    // with `error`, its log says why, and the daemon carries on. (The file
    // is put back before looking: client commands validate the config too.)
    std::fs::remove_file(&secret).unwrap();
    assert_eq!(trigger_wait(&sb, "uses-secret"), 1);
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    let runs = sb.wait_runs("uses-secret", 2, WAIT);
    assert_eq!(runs[0]["outcome"], "error", "{}", runs[0]);
    let log = sb.job_log("uses-secret");
    let why = format!("cannot read env TOKEN from {}", secret.display());
    assert!(log.contains(&why), "{log}");
    assert!(
        sb.run(&["status"]).status.success(),
        "the daemon is still up"
    );
}

#[test]
fn insecure_config_and_secrets_are_refused() {
    if !is_root() {
        skip!("the ownership rules apply in system mode only");
    }
    let sb = Sandbox::new("");
    let secret = sb.path("token");
    std::fs::write(&secret, "x").unwrap();
    chmod(&secret, 0o600);
    sb.write_config(&cfg(&format!(
        r#"  a:
    schedule: "{NEVER}"
    env: {{ TOKEN: {{ from_file: {} }} }}
    command: "true"
"#,
        secret.display()
    )));
    chmod(&sb.config, 0o644);
    assert!(sb.run(&["check"]).status.success());
    let config = sb.config.display().to_string();

    let refused = |args: &[&str], file: &str, fix: &str| {
        let (code, err) = run_expecting_exit(&sb, args, WAIT);
        assert_eq!(code, 78, "{args:?}: {err}");
        assert!(err.contains(file), "{args:?} names {file}: {err}");
        assert!(err.contains(fix), "{args:?} says `{fix}`: {err}");
    };

    chmod(&sb.config, 0o664);
    for args in [&["check"][..], &["run"], &["start"]] {
        refused(args, &config, &format!("chmod go-w {config}"));
    }
    chmod(&sb.config, 0o646);
    refused(&["check"], &config, &format!("chmod go-w {config}"));
    chmod(&sb.config, 0o644);
    std::os::unix::fs::chown(&sb.config, Some(NOBODY), None).unwrap();
    for args in [&["check"][..], &["run"], &["start"]] {
        refused(args, &config, &format!("chown root {config}"));
    }
    std::os::unix::fs::chown(&sb.config, Some(0), None).unwrap();

    let secret_path = secret.display().to_string();
    chmod(&secret, 0o666);
    for args in [&["check"][..], &["run"], &["start"]] {
        refused(args, &secret_path, &format!("chmod go-w {secret_path}"));
    }
    chmod(&secret, 0o600);
    assert!(sb.pid().is_none(), "no daemon started");

    // reload: refused with 78, the running configuration stays.
    sb.start();
    sb.write_config(&cfg(&format!(
        r#"  a: {{ schedule: "{NEVER}", command: "true" }}
  b: {{ schedule: "{NEVER}", command: "true" }}
"#
    )));
    chmod(&sb.config, 0o666);
    let out = sb.run(&["reload"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(err.contains(&format!("chmod go-w {config}")), "{err}");
    let status = |sb: &Sandbox| -> serde_json::Value {
        serde_json::from_slice(&sb.run(&["status", "--json"]).stdout).unwrap()
    };
    let jobs = |s: &serde_json::Value| s["jobs"].clone();
    let before = jobs(&status(&sb));
    assert_eq!(
        sb.run(&["trigger", "b"]).status.code(),
        Some(1),
        "b is not known"
    );
    chmod(&sb.config, 0o644);
    let out = sb.run(&["reload"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(jobs(&status(&sb)), before, "the secure file is taken");
    assert_eq!(trigger_wait(&sb, "b"), 0);
}

#[test]
fn files_and_dirs_are_private_whatever_the_umask() {
    if !is_root() {
        skip!("checks system-mode modes");
    }
    let sb = Sandbox::new(&cfg(&format!(
        "  talk: {{ schedule: \"{NEVER}\", command: \"echo hi\" }}\n"
    )));
    // A careless umask (0) for the client and the daemon (`umask: "0000"`).
    std::fs::write(
        &sb.config,
        format!(
            "umask: \"0000\"\n{}",
            std::fs::read_to_string(&sb.config).unwrap()
        ),
    )
    .unwrap();
    let mut start = Command::new("sh");
    start
        .arg("-c")
        .arg("umask 000; exec \"$@\"")
        .arg("sh")
        .arg(BIN)
        .args(sb.cmd(&["start"]).get_args())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    let out = start.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(trigger_wait(&sb, "talk"), 0);
    sb.wait_runs("talk", 1, WAIT);

    for (path, mode) in [
        (sb.log_dir(), 0o750),
        (sb.state_dir(), 0o750),
        (sb.runtime_dir(), 0o750),
        (sb.log_dir().join("sundial.log"), 0o640),
        (sb.log_dir().join("talk.log"), 0o640),
        (sb.state_dir().join("sundial.db"), 0o600),
        (sb.runtime_dir().join("sundial.sock"), 0o600),
    ] {
        assert_eq!(
            mode_of(&path),
            mode,
            "{}: {:o}",
            path.display(),
            mode_of(&path)
        );
    }
    for side in ["sundial.db-wal", "sundial.db-shm"] {
        let path = sb.state_dir().join(side);
        if path.exists() {
            assert_eq!(mode_of(&path), 0o600, "{}", path.display());
        }
    }
}

#[test]
fn a_planted_log_symlink_is_not_followed() {
    let sb = Sandbox::new(&cfg(&format!(
        r#"  victim: {{ schedule: "{NEVER}", command: "echo planted-output" }}
  dangling: {{ schedule: "{NEVER}", command: "echo planted-output" }}
"#
    )));
    std::fs::create_dir(sb.log_dir()).unwrap();
    let target = sb.path("target");
    std::fs::write(&target, "precious\n").unwrap();
    let absent = sb.path("would-be-created");
    std::os::unix::fs::symlink(&target, sb.log_dir().join("victim.log")).unwrap();
    std::os::unix::fs::symlink(&absent, sb.log_dir().join("dangling.log")).unwrap();
    sb.start();

    // The job itself runs and succeeds; only its output is lost.
    assert_eq!(trigger_wait(&sb, "victim"), 0);
    assert_eq!(trigger_wait(&sb, "dangling"), 0);
    for job in ["victim", "dangling"] {
        let run = last_run(&sb, job);
        assert_eq!(run["outcome"], "ok", "{run}");
        assert_eq!(run["log_bytes"], 15, "{run}");
        assert_eq!(run["log_lost_bytes"], 15, "output counted as lost: {run}");
    }
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    assert!(
        !absent.exists(),
        "nothing created through the dangling link"
    );
    let link = std::fs::symlink_metadata(sb.log_dir().join("victim.log")).unwrap();
    assert!(
        link.file_type().is_symlink(),
        "the link is left for the admin to see"
    );
    let log = sb.daemon_log();
    assert!(
        log.contains("is a symbolic link") && log.contains("victim.log"),
        "the daemon log says why: {log}"
    );
}

#[test]
fn the_control_socket_answers_only_its_owner_and_root() {
    if !is_root() {
        skip!("needs root to connect as another user");
    }
    let sb = Sandbox::new(&cfg(&format!(
        "  a: {{ schedule: \"{NEVER}\", command: \"true\" }}\n"
    )));
    sb.start();
    // As created, nobody cannot even reach the socket (0600 in a 0750 dir).
    chmod(sb.dir.path(), 0o755);
    let out = as_nobody(&sb, &["status"]);
    assert!(!out.status.success(), "{}", stdout(&out));

    // Opened up by a careless admin, SO_PEERCRED still refuses the peer.
    chmod(&sb.runtime_dir(), 0o755);
    let sock = sb.runtime_dir().join("sundial.sock");
    chmod(&sock, 0o666);
    let out = as_nobody(&sb, &["trigger", "a"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // The daemon replies and hangs up without reading the request, so the
    // client's write may fail with EPIPE before it reads the reply (a client
    // race, see docs/security.md); either way the request is refused.
    assert!(
        err.contains("uid 65534 may not control this daemon") || err.contains("Broken pipe"),
        "{err}"
    );
    assert!(sb.finished("a").is_empty(), "nothing ran");
    let log = sb.daemon_log();
    assert!(
        log.contains("refused a control connection from another user") && log.contains("uid=65534"),
        "{log}"
    );

    // Root (the daemon's own uid) is answered, and a request is capped at 64 KiB.
    assert!(sb.run(&["status"]).status.success());
    let stream = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let writer = stream.try_clone().unwrap();
    let flood = std::thread::spawn(move || {
        let mut writer = writer;
        let line = vec![b'x'; 200 * 1024];
        // The daemon stops reading after 64 KiB: the rest may fail with EPIPE.
        let _ = writer.write_all(&line);
        let _ = writer.write_all(b"\n");
    });
    let mut reply = String::new();
    BufReader::new(&stream).read_line(&mut reply).unwrap();
    flood.join().unwrap();
    let reply: serde_json::Value = serde_json::from_str(&reply).expect("a JSON reply");
    assert!(
        reply
            .to_string()
            .contains("request longer than 65536 bytes"),
        "{reply}"
    );
    assert!(
        sb.run(&["status"]).status.success(),
        "the daemon is still up"
    );
}

#[test]
fn secrets_are_checked_again_at_each_run() {
    if !is_root() {
        skip!("the ownership rules apply in system mode only");
    }
    let sb = Sandbox::new("");
    let secrets = sb.path("secrets");
    std::fs::create_dir(&secrets).unwrap();
    let loosened = secrets.join("loosened");
    std::fs::write(&loosened, "value").unwrap();
    chmod(&loosened, 0o600);
    let fifo = secrets.join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    sb.write_config(&cfg(&format!(
        r#"  loosened:
    schedule: "{NEVER}"
    env: {{ TOKEN: {{ from_file: {} }} }}
    command: echo "got ${{#TOKEN}}"
  fifo:
    schedule: "{NEVER}"
    env: {{ TOKEN: {{ from_file: {} }} }}
    command: echo "got ${{#TOKEN}}"
"#,
        loosened.display(),
        fifo.display()
    )));
    sb.start();
    assert_eq!(trigger_wait(&sb, "loosened"), 0);
    assert_eq!(log_value(&sb, "loosened", "got"), "5");

    // Made writable by others after the daemon loaded the config: whoever
    // can write it now chooses the job's environment, so the run is refused.
    chmod(&loosened, 0o666);
    assert_eq!(trigger_wait(&sb, "loosened"), 1);
    chmod(&loosened, 0o600);
    let runs = sb.wait_runs("loosened", 2, WAIT);
    assert_eq!(runs[0]["outcome"], "error", "{}", runs[0]);
    let log = sb.job_log("loosened");
    let fix = format!("chmod go-w {}", loosened.display());
    assert!(log.contains(&fix), "{log}");

    // A FIFO (or device) under a secret's name must not hang the scheduler.
    let (code, err) = run_expecting_exit(&sb, &["trigger", "fifo", "--wait"], WAIT);
    assert_eq!(code, 1, "{err}");
    let runs = sb.wait_runs("fifo", 1, WAIT);
    assert_eq!(runs[0]["outcome"], "error", "{}", runs[0]);
    assert!(
        sb.job_log("fifo").contains("not a regular file"),
        "{}",
        sb.job_log("fifo")
    );
    assert!(
        sb.run(&["status"]).status.success(),
        "the daemon still answers"
    );
}
