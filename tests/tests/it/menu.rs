//! The brand's menu over real HTTP on both databases: admins change it item by item
//! or whole (a bad item writes nothing), every role reads it, no brand sees or changes
//! another's; and the till records an order by menu items: priced from the menu (a
//! forged price changes nothing), earning the product and category bonuses exactly as
//! the same order through the POS API, once for a double submit, never for an
//! inactive item.

use crate::server::{Body, TestServer, dbs, spawn};
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
