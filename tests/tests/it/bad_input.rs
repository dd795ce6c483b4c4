//! Bad input never gets a 5xx: every refusal is a 4xx in the one error shape, naming the
//! field when there is one; arbitrary bodies on every write route leave the ledgers
//! consistent.

use crate::pos::order_data;
use crate::server::{Body, Reply, TestServer, assert_error_shape, dbs, spawn_with};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use regulars_loyalty::vouchers::VoucherCode;
use regulars_tests::phone;
use reqwest::Method;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

const SMALL_LIMIT: usize = 2048;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_4xx_in_the_error_shape() {
    for db in dbs() {
        let server = spawn_with(db, SMALL_LIMIT).await;
        let admin = server.tenant("Bad input").await.admin;
        let admin = admin.as_str();
        let what = |s: &str| format!("{db:?}: {s}");
        let post_raw = |path: &'static str, ct: Option<&'static str>, bytes: Vec<u8>| {
            let server = &server;
            async move {
                server
                    .call(Method::POST, path, Some(admin), Body::Raw(ct, bytes))
                    .await
            }
        };

        // Malformed JSON, wrong content type, too large.
        for path in [
            "/v1/locations",
            "/v1/customers",
            "/v1/orders",
            "/v1/refunds",
        ] {
            post_raw(path, Some("application/json"), b"{\"code\": ".to_vec())
                .await
                .expect_error(400, "invalid", &what(&format!("malformed JSON on {path}")));
            post_raw(path, Some("text/plain"), b"{}".to_vec())
                .await
                .expect_error(
                    415,
                    "unsupported_media_type",
                    &what(&format!("text/plain on {path}")),
                );
            post_raw(path, None, b"{}".to_vec()).await.expect_error(
                415,
                "unsupported_media_type",
                &what(&format!("no content type on {path}")),
            );
            let big = format!("{{\"name\": \"{}\"}}", "x".repeat(SMALL_LIMIT * 2));
            post_raw(path, Some("application/json"), big.into_bytes())
                .await
                .expect_error(
                    413,
                    "payload_too_large",
                    &what(&format!("oversized on {path}")),
                );
        }
        let big = vec![b'{'; SMALL_LIMIT + 1];
        server
            .call(
                Method::POST,
                &format!("/webhooks/{}", uuid::Uuid::now_v7()),
                None,
                Body::Raw(Some("application/json"), big),
            )
            .await
            .expect_error(413, "payload_too_large", &what("oversized webhook"));

        // Unknown fields are named.
        let unknown = server
            .post(
                "/v1/locations",
                admin,
                &json!({"code": "q1", "name": "Q1", "colour": "red"}),
            )
            .await;
        unknown.expect_error(400, "invalid", &what("unknown field"));
        assert!(unknown.text.contains("colour"), "{}", unknown.text);
        let nested = server
            .post(
                "/v1/customers",
                admin,
                &json!({"phone": phone(1).as_str(), "consent": {"fax": true}}),
            )
            .await;
        let field = nested.expect_error(400, "invalid", &what("unknown nested field"));
        assert!(
            field.as_deref() == Some("consent") || nested.text.contains("fax"),
            "{}",
            nested.text
        );
        let order = server
            .post(
                "/v1/orders",
                admin,
                &json!({"order_id": "X", "placed_at": "2026-01-01T00:00:00Z", "lines": [], "total": "1", "tip": 5}),
            )
            .await;
        order.expect_error(400, "invalid", &what("unknown order field"));
        assert!(order.text.contains("tip"), "{}", order.text);

        // Invalid values: 422 (or 400 for shapes), naming the field.
        let field = server
            .post("/v1/customers", admin, &json!({"phone": "12345"}))
            .await
            .expect_error(422, "invalid", &what("bad phone"));
        assert_eq!(field.as_deref(), Some("phone"));
        let mut negative = order_data(
            "NEG-1",
            None,
            OffsetDateTime::now_utc() - Duration::hours(1),
            1,
        );
        negative["lines"][0]["unit_price"] = json!("-45000");
        let reply = server.post("/v1/orders", admin, &negative).await;
        expect_4xx(&reply, &what("negative price"));
        assert!(reply.text.contains("unit_price"), "{}", reply.text);
        let mut negative = order_data(
            "NEG-2",
            None,
            OffsetDateTime::now_utc() - Duration::hours(1),
            1,
        );
        negative["total"] = json!("-1");
        expect_4xx(
            &server.post("/v1/orders", admin, &negative).await,
            &what("negative total"),
        );
        let reward = json!({"name": "R", "cost": -5, "kind": {"type": "free_item", "sku": "A"}, "validity_days": 30});
        expect_4xx(
            &server.post("/v1/rewards", admin, &reward).await,
            &what("negative cost"),
        );
        let mut quantity = order_data(
            "NEG-3",
            None,
            OffsetDateTime::now_utc() - Duration::hours(1),
            1,
        );
        quantity["lines"][0]["quantity"] = json!(-2);
        expect_4xx(
            &server.post("/v1/orders", admin, &quantity).await,
            &what("negative quantity"),
        );

        // Unknown and malformed ids are 404.
        let nobody = uuid::Uuid::now_v7();
        for path in [
            format!("/v1/customers/{nobody}"),
            format!("/v1/customers/{nobody}/ledger"),
            format!("/v1/orders/{nobody}"),
            format!("/v1/rewards/{nobody}"),
            format!("/v1/locations/{nobody}"),
            "/v1/customers/not-a-uuid".to_owned(),
            "/v1/orders/12".to_owned(),
            format!(
                "/v1/vouchers/{}",
                VoucherCode::from_random_bytes([1, 2, 3, 4, 5, 6, 7, 8])
            ),
            "/v1/no-such-route".to_owned(),
        ] {
            server
                .get(&path, admin)
                .await
                .expect_error(404, "not_found", &what(&path));
        }

        // A mistyped voucher code is caught by its check symbol before any look-up.
        let field = server
            .get("/v1/vouchers/NOPE-NOPE", admin)
            .await
            .expect_error(422, "invalid", &what("malformed voucher code"));
        assert_eq!(field.as_deref(), Some("code"));

        // Bad cursors and limits are 400 naming the parameter.
        let customer = server
            .post("/v1/customers", admin, &json!({"phone": phone(9).as_str()}))
            .await
            .expect(201, "customer")
            .str("/id");
        for list in [
            "/v1/orders",
            "/v1/customers",
            &format!("/v1/customers/{customer}/ledger"),
            "/v1/segments/export?segment=Champions",
        ] {
            // Not a cursor, not a number, not a parameter: 400; a number out of range: 422.
            for (query, status, field) in [
                ("after=zzz", 400, Some("after")),
                ("after=", 400, Some("after")),
                ("limit=abc", 400, None),
                ("limit=-1", 400, None),
                ("colour=red", 400, None),
                ("limit=0", 422, Some("limit")),
                ("limit=100000", 422, Some("limit")),
            ] {
                let sep = if list.contains('?') { '&' } else { '?' };
                let url = format!("{list}{sep}{query}");
                let named =
                    server
                        .get(&url, admin)
                        .await
                        .expect_error(status, "invalid", &what(&url));
                if field.is_some() {
                    assert_eq!(named.as_deref(), field, "{}", what(&url));
                }
            }
        }

        // Ratings: a bad period or threshold, a manager email that is none, an unknown
        // location: 4xx naming the field.
        for (query, status, field) in [
            ("from=yesterday", 400, "from"),
            ("to=2026-13-01", 400, "to"),
            ("from=2026-02-01&to=2026-01-01", 422, "to"),
            ("location=q1", 400, "location"),
            ("colour=red", 400, ""),
        ] {
            let url = format!("/v1/reports/ratings?{query}");
            let named = server
                .get(&url, admin)
                .await
                .expect_error(status, "invalid", &what(&url));
            if !field.is_empty() {
                assert_eq!(named.as_deref(), Some(field), "{}", what(&url));
            }
        }
        let shop = server
            .post("/v1/locations", admin, &json!({"code": "r1", "name": "R1"}))
            .await
            .expect(201, "location")
            .str("/id");
        for email in [json!("not an email"), json!("a@b"), json!(5)] {
            let reply = server
                .put(
                    &format!("/v1/locations/{shop}/manager"),
                    admin,
                    &json!({ "email": email }),
                )
                .await;
            expect_4xx(&reply, &what(&format!("manager email {email}")));
            assert!(reply.text.contains("email"), "{}", reply.text);
        }
        server
            .put(
                &format!("/v1/locations/{nobody}/manager"),
                admin,
                &json!({"email": "m@shop.example"}),
            )
            .await
            .expect_error(404, "not_found", &what("manager of no location"));
        for threshold in [json!(0), json!(6), json!("two"), json!(-1)] {
            let reply = server
                .put(
                    "/v1/ratings/settings",
                    admin,
                    &json!({ "low_threshold": threshold }),
                )
                .await;
            expect_4xx(&reply, &what(&format!("threshold {threshold}")));
            assert!(reply.text.contains("low_threshold"), "{}", reply.text);
        }

        // A wrong method is answered in JSON too.
        let reply = server
            .call(Method::DELETE, "/v1/orders", Some(admin), Body::None)
            .await;
        expect_4xx(&reply, &what("DELETE /v1/orders"));
        server.assert_ledger_clean().await;
        server.stop().await;
    }
}

#[track_caller]
fn expect_4xx(reply: &Reply, what: &str) {
    assert!(
        (400..500).contains(&reply.status),
        "{what}: {} {}",
        reply.status,
        reply.text
    );
    assert_error_shape(&reply.json, what);
}

/// Field names the API reads, so arbitrary objects reach past the first unknown field.
const FIELDS: &[&str] = &[
    "phone",
    "name",
    "code",
    "points",
    "reason",
    "reward_id",
    "order_id",
    "refund_id",
    "lines",
    "total",
    "sku",
    "quantity",
    "unit_price",
    "kind",
    "type",
    "cost",
    "role",
    "label",
    "id",
    "data",
    "created_at",
    "placed_at",
    "refunded_at",
    "full",
    "amount",
    "validity_days",
    "currency",
    "metric",
    "tiers",
    "threshold",
    "base",
    "birthday",
    "consent",
    "secret",
    "order_external_id",
    "utc_offset_seconds",
    "trigger",
    "audience",
    "segment",
    "rule",
    "offer",
    "template",
    "channels",
    "holdout",
    "policy",
    "send_time",
    "factor",
];

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,12}".prop_map(Value::from),
        Just(Value::from("2026-01-01T00:00:00Z")),
        Just(Value::from("0912345678")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    prop::sample::select(FIELDS).prop_map(str::to_owned),
                    "[a-z_]{1,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
enum Payload {
    Json(Value),
    Bytes(Vec<u8>),
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        3 => arbitrary_json().prop_map(Payload::Json),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Payload::Bytes),
    ]
}

/// Every POST and PUT route of the OpenAPI document, with the brand's own ids filled in.
async fn write_routes(server: &TestServer, admin: &str) -> Vec<(Method, String)> {
    let customer = server
        .post(
            "/v1/customers",
            admin,
            &json!({"phone": phone(31).as_str()}),
        )
        .await
        .expect(201, "customer")
        .str("/id");
    let order = server
        .post(
            "/v1/orders",
            admin,
            &order_data(
                "P-1",
                Some(phone(31).as_str()),
                OffsetDateTime::now_utc() - Duration::hours(1),
                2,
            ),
        )
        .await
        .expect(200, "order")
        .str("/order_id");
    let location = server
        .post("/v1/locations", admin, &json!({"code": "q1", "name": "Q1"}))
        .await
        .expect(201, "location")
        .str("/id");
    let reward = server
        .post(
            "/v1/rewards",
            admin,
            &json!({"name": "R", "cost": 1, "kind": {"type": "free_item", "sku": "A"}, "validity_days": 3}),
        )
        .await
        .expect(201, "reward")
        .str("/id");
    let integration = server
        .post("/v1/integrations", admin, &json!({"kind": "generic"}))
        .await
        .expect(201, "integration")
        .str("/integration/id");
    let segment = server
        .post(
            "/v1/segments",
            admin,
            &json!({"name": "Fuzzed", "rule": "frequency >= 1"}),
        )
        .await
        .expect(201, "segment")
        .str("/id");
    let campaign = server
        .post(
            "/v1/campaigns",
            admin,
            &json!({"name": "Fuzzed", "trigger": {"type": "broadcast"},
                    "offer": {"type": "fixed", "reward": {"reward_id": reward,
                              "cost": {"amount": "10000", "currency": "VND"}}}}),
        )
        .await
        .expect(201, "campaign")
        .str("/id");
    let doc = server
        .call(Method::GET, "/openapi.json", None, Body::None)
        .await
        .expect(200, "openapi");
    let mut routes = Vec::new();
    for (path, item) in doc.json["paths"].as_object().into_iter().flatten() {
        for (name, method) in [
            ("post", Method::POST),
            ("put", Method::PUT),
            ("patch", Method::PATCH),
        ] {
            if item.get(name).is_none() {
                continue;
            }
            let filled = path
                .replace("/customers/{id}", &format!("/customers/{customer}"))
                .replace("/orders/{id}", &format!("/orders/{order}"))
                .replace("/locations/{id}", &format!("/locations/{location}"))
                .replace("/rewards/{id}", &format!("/rewards/{reward}"))
                .replace("/segments/{id}", &format!("/segments/{segment}"))
                .replace("/campaigns/{id}", &format!("/campaigns/{campaign}"))
                .replace(
                    "/integrations/{id}",
                    &format!("/integrations/{integration}"),
                )
                .replace("/vouchers/{code}", "/vouchers/NOPE-NOPE")
                .replace("/staff/{id}", "/staff/01900000-0000-7000-8000-000000000000")
                .replace(
                    "/till-devices/{id}",
                    "/till-devices/01900000-0000-7000-8000-000000000000",
                )
                .replace(
                    "/webhooks/{integration}",
                    &format!("/webhooks/{integration}"),
                )
                .replace(
                    "/callbacks/{provider}/{token}",
                    "/callbacks/esms/fuzz-token",
                )
                .replace("/callbacks/{provider}", "/callbacks/zalo")
                .replace("/brand/channels/{channel}", "/brand/channels/sms")
                .replace("/menu/{sku}", "/menu/NOPE-SKU");
            assert!(
                !filled.contains('{'),
                "no id for {path}: add one to this test"
            );
            routes.push((method, filled));
        }
    }
    // eSMS reports come with their token in the query and their fields in the body.
    routes.push((Method::POST, "/callbacks/esms?token=fuzz-token".to_owned()));
    assert!(routes.len() >= 15, "{routes:?}");
    routes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arbitrary_bodies_on_every_write_route_never_get_a_5xx() {
    for db in dbs() {
        // Provider reports are taken, so their decoders get the arbitrary bodies too.
        let server = crate::server::spawn_configured(
            db,
            |s| {
                s.report_keys = regulars_senders::ReportKeys {
                    zalo: Some(("4242".into(), "oa-secret".into())),
                    esms_token: Some("fuzz-token".into()),
                }
            },
            std::sync::Arc::new(regulars::system::SystemClock),
        )
        .await;
        let admin = server.tenant("Fuzz").await.admin;
        server
            .put(
                "/v1/program/earning-rules",
                &admin,
                &serde_json::from_str::<Value>(regulars_tests::RULES)
                    .unwrap_or_else(|e| panic!("{e}")),
            )
            .await
            .expect(200, "rules");
        let routes = write_routes(&server, &admin).await;
        let runtime = tokio::runtime::Handle::current();
        let mut runner = TestRunner::new(Config {
            cases: 64,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = (0..routes.len(), payload(), any::<bool>());
        let result = runner.run(&strategy, |(route, payload, json_type)| {
            let (method, path) = &routes[route];
            let body = match &payload {
                Payload::Json(v) => v.to_string().into_bytes(),
                Payload::Bytes(b) => b.clone(),
            };
            let content_type = if json_type {
                Some("application/json")
            } else {
                Some("application/octet-stream")
            };
            let reply = tokio::task::block_in_place(|| {
                runtime.block_on(server.call(
                    method.clone(),
                    path,
                    Some(&admin),
                    Body::Raw(content_type, body),
                ))
            });
            prop_assert!(
                reply.status < 500,
                "{db:?}: {method} {path} {payload:?}: {} {}",
                reply.status,
                reply.text
            );
            if reply.status >= 400 {
                assert_error_shape(&reply.json, &format!("{db:?}: {method} {path} {payload:?}"));
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        server.assert_ledger_clean().await;
        server.stop().await;
    }
}

/// A segment name another segment has is a conflict with what is stored (409, like a
/// location code taken), not invalid data; both on create and on rename.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_segment_name_is_a_conflict() {
    for db in dbs() {
        let server = spawn_with(db, SMALL_LIMIT).await;
        let admin = server.tenant("Segment names").await.admin;
        let admin = admin.as_str();
        let what = |s: &str| format!("{db:?}: {s}");
        let rule = "frequency >= 1";
        server
            .post(
                "/v1/segments",
                admin,
                &json!({"name": "Loyal", "rule": rule}),
            )
            .await
            .expect(201, &what("first"));
        let other = server
            .post(
                "/v1/segments",
                admin,
                &json!({"name": "Other", "rule": rule}),
            )
            .await
            .expect(201, &what("second"))
            .str("/id");
        server
            .post(
                "/v1/segments",
                admin,
                &json!({"name": "loyal", "rule": rule}),
            )
            .await
            .expect_error(409, "conflict", &what("the same name on create"));
        server
            .put(
                &format!("/v1/segments/{other}"),
                admin,
                &json!({"name": "Loyal", "rule": rule}),
            )
            .await
            .expect_error(409, "conflict", &what("the same name on rename"));
        // A blank name is still invalid data.
        server
            .post("/v1/segments", admin, &json!({"name": " ", "rule": rule}))
            .await
            .expect_error(422, "invalid", &what("blank name"));
    }
}
