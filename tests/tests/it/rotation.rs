//! Rotating the server key: webhooks verify before, during and after, on both databases.
//! During the rotation the servers run with the new key and the old one as previous,
//! `regulars secrets rotate` (here [`Services::reseal_secrets`]) re-seals the stored
//! webhook secrets, and after it the old key is no longer needed.

use crate::pos::{order_data, paid, sign};
use crate::targets;
use regulars::server::Application;
use regulars::settings::Settings;
use regulars::system::{OsIdGen, SystemClock};
use regulars_ports::IntegrationKind;
use regulars_service::{SecretKey, SecretKeys, Services};
use regulars_store::Store;
use regulars_tests::phone;
use std::sync::Arc;

/// A new pool on the database at `url`.
async fn fresh(url: &str) -> Arc<Store> {
    Arc::new(
        Store::connect(url, regulars_store::StoreOptions::default())
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}")),
    )
}
use time::{Duration, OffsetDateTime};

fn key(byte: u8) -> SecretKey {
    SecretKey::from_bytes([byte; 32])
}

/// A server on `store` with `current` as its key and `previous` as the old ones.
struct Server {
    base: String,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    fn start(store: &Arc<Store>, current: u8, previous: &[u8]) -> Server {
        let settings = Settings {
            listen: "127.0.0.1:0".to_owned(),
            secret_key: Some(key(current)),
            previous_secret_keys: previous.iter().map(|b| key(*b)).collect(),
            shutdown_timeout: std::time::Duration::from_secs(1),
            ..Settings::default()
        };
        let app =
            Application::with_store_and_clock(&settings, store.clone(), Arc::new(SystemClock))
                .unwrap_or_else(|e| panic!("start: {e}"));
        let base = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let task = tokio::spawn(app.run_until_stopped());
        Server { base, handle, task }
    }

    /// Posts a freshly signed `order.paid` webhook; the status.
    async fn webhook(&self, path: &str, secret: &str, n: u64) -> u16 {
        let now = OffsetDateTime::now_utc();
        let customer = phone(700 + n).as_str().to_owned();
        let body = paid(
            &format!("evt-rot-{n}"),
            order_data(
                &format!("ROT-{n}"),
                Some(&customer),
                now - Duration::hours(1),
                2,
            ),
        );
        let (name, value) = sign(secret, &body, now);
        reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header(name, value)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
            .status()
            .as_u16()
    }

    async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_verify_before_during_and_after_a_key_rotation() {
    for target in targets("rotation").await {
        let (old, new) = (0x11, 0x22);
        let store = target.world.store.clone();
        let brand = target.world.brand;
        let what = |s: &str| format!("{}: {s}", target.name);
        let before = Services::new(store.clone(), Arc::new(SystemClock), Arc::new(OsIdGen))
            .with_secret_key(key(old));
        let created = before
            .create_integration(brand, IntegrationKind::Generic, None, None, None)
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        let path = format!("/webhooks/{}", created.info.id);
        let secret = created.secret;

        // A fresh pool per server: connections the stopped server's workers opened
        // belong to runtimes that are gone.
        let store = fresh(&target.url).await;
        let server = Server::start(&store, old, &[]);
        assert_eq!(
            server.webhook(&path, &secret, 1).await,
            200,
            "{}",
            what("before")
        );
        server.stop().await;

        // During: the servers restart with the new key, the old one still opening.
        // A fresh pool per server: connections the stopped server's workers opened
        // belong to runtimes that are gone.
        let store = fresh(&target.url).await;
        let server = Server::start(&store, new, &[old]);
        assert_eq!(
            server.webhook(&path, &secret, 2).await,
            200,
            "{}",
            what("new key, not yet re-sealed")
        );
        let rotating = Services::new(store.clone(), Arc::new(SystemClock), Arc::new(OsIdGen))
            .with_secret_keys(SecretKeys::new(key(new)).with_previous(vec![key(old)]));
        let report = rotating
            .reseal_secrets()
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        assert_eq!(
            (report.resealed, report.current),
            (1, 0),
            "{}",
            what("rotate")
        );
        assert!(report.unopenable.is_empty(), "{}", what("rotate"));
        assert_eq!(
            server.webhook(&path, &secret, 3).await,
            200,
            "{}",
            what("re-sealed")
        );
        let again = rotating
            .reseal_secrets()
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        assert_eq!(
            (again.resealed, again.current),
            (0, 1),
            "{}",
            what("rotate again")
        );
        server.stop().await;

        // After: the old key is dropped, and no longer opens anything.
        // A fresh pool per server: connections the stopped server's workers opened
        // belong to runtimes that are gone.
        let store = fresh(&target.url).await;
        let server = Server::start(&store, new, &[]);
        assert_eq!(
            server.webhook(&path, &secret, 4).await,
            200,
            "{}",
            what("after")
        );
        server.stop().await;
        // A fresh pool per server: connections the stopped server's workers opened
        // belong to runtimes that are gone.
        let store = fresh(&target.url).await;
        let server = Server::start(&store, old, &[]);
        assert_eq!(
            server.webhook(&path, &secret, 5).await,
            404,
            "{}",
            what("old key alone")
        );
        server.stop().await;
    }
}
