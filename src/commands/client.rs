//! `status`, `reload` and `trigger`: requests to the running daemon over its
//! control socket. Plain blocking std I/O: a client has nothing else to do
//! while it waits.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

use crate::error::{Failure, Result, exit};
use crate::lockfile::{self, Holder};
use crate::protocol::{self, Reply, ReplyBody, Request, RequestBody};
use crate::timefmt;

use super::{Context, Style, lifecycle::not_running};

/// An open request: replies arrive line by line.
pub struct Exchange {
    reader: BufReader<UnixStream>,
}

impl Exchange {
    /// The next reply, or None when the daemon closed the connection.
    pub fn next_reply(&mut self) -> Result<Option<Reply>> {
        let mut line = String::new();
        let n = self
            .reader
            .read_line(&mut line)
            .map_err(|e| Failure::runtime(format!("lost the connection to the daemon: {e}")))?;
        if n == 0 {
            return Ok(None);
        }
        let reply: Reply = serde_json::from_str(&line).map_err(|e| {
            Failure::runtime(format!(
                "the daemon sent a reply this client does not understand ({e}); is it a different sundial version? restart it with `sundial stop && sundial start`"
            ))
        })?;
        if reply.protocol != protocol::VERSION {
            return Err(Failure::runtime(format!(
                "the daemon speaks protocol version {} and this client {}; restart it with this binary",
                reply.protocol,
                protocol::VERSION
            )));
        }
        if let ReplyBody::Error { message, .. } = &reply.body {
            return Err(Failure::runtime(format!("the daemon refused: {message}")));
        }
        Ok(Some(reply))
    }

    fn expect(&mut self) -> Result<ReplyBody> {
        self.next_reply()?
            .map(|r| r.body)
            .ok_or_else(|| Failure::runtime("the daemon closed the connection without replying"))
    }
}

/// Send one request to the daemon.
pub fn request(ctx: &Context, body: RequestBody) -> Result<Exchange> {
    let paths = ctx.paths_best_effort();
    if lockfile::probe(&paths.runtime_dir)? == Holder::NotRunning {
        return Err(not_running(&paths.runtime_dir));
    }
    let socket = paths.runtime_dir.join(protocol::SOCKET_FILE);
    let mut stream = UnixStream::connect(&socket).map_err(|e| {
        Failure::runtime(format!(
            "the daemon is running but its socket {} does not answer: {e}",
            socket.display()
        ))
    })?;
    let mut line = serde_json::to_vec(&Request::new(body)).expect("requests serialize");
    line.push(b'\n');
    let sent = stream.write_all(&line);
    let mut exchange = Exchange {
        reader: BufReader::new(stream),
    };
    if let Err(e) = sent {
        // The daemon may refuse (and close) before reading the request; its
        // reply says why, which beats "broken pipe".
        exchange.next_reply()?;
        return Err(Failure::runtime(format!(
            "cannot send to {}: {e}",
            socket.display()
        )));
    }
    Ok(exchange)
}

pub fn status(ctx: &Context, json: bool) -> Result<()> {
    let ReplyBody::Status(s) = request(ctx, RequestBody::Status)?.expect()? else {
        return Err(Failure::runtime("unexpected reply to status"));
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&s).expect("status serializes")
        );
        return Ok(());
    }
    let style = Style::stdout();
    println!(
        "{} running (pid {}, version {})",
        style.bold("sundial"),
        s.pid,
        s.version
    );
    println!("  uptime:  {}", timefmt::short_duration(s.uptime_s));
    println!("  config:  {} (loaded {})", s.config, s.config_loaded_at);
    println!(
        "  jobs:    {} ({} enabled, {} disabled)",
        s.jobs.total, s.jobs.enabled, s.jobs.disabled
    );
    match (&s.next_fire, &s.next_job) {
        (Some(t), Some(job)) => println!("  next:    {job} at {t}"),
        _ => println!("  next:    nothing scheduled"),
    }
    if s.running.is_empty() {
        println!("  running: none");
    } else {
        println!("  running:");
        for r in &s.running {
            println!("    {} run {} since {}", r.job, r.run_id, r.started_at);
        }
    }
    Ok(())
}

pub fn reload(ctx: &Context) -> Result<()> {
    match request(ctx, RequestBody::Reload)?.expect()? {
        ReplyBody::Reloaded {
            added,
            removed,
            changed,
        } => {
            println!("sundial: configuration reloaded");
            for n in &added {
                println!("+ {n}");
            }
            for n in &removed {
                println!("- {n}");
            }
            for n in &changed {
                println!("~ {n}");
            }
            if added.is_empty() && removed.is_empty() && changed.is_empty() {
                println!("  (no job changed)");
            }
            Ok(())
        }
        ReplyBody::ReloadRejected { errors } => Err(Failure::config(format!(
            "reload rejected; the daemon keeps running the previous configuration:\n{errors}"
        ))),
        _ => Err(Failure::runtime("unexpected reply to reload")),
    }
}

pub fn trigger(ctx: &Context, job: &str, wait: bool) -> Result<()> {
    let mut ex = request(
        ctx,
        RequestBody::Trigger {
            job: job.to_string(),
            wait,
        },
    )?;
    let run_id = match ex.expect()? {
        ReplyBody::Started { run_id } => {
            println!("sundial: {job} started (run {run_id})");
            run_id
        }
        ReplyBody::Skipped { run_id, reason } => {
            if run_id > 0 {
                println!("sundial: {job} not started (run {run_id} recorded as skipped): {reason}");
            } else {
                println!("sundial: {job} {reason}");
            }
            return Ok(());
        }
        _ => return Err(Failure::runtime("unexpected reply to trigger")),
    };
    if !wait {
        return Ok(());
    }
    match ex.expect()? {
        ReplyBody::Finished(r) => {
            let code = match (r.outcome.as_str(), r.exit_code, r.signal) {
                ("ok", _, _) => exit::OK,
                ("timeout", _, _) => 124,
                (_, _, Some(sig)) => 128 + sig,
                (_, Some(code), _) => code,
                _ => exit::FAILURE,
            };
            let detail = match (r.exit_code, r.signal) {
                (_, Some(sig)) => format!("signal {sig}"),
                (Some(c), _) => format!("exit {c}"),
                _ => "no exit status".into(),
            };
            println!(
                "sundial: run {run_id} of {job} ended: {} ({detail})",
                r.outcome
            );
            if code == exit::OK {
                Ok(())
            } else {
                Err(Failure::silent(code))
            }
        }
        _ => Err(Failure::runtime(
            "unexpected reply while waiting for the run",
        )),
    }
}
