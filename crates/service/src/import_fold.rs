//! One customer's imported orders folded in memory: the same ledger commands and rule
//! evaluation as [`Credit::apply`](crate::ingest::Credit), run from the stored account
//! state over every order of the chunk, leaving the rows to write at the end.

use crate::account::points_expiry;
use crate::ingest::{
    Credit, IngestError, ORDER_EVENT, OrderReceipt, record_visit, stored_order, upgrade_tier,
};
use regulars_domain::{Customer, Order, OrderId, Points, local_date};
use regulars_loyalty::ledger::{Ledger, LedgerEntry};
use regulars_loyalty::rules::Earning;
use regulars_loyalty::tiers::QualificationMetric;
use regulars_ports::{
    AccountHead, AccountWrite, Brand, CustomerStats, IdempotentRecord, LoyaltyProgram, StoreError,
    StoredOrder,
};
use time::OffsetDateTime;

/// A customer's account as the fold starts it.
pub(crate) struct Start {
    /// The locked head; `None` for a customer the chunk creates.
    pub head: Option<AccountHead>,
    /// The ledger: resumed from the stored state, or empty for a new customer.
    pub ledger: Ledger,
    /// The stored statistics (fresh ones for a customer without visits).
    pub stats: CustomerStats,
}

/// What the fold of one customer's orders writes.
pub(crate) struct Folded {
    pub orders: Vec<StoredOrder>,
    pub receipts: Vec<OrderReceipt>,
    pub records: Vec<IdempotentRecord>,
    pub account: AccountWrite,
    pub stats: CustomerStats,
}

/// Why a customer's orders cannot be folded in memory and go the one-by-one way: a
/// rule needs the stored history (a points-metric tier window, a daily cap for a day
/// the state no longer keeps), or one of the orders is refused (the one-by-one path
/// refuses it alone and credits its neighbours).
#[derive(Debug)]
pub(crate) enum NotFolded {
    NeedsHistory,
    Refused(IngestError),
}

impl From<IngestError> for NotFolded {
    fn from(error: IngestError) -> Self {
        NotFolded::Refused(error)
    }
}

impl From<StoreError> for NotFolded {
    fn from(error: StoreError) -> Self {
        NotFolded::Refused(IngestError::Store(error))
    }
}

/// The brand's configuration the fold applies.
pub(crate) struct Rules<'a> {
    pub brand: &'a Brand,
    pub program: Option<&'a LoyaltyProgram>,
}

/// Folds `orders` (the customer's, in file order) into `start`; each order comes with
/// its id and its fingerprint.
pub(crate) fn fold_customer(
    rules: &Rules<'_>,
    customer: &Customer,
    start: Start,
    orders: &[(&Order, OrderId, String)],
) -> Result<Folded, NotFolded> {
    let Start {
        head,
        ledger,
        stats,
    } = start;
    let new = head.is_none();
    let points_metric = rules
        .program
        .and_then(|p| p.tiers.as_ref())
        .is_some_and(|t| matches!(t.metric(), QualificationMetric::Points));
    if points_metric && !new {
        return Err(NotFolded::NeedsHistory);
    }
    let mut folded = Folded {
        orders: Vec::with_capacity(orders.len()),
        receipts: Vec::with_capacity(orders.len()),
        records: Vec::with_capacity(orders.len()),
        account: AccountWrite {
            customer: customer.id,
            head,
            entries: Vec::new(),
            state: ledger.state().account().clone(),
            tallies: Vec::new(),
        },
        stats: stats.clone(),
    };
    let mut fold = Fold {
        rules,
        customer,
        new,
        ledger,
        stats,
        entries: Vec::new(),
    };
    for (order, order_id, fingerprint) in orders {
        let receipt = fold.order(order, *order_id)?;
        folded.orders.push(stored_order(
            *order_id,
            order,
            Some(customer.id),
            receipt.points_earned,
        ));
        folded.records.push(IdempotentRecord {
            kind: ORDER_EVENT.into(),
            result: serde_json::to_value(&receipt)
                .map_err(|e| StoreError::Other(format!("encoding the order receipt: {e}")))?,
            fingerprint: Some(fingerprint.clone()),
        });
        folded.receipts.push(receipt);
    }
    let Fold {
        ledger,
        stats,
        entries,
        ..
    } = fold;
    folded.account.state = ledger.state().account().clone();
    folded.account.tallies = if new {
        ledger.all_tallies()
    } else {
        ledger.changed_tallies()
    };
    folded.account.entries = entries;
    folded.stats = stats;
    Ok(folded)
}

/// One customer's fold in progress: the ledger and statistics as the orders so far
/// left them, and the entries they appended.
struct Fold<'r, 'a> {
    rules: &'r Rules<'a>,
    customer: &'r Customer,
    /// The customer is created by the chunk: the ledger in memory is their whole history.
    new: bool,
    ledger: Ledger,
    stats: CustomerStats,
    entries: Vec<LedgerEntry>,
}

impl Fold<'_, '_> {
    /// Credits one order as [`Credit::apply`] does: lots due expire, the rules are
    /// evaluated, the points earned (or lapsed, when they would expire at once), the visit
    /// recorded and the tier upgraded. Returns the order's receipt.
    fn order(&mut self, order: &Order, order_id: OrderId) -> Result<OrderReceipt, NotFolded> {
        let (rules, customer) = (self.rules, self.customer);
        let credit = Credit {
            brand: rules.brand,
            program: rules.program,
            customer,
            order,
            claim: false,
        };
        let mut receipt = OrderReceipt {
            order_id,
            customer_id: Some(customer.id),
            points_earned: Points::ZERO,
            balance: None,
            tier: None,
            upgraded: false,
            explanation: Vec::new(),
            lapsed: false,
            duplicate: false,
            claim_code: None,
        };
        let at = time_for(&self.ledger, order.placed_at);
        self.entries
            .extend(self.ledger.expire_due(at).map_err(IngestError::Ledger)?);
        let earning = match rules.program {
            Some(program) => {
                let today = earned_on_day(&self.ledger, self.new, order.placed_at, rules.brand)?;
                credit.evaluate(program, &self.stats, today)?
            }
            None => Earning {
                points: Points::ZERO,
                explanation: Vec::new(),
            },
        };
        receipt.explanation = earning.explanation;
        if earning.points.is_positive() {
            self.earn(order, earning.points, at, &mut receipt)?;
        }
        record_visit(&mut self.stats, order).map_err(IngestError::InvalidOrder)?;
        if let Some(tiers) = rules.program.and_then(|p| p.tiers.as_ref()) {
            // A new customer's whole history is the ledger in memory; a customer with a
            // stored history only gets here under a spend metric, which reads none.
            let history = if self.new {
                self.ledger.entries().to_vec()
            } else {
                Vec::new()
            };
            receipt.upgraded = upgrade_tier(tiers, &mut self.stats, &history, at, order);
        }
        receipt.balance = Some(self.ledger.balance());
        receipt.tier = self.stats.tier.as_ref().map(|t| t.code.clone());
        Ok(receipt)
    }

    /// Credits the `points` an order earned at `at`, unless they would already have
    /// expired by then (the receipt then says they lapsed).
    fn earn(
        &mut self,
        order: &Order,
        points: Points,
        at: OffsetDateTime,
        receipt: &mut OrderReceipt,
    ) -> Result<(), NotFolded> {
        let expires_at = points_expiry(self.rules.brand, order.placed_at);
        if expires_at.is_some_and(|expiry| expiry <= at) {
            receipt.lapsed = true;
        } else {
            let credited = self
                .ledger
                .earn_placed(
                    order.key.clone(),
                    points,
                    at,
                    expires_at,
                    Some(order.placed_at),
                )
                .map_err(IngestError::Ledger)?;
            self.entries.extend(credited);
            receipt.points_earned = points;
        }
        Ok(())
    }
}

/// As `Account::time_for`: never before the last entry.
fn time_for(ledger: &Ledger, wanted: OffsetDateTime) -> OffsetDateTime {
    match ledger.state().last_at() {
        Some(last) if last > wanted => last,
        _ => wanted,
    }
}

/// As `Account::earned_on_day`: from the state's recent days; a new customer's older
/// days from the entries in memory; a stored customer's older days need the history.
fn earned_on_day(
    ledger: &Ledger,
    new: bool,
    at: OffsetDateTime,
    brand: &Brand,
) -> Result<Points, NotFolded> {
    let offset = brand.utc_offset;
    let Some(day) = local_date(at, offset) else {
        return Ok(Points::ZERO);
    };
    if let Some(earned) = ledger.state().account().earned_on_day(day, offset) {
        return Ok(earned);
    }
    if !new {
        return Err(NotFolded::NeedsHistory);
    }
    let rebuilt = Ledger::from_entries(ledger.entries().to_vec())
        .map_err(|e| StoreError::Corrupt(format!("ledger in memory: {e}")))?;
    Ok(rebuilt.earned_on_day(day, offset))
}
