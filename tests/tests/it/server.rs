//! The real server over real HTTP: started with `Application::with_store` on a fresh
//! SQLite file or a fresh database of the shared PostgreSQL cluster, driven with a plain
//! HTTP client, stopped gracefully at the end of each test.

use regulars::server::Application;
use regulars::settings::Settings;
use regulars_domain::{BrandId, CallingCode, Currency};
use regulars_loyalty::ledger::RefundPolicy;
use regulars_ports::{Brand, Role};
use regulars_service::{BrandSetup, SecretKey, Services};
use regulars_store::{Store, StoreOptions};
use regulars_testkit::{SqliteFile, require_pg};
use reqwest::Method;
use serde_json::Value;
use std::sync::{Arc, Once};
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

/// Which database a server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database of the shared throwaway PostgreSQL cluster.
    Postgres,
}

/// Every database this machine can run the tests on: SQLite always, PostgreSQL when
/// installed (on CI a missing PostgreSQL fails the run instead of skipping it).
pub fn dbs() -> Vec<Db> {
    let mut out = vec![Db::Sqlite];
    if require_pg().is_some() {
        out.push(Db::Postgres);
    }
    out
}

/// Logs go to the test's output only when `TEST_LOG` is set.
fn init_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
                .with_test_writer()
                .try_init();
        }
    });
}

/// A running server and a client for it.
pub struct TestServer {
    /// The database it runs on.
    pub db: Db,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The use cases the server runs (for setup and checks only).
    pub services: Arc<Services>,
    client: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _file: Option<SqliteFile>,
}

/// Starts a server on `db` with the default body limit.
pub async fn spawn(db: Db) -> TestServer {
    spawn_with(db, Settings::default().body_limit).await
}

/// Starts a server on `db` accepting bodies of at most `body_limit` bytes.
pub async fn spawn_with(db: Db, body_limit: usize) -> TestServer {
    spawn_configured(
        db,
        |settings| settings.body_limit = body_limit,
        Arc::new(regulars::system::SystemClock),
    )
    .await
}

/// Starts a server on `db` with the test settings changed by `configure`, on `clock`.
pub async fn spawn_configured(
    db: Db,
    configure: impl FnOnce(&mut Settings),
    clock: Arc<dyn regulars_ports::Clock>,
) -> TestServer {
    init_logs();
    let (url, file, options) = match db {
        Db::Sqlite => {
            let file = SqliteFile::new().unwrap_or_else(|e| panic!("sqlite file: {e}"));
            (file.url(), Some(file), StoreOptions::default())
        }
        Db::Postgres => {
            let cluster = require_pg().unwrap_or_else(|| panic!("PostgreSQL went away"));
            let url = cluster
                .create_database("http")
                .unwrap_or_else(|e| panic!("create database: {e}"));
            (url, None, StoreOptions::default().max_connections(20))
        }
    };
    let store = Store::connect(&url, options)
        .await
        .unwrap_or_else(|e| panic!("{db:?}: connect {url}: {e}"));
    let mut server = spawn_on(db, store, configure, clock);
    server._file = file;
    server
}

/// Starts a server on `store` (a database of kind `db` the caller keeps), with the test
/// settings changed by `configure`, on `clock`.
pub fn spawn_on(
    db: Db,
    store: Store,
    configure: impl FnOnce(&mut Settings),
    clock: Arc<dyn regulars_ports::Clock>,
) -> TestServer {
    init_logs();
    let mut settings = Settings {
        listen: "127.0.0.1:0".to_owned(),
        secret_key: Some(SecretKey::from_bytes([0x5a; 32])),
        shutdown_timeout: std::time::Duration::from_secs(1),
        ..Settings::default()
    };
    configure(&mut settings);
    let app = Application::with_store_and_clock(&settings, Arc::new(store), clock)
        .unwrap_or_else(|e| panic!("{db:?}: start: {e}"));
    let base = format!("http://127.0.0.1:{}", app.port());
    let services = app.services();
    let handle = app.handle();
    let task = tokio::spawn(app.run_until_stopped());
    TestServer {
        db,
        base,
        services,
        client: reqwest::Client::new(),
        handle,
        task,
        _file: None,
    }
}

/// A brand made through the use cases, with its first admin key.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// The brand.
    pub brand: BrandId,
    /// Its first admin key.
    pub admin: String,
}

/// A request body.
pub enum Body<'a> {
    /// No body.
    None,
    /// JSON, sent as `application/json`.
    Json(&'a Value),
    /// Raw bytes with the given content type (none when `None`).
    Raw(Option<&'a str>, Vec<u8>),
}

/// An answer: its status, its body as text, and as JSON when it is JSON.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub text: String,
    /// The body read as JSON (`Null` when it is not JSON).
    pub json: Value,
}

impl Reply {
    /// Panics with the whole answer unless the status is `status`.
    #[track_caller]
    pub fn expect(self, status: u16, what: &str) -> Reply {
        assert_eq!(self.status, status, "{what}: {}", self.text);
        self
    }

    /// Panics unless this is an error answer of `status` and `code`, in the one error
    /// shape of the API; returns its `field`.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str, what: &str) -> Option<String> {
        assert_eq!(self.status, status, "{what}: {}", self.text);
        assert_error_shape(&self.json, what);
        assert_eq!(self.json["error"]["code"], code, "{what}: {}", self.text);
        self.json["error"]["field"].as_str().map(str::to_owned)
    }

    /// The string at a JSON pointer.
    #[track_caller]
    pub fn str(&self, pointer: &str) -> String {
        self.json
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no string at {pointer} in {}", self.text))
            .to_owned()
    }

    /// The integer at a JSON pointer.
    #[track_caller]
    pub fn int(&self, pointer: &str) -> i64 {
        self.json
            .pointer(pointer)
            .and_then(Value::as_i64)
            .unwrap_or_else(|| panic!("no integer at {pointer} in {}", self.text))
    }
}

/// Panics unless `body` is exactly `{"error": {"code", "message", "field"?}}` with string
/// values.
#[track_caller]
pub fn assert_error_shape(body: &Value, what: &str) {
    let ok = body.as_object().is_some_and(|top| {
        top.len() == 1
            && top
                .get("error")
                .and_then(Value::as_object)
                .is_some_and(|e| {
                    e.get("code").is_some_and(Value::is_string)
                        && e.get("message").is_some_and(Value::is_string)
                        && e.get("field").is_none_or(Value::is_string)
                        && e.keys()
                            .all(|k| ["code", "message", "field"].contains(&k.as_str()))
                })
    });
    assert!(ok, "{what}: not the error shape: {body}");
}

impl TestServer {
    /// Sends a request; `key` goes in `Authorization: Bearer`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Body<'_>,
    ) -> Reply {
        self.send(method, path, key, body, &[]).await
    }

    /// Sends a request with extra headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Body<'_>,
        headers: &[(&str, String)],
    ) -> Reply {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request = match body {
            Body::None => request,
            Body::Json(value) => request.json(value),
            Body::Raw(content_type, bytes) => {
                let request = match content_type {
                    Some(ct) => request.header("content-type", ct),
                    None => request,
                };
                request.body(bytes)
            }
        };
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{:?}: {method} {path}: {e}", self.db));
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .unwrap_or_else(|e| panic!("{:?}: {method} {path}: body: {e}", self.db));
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, text, json }
    }

    /// GET with a key.
    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.call(Method::GET, path, Some(key), Body::None).await
    }

    /// POST JSON with a key.
    pub async fn post(&self, path: &str, key: &str, body: &Value) -> Reply {
        self.call(Method::POST, path, Some(key), Body::Json(body))
            .await
    }

    /// PUT JSON with a key.
    pub async fn put(&self, path: &str, key: &str, body: &Value) -> Reply {
        self.call(Method::PUT, path, Some(key), Body::Json(body))
            .await
    }

    /// Lifts the brand's legal limits on promotional messages (as in a country without
    /// them), so that what a test sees does not depend on the hour it runs at.
    pub async fn unrestricted(&self, admin: &str) {
        self.put(
            "/v1/brand/policy",
            admin,
            &serde_json::json!({"promotional_prefix": "", "max_per_phone": null,
                                "cap_window_hours": 24, "allowed_hours": null}),
        )
        .await
        .expect(200, "brand policy");
    }

    /// A brand with no programme, and its first admin key, made through the use cases.
    pub async fn tenant(&self, name: &str) -> Tenant {
        let brand = BrandId::from_uuid(Uuid::now_v7());
        self.services
            .create_brand(BrandSetup {
                brand: Brand {
                    id: brand,
                    name: name.to_owned(),
                    currency: Currency::VND,
                    calling_code: CallingCode(84),
                    utc_offset: UtcOffset::from_hms(7, 0, 0)
                        .unwrap_or_else(|e| panic!("offset: {e}")),
                    refund_policy: RefundPolicy::Clamp,
                    points_validity_days: Some(365),
                    created_at: OffsetDateTime::now_utc(),
                },
                program: None,
                rewards: Vec::new(),
            })
            .await
            .unwrap_or_else(|e| panic!("{:?}: create brand: {e}", self.db));
        let key = self
            .services
            .create_api_key(brand, Role::Admin, Some("first admin key".to_owned()))
            .await
            .unwrap_or_else(|e| panic!("{:?}: create key: {e}", self.db));
        Tenant {
            brand,
            admin: key.token,
        }
    }

    /// Starts a scoring run (`POST /v1/scoring/runs`, 202 with its job) and polls the
    /// job until it is done; panics unless it succeeded. Returns the finished job.
    pub async fn score(&self, admin: &str) -> Reply {
        let job = self
            .post("/v1/scoring/runs", admin, &serde_json::json!({}))
            .await
            .expect(202, "scoring run");
        let path = format!("/v1/jobs/{}", job.str("/id"));
        let started = std::time::Instant::now();
        loop {
            let job = self.get(&path, admin).await.expect(200, "scoring job");
            if job.json["status"] != "running" {
                assert_eq!(job.json["status"], "succeeded", "{}", job.text);
                return job;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(120),
                "the scoring job did not finish: {}",
                job.text
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Every item of a paged list, following `next` with pages of `limit`; panics if a
    /// page is over-full or an item comes twice.
    pub async fn walk(&self, path: &str, key: &str, limit: u64, id_field: &str) -> Vec<Value> {
        let mut items: Vec<Value> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut after: Option<String> = None;
        let sep = if path.contains('?') { '&' } else { '?' };
        for _ in 0..10_000 {
            let url = match &after {
                Some(cursor) => format!("{path}{sep}limit={limit}&after={cursor}"),
                None => format!("{path}{sep}limit={limit}"),
            };
            let page = self.get(&url, key).await.expect(200, &url);
            let batch = page.json["items"]
                .as_array()
                .unwrap_or_else(|| panic!("{url}: no items: {}", page.text))
                .clone();
            assert!(batch.len() as u64 <= limit, "{url}: page over limit");
            for item in batch {
                let id = item[id_field].to_string();
                assert!(seen.insert(id.clone()), "{url}: {id} listed twice");
                items.push(item);
            }
            match page.json.get("next").and_then(Value::as_str) {
                Some(next) => after = Some(next.to_owned()),
                None => return items,
            }
        }
        panic!("{path}: the cursor never ended");
    }

    /// Asserts the stored ledgers agree with the cached balances.
    pub async fn assert_ledger_clean(&self) {
        let report = self
            .services
            .check_ledger(None)
            .await
            .unwrap_or_else(|e| panic!("{:?}: check ledger: {e}", self.db));
        assert!(
            report.mismatches.is_empty() && report.invalid.is_empty(),
            "{:?}: {report:?}",
            self.db
        );
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let finished = self
            .task
            .await
            .unwrap_or_else(|e| panic!("{:?}: server task: {e}", self.db));
        finished.unwrap_or_else(|e| panic!("{:?}: server: {e}", self.db));
    }
}
