//! The control socket's wire format (SPEC 7), defined once for the client and
//! the daemon: one JSON object per line each way, every message carrying the
//! protocol version so a client and daemon of different versions say so
//! instead of misreading each other.

use serde::{Deserialize, Serialize};

/// Bumped whenever a request or reply changes shape.
pub const VERSION: u32 = 1;

/// The longest request line the daemon reads (SPEC 9: 64 KiB).
pub const MAX_REQUEST: usize = 64 * 1024;

pub const SOCKET_FILE: &str = "sundial.sock";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The protocol version ([`VERSION`]).
    pub protocol: u32,
    #[serde(flatten)]
    pub body: RequestBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "kebab-case")]
pub enum RequestBody {
    Status,
    Reload,
    Trigger { job: String, wait: bool },
    Stop,
}

impl Request {
    pub fn new(body: RequestBody) -> Request {
        Request {
            protocol: VERSION,
            body,
        }
    }
}

/// One reply line. `Trigger { wait: true }` gets two: `Started`, then `Finished`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The protocol version ([`VERSION`]).
    pub protocol: u32,
    #[serde(flatten)]
    pub body: ReplyBody,
}

impl Reply {
    pub fn new(body: ReplyBody) -> Reply {
        Reply {
            protocol: VERSION,
            body,
        }
    }

    pub fn error(code: ErrorCode, message: impl Into<String>) -> Reply {
        Reply::new(ReplyBody::Error {
            code,
            message: message.into(),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "kebab-case")]
pub enum ReplyBody {
    Status(Status),
    Reloaded {
        added: Vec<String>,
        removed: Vec<String>,
        changed: Vec<String>,
    },
    /// The new config was refused; the old one keeps running.
    ReloadRejected {
        errors: String,
    },
    Started {
        run_id: i64,
    },
    /// The overlap policy kept the run from starting.
    Skipped {
        run_id: i64,
        reason: String,
    },
    Finished(RunResult),
    Stopping {
        pid: u32,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The peer's uid is neither the daemon's nor root.
    Forbidden,
    /// Not JSON, not a known request, or too long.
    BadRequest,
    /// The client speaks another protocol version.
    Version,
    UnknownJob,
    Internal,
}

/// The end of a run, for `trigger --wait`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunResult {
    pub run_id: i64,
    pub outcome: String,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
}

/// `sundial status --json` (SPEC 9 fixes these keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub version: String,
    pub uptime_s: u64,
    pub config: String,
    /// When the running configuration was loaded (RFC 3339).
    pub config_loaded_at: String,
    pub jobs: JobCounts,
    pub running: Vec<RunningRun>,
    /// The next fire of any job (RFC 3339), or null.
    pub next_fire: Option<String>,
    pub next_job: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCounts {
    pub total: usize,
    pub enabled: usize,
    pub disabled: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningRun {
    pub job: String,
    pub run_id: i64,
    pub started_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_tagged_json() {
        let r = Request::new(RequestBody::Trigger {
            job: "a".into(),
            wait: true,
        });
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(
            s,
            r#"{"protocol":1,"request":"trigger","job":"a","wait":true}"#
        );
        assert_eq!(serde_json::from_str::<Request>(&s).unwrap(), r);
        let s = serde_json::to_string(&Request::new(RequestBody::Status)).unwrap();
        assert_eq!(s, r#"{"protocol":1,"request":"status"}"#);
    }

    #[test]
    fn status_keeps_its_own_version_key() {
        let r = Reply::new(ReplyBody::Status(Status {
            pid: 1,
            version: "0.1.0".into(),
            uptime_s: 0,
            config: "/c".into(),
            config_loaded_at: "t".into(),
            jobs: JobCounts {
                total: 0,
                enabled: 0,
                disabled: 0,
            },
            running: vec![],
            next_fire: None,
            next_job: None,
        }));
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Reply>(&s).unwrap(), r);
    }

    #[test]
    fn replies_round_trip() {
        let r = Reply::error(ErrorCode::Forbidden, "no");
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Reply>(&s).unwrap(), r);
    }
}
