//! A store manager's key sees its locations only: the reports, the orders and the
//! locations of the shops it covers, on the API and on the dashboard, and nothing else
//! of the brand; a `?location=` naming another shop is refused, never read. Reports by
//! location add up to the brand's totals.

use crate::dashboard::Visitor;
use crate::pos::rfc3339;
use crate::server::{Body, TestServer, dbs, spawn};
use regulars_tests::{RULES, phone};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

/// Routes a manager's key may read, limited to its locations.
const SCOPED_READS: [&str; 18] = [
    "/v1/campaigns",
    "/v1/campaigns/{id}",
    "/v1/campaigns/{id}/report",
    "/v1/reports/referrals",
    "/v1/customers",
    "/v1/customers/{id}",
    "/v1/customers/{id}/orders",
    "/v1/reports/segments",
    "/v1/reports/overview",
    "/v1/reports/ratings",
    "/v1/reports/cohorts",
    "/v1/reports/revenue",
    "/v1/reports/locations",
    "/v1/reports/staff",
    "/v1/orders",
    "/v1/locations",
    "/v1/locations/{id}",
    "/v1/goals",
];

fn amount(v: &Value) -> i64 {
    v["amount"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no amount in {v}"))
}

async fn location(server: &TestServer, admin: &str, code: &str, name: &str) -> String {
    server
        .post("/v1/locations", admin, &json!({"code": code, "name": name}))
        .await
        .expect(201, "location")
        .str("/id")
}

/// An order of `total` at `code` (or none), for customer `n` (or a walk-in); its points.
async fn sell(
    server: &TestServer,
    admin: &str,
    id: &str,
    code: Option<&str>,
    n: Option<u64>,
    total: i64,
) -> i64 {
    let at = OffsetDateTime::now_utc() - Duration::hours(2);
    let mut body = json!({"order_id": id, "placed_at": rfc3339(at), "currency": "VND",
        "lines": [{"sku": "CF", "name": "Cà phê", "quantity": 1, "unit_price": total.to_string()}],
        "total": total.to_string()});
    if let Some(code) = code {
        body["location"] = json!(code);
    }
    if let Some(n) = n {
        body["customer_phone"] = json!(phone(n).as_str());
    }
    server
        .post("/v1/orders", admin, &body)
        .await
        .expect(200, id)
        .int("/points_earned")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_sees_the_figures_and_orders_of_its_locations_only() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = server.tenant("Managed").await;
        let b = server.tenant("Elsewhere").await;
        let admin = a.admin.as_str();
        let rules: Value = serde_json::from_str(RULES).unwrap_or_else(|e| panic!("{e}"));
        server
            .put("/v1/program/earning-rules", admin, &rules)
            .await
            .expect(200, "rules");
        let q1 = location(&server, admin, "q1", "Shop 1").await;
        let q3 = location(&server, admin, "q3", "Shop 3").await;
        let theirs = location(&server, &b.admin, "q1", "Their shop").await;

        // A manager key needs its locations, the brand's own; other roles take none.
        for (body, status, what) in [
            (json!({"role": "manager"}), 422, "no locations"),
            (json!({"role": "manager", "locations": []}), 422, "empty"),
            (json!({"role": "viewer", "locations": [q1]}), 422, "viewer"),
            (
                json!({"role": "manager", "locations": ["q1"]}),
                400,
                "not an id",
            ),
            (
                json!({"role": "manager", "locations": [theirs]}),
                422,
                "theirs",
            ),
        ] {
            let refused = server.post("/v1/keys", admin, &body).await;
            let field = refused.expect_error(status, "invalid", &format!("{db:?}: {what}"));
            assert_eq!(field.as_deref(), Some("locations"), "{db:?}: {what}");
            assert!(
                !refused.text.contains("Elsewhere"),
                "{db:?}: {}",
                refused.text
            );
        }
        let made = server
            .post(
                "/v1/keys",
                admin,
                &json!({"role": "manager", "label": "Lan, Shop 1", "locations": [q1]}),
            )
            .await
            .expect(201, "manager key");
        assert_eq!(made.json["key"]["locations"], json!([q1]), "{db:?}");
        let manager = made.str("/token");
        let listed = server.get("/v1/keys", admin).await.expect(200, "keys");
        assert!(
            listed.json["items"].as_array().is_some_and(|keys| keys
                .iter()
                .any(|k| k["role"] == "manager" && k["locations"] == json!([q1]))),
            "{db:?}: {}",
            listed.text
        );

        // Orders at Shop 1 (a member and a walk-in), Shop 3, and one without a shop.
        let mut q1_points = 0;
        q1_points += sell(&server, admin, "M-1", Some("q1"), Some(1), 50_000).await;
        q1_points += sell(&server, admin, "M-2", Some("q1"), None, 30_000).await;
        sell(&server, admin, "M-3", Some("q3"), Some(2), 70_000).await;
        sell(&server, admin, "M-4", Some("q3"), Some(1), 20_000).await;
        sell(&server, admin, "M-5", None, None, 10_000).await;
        sell(&server, &b.admin, "M-1", Some("q1"), Some(1), 99_000).await;

        // The overview: the manager's is Shop 1's; Shop 1 + Shop 3 + no shop = brand.
        let overview = |key: &str, query: &str| {
            let url = format!("/v1/reports/overview{query}");
            let server = &server;
            let key = key.to_owned();
            async move { server.get(&url, &key).await }
        };
        let brand = overview(admin, "").await.expect(200, "brand").json;
        let mine = overview(&manager, "").await.expect(200, "manager").json;
        let shop1 = overview(admin, &format!("?location={q1}"))
            .await
            .expect(200, "q1")
            .json;
        let shop3 = overview(admin, &format!("?location={q3}"))
            .await
            .expect(200, "q3")
            .json;
        assert_eq!(brand["orders"], 5, "{db:?}: {brand}");
        assert_eq!(amount(&brand["revenue"]), 180_000, "{db:?}");
        assert_eq!(mine["orders"], 2, "{db:?}: {mine}");
        assert_eq!(amount(&mine["revenue"]), 80_000, "{db:?}");
        assert_eq!(mine["active_customers"], 1, "{db:?}");
        assert_eq!(mine["vouchers_issued"], Value::Null, "{db:?}: brand-wide");
        assert_eq!(mine["points_earned"], Value::Null, "{db:?}: brand-wide");
        assert_eq!(shop1["orders"], mine["orders"], "{db:?}");
        assert_eq!(shop1["revenue"], mine["revenue"], "{db:?}");
        assert_eq!(shop3["orders"], 2, "{db:?}");
        assert_eq!(
            amount(&shop1["revenue"]) + amount(&shop3["revenue"]) + 10_000,
            amount(&brand["revenue"]),
            "{db:?}"
        );

        // A forged filter does not widen the scope: 403 naming it, nothing read.
        let forged = overview(&manager, &format!("?location={q3}")).await;
        let field = forged.expect_error(403, "forbidden", &format!("{db:?}: forged"));
        assert_eq!(field.as_deref(), Some("location"));
        for path in ["/v1/reports/locations", "/v1/reports/revenue?by=location&"] {
            let sep = if path.ends_with('&') { "" } else { "?" };
            server
                .get(&format!("{path}{sep}location={q3}"), &manager)
                .await
                .expect_error(403, "forbidden", &format!("{db:?}: forged {path}"));
        }
        // Another brand's location is no location here, even for an admin.
        server
            .get(&format!("/v1/reports/overview?location={theirs}"), admin)
            .await
            .expect_error(422, "invalid", &format!("{db:?}: theirs"));

        // By location: rows add up to the brand; the manager's has Shop 1 only.
        let all = server
            .get("/v1/reports/locations", admin)
            .await
            .expect(200, "by location")
            .json;
        let rows = all["rows"].as_array().cloned().unwrap_or_default();
        let codes: Vec<&Value> = rows.iter().map(|r| &r["code"]).collect();
        assert_eq!(
            codes,
            vec![&json!("q3"), &json!("q1"), &Value::Null],
            "{db:?}: {all}"
        );
        let orders: i64 = rows.iter().map(|r| r["orders"].as_i64().unwrap_or(0)).sum();
        let revenue: i64 = rows.iter().map(|r| amount(&r["revenue"])).sum();
        assert_eq!(orders, 5, "{db:?}");
        assert_eq!(revenue, amount(&brand["revenue"]), "{db:?}");
        assert_eq!(all["total"]["orders"], 5, "{db:?}");
        assert_eq!(amount(&all["total"]["revenue"]), revenue, "{db:?}");
        assert_eq!(rows[1]["location_id"], json!(q1), "{db:?}");
        assert_eq!(rows[1]["name"], "Shop 1", "{db:?}");
        assert_eq!(rows[1]["member_orders"], 1, "{db:?}");
        assert_eq!(rows[1]["members_share"], 0.5, "{db:?}");
        assert_eq!(rows[1]["points_earned"], q1_points, "{db:?}");
        let theirs_too = server
            .get("/v1/reports/locations", &manager)
            .await
            .expect(200, "manager by location")
            .json;
        assert_eq!(
            theirs_too["rows"].as_array().map(Vec::len),
            Some(1),
            "{db:?}"
        );
        assert_eq!(theirs_too["rows"][0], rows[1], "{db:?}");
        assert_eq!(theirs_too["total"]["orders"], 2, "{db:?}");

        // Orders and locations: Shop 1's only; Shop 3 is not found.
        let listed = server
            .get("/v1/orders", &manager)
            .await
            .expect(200, "orders")
            .json;
        let items = listed["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 2, "{db:?}: {listed}");
        assert!(
            items.iter().all(|o| o["location"] == "q1"),
            "{db:?}: {listed}"
        );
        let shops = server
            .get("/v1/locations", &manager)
            .await
            .expect(200, "shops")
            .json;
        assert_eq!(shops["items"].as_array().map(Vec::len), Some(1), "{db:?}");
        assert_eq!(shops["items"][0]["id"], json!(q1), "{db:?}");
        server
            .get(&format!("/v1/locations/{q3}"), &manager)
            .await
            .expect_error(404, "not_found", &format!("{db:?}: Shop 3"));
        // Campaigns and the referral figures are read by location (manager_campaigns);
        // the brand's segments, referrals one by one and the programme are not.
        for path in [
            "/v1/keys",
            "/v1/segments",
            "/v1/referrals",
            "/v1/referrals/settings",
        ] {
            server.get(path, &manager).await.expect_error(
                403,
                "forbidden",
                &format!("{db:?}: {path}"),
            );
        }

        // The dashboard: the overview of Shop 1, nothing of the brand beyond it.
        let mut visitor = Visitor::new(&server);
        visitor
            .sign_in(&manager)
            .await
            .expect(303, "manager signs in");
        let page = visitor
            .get("/dashboard/overview?lang=en")
            .await
            .expect(200, "manager overview");
        assert!(page.text.contains("id=\"by-location\""), "{db:?}");
        assert!(page.text.contains("data-code=\"q1\""), "{db:?}");
        assert!(
            !page.text.contains("data-code=\"q3\""),
            "{db:?}: Shop 3 shown"
        );
        assert!(!page.text.contains("Shop 3"), "{db:?}: Shop 3 offered");
        assert!(page.text.contains("/dashboard/customers"), "{db:?}: nav");
        visitor
            .get(&format!("/dashboard/overview?location={q3}"))
            .await
            .expect(403, "forged location on the dashboard");
        for path in [
            "/dashboard/audit",
            "/dashboard/channels",
            "/dashboard/campaigns/new",
            "/dashboard/programme",
            "/dashboard/staff",
            "/dashboard/customers.csv",
            "/dashboard/segments/export.csv?segment=Champions",
        ] {
            visitor
                .get(path)
                .await
                .expect(403, &format!("{db:?}: {path}"));
        }
        let mut owner = Visitor::new(&server);
        owner.sign_in(admin).await.expect(303, "admin signs in");
        let filtered = owner
            .get(&format!("/dashboard/overview?location={q3}"))
            .await
            .expect(200, "admin filters");
        assert!(filtered.text.contains("data-code=\"q3\""), "{db:?}");
        assert!(!filtered.text.contains("data-code=\"q1\""), "{db:?}");
        let everything = owner.get("/dashboard/overview").await.expect(200, "all");
        assert!(everything.text.contains("id=\"location-filter\""), "{db:?}");
        assert!(everything.text.contains("data-code=\"q1\""), "{db:?}");
        assert!(everything.text.contains("data-code=\"q3\""), "{db:?}");

        // Another brand's manager sees none of this brand.
        let other = server
            .post(
                "/v1/keys",
                &b.admin,
                &json!({"role": "manager", "locations": [theirs]}),
            )
            .await
            .expect(201, "their manager")
            .str("/token");
        let seen = server
            .get("/v1/reports/overview", &other)
            .await
            .expect(200, "their overview")
            .json;
        assert_eq!(seen["orders"], 1, "{db:?}: {seen}");
        assert_eq!(amount(&seen["revenue"]), 99_000, "{db:?}");
        server
            .get(&format!("/v1/reports/overview?location={q1}"), &other)
            .await
            .expect_error(403, "forbidden", &format!("{db:?}: another brand's shop"));
        server.stop().await;
    }
}

/// From the OpenAPI document: a manager's key reads the location-scoped routes and is
/// refused (403) on every other route, read or write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_but_the_scoped_reads_refuses_a_manager() {
    use crate::isolation::{fill, method_of, operations, populate, valid_body};
    for db in dbs() {
        let server = spawn(db).await;
        let a = populate(&server, "Managed sweep", 601).await;
        let manager = server
            .post(
                "/v1/keys",
                &a.tenant.admin,
                &json!({"role": "manager", "locations": [a.location]}),
            )
            .await
            .expect(201, "manager key")
            .str("/token");
        let (mut reads, mut refused) = (0, 0);
        for (method, path, secured) in operations(&server).await {
            if !secured {
                continue;
            }
            let mut url = fill(&path, &a);
            // Required queries, so that what answers is the role check.
            if path.ends_with("/lookup") {
                url.push_str(&format!("?phone={}", a.phone.replace('+', "%2B")));
            }
            if path.ends_with("/entrants") || path.ends_with("/segments/export") {
                url.push_str("?segment=Champions");
            }
            let what = format!("{db:?}: {method} {url}");
            let answer = match valid_body(&method, &path, &a) {
                Some(b) => {
                    server
                        .call(method_of(&method), &url, Some(&manager), Body::Json(&b))
                        .await
                }
                None => {
                    server
                        .call(method_of(&method), &url, Some(&manager), Body::None)
                        .await
                }
            };
            if method == "get" && SCOPED_READS.contains(&path.as_str()) {
                answer.expect(200, &what);
                reads += 1;
            } else {
                answer.expect_error(403, "forbidden", &what);
                refused += 1;
            }
        }
        assert_eq!(
            reads,
            SCOPED_READS.len(),
            "{db:?}: every scoped read is a route"
        );
        assert!(refused >= 60, "{db:?}: {refused} routes refused");
        server.stop().await;
    }
}
