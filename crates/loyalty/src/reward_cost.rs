//! What a redeemed voucher cost the shop, as the programme's reports count it.
//!
//! At the till a voucher's discount is [`Reward::discount_for`] the basket. A report
//! looks back at vouchers long redeemed, often without the basket: it knows the reward,
//! the menu price of the item a free-item reward gives, and the total of the order the
//! voucher was redeemed on when that order reached us. [`Reward::cost_to_shop`] values
//! the voucher from those alone, by the same rules as the till:
//!
//! - a free item or topping costs its menu price;
//! - an amount off costs the amount;
//! - a percentage off costs that share of the order total, rounded half up to the
//!   currency's minor unit, then capped; without the order it costs its cap, if any;
//!
//! and never more than the order total when that is known. What cannot be valued (an
//! item no longer on the menu, a percentage without order or cap, amounts in another
//! currency) is `None`: the report counts it apart rather than guess.

use crate::rewards::{Reward, RewardKind, percent_of};
use regulars_domain::{Currency, Money};

impl Reward {
    /// What one redemption of this reward cost the shop, in `currency`: `item_price` is
    /// the menu price of the item or topping a free-item reward gives, `order_total` the
    /// total of the order it was redeemed on, each when known.
    pub fn cost_to_shop(
        &self,
        currency: Currency,
        item_price: Option<Money>,
        order_total: Option<Money>,
    ) -> Option<Money> {
        let in_currency = |m: Money| (m.currency() == currency).then_some(m);
        let order_total = match order_total {
            Some(total) => Some(in_currency(total)?),
            None => None,
        };
        let raw = match &self.kind {
            RewardKind::FreeItem { .. } | RewardKind::FreeModifier { .. } => {
                in_currency(item_price?)?
            }
            RewardKind::FixedDiscount { amount } => in_currency(*amount)?,
            RewardKind::PercentDiscount { percent, cap } => {
                let cap = match cap {
                    Some(cap) => Some(in_currency(*cap)?),
                    None => None,
                };
                match (order_total, cap) {
                    (Some(total), cap) => {
                        let share = percent_of(total, *percent).ok()?;
                        match cap {
                            Some(cap) if cap.amount() < share.amount() => cap,
                            _ => share,
                        }
                    }
                    (None, Some(cap)) => cap,
                    (None, None) => return None,
                }
            }
        };
        if raw.is_negative() {
            return None;
        }
        Some(match order_total {
            Some(total) if total.amount() < raw.amount() => total,
            _ => raw,
        })
    }
}
