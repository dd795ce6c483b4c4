//! Storage of stamp cards: a brand's card definitions, and each customer's progress on
//! each card as a stored state and the append-only event log it folds.

use crate::StoreError;
use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId, EventKey};
use regulars_loyalty::stamps::{StampCard, StampEvent, StampState};
use time::OffsetDateTime;

/// Stamp cards and customers' stamps, keyed by brand.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StampRepo: Send {
    /// The brand's cards, in the order they were given.
    async fn stamp_cards(&mut self, brand: BrandId) -> Result<Vec<StampCard>, StoreError>;
    /// Replaces the brand's cards with `cards` (codes unique). Customers' stamps on a
    /// card whose code is gone stay stored, unseen, and return with the code.
    async fn replace_stamp_cards(
        &mut self,
        brand: BrandId,
        cards: &[StampCard],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The customer's state on every card they have stamps history on, by card code.
    async fn stamp_states(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<(String, StampState)>, StoreError>;
    /// The customer's events on `card` that name `order`.
    async fn order_stamp_events(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        card: &str,
        order: &EventKey,
    ) -> Result<Vec<StampEvent>, StoreError>;
    /// Appends `events` to the customer's log on `card` and stores `state`, the fold
    /// after them. The caller holds the customer's account lock.
    async fn append_stamps(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
        card: &str,
        state: &StampState,
        events: &[StampEvent],
    ) -> Result<(), StoreError>;
}
