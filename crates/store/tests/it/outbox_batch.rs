//! The outbox's batched record of accepted sends: one statement for many messages, each
//! still conditional on its own claim.

use crate::outreach::message;
use crate::support::seed;
use crate::{Store, TestResult};
use regulars_ports::{DeliveryStatus, OutboxStatus, UnitOfWork};
use std::collections::BTreeMap;
use time::Duration;
use time::macros::datetime;

pub(crate) async fn many_sends_are_recorded_at_once_each_on_its_own_claim(
    store: Store,
) -> TestResult {
    let (b, _, _) = seed(&store, 1).await?;
    let (other, _, _) = seed(&store, 2).await?;
    let now = datetime!(2026-06-01 08:00 UTC);
    let lease = now + Duration::seconds(60);
    let mut tx = store.begin().await?;
    let messages = [
        message(b.id, 1, "k:a", now - Duration::minutes(3)),
        message(b.id, 2, "k:b", now - Duration::minutes(2)),
        message(other.id, 3, "k:c", now - Duration::minutes(1)),
    ];
    assert_eq!(tx.outbox().enqueue(&messages).await?, 3);
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let claimed = tx.outbox().claim_due(now, lease, 10).await?;
    assert_eq!(claimed.len(), 3);
    // The second one's claim is given back before its send is recorded.
    assert!(tx.outbox().defer(&claimed[1], lease).await?);
    let sent: Vec<_> = claimed
        .iter()
        .zip(["p-1", "p-2", "p-3"])
        .map(|(m, id)| (m.clone(), id.to_owned()))
        .collect();
    let at = now + Duration::seconds(5);
    assert_eq!(
        tx.outbox().mark_sent_many(&sent, at).await?,
        vec![true, false, true]
    );
    // Recorded once: the same records again change nothing.
    assert_eq!(
        tx.outbox().mark_sent_many(&sent, at).await?,
        vec![false, false, false]
    );
    assert_eq!(
        tx.outbox().mark_sent_many(&[], at).await?,
        Vec::<bool>::new()
    );
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(
        tx.outbox().counts(b.id, None).await?,
        BTreeMap::from([(OutboxStatus::Pending, 1), (OutboxStatus::Sent, 1)])
    );
    // Each row got its own provider id and send time.
    let third = &claimed[2];
    assert_eq!(
        tx.outbox()
            .record_delivery(
                third.route.channel,
                "p-3",
                None,
                &DeliveryStatus::Delivered,
                at
            )
            .await?,
        Some((other.id, third.id))
    );
    let first = tx
        .outbox()
        .messages(b.id, None, None, 10)
        .await?
        .into_iter()
        .find(|m| m.id == claimed[0].id)
        .ok_or("first message")?;
    assert_eq!(
        (
            first.status,
            first.provider_message_id.as_deref(),
            first.sent_at
        ),
        (OutboxStatus::Sent, Some("p-1"), Some(at))
    );
    tx.commit().await?;
    Ok(())
}
