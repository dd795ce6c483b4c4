//! Recording what became of the messages of a round: as the sends go on, a transaction
//! at a time, the accepted sends of each in one statement; and the providers' delivery
//! reports.

use crate::Services;
use crate::delivery::{Decision, DeliveryError, DeliveryRound, Step};
use regulars_domain::Channel;
use regulars_ports::{DeliveryStatus, OutboxMessage, OutboxStatus};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Results recorded per transaction, at most. A group is what was decided while the last
/// one was being recorded, so groups grow only when the database is slower than the
/// sends (on SQLite, while a claim holds the single connection): fewer, larger commits
/// then let the records catch up instead of falling further behind.
pub(super) const RECORD_GROUP: usize = 1_000;

/// Records a group of decisions in one transaction: the accepted sends (nearly all of
/// them) in one statement, the rest one by one; each conditional on its own claim.
async fn record_group(
    tx: &mut dyn regulars_ports::Transaction,
    decided: &[(OutboxMessage, Decision)],
    now: OffsetDateTime,
) -> Result<Vec<Step>, DeliveryError> {
    let sent: Vec<(OutboxMessage, String)> = decided
        .iter()
        .filter_map(|(message, decision)| match decision {
            Decision::Sent(id) => Some((message.clone(), id.clone())),
            _ => None,
        })
        .collect();
    let mut steps = Vec::with_capacity(decided.len());
    if !sent.is_empty() {
        let kept = tx.outbox().mark_sent_many(&sent, now).await?;
        // Bonus points go with the record of the send, and only where the claim was
        // still this worker's: a message recorded by another worker is credited by it.
        let credited: Vec<&OutboxMessage> = sent
            .iter()
            .zip(&kept)
            .filter(|((m, _), kept)| **kept && m.bonus_points.is_some())
            .map(|((m, _), _)| m)
            .collect();
        crate::bonus::credit_sent(tx, &credited, now).await?;
        steps.extend(
            kept.into_iter()
                .map(|kept| if kept { Step::Sent } else { Step::Lost }),
        );
    }
    for (message, decision) in decided {
        if !matches!(decision, Decision::Sent(_)) {
            steps.push(record_one(tx, message, decision, now).await?);
        }
    }
    Ok(steps)
}

/// Records one decision, conditional on the claim still being this worker's.
async fn record_one(
    tx: &mut dyn regulars_ports::Transaction,
    message: &OutboxMessage,
    decision: &Decision,
    now: OffsetDateTime,
) -> Result<Step, DeliveryError> {
    let outbox = tx.outbox();
    let (kept, step) = match decision {
        Decision::Sent(id) => {
            let kept = outbox.mark_sent(message, id, now).await?;
            if kept {
                crate::bonus::credit_sent(tx, &[message], now).await?;
            }
            (kept, Step::Sent)
        }
        Decision::Retry(at, reason) => (
            outbox.reschedule(message, *at, reason).await?,
            Step::Retried,
        ),
        Decision::Defer(at) => (outbox.defer(message, *at).await?, Step::Deferred),
        Decision::FallBack(reason) if !message.fallbacks.is_empty() => (
            outbox.fall_back(message, now, reason).await?,
            Step::FellBack,
        ),
        Decision::FallBack(reason) => (outbox.mark_dead(message, reason, now).await?, Step::Dead),
        Decision::Cancel(reason) if !message.fallbacks.is_empty() => (
            outbox.fall_back(message, now, reason).await?,
            Step::FellBack,
        ),
        Decision::Cancel(reason) => (
            outbox.mark_cancelled(message, reason, now).await?,
            Step::Cancelled,
        ),
    };
    Ok(if kept { step } else { Step::Lost })
}

impl Services {
    /// Records the results of a round as they are decided, until the round's sender of
    /// results is dropped: a transaction at a time, each taking every result waiting
    /// (up to [`RECORD_GROUP`]), so recording keeps pace with the sends without a commit
    /// per message. A group that fails to record keeps its claims: those messages go
    /// again after their lease, with the same dedupe keys.
    pub(super) async fn record_as_decided(
        self,
        mut results: tokio::sync::mpsc::UnboundedReceiver<(OutboxMessage, Decision)>,
    ) -> DeliveryRound {
        let mut round = DeliveryRound::default();
        while let Some(first) = results.recv().await {
            let mut group = vec![first];
            while group.len() < RECORD_GROUP {
                match results.try_recv() {
                    Ok(next) => group.push(next),
                    Err(_) => break,
                }
            }
            match self.record(&group).await {
                Ok(steps) => steps.into_iter().for_each(|s| round.add(s)),
                Err(error) => {
                    tracing::warn!(%error, messages = group.len(), "recording deliveries failed");
                }
            }
        }
        round
    }

    /// Records decisions in one transaction, each conditional on its claim still being
    /// this worker's.
    async fn record(
        &self,
        decided: &[(OutboxMessage, Decision)],
    ) -> Result<Vec<Step>, DeliveryError> {
        self.transact("record_deliveries", |mut tx| async move {
            let now = self.clock.now();
            let result = record_group(tx.as_mut(), decided, now).await;
            (tx, result)
        })
        .await
    }

    /// Records a provider's delivery report for the message it knows by
    /// `provider_message_id`, or by the key it was sent when the provider echoes it
    /// (`echoed_key`); `false` when no sent message matches (unknown, or already
    /// reported).
    pub async fn record_delivery_report(
        &self,
        channel: Channel,
        provider_message_id: &str,
        echoed_key: Option<&str>,
        state: &DeliveryStatus,
        at: OffsetDateTime,
    ) -> Result<bool, DeliveryError> {
        self.transact("delivery_report", |mut tx| async move {
            let result: Result<bool, DeliveryError> = tx
                .outbox()
                .record_delivery(
                    channel,
                    provider_message_id,
                    echoed_key.map(str::to_owned),
                    state,
                    at,
                )
                .await
                .map(|found| found.is_some())
                .map_err(Into::into);
            (tx, result)
        })
        .await
    }

    /// Messages per status over every brand (for the operator's metrics).
    pub async fn outbox_depth(&self) -> Result<BTreeMap<OutboxStatus, u64>, DeliveryError> {
        self.transact("outbox_depth", |mut tx| async move {
            let result: Result<_, DeliveryError> = tx.outbox().depth().await.map_err(Into::into);
            (tx, result)
        })
        .await
    }
}
