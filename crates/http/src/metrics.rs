//! Prometheus metrics: one [`Metrics`] registry per process, shared through
//! [`AppState`](crate::AppState) and served at `GET /metrics` in the text exposition
//! format (OpenMetrics 1.0, which Prometheus reads natively).
//!
//! The API records its own series (requests, latency, ingestion outcomes, scoring
//! runs, database readiness, resident memory). Other parts of the process — a delivery
//! worker, say — add theirs with one call to [`Metrics::register`], using the types of
//! the re-exported [`prometheus_client`] crate:
//!
//! ```
//! use regulars_http::metrics::Metrics;
//! use regulars_http::metrics::prometheus_client::metrics::{counter::Counter, family::Family};
//!
//! let metrics = Metrics::new();
//! let sent: Family<Vec<(String, String)>, Counter> = Family::default();
//! metrics.register("regulars_deliveries", "Messages delivered, by channel and status", sent.clone());
//! sent.get_or_create(&vec![("channel".into(), "sms".into()), ("status".into(), "sent".into())]).inc();
//! let text = metrics.encode();
//! assert!(text.contains(r#"regulars_deliveries_total{channel="sms",status="sent"} 1"#));
//! ```

pub use prometheus_client;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Metric, Registry};
use std::sync::Mutex;
use std::time::Instant;

/// Label pairs of a series.
pub type Labels = Vec<(String, String)>;

/// The content type of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Request latency buckets, in seconds: 1 ms to about 16 s.
const LATENCY_BUCKETS: [f64; 15] = [
    0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The process's metrics registry and the series the API records.
#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram, fn() -> Histogram>,
    ingested: Family<Labels, Counter>,
    webhook_ignored: Family<Labels, Counter>,
    scoring_runs: Family<Labels, Counter>,
    rate_limited: Counter,
    database_ready: Gauge,
    resident_memory: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl Metrics {
    /// A registry holding the API's series, all at zero.
    pub fn new() -> Metrics {
        let metrics = Metrics {
            registry: Mutex::new(Registry::default()),
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            ingested: Family::default(),
            webhook_ignored: Family::default(),
            scoring_runs: Family::default(),
            rate_limited: Counter::default(),
            database_ready: Gauge::default(),
            resident_memory: Gauge::default(),
        };
        metrics.register(
            "regulars_http_requests",
            "HTTP requests answered, by route pattern, method and status",
            metrics.requests.clone(),
        );
        metrics.register(
            "regulars_http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern and method",
            metrics.latency.clone(),
        );
        metrics.register(
            "regulars_ingested",
            "Orders and refunds received (via api or webhook), by outcome: counted, replayed, duplicate, skipped, rejected",
            metrics.ingested.clone(),
        );
        metrics.register(
            "regulars_webhook_ignored",
            "Parts of authentic webhook deliveries acknowledged without being counted, by dialect and reason",
            metrics.webhook_ignored.clone(),
        );
        metrics.register(
            "regulars_scoring_runs",
            "Scoring runs, by result (ok or failed)",
            metrics.scoring_runs.clone(),
        );
        metrics.register(
            "regulars_rate_limited",
            "Requests refused with 429 by the per-key rate limit",
            metrics.rate_limited.clone(),
        );
        metrics.register(
            "regulars_database_ready",
            "1 when the database answered at the last scrape, 0 otherwise",
            metrics.database_ready.clone(),
        );
        metrics.register(
            "process_resident_memory_bytes",
            "Resident memory of the process (Linux only; 0 elsewhere)",
            metrics.resident_memory.clone(),
        );
        metrics
    }

    /// Adds a metric (a counter, gauge, histogram or a family of them) under `name`;
    /// it is exposed from then on. Keep the handle (metrics are cheap clones sharing
    /// their values) to update it.
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .register(name, help, metric);
    }

    /// Records one answered request: its route pattern (`/v1/customers/{id}`, or
    /// `unmatched`), method, status and duration.
    pub fn record_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        self.requests
            .get_or_create(&labels(&[
                ("route", route),
                ("method", method),
                ("status", &status),
            ]))
            .inc();
        self.latency
            .get_or_create(&labels(&[("route", route), ("method", method)]))
            .observe(seconds);
    }

    /// Records an order or refund received: `kind` is `order` or `refund`, `via` is
    /// `api` or `webhook`, `outcome` is `counted`, `replayed`, `duplicate`, `skipped`
    /// or `rejected`.
    pub fn record_ingested(&self, kind: &str, via: &str, outcome: &str) {
        self.ingested
            .get_or_create(&labels(&[
                ("kind", kind),
                ("via", via),
                ("outcome", outcome),
            ]))
            .inc();
    }

    /// Records a part of an authentic webhook delivery acknowledged without being
    /// counted: `dialect` is `generic` or `kiotviet`, `reason` one of
    /// [`IgnoredReason`](regulars_ports::IgnoredReason)'s labels.
    pub fn record_webhook_ignored(&self, dialect: &str, reason: &str) {
        self.webhook_ignored
            .get_or_create(&labels(&[("dialect", dialect), ("reason", reason)]))
            .inc();
    }

    /// Records a scoring run of one brand.
    pub fn record_scoring_run(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.scoring_runs
            .get_or_create(&labels(&[("result", result)]))
            .inc();
    }

    /// Records a request refused by the rate limit.
    pub fn record_rate_limited(&self) {
        self.rate_limited.inc();
    }

    /// Sets whether the database answers.
    pub fn set_database_ready(&self, ready: bool) {
        self.database_ready.set(i64::from(ready));
    }

    /// The exposition text of every registered metric, resident memory read now.
    pub fn encode(&self) -> String {
        if let Some(bytes) = resident_memory_bytes() {
            self.resident_memory.set(bytes);
        }
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut text = String::new();
        if let Err(error) = encode(&mut text, &registry) {
            tracing::error!(%error, "metrics could not be encoded");
        }
        text
    }
}

/// Middleware: records every answered request in the [`Metrics`] of the app's
/// [`AppState`](crate::AppState), by route pattern (never the raw path, so ids do not
/// make new series), method and status.
pub async fn track_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req
        .app_data::<web::Data<crate::AppState>>()
        .map(|state| state.metrics.clone());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let result = next.call(req).await;
    if let Some(metrics) = metrics {
        let seconds = started.elapsed().as_secs_f64();
        let (route, status) = match &result {
            Ok(response) => (
                response.request().match_pattern(),
                response.status().as_u16(),
            ),
            Err(error) => (None, error.as_response_error().status_code().as_u16()),
        };
        let route = route.unwrap_or_else(|| "unmatched".to_owned());
        metrics.record_request(&route, &method, status, seconds);
    }
    result
}

/// `VmRSS` of `/proc/self/status`, in bytes.
fn resident_memory_bytes() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_show_in_the_exposition() {
        let metrics = Metrics::new();
        metrics.record_request("/v1/orders", "POST", 200, 0.003);
        metrics.record_request("/v1/orders", "POST", 200, 0.2);
        metrics.record_request("/v1/orders", "POST", 409, 0.003);
        metrics.record_ingested("order", "webhook", "counted");
        metrics.record_scoring_run(true);
        metrics.set_database_ready(true);
        let text = metrics.encode();
        assert!(
            text.contains(
                r#"regulars_http_requests_total{route="/v1/orders",method="POST",status="200"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"regulars_http_requests_total{route="/v1/orders",method="POST",status="409"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"regulars_http_request_duration_seconds_count{route="/v1/orders",method="POST"} 3"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"regulars_http_request_duration_seconds_bucket{le="0.005",route="/v1/orders",method="POST"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(
                r#"regulars_ingested_total{kind="order",via="webhook",outcome="counted"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains("regulars_database_ready 1"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
        if cfg!(target_os = "linux") {
            assert!(
                !text.contains("process_resident_memory_bytes 0\n"),
                "{text}"
            );
        }
    }
}
