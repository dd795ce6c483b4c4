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
//!
//! By stage: `round` (a round's batches claimed, sent and handed to the recorder),
//! `recheck` (what may have changed since a batch was planned, read as it is claimed),
//! `attempt` (one send and what to record of it), `record` (the recorder, and the
//! providers' delivery reports); this module holds the types they share.

use crate::delivery_routes::BrandAccounts;
use crate::error::{ErrorClass, UseCaseError, common_variants, store_class};
use regulars_domain::{BrandId, Channel};
use regulars_ports::{ChannelAccountStore, ChannelSenderFactory, MessageSender, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

mod attempt;
mod recheck;
mod record;
mod round;

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
    /// How long a claim lasts: longer than the sends of three batches may take (a round
    /// keeps up to two batches claimed ahead of the one going out), since a message
    /// whose lease ends is claimed again.
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
    pub(crate) fn add(&mut self, step: Step) {
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
pub(crate) enum Step {
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
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
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

/// What to do with a message after its send.
pub(crate) enum Decision {
    Sent(String),
    Retry(OffsetDateTime, String),
    FallBack(String),
    /// Consent withdrawn: the next channel, or `cancelled` on the last.
    Cancel(String),
    Defer(OffsetDateTime),
}
