//! What a message must fit: dedupe against what was sent and planned, the campaign's
//! frequency cap and the legal cap per phone number over rolling windows, and the
//! campaign's budget.

use super::hashing::{FastMap, FastSet};
use super::timing::{shift, shift_back};
use super::{CustomerFacts, PlanError, SentMessage, SkipReason};
use crate::campaign::Campaign;
use crate::policy::Policy;
use regulars_domain::{CustomerId, DomainError, Money};
use time::{Duration, OffsetDateTime};

/// What was sent before and what this plan has planned so far: dedupe keys, and the
/// promotional send times per customer and per phone number the caps count.
pub(super) struct Caps<'h> {
    sent_keys: FastSet<&'h str>,
    planned_keys: FastSet<String>,
    by_customer: FastMap<CustomerId, Vec<OffsetDateTime>>,
    by_phone: FastMap<&'h str, Vec<OffsetDateTime>>,
}

impl<'h> Caps<'h> {
    /// The caps as `history` leaves them.
    pub(super) fn new(history: &'h [SentMessage]) -> Caps<'h> {
        let mut caps = Caps {
            sent_keys: history.iter().map(|m| m.dedupe_key.as_str()).collect(),
            planned_keys: FastSet::default(),
            by_customer: FastMap::default(),
            by_phone: FastMap::default(),
        };
        for m in history.iter().filter(|m| m.promotional) {
            caps.by_customer
                .entry(m.customer_id)
                .or_default()
                .push(m.send_at);
            caps.by_phone
                .entry(m.phone.as_str())
                .or_default()
                .push(m.send_at);
        }
        caps
    }

    /// Whether a message with this dedupe key was sent or planned already.
    pub(super) fn seen(&self, dedupe_key: &str) -> bool {
        self.sent_keys.contains(dedupe_key) || self.planned_keys.contains(dedupe_key)
    }

    /// Why a promotional message to `c` at `send_at` would break the campaign's
    /// frequency cap or the legal cap per phone number, if it would.
    pub(super) fn refusal(
        &self,
        campaign: &Campaign,
        policy: &Policy,
        c: &CustomerFacts,
        send_at: OffsetDateTime,
    ) -> Option<SkipReason> {
        if let Some(cap) = campaign.frequency_cap {
            let times = self
                .by_customer
                .get(&c.customer_id)
                .map_or(&[][..], Vec::as_slice);
            let window = Duration::days(i64::from(cap.days));
            if !fits_rolling(times, send_at, window, cap.max) {
                return Some(SkipReason::FrequencyCap);
            }
        }
        if let Some(max) = policy.max_per_phone {
            let times = self
                .by_phone
                .get(c.phone.as_str())
                .map_or(&[][..], Vec::as_slice);
            let window = Duration::hours(i64::from(policy.cap_window_hours));
            if !fits_rolling(times, send_at, window, max) {
                return Some(SkipReason::LegalCap);
            }
        }
        None
    }

    /// Counts a planned message: its key, and its time against the caps when promotional.
    pub(super) fn planned(
        &mut self,
        c: &'h CustomerFacts,
        send_at: OffsetDateTime,
        promotional: bool,
        dedupe_key: String,
    ) {
        if promotional {
            self.by_customer
                .entry(c.customer_id)
                .or_default()
                .push(send_at);
            self.by_phone
                .entry(c.phone.as_str())
                .or_default()
                .push(send_at);
        }
        self.planned_keys.insert(dedupe_key);
    }
}

/// Whether adding `t` to `times` keeps every rolling window `[s, s + window)` at no more
/// than `max` events. Only windows containing `t` can change; the fullest starts at an
/// event or at `t`.
/// Spans come from the campaign document, so the window's ends saturate at the
/// supported dates rather than overflow.
fn fits_rolling(times: &[OffsetDateTime], t: OffsetDateTime, window: Duration, max: u32) -> bool {
    let near: Vec<OffsetDateTime> = times
        .iter()
        .copied()
        .filter(|e| *e > shift_back(t, window) && *e < shift(t, window))
        .collect();
    let starts = near.iter().copied().filter(|e| *e <= t).chain([t]);
    for s in starts {
        let end = shift(s, window);
        let count = near.iter().filter(|e| **e >= s && **e < end).count() + 1;
        if count > max as usize {
            return false;
        }
    }
    true
}

/// The campaign's budget, minor units: what is spent so far and the limit, if any.
pub(super) struct Budget {
    pub(super) spent: i64,
    limit: Option<i64>,
}

impl Budget {
    /// The budget with `used` spent already, in the campaign's currency.
    pub(super) fn new(campaign: &Campaign, used: Money) -> Result<Budget, PlanError> {
        let spent = used.to_minor_units()?;
        let limit = campaign
            .budget
            .as_ref()
            .map(Money::to_minor_units)
            .transpose()?;
        Ok(Budget { spent, limit })
    }

    /// Spends `cost` when the limit allows it; `false` (and nothing spent) when it does not.
    pub(super) fn draw(&mut self, cost: i64) -> Result<bool, PlanError> {
        let after = self
            .spent
            .checked_add(cost)
            .ok_or(DomainError::Overflow("money"))?;
        if self.limit.is_some_and(|b| after > b) {
            return Ok(false);
        }
        self.spent = after;
        Ok(true)
    }
}
