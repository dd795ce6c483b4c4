//! The owner's goals: a target for one of the programme's figures ("repeat rate from
//! 40 % to 50 % by 1 March"), set through the API or the dashboard, and shown on the
//! overview with its progress, its trend and whether it is on track.
//!
//! A goal's figure is measured over a trailing window of [`GOAL_WINDOW_DAYS`] local days
//! ending today, at the goal's location or for the whole brand, with the same folds as
//! the overview report; its trend is the figure over each of the last [`TREND_WEEKS`]
//! weeks. The arithmetic of progress and status is `regulars_reports::GoalPath`'s.

use crate::Services;
use crate::account::load_brand;
use crate::error::{ErrorClass, UseCaseError, common_variants, store_class};
use crate::reports::ReportsError;
use crate::scope::Scope;
use regulars_domain::{BrandId, GoalId, LocationId, local_date};
use regulars_ports::{Goal, StoreError};
use regulars_reports::{
    GoalMetric, GoalPath, GoalStatus, Interval, MemberTotalsBuilder, Period, ReportError,
};
use std::collections::BTreeSet;
use thiserror::Error;
use time::{Date, Duration, Time};

/// Most goals a brand keeps at once.
pub const MAX_GOALS: usize = 20;
/// Local days a goal's figure is measured over, ending today.
pub const GOAL_WINDOW_DAYS: i64 = 28;
/// Weeks of a goal's trend.
pub const TREND_WEEKS: i64 = 6;
/// Furthest a deadline may be, in days from today.
pub const MAX_GOAL_DAYS: i64 = 5 * 366;

/// What the owner asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct GoalInput {
    /// The metric's name (`repeat_rate`, …; see [`GoalMetric`]).
    pub metric: String,
    /// Where it starts; `None`: its value now.
    pub start_value: Option<f64>,
    /// Where it should get to.
    pub target_value: f64,
    /// The local day by whose end the target should be reached.
    pub deadline: Date,
    /// The location whose figure it is; `None`: the brand's.
    pub location: Option<LocationId>,
}

/// The figure over one stretch of local days `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrendPoint {
    /// The first day.
    pub from: Date,
    /// The day after the last.
    pub to: Date,
    /// The figure; `None` without a denominator.
    pub value: Option<f64>,
}

/// A goal as the overview shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct GoalView {
    /// The goal.
    pub goal: Goal,
    /// The figure now (the window ending today); `None` without a denominator.
    pub current: Option<f64>,
    /// How far along, 0 to 1.
    pub progress: f64,
    /// What the straight path says the figure should be now.
    pub expected: f64,
    /// Achieved, on track, behind or missed.
    pub status: GoalStatus,
    /// The figure week by week, oldest first, the last ending today.
    pub trend: Vec<TrendPoint>,
}

/// Why a goal use case failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum GoalError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// No such goal in the brand.
    #[error("goal {0} does not exist")]
    UnknownGoal(GoalId),
    /// A field of the goal is not acceptable.
    #[error("{message}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A figure could not be computed.
    #[error(transparent)]
    Report(ReportsError),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(GoalError, brand);

impl From<ReportsError> for GoalError {
    fn from(error: ReportsError) -> Self {
        match error {
            ReportsError::UnknownBrand(b) => GoalError::UnknownBrand(b),
            ReportsError::Store(e) => GoalError::Store(e),
            other => GoalError::Report(other),
        }
    }
}

impl From<crate::ManageError> for GoalError {
    fn from(error: crate::ManageError) -> Self {
        match error {
            crate::ManageError::UnknownBrand(b) => GoalError::UnknownBrand(b),
            crate::ManageError::Store(e) => GoalError::Store(e),
            other => GoalError::Store(StoreError::Other(other.to_string())),
        }
    }
}

impl UseCaseError for GoalError {
    fn class(&self) -> ErrorClass {
        match self {
            GoalError::UnknownBrand(_) | GoalError::UnknownGoal(_) => ErrorClass::NotFound,
            GoalError::Invalid { .. } => ErrorClass::Invalid,
            GoalError::Report(e) => e.class(),
            GoalError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            GoalError::UnknownBrand(_) => Some("brand"),
            GoalError::UnknownGoal(_) => Some("goal"),
            GoalError::Invalid { field, .. } => Some(field),
            GoalError::Report(e) => e.field(),
            GoalError::Store(_) => None,
        }
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> GoalError {
    GoalError::Invalid {
        field,
        message: message.into(),
    }
}

/// The scope of a goal's figure.
fn goal_scope(location: Option<LocationId>) -> Scope {
    match location {
        Some(l) => Scope::Locations(BTreeSet::from([l])),
        None => Scope::Brand,
    }
}

impl Services {
    /// The brand's local today and tomorrow.
    async fn goal_days(&self, brand: BrandId) -> Result<(Date, Date, time::UtcOffset), GoalError> {
        let found = self.brand(brand).await?;
        let today = local_date(self.clock.now(), found.utc_offset)
            .ok_or_else(|| invalid("deadline", "the clock is outside the calendar"))?;
        let tomorrow = today
            .next_day()
            .ok_or_else(|| invalid("deadline", "the clock is outside the calendar"))?;
        Ok((today, tomorrow, found.utc_offset))
    }

    /// `metric` over the local days `[from, to)` at `location` (the brand's without).
    pub async fn goal_figure(
        &self,
        brand: BrandId,
        metric: GoalMetric,
        location: Option<LocationId>,
        from: Date,
        to: Date,
    ) -> Result<Option<f64>, GoalError> {
        let scope = goal_scope(location);
        let (days, overview) = self
            .report_overview_in(brand, &scope, Some(from), Some(to), Interval::Week)
            .await?;
        let mut members = MemberTotalsBuilder::new(overview.revenue.currency());
        if matches!(
            metric,
            GoalMetric::MemberRevenue | GoalMetric::AverageVisits
        ) {
            let found = self.brand(brand).await?;
            let period = Period::local_days(days.from, days.to, found.utc_offset)
                .map_err(|e| invalid("deadline", e.to_string()))?;
            self.each_order_in(brand, &scope, period, |fact| members.add_order(fact))
                .await?;
        }
        let members = members
            .finish()
            .map_err(|e: ReportError| GoalError::Report(ReportsError::Data(e)))?;
        Ok(metric.value(&overview, &members))
    }

    /// Sets a goal: checks the metric, its values, the deadline (after today, within
    /// [`MAX_GOAL_DAYS`]) and the location; without a start value, starts from the
    /// figure now.
    pub async fn create_goal(&self, brand: BrandId, input: &GoalInput) -> Result<Goal, GoalError> {
        let metric = GoalMetric::parse(input.metric.trim()).ok_or_else(|| {
            let names: Vec<&str> = GoalMetric::ALL.iter().map(|m| m.as_str()).collect();
            invalid("metric", format!("`metric` is one of {}", names.join(", ")))
        })?;
        let range = if metric.is_rate() {
            "a number from 0 to 1"
        } else {
            "a number, 0 or more"
        };
        if !metric.admits(input.target_value) {
            return Err(invalid(
                "target_value",
                format!("`target_value` is {range}"),
            ));
        }
        if let Some(start) = input.start_value
            && !metric.admits(start)
        {
            return Err(invalid("start_value", format!("`start_value` is {range}")));
        }
        let (today, tomorrow, offset) = self.goal_days(brand).await?;
        if input.deadline <= today {
            return Err(invalid("deadline", "`deadline` is a day after today"));
        }
        if (input.deadline - today).whole_days() > MAX_GOAL_DAYS {
            return Err(invalid(
                "deadline",
                format!("`deadline` is at most {MAX_GOAL_DAYS} days away"),
            ));
        }
        if let Some(location) = input.location {
            let known = self.locations(brand).await?;
            if !known.iter().any(|l| l.id == location) {
                return Err(invalid(
                    "location",
                    format!("no location {location} in this brand"),
                ));
            }
        }
        let start_value = match input.start_value {
            Some(v) => v,
            None => {
                let from = tomorrow - Duration::days(GOAL_WINDOW_DAYS);
                self.goal_figure(brand, metric, input.location, from, tomorrow)
                    .await?
                    .ok_or_else(|| {
                        invalid(
                            "start_value",
                            "the figure has no value now: give `start_value`",
                        )
                    })?
            }
        };
        let now = self.clock.now();
        let end = input
            .deadline
            .next_day()
            .ok_or_else(|| invalid("deadline", "`deadline` is outside the calendar"))?;
        let goal = Goal {
            id: GoalId::from_uuid(self.ids.new_id()),
            brand_id: brand,
            metric,
            path: GoalPath {
                start_value,
                target_value: input.target_value,
                starts_at: now,
                deadline: end.with_time(Time::MIDNIGHT).assume_offset(offset),
            },
            location: input.location,
            created_at: now,
        };
        let stored = goal.clone();
        self.transact("create_goal", |mut tx| {
            let goal = stored.clone();
            async move {
                let result: Result<(), GoalError> = async {
                    load_brand::<GoalError>(tx.as_mut(), brand).await?;
                    if tx.goals().goals(brand).await?.len() >= MAX_GOALS {
                        return Err(invalid(
                            "metric",
                            format!("a brand keeps at most {MAX_GOALS} goals: remove one first"),
                        ));
                    }
                    tx.goals().insert_goal(&goal).await?;
                    Ok(())
                }
                .await;
                (tx, result)
            }
        })
        .await?;
        Ok(goal)
    }

    /// Removes a goal.
    pub async fn delete_goal(&self, brand: BrandId, id: GoalId) -> Result<(), GoalError> {
        self.transact("delete_goal", |mut tx| async move {
            let result: Result<(), GoalError> = async {
                load_brand::<GoalError>(tx.as_mut(), brand).await?;
                if tx.goals().delete_goal(brand, id).await? {
                    Ok(())
                } else {
                    Err(GoalError::UnknownGoal(id))
                }
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// The brand's goals `scope` covers (a goal of the brand as a whole only for a
    /// brand-wide scope), oldest first.
    pub async fn goals(&self, brand: BrandId, scope: &Scope) -> Result<Vec<Goal>, GoalError> {
        let all = self
            .transact("goals", |mut tx| async move {
                let result: Result<_, GoalError> = async {
                    load_brand::<GoalError>(tx.as_mut(), brand).await?;
                    Ok(tx.goals().goals(brand).await?)
                }
                .await;
                (tx, result)
            })
            .await?;
        Ok(all
            .into_iter()
            .filter(|g| match g.location {
                Some(l) => scope.covers(l),
                None => scope.is_brand(),
            })
            .collect())
    }

    /// The goals `scope` covers with their figures now, progress, status and trend.
    pub async fn goal_views(
        &self,
        brand: BrandId,
        scope: &Scope,
    ) -> Result<Vec<GoalView>, GoalError> {
        let goals = self.goals(brand, scope).await?;
        let (_, tomorrow, _) = self.goal_days(brand).await?;
        let now = self.clock.now();
        let mut views = Vec::with_capacity(goals.len());
        for goal in goals {
            let mut trend = Vec::new();
            for week in (0..TREND_WEEKS).rev() {
                let to = tomorrow - Duration::weeks(week);
                let from = to - Duration::weeks(1);
                let value = self
                    .goal_figure(brand, goal.metric, goal.location, from, to)
                    .await?;
                trend.push(TrendPoint { from, to, value });
            }
            let from = tomorrow - Duration::days(GOAL_WINDOW_DAYS);
            let current = self
                .goal_figure(brand, goal.metric, goal.location, from, tomorrow)
                .await?;
            let value = current.unwrap_or(f64::NAN);
            views.push(GoalView {
                progress: goal.path.progress(value),
                expected: goal.path.expected(now),
                status: goal.path.status(value, now),
                current,
                trend,
                goal,
            });
        }
        Ok(views)
    }
}
