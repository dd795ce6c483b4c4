//! The order being assembled from adjacent rows: its order-level columns, stored from the
//! first row and compared on every later one.

use super::parse::{parse_money, parse_time};
use super::{CURRENCY, LOCATION, ORDER_TOTAL, PHONE, PLACED_AT};
use crate::BrandContext;
use regulars_domain::{LineItem, Money, Phone};
use time::OffsetDateTime;

/// The order being assembled from adjacent rows.
pub(super) struct Group {
    pub(super) order_id: String,
    pub(super) first_line: u64,
    placed_at_raw: String,
    pub(super) placed_at: Option<OffsetDateTime>,
    pub(super) location: String,
    phone_raw: String,
    pub(super) phone: Option<Option<Phone>>,
    total_raw: String,
    pub(super) total: Option<Money>,
    currency_raw: String,
    pub(super) lines: Vec<LineItem>,
    pub(super) failed: bool,
}

/// Problems found with a row, by column index.
type Problems = Vec<(usize, String)>;

impl Group {
    /// An order whose first row is on `first_line`, with nothing read yet.
    pub(super) fn new(order_id: String, first_line: u64) -> Group {
        Group {
            order_id,
            first_line,
            placed_at_raw: String::new(),
            placed_at: None,
            location: String::new(),
            phone_raw: String::new(),
            phone: None,
            total_raw: String::new(),
            total: None,
            currency_raw: String::new(),
            lines: Vec::new(),
            failed: false,
        }
    }

    /// Why a later row's `value` of `what` is refused: it differs from the first row's.
    fn disagree(&self, what: &str, first_value: &str, value: &str) -> String {
        let first_line = self.first_line;
        format!(
            "{what} {value:?} differs from {first_value:?} on line {first_line}, the order's first row"
        )
    }

    /// `placed_at`: parsed and kept from the first row; a later row may write it
    /// differently but must mean the same instant.
    pub(super) fn read_placed_at(
        &mut self,
        raw: &str,
        first: bool,
        brand: &BrandContext,
        errors: &mut Problems,
    ) {
        if first {
            self.placed_at = parse_time(raw, brand)
                .map_err(|p| errors.push((PLACED_AT, p)))
                .ok();
            self.placed_at_raw = raw.to_owned();
        } else if raw != self.placed_at_raw {
            match parse_time(raw, brand) {
                Ok(at) if Some(at) == self.placed_at => {}
                Ok(_) => errors.push((
                    PLACED_AT,
                    self.disagree("placed_at", &self.placed_at_raw, raw),
                )),
                Err(p) => errors.push((PLACED_AT, p)),
            }
        }
    }

    /// `location`: kept from the first row; later rows must repeat it exactly.
    pub(super) fn read_location(&mut self, raw: &str, first: bool, errors: &mut Problems) {
        if first {
            self.location = raw.to_owned();
        } else if raw != self.location {
            errors.push((LOCATION, self.disagree("location", &self.location, raw)));
        }
    }

    /// `customer_phone`: parsed (empty for none) and kept from the first row; a later row
    /// may write it differently but must mean the same number.
    pub(super) fn read_phone(
        &mut self,
        raw: &str,
        first: bool,
        brand: &BrandContext,
        errors: &mut Problems,
    ) {
        let parse = |raw: &str| match raw {
            "" => Ok(None),
            typed => Phone::parse(typed, brand.calling_code)
                .map(Some)
                .map_err(|e| e.to_string()),
        };
        if first {
            self.phone = parse(raw).map_err(|p| errors.push((PHONE, p))).ok();
            self.phone_raw = raw.to_owned();
        } else if raw != self.phone_raw {
            match parse(raw) {
                Ok(p) if Some(&p) == self.phone.as_ref() => {}
                Ok(_) => {
                    errors.push((PHONE, self.disagree("customer_phone", &self.phone_raw, raw)))
                }
                Err(p) => errors.push((PHONE, p)),
            }
        }
    }

    /// `order_total`: parsed and kept from the first row; a later row may write it
    /// differently but must mean the same amount.
    pub(super) fn read_total(
        &mut self,
        raw: &str,
        first: bool,
        brand: &BrandContext,
        errors: &mut Problems,
    ) {
        if first {
            self.total = parse_money(raw, brand)
                .map_err(|p| errors.push((ORDER_TOTAL, p)))
                .ok();
            self.total_raw = raw.to_owned();
        } else if raw != self.total_raw {
            match parse_money(raw, brand) {
                Ok(m) if Some(m) == self.total => {}
                Ok(_) => errors.push((
                    ORDER_TOTAL,
                    self.disagree("order_total", &self.total_raw, raw),
                )),
                Err(p) => errors.push((ORDER_TOTAL, p)),
            }
        }
    }

    /// `currency`: empty or the brand's currency, and the same on every row.
    pub(super) fn read_currency(
        &mut self,
        raw: &str,
        first: bool,
        brand: &BrandContext,
        errors: &mut Problems,
    ) {
        if !raw.is_empty() && raw != brand.currency.code() {
            errors.push((
                CURRENCY,
                format!(
                    "the brand's currency is {}, not {raw:?}",
                    brand.currency.code()
                ),
            ));
        } else if !first && raw != self.currency_raw {
            errors.push((CURRENCY, self.disagree("currency", &self.currency_raw, raw)));
        }
        if first {
            self.currency_raw = raw.to_owned();
        }
    }
}
