//! Review periods: when downgrades are due, on the brand's wall clock.

use super::TierError;
use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime, UtcOffset};

/// How often tiers are reviewed for downgrades, on the brand's wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewPeriod {
    /// Every calendar month.
    Month,
    /// Every calendar quarter: January–March, April–June, July–September,
    /// October–December.
    Quarter,
    /// Every calendar year.
    Year,
}

impl ReviewPeriod {
    /// The end of the review period running at `now`, on the wall clock of `offset`.
    ///
    /// A period ends at the first instant of the next one: local midnight starting the
    /// 1st of the next month, quarter or year. The result is the earliest period end
    /// strictly after `now`, so at exactly midnight on the 1st it is the end of the
    /// period that has just begun.
    ///
    /// ```
    /// use regulars_loyalty::tiers::ReviewPeriod;
    /// use time::macros::{datetime, offset};
    /// // 20:00 UTC on 31 March is already 03:00 on 1 April in Vietnam: a new quarter.
    /// let end = ReviewPeriod::Quarter.next_period_end(datetime!(2026-03-31 20:00 UTC), offset!(+7))?;
    /// assert_eq!(end, datetime!(2026-07-01 00:00 +7));
    /// # Ok::<(), regulars_loyalty::tiers::TierError>(())
    /// ```
    pub fn next_period_end(
        self,
        now: OffsetDateTime,
        offset: UtcOffset,
    ) -> Result<OffsetDateTime, TierError> {
        let local = now
            .checked_to_offset(offset)
            .ok_or(TierError::DateOutOfRange)?;
        let (year, month) = (local.year(), u8::from(local.month()));
        let (year, month) = match self {
            ReviewPeriod::Month if month == 12 => (year + 1, 1),
            ReviewPeriod::Month => (year, month + 1),
            ReviewPeriod::Quarter if month >= 10 => (year + 1, 1),
            ReviewPeriod::Quarter => (year, (month - 1) / 3 * 3 + 4),
            ReviewPeriod::Year => (year + 1, 1),
        };
        let month = Month::try_from(month).map_err(|_| TierError::DateOutOfRange)?;
        let start =
            Date::from_calendar_date(year, month, 1).map_err(|_| TierError::DateOutOfRange)?;
        Ok(start.midnight().assume_offset(offset))
    }

    /// The latest period end at or before `now`, on the wall clock of `offset`: local
    /// midnight starting the 1st of the month, quarter or year running at `now`. This is
    /// the period end a review owes at `now`; it is the same instant for every moment
    /// until the next period end.
    ///
    /// ```
    /// use regulars_loyalty::tiers::ReviewPeriod;
    /// use time::macros::{datetime, offset};
    /// let end = ReviewPeriod::Quarter.last_period_end(datetime!(2026-05-20 10:00 UTC), offset!(+7))?;
    /// assert_eq!(end, datetime!(2026-04-01 00:00 +7));
    /// # Ok::<(), regulars_loyalty::tiers::TierError>(())
    /// ```
    pub fn last_period_end(
        self,
        now: OffsetDateTime,
        offset: UtcOffset,
    ) -> Result<OffsetDateTime, TierError> {
        let local = now
            .checked_to_offset(offset)
            .ok_or(TierError::DateOutOfRange)?;
        let month = u8::from(local.month());
        let month = match self {
            ReviewPeriod::Month => month,
            ReviewPeriod::Quarter => (month - 1) / 3 * 3 + 1,
            ReviewPeriod::Year => 1,
        };
        let month = Month::try_from(month).map_err(|_| TierError::DateOutOfRange)?;
        let start = Date::from_calendar_date(local.year(), month, 1)
            .map_err(|_| TierError::DateOutOfRange)?;
        Ok(start.midnight().assume_offset(offset))
    }
}
