//! What a delivery round reads before it sends: the consent of every customer of its
//! promotional messages in one statement per brand, not one per message, with a
//! withdrawal since planning still honoured; and how a round claims: the next batches
//! while claims come back full, up to a hundred batches a round.

use crate::observed::observed;
use crate::outbox_fixture::outbox_message;
use crate::targets;
use async_trait::async_trait;
use regulars_domain::{Channel, CustomerId};
use regulars_ports::{
    MessageSender, OutboxMessage, OutgoingMessage, Route, SendError, SendReceipt, UnitOfWork,
};
use regulars_service::{
    ChangeAuthor, ChannelSenders, ConsentPatch, CustomerPatch, DeliveryOptions, Services,
};
use regulars_tests::{phone, sms_customer};
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

struct Accepts(Mutex<Vec<String>>);

#[async_trait]
impl MessageSender for Accepts {
    fn channel(&self) -> Channel {
        Channel::Sms
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        if let Ok(mut sent) = self.0.lock() {
            sent.push(message.recipient.clone());
        }
        Ok(SendReceipt {
            provider_message_id: format!("p-{}", message.dedupe_key),
        })
    }
}

fn promotion(
    brand: regulars_domain::BrandId,
    customer: CustomerId,
    recipient: &str,
    now: OffsetDateTime,
) -> OutboxMessage {
    let route = Route {
        channel: Channel::Sms,
        recipient: recipient.to_owned(),
    };
    OutboxMessage {
        customer_id: Some(customer),
        phone: Some(recipient.to_owned()),
        promotional: true,
        ..outbox_message(
            brand,
            &format!("promo:{recipient}"),
            route,
            "Ưu đãi cuối tuần",
            now,
        )
    }
}

/// Statements that read the customers table.
fn customer_reads(log: &Mutex<Vec<String>>) -> usize {
    log.lock()
        .map(|l| {
            l.iter()
                .filter(|sql| {
                    sql.trim_start().starts_with("SELECT") && sql.contains("\"customers\"")
                })
                .count()
        })
        .unwrap_or(usize::MAX)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_reads_its_customers_consent_once() {
    for target in targets("delivery_reads").await {
        let w = &target.world;
        let name = target.name;
        let now = OffsetDateTime::now_utc();
        let mut messages = Vec::new();
        let mut withdrawn = None;
        for n in 0..30 {
            let customer = sms_customer(&w.services, w.brand, n, "Khách")
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            if n == 7 {
                w.services
                    .patch_customer(
                        w.brand,
                        customer.id,
                        CustomerPatch {
                            consent: ConsentPatch {
                                sms: Some(false),
                                ..ConsentPatch::default()
                            },
                            ..Default::default()
                        },
                        &ChangeAuthor {
                            actor: "test".into(),
                            source: regulars_domain::ChangeSource::Admin,
                        },
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                withdrawn = Some(phone(n).as_str().to_owned());
            }
            messages.push(promotion(w.brand, customer.id, phone(n).as_str(), now));
        }
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        tx.outbox()
            .enqueue(&messages)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));

        let (services, log) = observed(&target.url).await;
        let sender = Arc::new(Accepts(Mutex::new(Vec::new())));
        let senders = ChannelSenders::new().with(sender.clone());
        let round = services
            .deliver_due(&senders, &DeliveryOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(round.claimed, 30, "{name}: {round:?}");
        assert_eq!(round.sent, 29, "{name}: {round:?}");
        assert_eq!(round.cancelled, 1, "{name}: {round:?}");
        let sent = sender.0.lock().map(|s| s.clone()).unwrap_or_default();
        assert_eq!(sent.len(), 29, "{name}");
        assert!(
            withdrawn.is_some_and(|w| !sent.contains(&w)),
            "{name}: the withdrawn customer got nothing"
        );
        assert_eq!(customer_reads(&log), 1, "{name}: one read of the customers");
    }
}

/// Statements that claim due messages.
fn claims(log: &Mutex<Vec<String>>) -> usize {
    log.lock()
        .map(|l| {
            l.iter()
                .filter(|sql| sql.trim_start().starts_with("WITH picked"))
                .count()
        })
        .unwrap_or(usize::MAX)
}

/// Delivers one round of `services` with batches of `batch`; the round and the
/// recipients it sent to.
async fn round_of(
    services: &Services,
    batch: u64,
    name: &str,
) -> (regulars_service::DeliveryRound, Vec<String>) {
    let sender = Arc::new(Accepts(Mutex::new(Vec::new())));
    let senders = ChannelSenders::new().with(sender.clone());
    let options = DeliveryOptions {
        batch,
        concurrency: 2,
        ..DeliveryOptions::default()
    };
    let round = services
        .deliver_due(&senders, &options)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let sent = sender.0.lock().map(|s| s.clone()).unwrap_or_default();
    (round, sent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_claims_its_next_batch_while_claims_come_back_full() {
    for target in targets("delivery_ahead").await {
        let w = &target.world;
        let name = target.name;
        let now = OffsetDateTime::now_utc();
        let promotions = |numbers: std::ops::Range<u64>| -> Vec<OutboxMessage> {
            numbers
                .map(|n| {
                    let customer = CustomerId::from_uuid(uuid::Uuid::now_v7());
                    promotion(w.brand, customer, phone(n).as_str(), now)
                })
                .collect()
        };
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        tx.outbox()
            .enqueue(&promotions(0..25))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));

        let (services, log) = observed(&target.url).await;
        // Batches of 10: two full claims, then one of 5 that ends the round.
        let (round, mut sent) = round_of(&services, 10, name).await;
        assert_eq!((round.claimed, round.sent), (25, 25), "{name}: {round:?}");
        sent.sort();
        sent.dedup();
        assert_eq!(sent.len(), 25, "{name}: each message sent once");
        // Two claims may be under way when the last full one comes back: one more then
        // finds nothing.
        let claimed = claims(&log);
        assert!(
            (3..=4).contains(&claimed),
            "{name}: three claims in the round, and at most one empty: {claimed}"
        );
        let (round, _) = round_of(&services, 10, name).await;
        assert_eq!(round.claimed, 0, "{name}: nothing left: {round:?}");

        // Batches of one: a round stops after a hundred (or sooner, after its time), the
        // next rounds take the rest.
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        tx.outbox()
            .enqueue(&promotions(100..205))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
        let (first, _) = round_of(&services, 1, name).await;
        assert!(
            first.claimed > 1 && first.claimed <= 100 && first.sent == first.claimed,
            "{name}: {first:?}"
        );
        let mut rest = 0;
        for _ in 0..105 {
            let (next, _) = round_of(&services, 1, name).await;
            assert_eq!(next.sent, next.claimed, "{name}: {next:?}");
            if next.claimed == 0 {
                break;
            }
            rest += next.claimed;
        }
        assert_eq!(first.claimed + rest, 105, "{name}: every message once");
    }
}
