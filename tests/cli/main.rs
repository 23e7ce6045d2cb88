//! Integration tests: the real `sundial` binary, run in temporary
//! directories with explicit `--config`, `--log-dir`, `--state-dir` and
//! `--runtime-dir`. Schedules use the seconds field so tests wait seconds.

#[macro_use]
mod support;

mod contrib;
mod control;
mod faults;
mod jobs;
mod lifecycle;
mod recovery;
mod security;
mod tools;
