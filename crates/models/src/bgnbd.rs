//! BG/NBD (Fader, Hardie & Lee 2005) and its modification MBG/NBD (Batislam, Denizel &
//! Filiztekin 2007): purchases at a gamma-distributed Poisson rate, drop-out with a
//! beta-distributed probability after each purchase (MBG/NBD: also at time 0).

mod likelihood;

use crate::fit::{CountModel, FitOptions, Fitted, Likelihood, ModelError, Parameters, maximise};
use crate::special::{ln_beta, ln_gamma, ln_hyp2f1};
use crate::summary::Summary;
use likelihood::{BetaGeoLikelihood, Variant};

/// BG/NBD with λ ~ Gamma(r, α) and p ~ Beta(a, b).
///
/// ```
/// use regulars_models::{BgNbd, CountModel, Summary};
/// // The published CDNOW estimates (time in weeks).
/// let m = BgNbd { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
/// let ann = Summary::new(2.0, 30.43, 38.86);
/// let e = m.expected_purchases(39.0, &ann).unwrap();
/// assert!((e - 1.226).abs() < 0.01);
/// assert!(m.p_alive(&ann).unwrap() > 0.5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BgNbd {
    /// Shape of the purchase-rate distribution.
    pub r: f64,
    /// Rate (inverse scale) of the purchase-rate distribution, in the data's time unit.
    pub alpha: f64,
    /// First shape of the drop-out probability's beta distribution.
    pub a: f64,
    /// Second shape of the drop-out probability's beta distribution.
    pub b: f64,
}

/// MBG/NBD: as [`BgNbd`], but a customer may also drop out right after the first purchase,
/// so someone who never came back is not assumed to be alive.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MbgNbd {
    /// Shape of the purchase-rate distribution.
    pub r: f64,
    /// Rate of the purchase-rate distribution.
    pub alpha: f64,
    /// First shape of the drop-out probability's beta distribution.
    pub a: f64,
    /// Second shape of the drop-out probability's beta distribution.
    pub b: f64,
}

macro_rules! four_params {
    ($ty:ident) => {
        impl Parameters for $ty {
            const NAMES: &'static [&'static str] = &["r", "alpha", "a", "b"];
            fn values(&self) -> Vec<f64> {
                vec![self.r, self.alpha, self.a, self.b]
            }
            fn from_values(v: &[f64]) -> Self {
                let get = |i: usize| v.get(i).copied().unwrap_or(f64::NAN);
                Self {
                    r: get(0),
                    alpha: get(1),
                    a: get(2),
                    b: get(3),
                }
            }
        }
    };
}
four_params!(BgNbd);
four_params!(MbgNbd);

fn check_t(t: f64) -> Result<(), ModelError> {
    if t.is_finite() && t >= 0.0 {
        Ok(())
    } else {
        Err(ModelError::Domain(format!(
            "the horizon must be a non-negative number, not {t}"
        )))
    }
}

fn check_customer(s: &Summary) -> Result<(), ModelError> {
    s.validate(0)?;
    Ok(())
}

/// Σ_{j<n} Γ(r + j)/(Γ(r) j!) qʲ, the first n terms of the negative binomial series.
fn nbd_partial_sum(r: f64, q: f64, n: u32) -> f64 {
    let mut term = 1.0;
    let mut sum = 0.0;
    for j in 0..n {
        sum += term;
        let j = f64::from(j);
        term *= (r + j) / (j + 1.0) * q;
    }
    sum
}

/// [1 − q^e ₂F₁(...)] computed from ln(q^e ₂F₁) without losing the sign.
fn one_minus_exp(ln_v: f64) -> f64 {
    -ln_v.exp_m1()
}

impl BgNbd {
    /// Maximum-likelihood fit on summaries (identical rows are grouped first).
    pub fn fit(rows: &[Summary], options: &FitOptions) -> Result<Fitted<BgNbd>, ModelError> {
        let lik = BetaGeoLikelihood::new(rows, Variant::Bg)?;
        maximise(&lik, options)
    }

    /// Σ wᵢ ln Lᵢ of these rows under this model, and its analytic gradient in
    /// (r, α, a, b).
    pub fn log_likelihood(&self, rows: &[Summary]) -> Result<(f64, Vec<f64>), ModelError> {
        let lik = BetaGeoLikelihood::new(rows, Variant::Bg)?;
        lik.value_and_gradient(&self.values())
    }
}

impl MbgNbd {
    /// Maximum-likelihood fit on summaries (identical rows are grouped first).
    pub fn fit(rows: &[Summary], options: &FitOptions) -> Result<Fitted<MbgNbd>, ModelError> {
        let lik = BetaGeoLikelihood::new(rows, Variant::Mbg)?;
        maximise(&lik, options)
    }

    /// Σ wᵢ ln Lᵢ of these rows under this model, and its analytic gradient in
    /// (r, α, a, b).
    pub fn log_likelihood(&self, rows: &[Summary]) -> Result<(f64, Vec<f64>), ModelError> {
        let lik = BetaGeoLikelihood::new(rows, Variant::Mbg)?;
        lik.value_and_gradient(&self.values())
    }
}

impl CountModel for BgNbd {
    /// E[Y(t) | x, tₓ, T] = (a + b + x − 1)/(a − 1)
    ///   · [1 − ((α + T)/(α + T + t))^(r+x) ₂F₁(r + x, b + x; a + b + x − 1; t/(α + T + t))]
    ///   / [1 + δₓ₍>0₎ a/(b + x − 1) ((α + T)/(α + tₓ))^(r+x)]
    fn expected_purchases(&self, t: f64, s: &Summary) -> Result<f64, ModelError> {
        check_t(t)?;
        check_customer(s)?;
        if t == 0.0 {
            return Ok(0.0);
        }
        let BgNbd { r, alpha, a, b } = *self;
        if a == 1.0 {
            return Err(ModelError::Domain(
                "a = 1 makes the expectation singular".into(),
            ));
        }
        let (x, tx, big_t) = (s.frequency, s.recency, s.t);
        let z = t / (alpha + big_t + t);
        let ln_h = ln_hyp2f1(r + x, b + x, a + b + x - 1.0, z)?;
        let ln_v = (r + x) * ((alpha + big_t) / (alpha + big_t + t)).ln() + ln_h;
        let numerator = (a + b + x - 1.0) / (a - 1.0) * one_minus_exp(ln_v);
        let denominator = if x > 0.0 {
            1.0 + a / (b + x - 1.0) * ((r + x) * ((alpha + big_t) / (alpha + tx)).ln()).exp()
        } else {
            1.0
        };
        finite(numerator / denominator, "expected purchases")
    }

    /// P(alive) = 1 / (1 + δₓ₍>0₎ a/(b + x − 1) ((α + T)/(α + tₓ))^(r+x))
    fn p_alive(&self, s: &Summary) -> Result<f64, ModelError> {
        check_customer(s)?;
        let BgNbd { r, alpha, a, b } = *self;
        let x = s.frequency;
        if x == 0.0 {
            return Ok(1.0);
        }
        let ln_odds =
            a.ln() - (b + x - 1.0).ln() + (r + x) * ((alpha + s.t) / (alpha + s.recency)).ln();
        Ok(1.0 / (1.0 + ln_odds.exp()))
    }

    /// ```text
    /// P(X(t) = n) = B(a, b + n)/B(a, b) · Γ(r + n)/(Γ(r) n!) (α/(α + t))^r (t/(α + t))ⁿ
    ///   + δₙ₍>0₎ B(a + 1, b + n − 1)/B(a, b) · [1 − (α/(α + t))^r Σ_{j<n} Γ(r + j)/(Γ(r) j!) (t/(α + t))ʲ]
    /// ```
    fn probability_of_purchases(&self, t: f64, n: u32) -> Result<f64, ModelError> {
        check_t(t)?;
        let BgNbd { r, alpha, a, b } = *self;
        let nf = f64::from(n);
        let q = t / (alpha + t);
        let ln_first = ln_beta(a, b + nf) - ln_beta(a, b) + ln_gamma(r + nf)
            - ln_gamma(r)
            - ln_gamma(nf + 1.0)
            + r * (alpha / (alpha + t)).ln()
            + if n > 0 { nf * q.ln() } else { 0.0 };
        let mut p = ln_first.exp();
        if n > 0 {
            let tail = 1.0 - (alpha / (alpha + t)).powf(r) * nbd_partial_sum(r, q, n);
            p += (ln_beta(a + 1.0, b + nf - 1.0) - ln_beta(a, b)).exp() * tail;
        }
        finite(p, "probability")
    }

    /// E[X(t)] = (a + b − 1)/(a − 1) · [1 − (α/(α + t))^r ₂F₁(r, b; a + b − 1; t/(α + t))]
    fn expected_purchases_new(&self, t: f64) -> Result<f64, ModelError> {
        check_t(t)?;
        if t == 0.0 {
            return Ok(0.0);
        }
        let BgNbd { r, alpha, a, b } = *self;
        if a == 1.0 {
            return Err(ModelError::Domain(
                "a = 1 makes the expectation singular".into(),
            ));
        }
        let ln_v = r * (alpha / (alpha + t)).ln() + ln_hyp2f1(r, b, a + b - 1.0, t / (alpha + t))?;
        finite(
            (a + b - 1.0) / (a - 1.0) * one_minus_exp(ln_v),
            "expected purchases",
        )
    }
}

impl CountModel for MbgNbd {
    /// E[Y(t) | x, tₓ, T] = (a + b + x)/(a − 1)
    ///   · [1 − ((α + T)/(α + T + t))^(r+x) ₂F₁(r + x, b + x + 1; a + b + x; t/(α + T + t))]
    ///   / [1 + a/(b + x) ((α + T)/(α + tₓ))^(r+x)]
    fn expected_purchases(&self, t: f64, s: &Summary) -> Result<f64, ModelError> {
        check_t(t)?;
        check_customer(s)?;
        if t == 0.0 {
            return Ok(0.0);
        }
        let MbgNbd { r, alpha, a, b } = *self;
        if a == 1.0 {
            return Err(ModelError::Domain(
                "a = 1 makes the expectation singular".into(),
            ));
        }
        let (x, tx, big_t) = (s.frequency, s.recency, s.t);
        let z = t / (alpha + big_t + t);
        let ln_h = ln_hyp2f1(r + x, b + x + 1.0, a + b + x, z)?;
        let ln_v = (r + x) * ((alpha + big_t) / (alpha + big_t + t)).ln() + ln_h;
        let numerator = (a + b + x) / (a - 1.0) * one_minus_exp(ln_v);
        let denominator =
            1.0 + a / (b + x) * ((r + x) * ((alpha + big_t) / (alpha + tx)).ln()).exp();
        finite(numerator / denominator, "expected purchases")
    }

    /// P(alive) = 1 / (1 + a/(b + x) ((α + T)/(α + tₓ))^(r+x))
    fn p_alive(&self, s: &Summary) -> Result<f64, ModelError> {
        check_customer(s)?;
        let MbgNbd { r, alpha, a, b } = *self;
        let x = s.frequency;
        let ln_odds = a.ln() - (b + x).ln() + (r + x) * ((alpha + s.t) / (alpha + s.recency)).ln();
        Ok(1.0 / (1.0 + ln_odds.exp()))
    }

    /// ```text
    /// P(X(t) = n) = B(a, b + n + 1)/B(a, b) · Γ(r + n)/(Γ(r) n!) (α/(α + t))^r (t/(α + t))ⁿ
    ///   + B(a + 1, b + n)/B(a, b) · [1 − (α/(α + t))^r Σ_{j<n} Γ(r + j)/(Γ(r) j!) (t/(α + t))ʲ]
    /// ```
    fn probability_of_purchases(&self, t: f64, n: u32) -> Result<f64, ModelError> {
        check_t(t)?;
        let MbgNbd { r, alpha, a, b } = *self;
        let nf = f64::from(n);
        let q = t / (alpha + t);
        let ln_first = ln_beta(a, b + nf + 1.0) - ln_beta(a, b) + ln_gamma(r + nf)
            - ln_gamma(r)
            - ln_gamma(nf + 1.0)
            + r * (alpha / (alpha + t)).ln()
            + if n > 0 { nf * q.ln() } else { 0.0 };
        let tail = 1.0 - (alpha / (alpha + t)).powf(r) * nbd_partial_sum(r, q, n);
        let p = ln_first.exp() + (ln_beta(a + 1.0, b + nf) - ln_beta(a, b)).exp() * tail;
        finite(p, "probability")
    }

    /// E[X(t)] = b/(a − 1) · [1 − (α/(α + t))^r ₂F₁(r, b + 1; a + b; t/(α + t))]
    fn expected_purchases_new(&self, t: f64) -> Result<f64, ModelError> {
        check_t(t)?;
        if t == 0.0 {
            return Ok(0.0);
        }
        let MbgNbd { r, alpha, a, b } = *self;
        if a == 1.0 {
            return Err(ModelError::Domain(
                "a = 1 makes the expectation singular".into(),
            ));
        }
        let ln_v = r * (alpha / (alpha + t)).ln() + ln_hyp2f1(r, b + 1.0, a + b, t / (alpha + t))?;
        finite(b / (a - 1.0) * one_minus_exp(ln_v), "expected purchases")
    }
}

pub(crate) fn finite(v: f64, what: &str) -> Result<f64, ModelError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ModelError::Domain(format!("the {what} is not finite")))
    }
}
