//! The golden hour per segment, end to end on both databases: members of a segment who
//! never came in but clicked a message's link at 20:00 give their segment a 20:00
//! golden hour while the brand's, set by its regulars' 08:00 visits, stays 08:00; a
//! member of that segment with no visits and no clicks is scored to prefer 20:00 and is
//! sent at 20:00 by a golden-hour campaign; the hours are read by the API.

use crate::pos::rfc3339;
use crate::server::{TestServer, dbs, spawn_configured};
use regulars_service::{ChannelSenders, DeliveryOptions, ScoringOptions};
use regulars_testkit::providers::EsmsStub;
use regulars_tests::{ManualClock, phone};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::macros::{datetime, offset};
use time::{Duration, OffsetDateTime};

/// The public address the server is told it is reached at.
const PUBLIC: &str = "https://loyalty.example.vn";
/// The link the owner wrote in the template.
const MENU: &str = "https://may.example.vn/menu";

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

/// Creates and launches a campaign; its id.
async fn launch(server: &TestServer, admin: &str, body: Value) -> String {
    let id = server
        .post("/v1/campaigns", admin, &body)
        .await
        .expect(201, "campaign")
        .str("/id");
    server
        .post(&format!("/v1/campaigns/{id}/launch"), admin, &json!({}))
        .await
        .expect(200, "launch");
    id
}

async fn sell(server: &TestServer, admin: &str, n: u64, id: &str, at: OffsetDateTime) {
    let body = json!({"order_id": id, "placed_at": rfc3339(at), "currency": "VND",
        "customer_phone": phone(n).as_str(),
        "lines": [{"sku": "TS", "name": "Trà sữa", "quantity": 1, "unit_price": "45000"}],
        "total": "45000"});
    server
        .post("/v1/orders", admin, &body)
        .await
        .expect(200, "order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_segment_that_clicks_in_the_evening_is_messaged_in_the_evening() {
    for db in dbs() {
        let what = |s: &str| format!("{db:?}: {s}");
        // 08:05 in Vietnam on the third day.
        let morning = datetime!(2026-11-02 01:00 UTC);
        let clock = ManualClock::at(morning + Duration::days(2) + Duration::minutes(5));
        let server = spawn_configured(
            db,
            |settings| settings.public_url = Some(PUBLIC.to_owned()),
            clock.clone(),
        )
        .await;
        let a = server.tenant("Trà Sữa Mây").await;
        let admin = a.admin.as_str();
        server.unrestricted(admin).await;

        // Six customers who never came in get a broadcast with a link.
        let mut clickers = Vec::new();
        for n in 11..=16 {
            let c = regulars_tests::sms_customer(&server.services, a.brand, n, "Khách")
                .await
                .unwrap_or_else(|e| panic!("{db:?}: {e}"));
            clickers.push(c.id);
        }
        let broadcast = launch(
            &server,
            admin,
            json!({"name": "Thực đơn mới", "trigger": {"type": "broadcast"},
                "channels": ["sms"], "holdout": 0.0, "frequency_cap": null,
                "template": format!("Thuc don moi: {MENU}")}),
        )
        .await;
        server
            .services
            .run_campaigns(a.brand)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let esms = EsmsStub::start().unwrap_or_else(|e| panic!("{e}"));
        let round = server
            .services
            .deliver_due(&esms_senders(&esms), &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        assert_eq!(round.sent, 6, "{db:?}: {round:?}");
        server
            .post(&format!("/v1/campaigns/{broadcast}/end"), admin, &json!({}))
            .await
            .expect(200, &what("end"));

        // Five regulars come in at 08:00 three days running; one more customer joins
        // and does nothing.
        for n in 1..=5 {
            regulars_tests::sms_customer(&server.services, a.brand, n, "Khách quen")
                .await
                .unwrap_or_else(|e| panic!("{db:?}: {e}"));
            for day in 0..3 {
                sell(
                    &server,
                    admin,
                    n,
                    &format!("C-{n}-{day}"),
                    morning + Duration::days(day),
                )
                .await;
            }
        }
        let newcomer = regulars_tests::sms_customer(&server.services, a.brand, 20, "Mới")
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));

        // 20:00: each of the six follows the link.
        clock.set(morning + Duration::days(2) + Duration::hours(12));
        for d in esms.deliveries() {
            let (_, rest) = d
                .text
                .split_once(&format!("{PUBLIC}/l/"))
                .unwrap_or_else(|| panic!("{db:?}: no click link in {:?}", d.text));
            let token = rest.split_whitespace().next().unwrap_or("");
            let status = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_else(|e| panic!("{e}"))
                .get(format!("{}/l/{token}", server.base))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{db:?}: {e}"))
                .status();
            assert_eq!(status.as_u16(), 302, "{db:?}");
        }

        // The first run puts everyone in a segment; the second learns each segment's
        // pattern from the members the first one found.
        for _ in 0..2 {
            server
                .services
                .score_brand(a.brand, &ScoringOptions::default())
                .await
                .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        }
        let clicker = server
            .services
            .customer_scores(a.brand, clickers[0])
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let segment = clicker.segments.first().cloned().unwrap_or_default();
        let scores = server
            .services
            .customer_scores(a.brand, newcomer.id)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        assert_eq!(
            scores.segments.first(),
            Some(&segment),
            "{db:?}: {scores:?}"
        );
        assert_eq!(scores.preferred_hour, Some(20), "{db:?}: {scores:?}");

        let times = server
            .get("/v1/segments/send-times", admin)
            .await
            .expect(200, &what("send times"))
            .json;
        assert_eq!(times["brand_golden_hour"], 8, "{db:?}: {times}");
        let items = times["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 11, "{db:?}: every RFM segment: {times}");
        let row = items
            .iter()
            .find(|i| i["segment"] == segment.as_str())
            .unwrap_or_else(|| panic!("{db:?}: no {segment} in {times}"));
        assert_eq!(row["golden_hour"], 20, "{db:?}: {row}");
        assert_eq!(row["own_pattern"], true, "{db:?}: {row}");
        assert_eq!(row["members"], 6, "{db:?}: {row}");

        // A golden-hour campaign to that segment, run the next morning, sends the
        // newcomer's message at 20:00.
        clock.set(morning + Duration::days(3) + Duration::hours(1));
        let evening = launch(
            &server,
            admin,
            json!({"name": "Tối nay", "trigger": {"type": "broadcast"},
                "audience": {"segment": segment}, "send_time": {"type": "preferred_hour"},
                "channels": ["sms"], "holdout": 0.0, "frequency_cap": null,
                "template": "Toi nay ghe quan nhe"}),
        )
        .await;
        server
            .services
            .run_campaigns(a.brand)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let messages = server
            .get(&format!("/v1/campaigns/{evening}/messages"), admin)
            .await
            .expect(200, &what("messages"))
            .json;
        let mine = messages["items"]
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .find(|m| m["customer_id"] == newcomer.id.to_string().as_str())
            })
            .unwrap_or_else(|| panic!("{db:?}: no message to the newcomer: {messages}"));
        let due = OffsetDateTime::parse(mine["due_at"].as_str().unwrap_or(""), &Rfc3339)
            .unwrap_or_else(|e| panic!("{db:?}: {e}: {mine}"));
        assert_eq!(due.to_offset(offset!(+7)).hour(), 20, "{db:?}: {mine}");
        server.stop().await;
    }
}
