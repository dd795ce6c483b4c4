//! Brands' own channel accounts: managed over the API and the dashboard by each brand's
//! admins, secrets write-only and sealed at rest (no secret in any answer or in a copy of
//! the database, re-sealed by a key rotation), one brand unable to read or replace
//! another's. Delivery through them: `channel_delivery.rs`.

use crate::at_rest::Copyable;
use crate::server::{Body, Db, TestServer, dbs, spawn_on};
use regulars::settings::Settings;
use regulars::system::SystemClock;
use regulars_ports::ChannelAccountStore;
use regulars_service::SecretKey;
use regulars_store::Store;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;

/// The key `spawn_on` gives the server.
pub(crate) fn settings() -> Settings {
    Settings {
        secret_key: Some(SecretKey::from_bytes([0x5a; 32])),
        ..Settings::default()
    }
}

pub(crate) fn start(db: Db, store: &Store) -> TestServer {
    spawn_on(
        db,
        store.clone(),
        |s| s.rate_limit = None,
        Arc::new(SystemClock),
    )
}

/// Every secret the test stores: none may show in an answer or a copy of the database.
pub(crate) const SECRETS: [&str; 8] = [
    "esms-api-key-of-brand-a-7f3c",
    "esms-secret-of-brand-a-91d2",
    "zalo-app-secret-of-brand-a-55e1",
    "zalo-access-token-of-brand-a-0c9b",
    "zalo-refresh-token-of-brand-a-e4a8",
    "smtp-password-of-brand-a-3b7d",
    "esms-api-key-of-brand-b-66aa",
    "esms-secret-of-brand-b-2f10",
];

fn assert_no_secret(text: &str, what: &str) {
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{what}: shows the secret {secret}: {text}"
        );
    }
}

pub(crate) fn esms_body(key: &str, secret: &str, brandname: &str) -> Value {
    json!({"provider": "esms", "api_key": key, "secret_key": secret, "brandname": brandname})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_accounts_are_write_only_sealed_and_per_brand() {
    for db in dbs() {
        let what = |s: &str| format!("{db:?}: {s}");
        let copyable = Copyable::new(db);
        let store = copyable.store().await;
        let server = start(db, &store);
        let a = server.tenant("Quán A").await;
        let b = server.tenant("Quán B").await;

        let sms = server
            .put(
                "/v1/brand/channels/sms",
                &a.admin,
                &esms_body(SECRETS[0], SECRETS[1], "QUANA"),
            )
            .await
            .expect(200, &what("sms account"));
        assert_no_secret(&sms.text, &what("PUT sms"));
        assert_eq!(
            sms.json["secrets"]["api_key"]["set"],
            json!(true),
            "{}",
            sms.text
        );
        let fingerprint = sms.str("/secrets/api_key/fingerprint");
        assert!(fingerprint.starts_with("sha256:"), "{fingerprint}");
        assert_eq!(sms.str("/settings/brandname"), "QUANA");
        server
            .put(
                "/v1/brand/channels/zalo",
                &a.admin,
                &json!({"app_id": "1234567890", "secret_key": SECRETS[2], "oa_id": "987654321",
                        "access_token": SECRETS[3], "refresh_token": SECRETS[4],
                        "templates": {"thanks": "240871"}}),
            )
            .await
            .expect(200, &what("zalo account"));
        server
            .put(
                "/v1/brand/channels/email",
                &a.admin,
                &json!({"host": "smtp.example.vn", "tls": "starttls", "username": "quana",
                        "password": SECRETS[5], "from_address": "hello@quana.example.vn",
                        "from_name": "Quán A"}),
            )
            .await
            .expect(200, &what("smtp account"));
        // Secrets left out are kept: only the brandname changes, the version moves.
        let changed = server
            .put(
                "/v1/brand/channels/sms",
                &a.admin,
                &json!({"brandname": "QUANA2"}),
            )
            .await
            .expect(200, &what("sms brandname only"));
        assert_eq!(changed.str("/secrets/api_key/fingerprint"), fingerprint);
        assert_eq!(changed.int("/version"), sms.int("/version") + 1);
        let list = server
            .get("/v1/brand/channels", &a.admin)
            .await
            .expect(200, &what("list"));
        assert_no_secret(&list.text, &what("list"));
        assert_eq!(
            list.json["items"].as_array().map(Vec::len),
            Some(3),
            "{}",
            list.text
        );

        // Brand B sees none of A's accounts and cannot replace or remove them.
        server
            .get("/v1/brand/channels/sms", &b.admin)
            .await
            .expect(404, &what("B reads A's sms"));
        let b_list = server
            .get("/v1/brand/channels", &b.admin)
            .await
            .expect(200, &what("B list"));
        assert_eq!(b_list.json["items"], json!([]), "{}", b_list.text);
        server
            .call(
                Method::DELETE,
                "/v1/brand/channels/zalo",
                Some(&b.admin),
                Body::None,
            )
            .await
            .expect(404, &what("B deletes A's zalo"));
        server
            .put(
                "/v1/brand/channels/sms",
                &b.admin,
                &esms_body(SECRETS[6], SECRETS[7], "QUANB"),
            )
            .await
            .expect(200, &what("B's own sms"));
        let a_sms = server
            .get("/v1/brand/channels/sms", &a.admin)
            .await
            .expect(200, &what("A's sms after B's"));
        assert_eq!(a_sms.str("/secrets/api_key/fingerprint"), fingerprint);
        assert_eq!(a_sms.str("/settings/brandname"), "QUANA2");
        // A viewer key is refused.
        let viewer = server
            .services
            .create_api_key(a.brand, regulars_ports::Role::Viewer, None)
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        server
            .get("/v1/brand/channels", &viewer.token)
            .await
            .expect(403, &what("viewer"));

        // What the stored accounts hold, opened with the key.
        let keyed = Arc::new(regulars::sealing::keyed(&store, &settings()));
        let stored = keyed
            .channel_accounts(a.brand)
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        assert_eq!(stored.len(), 3, "{}", what("stored"));
        // A copy of the database shows no secret.
        assert_no_secret(&copyable.copy(), &what("database copy"));
        // Removing puts the brand back on the deployment's default.
        server
            .call(
                Method::DELETE,
                "/v1/brand/channels/email",
                Some(&a.admin),
                Body::None,
            )
            .await
            .expect(204, &what("delete email"));
        server
            .get("/v1/brand/channels/email", &a.admin)
            .await
            .expect(404, &what("email removed"));
        let before = keyed
            .channel_accounts(a.brand)
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        // A key rotation re-seals the accounts: afterwards the new key alone opens them.
        let rotating = Settings {
            secret_key: Some(SecretKey::from_bytes([0x6b; 32])),
            previous_secret_keys: vec![SecretKey::from_bytes([0x5a; 32])],
            ..Settings::default()
        };
        let report = regulars::sealing::keyed(&store, &rotating)
            .seal_contacts(regulars_store::SealScope::NotCurrent)
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        assert!(
            report.tables.contains(&("channel_accounts", 3)),
            "{}: {report:?}",
            what("rotation")
        );
        let new_only = Settings {
            secret_key: Some(SecretKey::from_bytes([0x6b; 32])),
            ..Settings::default()
        };
        let reopened = regulars::sealing::keyed(&store, &new_only)
            .channel_accounts(a.brand)
            .await
            .unwrap_or_else(|e| panic!("{}", what(&e.to_string())));
        assert_eq!(reopened, before, "{}", what("accounts after the rotation"));
        assert_no_secret(&copyable.copy(), &what("database copy after the rotation"));
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_channel_accounts_get_a_422_naming_the_field() {
    let db = Db::Sqlite;
    let copyable = Copyable::new(db);
    let store = copyable.store().await;
    let server = start(db, &store);
    let a = server.tenant("Quán A").await;
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("fax", json!({}), 422, "channel"),
        ("zalo", json!({"provider": "esms"}), 422, "provider"),
        (
            "sms",
            json!({"provider": "esms", "secret_key": "s", "brandname": "X"}),
            422,
            "api_key",
        ),
        (
            "sms",
            json!({"api_key": "k", "secret_key": "s", "brandname": "X", "sms_type": "1"}),
            422,
            "sms_type",
        ),
        (
            "sms",
            json!({"api_key": "k", "secret_key": "s", "brandname": "BAD\nNAME"}),
            422,
            "brandname",
        ),
        (
            "sms",
            json!({"api_key": "k", "secret_key": "s", "brandname": "X", "host": "h"}),
            422,
            "host",
        ),
        (
            "sms",
            json!({"provider": "twilio", "account_sid": "nope", "auth_token": "t", "from": "X"}),
            422,
            "account_sid",
        ),
        (
            "zalo",
            json!({"app_id": "abc", "secret_key": "s", "oa_id": "1", "access_token": "a", "refresh_token": "r"}),
            422,
            "app_id",
        ),
        (
            "email",
            json!({"host": "smtp.example.vn", "tls": "none", "username": "u", "password": "p", "from_address": "a@b.vn"}),
            422,
            "tls",
        ),
        (
            "email",
            json!({"host": "smtp.example.vn", "tls": "starttls", "from_address": "nope"}),
            422,
            "from_address",
        ),
        (
            "email",
            json!({"host": "smtp.example.vn", "tls": "ssl", "from_address": "a@b.vn"}),
            422,
            "tls",
        ),
        (
            "email",
            json!({"host": "smtp.example.vn", "tls": "starttls", "port": 0, "from_address": "a@b.vn"}),
            422,
            "port",
        ),
        (
            "email",
            json!({"host": "smtp.example.vn", "tls": "starttls", "from_address": "a@b.vn", "from_name": "A\r\nBcc: x@y.vn"}),
            422,
            "from_name",
        ),
        ("sms", json!({"api_key": 5}), 400, "api_key"),
        ("sms", json!({"apikey": "k"}), 400, "apikey"),
    ];
    for (channel, body, status, field) in cases {
        let reply = server
            .put(&format!("/v1/brand/channels/{channel}"), &a.admin, &body)
            .await;
        assert_eq!(reply.status, status, "{channel} {body}: {}", reply.text);
        crate::server::assert_error_shape(&reply.json, &reply.text);
        assert_eq!(
            reply.json["error"]["field"].as_str(),
            Some(field),
            "{channel} {body}: {}",
            reply.text
        );
    }
    // Nothing was stored by any of them.
    let list = server
        .get("/v1/brand/channels", &a.admin)
        .await
        .expect(200, "list");
    assert_eq!(list.json["items"], json!([]), "{}", list.text);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_sets_an_account_without_showing_its_secrets() {
    use crate::dashboard::Visitor;
    let db = Db::Sqlite;
    let copyable = Copyable::new(db);
    let store = copyable.store().await;
    let server = start(db, &store);
    let a = server.tenant("Quán A").await;
    let mut admin = Visitor::new(&server);
    admin.sign_in(&a.admin).await.expect(303, "sign in");
    let page = admin
        .get("/dashboard/channels?lang=vi")
        .await
        .expect(200, "channels page");
    assert!(page.text.contains("Tài khoản kênh gửi"), "{}", page.text);
    let page = admin
        .get("/dashboard/channels?lang=en")
        .await
        .expect(200, "channels page");
    assert!(page.text.contains("Channel accounts"), "{}", page.text);
    let csrf = page.csrf();
    // Without the form's token: refused, nothing stored.
    admin
        .post(
            "/dashboard/channels/sms",
            &[
                ("csrf", "forged"),
                ("provider", "esms"),
                ("brandname", "QUANA"),
            ],
        )
        .await
        .expect(403, "forged form");
    let bad = admin
        .post(
            "/dashboard/channels/email",
            &[
                ("csrf", &csrf),
                ("provider", "smtp"),
                ("host", "smtp.example.vn"),
                ("tls", "ssl"),
                ("from_address", "a@b.vn"),
            ],
        )
        .await
        .expect(422, "bad tls");
    assert!(bad.text.contains("tls"), "{}", bad.text);
    admin
        .post(
            "/dashboard/channels/sms",
            &[
                ("csrf", &csrf),
                ("provider", "esms"),
                ("brandname", "QUANA"),
                ("api_key", SECRETS[0]),
                ("secret_key", SECRETS[1]),
            ],
        )
        .await
        .expect(303, "save sms");
    // A secret left empty keeps the stored one.
    admin
        .post(
            "/dashboard/channels/sms",
            &[
                ("csrf", &csrf),
                ("provider", "esms"),
                ("brandname", "QUANA2"),
                ("api_key", ""),
                ("secret_key", ""),
            ],
        )
        .await
        .expect(303, "rename");
    let page = admin.get("/dashboard/channels").await.expect(200, "page");
    assert_no_secret(&page.text, "dashboard");
    assert!(
        page.text.contains("QUANA2") && page.text.contains("sha256:"),
        "{}",
        page.text
    );
    let api = server
        .get("/v1/brand/channels/sms", &a.admin)
        .await
        .expect(200, "api");
    assert_eq!(
        api.json["secrets"]["secret_key"]["set"],
        json!(true),
        "{}",
        api.text
    );
    // A viewer does not see the page.
    let viewer = server
        .services
        .create_api_key(a.brand, regulars_ports::Role::Viewer, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut viewer_visitor = Visitor::new(&server);
    viewer_visitor
        .sign_in(&viewer.token)
        .await
        .expect(303, "viewer");
    viewer_visitor
        .get("/dashboard/channels")
        .await
        .expect(403, "viewer page");
    admin
        .post("/dashboard/channels/sms/delete", &[("csrf", &csrf)])
        .await
        .expect(303, "remove");
    server
        .get("/v1/brand/channels/sms", &a.admin)
        .await
        .expect(404, "removed");
    server.stop().await;
}
