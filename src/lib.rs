//! sundial: a cron replacement for Linux.
//!
//! # Layout
//!
//! Data flows down: the client commands on top, the daemon core under them,
//! pure leaves at the bottom that import nothing of ours.
//!
//! - [`cli`]: the command-line definition (clap), nothing else.
//! - [`commands`]: one file per group of subcommands.
//! - [`daemon`]: the running daemon (scheduler loop, job runner, control socket).
//! - [`daemonize`], [`lockfile`]: detaching from the terminal, one instance.
//! - [`config`]: `jobs.yaml` into validated jobs; [`paths`]: where files live.
//! - [`schedule`]: cron expressions and their next fire times.
//! - [`export`]: jobs as Kubernetes CronJobs or systemd units.
//! - [`joblog`]: framed, rotating per-job output files.
//! - [`history`]: the SQLite run history.
//! - [`protocol`]: the control socket's wire types, shared by client and daemon.
//! - [`crontab`], [`export`]: converting from crontabs, to Kubernetes and systemd.
//! - [`run`], [`timefmt`], [`error`]: shared vocabulary, time display, exit codes.

pub mod cli;
pub mod commands;
pub mod config;
pub mod crontab;
pub mod daemon;
pub mod daemonize;
pub mod error;
pub mod export;
pub mod history;
pub mod joblog;
pub mod lockfile;
pub mod paths;
pub mod protocol;
pub mod run;
pub mod schedule;
pub mod timefmt;
