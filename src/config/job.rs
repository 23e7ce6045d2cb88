//! Job settings: reading one job's (or `defaults:`'s) map into [`Fields`],
//! and merging a job's fields over the defaults into a [`Job`].
//!
//! Merge rules (the docs record them):
//! - A field a job sets replaces the default; `env` merges per variable
//!   (the job's value wins), `log` and `limits` merge field by field.
//!   Everything else (`retry`, `webhook`, `mail_to`, ...) is replaced whole.
//! - A field set to null (`timeout: ~`) means "sundial's built-in default",
//!   ignoring `defaults:`; so `env: ~` drops the default variables and
//!   `mail_to: ~` turns off a default recipient.
//! - `defaults:` takes every job field except `schedule` and `command`,
//!   which only make sense per job.
//! - Time zone: the job's, else `defaults:`'s, else the top-level
//!   `timezone`, else the system's. The umask likewise falls back on the
//!   top-level `umask` (the daemon's own), else 0022.
//!
//! Defaults are validated once, where they are written: an error in
//! `defaults:` is reported once, not once per job.

use std::path::PathBuf;
use std::time::Duration;

use super::tree::{Kind, Node};
use super::validate::{Ctx, Entry, FileDefaults, TOP_LEVEL_KEYS};
use super::{
    Command, EnvValue, Job, Limits, LogSettings, Overlap, Retry, Tz, Webhook, WebhookEvent,
};
use crate::schedule::Schedule;

/// Every key a job accepts.
pub(super) const FIELDS: &[&str] = &[
    "schedule",
    "command",
    "description",
    "enabled",
    "timezone",
    "shell",
    "workdir",
    "user",
    "group",
    "env",
    "umask",
    "timeout",
    "kill_grace",
    "overlap",
    "retry",
    "jitter",
    "catch_up",
    "on_failure",
    "mail_to",
    "webhook",
    "log",
    "limits",
];

/// A job name is used in log file names and on the command line.
const MAX_NAME_LEN: usize = 200;

/// Where a set of fields is written.
#[derive(Clone, Copy)]
pub(super) enum Place<'n> {
    Defaults,
    /// A job, with its name's key node (for "missing schedule" positions).
    Job(&'n Node),
}

/// A setting as written: `None` when absent (inherit from `defaults:`),
/// `Some(None)` when explicitly null (the built-in default), `Some(Some(v))`
/// when set.
type Setting<T> = Option<Option<T>>;

/// The fields of one job or of `defaults:`, before merging. Invalid values
/// are absent (their error is already reported).
#[derive(Default)]
pub(super) struct Fields {
    schedule: Option<(Schedule, String)>,
    command: Option<Command>,
    description: Setting<String>,
    enabled: Setting<bool>,
    timezone: Setting<Tz>,
    shell: Setting<PathBuf>,
    workdir: Setting<PathBuf>,
    user: Setting<String>,
    group: Setting<String>,
    env: Setting<Vec<(String, EnvValue)>>,
    umask: Setting<u32>,
    timeout: Setting<Duration>,
    kill_grace: Setting<Duration>,
    overlap: Setting<Overlap>,
    retry: Setting<Retry>,
    jitter: Setting<Duration>,
    catch_up: Setting<bool>,
    on_failure: Setting<Command>,
    mail_to: Setting<Vec<String>>,
    webhook: Setting<Webhook>,
    log: Setting<LogFields>,
    limits: Setting<LimitFields>,
}

#[derive(Default, Clone, Copy)]
struct LogFields {
    max_size: Setting<u64>,
    keep: Setting<u32>,
    compress: Setting<bool>,
    timestamps: Setting<bool>,
}

#[derive(Default, Clone, Copy)]
struct LimitFields {
    nice: Setting<i32>,
    memory: Setting<u64>,
    cpu_time: Setting<Duration>,
    open_files: Setting<u64>,
    processes: Setting<u64>,
}

/// Reports a bad job name; `true` when the name is usable.
pub(super) fn check_name(ctx: &mut Ctx<'_>, entry: &Entry<'_>) -> bool {
    let name = entry.name.as_ref();
    let bad_char = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_.-".contains(*c)));
    let problem = if name.is_empty() {
        Some((
            "a job name cannot be empty".to_owned(),
            Some("name the job, e.g. 'backup'".into()),
        ))
    } else if let Some(c) = bad_char {
        let suggestion: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        Some((
            format!("invalid job name '{name}': {c:?} is not allowed"),
            Some(format!(
                "use letters, digits, '_', '.' and '-' only, e.g. '{suggestion}'"
            )),
        ))
    } else if name == "." || name == ".." {
        Some((
            format!("invalid job name '{name}'"),
            Some("job names become file names; use letters or digits".into()),
        ))
    } else if name.len() > MAX_NAME_LEN {
        Some((
            format!(
                "the job name is {} characters long, more than {MAX_NAME_LEN}",
                name.len()
            ),
            Some("job names become file names; shorten it".into()),
        ))
    } else if name == "sundial" {
        Some((
            "a job cannot be called 'sundial'".to_owned(),
            Some("sundial.log is the daemon's own log file; pick another name".into()),
        ))
    } else {
        None
    };
    match problem {
        Some((message, hint)) => {
            ctx.error(entry.key.pos, message, hint);
            false
        }
        None => true,
    }
}

/// Reads the settings map of a job or of `defaults:`.
pub(super) fn fields(ctx: &mut Ctx<'_>, node: &Node, place: Place<'_>) -> Option<Fields> {
    let what = match place {
        Place::Defaults => "a map of job settings",
        Place::Job(_) => "a map of job settings (schedule, command, ...)",
    };
    if let (Kind::Seq(_), Place::Job(_)) = (&node.kind, place) {
        ctx.error(
            node.pos,
            format!("expected {what}, got a list"),
            Some("remove the `- ` before each setting: they are `key: value` lines".into()),
        );
        return None;
    }
    let entries = ctx.entries(node, what)?;
    let mut f = Fields::default();
    let mut has_schedule = false;
    let mut has_command = false;
    // Keys suggested for typos: `comand:` is reported once, as a typo, not
    // again as a missing `command`.
    let mut suggested = Vec::new();
    for entry in &entries {
        let v = entry.value;
        let saved = ctx.enter(&entry.name);
        match (entry.name.as_ref(), place) {
            ("schedule" | "command", Place::Defaults) => ctx.error(
                entry.key.pos,
                format!("`{}` cannot be a default", entry.name),
                Some(format!("set `{}` in each job", entry.name)),
            ),
            ("schedule", _) => {
                has_schedule = true;
                f.schedule = ctx.schedule(v);
            }
            ("command", _) => {
                has_command = true;
                f.command = ctx.command(v);
            }
            ("description", _) => f.description = setting(v, |v| ctx.text(v, "a description")),
            ("enabled", _) => f.enabled = setting(v, |v| ctx.boolean(v)),
            ("timezone", _) => f.timezone = setting(v, |v| ctx.zone(v)),
            ("shell", _) => f.shell = setting(v, |v| ctx.program(v)),
            ("workdir", _) => f.workdir = setting(v, |v| ctx.path(v)),
            ("user", _) => f.user = setting(v, |v| ctx.user(v)),
            ("group", _) => f.group = setting(v, |v| ctx.group(v)),
            ("env", _) => f.env = setting(v, |v| env(ctx, v)),
            ("umask", _) => f.umask = setting(v, |v| ctx.umask(v)),
            ("timeout", _) => f.timeout = setting(v, |v| ctx.duration(v, Duration::from_millis(1))),
            ("kill_grace", _) => f.kill_grace = setting(v, |v| ctx.duration(v, Duration::ZERO)),
            ("overlap", _) => f.overlap = setting(v, |v| overlap(ctx, v)),
            ("retry", _) => f.retry = setting(v, |v| retry(ctx, v)),
            // A zero jitter is no jitter.
            ("jitter", _) => {
                f.jitter = setting(v, |v| ctx.duration(v, Duration::ZERO))
                    .map(|j| j.filter(|d| !d.is_zero()))
            }
            ("catch_up", _) => f.catch_up = setting(v, |v| ctx.boolean(v)),
            ("on_failure", _) => f.on_failure = setting(v, |v| ctx.command(v)),
            ("mail_to", _) => f.mail_to = setting(v, |v| mail_to(ctx, v)),
            ("webhook", _) => f.webhook = setting(v, |v| webhook(ctx, v)),
            ("log", _) => f.log = setting(v, |v| log(ctx, v)),
            ("limits", _) => f.limits = setting(v, |v| limits(ctx, v)),
            (name, _) if TOP_LEVEL_KEYS.contains(&name) => ctx.error(
                entry.key.pos,
                format!("'{name}' is a top-level setting, not a job setting"),
                Some(format!(
                    "move `{name}:` to the top of the file, without indentation"
                )),
            ),
            (_, Place::Defaults) => {
                ctx.unknown_key(entry, &FIELDS[2..], "in `defaults`");
            }
            (_, Place::Job(_)) => suggested.extend(ctx.unknown_key(entry, FIELDS, "in a job")),
        }
        ctx.key = saved;
    }
    if let Place::Job(key) = place {
        if !has_schedule && !suggested.contains(&"schedule") {
            ctx.error(
                key.pos,
                "missing `schedule`",
                Some("add e.g. schedule: \"30 2 * * *\" (every day at 02:30)".into()),
            );
        }
        if !has_command && !suggested.contains(&"command") {
            ctx.error(
                key.pos,
                "missing `command`",
                Some("add e.g. command: /usr/local/bin/backup".into()),
            );
        }
    }
    Some(f)
}

/// Reads a setting: null is `Some(None)`, an invalid value `None` (so the
/// job is not built, its error being reported already).
fn setting<T>(node: &Node, read: impl FnOnce(&Node) -> Option<T>) -> Setting<T> {
    if node.is_null() {
        Some(None)
    } else {
        read(node).map(Some)
    }
}

fn env(ctx: &mut Ctx<'_>, node: &Node) -> Option<Vec<(String, EnvValue)>> {
    let entries = ctx.entries(node, "a map of environment variables (NAME: value)")?;
    let mut vars = Vec::with_capacity(entries.len());
    for entry in &entries {
        let name = &entry.name;
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            ctx.error(
                entry.key.pos,
                format!("invalid environment variable name '{name}'"),
                Some("a name cannot be empty or contain '='".into()),
            );
            continue;
        }
        let value = match &entry.value.kind {
            Kind::Map(_) => from_file(ctx, entry.value),
            Kind::Null => {
                ctx.error(
                    entry.value.pos,
                    format!("`{name}` has no value"),
                    Some(format!("write {name}: '' for an empty value, or remove it")),
                );
                None
            }
            _ => ctx
                .text(
                    entry.value,
                    "a string, a number, true/false or { from_file: PATH }",
                )
                .map(EnvValue::Literal),
        };
        if let Some(value) = value {
            vars.push((name.to_string(), value));
        }
    }
    Some(vars)
}

fn from_file(ctx: &mut Ctx<'_>, node: &Node) -> Option<EnvValue> {
    let entries = ctx.entries(node, "{ from_file: PATH }")?;
    let mut path = None;
    let mut unknown = false;
    for entry in &entries {
        match entry.name.as_ref() {
            "from_file" => path = Some(entry.value),
            _ => {
                ctx.unknown_key(entry, &["from_file"], "in an environment value");
                unknown = true;
            }
        }
    }
    let Some(path_node) = path else {
        // A misspelt key was reported already; "missing" would repeat it.
        if unknown {
            return None;
        }
        ctx.error(
            node.pos,
            "an environment value map needs `from_file`",
            Some("write { from_file: /etc/sundial/secret }".into()),
        );
        return None;
    };
    let path = ctx.path(path_node)?;
    ctx.secrets
        .push((path.clone(), path_node.pos, ctx.job.clone()));
    Some(EnvValue::FromFile(path))
}

fn overlap(ctx: &mut Ctx<'_>, node: &Node) -> Option<Overlap> {
    let all = [
        Overlap::Skip,
        Overlap::Queue,
        Overlap::Allow,
        Overlap::Replace,
    ];
    let word = ctx.word(node, "overlap policy", &all.map(Overlap::as_str))?;
    all.into_iter().find(|o| o.as_str() == word)
}

const RETRY_MAX_ATTEMPTS: i64 = 100;
const RETRY_DEFAULT_DELAY: Duration = Duration::from_secs(30);
const RETRY_MAX_DELAY: Duration = Duration::from_secs(3600);

/// `retry: { attempts: N, delay: D }`, or `retry: N` with the default delay.
fn retry(ctx: &mut Ctx<'_>, node: &Node) -> Option<Retry> {
    let attempts_range = 0..=RETRY_MAX_ATTEMPTS;
    // `retry: 3` (and `retry: 3.5`, refused as not a whole number).
    if let Kind::Int(_) | Kind::Float(_) = node.kind {
        let attempts = ctx.integer(node, "retry attempts", attempts_range)?;
        return Some(Retry {
            attempts: u32::try_from(attempts).ok()?,
            delay: RETRY_DEFAULT_DELAY,
        });
    }
    let entries = ctx.entries(node, "a map like { attempts: 3, delay: 30s }")?;
    let mut attempts = None;
    let mut delay = Some(RETRY_DEFAULT_DELAY);
    let mut ok = true;
    let mut unknown = false;
    for entry in &entries {
        let saved = ctx.enter(&entry.name);
        match entry.name.as_ref() {
            "attempts" => {
                attempts = ctx.integer(entry.value, "retry attempts", attempts_range.clone());
                ok &= attempts.is_some();
            }
            "delay" => {
                delay = ctx.duration(entry.value, Duration::from_secs(1));
                if delay.is_some_and(|d| d > RETRY_MAX_DELAY) {
                    ctx.error(
                        entry.value.pos,
                        "the retry delay must be at most 1h",
                        Some("the delay doubles after each attempt, up to 1h".into()),
                    );
                    delay = None;
                }
                ok &= delay.is_some();
            }
            _ => {
                ctx.unknown_key(entry, &["attempts", "delay"], "in `retry`");
                unknown = true;
            }
        }
        ctx.key = saved;
    }
    if attempts.is_none() && ok && !unknown {
        ctx.error(
            node.pos,
            "`retry` needs `attempts`",
            Some("write e.g. retry: { attempts: 3, delay: 30s }".into()),
        );
    }
    Some(Retry {
        attempts: u32::try_from(attempts?).ok()?,
        delay: delay?,
    })
}

/// `mail_to`: an address, several separated by commas (like MAILTO), or a
/// list. An empty string means no mail.
fn mail_to(ctx: &mut Ctx<'_>, node: &Node) -> Option<Vec<String>> {
    let items: Vec<&Node> = match &node.kind {
        Kind::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut addresses = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(text) = ctx.text(item, "a mail address or a list of them") else {
            ok = false;
            continue;
        };
        for address in text.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            // Control characters would let a value inject mail headers.
            if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
                ctx.error(
                    item.pos,
                    format!("invalid mail address '{}'", address.escape_debug()),
                    Some("separate several addresses with commas, or write a list".into()),
                );
                ok = false;
            } else {
                addresses.push(address.to_owned());
            }
        }
    }
    ok.then_some(addresses)
}

/// `webhook: { url, on: [failure, recovery, success] }`, or just the URL.
fn webhook(ctx: &mut Ctx<'_>, node: &Node) -> Option<Webhook> {
    let mut url_node = None;
    let mut on = Some(vec![WebhookEvent::Failure, WebhookEvent::Recovery]);
    let mut unknown = false;
    if let Kind::Str(_) = node.kind {
        url_node = Some(node);
    } else {
        let entries = ctx.entries(node, "a map like { url: https://..., on: [failure] }")?;
        for entry in &entries {
            match entry.name.as_ref() {
                "url" => url_node = Some(entry.value),
                "on" => on = webhook_events(ctx, entry.value),
                _ => {
                    ctx.unknown_key(entry, &["url", "on"], "in `webhook`");
                    unknown = true;
                }
            }
        }
    }
    let Some(url_node) = url_node else {
        if unknown {
            return None;
        }
        ctx.error(
            node.pos,
            "`webhook` needs `url`",
            Some("write e.g. webhook: { url: https://hooks.example.com/sundial }".into()),
        );
        return None;
    };
    let url = ctx.non_empty(url_node, "a URL")?.trim().to_owned();
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let host_ok = rest.is_some_and(|r| !r.starts_with(['/', '?', '#']) && !r.is_empty());
    if !host_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        ctx.error(
            url_node.pos,
            format!("invalid webhook URL '{}'", url.escape_debug()),
            Some("write an http:// or https:// URL, like https://hooks.example.com/sundial".into()),
        );
        return None;
    }
    Some(Webhook { url, on: on? })
}

fn webhook_events(ctx: &mut Ctx<'_>, node: &Node) -> Option<Vec<WebhookEvent>> {
    let items: Vec<&Node> = match &node.kind {
        Kind::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    if items.is_empty() {
        ctx.error(
            node.pos,
            "`on` is empty: the webhook would never be called",
            Some("list events from failure, recovery, success, or remove the webhook".into()),
        );
        return None;
    }
    let mut events = Vec::new();
    let mut ok = true;
    for item in items {
        let word = ctx.word(item, "webhook event", &["failure", "recovery", "success"]);
        let event = match word {
            Some("failure") => WebhookEvent::Failure,
            Some("recovery") => WebhookEvent::Recovery,
            Some(_) => WebhookEvent::Success,
            None => {
                ok = false;
                continue;
            }
        };
        if !events.contains(&event) {
            events.push(event);
        }
    }
    ok.then_some(events)
}

fn log(ctx: &mut Ctx<'_>, node: &Node) -> Option<LogFields> {
    let keys = ["max_size", "keep", "compress", "timestamps"];
    let entries = ctx.entries(node, "a map like { max_size: 10MiB, keep: 5 }")?;
    let mut f = LogFields::default();
    let mut ok = true;
    for entry in &entries {
        let v = entry.value;
        let saved = ctx.enter(&entry.name);
        match entry.name.as_ref() {
            "max_size" => {
                f.max_size = setting(v, |v| ctx.size(v, 1024));
                ok &= f.max_size.is_some();
            }
            "keep" => {
                f.keep = setting(v, |v| {
                    ctx.integer(v, "`keep`", 1..=1000)
                        .and_then(|n| u32::try_from(n).ok())
                });
                ok &= f.keep.is_some();
            }
            "compress" => {
                f.compress = setting(v, |v| ctx.boolean(v));
                ok &= f.compress.is_some();
            }
            "timestamps" => {
                f.timestamps = setting(v, |v| ctx.boolean(v));
                ok &= f.timestamps.is_some();
            }
            _ => {
                ctx.unknown_key(entry, &keys, "in `log`");
            }
        }
        ctx.key = saved;
    }
    ok.then_some(f)
}

fn limits(ctx: &mut Ctx<'_>, node: &Node) -> Option<LimitFields> {
    let keys = ["nice", "memory", "cpu_time", "open_files", "processes"];
    let entries = ctx.entries(node, "a map like { nice: 10, memory: 1GiB }")?;
    let mut f = LimitFields::default();
    let mut ok = true;
    for entry in &entries {
        let v = entry.value;
        let saved = ctx.enter(&entry.name);
        match entry.name.as_ref() {
            "nice" => {
                f.nice = setting(v, |v| {
                    ctx.integer(v, "`nice`", -20..=19)
                        .and_then(|n| i32::try_from(n).ok())
                });
                ok &= f.nice.is_some();
            }
            // Below a mebibyte of address space no program can even start.
            "memory" => {
                f.memory = setting(v, |v| ctx.size(v, 1 << 20));
                ok &= f.memory.is_some();
            }
            "cpu_time" => {
                f.cpu_time = setting(v, |v| cpu_time(ctx, v));
                ok &= f.cpu_time.is_some();
            }
            "open_files" => {
                f.open_files = setting(v, |v| count(ctx, v, "`open_files`", 1 << 20));
                ok &= f.open_files.is_some();
            }
            "processes" => {
                f.processes = setting(v, |v| count(ctx, v, "`processes`", 1 << 22));
                ok &= f.processes.is_some();
            }
            _ => {
                ctx.unknown_key(entry, &keys, "in `limits`");
            }
        }
        ctx.key = saved;
    }
    ok.then_some(f)
}

/// RLIMIT_CPU counts whole seconds.
fn cpu_time(ctx: &mut Ctx<'_>, node: &Node) -> Option<Duration> {
    let d = ctx.duration(node, Duration::from_secs(1))?;
    if d.subsec_nanos() != 0 {
        ctx.error(
            node.pos,
            "`cpu_time` is counted in whole seconds",
            Some(format!("write {}s", d.as_secs() + 1)),
        );
        return None;
    }
    Some(d)
}

fn count(ctx: &mut Ctx<'_>, node: &Node, what: &str, max: i64) -> Option<u64> {
    ctx.integer(node, what, 1..=max)
        .and_then(|n| u64::try_from(n).ok())
}

/// Picks the job's value, else the default's; null (`Some(None)`) at either
/// level stops the search and gives the built-in default.
fn pick<T: Clone>(job: &Setting<T>, defaults: &Setting<T>) -> Option<T> {
    match job {
        Some(set) => set.clone(),
        None => defaults.clone().flatten(),
    }
}

/// Builds the job from its fields and the defaults. `None` when a required
/// field is missing or invalid (already reported).
pub(super) fn merge(
    name: &str,
    job: Fields,
    defaults: &Fields,
    file: &FileDefaults,
) -> Option<Job> {
    let (schedule, schedule_text) = job.schedule?;
    let command = job.command?;
    let d = defaults;
    Some(Job {
        name: name.to_owned(),
        description: pick(&job.description, &d.description),
        schedule,
        schedule_text,
        command,
        enabled: pick(&job.enabled, &d.enabled).unwrap_or(true),
        timezone: pick(&job.timezone, &d.timezone).unwrap_or_else(|| file.timezone.clone()),
        shell: pick(&job.shell, &d.shell).unwrap_or_else(|| PathBuf::from("/bin/sh")),
        workdir: pick(&job.workdir, &d.workdir),
        user: pick(&job.user, &d.user),
        group: pick(&job.group, &d.group),
        env: merge_env(&job.env, &d.env),
        umask: pick(&job.umask, &d.umask).unwrap_or(file.umask),
        timeout: pick(&job.timeout, &d.timeout),
        kill_grace: pick(&job.kill_grace, &d.kill_grace).unwrap_or(Duration::from_secs(10)),
        overlap: pick(&job.overlap, &d.overlap).unwrap_or_default(),
        retry: pick(&job.retry, &d.retry),
        jitter: pick(&job.jitter, &d.jitter),
        catch_up: pick(&job.catch_up, &d.catch_up).unwrap_or(false),
        on_failure: pick(&job.on_failure, &d.on_failure),
        mail_to: pick(&job.mail_to, &d.mail_to).unwrap_or_default(),
        webhook: pick(&job.webhook, &d.webhook),
        log: merge_log(&job.log, &d.log),
        limits: merge_limits(&job.limits, &d.limits),
    })
}

/// The defaults' variables in their order with the job's values replacing
/// theirs, then the job's own variables.
fn merge_env(
    job: &Setting<Vec<(String, EnvValue)>>,
    defaults: &Setting<Vec<(String, EnvValue)>>,
) -> Vec<(String, EnvValue)> {
    let job = match job {
        Some(None) => return Vec::new(),
        Some(Some(vars)) => vars.as_slice(),
        None => &[],
    };
    let Some(Some(defaults)) = defaults else {
        return job.to_vec();
    };
    let mut merged: Vec<(String, EnvValue)> = defaults
        .iter()
        .map(|(name, value)| {
            let value = job
                .iter()
                .find(|(n, _)| n == name)
                .map_or(value, |(_, v)| v);
            (name.clone(), value.clone())
        })
        .collect();
    for (name, value) in job {
        if !defaults.iter().any(|(n, _)| n == name) {
            merged.push((name.clone(), value.clone()));
        }
    }
    merged
}

/// Resolves a nested setting: `Some(None)` in the job means "all built-in".
fn nested<T: Default + Copy>(job: &Setting<T>, defaults: &Setting<T>) -> (T, T) {
    match job {
        Some(None) => (T::default(), T::default()),
        Some(Some(j)) => (*j, defaults.flatten().unwrap_or_default()),
        None => (T::default(), defaults.flatten().unwrap_or_default()),
    }
}

fn merge_log(job: &Setting<LogFields>, defaults: &Setting<LogFields>) -> LogSettings {
    let (j, d) = nested(job, defaults);
    let builtin = LogSettings::default();
    LogSettings {
        max_size: pick(&j.max_size, &d.max_size).unwrap_or(builtin.max_size),
        keep: pick(&j.keep, &d.keep).unwrap_or(builtin.keep),
        compress: pick(&j.compress, &d.compress).unwrap_or(builtin.compress),
        timestamps: pick(&j.timestamps, &d.timestamps).unwrap_or(builtin.timestamps),
    }
}

fn merge_limits(job: &Setting<LimitFields>, defaults: &Setting<LimitFields>) -> Limits {
    let (j, d) = nested(job, defaults);
    Limits {
        nice: pick(&j.nice, &d.nice),
        memory: pick(&j.memory, &d.memory),
        cpu_time: pick(&j.cpu_time, &d.cpu_time),
        open_files: pick(&j.open_files, &d.open_files),
        processes: pick(&j.processes, &d.processes),
    }
}
