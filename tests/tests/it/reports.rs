//! Brand reports over HTTP on real databases, against figures worked out by hand from
//! the orders the test sends.

use crate::pos::rfc3339;
use crate::server::{TestServer, dbs, spawn};
use regulars_tests::{RULES, phone};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// One order the test sends: (id, customer number or walk-in, local time, total, refund
/// (`None`, `Some(None)` in full, `Some(Some(amount))`), location).
struct Sale {
    id: &'static str,
    customer: Option<u64>,
    at: OffsetDateTime,
    total: i64,
    refund: Option<Option<i64>>,
    location: Option<&'static str>,
}

const fn sale(
    id: &'static str,
    customer: Option<u64>,
    at: OffsetDateTime,
    total: i64,
    refund: Option<Option<i64>>,
    location: Option<&'static str>,
) -> Sale {
    Sale {
        id,
        customer,
        at,
        total,
        refund,
        location,
    }
}

/// Brand A's history, oldest first. Customers 1 and 6 first came in September; 4's
/// September order was refunded in full, so 4 is new in October; 5 only ever bought
/// something refunded in full; 2's second order is at midnight starting November.
fn history() -> Vec<Sale> {
    vec![
        sale(
            "A-1",
            Some(1),
            datetime!(2025-09-15 10:00 +7),
            100_000,
            None,
            Some("q1"),
        ),
        sale(
            "A-2",
            Some(4),
            datetime!(2025-09-20 10:00 +7),
            50_000,
            Some(None),
            Some("q3"),
        ),
        sale(
            "A-3",
            Some(6),
            datetime!(2025-09-30 23:59 +7),
            15_000,
            None,
            Some("q1"),
        ),
        sale(
            "A-4",
            Some(1),
            datetime!(2025-10-01 00:30 +7),
            60_000,
            None,
            Some("q1"),
        ),
        sale(
            "A-5",
            Some(2),
            datetime!(2025-10-05 18:00 +7),
            40_000,
            None,
            Some("q1"),
        ),
        sale(
            "A-6",
            Some(3),
            datetime!(2025-10-07 09:00 +7),
            30_000,
            None,
            Some("q3"),
        ),
        sale(
            "A-7",
            Some(3),
            datetime!(2025-10-08 09:00 +7),
            30_000,
            None,
            Some("q3"),
        ),
        sale(
            "A-8",
            Some(4),
            datetime!(2025-10-10 12:00 +7),
            70_000,
            None,
            Some("q1"),
        ),
        sale(
            "A-9",
            None,
            datetime!(2025-10-12 12:00 +7),
            25_000,
            None,
            None,
        ),
        sale(
            "A-10",
            Some(5),
            datetime!(2025-10-15 12:00 +7),
            45_000,
            Some(None),
            Some("q1"),
        ),
        sale(
            "A-11",
            Some(1),
            datetime!(2025-10-20 12:00 +7),
            80_000,
            Some(Some(20_000)),
            Some("q3"),
        ),
        sale(
            "A-12",
            Some(2),
            datetime!(2025-11-01 00:00 +7),
            10_000,
            None,
            Some("q1"),
        ),
    ]
}

fn order_body(s: &Sale) -> Value {
    let mut body = json!({
        "order_id": s.id,
        "placed_at": rfc3339(s.at),
        "currency": "VND",
        "lines": [{"sku": "CF-SUA", "name": "Cà phê sữa", "category": "coffee",
                   "quantity": 1, "unit_price": s.total.to_string()}],
        "total": s.total.to_string(),
    });
    if let Some(location) = s.location {
        body["location"] = json!(location);
    }
    if let Some(c) = s.customer {
        body["customer_phone"] = json!(phone(c).as_str());
    }
    body
}

/// Sends the sales (and their refunds an hour later) and returns each order's earned
/// points and each customer's id.
async fn send(
    server: &TestServer,
    key: &str,
    sales: &[Sale],
) -> (BTreeMap<&'static str, i64>, BTreeMap<u64, String>) {
    let mut points = BTreeMap::new();
    let mut customers = BTreeMap::new();
    for s in sales {
        let receipt = server
            .post("/v1/orders", key, &order_body(s))
            .await
            .expect(200, s.id);
        points.insert(s.id, receipt.int("/points_earned"));
        if let Some(c) = s.customer {
            customers.insert(c, receipt.str("/customer_id"));
        }
        if let Some(refund) = s.refund {
            let mut body = json!({"refund_id": format!("R-{}", s.id), "order_id": s.id,
                                  "refunded_at": rfc3339(s.at + Duration::hours(1))});
            match refund {
                None => body["full"] = json!(true),
                Some(amount) => body["amount"] = json!(amount.to_string()),
            }
            server
                .post("/v1/refunds", key, &body)
                .await
                .expect(200, "refund");
        }
    }
    (points, customers)
}

fn amount(v: &Value) -> String {
    v["amount"]
        .as_str()
        .unwrap_or_else(|| panic!("no amount in {v}"))
        .to_owned()
}

fn close(a: &Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-12)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_match_the_orders_they_come_from() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = server.tenant("Brand A").await;
        let b = server.tenant("Brand B").await;
        let rules: Value = serde_json::from_str(RULES).unwrap_or_else(|e| panic!("{e}"));
        for t in [&a, &b] {
            server
                .put("/v1/program/earning-rules", &t.admin, &rules)
                .await
                .expect(200, "rules");
        }
        let sales = history();
        let (points, customers) = send(&server, &a.admin, &sales).await;
        // Brand B sells in the same days, to a customer with the same phone, elsewhere.
        send(
            &server,
            &b.admin,
            &[
                sale(
                    "B-1",
                    Some(1),
                    datetime!(2025-10-03 10:00 +7),
                    999_000,
                    None,
                    Some("b-only"),
                ),
                sale(
                    "B-2",
                    Some(9),
                    datetime!(2025-09-03 10:00 +7),
                    888_000,
                    None,
                    Some("b-only"),
                ),
            ],
        )
        .await;
        let viewer = server
            .post("/v1/keys", &a.admin, &json!({"role": "viewer"}))
            .await
            .expect(201, "viewer key")
            .str("/token");
        let what = format!("{db:?}");

        // October 2025, by week. Counted orders
        // (80,000 less 20,000 refunded); A-10 was refunded in full.
        let o = server
            .get(
                "/v1/reports/overview?from=2025-10-01&to=2025-11-01&interval=week",
                &viewer,
            )
            .await
            .expect(200, "overview");
        let j = &o.json;
        assert_eq!(amount(&j["revenue"]), "315000", "{what}: {}", o.text);
        assert_eq!(j["orders"], 7, "{what}");
        assert_eq!(j["active_customers"], 4, "{what}: 1, 2, 3 and 4");
        assert_eq!(j["new_customers"], 3, "{what}: 2, 3 and 4");
        assert_eq!(j["returning_customers"], 1, "{what}: 1");
        assert_eq!(j["repeat_customers"], 2, "{what}: 1 and 3");
        assert!(close(&j["repeat_rate"], 0.5), "{what}: {}", o.text);
        assert_eq!(j["prior_customers"], 2, "{what}: 1 and 6");
        assert!(close(&j["comeback_rate"], 0.5), "{what}: {}", o.text);
        assert_eq!(amount(&j["average_order_value"]), "45000", "{what}");
        assert_eq!(j["vouchers_issued"], 0, "{what}");
        assert!(j["voucher_redemption_rate"].is_null(), "{what}");
        let october: i64 = ["A-4", "A-5", "A-6", "A-7", "A-8", "A-9", "A-10", "A-11"]
            .iter()
            .map(|id| points[id])
            .sum();
        assert_eq!(
            j["points_earned"], october,
            "{what}: every earn entry of October"
        );
        assert_eq!(j["points_redeemed"], 0, "{what}");
        // Weeks: Wed 1 Oct (partial), then Mondays 6, 13, 20 and 27 October.
        let series: Vec<(String, String, i64, i64)> = j["series"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: {}", o.text))
            .iter()
            .map(|p| {
                (
                    p["start"].as_str().unwrap_or_default().to_owned(),
                    amount(&p["revenue"]),
                    p["orders"].as_i64().unwrap_or(-1),
                    p["active_customers"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        let expected: Vec<(String, String, i64, i64)> = [
            ("2025-10-01", "100000", 2, 2),
            ("2025-10-06", "155000", 4, 2),
            ("2025-10-13", "0", 0, 0),
            ("2025-10-20", "60000", 1, 1),
            ("2025-10-27", "0", 0, 0),
        ]
        .iter()
        .map(|(d, r, n, c)| (d.to_string(), r.to_string(), *n, *c))
        .collect();
        assert_eq!(series, expected, "{what}");

        // By day, the first of October holds only A-4 (00:30 local is 17:30 UTC the day before).
        let daily = server
            .get(
                "/v1/reports/overview?from=2025-10-01&to=2025-10-03",
                &a.admin,
            )
            .await
            .expect(200, "daily");
        assert_eq!(
            daily.json["series"].as_array().map(Vec::len),
            Some(2),
            "{what}"
        );
        assert_eq!(
            amount(&daily.json["series"][0]["revenue"]),
            "60000",
            "{what}"
        );
        assert_eq!(daily.json["new_customers"], 0, "{what}");

        // By location: q1 has; q3 has; A-9 had none.
        let r = server
            .get(
                "/v1/reports/revenue?by=location&from=2025-10-01&to=2025-11-01",
                &viewer,
            )
            .await
            .expect(200, "revenue by location");
        assert!(!r.text.contains("b-only"), "{what}: {}", r.text);
        assert_eq!(amount(&r.json["total"]), "315000", "{what}");
        let rows: Vec<(Value, String, String, i64)> = r.json["rows"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: {}", r.text))
            .iter()
            .map(|row| {
                (
                    row["key"].clone(),
                    row["label"].as_str().unwrap_or_default().to_owned(),
                    amount(&row["revenue"]),
                    row["orders"].as_i64().unwrap_or(-1),
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                (json!("q1"), "q1".to_owned(), "170000".to_owned(), 3),
                (json!("q3"), "q3".to_owned(), "120000".to_owned(), 3),
                (Value::Null, "No location".to_owned(), "25000".to_owned(), 1),
            ],
            "{what}"
        );
        assert!(
            close(&r.json["rows"][0]["share"], 170_000.0 / 315_000.0),
            "{what}: {}",
            r.text
        );

        // By segment, before any scoring run: everyone is unscored.
        let r = server
            .get("/v1/reports/revenue?from=2025-10-01&to=2025-11-01", &viewer)
            .await
            .expect(200, "revenue by segment");
        assert_eq!(r.json["by"], "segment", "{what}");
        assert_eq!(
            r.json["rows"].as_array().map(Vec::len),
            Some(1),
            "{what}: {}",
            r.text
        );
        assert_eq!(r.json["rows"][0]["label"], "Unscored", "{what}");
        assert_eq!(amount(&r.json["rows"][0]["revenue"]), "315000", "{what}");

        // After a run, each customer's October revenue goes to their named segment.
        server.score(&a.admin).await;
        let mut segment_of = BTreeMap::new();
        for (n, id) in &customers {
            let scores = server
                .get(&format!("/v1/customers/{id}/scores"), &a.admin)
                .await
                .expect(200, "scores");
            segment_of.insert(*n, scores.str("/segments/0"));
        }
        let mut expected: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for s in sales.iter().filter(|s| {
            s.at >= datetime!(2025-10-01 00:00 +7) && s.at < datetime!(2025-11-01 00:00 +7)
        }) {
            let net = match s.refund {
                None => s.total,
                Some(None) => continue,
                Some(Some(refunded)) => s.total - refunded,
            };
            let label = s
                .customer
                .map_or("Unscored".to_owned(), |c| segment_of[&c].clone());
            let entry = expected.entry(label).or_default();
            entry.0 += net;
            entry.1 += 1;
        }
        let r = server
            .get(
                "/v1/reports/revenue?by=segment&from=2025-10-01&to=2025-11-01",
                &viewer,
            )
            .await
            .expect(200, "revenue by segment");
        let got: BTreeMap<String, (i64, i64)> = r.json["rows"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: {}", r.text))
            .iter()
            .map(|row| {
                let revenue: i64 = amount(&row["revenue"]).parse().unwrap_or(-1);
                (
                    row["label"].as_str().unwrap_or_default().to_owned(),
                    (revenue, row["orders"].as_i64().unwrap_or(-1)),
                )
            })
            .collect();
        assert_eq!(got, expected, "{what}: {}", r.text);

        // Cohorts from September: 1 and 6 started then (4's refunded order does not
        // count); 2, 3 and 4 in October; 2 came back in November.
        let c = server
            .get("/v1/reports/cohorts?from=2025-09&months=3", &viewer)
            .await
            .expect(200, "cohorts");
        assert_eq!(c.json["customers"], 5, "{what}: {}", c.text);
        let table: Vec<(String, i64, Vec<i64>)> = c.json["cohorts"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: {}", c.text))
            .iter()
            .map(|row| {
                (
                    row["month"].as_str().unwrap_or_default().to_owned(),
                    row["size"].as_i64().unwrap_or(-1),
                    row["retention"]
                        .as_array()
                        .map(|cells| {
                            cells
                                .iter()
                                .map(|x| x["customers"].as_i64().unwrap_or(-1))
                                .collect()
                        })
                        .unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            table,
            vec![
                ("2025-09".to_owned(), 2, vec![2, 1, 0]),
                ("2025-10".to_owned(), 3, vec![3, 1]),
                ("2025-11".to_owned(), 0, vec![]),
            ],
            "{what}"
        );
        assert!(
            close(&c.json["cohorts"][1]["retention"][1]["share"], 1.0 / 3.0),
            "{what}"
        );
        // From October, customer 1 is a September customer and in no cohort.
        let c = server
            .get("/v1/reports/cohorts?from=2025-10&months=1", &viewer)
            .await
            .expect(200, "one cohort");
        assert_eq!(c.json["cohorts"][0]["size"], 3, "{what}: {}", c.text);

        // Today: a new customer buys, spends points on two vouchers and uses one.
        let now = OffsetDateTime::now_utc() - Duration::minutes(5);
        let (today, ids) = send(
            &server,
            &a.admin,
            &[sale("A-13", Some(7), now, 200_000, None, Some("q1"))],
        )
        .await;
        let reward = server
            .post(
                "/v1/rewards",
                &a.admin,
                &json!({"name": "Free topping", "cost": 10,
                "kind": {"type": "free_modifier", "sku": "TOP-CHEESE"}, "validity_days": 30}),
            )
            .await
            .expect(201, "reward")
            .str("/id");
        let mut codes = Vec::new();
        for _ in 0..2 {
            let voucher = server
                .post(
                    &format!("/v1/customers/{}/redemptions", ids[&7]),
                    &a.admin,
                    &json!({"reward_id": reward}),
                )
                .await
                .expect(201, "redemption");
            codes.push(voucher.str("/code"));
        }
        server
            .post(
                &format!("/v1/vouchers/{}/redeem", codes[0]),
                &a.admin,
                &json!({}),
            )
            .await
            .expect(200, "redeem");
        let o = server
            .get("/v1/reports/overview", &viewer)
            .await
            .expect(200, "default overview");
        let j = &o.json;
        assert_eq!(
            j["series"].as_array().map(Vec::len),
            Some(30),
            "{what}: {}",
            o.text
        );
        assert_eq!(amount(&j["revenue"]), "200000", "{what}");
        assert_eq!(
            (
                j["vouchers_issued"].as_i64(),
                j["vouchers_redeemed"].as_i64()
            ),
            (Some(2), Some(1)),
            "{what}"
        );
        assert!(close(&j["voucher_redemption_rate"], 0.5), "{what}");
        assert_eq!(j["points_earned"], today["A-13"], "{what}");
        assert_eq!(j["points_redeemed"], 20, "{what}");
        assert!(
            close(
                &j["points_redeemed_per_earned"],
                20.0 / today["A-13"] as f64
            ),
            "{what}: {}",
            o.text
        );
        assert_eq!(j["new_customers"], 1, "{what}");

        // Brand B sees only its own.
        let r = server
            .get(
                "/v1/reports/revenue?by=location&from=2025-09-01&to=2025-11-01",
                &b.admin,
            )
            .await
            .expect(200, "B's revenue");
        assert_eq!(amount(&r.json["total"]), "1887000", "{what}: {}", r.text);
        assert_eq!(
            r.json["rows"].as_array().map(Vec::len),
            Some(1),
            "{what}: {}",
            r.text
        );

        // Bad parameters name themselves.
        for (url, status, field) in [
            ("/v1/reports/overview?from=2025-13-01", 400, "from"),
            ("/v1/reports/overview?to=yesterday", 400, "to"),
            ("/v1/reports/overview?interval=month", 400, "interval"),
            (
                "/v1/reports/overview?from=2025-10-02&to=2025-10-01",
                422,
                "to",
            ),
            (
                "/v1/reports/overview?from=2020-01-01&to=2025-01-01",
                422,
                "to",
            ),
            ("/v1/reports/cohorts?months=0", 422, "months"),
            ("/v1/reports/cohorts?months=61", 422, "months"),
            ("/v1/reports/cohorts?months=many", 400, "months"),
            ("/v1/reports/cohorts?from=2025-1", 400, "from"),
            ("/v1/reports/revenue?by=tier", 400, "by"),
            (
                "/v1/reports/revenue?from=2025-10-01&to=2025-10-01",
                422,
                "to",
            ),
            ("/v1/reports/revenue?for=everyone", 400, "query"),
        ] {
            let got = server
                .get(url, &viewer)
                .await
                .expect_error(status, "invalid", url);
            assert_eq!(got.as_deref(), Some(field), "{what}: {url}");
        }
        server.stop().await;
    }
}
