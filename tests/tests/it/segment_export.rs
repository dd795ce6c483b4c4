//! A segment's members leave as CSV for the owner's other tools: every member once
//! across pages, the phone in the national form, consent per channel, a name that a
//! spreadsheet would run as a formula defused; admins only, every page in the access
//! log; the dashboard's download streams the same rows.

use crate::dashboard::Visitor;
use crate::pos::rfc3339;
use crate::server::{TestServer, dbs, spawn};
use regulars_tests::{RULES, phone};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use time::{Duration, OffsetDateTime};

const FORMULA: &str = "=HYPERLINK(\"http://x\")";

async fn sell(server: &TestServer, admin: &str, id: &str, n: u64) {
    let at = OffsetDateTime::now_utc() - Duration::hours(2);
    let body = json!({"order_id": id, "placed_at": rfc3339(at), "currency": "VND",
        "customer_phone": phone(n).as_str(),
        "lines": [{"sku": "CF", "name": "Cà phê", "quantity": 1, "unit_price": "30000"}],
        "total": "30000"});
    server
        .post("/v1/orders", admin, &body)
        .await
        .expect(200, id);
}

/// One page of the API's export: its status, body and `x-next-after`.
async fn page(server: &TestServer, key: &str, query: &str) -> (u16, String, Option<String>) {
    let reply = reqwest::Client::new()
        .get(format!("{}/v1/segments/export?{query}", server.base))
        .bearer_auth(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("export: {e}"));
    let status = reply.status().as_u16();
    let next = reply
        .headers()
        .get("x-next-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = reply.text().await.unwrap_or_default();
    (status, text, next)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_segment_leaves_as_safe_csv_page_by_page_for_admins_only() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("Export").await;
        let admin = tenant.admin.as_str();
        let rules: Value = serde_json::from_str(RULES).unwrap_or_else(|e| panic!("{e}"));
        server
            .put("/v1/program/earning-rules", admin, &rules)
            .await
            .expect(200, "rules");
        let mut first_id = String::new();
        for (n, name, consent) in [
            (1, FORMULA, json!({"sms": true, "zalo": true})),
            (2, "Lan", json!({"email": true})),
            (3, "Minh, Q1", json!({})),
        ] {
            let made = server
                .post(
                    "/v1/customers",
                    admin,
                    &json!({"phone": phone(n).as_str(), "name": name, "email": format!("c{n}@example.com"), "consent": consent}),
                )
                .await
                .expect(201, "customer")
                .str("/id");
            if n == 1 {
                first_id = made;
            }
            sell(&server, admin, &format!("o-{n}"), n).await;
        }
        // The first customer withdraws Zalo: the export says so, so another tool honours it.
        server
            .call(
                reqwest::Method::PATCH,
                &format!("/v1/customers/{first_id}"),
                Some(admin),
                crate::server::Body::Json(&json!({"consent": {"zalo": false}})),
            )
            .await
            .expect(200, "withdraw zalo");
        server
            .post(
                "/v1/segments",
                admin,
                &json!({"name": "Everyone", "rule": "frequency >= 1"}),
            )
            .await
            .expect(201, "segment");
        server.score(admin).await;

        // Page by page: every member once, with the header on each page.
        let mut rows: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..10 {
            let query = match &after {
                Some(a) => format!("segment=Everyone&limit=1&after={a}"),
                None => "segment=Everyone&limit=1".to_owned(),
            };
            let (status, text, next) = page(&server, admin, &query).await;
            assert_eq!(status, 200, "{db:?}: {text}");
            let mut lines = text.lines();
            assert_eq!(
                lines.next(),
                Some(
                    "name,phone,email,points,tier,last_visit,consent_zalo,consent_sms,consent_email"
                ),
                "{db:?}"
            );
            rows.extend(lines.map(str::to_owned));
            after = next;
            if after.is_none() {
                break;
            }
        }
        assert_eq!(rows.len(), 3, "{db:?}: {rows:?}");
        assert_eq!(rows.iter().collect::<BTreeSet<_>>().len(), 3, "{db:?}");
        let national = format!("0{}", phone(1).as_str().trim_start_matches("+84"));
        let first = rows
            .iter()
            .find(|r| r.contains(&national))
            .unwrap_or_else(|| panic!("{db:?}: no row for {national}: {rows:?}"));
        // The formula is defused (quoted and prefixed) and the consent reads per channel.
        assert!(
            first.starts_with("\"'=HYPERLINK(\"\"http://x\"\")\","),
            "{db:?}: {first}"
        );
        assert!(
            first.ends_with(",withdrawn,granted,none"),
            "{db:?}: {first}"
        );
        assert!(
            rows.iter().any(|r| r.starts_with("\"Minh, Q1\",")),
            "{db:?}"
        );
        assert!(!rows.iter().any(|r| r.contains("+84")), "{db:?}: {rows:?}");

        // A named segment works too; an unknown one is 404 naming the segment.
        let (status, _, _) = page(&server, admin, "segment=Champions").await;
        assert_eq!(status, 200, "{db:?}");
        let missing = server
            .get("/v1/segments/export?segment=Nobody", admin)
            .await;
        let field = missing.expect_error(404, "not_found", "unknown segment");
        assert_eq!(field.as_deref(), Some("segment"), "{db:?}");
        let bad = server
            .get("/v1/segments/export?segment=Everyone&limit=0", admin)
            .await;
        assert_eq!(
            bad.expect_error(422, "invalid", "limit").as_deref(),
            Some("limit")
        );

        // A viewer is refused, on the API and on the dashboard.
        let viewer = server
            .post("/v1/keys", admin, &json!({"role": "viewer"}))
            .await
            .expect(201, "viewer")
            .str("/token");
        let (status, text, _) = page(&server, &viewer, "segment=Everyone").await;
        assert_eq!(status, 403, "{db:?}: {text}");
        let mut watcher = Visitor::new(&server);
        watcher
            .sign_in(&viewer)
            .await
            .expect(303, "viewer signs in");
        watcher
            .get("/dashboard/segments/export.csv?segment=Everyone")
            .await
            .expect(403, "viewer's download");

        // The admin's dashboard download holds the same rows, offered on the page.
        let mut owner = Visitor::new(&server);
        owner.sign_in(admin).await.expect(303, "admin signs in");
        let segments = owner.get("/dashboard/segments").await.expect(200, "page");
        assert!(segments.text.contains("segment-export"), "{db:?}");
        let download = owner
            .get("/dashboard/segments/export.csv?segment=Everyone")
            .await
            .expect(200, "download");
        let downloaded: BTreeSet<&str> = download.text.lines().skip(1).collect();
        let paged: BTreeSet<&str> = rows.iter().map(String::as_str).collect();
        assert_eq!(downloaded, paged, "{db:?}");
        owner
            .get("/dashboard/segments/export.csv?segment=Nobody")
            .await
            .expect(404, "unknown segment");

        // Every page is in the access log as an export of the customers it held.
        let log = server
            .get("/v1/audit/access?limit=500", admin)
            .await
            .expect(200, "log");
        for route in [
            "GET /v1/segments/export",
            "GET /dashboard/segments/export.csv",
        ] {
            let records: Vec<&Value> = log.json["items"]
                .as_array()
                .map(|items| items.iter().filter(|r| r["route"] == route).collect())
                .unwrap_or_default();
            assert!(!records.is_empty(), "{db:?}: no {route} in {}", log.text);
            let exported: usize = records
                .iter()
                .filter(|r| {
                    r["fields"]
                        .as_array()
                        .is_some_and(|f| f.contains(&json!("export")))
                })
                .map(|r| r["customers"].as_array().map_or(0, Vec::len))
                .sum();
            assert!(exported >= 3, "{db:?}: {route} logged {exported}");
        }
        server.stop().await;
    }
}
