//! Consent as data: per purpose, with the time, source and notice version of every
//! change kept in an append-only history, "withdrawn" told apart from "never asked".

use crate::server::{Body, dbs, spawn};
use regulars_tests::phone;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_is_kept_per_purpose_with_its_history() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("Consent").await;
        let admin = tenant.admin.as_str();
        for text in ["Thông báo 1", "Thông báo 2"] {
            server
                .put("/v1/brand/notice", admin, &json!({"texts": {"vi": text}}))
                .await
                .expect(200, "notice");
        }
        let made = server
            .post(
                "/v1/customers",
                admin,
                &json!({"phone": phone(1).as_str(), "email": "lan@example.com",
                        "consent": {"zalo": false, "sms": true, "email": true, "profiling": true,
                                    "programme": true, "notice_version": 2, "source": "signup"}}),
            )
            .await
            .expect(201, "register");
        let id = made.str("/id");
        assert_eq!(made.json["consent"]["profiling"], true, "{db:?}");
        let url = format!("/v1/customers/{id}");
        // The customer takes SMS and profiling back; saying "no" to Zalo, never asked,
        // records nothing.
        server
            .call(
                Method::PATCH,
                &url,
                Some(admin),
                Body::Json(&json!({"consent": {"sms": false, "zalo": false, "profiling": false}})),
            )
            .await
            .expect(200, "withdraw");

        let got = server
            .get(&format!("{url}/consents"), admin)
            .await
            .expect(200, "consents");
        assert_eq!(
            got.json["current"],
            json!({"programme": "granted", "marketing_zalo": "never_asked",
                   "marketing_sms": "withdrawn", "marketing_email": "granted",
                   "profiling": "withdrawn"}),
            "{db:?}"
        );
        let history: Vec<(String, String, String, Value)> = got.json["history"]
            .as_array()
            .unwrap_or_else(|| panic!("{}", got.text))
            .iter()
            .map(|e| {
                (
                    e["purpose"].as_str().unwrap_or_default().to_owned(),
                    e["state"].as_str().unwrap_or_default().to_owned(),
                    e["source"].as_str().unwrap_or_default().to_owned(),
                    e["notice_version"].clone(),
                )
            })
            .collect();
        let row = |p: &str, s: &str, src: &str, v: Value| (p.into(), s.into(), src.into(), v);
        assert_eq!(
            history,
            vec![
                row("programme", "granted", "signup", json!(2)),
                row("marketing_sms", "granted", "signup", json!(2)),
                row("marketing_email", "granted", "signup", json!(2)),
                row("profiling", "granted", "signup", json!(2)),
                row("marketing_sms", "withdrawn", "api", Value::Null),
                row("profiling", "withdrawn", "api", Value::Null),
            ],
            "{db:?}: {}",
            got.text
        );
        let profile = server.get(&url, admin).await.expect(200, "profile");
        assert_eq!(profile.json["customer"]["consent"]["sms"], false, "{db:?}");
        assert_eq!(profile.json["customer"]["consent"]["email"], true, "{db:?}");

        // Sources only the system records are refused, and so is version 0.
        for (body, field) in [
            (
                json!({"consent": {"sms": true, "source": "legacy"}}),
                "consent.source",
            ),
            (
                json!({"consent": {"sms": true, "source": "unsubscribe_link"}}),
                "consent.source",
            ),
            (
                json!({"consent": {"sms": true, "notice_version": 0}}),
                "consent.notice_version",
            ),
        ] {
            let refused = server
                .call(Method::PATCH, &url, Some(admin), Body::Json(&body))
                .await;
            let named = refused.expect_error(400, "invalid", &format!("{db:?}: {body}"));
            assert_eq!(named.as_deref(), Some(field), "{db:?}: {}", refused.text);
        }
        server
            .get(
                &format!("/v1/customers/{}/consents", uuid::Uuid::now_v7()),
                admin,
            )
            .await
            .expect(404, "unknown customer");
        server.stop().await;
    }
}

/// A channel that records what it was asked to send.
struct Recorder(std::sync::Mutex<Vec<String>>);

#[async_trait::async_trait]
impl regulars_ports::MessageSender for Recorder {
    fn channel(&self) -> regulars_domain::Channel {
        regulars_domain::Channel::Sms
    }

    async fn send(
        &self,
        message: &regulars_ports::OutgoingMessage,
    ) -> Result<regulars_ports::SendReceipt, regulars_ports::SendError> {
        if let Ok(mut sent) = self.0.lock() {
            sent.push(message.recipient.clone());
        }
        Ok(regulars_ports::SendReceipt {
            provider_message_id: message.dedupe_key.clone(),
        })
    }
}

fn author() -> regulars_service::ChangeAuthor {
    regulars_service::ChangeAuthor {
        actor: "test".into(),
        source: regulars_domain::ChangeSource::Admin,
    }
}

async fn withdraw(
    w: &regulars_tests::World,
    customer: regulars_domain::CustomerId,
    consent: regulars_service::ConsentPatch,
) {
    w.services
        .patch_customer(
            w.brand,
            customer,
            regulars_service::CustomerPatch {
                consent,
                ..Default::default()
            },
            &author(),
        )
        .await
        .unwrap_or_else(|e| panic!("withdraw: {e}"));
}

/// Opt-out is honoured twice: a customer who withdrew is skipped when a campaign is
/// planned, and one who withdraws after planning is not sent the message already queued.
/// A customer who refused profiling is left out of targeted campaigns and still earns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opt_out_is_honoured_at_planning_and_at_delivery() {
    use regulars_campaigns::plan::SkipReason;
    use regulars_ports::{OutboxStatus, UnitOfWork};
    use regulars_service::{CampaignAction, ChannelSenders, ConsentPatch, DeliveryOptions};
    use std::sync::Arc;

    for target in crate::targets("consent_optout").await {
        let w = &target.world;
        let name = target.name;
        let mut ids = Vec::new();
        for n in 0..4u64 {
            let c = regulars_tests::sms_customer(&w.services, w.brand, n, &format!("Khách {n}"))
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            ids.push(c.id);
        }
        let (stays, left_before, leaves_after, no_profiling) = (ids[0], ids[1], ids[2], ids[3]);
        let no_sms = ConsentPatch {
            sms: Some(false),
            ..ConsentPatch::default()
        };
        withdraw(w, left_before, no_sms).await;
        withdraw(
            w,
            no_profiling,
            ConsentPatch {
                profiling: Some(false),
                ..ConsentPatch::default()
            },
        )
        .await;
        w.services
            .set_messaging_policy(w.brand, regulars_campaigns::Policy::unrestricted())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let create = |doc: serde_json::Value| async move {
            let c = w
                .services
                .create_campaign(w.brand, &doc)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            w.services
                .set_campaign_status(w.brand, c.id, CampaignAction::Launch)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            c.id
        };
        let broadcast = create(
            json!({"name": "Khai trương", "trigger": {"type": "broadcast"},
            "channels": ["sms"], "policy": {}, "holdout": 0.0, "frequency_cap": null}),
        )
        .await;
        let targeted = create(
            json!({"name": "Khách thân", "trigger": {"type": "broadcast"},
            "audience": {"rule": "marketing_consent = true"}, "channels": ["sms"],
            "policy": {}, "holdout": 0.0, "frequency_cap": null}),
        )
        .await;
        let preview = w
            .services
            .preview_campaign(w.brand, targeted)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            preview.skipped.get(&SkipReason::NoProfilingConsent),
            Some(&1),
            "{name}: {preview:?}"
        );
        w.services
            .set_campaign_status(w.brand, targeted, CampaignAction::End)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));

        let runs = w
            .services
            .run_campaigns(w.brand)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let run = runs
            .iter()
            .find(|r| r.campaign_id == broadcast)
            .unwrap_or_else(|| panic!("{name}: {runs:?}"));
        assert_eq!(run.messages, 3, "{name}: {run:?}");
        assert_eq!(
            run.skipped.get(&SkipReason::OptedOut),
            Some(&1),
            "{name}: {run:?}"
        );

        // Planned; then one customer opts out before the worker comes.
        withdraw(w, leaves_after, no_sms).await;
        let recorder = Arc::new(Recorder(std::sync::Mutex::new(Vec::new())));
        let senders = ChannelSenders::new().with(recorder.clone());
        let round = w
            .services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (round.sent, round.dead, round.cancelled),
            (2, 0, 1),
            "{name}: {round:?}"
        );
        let sent = recorder.0.lock().map(|s| s.clone()).unwrap_or_default();
        assert!(
            !sent.contains(&regulars_tests::phone(2).as_str().to_owned()),
            "{name}: {sent:?}"
        );
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let messages = tx
            .outbox()
            .messages(w.brand, Some(broadcast), None, 100)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        drop(tx);
        let cancelled = messages
            .iter()
            .find(|m| m.customer_id == Some(leaves_after))
            .unwrap_or_else(|| panic!("{name}: {messages:?}"));
        assert_eq!(cancelled.status, OutboxStatus::Cancelled, "{name}");
        assert!(
            cancelled
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("consent") && e.contains("withdrawn")),
            "{name}: {cancelled:?}"
        );
        assert!(
            messages
                .iter()
                .filter(|m| m.customer_id == Some(stays) || m.customer_id == Some(no_profiling))
                .all(|m| m.status == OutboxStatus::Sent),
            "{name}: {messages:?}"
        );

        // Refusing profiling takes nothing from the programme.
        let receipt = w
            .services
            .ingest_order(
                w.brand,
                regulars_tests::order(w.brand, "P-3", 3, time::OffsetDateTime::now_utc(), 2),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(receipt.points_earned.value() > 0, "{name}: {receipt:?}");
    }
}
