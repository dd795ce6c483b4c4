//! Brand reports of Regulars: how the loyalty programme is doing, in money.
//!
//! Pure folds over plain facts — orders (customer, location, time, total and what was
//! refunded of it), voucher and points totals, customers' segments — into typed results
//! that both the JSON API and the dashboard render:
//!
//! * [`OverviewBuilder`] → [`Overview`]: revenue net of refunds, orders, active, new and
//!   returning customers, repeat and comeback rates, average order value, voucher
//!   redemption rate, points redeemed per earned, and a daily or weekly [`SeriesPoint`]
//!   series;
//! * [`CohortBuilder`] → [`Cohorts`]: retention by month of first order (the triangle);
//! * [`RevenueBuilder`] → [`RevenueReport`]: revenue by segment or by location, with order
//!   counts and shares;
//! * [`LocationBuilder`] → [`LocationReport`]: one row per location (orders, revenue,
//!   members' share of the orders, points earned) adding up to the brand's totals;
//! * [`SegmentVisitsBuilder`] → [`SegmentVisits`]: per segment, the members who came in
//!   during a period, their orders and revenue (read by location: which segments a shop
//!   serves);
//! * [`StaffBuilder`] → [`StaffReport`]: per staff member at the till and location, the
//!   orders rung up, their revenue, sign-ups and vouchers redeemed, adding up to a total;
//! * [`GoalPath`]: an owner's target for a [`GoalMetric`], its progress and whether it is
//!   on track ([`GoalStatus`]).
//!
//! Every builder takes facts one at a time, so a caller can stream them page by page
//! from storage; the result does not depend on the order they come in. An order refunded
//! in full does not count anywhere ([`OrderFact::counts`]). Money stays exact
//! ([`regulars_domain::Money`]); only rates are `f64`, and a rate whose denominator is
//! zero is `None`, never NaN. Local days and months are the brand's, at a fixed UTC
//! offset; the caller passes "now" where it matters (which cohort months have begun).
//!
//! ```
//! use regulars_domain::{Currency, Money, OrderId};
//! use regulars_reports::{Interval, OrderFact, OverviewBuilder, Period};
//! use time::macros::{date, datetime, offset};
//!
//! let day = Period::local_days(date!(2026 - 11 - 24), date!(2026 - 11 - 25), offset!(+7))?;
//! let mut overview = OverviewBuilder::new(day, offset!(+7), Interval::Day, Currency::VND)?;
//! overview.add_order(&OrderFact {
//!     id: OrderId::from_bytes([7; 16]),
//!     customer: None,
//!     location: Some("Q1".into()),
//!     placed_at: datetime!(2026-11-24 07:15 +7),
//!     total: Money::from_minor_units(45_000, Currency::VND),
//!     refunded: Money::from_minor_units(5_000, Currency::VND),
//! })?;
//! let overview = overview.finish()?;
//! assert_eq!(overview.revenue, Money::from_minor_units(40_000, Currency::VND));
//! assert_eq!(overview.active_customers, 0); // a walk-in is revenue, not a customer
//! assert_eq!(overview.repeat_rate, None);
//! # Ok::<(), regulars_reports::ReportError>(())
//! ```

mod cohorts;
mod facts;
mod goals;
mod locations;
mod overview;
mod overview_groups;
mod programme_cost;
mod ratings;
mod revenue;
mod segment_visits;
mod staff;

pub use cohorts::{Cohort, CohortBuilder, Cohorts, MAX_MONTHS, RetentionCell};
pub use facts::{
    OrderFact, Period, PointsTotals, ReportError, VoucherCounts, YearMonth, order_counts,
};
pub use goals::{
    GoalDirection, GoalMetric, GoalPath, GoalStatus, MemberTotals, MemberTotalsBuilder,
};
pub use locations::{LocationBuilder, LocationReport, LocationRow};
pub use overview::{Interval, MAX_BUCKETS, Overview, OverviewBuilder, SeriesPoint};
pub use overview_groups::{BucketTotals, Bucketing, CustomerTotals};
pub use programme_cost::{ProgrammeCost, ProgrammeCostBuilder};
pub use ratings::{
    RatingFact, RatingLocationRow, RatingSummary, RatingWeekRow, RatingsBuilder, RatingsReport,
    week_of,
};
pub use revenue::{Breakdown, NO_LOCATION, RevenueBuilder, RevenueReport, RevenueRow, UNSCORED};
pub use segment_visits::{SegmentVisits, SegmentVisitsBuilder, SegmentVisitsRow};
pub use staff::{StaffBuilder, StaffReport, StaffRow};
