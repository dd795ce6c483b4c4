//! What a campaign earned: treated customers against the hold-out group.
//!
//! The hold-out group is a random sample of the eligible customers that got nothing, so
//! the difference between the groups' mean revenue in the attribution window estimates
//! what the campaign caused per treated customer. Incremental revenue is that difference
//! times the number treated; its 95 % confidence interval uses Welch's standard error
//! `sqrt(s_t²/n_t + s_h²/n_h)` (the groups may differ in size and spread) and the normal
//! quantile 1.96, fair for the hundreds of customers a campaign reaches.
//!
//! ```
//! use regulars_campaigns::attribution::attribute;
//! // Revenue per customer (đồng) in the window.
//! let treated = [60_000.0, 40_000.0, 50_000.0, 70_000.0];
//! let holdout = [30_000.0, 50_000.0, 40_000.0];
//! let a = attribute(&treated, &holdout, 0.6, 20_000.0)?;
//! assert_eq!(a.incremental_revenue, 60_000.0); // (55,000 − 40,000) × 4
//! assert_eq!(a.incremental_margin, 36_000.0);
//! assert_eq!(a.roi, Some(0.8)); // (36,000 − 20,000) / 20,000
//! # Ok::<(), regulars_campaigns::attribution::AttributionError>(())
//! ```

use regulars_domain::CustomerId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use thiserror::Error;
use time::OffsetDateTime;

/// The 97.5 % quantile of the standard normal distribution.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// An order's net revenue, for attribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRevenue {
    /// Who ordered.
    pub customer_id: CustomerId,
    /// When.
    pub at: OffsetDateTime,
    /// Net revenue in minor units (after refunds and discounts).
    pub net_minor: i64,
}

/// Each customer's revenue from orders in `[from, to)`, in the order of `customers`
/// (zero for customers without orders: not buying is an outcome too).
///
/// ```
/// use regulars_campaigns::attribution::{revenue_per_customer, OrderRevenue};
/// use regulars_domain::CustomerId;
/// use time::macros::datetime;
/// let (a, b) = (CustomerId::from_bytes([1; 16]), CustomerId::from_bytes([2; 16]));
/// let orders = [
///     OrderRevenue { customer_id: a, at: datetime!(2026-03-02 10:00 UTC), net_minor: 45_000 },
///     OrderRevenue { customer_id: a, at: datetime!(2026-03-20 10:00 UTC), net_minor: 99_000 },
/// ];
/// let r = revenue_per_customer(&[a, b], &orders, datetime!(2026-03-01 0:00 UTC), datetime!(2026-03-15 0:00 UTC));
/// assert_eq!(r, vec![45_000.0, 0.0]);
/// ```
pub fn revenue_per_customer(
    customers: &[CustomerId],
    orders: &[OrderRevenue],
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Vec<f64> {
    let mut totals: HashMap<CustomerId, i64> = customers.iter().map(|c| (*c, 0)).collect();
    for o in orders.iter().filter(|o| o.at >= from && o.at < to) {
        if let Some(t) = totals.get_mut(&o.customer_id) {
            *t = t.saturating_add(o.net_minor);
        }
    }
    customers
        .iter()
        .map(|c| totals.get(c).copied().unwrap_or(0) as f64)
        .collect()
}

/// Why attribution is impossible.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AttributionError {
    /// A group has fewer than two customers, so its variance is unknown.
    #[error("the {group} group has {n} customers; at least 2 are needed")]
    TooFew {
        /// `"treated"` or `"hold-out"`.
        group: &'static str,
        /// Its size.
        n: usize,
    },
    /// A revenue, the margin rate or the cost is not a finite number in range.
    #[error("{0} must be a finite number in range")]
    Invalid(&'static str),
}

/// The estimate of what a campaign earned.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// Customers treated.
    pub treated: usize,
    /// Customers held out.
    pub holdout: usize,
    /// Mean revenue per treated customer.
    pub treated_mean: f64,
    /// Mean revenue per held-out customer.
    pub holdout_mean: f64,
    /// Welch standard error of the difference of means.
    pub standard_error: f64,
    /// Welch–Satterthwaite degrees of freedom (for readers who want a t interval).
    pub degrees_of_freedom: f64,
    /// `(treated_mean − holdout_mean) × treated`.
    pub incremental_revenue: f64,
    /// Lower end of the 95 % confidence interval of the incremental revenue.
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
    /// Incremental revenue times the gross margin rate.
    pub incremental_margin: f64,
    /// What the offers cost.
    pub offer_cost: f64,
    /// `(incremental_margin − offer_cost) / offer_cost`; `None` when nothing was spent.
    pub roi: Option<f64>,
}

fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let ss = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>();
    (mean, ss / (n - 1.0))
}

/// Attribution from per-customer revenue of both groups, the gross margin rate (0–1) and
/// the offers' cost (same unit as revenue).
pub fn attribute(
    treated: &[f64],
    holdout: &[f64],
    gross_margin_rate: f64,
    offer_cost: f64,
) -> Result<Attribution, AttributionError> {
    if treated.len() < 2 {
        return Err(AttributionError::TooFew {
            group: "treated",
            n: treated.len(),
        });
    }
    if holdout.len() < 2 {
        return Err(AttributionError::TooFew {
            group: "hold-out",
            n: holdout.len(),
        });
    }
    if !treated.iter().chain(holdout).all(|x| x.is_finite()) {
        return Err(AttributionError::Invalid("revenue"));
    }
    if !(0.0..=1.0).contains(&gross_margin_rate) {
        return Err(AttributionError::Invalid("gross margin rate"));
    }
    if !(offer_cost.is_finite() && offer_cost >= 0.0) {
        return Err(AttributionError::Invalid("offer cost"));
    }
    let (nt, nh) = (treated.len() as f64, holdout.len() as f64);
    let (mt, vt) = mean_var(treated);
    let (mh, vh) = mean_var(holdout);
    let (at, ah) = (vt / nt, vh / nh);
    let se = (at + ah).sqrt();
    let df = if at + ah > 0.0 {
        (at + ah).powi(2) / (at * at / (nt - 1.0) + ah * ah / (nh - 1.0))
    } else {
        f64::INFINITY
    };
    let diff = mt - mh;
    let incremental_revenue = diff * nt;
    let incremental_margin = incremental_revenue * gross_margin_rate;
    Ok(Attribution {
        treated: treated.len(),
        holdout: holdout.len(),
        treated_mean: mt,
        holdout_mean: mh,
        standard_error: se,
        degrees_of_freedom: df,
        incremental_revenue,
        ci_low: (diff - Z_95 * se) * nt,
        ci_high: (diff + Z_95 * se) * nt,
        incremental_margin,
        offer_cost,
        roi: (offer_cost > 0.0).then(|| (incremental_margin - offer_cost) / offer_cost),
    })
}

impl Attribution {
    /// Whether the 95 % interval of the incremental revenue leaves out zero: only then
    /// can one say the campaign made (or lost) money rather than that chance did.
    pub fn is_significant(&self) -> bool {
        self.ci_low > 0.0 || self.ci_high < 0.0
    }

    /// The 95 % interval of the ROI: the ROI at both ends of the incremental revenue's
    /// interval (the ROI is a straight line in it), with `gross_margin_rate` as used for
    /// [`Attribution::incremental_margin`]; `None` when nothing was spent.
    pub fn roi_interval(&self, gross_margin_rate: f64) -> Option<(f64, f64)> {
        if self.offer_cost <= 0.0 || !self.offer_cost.is_finite() {
            return None;
        }
        let roi = |revenue: f64| (revenue * gross_margin_rate - self.offer_cost) / self.offer_cost;
        let (low, high) = (roi(self.ci_low), roi(self.ci_high));
        (low.is_finite() && high.is_finite()).then_some((low.min(high), low.max(high)))
    }
}
