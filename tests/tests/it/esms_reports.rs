//! eSMS's duplicate answer and its delivery report: the first attempt of a message is
//! accepted by eSMS but its answer is lost, the retry with the same `RequestId` gets
//! code 124 ("request exists", no `SMSID`), and eSMS's later callback, which carries the
//! real `SMSID` and the `RequestId`, still marks the message delivered.
//!
//! The 124 answer and the callback's query are shaped as in eSMS's developer GitBook
//! (`devesms/gitbook_esms_for_develop_v2`: `esms-api/ham-gui-tin/tin-nhan-sms-otp-cskh.md`,
//! tab "124"; `esms-api/callback-url.md`, "Callback mẫu cho loại tin CSKH").

use crate::server::{Body, dbs, spawn_configured};
use regulars::system::SystemClock;
use regulars_ports::PROVIDER_KEY_LEN;
use regulars_senders::ReportKeys;
use regulars_service::{ChannelSenders, DeliveryOptions};
use regulars_testkit::providers::{EsmsStub, Fault};
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;

const TOKEN: &str = "cb-token-124";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_esms_124_answer_is_matched_to_its_delivery_report() {
    for db in dbs() {
        let server = spawn_configured(
            db,
            |s| {
                s.report_keys = ReportKeys {
                    zalo: None,
                    esms_token: Some(TOKEN.into()),
                }
            },
            Arc::new(SystemClock),
        )
        .await;
        let tenant = server.tenant("Trà Sữa 124").await;
        regulars_tests::sms_customer(&server.services, tenant.brand, 7, "Khách 7")
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        // Whatever hour the test runs at, the brand's legal hours must not defer the send.
        server.unrestricted(&tenant.admin).await;
        let campaign = server
            .post(
                "/v1/campaigns",
                &tenant.admin,
                &json!({"name": "Cảm ơn", "trigger": {"type": "broadcast"},
                        "channels": ["sms"],
                        "policy": {}, "holdout": 0.0, "frequency_cap": null}),
            )
            .await
            .expect(201, "campaign")
            .str("/id");
        server
            .post(
                &format!("/v1/campaigns/{campaign}/launch"),
                &tenant.admin,
                &json!({}),
            )
            .await
            .expect(200, "launch");
        server
            .post("/v1/campaigns/runs", &tenant.admin, &json!({}))
            .await
            .expect(201, "run");

        let esms = EsmsStub::start().unwrap_or_else(|e| panic!("{e}"));
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
        let options = DeliveryOptions {
            base_backoff: time::Duration::ZERO,
            ..DeliveryOptions::default()
        };
        // eSMS accepts the first attempt, but its answer never arrives.
        esms.push_fault(Fault::DropAfterAccept);
        let first = server
            .services
            .deliver_due(&senders, &options)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        assert_eq!(first.sent, 0, "{db:?}: {first:?}");
        // The retry repeats the RequestId: eSMS answers 124 and sends nothing again.
        let second = server
            .services
            .deliver_due(&senders, &options)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        assert_eq!(second.sent, 1, "{db:?}: {second:?}");
        assert_eq!(esms.request_count(), 2, "{db:?}");
        let deliveries = esms.deliveries();
        assert_eq!(deliveries.len(), 1, "{db:?}");
        let request_id = deliveries[0].dedupe_key.clone();
        assert_eq!(request_id.len(), PROVIDER_KEY_LEN, "{db:?}: {request_id}");
        let sms_id = deliveries[0].provider_message_id.clone();

        // eSMS's CSKH callback sample, with this message's SMSID and RequestId.
        let query = format!(
            "SMSID={sms_id}&SendFailed=0&SendStatus=5&SendSuccess=1&TotalPrice=0.0000\
             &TotalReceiver=1&TotalSent=1&RequestId={request_id}&TypeId=2&telcoid=1\
             &phonenumber=0901888484&switchsmsid="
        );
        // The token is a path segment of the CallbackUrl; eSMS appends its own query.
        server
            .call(
                Method::GET,
                &format!("/callbacks/esms/not-the-token?{query}"),
                None,
                Body::None,
            )
            .await
            .expect(401, "wrong token in the path");
        let reply = server
            .call(
                Method::GET,
                &format!("/callbacks/esms/{TOKEN}?{query}"),
                None,
                Body::None,
            )
            .await
            .expect(200, "esms report");
        assert_eq!(
            reply.json["recorded"],
            json!(true),
            "{db:?}: {}",
            reply.json
        );
        let report = server
            .get(&format!("/v1/campaigns/{campaign}/report"), &tenant.admin)
            .await
            .expect(200, "report");
        assert_eq!(report.json["messages"], json!({"delivered": 1}), "{db:?}");
    }
}
