//! Exit codes (SPEC 2) and the one error type the command layer returns, so
//! that `main` renders every failure the same way, once.

use std::fmt;

/// The exit codes scripts rely on (SPEC 2).
pub mod exit {
    pub const OK: i32 = 0;
    pub const FAILURE: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const NOT_RUNNING: i32 = 3;
    pub const ALREADY_RUNNING: i32 = 4;
    pub const CONFIG: i32 = 78;
}

/// A failure on its way to the user: a message and the exit code it maps to.
/// Module errors convert into it at the command layer, where the context is
/// known ("cannot reach the daemon" rather than "connection refused").
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn new(code: i32, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub fn runtime(message: impl Into<String>) -> Failure {
        Failure::new(exit::FAILURE, message)
    }

    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(exit::USAGE, message)
    }

    pub fn config(message: impl Into<String>) -> Failure {
        Failure::new(exit::CONFIG, message)
    }

    pub fn not_running(message: impl Into<String>) -> Failure {
        Failure::new(exit::NOT_RUNNING, message)
    }

    /// Exit with a code but print nothing more (the command already did).
    pub fn silent(code: i32) -> Failure {
        Failure::new(code, String::new())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl From<crate::config::ConfigError> for Failure {
    fn from(e: crate::config::ConfigError) -> Failure {
        // 78 for a file that is invalid or insecure; 1 for one that cannot
        // be read at all (missing, permissions), like any other I/O failure.
        Failure::new(e.exit_code(), e.to_string())
    }
}

impl From<crate::lockfile::LockError> for Failure {
    fn from(e: crate::lockfile::LockError) -> Failure {
        let code = match e {
            crate::lockfile::LockError::AlreadyRunning { .. } => exit::ALREADY_RUNNING,
            crate::lockfile::LockError::Io { .. } => exit::FAILURE,
        };
        Failure::new(code, e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Failure>;
