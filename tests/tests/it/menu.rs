//! The brand's menu over real HTTP on both databases: admins change it item by item
//! or whole (a bad item writes nothing), every role reads it, no brand sees or changes
//! another's; and the till records an order by menu items: priced from the menu (a
//! forged price changes nothing), earning the product and category bonuses exactly as
//! the same order through the POS API, once for a double submit, never for an
//! inactive item.

use crate::server::{Body, TestServer, dbs, spawn};
use crate::till::{Till, shop};
use regulars_tests::phone;
use reqwest::Method;
use serde_json::{Value, json};

fn item(sku: &str, category: &str, price: i64) -> Value {
    json!({"sku": sku, "name": format!("Món {sku}"), "category": category,
           "price": {"amount": price.to_string(), "currency": "VND"}})
}

async fn delete(server: &TestServer, path: &str, key: &str) -> crate::server::Reply {
    server
        .call(Method::DELETE, path, Some(key), Body::None)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_keep_the_menu_every_role_reads_it_and_brands_stay_apart() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = server.tenant("A").await;
        let b = server.tenant("B").await;
        let menu = json!({"items": [item("TS-OOLONG", "milk-tea", 45_000),
                                    item("TS-PASSION", "fruit-tea", 40_000)]});
        let put = server
            .put("/v1/menu", &a.admin, &menu)
            .await
            .expect(200, "menu");
        assert_eq!(put.json["items"].as_array().map(Vec::len), Some(2));

        // A bad item anywhere in a whole menu writes nothing and is named.
        let bad = json!({"items": [item("X", "tea", 1),
                                   {"sku": "Y", "name": "Y", "price": {"amount": "-5", "currency": "VND"}}]});
        let reply = server.put("/v1/menu", &a.admin, &bad).await;
        reply.expect_error(422, "invalid", "negative price");
        assert_eq!(
            reply.json["error"]["field"], "items[1].price",
            "{}",
            reply.text
        );
        let twice = json!({"items": [item("X", "tea", 1), item("X", "tea", 2)]});
        let reply = server.put("/v1/menu", &a.admin, &twice).await;
        assert_eq!(
            reply.json["error"]["field"], "items[1].sku",
            "{}",
            reply.text
        );
        let usd = json!({"items": [{"sku": "Z", "name": "Z", "price": {"amount": "1.50", "currency": "USD"}}]});
        let reply = server.put("/v1/menu", &a.admin, &usd).await;
        assert_eq!(
            reply.json["error"]["field"], "items[0].price",
            "{}",
            reply.text
        );
        let read = server.get("/v1/menu", &a.admin).await.expect(200, "read");
        assert_eq!(read.json, put.json, "{:?}: unchanged", server.db);

        // One item added, changed, deactivated, removed.
        let cake = json!({"name": "Bánh flan", "category": "cake",
                          "price": {"amount": "15000", "currency": "VND"}, "sort_order": 1});
        server
            .put("/v1/menu/CAKE", &a.admin, &cake)
            .await
            .expect(201, "added");
        let mut off = cake.clone();
        off["active"] = json!(false);
        let changed = server
            .put("/v1/menu/CAKE", &a.admin, &off)
            .await
            .expect(200, "changed");
        assert_eq!(changed.json["active"], false);
        let other_sku =
            json!({"sku": "PIE", "name": "Pie", "price": {"amount": "1", "currency": "VND"}});
        server
            .put("/v1/menu/CAKE", &a.admin, &other_sku)
            .await
            .expect_error(422, "invalid", "sku differs from the path");
        let read = server.get("/v1/menu", &a.admin).await.expect(200, "read");
        assert_eq!(
            read.json["items"][0]["sku"], "CAKE",
            "sort_order first: {}",
            read.text
        );
        delete(&server, "/v1/menu/CAKE", &a.admin)
            .await
            .expect(204, "removed");
        delete(&server, "/v1/menu/CAKE", &a.admin)
            .await
            .expect_error(404, "not_found", "removed twice");

        // Roles: pos and viewer read, only admins write.
        for role in ["pos", "viewer"] {
            let key = server
                .post("/v1/keys", &a.admin, &json!({"role": role}))
                .await
                .expect(201, "key")
                .str("/token");
            let read = server.get("/v1/menu", &key).await.expect(200, role);
            assert_eq!(read.json["items"].as_array().map(Vec::len), Some(2));
            server
                .put("/v1/menu", &key, &menu)
                .await
                .expect_error(403, "forbidden", role);
            server
                .put("/v1/menu/CAKE", &key, &cake)
                .await
                .expect_error(403, "forbidden", role);
            delete(&server, "/v1/menu/TS-OOLONG", &key)
                .await
                .expect_error(403, "forbidden", role);
        }

        // Brand B sees an empty menu and cannot touch A's items.
        let read = server
            .get("/v1/menu", &b.admin)
            .await
            .expect(200, "B reads");
        assert_eq!(read.json["items"], json!([]), "{:?}", server.db);
        delete(&server, "/v1/menu/TS-OOLONG", &b.admin)
            .await
            .expect_error(404, "not_found", "B deletes A's item");
        server
            .put("/v1/menu", &b.admin, &json!({"items": []}))
            .await
            .expect(200, "B empties its own menu");
        let read = server
            .get("/v1/menu", &a.admin)
            .await
            .expect(200, "A reads");
        assert_eq!(
            read.json["items"].as_array().map(Vec::len),
            Some(2),
            "{:?}",
            server.db
        );
        server.stop().await;
    }
}

/// 1 point per 1,000 VND, 2 more per signature oolong, 1 more per fruit tea.
const BONUS_RULES: &str = r#"{"currency": "VND",
    "base": {"per_amount": "1000", "points": 1, "rounding": "floor"},
    "product_bonuses": [{"sku": "TS-OOLONG", "points_per_unit": 2},
                        {"category": "fruit-tea", "points_per_unit": 1}]}"#;

async fn balance(server: &TestServer, admin: &str, customer: &str) -> i64 {
    server
        .get(&format!("/v1/customers/{customer}"), admin)
        .await
        .expect(200, "profile")
        .int("/balance")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_till_order_by_items_earns_what_the_pos_api_would_once() {
    for db in dbs() {
        let server = spawn(db).await;
        let shop = shop(&server, 7301).await;
        let rules: Value = serde_json::from_str(BONUS_RULES).unwrap_or_else(|e| panic!("{e}"));
        server
            .put("/v1/program/earning-rules", &shop.admin, &rules)
            .await
            .expect(200, "rules");
        let mut cake = item("CAKE", "cake", 15_000);
        cake["active"] = json!(false);
        let menu = json!({"items": [item("TS-OOLONG", "milk-tea", 45_000),
                                    item("TS-PASSION", "fruit-tea", 40_000), cake]});
        server
            .put("/v1/menu", &shop.admin, &menu)
            .await
            .expect(200, "menu");

        let mut till = Till::new(&server);
        till.enrol(&shop.device_q1).await;
        till.sign_in(&shop.lan_q1, "2468")
            .await
            .expect(303, "sign in");
        let page = till
            .get(&format!("/till/customers/{}", shop.customer))
            .await
            .expect(200, "account");
        assert!(page.text.contains("till-menu"), "{}", page.text);
        assert!(page.text.contains("fruit-tea") && page.text.contains("Món TS-PASSION"));
        assert!(
            !page.text.contains("Món CAKE"),
            "an inactive item is not offered"
        );
        let csrf = page.field("csrf");
        let before = balance(&server, &shop.admin, &shop.customer).await;

        // An inactive item is refused, even by a forged form.
        let key = page.field("key");
        let refused = till
            .post(
                "/till/orders",
                &[
                    ("csrf", &csrf),
                    ("customer", &shop.customer),
                    ("key", &key),
                    ("item:CAKE", "1"),
                    ("amount", ""),
                ],
            )
            .await
            .expect(200, "inactive item");
        assert!(refused.text.contains("not on sale"), "{}", refused.text);
        assert_eq!(balance(&server, &shop.admin, &shop.customer).await, before);

        // Two oolongs and a passion fruit tea, with a forged price and amount: the
        // menu's prices make 130,000 VND, so 130 + 2 × 2 + 1 points.
        let key = refused.field("key");
        let form = [
            ("csrf", csrf.as_str()),
            ("customer", shop.customer.as_str()),
            ("key", key.as_str()),
            ("item:TS-OOLONG", "2"),
            ("item:TS-PASSION", "1"),
            ("item:CAKE", "0"),
            ("price:TS-OOLONG", "1"),
            ("unit_price", "1"),
            ("amount", "1000"),
        ];
        let first = till.post("/till/orders", &form).await.expect(200, "order");
        assert!(first.text.contains("+135"), "{}", first.text);
        assert!(first.text.contains("130000 VND"), "{}", first.text);
        assert!(first.text.contains("2 × Món TS-OOLONG"), "{}", first.text);
        assert!(first.text.contains("receipt-explanation"), "{}", first.text);
        let second = till.post("/till/orders", &form).await.expect(200, "again");
        assert!(second.text.contains("bấm hai lần"), "{}", second.text);
        let after = balance(&server, &shop.admin, &shop.customer).await;
        assert_eq!(after - before, 135, "{:?}: credited once", server.db);

        // The same order through the POS API earns the same points.
        let other = phone(7302).as_str().to_owned();
        let order = json!({
            "order_id": "POS-1", "location": "q1", "customer_phone": other,
            "placed_at": time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            "currency": "VND", "total": "130000",
            "lines": [
                {"sku": "TS-OOLONG", "name": "Món TS-OOLONG", "category": "milk-tea",
                 "quantity": 2, "unit_price": "45000"},
                {"sku": "TS-PASSION", "name": "Món TS-PASSION", "category": "fruit-tea",
                 "quantity": 1, "unit_price": "40000"}],
        });
        let pos = server
            .post("/v1/orders", &shop.admin, &order)
            .await
            .expect(200, "pos");
        assert_eq!(pos.int("/points_earned"), 135, "{}", pos.text);

        // An amount-only order still works where a menu exists.
        let page = till
            .get(&format!("/till/customers/{}", shop.customer))
            .await
            .expect(200, "account");
        let key = page.field("key");
        let by_amount = till
            .post(
                "/till/orders",
                &[
                    ("csrf", &csrf),
                    ("customer", &shop.customer),
                    ("key", &key),
                    ("item:TS-OOLONG", "0"),
                    ("amount", "20.000"),
                ],
            )
            .await
            .expect(200, "by amount");
        assert!(by_amount.text.contains("+20"), "{}", by_amount.text);
        server.stop().await;
    }
}

/// Signs a dashboard visitor in with `key`.
async fn dashboard_visitor<'a>(server: &'a TestServer, key: &str) -> Till<'a> {
    let mut visitor = Till::new(server);
    let login = visitor
        .get("/dashboard/login")
        .await
        .expect(200, "login form");
    let csrf = login.field("csrf");
    visitor
        .post("/dashboard/login", &[("csrf", &csrf), ("key", key)])
        .await
        .expect(303, "signs in");
    visitor
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_keeps_the_menu_on_the_dashboard() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = server.tenant("A").await;
        let mut admin = dashboard_visitor(&server, &a.admin).await;
        let page = admin.get("/dashboard/menu").await.expect(200, "menu page");
        let csrf = page.field("csrf");
        let add = |price: &'static str| {
            [
                ("csrf", csrf.clone()),
                ("sku", "TS-OOLONG".to_owned()),
                ("name", "Trà sữa ô long".to_owned()),
                ("category", "milk-tea".to_owned()),
                ("price", price.to_owned()),
                ("active", "yes".to_owned()),
            ]
        };
        let form = add("abc");
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = admin
            .post("/dashboard/menu", &fields)
            .await
            .expect(422, "bad price");
        assert!(refused.text.contains("price"), "{}", refused.text);
        let form = add("45.000");
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        admin
            .post("/dashboard/menu", &fields)
            .await
            .expect(303, "added");
        // Taken off sale: the box left unticked.
        let off: Vec<(&str, &str)> = fields
            .iter()
            .copied()
            .filter(|(k, _)| *k != "active")
            .collect();
        admin
            .post("/dashboard/menu", &off)
            .await
            .expect(303, "off sale");
        let read = server.get("/v1/menu", &a.admin).await.expect(200, "read");
        assert_eq!(
            read.json["items"][0]["price"]["amount"], "45000",
            "{}",
            read.text
        );
        assert_eq!(read.json["items"][0]["active"], false, "{}", read.text);
        let page = admin.get("/dashboard/menu").await.expect(200, "menu page");
        assert!(page.text.contains("Trà sữa ô long"), "{}", page.text);
        // Without the CSRF token nothing changes; a viewer may not open the page.
        let forged: Vec<(&str, &str)> = fields
            .iter()
            .copied()
            .filter(|(k, _)| *k != "csrf")
            .collect();
        admin
            .post("/dashboard/menu", &forged)
            .await
            .expect(403, "no csrf");
        let viewer = server
            .post("/v1/keys", &a.admin, &json!({"role": "viewer"}))
            .await
            .expect(201, "viewer key")
            .str("/token");
        let mut viewer = dashboard_visitor(&server, &viewer).await;
        viewer.get("/dashboard/menu").await.expect(403, "viewer");
        server.stop().await;
    }
}
