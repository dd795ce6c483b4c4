//! Storage of customers' ratings of their visits, of who manages each location (where
//! low ratings are sent), and of the brand's low-rating threshold.

use crate::StoreError;
use async_trait::async_trait;
use regulars_domain::{BrandId, CustomerId, LocationId, OrderId, Rating, Stars};
use time::OffsetDateTime;

/// Ratings, keyed by `(brand, order)`; location managers' contacts, by
/// `(brand, location)`; the brand's low threshold.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RatingRepo: Send {
    /// Stores the rating unless its order already has one; `false` when it had.
    async fn insert_rating(&mut self, rating: &Rating) -> Result<bool, StoreError>;
    /// The rating of an order.
    async fn rating_of_order(
        &mut self,
        brand: BrandId,
        order: OrderId,
    ) -> Result<Option<Rating>, StoreError>;
    /// The brand's ratings given in `[from, to)`, oldest first, at most `limit`.
    async fn ratings_between(
        &mut self,
        brand: BrandId,
        from: OffsetDateTime,
        to: OffsetDateTime,
        limit: u64,
    ) -> Result<Vec<Rating>, StoreError>;
    /// Every rating the customer gave, oldest first.
    async fn customer_ratings(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<Vec<Rating>, StoreError>;
    /// Removes the comments of the customer's ratings (their stars stay, counted in
    /// reports); how many had one.
    async fn erase_rating_comments(
        &mut self,
        brand: BrandId,
        customer: CustomerId,
    ) -> Result<u64, StoreError>;
    /// The email of the location's manager, if one is set.
    async fn location_manager(
        &mut self,
        brand: BrandId,
        location: LocationId,
    ) -> Result<Option<String>, StoreError>;
    /// Every location of the brand with a manager's email.
    async fn location_managers(
        &mut self,
        brand: BrandId,
    ) -> Result<Vec<(LocationId, String)>, StoreError>;
    /// Sets the location's manager email, or removes it with `None`.
    async fn set_location_manager(
        &mut self,
        brand: BrandId,
        location: LocationId,
        email: Option<String>,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The brand's low-rating threshold, if it set one.
    async fn low_threshold(&mut self, brand: BrandId) -> Result<Option<Stars>, StoreError>;
    /// Sets the brand's low-rating threshold.
    async fn set_low_threshold(
        &mut self,
        brand: BrandId,
        threshold: Stars,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
}
