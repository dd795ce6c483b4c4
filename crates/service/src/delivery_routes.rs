//! Which sender a claimed message goes through, and how one brand's failing account is
//! kept from holding up the others.
//!
//! * **Precedence.** A brand's own account for the message's channel (stored, sealed;
//!   see `docs/senders.md`) comes first; a brand without one sends through the
//!   deployment's default sender of that channel. Senders over own accounts are built
//!   once and cached per brand and channel, and rebuilt when the account's `version`
//!   moves (a change or removal is picked up by the next round).
//! * **Isolation.** When a send through a brand's own account fails in a way worth
//!   retrying (a timeout, an outage, a rate limit), that brand's channel is paused until
//!   the message's retry time: its other messages are put back until then, untried and
//!   without spending an attempt, so one brand's hanging or refused credentials cost
//!   one timeout per back-off, not one per message. Other brands are not affected.
//! * **Fair share.** Within a round no brand and channel holds more than its share of
//!   the concurrent sends (the concurrency divided among the brands and channels that
//!   have messages pending or in flight), so a brand whose provider hangs cannot take
//!   every slot while another brand's messages wait.

use crate::Services;
use crate::delivery::{ChannelSenders, Decision, DeliveryOptions};
use regulars_domain::{BrandId, Channel};
use regulars_ports::{
    ChannelAccountStore, ChannelSenderFactory, MessageSender, OutboxMessage, StoreError,
};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use time::OffsetDateTime;

/// A brand and channel.
pub(crate) type Key = (BrandId, Channel);

/// A sender over a brand's own account, or why the account cannot be used.
pub(crate) type Built = Result<Arc<dyn MessageSender>, String>;

/// A brand's own senders now, by channel.
pub(crate) type OwnSenders = HashMap<Channel, Built>;

/// Brands' own accounts: where they are stored, how senders are built over them, the
/// senders built so far and the paused brand channels.
pub(crate) struct BrandAccounts {
    store: Arc<dyn ChannelAccountStore>,
    factory: Arc<dyn ChannelSenderFactory>,
    built: Mutex<HashMap<Key, (i64, Built)>>,
    paused: Mutex<HashMap<Key, OffsetDateTime>>,
}

/// How a message goes out.
#[derive(Clone)]
pub(crate) enum Via {
    /// Through the brand's own account.
    Own(Arc<dyn MessageSender>),
    /// Through the deployment's default sender.
    Default(Arc<dyn MessageSender>),
    /// The brand's own account cannot be used (the reason names the field).
    Broken(String),
    /// The brand's accounts could not be read now.
    Unreadable(String),
    /// The brand's channel is paused until then.
    Paused(OffsetDateTime),
    /// No sender at all for the channel.
    Unconfigured,
}

impl BrandAccounts {
    pub(crate) fn new(
        store: Arc<dyn ChannelAccountStore>,
        factory: Arc<dyn ChannelSenderFactory>,
    ) -> BrandAccounts {
        BrandAccounts {
            store,
            factory,
            built: Mutex::new(HashMap::new()),
            paused: Mutex::new(HashMap::new()),
        }
    }

    /// The senders over `brand`'s own accounts now, by channel (built or taken from the
    /// cache by version); channels without an own account are absent.
    pub(crate) async fn resolve(&self, brand: BrandId) -> Result<OwnSenders, StoreError> {
        let accounts = self.store.channel_accounts(brand).await?;
        let mut built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
        // A removed account drops its sender.
        built.retain(|(b, channel), _| {
            *b != brand || accounts.iter().any(|a| a.account.channel() == *channel)
        });
        let mut out = HashMap::new();
        for stored in accounts {
            let channel = stored.account.channel();
            let key = (brand, channel);
            let fresh = match built.get(&key) {
                Some((version, sender)) if *version == stored.version => sender.clone(),
                _ => {
                    let sender = self.factory.sender(brand, &stored.account);
                    if let Err(reason) = &sender {
                        tracing::warn!(%brand, ?channel, %reason, "a brand's channel account cannot be used");
                    }
                    built.insert(key, (stored.version, sender.clone()));
                    sender
                }
            };
            out.insert(channel, fresh);
        }
        Ok(out)
    }

    /// Until when `key` is paused, if it is at `now`.
    pub(crate) fn paused_until(&self, key: Key, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let mut paused = self.paused.lock().unwrap_or_else(PoisonError::into_inner);
        match paused.get(&key) {
            Some(until) if *until > now => Some(*until),
            Some(_) => {
                paused.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Pauses `key` until `until` (a later pause wins).
    pub(crate) fn pause(&self, key: Key, until: OffsetDateTime) {
        let mut paused = self.paused.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = paused.entry(key).or_insert(until);
        if *entry < until {
            *entry = until;
        }
        tracing::warn!(brand = %key.0, channel = ?key.1, %until,
            "a brand's own channel account is failing: its messages wait until the retry");
    }
}

/// The messages of a round, each with what goes with it (`T`), handed out so that no
/// brand and channel holds more than its share of the concurrent sends.
pub(crate) struct FairQueue<T> {
    pending: VecDeque<(OutboxMessage, T)>,
    /// Messages pending per brand and channel.
    waiting: HashMap<Key, usize>,
    in_flight: HashMap<Key, usize>,
    concurrency: usize,
}

pub(crate) fn key_of(message: &OutboxMessage) -> Key {
    (message.brand_id, message.route.channel)
}

impl<T> FairQueue<T> {
    /// An empty queue for `concurrency` sends at once.
    pub(crate) fn new(concurrency: usize) -> FairQueue<T> {
        FairQueue {
            pending: VecDeque::new(),
            waiting: HashMap::new(),
            in_flight: HashMap::new(),
            concurrency: concurrency.max(1),
        }
    }

    /// How many messages are still to be handed out.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Adds messages after those pending (a batch claimed while the last went out).
    pub(crate) fn extend(&mut self, messages: impl IntoIterator<Item = (OutboxMessage, T)>) {
        for (message, with) in messages {
            *self.waiting.entry(key_of(&message)).or_insert(0) += 1;
            self.pending.push_back((message, with));
        }
    }

    /// The first pending message whose brand and channel is under its share, if any:
    /// the concurrency divided among the brands and channels with messages pending or
    /// in flight (at least one each).
    pub(crate) fn next(&mut self) -> Option<(OutboxMessage, T)> {
        let active: BTreeSet<Key> = self
            .waiting
            .iter()
            .chain(&self.in_flight)
            .filter(|(_, n)| **n > 0)
            .map(|(k, _)| *k)
            .collect();
        let share = (self.concurrency / active.len().max(1)).max(1);
        let at = self
            .pending
            .iter()
            .position(|(m, _)| self.in_flight.get(&key_of(m)).copied().unwrap_or(0) < share)?;
        let (message, with) = self.pending.remove(at)?;
        let key = key_of(&message);
        if let Some(n) = self.waiting.get_mut(&key) {
            *n = n.saturating_sub(1);
        }
        *self.in_flight.entry(key).or_insert(0) += 1;
        Some((message, with))
    }

    /// A message of `key` finished.
    pub(crate) fn done(&mut self, key: Key) {
        if let Some(n) = self.in_flight.get_mut(&key) {
            *n = n.saturating_sub(1);
        }
    }
}

impl Services {
    /// How each brand and channel of the claimed messages sends: the brand's own
    /// account, else the deployment's default.
    pub(crate) async fn routes_of(
        &self,
        senders: &ChannelSenders,
        claimed: &[OutboxMessage],
    ) -> HashMap<Key, Via> {
        let now = self.clock.now();
        let keys: std::collections::BTreeSet<Key> = claimed.iter().map(key_of).collect();
        let mut own: HashMap<BrandId, Result<OwnSenders, String>> = HashMap::new();
        if let Some(brands) = &senders.brands {
            for brand in keys
                .iter()
                .map(|k| k.0)
                .collect::<std::collections::BTreeSet<_>>()
            {
                let resolved = brands.resolve(brand).await.map_err(|error| {
                    tracing::warn!(%brand, %error, "cannot read the brand's channel accounts");
                    format!("the brand's channel accounts cannot be read now: {error}")
                });
                own.insert(brand, resolved);
            }
        }
        keys.into_iter()
            .map(|key @ (brand, channel)| {
                let via = match own.get(&brand) {
                    Some(Err(reason)) => Via::Unreadable(reason.clone()),
                    Some(Ok(accounts)) if accounts.contains_key(&channel) => {
                        match (
                            &accounts[&channel],
                            senders
                                .brands
                                .as_ref()
                                .and_then(|b| b.paused_until(key, now)),
                        ) {
                            (_, Some(until)) => Via::Paused(until),
                            (Ok(sender), None) => Via::Own(sender.clone()),
                            (Err(reason), None) => Via::Broken(reason.clone()),
                        }
                    }
                    _ => senders
                        .get(channel)
                        .cloned()
                        .map_or(Via::Unconfigured, Via::Default),
                };
                (key, via)
            })
            .collect()
    }

    /// Sends one claimed message the way `via` says, and decides what to record; a
    /// retryable failure through a brand's own account pauses that brand's channel until
    /// the retry.
    pub(crate) async fn send_via(
        &self,
        senders: &ChannelSenders,
        via: Via,
        options: &DeliveryOptions,
        message: &OutboxMessage,
        pixel: Option<String>,
    ) -> Decision {
        let now = self.clock.now();
        let key = key_of(message);
        let brands = senders.brands.as_ref();
        let (sender, own) = match via {
            Via::Own(sender) => match brands.and_then(|b| b.paused_until(key, now)) {
                Some(until) => return Decision::Defer(until),
                None => (sender, true),
            },
            Via::Default(sender) => (sender, false),
            Via::Paused(until) => return Decision::Defer(until),
            Via::Broken(reason) => return Decision::FallBack(reason),
            Via::Unreadable(reason) => {
                let at = now + self.backoff(options, message.attempts);
                return Decision::Retry(at, reason);
            }
            Via::Unconfigured => {
                return Decision::FallBack(format!(
                    "no {:?} sender is configured",
                    message.route.channel
                ));
            }
        };
        let decision = self.attempt_send(sender, options, message, pixel).await;
        if let (true, Decision::Retry(at, _), Some(brands)) = (own, &decision, brands) {
            brands.pause(key, *at);
        }
        decision
    }
}
