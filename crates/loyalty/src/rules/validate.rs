//! Checks that a rules document makes sense, naming the first offending field.
//!
//! The bounds are what keeps evaluation exact: with them, every intermediate result of a
//! valid document fits the 128-bit integers evaluation uses.

use super::model::{Conditions, EarningRules, Stacking, VisitBonus};
use super::{
    MAX_AMOUNT, MAX_CAP, MAX_CODE_BYTES, MAX_CODES_PER_CONDITION, MAX_COMBINED_FACTOR,
    MAX_COMBINED_FACTOR_DECIMALS, MAX_FACTOR, MAX_FACTOR_DECIMALS, MAX_LABEL_CHARS,
    MAX_RULE_POINTS, MAX_RULES_PER_KIND, RulesError,
};
use regulars_domain::{Currency, Points};
use rust_decimal::Decimal;

/// A failed check: what is wrong, before the path is known.
type Check = Result<(), String>;

impl EarningRules {
    /// Checks every rule, returning the first problem with the path of its field, e.g.
    /// `multipliers[2].factor must be >= 0`.
    ///
    /// [`EarningRules::from_json`] calls it; call it yourself on rules built in code.
    pub fn validate(&self) -> Result<(), RulesError> {
        let currency = self.currency;
        if let Some(base) = &self.base {
            label(base.label.as_deref()).map_err(at("base.label"))?;
            amount(base.per_amount, currency, false).map_err(at("base.per_amount"))?;
            points(base.points, 1, MAX_RULE_POINTS).map_err(at("base.points"))?;
        }
        if let Some(min) = &self.minimum_spend {
            label(min.label.as_deref()).map_err(at("minimum_spend.label"))?;
            amount(min.amount, currency, true).map_err(at("minimum_spend.amount"))?;
        }
        count(self.product_bonuses.len()).map_err(at("product_bonuses"))?;
        for (i, bonus) in self.product_bonuses.iter().enumerate() {
            let path = |field: &str| format!("product_bonuses[{i}]{field}");
            label(bonus.label.as_deref()).map_err(at_owned(|| path(".label")))?;
            match (&bonus.sku, &bonus.category) {
                (Some(sku), None) => code(sku).map_err(at_owned(|| path(".sku")))?,
                (None, Some(category)) => code(category).map_err(at_owned(|| path(".category")))?,
                _ => {
                    return Err(RulesError::invalid(
                        path(""),
                        "needs exactly one of sku or category",
                    ));
                }
            }
            points(bonus.points_per_unit, 1, MAX_RULE_POINTS)
                .map_err(at_owned(|| path(".points_per_unit")))?;
        }
        count(self.multipliers.len()).map_err(at("multipliers"))?;
        for (i, multiplier) in self.multipliers.iter().enumerate() {
            let path = |field: &str| format!("multipliers[{i}]{field}");
            label(multiplier.label.as_deref()).map_err(at_owned(|| path(".label")))?;
            factor(multiplier.factor).map_err(at_owned(|| path(".factor")))?;
            conditions(&multiplier.when, &|field| path(&format!(".when.{field}")))?;
        }
        if self.stacking == Stacking::Multiply {
            combined_factors(self).map_err(at("multipliers"))?;
        }
        count(self.visit_bonuses.len()).map_err(at("visit_bonuses"))?;
        for (i, bonus) in self.visit_bonuses.iter().enumerate() {
            let path = |field: &str| format!("visit_bonuses[{i}]{field}");
            label(bonus.label()).map_err(at_owned(|| path(".label")))?;
            points(bonus.points(), 1, MAX_RULE_POINTS).map_err(at_owned(|| path(".points")))?;
            match *bonus {
                VisitBonus::FirstVisit { .. } => {}
                VisitBonus::NthVisit { visit, .. } => {
                    at_least_one(visit).map_err(at_owned(|| path(".visit")))?
                }
                VisitBonus::EveryNthVisit { every, .. } => {
                    at_least_one(every).map_err(at_owned(|| path(".every")))?
                }
            }
        }
        if let Some(value) = self.point_value {
            amount(value, currency, false).map_err(at("point_value"))?;
        }
        for (name, cap) in [("order_cap", &self.order_cap), ("day_cap", &self.day_cap)] {
            if let Some(cap) = cap {
                label(cap.label.as_deref()).map_err(at_owned(|| format!("{name}.label")))?;
                points(cap.points, 0, MAX_CAP).map_err(at_owned(|| format!("{name}.points")))?;
            }
        }
        Ok(())
    }
}

fn at(path: &'static str) -> impl FnOnce(String) -> RulesError {
    move |reason| RulesError::invalid(path, reason)
}

fn at_owned(path: impl FnOnce() -> String) -> impl FnOnce(String) -> RulesError {
    move |reason| RulesError::invalid(path(), reason)
}

fn label(label: Option<&str>) -> Check {
    let Some(label) = label else { return Ok(()) };
    if label.chars().all(char::is_whitespace) {
        return Err("must not be blank (leave it out for the default)".into());
    }
    if label.len() > MAX_LABEL_CHARS && label.chars().count() > MAX_LABEL_CHARS {
        return Err(format!("must be at most {MAX_LABEL_CHARS} characters"));
    }
    Ok(())
}

fn code(code: &str) -> Check {
    if code.chars().all(char::is_whitespace) {
        return Err("must not be blank".into());
    }
    if code.starts_with(char::is_whitespace) || code.ends_with(char::is_whitespace) {
        return Err("must not start or end with whitespace".into());
    }
    if code.len() > MAX_CODE_BYTES {
        return Err(format!("must be at most {MAX_CODE_BYTES} bytes"));
    }
    Ok(())
}

fn count(len: usize) -> Check {
    if len > MAX_RULES_PER_KIND {
        return Err(format!("must have at most {MAX_RULES_PER_KIND} rules"));
    }
    Ok(())
}

fn amount(amount: Decimal, currency: Currency, zero_allowed: bool) -> Check {
    if amount.is_sign_negative() && !amount.is_zero() {
        return Err("must be >= 0".into());
    }
    if amount.is_zero() && !zero_allowed {
        return Err("must be > 0".into());
    }
    if amount > MAX_AMOUNT {
        return Err(format!("must be <= {MAX_AMOUNT}"));
    }
    if decimals(amount) > currency.minor_units() {
        return Err(format!(
            "must have at most {} decimal places in {currency}",
            currency.minor_units()
        ));
    }
    Ok(())
}

fn points(points: Points, min: i64, max: i64) -> Check {
    if points.value() < min {
        return Err(format!("must be >= {min}"));
    }
    if points.value() > max {
        return Err(format!("must be <= {max}"));
    }
    Ok(())
}

fn at_least_one(n: u32) -> Check {
    if n == 0 {
        return Err("must be >= 1".into());
    }
    Ok(())
}

fn factor(factor: Decimal) -> Check {
    if factor.is_sign_negative() && !factor.is_zero() {
        return Err("must be >= 0".into());
    }
    // Compared as integers: `Decimal`'s comparison rescales, and this runs per evaluation.
    let factor = exact(factor);
    let max = MAX_FACTOR.mantissa() * 10_i128.pow(factor.scale());
    if factor.mantissa() > max {
        return Err(format!("must be <= {MAX_FACTOR}"));
    }
    if factor.scale() > MAX_FACTOR_DECIMALS {
        return Err(format!(
            "must have at most {MAX_FACTOR_DECIMALS} decimal places"
        ));
    }
    Ok(())
}

/// Bounds every combination of factors so that evaluation under `"multiply"` stays exact
/// in 128-bit integers: their decimal places add up to at most
/// [`MAX_COMBINED_FACTOR_DECIMALS`], the product of the factors above 1 is at most
/// [`MAX_COMBINED_FACTOR`].
fn combined_factors(rules: &EarningRules) -> Check {
    let decimals: u32 = rules.multipliers.iter().map(|m| decimals(m.factor)).sum();
    if decimals > MAX_COMBINED_FACTOR_DECIMALS {
        return Err(format!(
            "with \"multiply\" stacking, the factors may have at most {MAX_COMBINED_FACTOR_DECIMALS} decimal places in all"
        ));
    }
    // With at most 16 decimal places in all and each factor at most 100 (checked before),
    // `num / den` stays far inside i128 while the product is at most 1000.
    let (mut num, mut den) = (1_i128, 1_i128);
    let limit = MAX_COMBINED_FACTOR.mantissa();
    for multiplier in &rules.multipliers {
        let factor = exact(multiplier.factor);
        let scale = 10_i128.pow(factor.scale());
        if factor.mantissa() > scale {
            num = num.saturating_mul(factor.mantissa());
            den = den.saturating_mul(scale);
            if num > den.saturating_mul(limit) {
                return Err(format!(
                    "with \"multiply\" stacking, the factors above 1 may multiply to at most {MAX_COMBINED_FACTOR}"
                ));
            }
        }
    }
    Ok(())
}

/// `value` without trailing zeros after the point; integers are returned as they are,
/// which is the common case and saves the division loop of `normalize`.
pub(super) fn exact(value: Decimal) -> Decimal {
    if value.scale() == 0 {
        value
    } else {
        value.normalize()
    }
}

/// Significant decimal places: 2 for `1.25` and for `1.250`, 0 for `2.0`.
fn decimals(value: Decimal) -> u32 {
    exact(value).scale()
}

fn conditions(when: &Conditions, path: &dyn Fn(&str) -> String) -> Result<(), RulesError> {
    let err = |field: &'static str| {
        move |(index, reason): (Option<usize>, String)| {
            let field = match index {
                Some(i) => path(&format!("{field}[{i}]")),
                None => path(field),
            };
            RulesError::invalid(field, reason)
        }
    };
    if let Some(tiers) = &when.tiers {
        codes(tiers).map_err(err("tiers"))?;
    }
    if let Some(weekdays) = &when.weekdays {
        list(weekdays).map_err(err("weekdays"))?;
    }
    if let Some(hours) = &when.hours
        && hours.from == hours.to
    {
        return Err(RulesError::invalid(
            path("hours"),
            "from and to must differ (leave hours out for the whole day)",
        ));
    }
    if let Some(locations) = &when.locations {
        codes(locations).map_err(err("locations"))?;
    }
    Ok(())
}

/// A problem in a list: the index of the offending entry, when it is one entry.
type ListCheck = Result<(), (Option<usize>, String)>;

fn codes(codes: &[String]) -> ListCheck {
    list(codes)?;
    for (i, c) in codes.iter().enumerate() {
        code(c).map_err(|reason| (Some(i), reason))?;
    }
    Ok(())
}

/// A condition list: not empty (an empty list would match nothing, or, if read as "any",
/// everything), not too long, no duplicates (usually a typo for another entry).
fn list<T: PartialEq>(items: &[T]) -> ListCheck {
    if items.is_empty() {
        return Err((
            None,
            "must not be empty (leave the condition out to match any)".into(),
        ));
    }
    if items.len() > MAX_CODES_PER_CONDITION {
        return Err((
            None,
            format!("must have at most {MAX_CODES_PER_CONDITION} entries"),
        ));
    }
    for (i, item) in items.iter().enumerate() {
        if items[..i].contains(item) {
            return Err((Some(i), "repeats an earlier entry".into()));
        }
    }
    Ok(())
}
