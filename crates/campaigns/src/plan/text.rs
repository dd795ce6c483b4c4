//! A message's text: the prepared template rendered with the customer's values.

use super::CustomerFacts;
use super::offers::{Prepared, reward_value};
use super::timing::shift;
use crate::campaign::{PricedReward, Trigger};
use crate::render::{CODE_MARKER, RATING_LINK_MARKER, Values, group_digits};
use std::borrow::Cow;
use time::{Duration, OffsetDateTime};

impl Prepared<'_> {
    /// The message's text for `c` (without the promotional prefix): only the variables
    /// the template uses are formatted.
    pub(super) fn render(
        &self,
        c: &CustomerFacts,
        chosen: Option<(&PricedReward, i64)>,
        send_at: OffsetDateTime,
    ) -> String {
        let campaign = self.campaign;
        let offset = campaign.utc_offset;
        let sep = if campaign.currency.code() == "VND" {
            '.'
        } else {
            ','
        };
        let local_date = |t: OffsetDateTime| {
            let d = t.to_offset(offset).date();
            format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
        };
        let expiry_date = match (&campaign.trigger, chosen) {
            _ if !self.uses_expiry => None,
            (Trigger::PointsExpiring { .. }, _) => c.expiring_points.map(|e| local_date(e.at)),
            (Trigger::VoucherExpiring { .. }, _) => c.expiring_voucher.map(|v| local_date(v.at)),
            (_, Some((r, _))) => Some(local_date(shift(
                send_at,
                Duration::days(i64::from(r.reward.validity_days)),
            ))),
            _ => None,
        };
        let bonus_name = self
            .bonus
            .map(|(points, _)| crate::render::bonus_reward_name(points, sep));
        let values = Values {
            name: c.name.as_deref().map(Cow::Borrowed),
            reward: chosen
                .map(|(r, _)| Cow::Borrowed(r.reward.name.as_str()))
                .or(bonus_name.map(Cow::Owned)),
            bonus_points: self
                .bonus
                .map(|(points, _)| Cow::Owned(group_digits(&points.value().to_string(), sep))),
            reward_value: chosen
                .filter(|_| self.uses_reward_value)
                .and_then(|(r, _)| reward_value(r))
                .map(Cow::Owned),
            points: c
                .expiring_points
                .filter(|_| self.uses_points)
                .map(|e| Cow::Owned(group_digits(&e.points.value().to_string(), sep))),
            balance: self
                .uses_balance
                .then(|| Cow::Owned(group_digits(&c.points_balance.value().to_string(), sep))),
            expiry_date: expiry_date.map(Cow::Owned),
            shop: Some(Cow::Borrowed(campaign.shop.as_str())),
            tier: c
                .tier_upgrade
                .as_ref()
                .map(|u| u.tier.as_str())
                .or(c.tier_down.as_ref().and_then(|d| d.tier.as_deref()))
                .or(c.features.tier.as_deref())
                .map(Cow::Borrowed),
            code: chosen.map(|_| Cow::Borrowed(CODE_MARKER)),
            rating_link: Some(Cow::Borrowed(RATING_LINK_MARKER)),
        };
        self.template.render(&values)
    }
}
