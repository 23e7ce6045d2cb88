//! Telling someone about a run (SPEC 8, 9): `on_failure` commands, mail
//! through sendmail (like cron's MAILTO), and webhooks.
//!
//! All of it happens after the run is recorded, in a task of its own, and
//! none of it can change the run's outcome: a hook that fails, a sendmail
//! that is missing or a webhook that does not answer is logged and dropped.
//! Children (the hook, sendmail) are spawned through the same reaper as
//! jobs, because the daemon's `waitpid(-1)` would otherwise steal their exit
//! status from `std::process::Child::wait`.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::rc::Rc;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::reaper::{ExitInfo, Reaper};
use super::runner;
use super::sinks::LogSink;
use crate::config::{EnvValue, Job, Mode, WebhookEvent};
use crate::run::Outcome;

/// The mail body is capped (SPEC 9).
pub const MAIL_CAP: usize = 256 * 1024;
/// How much of the output's end a webhook carries.
const WEBHOOK_TAIL: usize = 4 * 1024;
/// Output kept from an `on_failure` hook for the job's log.
const HOOK_OUTPUT_CAP: usize = 64 * 1024;
/// Webhook delivery: attempts and the first back-off (doubling).
const WEBHOOK_ATTEMPTS: u32 = 4;
const WEBHOOK_BACKOFF: Duration = Duration::from_secs(1);
const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// A finished run, as the notifiers see it.
#[derive(Debug, Clone)]
pub struct Notice {
    pub job: Job,
    pub run_id: i64,
    pub outcome: Outcome,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub scheduled_at: Option<Timestamp>,
    pub started_at: Timestamp,
    pub ended_at: Timestamp,
    /// Failure, recovery (first success after failures) or plain success.
    pub event: WebhookEvent,
}

/// What the notifiers need from the daemon.
#[derive(Clone)]
pub struct Notifier {
    pub reaper: Rc<Reaper>,
    pub log: LogSink,
    pub log_dir: PathBuf,
    pub sendmail: PathBuf,
    pub mode: Mode,
}

impl Notifier {
    /// Run every notification `notice` calls for.
    pub async fn dispatch(self, notice: Notice) {
        let failed = notice.event == WebhookEvent::Failure;
        if failed && notice.job.on_failure.is_some() {
            self.on_failure(&notice).await;
        }
        let output = if (failed && !notice.job.mail_to.is_empty()) || notice.job.webhook.is_some() {
            self.run_output(&notice).await
        } else {
            Vec::new()
        };
        if failed && !notice.job.mail_to.is_empty() {
            self.mail(&notice, &output).await;
        }
        if let Some(hook) = &notice.job.webhook
            && hook.on.contains(&notice.event)
        {
            deliver_webhook(hook.url.clone(), webhook_body(&notice, &output)).await;
        }
    }

    /// The run's framed output, as its log holds it.
    async fn run_output(&self, notice: &Notice) -> Vec<u8> {
        self.log.flush().await;
        let (dir, job, id) = (self.log_dir.clone(), notice.job.name.clone(), notice.run_id);
        tokio::task::spawn_blocking(move || crate::joblog::read_run(&dir, &job, id))
            .await
            .ok()
            .and_then(|r| r.ok())
            .flatten()
            .unwrap_or_default()
    }

    /// `on_failure`: the job's own settings (user, env, workdir, limits),
    /// another command, and what it says goes into the job's log.
    async fn on_failure(&self, notice: &Notice) {
        let Some(command) = notice.job.on_failure.clone() else {
            return;
        };
        let mut hook = notice.job.clone();
        hook.command = command;
        let mut env = vec![
            ("SUNDIAL_JOB", notice.job.name.clone()),
            ("SUNDIAL_RUN_ID", notice.run_id.to_string()),
            ("SUNDIAL_OUTCOME", notice.outcome.as_str().to_string()),
            (
                "SUNDIAL_LOG_FILE",
                self.log_dir
                    .join(format!("{}.log", notice.job.name))
                    .display()
                    .to_string(),
            ),
        ];
        if let Some(code) = notice.exit_code {
            env.push(("SUNDIAL_EXIT_CODE", code.to_string()));
        }
        if let Some(sig) = notice.signal {
            env.push(("SUNDIAL_SIGNAL", sig.to_string()));
        }
        for (k, v) in env {
            hook.env.push((k.to_string(), EnvValue::Literal(v)));
        }
        let (name, id) = (notice.job.name.clone(), notice.run_id);
        let result = match runner::prepare(&hook, self.mode, id) {
            Ok(p) => runner::capture(p, &self.reaper, HOOK_OUTPUT_CAP, hook.timeout).await,
            Err(e) => Err(e),
        };
        match result {
            Ok((status, output)) => {
                let text = String::from_utf8_lossy(&output);
                for line in text.lines() {
                    self.log.note(&name, id, format!("on_failure: {line}"));
                }
                let how = describe(status);
                self.log.note(&name, id, format!("on_failure {how}"));
                tracing::info!(job = %name, run_id = id, "on_failure {how}");
            }
            Err(e) => {
                self.log
                    .note(&name, id, format!("on_failure could not start: {e}"));
                tracing::error!(job = %name, run_id = id, "on_failure could not start: {e}");
            }
        }
    }

    async fn mail(&self, notice: &Notice, output: &[u8]) {
        let message = mail_message(notice, output, &hostname());
        let name = notice.job.name.clone();
        match self.send_mail(message).await {
            Ok(ExitInfo::Exited(0)) => {
                tracing::info!(job = %name, run_id = notice.run_id, to = ?notice.job.mail_to, "failure mailed")
            }
            Ok(status) => tracing::error!(
                job = %name,
                run_id = notice.run_id,
                "{} {}; the failure was not mailed",
                self.sendmail.display(),
                describe(status)
            ),
            Err(e) => tracing::error!(
                job = %name,
                run_id = notice.run_id,
                "cannot run {}: {e}; the failure was not mailed (set `sendmail:` to your MTA's sendmail)",
                self.sendmail.display()
            ),
        }
    }

    async fn send_mail(&self, message: Vec<u8>) -> std::io::Result<ExitInfo> {
        let mut cmd = std::process::Command::new(&self.sendmail);
        cmd.arg("-t")
            .arg("-oi")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd.spawn()?;
        let exit = self.reaper.register(child.id());
        let stdin = child.stdin.take().expect("piped");
        // A blocking write on a thread: sendmail may read slowly.
        let writer = tokio::task::spawn_blocking(move || {
            let mut stdin = stdin;
            stdin.write_all(&message)
        });
        let _ = writer.await;
        exit.await
            .map_err(|_| std::io::Error::other("exit status lost"))
    }
}

/// The event a webhook subscribed to `on` hears of for `event`, if any. A
/// recovery is a success too: a hook that asked for successes but not
/// recoveries hears of it as a success.
pub fn webhook_event(event: WebhookEvent, on: &[WebhookEvent]) -> Option<WebhookEvent> {
    if on.contains(&event) {
        Some(event)
    } else if event == WebhookEvent::Recovery && on.contains(&WebhookEvent::Success) {
        Some(WebhookEvent::Success)
    } else {
        None
    }
}

fn describe(status: ExitInfo) -> String {
    match status {
        ExitInfo::Exited(c) => format!("exited with {c}"),
        ExitInfo::Signaled(s) => format!("was killed by signal {s}"),
    }
}

pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into())
}

/// The message for `sendmail -t` (SPEC 9): To, From, Subject, then the run's
/// framed output, capped.
pub fn mail_message(notice: &Notice, output: &[u8], host: &str) -> Vec<u8> {
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let mut m = Vec::new();
    let _ = write!(
        m,
        "To: {}\r\nFrom: sundial <{user}@{host}>\r\nSubject: [sundial] {} {} on {host}\r\n\
         Content-Type: text/plain; charset=utf-8\r\nAuto-Submitted: auto-generated\r\n\
         X-Sundial-Job: {}\r\nX-Sundial-Run-Id: {}\r\n\r\n",
        notice.job.mail_to.join(", "),
        notice.job.name,
        notice.outcome,
        notice.job.name,
        notice.run_id,
    );
    if output.len() > MAIL_CAP {
        let cut = output.len() - MAIL_CAP;
        let _ = writeln!(
            m,
            "[first {cut} bytes omitted; the whole run: sundial logs {} --run {}]",
            notice.job.name, notice.run_id
        );
        m.extend_from_slice(&output[cut..]);
    } else {
        m.extend_from_slice(output);
    }
    m
}

#[derive(Serialize)]
struct WebhookBody<'a> {
    job: &'a str,
    run_id: i64,
    event: &'static str,
    outcome: &'static str,
    exit_code: Option<i32>,
    signal: Option<i32>,
    scheduled_at: Option<String>,
    started_at: String,
    ended_at: String,
    host: String,
    output_tail: String,
}

pub fn webhook_body(notice: &Notice, output: &[u8]) -> Vec<u8> {
    let tz = &notice.job.timezone.zone;
    let tail = &output[output.len().saturating_sub(WEBHOOK_TAIL)..];
    let body = WebhookBody {
        job: &notice.job.name,
        run_id: notice.run_id,
        event: match notice.event {
            WebhookEvent::Failure => "failure",
            WebhookEvent::Recovery => "recovery",
            WebhookEvent::Success => "success",
        },
        outcome: notice.outcome.as_str(),
        exit_code: notice.exit_code,
        signal: notice.signal,
        scheduled_at: notice.scheduled_at.map(|t| crate::timefmt::rfc3339(t, tz)),
        started_at: crate::timefmt::rfc3339(notice.started_at, tz),
        ended_at: crate::timefmt::rfc3339(notice.ended_at, tz),
        host: hostname(),
        output_tail: String::from_utf8_lossy(tail).into_owned(),
    };
    serde_json::to_vec(&body).expect("serializes")
}

/// POST with a bounded number of attempts and a doubling back-off.
async fn deliver_webhook(url: String, body: Vec<u8>) {
    let mut backoff = WEBHOOK_BACKOFF;
    for attempt in 1..=WEBHOOK_ATTEMPTS {
        let (u, b) = (url.clone(), body.clone());
        let result = tokio::task::spawn_blocking(move || post(&u, &b)).await;
        match result {
            Ok(Ok(())) => {
                tracing::info!(url = %url, attempt, "webhook delivered");
                return;
            }
            Ok(Err(e)) => tracing::warn!(url = %url, attempt, "webhook failed: {e}"),
            Err(e) => tracing::warn!(url = %url, attempt, "webhook task failed: {e}"),
        }
        if attempt < WEBHOOK_ATTEMPTS {
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    tracing::error!(url = %url, "webhook not delivered after {WEBHOOK_ATTEMPTS} attempts; giving up");
}

fn post(url: &str, body: &[u8]) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(WEBHOOK_TIMEOUT))
        .http_status_as_error(true)
        .build()
        .into();
    agent
        .post(url)
        .header("Content-Type", "application/json")
        .header("User-Agent", concat!("sundial/", env!("CARGO_PKG_VERSION")))
        .send(body)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
