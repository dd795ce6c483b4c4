//! Planning: for every customer, one message to send or one reason not to.
//!
//! [`plan`] runs the stages in order, each in its own module: who the campaign is for
//! (`audience`), dedupe and opt-out, the channel (`channel`), the hold-out and the order
//! customers draw on caps and budget in (`hashing`), the variant and the offer
//! (`offers`), the send time (`timing`), the caps and the budget (`caps`), and the text
//! (`text`). Its input is in `facts`, its output in `outcome`.

mod audience;
mod caps;
mod channel;
mod facts;
mod hashing;
mod offers;
mod outcome;
mod text;
mod timing;

pub use facts::{
    CustomerFacts, OrderFact, PointsExpiry, SentMessage, TierDowngrade, TierUpgrade, VoucherExpiry,
};
pub use hashing::in_holdout;
pub(crate) use hashing::stable_hash;
pub(crate) use offers::reward_value;
pub use outcome::{Outcome, Plan, PlanError, PlannedMessage, PlannedOffer, SkipReason};
pub use timing::{shift, shift_back};

use crate::campaign::Campaign;
use crate::policy::Policy;
use audience::eligible;
use caps::{Budget, Caps};
use channel::channel_for;
use offers::{Prepared, arm_for};
use outcome::by_customer_id;
use regulars_domain::{CustomerId, Money};
use time::OffsetDateTime;
use timing::send_time;

/// Plans `campaign` for `customers` at `now`.
///
/// Every customer gets exactly one [`Outcome`]. The checks, in order: trigger, profiling
/// consent (for campaigns with an audience or a personalised offer), audience,
/// dedupe against `history`, opt-out (every channel withdrawn, or each channel of the
/// campaign the customer can be reached on), channel (the first of the campaign's channels with
/// consent — not needed for transactional messages — and a way to reach the customer),
/// hold-out, send time (moved into the policy's allowed hours for promotional messages),
/// frequency cap, legal cap per phone number (both over `history` and this plan),
/// offer within the per-customer cost limit, and the campaign budget given
/// `budget_used` so far. Customers draw on caps and budget in an order fixed by a hash
/// of (campaign, customer), so the plan does not depend on the order of `customers`.
/// Each customer id should appear once in `customers`.
///
/// Pure: `now` is an argument and nothing is read or written.
pub fn plan(
    campaign: &Campaign,
    customers: &[CustomerFacts],
    now: OffsetDateTime,
    history: &[SentMessage],
    budget_used: Money,
) -> Result<Plan, PlanError> {
    campaign.validate()?;
    if budget_used.currency() != campaign.currency {
        return Err(PlanError::Currency {
            expected: campaign.currency,
            found: budget_used.currency(),
        });
    }
    // One prepared campaign, or one per variant (its offer and template).
    let arms = campaign.arms();
    let prepared: Vec<Prepared> = if arms.is_empty() {
        vec![Prepared::new(campaign)?]
    } else {
        arms.iter().map(Prepared::new).collect::<Result<_, _>>()?
    };
    let policy = campaign.policy_in_force();
    let mut run = Run {
        campaign,
        promotional: campaign.is_promotional(),
        has_variants: !arms.is_empty(),
        prepared: &prepared,
        budget: Budget::new(campaign, budget_used)?,
        caps: Caps::new(history),
        policy: &policy,
        now,
    };

    // Trigger and audience depend on the customer alone: decide them in input order
    // (a sequential scan), and only the eligible draw on caps and budget in hashed order.
    let (mut outcomes, order) = eligible(campaign, &policy, customers, now);

    let key_prefix = format!("{}:", campaign.id);
    let mut uuid_buf = [0u8; 36];
    for (_, _, i, occasion) in order {
        let c = &customers[i];
        let dedupe_key = dedupe_key(&key_prefix, c.customer_id, &occasion, &mut uuid_buf);
        outcomes.push(run.outcome(c, dedupe_key)?);
    }
    Ok(Plan {
        campaign_id: campaign.id,
        outcomes: by_customer_id(outcomes),
        budget_used: Money::from_minor_units(run.budget.spent, campaign.currency),
    })
}

/// `campaign:customer:occasion`, built in one allocation.
fn dedupe_key(
    key_prefix: &str,
    customer: CustomerId,
    occasion: &str,
    uuid_buf: &mut [u8; 36],
) -> String {
    let mut dedupe_key = String::with_capacity(key_prefix.len() + 38 + occasion.len());
    dedupe_key.push_str(key_prefix);
    dedupe_key.push_str(customer.as_uuid().hyphenated().encode_lower(uuid_buf));
    dedupe_key.push(':');
    dedupe_key.push_str(occasion);
    dedupe_key
}

/// One plan in progress: the campaign prepared once, and the caps and budget the eligible
/// customers draw on, one after the other.
struct Run<'a> {
    campaign: &'a Campaign,
    promotional: bool,
    has_variants: bool,
    prepared: &'a [Prepared<'a>],
    budget: Budget,
    caps: Caps<'a>,
    policy: &'a Policy,
    now: OffsetDateTime,
}

impl<'a> Run<'a> {
    /// The outcome of an eligible customer: dedupe, opt-out, channel, hold-out, send time,
    /// caps, offer and budget, in that order; the message when every check passes, which
    /// then counts against the caps and the budget.
    fn outcome(&mut self, c: &'a CustomerFacts, dedupe_key: String) -> Result<Outcome, PlanError> {
        let (campaign, promotional) = (self.campaign, self.promotional);
        let skip = |reason| {
            Ok(Outcome::Skip {
                customer_id: c.customer_id,
                reason,
            })
        };
        if self.caps.seen(&dedupe_key) {
            return skip(SkipReason::AlreadySent);
        }
        if promotional && (c.opted_out || c.consent.opted_out()) {
            return skip(SkipReason::OptedOut);
        }
        let channel = match channel_for(campaign, c, promotional) {
            Ok(channel) => channel,
            Err(reason) => return skip(reason),
        };
        if in_holdout(campaign.id, c.customer_id, campaign.holdout) {
            return skip(SkipReason::HoldOut);
        }
        let (variant, prepared) = arm_for(campaign, self.prepared, self.has_variants, c);
        let send_at = send_time(campaign, self.policy, promotional, c, self.now);
        if promotional && let Some(reason) = self.caps.refusal(campaign, self.policy, c, send_at) {
            return skip(reason);
        }
        let chosen = match prepared.choose(c) {
            Ok(chosen) => chosen,
            Err(reason) => return skip(reason),
        };
        let offer_cost = chosen.map(|(_, cost)| cost).or(prepared.bonus.map(|b| b.1));
        if let Some(cost) = offer_cost
            && !self.budget.draw(cost)?
        {
            return skip(SkipReason::BudgetExhausted);
        }
        let body = prepared.render(c, chosen, send_at);
        let text = if promotional {
            format!("{}{}", self.policy.promotional_prefix, body)
        } else {
            body
        };
        self.caps
            .planned(c, send_at, promotional, dedupe_key.clone());
        Ok(Outcome::Send(PlannedMessage {
            customer_id: c.customer_id,
            channel,
            send_at,
            offer: prepared.planned_offer(chosen),
            text,
            dedupe_key,
            promotional,
            variant,
        }))
    }
}
