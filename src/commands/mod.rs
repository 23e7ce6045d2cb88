//! What each command does: one file per group of subcommands.
//!
//! - [`lifecycle`]: `start`, `run`, `stop`.
//! - [`client`]: `status`, `reload`, `trigger` (through the control socket).
//! - [`inspect`]: `list`, `logs`, `history` (config + history, no daemon).
//! - [`tools`]: `check`, `next`, `import-crontab`, `export`, `completions`, `man`.

pub mod client;
pub mod inspect;
pub mod lifecycle;
pub mod tools;

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::{self, Config, Mode};
use crate::error::{Failure, Result};
use crate::paths::{self, Env, Overrides, Paths};

/// What every command knows before it starts: the arguments, the mode and
/// where the config file is.
pub struct Context {
    pub global: GlobalArgs,
    pub mode: Mode,
    pub config_path: PathBuf,
    pub env: Env,
}

impl Context {
    pub fn new(global: GlobalArgs) -> Context {
        let mode = Mode::current();
        let env = Env::from_process();
        let config_path = global
            .config
            .clone()
            .unwrap_or_else(|| paths::default_config(mode, &env));
        Context {
            global,
            mode,
            config_path,
            env,
        }
    }

    pub fn overrides(&self) -> Overrides {
        Overrides {
            log_dir: self.global.log_dir.clone(),
            state_dir: self.global.state_dir.clone(),
            runtime_dir: self.global.runtime_dir.clone(),
        }
    }

    /// Load and validate the config; every error becomes one exit-78 failure.
    pub fn load_config(&self) -> Result<Config> {
        config::load(&self.config_path, self.mode).map_err(Failure::from)
    }

    pub fn paths(&self, config: Option<&Config>) -> Paths {
        paths::resolve(
            &self.config_path,
            config,
            &self.overrides(),
            self.mode,
            &self.env,
        )
    }

    /// Paths for commands that talk to a daemon: the daemon may run an older
    /// config than the file now holds, so a file that fails to load still
    /// lets us find the daemon through the defaults and the command line.
    pub fn paths_best_effort(&self) -> Paths {
        if let Ok(config) = config::load(&self.config_path, self.mode) {
            return self.paths(Some(&config));
        }
        // The file does not validate (yet): its directory keys are still the
        // best guess at where the running daemon lives.
        let mut paths = self.paths(None);
        let overrides = self.overrides();
        if let Some(dirs) = directory_keys(&self.config_path) {
            let base = self
                .config_path
                .parent()
                .unwrap_or(std::path::Path::new("/"));
            let pick = |given: &Option<PathBuf>, key: Option<String>, current: &mut PathBuf| {
                if given.is_none()
                    && let Some(k) = key
                {
                    *current = base.join(k);
                }
            };
            pick(&overrides.log_dir, dirs.log_dir, &mut paths.log_dir);
            pick(&overrides.state_dir, dirs.state_dir, &mut paths.state_dir);
            pick(
                &overrides.runtime_dir,
                dirs.runtime_dir,
                &mut paths.runtime_dir,
            );
        }
        paths
    }
}

/// Only the directory keys of a config file, read leniently.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct DirectoryKeys {
    log_dir: Option<String>,
    state_dir: Option<String>,
    runtime_dir: Option<String>,
}

fn directory_keys(path: &std::path::Path) -> Option<DirectoryKeys> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_saphyr::from_str::<DirectoryKeys>(&text).ok()
}

/// Run one command; the `Err` is rendered by `main`.
pub fn run(cli: Cli) -> Result<()> {
    let ctx = Context::new(cli.global);
    match cli.command {
        Command::Start => lifecycle::start(&ctx),
        Command::Run => lifecycle::run(&ctx),
        Command::Stop { timeout } => lifecycle::stop(&ctx, &timeout),
        Command::Status { json } => client::status(&ctx, json),
        Command::Reload => client::reload(&ctx),
        Command::Trigger { job, wait } => client::trigger(&ctx, &job, wait),
        Command::List { json } => inspect::list(&ctx, json),
        Command::Logs(args) => inspect::logs(&ctx, &args),
        Command::History { job, lines, json } => inspect::history(&ctx, &job, lines, json),
        Command::Check => tools::check(&ctx),
        Command::Next(args) => tools::next(&ctx, &args),
        Command::ImportCrontab { file, system } => tools::import_crontab(file.as_deref(), system),
        Command::Export(args) => tools::export(&ctx, &args),
        Command::Completions { shell } => tools::completions(shell),
        Command::Man => tools::man(),
    }
}

/// The job named `name`, or the SPEC 9 error naming the closest ones.
pub fn find_job<'a>(config: &'a Config, name: &str) -> Result<&'a config::Job> {
    config.job(name).ok_or_else(|| {
        let names: Vec<&str> = config.jobs.iter().map(|j| j.name.as_str()).collect();
        Failure::runtime(config::unknown_job_message(name, &names))
    })
}

/// Terminal colours: only on a terminal, never with NO_COLOR (SPEC 9).
#[derive(Debug, Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    pub fn stdout() -> Style {
        Style {
            on: std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Green for ok, red for failures, yellow for the rest.
    pub fn outcome(self, outcome: &str) -> String {
        let code = match outcome {
            "ok" => "32",
            "failed" | "timeout" | "killed" | "error" => "31",
            "running" => "36",
            _ => "33",
        };
        self.paint(code, outcome)
    }
}

/// Print rows as aligned columns. Widths count characters, not bytes, and
/// ignore colour escapes.
pub fn print_table(header: &[&str], rows: &[Vec<String>], style: Style) {
    fn visible_len(s: &str) -> usize {
        let mut n = 0;
        let mut in_escape = false;
        for c in s.chars() {
            match (in_escape, c) {
                (false, '\x1b') => in_escape = true,
                (true, 'm') => in_escape = false,
                (true, _) => {}
                (false, _) => n += 1,
            }
        }
        n
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(visible_len(cell));
            }
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        let last = cells.len().saturating_sub(1);
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                out.push_str(&" ".repeat(widths[i] - visible_len(cell) + 2));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.iter().map(|h| style.bold(h)).collect());
    for row in rows {
        line(row.clone());
    }
}
