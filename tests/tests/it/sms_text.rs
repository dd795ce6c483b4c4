//! SMS text as the networks bill it: a campaign whose text is over its segment cap is
//! refused when saved (naming the field), the preview counts segments per message, and
//! the delivery worker folds accents when the campaign asks and refuses a text over the
//! cap (the message moves to its next channel) instead of cutting it. ZNS template
//! parameters are checked against their declared types the same way.

use crate::outbox_fixture::outbox_message;
use crate::server::{dbs, spawn};
use crate::targets;
use async_trait::async_trait;
use regulars_domain::sms::SmsOptions;
use regulars_domain::{Channel, CustomerId};
use regulars_ports::{
    MessageSender, OutboxMessage, OutboxStatus, OutgoingMessage, Route, SendError, SendReceipt,
    UnitOfWork,
};
use regulars_service::{ChannelSenders, DeliveryOptions};
use regulars_tests::phone;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use uuid::Uuid;

/// 67 accented characters: with `[QC] `, a customer's name and the opt-out instruction,
/// three UCS-2 segments.
const TEMPLATE: &str = "Chào {{name}}! Trà Sữa Mây tặng bạn ly trà đào miễn phí hôm nay nhé.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_over_its_sms_cap_is_refused_and_the_preview_counts_segments() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("Segments").await;
        let admin = tenant.admin.as_str();
        for n in 1..=2 {
            server
                .post(
                    "/v1/customers",
                    admin,
                    &json!({"phone": phone(n).as_str(), "name": "Nguyễn Thị Lan Anh",
                            "consent": {"sms": true}}),
                )
                .await
                .expect(201, "customer");
        }
        let doc = |sms: serde_json::Value| {
            json!({"name": "Segments", "trigger": {"type": "broadcast"}, "holdout": 0,
                   "channels": ["sms"], "template": TEMPLATE, "sms": sms})
        };
        let refused = server
            .post("/v1/campaigns", admin, &doc(json!({"max_segments": 1})))
            .await;
        let field = refused.expect_error(422, "invalid", &format!("{db:?}: over the cap"));
        assert_eq!(
            field.as_deref(),
            Some("template"),
            "{db:?}: {}",
            refused.text
        );
        assert!(refused.text.contains("3 segments"), "{}", refused.text);
        let bad_cap = server
            .post("/v1/campaigns", admin, &doc(json!({"max_segments": 0})))
            .await;
        let field = bad_cap.expect_error(422, "invalid", &format!("{db:?}: cap 0"));
        assert_eq!(
            field.as_deref(),
            Some("sms.max_segments"),
            "{}",
            bad_cap.text
        );

        // Unaccented, the same text with the instruction is two GSM-7 segments per message.
        let campaign = server
            .post(
                "/v1/campaigns",
                admin,
                &doc(json!({"max_segments": 2, "fold_accents": true})),
            )
            .await
            .expect(201, "folded campaign")
            .str("/id");
        let preview = server
            .post(
                &format!("/v1/campaigns/{campaign}/preview"),
                admin,
                &json!({}),
            )
            .await
            .expect(200, "preview");
        assert_eq!(
            preview.json["sms_segments"],
            json!({"2": 2}),
            "{}",
            preview.text
        );
        assert_eq!(preview.json["sms_over_cap"], 0, "{}", preview.text);

        // Accented and uncapped: three segments each, as the preview says.
        let accented = server
            .post("/v1/campaigns", admin, &doc(json!({})))
            .await
            .expect(201, "accented campaign")
            .str("/id");
        let preview = server
            .post(
                &format!("/v1/campaigns/{accented}/preview"),
                admin,
                &json!({}),
            )
            .await
            .expect(200, "preview");
        assert_eq!(
            preview.json["sms_segments"],
            json!({"3": 2}),
            "{}",
            preview.text
        );
        server.stop().await;
    }
}

/// An SMS channel that keeps the texts it is handed.
struct Recording(Mutex<Vec<String>>);

#[async_trait]
impl MessageSender for Recording {
    fn channel(&self) -> Channel {
        Channel::Sms
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        if let Ok(mut texts) = self.0.lock() {
            texts.push(message.body.clone());
        }
        Ok(SendReceipt {
            provider_message_id: format!("sms-{}", message.dedupe_key),
        })
    }
}

/// An email channel that accepts everything.
struct Mailbox;

#[async_trait]
impl MessageSender for Mailbox {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        Ok(SendReceipt {
            provider_message_id: format!("mail-{}", message.dedupe_key),
        })
    }
}

fn message(
    brand: regulars_domain::BrandId,
    key: &str,
    body: &str,
    sms: SmsOptions,
) -> OutboxMessage {
    let sms_route = Route {
        channel: Channel::Sms,
        recipient: "+84900000001".into(),
    };
    OutboxMessage {
        customer_id: Some(CustomerId::from_uuid(Uuid::now_v7())),
        phone: Some("+84900000001".into()),
        fallbacks: vec![Route {
            channel: Channel::Email,
            recipient: "lan@example.vn".into(),
        }],
        subject: Some("Mây".into()),
        sms,
        ..outbox_message(brand, key, sms_route, body, OffsetDateTime::now_utc())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_goes_out_folded_and_never_over_its_cap() {
    for target in targets("sms_text").await {
        let w = &target.world;
        let name = target.name;
        let sms = Arc::new(Recording(Mutex::new(Vec::new())));
        let senders = ChannelSenders::new()
            .with(sms.clone())
            .with(Arc::new(Mailbox));
        let long =
            "Cảm ơn bạn đã ghé Trà Sữa Mây hôm nay! Tặng bạn ly trà đào miễn phí nhé, hẹn gặp lại!";
        let messages = vec![
            message(
                w.brand,
                "folded",
                "Cảm ơn bạn đã ghé Mây!",
                SmsOptions {
                    fold_accents: true,
                    max_segments: Some(1),
                },
            ),
            message(
                w.brand,
                "too-long",
                long,
                SmsOptions {
                    fold_accents: false,
                    max_segments: Some(1),
                },
            ),
        ];
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        tx.outbox()
            .enqueue(&messages)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));

        w.services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let texts = sms.0.lock().map(|t| t.clone()).unwrap_or_default();
        assert_eq!(texts, vec!["Cam on ban da ghe May!".to_owned()], "{name}");

        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let stored: BTreeMap<String, OutboxMessage> = tx
            .outbox()
            .messages(w.brand, None, None, 10)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .into_iter()
            .map(|m| (m.dedupe_key.clone(), m))
            .collect();
        drop(tx);
        assert_eq!(stored["folded"].status, OutboxStatus::Sent, "{name}");
        // The stored text keeps its accents (email and ZNS would show them).
        assert_eq!(stored["folded"].body, "Cảm ơn bạn đã ghé Mây!", "{name}");
        // Over the cap: refused on SMS, never cut, and moved to email.
        let refused = &stored["too-long"];
        assert_eq!(refused.route.channel, Channel::Email, "{name}");
        assert_eq!(refused.status, OutboxStatus::Pending, "{name}");
        let reason = refused.last_error.as_deref().unwrap_or_default();
        assert!(
            reason.contains("2 segments") && reason.contains("cap of 1"),
            "{name}: {reason}"
        );
        assert_eq!(refused.body, long, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zns_parameters_are_checked_when_saved_and_when_sent() {
    for db in dbs() {
        let server = spawn(db).await;
        let tenant = server.tenant("Trà Sữa Mây chi nhánh Nguyễn Huệ").await;
        let admin = tenant.admin.as_str();
        let doc = |kind: &str| {
            json!({"name": "Params", "trigger": {"type": "broadcast"}, "channels": ["zalo"],
                   "zalo_template": "240871",
                   "zalo_params": {"customer_name": {"value": "name", "type": "customer_name"},
                                   "shop_name": {"value": "shop", "type": kind}}})
        };
        // The brand's name (the campaign's shop) is 32 characters: too long for a label.
        let refused = server.post("/v1/campaigns", admin, &doc("label")).await;
        let field = refused.expect_error(422, "invalid", &format!("{db:?}: label"));
        assert_eq!(
            field.as_deref(),
            Some("zalo_params.shop_name"),
            "{db:?}: {}",
            refused.text
        );
        assert!(
            refused.text.contains("more than the 30"),
            "{}",
            refused.text
        );
        server
            .post("/v1/campaigns", admin, &doc("product"))
            .await
            .expect(201, "a product parameter takes 200 characters");
        server.stop().await;
    }

    for target in targets("zns_params").await {
        let w = &target.world;
        let name = target.name;
        let sms = Arc::new(Recording(Mutex::new(Vec::new())));
        let zalo = Arc::new(Zalo(Mutex::new(Vec::new())));
        let senders = ChannelSenders::new().with(sms.clone()).with(zalo.clone());
        let mut fits = message(w.brand, "fits", "Chào Lan", SmsOptions::default());
        let mut too_long = message(w.brand, "too-long", "Chào Lan", SmsOptions::default());
        for (m, customer) in [(&mut fits, "Lan"), (&mut too_long, &"Lan ".repeat(10)[..])] {
            m.route = Route {
                channel: Channel::Zalo,
                recipient: "+84900000001".into(),
            };
            m.fallbacks = vec![Route {
                channel: Channel::Sms,
                recipient: "+84900000001".into(),
            }];
            m.template = Some("240871".into());
            m.data = BTreeMap::from([("customer_name".to_owned(), customer.to_owned())]);
            m.zns_params = BTreeMap::from([(
                "customer_name".to_owned(),
                regulars_domain::zns::ZnsParamType::CustomerName,
            )]);
        }
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        tx.outbox()
            .enqueue(&[fits, too_long])
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
        w.services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let sent = zalo.0.lock().map(|k| k.clone()).unwrap_or_default();
        assert_eq!(
            sent,
            vec!["fits".to_owned()],
            "{name}: Zalo is never called with it"
        );
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let stored: BTreeMap<String, OutboxMessage> = tx
            .outbox()
            .messages(w.brand, None, None, 10)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .into_iter()
            .map(|m| (m.dedupe_key.clone(), m))
            .collect();
        drop(tx);
        let moved = &stored["too-long"];
        assert_eq!(moved.route.channel, Channel::Sms, "{name}");
        let reason = moved.last_error.as_deref().unwrap_or_default();
        assert!(
            reason.contains("customer_name") && reason.contains("more than the 30"),
            "{name}: {reason}"
        );
    }
}

/// A Zalo channel that keeps the dedupe keys it is handed.
struct Zalo(Mutex<Vec<String>>);

#[async_trait]
impl MessageSender for Zalo {
    fn channel(&self) -> Channel {
        Channel::Zalo
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        if let Ok(mut keys) = self.0.lock() {
            keys.push(message.dedupe_key.clone());
        }
        Ok(SendReceipt {
            provider_message_id: format!("zalo-{}", message.dedupe_key),
        })
    }
}
