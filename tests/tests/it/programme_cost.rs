//! The programme's cost beside the revenue, over real HTTP on both databases: three
//! vouchers redeemed on their orders (a free milk tea, 20,000 off, 10 % off capped at
//! 5,000) cost what each took off its order; the overview API and the dashboard say so
//! beside the revenue; another brand's report counts none of it.

use crate::dashboard::Visitor;
use crate::programme_form::{menu_and_shop_2, order};
use crate::server::{TestServer, dbs, spawn};
use regulars_tests::phone;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

async fn reward(server: &TestServer, admin: &str, name: &str, kind: Value) -> String {
    server
        .post(
            "/v1/rewards",
            admin,
            &json!({"name": name, "cost": 10, "kind": kind, "validity_days": 30}),
        )
        .await
        .expect(201, name)
        .str("/id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_sets_what_redeemed_vouchers_gave_away_beside_the_revenue() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = server.tenant("A").await;
        let b = server.tenant("B").await;
        menu_and_shop_2(&server, &a.admin).await;
        let vnd = |n: &str| json!({"amount": n, "currency": "VND"});
        let rewards = [
            reward(
                &server,
                &a.admin,
                "Free milk tea",
                json!({"type": "free_item", "sku": "TS-OOLONG"}),
            )
            .await,
            reward(
                &server,
                &a.admin,
                "20k off",
                json!({"type": "fixed_discount", "amount": vnd("20000")}),
            )
            .await,
            reward(
                &server,
                &a.admin,
                "10% off",
                json!({"type": "percent_discount", "percent": "10", "cap": vnd("5000")}),
            )
            .await,
        ];
        let customer_phone = phone(8401).as_str().to_owned();
        let at = OffsetDateTime::now_utc() - Duration::days(2);
        let customer = server
            .post("/v1/orders", &a.admin, &order("PC-0", &customer_phone, at))
            .await
            .expect(200, "first order")
            .str("/customer_id");
        server
            .post(
                &format!("/v1/customers/{customer}/adjustments"),
                &a.admin,
                &json!({"points": 100, "reason": "opening balance"}),
            )
            .await
            .expect(201, "points");
        for (n, reward) in rewards.iter().enumerate() {
            let code = server
                .post(
                    &format!("/v1/customers/{customer}/redemptions"),
                    &a.admin,
                    &json!({"reward_id": reward}),
                )
                .await
                .expect(201, "voucher")
                .str("/code");
            let id = format!("PC-{}", n + 1);
            let placed = at + Duration::hours(i64::try_from(n).unwrap_or_default() + 1);
            server
                .post("/v1/orders", &a.admin, &order(&id, &customer_phone, placed))
                .await
                .expect(200, "order");
            server
                .post(
                    &format!("/v1/vouchers/{code}/redeem"),
                    &a.admin,
                    &json!({"order_external_id": id}),
                )
                .await
                .expect(200, "redeemed");
        }

        // 45,000 (the menu price) + 20,000 + 10 % of 90,000 capped at 5,000.
        let report = server
            .get("/v1/reports/overview", &a.admin)
            .await
            .expect(200, "overview");
        assert_eq!(
            report.json["programme_cost"],
            vnd("70000"),
            "{db:?}: {}",
            report.text
        );
        assert_eq!(report.json["programme_cost_vouchers"], 3, "{db:?}");
        assert_eq!(report.json["programme_cost_unpriced"], 0, "{db:?}");
        let revenue: f64 = report.json["revenue"]["amount"]
            .as_str()
            .and_then(|r| r.parse().ok())
            .unwrap_or_default();
        assert_eq!(revenue, 360_000.0, "{db:?}: four orders of 90,000");
        let share = report.json["programme_cost_share"]
            .as_f64()
            .unwrap_or_default();
        assert!(
            (share - 70_000.0 / 360_000.0).abs() < 1e-9,
            "{db:?}: {share}"
        );

        let mut owner = Visitor::new(&server);
        owner.sign_in(&a.admin).await.expect(303, "sign in");
        let page = owner
            .get("/dashboard/overview?days=30")
            .await
            .expect(200, "overview page");
        assert!(
            page.text.contains("id=\"programme-cost\"")
                && page.text.contains("data value=\"70000\""),
            "{db:?}: {}",
            page.text
        );

        let other = server
            .get("/v1/reports/overview", &b.admin)
            .await
            .expect(200, "other brand");
        assert_eq!(
            other.json["programme_cost"],
            vnd("0"),
            "{db:?}: {}",
            other.text
        );
        assert_eq!(other.json["programme_cost_vouchers"], 0, "{db:?}");
        server.stop().await;
    }
}
