//! Per-key rate limits and the Prometheus `/metrics` page, over HTTP on both databases.
//! Rate limits run on a clock the test moves by hand, so no assertion depends on how
//! fast the machine is.

use crate::pos::{order_data, paid, sign};
use crate::server::{Body, Db, TestServer, assert_error_shape, dbs, spawn_configured};
use regulars_http::RateLimit;
use regulars_ports::{Clock, Role};
use regulars_tests::{ManualClock, phone};
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// A GET answering with its `Retry-After` header.
async fn get_with_retry_after(
    server: &TestServer,
    path: &str,
    key: &str,
) -> (u16, Option<String>, serde_json::Value) {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", server.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.unwrap_or_default();
    (
        status,
        retry_after,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

async fn integration(server: &TestServer, admin: &str) -> (String, String) {
    let rules: serde_json::Value =
        serde_json::from_str(regulars_tests::RULES).unwrap_or_else(|e| panic!("{e}"));
    server
        .put("/v1/program/earning-rules", admin, &rules)
        .await
        .expect(200, "rules");
    let made = server
        .post("/v1/integrations", admin, &json!({"kind": "generic"}))
        .await
        .expect(201, "integration");
    (made.str("/integration/webhook_path"), made.str("/secret"))
}

async fn post_webhook(
    server: &TestServer,
    path: &str,
    body: &[u8],
    header: (&str, String),
) -> crate::server::Reply {
    server
        .send(
            Method::POST,
            path,
            None,
            Body::Raw(Some("application/json"), body.to_vec()),
            &[(header.0, header.1)],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_over_its_rate_gets_429_with_retry_after_and_recovers() {
    for db in dbs() {
        let clock = ManualClock::starting_now();
        let limit = RateLimit {
            per_second: 1,
            burst: 3,
        };
        let server = spawn_configured(db, |s| s.rate_limit = Some(limit), clock.clone()).await;
        let tenant = server.tenant("Limited").await;
        let other = server
            .services
            .create_api_key(tenant.brand, Role::Viewer, None)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: key: {e}"))
            .token;
        let admin = tenant.admin.as_str();

        for i in 0..3 {
            let (status, _, body) = get_with_retry_after(&server, "/v1/brand", admin).await;
            assert_eq!(status, 200, "{db:?}: request {i} of the burst: {body}");
        }
        let (status, retry_after, body) = get_with_retry_after(&server, "/v1/brand", admin).await;
        assert_eq!(status, 429, "{db:?}: over the burst: {body}");
        assert_error_shape(&body, "429");
        assert_eq!(body["error"]["code"], "rate_limited", "{body}");
        assert_eq!(retry_after.as_deref(), Some("1"), "{db:?}: Retry-After");

        // Another key of the same brand has its own bucket.
        let (status, _, body) = get_with_retry_after(&server, "/v1/brand", &other).await;
        assert_eq!(status, 200, "{db:?}: another key: {body}");

        // Still spent until the clock moves; one second brings one request back.
        clock.advance(Duration::milliseconds(500));
        let (status, retry_after, _) = get_with_retry_after(&server, "/v1/brand", admin).await;
        assert_eq!((status, retry_after.as_deref()), (429, Some("1")), "{db:?}");
        clock.advance(Duration::milliseconds(500));
        let (status, _, body) = get_with_retry_after(&server, "/v1/brand", admin).await;
        assert_eq!(status, 200, "{db:?}: after waiting: {body}");
        let (status, _, _) = get_with_retry_after(&server, "/v1/brand", admin).await;
        assert_eq!(status, 429, "{db:?}: one token came back, not more");

        // A POS integration is limited on its own, whatever key made it.
        clock.advance(Duration::seconds(10));
        let (path, secret) = integration(&server, admin).await;
        clock.advance(Duration::seconds(10));
        let now = clock.now();
        for i in 0..4 {
            let body = paid(
                &format!("evt-{i}"),
                order_data(
                    &format!("RL-{i}"),
                    Some(phone(i).as_str()),
                    now - Duration::hours(1),
                    1,
                ),
            );
            let reply = post_webhook(&server, &path, &body, sign(&secret, &body, now)).await;
            if i < 3 {
                reply.expect(200, &format!("{db:?}: webhook {i}"));
            } else {
                reply.expect_error(
                    429,
                    "rate_limited",
                    &format!("{db:?}: webhook over the burst"),
                );
            }
        }
        let (status, _, body) = get_with_retry_after(&server, "/v1/brand", admin).await;
        assert_eq!(
            status, 200,
            "{db:?}: the key is not charged for its webhooks: {body}"
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_limit_off_nothing_is_ever_429() {
    let clock = ManualClock::starting_now();
    let server = spawn_configured(Db::Sqlite, |s| s.rate_limit = None, clock).await;
    let tenant = server.tenant("Unlimited").await;
    for i in 0..300 {
        let (status, _, body) = get_with_retry_after(&server, "/v1/brand", &tenant.admin).await;
        assert_eq!(status, 200, "request {i}: {body}");
    }
    server.stop().await;
}

/// One sample of an exposition: the metric name and its labels, sorted.
type SeriesKey = (String, BTreeMap<String, String>);

/// Parses the text exposition strictly: every line is a comment (`# TYPE`, `# HELP`,
/// `# UNIT`), the final `# EOF`, or `name{label="value",…} number`.
fn parse_exposition(text: &str) -> BTreeMap<SeriesKey, f64> {
    let mut out = BTreeMap::new();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "ends with # EOF");
    for line in &lines[..lines.len() - 1] {
        if let Some(comment) = line.strip_prefix("# ") {
            let kind = comment.split(' ').next().unwrap_or_default();
            assert!(["TYPE", "HELP", "UNIT"].contains(&kind), "comment: {line}");
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let inner = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line}"));
                let mut labels = BTreeMap::new();
                for pair in inner.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair
                        .split_once("=\"")
                        .unwrap_or_else(|| panic!("bad label {pair:?}: {line}"));
                    labels.insert(k.to_owned(), v.trim_end_matches('"').to_owned());
                }
                (name, labels)
            }
            None => (series, BTreeMap::new()),
        };
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "metric name: {line}"
        );
        let previous = out.insert((name.to_owned(), labels), value);
        assert!(previous.is_none(), "series twice: {line}");
    }
    out
}

fn sample(samples: &BTreeMap<SeriesKey, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let key = (
        name.to_owned(),
        labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    );
    samples.get(&key).copied().unwrap_or(0.0)
}

async fn scrape(server: &TestServer, token: Option<&str>) -> BTreeMap<SeriesKey, f64> {
    let reply = server
        .call(Method::GET, "/metrics", token, Body::None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    parse_exposition(&reply.text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_exactly_the_requests_made() {
    for db in dbs() {
        let server = spawn_configured(db, |_| {}, Arc::new(regulars::system::SystemClock)).await;
        let tenant = server.tenant("Measured").await;
        let admin = tenant.admin.as_str();
        let (path, secret) = integration(&server, admin).await;
        let before = scrape(&server, None).await;

        for _ in 0..3 {
            server.get("/v1/brand", admin).await.expect(200, "brand");
        }
        for _ in 0..2 {
            let unknown = format!("/v1/customers/{}", uuid::Uuid::now_v7());
            server.get(&unknown, admin).await.expect(404, "unknown");
        }
        let now = OffsetDateTime::now_utc();
        let body = paid(
            "evt-m1",
            order_data("M-1", Some(phone(9).as_str()), now - Duration::hours(1), 2),
        );
        let header = sign(&secret, &body, now);
        post_webhook(&server, &path, &body, header.clone())
            .await
            .expect(200, "counted");
        post_webhook(&server, &path, &body, header)
            .await
            .expect(200, "replayed");
        post_webhook(&server, &path, &body, sign("not-the-secret", &body, now))
            .await
            .expect(401, "bad signature");

        let after = scrape(&server, None).await;
        let moved = |name: &str, labels: &[(&str, &str)]| {
            sample(&after, name, labels) - sample(&before, name, labels)
        };
        let requests = "regulars_http_requests_total";
        let (db_name, what) = (format!("{db:?}"), "moved by exactly the requests made");
        assert_eq!(
            moved(
                requests,
                &[("route", "/v1/brand"), ("method", "GET"), ("status", "200")]
            ),
            3.0,
            "{db_name}: {what}"
        );
        assert_eq!(
            moved(
                requests,
                &[
                    ("route", "/v1/customers/{id}"),
                    ("method", "GET"),
                    ("status", "404")
                ]
            ),
            2.0,
            "{db_name}: {what}"
        );
        assert_eq!(
            moved(
                requests,
                &[
                    ("route", "/webhooks/{integration}"),
                    ("method", "POST"),
                    ("status", "200")
                ]
            ),
            2.0,
            "{db_name}: {what}"
        );
        assert_eq!(
            moved(
                requests,
                &[
                    ("route", "/webhooks/{integration}"),
                    ("method", "POST"),
                    ("status", "401")
                ]
            ),
            1.0,
            "{db_name}: {what}"
        );
        // The first scrape is counted once it has answered.
        assert_eq!(
            moved(
                requests,
                &[("route", "/metrics"), ("method", "GET"), ("status", "200")]
            ),
            1.0,
            "{db_name}: {what}"
        );
        let ingested = "regulars_ingested_total";
        for (outcome, n) in [("counted", 1.0), ("replayed", 1.0), ("duplicate", 0.0)] {
            assert_eq!(
                moved(
                    ingested,
                    &[("kind", "order"), ("via", "webhook"), ("outcome", outcome)]
                ),
                n,
                "{db_name}: {outcome}"
            );
        }
        assert_eq!(
            moved(
                ingested,
                &[
                    ("kind", "delivery"),
                    ("via", "webhook"),
                    ("outcome", "rejected")
                ]
            ),
            1.0,
            "{db_name}: rejected"
        );
        let latency = "regulars_http_request_duration_seconds";
        let route = [("route", "/v1/brand"), ("method", "GET")];
        assert_eq!(moved(&format!("{latency}_count"), &route), 3.0, "{db_name}");
        let inf = [("route", "/v1/brand"), ("method", "GET"), ("le", "+Inf")];
        assert_eq!(
            sample(&after, &format!("{latency}_bucket"), &inf),
            sample(&after, &format!("{latency}_count"), &route),
            "{db_name}: the +Inf bucket holds every request"
        );
        assert_eq!(
            sample(&after, "regulars_database_ready", &[]),
            1.0,
            "{db_name}"
        );
        assert!(
            sample(&after, "process_resident_memory_bytes", &[]) > 0.0,
            "{db_name}"
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metrics_token_closes_the_page_to_everyone_else() {
    let server = spawn_configured(
        Db::Sqlite,
        |s| s.metrics_token = Some("scrape-token".to_owned()),
        Arc::new(regulars::system::SystemClock),
    )
    .await;
    let tenant = server.tenant("Closed").await;
    for key in [None, Some("wrong"), Some(tenant.admin.as_str())] {
        server
            .call(Method::GET, "/metrics", key, Body::None)
            .await
            .expect_error(401, "unauthorized", &format!("{key:?}"));
    }
    let samples = scrape(&server, Some("scrape-token")).await;
    assert_eq!(
        sample(
            &samples,
            "regulars_http_requests_total",
            &[("route", "/metrics"), ("method", "GET"), ("status", "401")]
        ),
        3.0
    );
    server.stop().await;
}
