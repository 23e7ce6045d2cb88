//! The vocabulary of a run, shared by the daemon, the history store, the job
//! logs and the client commands: why a run started ([`Trigger`]) and how it
//! ended ([`Outcome`]).
//!
//! These names are part of the contract (SPEC 6 and 9): they appear in
//! history rows, in `--json` output and in log frames, so their spelling
//! never changes.

use std::fmt;
use std::str::FromStr;

/// Why a run started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// Its schedule came due.
    Schedule,
    /// `sundial trigger`.
    Manual,
    /// A fire missed while the daemon was down or the clock jumped.
    CatchUp,
    /// A new attempt after a failed run (`retry`).
    Retry,
    /// `@reboot`: first daemon start of this boot.
    Reboot,
    /// `@start`: every daemon start.
    Start,
}

impl Trigger {
    pub const fn as_str(self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Manual => "manual",
            Trigger::CatchUp => "catch-up",
            Trigger::Retry => "retry",
            Trigger::Reboot => "reboot",
            Trigger::Start => "start",
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Still running (only ever seen in history while a run is in progress).
    Running,
    /// Exit status 0.
    Ok,
    /// A non-zero exit status.
    Failed,
    /// Stopped by sundial because it outlived `timeout`.
    Timeout,
    /// Ended by a signal sundial did not send for a timeout.
    Killed,
    /// Not started because of the overlap policy.
    Skipped,
    /// Could not be started at all (command not found, bad workdir, unknown user...).
    Error,
    /// The daemon stopped or died while it ran.
    Interrupted,
}

impl Outcome {
    pub const ALL: [Outcome; 8] = [
        Outcome::Running,
        Outcome::Ok,
        Outcome::Failed,
        Outcome::Timeout,
        Outcome::Killed,
        Outcome::Skipped,
        Outcome::Error,
        Outcome::Interrupted,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Running => "running",
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Timeout => "timeout",
            Outcome::Killed => "killed",
            Outcome::Skipped => "skipped",
            Outcome::Error => "error",
            Outcome::Interrupted => "interrupted",
        }
    }

    /// Whether this outcome counts as a failure for retry and notifications.
    pub const fn is_failure(self) -> bool {
        matches!(
            self,
            Outcome::Failed | Outcome::Timeout | Outcome::Killed | Outcome::Error
        )
    }
}

/// The error for an unknown trigger or outcome name read back from storage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{value}'")]
pub struct UnknownName {
    pub kind: &'static str,
    pub value: String,
}

impl FromStr for Trigger {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Trigger::Schedule,
            Trigger::Manual,
            Trigger::CatchUp,
            Trigger::Retry,
            Trigger::Reboot,
            Trigger::Start,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| UnknownName {
            kind: "trigger",
            value: s.to_string(),
        })
    }
}

impl FromStr for Outcome {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownName {
                kind: "outcome",
                value: s.to_string(),
            })
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>().unwrap(), o);
        }
        assert_eq!("catch-up".parse::<Trigger>().unwrap(), Trigger::CatchUp);
        assert!("bogus".parse::<Outcome>().is_err());
    }
}
