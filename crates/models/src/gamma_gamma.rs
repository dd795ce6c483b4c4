//! Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV") and discounted
//! customer lifetime value.

use crate::bgnbd::finite;
use crate::fit::{CountModel, FitOptions, Fitted, Likelihood, ModelError, Parameters, maximise};
use crate::special::{digamma, ln_gamma};
use crate::summary::Summary;

/// Spend per transaction ~ Gamma(p, ν), ν ~ Gamma(q, v) across customers.
///
/// ```
/// use regulars_models::{GammaGamma, Summary};
/// let m = GammaGamma { p: 6.25, q: 3.74, v: 15.44 };
/// let mut ann = Summary::new(2.0, 30.43, 38.86);
/// ann.monetary_value = Some(22.35);
/// let spend = m.expected_spend(&ann).unwrap();
/// // The customer's own 22.35, shrunk towards the population mean p v / (q − 1) ≈ 35.2.
/// assert!(spend > 22.35 && spend < m.population_mean().unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct GammaGamma {
    /// Shape of the spend per transaction.
    pub p: f64,
    /// Shape of the customers' spend-rate distribution.
    pub q: f64,
    /// Rate of the customers' spend-rate distribution.
    pub v: f64,
}

impl Parameters for GammaGamma {
    const NAMES: &'static [&'static str] = &["p", "q", "v"];
    fn values(&self) -> Vec<f64> {
        vec![self.p, self.q, self.v]
    }
    fn from_values(v: &[f64]) -> Self {
        let get = |i: usize| v.get(i).copied().unwrap_or(f64::NAN);
        Self {
            p: get(0),
            q: get(1),
            v: get(2),
        }
    }
}

struct SpendLikelihood {
    x: Vec<f64>,
    m: Vec<f64>,
    w: Vec<f64>,
    x_values: Vec<f64>,
    x_index: Vec<usize>,
}

impl Likelihood for SpendLikelihood {
    /// ```text
    /// ln L = ln Γ(px + q) − ln Γ(px) − ln Γ(q) + q ln v + (px − 1) ln m̄ + px ln x
    ///        − (px + q) ln(x m̄ + v)
    /// ```
    fn value_and_gradient(&self, params: &[f64]) -> Result<(f64, Vec<f64>), ModelError> {
        let GammaGamma { p, q, v } = GammaGamma::from_values(params);
        let (lg_q, psi_q, ln_v) = (ln_gamma(q), digamma(q), v.ln());
        // ln Γ and ψ depend on x alone: once per distinct x.
        let per_count: Vec<[f64; 4]> = self
            .x_values
            .iter()
            .map(|&x| {
                let px = p * x;
                [
                    ln_gamma(px + q) - ln_gamma(px) + px * x.ln(),
                    digamma(px + q),
                    digamma(px),
                    x.ln(),
                ]
            })
            .collect();
        let (mut total, mut gp, mut gq, mut gv) = (0.0, 0.0, 0.0, 0.0);
        let mut weight = 0.0;
        for i in 0..self.x.len() {
            let (x, m, w) = (self.x[i], self.m[i], self.w[i]);
            let [lg, psi_pxq, psi_px, ln_x] = per_count[self.x_index[i]];
            let px = p * x;
            let ln_m = m.ln();
            let ln_xm_v = (x * m + v).ln();
            total += w * (lg + (px - 1.0) * ln_m - (px + q) * ln_xm_v);
            gp += w * x * (psi_pxq - psi_px + ln_m + ln_x - ln_xm_v);
            gq += w * (psi_pxq - ln_xm_v);
            gv += w * (px + q) / (x * m + v);
            weight += w;
        }
        total += weight * (q * ln_v - lg_q);
        gq += weight * (ln_v - psi_q);
        gv = weight * q / v - gv;
        Ok((total, vec![gp, gq, gv]))
    }

    fn start(&self) -> Vec<f64> {
        vec![1.0, 1.0, 1.0]
    }

    fn observations(&self) -> f64 {
        self.w.iter().sum()
    }

    fn distinct_rows(&self) -> usize {
        self.x.len()
    }
}

impl GammaGamma {
    fn likelihood(rows: &[Summary]) -> Result<SpendLikelihood, ModelError> {
        if rows.is_empty() {
            return Err(ModelError::NoData);
        }
        crate::summary::validate_all(rows)?;
        let spenders: Vec<Summary> = rows
            .iter()
            .filter(|r| r.frequency > 0.0 && r.monetary_value.is_some())
            .copied()
            .collect();
        let grouped = crate::summary::group(&spenders);
        let mut lik = SpendLikelihood {
            x: Vec::with_capacity(grouped.len()),
            m: Vec::with_capacity(grouped.len()),
            w: Vec::with_capacity(grouped.len()),
            x_values: Vec::new(),
            x_index: Vec::new(),
        };
        for row in grouped {
            if let Some(m) = row.monetary_value {
                lik.x.push(row.frequency);
                lik.m.push(m);
                lik.w.push(row.weight);
            }
        }
        if lik.x.is_empty() {
            return Err(ModelError::NoSpendData);
        }
        (lik.x_values, lik.x_index) = crate::fit::distinct(&lik.x);
        Ok(lik)
    }

    /// Maximum-likelihood fit on the repeat customers that have a monetary value; other
    /// rows are ignored (they say nothing about spend per transaction).
    pub fn fit(rows: &[Summary], options: &FitOptions) -> Result<Fitted<GammaGamma>, ModelError> {
        maximise(&Self::likelihood(rows)?, options)
    }

    /// Σ wᵢ ln Lᵢ of the usable rows and its analytic gradient in (p, q, v).
    pub fn log_likelihood(&self, rows: &[Summary]) -> Result<(f64, Vec<f64>), ModelError> {
        Self::likelihood(rows)?.value_and_gradient(&self.values())
    }

    /// E\[Z\] = p v / (q − 1): the mean spend per transaction of a new customer (q > 1).
    pub fn population_mean(&self) -> Result<f64, ModelError> {
        if self.q <= 1.0 {
            return Err(ModelError::Domain(format!(
                "q = {} ≤ 1: the population has no finite mean spend",
                self.q
            )));
        }
        Ok(self.p * self.v / (self.q - 1.0))
    }

    /// E[Z | x, m̄] = p (v + x m̄) / (p x + q − 1): the customer's expected spend per
    /// transaction, their own average shrunk towards the population mean. Customers
    /// without repeat purchases or without monetary value get the population mean.
    pub fn expected_spend(&self, c: &Summary) -> Result<f64, ModelError> {
        c.validate(0)?;
        match c.monetary_value {
            Some(m) if c.frequency > 0.0 => {
                let GammaGamma { p, q, v } = *self;
                finite(
                    p * (v + c.frequency * m) / (p * c.frequency + q - 1.0),
                    "expected spend",
                )
            }
            _ => self.population_mean(),
        }
    }
}

/// How CLV is discounted and cut into months.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClvOptions {
    /// Months in the horizon.
    pub months: u32,
    /// Discount rate per month (0.01 = 1 %).
    pub monthly_discount: f64,
    /// Time units per month: 30 when the data are in days, 4.345 in weeks, 1 in months.
    pub units_per_month: f64,
}

impl Default for ClvOptions {
    fn default() -> Self {
        Self {
            months: 12,
            monthly_discount: 0.01,
            units_per_month: 30.0,
        }
    }
}

/// Discounted customer lifetime value, as `lifetimes`' `customer_lifetime_value`:
///
/// CLV = Σₖ₌₁ᴷ E[Z | x, m̄] · (E[Y(kτ)] − E[Y((k − 1)τ)]) / (1 + d)ᵏ
///
/// with K months of τ time units each, E[Y(·)] the count model's conditional expected
/// purchases of this customer and d the monthly discount rate.
///
/// ```
/// use regulars_models::{BgNbd, GammaGamma, Summary, gamma_gamma::{ClvOptions, customer_lifetime_value}};
/// let counts = BgNbd { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
/// let spend = GammaGamma { p: 6.25, q: 3.74, v: 15.44 };
/// let mut ann = Summary::new(2.0, 30.43, 38.86);
/// ann.monetary_value = Some(22.35);
/// let weeks = ClvOptions { months: 12, monthly_discount: 0.01, units_per_month: 4.345 };
/// let clv = customer_lifetime_value(&counts, &spend, &ann, &weeks).unwrap();
/// assert!(clv > 0.0);
/// ```
pub fn customer_lifetime_value<C: CountModel>(
    counts: &C,
    spend: &GammaGamma,
    customer: &Summary,
    options: &ClvOptions,
) -> Result<f64, ModelError> {
    let value = spend.expected_spend(customer)?;
    finite(
        value * discounted_purchases(counts, customer, options)?,
        "lifetime value",
    )
}

/// Σₖ₌₁ᴷ (E[Y(kτ)] − E[Y((k − 1)τ)]) / (1 + d)ᵏ: the discounted expected purchases that
/// [`customer_lifetime_value`] multiplies by the expected spend. It depends on (x, tₓ, T)
/// only, so customers who share those share it.
pub fn discounted_purchases<C: CountModel>(
    counts: &C,
    customer: &Summary,
    options: &ClvOptions,
) -> Result<f64, ModelError> {
    let d = options.monthly_discount;
    let tau = options.units_per_month;
    if !(d.is_finite() && d > -1.0 && tau.is_finite() && tau > 0.0) {
        return Err(ModelError::Domain(
            "the discount rate must exceed -100 % and a month must be a positive time".into(),
        ));
    }
    let mut total = 0.0;
    let mut previous = 0.0;
    for k in 1..=options.months {
        let k = f64::from(k);
        let cumulative = counts.expected_purchases(k * tau, customer)?;
        total += (cumulative - previous) / (1.0 + d).powf(k);
        previous = cumulative;
    }
    finite(total, "discounted purchases")
}
