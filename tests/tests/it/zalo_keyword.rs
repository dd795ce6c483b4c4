//! Opting out by keyword: a follower texts the brand's Zalo Official Account "Hủy";
//! Zalo posts the signed `user_send_text` event to `/callbacks/zalo` and the customer with
//! that Zalo user id is taken off promotional Zalo messages (source `provider_keyword`),
//! once; the next Zalo campaign skips them. Other texts, unknown senders and forged
//! events change nothing.

use crate::server::{TestServer, dbs, spawn_configured};
use regulars_campaigns::Policy;
use regulars_campaigns::plan::SkipReason;
use regulars_domain::{BrandId, ChangeSource, CustomerId};
use regulars_senders::ReportKeys;
use regulars_senders::callbacks::zalo_signature;
use regulars_service::{CampaignAction, ChangeAuthor, ConsentPatch, CustomerInput, CustomerPatch};
use regulars_tests::ManualClock;
use serde_json::{Value, json};
use time::macros::datetime;

const APP_ID: &str = "3482178216594085616";
const OA_SECRET: &str = "oa-secret-for-tests";
/// The vendor's example event (`crates/senders/tests/fixtures/README.md` names it).
const EXAMPLE: &str =
    include_str!("../../../crates/senders/tests/fixtures/zalo_user_send_text.json");
/// The Zalo user id the example's sender has at the OA.
const SENDER: &str = "4411682737790366300";

/// The example event with `text` (and, when given, another sender and msg_id), and its
/// signature.
fn event(text: &str, sender: Option<&str>, msg_id: Option<&str>) -> (String, String) {
    let mut body: Value =
        serde_json::from_str(EXAMPLE).unwrap_or_else(|e| panic!("the example: {e}"));
    body["message"]["text"] = json!(text);
    if let Some(sender) = sender {
        body["sender"]["id"] = json!(sender);
    }
    if let Some(id) = msg_id {
        body["message"]["msg_id"] = json!(id);
    }
    let body = if text == "Hello from user" && sender.is_none() && msg_id.is_none() {
        // The vendor's bytes exactly.
        EXAMPLE.trim().to_owned()
    } else {
        body.to_string()
    };
    let timestamp = "1754405178258";
    let signature = zalo_signature(APP_ID, body.as_bytes(), timestamp, OA_SECRET);
    (body, signature)
}

async fn post(server: &TestServer, (body, signature): &(String, String)) -> (u16, Value) {
    let reply = reqwest::Client::new()
        .post(format!("{}/callbacks/zalo", server.base))
        .header("content-type", "application/json")
        .header("X-ZEvent-Signature", signature)
        .body(body.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST /callbacks/zalo: {e}"));
    let status = reply.status().as_u16();
    (status, reply.json().await.unwrap_or(Value::Null))
}

async fn zalo_customer(server: &TestServer, brand: BrandId, n: u64, zalo: &str) -> CustomerId {
    server
        .services
        .create_customer(
            brand,
            regulars_tests::phone(n).as_str(),
            CustomerInput {
                name: Some(format!("Khách {n}")),
                birthday: None,
                email: None,
                zalo_user_id: Some(zalo.to_owned()),
                consent: ConsentPatch {
                    zalo: Some(true),
                    sms: Some(true),
                    ..Default::default()
                },
                notice_version: None,
                consent_source: None,
            },
            &ChangeAuthor {
                actor: "test".to_owned(),
                source: ChangeSource::Import,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("customer {n}: {e}"))
        .id
}

/// The customer's consent events as `(purpose, state, source)`.
async fn history(
    server: &TestServer,
    brand: BrandId,
    id: CustomerId,
) -> Vec<(String, String, String)> {
    let (_, events) = server
        .services
        .consent_history(brand, id)
        .await
        .unwrap_or_else(|e| panic!("history: {e}"));
    events
        .iter()
        .map(|e| {
            (
                e.purpose.as_str().to_owned(),
                e.state.as_str().to_owned(),
                e.source.as_str().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyword_sent_to_the_oa_opts_its_sender_out_of_zalo_once() {
    for db in dbs() {
        // The clock of the vendor's example, so its signed timestamp is fresh.
        let clock = ManualClock::at(datetime!(2025-08-05 14:46:20 UTC));
        let server = spawn_configured(
            db,
            |s| {
                s.report_keys = ReportKeys {
                    zalo: Some((APP_ID.into(), OA_SECRET.into())),
                    esms_token: None,
                }
            },
            clock.clone(),
        )
        .await;
        let brand = server.tenant("Cà Phê Từ Chối").await.brand;
        let policy = Policy {
            opt_out_keywords: vec!["Ngừng nhận tin".to_owned()],
            ..Policy::unrestricted()
        };
        server
            .services
            .set_messaging_policy(brand, policy)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let lan = zalo_customer(&server, brand, 1, SENDER).await;
        zalo_customer(&server, brand, 2, "7000000000000000002").await;
        let before = history(&server, brand, lan).await;

        // The vendor's example as it is: a conversation, acknowledged and ignored.
        let (status, ack) = post(&server, &event("Hello from user", None, None)).await;
        assert_eq!(status, 200, "{db:?}: {ack}");
        assert_eq!(ack["recorded"], json!(false), "{db:?}: {ack}");
        assert_eq!(ack["ignored"], json!("not an opt-out keyword"), "{db:?}");
        // A keyword inside a longer message is no refusal either.
        let (_, ack) = post(&server, &event("huỷ đơn hàng giúp mình", None, Some("m-2"))).await;
        assert_eq!(ack["recorded"], json!(false), "{db:?}: {ack}");
        // A forged event is refused.
        let (body, _) = event("Hủy", None, Some("m-3"));
        let (status, ack) = post(&server, &(body, "mac=00ff".to_owned())).await;
        assert_eq!(status, 401, "{db:?}: {ack}");
        assert_eq!(history(&server, brand, lan).await, before, "{db:?}");
        // A keyword from someone who is no customer: acknowledged, nothing changes.
        let (status, ack) = post(&server, &event("STOP", Some("9999"), Some("m-4"))).await;
        assert_eq!(status, 200, "{db:?}: {ack}");
        assert_eq!(ack["ignored"], json!("no customer to opt out"), "{db:?}");

        // "Hủy" from Lan: off promotional Zalo messages, recorded as a provider keyword.
        let refusal = event(" Hủy ", None, Some("m-5"));
        let (status, ack) = post(&server, &refusal).await;
        assert_eq!(status, 200, "{db:?}: {ack}");
        assert_eq!(ack["recorded"], json!(true), "{db:?}: {ack}");
        let after = history(&server, brand, lan).await;
        assert_eq!(
            after.last(),
            Some(&(
                "marketing_zalo".to_owned(),
                "withdrawn".to_owned(),
                "provider_keyword".to_owned()
            )),
            "{db:?}: {after:?}"
        );
        assert_eq!(after.len(), before.len() + 1, "{db:?}: {after:?}");

        // Delivered again (Zalo retries): handled once, even after Lan opted in again.
        let again = CustomerPatch {
            name: None,
            birthday: None,
            email: None,
            zalo_user_id: None,
            consent: ConsentPatch {
                zalo: Some(true),
                ..Default::default()
            },
            notice_version: None,
            consent_source: None,
        };
        let author = ChangeAuthor {
            actor: "test".to_owned(),
            source: ChangeSource::Api,
        };
        server
            .services
            .patch_customer(brand, lan, again, &author)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let granted_again = history(&server, brand, lan).await;
        let (status, ack) = post(&server, &refusal).await;
        assert_eq!(status, 200, "{db:?}: {ack}");
        assert_eq!(ack["ignored"], json!("event handled before"), "{db:?}");
        assert_eq!(history(&server, brand, lan).await, granted_again, "{db:?}");

        // The brand's own word counts too; then a Zalo campaign: Lan is skipped as opted
        // out, Bình is sent.
        let (_, ack) = post(&server, &event("ngung nhan tin", None, Some("m-6"))).await;
        assert_eq!(ack["recorded"], json!(true), "{db:?}: {ack}");
        let campaign = server
            .services
            .create_campaign(
                brand,
                &json!({"name": "Tuần lễ vàng", "trigger": {"type": "broadcast"},
                        "channels": ["zalo"], "zalo_template": "hello", "holdout": 0.0,
                        "frequency_cap": null}),
            )
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        server
            .services
            .set_campaign_status(brand, campaign.id, CampaignAction::Launch)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let runs = server
            .services
            .run_campaigns(brand)
            .await
            .unwrap_or_else(|e| panic!("{db:?}: {e}"));
        let run = runs
            .iter()
            .find(|r| r.campaign_id == campaign.id)
            .unwrap_or_else(|| panic!("{db:?}: {runs:?}"));
        assert_eq!(run.messages, 1, "{db:?}: {runs:?}");
        assert_eq!(
            run.skipped.get(&SkipReason::OptedOut),
            Some(&1),
            "{db:?}: {runs:?}"
        );
        server.stop().await;
    }
}
