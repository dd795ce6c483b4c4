//! Claims of missed visits: orders stored without a customer stay open to one claim, by
//! the code printed on their receipt or at their till, for a number of days the brand
//! sets.

use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId, Money, OrderId, Points};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::StoreError;

/// An order stored without a customer, as a claim sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimableOrder {
    /// The order.
    pub order: OrderId,
    /// The code its receipt prints; `None` for an order stored before codes were given.
    pub code: Option<String>,
    /// The location code it was placed at.
    pub location: Option<String>,
    /// When it was placed.
    pub placed_at: OffsetDateTime,
    /// What was paid.
    pub total: Money,
}

/// Who claimed an order, how and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderClaim {
    /// The order.
    pub order: OrderId,
    /// The customer it is now credited to.
    pub customer: CustomerId,
    /// How: `code`, `till` or `api`.
    pub via: String,
    /// Who: the API key, or the staff member and location of the till.
    pub actor: String,
    /// When.
    pub claimed_at: OffsetDateTime,
}

/// Orders open to a claim, the claims made, and the brand's claim window.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ClaimRepo: Send {
    /// Records that an order stored without a customer can be claimed. A code the brand
    /// already gives another order is a [`StoreError::Conflict`].
    async fn open_claim(
        &mut self,
        brand: BrandId,
        claimable: &ClaimableOrder,
    ) -> Result<(), StoreError>;
    /// The order a claim code belongs to, claimed or not.
    async fn order_by_claim_code(
        &mut self,
        brand: BrandId,
        code: &str,
    ) -> Result<Option<OrderId>, StoreError>;
    /// The order's claim code, when it was given one.
    async fn claim_code(
        &mut self,
        brand: BrandId,
        order: OrderId,
    ) -> Result<Option<String>, StoreError>;
    /// The orders of a location still without a customer, not refunded, placed at or
    /// after `since`, newest first, at most `limit`.
    async fn unclaimed_at(
        &mut self,
        brand: BrandId,
        location: &str,
        since: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<ClaimableOrder>, StoreError>;
    /// Gives the order its customer, only while it has none and nothing of it was
    /// refunded (one conditional update: on PostgreSQL a concurrent claim waits for this
    /// one and then finds the order taken), and records the claim. Answers whether this
    /// claim took the order. `claimable` describes the order for one stored before claims
    /// were recorded.
    async fn claim_order(
        &mut self,
        brand: BrandId,
        claimable: &ClaimableOrder,
        claim: &OrderClaim,
    ) -> Result<bool, StoreError>;
    /// Sets the points a claimed order earned.
    async fn set_claimed_points(
        &mut self,
        brand: BrandId,
        order: OrderId,
        points: Points,
    ) -> Result<(), StoreError>;
    /// The claim of an order, if it was claimed.
    async fn claim_of(
        &mut self,
        brand: BrandId,
        order: OrderId,
    ) -> Result<Option<OrderClaim>, StoreError>;
    /// Days after an order that it may still be claimed, when the brand set it.
    async fn claim_days(&mut self, brand: BrandId) -> Result<Option<u32>, StoreError>;
    /// Sets the brand's claim window (0: claims are off).
    async fn set_claim_days(&mut self, brand: BrandId, days: u32) -> Result<(), StoreError>;
}
