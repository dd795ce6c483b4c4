//! Contact data at rest: after customers sign up over the API, an order brings a new
//! phone, messages are queued and a POS links its customer codes, a copy of the database
//! (`pg_dump`, the SQLite file with its write-ahead log) holds no phone number in any
//! form and no email; customers are still found by phone; a key rotation re-seals
//! everything under the new key, look-ups and reads working before, during and after.

use crate::outbox_fixture::outbox_message;
use crate::server::{Body, Db, TestServer, dbs, spawn_on};
use regulars::settings::Settings;
use regulars::system::SystemClock;
use regulars_domain::{BrandId, Channel, IntegrationId};
use regulars_ports::{OutboxMessage, Route, UnitOfWork};
use regulars_service::SecretKey;
use regulars_store::{SealScope, Store, StoreOptions};
use regulars_testkit::{SqliteFile, require_pg};
use regulars_tests::phone;
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

pub(crate) const OLD: u8 = 0x31;
pub(crate) const NEW: u8 = 0x32;

/// A fresh database the test keeps hold of, to copy it.
pub(crate) struct Copyable {
    db: Db,
    url: String,
    file: Option<SqliteFile>,
}

impl Copyable {
    pub(crate) fn new(db: Db) -> Copyable {
        match db {
            Db::Sqlite => {
                let file = SqliteFile::new().unwrap_or_else(|e| panic!("sqlite file: {e}"));
                Copyable {
                    db,
                    url: file.url(),
                    file: Some(file),
                }
            }
            Db::Postgres => {
                let cluster = require_pg().unwrap_or_else(|| panic!("PostgreSQL went away"));
                let url = cluster
                    .create_database("atrest")
                    .unwrap_or_else(|e| panic!("create database: {e}"));
                Copyable {
                    db,
                    url,
                    file: None,
                }
            }
        }
    }

    pub(crate) async fn store(&self) -> Store {
        Store::connect(&self.url, StoreOptions::default().max_connections(4))
            .await
            .unwrap_or_else(|e| panic!("{:?}: connect: {e}", self.db))
    }

    /// Everything a copy of the database holds: `pg_dump`'s output, or the SQLite
    /// file's bytes with its write-ahead log (what a file copy taken now would carry).
    pub(crate) fn copy(&self) -> String {
        let bytes = match &self.file {
            Some(file) => {
                let mut bytes = Vec::new();
                for suffix in ["", "-wal"] {
                    let mut path = file.path().as_os_str().to_owned();
                    path.push(suffix);
                    if let Ok(read) = std::fs::read(&path) {
                        bytes.extend(read);
                    }
                }
                bytes
            }
            None => {
                let cluster = require_pg().unwrap_or_else(|| panic!("PostgreSQL went away"));
                let out = std::process::Command::new(cluster.bin("pg_dump"))
                    .arg("--dbname")
                    .arg(&self.url)
                    .output()
                    .unwrap_or_else(|e| panic!("pg_dump: {e}"));
                assert!(
                    out.status.success(),
                    "pg_dump: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                out.stdout
            }
        };
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

pub(crate) fn settings(current: u8, previous: &[u8]) -> Settings {
    Settings {
        listen: "127.0.0.1:0".to_owned(),
        secret_key: Some(SecretKey::from_bytes([current; 32])),
        previous_secret_keys: previous
            .iter()
            .map(|b| SecretKey::from_bytes([*b; 32]))
            .collect(),
        rate_limit: None,
        shutdown_timeout: std::time::Duration::from_secs(1),
        ..Settings::default()
    }
}

pub(crate) fn start(db: Db, store: &Store, current: u8, previous: &[u8]) -> TestServer {
    let wanted = settings(current, previous);
    spawn_on(
        db,
        store.clone(),
        move |s| *s = wanted,
        Arc::new(SystemClock),
    )
}

/// The phones of the test in every form a person would search a dump for.
fn forms(e164: &str) -> [String; 3] {
    let national = e164.trim_start_matches("+84");
    [
        e164.to_owned(),
        format!("84{national}"),
        format!("0{national}"),
    ]
}

pub(crate) fn assert_nothing_shows(copy: &str, phones: &[String], emails: &[&str], what: &str) {
    for phone in phones {
        for form in forms(phone) {
            assert!(!copy.contains(&form), "{what}: the copy shows {form}");
        }
    }
    for email in emails {
        assert!(!copy.contains(email), "{what}: the copy shows {email}");
    }
}

/// Finds the customer by phone over the API; their id.
pub(crate) async fn lookup(server: &TestServer, admin: &str, phone: &str, what: &str) -> String {
    server
        .get(
            &format!("/v1/customers/lookup?phone={}", phone.replace('+', "%2B")),
            admin,
        )
        .await
        .expect(200, what)
        .str("/customer/id")
}

fn message(brand: BrandId, phone: &str, email: &str) -> OutboxMessage {
    let now = OffsetDateTime::now_utc();
    let route = Route {
        channel: Channel::Sms,
        recipient: phone.to_owned(),
    };
    OutboxMessage {
        phone: Some(phone.to_owned()),
        fallbacks: vec![Route {
            channel: Channel::Email,
            recipient: email.to_owned(),
        }],
        created_at: now,
        ..outbox_message(
            brand,
            &format!("at-rest:{}", Uuid::now_v7()),
            route,
            "Cảm ơn bạn đã ghé quán",
            now + time::Duration::days(1),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copied_database_shows_no_phone_and_survives_a_key_rotation() {
    for db in dbs() {
        let what = |s: &str| format!("{db:?}: {s}");
        let copyable = Copyable::new(db);
        let store = copyable.store().await;
        let server = start(db, &store, OLD, &[]);
        let tenant = server.tenant("Quán Mát").await;
        let admin = tenant.admin.as_str();

        // Customers over the API, one with an email and a Zalo id.
        let phones: Vec<String> = (0..3)
            .map(|n| phone(4_321_000 + n).as_str().to_owned())
            .collect();
        let emails = ["lan.nguyen@example.vn", "minh.tran@example.vn"];
        let mut ids = Vec::new();
        for (n, p) in phones.iter().enumerate() {
            let body = if n == 0 {
                json!({"phone": p, "name": "Lan", "email": emails[0], "zalo_user_id": "zl-778899"})
            } else {
                json!({"phone": p})
            };
            let reply = server
                .post("/v1/customers", admin, &body)
                .await
                .expect(201, &what("customer"));
            ids.push(reply.str("/id"));
        }
        // An order brings a new phone (a customer, the order's phone, a remembered answer).
        let walk_in = phone(4_321_900).as_str().to_owned();
        let order = crate::pos::order_data("AR-1", Some(&walk_in), OffsetDateTime::now_utc(), 2);
        let first_order = server
            .send(
                Method::POST,
                "/v1/orders",
                Some(admin),
                Body::Json(&order),
                &[("Idempotency-Key", "order-AR-1".to_owned())],
            )
            .await
            .expect(200, &what("order"));
        // A POS integration links a customer code and keeps an order waiting for one;
        // messages are queued to a phone and an email.
        let integration = server
            .post(
                "/v1/integrations",
                admin,
                &json!({"kind": "kiotviet", "secret": "a2lvdHZpZXQtc2VjcmV0LTIwMjY="}),
            )
            .await
            .expect(201, &what("integration"))
            .str("/integration/id");
        let integration = IntegrationId::from_uuid(
            Uuid::parse_str(&integration).unwrap_or_else(|e| panic!("integration id: {e}")),
        );
        let keyed = regulars::sealing::keyed(&store, &settings(OLD, &[]));
        let mut tx = keyed.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let now = OffsetDateTime::now_utc();
        let first =
            regulars_domain::Phone::parse_e164(&phones[1]).unwrap_or_else(|e| panic!("{e}"));
        tx.access()
            .link_pos_customer(tenant.brand, integration, "KH001", &first, now)
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        let waiting = regulars_tests::order(tenant.brand, "KV-9", 4_321_002, now, 1);
        tx.access()
            .keep_waiting_order(tenant.brand, integration, "KH002", &waiting, now)
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        tx.outbox()
            .enqueue(&[message(tenant.brand, &phones[0], emails[1])])
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));

        let mut all = phones.clone();
        all.push(walk_in.clone());
        assert_nothing_shows(&copyable.copy(), &all, &emails, &what("sealed"));
        let old_id = SecretKey::from_bytes([OLD; 32]).id();
        assert!(copyable.copy().contains(&format!("c1:{old_id}:")), "{db:?}");
        for (p, id) in phones.iter().zip(&ids) {
            assert_eq!(&lookup(&server, admin, p, &what("look-up")).await, id);
        }
        lookup(&server, admin, &walk_in, &what("walk-in look-up")).await;
        server.stop().await;

        // During a rotation: the new key seals, the old one still opens and finds.
        // A fresh pool per server: connections the stopped server's workers opened
        // belong to runtimes that are gone.
        let store = copyable.store().await;
        let server = start(db, &store, NEW, &[OLD]);
        for (p, id) in phones.iter().zip(&ids) {
            assert_eq!(&lookup(&server, admin, p, &what("during")).await, id);
        }
        let rotating = regulars::sealing::keyed(&store, &settings(NEW, &[OLD]));
        let report = rotating
            .seal_contacts(SealScope::NotCurrent)
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        // 4 customers, 1 order, 1 message, 1 link, 1 waiting order, the remembered
        // answer of the order.
        assert!(report.rows() >= 9, "{db:?}: {report:?}");
        server.stop().await;

        // After: the new key alone.
        // A fresh pool per server: connections the stopped server's workers opened
        // belong to runtimes that are gone.
        let store = copyable.store().await;
        let server = start(db, &store, NEW, &[]);
        for (p, id) in phones.iter().zip(&ids) {
            assert_eq!(&lookup(&server, admin, p, &what("after")).await, id);
        }
        let lan = server
            .get(&format!("/v1/customers/{}", ids[0]), admin)
            .await
            .expect(200, &what("profile after"));
        assert_eq!(
            lan.json["customer"]["email"], emails[0],
            "{db:?}: {}",
            lan.text
        );
        assert_eq!(
            lan.json["customer"]["phone"],
            phones[0].as_str(),
            "{db:?}: {}",
            lan.text
        );
        // The same phone again is the same customer, found by its re-made index.
        server
            .post("/v1/customers", admin, &json!({"phone": phones[1]}))
            .await
            .expect_error(409, "refused", &what("sign-up again"));
        // A retried order answers the remembered (re-sealed) response.
        let retried = server
            .send(
                Method::POST,
                "/v1/orders",
                Some(admin),
                Body::Json(&order),
                &[("Idempotency-Key", "order-AR-1".to_owned())],
            )
            .await
            .expect(200, &what("retried order"));
        assert_eq!(retried.json["duplicate"], true, "{db:?}: {}", retried.text);
        assert_eq!(
            retried.json["order_id"], first_order.json["order_id"],
            "{db:?}"
        );
        assert_eq!(
            retried.json["customer_id"], first_order.json["customer_id"],
            "{db:?}"
        );
        let copy = copyable.copy();
        assert_nothing_shows(&copy, &all, &emails, &what("re-sealed"));
        let new_id = SecretKey::from_bytes([NEW; 32]).id();
        assert!(copy.contains(&format!("c1:{new_id}:")), "{db:?}");
        if db == Db::Postgres {
            // The SQLite file keeps old page images until it reuses them; the dump is
            // exactly the live rows.
            assert!(!copy.contains(&format!("c1:{old_id}:")), "{db:?}: old key");
        }
        server.stop().await;
        store.close().await.unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Twenty first orders of one new phone at once, contact data sealed: the blind index is
/// what keeps the phone unique (the sealed phone differs every time), so they make one
/// customer, who earns twenty times.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_first_orders_of_one_new_phone_make_one_sealed_customer() {
    for target in crate::targets("atrest_race").await {
        let store = regulars::sealing::keyed(&target.world.store, &settings(OLD, &[]));
        let services = Arc::new(regulars_service::Services::new(
            Arc::new(store),
            Arc::new(SystemClock),
            Arc::new(regulars::system::OsIdGen),
        ));
        let brand = target.world.brand;
        let tasks: Vec<_> = (0..20)
            .map(|n| {
                let services = services.clone();
                let the_order = regulars_tests::order(
                    brand,
                    &format!("RACE-{n}"),
                    4_999_001,
                    OffsetDateTime::now_utc(),
                    1,
                );
                tokio::spawn(async move { services.ingest_order(brand, the_order).await })
            })
            .collect();
        let mut customers = std::collections::BTreeSet::new();
        for task in tasks {
            let receipt = task
                .await
                .unwrap_or_else(|e| panic!("task: {e}"))
                .unwrap_or_else(|e| panic!("{}: ingest: {e}", target.name));
            customers.insert(receipt.customer_id);
        }
        assert_eq!(customers.len(), 1, "{}: {customers:?}", target.name);
        let view = services
            .customer_lookup(brand, phone(4_999_001).as_str())
            .await
            .unwrap_or_else(|e| panic!("{}: look-up: {e}", target.name));
        assert_eq!(view.stats.visits, 20, "{}", target.name);
        let all = services
            .customers(brand, None, 100)
            .await
            .unwrap_or_else(|e| panic!("{}: list: {e}", target.name));
        assert_eq!(all.len(), 1, "{}: one customer", target.name);
    }
}
