//! The loader end to end: YAML text in, a [`Config`] or positioned
//! diagnostics out. Each rule of SPEC 3 is asserted with its exact line and
//! column, against a fake machine (see `host::fake`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::host::FileStatus;
use super::host::fake::FakeHost;
use super::job;
use super::load::load_with;
use super::*;

const FILE: &str = "/etc/sundial/jobs.yaml";

fn load_as(text: &str, mode: Mode, host: &mut FakeHost) -> Result<Config, ConfigError> {
    load_with(text, Path::new(FILE), mode, host)
}

/// Loads in user mode as alice.
fn ok(text: &str) -> Config {
    match load_as(text, Mode::User, &mut FakeHost::as_alice()) {
        Ok(config) => config,
        Err(err) => panic!("expected a valid config, got:\n{err}"),
    }
}

fn errors_as(text: &str, mode: Mode, host: &mut FakeHost) -> Vec<Diagnostic> {
    match load_as(text, mode, host) {
        Ok(_) => panic!("expected errors, the config is valid"),
        Err(ConfigError::Invalid(all)) => all,
        Err(other) => panic!("expected diagnostics, got {other:?}"),
    }
}

fn errors(text: &str) -> Vec<Diagnostic> {
    errors_as(text, Mode::User, &mut FakeHost::as_alice())
}

/// The one diagnostic of `text`, at `line`:`column`.
fn error_at(text: &str, line: usize, column: usize) -> Diagnostic {
    let all = errors(text);
    assert_eq!(all.len(), 1, "expected exactly one error, got:\n{all:#?}");
    let d = all.into_iter().next().unwrap();
    assert_eq!((d.line, d.column), (line, column), "wrong position for {d}");
    d
}

fn job(name: &str, body: &str) -> String {
    format!("jobs:\n  {name}:\n    schedule: \"* * * * *\"\n    command: true\n{body}")
}

// ---- the whole file ----

#[test]
fn minimal_config_gets_every_default() {
    let config = ok(
        "jobs:\n  backup:\n    schedule: \"30 2 * * *\"\n    command: tar czf /srv/home.tgz /home\n",
    );
    assert_eq!(config.path, PathBuf::from(FILE));
    assert_eq!(config.umask, 0o022);
    assert!(config.watch);
    assert_eq!(config.sendmail, PathBuf::from("/usr/sbin/sendmail"));
    assert_eq!(config.metrics, None);
    assert_eq!(
        (config.log_dir.as_ref(), config.state_dir.as_ref()),
        (None, None)
    );
    let job = &config.jobs[0];
    assert_eq!(job.name, "backup");
    assert_eq!(job.schedule_text, "30 2 * * *");
    assert_eq!(
        job.command,
        Command::Shell("tar czf /srv/home.tgz /home".into())
    );
    assert!(job.enabled);
    assert_eq!(job.shell, PathBuf::from("/bin/sh"));
    assert_eq!(job.umask, 0o022);
    assert_eq!(job.kill_grace, Duration::from_secs(10));
    assert_eq!(job.overlap, Overlap::Skip);
    assert_eq!(job.timeout, None);
    assert_eq!(job.retry, None);
    assert!(!job.catch_up);
    assert!(job.mail_to.is_empty());
    assert_eq!(job.log, LogSettings::default());
    assert_eq!(job.limits, Limits::default());
    assert_eq!(job.timezone, config.timezone);
    let system = jiff::tz::TimeZone::system();
    assert_eq!(config.timezone.name, system.iana_name().unwrap_or("local"));
}

#[test]
fn every_field_is_read() {
    let config = ok(r#"timezone: Europe/Berlin
log_dir: logs
state_dir: /var/lib/sundial
runtime_dir: ./run
umask: 0027
watch: false
metrics: { listen: "127.0.0.1:9464" }
sendmail: /usr/bin/msmtp
jobs:
  sync.home-1:
    description: Sync home
    schedule: "*/5 * * * *"
    command: ["/usr/bin/rsync", "-a", 5, "/dst"]
    enabled: false
    timezone: America/New_York
    shell: /bin/bash
    workdir: /srv
    user: alice
    group: alice
    env: { A: 1, B: true, C: "x y", D: 1.50, TOKEN: { from_file: secret } }
    umask: 077
    timeout: 1h30m
    kill_grace: 0s
    overlap: replace
    retry: { attempts: 3, delay: 1m }
    jitter: 30s
    catch_up: true
    on_failure: [notify, "--job", x]
    mail_to: "ops@example.com, root"
    webhook: { url: "https://hooks.example.com/x", on: [success, failure, success] }
    log: { max_size: 1MiB, keep: 2, compress: true, timestamps: true }
    limits: { nice: -5, memory: 2GiB, cpu_time: 10m, open_files: 1024, processes: 64 }
"#);
    assert_eq!(config.timezone.name, "Europe/Berlin");
    assert_eq!(config.log_dir, Some(PathBuf::from("/etc/sundial/logs")));
    assert_eq!(config.state_dir, Some(PathBuf::from("/var/lib/sundial")));
    assert_eq!(config.runtime_dir, Some(PathBuf::from("/etc/sundial/run")));
    assert_eq!(config.umask, 0o027);
    assert!(!config.watch);
    assert_eq!(config.metrics.unwrap().listen.to_string(), "127.0.0.1:9464");
    assert_eq!(config.sendmail, PathBuf::from("/usr/bin/msmtp"));
    let job = &config.jobs[0];
    assert_eq!(job.name, "sync.home-1");
    assert_eq!(job.description.as_deref(), Some("Sync home"));
    assert_eq!(
        job.command,
        Command::Exec(vec![
            "/usr/bin/rsync".into(),
            "-a".into(),
            "5".into(),
            "/dst".into()
        ])
    );
    assert!(!job.enabled);
    assert_eq!(job.timezone.name, "America/New_York");
    assert_eq!(job.shell, PathBuf::from("/bin/bash"));
    assert_eq!(job.workdir, Some(PathBuf::from("/srv")));
    assert_eq!(job.user.as_deref(), Some("alice"));
    assert_eq!(job.group.as_deref(), Some("alice"));
    assert_eq!(
        job.env,
        vec![
            ("A".into(), EnvValue::Literal("1".into())),
            ("B".into(), EnvValue::Literal("true".into())),
            ("C".into(), EnvValue::Literal("x y".into())),
            ("D".into(), EnvValue::Literal("1.50".into())),
            (
                "TOKEN".into(),
                EnvValue::FromFile("/etc/sundial/secret".into())
            ),
        ]
    );
    assert_eq!(job.umask, 0o077);
    assert_eq!(job.timeout, Some(Duration::from_secs(5400)));
    assert_eq!(job.kill_grace, Duration::ZERO);
    assert_eq!(job.overlap, Overlap::Replace);
    assert_eq!(
        job.retry,
        Some(Retry {
            attempts: 3,
            delay: Duration::from_secs(60)
        })
    );
    assert_eq!(job.jitter, Some(Duration::from_secs(30)));
    assert!(job.catch_up);
    assert_eq!(
        job.on_failure,
        Some(Command::Exec(vec![
            "notify".into(),
            "--job".into(),
            "x".into()
        ]))
    );
    assert_eq!(job.mail_to, vec!["ops@example.com", "root"]);
    assert_eq!(
        job.webhook,
        Some(Webhook {
            url: "https://hooks.example.com/x".into(),
            on: vec![WebhookEvent::Success, WebhookEvent::Failure],
        })
    );
    assert_eq!(
        job.log,
        LogSettings {
            max_size: 1 << 20,
            keep: 2,
            compress: true,
            timestamps: true
        }
    );
    assert_eq!(
        job.limits,
        Limits {
            nice: Some(-5),
            memory: Some(2 << 30),
            cpu_time: Some(Duration::from_secs(600)),
            open_files: Some(1024),
            processes: Some(64),
        }
    );
}

#[test]
fn jobs_keep_file_order() {
    let config = ok(
        "jobs:\n  zeta: { schedule: '@daily', command: a }\n  alpha: { schedule: '@hourly', command: b }\n  2024: { schedule: '@start', command: c }\n",
    );
    let names: Vec<_> = config.jobs.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["zeta", "alpha", "2024"]);
    assert_eq!(
        config.job("alpha").unwrap().command,
        Command::Shell("b".into())
    );
}

#[test]
fn three_mistakes_give_exactly_three_diagnostics() {
    let text = "\
jobs:
  backup:
    schedule: \"0 61 * * *\"
    command: tar czf /srv/home.tgz /home
    tiemout: 5m
  sync:
    schedule: \"@daily\"
    command: rsync -a /src /dst
    timeout: forever
";
    let all = errors(text);
    let found: Vec<_> = all
        .iter()
        .map(|d| (d.line, d.column, d.job.as_deref().unwrap()))
        .collect();
    assert_eq!(
        found,
        [(3, 18, "backup"), (5, 5, "backup"), (9, 14, "sync")]
    );
    let err = ConfigError::Invalid(all);
    let text = err.to_string();
    assert!(text.contains("/etc/sundial/jobs.yaml:5:5: job 'backup': unknown key 'tiemout' in a job\n  hint: did you mean 'timeout'?"), "{text}");
    assert!(text.contains("/etc/sundial/jobs.yaml:9:14: job 'sync': `timeout`: expected a duration like 30s, 5m or 1h30m, got 'forever'"), "{text}");
    assert!(text.ends_with("3 errors in configuration"));
}

#[test]
fn empty_file_says_what_to_write() {
    let d = error_at("", 1, 1);
    assert!(d.message.contains("empty"), "{d}");
    assert!(d.hint.unwrap().contains("jobs:"));
}

#[test]
fn missing_jobs_is_an_error_but_empty_jobs_is_not() {
    let d = error_at("timezone: UTC\n", 1, 1);
    assert!(d.message.contains("missing `jobs:`"), "{d}");
    assert!(ok("jobs:\n").jobs.is_empty());
    assert!(ok("jobs: {}\n").jobs.is_empty());
}

#[test]
fn root_must_be_a_map() {
    let d = error_at("- a\n- b\n", 1, 1);
    assert_eq!(
        d.message,
        "expected a map of settings with `jobs:` at the top, got a list"
    );
}

#[test]
fn yaml_syntax_error_is_positioned() {
    let d = error_at(
        "jobs:\n  a:\n    schedule: \"@daily\n    command: x\n",
        3,
        15,
    );
    assert_eq!(d.message, "YAML syntax error: unclosed quote");
}

#[test]
fn billion_laughs_returns_quickly() {
    let mut text = String::from("x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..=10 {
        let refs = vec![format!("*x{}", i - 1); 10].join(", ");
        text.push_str(&format!("x{i}: &x{i} [{refs}]\n"));
    }
    text.push_str("jobs: {}\n");
    let started = std::time::Instant::now();
    let all = errors(&text);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(all.len(), 1, "{all:#?}");
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let text = format!(
        "jobs:\n  a:\n    env: {}{}\n",
        "{a: ".repeat(5000),
        "}".repeat(5000)
    );
    let all = errors(&text);
    assert_eq!(all.len(), 1, "{all:#?}");
}

// ---- keys ----

#[test]
fn unknown_top_level_key_suggests_the_closest() {
    let d = error_at(&format!("timezon: UTC\n{}", job("a", "")), 1, 1);
    assert_eq!(d.message, "unknown key 'timezon' at the top level");
    assert_eq!(d.hint.as_deref(), Some("did you mean 'timezone'?"));
    assert_eq!(d.job, None);
}

#[test]
fn unknown_job_key_suggests_the_closest() {
    let d = error_at(&job("backup", "    tiemout: 5m\n"), 5, 5);
    assert_eq!(d.message, "unknown key 'tiemout' in a job");
    assert_eq!(d.hint.as_deref(), Some("did you mean 'timeout'?"));
    assert_eq!(d.job.as_deref(), Some("backup"));
    assert_eq!(
        d.to_string(),
        "/etc/sundial/jobs.yaml:5:5: job 'backup': unknown key 'tiemout' in a job\n  hint: did you mean 'timeout'?"
    );
}

#[test]
fn unknown_key_without_a_close_match_lists_the_valid_ones() {
    let d = error_at(&job("a", "    log: { frobnicate: 1 }\n"), 5, 12);
    assert_eq!(d.message, "unknown key 'frobnicate' in `log`");
    assert_eq!(
        d.hint.as_deref(),
        Some("valid keys in `log`: max_size, keep, compress, timestamps")
    );
}

#[test]
fn unknown_keys_in_nested_maps() {
    let text = job(
        "a",
        "    retry: { atempts: 3 }\n    webhook: { url: 'http://x', onn: [failure] }\n    limits: { nicce: 3 }\n    env: { T: { from_fille: x } }\n",
    );
    let all = errors(&text);
    let found: Vec<_> = all
        .iter()
        .map(|d| (d.line, d.column, d.hint.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        found,
        [
            (5, 14, "did you mean 'attempts'?"),
            (6, 33, "did you mean 'on'?"),
            (7, 15, "did you mean 'nice'?"),
            (8, 17, "did you mean 'from_file'?"),
        ]
    );
}

#[test]
fn job_setting_at_the_top_level_is_explained() {
    let d = error_at(&format!("timeout: 5m\n{}", job("a", "")), 1, 1);
    assert!(d.message.contains("job setting"), "{d}");
    assert!(d.hint.unwrap().contains("defaults:"));
}

#[test]
fn job_outside_jobs_is_explained() {
    let text = "backup:\n  schedule: '@daily'\n  command: x\njobs: {}\n";
    let d = error_at(text, 1, 1);
    assert!(d.hint.unwrap().contains("indent it under `jobs:`"));
}

#[test]
fn top_level_setting_in_a_job_is_explained() {
    let d = error_at(&job("a", "    sendmail: /usr/bin/msmtp\n"), 5, 5);
    assert!(d.message.contains("top-level setting"), "{d}");
}

#[test]
fn duplicate_keys_are_reported_with_the_first_position() {
    let d = error_at(&job("a", "    timeout: 5m\n    timeout: 6m\n"), 6, 5);
    assert_eq!(
        d.message,
        "duplicate key 'timeout' (first at line 5, column 5)"
    );
}

#[test]
fn duplicate_job_names_are_reported() {
    let text = "jobs:\n  a: { schedule: '@daily', command: x }\n  b: { schedule: '@daily', command: y }\n  a: { schedule: '@daily', command: z }\n";
    let d = error_at(text, 4, 3);
    assert_eq!(
        d.message,
        "duplicate job name 'a' (first at line 2, column 3)"
    );
}

// ---- jobs ----

#[test]
fn bad_job_names() {
    let text = "jobs:\n  back up: { schedule: '@daily', command: x }\n  sundial: { schedule: '@daily', command: x }\n  '..': { schedule: '@daily', command: x }\n";
    let all = errors(text);
    assert_eq!(all.len(), 3, "{all:#?}");
    assert_eq!((all[0].line, all[0].column), (2, 3));
    assert_eq!(
        all[0].message,
        "invalid job name 'back up': ' ' is not allowed"
    );
    assert_eq!(
        all[0].hint.as_deref(),
        Some("use letters, digits, '_', '.' and '-' only, e.g. 'back-up'")
    );
    assert_eq!(all[0].job.as_deref(), Some("back up"));
    assert_eq!((all[1].line, all[1].column), (3, 3));
    assert!(all[1].message.contains("'sundial'"));
    assert_eq!((all[2].line, all[2].column), (4, 3));
}

#[test]
fn missing_schedule_and_command_point_at_the_job_name() {
    let all = errors("jobs:\n  backup:\n    description: x\n");
    let found: Vec<_> = all
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [(2, 3, "missing `schedule`"), (2, 3, "missing `command`")]
    );
}

#[test]
fn job_without_settings() {
    let d = error_at("jobs:\n  backup:\n", 2, 3);
    assert_eq!(d.message, "the job has no settings");
}

#[test]
fn job_that_is_not_a_map() {
    let d = error_at("jobs:\n  backup: tar czf x\n", 2, 11);
    assert_eq!(
        d.message,
        "expected a map of job settings (schedule, command, ...), got 'tar czf x'"
    );
}

#[test]
fn jobs_that_is_not_a_map() {
    let d = error_at("jobs: [a, b]\n", 1, 7);
    assert_eq!(
        d.message,
        "expected a map of jobs (name: settings), got a list"
    );
}

// ---- schedules ----

#[test]
fn bad_expression_is_positioned_inside_the_scalar() {
    // Plain: the field `61` starts at column 15.
    let d = error_at(
        "jobs:\n  a:\n    schedule: 0 61 * * *\n    command: x\n",
        3,
        17,
    );
    assert!(
        d.message.starts_with("invalid schedule '0 61 * * *': "),
        "{d}"
    );
    // Double quotes: one more for the quote.
    error_at(
        "jobs:\n  a:\n    schedule: \"0 61 * * *\"\n    command: x\n",
        3,
        18,
    );
    // Single quotes.
    error_at(
        "jobs:\n  a:\n    schedule: '0 61 * * *'\n    command: x\n",
        3,
        18,
    );
    // Flow map.
    error_at(
        "jobs:\n  a: { schedule: '0 61 * * *', command: x }\n",
        2,
        21,
    );
}

#[test]
fn escaped_expression_falls_back_to_the_scalar_start() {
    error_at(
        "jobs:\n  a:\n    schedule: \"0\\x2061 * * *\"\n    command: x\n",
        3,
        15,
    );
}

#[test]
fn empty_schedule() {
    let d = error_at("jobs:\n  a:\n    schedule: ''\n    command: x\n", 3, 15);
    assert!(d.message.contains("got an empty value"), "{d}");
}

// ---- commands ----

#[test]
fn command_forms() {
    let text = "jobs:\n  a:\n    schedule: '@daily'\n    command: ''\n  b:\n    schedule: '@daily'\n    command: []\n  c:\n    schedule: '@daily'\n    command: { run: x }\n  d:\n    schedule: '@daily'\n    command: [x, [y]]\n";
    let all = errors(text);
    let found: Vec<_> = all
        .iter()
        .map(|d| (d.line, d.column, d.job.as_deref().unwrap()))
        .collect();
    assert_eq!(
        found,
        [(4, 14, "a"), (7, 14, "b"), (10, 14, "c"), (13, 18, "d")]
    );
    assert_eq!(all[0].message, "the command is empty");
    assert_eq!(all[1].message, "the command list is empty");
    assert!(all[2].message.starts_with("expected a command: a string"));
    assert_eq!(
        all[3].message,
        "`command`: expected a program argument (a string), got a list"
    );
}

#[test]
fn on_failure_takes_a_string_or_a_list() {
    let config = ok(&job("a", "    on_failure: notify-send failed\n"));
    assert_eq!(
        config.jobs[0].on_failure,
        Some(Command::Shell("notify-send failed".into()))
    );
    let d = error_at(&job("a", "    on_failure: []\n"), 5, 17);
    assert_eq!(d.message, "`on_failure`: the command list is empty");
}

#[test]
fn multi_line_command_is_kept() {
    let config =
        ok("jobs:\n  a:\n    schedule: '@daily'\n    command: |\n      set -e\n      backup\n");
    assert_eq!(
        config.jobs[0].command,
        Command::Shell("set -e\nbackup\n".into())
    );
}

// ---- values ----

#[test]
fn wrong_types_say_what_was_expected() {
    let text = job(
        "a",
        "    timeout: [1, 2]\n    enabled: yes\n    log: { max_size: { a: 1 }, keep: x }\n    limits: { nice: 1.5 }\n    description: [x]\n",
    );
    let all = errors(&text);
    let found: Vec<_> = all
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str(), d.hint.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            (
                5,
                14,
                "`timeout`: expected a duration like 30s, 5m or 1h30m, got a list",
                None
            ),
            (
                6,
                14,
                "`enabled`: expected true or false, got 'yes'",
                Some("write true")
            ),
            (
                7,
                22,
                "`log.max_size`: expected a size like 512KiB, 10MiB or 1GB, got a map",
                None
            ),
            (7, 38, "expected `keep` (a whole number), got 'x'", None),
            (
                8,
                21,
                "expected `nice` (a whole number), got the number 1.5",
                None
            ),
            (9, 18, "expected a description, got a list", None),
        ]
    );
}

#[test]
fn durations_are_checked() {
    let text = job(
        "a",
        "    timeout: 0s\n    kill_grace: 5\n    jitter: 1.5m\n    retry: { attempts: 2, delay: 2h }\n",
    );
    let all = errors(&text);
    let found: Vec<_> = all
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                5,
                14,
                "`timeout`: the duration must be more than zero, got '0s'"
            ),
            (6, 17, "`kill_grace`: '5' needs a unit: write 5s, 5m or 5h"),
            (
                7,
                13,
                "`jitter`: fractions are not supported in durations, got '1.5m': combine units instead, like 1h30m"
            ),
            (8, 34, "the retry delay must be at most 1h"),
        ]
    );
    let d = error_at(&job("a", "    timeout: 400d\n"), 5, 14);
    assert_eq!(
        d.message,
        "`timeout`: the duration '400d' is longer than a year"
    );
}

#[test]
fn zero_jitter_is_no_jitter() {
    assert_eq!(ok(&job("a", "    jitter: 0s\n")).jobs[0].jitter, None);
}

#[test]
fn retry_bounds_and_shorthand() {
    let config = ok(&job("a", "    retry: 2\n"));
    assert_eq!(
        config.jobs[0].retry,
        Some(Retry {
            attempts: 2,
            delay: Duration::from_secs(30)
        })
    );
    let d = error_at(&job("a", "    retry: { attempts: 1000 }\n"), 5, 24);
    assert_eq!(
        d.message,
        "retry attempts must be between 0 and 100, got 1000"
    );
    let d = error_at(&job("a", "    retry: { attempts: -1 }\n"), 5, 24);
    assert_eq!(
        d.message,
        "retry attempts must be between 0 and 100, got -1"
    );
}

#[test]
fn sizes_and_limits_are_checked() {
    let text = job(
        "a",
        "    log: { max_size: 10, keep: 0 }\n    limits: { nice: 20, memory: 1KiB, cpu_time: 1500ms, open_files: 0, processes: many }\n",
    );
    let all = errors(&text);
    let found: Vec<_> = all
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                5,
                22,
                "`log.max_size`: the size must be at least 1KiB, got '10'"
            ),
            (5, 32, "`keep` must be between 1 and 1000, got 0"),
            (6, 21, "`nice` must be between -20 and 19, got 20"),
            (
                6,
                33,
                "`limits.memory`: the size must be at least 1MiB, got '1KiB'"
            ),
            (6, 49, "`cpu_time` is counted in whole seconds"),
            (6, 69, "`open_files` must be between 1 and 1048576, got 0"),
            (6, 83, "expected `processes` (a whole number), got 'many'"),
        ]
    );
    assert_eq!(
        ok(&job("a", "    limits: { nice: -20 }\n")).jobs[0]
            .limits
            .nice,
        Some(-20)
    );
}

#[test]
fn umask_is_read_as_octal_text() {
    for (written, expected) in [
        ("0022", 0o022),
        ("022", 0o022),
        ("\"0027\"", 0o027),
        ("'0027'", 0o027),
        ("0o027", 0o027),
        ("77", 0o077),
        ("0", 0),
        ("0777", 0o777),
    ] {
        let config = ok(&format!("umask: {written}\njobs: {{}}\n"));
        assert_eq!(config.umask, expected, "umask: {written}");
    }
    let d = error_at("umask: 0028\njobs: {}\n", 1, 8);
    assert_eq!(
        d.message,
        "expected an octal umask like 0022 or 0027, got '0028'"
    );
    let d = error_at("umask: 01777\njobs: {}\n", 1, 8);
    assert_eq!(d.message, "umask '01777' is too large: the largest is 0777");
    let d = error_at("umask: [1]\njobs: {}\n", 1, 8);
    assert_eq!(d.message, "expected an octal umask like 0022, got a list");
}

#[test]
fn top_level_umask_is_the_jobs_default() {
    let config = ok(&format!("umask: 0077\n{}", job("a", "")));
    assert_eq!(config.jobs[0].umask, 0o077);
    let config = ok(&format!("umask: 0077\n{}", job("a", "    umask: 0002\n")));
    assert_eq!(config.jobs[0].umask, 0o002);
}

#[test]
fn overlap_values() {
    assert_eq!(
        ok(&job("a", "    overlap: queue\n")).jobs[0].overlap,
        Overlap::Queue
    );
    assert_eq!(
        ok(&job("a", "    overlap: allow\n")).jobs[0].overlap,
        Overlap::Allow
    );
    let d = error_at(&job("a", "    overlap: skipp\n"), 5, 14);
    assert_eq!(d.message, "unknown overlap policy 'skipp'");
    assert_eq!(d.hint.as_deref(), Some("did you mean 'skip'?"));
}

#[test]
fn webhook_rules() {
    let config = ok(&job("a", "    webhook: https://hooks.example.com/x\n"));
    assert_eq!(
        config.jobs[0].webhook.as_ref().unwrap().on,
        [WebhookEvent::Failure, WebhookEvent::Recovery]
    );
    let text = job(
        "a",
        "    webhook: { url: ftp://x, on: [failure, sucess] }\n",
    );
    let all = errors(&text);
    let found: Vec<_> = all
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str(), d.hint.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            (
                5,
                21,
                "invalid webhook URL 'ftp://x'",
                Some("write an http:// or https:// URL, like https://hooks.example.com/sundial")
            ),
            (
                5,
                44,
                "unknown webhook event 'sucess'",
                Some("did you mean 'success'?")
            ),
        ]
    );
    let d = error_at(&job("a", "    webhook: { on: [failure] }\n"), 5, 14);
    assert_eq!(d.message, "`webhook` needs `url`");
    let d = error_at(
        &job("a", "    webhook: { url: 'https://x', on: [] }\n"),
        5,
        38,
    );
    assert!(d.message.contains("never be called"), "{d}");
    error_at(&job("a", "    webhook: 'https:///path'\n"), 5, 14);
}

#[test]
fn mail_to_forms() {
    assert_eq!(
        ok(&job("a", "    mail_to: root\n")).jobs[0].mail_to,
        ["root"]
    );
    assert_eq!(
        ok(&job("a", "    mail_to: [a@x.org, b@y.org]\n")).jobs[0].mail_to,
        ["a@x.org", "b@y.org"]
    );
    assert!(
        ok(&job("a", "    mail_to: ''\n")).jobs[0]
            .mail_to
            .is_empty()
    );
    let d = error_at(&job("a", "    mail_to: \"a@x.org\\nBcc: evil@y\"\n"), 5, 14);
    assert!(
        d.message.starts_with("`mail_to`: invalid mail address"),
        "{d}"
    );
}

#[test]
fn metrics_listen_must_be_a_socket_address() {
    let d = error_at("metrics: { listen: 'localhost:9464' }\njobs: {}\n", 1, 20);
    assert_eq!(
        d.message,
        "`listen` must be an IP address and port, got 'localhost:9464'"
    );
    assert_eq!(
        d.hint.as_deref(),
        Some("host names are not resolved: write 127.0.0.1:9464 or [::1]:9464")
    );
    let d = error_at("metrics: { listen: ':9464' }\njobs: {}\n", 1, 20);
    assert!(d.hint.unwrap().contains("0.0.0.0:9464"));
    let d = error_at("metrics: {}\njobs: {}\n", 1, 10);
    assert_eq!(d.message, "`metrics` needs `listen`");
    let config = ok("metrics: { listen: '[::1]:9464' }\njobs: {}\n");
    assert_eq!(config.metrics.unwrap().listen.port(), 9464);
}

#[test]
fn env_rules() {
    let text = job("a", "    env: { '': x, A=B: y, EMPTY: ~, LIST: [1] }\n");
    let all = errors(&text);
    let found: Vec<_> = all
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (5, 12, "invalid environment variable name ''"),
            (5, 19, "invalid environment variable name 'A=B'"),
            (5, 34, "`EMPTY` has no value"),
            (
                5,
                43,
                "`env`: expected a string, a number, true/false or { from_file: PATH }, got a list"
            ),
        ]
    );
    let config = ok(&job("a", "    env: { EMPTY: '' }\n"));
    assert_eq!(
        config.jobs[0].env,
        [("EMPTY".to_owned(), EnvValue::Literal(String::new()))]
    );
}

// ---- time zones ----

#[test]
fn unknown_time_zone_suggests_names() {
    let d = error_at(&format!("timezone: Europe/Berln\n{}", job("a", "")), 1, 11);
    assert_eq!(d.message, "unknown time zone 'Europe/Berln'");
    assert_eq!(d.hint.as_deref(), Some("did you mean 'Europe/Berlin'?"));
    let d = error_at(&job("a", "    timezone: Berlin\n"), 5, 15);
    assert_eq!(d.hint.as_deref(), Some("did you mean 'Europe/Berlin'?"));
    let d = error_at(&job("a", "    timezone: Nowhere/Special\n"), 5, 15);
    assert!(d.hint.unwrap().contains("IANA name"));
}

#[test]
fn time_zone_precedence() {
    let text = "timezone: Asia/Tokyo\ndefaults: { timezone: Europe/Paris }\njobs:\n  a: { schedule: '@daily', command: x }\n  b: { schedule: '@daily', command: x, timezone: UTC }\n  c: { schedule: '@daily', command: x, timezone: ~ }\n  d: { schedule: '@daily', command: x, timezone: local }\n";
    let config = ok(text);
    assert_eq!(config.timezone.name, "Asia/Tokyo");
    let zones: Vec<_> = config
        .jobs
        .iter()
        .map(|j| j.timezone.name.as_str())
        .collect();
    let local = jiff::tz::TimeZone::system();
    let local = local.iana_name().unwrap_or("local");
    assert_eq!(zones, ["Europe/Paris", "UTC", "Asia/Tokyo", local]);
}

// ---- users ----

#[test]
fn user_mode_may_not_switch_users() {
    let d = error_at(&job("a", "    user: root\n"), 5, 11);
    assert_eq!(
        d.message,
        "only root can switch users: sundial runs as 'alice' (user mode), the job asks for 'root'"
    );
    let d = error_at(&job("a", "    group: backup\n"), 5, 12);
    assert!(d.message.starts_with("only root can switch groups"), "{d}");
    ok(&job("a", "    user: alice\n    group: alice\n"));
}

#[test]
fn system_mode_checks_that_users_and_groups_exist() {
    let text = job("a", "    user: bob\n    group: nogroup\n");
    let all = errors_as(&text, Mode::System, &mut FakeHost::as_root());
    let found: Vec<_> = all
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (5, 11, "unknown user 'bob'"),
            (6, 12, "unknown group 'nogroup'")
        ]
    );
    let text = job("a", "    user: alice\n    group: backup\n");
    let config = load_as(&text, Mode::System, &mut FakeHost::as_root()).unwrap();
    assert_eq!(config.jobs[0].group.as_deref(), Some("backup"));
}

// ---- defaults ----

#[test]
fn defaults_apply_where_a_job_does_not_set_a_field() {
    let text = "\
defaults:
  timeout: 1h
  overlap: queue
  shell: /bin/bash
  mail_to: ops@example.com
  env: { PATH: /usr/bin, A: default, B: default }
  log: { max_size: 1MiB, keep: 3 }
  limits: { nice: 5, memory: 1GiB }
jobs:
  plain: { schedule: '@daily', command: x }
  custom:
    schedule: '@daily'
    command: x
    timeout: 5m
    env: { B: job, C: job }
    log: { keep: 9, compress: true }
    limits: { memory: 2GiB }
  reset:
    schedule: '@daily'
    command: x
    timeout: ~
    mail_to: ~
    env: ~
    log: ~
    limits: { nice: ~ }
";
    let config = ok(text);
    let [plain, custom, reset] = &config.jobs[..] else {
        panic!("three jobs")
    };
    assert_eq!(plain.timeout, Some(Duration::from_secs(3600)));
    assert_eq!(plain.overlap, Overlap::Queue);
    assert_eq!(plain.shell, PathBuf::from("/bin/bash"));
    assert_eq!(plain.mail_to, ["ops@example.com"]);
    assert_eq!(plain.env.len(), 3);
    assert_eq!(plain.log.max_size, 1 << 20);
    assert_eq!(plain.log.keep, 3);
    assert_eq!(plain.limits.nice, Some(5));

    assert_eq!(custom.timeout, Some(Duration::from_secs(300)));
    let lit = |s: &str| EnvValue::Literal(s.into());
    assert_eq!(
        custom.env,
        [
            ("PATH".to_owned(), lit("/usr/bin")),
            ("A".to_owned(), lit("default")),
            ("B".to_owned(), lit("job")),
            ("C".to_owned(), lit("job")),
        ]
    );
    assert_eq!(
        custom.log,
        LogSettings {
            max_size: 1 << 20,
            keep: 9,
            compress: true,
            timestamps: false
        }
    );
    assert_eq!(
        custom.limits,
        Limits {
            nice: Some(5),
            memory: Some(2 << 30),
            ..Limits::default()
        }
    );

    assert_eq!(reset.timeout, None);
    assert!(reset.mail_to.is_empty());
    assert!(reset.env.is_empty());
    assert_eq!(reset.log, LogSettings::default());
    assert_eq!(
        reset.limits,
        Limits {
            nice: None,
            memory: Some(1 << 30),
            ..Limits::default()
        }
    );
}

#[test]
fn defaults_refuse_schedule_and_command() {
    let text = format!(
        "defaults:\n  schedule: '@daily'\n  command: x\n{}",
        job("a", "")
    );
    let all = errors(&text);
    let found: Vec<_> = all
        .iter()
        .map(|d| (d.line, d.column, d.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (2, 3, "`schedule` cannot be a default"),
            (3, 3, "`command` cannot be a default")
        ]
    );
}

#[test]
fn an_error_in_defaults_is_reported_once() {
    let text = "defaults: { timeout: never }\njobs:\n  a: { schedule: '@daily', command: x }\n  b: { schedule: '@daily', command: x }\n";
    let d = error_at(text, 1, 22);
    assert_eq!(d.job, None);
}

#[test]
fn aliases_share_settings() {
    let text = "\
jobs:
  a:
    schedule: '@daily'
    command: x
    env: &common { A: '1' }
  b:
    schedule: '@daily'
    command: y
    env: *common
";
    let config = ok(text);
    assert_eq!(config.jobs[1].env, config.jobs[0].env);
}

// ---- paths ----

#[test]
fn relative_paths_resolve_against_the_config_folder() {
    let text = "log_dir: logs\nstate_dir: ../state\nsendmail: ./bin/mailer\njobs:\n  a:\n    schedule: '@daily'\n    command: x\n    workdir: work/./dir\n    shell: ./bin/sh\n    env: { S: { from_file: secrets/s } }\n";
    let config = ok(text);
    assert_eq!(config.log_dir, Some(PathBuf::from("/etc/sundial/logs")));
    assert_eq!(
        config.state_dir,
        Some(PathBuf::from("/etc/sundial/../state"))
    );
    assert_eq!(config.sendmail, PathBuf::from("/etc/sundial/bin/mailer"));
    let job = &config.jobs[0];
    assert_eq!(job.workdir, Some(PathBuf::from("/etc/sundial/work/dir")));
    assert_eq!(job.shell, PathBuf::from("/etc/sundial/bin/sh"));
    assert_eq!(
        job.env[0].1,
        EnvValue::FromFile(PathBuf::from("/etc/sundial/secrets/s"))
    );
}

#[test]
fn tilde_is_not_expanded() {
    let d = error_at("log_dir: ~/logs\njobs: {}\n", 1, 10);
    assert_eq!(
        d.message,
        "`log_dir`: '~' is not expanded in paths, got '~/logs'"
    );
    assert!(d.hint.unwrap().starts_with("write the full path"));
}

#[test]
fn programs_need_a_path() {
    let d = error_at(&job("a", "    shell: sh\n"), 5, 12);
    assert_eq!(
        d.message,
        "`shell`: 'sh' is not a path: programs are not looked up in PATH"
    );
    // /bin/sh exists on every machine this runs on.
    assert!(d.hint.unwrap().ends_with("/sh?"));
}

// ---- system mode: secrets ----

#[test]
fn system_mode_checks_secret_files() {
    let text = "defaults:\n  env: { A: { from_file: /etc/sundial/a } }\njobs:\n  j:\n    schedule: '@daily'\n    command: x\n    env: { B: { from_file: b }, C: { from_file: /missing } }\n";
    let mut host = FakeHost::as_root();
    host.files.insert(
        "/etc/sundial/a".into(),
        FileStatus {
            uid: 0,
            mode: 0o100600,
        },
    );
    host.files.insert(
        "/etc/sundial/b".into(),
        FileStatus {
            uid: 1000,
            mode: 0o100666,
        },
    );
    // The missing file is a diagnostic at its `from_file` value.
    let all = errors_as(text, Mode::System, &mut host);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!((all[0].line, all[0].column), (7, 49));
    assert_eq!(all[0].job.as_deref(), Some("j"));
    assert_eq!(all[0].message, "the secret file /missing does not exist");

    host.files.insert(
        "/missing".into(),
        FileStatus {
            uid: 0,
            mode: 0o100400,
        },
    );
    match load_as(text, Mode::System, &mut host) {
        Err(err @ ConfigError::Insecure { .. }) => {
            let ConfigError::Insecure { files } = &err else {
                unreachable!()
            };
            assert_eq!(files.len(), 1);
            assert_eq!(files[0].path, PathBuf::from("/etc/sundial/b"));
            assert_eq!(
                files[0].fix,
                "chown root /etc/sundial/b && chmod go-w /etc/sundial/b"
            );
            assert_eq!(err.exit_code(), 78);
        }
        other => panic!("expected Insecure, got {other:?}"),
    }
    // User mode does not look at secrets: they belong to the user anyway.
    load_as(text, Mode::User, &mut FakeHost::as_alice()).unwrap();
}

// ---- the real file system ----

#[test]
fn load_reads_a_file_and_resolves_against_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.yaml");
    std::fs::write(&path, "log_dir: logs\njobs: {}\n").unwrap();
    let config = load(&path, Mode::User).unwrap();
    assert_eq!(config.path, path);
    assert_eq!(config.log_dir, Some(dir.path().join("logs")));
}

#[test]
fn load_refuses_an_insecure_file_in_system_mode() {
    // Files created here are not root's, so system mode must refuse them.
    if nix::unistd::geteuid().is_root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.yaml");
    std::fs::write(&path, "jobs: {}\n").unwrap();
    let err = load(&path, Mode::System).unwrap_err();
    assert!(matches!(err, ConfigError::Insecure { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("chown root {}", path.display()))
    );
}

#[test]
fn load_reports_a_missing_file_and_bad_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.yaml");
    let err = load(&path, Mode::User).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("cannot read {}", path.display()))
    );

    std::fs::write(&path, b"jobs:\n  a\xff: x\n").unwrap();
    let err = load(&path, Mode::User).unwrap_err();
    let d = &err.diagnostics()[0];
    assert_eq!((d.line, d.column), (2, 4));
    assert_eq!(d.message, "the file is not valid UTF-8");
}

#[test]
fn load_str_makes_the_path_absolute() {
    let config = load_str(
        "log_dir: logs\njobs: {}\n",
        Path::new("conf/jobs.yaml"),
        Mode::User,
    )
    .unwrap();
    assert!(config.path.is_absolute());
    assert!(config.log_dir.unwrap().ends_with("conf/logs"));
}

#[test]
fn many_jobs_load_quickly() {
    let mut text = String::from("defaults: { timeout: 1h, env: { A: x } }\njobs:\n");
    for i in 0..2000 {
        text.push_str(&format!(
            "  job{i}:\n    schedule: '*/5 * * * *'\n    command: echo {i}\n    timezone: Europe/Berlin\n"
        ));
    }
    let started = std::time::Instant::now();
    let config = ok(&text);
    assert_eq!(config.jobs.len(), 2000);
    // Debug build, shared machine: generous; the release figure is in the bench.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_misspelt_required_key_is_reported_once() {
    let d = error_at("jobs:\n  a:\n    schedule: '@daily'\n    comand: x\n", 4, 5);
    assert_eq!(d.hint.as_deref(), Some("did you mean 'command'?"));
    let d = error_at(&job("a", "    webhook: { ulr: 'https://x' }\n"), 5, 16);
    assert_eq!(d.hint.as_deref(), Some("did you mean 'url'?"));
}

#[test]
fn impossible_schedule_points_at_the_day() {
    let d = error_at(
        "jobs:\n  a:\n    schedule: \"0 0 30 2 *\"\n    command: x\n",
        3,
        20,
    );
    assert!(
        d.message.starts_with("invalid schedule '0 0 30 2 *': "),
        "{d}"
    );
    assert!(d.hint.is_some(), "the schedule parser's hint is passed on");
    let d = error_at(
        "jobs:\n  a:\n    schedule: '@every 0s'\n    command: x\n",
        3,
        23,
    );
    assert_eq!(d.job.as_deref(), Some("a"));
}

// ---- fixtures (also used by the integration tests) ----

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
}

#[test]
fn fixture_using_every_setting_loads() {
    let config = load(&fixture("valid.yaml"), Mode::User).unwrap();
    let names: Vec<_> = config.jobs.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["backup", "sync", "report"]);
    let sync = config.job("sync").unwrap();
    assert_eq!(sync.env.len(), 3);
    assert_eq!(
        sync.log,
        LogSettings {
            compress: true,
            ..LogSettings::default()
        }
    );
    assert!(config.job("report").unwrap().mail_to.is_empty());
    assert_eq!(config.job("backup").unwrap().mail_to, ["ops@example.com"]);
}

#[test]
fn fixture_with_three_mistakes_reports_three() {
    let err = load(&fixture("three-mistakes.yaml"), Mode::User).unwrap_err();
    let found: Vec<_> = err
        .diagnostics()
        .iter()
        .map(|d| (d.line, d.column))
        .collect();
    assert_eq!(found, [(3, 18), (5, 5), (9, 14)]);
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Whatever the text, loading returns a config or errors; it never
        /// panics. The alphabet is YAML's punctuation plus words it knows.
        #[test]
        fn on_any_text(text in r#"([a-z0-9 :{}\[\],'"&*!|>#~@%\-\n]|jobs: |schedule: |command: |umask: |<<: |  )*"#) {
            let _ = load_as(&text, Mode::User, &mut FakeHost::as_alice());
            let _ = load_as(&text, Mode::System, &mut FakeHost::as_root());
        }

        #[test]
        fn on_any_job_value(value in r#"[a-zA-Z0-9 .:/~*@'"\-\[\]{},]{0,30}"#) {
            for field in job::FIELDS {
                let text = format!("jobs:\n  a:\n    schedule: '@daily'\n    command: x\n    {field}: {value}\n");
                let _ = load_as(&text, Mode::User, &mut FakeHost::as_alice());
            }
        }
    }
}
