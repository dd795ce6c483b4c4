//! A delivery round: batches claimed (each with what may have changed since its messages
//! were planned, read in the claiming transaction), sent at most `concurrency` at once,
//! and recorded while the sends go on. While claims come back full, the next batch is
//! claimed as the current one's last messages go out, so the senders do not wait for
//! the database between batches.

use super::recheck::{self, Recheck};
use super::{ChannelSenders, Decision, DeliveryError, DeliveryOptions, DeliveryRound};
use crate::Services;
use crate::delivery_routes::{FairQueue, Key, Via, key_of};
use regulars_ports::OutboxMessage;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::{JoinHandle, JoinSet};

/// Batches a round claims at most: the round then ends, so its totals are reported and
/// a worker asked to stop stops.
const ROUND_BATCHES: usize = 10;

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
    /// Whether the last claim came back full (more may be due).
    full: bool,
}

impl Sending {
    fn add(&mut self, batch: Batch, options: &DeliveryOptions) {
        self.batches += 1;
        self.full = batch.messages.len() as u64 >= options.batch;
        let context = batch.context;
        self.queue.extend(
            batch
                .messages
                .into_iter()
                .map(|m| (m, Arc::clone(&context))),
        );
    }

    /// Whether to claim the next batch now: the last claim was full, the round may
    /// claim more, and no more than a batch is left to hand out (so the round keeps at
    /// most one batch ahead of its sends).
    fn wants_more(&self, options: &DeliveryOptions) -> bool {
        let ahead = usize::try_from(options.batch).unwrap_or(usize::MAX);
        self.full && self.batches < ROUND_BATCHES && self.queue.len() <= ahead
    }
}

/// The claim of the next batch, while one is under way.
type Claiming = Option<JoinHandle<Result<Batch, DeliveryError>>>;

impl Services {
    /// One round: claims up to `options.batch` due messages in one statement (reading
    /// what may have changed since they were planned in the same transaction), sends
    /// them (at most `options.concurrency` at once) and records the results while the
    /// sends go on: one recording transaction at a time, each taking every result
    /// decided since the last one began (up to [`RECORD_GROUP`](super::record::RECORD_GROUP); the
    /// accepted sends in one statement), each result conditional on its claim. While claims come back
    /// full, the next batch is claimed as the last messages of the previous go out, up
    /// to [`ROUND_BATCHES`] batches a round.
    pub async fn deliver_due(
        &self,
        senders: &ChannelSenders,
        options: &DeliveryOptions,
    ) -> Result<DeliveryRound, DeliveryError> {
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
            full: false,
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
        let mut claiming: Claiming = None;
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
            if claiming.is_none() && sending.wants_more(options) {
                let (services, senders, options) = (self.clone(), senders.clone(), *options);
                claiming = Some(tokio::spawn(async move {
                    services.claim_batch(&senders, &options).await
                }));
            }
            if running.is_empty() && claiming.is_none() {
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
                claimed = next_batch(&mut claiming), if claiming.is_some() => {
                    claiming = None;
                    match claimed {
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

/// The batch the claim under way brought, when it brought messages; `None` when it
/// found none or failed (logged): the round claims no more.
async fn next_batch(claiming: &mut Claiming) -> Option<Batch> {
    let handle = claiming.as_mut()?;
    match handle.await {
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
