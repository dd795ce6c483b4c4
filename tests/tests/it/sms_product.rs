//! eSMS's customer-care API (SmsType 2) never carries promotional messages: on a server
//! whose SMS channel is eSMS, a promotional campaign is refused an SMS channel with a
//! 422 naming the field; transactional thank-yous keep SMS, and a server with another
//! SMS product (or none) is not affected.

use crate::server::{dbs, spawn_configured};
use regulars::system::SystemClock;
use serde_json::{Value, json};
use std::sync::Arc;

fn esms() -> regulars_senders::SendersConfig {
    serde_json::from_value(json!({"sms": {"brandname": "REGULARS"}}))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn broadcast(channels: Option<Value>) -> Value {
    let mut doc = json!({"name": "Khai trương", "trigger": {"type": "broadcast"},
        "policy": {}, "holdout": 0.0, "frequency_cap": null});
    if let Some(channels) = channels {
        doc["channels"] = channels;
    }
    doc
}

#[tokio::test]
async fn promotional_campaigns_are_refused_the_customer_care_sms_channel() {
    for db in dbs() {
        let server = spawn_configured(db, |s| s.senders = esms(), Arc::new(SystemClock)).await;
        let admin = server.tenant("Quán").await.admin;

        let refused = server
            .post(
                "/v1/campaigns",
                &admin,
                &broadcast(Some(json!(["zalo", "sms"]))),
            )
            .await
            .expect(422, "promotional over SMS");
        assert!(refused.text.contains("channels[1]"), "{}", refused.text);
        assert!(refused.text.contains("SmsType 2"), "{}", refused.text);

        // The default channels include SMS: the campaign is kept without it.
        let defaulted = server
            .post("/v1/campaigns", &admin, &broadcast(None))
            .await
            .expect(201, "promotional, default channels");
        assert_eq!(
            defaulted.json["definition"]["channels"],
            json!(["zalo", "email"]),
            "{}",
            defaulted.text
        );

        // Without SMS it is accepted, and an edit adding SMS is refused too.
        let created = server
            .post(
                "/v1/campaigns",
                &admin,
                &broadcast(Some(json!(["zalo", "email"]))),
            )
            .await
            .expect(201, "promotional without SMS");
        let id = created.json["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", created.text))
            .to_owned();
        server
            .put(
                &format!("/v1/campaigns/{id}"),
                &admin,
                &broadcast(Some(json!(["sms"]))),
            )
            .await
            .expect(422, "edit adding SMS");

        // A thank-you without an offer is transactional: SMS stays allowed.
        server
            .post(
                "/v1/campaigns",
                &admin,
                &json!({"name": "Cảm ơn", "trigger": {"type": "after_purchase"},
                        "channels": ["sms"], "policy": {}, "holdout": 0.0}),
            )
            .await
            .expect(201, "transactional over SMS");

        // A server without eSMS keeps today's behaviour.
        let other = spawn_configured(db, |_| {}, Arc::new(SystemClock)).await;
        let admin = other.tenant("Khác").await.admin;
        other
            .post("/v1/campaigns", &admin, &broadcast(Some(json!(["sms"]))))
            .await
            .expect(201, "no eSMS configured");
    }
}
