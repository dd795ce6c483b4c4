//! The delivery worker's rules on real databases, with scripted channels and a clock the
//! test moves: sent, retried with back-off (and the provider's Retry-After), moved to the
//! next channel on a permanent failure, dead after too many attempts or with no channel
//! left, deferred to the legal window without using an attempt, and delivery reports.

use crate::outbox_fixture::outbox_message;
use crate::targets;
use async_trait::async_trait;
use regulars::system::OsIdGen;
use regulars_domain::{Channel, CustomerId};
use regulars_ports::{
    DeliveryStatus, MessageSender, OutboxMessage, OutboxStatus, OutgoingMessage, Route, SendError,
    SendReceipt, SendWindow, UnitOfWork,
};
use regulars_service::{ChannelSenders, DeliveryOptions, Services};
use regulars_tests::ManualClock;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

/// What a scripted channel answers a recipient, call after call (the last answer
/// repeats).
#[derive(Clone)]
enum Answer {
    Ok,
    Retry(Option<std::time::Duration>),
    Permanent,
}

struct Scripted {
    channel: Channel,
    script: HashMap<String, Vec<Answer>>,
    calls: Mutex<Vec<String>>,
}

impl Scripted {
    fn new(channel: Channel, script: &[(&str, Vec<Answer>)]) -> Arc<Scripted> {
        Arc::new(Scripted {
            channel,
            script: script
                .iter()
                .map(|(r, a)| ((*r).to_owned(), a.clone()))
                .collect(),
            calls: Mutex::new(Vec::new()),
        })
    }

    fn calls_to(&self, recipient: &str) -> usize {
        self.calls
            .lock()
            .map(|c| c.iter().filter(|r| *r == recipient).count())
            .unwrap_or(0)
    }
}

#[async_trait]
impl MessageSender for Scripted {
    fn channel(&self) -> Channel {
        self.channel
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<SendReceipt, SendError> {
        let n = {
            let mut calls = self.calls.lock().map_err(|_| SendError::Permanent {
                reason: "poisoned".into(),
            })?;
            calls.push(message.recipient.clone());
            calls.iter().filter(|r| **r == message.recipient).count()
        };
        let answers = self
            .script
            .get(&message.recipient)
            .cloned()
            .unwrap_or_default();
        let answer = answers
            .get(n - 1)
            .or(answers.last())
            .cloned()
            .unwrap_or(Answer::Ok);
        match answer {
            Answer::Ok => Ok(SendReceipt {
                provider_message_id: format!("{:?}-{}-{n}", self.channel, message.dedupe_key),
            }),
            Answer::Retry(retry_after) => Err(SendError::Retryable {
                reason: "busy".into(),
                retry_after,
            }),
            Answer::Permanent => Err(SendError::Permanent {
                reason: "no such subscriber".into(),
            }),
        }
    }
}

fn route(channel: Channel, recipient: &str) -> Route {
    Route {
        channel,
        recipient: recipient.into(),
    }
}

fn message(
    brand: regulars_domain::BrandId,
    key: &str,
    first: Route,
    fallbacks: Vec<Route>,
    due_at: OffsetDateTime,
) -> OutboxMessage {
    OutboxMessage {
        customer_id: Some(CustomerId::from_uuid(Uuid::now_v7())),
        phone: Some(first.recipient.clone()),
        fallbacks,
        ..outbox_message(brand, key, first, "Cảm ơn bạn!", due_at)
    }
}

async fn by_key(
    store: &regulars_store::Store,
    brand: regulars_domain::BrandId,
) -> HashMap<String, OutboxMessage> {
    let mut tx = store.begin().await.unwrap_or_else(|e| panic!("{e}"));
    tx.outbox()
        .messages(brand, None, None, 500)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|m| (m.dedupe_key.clone(), m))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_fall_back_defer_and_give_up_by_the_rules() {
    for target in targets("delivery").await {
        let w = &target.world;
        let name = target.name;
        // 10:00 in Hanoi.
        let t0 = datetime!(2026-06-01 03:00 UTC);
        let clock = ManualClock::at(t0);
        let services = Services::new(w.store.clone(), clock.clone(), Arc::new(OsIdGen));
        let zalo = Scripted::new(Channel::Zalo, &[("+84900000002", vec![Answer::Permanent])]);
        let sms = Scripted::new(
            Channel::Sms,
            &[
                (
                    "+84900000002",
                    vec![Answer::Retry(None), Answer::Retry(None), Answer::Ok],
                ),
                ("+84900000003", vec![Answer::Retry(None)]),
                (
                    "+84900000006",
                    vec![Answer::Retry(Some(std::time::Duration::from_secs(600)))],
                ),
            ],
        );
        let senders = ChannelSenders::new().with(zalo.clone()).with(sms.clone());
        let options = DeliveryOptions {
            max_attempts: 3,
            base_backoff: Duration::seconds(30),
            max_backoff: Duration::minutes(10),
            ..DeliveryOptions::default()
        };
        let mut late = message(
            w.brand,
            "late",
            route(Channel::Sms, "+84900000005"),
            vec![],
            t0,
        );
        late.promotional = true;
        late.send_window = Some(SendWindow {
            utc_offset_seconds: 7 * 3600,
            start_hour: 7,
            end_hour: 22,
        });
        let messages = vec![
            message(
                w.brand,
                "ok",
                route(Channel::Zalo, "+84900000001"),
                vec![],
                t0,
            ),
            message(
                w.brand,
                "fallback",
                route(Channel::Zalo, "+84900000002"),
                vec![route(Channel::Sms, "+84900000002")],
                t0,
            ),
            message(
                w.brand,
                "tired",
                route(Channel::Sms, "+84900000003"),
                vec![],
                t0,
            ),
            message(
                w.brand,
                "nowhere",
                route(Channel::Email, "lan@example.vn"),
                vec![],
                t0,
            ),
            late,
            message(
                w.brand,
                "patient",
                route(Channel::Sms, "+84900000006"),
                vec![],
                t0,
            ),
        ];
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        tx.outbox()
            .enqueue(&messages)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));

        // Round 1 at 10:00 local.
        let round = services
            .deliver_due(&senders, &options)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(round.claimed, 6, "{name}");
        let m = by_key(&w.store, w.brand).await;
        assert_eq!(m["ok"].status, OutboxStatus::Sent, "{name}");
        assert_eq!(m["ok"].sent_at, Some(t0));
        assert!(m["ok"].provider_message_id.is_some());
        // Permanent on Zalo: now on SMS, attempts start again, due now.
        assert_eq!(m["fallback"].status, OutboxStatus::Pending, "{name}");
        assert_eq!(m["fallback"].route.channel, Channel::Sms);
        assert_eq!(m["fallback"].attempts, 0);
        assert!(m["fallback"].fallbacks.is_empty());
        assert_eq!(
            m["fallback"].last_error.as_deref(),
            Some("no such subscriber")
        );
        // Retryable: back-off of 30 s with jitter between 15 and 30 s.
        let wait = m["tired"].due_at - t0;
        assert!(
            wait >= Duration::seconds(15) && wait <= Duration::seconds(30),
            "{name}: {wait}"
        );
        assert_eq!(m["tired"].attempts, 1);
        // No email sender and nothing left to try: dead.
        assert_eq!(m["nowhere"].status, OutboxStatus::Dead, "{name}");
        // The provider's Retry-After wins over a shorter back-off.
        assert!(m["patient"].due_at - t0 >= Duration::seconds(600), "{name}");
        // Inside the window: sent.
        assert_eq!(m["late"].status, OutboxStatus::Sent, "{name}");

        // Round 2, 31 s later: the fallback's SMS is tried (retryable), tired again.
        clock.set(t0 + Duration::seconds(31));
        services
            .deliver_due(&senders, &options)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // Round 3 and 4, each after the longest possible back-off.
        clock.set(t0 + Duration::seconds(100));
        services
            .deliver_due(&senders, &options)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        clock.set(t0 + Duration::seconds(300));
        services
            .deliver_due(&senders, &options)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let m = by_key(&w.store, w.brand).await;
        assert_eq!(m["fallback"].status, OutboxStatus::Sent, "{name}");
        assert_eq!(sms.calls_to("+84900000002"), 3, "{name}");
        assert_eq!(zalo.calls_to("+84900000002"), 1, "{name}");
        assert_eq!(m["tired"].status, OutboxStatus::Dead, "{name}");
        assert_eq!(sms.calls_to("+84900000003"), 3, "{name}: max_attempts");
        assert!(
            m["tired"]
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("gave up after 3 attempts")),
            "{name}: {:?}",
            m["tired"].last_error
        );

        // A promotional message due at 22:30 local waits for 07:00 without using up an
        // attempt.
        let mut night = message(
            w.brand,
            "night",
            route(Channel::Sms, "+84900000007"),
            vec![],
            datetime!(2026-06-01 15:30 UTC),
        );
        night.promotional = true;
        night.send_window = Some(SendWindow {
            utc_offset_seconds: 7 * 3600,
            start_hour: 7,
            end_hour: 22,
        });
        let mut tx = w.store.begin().await.unwrap_or_else(|e| panic!("{e}"));
        tx.outbox()
            .enqueue(&[night])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
        clock.set(datetime!(2026-06-01 15:30 UTC));
        let round = services
            .deliver_due(&senders, &options)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(round.deferred, 1, "{name}");
        let m = by_key(&w.store, w.brand).await;
        assert_eq!(m["night"].status, OutboxStatus::Pending);
        assert_eq!(m["night"].due_at, datetime!(2026-06-02 00:00 UTC), "{name}");
        assert_eq!(m["night"].attempts, 0, "{name}");
        assert_eq!(sms.calls_to("+84900000007"), 0, "{name}");

        // A delivery report moves a sent message to delivered, once.
        let provider_id = m["ok"].provider_message_id.clone().unwrap_or_default();
        let at = t0 + Duration::minutes(1);
        assert!(
            services
                .record_delivery_report(
                    Channel::Zalo,
                    &provider_id,
                    None,
                    &DeliveryStatus::Delivered,
                    at
                )
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        );
        assert!(
            !services
                .record_delivery_report(
                    Channel::Zalo,
                    &provider_id,
                    None,
                    &DeliveryStatus::Delivered,
                    at
                )
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        );
        let m = by_key(&w.store, w.brand).await;
        assert_eq!(m["ok"].status, OutboxStatus::Delivered, "{name}");
        assert_eq!(m["ok"].delivered_at, Some(at));
        let depth = services
            .outbox_depth()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(depth.values().sum::<u64>(), 7, "{name}: {depth:?}");
    }
}

/// A customer who came back after the scoring run is not "lapsed" to a campaign: recency
/// counts from the new visit, so a `recency_days > 30` audience leaves them out while
/// everyone who stayed away is in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_after_scoring_counts_as_recent_for_campaigns() {
    for target in targets("fresh_visit").await {
        let w = &target.world;
        let name = target.name;
        let now = OffsetDateTime::now_utc();
        for c in 0..10u64 {
            for (k, days) in [(0, 120), (1, 90), (2, 60)] {
                w.services
                    .ingest_order(
                        w.brand,
                        regulars_tests::order(
                            w.brand,
                            &format!("F-{c}-{k}"),
                            c,
                            now - Duration::days(days),
                            1,
                        ),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        w.services
            .score_brand(w.brand, &regulars_service::ScoringOptions::default())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // Customer 0 comes back after the run.
        w.services
            .ingest_order(
                w.brand,
                regulars_tests::order(w.brand, "F-0-back", 0, now - Duration::hours(1), 1),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // An audience is profiling: these customers allow it.
        let everyone = w
            .services
            .customers(w.brand, None, 100)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for c in everyone {
            let patch = regulars_service::CustomerPatch {
                consent: regulars_service::ConsentPatch {
                    profiling: Some(true),
                    ..Default::default()
                },
                ..Default::default()
            };
            let by = regulars_service::ChangeAuthor {
                actor: "test".into(),
                source: regulars_domain::ChangeSource::Admin,
            };
            w.services
                .patch_customer(w.brand, c.id, patch, &by)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        w.services
            .set_messaging_policy(w.brand, regulars_campaigns::Policy::unrestricted())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let campaign = w
            .services
            .create_campaign(
                w.brand,
                &serde_json::json!({"name": "Lâu rồi không gặp", "trigger": {"type": "broadcast"},
                    "audience": {"rule": "recency_days > 30"}, "channels": ["sms"],
                    "policy": {}, "holdout": 0.0, "frequency_cap": null}),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let preview = w
            .services
            .preview_campaign(w.brand, campaign.id)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let skipped =
            |r: regulars_campaigns::plan::SkipReason| preview.skipped.get(&r).copied().unwrap_or(0);
        // Nobody consented to SMS: the nine who stayed away get as far as the channel.
        assert_eq!(
            skipped(regulars_campaigns::plan::SkipReason::NoChannel),
            9,
            "{name}: {preview:?}"
        );
        assert_eq!(
            skipped(regulars_campaigns::plan::SkipReason::NotInAudience),
            1,
            "{name}: {preview:?}"
        );
    }
}
