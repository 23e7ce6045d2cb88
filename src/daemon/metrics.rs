//! Prometheus metrics (SPEC 7, 9): per job, runs by outcome, last start, last
//! success, last duration and runs in progress, served as Prometheus text
//! (format 0.0.4) on `GET /metrics` when `metrics: { listen: ADDR }` is set.
//!
//! Counters start from the history at daemon start, so they match
//! `sundial history` rather than resetting with each restart. The scheduler
//! updates them as runs start and end; the HTTP server only reads.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::AtomicU64;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::run::Outcome;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabel {
    job: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobOutcome {
    job: String,
    outcome: String,
}

pub struct Metrics {
    registry: Registry,
    runs: Family<JobOutcome, Counter>,
    last_start: Family<JobLabel, Gauge<f64, AtomicU64>>,
    last_success: Family<JobLabel, Gauge<f64, AtomicU64>>,
    last_duration: Family<JobLabel, Gauge<f64, AtomicU64>>,
    running: Family<JobLabel, Gauge>,
}

fn label(job: &str) -> JobLabel {
    JobLabel {
        job: job.to_string(),
    }
}

fn seconds(t: jiff::Timestamp) -> f64 {
    t.as_millisecond() as f64 / 1000.0
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let runs = Family::<JobOutcome, Counter>::default();
        let last_start = Family::<JobLabel, Gauge<f64, AtomicU64>>::default();
        let last_success = Family::<JobLabel, Gauge<f64, AtomicU64>>::default();
        let last_duration = Family::<JobLabel, Gauge<f64, AtomicU64>>::default();
        let running = Family::<JobLabel, Gauge>::default();
        // The encoder appends `_total` to counters.
        registry.register("sundial_job_runs", "Runs by job and outcome", runs.clone());
        registry.register(
            "sundial_job_last_start_timestamp_seconds",
            "When the job's last run started (Unix time)",
            last_start.clone(),
        );
        registry.register(
            "sundial_job_last_success_timestamp_seconds",
            "When the job's last successful run ended (Unix time)",
            last_success.clone(),
        );
        registry.register(
            "sundial_job_last_duration_seconds",
            "How long the job's last finished run took",
            last_duration.clone(),
        );
        registry.register(
            "sundial_job_running",
            "Runs of the job in progress",
            running.clone(),
        );
        Metrics {
            registry,
            runs,
            last_start,
            last_success,
            last_duration,
            running,
        }
    }

    /// Seed the counters from history.
    pub fn seed(&self, counts: &[(String, Outcome, u64)]) {
        for (job, outcome, n) in counts {
            if *outcome != Outcome::Running {
                self.runs
                    .get_or_create(&JobOutcome {
                        job: job.clone(),
                        outcome: outcome.as_str().to_string(),
                    })
                    .inc_by(*n);
            }
        }
    }

    /// Make a job visible with zero values even before it first runs.
    pub fn declare(&self, job: &str) {
        let _ = self.running.get_or_create(&label(job));
    }

    pub fn set_last_success(&self, job: &str, at: jiff::Timestamp) {
        self.last_success
            .get_or_create(&label(job))
            .set(seconds(at));
    }

    pub fn started(&self, job: &str, at: jiff::Timestamp) {
        self.last_start.get_or_create(&label(job)).set(seconds(at));
        self.running.get_or_create(&label(job)).inc();
    }

    pub fn finished(
        &self,
        job: &str,
        outcome: Outcome,
        duration: std::time::Duration,
        ended: jiff::Timestamp,
        was_running: bool,
    ) {
        self.runs
            .get_or_create(&JobOutcome {
                job: job.to_string(),
                outcome: outcome.as_str().to_string(),
            })
            .inc();
        if was_running {
            self.running.get_or_create(&label(job)).dec();
            self.last_duration
                .get_or_create(&label(job))
                .set(duration.as_secs_f64());
        }
        if outcome == Outcome::Ok {
            self.set_last_success(job, ended);
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

/// Bind the metrics address before the daemon reports ready, so that a
/// scraper started right after `sundial start` finds it. A failure is
/// logged and leaves metrics off; it never stops the daemon.
pub fn bind(addr: SocketAddr) -> Option<tokio::net::TcpListener> {
    let listener = std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .and_then(tokio::net::TcpListener::from_std);
    match listener {
        Ok(l) => {
            tracing::info!(%addr, "serving Prometheus metrics on /metrics");
            Some(l)
        }
        Err(e) => {
            tracing::error!("cannot serve metrics on {addr}: {e}; metrics are off");
            None
        }
    }
}

/// Serve `GET /metrics` until the runtime stops.
pub async fn serve(listener: tokio::net::TcpListener, metrics: Rc<Metrics>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("metrics accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let metrics = metrics.clone();
        tokio::task::spawn_local(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let metrics = metrics.clone();
                async move { Ok::<_, Infallible>(respond(&req, &metrics)) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await
            {
                tracing::debug!("metrics connection: {e}");
            }
        });
    }
}

fn respond(req: &Request<hyper::body::Incoming>, metrics: &Metrics) -> Response<Full<Bytes>> {
    let (status, ctype, body) = match (req.method(), req.uri().path()) {
        (&hyper::Method::GET, "/metrics") => (
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(),
        ),
        (&hyper::Method::GET, _) => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found; metrics are at /metrics\n".to_string(),
        ),
        _ => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "only GET\n".to_string(),
        ),
    };
    Response::builder()
        .status(status)
        .header("Content-Type", ctype)
        .body(Full::new(Bytes::from(body)))
        .expect("valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_spec_names() {
        let m = Metrics::new();
        m.seed(&[("backup".into(), Outcome::Ok, 3)]);
        m.declare("backup");
        let t: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        m.started("backup", t);
        m.finished(
            "backup",
            Outcome::Failed,
            std::time::Duration::from_millis(1500),
            t,
            true,
        );
        let text = m.render();
        assert!(
            text.contains("sundial_job_runs_total{job=\"backup\",outcome=\"ok\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("sundial_job_runs_total{job=\"backup\",outcome=\"failed\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("sundial_job_last_start_timestamp_seconds{job=\"backup\"} 1767225600"),
            "{text}"
        );
        assert!(
            text.contains("sundial_job_last_duration_seconds{job=\"backup\"} 1.5"),
            "{text}"
        );
        assert!(
            text.contains("sundial_job_running{job=\"backup\"} 0"),
            "{text}"
        );
    }
}
