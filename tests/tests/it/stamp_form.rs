//! The stamp cards form over real HTTP on both databases: an owner sets up "3 milk teas,
//! one free" by picking the menu category and the reward, a refused form names the
//! field and saves nothing, the next orders earn the stamps the card says, the JSON view
//! saves the same list, a ticked "remove" ends the card, and a viewer changes nothing.

use crate::dashboard::Visitor;
use crate::programme_form::{menu_and_shop_2, order};
use crate::server::{dbs, spawn};
use regulars_tests::phone;
use serde_json::json;
use time::{Duration, OffsetDateTime};

/// The form's fields for the milk-tea card in row 0, `needed` stamps, giving `reward`.
pub(crate) fn milk_tea_card<'a>(reward: &'a str, needed: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("cards[0].code", "milk-tea"),
        ("cards[0].name", "Thẻ trà sữa"),
        ("cards[0].stamps_needed", needed),
        ("cards[0].earn.per", "item"),
        ("cards[0].earn.categories", "milk-tea"),
        ("cards[0].earn.min_total", ""),
        ("cards[0].max_per_order", ""),
        ("cards[0].reward", reward),
        ("cards[0].expiry_days", "90"),
        ("cards[0].active", "on"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_sets_up_a_stamp_card_by_the_form() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = server.tenant("A").await;
        menu_and_shop_2(&server, &a.admin).await;
        let reward = server
            .post(
                "/v1/rewards",
                &a.admin,
                &json!({"name": "Ly trà sữa miễn phí", "cost": 1000,
                    "kind": {"type": "free_item", "sku": "TS-OOLONG"}, "validity_days": 30}),
            )
            .await
            .expect(201, "reward")
            .str("/id");
        let mut admin = Visitor::new(&server);
        admin.sign_in(&a.admin).await.expect(303, "sign in");
        let page = admin
            .get("/dashboard/programme")
            .await
            .expect(200, "programme");
        assert!(page.text.contains("id=\"stamps-form\""), "{db:?}");
        assert!(
            page.text.contains("Ly trà sữa miễn phí"),
            "{db:?}: the reward pick-list"
        );
        let csrf = page.csrf();

        // One stamp is not a card: refused next to its field, nothing saved.
        let mut bad = milk_tea_card(&reward, "1");
        bad.push(("csrf", &csrf));
        let refused = admin
            .post("/dashboard/programme/stamp-cards", &bad)
            .await
            .expect(422, "one stamp");
        assert!(
            refused.text.contains("data-for=\"cards[0].stamps_needed\""),
            "{db:?}: {}",
            refused.text
        );
        let none = server
            .get("/v1/stamp-cards", &a.admin)
            .await
            .expect(200, "cards");
        assert_eq!(none.json["cards"], json!([]), "{db:?}");

        let mut good = milk_tea_card(&reward, "3");
        good.push(("csrf", &csrf));
        let saved = admin
            .post("/dashboard/programme/stamp-cards", &good)
            .await
            .expect(200, "saved");
        assert!(saved.text.contains("id=\"saved\""), "{db:?}");
        let cards = server
            .get("/v1/stamp-cards", &a.admin)
            .await
            .expect(200, "cards");
        assert_eq!(
            cards.json["cards"],
            json!([{"code": "milk-tea", "name": "Thẻ trà sữa", "stamps_needed": 3,
                "earn_per": "item", "skus": [], "categories": ["milk-tea"], "min_total": null,
                "max_per_order": null, "reward_id": reward, "expiry_days": 90, "active": true}]),
            "{db:?}: the API reads what the form saved"
        );

        // Two milk teas earn two stamps of three.
        let customer_phone = phone(8301).as_str().to_owned();
        let at = OffsetDateTime::now_utc() - Duration::hours(2);
        let customer = server
            .post("/v1/orders", &a.admin, &order("SF-1", &customer_phone, at))
            .await
            .expect(200, "order")
            .str("/customer_id");
        let profile = server
            .get(&format!("/v1/customers/{customer}"), &a.admin)
            .await
            .expect(200, "profile");
        assert_eq!(
            profile.json["stamps"][0]["stamps"], 2,
            "{db:?}: {}",
            profile.text
        );

        // The JSON view saves the same list; "remove" ends the card.
        let page = admin.get("/dashboard/programme").await.expect(200, "again");
        let document = serde_json::to_string(&json!([{"code": "milk-tea", "name": "Thẻ trà sữa",
            "stamps_needed": 3, "earn": {"per": "item", "categories": ["milk-tea"]},
            "reward": reward, "expiry_days": 90}]))
        .unwrap_or_default();
        admin
            .post(
                "/dashboard/programme/stamp-cards",
                &[("csrf", &page.csrf()), ("document", &document)],
            )
            .await
            .expect(200, "json saved");
        let again = server
            .get("/v1/stamp-cards", &a.admin)
            .await
            .expect(200, "cards");
        assert_eq!(again.json["cards"], cards.json["cards"], "{db:?}");
        let mut remove = milk_tea_card(&reward, "3");
        remove.push(("cards[0].remove", "on"));
        remove.push(("csrf", &csrf));
        admin
            .post("/dashboard/programme/stamp-cards", &remove)
            .await
            .expect(200, "removed");
        let gone = server
            .get("/v1/stamp-cards", &a.admin)
            .await
            .expect(200, "cards");
        assert_eq!(gone.json["cards"], json!([]), "{db:?}");

        // A viewer sees the section but cannot save.
        let viewer_key = server
            .post("/v1/keys", &a.admin, &json!({"role": "viewer"}))
            .await
            .expect(201, "viewer key")
            .str("/token");
        let mut viewer = Visitor::new(&server);
        viewer.sign_in(&viewer_key).await.expect(303, "viewer");
        let seen = viewer
            .get("/dashboard/programme")
            .await
            .expect(200, "viewer");
        assert!(!seen.text.contains("id=\"stamps-form\""), "{db:?}");
        let mut sneaky = milk_tea_card(&reward, "3");
        let viewer_csrf = seen.csrf();
        sneaky.push(("csrf", &viewer_csrf));
        viewer
            .post("/dashboard/programme/stamp-cards", &sneaky)
            .await
            .expect(403, "a viewer saves a card");
        server.stop().await;
    }
}
