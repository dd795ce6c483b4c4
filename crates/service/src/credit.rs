//! Crediting one order to one customer under the account's lock: working out what the
//! order earns and moves (entries, stats, tier), then writing it — on its own, or with
//! the rest of the order's writes in one piece ([`Credited::writes`]).

use crate::account::{Account, points_expiry};
use crate::ingest::{IngestError, OrderReceipt, stored_order};
use crate::tiering::{held_tier, qualifying};
use regulars_domain::{
    Currency, Customer, CustomerId, DomainError, EventKey, Money, Order, Points,
};
use regulars_loyalty::ledger::{LedgerEntry, LotsWanted};
use regulars_loyalty::rules::{Conditions, Earning, EarningContext, EarningRules, Multiplier};
use regulars_loyalty::tiers::{TierCode, TierDecision, TierProgram};
use regulars_ports::{
    CountedTimes, CustomerStats, IdempotentRecord, LoyaltyProgram, OrderWrites, TierState,
    Transaction,
};
use std::borrow::Cow;
use time::OffsetDateTime;

/// Crediting one order to one customer.
pub(crate) struct Credit<'a> {
    pub(crate) brand: &'a regulars_ports::Brand,
    pub(crate) program: Option<&'a LoyaltyProgram>,
    pub(crate) customer: &'a Customer,
    pub(crate) order: &'a Order,
    /// True for an order already stored without a customer and claimed now: its points
    /// are set on the stored order instead of storing it.
    pub(crate) claim: bool,
}

impl Credit<'_> {
    /// Credits the order to the customer's `account`, opened (locked) by the caller,
    /// who read the customer's `stats` after taking the lock: works it out and writes it.
    pub(crate) async fn apply(
        &self,
        tx: &mut dyn Transaction,
        mut account: Account,
        stats: Option<CustomerStats>,
        receipt: &mut OrderReceipt,
    ) -> Result<(), IngestError> {
        let credited = self.work_out(tx, &mut account, stats, receipt).await?;
        credited.write(tx, self, &mut account, receipt).await
    }

    /// What the order earns and moves on the customer's `account` (locked by the
    /// caller, who read the `stats` after taking the lock), nothing written yet: the
    /// receipt is filled in, the entries are in the account's ledger and returned with
    /// the customer's new stats. Reads only what a rule needs beyond the lock's row
    /// (lots due, a day's earnings the state no longer keeps, a points-metric tier
    /// window).
    pub(crate) async fn work_out(
        &self,
        tx: &mut dyn Transaction,
        account: &mut Account,
        stats: Option<CustomerStats>,
        receipt: &mut OrderReceipt,
    ) -> Result<Credited, IngestError> {
        let (brand_id, customer_id) = (self.brand.id, self.customer.id);
        receipt.customer_id = Some(customer_id);
        let mut stats = stats.unwrap_or_else(|| fresh_stats(customer_id, self.brand.currency));
        let at = account.time_for(self.order.placed_at);
        let mut entries = account
            .command(tx, brand_id, &LotsWanted::sweep(at), |l| l.expire_due(at))
            .await?
            .map_err(IngestError::Ledger)?;

        let earning = match self.program {
            Some(program) => {
                let offset = self.brand.utc_offset;
                let today = account
                    .earned_on_day(tx, brand_id, self.order.placed_at, offset)
                    .await?;
                self.evaluate(program, &stats, today)?
            }
            None => Earning {
                points: Points::ZERO,
                explanation: Vec::new(),
            },
        };
        receipt.explanation = earning.explanation;
        if earning.points.is_positive() {
            let expires_at = points_expiry(self.brand, self.order.placed_at);
            if expires_at.is_some_and(|expiry| expiry <= at) {
                receipt.lapsed = true;
            } else {
                let credited = account
                    .ledger
                    .earn_placed(
                        self.order.key.clone(),
                        earning.points,
                        at,
                        expires_at,
                        Some(self.order.placed_at),
                    )
                    .map_err(IngestError::Ledger)?;
                entries.extend(credited);
                receipt.points_earned = earning.points;
            }
        }

        record_visit(&mut stats, self.order).map_err(IngestError::InvalidOrder)?;
        if let Some(tiers) = self.program.and_then(|p| p.tiers.as_ref()) {
            // The history read back holds the entries of this order too: the ledger
            // keeps what its commands returned until they are written.
            let history = account.tier_history(tx, brand_id, tiers).await?;
            receipt.upgraded = upgrade_tier(tiers, &mut stats, &history, at, self.order);
        }
        receipt.balance = Some(account.balance());
        receipt.tier = stats.tier.as_ref().map(|t| t.code.clone());
        Ok(Credited { entries, stats })
    }

    /// Evaluates the brand's rules for the order, in the customer's context.
    pub(crate) fn evaluate(
        &self,
        program: &LoyaltyProgram,
        stats: &CustomerStats,
        earned_today: Points,
    ) -> Result<Earning, IngestError> {
        let offset = self.brand.utc_offset;
        let visit_number = u32::try_from(stats.visits.saturating_add(1)).unwrap_or(u32::MAX);
        let held = program.tiers.as_ref().and_then(|t| held_tier(t, stats));
        let mut context = EarningContext::new(offset, visit_number)
            .with_birthday_of(self.customer, self.order.placed_at)
            .with_earned_today(earned_today);
        if let Some(code) = &held {
            context = context.with_tier(code.as_str());
        }
        let rules = with_tier_multiplier(&program.earning_rules, program.tiers.as_ref(), held);
        rules
            .evaluate(self.order, &context)
            .map_err(IngestError::Rules)
    }
}

/// What crediting an order worked out, still to be written.
pub(crate) struct Credited {
    /// The entries the order appends (lots due expired, the points earned).
    pub(crate) entries: Vec<LedgerEntry>,
    /// The customer's stats with the order counted.
    pub(crate) stats: CustomerStats,
}

impl Credited {
    /// Writes it on its own: the order (or, claimed, its points), the account's
    /// append and the stats, one after another.
    pub(crate) async fn write(
        self,
        tx: &mut dyn Transaction,
        credit: &Credit<'_>,
        account: &mut Account,
        receipt: &OrderReceipt,
    ) -> Result<(), IngestError> {
        let brand_id = credit.brand.id;
        if credit.claim {
            tx.claims()
                .set_claimed_points(brand_id, receipt.order_id, receipt.points_earned)
                .await?;
        } else {
            let stored = stored_order(
                receipt.order_id,
                credit.order,
                Some(credit.customer.id),
                receipt.points_earned,
            );
            tx.orders()
                .insert_counted_order(&stored, &self.stats)
                .await?;
        }
        account.append(tx, brand_id, &self.entries).await?;
        tx.customers().save_stats(brand_id, &self.stats).await?;
        Ok(())
    }

    /// Writes it with the order's idempotency record (and `also` another, the event
    /// of the webhook that delivered it), all in one piece
    /// ([`OrderRepo::write_order`](regulars_ports::OrderRepo::write_order)): for an
    /// order stored now (not a claim) whose transaction writes nothing else.
    pub(crate) async fn write_with_record(
        self,
        tx: &mut dyn Transaction,
        credit: &Credit<'_>,
        account: &mut Account,
        receipt: &OrderReceipt,
        (record, also): (IdempotentRecord, Option<(EventKey, IdempotentRecord)>),
    ) -> Result<(), IngestError> {
        let brand_id = credit.brand.id;
        let append = account.staged_append(tx, brand_id, &self.entries).await?;
        let writes = OrderWrites {
            order: stored_order(
                receipt.order_id,
                credit.order,
                Some(credit.customer.id),
                receipt.points_earned,
            ),
            account: append,
            stats: Some(self.stats),
            record,
            also,
        };
        if let Some(head) = tx.orders().write_order(&writes).await? {
            account.appended(head);
        }
        Ok(())
    }
}

/// Stats of a customer without any visit yet.
pub(crate) fn fresh_stats(customer_id: CustomerId, currency: Currency) -> CustomerStats {
    CustomerStats {
        customer_id,
        visits: 0,
        spend: Money::zero(currency),
        first_visit_at: None,
        counted: CountedTimes::default(),
        last_visit_at: None,
        tier: None,
    }
}

/// Counts the order as a visit (a new order, nothing of it refunded, so it also counts in
/// reports).
pub(crate) fn record_visit(stats: &mut CustomerStats, order: &Order) -> Result<(), DomainError> {
    stats.visits = stats.visits.saturating_add(1);
    stats.spend = stats.spend.checked_add(&order.total)?;
    let at = order.placed_at;
    stats.first_visit_at = Some(stats.first_visit_at.map_or(at, |first| first.min(at)));
    stats.counted.add(at);
    stats.last_visit_at = Some(stats.last_visit_at.map_or(at, |last| last.max(at)));
    Ok(())
}

/// The brand's rules with the held tier's earning multiplier added as one more
/// multiplier, so it stacks, is capped and is explained like any other. A multiplier of 1
/// adds nothing. Should the rules then fail validation (a document already at its limit
/// of multipliers), the tier multiplier is left out and a warning logged rather than
/// refusing the order.
fn with_tier_multiplier<'r>(
    rules: &'r EarningRules,
    tiers: Option<&TierProgram>,
    held: Option<TierCode>,
) -> Cow<'r, EarningRules> {
    let Some((tiers, code)) = tiers.zip(held) else {
        return Cow::Borrowed(rules);
    };
    let Some(tier) = tiers.tier(&code) else {
        return Cow::Borrowed(rules);
    };
    if tier.benefits.earn_multiplier <= rust_decimal::Decimal::ONE {
        return Cow::Borrowed(rules);
    }
    let mut augmented = rules.clone();
    augmented.multipliers.push(Multiplier {
        label: Some(format!("{} tier", tier.name)),
        factor: tier.benefits.earn_multiplier,
        when: Conditions {
            tiers: Some(vec![code.as_str().to_owned()]),
            ..Conditions::default()
        },
    });
    match augmented.validate() {
        Ok(()) => Cow::Owned(augmented),
        Err(error) => {
            tracing::warn!(%error, tier = %code, "tier multiplier left out: the rules cannot take it");
            Cow::Borrowed(rules)
        }
    }
}

/// Moves the customer up when the qualifying value over the window ending at `at` earns
/// a higher tier. Never down: downgrades happen only at a period-end review. A tier
/// question that cannot be answered (a programme inconsistent with the brand's currency)
/// leaves the tier as it is and is logged; it never blocks the points.
pub(crate) fn upgrade_tier(
    tiers: &TierProgram,
    stats: &mut CustomerStats,
    entries: &[LedgerEntry],
    at: OffsetDateTime,
    order: &Order,
) -> bool {
    let held = held_tier(tiers, stats);
    let decision = qualifying(tiers, entries, stats, at, Some(order.total)).and_then(|q| {
        q.map(|q| tiers.on_activity(held.as_ref(), q.value))
            .transpose()
    });
    match decision {
        Ok(Some(TierDecision::Upgrade { to, .. })) => {
            stats.tier = Some(TierState {
                code: to.as_str().to_owned(),
                since: at,
            });
            true
        }
        Ok(_) => false,
        Err(error) => {
            tracing::warn!(%error, customer = %stats.customer_id, "tier left unchanged");
            false
        }
    }
}
