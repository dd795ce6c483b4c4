//! The delivery worker's use cases: claim due outbox messages, send each through its
//! channel's [`MessageSender`], and record what happened — sent, retried later with
//! exponential back-off and jitter, moved to the next channel, or given up — and record
//! the providers' delivery reports.
//!
//! Exactly-once towards a provider rests on two things: a message is claimed by one
//! worker at a time (a lease; on PostgreSQL `FOR UPDATE SKIP LOCKED`), and when a worker
//! dies between the provider's answer and the record, the message is claimed again after
//! its lease and sent with the same dedupe key, which the provider treats as the same
//! request where it supports idempotency keys (see `docs/senders.md`).

use crate::Services;
use crate::delivery_routes::{BrandAccounts, FairQueue, Via, key_of};
use crate::error::{ErrorClass, UseCaseError, common_variants, store_class};
use regulars_domain::{BrandId, Channel, ChannelConsent, CustomerId, Phone};
use regulars_ports::{
    ChannelAccountStore, ChannelSenderFactory, DeliveryStatus, MessageSender, OutboxMessage,
    OutboxStatus, OutgoingMessage, SendError, StoreError,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use thiserror::Error;
use time::{Duration, OffsetDateTime};

/// The senders of the configured channels (the deployment's defaults), and, when
/// given, brands' own channel accounts, which take precedence for their brand (see
/// [`delivery_routes`](crate::delivery_routes)).
#[derive(Clone, Default)]
pub struct ChannelSenders {
    senders: HashMap<Channel, Arc<dyn MessageSender>>,
    pub(crate) brands: Option<Arc<BrandAccounts>>,
}

impl ChannelSenders {
    /// No channel configured.
    pub fn new() -> ChannelSenders {
        ChannelSenders::default()
    }

    /// Adds (or replaces) the sender of its channel.
    pub fn with(mut self, sender: Arc<dyn MessageSender>) -> ChannelSenders {
        self.senders.insert(sender.channel(), sender);
        self
    }

    /// Sends each brand's messages through its own account for the channel when it has
    /// one (read from `store`, senders built by `factory`, cached until the account's
    /// version moves); the senders above stay the default for the others.
    pub fn with_brand_accounts(
        mut self,
        store: Arc<dyn ChannelAccountStore>,
        factory: Arc<dyn ChannelSenderFactory>,
    ) -> ChannelSenders {
        self.brands = Some(Arc::new(BrandAccounts::new(store, factory)));
        self
    }

    /// The sender of a channel.
    pub fn get(&self, channel: Channel) -> Option<&Arc<dyn MessageSender>> {
        self.senders.get(&channel)
    }

    /// The configured channels.
    pub fn channels(&self) -> Vec<Channel> {
        let mut out: Vec<Channel> = self.senders.keys().copied().collect();
        out.sort_by_key(|c| format!("{c:?}"));
        out
    }
}

impl std::fmt::Debug for ChannelSenders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelSenders")
            .field("channels", &self.channels())
            .finish()
    }
}

/// How the worker behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryOptions {
    /// Messages claimed at once.
    pub batch: u64,
    /// Messages sent at once.
    pub concurrency: usize,
    /// How long a claim lasts: longer than any send may take, since a message whose
    /// lease ends is claimed again.
    pub lease: Duration,
    /// Attempts per channel before a retryable failure counts as permanent.
    pub max_attempts: u32,
    /// Delay before the first retry; doubled each time, with jitter.
    pub base_backoff: Duration,
    /// The longest delay between retries.
    pub max_backoff: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> DeliveryOptions {
        DeliveryOptions {
            batch: 100,
            concurrency: 16,
            lease: Duration::minutes(2),
            max_attempts: 8,
            base_backoff: Duration::seconds(30),
            max_backoff: Duration::hours(1),
        }
    }
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryRound {
    /// Messages claimed.
    pub claimed: u64,
    /// Accepted by a provider.
    pub sent: u64,
    /// To be retried later.
    pub retried: u64,
    /// Moved to the next channel.
    pub fell_back: u64,
    /// Given up.
    pub dead: u64,
    /// Not sent because the customer withdrew consent since it was planned, on its last
    /// channel: `cancelled`.
    pub cancelled: u64,
    /// Claimed outside their send window and put back until it opens.
    pub deferred: u64,
    /// Whose claim was taken over by another worker before the result was recorded.
    pub lost: u64,
}

impl std::ops::AddAssign for DeliveryRound {
    /// Sums rounds (a worker's totals).
    fn add_assign(&mut self, other: DeliveryRound) {
        self.claimed += other.claimed;
        self.sent += other.sent;
        self.retried += other.retried;
        self.fell_back += other.fell_back;
        self.dead += other.dead;
        self.cancelled += other.cancelled;
        self.deferred += other.deferred;
        self.lost += other.lost;
    }
}

impl DeliveryRound {
    fn add(&mut self, step: Step) {
        match step {
            Step::Sent => self.sent += 1,
            Step::Retried => self.retried += 1,
            Step::FellBack => self.fell_back += 1,
            Step::Dead => self.dead += 1,
            Step::Cancelled => self.cancelled += 1,
            Step::Deferred => self.deferred += 1,
            Step::Lost => self.lost += 1,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Sent,
    Retried,
    FellBack,
    Dead,
    Cancelled,
    Deferred,
    Lost,
}

/// Why a delivery use case failed (storage only: send failures are recorded, not
/// returned).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DeliveryError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(DeliveryError, brand);

impl UseCaseError for DeliveryError {
    fn class(&self) -> ErrorClass {
        match self {
            DeliveryError::UnknownBrand(_) => ErrorClass::NotFound,
            DeliveryError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            DeliveryError::UnknownBrand(_) => Some("brand"),
            DeliveryError::Store(_) => None,
        }
    }
}

/// Why a promotional message must not go out on its channel any more, if it must not:
/// its customer's consent to promotions on that channel is no longer granted, or it is
/// an SMS to a number put on the do-not-call list since it was planned. It then
/// moves to its next channel (checked again there) or, on its last one, is `cancelled`
/// (as an erasure cancels), never sent.
fn withdrawn(recheck: &Recheck, message: &OutboxMessage) -> Option<String> {
    if !message.promotional {
        return None;
    }
    let channel = message.route.channel;
    if channel == Channel::Sms && recheck.listed.contains(&message.route.recipient) {
        return Some("the number is on the do-not-call list".to_owned());
    }
    let customer = message.customer_id?;
    let consent = recheck.consents.get(&(message.brand_id, customer))?;
    (!consent.allows(channel)).then(|| {
        format!(
            "the customer's consent to promotional {} messages is {}",
            channel_name(channel),
            consent
                .state(regulars_domain::Purpose::Marketing(channel))
                .as_str()
                .replace('_', " ")
        )
    })
}

/// What may have changed since the messages claimed were planned: their customers'
/// consent, and which of their SMS numbers are on the do-not-call list now.
#[derive(Default)]
struct Recheck {
    consents: HashMap<(BrandId, CustomerId), ChannelConsent>,
    listed: HashSet<String>,
    /// What each brand tracks of its messages (links, opens).
    tracking: crate::engagement::send::Tracking,
}

impl Recheck {
    /// Whether the customer of `message` consents to marketing email now.
    fn email_consent(&self, message: &OutboxMessage) -> bool {
        message.customer_id.is_some_and(|c| {
            self.consents
                .get(&(message.brand_id, c))
                .is_some_and(|consent| consent.allows(Channel::Email))
        })
    }
}

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Zalo => "Zalo",
        Channel::Sms => "SMS",
        Channel::Email => "email",
    }
}

/// Results recorded per transaction, at most.
const RECORD_GROUP: usize = 200;

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

/// What to do with a message after its send.
pub(crate) enum Decision {
    Sent(String),
    Retry(OffsetDateTime, String),
    FallBack(String),
    /// Consent withdrawn: the next channel, or `cancelled` on the last.
    Cancel(String),
    Defer(OffsetDateTime),
}

impl Services {
    /// One round: claims up to `options.batch` due messages in one statement, sends them
    /// (at most `options.concurrency` at once) and records the results while the sends
    /// go on: one recording transaction at a time, each taking every result decided
    /// since the last one began (up to [`RECORD_GROUP`]; the accepted sends in one
    /// statement), each result conditional on its claim.
    pub async fn deliver_due(
        &self,
        senders: &ChannelSenders,
        options: &DeliveryOptions,
    ) -> Result<DeliveryRound, DeliveryError> {
        let now = self.clock.now();
        let lease_until = now + options.lease;
        let claimed = self
            .transact("claim_outbox", |mut tx| async move {
                let result: Result<_, DeliveryError> = tx
                    .outbox()
                    .claim_due(now, lease_until, options.batch)
                    .await
                    .map_err(Into::into);
                (tx, result)
            })
            .await?;
        let mut round = DeliveryRound {
            claimed: claimed.len() as u64,
            ..DeliveryRound::default()
        };
        if claimed.is_empty() {
            return Ok(round);
        }
        let recheck = Arc::new(self.recheck(&claimed).await?);
        let routes = Arc::new(self.routes_of(senders, &claimed).await);
        let (decided, results) = tokio::sync::mpsc::unbounded_channel();
        let recorder = tokio::spawn(self.clone().record_as_decided(results));
        let concurrency = options.concurrency.max(1);
        let mut queue = FairQueue::new(claimed, concurrency);
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < concurrency {
                let Some(message) = queue.next() else { break };
                let services = self.clone();
                let senders = senders.clone();
                let options = *options;
                let recheck = Arc::clone(&recheck);
                let via = routes
                    .get(&key_of(&message))
                    .cloned()
                    .unwrap_or(Via::Unconfigured);
                running.spawn(async move {
                    let decision = match withdrawn(&recheck, &message) {
                        Some(reason) => Decision::Cancel(reason),
                        None => {
                            // The stored message keeps its links as written; what goes
                            // out carries the tracked ones.
                            let tracked = services.tracked(&recheck.tracking, &message);
                            let pixel = services.pixel_for(
                                &recheck.tracking,
                                &message,
                                recheck.email_consent(&message),
                            );
                            services
                                .send_via(&senders, via, &options, &tracked, pixel)
                                .await
                        }
                    };
                    (message, decision)
                });
            }
            match running.join_next().await {
                Some(Ok(done)) => {
                    queue.done(key_of(&done.0));
                    // The recorder ends only when this sender is dropped.
                    let _ = decided.send(done);
                }
                Some(Err(join)) => tracing::error!(%join, "a delivery task failed"),
                None if queue.is_empty() => break,
                None => {}
            }
        }
        drop(decided);
        match recorder.await {
            Ok(recorded) => round += recorded,
            Err(join) => tracing::error!(%join, "the delivery recorder failed"),
        }
        Ok(round)
    }

    /// Records the results of a round as they are decided, until the round's sender of
    /// results is dropped: a transaction at a time, each taking every result waiting
    /// (up to [`RECORD_GROUP`]), so recording keeps pace with the sends without a commit
    /// per message. A group that fails to record keeps its claims: those messages go
    /// again after their lease, with the same dedupe keys.
    async fn record_as_decided(
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

    /// The consent now of the customers of the promotional messages claimed (consent
    /// may have been withdrawn since the messages were planned), and which of their SMS
    /// numbers are on the do-not-call list now.
    async fn recheck(&self, claimed: &[OutboxMessage]) -> Result<Recheck, DeliveryError> {
        let mut wanted: BTreeMap<BrandId, Vec<CustomerId>> = BTreeMap::new();
        // Email to a customer is rechecked too: its open pixel needs their consent.
        for m in claimed
            .iter()
            .filter(|m| m.promotional || m.route.channel == Channel::Email)
        {
            if let Some(customer) = m.customer_id {
                wanted.entry(m.brand_id).or_default().push(customer);
            }
        }
        for customers in wanted.values_mut() {
            customers.sort_unstable();
            customers.dedup();
        }
        let sms: Vec<Phone> = claimed
            .iter()
            .filter(|m| m.promotional && m.route.channel == Channel::Sms)
            .filter_map(|m| Phone::parse_e164(&m.route.recipient).ok())
            .collect();
        let to_customers = claimed.iter().any(|m| m.customer_id.is_some());
        if wanted.is_empty() && sms.is_empty() && !to_customers {
            return Ok(Recheck::default());
        }
        let (wanted, sms) = (&wanted, &sms);
        self.transact("delivery_consent", |mut tx| async move {
            let tracking = match crate::engagement::send::tracking_of(tx.as_mut(), claimed).await {
                Ok(tracking) => tracking,
                Err(e) => return (tx, Err(DeliveryError::from(e))),
            };
            let listed = match tx.do_not_call().do_not_call_listed(sms).await {
                Ok(listed) => listed,
                Err(e) => return (tx, Err(DeliveryError::from(e))),
            };
            let listed = listed.into_iter().map(|p| p.as_str().to_owned()).collect();
            // One read per brand of the round (a customer no longer stored is left out:
            // erasure cancels their messages).
            let mut found = HashMap::with_capacity(wanted.len());
            for (&brand, customers) in wanted {
                match tx.customers().consents(brand, customers).await {
                    Ok(consents) => found.extend(
                        consents
                            .into_iter()
                            .map(|(customer, consent)| ((brand, customer), consent)),
                    ),
                    Err(e) => return (tx, Err(DeliveryError::from(e))),
                }
            }
            (
                tx,
                Ok(Recheck {
                    consents: found,
                    listed,
                    tracking,
                }),
            )
        })
        .await
    }

    /// Sends one claimed message through `sender` and decides what to record.
    pub(crate) async fn attempt_send(
        &self,
        sender: Arc<dyn MessageSender>,
        options: &DeliveryOptions,
        message: &OutboxMessage,
        open_pixel: Option<String>,
    ) -> Decision {
        let now = self.clock.now();
        if let Some(window) = message.send_window {
            let open = window.next_open(now);
            if open > now {
                return Decision::Defer(open);
            }
        }
        // A promotional message ends with the brand's opt-out instruction, its link the
        // customer's own for the channel it goes out on.
        let unsubscribe_url = match (message.promotional, message.customer_id) {
            (true, Some(customer)) => {
                self.opt_out_link(message.brand_id, customer, Some(message.route.channel))
            }
            _ => None,
        };
        let body = match (&message.opt_out, message.promotional) {
            (Some(instruction), true) => regulars_domain::with_opt_out(
                &message.body,
                instruction,
                unsubscribe_url.as_deref(),
            ),
            _ => message.body.clone(),
        };
        // An SMS goes out folded if its campaign asks, and never longer than its cap: a
        // text over the cap is a permanent failure on this channel, not a cut message.
        let body = if message.route.channel == Channel::Sms {
            match message.sms.prepare(&body) {
                Ok((text, _)) => text,
                Err(over) => return Decision::FallBack(over.to_string()),
            }
        } else {
            body
        };
        // A ZNS parameter the template types must have a value that fits its type: Zalo
        // refuses the message otherwise (-111/-112), so it moves on without the call.
        if message.route.channel == Channel::Zalo {
            for (name, kind) in &message.zns_params {
                let value = message.data.get(name).map(String::as_str).unwrap_or("");
                if let Err(problem) = kind.check(value) {
                    return Decision::FallBack(format!("ZNS parameter `{name}` {problem}"));
                }
            }
        }
        let outgoing = OutgoingMessage {
            brand_id: message.brand_id,
            channel: message.route.channel,
            recipient: message.route.recipient.clone(),
            template: message.template.clone(),
            subject: message.subject.clone(),
            body,
            data: message.data.clone(),
            dedupe_key: message.dedupe_key.clone(),
            promotional: message.promotional,
            unsubscribe_url,
            open_pixel,
        };
        match sender.send(&outgoing).await {
            Ok(receipt) => Decision::Sent(receipt.provider_message_id),
            Err(SendError::Permanent { reason }) => Decision::FallBack(reason),
            Err(SendError::Retryable {
                reason,
                retry_after,
            }) => {
                if message.attempts >= options.max_attempts {
                    return Decision::FallBack(format!(
                        "{reason} (gave up after {} attempts)",
                        message.attempts
                    ));
                }
                let mut delay = self.backoff(options, message.attempts);
                if let Some(after) = retry_after.and_then(|d| Duration::try_from(d).ok()) {
                    delay = delay.max(after);
                }
                // A provider's Retry-After may be any number: past the calendar, the
                // retry waits the longest back-off instead of panicking the worker.
                let at = now
                    .checked_add(delay)
                    .or_else(|| now.checked_add(options.max_backoff))
                    .unwrap_or(now);
                Decision::Retry(at, reason)
            }
        }
    }

    /// `base × 2^(attempt−1)`, capped, then a uniformly random share of it between a
    /// half and the whole ("equal jitter"), so retries of many messages spread out.
    pub(crate) fn backoff(&self, options: &DeliveryOptions, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let base = options.base_backoff.whole_milliseconds().max(1);
        let capped = base
            .saturating_mul(1_i128 << exp)
            .min(options.max_backoff.whole_milliseconds().max(base));
        let mut bytes = [0_u8; 8];
        self.ids.fill_bytes(&mut bytes);
        let unit = (u64::from_le_bytes(bytes) >> 11) as f64 / (1_u64 << 53) as f64;
        let ms = (capped as f64) * (0.5 + 0.5 * unit);
        Duration::milliseconds(ms as i64)
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
