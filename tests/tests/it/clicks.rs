//! Engagement end to end on both databases: an SMS sent through the eSMS stand-in
//! carries a short signed `/l/` link in place of the link its template wrote; following
//! it logs the click and redirects to the original link; an altered token, or a token
//! signed for another brand, is a 404 that counts nothing; the campaign's click rate
//! counts clicked messages over sent; the export carries the clicks and erasure removes
//! them; and a customer who comes in at 08:00 but clicks at 20:00 is learned to prefer
//! 20:00 by the scoring run.

use crate::pos::rfc3339;
use crate::server::{TestServer, dbs, spawn_configured};
use regulars_service::{ChannelSenders, DeliveryOptions, ScoringOptions};
use regulars_testkit::providers::EsmsStub;
use regulars_tests::{ManualClock, phone};
use serde_json::json;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The public address the server is told it is reached at.
const PUBLIC: &str = "https://loyalty.example.vn";
/// The link the owner wrote in the template.
const MENU: &str = "https://may.example.vn/menu?mon=tra-sua";

fn esms_senders(esms: &EsmsStub) -> ChannelSenders {
    let config: regulars_senders::SendersConfig = serde_json::from_value(json!({
        "sms": {"base_url": esms.base_url(), "brandname": esms.brandname()},
        "timeout_secs": 5
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let env = |name: &str| match name {
        "REGULARS_ESMS_API_KEY" => Some(esms.api_key()),
        "REGULARS_ESMS_SECRET_KEY" => Some(esms.secret_key()),
        _ => None,
    };
    let built = regulars_senders::build(&config, env).unwrap_or_else(|e| panic!("{e}"));
    let mut senders = ChannelSenders::new();
    for (_, sender) in built.into_map() {
        senders = senders.with(sender);
    }
    senders
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Follows `/l/{token}`: the status and the `Location` answered.
async fn click(server: &TestServer, token: &str) -> (u16, Option<String>) {
    let reply = no_redirects()
        .get(format!("{}/l/{token}", server.base))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET /l/{token}: {e}"));
    let location = reply
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (reply.status().as_u16(), location)
}

/// The click-link tokens in the texts eSMS was asked to send, in order.
fn tokens(esms: &EsmsStub) -> Vec<String> {
    esms.deliveries()
        .iter()
        .map(|d| {
            assert!(
                !d.text.contains(MENU),
                "the link went out untracked: {}",
                d.text
            );
            let (_, rest) = d
                .text
                .split_once(&format!("{PUBLIC}/l/"))
                .unwrap_or_else(|| panic!("no click link in {:?}", d.text));
            rest.split_whitespace().next().unwrap_or("").to_owned()
        })
        .collect()
}

async fn sell(server: &TestServer, admin: &str, id: &str, at: OffsetDateTime) {
    let body = json!({"order_id": id, "placed_at": rfc3339(at), "currency": "VND",
        "customer_phone": phone(1).as_str(),
        "lines": [{"sku": "TS", "name": "Trà sữa", "quantity": 1, "unit_price": "45000"}],
        "total": "45000"});
    server
        .post("/v1/orders", admin, &body)
        .await
        .expect(200, "order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicks_are_tracked_counted_erased_and_learned() {
    for db in dbs() {
        let what = |s: &str| format!("{db:?}: {s}");
        // 08:00 in Vietnam.
        let morning = datetime!(2026-11-02 01:00 UTC);
        let clock = ManualClock::at(morning);
        let server = spawn_configured(
            db,
            |settings| settings.public_url = Some(PUBLIC.to_owned()),
            clock.clone(),
        )
        .await;
        let a = server.tenant("Trà Sữa Mây").await;
        let b = server.tenant("Quán Khác").await;
        let admin = a.admin.as_str();
        server.unrestricted(admin).await;
        let lan = regulars_tests::sms_customer(&server.services, a.brand, 1, "Lan")
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let campaign = server
            .post(
                "/v1/campaigns",
                admin,
                &json!({"name": "Cảm ơn", "trigger": {"type": "after_purchase"},
                    "channels": ["sms"], "holdout": 0.0, "frequency_cap": null,
                    "template": format!("Cam on {{{{name}}}}! Thuc don: {MENU} nhe")}),
            )
            .await
            .expect(201, &what("campaign"))
            .str("/id");
        server
            .post(
                &format!("/v1/campaigns/{campaign}/launch"),
                admin,
                &json!({}),
            )
            .await
            .expect(200, &what("launch"));

        // Three mornings at 08:00, a thank-you each.
        let esms = EsmsStub::start().unwrap_or_else(|e| panic!("{e}"));
        let senders = esms_senders(&esms);
        for day in 0..3 {
            let at = morning + Duration::days(day);
            clock.set(at + Duration::minutes(5));
            sell(&server, admin, &format!("C-{day}"), at).await;
            let round = server
                .services
                .deliver_due(&senders, &DeliveryOptions::default())
                .await
                .unwrap_or_else(|e| panic!("{db:?}: {e}"));
            assert_eq!(round.sent, 1, "{db:?}: {round:?}");
        }
        let tokens = tokens(&esms);
        assert_eq!(tokens.len(), 3, "{db:?}");
        for token in &tokens {
            assert_eq!(
                token.len(),
                regulars_service::LINK_TOKEN_CHARS,
                "{db:?}: {token}"
            );
            assert!(
                format!("/l/{token}").len() <= 40,
                "{db:?}: the link's path stays short for SMS"
            );
        }
        server
            .services
            .score_brand(a.brand, &ScoringOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let before = server
            .services
            .customer_scores(a.brand, lan.id)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        assert_eq!(before.preferred_hour, Some(8), "{db:?}: {before:?}");

        // 20:00 on the evening of the third day: each message's link, once; the first
        // twice (the second within the minute is logged but not counted).
        let evening = morning + Duration::days(2) + Duration::hours(12);
        clock.set(evening);
        for token in &tokens {
            assert_eq!(
                click(&server, token).await,
                (302, Some(MENU.to_owned())),
                "{db:?}"
            );
        }
        assert_eq!(click(&server, &tokens[0]).await.0, 302, "{db:?}");

        // An altered token, and a token signed for another brand naming this brand's
        // message, lead nowhere and count nothing.
        let mut altered = tokens[0].clone().into_bytes();
        altered[20] = if altered[20] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap_or_default();
        assert_eq!(click(&server, &altered).await, (404, None), "{db:?}");
        let messages = server
            .get(&format!("/v1/campaigns/{campaign}/messages"), admin)
            .await
            .expect(200, &what("messages"))
            .json;
        let message: uuid::Uuid = messages["items"][0]["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{db:?}: {messages}"));
        let theirs = server
            .services
            .click_link(b.brand, message, 0)
            .unwrap_or_else(|| panic!("{db:?}: no click link"));
        let theirs = theirs.rsplit('/').next().unwrap_or_default().to_owned();
        assert_eq!(click(&server, &theirs).await, (404, None), "{db:?}");
        server
            .get(&format!("/v1/campaigns/{campaign}/engagement"), &b.admin)
            .await
            .expect_error(404, "not_found", &what("their campaign"));

        let counts = server
            .get(&format!("/v1/campaigns/{campaign}/engagement"), admin)
            .await
            .expect(200, &what("engagement"))
            .json;
        assert_eq!(counts["sent"], 3, "{db:?}: {counts}");
        assert_eq!(counts["clicks"], 4, "{db:?}: {counts}");
        assert_eq!(counts["clicked_messages"], 3, "{db:?}: {counts}");
        assert_eq!(counts["click_rate"], 1.0, "{db:?}: {counts}");
        assert_eq!(counts["opens"], 0, "{db:?}: {counts}");

        // The scoring run learns the evening from the clicks.
        server
            .services
            .score_brand(a.brand, &ScoringOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let after = server
            .services
            .customer_scores(a.brand, lan.id)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        assert_eq!(after.preferred_hour, Some(20), "{db:?}: {after:?}");

        // With tracking off, the next message carries the link as written.
        server
            .put(
                "/v1/engagement/settings",
                admin,
                &json!({"track_links": false, "track_opens": false}),
            )
            .await
            .expect(200, &what("settings"));
        clock.set(morning + Duration::days(3) + Duration::minutes(5));
        sell(&server, admin, "C-3", morning + Duration::days(3)).await;
        server
            .services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let last = esms
            .deliveries()
            .last()
            .map(|d| d.text.clone())
            .unwrap_or_default();
        assert!(last.contains(MENU), "{db:?}: {last}");

        // The export carries every click; erasure removes them.
        let export = server
            .get(&format!("/v1/customers/{}/export", lan.id), admin)
            .await
            .expect(200, &what("export"))
            .json;
        let clicks = export["engagements"].as_array().map_or(0, Vec::len);
        assert_eq!(clicks, 4, "{db:?}: {}", export["engagements"]);
        assert_eq!(export["engagements"][0]["kind"], "click", "{db:?}");
        server
            .post(
                &format!("/v1/customers/{}/erasure", lan.id),
                admin,
                &json!({}),
            )
            .await
            .expect(200, &what("erasure"));
        let counts = server
            .get(&format!("/v1/campaigns/{campaign}/engagement"), admin)
            .await
            .expect(200, &what("engagement after erasure"))
            .json;
        assert_eq!(counts["clicks"], 0, "{db:?}: {counts}");
        server.stop().await;
    }
}
