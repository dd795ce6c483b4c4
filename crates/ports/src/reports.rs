//! What the brand reports read: orders as plain facts, page by page, and totals that
//! storage can add up exactly itself.

use crate::StoreError;
use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId, Money, OrderId, Points, RewardId, VoucherId};
use regulars_reports::{
    BucketTotals, Bucketing, CustomerTotals, OrderFact, Period, PointsTotals, VoucherCounts,
};
use time::OffsetDateTime;

/// A voucher redeemed in a report's period, with what a report needs to value it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedeemedVoucher {
    /// The voucher.
    pub id: VoucherId,
    /// The reward it gave.
    pub reward: RewardId,
    /// The total of the order it was redeemed on, when the till named the order and
    /// the order has reached us.
    pub order_total: Option<Money>,
    /// The code of the location it counts at: the one recorded with the redemption (the
    /// till's), else that of the order it was redeemed on once the order reached us.
    pub location: Option<String>,
}

/// Storage of the brand reports. Every method reads one brand's rows only, and none
/// returns more than `limit` rows: a brand may have millions of orders.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ReportRepo: Send {
    /// A page of the brand's orders placed in `period`, ordered by `(placed_at, id)`,
    /// starting after the key `after` (the last fact of the previous page).
    async fn order_facts(
        &mut self,
        brand: BrandId,
        period: Period,
        after: Option<(OffsetDateTime, OrderId)>,
        limit: u64,
    ) -> Result<Vec<OrderFact>, StoreError>;
    /// A page of the customers (by id, after `after`) with at least one order placed
    /// before `before` that counts in reports (not refunded in full, see
    /// [`OrderFact::counts`]); with `locations`, orders placed at those location codes
    /// only.
    async fn customers_before(
        &mut self,
        brand: BrandId,
        before: OffsetDateTime,
        locations: Option<Vec<String>>,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<CustomerId>, StoreError>;
    /// How many customers [`customers_before`](Self::customers_before) would list, in
    /// all its pages: counted by storage, so a report need not read them.
    async fn count_customers_before(
        &mut self,
        brand: BrandId,
        before: OffsetDateTime,
        locations: Option<Vec<String>>,
    ) -> Result<u64, StoreError>;
    /// The counted orders (see [`OrderFact::counts`]) placed in `period`, added up per
    /// series bucket of `bucketing` and currency: net revenue, orders and distinct
    /// customers; with `locations`, orders placed at those location codes only. One row
    /// per bucket that has orders (a few hundred at most), whatever the brand's size.
    async fn overview_buckets(
        &mut self,
        brand: BrandId,
        period: Period,
        bucketing: Bucketing,
        locations: Option<Vec<String>>,
    ) -> Result<Vec<BucketTotals>, StoreError>;
    /// The customers of the counted orders placed in `period` (with `locations`, at
    /// those location codes), counted: active, repeat, and returning (with a counted
    /// order before `period` at those locations too).
    async fn overview_customers(
        &mut self,
        brand: BrandId,
        period: Period,
        locations: Option<Vec<String>>,
    ) -> Result<CustomerTotals, StoreError>;
    /// Points the orders placed in `period` earned, summed per location code (`None`:
    /// orders without a location); one row per location.
    async fn points_by_location(
        &mut self,
        brand: BrandId,
        period: Period,
    ) -> Result<Vec<(Option<String>, Points)>, StoreError>;
    /// Vouchers issued in `period`, and how many of them have been redeemed since.
    async fn voucher_counts(
        &mut self,
        brand: BrandId,
        period: Period,
    ) -> Result<VoucherCounts, StoreError>;
    /// A page of the vouchers redeemed in `period`, ordered by id, after `after`.
    async fn redeemed_vouchers(
        &mut self,
        brand: BrandId,
        period: Period,
        after: Option<VoucherId>,
        limit: u64,
    ) -> Result<Vec<RedeemedVoucher>, StoreError>;
    /// Points earned (earn entries) and redeemed (redeem entries) in `period`.
    async fn points_totals(
        &mut self,
        brand: BrandId,
        period: Period,
    ) -> Result<PointsTotals, StoreError>;
    /// A page of customers (by id, after `after`) with the segment the latest scoring run
    /// put them in (its named RFM segment); customers never scored are left out.
    async fn current_segments(
        &mut self,
        brand: BrandId,
        after: Option<CustomerId>,
        limit: u64,
    ) -> Result<Vec<(CustomerId, String)>, StoreError>;
}
