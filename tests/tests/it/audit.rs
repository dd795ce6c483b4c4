//! The access audit: a viewer's reads through the API and the dashboard are recorded
//! with its key, the customers shown and the parts of their data; the log is an admin's
//! and its own brand's; it holds ids, never a phone or a name; the CSV export lists it.

use crate::dashboard::Visitor;
use crate::isolation::populate;
use crate::server::{Body, dbs, spawn};
use regulars::audit_export::{ExportFormat, export};
use regulars_domain::ApiKeyId;
use regulars_ports::AccessQuery;
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const NAME: &str = "Trần Kiểm Toán";

/// Every form a phone is written in that must not appear in the log.
fn phone_forms(e164: &str) -> Vec<String> {
    let national = format!("0{}", e164.trim_start_matches("+84"));
    vec![
        e164.to_owned(),
        e164.trim_start_matches('+').to_owned(),
        national,
    ]
}

fn records(page: &Value) -> Vec<Value> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {page}"))
        .clone()
}

/// The record of `route` among `items`.
fn by_route<'a>(items: &'a [Value], route: &str) -> &'a Value {
    items
        .iter()
        .find(|r| r["route"] == route)
        .unwrap_or_else(|| panic!("no record of {route} in {items:?}"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewers_reads_are_recorded_for_its_brands_admin_only() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = populate(&server, "Audit A", 301).await;
        let b = populate(&server, "Audit B", 302).await;
        let admin = a.tenant.admin.as_str();
        let customer = a.customer.as_str();
        server
            .call(
                Method::PATCH,
                &format!("/v1/customers/{customer}"),
                Some(admin),
                Body::Json(&json!({"name": NAME, "email": "kiem.toan@example.vn"})),
            )
            .await
            .expect(200, "name the customer");
        let viewer = server
            .post("/v1/keys", admin, &json!({"role": "viewer"}))
            .await
            .expect(201, "viewer key");
        let (viewer_id, viewer_token) = (viewer.str("/key/id"), viewer.str("/token"));
        let since = (OffsetDateTime::now_utc() - time::Duration::seconds(1))
            .format(&Rfc3339)
            .unwrap_or_else(|e| panic!("{e}"));

        // The viewer reads the customer, the list and the orders through the API, then
        // the customer's page in the dashboard.
        let shown = server
            .get(&format!("/v1/customers/{customer}"), &viewer_token)
            .await
            .expect(200, "profile");
        assert!(shown.text.contains(NAME), "{db:?}: {}", shown.text);
        server
            .get("/v1/customers?limit=500", &viewer_token)
            .await
            .expect(200, "list");
        server
            .get(&format!("/v1/customers/{customer}/orders"), &viewer_token)
            .await
            .expect(200, "orders");
        let mut visitor = Visitor::new(&server);
        visitor.sign_in(&viewer_token).await.expect(303, "sign in");
        let page = visitor
            .get(&format!("/dashboard/customers/{customer}"))
            .await
            .expect(200, "customer page");
        assert!(
            page.text.contains(NAME),
            "{db:?}: the page shows the customer"
        );

        let url = format!(
            "/v1/audit/access?key_id={viewer_id}&since={}",
            since.replace('+', "%2B")
        );
        let log = server.get(&url, admin).await.expect(200, "access log");
        let items = records(&log.json);
        assert_eq!(items.len(), 4, "{db:?}: {}", log.text);
        for record in &items {
            assert_eq!(record["key_id"], viewer_id.as_str(), "{db:?}: {record}");
            assert!(
                strings(&record["customers"]).contains(&a.customer),
                "{db:?}: {record}"
            );
        }
        let profile = by_route(&items, "GET /v1/customers/{id}");
        assert_eq!(profile["channel"], "api");
        assert_eq!(
            strings(&profile["customers"]),
            std::slice::from_ref(&a.customer)
        );
        let fields = strings(&profile["fields"]);
        for part in ["profile", "contact", "consent", "vouchers"] {
            assert!(
                fields.iter().any(|f| f == part),
                "{db:?}: {part} in {fields:?}"
            );
        }
        assert_eq!(
            strings(&by_route(&items, "GET /v1/customers/{id}/orders")["fields"]),
            ["orders"]
        );
        let list = by_route(&items, "GET /v1/customers");
        assert!(strings(&list["fields"]).contains(&"contact".to_owned()));
        let dashboard = by_route(&items, "GET /dashboard/customers/{id}");
        assert_eq!(dashboard["channel"], "dashboard", "{db:?}: {dashboard}");
        assert_eq!(
            strings(&dashboard["customers"]),
            std::slice::from_ref(&a.customer)
        );
        assert!(strings(&dashboard["fields"]).contains(&"ledger".to_owned()));

        // The log holds ids only: no phone in any form, no name, no email.
        let everything = server.walk("/v1/audit/access", admin, 2, "id").await;
        let text = serde_json::to_string(&everything).unwrap_or_default();
        for secret in phone_forms(&a.phone)
            .into_iter()
            .chain([NAME.to_owned(), "kiem.toan".to_owned()])
        {
            assert!(!text.contains(&secret), "{db:?}: the log holds {secret}");
        }
        // Paging walks the same records as one page.
        let walked = server.walk(&url, admin, 1, "id").await;
        assert_eq!(walked.len(), items.len(), "{db:?}: paging");

        // Filtered by customer: every record shows them.
        let by_customer = server
            .get(&format!("/v1/audit/access?customer_id={customer}"), admin)
            .await
            .expect(200, "by customer");
        let found = records(&by_customer.json);
        assert!(found.len() >= 4, "{db:?}: {}", by_customer.text);
        assert!(
            found
                .iter()
                .all(|r| strings(&r["customers"]).contains(&a.customer))
        );

        // The CSV export: a header, then one line per read, ids only.
        let filter = AccessQuery {
            since: None,
            until: None,
            key: Some(
                viewer_id
                    .parse::<ApiKeyId>()
                    .unwrap_or_else(|e| panic!("{e}")),
            ),
            customer: None,
            after: None,
            limit: 1,
        };
        let mut csv = Vec::new();
        let written = export(
            &server.services,
            &[a.tenant.brand],
            filter,
            ExportFormat::Csv,
            &mut csv,
        )
        .await
        .unwrap_or_else(|e| panic!("{db:?}: export: {e}"));
        assert_eq!(written, 4, "{db:?}");
        let csv = String::from_utf8(csv).unwrap_or_else(|e| panic!("{e}"));
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "brand_id,at,id,key_id,channel,route,fields,customers"
        );
        assert_eq!(lines.len(), 5, "{db:?}: {csv}");
        assert!(
            lines[1..]
                .iter()
                .all(|l| l.contains(&viewer_id) && l.contains(customer))
        );
        assert!(
            csv.contains(",dashboard,GET /dashboard/customers/{id},"),
            "{csv}"
        );
        for secret in phone_forms(&a.phone).into_iter().chain([NAME.to_owned()]) {
            assert!(!csv.contains(&secret), "{db:?}: the export holds {secret}");
        }

        // The log is the admin's: a viewer is refused, and another brand's admin sees
        // nothing of it, whatever it filters on.
        server
            .get("/v1/audit/access", &viewer_token)
            .await
            .expect_error(403, "forbidden", "viewer reads the log");
        let theirs = server
            .walk("/v1/audit/access", &b.tenant.admin, 100, "id")
            .await;
        let theirs = serde_json::to_string(&theirs).unwrap_or_default();
        for id in [&a.customer, &viewer_id, &a.tenant.brand.to_string()] {
            assert!(
                !theirs.contains(id.as_str()),
                "{db:?}: B's log shows A's {id}"
            );
        }
        for filter in [
            format!("key_id={viewer_id}"),
            format!("customer_id={customer}"),
        ] {
            let reply = server
                .get(&format!("/v1/audit/access?{filter}"), &b.tenant.admin)
                .await
                .expect(200, &filter);
            assert!(records(&reply.json).is_empty(), "{db:?}: {}", reply.text);
        }
        let mut other = Visitor::new(&server);
        other
            .sign_in(&b.tenant.admin)
            .await
            .expect(303, "B signs in");
        let page = other
            .get("/dashboard/audit")
            .await
            .expect(200, "B's log page");
        assert!(
            !page.text.contains(customer),
            "{db:?}: B's page shows A's customer"
        );

        // A's admin page lists the reads; the viewer is refused the page.
        let mut owner = Visitor::new(&server);
        owner.sign_in(admin).await.expect(303, "A signs in");
        let page = owner
            .get(&format!("/dashboard/audit?key_id={viewer_id}"))
            .await
            .expect(200, "A's log page");
        assert!(
            page.text.contains(customer) && page.text.contains("GET /dashboard/customers/{id}")
        );
        visitor
            .get("/dashboard/audit")
            .await
            .expect(403, "viewer's log page");

        // The admin downloads the customers as CSV: the export is recorded with the
        // admin's key, every customer it held and `export` among the fields.
        let download = owner
            .get("/dashboard/customers.csv")
            .await
            .expect(200, "CSV");
        assert!(download.text.contains(&a.phone) && download.text.contains(NAME));
        visitor
            .get("/dashboard/customers.csv")
            .await
            .expect(403, "viewer's download");
        let keys = server.get("/v1/keys", admin).await.expect(200, "keys");
        let admin_id = records(&keys.json)
            .into_iter()
            .find(|k| k["role"] == "admin")
            .map(|k| k["id"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_else(|| panic!("no admin key: {}", keys.text));
        let log = server
            .get(&format!("/v1/audit/access?key_id={admin_id}"), admin)
            .await
            .expect(200, "admin's reads");
        let items = records(&log.json);
        let exported = by_route(&items, "GET /dashboard/customers.csv");
        assert_eq!(exported["channel"], "dashboard");
        assert!(strings(&exported["fields"]).contains(&"export".to_owned()));
        assert!(strings(&exported["customers"]).contains(&a.customer));
        for secret in phone_forms(&a.phone).into_iter().chain([NAME.to_owned()]) {
            assert!(
                !log.text.contains(&secret),
                "{db:?}: the log holds {secret}"
            );
        }
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_filters_of_the_access_log_name_their_field() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("Audit filters").await;
        for (query, field) in [
            ("since=yesterday", "since"),
            ("until=2026-13-01T00:00:00Z", "until"),
            ("key_id=not-a-key", "key_id"),
            ("customer_id=42", "customer_id"),
            ("after=garbage", "after"),
            ("limit=0", "limit"),
        ] {
            let reply = server
                .get(&format!("/v1/audit/access?{query}"), &tenant.admin)
                .await;
            assert!(
                (400..500).contains(&reply.status),
                "{db:?}: {query}: {}",
                reply.text
            );
            assert_eq!(reply.json["error"]["field"], field, "{db:?}: {query}");
        }
        let reply = server
            .get(
                "/v1/audit/access?since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z",
                &tenant.admin,
            )
            .await;
        assert_eq!(reply.status, 422, "{db:?}: {}", reply.text);
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_is_pruned_after_its_retention_only() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("Audit retention").await;
        let customer = server
            .post(
                "/v1/customers",
                &tenant.admin,
                &json!({"phone": regulars_tests::phone(303).as_str()}),
            )
            .await
            .expect(201, "customer")
            .str("/id");
        server
            .get(&format!("/v1/customers/{customer}"), &tenant.admin)
            .await
            .expect(200, "read");
        // The server writes the buffered record on its own within its interval.
        let started = std::time::Instant::now();
        while server.services.pending_accesses() > 0 {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "{db:?}: the access record was never written"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let kept = server
            .services
            .prune_access_log(regulars_service::ACCESS_LOG_RETENTION)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: prune: {e}"));
        assert_eq!(kept, 0, "{db:?}: a fresh record is kept");
        let log = server
            .get("/v1/audit/access", &tenant.admin)
            .await
            .expect(200, "log");
        assert_eq!(records(&log.json).len(), 1, "{db:?}: {}", log.text);
        // A retention of a moment: everything recorded before now goes.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let pruned = server
            .services
            .prune_access_log(time::Duration::milliseconds(1))
            .await
            .unwrap_or_else(|e| panic!("{db:?}: prune: {e}"));
        assert!(pruned >= 1, "{db:?}: {pruned} pruned");
        let log = server
            .get("/v1/audit/access", &tenant.admin)
            .await
            .expect(200, "log");
        // Reading the log recorded nothing: it shows no customer's data.
        assert!(records(&log.json).is_empty(), "{db:?}: {}", log.text);
        server.stop().await;
    }
}
