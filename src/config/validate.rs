//! The validation pass: walks the spanned YAML tree, turns the top-level
//! keys into a [`Config`] and collects a [`Diagnostic`] for every problem
//! instead of stopping at the first.
//!
//! Field values are interpreted in `values`, job fields and the merging of
//! `defaults:` in `job`. This file owns the walk itself: the context that
//! collects diagnostics, map handling shared by every level (unknown keys
//! with a "did you mean", duplicate keys) and the top-level keys.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::host::Host;
use super::job::{self, Fields};
use super::tree::{Kind, Node, Pos};
use super::{Config, Diagnostic, MetricsConfig, Mode, Tz};

/// Everything one validation pass needs and produces.
pub(super) struct Ctx<'a> {
    /// The file's text, for the source text of scalars.
    pub source: &'a str,
    /// The config file (absolute), named in every diagnostic.
    pub file: &'a Path,
    /// Its folder: relative paths in the file resolve against it.
    pub dir: PathBuf,
    pub mode: Mode,
    pub host: &'a mut dyn Host,
    pub diagnostics: Vec<Diagnostic>,
    /// The job being validated, named in its diagnostics.
    pub job: Option<String>,
    /// The setting being read (`timeout`, `log.max_size`): messages that do
    /// not name it already get it as a prefix, so "'30' needs a unit" says
    /// which setting needs one.
    pub key: Option<String>,
    /// Time zones by name: 10,000 jobs in one zone look it up once.
    pub zones: HashMap<String, Option<jiff::tz::TimeZone>>,
    /// The system's zone, looked up at most once.
    pub local_zone: Option<Tz>,
    /// `from_file` secrets seen, to check in system mode: path, where
    /// written, and the job (None for `defaults:`).
    pub secrets: Vec<(PathBuf, Pos, Option<String>)>,
}

impl<'a> Ctx<'a> {
    pub fn new(source: &'a str, file: &'a Path, mode: Mode, host: &'a mut dyn Host) -> Ctx<'a> {
        let dir = file
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
        Ctx {
            source,
            file,
            dir,
            mode,
            host,
            diagnostics: Vec::new(),
            job: None,
            key: None,
            zones: HashMap::new(),
            local_zone: None,
            secrets: Vec::new(),
        }
    }

    pub fn error(&mut self, pos: Pos, message: impl Into<String>, hint: Option<String>) {
        let mut message = message.into();
        if let Some(key) = &self.key {
            let leaf = key.rsplit('.').next().unwrap_or(key);
            // "unknown time zone" names `timezone` well enough.
            let named = message.replace(' ', "").contains(leaf);
            if !named && !message.contains('`') {
                message = format!("`{key}`: {message}");
            }
        }
        self.diagnostics.push(Diagnostic {
            file: self.file.to_owned(),
            line: pos.line,
            column: pos.column,
            job: self.job.clone(),
            message,
            hint,
        });
    }

    /// Starts reading the setting `name` (nested under the current one);
    /// returns what to restore in [`Ctx::key`] afterwards.
    pub fn enter(&mut self, name: &str) -> Option<String> {
        let saved = self.key.clone();
        self.key = Some(match &saved {
            Some(parent) => format!("{parent}.{name}"),
            None => name.to_owned(),
        });
        saved
    }

    /// "expected X, got Y" at the node.
    pub fn expected(&mut self, node: &Node, what: &str) {
        let got = node.describe();
        self.error(node.pos, format!("expected {what}, got {got}"), None);
    }

    /// The entries of a map whose keys are names, reporting keys that are
    /// not names and duplicate keys. `what` names the map in messages
    /// ("the job's settings"). `None` when the node is not a map.
    pub fn entries<'n>(&mut self, node: &'n Node, what: &str) -> Option<Vec<Entry<'n>>> {
        self.named_entries(node, what, "key")
    }

    /// [`Ctx::entries`], calling the keys `noun` in messages ("job name").
    pub fn named_entries<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        noun: &str,
    ) -> Option<Vec<Entry<'n>>> {
        let Kind::Map(pairs) = &node.kind else {
            self.expected(node, what);
            return None;
        };
        // Settings maps are small: a scan beats hashing. `jobs:` may be huge.
        let mut index: Option<HashMap<Cow<'n, str>, Pos>> =
            (pairs.len() > 16).then(|| HashMap::with_capacity(pairs.len()));
        let mut entries: Vec<Entry<'n>> = Vec::with_capacity(pairs.len());
        for (key, value) in pairs {
            let Some(name) = self.key_name(key) else {
                continue;
            };
            let first = match &index {
                Some(index) => index.get(&name).copied(),
                None => entries.iter().find(|e| e.name == name).map(|e| e.key.pos),
            };
            if let Some(first) = first {
                let hint = if noun == "key" {
                    "remove one of them; YAML keys must be unique"
                } else {
                    "rename or remove one of them; YAML keys must be unique"
                };
                self.error(
                    key.pos,
                    format!(
                        "duplicate {noun} '{}' (first at {first})",
                        name.escape_debug()
                    ),
                    Some(hint.into()),
                );
                continue;
            }
            if let Some(index) = &mut index {
                index.insert(name.clone(), key.pos);
            }
            entries.push(Entry { name, key, value });
        }
        Some(entries)
    }

    /// A key as a name: strings as they are, numbers and booleans as written
    /// (a job may be called `2024`).
    fn key_name<'n>(&mut self, key: &'n Node) -> Option<Cow<'n, str>> {
        match &key.kind {
            Kind::Str(s) => Some(Cow::Borrowed(s)),
            Kind::Bool(_) | Kind::Int(_) | Kind::Float(_) => key
                .scalar_text(self.source)
                .map(|t| Cow::Owned(t.into_owned())),
            Kind::Null => {
                self.error(
                    key.pos,
                    "empty key",
                    Some("write a name before the ':'".into()),
                );
                None
            }
            Kind::Seq(_) | Kind::Map(_) => {
                self.error(
                    key.pos,
                    format!("a key must be a name, got {}", key.describe()),
                    None,
                );
                None
            }
        }
    }

    /// Reports an unknown key, with the closest valid key as a hint, or the
    /// list of valid keys when nothing is close. Returns the suggestion, so
    /// callers can skip a "missing key" error for the same typo.
    pub fn unknown_key<'v>(
        &mut self,
        entry: &Entry<'_>,
        valid: &[&'v str],
        context: &str,
    ) -> Option<&'v str> {
        let near = closest(&entry.name, valid.iter().copied());
        let hint = match near {
            Some(near) => format!("did you mean '{near}'?"),
            None => format!("valid keys {context}: {}", valid.join(", ")),
        };
        self.error(
            entry.key.pos,
            format!("unknown key '{}' {context}", entry.name.escape_debug()),
            Some(hint),
        );
        near
    }
}

/// A map entry whose key is a name.
pub(super) struct Entry<'n> {
    pub name: Cow<'n, str>,
    pub key: &'n Node,
    pub value: &'n Node,
}

/// The candidate nearest to `name` when it is close enough to be a typo.
pub(super) fn closest<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        if candidate.to_lowercase() == lower {
            return Some(candidate);
        }
        let distance = strsim::damerau_levenshtein(&lower, &candidate.to_lowercase());
        let allowed = (candidate.chars().count().max(3) / 3).max(1);
        let score = if distance <= allowed {
            2.0 - distance as f64 / 100.0
        } else {
            strsim::jaro_winkler(&lower, &candidate.to_lowercase())
        };
        if score >= 0.9 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

pub(super) const TOP_LEVEL_KEYS: &[&str] = &[
    "timezone",
    "log_dir",
    "state_dir",
    "runtime_dir",
    "umask",
    "watch",
    "metrics",
    "sendmail",
    "defaults",
    "jobs",
];

/// The file-wide settings jobs fall back on.
pub(super) struct FileDefaults {
    pub timezone: Tz,
    pub umask: u32,
}

/// Validates the whole document; `None` when anything was reported.
pub(super) fn config(ctx: &mut Ctx<'_>, root: &Node) -> Option<Config> {
    if root.is_null() {
        ctx.error(
            root.pos,
            "the file is empty: it needs a `jobs:` map",
            Some("start with:\njobs:\n  backup:\n    schedule: \"30 2 * * *\"\n    command: /usr/local/bin/backup".into()),
        );
        return None;
    }
    if let Kind::Str(_) = root.kind {
        ctx.error(
            root.pos,
            "expected YAML settings with a `jobs:` map, got plain text",
            Some("to convert a crontab, run `sundial import-crontab FILE`; see jobs.yaml.example for the format".into()),
        );
        return None;
    }
    let entries = ctx.entries(root, "a map of settings with `jobs:` at the top")?;
    let mut timezone = None;
    let mut log_dir = None;
    let mut state_dir = None;
    let mut runtime_dir = None;
    let mut umask = None;
    let mut watch = None;
    let mut metrics = None;
    let mut sendmail = None;
    let mut defaults_node = None;
    let mut jobs_entry = None;
    // `job:` was reported as a typo of `jobs:`; do not also say it is missing.
    let mut jobs_typo = false;
    for entry in &entries {
        let value = entry.value;
        // A null top-level value means "not set": sundial's default applies.
        let set = !value.is_null();
        let saved = ctx.enter(&entry.name);
        match entry.name.as_ref() {
            "timezone" if set => timezone = ctx.zone(value),
            "log_dir" if set => log_dir = ctx.path(value),
            "state_dir" if set => state_dir = ctx.path(value),
            "runtime_dir" if set => runtime_dir = ctx.path(value),
            "umask" if set => umask = ctx.umask(value),
            "watch" if set => watch = ctx.boolean(value),
            "metrics" if set => metrics = ctx.metrics(value),
            "sendmail" if set => sendmail = ctx.program(value),
            "defaults" => defaults_node = Some(value),
            "jobs" => jobs_entry = Some(entry),
            name if TOP_LEVEL_KEYS.contains(&name) => {}
            name if job::FIELDS.contains(&name) => ctx.error(
                entry.key.pos,
                format!("'{name}' is a job setting, not a top-level one"),
                Some(
                    "move it under `defaults:` to apply it to every job, or under one job in `jobs:`"
                        .into(),
                ),
            ),
            _ if looks_like_a_job(value) => ctx.error(
                entry.key.pos,
                format!("unknown top-level key '{}'", entry.name),
                Some(format!(
                    "this looks like a job: indent it under `jobs:`, as `jobs:\\n  {}:`",
                    entry.name
                )),
            ),
            _ => {
                ctx.key = None;
                if ctx.unknown_key(entry, TOP_LEVEL_KEYS, "at the top level") == Some("jobs") {
                    jobs_typo = true;
                }
            }
        }
        ctx.key = saved;
    }

    let defaults = match defaults_node {
        Some(node) if !node.is_null() => job::fields(ctx, node, job::Place::Defaults),
        _ => Some(Fields::default()),
    };
    let file = FileDefaults {
        timezone: timezone.unwrap_or_else(|| ctx.local_zone()),
        umask: umask.unwrap_or(0o022),
    };
    let jobs = match jobs_entry {
        None if jobs_typo => None,
        None => {
            ctx.error(
                Pos::START,
                "missing `jobs:`: the file defines no jobs",
                Some("add a `jobs:` map, e.g.\njobs:\n  backup:\n    schedule: \"30 2 * * *\"\n    command: /usr/local/bin/backup".into()),
            );
            None
        }
        // `jobs:` with nothing under it (every job commented out) is an
        // empty schedule, not a mistake.
        Some(entry) if entry.value.is_null() => Some(Vec::new()),
        Some(entry) => jobs(ctx, entry.value, defaults.as_ref(), &file),
    };
    let jobs = jobs?;
    if !ctx.diagnostics.is_empty() {
        return None;
    }
    Some(Config {
        path: ctx.file.to_owned(),
        timezone: file.timezone,
        log_dir,
        state_dir,
        runtime_dir,
        umask: file.umask,
        watch: watch.unwrap_or(true),
        metrics,
        sendmail: sendmail.unwrap_or_else(|| PathBuf::from("/usr/sbin/sendmail")),
        jobs,
    })
}

fn looks_like_a_job(node: &Node) -> bool {
    let Kind::Map(pairs) = &node.kind else {
        return false;
    };
    pairs
        .iter()
        .any(|(k, _)| matches!(&k.kind, Kind::Str(s) if s == "schedule" || s == "command"))
}

/// The `jobs:` map: every job validated, then merged with `defaults:`.
fn jobs(
    ctx: &mut Ctx<'_>,
    node: &Node,
    defaults: Option<&Fields>,
    file: &FileDefaults,
) -> Option<Vec<super::Job>> {
    if let Kind::Seq(_) = node.kind {
        ctx.error(
            node.pos,
            "expected a map of jobs (name: settings), got a list",
            Some("write each job as `name:` with its settings indented below it, without a leading `- `".into()),
        );
        return None;
    }
    let entries = ctx.named_entries(node, "a map of jobs (name: settings)", "job name")?;
    let mut jobs = Vec::with_capacity(entries.len());
    for entry in &entries {
        ctx.job = Some(entry.name.to_string());
        let name_ok = job::check_name(ctx, entry);
        let fields = if entry.value.is_null() {
            ctx.error(
                entry.key.pos,
                "the job has no settings",
                Some("a job needs at least `schedule:` and `command:`".into()),
            );
            None
        } else {
            job::fields(ctx, entry.value, job::Place::Job(entry.key))
        };
        if let (true, Some(fields), Some(defaults)) = (name_ok, fields, defaults) {
            jobs.extend(job::merge(&entry.name, fields, defaults, file));
        }
    }
    ctx.job = None;
    Some(jobs)
}

impl Ctx<'_> {
    fn metrics(&mut self, node: &Node) -> Option<MetricsConfig> {
        let entries = self.entries(node, "a map like { listen: 127.0.0.1:9464 }")?;
        let mut listen = None;
        let mut unknown = false;
        for entry in &entries {
            match entry.name.as_ref() {
                "listen" => listen = Some(entry.value),
                _ => {
                    self.unknown_key(entry, &["listen"], "in `metrics`");
                    unknown = true;
                }
            }
        }
        let Some(listen) = listen else {
            // A misspelt key was reported already; "missing" would repeat it.
            if unknown {
                return None;
            }
            self.error(
                node.pos,
                "`metrics` needs `listen`",
                Some("write metrics: { listen: 127.0.0.1:9464 }".into()),
            );
            return None;
        };
        let text = self.text(listen, "an address like 127.0.0.1:9464")?;
        match text.parse::<std::net::SocketAddr>() {
            Ok(addr) => Some(MetricsConfig { listen: addr }),
            Err(_) => {
                let port = text.rsplit_once(':').map_or("9464", |(_, p)| p);
                let hint = if text.starts_with("localhost:") {
                    format!("host names are not resolved: write 127.0.0.1:{port} or [::1]:{port}")
                } else if text.starts_with(':') {
                    format!(
                        "write 127.0.0.1:{port} (this machine only) or 0.0.0.0:{port} (every interface)"
                    )
                } else {
                    "write an IP address and a port, like 127.0.0.1:9464 or [::1]:9464".into()
                };
                self.error(
                    listen.pos,
                    format!("`listen` must be an IP address and port, got '{text}'"),
                    Some(hint),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn closest_finds_typos_only() {
        let keys = ["schedule", "command", "timeout", "user", "env"];
        assert_eq!(closest("comand", keys), Some("command"));
        assert_eq!(closest("Schedule", keys), Some("schedule"));
        assert_eq!(closest("shedule", keys), Some("schedule"));
        assert_eq!(closest("timout", keys), Some("timeout"));
        assert_eq!(closest("usr", keys), Some("user"));
        assert_eq!(closest("frobnicate", keys), None);
        assert_eq!(closest("x", keys), None);
    }
}
