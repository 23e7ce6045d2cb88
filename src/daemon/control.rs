//! The control socket server (SPEC 7): `<runtime_dir>/sundial.sock`, mode
//! 0600, one JSON request per line, answered with one or more JSON lines.
//!
//! Each connection is a task of its own that checks the peer (`SO_PEERCRED`:
//! only the daemon's uid and root), reads one capped line, and passes the
//! request to the scheduler loop, which owns all state. Malformed, oversized
//! or refused requests get an error reply here and never reach the loop.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use super::DaemonError;
use super::scheduler::Event;
use crate::protocol::{self, ErrorCode, Reply, Request};

/// Bind the socket. The caller holds the instance lock, so a socket file
/// already there belongs to a daemon that died: it is replaced.
pub fn bind(runtime_dir: &Path) -> Result<UnixListener, DaemonError> {
    let path = runtime_dir.join(protocol::SOCKET_FILE);
    let io = |op: &'static str| {
        let path = path.clone();
        move |source| DaemonError::Io { op, path, source }
    };
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("remove stale socket")(e)),
    }
    // Bind under a restrictive umask so the socket is never reachable with
    // looser permissions, not even between bind and chmod.
    let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o177));
    let listener = UnixListener::bind(&path);
    nix::sys::stat::umask(old);
    let listener = listener.map_err(io("bind control socket"))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .map_err(io("set mode of control socket"))?;
    Ok(listener)
}

pub fn remove(runtime_dir: &Path) {
    let _ = std::fs::remove_file(runtime_dir.join(protocol::SOCKET_FILE));
}

/// Accept connections until the runtime ends.
pub async fn serve(listener: UnixListener, events: mpsc::UnboundedSender<Event>) {
    let me = nix::unistd::Uid::effective().as_raw();
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let events = events.clone();
                tokio::task::spawn_local(async move {
                    if let Err(e) = handle(stream, me, events).await {
                        tracing::debug!("control connection: {e}");
                    }
                });
            }
            Err(e) => {
                tracing::error!("control socket accept failed: {e}");
                // Out of descriptors, typically: give the daemon a moment
                // rather than spinning on the same error.
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

async fn send(stream: &mut (impl AsyncWriteExt + Unpin), reply: &Reply) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(reply).unwrap_or_default();
    line.push(b'\n');
    stream.write_all(&line).await
}

async fn handle(
    stream: UnixStream,
    me: u32,
    events: mpsc::UnboundedSender<Event>,
) -> std::io::Result<()> {
    let peer = stream.peer_cred()?;
    let (read, mut write) = stream.into_split();
    if peer.uid() != me && peer.uid() != 0 {
        tracing::warn!(uid = peer.uid(), pid = ?peer.pid(), "refused a control connection from another user");
        return send(
            &mut write,
            &Reply::error(
                ErrorCode::Forbidden,
                if me == 0 {
                    format!(
                        "uid {} may not control this daemon (only root may); use sudo, or run your own daemon in user mode",
                        peer.uid()
                    )
                } else {
                    format!(
                        "uid {} may not control this daemon (only uid {me} and root may)",
                        peer.uid()
                    )
                },
            ),
        )
        .await;
    }
    // One line, at most MAX_REQUEST bytes: `take` bounds what is buffered
    // however long the peer's line is.
    let mut reader = BufReader::new(read).take(protocol::MAX_REQUEST as u64 + 1);
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).await?;
    if line.len() > protocol::MAX_REQUEST {
        return send(
            &mut write,
            &Reply::error(
                ErrorCode::BadRequest,
                format!("request longer than {} bytes", protocol::MAX_REQUEST),
            ),
        )
        .await;
    }
    let request = match parse(&line) {
        Ok(r) => r,
        Err(reply) => return send(&mut write, &reply).await,
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    if events
        .send(Event::Control {
            request: request.body,
            reply: tx,
        })
        .is_err()
    {
        return send(
            &mut write,
            &Reply::error(ErrorCode::Internal, "the daemon is shutting down"),
        )
        .await;
    }
    while let Some(reply) = rx.recv().await {
        send(&mut write, &reply).await?;
    }
    Ok(())
}

/// Decode one request line, or the error reply for it.
pub fn parse(line: &[u8]) -> Result<Request, Box<Reply>> {
    let value: serde_json::Value = serde_json::from_slice(line).map_err(|e| {
        Box::new(Reply::error(
            ErrorCode::BadRequest,
            format!("not a JSON request: {e}"),
        ))
    })?;
    let version = value.get("protocol").and_then(|v| v.as_u64());
    if version != Some(u64::from(protocol::VERSION)) {
        return Err(Box::new(Reply::error(
            ErrorCode::Version,
            format!(
                "protocol version {} is not supported by this daemon (it speaks {}); use the sundial binary of the same version",
                version.map_or("missing".to_string(), |v| v.to_string()),
                protocol::VERSION
            ),
        )));
    }
    serde_json::from_value(value).map_err(|e| {
        Box::new(Reply::error(
            ErrorCode::BadRequest,
            format!("unknown request: {e}"),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ReplyBody, RequestBody};

    fn code(r: Result<Request, Box<Reply>>) -> ErrorCode {
        match r.expect_err("an error reply").body {
            ReplyBody::Error { code, .. } => code,
            other => panic!("not an error: {other:?}"),
        }
    }

    #[test]
    fn parse_accepts_and_rejects() {
        assert_eq!(
            parse(br#"{"protocol":1,"request":"status"}"#).unwrap().body,
            RequestBody::Status
        );
        assert_eq!(code(parse(b"garbage")), ErrorCode::BadRequest);
        assert_eq!(
            code(parse(br#"{"protocol":99,"request":"status"}"#)),
            ErrorCode::Version
        );
        assert_eq!(code(parse(br#"{"request":"status"}"#)), ErrorCode::Version);
        assert_eq!(
            code(parse(br#"{"protocol":1,"request":"dance"}"#)),
            ErrorCode::BadRequest
        );
    }
}
