//! Schedules: cron expressions and macros, parsed once and asked for their
//! next fire time (SPEC 4).
//!
//! SKELETON: the schedule helper replaces this file.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Cron(Cron),
    Every(Duration),
    Reboot,
    Start,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    pub hint: Option<String>,
    pub offset: usize,
    pub len: usize,
}

impl Schedule {
    pub fn parse(_text: &str) -> Result<Schedule, ParseError> {
        todo!()
    }
}
