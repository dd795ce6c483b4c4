//! Messages decided as events happen. The brand's active campaigns whose trigger an
//! event fires (a thank-you after a purchase) are planned for that one customer in the
//! event's own transaction, by the same planner, with the same history and dedupe keys
//! as a campaign run, so the run finds the message already there and does not send it
//! again. A message due now arms the [outbox bell](crate::OutboxBell), so the delivery
//! worker of the process sends it as soon as the transaction commits.

use crate::Services;
use crate::brand_policy::{policy_of, under_brand};
use crate::campaigns::{CampaignError, facts_of, find, history_window, parse_definition};
use crate::ingest::OrderReceipt;
use regulars_campaigns::plan::{CustomerFacts, Outcome, SentMessage, SkipReason, plan, shift_back};
use regulars_campaigns::{Campaign, Policy, Trigger};
use regulars_domain::{BrandId, Customer, Money, Order, OrderId, Phone, Points};
use regulars_ports::{
    Brand, CampaignMember, CampaignRecord, CampaignStatus, CustomerHistory, MemberGroup,
    StoreError, Transaction, Visit,
};
use time::OffsetDateTime;

/// What fired the campaigns being planned.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    /// An order was credited to the customer.
    Order(OrderId),
    /// The customer was registered.
    Registered,
}

impl Event {
    /// Whether a campaign with this trigger is planned at this event.
    fn fires(self, trigger: &Trigger) -> bool {
        match self {
            Event::Order(_) => matches!(
                trigger,
                Trigger::AfterPurchase { .. }
                    | Trigger::RewardAffordable
                    | Trigger::RewardNearly { .. }
            ),
            Event::Registered => matches!(trigger, Trigger::Welcome { .. }),
        }
    }

    /// The order whose full refund voids the vouchers issued at this event.
    fn order(self) -> Option<OrderId> {
        match self {
            Event::Order(order) => Some(order),
            Event::Registered => None,
        }
    }
}

impl Services {
    /// Plans the brand's active after-purchase campaigns for the customer of an order
    /// just credited, in the order's transaction. A campaign that cannot be planned (a
    /// stored definition that no longer parses) is logged and left to its campaign runs:
    /// it never refuses the order. Storage errors are returned.
    pub(crate) async fn after_order_in(
        &self,
        tx: &mut dyn Transaction,
        brand: &Brand,
        customer: &Customer,
        order: &Order,
        receipt: &OrderReceipt,
    ) -> Result<(), StoreError> {
        let due = self.order_campaigns_in(tx, brand).await?;
        self.plan_after_order_in(tx, brand, customer, order, receipt, due)
            .await
    }

    /// The first half of [`after_order_in`](Self::after_order_in): the brand's active
    /// campaigns an order fires (read before the order's writes, so an order that fires
    /// none can write everything in one piece).
    pub(crate) async fn order_campaigns_in(
        &self,
        tx: &mut dyn Transaction,
        brand: &Brand,
    ) -> Result<Vec<CampaignRecord>, StoreError> {
        // The order's id plays no part in which campaigns fire.
        let event = Event::Order(OrderId::from_uuid(uuid::Uuid::nil()));
        match active_for(tx, brand, event).await {
            Ok(due) => Ok(due),
            Err(CampaignError::Store(error)) => Err(error),
            Err(error) => {
                tracing::warn!(brand = %brand.id, %error, "a real-time campaign message was not planned");
                Ok(Vec::new())
            }
        }
    }

    /// The second half of [`after_order_in`](Self::after_order_in): plans the `due`
    /// campaigns for the order's customer, once the order's writes are done.
    pub(crate) async fn plan_after_order_in(
        &self,
        tx: &mut dyn Transaction,
        brand: &Brand,
        customer: &Customer,
        order: &Order,
        receipt: &OrderReceipt,
        due: Vec<CampaignRecord>,
    ) -> Result<(), StoreError> {
        let event = Event::Order(receipt.order_id);
        let result = async {
            if due.is_empty() {
                return Ok(());
            }
            let now = self.clock.now();
            let stats = tx.customers().stats(brand.id, customer.id).await?;
            let scores = tx
                .intelligence()
                .scores_of(brand.id, &[customer.id])
                .await?
                .into_iter()
                .next();
            let history = CustomerHistory {
                customer: customer.clone(),
                stats,
                balance: receipt.balance.unwrap_or(Points::ZERO),
                visits: vec![Visit {
                    order_id: receipt.order_id,
                    at: order.placed_at,
                    location: order.location.clone(),
                    net_total: order.total,
                    skus: order.lines.iter().map(|l| l.sku.clone()).collect(),
                }],
                tier_down: None,
            };
            let facts = facts_of(&history, scores.as_ref(), now);
            self.plan_event(tx, brand, due, &facts, event, now).await
        }
        .await;
        match result {
            Ok(()) => Ok(()),
            Err(CampaignError::Store(error)) => Err(error),
            Err(error) => {
                tracing::warn!(brand = %brand.id, %error, "a real-time campaign message was not planned");
                Ok(())
            }
        }
    }

    /// Plans the brand's active welcome campaigns for a customer who joined at
    /// `joined_at` (registered, or signed up on their own after the POS knew them), in
    /// that transaction; like [`Services::after_order_in`], a campaign that cannot be
    /// planned is logged and never refuses the registration.
    pub(crate) async fn after_registration_in(
        &self,
        tx: &mut dyn Transaction,
        brand: &Brand,
        customer: &Customer,
        joined_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let event = Event::Registered;
        let result = async {
            let due = active_for(tx, brand, event).await?;
            if due.is_empty() {
                return Ok(());
            }
            let now = self.clock.now();
            let history = CustomerHistory {
                customer: customer.clone(),
                stats: None,
                balance: Points::ZERO,
                visits: Vec::new(),
                tier_down: None,
            };
            let mut facts = facts_of(&history, None, now);
            facts.joined_at = Some(joined_at);
            self.plan_event(tx, brand, due, &facts, event, now).await
        }
        .await;
        match result {
            Ok(()) => Ok(()),
            Err(CampaignError::Store(error)) => Err(error),
            Err(error) => {
                tracing::warn!(brand = %brand.id, %error, "a welcome message was not planned");
                Ok(())
            }
        }
    }

    /// Plans each of `due` for the one customer of `facts`.
    async fn plan_event(
        &self,
        tx: &mut dyn Transaction,
        brand: &Brand,
        due: Vec<CampaignRecord>,
        facts: &CustomerFacts,
        event: Event,
        now: OffsetDateTime,
    ) -> Result<(), CampaignError> {
        let policy = policy_of(tx, brand.id).await?;
        let mut facts = facts.clone();
        let listed = std::slice::from_mut(&mut facts);
        // A plain thank-you is transactional: the list is read only when a promotional
        // SMS may follow, so the order path pays nothing for it otherwise.
        let sms_promotion = due.iter().any(|record| {
            parse_definition(record).is_ok_and(|c| crate::do_not_call::sends_promotional_sms(&c))
        });
        crate::do_not_call::mark_listed(tx, listed, sms_promotion).await?;
        // The segment's golden hour is read only for a golden-hour campaign.
        if due.iter().any(|record| {
            parse_definition(record).is_ok_and(|c| {
                matches!(
                    c.send_time,
                    regulars_campaigns::SendTime::PreferredHour { .. }
                )
            })
        }) {
            crate::segment_send_times::lend_segment_hours(tx, brand.id, listed).await?;
        }
        let facts = &facts;
        for record in due {
            if self
                .plan_one(tx, brand, &policy, record, facts, event, now)
                .await?
            {
                self.bell.arm();
            }
        }
        Ok(())
    }

    /// Plans one campaign for one customer and writes the decision as a campaign run
    /// would: the message, its voucher, the member, the budget. `true` when a message
    /// due now was written.
    #[allow(clippy::too_many_arguments)]
    async fn plan_one(
        &self,
        tx: &mut dyn Transaction,
        brand: &Brand,
        policy: &Policy,
        mut record: CampaignRecord,
        facts: &CustomerFacts,
        event: Event,
        now: OffsetDateTime,
    ) -> Result<bool, CampaignError> {
        let mut campaign = parse_definition(&record)?;
        if campaign.has_offer() {
            // The budget is shared with campaign runs and other orders: lock the row,
            // then read what the lock protects.
            tx.campaigns().lock_campaign(brand.id, record.id).await?;
            record = find(tx, brand.id, record.id).await?;
            if record.status != CampaignStatus::Active {
                return Ok(false);
            }
            campaign = parse_definition(&record)?;
        }
        under_brand(&mut campaign, brand, policy.clone());
        with_catalogue(tx, brand.id, &mut campaign).await?;
        let history = sent_history(tx, brand, &campaign, facts, now).await?;
        let budget_used = Money::from_minor_units(record.budget_used_minor, brand.currency);
        let planned = plan(
            &campaign,
            std::slice::from_ref(facts),
            now,
            &history,
            budget_used,
        )
        .map_err(|e| CampaignError::CorruptDefinition {
            campaign: record.id,
            message: e.to_string(),
        })?;
        let member = |group, at, variant| CampaignMember {
            campaign_id: record.id,
            customer_id: facts.customer_id,
            group,
            at,
            variant,
        };
        let m = match planned.outcomes.first() {
            Some(Outcome::Send(m)) => m,
            Some(Outcome::Skip {
                reason: SkipReason::HoldOut,
                ..
            }) => {
                tx.campaigns()
                    .add_members(brand.id, &[member(MemberGroup::Holdout, now, None)])
                    .await?;
                return Ok(false);
            }
            _ => return Ok(false),
        };
        let voucher = match m.offer.as_ref().and_then(|o| o.reward_id) {
            Some(reward) => Some(self.campaign_voucher(&campaign, m, reward, now)?),
            None => None,
        };
        let message = self.outbox_message(brand, &campaign, facts, m, voucher.as_ref(), now);
        if tx.outbox().enqueue(&[message]).await? == 0 {
            // Already written (a campaign run got there first): nothing more to do.
            return Ok(false);
        }
        if let Some(v) = voucher {
            // Paid for by the order: its full refund voids the voucher if still unused.
            tx.vouchers()
                .insert_voucher(brand.id, &v, event.order())
                .await?;
        }
        tx.campaigns()
            .add_members(
                brand.id,
                &[member(MemberGroup::Treatment, m.send_at, m.variant)],
            )
            .await?;
        if m.offer.is_some() {
            record.budget_used_minor = planned
                .budget_used
                .to_minor_units()
                .unwrap_or(record.budget_used_minor);
            record.updated_at = now;
            tx.campaigns().update_campaign(&record).await?;
        }
        Ok(m.send_at <= now)
    }
}

/// The brand's active campaigns that `event` fires.
pub(crate) async fn active_for(
    tx: &mut dyn Transaction,
    brand: &Brand,
    event: Event,
) -> Result<Vec<CampaignRecord>, CampaignError> {
    let active = tx
        .campaigns()
        .campaigns_with_status(brand.id, CampaignStatus::Active)
        .await?;
    Ok(active
        .into_iter()
        .filter(|record| {
            // A definition that does not parse is reported by its campaign runs.
            Campaign::from_json(&record.definition).is_ok_and(|c| event.fires(&c.trigger))
        })
        .collect())
}

/// The customer's messages the planner counts for `campaign`, as a campaign run reads
/// them.
async fn sent_history(
    tx: &mut dyn Transaction,
    brand: &Brand,
    campaign: &Campaign,
    facts: &CustomerFacts,
    now: OffsetDateTime,
) -> Result<Vec<SentMessage>, CampaignError> {
    let since = shift_back(now, history_window(campaign));
    Ok(tx
        .outbox()
        .history(brand.id, &[facts.customer_id], Some(campaign.id), since)
        .await?
        .into_iter()
        .filter_map(|r| {
            let phone = r
                .phone
                .as_deref()
                .and_then(|p| Phone::parse(p, brand.calling_code).ok())?;
            Some(SentMessage {
                campaign_id: r.campaign_id.unwrap_or(campaign.id),
                customer_id: r.customer_id,
                phone,
                send_at: r.at,
                promotional: r.promotional,
                dedupe_key: r.dedupe_key,
            })
        })
        .collect())
}

/// Gives a campaign whose trigger compares the balance with the rewards the costs of
/// the brand's active rewards, and a campaign offering bonus points what a point is
/// worth (see [`crate::bonus::point_value`]).
pub(crate) async fn with_catalogue(
    tx: &mut dyn Transaction,
    brand: BrandId,
    campaign: &mut Campaign,
) -> Result<(), StoreError> {
    if matches!(
        campaign.trigger,
        Trigger::RewardAffordable | Trigger::RewardNearly { .. }
    ) {
        campaign.reward_costs = tx
            .brands()
            .rewards(brand)
            .await?
            .into_iter()
            .filter(|r| r.active)
            .map(|r| r.cost)
            .collect();
    }
    if campaign.gives_bonus_points() {
        campaign.point_value = crate::bonus::point_value(tx, brand, campaign.currency).await?;
    }
    Ok(())
}
