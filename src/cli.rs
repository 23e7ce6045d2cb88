//! The command-line interface: clap definitions only. What each command does
//! lives in `commands/`; shell completions and the man page are generated
//! from these definitions, so they can never drift from the real CLI.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// sundial: a cron replacement. Jobs in YAML, exact DST rules, captured and
/// rotated output, run history.
#[derive(Debug, Parser)]
#[command(
    name = "sundial",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command understands: where things live.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// The jobs file [default: /etc/sundial/jobs.yaml as root,
    /// $XDG_CONFIG_HOME/sundial/jobs.yaml otherwise]
    #[arg(
        short = 'c',
        long,
        global = true,
        env = "SUNDIAL_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
    /// Where job logs and the daemon's own log go (overrides the config file)
    #[arg(long, global = true, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
    /// Where the run history database lives (overrides the config file)
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Where the lock, pid file and control socket live (overrides the config file)
    #[arg(long, global = true, value_name = "DIR")]
    pub runtime_dir: Option<PathBuf>,
    /// The daemon's log level or filter (error, warn, info, debug, trace);
    /// RUST_LOG works too
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the config, detach and run the daemon in the background
    Start,
    /// Run the daemon in the foreground, logging to stderr (for systemd, containers, debugging)
    Run,
    /// Stop the daemon and wait until it has exited
    Stop {
        /// How long to wait for the daemon to exit
        #[arg(long, default_value = "30s", value_name = "DURATION")]
        timeout: String,
    },
    /// Show the running daemon: pid, uptime, jobs, runs in progress
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Make the daemon re-read its config; a bad file is rejected and the old one keeps running
    Reload,
    /// List every job with its schedule, next run and last result
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show a job's captured output
    Logs(LogsArgs),
    /// Show a job's past runs
    History {
        /// The job's name
        job: String,
        /// How many runs to show
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: usize,
        #[arg(long)]
        json: bool,
    },
    /// Run a job now, outside its schedule
    Trigger {
        /// The job's name
        job: String,
        /// Wait for the run to end and exit like the job (its exit code, 128+signal, 124 on timeout)
        #[arg(long)]
        wait: bool,
    },
    /// Validate the config and print every error with file:line:column
    Check,
    /// Print the next fire times of an expression (or a job) and describe it in plain English
    Next(NextArgs),
    /// Convert a crontab to sundial's YAML and print it
    ImportCrontab {
        /// The crontab file, or - for standard input [default: -]
        file: Option<PathBuf>,
        /// The system format, with a user column (/etc/crontab, /etc/cron.d/*)
        #[arg(long)]
        system: bool,
    },
    /// Print the jobs as Kubernetes CronJobs or systemd service and timer units
    Export(ExportArgs),
    /// Print shell completions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    Man,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The job's name
    pub job: String,
    /// How many lines to show from the end
    #[arg(short = 'n', long, default_value_t = 50, conflicts_with_all = ["run", "last"])]
    pub lines: usize,
    /// Show one whole run, by its id
    #[arg(long, value_name = "ID", conflicts_with = "last")]
    pub run: Option<i64>,
    /// Show the most recent run whole
    #[arg(long)]
    pub last: bool,
    /// Keep printing output as it is written
    #[arg(short = 'f', long, conflicts_with_all = ["run", "last"])]
    pub follow: bool,
}

#[derive(Debug, Args)]
pub struct NextArgs {
    /// A cron expression or macro, e.g. "30 2 * * *" or @daily
    #[arg(required_unless_present = "job", conflicts_with = "job")]
    pub expr: Option<String>,
    /// Use this job's schedule and time zone
    #[arg(long, value_name = "NAME")]
    pub job: Option<String>,
    /// How many fire times
    #[arg(short = 'n', long, default_value_t = 5)]
    pub count: usize,
    /// Time zone (IANA name) [default: the job's or the system's]
    #[arg(long, value_name = "TZ")]
    pub tz: Option<String>,
    /// Start after this instant (RFC 3339, e.g. 2026-06-30T00:00:00Z) [default: now]
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportTarget {
    Kubernetes,
    Systemd,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export to
    #[arg(long, value_enum)]
    pub to: ExportTarget,
    /// Only these jobs [default: all]
    pub jobs: Vec<String>,
    /// Kubernetes: the container image the jobs run in
    #[arg(long, default_value = "debian:stable-slim")]
    pub image: String,
    /// Kubernetes: the namespace
    #[arg(long)]
    pub namespace: Option<String>,
    /// systemd: write user units (systemctl --user)
    #[arg(long)]
    pub user: bool,
    /// systemd: write the unit files into this folder instead of printing them
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
