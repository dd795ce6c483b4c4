//! `regulars rules check|explain`: try earning rules on an order before a brand uses them.

use anyhow::{Context, Result};
use regulars_domain::{Order, Points};
use regulars_loyalty::rules::{EarningContext, EarningRules};
use std::path::Path;
use time::UtcOffset;

/// Reads and validates an earning-rules document.
pub fn load_rules(path: &Path) -> Result<EarningRules> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read rules file {}", path.display()))?;
    EarningRules::from_json(&text).with_context(|| format!("{} is not valid", path.display()))
}

/// Options describing the customer the order is evaluated for.
pub struct ExplainOptions {
    /// The brand's UTC offset.
    pub offset: UtcOffset,
    /// Which visit the order is (1 = first).
    pub visit: u32,
    /// The customer's tier code.
    pub tier: Option<String>,
    /// Whether it is the customer's birthday.
    pub birthday: bool,
    /// Points earned earlier the same day.
    pub earned_today: i64,
}

/// Evaluates `order_path` against `rules_path` and renders the explanation.
pub fn explain(rules_path: &Path, order_path: &Path, opts: &ExplainOptions) -> Result<String> {
    let rules = load_rules(rules_path)?;
    let text = std::fs::read_to_string(order_path)
        .with_context(|| format!("cannot read order file {}", order_path.display()))?;
    let order: Order = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a valid order", order_path.display()))?;
    order
        .validate()
        .with_context(|| format!("{} is not a valid order", order_path.display()))?;
    let mut ctx = EarningContext::new(opts.offset, opts.visit)
        .with_birthday(opts.birthday)
        .with_earned_today(Points::new(opts.earned_today.max(0)));
    if let Some(tier) = &opts.tier {
        ctx = ctx.with_tier(tier.clone());
    }
    let earning = rules
        .evaluate(&order, &ctx)
        .context("evaluating the rules")?;
    let mut out = format!(
        "order {} paid {} -> {}\n",
        order.key.external_id, order.total, earning.points
    );
    for line in &earning.explanation {
        out.push_str(&format!("  {line}\n"));
    }
    Ok(out)
}
