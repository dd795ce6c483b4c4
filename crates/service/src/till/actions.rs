//! What a signed-in staff member does at the till: record an order by amount or by
//! menu items for a customer and register a new customer. Both go through the same use cases as the API
//! (`ingest_order`, `create_customer`), with the till's location and the member as the
//! author.

use super::TillStaff;
use crate::manage::ManageError;
use crate::profile::{ChangeAuthor, ConsentPatch, CustomerInput};
use crate::{IngestError, MenuUseCaseError, OrderReceipt, Services};
use regulars_domain::{
    ChangeSource, Customer, CustomerId, DomainError, EventKey, LineItem, MenuError, MenuPick,
    Money, Order, lines_total, menu_lines,
};
use rust_decimal::Decimal;
use std::str::FromStr;
use thiserror::Error;
use time::{Duration, OffsetDateTime};

/// The source of orders recorded at the till (`EventKey::source`).
pub const TILL_SOURCE: &str = "till";
/// How long an order form stays good: a form older than this is refused (reload it).
pub const TILL_FORM_TTL: Duration = Duration::hours(12);

/// An order typed at the till.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TillOrder {
    /// The customer it is for.
    pub customer: CustomerId,
    /// What they paid, as typed (`45000`, `45.000`, `45,000`: separators are ignored for
    /// a currency without minor units). Ignored when `items` picks anything.
    pub amount: String,
    /// Menu items picked, by SKU and units. When any has units, the order is these
    /// items at the menu's prices and its total is their sum: no price comes from the
    /// till.
    pub items: Vec<MenuPick>,
    /// The key the form was given when it was shown: `<unix microseconds>-<random>`. A
    /// second submission of the same form (a double tap) is the same order.
    pub key: String,
}

/// A customer registered at the till, with the consent they chose.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TillRegistration {
    /// Their phone, as typed.
    pub phone: String,
    /// Their name, if given.
    pub name: Option<String>,
    /// Promotional messages by SMS.
    pub sms: bool,
    /// Promotional messages by Zalo.
    pub zalo: bool,
    /// Promotional messages by email.
    pub email: bool,
    /// The version of the brand's processing notice the form showed, recorded with the
    /// consent it collects (`None` when the brand has published none).
    pub notice_version: Option<u32>,
}

/// Why a till order was not recorded.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TillOrderError {
    /// A field is wrong (the field, and what is wrong).
    #[error("{0}: {1}")]
    Invalid(&'static str, String),
    /// No such customer in the brand.
    #[error("no customer {0}")]
    UnknownCustomer(CustomerId),
    /// An item picked is not on the menu, not on sale, or too many.
    #[error(transparent)]
    Menu(#[from] MenuError),
    /// Reading the menu failed.
    #[error(transparent)]
    MenuRead(#[from] MenuUseCaseError),
    /// The ingest use case refused it.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// Reading the customer failed.
    #[error(transparent)]
    Manage(#[from] ManageError),
}

/// A till order recorded (or found recorded by an earlier submission of its form).
#[derive(Debug, Clone, PartialEq)]
pub struct TillReceipt {
    /// What the ingest use case answered: points, balance, the rules' explanation.
    pub receipt: OrderReceipt,
    /// The customer credited.
    pub customer: Customer,
    /// The lines sent to the ingest use case.
    pub lines: Vec<LineItem>,
    /// The order's total.
    pub total: Money,
}

/// A new till form's key, from the time it is shown and 8 random bytes.
pub fn new_form_key(now: OffsetDateTime, random: [u8; 8]) -> String {
    let micros = now.unix_timestamp_nanos() / 1000;
    format!("{micros}-{}", crate::secrets::to_hex(&random))
}

/// The time a form key was made, when it is well shaped.
fn form_time(key: &str) -> Option<OffsetDateTime> {
    let (micros, random) = key.split_once('-')?;
    if random.len() != 16 || !random.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let micros: i128 = micros.parse().ok()?;
    OffsetDateTime::from_unix_timestamp_nanos(micros.checked_mul(1000)?).ok()
}

/// The amount typed, in `currency`: digits with `.`, `,` or spaces as group separators
/// when the currency has no minor unit; otherwise a decimal with `.`.
pub fn parse_amount(typed: &str, currency: regulars_domain::Currency) -> Result<Money, String> {
    let typed = typed.trim();
    let cleaned: String = if currency.minor_units() == 0 {
        typed
            .chars()
            .filter(|c| !matches!(c, '.' | ',' | ' ' | '\u{a0}'))
            .collect()
    } else {
        typed.replace([' ', '\u{a0}'], "")
    };
    let digits = cleaned.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if cleaned.is_empty() || cleaned.len() > 18 || !digits {
        return Err("type the amount paid".to_owned());
    }
    let amount = Decimal::from_str(&cleaned).map_err(|_| "is not a number".to_owned())?;
    if amount <= Decimal::ZERO {
        return Err("must be more than zero".to_owned());
    }
    Money::new(amount, currency).map_err(|e: DomainError| e.to_string())
}

impl Services {
    /// Records an order for a customer at the till, through [`Services::ingest_order`]
    /// with the till's location, placed when the form was shown and keyed by the form's
    /// key: by the menu items picked (priced from the menu, so product and category
    /// bonuses apply), or else by amount as one line. A second submission of the same
    /// form is the same order and credits nothing again (`duplicate`).
    pub async fn till_order(
        &self,
        at: &TillStaff,
        order: &TillOrder,
    ) -> Result<TillReceipt, TillOrderError> {
        let now = self.clock.now();
        let placed_at = form_time(&order.key)
            .filter(|t| *t <= now + crate::MAX_CLOCK_SKEW && now - *t <= TILL_FORM_TTL)
            .ok_or_else(|| {
                TillOrderError::Invalid("key", "the form is stale: show it again".to_owned())
            })?;
        let brand = self.brand(at.brand).await?;
        let (lines, total) = if order.items.iter().any(|p| p.quantity > 0) {
            let menu = self.menu(at.brand).await?;
            let lines = menu_lines(&menu, &order.items)?;
            let total = lines_total(&lines, brand.currency)
                .map_err(|e| TillOrderError::Invalid("items", e.to_string()))?;
            (lines, total)
        } else {
            let total = parse_amount(&order.amount, brand.currency)
                .map_err(|m| TillOrderError::Invalid("amount", m))?;
            (vec![amount_line(total)], total)
        };
        let customer = self
            .customer_view(at.brand, order.customer)
            .await
            .map_err(|_| TillOrderError::UnknownCustomer(order.customer))?
            .customer;
        let key = EventKey::new(TILL_SOURCE, order.key.clone())
            .map_err(|e| TillOrderError::Invalid("key", e.to_string()))?;
        let full = Order {
            brand_id: at.brand,
            key,
            location: Some(at.location.code.clone()),
            customer_phone: Some(customer.phone.clone()),
            placed_at,
            lines: lines.clone(),
            total,
        };
        let receipt = self.ingest_order(at.brand, full).await?;
        if !receipt.duplicate {
            self.record_till_action(
                at,
                regulars_ports::TillActionKind::Order,
                Some(receipt.order_id),
            )
            .await;
        }
        Ok(TillReceipt {
            receipt,
            customer,
            lines,
            total,
        })
    }

    /// Registers a customer at the till with the consent they ticked, recorded as given
    /// at the till by this staff member at this location.
    pub async fn till_register(
        &self,
        at: &TillStaff,
        registration: &TillRegistration,
    ) -> Result<Customer, ManageError> {
        let input = CustomerInput {
            name: registration
                .name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            consent: ConsentPatch {
                zalo: Some(registration.zalo),
                sms: Some(registration.sms),
                email: Some(registration.email),
                profiling: None,
                programme: Some(true),
            },
            notice_version: registration.notice_version,
            consent_source: Some(ChangeSource::Till),
            ..CustomerInput::default()
        };
        let customer = self
            .create_customer(at.brand, &registration.phone, input, &till_author(at))
            .await?;
        self.record_till_action(at, regulars_ports::TillActionKind::SignUp, None)
            .await;
        Ok(customer)
    }
}

/// The one line of an order recorded by amount.
fn amount_line(total: Money) -> LineItem {
    LineItem {
        sku: "till".to_owned(),
        name: "Till sale".to_owned(),
        category: None,
        quantity: 1,
        unit_price: total,
        modifiers: Vec::new(),
    }
}

/// The author of a change made at the till: `staff:<id>@location:<code>`.
pub fn till_author(at: &TillStaff) -> ChangeAuthor {
    ChangeAuthor {
        actor: format!("staff:{}@location:{}", at.staff, at.location.code),
        source: ChangeSource::Till,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regulars_domain::Currency;
    use time::macros::datetime;

    #[test]
    fn amounts_read_as_a_cashier_types_them() {
        let vnd = |n| Money::from_minor_units(n, Currency::VND);
        assert_eq!(parse_amount("45000", Currency::VND), Ok(vnd(45_000)));
        assert_eq!(parse_amount("45.000", Currency::VND), Ok(vnd(45_000)));
        assert_eq!(
            parse_amount(" 1,250,000 ", Currency::VND),
            Ok(vnd(1_250_000))
        );
        for bad in ["", "0", "-5", "abc", "1e9", "99999999999999999999"] {
            assert!(parse_amount(bad, Currency::VND).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_form_key_carries_the_time_it_was_shown() {
        let t = datetime!(2026-05-06 03:00:00.123456 UTC);
        let key = new_form_key(t, [0xab; 8]);
        assert_eq!(form_time(&key), Some(t));
        for bad in ["", "x-abababababababab", "1-ab", "1-zzzzzzzzzzzzzzzz", "1"] {
            assert_eq!(form_time(bad), None, "{bad}");
        }
    }
}
