//! Ratings of a period for the dashboard and the API: by location and by week, and the
//! recent low ones with their comment, their customer and whether the location has a
//! manager to tell.

use crate::Services;
use crate::reports::{LocalDays, ReportsError};
use crate::scope::Scope;
use regulars_domain::{BrandId, DEFAULT_LOW_THRESHOLD, LocationId, Rating, Stars};
use regulars_ports::Location;
use regulars_reports::{RatingFact, RatingsBuilder, RatingsReport};
use std::collections::BTreeSet;
use time::Date;

/// Most ratings one report reads (a period of a large chain is far below it).
pub const RATINGS_READ_LIMIT: u64 = 200_000;
/// How many recent low ratings a report lists.
const RECENT_LOW: usize = 20;

/// A low rating as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowRating {
    /// The rating.
    pub rating: Rating,
    /// The customer's name, if they gave one (and are not erased).
    pub customer_name: Option<String>,
    /// The location, when the order's code is one of the brand's.
    pub location: Option<Location>,
    /// Whether the location has a manager's email (the rating was sent there); `false`
    /// means it needs attention on the dashboard.
    pub manager_contact: bool,
}

/// The ratings of a period, within the caller's scope.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingsView {
    /// The period as local days.
    pub days: LocalDays,
    /// Counts and averages by location and by week.
    pub report: RatingsReport,
    /// The brand's low threshold.
    pub threshold: Stars,
    /// The latest low ratings, newest first.
    pub recent_low: Vec<LowRating>,
    /// The brand's locations in the scope, for names.
    pub locations: Vec<Location>,
    /// Those of them with a manager's email.
    pub managed: BTreeSet<LocationId>,
}

impl Services {
    /// The ratings given in the brand's local days `[from, to)` (default: the 30 days to
    /// today) at the locations of `scope`.
    pub async fn ratings_report(
        &self,
        brand: BrandId,
        scope: &Scope,
        from: Option<Date>,
        to: Option<Date>,
    ) -> Result<RatingsView, ReportsError> {
        let (found, _, _) = self.report_setup(brand, None).await?;
        let codes = self.scope_codes(brand, scope).await?;
        let (days, period) = self.local_period(&found, from, to)?;
        let (ratings, threshold, locations, managed) = self
            .transact("ratings_report", |mut tx| async move {
                let result: Result<_, ReportsError> = async {
                    let ratings = tx
                        .ratings()
                        .ratings_between(brand, period.from, period.to, RATINGS_READ_LIMIT)
                        .await?;
                    let threshold = tx.ratings().low_threshold(brand).await?;
                    let locations = tx.locations().locations(brand).await?;
                    let managed = tx.ratings().location_managers(brand).await?;
                    Ok((ratings, threshold, locations, managed))
                }
                .await;
                (tx, result)
            })
            .await?;
        let threshold = threshold.unwrap_or(DEFAULT_LOW_THRESHOLD);
        let ratings: Vec<Rating> = ratings
            .into_iter()
            .filter(|r| codes.includes(r.location.as_deref()))
            .collect();
        let mut builder = RatingsBuilder::new(found.utc_offset, threshold);
        for r in &ratings {
            builder.add(&RatingFact {
                location: r.location.clone(),
                stars: r.stars,
                at: r.created_at,
            });
        }
        let locations: Vec<Location> = locations
            .into_iter()
            .filter(|l| scope.covers(l.id))
            .collect();
        let managed: BTreeSet<LocationId> = managed.into_iter().map(|(id, _)| id).collect();
        let low: Vec<Rating> = ratings
            .into_iter()
            .rev()
            .filter(|r| r.stars.is_low(threshold))
            .take(RECENT_LOW)
            .collect();
        let recent_low = self
            .name_low_ratings(brand, low, &locations, &managed)
            .await?;
        Ok(RatingsView {
            days,
            report: builder.finish(),
            threshold,
            recent_low,
            locations,
            managed,
        })
    }

    async fn name_low_ratings(
        &self,
        brand: BrandId,
        low: Vec<Rating>,
        locations: &[Location],
        managed: &BTreeSet<LocationId>,
    ) -> Result<Vec<LowRating>, ReportsError> {
        let low = &low;
        let names = self
            .transact("ratings_customers", |mut tx| async move {
                let result: Result<Vec<Option<String>>, ReportsError> = async {
                    let mut names = Vec::with_capacity(low.len());
                    for r in low {
                        let customer = tx.customers().customer(brand, r.customer_id).await?;
                        names.push(customer.and_then(|c| c.name));
                    }
                    Ok(names)
                }
                .await;
                (tx, result)
            })
            .await?;
        Ok(low
            .iter()
            .zip(names)
            .map(|(r, customer_name)| {
                let location = r
                    .location
                    .as_deref()
                    .and_then(|code| locations.iter().find(|l| l.code == code))
                    .cloned();
                LowRating {
                    manager_contact: location.as_ref().is_some_and(|l| managed.contains(&l.id)),
                    rating: r.clone(),
                    customer_name,
                    location,
                }
            })
            .collect())
    }
}
