//! The facts of an order that multiplier conditions test, and the test itself.

use super::EarningContext;
use crate::rules::RulesError;
use crate::rules::model::{Conditions, LocalTime, Multiplier};
use regulars_domain::Order;

/// What multiplier conditions look at, gathered once per order.
pub(super) struct Facts<'a> {
    tier: Option<&'a str>,
    location: Option<&'a str>,
    birthday: bool,
    /// Local weekday and time of day, when a condition needs them.
    local: Option<(time::Weekday, LocalTime)>,
}

impl<'a> Facts<'a> {
    pub(super) fn of(
        order: &'a Order,
        ctx: &'a EarningContext,
        multipliers: &[Multiplier],
    ) -> Result<Self, RulesError> {
        let local =
            if multipliers.iter().any(|m| m.when.needs_local_time()) {
                let local = order.placed_at.checked_to_offset(ctx.offset).ok_or(
                    RulesError::InvalidOrder {
                        field: "placed_at",
                        reason: "is outside the supported date range in the brand's time zone",
                    },
                )?;
                Some((local.weekday(), LocalTime::of(local.time())))
            } else {
                None
            };
        Ok(Facts {
            tier: ctx.tier.as_deref(),
            location: order.location.as_deref(),
            birthday: ctx.birthday,
            local,
        })
    }

    pub(super) fn satisfy(&self, when: &Conditions) -> bool {
        let listed = |codes: &Option<Vec<String>>, value: Option<&str>| match codes {
            None => true,
            Some(codes) => value.is_some_and(|v| codes.iter().any(|c| c == v)),
        };
        if !listed(&when.tiers, self.tier) || !listed(&when.locations, self.location) {
            return false;
        }
        if when.birthday.is_some_and(|b| b != self.birthday) {
            return false;
        }
        if !when.needs_local_time() {
            return true;
        }
        let Some((weekday, time)) = self.local else {
            return false;
        };
        // Hours after midnight of a window that crosses it belong to the day it opened:
        // Friday's 22:00–02:00 includes Saturday 01:00.
        let mut day = weekday;
        if let Some(hours) = &when.hours {
            if !hours.contains(time) {
                return false;
            }
            if hours.crosses_midnight() && time < hours.to {
                day = weekday.previous();
            }
        }
        when.weekdays
            .as_ref()
            .is_none_or(|days| days.contains(&day.into()))
    }
}
