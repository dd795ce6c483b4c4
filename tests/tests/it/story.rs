//! A brand's first weeks over HTTP: the admin sets the programme up, the till posts
//! signed webhooks, customers earn exactly what the rules say, buy a reward, use its
//! voucher once, and a refund takes back exactly what its order earned.

use crate::pos::{domain_order, order_data, paid, refunded, sign, vietnam};
use crate::server::{Body, TestServer, dbs, spawn};
use regulars_loyalty::rules::{EarningContext, EarningRules};
use regulars_tests::{RULES, phone};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use time::{Duration, OffsetDateTime, Time};

/// Silver needs this many points earned in the window.
const SILVER: i64 = 150;
const REWARD_COST: i64 = 40;

struct Till<'a> {
    server: &'a TestServer,
    webhook: String,
    secret: String,
}

impl Till<'_> {
    async fn deliver(&self, body: &[u8]) -> Value {
        let now = OffsetDateTime::now_utc();
        let header = sign(&self.secret, body, now);
        self.server
            .send(
                Method::POST,
                &self.webhook,
                None,
                Body::Raw(Some("application/json"), body.to_vec()),
                &[(header.0, header.1)],
            )
            .await
            .expect(200, "webhook")
            .json
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brand_over_http_earns_spends_redeems_and_refunds_by_the_rules() {
    for db in dbs() {
        story(spawn(db).await).await;
    }
}

async fn story(server: TestServer) {
    let db = server.db;
    let tenant = server.tenant("Trà Sữa Test").await;
    let admin = tenant.admin.as_str();

    // The admin sets the programme up.
    let rules_doc: Value = serde_json::from_str(RULES).unwrap_or_else(|e| panic!("{e}"));
    let program = server
        .put("/v1/program/earning-rules", admin, &rules_doc)
        .await
        .expect(200, "earning rules");
    assert_eq!(program.json["earning_rules"]["currency"], "VND");
    let tiers = json!({
        "metric": {"kind": "points"}, "window_days": 365, "review_period": "year",
        "tiers": [
            {"code": "member", "name": "Member", "threshold": 0, "benefits": {"earn_multiplier": "1"}},
            {"code": "silver", "name": "Silver", "threshold": SILVER, "benefits": {"earn_multiplier": "1", "perks": ["Free upsize"]}}
        ]
    });
    server
        .put("/v1/program/tiers", admin, &tiers)
        .await
        .expect(200, "tiers");
    let reward = server
        .post(
            "/v1/rewards",
            admin,
            &json!({"name": "Free cheese foam", "cost": REWARD_COST,
                    "kind": {"type": "free_modifier", "sku": "TOP-CHEESE"}, "validity_days": 30}),
        )
        .await
        .expect(201, "reward");
    let reward_id = reward.str("/id");
    server
        .post(
            "/v1/locations",
            admin,
            &json!({"code": "q1", "name": "Quận 1"}),
        )
        .await
        .expect(201, "location");
    let pos_key = server
        .post(
            "/v1/keys",
            admin,
            &json!({"role": "pos", "label": "till 1"}),
        )
        .await
        .expect(201, "pos key")
        .str("/token");
    let integration = server
        .post(
            "/v1/integrations",
            admin,
            &json!({"kind": "generic", "label": "till"}),
        )
        .await
        .expect(201, "integration");
    let till = Till {
        server: &server,
        webhook: integration.str("/integration/webhook_path"),
        secret: integration.str("/secret"),
    };
    assert_eq!(
        till.webhook,
        format!("/webhooks/{}", integration.str("/integration/id"))
    );

    // Orders on distinct local days (so the day cap starts afresh each time), at hours
    // inside and outside happy hour. Customer 3 registers first, with a birthday on
    // the day of their second order.
    let start = (OffsetDateTime::now_utc().to_offset(vietnam()) - Duration::days(30))
        .replace_time(Time::MIDNIGHT);
    let at = |i: i64| start + Duration::days(i) + Duration::hours([9, 15, 19][(i % 3) as usize]);
    let birthday = at(5).date();
    let third = server
        .post(
            "/v1/customers",
            &pos_key,
            &json!({"phone": phone(3).as_str(), "name": "Lan",
                    "birthday": format!("1996-{:02}-{:02}", u8::from(birthday.month()), birthday.day())}),
        )
        .await
        .expect(201, "register");
    let plan: [(Option<u64>, usize); 10] = [
        (Some(1), 5),
        (Some(2), 2),
        (Some(1), 3),
        (None, 1),
        (Some(3), 2),
        (Some(3), 4),
        (Some(1), 4),
        (Some(2), 1),
        (Some(1), 2),
        (Some(2), 3),
    ];
    let rules = EarningRules::from_json(RULES).unwrap_or_else(|e| panic!("{e}"));
    let mut visits: BTreeMap<u64, u32> = BTreeMap::new();
    let mut balance: BTreeMap<u64, i64> = BTreeMap::new();
    let mut customer_ids: BTreeMap<u64, String> = BTreeMap::new();
    let mut earned_by_order: BTreeMap<String, i64> = BTreeMap::new();
    let mut order_ids = BTreeSet::new();
    for (i, (who, lines)) in plan.iter().enumerate() {
        let external = format!("S-{i}");
        let phone_text = who.map(|n| phone(n).as_str().to_owned());
        let data = order_data(&external, phone_text.as_deref(), at(i as i64), *lines);
        let body = paid(&format!("evt-{i}"), data.clone());
        let receipt = if i == plan.len() - 1 {
            // The last order comes through the API with the till's key instead.
            server
                .post("/v1/orders", &pos_key, &data)
                .await
                .expect(200, "POST /v1/orders")
                .json
        } else {
            let ack = till.deliver(&body).await;
            assert_eq!(ack["events"][0]["outcome"], "counted", "{db:?}: {ack}");
            assert_eq!(ack["events"][0]["event_id"], format!("evt-{i}"));
            ack["events"][0]["order"].clone()
        };
        order_ids.insert(receipt["order_id"].as_str().unwrap_or_default().to_owned());
        let earned = receipt["points_earned"].as_i64().unwrap_or(-1);
        earned_by_order.insert(external.clone(), earned);
        let Some(n) = who else {
            assert!(receipt["customer_id"].is_null(), "{db:?}: {receipt}");
            assert!(receipt["balance"].is_null(), "{db:?}: {receipt}");
            continue;
        };
        let visit = visits.entry(*n).or_insert(0);
        *visit += 1;
        let context = EarningContext::new(vietnam(), *visit).with_birthday(*n == 3 && i == 5);
        let expected = rules
            .evaluate(&domain_order(tenant.brand, &body), &context)
            .unwrap_or_else(|e| panic!("{e}"))
            .points
            .value();
        assert_eq!(
            earned, expected,
            "{db:?}: order {i} earns what the rules say"
        );
        assert!(expected > 0);
        let running = balance.entry(*n).or_insert(0);
        *running += expected;
        assert_eq!(
            receipt["balance"], *running,
            "{db:?}: balance after order {i}"
        );
        let id = receipt["customer_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(
            customer_ids.entry(*n).or_insert_with(|| id.clone()),
            &id,
            "{db:?}: one customer per phone"
        );
        let tier = if *running >= SILVER {
            "silver"
        } else {
            "member"
        };
        assert_eq!(
            receipt["tier"], tier,
            "{db:?}: tier after order {i}: {receipt}"
        );
    }
    assert_eq!(
        customer_ids[&3],
        third.str("/id"),
        "registered first, then earned"
    );

    // The till looks customer 1 up by phone as typed.
    let national = format!("0{}", &phone(1).as_str()[3..]);
    let looked_up = server
        .get(&format!("/v1/customers/lookup?phone={national}"), &pos_key)
        .await
        .expect(200, "lookup");
    assert_eq!(looked_up.str("/customer/id"), customer_ids[&1]);
    assert_eq!(looked_up.int("/balance"), balance[&1]);

    // Customer 1 buys the reward: a voucher, the price taken from the balance.
    let c1 = customer_ids[&1].clone();
    let voucher = server
        .post(
            &format!("/v1/customers/{c1}/redemptions"),
            &pos_key,
            &json!({"reward_id": reward_id}),
        )
        .await
        .expect(201, "redemption");
    *balance.entry(1).or_insert(0) -= REWARD_COST;
    assert_eq!(voucher.str("/status"), "issued");
    let code = voucher.str("/code");
    let check = server
        .get(&format!("/v1/vouchers/{code}"), &pos_key)
        .await
        .expect(200, "validate");
    assert_eq!(check.json["redeemable"], true, "{}", check.text);
    let redeemed = server
        .post(
            &format!("/v1/vouchers/{code}/redeem"),
            &pos_key,
            &json!({"order_external_id": "S-99"}),
        )
        .await
        .expect(200, "redeem voucher");
    assert_eq!(redeemed.str("/status"), "redeemed");
    server
        .post(&format!("/v1/vouchers/{code}/redeem"), &pos_key, &json!({}))
        .await
        .expect_error(409, "refused", "second redeem");
    let check = server
        .get(&format!("/v1/vouchers/{code}"), &pos_key)
        .await
        .expect(200, "validate again");
    assert_eq!(check.json["redeemable"], false, "{}", check.text);

    // Customer 2's order S-7 is refunded at the till: exactly its points come back out.
    let ack = till
        .deliver(&refunded(
            "evt-r7",
            "R-7",
            "S-7",
            OffsetDateTime::now_utc() - Duration::minutes(1),
        ))
        .await;
    let refund = &ack["events"][0];
    assert_eq!(refund["outcome"], "counted", "{db:?}: {ack}");
    let reversed = refund["refund"]["points_reversed"].as_i64().unwrap_or(-1);
    let unrecovered = refund["refund"]["points_unrecovered"]
        .as_i64()
        .unwrap_or(-1);
    assert_eq!(
        reversed + unrecovered,
        earned_by_order["S-7"],
        "{db:?}: {ack}"
    );
    assert_eq!(unrecovered, 0, "customer 2 spent nothing");
    assert_eq!(refund["refund"]["fully_refunded"], true);
    *balance.entry(2).or_insert(0) -= reversed;
    assert_eq!(refund["refund"]["balance"], balance[&2]);

    // Every balance read back equals what was earned and spent, and its ledger's sum.
    for (n, id) in &customer_ids {
        let profile = server
            .get(&format!("/v1/customers/{id}"), admin)
            .await
            .expect(200, "profile");
        assert_eq!(profile.int("/balance"), balance[n], "{db:?}: customer {n}");
        let entries = server
            .walk(&format!("/v1/customers/{id}/ledger"), admin, 2, "seq")
            .await;
        let seqs: Vec<i64> = entries.iter().filter_map(|e| e["seq"].as_i64()).collect();
        let expected: Vec<i64> = (0..entries.len() as i64).collect();
        assert_eq!(
            seqs, expected,
            "{db:?}: the ledger in order, each entry once"
        );
        let sum: i64 = entries.iter().filter_map(|e| e["amount"].as_i64()).sum();
        assert_eq!(sum, balance[n], "{db:?}: customer {n}'s ledger adds up");
        let theirs = server
            .walk(&format!("/v1/customers/{id}/orders"), admin, 1, "id")
            .await;
        assert_eq!(
            theirs.len(),
            plan.iter().filter(|(w, _)| *w == Some(*n)).count(),
            "{db:?}: customer {n}'s orders"
        );
        assert!(theirs.iter().all(|o| o["customer_id"] == id.as_str()));
    }

    // All orders, three to a page, each exactly once, as counted.
    let orders = server.walk("/v1/orders", admin, 3, "id").await;
    let listed: BTreeSet<String> = orders
        .iter()
        .filter_map(|o| o["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        listed, order_ids,
        "{db:?}: /v1/orders lists every order once"
    );
    for order in &orders {
        let external = order["external_id"].as_str().unwrap_or_default();
        assert_eq!(
            order["points_earned"], earned_by_order[external],
            "{db:?}: {order}"
        );
        let refunded = order["refunded"]["amount"].as_str().unwrap_or_default();
        if external == "S-7" {
            assert_eq!(refunded, order["total"]["amount"].as_str().unwrap_or("?"));
        } else {
            assert_eq!(refunded, "0", "{db:?}: {order}");
        }
    }
    server.assert_ledger_clean().await;
    server.stop().await;
}
