//! The exact arithmetic of evaluation: integer fractions from decimals, rounded once.

use crate::rules::RulesError;
use crate::rules::model::{BaseRate, ProductBonus, Rounding};
use crate::rules::validate::exact;
use regulars_domain::{Money, Order, Points};
use rust_decimal::Decimal;

/// Base points: `total × points / per_amount`, rounded, in exact integer arithmetic.
pub(super) fn base_points(base: &BaseRate, total: Money) -> Result<Points, RulesError> {
    const WHAT: &str = "the base points";
    let spent = Ratio::of(total.amount())?;
    let per_amount = Ratio::of(base.per_amount)?;
    // (spent.num / spent.den) × points / (per_amount.num / per_amount.den)
    let num = spent
        .num
        .checked_mul(i128::from(base.points.value()))
        .and_then(|n| n.checked_mul(per_amount.den))
        .ok_or(RulesError::Overflow(WHAT))?;
    let den = spent
        .den
        .checked_mul(per_amount.num)
        .ok_or(RulesError::Overflow(WHAT))?;
    let points = div_round(num, den, base.rounding).ok_or(RulesError::Overflow(WHAT))?;
    to_points(points, WHAT)
}

/// Units of `order` a product bonus matches: line quantities for a matching line, and
/// line quantities again for each matching modifier on a line.
pub(super) fn matching_units(bonus: &ProductBonus, order: &Order) -> Result<u64, RulesError> {
    let mut units: u64 = 0;
    for line in &order.lines {
        let quantity = u64::from(line.quantity);
        let mut matches = 0_u64;
        match (&bonus.sku, &bonus.category) {
            (Some(sku), _) => {
                matches += u64::from(line.sku == *sku);
                for modifier in &line.modifiers {
                    matches += u64::from(modifier.sku == *sku);
                }
            }
            (None, Some(category)) => {
                matches += u64::from(line.category.as_deref() == Some(category.as_str()));
            }
            (None, None) => {}
        }
        units = matches
            .checked_mul(quantity)
            .and_then(|n| units.checked_add(n))
            .ok_or(RulesError::Overflow("product bonus units"))?;
    }
    Ok(units)
}

/// `points × factor`, rounded once.
pub(super) fn multiply(
    points: Points,
    factor: &Ratio,
    rounding: Rounding,
) -> Result<Points, RulesError> {
    const WHAT: &str = "the multiplied points";
    let num = i128::from(points.value())
        .checked_mul(factor.num)
        .ok_or(RulesError::Overflow(WHAT))?;
    let value = div_round(num, factor.den, rounding).ok_or(RulesError::Overflow(WHAT))?;
    to_points(value, WHAT)
}

fn to_points(value: i128, what: &'static str) -> Result<Points, RulesError> {
    i64::try_from(value)
        .map(Points::new)
        .map_err(|_| RulesError::Overflow(what))
}

/// `n / d` rounded by `rounding`; `None` unless `d > 0`.
fn div_round(n: i128, d: i128, rounding: Rounding) -> Option<i128> {
    if d <= 0 {
        return None;
    }
    let quotient = n.checked_div_euclid(d)?;
    let remainder = n.checked_rem_euclid(d)?; // 0 <= remainder < d
    let up = match rounding {
        Rounding::Floor => false,
        Rounding::Ceil => remainder > 0,
        Rounding::Nearest => remainder >= d - remainder,
    };
    if up {
        quotient.checked_add(1)
    } else {
        Some(quotient)
    }
}

/// An exact non-negative fraction `num / den` (`den` a power of ten), from a decimal.
pub(super) struct Ratio {
    num: i128,
    den: i128,
}

impl Ratio {
    pub(super) const ONE: Ratio = Ratio { num: 1, den: 1 };

    pub(super) fn of(value: Decimal) -> Result<Ratio, RulesError> {
        let value = exact(value);
        let den = 10_i128
            .checked_pow(value.scale())
            .ok_or(RulesError::Overflow("a decimal"))?;
        Ok(Ratio {
            num: value.mantissa(),
            den,
        })
    }

    pub(super) fn times(&self, other: &Ratio) -> Result<Ratio, RulesError> {
        let overflow = || RulesError::Overflow("the combined multiplier");
        Ok(Ratio {
            num: self.num.checked_mul(other.num).ok_or_else(overflow)?,
            den: self.den.checked_mul(other.den).ok_or_else(overflow)?,
        })
    }
}
