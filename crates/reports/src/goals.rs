//! Goals: a target the owner sets for one of the programme's figures ("repeat rate from
//! 40 % to 50 % by 1 March"), and how far along it is.
//!
//! A goal is a straight path from its start value, on the day it was set, to its target
//! value on its deadline. [`Goal::progress`] says how much of the way from start to
//! target a value has come (0 at the start value, 1 at the target, whichever way the
//! goal points); [`Goal::status`] compares that with how much of the time has passed.
//! Nothing here divides by zero: a goal whose target is its start value is met by any
//! value on the target's side of it, and one whose deadline is its start is due at once.

use crate::facts::{OrderFact, ReportError, Sum, counted_net};
use crate::overview::Overview;
use regulars_domain::{Currency, Money};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// The figures a goal can be set on: each is one of the overview's, over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalMetric {
    /// Returning customers among the period's active customers (a fraction, 0–1).
    RepeatRate,
    /// Vouchers redeemed among those issued in the period (a fraction, 0–1).
    RedemptionRate,
    /// Customers with a counted order in the period.
    ActiveMembers,
    /// Revenue of the period's orders credited to a member, in the brand's currency.
    MemberRevenue,
    /// Counted member orders per active member in the period.
    AverageVisits,
}

impl GoalMetric {
    /// Every metric, in the order forms list them.
    pub const ALL: [GoalMetric; 5] = [
        GoalMetric::RepeatRate,
        GoalMetric::RedemptionRate,
        GoalMetric::ActiveMembers,
        GoalMetric::MemberRevenue,
        GoalMetric::AverageVisits,
    ];

    /// Its name in the API (`repeat_rate`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            GoalMetric::RepeatRate => "repeat_rate",
            GoalMetric::RedemptionRate => "redemption_rate",
            GoalMetric::ActiveMembers => "active_members",
            GoalMetric::MemberRevenue => "member_revenue",
            GoalMetric::AverageVisits => "average_visits",
        }
    }

    /// The metric named `name`, if any.
    pub fn parse(name: &str) -> Option<GoalMetric> {
        GoalMetric::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// Whether its values are fractions (0 to 1), not counts or money.
    pub fn is_rate(self) -> bool {
        matches!(self, GoalMetric::RepeatRate | GoalMetric::RedemptionRate)
    }

    /// Whether `value` is one the metric can take: finite, not negative, and at most 1
    /// for a rate.
    pub fn admits(self, value: f64) -> bool {
        value.is_finite() && value >= 0.0 && (!self.is_rate() || value <= 1.0)
    }
}

impl GoalMetric {
    /// The metric's value over a period, from the period's overview and its members'
    /// totals; `None` when it has no denominator (no active member, no voucher issued).
    /// Money is in major units of the brand's currency (`50000.0` for 50,000 ₫).
    pub fn value(self, overview: &Overview, members: &MemberTotals) -> Option<f64> {
        match self {
            GoalMetric::RepeatRate => overview.repeat_rate,
            GoalMetric::RedemptionRate => overview.voucher_redemption_rate,
            GoalMetric::ActiveMembers => Some(overview.active_customers as f64),
            GoalMetric::MemberRevenue => members.revenue.amount().to_string().parse().ok(),
            GoalMetric::AverageVisits => (overview.active_customers > 0)
                .then(|| members.orders as f64 / overview.active_customers as f64),
        }
    }
}

/// What a period's counted orders credited to members add up to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberTotals {
    /// Their revenue, net of refunds.
    pub revenue: Money,
    /// How many there are.
    pub orders: u64,
}

/// Folds orders into [`MemberTotals`], in any order: walk-ins and orders that do not
/// count ([`OrderFact::counts`]) are left out.
#[derive(Debug, Clone)]
pub struct MemberTotalsBuilder {
    revenue: Sum,
    orders: u64,
    currency: Currency,
}

impl MemberTotalsBuilder {
    /// An empty fold in `currency`.
    pub fn new(currency: Currency) -> Self {
        MemberTotalsBuilder {
            revenue: Sum::new(currency),
            orders: 0,
            currency,
        }
    }

    /// Adds an order.
    pub fn add_order(&mut self, order: &OrderFact) -> Result<(), ReportError> {
        if order.customer.is_none() {
            return Ok(());
        }
        if let Some(net) = counted_net(order, self.currency)? {
            self.revenue.add(net)?;
            self.orders += 1;
        }
        Ok(())
    }

    /// The totals.
    pub fn finish(self) -> Result<MemberTotals, ReportError> {
        Ok(MemberTotals {
            revenue: self.revenue.money()?,
            orders: self.orders,
        })
    }
}

impl fmt::Display for GoalMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way a goal points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalDirection {
    /// The target is at or above the start: the higher the better.
    Increase,
    /// The target is below the start: the lower the better.
    Decrease,
}

/// Where a goal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalStatus {
    /// The value has reached the target.
    Achieved,
    /// Not there yet, but at least as far along as the straight path says it should be.
    OnTrack,
    /// Less far along than the straight path says, with time left.
    Behind,
    /// The deadline has passed without reaching the target.
    Missed,
}

impl GoalStatus {
    /// Its name in the API (`on_track`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            GoalStatus::Achieved => "achieved",
            GoalStatus::OnTrack => "on_track",
            GoalStatus::Behind => "behind",
            GoalStatus::Missed => "missed",
        }
    }
}

/// A target for one metric: from `start_value` when it was set to `target_value` by the
/// deadline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GoalPath {
    /// The metric's value when the goal was set.
    pub start_value: f64,
    /// The value to reach.
    pub target_value: f64,
    /// When the path starts.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// When the target should be reached.
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
}

impl GoalPath {
    /// Which way the goal points.
    pub fn direction(&self) -> GoalDirection {
        if self.target_value < self.start_value {
            GoalDirection::Decrease
        } else {
            GoalDirection::Increase
        }
    }

    /// How far `current` has come from the start value towards the target, unclamped:
    /// 0 at the start value, 1 at the target, below 0 when it went the wrong way. A goal
    /// whose target is its start value is 1 at or above it and 0 below. A value that is
    /// not a number counts as no progress.
    pub fn raw_progress(&self, current: f64) -> f64 {
        if !current.is_finite() || !self.start_value.is_finite() || !self.target_value.is_finite() {
            return 0.0;
        }
        let span = self.target_value - self.start_value;
        if span == 0.0 {
            return if current >= self.target_value {
                1.0
            } else {
                0.0
            };
        }
        let raw = (current - self.start_value) / span;
        if raw.is_finite() { raw } else { 0.0 }
    }

    /// [`raw_progress`](Self::raw_progress) within `[0, 1]`: what a progress bar shows.
    pub fn progress(&self, current: f64) -> f64 {
        self.raw_progress(current).clamp(0.0, 1.0)
    }

    /// How much of the time from start to deadline has passed at `now`, within
    /// `[0, 1]`; 1 from the deadline on (at once when the deadline is the start).
    pub fn elapsed(&self, now: OffsetDateTime) -> f64 {
        if now >= self.deadline {
            return 1.0;
        }
        if now <= self.starts_at {
            return 0.0;
        }
        let whole = (self.deadline - self.starts_at).as_seconds_f64();
        let done = (now - self.starts_at).as_seconds_f64();
        if whole > 0.0 {
            (done / whole).clamp(0.0, 1.0)
        } else {
            1.0
        }
    }

    /// The value the straight path from start to target has at `now`: the start value
    /// until the goal starts, the target from the deadline on.
    pub fn expected(&self, now: OffsetDateTime) -> f64 {
        let elapsed = self.elapsed(now);
        if elapsed >= 1.0 {
            self.target_value
        } else if elapsed <= 0.0 {
            self.start_value
        } else {
            self.start_value + (self.target_value - self.start_value) * elapsed
        }
    }

    /// Whether `value` is at `mark` or beyond it in the goal's direction.
    fn reaches(&self, value: f64, mark: f64) -> bool {
        match self.direction() {
            GoalDirection::Increase => value >= mark,
            GoalDirection::Decrease => value <= mark,
        }
    }

    /// Where the goal stands at `now` with the metric at `current`: achieved once the
    /// target is reached; otherwise missed from the deadline on, on track when the value
    /// is at or beyond the straight path's value of `now`, behind when it falls short.
    /// A value that is not a number has reached nothing.
    pub fn status(&self, current: f64, now: OffsetDateTime) -> GoalStatus {
        if current.is_finite() && self.reaches(current, self.target_value) {
            GoalStatus::Achieved
        } else if now >= self.deadline {
            GoalStatus::Missed
        } else if current.is_finite() && self.reaches(current, self.expected(now)) {
            GoalStatus::OnTrack
        } else {
            GoalStatus::Behind
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::Duration;
    use time::macros::datetime;

    fn path(start: f64, target: f64, days: i64) -> GoalPath {
        let starts_at = datetime!(2026-12-01 00:00 UTC);
        GoalPath {
            start_value: start,
            target_value: target,
            starts_at,
            deadline: starts_at + Duration::days(days),
        }
    }

    #[test]
    fn repeat_rate_from_forty_to_fifty_percent() {
        let goal = path(0.40, 0.50, 90);
        assert_eq!(goal.direction(), GoalDirection::Increase);
        assert_eq!(goal.progress(0.40), 0.0);
        assert!((goal.progress(0.45) - 0.5).abs() < 1e-12);
        assert_eq!(goal.progress(0.50), 1.0);
        assert_eq!(goal.progress(0.30), 0.0);
        let halfway = goal.starts_at + Duration::days(45);
        assert_eq!(goal.status(0.46, halfway), GoalStatus::OnTrack);
        assert_eq!(goal.status(0.42, halfway), GoalStatus::Behind);
        assert_eq!(goal.status(0.51, halfway), GoalStatus::Achieved);
        assert_eq!(goal.status(0.49, goal.deadline), GoalStatus::Missed);
        assert!((goal.expected(halfway) - 0.45).abs() < 1e-12);
    }

    #[test]
    fn a_decrease_goal_progresses_downwards() {
        let goal = path(100.0, 60.0, 30);
        assert_eq!(goal.direction(), GoalDirection::Decrease);
        assert_eq!(goal.progress(100.0), 0.0);
        assert_eq!(goal.progress(80.0), 0.5);
        assert_eq!(goal.progress(60.0), 1.0);
        assert_eq!(goal.progress(120.0), 0.0);
    }

    #[test]
    fn degenerate_goals_divide_nothing_by_zero() {
        let flat = path(0.3, 0.3, 0);
        assert_eq!(flat.progress(0.3), 1.0);
        assert_eq!(flat.progress(0.2), 0.0);
        assert_eq!(flat.elapsed(flat.starts_at), 1.0);
        assert_eq!(flat.status(0.2, flat.starts_at), GoalStatus::Missed);
        assert_eq!(path(0.1, 0.2, 10).progress(f64::NAN), 0.0);
    }

    #[test]
    fn metrics_round_trip_their_names() {
        for metric in GoalMetric::ALL {
            assert_eq!(GoalMetric::parse(metric.as_str()), Some(metric));
        }
        assert_eq!(GoalMetric::parse("revenue"), None);
        assert!(GoalMetric::RepeatRate.admits(1.0));
        assert!(!GoalMetric::RepeatRate.admits(1.5));
        assert!(GoalMetric::ActiveMembers.admits(1500.0));
        assert!(!GoalMetric::MemberRevenue.admits(-1.0));
        assert!(!GoalMetric::AverageVisits.admits(f64::INFINITY));
    }

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![0.0..1.0f64, 0.0..1e9f64, (0u32..100).prop_map(f64::from)]
    }

    proptest! {
        /// Progress is 0 at the start value and 1 at the target, whichever way the goal
        /// points, and always within [0, 1].
        #[test]
        fn progress_runs_from_zero_at_start_to_one_at_target(
            start in value(), target in value(), current in value(), days in 0i64..400,
        ) {
            let goal = path(start, target, days);
            let p = goal.progress(current);
            prop_assert!((0.0..=1.0).contains(&p));
            prop_assert!(goal.progress(target) == 1.0);
            if start != target {
                prop_assert!(goal.progress(start) == 0.0);
            }
        }

        /// Moving the value towards the target never lowers progress: it grows with the
        /// value for an increase goal and with its fall for a decrease goal.
        #[test]
        fn progress_is_monotone_in_the_goals_direction(
            start in value(), target in value(), a in value(), b in value(),
        ) {
            let goal = path(start, target, 30);
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            match goal.direction() {
                GoalDirection::Increase => {
                    prop_assert!(goal.raw_progress(low) <= goal.raw_progress(high));
                    prop_assert!(goal.progress(low) <= goal.progress(high));
                }
                GoalDirection::Decrease => {
                    prop_assert!(goal.raw_progress(low) >= goal.raw_progress(high));
                    prop_assert!(goal.progress(low) >= goal.progress(high));
                }
            }
        }

        /// The straight path is at the start value when the goal is set and at the
        /// target by the deadline; time's share is monotone and within [0, 1]; and a
        /// value on the path is never behind.
        #[test]
        fn the_path_is_linear_and_a_value_on_it_is_on_track(
            start in value(), target in value(), days in 0i64..400, h1 in 0i64..12_000, h2 in 0i64..12_000,
        ) {
            let goal = path(start, target, days);
            prop_assert!(goal.expected(goal.deadline) == target);
            if days > 0 {
                prop_assert!(goal.expected(goal.starts_at) == start);
            }
            let (t1, t2) = (goal.starts_at + Duration::hours(h1.min(h2)), goal.starts_at + Duration::hours(h1.max(h2)));
            let (e1, e2) = (goal.elapsed(t1), goal.elapsed(t2));
            prop_assert!((0.0..=1.0).contains(&e1) && e1 <= e2);
            let status = goal.status(goal.expected(t1), t1);
            prop_assert!(status != GoalStatus::Behind, "{status:?}");
        }

        /// The status agrees with progress: achieved when progress reached 1, missed
        /// only from the deadline on, behind only when progress lags the path's.
        #[test]
        fn the_status_agrees_with_progress_and_time(
            start in value(), target in value(), current in value(), days in 0i64..400, hours in 0i64..12_000,
        ) {
            let goal = path(start, target, days);
            let now = goal.starts_at + Duration::hours(hours);
            let raw = goal.raw_progress(current);
            let expected = goal.raw_progress(goal.expected(now));
            match goal.status(current, now) {
                GoalStatus::Achieved => prop_assert!(raw >= 1.0),
                GoalStatus::Missed => prop_assert!(now >= goal.deadline && raw <= 1.0),
                GoalStatus::OnTrack => prop_assert!(now < goal.deadline && raw >= expected && raw <= 1.0),
                GoalStatus::Behind => prop_assert!(now < goal.deadline && raw < expected),
            }
        }
    }
}
