//! Delivery reports over HTTP: a campaign's messages go out through the real Zalo ZNS and
//! eSMS senders to their stand-ins, then the providers' reports arrive at
//! `/callbacks/zalo` (signed) and `/callbacks/esms` (token in the URL) and mark the
//! messages delivered, once; forged or unknown reports change nothing.

use crate::server::{Body, dbs, spawn_configured};
use regulars::system::SystemClock;
use regulars_senders::ReportKeys;
use regulars_senders::callbacks::zalo_signature;
use regulars_service::{ChannelSenders, CustomerInput, DeliveryOptions};
use regulars_testkit::providers::{EsmsStub, ZaloZnsStub};
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;
use time::OffsetDateTime;

const APP_ID: &str = "4242";
const OA_SECRET: &str = "oa-secret-for-tests";
const TOKEN: &str = "cb-token-7f3a";

/// POSTs a Zalo OA event with its signature header; (status, body).
async fn zalo_post(base: &str, body: &str, signature: &str) -> (u16, String) {
    let reply = reqwest::Client::new()
        .post(format!("{base}/callbacks/zalo"))
        .header("content-type", "application/json")
        .header("X-ZEvent-Signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST /callbacks/zalo: {e}"));
    let status = reply.status().as_u16();
    (status, reply.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_reports_mark_messages_delivered_once() {
    for db in dbs() {
        let server = spawn_configured(
            db,
            |s| {
                s.report_keys = ReportKeys {
                    zalo: Some((APP_ID.into(), OA_SECRET.into())),
                    esms_token: Some(TOKEN.into()),
                }
            },
            Arc::new(SystemClock),
        )
        .await;
        let tenant = server.tenant("Cà Phê Callback").await;
        for (n, zalo) in [(1u64, true), (2, false)] {
            server
                .services
                .create_customer(
                    tenant.brand,
                    regulars_tests::phone(n).as_str(),
                    CustomerInput {
                        name: Some(format!("Khách {n}")),
                        birthday: None,
                        email: None,
                        zalo_user_id: zalo.then(|| format!("z{n}")),
                        consent: regulars_service::ConsentPatch {
                            zalo: Some(zalo),
                            sms: Some(true),
                            ..Default::default()
                        },
                        notice_version: None,
                        consent_source: None,
                    },
                    &regulars_service::ChangeAuthor {
                        actor: "test".to_owned(),
                        source: regulars_domain::ChangeSource::Import,
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        }
        server.unrestricted(&tenant.admin).await;
        let campaign = server
            .post(
                "/v1/campaigns",
                &tenant.admin,
                &json!({"name": "Chào tuần mới", "trigger": {"type": "broadcast"},
                        "channels": ["zalo", "sms"], "zalo_template": "hello",
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

        let zalo = ZaloZnsStub::start().unwrap_or_else(|e| panic!("{e}"));
        let esms = EsmsStub::start().unwrap_or_else(|e| panic!("{e}"));
        let config: regulars_senders::SendersConfig = serde_json::from_value(json!({
            "zalo": {"api_base": zalo.base_url(), "oauth_base": zalo.base_url(),
                     "templates": {"hello": "240871"}},
            "sms": {"base_url": esms.base_url(), "brandname": esms.brandname()},
            "timeout_secs": 5
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let env = |name: &str| match name {
            "REGULARS_ZALO_ACCESS_TOKEN" => Some(zalo.access_token()),
            "REGULARS_ESMS_API_KEY" => Some(esms.api_key()),
            "REGULARS_ESMS_SECRET_KEY" => Some(esms.secret_key()),
            _ => None,
        };
        let built = regulars_senders::build(&config, env).unwrap_or_else(|e| panic!("{e}"));
        let mut senders = ChannelSenders::new();
        for (_, sender) in built.into_map() {
            senders = senders.with(sender);
        }
        let round = server
            .services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        assert_eq!((round.claimed, round.sent), (2, 2), "{db:?}: {round:?}");
        let zns_id = zalo.deliveries()[0].provider_message_id.clone();
        let sms_id = esms.deliveries()[0].provider_message_id.clone();

        // Zalo: a forged signature is refused and records nothing.
        let event = |at: OffsetDateTime| {
            let millis = (at.unix_timestamp_nanos() / 1_000_000).to_string();
            let body = json!({"app_id": APP_ID, "event_name": "user_received_message",
                "timestamp": millis,
                "message": {"msg_id": zns_id, "delivery_time": millis}})
            .to_string();
            let signature = zalo_signature(APP_ID, body.as_bytes(), &millis, OA_SECRET);
            (body, signature)
        };
        let (body, signature) = event(OffsetDateTime::now_utc());
        let forged = zalo_post(&server.base, &body, "mac=00ff").await;
        assert_eq!(forged.0, 401, "{db:?}: forged zalo report: {}", forged.1);
        // A genuine event captured and replayed an hour later is refused, records nothing.
        let (old, old_signature) = event(OffsetDateTime::now_utc() - time::Duration::hours(1));
        let replayed = zalo_post(&server.base, &old, &old_signature).await;
        assert_eq!(
            replayed.0, 401,
            "{db:?}: replayed zalo report: {}",
            replayed.1
        );
        for (attempt, recorded) in [(1, true), (2, false)] {
            let (status, text) = zalo_post(&server.base, &body, &signature).await;
            assert_eq!(status, 200, "{db:?}: {text}");
            let reply: serde_json::Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(
                reply["recorded"],
                json!(recorded),
                "{db:?}: zalo report #{attempt}"
            );
        }
        // eSMS: the token is required; a final success marks it delivered.
        let query = format!("SMSID={sms_id}&SendStatus=5&SendSuccess=1&SendFailed=0");
        server
            .call(
                Method::GET,
                &format!("/callbacks/esms?token=wrong&{query}"),
                None,
                Body::None,
            )
            .await
            .expect(401, "wrong token");
        let reply = server
            .call(
                Method::GET,
                &format!("/callbacks/esms?token={TOKEN}&{query}"),
                None,
                Body::None,
            )
            .await
            .expect(200, "esms report");
        assert_eq!(reply.json["recorded"], json!(true), "{db:?}");
        // A report that is not final is acknowledged and ignored.
        let pending = server
            .call(
                Method::GET,
                &format!("/callbacks/esms?token={TOKEN}&SMSID={sms_id}&SendStatus=2"),
                None,
                Body::None,
            )
            .await
            .expect(200, "non-final report");
        assert_eq!(pending.json["recorded"], json!(false));
        assert!(pending.json["ignored"].is_string());
        server
            .call(Method::POST, "/callbacks/nobody", None, Body::None)
            .await
            .expect(404, "unknown provider");

        let report = server
            .get(&format!("/v1/campaigns/{campaign}/report"), &tenant.admin)
            .await
            .expect(200, "report");
        assert_eq!(report.json["messages"], json!({"delivered": 2}), "{db:?}");
        assert_eq!(report.json["delivered"], json!(2));
    }
}
