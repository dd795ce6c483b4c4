//! Segments by location: who of each segment came to a shop. Orders and revenue by
//! shop add up to the brand's, a member who came to two shops is a visitor of each and
//! one of the brand; a manager reads its shops only, on the API and the dashboard, and
//! the brand-wide parts of the page (sizes over runs, custom segments, the export) are
//! not shown to it.

use crate::manager_kit::{
    TwoShops, assert_picker_shown_brand_wide_hidden, manager_key, sell, signed_in,
};
use crate::server::{dbs, spawn};
use serde_json::{Value, json};

fn amount(v: &Value) -> i64 {
    v["amount"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no amount in {v}"))
}

fn int(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_by_location_add_up_and_a_manager_reads_its_shops_only() {
    for db in dbs() {
        let server = spawn(db).await;
        let shops = TwoShops::new(&server, "Segments by shop").await;
        let (admin, q1, q2) = (shops.admin(), shops.q1.as_str(), shops.q2.as_str());
        // Anh at Shop 1, Binh at Shop 2, Chi at both.
        sell(&server, admin, "A-1", "q1", 1, 50_000).await;
        sell(&server, admin, "B-1", "q2", 2, 70_000).await;
        sell(&server, admin, "C-1", "q1", 3, 20_000).await;
        sell(&server, admin, "C-2", "q2", 3, 40_000).await;
        server.score(admin).await;

        let report = |key: &str, query: &str| {
            let url = format!("/v1/reports/segments{query}");
            let server = &server;
            let key = key.to_owned();
            async move { server.get(&url, &key).await }
        };
        let whole = report(admin, "").await.expect(200, "brand").json;
        assert_eq!(whole["visitors"], 3, "{db:?}: {whole}");
        assert_eq!(whole["orders"], 4, "{db:?}: {whole}");
        assert_eq!(amount(&whole["revenue"]), 180_000, "{db:?}");
        let rows = whole["rows"].as_array().cloned().unwrap_or_default();
        let visitors: u64 = rows.iter().map(|r| int(&r["visitors"])).sum();
        assert_eq!(visitors, 3, "{db:?}: rows add up");
        let shop1 = report(admin, &format!("?location={q1}"))
            .await
            .expect(200, "Shop 1")
            .json;
        let shop2 = report(admin, &format!("?location={q2}"))
            .await
            .expect(200, "Shop 2")
            .json;
        assert_eq!(
            (shop1["visitors"].clone(), shop2["visitors"].clone()),
            (json!(2), json!(2)),
            "{db:?}"
        );
        assert_eq!(int(&shop1["orders"]) + int(&shop2["orders"]), 4, "{db:?}");
        assert_eq!(
            amount(&shop1["revenue"]) + amount(&shop2["revenue"]),
            amount(&whole["revenue"]),
            "{db:?}: revenue by shop adds up"
        );
        assert_eq!(amount(&shop1["revenue"]), 70_000, "{db:?}");

        let manager = manager_key(&server, admin, &[q1]).await;
        let mine = report(&manager, "").await.expect(200, "manager").json;
        assert_eq!(mine["rows"], shop1["rows"], "{db:?}: {mine}");
        assert_eq!(mine["visitors"], 2, "{db:?}");
        let field = report(&manager, &format!("?location={q2}"))
            .await
            .expect_error(403, "forbidden", &format!("{db:?}: Shop 2 forged"));
        assert_eq!(field.as_deref(), Some("location"), "{db:?}");

        // The dashboard: the manager's page shows Shop 1's visitors and nothing brand-wide.
        let lan = signed_in(&server, &manager, "manager").await;
        let page = lan
            .get("/dashboard/segments?lang=en")
            .await
            .expect(200, "manager's segments")
            .text;
        assert_picker_shown_brand_wide_hidden(
            &page,
            &[
                "custom-segments",
                "segment-form",
                "chart-segment-sizes",
                "at-risk-entrants",
            ],
            &format!("{db:?}"),
        );
        assert!(page.contains("id=\"segment-visits\""), "{db:?}");
        assert!(
            page.contains("<td class=\"key\">Total</td><td class=\"visitors\">2</td>"),
            "{db:?}: total"
        );
        for hidden in [
            "/dashboard/programme",
            "/dashboard/audit",
            "/dashboard/channels",
        ] {
            assert!(
                !page.contains(&format!("href=\"{hidden}\"")),
                "{db:?}: {hidden} in the nav"
            );
        }
        // Campaigns and referrals are read by location too (manager_campaigns).
        for shown in ["segments", "campaigns", "referrals"] {
            let link = format!("href=\"/dashboard/{shown}\"");
            assert!(page.contains(&link), "{db:?}: {shown} not in the nav");
        }
        lan.get(&format!("/dashboard/segments?location={q2}"))
            .await
            .expect(403, "Shop 2 on the dashboard");
        let csrf = lan
            .get("/dashboard/segments")
            .await
            .expect(200, "again")
            .csrf();
        let made = lan
            .post(
                "/dashboard/segments",
                &[
                    ("csrf", csrf.as_str()),
                    ("name", "Mine"),
                    ("rule", "frequency >= 1"),
                ],
            )
            .await;
        made.expect(403, "a manager makes no segment");

        // The owner: the brand, and Shop 2 when asked.
        let owner = signed_in(&server, admin, "owner").await;
        let page = owner
            .get("/dashboard/segments?lang=en")
            .await
            .expect(200, "owner")
            .text;
        assert!(
            page.contains("<td class=\"key\">Total</td><td class=\"visitors\">3</td>"),
            "{db:?}: total"
        );
        assert!(page.contains("Shop 2"), "{db:?}: picker");
        assert!(
            page.contains("custom-segments") || page.contains("segment-form"),
            "{db:?}"
        );
        let page = owner
            .get(&format!("/dashboard/segments?location={q2}&lang=en"))
            .await
            .expect(200, "owner, Shop 2")
            .text;
        assert!(
            page.contains("<td class=\"key\">Total</td><td class=\"visitors\">2</td>"),
            "{db:?}"
        );
        server.stop().await;
    }
}
