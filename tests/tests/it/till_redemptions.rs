//! Redemptions counted at their shop, on both databases. A campaign's vouchers are
//! redeemed on an order at Shop 1, at Shop 2's till (which names no order), through the
//! API naming Shop 2's till, and on an order that reaches the server only afterwards:
//! each counts at its shop, and the shops add up to the whole, in the campaign's report
//! and in the programme's cost of the overview. A location the brand does not have is
//! refused naming `location_id`, and nothing is redeemed. A viewer reads the campaigns
//! and their reports and writes nothing.

use crate::manager_campaigns::{
    OFFER_COST, PHONES, assert_figures, buy, by_shop, int, run_campaign,
};
use crate::manager_kit::location;
use crate::server::{Body, TestServer, dbs, spawn};
use crate::till::Till;
use regulars_tests::RULES;
use reqwest::Method;
use serde_json::{Value, json};

/// The code of the customer's campaign voucher.
async fn code_of(server: &TestServer, admin: &str, customer: &str) -> String {
    server
        .get(&format!("/v1/customers/{customer}"), admin)
        .await
        .expect(200, "profile")
        .str("/vouchers/0/code")
}

/// A till for `location` with a staff member signed in.
async fn till_at<'a>(server: &'a TestServer, admin: &str, location: &str) -> Till<'a> {
    let token = server
        .post(
            "/v1/till-devices",
            admin,
            &json!({"location_id": location, "label": "counter"}),
        )
        .await
        .expect(201, "device")
        .str("/token");
    let staff = server
        .post(
            "/v1/staff",
            admin,
            &json!({"location_id": location, "name": "Minh", "pin": "1357"}),
        )
        .await
        .expect(201, "staff")
        .str("/id");
    let mut till = Till::new(server);
    till.enrol(&token).await;
    till.sign_in(&staff, "1357").await.expect(303, "sign in");
    till
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn till_redemptions_count_at_their_shop_and_the_shops_add_up() {
    for db in dbs() {
        let server = spawn(db).await;
        let a = server.tenant("Redemptions by shop").await;
        let admin = a.admin.as_str();
        let rules: Value = serde_json::from_str(RULES).unwrap_or_else(|e| panic!("{e}"));
        server
            .put("/v1/program/earning-rules", admin, &rules)
            .await
            .expect(200, "rules");
        server.unrestricted(admin).await;
        let q1 = location(&server, admin, "q1", "Shop 1").await;
        let q2 = location(&server, admin, "q2", "Shop 2").await;
        let run = run_campaign(&server, admin).await;
        let (campaign, t) = (&run.campaign, &run.treated);
        let id = |k: u64| run.ids[k as usize].as_str();
        let redeem = |code: String, body: Value| {
            let server = &server;
            async move {
                server
                    .post(&format!("/v1/vouchers/{code}/redeem"), admin, &body)
                    .await
            }
        };

        // On an order placed at Shop 1 (recorded at Shop 1).
        buy(&server, admin, "T-1", "q1", PHONES + t[0], 50_000).await;
        let code = code_of(&server, admin, id(t[0])).await;
        redeem(code, json!({"order_external_id": "T-1"}))
            .await
            .expect(200, "on an order");
        // At Shop 2's till, which names no order.
        let mut till = till_at(&server, admin, &q2).await;
        let page = till
            .get(&format!("/till/customers/{}", id(t[1])))
            .await
            .expect(200, "the account at the till");
        let csrf = page.field("csrf");
        let code = code_of(&server, admin, id(t[1])).await;
        let page = till
            .post(
                "/till/vouchers",
                &[("csrf", &csrf), ("customer", id(t[1])), ("code", &code)],
            )
            .await
            .expect(200, "redeemed at the till");
        assert!(
            page.text.contains("Đã dùng voucher"),
            "{db:?}: {}",
            page.text
        );

        // A location the brand does not have, or no location id at all: refused naming
        // it, and the voucher stays usable.
        let code = code_of(&server, admin, id(t[2])).await;
        let b = server.tenant("Elsewhere").await;
        let theirs = location(&server, &b.admin, "q2", "Their shop").await;
        let field = redeem(code.clone(), json!({"location_id": theirs}))
            .await
            .expect_error(422, "invalid", &format!("{db:?}: their location"));
        assert_eq!(field.as_deref(), Some("location_id"), "{db:?}");
        let field = redeem(code.clone(), json!({"location_id": "Shop 2"}))
            .await
            .expect_error(400, "invalid", &format!("{db:?}: not an id"));
        assert_eq!(field.as_deref(), Some("location_id"), "{db:?}");
        // Through the API, naming Shop 2's till.
        let redeemed = redeem(code, json!({"location_id": q2}))
            .await
            .expect(200, "at a named till");
        assert_eq!(redeemed.str("/status"), "redeemed", "{db:?}");
        // On an order that reaches the server after the redemption: where it was placed.
        let code = code_of(&server, admin, id(t[3])).await;
        redeem(code, json!({"order_external_id": "T-4"}))
            .await
            .expect(200, "before its order");
        buy(&server, admin, "T-4", "q1", PHONES + t[3], 30_000).await;

        let path = format!("/v1/campaigns/{campaign}/report");
        let [whole, shop1, shop2] = by_shop(&server, &path, admin, &q1, &q2).await;
        assert_figures(&whole, 80_000, 0, 4, &format!("{db:?}: whole"));
        assert_figures(&shop1, 80_000, 0, 2, &format!("{db:?}: Shop 1"));
        assert_figures(&shop2, 0, 0, 2, &format!("{db:?}: Shop 2"));
        for field in ["vouchers_redeemed", "offer_cost_minor"] {
            assert_eq!(
                int(&shop1[field]) + int(&shop2[field]),
                int(&whole[field]),
                "{db:?}: {field} adds up"
            );
        }
        assert_eq!(int(&shop2["offer_cost_minor"]), 2 * OFFER_COST, "{db:?}");
        // The programme's cost by shop counts the same redemptions where they were made.
        let [all, at_1, at_2] = by_shop(&server, "/v1/reports/overview", admin, &q1, &q2).await;
        let vouchers = |r: &Value| int(&r["programme_cost_vouchers"]);
        assert_eq!(
            (vouchers(&all), vouchers(&at_1), vouchers(&at_2)),
            (4, 2, 2),
            "{db:?}: {all} {at_1} {at_2}"
        );

        a_viewer_reads_the_reports_and_writes_nothing(&server, admin, campaign, &q2, &shop2).await;
        server.stop().await;
    }
}

/// A viewer's key reads the campaigns and their reports, for the brand and by shop, and
/// every campaign write is refused.
async fn a_viewer_reads_the_reports_and_writes_nothing(
    server: &TestServer,
    admin: &str,
    campaign: &str,
    q2: &str,
    shop2: &Value,
) {
    let db = server.db;
    let viewer = server
        .post("/v1/keys", admin, &json!({"role": "viewer"}))
        .await
        .expect(201, "viewer key")
        .str("/token");
    let listed = server
        .get("/v1/campaigns", &viewer)
        .await
        .expect(200, "list");
    assert_eq!(listed.json["items"][0]["id"], campaign, "{db:?}");
    server
        .get(&format!("/v1/campaigns/{campaign}"), &viewer)
        .await
        .expect(200, "one campaign");
    let whole = server
        .get(&format!("/v1/campaigns/{campaign}/report"), &viewer)
        .await
        .expect(200, "the viewer's report")
        .json;
    assert_eq!(whole["vouchers_redeemed"], 4, "{db:?}: {whole}");
    let at_q2 = server
        .get(
            &format!("/v1/campaigns/{campaign}/report?location={q2}"),
            &viewer,
        )
        .await
        .expect(200, "the viewer's report for Shop 2")
        .json;
    assert_eq!(
        at_q2["vouchers_redeemed"], shop2["vouchers_redeemed"],
        "{db:?}"
    );
    assert_eq!(
        at_q2["offer_cost_minor"], shop2["offer_cost_minor"],
        "{db:?}"
    );
    let document = json!({"name": "Mine", "trigger": {"type": "broadcast"},
        "template": "{{name}} ơi", "channels": ["sms"]});
    let empty = json!({});
    let writes = [
        (Method::POST, "/v1/campaigns".to_owned(), &document),
        (Method::PUT, format!("/v1/campaigns/{campaign}"), &document),
        (Method::POST, "/v1/campaigns/runs".to_owned(), &empty),
        (
            Method::POST,
            format!("/v1/campaigns/{campaign}/pause"),
            &empty,
        ),
        (
            Method::POST,
            format!("/v1/campaigns/{campaign}/end"),
            &empty,
        ),
    ];
    for (method, path, body) in writes {
        server
            .call(method.clone(), &path, Some(&viewer), Body::Json(body))
            .await
            .expect_error(403, "forbidden", &format!("{db:?}: {method} {path}"));
    }
    // Nothing the viewer sent changed the campaign.
    let after = server
        .get(&format!("/v1/campaigns/{campaign}"), admin)
        .await
        .expect(200, "the campaign after");
    assert_eq!(after.json["status"], "active", "{db:?}: {}", after.text);
}
