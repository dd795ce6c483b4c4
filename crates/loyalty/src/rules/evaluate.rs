//! Evaluation: an order and its context in, points and their explanation out.

use super::RulesError;
use super::model::{EarningRules, Multiplier, Rounding, Stacking, VisitBonus, decimal_text};
use regulars_domain::{Customer, Money, Order, Points};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use time::{OffsetDateTime, UtcOffset};

mod arithmetic;
mod facts;

use arithmetic::{Ratio, base_points, matching_units, multiply};
use facts::Facts;

/// What evaluation needs to know besides the order: facts about the customer and the
/// brand, gathered by the caller (this crate reads no clock and no database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarningContext {
    /// The brand's UTC offset: weekdays, hours and "today" are the shop's local ones.
    pub offset: UtcOffset,
    /// The customer's tier code, if they have a tier.
    pub tier: Option<String>,
    /// Whether the order was placed on the customer's (local) birthday.
    pub birthday: bool,
    /// Which visit of the customer this order is: 1 for the first.
    pub visit_number: u32,
    /// Points the customer already earned earlier on the same local day (for the per-day
    /// cap); never negative.
    pub earned_today: Points,
}

impl EarningContext {
    /// A customer without a tier, not on their birthday, who earned nothing yet today.
    pub fn new(offset: UtcOffset, visit_number: u32) -> Self {
        EarningContext {
            offset,
            tier: None,
            birthday: false,
            visit_number,
            earned_today: Points::ZERO,
        }
    }

    /// Sets the customer's tier code.
    pub fn with_tier(mut self, tier: impl Into<String>) -> Self {
        self.tier = Some(tier.into());
        self
    }

    /// Sets whether it is the customer's birthday.
    pub fn with_birthday(mut self, birthday: bool) -> Self {
        self.birthday = birthday;
        self
    }

    /// Sets `birthday` from the customer's date of birth and the order's time, on the
    /// brand's local calendar (see [`Customer::is_birthday`]).
    pub fn with_birthday_of(mut self, customer: &Customer, placed_at: OffsetDateTime) -> Self {
        self.birthday = placed_at
            .checked_to_offset(self.offset)
            .is_some_and(|local| customer.is_birthday(local.date()));
        self
    }

    /// Sets the points already earned earlier today.
    pub fn with_earned_today(mut self, earned_today: Points) -> Self {
        self.earned_today = earned_today;
        self
    }
}

/// The points an order earns, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Earning {
    /// Points earned: never negative, and exactly the sum of the explanation's lines.
    pub points: Points,
    /// One line per rule that applied, in evaluation order, cap clippings included.
    pub explanation: Vec<ExplanationLine>,
}

/// One line of an explanation: which rule gave (or, for a cap, took) how many points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplanationLine {
    /// The rule's label, or a default name for it.
    pub label: String,
    /// Points this line adds; negative for a cap's clipping or a multiplier below 1.
    pub points: Points,
    /// The rule and the numbers it used.
    pub source: LineSource,
}

/// The rule behind an explanation line, with the numbers it used. `rule` is the index of
/// the rule in its list of the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LineSource {
    /// The order paid less than the minimum spend, so it earns nothing (0 points).
    MinimumSpendNotMet {
        /// What the order paid.
        spent: Money,
        /// The minimum.
        minimum: Money,
    },
    /// The base rate.
    Base {
        /// What the order paid.
        spent: Money,
        /// The amount earning `points_per_amount`.
        per_amount: Money,
        /// Points per `per_amount`.
        points_per_amount: Points,
        /// How the fraction was rounded.
        rounding: Rounding,
    },
    /// A product or category bonus.
    ProductBonus {
        /// Index in `product_bonuses`.
        rule: usize,
        /// Matching units (line quantities, and line quantities of matching modifiers).
        units: u64,
        /// Points per unit.
        points_per_unit: Points,
    },
    /// A multiplier; the line holds the points it added on top of `applied_to`.
    Multiplier {
        /// Index in `multipliers`.
        rule: usize,
        /// The factor.
        #[serde(with = "decimal_text")]
        factor: Decimal,
        /// The points it multiplied: base + product bonuses, after earlier multipliers
        /// when they multiply.
        applied_to: Points,
    },
    /// A visit bonus.
    VisitBonus {
        /// Index in `visit_bonuses`.
        rule: usize,
        /// The visit number it matched.
        visit: u32,
    },
    /// The per-order cap clipped the total.
    OrderCap {
        /// The cap.
        cap: Points,
        /// The total before clipping.
        before: Points,
    },
    /// The per-day cap clipped the total.
    DayCap {
        /// The cap.
        cap: Points,
        /// Points earned earlier the same day.
        earned_today: Points,
        /// The total before clipping.
        before: Points,
    },
}

impl fmt::Display for ExplanationLine {
    /// `Happy hour: +9 (×2 on 9)`: label, signed points, then the numbers behind them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:+} (", self.label, self.points.value())?;
        match &self.source {
            LineSource::MinimumSpendNotMet { spent, minimum } => {
                write!(f, "{spent} paid, minimum {minimum}")?
            }
            LineSource::Base {
                spent,
                per_amount,
                points_per_amount,
                rounding,
            } => write!(
                f,
                "{spent} at {} per {per_amount}, {}",
                points_per_amount.value(),
                rounding.as_str()
            )?,
            LineSource::ProductBonus {
                units,
                points_per_unit,
                ..
            } => write!(f, "{units} × {}", points_per_unit.value())?,
            LineSource::Multiplier {
                factor, applied_to, ..
            } => write!(f, "×{} on {}", factor.normalize(), applied_to.value())?,
            LineSource::VisitBonus { visit, .. } => write!(f, "visit {visit}")?,
            LineSource::OrderCap { cap, before } => write!(
                f,
                "at most {} per order, {} before the cap",
                cap.value(),
                before.value()
            )?,
            LineSource::DayCap {
                cap,
                earned_today,
                before,
            } => write!(
                f,
                "at most {} per day, {} earned earlier today, {} before the cap",
                cap.value(),
                earned_today.value(),
                before.value()
            )?,
        }
        f.write_str(")")
    }
}

impl EarningRules {
    /// The points `order` earns under these rules, with their explanation.
    ///
    /// Pure and deterministic. The rules are validated first (so rules built in code are
    /// held to the same bounds as loaded ones); errors are a currency mismatch, a negative
    /// total, a context with `visit_number` 0 or negative `earned_today`, and overflow on
    /// absurd amounts.
    pub fn evaluate(&self, order: &Order, ctx: &EarningContext) -> Result<Earning, RulesError> {
        self.validate()?;
        self.check_inputs(order, ctx)?;
        let mut out = Explanation::default();
        if let Some(min) = &self.minimum_spend
            && order.total.amount() < min.amount
        {
            let minimum = money(min.amount, order, "minimum_spend.amount")?;
            out.push(
                label_or(&min.label, || "Minimum spend".into()),
                Points::ZERO,
                LineSource::MinimumSpendNotMet {
                    spent: order.total,
                    minimum,
                },
            )?;
            return Ok(out.finish());
        }
        let multiplied = self.base_and_product_bonuses(order, &mut out)?;
        self.apply_multipliers(multiplied, order, ctx, &mut out)?;
        self.add_visit_bonuses(ctx, &mut out)?;
        self.apply_caps(ctx, &mut out)?;
        Ok(out.finish())
    }

    fn check_inputs(&self, order: &Order, ctx: &EarningContext) -> Result<(), RulesError> {
        let currency = order.total.currency();
        if currency != self.currency {
            return Err(RulesError::CurrencyMismatch {
                rules: self.currency,
                order: currency,
            });
        }
        if order.total.is_negative() {
            return Err(RulesError::InvalidOrder {
                field: "total",
                reason: "must not be negative",
            });
        }
        if ctx.visit_number == 0 {
            return Err(RulesError::InvalidContext {
                field: "visit_number",
                reason: "must be >= 1 (1 is the first visit)",
            });
        }
        if ctx.earned_today.is_negative() {
            return Err(RulesError::InvalidContext {
                field: "earned_today",
                reason: "must not be negative",
            });
        }
        Ok(())
    }

    /// Steps 3 and 4: base points and product bonuses; returns their sum, the part
    /// multipliers apply to.
    fn base_and_product_bonuses(
        &self,
        order: &Order,
        out: &mut Explanation,
    ) -> Result<Points, RulesError> {
        let mut multiplied = Points::ZERO;
        if let Some(base) = &self.base {
            let points = base_points(base, order.total)?;
            out.push(
                label_or(&base.label, || "Base rate".into()),
                points,
                LineSource::Base {
                    spent: order.total,
                    per_amount: money(base.per_amount, order, "base.per_amount")?,
                    points_per_amount: base.points,
                    rounding: base.rounding,
                },
            )?;
            multiplied = add(multiplied, points)?;
        }
        for (rule, bonus) in self.product_bonuses.iter().enumerate() {
            let units = matching_units(bonus, order)?;
            if units == 0 {
                continue;
            }
            let points = i64::try_from(units)
                .ok()
                .and_then(|u| u.checked_mul(bonus.points_per_unit.value()))
                .map(Points::new)
                .ok_or(RulesError::Overflow("a product bonus"))?;
            out.push(
                label_or(&bonus.label, || match (&bonus.sku, &bonus.category) {
                    (Some(sku), _) => format!("Bonus for {sku}"),
                    (None, Some(category)) => format!("Bonus for category {category}"),
                    (None, None) => "Product bonus".into(),
                }),
                points,
                LineSource::ProductBonus {
                    rule,
                    units,
                    points_per_unit: bonus.points_per_unit,
                },
            )?;
            multiplied = add(multiplied, points)?;
        }
        Ok(multiplied)
    }

    /// Step 5: the applicable multipliers on `multiplied`, rounded once.
    fn apply_multipliers(
        &self,
        multiplied: Points,
        order: &Order,
        ctx: &EarningContext,
        out: &mut Explanation,
    ) -> Result<(), RulesError> {
        let rounding = self.base.as_ref().map_or(Rounding::Floor, |b| b.rounding);
        let facts = Facts::of(order, ctx, &self.multipliers)?;
        let applicable = self
            .multipliers
            .iter()
            .enumerate()
            .filter(|(_, m)| facts.satisfy(&m.when));
        match self.stacking {
            Stacking::Highest => {
                // `max_by` keeps the last maximum; reversing keeps the first listed.
                let highest = applicable.rev().max_by(|a, b| a.1.factor.cmp(&b.1.factor));
                if let Some((rule, m)) = highest {
                    let after = multiply(multiplied, &Ratio::of(m.factor)?, rounding)?;
                    push_multiplier(out, rule, m, multiplied, after)?;
                }
            }
            Stacking::Multiply => {
                // Each line is what its factor added to the running, rounded result; the
                // lines telescope to round(multiplied × all factors) − multiplied.
                let mut product = Ratio::ONE;
                let mut before = multiplied;
                for (rule, m) in applicable {
                    product = product.times(&Ratio::of(m.factor)?)?;
                    let after = multiply(multiplied, &product, rounding)?;
                    push_multiplier(out, rule, m, before, after)?;
                    before = after;
                }
            }
        }
        Ok(())
    }

    /// Step 6: visit bonuses, never multiplied.
    fn add_visit_bonuses(
        &self,
        ctx: &EarningContext,
        out: &mut Explanation,
    ) -> Result<(), RulesError> {
        for (rule, bonus) in self.visit_bonuses.iter().enumerate() {
            if bonus.applies_to(ctx.visit_number) {
                out.push(
                    visit_label(bonus),
                    bonus.points(),
                    LineSource::VisitBonus {
                        rule,
                        visit: ctx.visit_number,
                    },
                )?;
            }
        }
        Ok(())
    }

    /// Step 7: the per-order cap, then the room left under the per-day cap.
    fn apply_caps(&self, ctx: &EarningContext, out: &mut Explanation) -> Result<(), RulesError> {
        if let Some(cap) = &self.order_cap {
            let before = out.total;
            if before > cap.points {
                out.push(
                    label_or(&cap.label, || "Per-order cap".into()),
                    sub(cap.points, before)?,
                    LineSource::OrderCap {
                        cap: cap.points,
                        before,
                    },
                )?;
            }
        }
        if let Some(cap) = &self.day_cap {
            let before = out.total;
            let room = sub(cap.points, ctx.earned_today)?.max(Points::ZERO);
            if before > room {
                out.push(
                    label_or(&cap.label, || "Daily cap".into()),
                    sub(room, before)?,
                    LineSource::DayCap {
                        cap: cap.points,
                        earned_today: ctx.earned_today,
                        before,
                    },
                )?;
            }
        }
        Ok(())
    }
}

/// An amount of the rules in the order's currency (validation has checked its precision).
fn money(amount: Decimal, order: &Order, field: &'static str) -> Result<Money, RulesError> {
    Money::new(amount, order.total.currency())
        .map_err(|_| RulesError::invalid(field, "is too precise for the currency"))
}

/// Explanation lines and their running sum, kept together so they cannot disagree.
#[derive(Default)]
struct Explanation {
    lines: Vec<ExplanationLine>,
    total: Points,
}

impl Explanation {
    fn push(
        &mut self,
        label: String,
        points: Points,
        source: LineSource,
    ) -> Result<(), RulesError> {
        self.total = add(self.total, points)?;
        self.lines.push(ExplanationLine {
            label,
            points,
            source,
        });
        Ok(())
    }

    fn finish(self) -> Earning {
        Earning {
            points: self.total,
            explanation: self.lines,
        }
    }
}

fn label_or(label: &Option<String>, default: impl FnOnce() -> String) -> String {
    label.clone().unwrap_or_else(default)
}

fn visit_label(bonus: &VisitBonus) -> String {
    match (bonus.label(), bonus) {
        (Some(label), _) => label.to_owned(),
        (None, VisitBonus::FirstVisit { .. }) => "First visit".into(),
        (None, VisitBonus::NthVisit { visit, .. }) => format!("Visit {visit}"),
        (None, VisitBonus::EveryNthVisit { every, .. }) => format!("Every {every} visits"),
    }
}

fn push_multiplier(
    out: &mut Explanation,
    rule: usize,
    m: &Multiplier,
    before: Points,
    after: Points,
) -> Result<(), RulesError> {
    out.push(
        label_or(&m.label, || format!("Multiplier ×{}", m.factor.normalize())),
        sub(after, before)?,
        LineSource::Multiplier {
            rule,
            factor: m.factor,
            applied_to: before,
        },
    )
}

fn add(a: Points, b: Points) -> Result<Points, RulesError> {
    a.checked_add(b)
        .ok_or(RulesError::Overflow("the points total"))
}

fn sub(a: Points, b: Points) -> Result<Points, RulesError> {
    a.checked_sub(b)
        .ok_or(RulesError::Overflow("the points total"))
}
