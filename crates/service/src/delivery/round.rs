//! A delivery round: batches claimed (each with what may have changed since its messages
//! were planned, read in the claiming transaction), sent at most `concurrency` at once,
//! and recorded while the sends go on. While claims come back full, the next batches are
//! claimed as the current one's messages go out (up to [`CLAIMS_AT_ONCE`] claims under
//! way, the queue kept at most that many batches ahead of the sends), so the senders do
//! not wait for the database between batches, even when a claim takes longer than the
//! sends of a batch.

use super::recheck::{self, Recheck};
use super::{ChannelSenders, Decision, DeliveryError, DeliveryOptions, DeliveryRound};
use crate::Services;
use crate::delivery_routes::{FairQueue, Key, Via, key_of};
use regulars_ports::OutboxMessage;
use std::collections::HashMap;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;

/// Batches a round claims at most.
const ROUND_BATCHES: usize = 100;

/// How long a round goes on claiming while claims come back full: it then ends, so its
/// totals are reported and a worker asked to stop stops. Every round starts with a claim
/// nothing overlaps and ends waiting for its last sends and their record, so a backlog
/// goes out faster in long rounds than in many short ones.
const ROUND_TIME: Duration = Duration::seconds(5);

/// Claims a round has under way at once, at most, and the batches it keeps queued ahead
/// of its sends: while one claim commits, the next is already picking rows (on
/// PostgreSQL they skip each other's), so a claim slower than a batch's sends does not
/// leave the senders idle.
const CLAIMS_AT_ONCE: usize = 2;

/// A claimed batch and how its messages go out.
struct Batch {
    messages: Vec<OutboxMessage>,
    /// Shared by the messages of the batch.
    context: Arc<Context>,
}

/// What the sends of a batch decide by: its rechecked consents and lists, its routes.
struct Context {
    recheck: Recheck,
    routes: HashMap<Key, Via>,
}

/// The messages of a round still to be handed out, fairly among brands and channels,
/// each with its batch's context.
struct Sending {
    queue: FairQueue<Arc<Context>>,
    /// Batches claimed so far.
    batches: usize,
    /// Whether every claim so far came back full (more may be due).
    full: bool,
    /// When the round began.
    started: OffsetDateTime,
}

impl Sending {
    fn add(&mut self, batch: Batch, options: &DeliveryOptions) {
        self.batches += 1;
        self.full = self.full && batch.messages.len() as u64 >= options.batch;
        let context = batch.context;
        self.queue.extend(
            batch
                .messages
                .into_iter()
                .map(|m| (m, Arc::clone(&context))),
        );
    }

    /// Whether to claim another batch now, with `claiming` claims under way: every claim
    /// so far was full, the round may claim more (by count and by time), and the
    /// messages queued or being claimed are fewer than [`CLAIMS_AT_ONCE`] batches (so
    /// the round keeps at most that many batches ahead of its sends).
    fn wants_more(&self, claiming: usize, now: OffsetDateTime, options: &DeliveryOptions) -> bool {
        let batch = usize::try_from(options.batch).unwrap_or(usize::MAX);
        let coming = self
            .queue
            .len()
            .saturating_add(claiming.saturating_mul(batch));
        self.full
            && claiming < CLAIMS_AT_ONCE
            && self.batches + claiming < ROUND_BATCHES
            && coming < CLAIMS_AT_ONCE.saturating_mul(batch)
            && now - self.started < ROUND_TIME
    }
}

/// The claims under way.
type Claiming = JoinSet<Result<Batch, DeliveryError>>;

impl Services {
    /// One round: claims up to `options.batch` due messages in one statement (reading
    /// what may have changed since they were planned in the same transaction), sends
    /// them (at most `options.concurrency` at once) and records the results while the
    /// sends go on: one recording transaction at a time, each taking every result
    /// decided since the last one began (up to [`RECORD_GROUP`](super::record::RECORD_GROUP);
    /// the accepted sends in one statement), each result conditional on its claim. While
    /// claims come back full, the next batches are claimed as the messages of the
    /// previous go out, up to [`ROUND_BATCHES`] batches and for [`ROUND_TIME`].
    pub async fn deliver_due(
        &self,
        senders: &ChannelSenders,
        options: &DeliveryOptions,
    ) -> Result<DeliveryRound, DeliveryError> {
        let started = self.clock.now();
        let first = self.claim_batch(senders, options).await?;
        let mut round = DeliveryRound {
            claimed: first.messages.len() as u64,
            ..DeliveryRound::default()
        };
        if first.messages.is_empty() {
            return Ok(round);
        }
        let mut sending = Sending {
            queue: FairQueue::new(options.concurrency),
            batches: 0,
            full: true,
            started,
        };
        sending.add(first, options);
        let (decided, results) = tokio::sync::mpsc::unbounded_channel();
        let recorder = tokio::spawn(self.clone().record_as_decided(results));
        round.claimed += self.send_all(senders, options, sending, decided).await;
        match recorder.await {
            Ok(recorded) => round += recorded,
            Err(join) => tracing::error!(%join, "the delivery recorder failed"),
        }
        Ok(round)
    }

    /// Sends every message of the round, claiming more while claims come back full,
    /// and hands each decision to the recorder; the number of messages claimed after
    /// the first batch.
    async fn send_all(
        &self,
        senders: &ChannelSenders,
        options: &DeliveryOptions,
        mut sending: Sending,
        decided: UnboundedSender<(OutboxMessage, Decision)>,
    ) -> u64 {
        let concurrency = options.concurrency.max(1);
        let mut running = JoinSet::new();
        let mut claiming: Claiming = JoinSet::new();
        let mut more = 0;
        loop {
            while running.len() < concurrency {
                let Some((message, context)) = sending.queue.next() else {
                    break;
                };
                let task = self
                    .clone()
                    .send_one(senders.clone(), *options, message, context);
                running.spawn(task);
            }
            while sending.wants_more(claiming.len(), self.clock.now(), options) {
                let (services, senders, options) = (self.clone(), senders.clone(), *options);
                claiming.spawn(async move { services.claim_batch(&senders, &options).await });
            }
            if running.is_empty() && claiming.is_empty() {
                return more;
            }
            tokio::select! {
                done = running.join_next(), if !running.is_empty() => match done {
                    Some(Ok(done)) => {
                        sending.queue.done(key_of(&done.0));
                        // The recorder ends only when this sender is dropped.
                        let _ = decided.send(done);
                    }
                    Some(Err(join)) => tracing::error!(%join, "a delivery task failed"),
                    None => {}
                },
                claimed = claiming.join_next(), if !claiming.is_empty() => {
                    match claimed.and_then(claimed_batch) {
                        Some(batch) => {
                            more += batch.messages.len() as u64;
                            sending.add(batch, options);
                        }
                        None => sending.full = false,
                    }
                }
            }
        }
    }

    /// Claims a batch and reads, in the same transaction, what may have changed since
    /// its messages were planned; then resolves how each brand and channel sends.
    async fn claim_batch(
        &self,
        senders: &ChannelSenders,
        options: &DeliveryOptions,
    ) -> Result<Batch, DeliveryError> {
        let now = self.clock.now();
        let lease_until = now + options.lease;
        let (messages, recheck) = self
            .transact("claim_outbox", |mut tx| async move {
                let claimed = match tx.outbox().claim_due(now, lease_until, options.batch).await {
                    Ok(claimed) => claimed,
                    Err(e) => return (tx, Err(DeliveryError::from(e))),
                };
                let result = match recheck::read(tx.as_mut(), &claimed).await {
                    Ok(recheck) => Ok((claimed, recheck)),
                    Err(e) => Err(DeliveryError::from(e)),
                };
                (tx, result)
            })
            .await?;
        let routes = self.routes_of(senders, &messages).await;
        Ok(Batch {
            messages,
            context: Arc::new(Context { recheck, routes }),
        })
    }

    /// Sends one message of a batch, unless its consent was withdrawn, and decides what
    /// to record.
    async fn send_one(
        self,
        senders: ChannelSenders,
        options: DeliveryOptions,
        message: OutboxMessage,
        context: Arc<Context>,
    ) -> (OutboxMessage, Decision) {
        let recheck = &context.recheck;
        if let Some(reason) = recheck::withdrawn(recheck, &message) {
            return (message, Decision::Cancel(reason));
        }
        let via = context
            .routes
            .get(&key_of(&message))
            .cloned()
            .unwrap_or(Via::Unconfigured);
        // The stored message keeps its links as written; what goes out carries the
        // tracked ones.
        let tracked = self.tracked(&recheck.tracking, &message);
        let pixel = self.pixel_for(&recheck.tracking, &message, recheck.email_consent(&message));
        let decision = self
            .send_via(&senders, via, &options, &tracked, pixel)
            .await;
        (message, decision)
    }
}

/// The batch a claim brought, when it brought messages; `None` when it found none or
/// failed (logged): the round claims no more.
fn claimed_batch(
    claimed: Result<Result<Batch, DeliveryError>, tokio::task::JoinError>,
) -> Option<Batch> {
    match claimed {
        Ok(Ok(batch)) if !batch.messages.is_empty() => Some(batch),
        Ok(Ok(_)) => None,
        Ok(Err(error)) => {
            tracing::warn!(%error, "claiming the next batch of the round failed");
            None
        }
        Err(join) => {
            tracing::error!(%join, "claiming the next batch of the round panicked");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sending(batches: usize, full: bool, started: OffsetDateTime) -> Sending {
        Sending {
            queue: FairQueue::new(4),
            batches,
            full,
            started,
        }
    }

    fn options(batch: u64) -> DeliveryOptions {
        DeliveryOptions {
            batch,
            ..DeliveryOptions::default()
        }
    }

    #[test]
    fn a_round_keeps_at_most_two_claims_under_way() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let s = sending(1, true, now);
        assert!(s.wants_more(0, now, &options(10)));
        assert!(s.wants_more(1, now, &options(10)));
        assert!(!s.wants_more(2, now, &options(10)));
    }

    #[test]
    fn a_round_stops_claiming_after_a_short_claim_its_batches_or_its_time() {
        let now = OffsetDateTime::UNIX_EPOCH;
        assert!(!sending(1, false, now).wants_more(0, now, &options(10)));
        assert!(!sending(ROUND_BATCHES, true, now).wants_more(0, now, &options(10)));
        assert!(!sending(ROUND_BATCHES - 1, true, now).wants_more(1, now, &options(10)));
        assert!(sending(ROUND_BATCHES - 1, true, now).wants_more(0, now, &options(10)));
        let later = now + ROUND_TIME;
        assert!(!sending(1, true, now).wants_more(0, later, &options(10)));
        assert!(sending(1, true, now).wants_more(
            0,
            later - Duration::milliseconds(1),
            &options(10)
        ));
    }
}
