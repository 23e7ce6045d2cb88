//! Single values of the file, read from tree nodes into typed values:
//! text, booleans, numbers in a range, durations, sizes, umasks, paths,
//! programs, commands, schedules, time zones, users and groups.
//!
//! Each reader reports its own problem at the node (or inside it, for a
//! schedule) and returns `None`, so callers simply skip the value and
//! validation continues.

use std::ops::RangeInclusive;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use super::tree::{Kind, Node, Pos};
use super::units;
use super::validate::{Ctx, closest};
use super::{Command, Mode, Tz};
use crate::schedule::Schedule;

/// No duration in the file may exceed this: beyond it nothing is
/// meaningful, and later time arithmetic cannot overflow.
const MAX_DURATION: Duration = Duration::from_secs(366 * 86_400);

const DURATION_EXAMPLES: &str = "a duration like 30s, 5m or 1h30m";
const SIZE_EXAMPLES: &str = "a size like 512KiB, 10MiB or 1GB";

impl Ctx<'_> {
    /// The text of a scalar (numbers and booleans as written), refusing
    /// lists, maps, null and NUL characters.
    pub fn text(&mut self, node: &Node, what: &str) -> Option<String> {
        let Some(text) = node.scalar_text(self.source) else {
            self.expected(node, what);
            return None;
        };
        if text.contains('\0') {
            self.error(node.pos, "the text contains a NUL character", None);
            return None;
        }
        Some(text.into_owned())
    }

    /// Like [`Ctx::text`], but an empty or blank value is an error.
    pub fn non_empty(&mut self, node: &Node, what: &str) -> Option<String> {
        let text = self.text(node, what)?;
        if text.trim().is_empty() {
            self.error(
                node.pos,
                format!("expected {what}, got an empty value"),
                None,
            );
            return None;
        }
        Some(text)
    }

    pub fn boolean(&mut self, node: &Node) -> Option<bool> {
        match &node.kind {
            Kind::Bool(b) => Some(*b),
            Kind::Str(s) if s == "true" || s == "false" => {
                self.error(
                    node.pos,
                    format!("expected true or false, got the text '{s}'"),
                    Some(format!(
                        "quotes (or a `!!str` tag) make it text: write {s} without them"
                    )),
                );
                None
            }
            Kind::Str(s)
                if ["yes", "no", "on", "off", "y", "n"].contains(&s.to_lowercase().as_str()) =>
            {
                let meant = ["yes", "on", "y"].contains(&s.to_lowercase().as_str());
                self.error(
                    node.pos,
                    format!("expected true or false, got '{s}'"),
                    Some(format!("write {meant}")),
                );
                None
            }
            _ => {
                self.expected(node, "true or false");
                None
            }
        }
    }

    /// A whole number in `range`.
    pub fn integer(&mut self, node: &Node, what: &str, range: RangeInclusive<i64>) -> Option<i64> {
        let parsed = match &node.kind {
            Kind::Int(i) => Some(*i),
            Kind::Str(s) => s.trim().parse::<i128>().ok(),
            // YAML reads a whole number too large for 128 bits as a float;
            // it is still a whole number, just out of any range.
            Kind::Float(f) if is_whole_number(node.source_text(self.source)) => {
                Some(if *f < 0.0 { i128::MIN } else { i128::MAX })
            }
            _ => None,
        };
        let Some(value) = parsed else {
            self.expected(node, &format!("{what} (a whole number)"));
            return None;
        };
        match i64::try_from(value) {
            Ok(value) if range.contains(&value) => Some(value),
            _ => {
                // As written: 1e30 digits are not worth re-deriving.
                let shown = node
                    .source_text(self.source)
                    .map_or_else(|| value.to_string(), str::to_owned);
                self.error(
                    node.pos,
                    format!(
                        "{what} must be between {} and {}, got {shown}",
                        range.start(),
                        range.end()
                    ),
                    None,
                );
                None
            }
        }
    }

    /// A duration of at least `min` (and at most a year).
    pub fn duration(&mut self, node: &Node, min: Duration) -> Option<Duration> {
        let Some(text) = node.scalar_text(self.source) else {
            self.expected(node, DURATION_EXAMPLES);
            return None;
        };
        match units::parse_duration(&text) {
            Err(message) => {
                self.error(node.pos, message, None);
                None
            }
            Ok(d) if d < min => {
                let message = if min == Duration::from_millis(1) {
                    format!("the duration must be more than zero, got '{}'", text.trim())
                } else {
                    format!(
                        "the duration must be at least {}, got '{}'",
                        units::format_duration(min),
                        text.trim()
                    )
                };
                self.error(node.pos, message, None);
                None
            }
            Ok(d) if d > MAX_DURATION => {
                self.error(
                    node.pos,
                    format!("the duration '{}' is longer than a year", text.trim()),
                    None,
                );
                None
            }
            Ok(d) => Some(d),
        }
    }

    /// A size in bytes of at least `min`.
    pub fn size(&mut self, node: &Node, min: u64) -> Option<u64> {
        let Some(text) = node.scalar_text(self.source) else {
            self.expected(node, SIZE_EXAMPLES);
            return None;
        };
        match units::parse_size(&text) {
            Err(message) => {
                self.error(node.pos, message, None);
                None
            }
            Ok(n) if n < min => {
                self.error(
                    node.pos,
                    format!(
                        "the size must be at least {}, got '{}'",
                        units::format_size(min),
                        text.trim()
                    ),
                    None,
                );
                None
            }
            Ok(n) => Some(n),
        }
    }

    /// An octal umask, read from the source text because YAML reads `0022`
    /// as a decimal number.
    pub fn umask(&mut self, node: &Node) -> Option<u32> {
        let text = match &node.kind {
            Kind::Str(s) => s.clone(),
            Kind::Int(_) | Kind::Float(_) => node.scalar_text(self.source)?.into_owned(),
            _ => {
                self.expected(node, "an octal umask like 0022");
                return None;
            }
        };
        units::parse_umask(&text)
            .map_err(|message| self.error(node.pos, message, None))
            .ok()
    }

    /// A path; relative paths resolve against the config file's folder.
    pub fn path(&mut self, node: &Node) -> Option<PathBuf> {
        let text = self.non_empty(node, "a path")?;
        if text.starts_with('~') {
            let hint = match (std::env::var_os("HOME"), text.strip_prefix("~/")) {
                (Some(home), Some(rest)) => {
                    format!(
                        "write the full path: {}",
                        Path::new(&home).join(rest).display()
                    )
                }
                _ => "write the full path, starting with /".into(),
            };
            self.error(
                node.pos,
                format!("'~' is not expanded in paths, got '{text}'"),
                Some(hint),
            );
            return None;
        }
        Some(self.resolve(Path::new(&text)))
    }

    /// `path` joined to the config folder when relative, without `.` parts.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        let joined = self.dir.join(path);
        // Only `.` is dropped: `..` is left for the kernel, since removing it
        // lexically would be wrong across symlinks.
        joined
            .components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect()
    }

    /// A program to run (`shell`, `sendmail`): a path; a bare name is refused
    /// because sundial does not search PATH for these.
    pub fn program(&mut self, node: &Node) -> Option<PathBuf> {
        let text = self.non_empty(node, "the path of a program")?;
        if !text.contains('/') {
            let found = ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]
                .iter()
                .map(|dir| Path::new(dir).join(&text))
                .find(|p| p.is_file());
            let hint = match found {
                Some(p) => format!("did you mean {}?", p.display()),
                None => format!("write the full path, like /usr/bin/{text}"),
            };
            self.error(
                node.pos,
                format!("'{text}' is not a path: programs are not looked up in PATH"),
                Some(hint),
            );
            return None;
        }
        self.path(node)
    }

    /// `command` and `on_failure`: a string runs through the shell, a list
    /// is exec'd directly.
    pub fn command(&mut self, node: &Node) -> Option<Command> {
        match &node.kind {
            Kind::Str(s) if s.trim().is_empty() => {
                self.error(
                    node.pos,
                    "the command is empty",
                    Some("write what to run, e.g. command: /usr/local/bin/backup".into()),
                );
                None
            }
            Kind::Str(_) | Kind::Int(_) | Kind::Float(_) | Kind::Bool(_) => {
                self.text(node, "a command").map(Command::Shell)
            }
            Kind::Seq(items) if items.is_empty() => {
                self.error(
                    node.pos,
                    "the command list is empty",
                    Some("write the program and its arguments, e.g. [\"/usr/bin/rsync\", \"-a\", \"/src\", \"/dst\"]".into()),
                );
                None
            }
            Kind::Seq(items) => {
                let mut args = Vec::with_capacity(items.len());
                let mut ok = true;
                for item in items {
                    match self.text(item, "a program argument (a string)") {
                        Some(arg) => args.push(arg),
                        None => ok = false,
                    }
                }
                if ok && args[0].trim().is_empty() {
                    self.error(items[0].pos, "the program name is empty", None);
                    ok = false;
                }
                ok.then_some(Command::Exec(args))
            }
            Kind::Null | Kind::Map(_) => {
                self.expected(
                    node,
                    "a command: a string (run by the shell) or a list (program and arguments)",
                );
                None
            }
        }
    }

    /// A cron expression, with its problem positioned inside the scalar.
    pub fn schedule(&mut self, node: &Node) -> Option<(Schedule, String)> {
        let text = self.non_empty(node, "a schedule like \"30 2 * * *\" or @daily")?;
        match Schedule::parse(&text) {
            Ok(schedule) => Some((schedule, text)),
            Err(err) => {
                let pos = self.position_in_scalar(node, &text, err.offset);
                // Tabs and line breaks (a folded `>` value) shown escaped,
                // so the message stays on one line.
                let shown: String = text
                    .chars()
                    .map(|c| {
                        if c.is_control() {
                            c.escape_default().to_string()
                        } else {
                            c.to_string()
                        }
                    })
                    .collect();
                self.error(
                    pos,
                    format!("invalid schedule '{shown}': {}", err.message),
                    err.hint,
                );
                None
            }
        }
    }

    /// The line:column of byte `offset` of a scalar's value. Exact for a
    /// one-line plain or quoted scalar without escapes; otherwise the
    /// scalar's start, since the value no longer maps to the source text.
    pub fn position_in_scalar(&self, node: &Node, value: &str, offset: usize) -> Pos {
        if node.pos != node.def_pos || value.contains('\n') {
            return node.pos;
        }
        let Some(source) = node.source_text(self.source) else {
            return node.pos;
        };
        let quote = usize::from(source.starts_with('"') || source.starts_with('\''));
        let inner = source
            .get(quote..source.len().saturating_sub(quote))
            .unwrap_or_default();
        if inner != value || source.len() < 2 * quote {
            return node.pos;
        }
        let prefix = value.get(..offset.min(value.len())).unwrap_or(value);
        Pos {
            line: node.def_pos.line,
            column: node.def_pos.column + quote + prefix.chars().count(),
        }
    }

    /// The system's zone, named by its IANA name when known, else `local`.
    pub fn local_zone(&mut self) -> Tz {
        self.local_zone
            .get_or_insert_with(|| {
                let zone = jiff::tz::TimeZone::system();
                let name = zone.iana_name().unwrap_or("local").to_owned();
                Tz { name, zone }
            })
            .clone()
    }

    /// An IANA time zone name, or `local` for the system's zone.
    pub fn zone(&mut self, node: &Node) -> Option<Tz> {
        let name = self.non_empty(node, "a time zone name like Europe/Berlin")?;
        let name = name.trim().to_owned();
        if name == "local" {
            return Some(self.local_zone());
        }
        let zone = match self.zones.get(&name) {
            Some(known) => known.clone(),
            None => {
                let found = jiff::tz::db().get(&name).ok();
                self.zones.insert(name.clone(), found.clone());
                found
            }
        };
        match zone {
            Some(zone) => Some(Tz { name, zone }),
            None => {
                let hint = zone_hint(&name);
                self.error(node.pos, format!("unknown time zone '{name}'"), Some(hint));
                None
            }
        }
    }

    /// A user name: in system mode it must exist; in user mode it may only
    /// be the user sundial runs as.
    pub fn user(&mut self, node: &Node) -> Option<String> {
        let name = self.non_empty(node, "a user name")?;
        if self.mode == Mode::User {
            let me = self.host.current_user();
            if name != me.name {
                self.error(
                    node.pos,
                    format!(
                        "only root can switch users: sundial runs as '{}' (user mode), the job asks for '{name}'",
                        me.name
                    ),
                    Some("remove `user:`, or run sundial as root (system mode)".into()),
                );
                return None;
            }
            return Some(name);
        }
        match self.host.user(&name) {
            Ok(Some(_)) => Some(name),
            Ok(None) => {
                self.error(
                    node.pos,
                    format!("unknown user '{name}'"),
                    Some(format!(
                        "check the name with `getent passwd {name}`, or create the user first"
                    )),
                );
                None
            }
            Err(message) => {
                self.error(node.pos, message, None);
                None
            }
        }
    }

    /// A group name: it must exist; in user mode it may only be sundial's
    /// own group, since changing groups needs root.
    pub fn group(&mut self, node: &Node) -> Option<String> {
        let name = self.non_empty(node, "a group name")?;
        let gid = match self.host.group(&name) {
            Ok(Some(gid)) => gid,
            Ok(None) => {
                self.error(
                    node.pos,
                    format!("unknown group '{name}'"),
                    Some(format!(
                        "check the name with `getent group {name}`, or create the group first"
                    )),
                );
                return None;
            }
            Err(message) => {
                self.error(node.pos, message, None);
                return None;
            }
        };
        if self.mode == Mode::User && gid != self.host.current_user().gid {
            self.error(
                node.pos,
                format!("only root can switch groups: sundial runs in user mode, the job asks for '{name}'"),
                Some("remove `group:`, or run sundial as root (system mode)".into()),
            );
            return None;
        }
        Some(name)
    }

    /// One of a fixed set of words, with the closest as a hint.
    pub fn word<'w>(&mut self, node: &Node, what: &str, words: &[&'w str]) -> Option<&'w str> {
        let list = words.join(", ");
        let Kind::Str(text) = &node.kind else {
            self.expected(node, &format!("{what}: one of {list}"));
            return None;
        };
        if let Some(word) = words.iter().find(|w| **w == text.as_str()) {
            return Some(word);
        }
        let hint = match closest(text, words.iter().copied()) {
            Some(near) => format!("did you mean '{near}'?"),
            None => format!("use one of {list}"),
        };
        self.error(node.pos, format!("unknown {what} '{text}'"), Some(hint));
        None
    }
}

/// Whether a number's source text is an integer (`-123`), however long.
fn is_whole_number(text: Option<&str>) -> bool {
    let digits = text.map(|t| t.strip_prefix(['-', '+']).unwrap_or(t));
    digits.is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Suggestions for a time zone name that is not in the database.
fn zone_hint(name: &str) -> String {
    let available: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_owned())
        .collect();
    let lower = name.to_lowercase().replace(' ', "_");
    // A city alone (`Berlin`) is matched against the last part of each name.
    let mut near: Vec<&str> = available
        .iter()
        .filter(|z| {
            z.rsplit('/')
                .next()
                .is_some_and(|city| city.to_lowercase() == lower)
        })
        .map(String::as_str)
        .collect();
    if near.is_empty() {
        // One clear typo (`Europe/Berln`) gets one suggestion.
        near.extend(
            available
                .iter()
                .map(|z| (strsim::damerau_levenshtein(&lower, &z.to_lowercase()), z))
                // `42` is two edits from `GB`, but no typo of it.
                .filter(|(distance, _)| *distance <= 2 && distance * 3 <= lower.len())
                .min_by_key(|(distance, _)| *distance)
                .map(|(_, z)| z.as_str()),
        );
    }
    if near.is_empty() {
        let mut scored: Vec<(f64, &str)> = available
            .iter()
            .map(|z| (strsim::jaro_winkler(&lower, &z.to_lowercase()), z.as_str()))
            .filter(|(score, _)| *score >= 0.85)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        near = scored.into_iter().take(3).map(|(_, z)| z).collect();
    }
    match near.as_slice() {
        [] => "use an IANA name like Europe/Berlin, America/New_York or UTC (see `timedatectl list-timezones`)".into(),
        [one] => format!("did you mean '{one}'?"),
        many => format!("did you mean one of: {}?", many.join(", ")),
    }
}
