//! Claiming a missed visit: an order stored without a customer (the cashier did not ask
//! for a phone) is credited later, once, to the customer who claims it — by the code its
//! receipt prints, at the till of its location, or by an integrator naming it.
//!
//! * **Once.** One conditional update gives the order its customer only while it has
//!   none and nothing of it was refunded; a concurrent claim (on PostgreSQL it waits for
//!   the first) finds the order taken and runs again: the same customer gets the first
//!   result back (`duplicate`), another is refused.
//! * **By the rules of the order.** The points are what the order would have earned had
//!   the customer been named at the till: the same crediting as a late delivery (see
//!   [`Services::ingest_order`]). Read *as of the order*: its time (hour, weekday and
//!   birthday multipliers, the daily cap of its local day, the lot's expiry counted from
//!   it), its location, amount and items. Read *now*: the programme's rules (they are not
//!   versioned), the tier the customer holds and their visit count.
//! * **Within the window.** A brand lets orders be claimed for [`DEFAULT_CLAIM_DAYS`]
//!   unless it sets another number of days (0: claims are off).
//! * A refund of a claimed order later reverses its points like any other refund.

use crate::account::{Account, load_brand};
use crate::error::{CorruptLedger, ErrorClass, UseCaseError, common_variants, store_class};
use crate::ingest::Credit;
use crate::till::TillStaff;
use crate::{IngestError, OrderReceipt, Services};
use regulars_domain::{BrandId, CustomerId, DomainError, OrderId, Phone, Points};
use regulars_ports::{ClaimableOrder, IdGen, OrderClaim, StoreError, StoredOrder, Transaction};
use thiserror::Error;
use time::{Duration, OffsetDateTime};

/// Days an order may be claimed when the brand has not said otherwise.
pub const DEFAULT_CLAIM_DAYS: u32 = 7;
/// The longest claim window a brand may set.
pub const MAX_CLAIM_DAYS: u32 = 90;
/// Characters in a claim code.
pub const CLAIM_CODE_LEN: usize = 10;
/// How many unclaimed orders the till lists.
pub const TILL_CLAIM_LIST: u64 = 20;
/// Digits and capitals without the ones read wrongly (0/O, 1/I): 32 symbols, 5 bits each.
const CLAIM_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// How a claim came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimVia {
    /// The code printed on the receipt.
    Code,
    /// A staff member at the till of the order's location.
    Till,
    /// An integrator's API call naming the order.
    Api,
}

impl ClaimVia {
    /// Its stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimVia::Code => "code",
            ClaimVia::Till => "till",
            ClaimVia::Api => "api",
        }
    }
}

/// The order claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderRef {
    /// By Regulars' id.
    Id(OrderId),
    /// By the code its receipt prints, as typed.
    Code(String),
}

/// Who claims it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimant {
    /// A known customer.
    Customer(CustomerId),
    /// A phone number, as typed: its customer, created if new.
    Phone(String),
}

/// Who made the claim, how, and where it may be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimBy {
    /// How.
    pub via: ClaimVia,
    /// Who, for the record: `api_key:<id>`, `staff:<id>@location:<code>`.
    pub actor: String,
    /// When set, only an order placed at this location code can be claimed (a till).
    pub only_at: Option<String>,
}

/// Why a claim was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ClaimError {
    /// The brand does not exist.
    #[error("brand {0} does not exist")]
    UnknownBrand(BrandId),
    /// No such order in the brand (or not at this till's location).
    #[error("no order {0}")]
    UnknownOrder(OrderId),
    /// No order has this claim code in the brand.
    #[error("no order has this claim code")]
    UnknownCode,
    /// The code is not shaped like a claim code.
    #[error("a claim code is {CLAIM_CODE_LEN} letters and digits")]
    InvalidCode,
    /// No such customer in the brand.
    #[error("no customer {0}")]
    UnknownCustomer(CustomerId),
    /// The phone number cannot be read.
    #[error("phone: {0}")]
    InvalidPhone(DomainError),
    /// Another customer claimed the order already.
    #[error("the order was already claimed")]
    AlreadyClaimed,
    /// The order was credited to a customer when it came in: there is nothing to claim.
    #[error("the order already has a customer")]
    HasCustomer,
    /// The order is older than the brand's claim window.
    #[error("the order was placed at {placed_at}: orders can be claimed for {days} days")]
    TooOld {
        /// When it was placed.
        placed_at: OffsetDateTime,
        /// The brand's window.
        days: u32,
    },
    /// The brand does not let orders be claimed.
    #[error("this brand does not let orders be claimed")]
    ClaimsOff,
    /// The order was refunded (in full or in part) before anyone claimed it.
    #[error("the order was refunded")]
    Refunded,
    /// The claim window asked for is out of range.
    #[error("claim_days must be 0 to {MAX_CLAIM_DAYS}")]
    InvalidDays,
    /// Crediting the order failed.
    #[error(transparent)]
    Credit(IngestError),
    /// The customer's stored ledger is invalid.
    #[error(transparent)]
    CorruptLedger(CorruptLedger),
    /// Storage failed.
    #[error(transparent)]
    Store(StoreError),
}

common_variants!(ClaimError, ledger);

impl UseCaseError for ClaimError {
    fn class(&self) -> ErrorClass {
        match self {
            ClaimError::UnknownBrand(_)
            | ClaimError::UnknownOrder(_)
            | ClaimError::UnknownCode
            | ClaimError::UnknownCustomer(_) => ErrorClass::NotFound,
            ClaimError::InvalidCode
            | ClaimError::InvalidPhone(_)
            | ClaimError::TooOld { .. }
            | ClaimError::ClaimsOff
            | ClaimError::Refunded
            | ClaimError::InvalidDays => ErrorClass::Invalid,
            ClaimError::AlreadyClaimed | ClaimError::HasCustomer => ErrorClass::Refused,
            ClaimError::Credit(e) => e.class(),
            ClaimError::CorruptLedger(_) => ErrorClass::Internal,
            ClaimError::Store(e) => store_class(e),
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ClaimError::UnknownBrand(_) => Some("brand"),
            ClaimError::UnknownOrder(_)
            | ClaimError::AlreadyClaimed
            | ClaimError::HasCustomer
            | ClaimError::TooOld { .. }
            | ClaimError::ClaimsOff
            | ClaimError::Refunded => Some("order"),
            ClaimError::UnknownCode | ClaimError::InvalidCode => Some("code"),
            ClaimError::UnknownCustomer(_) => Some("customer_id"),
            ClaimError::InvalidPhone(_) => Some("customer_phone"),
            ClaimError::InvalidDays => Some("claim_days"),
            ClaimError::Credit(e) => e.field(),
            ClaimError::CorruptLedger(_) | ClaimError::Store(_) => None,
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            ClaimError::AlreadyClaimed => Some("already_claimed"),
            ClaimError::HasCustomer => Some("has_customer"),
            ClaimError::TooOld { .. } => Some("claim_expired"),
            ClaimError::ClaimsOff => Some("claims_off"),
            ClaimError::Refunded => Some("refunded"),
            ClaimError::Credit(e) => e.code(),
            _ => None,
        }
    }
}

/// A new claim code: [`CLAIM_CODE_LEN`] symbols, 50 random bits.
pub(crate) fn new_claim_code(ids: &dyn IdGen) -> String {
    let mut bytes = [0u8; 8];
    ids.fill_bytes(&mut bytes);
    let mut bits = u64::from_be_bytes(bytes);
    (0..CLAIM_CODE_LEN)
        .map(|_| {
            let symbol = CLAIM_ALPHABET[(bits & 31) as usize];
            bits >>= 5;
            char::from(symbol)
        })
        .collect()
}

/// A typed claim code in its stored form: capitals, without the spaces and dashes a
/// receipt may print in it; `None` when it cannot be one.
pub fn normalize_claim_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let shaped = code.len() == CLAIM_CODE_LEN && code.bytes().all(|b| CLAIM_ALPHABET.contains(&b));
    shaped.then_some(code)
}

impl Services {
    /// Claims an order stored without a customer for `claimant`, in one transaction (see
    /// the [module](self) for what is read as of the order and what now). Claiming an
    /// order the same customer claimed already answers that claim (`duplicate`).
    pub async fn claim_order(
        &self,
        brand: BrandId,
        order: &OrderRef,
        claimant: &Claimant,
        by: &ClaimBy,
    ) -> Result<OrderReceipt, ClaimError> {
        let code = match order {
            OrderRef::Code(typed) => {
                Some(normalize_claim_code(typed).ok_or(ClaimError::InvalidCode)?)
            }
            OrderRef::Id(_) => None,
        };
        let code = code.as_deref();
        self.transact("claim_order", |mut tx| async move {
            let result = async {
                let id = match (order, code) {
                    (OrderRef::Id(id), _) => *id,
                    (OrderRef::Code(_), Some(code)) => tx
                        .claims()
                        .order_by_claim_code(brand, code)
                        .await?
                        .ok_or(ClaimError::UnknownCode)?,
                    (OrderRef::Code(_), None) => return Err(ClaimError::InvalidCode),
                };
                self.claim_in(tx.as_mut(), brand, id, claimant, by).await
            }
            .await;
            (tx, result)
        })
        .await
    }

    async fn claim_in(
        &self,
        tx: &mut dyn Transaction,
        brand_id: BrandId,
        id: OrderId,
        claimant: &Claimant,
        by: &ClaimBy,
    ) -> Result<OrderReceipt, ClaimError> {
        let brand = load_brand::<ClaimError>(tx, brand_id).await?;
        let stored = tx
            .orders()
            .order(brand_id, id)
            .await?
            .filter(|o| by.only_at.is_none() || o.order.location == by.only_at)
            .ok_or(ClaimError::UnknownOrder(id))?;
        let now = self.clock.now();
        let customer = match claimant {
            Claimant::Customer(customer) => tx
                .customers()
                .customer(brand_id, *customer)
                .await?
                .ok_or(ClaimError::UnknownCustomer(*customer))?,
            Claimant::Phone(typed) => {
                let phone =
                    Phone::parse(typed, brand.calling_code).map_err(ClaimError::InvalidPhone)?;
                self.customer_for(tx, brand_id, &phone, now).await?
            }
        };
        if stored.customer_id.is_some() {
            return match tx.claims().claim_of(brand_id, id).await? {
                Some(claim) if claim.customer == customer.id => {
                    claimed_before(tx, brand_id, &stored, customer.id).await
                }
                Some(_) => Err(ClaimError::AlreadyClaimed),
                None => Err(ClaimError::HasCustomer),
            };
        }
        if !stored.refunded.is_zero() {
            return Err(ClaimError::Refunded);
        }
        let days = tx
            .claims()
            .claim_days(brand_id)
            .await?
            .unwrap_or(DEFAULT_CLAIM_DAYS);
        if days == 0 {
            return Err(ClaimError::ClaimsOff);
        }
        let placed_at = stored.order.placed_at;
        if now - placed_at > Duration::days(i64::from(days)) {
            return Err(ClaimError::TooOld { placed_at, days });
        }
        let claim = OrderClaim {
            order: id,
            customer: customer.id,
            via: by.via.as_str().to_owned(),
            actor: by.actor.clone(),
            claimed_at: now,
        };
        if !tx
            .claims()
            .claim_order(brand_id, &claimable(&stored, None), &claim)
            .await?
        {
            // Claimed or refunded since it was read: run again and see which.
            return Err(ClaimError::Store(StoreError::Conflict(format!(
                "order {id} changed while it was claimed"
            ))));
        }
        let account = Account::open::<ClaimError>(tx, brand_id, customer.id).await?;
        let stats = tx.customers().stats(brand_id, customer.id).await?;
        let program = tx.brands().program(brand_id).await?;
        let mut receipt = empty_receipt(id);
        let credit = Credit {
            brand: &brand,
            program: program.as_ref(),
            customer: &customer,
            order: &stored.order,
            claim: true,
        };
        credit
            .apply(tx, account, stats, &mut receipt)
            .await
            .map_err(ClaimError::Credit)?;
        let cards = tx.stamps().stamp_cards(brand_id).await?;
        self.stamp_order_in(tx, brand_id, &customer, &cards, &stored.order)
            .await?;
        Ok(receipt)
    }

    /// Records an order just stored without a customer as open to a claim, with a new
    /// code; answers the code when the brand's claims are on. A code the brand already
    /// gives another order (one chance in 2^50 per order) is a conflict: the ingestion
    /// runs again with a new one.
    pub(crate) async fn open_claim_in(
        &self,
        tx: &mut dyn Transaction,
        brand: BrandId,
        stored: &StoredOrder,
    ) -> Result<Option<String>, StoreError> {
        let days = tx
            .claims()
            .claim_days(brand)
            .await?
            .unwrap_or(DEFAULT_CLAIM_DAYS);
        let code = new_claim_code(self.ids.as_ref());
        tx.claims()
            .open_claim(brand, &claimable(stored, Some(code.clone())))
            .await?;
        Ok((days > 0).then_some(code))
    }

    /// The code that claims an order, when it has one and the brand's claims are on.
    pub async fn claim_code(
        &self,
        brand: BrandId,
        order: OrderId,
    ) -> Result<Option<String>, ClaimError> {
        self.transact("claim_code", |mut tx| async move {
            let result = async {
                let days = tx
                    .claims()
                    .claim_days(brand)
                    .await?
                    .unwrap_or(DEFAULT_CLAIM_DAYS);
                if days == 0 {
                    return Ok(None);
                }
                Ok(tx.claims().claim_code(brand, order).await?)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// The brand's claim window in days.
    pub async fn claim_days(&self, brand: BrandId) -> Result<u32, ClaimError> {
        self.transact("claim_days", |mut tx| async move {
            let result = async {
                load_brand::<ClaimError>(tx.as_mut(), brand).await?;
                Ok(tx
                    .claims()
                    .claim_days(brand)
                    .await?
                    .unwrap_or(DEFAULT_CLAIM_DAYS))
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Sets the brand's claim window: 0 to [`MAX_CLAIM_DAYS`] days, 0 turning claims off.
    pub async fn set_claim_days(&self, brand: BrandId, days: u32) -> Result<u32, ClaimError> {
        if days > MAX_CLAIM_DAYS {
            return Err(ClaimError::InvalidDays);
        }
        self.transact("set_claim_days", |mut tx| async move {
            let result = async {
                load_brand::<ClaimError>(tx.as_mut(), brand).await?;
                tx.claims().set_claim_days(brand, days).await?;
                Ok(days)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// The till's location's orders still open to a claim, newest first: what the
    /// cashier picks from when a customer says they were not credited.
    pub async fn till_unclaimed(&self, at: &TillStaff) -> Result<Vec<ClaimableOrder>, ClaimError> {
        let now = self.clock.now();
        let location = at.location.code.as_str();
        self.transact("till_unclaimed", |mut tx| async move {
            let result = async {
                let days = tx
                    .claims()
                    .claim_days(at.brand)
                    .await?
                    .unwrap_or(DEFAULT_CLAIM_DAYS);
                if days == 0 {
                    return Ok(Vec::new());
                }
                let since = now - Duration::days(i64::from(days));
                Ok(tx
                    .claims()
                    .unclaimed_at(at.brand, location, since, TILL_CLAIM_LIST)
                    .await?)
            }
            .await;
            (tx, result)
        })
        .await
    }

    /// Attaches an order of the till's location to a customer, recorded as claimed at
    /// this till by this staff member.
    pub async fn till_claim(
        &self,
        at: &TillStaff,
        order: OrderId,
        customer: CustomerId,
    ) -> Result<OrderReceipt, ClaimError> {
        let by = ClaimBy {
            via: ClaimVia::Till,
            actor: crate::till::till_author(at).actor,
            only_at: Some(at.location.code.clone()),
        };
        self.claim_order(
            at.brand,
            &OrderRef::Id(order),
            &Claimant::Customer(customer),
            &by,
        )
        .await
    }
}

/// The receipt of a claim the same customer made before: nothing is credited again.
async fn claimed_before(
    tx: &mut dyn Transaction,
    brand: BrandId,
    stored: &StoredOrder,
    customer: CustomerId,
) -> Result<OrderReceipt, ClaimError> {
    let account = Account::open::<ClaimError>(tx, brand, customer).await?;
    let mut receipt = empty_receipt(stored.id);
    receipt.customer_id = Some(customer);
    receipt.points_earned = stored.points_earned;
    receipt.balance = Some(account.balance());
    receipt.tier = tx
        .customers()
        .stats(brand, customer)
        .await?
        .and_then(|s| s.tier)
        .map(|t| t.code);
    receipt.duplicate = true;
    Ok(receipt)
}

fn empty_receipt(order: OrderId) -> OrderReceipt {
    OrderReceipt {
        order_id: order,
        customer_id: None,
        points_earned: Points::ZERO,
        balance: None,
        tier: None,
        upgraded: false,
        explanation: Vec::new(),
        lapsed: false,
        duplicate: false,
        claim_code: None,
    }
}

pub(crate) fn claimable(stored: &StoredOrder, code: Option<String>) -> ClaimableOrder {
    ClaimableOrder {
        order: stored.id,
        code,
        location: stored.order.location.clone(),
        placed_at: stored.order.placed_at,
        total: stored.order.total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(u64);
    impl IdGen for Fixed {
        fn new_id(&self) -> uuid::Uuid {
            uuid::Uuid::nil()
        }
        fn fill_bytes(&self, dest: &mut [u8]) {
            for (d, s) in dest.iter_mut().zip(self.0.to_be_bytes()) {
                *d = s;
            }
        }
    }

    #[test]
    fn codes_are_ten_unambiguous_symbols_read_back_as_typed() {
        for seed in [0, 1, u64::MAX, 0xDEAD_BEEF_CAFE_F00D] {
            let code = new_claim_code(&Fixed(seed));
            assert_eq!(code.len(), CLAIM_CODE_LEN);
            assert_eq!(normalize_claim_code(&code), Some(code.clone()));
            let typed = format!("{}-{}", &code[..5], &code[5..]).to_lowercase();
            assert_eq!(normalize_claim_code(&typed), Some(code.clone()));
        }
        assert_ne!(new_claim_code(&Fixed(1)), new_claim_code(&Fixed(2)));
        for bad in [
            "",
            "ABCDEFGHJ",
            "ABCDEFGHJKL",
            "ABCDEFGHJ0",
            "ABCDEFGHJI",
            "ABCDÉFGHJK",
        ] {
            assert_eq!(normalize_claim_code(bad), None, "{bad}");
        }
    }
}
