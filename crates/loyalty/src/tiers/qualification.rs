//! What a programme decides for a customer: the qualifying value over the window, the
//! tier it earns, upgrades on activity, downgrades at a review, and progress.

use super::{
    NextTier, QualifyingActivity, QualifyingValue, Tier, TierCode, TierDecision, TierError,
    TierProgram, TierProgress,
};
use rust_decimal::Decimal;
use time::{OffsetDateTime, UtcOffset};

impl TierProgram {
    /// The qualifying value of `activities` over the window ending at `now`: the sum of
    /// those with `now − window_days × 24 h < at <= now`, floored at zero (refunds of
    /// activities older than the window cannot push it below nothing).
    pub fn qualifying_value(
        &self,
        activities: &[QualifyingActivity],
        now: OffsetDateTime,
    ) -> Result<QualifyingValue, TierError> {
        let start = self.window_start(now);
        let mut sum = Decimal::ZERO;
        for activity in activities {
            // Checked even outside the window, so the answer never depends on `now`.
            let n = self.number_of(activity.value)?;
            if activity.at <= now && start.is_none_or(|s| activity.at > s) {
                sum = sum.checked_add(n).ok_or(TierError::Overflow)?;
            }
        }
        self.value_of(sum.max(Decimal::ZERO))
    }

    /// The tier a qualifying value earns: the highest whose threshold it reaches (a value
    /// below zero counts as zero). `None` when it reaches no threshold.
    pub fn tier_for(&self, value: QualifyingValue) -> Result<Option<&Tier>, TierError> {
        let rank = self.earned_rank(value)?;
        Ok(rank.and_then(|r| self.tiers.get(r)))
    }

    /// The decision after new activity: upgrade at once to the tier `value` (the
    /// qualifying value now) earns if it is above `current`; never downgrade.
    pub fn on_activity(
        &self,
        current: Option<&TierCode>,
        value: QualifyingValue,
    ) -> Result<TierDecision, TierError> {
        let held = self.rank_of(current)?;
        let earned = self.earned_rank(value)?;
        Ok(self.decide(held, held.max(earned)))
    }

    /// The decision at the end of a review period: the customer gets exactly the tier
    /// `value` earns, up or down by as many levels as needed.
    ///
    /// Pass the value over the window ending at the period end under review (the instant
    /// [`TierProgram::next_period_end`] gave before it passed), not at the time the
    /// review job happens to run, so a late review decides the same.
    pub fn at_period_end(
        &self,
        current: Option<&TierCode>,
        value: QualifyingValue,
    ) -> Result<TierDecision, TierError> {
        let held = self.rank_of(current)?;
        let earned = self.earned_rank(value)?;
        Ok(self.decide(held, earned))
    }

    /// The decision of the period-end review the worker runs: the customer moves down to
    /// exactly the tier `value` earns, as many levels as needed (to no tier when it
    /// reaches no threshold), and never up (upgrades happen at once, on activity; see
    /// [`TierProgram::on_activity`]). A customer whose value still reaches the held
    /// tier's threshold keeps it, so a second review with the same value changes
    /// nothing.
    ///
    /// Pass the value over the window ending at the period end under review, as for
    /// [`TierProgram::at_period_end`].
    pub fn review(
        &self,
        current: Option<&TierCode>,
        value: QualifyingValue,
    ) -> Result<TierDecision, TierError> {
        let held = self.rank_of(current)?;
        let earned = self.earned_rank(value)?;
        Ok(self.decide(held, held.min(earned)))
    }

    /// When the review period running at `now` ends, on the wall clock of `offset`; see
    /// [`ReviewPeriod::next_period_end`](super::ReviewPeriod::next_period_end).
    ///
    /// A review job that last ran at `last` owes a review once
    /// `next_period_end(last, offset) <= now`.
    pub fn next_period_end(
        &self,
        now: OffsetDateTime,
        offset: UtcOffset,
    ) -> Result<OffsetDateTime, TierError> {
        self.review_period.next_period_end(now, offset)
    }

    /// The earning multiplier of a tier; 1 for no tier.
    pub fn earn_multiplier(&self, current: Option<&TierCode>) -> Result<Decimal, TierError> {
        Ok(self
            .rank_of(current)?
            .and_then(|r| self.tiers.get(r))
            .map_or(Decimal::ONE, |t| t.benefits.earn_multiplier))
    }

    /// Where a customer holding `current` with qualifying value `value` stands: the
    /// tier held after any immediate upgrade, the next tier and how much more it needs,
    /// and how much more keeps the held tier at the next review.
    pub fn progress(
        &self,
        current: Option<&TierCode>,
        value: QualifyingValue,
    ) -> Result<TierProgress, TierError> {
        let number = self.number_of(value)?.max(Decimal::ZERO);
        let held = self.rank_of(current)?.max(self.rank_for(number));
        let next_rank = held.map_or(0, |r| r + 1);
        let next = match self.tiers.get(next_rank) {
            Some(tier) => Some(NextTier {
                tier: tier.code.clone(),
                threshold: tier.threshold,
                remaining: self.value_of(self.shortfall(tier, number)?)?,
            }),
            None => None,
        };
        let to_keep = match held.and_then(|r| self.tiers.get(r)) {
            Some(tier) => self.shortfall(tier, number)?,
            None => Decimal::ZERO,
        };
        Ok(TierProgress {
            tier: held.and_then(|r| self.tiers.get(r)).map(|t| t.code.clone()),
            value: self.value_of(number)?,
            next,
            to_keep: self.value_of(to_keep)?,
        })
    }

    /// `max(0, threshold − number)`.
    fn shortfall(&self, tier: &Tier, number: Decimal) -> Result<Decimal, TierError> {
        let gap = tier
            .threshold
            .number()
            .checked_sub(number)
            .ok_or(TierError::Overflow)?;
        Ok(gap.max(Decimal::ZERO))
    }

    /// The index of the tier a value earns.
    fn earned_rank(&self, value: QualifyingValue) -> Result<Option<usize>, TierError> {
        Ok(self.rank_for(self.number_of(value)?))
    }

    /// The index of the highest tier whose threshold `number` reaches (floored at zero).
    fn rank_for(&self, number: Decimal) -> Option<usize> {
        let number = number.max(Decimal::ZERO);
        self.tiers
            .iter()
            .rposition(|t| t.threshold.number() <= number)
    }

    /// The index of a held tier; `None` for no tier.
    fn rank_of(&self, code: Option<&TierCode>) -> Result<Option<usize>, TierError> {
        match code {
            None => Ok(None),
            Some(code) => self
                .tiers
                .iter()
                .position(|t| &t.code == code)
                .map(Some)
                .ok_or_else(|| TierError::UnknownTier { code: code.clone() }),
        }
    }

    /// The decision moving from the tier at `from` to the tier at `to`.
    fn decide(&self, from: Option<usize>, to: Option<usize>) -> TierDecision {
        let code =
            |rank: Option<usize>| rank.and_then(|r| self.tiers.get(r)).map(|t| t.code.clone());
        match (code(from), code(to)) {
            (from_code, Some(to_code)) if to > from => TierDecision::Upgrade {
                from: from_code,
                to: to_code,
            },
            (Some(from_code), to_code) if to < from => TierDecision::Downgrade {
                from: from_code,
                to: to_code,
            },
            (from_code, _) => TierDecision::Unchanged { tier: from_code },
        }
    }

    /// The plain number of a value, checked to be in the programme's metric.
    fn number_of(&self, value: QualifyingValue) -> Result<Decimal, TierError> {
        if value.metric() == self.metric {
            Ok(value.number())
        } else {
            Err(TierError::MetricMismatch {
                expected: self.metric,
                found: value.metric(),
            })
        }
    }

    /// A value of the programme's metric from a plain number computed from valid values.
    fn value_of(&self, number: Decimal) -> Result<QualifyingValue, TierError> {
        self.metric.value(number).map_err(|_| TierError::Overflow)
    }
}
