//! sundial: a cron replacement for Linux.
//!
//! # Layout
//!
//! Data flows down: the client commands on top, the daemon core under them,
//! pure leaves at the bottom that import nothing of ours.
//!
//! - [`cli`]: the command-line definition (clap), nothing else.
//! - `commands`: one file per group of subcommands.
//! - `daemon`: the running daemon (scheduler loop, job runner, control socket).
//! - [`daemonize`], [`lockfile`]: detaching from the terminal, one instance.
//! - [`config`]: `jobs.yaml` into validated jobs.
//! - [`schedule`]: cron expressions and their next fire times.
//! - [`export`]: jobs as Kubernetes CronJobs or systemd units.
//! - [`joblog`]: framed, rotating per-job output files.
//! - [`history`]: the SQLite run history.
//! - [`run`]: the shared vocabulary of a run (trigger, outcome).

pub mod config;
pub mod export;
pub mod history;
pub mod joblog;
pub mod run;
pub mod schedule;
