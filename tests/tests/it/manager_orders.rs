//! A customer who buys at two shops, opened by the manager of one: the page and the API
//! it reads show the orders, visits and spend of that shop only, and say so; the points
//! stay the customer's, whole. An owner sees both shops' orders, and may ask for one.

use crate::manager_kit::{TwoShops, manager_key, sell, signed_in};
use crate::server::{dbs, spawn};
use regulars_tests::phone;
use serde_json::{Value, json};

/// The totals of a page of `GET /v1/customers/{id}/orders`, sorted.
fn totals(page: &Value) -> Vec<String> {
    let mut totals: Vec<String> = page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|o| o["total"]["amount"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    totals.sort();
    totals
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_sees_only_its_shops_orders_of_a_customer_of_two_shops() {
    for db in dbs() {
        let server = spawn(db).await;
        let shops = TwoShops::new(&server, "Two shops").await;
        let (admin, q1, q2) = (shops.admin(), shops.q1.as_str(), shops.q2.as_str());
        sell(&server, admin, "C-1", "q1", 3, 31_000).await;
        sell(&server, admin, "C-2", "q2", 47_000, 47_000).await;
        sell(&server, admin, "C-3", "q2", 3, 59_000).await;
        let chi = server
            .get(
                &format!(
                    "/v1/customers/lookup?phone={}",
                    phone(3).as_str().replace('+', "%2B")
                ),
                admin,
            )
            .await
            .expect(200, "Chi")
            .str("/customer/id");
        let owner_view = server
            .get(&format!("/v1/customers/{chi}"), admin)
            .await
            .expect(200, "owner's profile")
            .json;
        let manager = manager_key(&server, admin, &[q1]).await;

        // The API the page reads: Shop 1's order only, and Shop 1's visit and spend.
        let orders = |key: &str, query: &str| {
            let url = format!("/v1/customers/{chi}/orders{query}");
            let server = &server;
            let key = key.to_owned();
            async move { server.get(&url, &key).await }
        };
        let mine = orders(&manager, "")
            .await
            .expect(200, "manager's orders")
            .json;
        assert_eq!(totals(&mine), ["31000"], "{db:?}: {mine}");
        let all = orders(admin, "").await.expect(200, "owner's orders").json;
        assert_eq!(totals(&all), ["31000", "59000"], "{db:?}: {all}");
        let shop2 = orders(admin, &format!("?location={q2}"))
            .await
            .expect(200, "Shop 2")
            .json;
        assert_eq!(totals(&shop2), ["59000"], "{db:?}: {shop2}");
        let shop1 = orders(&manager, &format!("?location={q1}"))
            .await
            .expect(200, "Shop 1")
            .json;
        assert_eq!(totals(&shop1), ["31000"], "{db:?}");
        let field = orders(&manager, &format!("?location={q2}"))
            .await
            .expect_error(403, "forbidden", &format!("{db:?}: Shop 2 forged"));
        assert_eq!(field.as_deref(), Some("location"), "{db:?}");
        let profile = server
            .get(&format!("/v1/customers/{chi}"), &manager)
            .await
            .expect(200, "manager's profile")
            .json;
        assert_eq!(profile["visits"], json!(1), "{db:?}: {profile}");
        assert_eq!(
            profile["spend"]["amount"],
            json!("31000"),
            "{db:?}: {profile}"
        );
        assert_eq!(owner_view["visits"], json!(2), "{db:?}: {owner_view}");
        // Points are the customer's, earned at either shop.
        assert_eq!(profile["balance"], owner_view["balance"], "{db:?}");
        // The manager of Shop 2 alone: the customer of Shop 2 only (47000) is theirs,
        // not Shop 1's manager's.
        let someone = server
            .get(
                &format!(
                    "/v1/customers/lookup?phone={}",
                    phone(47_000).as_str().replace('+', "%2B")
                ),
                admin,
            )
            .await
            .expect(200, "Shop 2's customer")
            .str("/customer/id");
        server
            .get(&format!("/v1/customers/{someone}/orders"), &manager)
            .await
            .expect_error(404, "not_found", &format!("{db:?}: not a Shop 1 customer"));

        // The page: no Shop 2 order, Shop 1's figures, and a note saying so.
        let lan = signed_in(&server, &manager, "manager").await;
        let page = lan
            .get(&format!("/dashboard/customers/{chi}?lang=en"))
            .await
            .expect(200, "Chi's page")
            .text;
        assert!(page.contains("31.000"), "{db:?}: Shop 1's order");
        assert!(!page.contains("59.000"), "{db:?}: Shop 2's order shown");
        assert!(!page.contains("90.000"), "{db:?}: both shops' spend shown");
        assert!(
            page.contains("id=\"scope-note\""),
            "{db:?}: the page says so"
        );
        assert!(
            page.contains("<div class=\"value\" id=\"visits\">1</div>"),
            "{db:?}: visits"
        );
        let owner = signed_in(&server, admin, "owner").await;
        let page = owner
            .get(&format!("/dashboard/customers/{chi}?lang=en"))
            .await
            .expect(200, "owner's page")
            .text;
        assert!(page.contains("31.000") && page.contains("59.000"), "{db:?}");
        assert!(!page.contains("id=\"scope-note\""), "{db:?}");
        server.stop().await;
    }
}
