//! Campaign results and referrals by shop, on both databases. A campaign's members buy
//! at Shop 1 and Shop 2: the report for Shop 1 counts only Shop 1's orders and the
//! vouchers redeemed on them, Shop 1 and Shop 2 add up to the whole, and members and
//! messages stay the campaign's. The manager of Shop 1 reads the campaigns and Shop 1's
//! report on the API and the dashboard, is refused Shop 2 and every campaign write, and
//! is shown no write control. Referrals by the friend's first shop add up too.

use crate::manager_kit::{
    TwoShops, assert_picker_shown_brand_wide_hidden, location, manager_key, signed_in,
};
use crate::pos::rfc3339;
use crate::server::{Body, TestServer, dbs, spawn};
use regulars_tests::phone;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use time::OffsetDateTime;

const CUSTOMERS: u64 = 24;
pub(crate) const PHONES: u64 = 7_400;
pub(crate) const OFFER_COST: i64 = 18_000;

/// An order of `total` at `code` by customer `n`, placed now (inside the windows).
pub(crate) async fn buy(
    server: &TestServer,
    admin: &str,
    id: &str,
    code: &str,
    n: u64,
    total: i64,
) {
    let body = json!({"order_id": id, "placed_at": rfc3339(OffsetDateTime::now_utc()),
        "currency": "VND", "location": code, "customer_phone": phone(n).as_str(),
        "lines": [{"sku": "CF", "name": "Cà phê", "quantity": 1, "unit_price": total.to_string()}],
        "total": total.to_string()});
    server
        .post("/v1/orders", admin, &body)
        .await
        .expect(200, id);
}

pub(crate) fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("not an integer: {v}"))
}

/// A campaign, its members (customer ids by number) and who of them is treated and held out.
pub(crate) struct Run {
    pub(crate) campaign: String,
    pub(crate) ids: Vec<String>,
    pub(crate) treated: Vec<u64>,
    pub(crate) held: Vec<u64>,
}

/// The brand's customers with SMS consent, by number; then a launched, run broadcast
/// campaign with a voucher offer.
pub(crate) async fn run_campaign(server: &TestServer, admin: &str) -> Run {
    let reward = server
        .post(
            "/v1/rewards",
            admin,
            &json!({"name": "Trà sữa miễn phí", "cost": 300,
                    "kind": {"type": "free_item", "sku": "TS"}, "validity_days": 14}),
        )
        .await
        .expect(201, "reward")
        .str("/id");
    let mut ids = Vec::new();
    for n in 0..CUSTOMERS {
        let body = json!({"phone": phone(PHONES + n).as_str(), "name": format!("Khách {n}"),
            "consent": {"sms": true, "profiling": true}});
        let id = server
            .post("/v1/customers", admin, &body)
            .await
            .expect(201, "customer")
            .str("/id");
        ids.push(id);
    }
    let document = json!({
        "name": "Back to both shops", "trigger": {"type": "broadcast"},
        "offer": {"type": "fixed", "reward": {"reward_id": reward,
            "cost": {"amount": OFFER_COST.to_string(), "currency": "VND"}}},
        "template": "{{name}} ơi, quay lại nhé: {{reward}}",
        "channels": ["sms"], "holdout": 0.5, "policy": {}
    });
    let campaign = server
        .post("/v1/campaigns", admin, &document)
        .await
        .expect(201, "campaign")
        .str("/id");
    server
        .post(
            &format!("/v1/campaigns/{campaign}/launch"),
            admin,
            &json!({}),
        )
        .await
        .expect(200, "launch");
    let runs = server
        .post("/v1/campaigns/runs", admin, &json!({}))
        .await
        .expect(201, "run");
    let (messages, held) = (
        int(&runs.json[0]["messages"]),
        int(&runs.json[0]["held_out"]),
    );
    assert_eq!(messages + held, CUSTOMERS as i64, "{}", runs.text);
    let sent = server
        .get(
            &format!("/v1/campaigns/{campaign}/messages?limit=100"),
            admin,
        )
        .await
        .expect(200, "messages");
    let messaged: BTreeSet<&str> = sent.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", sent.text))
        .iter()
        .filter_map(|m| m["customer_id"].as_str())
        .collect();
    let (treated, held): (Vec<u64>, Vec<u64>) =
        (0..CUSTOMERS).partition(|n| messaged.contains(ids[*n as usize].as_str()));
    assert!(
        treated.len() >= 4 && held.len() >= 2,
        "{treated:?} {held:?}"
    );
    Run {
        campaign,
        ids,
        treated,
        held,
    }
}

/// Redeems the customer's campaign voucher on the order `order`.
async fn redeem(server: &TestServer, admin: &str, customer: &str, order: &str) {
    let code = server
        .get(&format!("/v1/customers/{customer}"), admin)
        .await
        .expect(200, "profile")
        .str("/vouchers/0/code");
    server
        .post(
            &format!("/v1/vouchers/{code}/redeem"),
            admin,
            &json!({"order_external_id": order}),
        )
        .await
        .expect(200, "redeem");
}

#[track_caller]
pub(crate) fn assert_figures(report: &Value, treated: i64, held: i64, redeemed: i64, what: &str) {
    assert_eq!(report["treated_revenue_minor"], treated, "{what}: {report}");
    assert_eq!(report["holdout_revenue_minor"], held, "{what}: {report}");
    assert_eq!(report["vouchers_redeemed"], redeemed, "{what}: {report}");
    assert_eq!(
        report["offer_cost_minor"],
        redeemed * OFFER_COST,
        "{what}: {report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_by_shop_adds_up_and_a_manager_reads_its_shop_only() {
    for db in dbs() {
        let server = spawn(db).await;
        let TwoShops { tenant: a, q1, q2 } = TwoShops::new(&server, "Campaigns by shop").await;
        let admin = a.admin.as_str();
        server.unrestricted(admin).await;
        let run = run_campaign(&server, admin).await;
        let (campaign, t, h) = (&run.campaign, &run.treated, &run.held);
        let n = |k: u64| PHONES + k;
        let id = |k: u64| run.ids[k as usize].as_str();

        // Treated: one redeems at Shop 1, one at Shop 2, one buys at both, one at Shop 2.
        buy(&server, admin, "T-1", "q1", n(t[0]), 50_000).await;
        redeem(&server, admin, id(t[0]), "T-1").await;
        buy(&server, admin, "T-2", "q2", n(t[1]), 70_000).await;
        redeem(&server, admin, id(t[1]), "T-2").await;
        buy(&server, admin, "T-3", "q1", n(t[2]), 20_000).await;
        buy(&server, admin, "T-4", "q2", n(t[2]), 40_000).await;
        buy(&server, admin, "T-5", "q2", n(t[3]), 30_000).await;
        // Held out: one at Shop 1, one at both.
        buy(&server, admin, "H-1", "q1", n(h[0]), 25_000).await;
        buy(&server, admin, "H-2", "q2", n(h[1]), 35_000).await;
        buy(&server, admin, "H-3", "q1", n(h[1]), 15_000).await;

        let report = |key: &str, query: String| {
            let url = format!("/v1/campaigns/{campaign}/report{query}");
            let server = &server;
            let key = key.to_owned();
            async move { server.get(&url, &key).await }
        };
        let [whole, shop1, shop2] = by_shop(
            &server,
            &format!("/v1/campaigns/{campaign}/report"),
            admin,
            &q1,
            &q2,
        )
        .await;
        assert_figures(&whole, 210_000, 75_000, 2, &format!("{db:?}: whole"));
        assert_figures(&shop1, 70_000, 40_000, 1, &format!("{db:?}: Shop 1"));
        assert_figures(&shop2, 140_000, 35_000, 1, &format!("{db:?}: Shop 2"));
        for field in [
            "treated_revenue_minor",
            "holdout_revenue_minor",
            "vouchers_redeemed",
            "offer_cost_minor",
        ] {
            assert_eq!(
                int(&shop1[field]) + int(&shop2[field]),
                int(&whole[field]),
                "{db:?}: {field} adds up"
            );
        }
        // Members, messages and vouchers issued are the campaign's at every shop.
        for field in ["treated", "held_out", "messages", "vouchers_issued"] {
            assert_eq!(shop1[field], whole[field], "{db:?}: {field}");
            assert_eq!(shop2[field], whole[field], "{db:?}: {field}");
        }
        assert_eq!(whole["scope"]["kind"], "brand", "{db:?}");
        assert_eq!(shop1["scope"]["kind"], "locations", "{db:?}");
        assert_eq!(shop1["scope"]["locations"], json!([q1]), "{db:?}");
        let wide = shop1["scope"]["campaign_wide"].to_string();
        assert!(
            wide.contains("\"treated\"") && wide.contains("\"messages\""),
            "{db:?}: {wide}"
        );
        let incremental = |r: &Value| {
            r["attribution"]["incremental_revenue"]
                .as_f64()
                .unwrap_or_else(|| panic!("{db:?}: no attribution in {r}"))
        };
        let parts = incremental(&shop1) + incremental(&shop2);
        assert!(
            (parts - incremental(&whole)).abs() < 1e-6 * incremental(&whole).abs().max(1.0),
            "{db:?}: incremental revenue adds up: {parts} vs {}",
            incremental(&whole)
        );

        // Another brand's location is none of this brand's, even for its admin.
        let b = server.tenant("Elsewhere").await;
        let theirs = location(&server, &b.admin, "q1", "Their shop").await;
        let field = report(admin, format!("?location={theirs}"))
            .await
            .expect_error(422, "invalid", &format!("{db:?}: theirs"));
        assert_eq!(field.as_deref(), Some("location"), "{db:?}");

        the_manager_of_shop_1_reads_it(&server, admin, campaign, (&q1, &q2), &shop1).await;
        server.stop().await;
    }
}

/// The manager of Shop 1: the campaigns and Shop 1's report, nothing of Shop 2, no write.
async fn the_manager_of_shop_1_reads_it(
    server: &TestServer,
    admin: &str,
    campaign: &str,
    (q1, q2): (&str, &str),
    shop1: &Value,
) {
    let db = server.db;
    let manager = manager_key(server, admin, &[q1]).await;
    let listed = server
        .get("/v1/campaigns", &manager)
        .await
        .expect(200, "list")
        .json;
    assert_eq!(listed["items"][0]["id"], campaign, "{db:?}: {listed}");
    server
        .get(&format!("/v1/campaigns/{campaign}"), &manager)
        .await
        .expect(200, "one campaign");
    let mine = server
        .get(&format!("/v1/campaigns/{campaign}/report"), &manager)
        .await
        .expect(200, "the manager's report")
        .json;
    assert_figures(&mine, 70_000, 40_000, 1, &format!("{db:?}: the manager's"));
    assert_eq!(mine["scope"], shop1["scope"], "{db:?}");
    assert_eq!(mine["attribution"], shop1["attribution"], "{db:?}");
    for path in [
        format!("/v1/campaigns/{campaign}/report?location={q2}"),
        format!("/v1/campaigns/{campaign}?location={q2}"),
        format!("/v1/campaigns?location={q2}"),
    ] {
        let field = server.get(&path, &manager).await.expect_error(
            403,
            "forbidden",
            &format!("{db:?}: {path}"),
        );
        assert_eq!(field.as_deref(), Some("location"), "{db:?}: {path}");
    }
    let document = json!({"name": "Mine", "trigger": {"type": "broadcast"},
        "template": "{{name}} ơi", "channels": ["sms"]});
    let writes = [
        (Method::POST, "/v1/campaigns".to_owned(), Some(&document)),
        (
            Method::PUT,
            format!("/v1/campaigns/{campaign}"),
            Some(&document),
        ),
        (Method::POST, "/v1/campaigns/runs".to_owned(), None),
        (
            Method::GET,
            format!("/v1/campaigns/{campaign}/messages"),
            None,
        ),
    ];
    let actions = ["launch", "pause", "end", "preview"]
        .map(|a| (Method::POST, format!("/v1/campaigns/{campaign}/{a}"), None));
    let empty = json!({});
    for (method, path, body) in writes.into_iter().chain(actions) {
        server
            .call(
                method.clone(),
                &path,
                Some(&manager),
                Body::Json(body.unwrap_or(&empty)),
            )
            .await
            .expect_error(403, "forbidden", &format!("{db:?}: {method} {path}"));
    }

    the_managers_dashboard(server, admin, &manager, campaign, q2).await;
}

/// The manager's dashboard: Shop 1's figures, the picker, and no write control.
async fn the_managers_dashboard(
    server: &TestServer,
    admin: &str,
    manager: &str,
    campaign: &str,
    q2: &str,
) {
    let db = server.db;
    let lan = signed_in(server, manager, "manager").await;
    let list = lan
        .get("/dashboard/campaigns?lang=en")
        .await
        .expect(200, "the manager's campaigns")
        .text;
    assert_picker_shown_brand_wide_hidden(&list, &["new-campaign"], &format!("{db:?}"));
    assert!(list.contains(&format!("data-id=\"{campaign}\"")), "{db:?}");
    assert!(
        list.contains("href=\"/dashboard/campaigns\""),
        "{db:?}: nav"
    );
    let page = lan
        .get(&format!("/dashboard/campaigns/{campaign}?lang=en"))
        .await
        .expect(200, "the manager's campaign")
        .text;
    assert!(
        page.contains("id=\"campaign-scope\""),
        "{db:?}: the scope note"
    );
    assert!(
        page.contains("<data value=\"70000\">"),
        "{db:?}: Shop 1's treated revenue"
    );
    for control in [
        "campaign-launch",
        "campaign-pause",
        "campaign-end",
        "edit-campaign",
        "show-preview",
        // Sign-out is the only form that posts.
        "method=\"post\" action=\"/dashboard/campaigns",
    ] {
        assert!(!page.contains(control), "{db:?}: {control} shown");
    }
    for refused in [
        format!("/dashboard/campaigns/{campaign}?location={q2}"),
        format!("/dashboard/campaigns?location={q2}"),
        "/dashboard/campaigns/new".to_owned(),
        format!("/dashboard/campaigns/{campaign}/edit"),
        format!("/dashboard/campaigns/{campaign}?preview=1"),
    ] {
        lan.get(&refused)
            .await
            .expect(403, &format!("{db:?}: {refused}"));
    }
    // The owner's page of the same campaign has the controls the manager's lacks.
    let owner = signed_in(server, admin, "admin").await;
    let theirs = owner
        .get(&format!("/dashboard/campaigns/{campaign}?lang=en"))
        .await
        .expect(200, "the owner's campaign")
        .text;
    assert!(theirs.contains("campaign-pause"), "{db:?}");
    assert!(!theirs.contains("id=\"campaign-scope\""), "{db:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn referrals_by_the_friends_first_shop_add_up_and_a_manager_reads_its_own() {
    use crate::referral_pages::join_through;
    use crate::signup::{SmsStandIn, poster_shop};
    use std::sync::Arc;
    for db in dbs() {
        let server = spawn(db).await;
        let sms = Arc::new(SmsStandIn::default());
        let shop = poster_shop(&server, 6301).await;
        let admin = shop.admin.as_str();
        let q1 = shop.location.to_string();
        let q2 = location(&server, admin, "q2", "Shop 2").await;
        server
            .put(
                "/v1/referrals/settings",
                admin,
                &json!({"enabled": true, "referrer_points": 50, "friend_points": 30,
                        "min_purchase": 0, "monthly_cap": 0}),
            )
            .await
            .expect(200, "settings");
        let member = shop.pos_customer.as_str();
        server
            .call(
                Method::PATCH,
                &format!("/v1/customers/{member}"),
                Some(admin),
                Body::Json(&json!({"name": "Lan Nguyễn"})),
            )
            .await
            .expect(200, "name");
        let invite = server
            .post(&format!("/v1/customers/{member}/invite"), admin, &json!({}))
            .await
            .expect(200, "invite")
            .str("/token");
        // Three friends join: the first buys first at Shop 1, the second at Shop 2 (then
        // at Shop 1), the third never buys.
        for n in [6401, 6402, 6403] {
            join_through(&server, &sms, &invite, phone(n).as_str()).await;
        }
        buy(&server, admin, "F-1", "q1", 6401, 40_000).await;
        buy(&server, admin, "F-2", "q2", 6402, 45_000).await;
        buy(&server, admin, "F-3", "q1", 6402, 30_000).await;
        referrals_by_shop(&server, admin, &q1, &q2).await;
        server.stop().await;
    }
}

/// The referral figures by the friends' first shop, and the manager of Shop 1's.
async fn referrals_by_shop(server: &TestServer, admin: &str, q1: &str, q2: &str) {
    let db = server.db;
    let counts = |key: &str, query: String| {
        let url = format!("/v1/reports/referrals{query}");
        let key = key.to_owned();
        async move { server.get(&url, &key).await }
    };
    let [whole, shop1, shop2] = by_shop(server, "/v1/reports/referrals", admin, q1, q2).await;
    assert_eq!(
        (&whole["signed_up"], &whole["rewarded"], &whole["pending"]),
        (&json!(3), &json!(2), &json!(1)),
        "{db:?}: {whole}"
    );
    assert_eq!(whole["scope"], "brand", "{db:?}");
    for shop in [&shop1, &shop2] {
        assert_eq!(
            (&shop["signed_up"], &shop["rewarded"], &shop["pending"]),
            (&json!(1), &json!(1), &json!(0)),
            "{db:?}: {shop}"
        );
        assert_eq!(
            shop["invited"],
            Value::Null,
            "{db:?}: no invite is a shop's"
        );
        assert_eq!(shop["scope"], "locations", "{db:?}");
    }
    assert_eq!(
        int(&shop1["rewarded"]) + int(&shop2["rewarded"]),
        int(&whole["rewarded"]),
        "{db:?}: rewarded by shop add up"
    );
    // Every friend who bought is at one shop; the one who did not is at none.
    assert_eq!(
        int(&shop1["signed_up"]) + int(&shop2["signed_up"]) + int(&whole["pending"]),
        int(&whole["signed_up"]),
        "{db:?}"
    );

    // The manager of Shop 1: its figures, not Shop 2's, read only.
    let manager = manager_key(server, admin, &[q1]).await;
    let mine = counts(&manager, String::new())
        .await
        .expect(200, "mine")
        .json;
    assert_eq!(mine, shop1, "{db:?}");
    let field = counts(&manager, format!("?location={q2}"))
        .await
        .expect_error(403, "forbidden", &format!("{db:?}: Shop 2"));
    assert_eq!(field.as_deref(), Some("location"), "{db:?}");
    server
        .put(
            "/v1/referrals/settings",
            &manager,
            &json!({"enabled": false, "referrer_points": 0, "friend_points": 0,
                    "min_purchase": 0, "monthly_cap": 0}),
        )
        .await
        .expect_error(403, "forbidden", &format!("{db:?}: settings"));
    let lan = signed_in(server, &manager, "manager").await;
    let page = lan
        .get("/dashboard/referrals?lang=en")
        .await
        .expect(200, "the manager's referrals")
        .text;
    assert_picker_shown_brand_wide_hidden(
        &page,
        &["referrals-form", "referrals-save", "referral-list"],
        &format!("{db:?}"),
    );
    assert!(page.contains("id=\"referrals-scope\""), "{db:?}: the note");
    assert!(
        page.contains("<td id=\"fig-rewarded\">1</td>"),
        "{db:?}: Shop 1's rewarded"
    );
    lan.get(&format!("/dashboard/referrals?location={q2}"))
        .await
        .expect(403, &format!("{db:?}: Shop 2 on the dashboard"));
}

/// The report at `path` read with `key` for the whole brand, then for Shop 1 (`q1`) and
/// Shop 2 (`q2`).
pub(crate) async fn by_shop(
    server: &TestServer,
    path: &str,
    key: &str,
    q1: &str,
    q2: &str,
) -> [Value; 3] {
    let whole = server.get(path, key).await.expect(200, "whole").json;
    let shop1 = server
        .get(&format!("{path}?location={q1}"), key)
        .await
        .expect(200, "Shop 1")
        .json;
    let shop2 = server
        .get(&format!("{path}?location={q2}"), key)
        .await
        .expect(200, "Shop 2")
        .json;
    [whole, shop1, shop2]
}
