//! Pareto/NBD (Schmittlein, Morrison & Colombo 1987): purchases at a gamma-distributed
//! Poisson rate λ, an exponential lifetime with a gamma-distributed rate μ.
//!
//! The likelihood needs ₂F₁ (through the term A₀ below), evaluated in log space by
//! [`crate::special::ln_hyp2f1`]. Its gradient is taken by central differences of the
//! log-likelihood (an analytic one would need derivatives of ₂F₁ in its parameters): each
//! gradient costs eight likelihood evaluations.

use crate::bgnbd::finite;
use crate::fit::{
    CountData, CountModel, FitOptions, Fitted, Likelihood, ModelError, Parameters, maximise,
    numerical_gradient,
};
use crate::special::{ln_beta, ln_gamma, ln_hyp2f1, log_add_exp, log_sub_exp};
use crate::summary::Summary;

/// Pareto/NBD with λ ~ Gamma(r, α) and μ ~ Gamma(s, β).
///
/// ```
/// use regulars_models::{CountModel, ParetoNbd, Summary};
/// let m = ParetoNbd { r: 0.55, alpha: 10.58, s: 0.61, beta: 11.67 };
/// let p = m.p_alive(&Summary::new(2.0, 30.43, 38.86)).unwrap();
/// assert!(p > 0.5 && p < 1.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ParetoNbd {
    /// Shape of the purchase-rate distribution.
    pub r: f64,
    /// Rate of the purchase-rate distribution.
    pub alpha: f64,
    /// Shape of the drop-out-rate distribution.
    pub s: f64,
    /// Rate of the drop-out-rate distribution.
    pub beta: f64,
}

impl Parameters for ParetoNbd {
    const NAMES: &'static [&'static str] = &["r", "alpha", "s", "beta"];
    fn values(&self) -> Vec<f64> {
        vec![self.r, self.alpha, self.s, self.beta]
    }
    fn from_values(v: &[f64]) -> Self {
        let get = |i: usize| v.get(i).copied().unwrap_or(f64::NAN);
        Self {
            r: get(0),
            alpha: get(1),
            s: get(2),
            beta: get(3),
        }
    }
}

impl ParetoNbd {
    /// Maximum-likelihood fit on summaries (identical rows are grouped first).
    pub fn fit(rows: &[Summary], options: &FitOptions) -> Result<Fitted<ParetoNbd>, ModelError> {
        let lik = ParetoLikelihood {
            data: CountData::new(rows)?,
        };
        maximise(&lik, options)
    }

    /// Σ wᵢ ln Lᵢ of these rows under this model.
    pub fn log_likelihood(&self, rows: &[Summary]) -> Result<f64, ModelError> {
        let lik = ParetoLikelihood {
            data: CountData::new(rows)?,
        };
        lik.value(&self.values())
    }

    /// ln A₀ where, for α ≥ β,
    /// ```text
    /// A₀ = ₂F₁(r+s+x, s+1; r+s+x+1; (α−β)/(α+tₓ)) / (α+tₓ)^(r+s+x)
    ///    − ₂F₁(r+s+x, s+1; r+s+x+1; (α−β)/(α+T)) / (α+T)^(r+s+x),
    /// ```
    /// and for α < β the same with (r+x, β) in place of (s+1, α).
    fn ln_a0(&self, x: f64, tx: f64, t: f64) -> Result<f64, ModelError> {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let rsx = r + s + x;
        let (m, b2) = if alpha >= beta {
            (alpha, s + 1.0)
        } else {
            (beta, r + x)
        };
        let d = (alpha - beta).abs();
        let part = |tau: f64| -> Result<f64, ModelError> {
            Ok(ln_hyp2f1(rsx, b2, rsx + 1.0, d / (m + tau))? - rsx * (m + tau).ln())
        };
        let p1 = part(tx)?;
        let p2 = part(t)?;
        Ok(if p2 >= p1 {
            f64::NEG_INFINITY
        } else {
            log_sub_exp(p1, p2)
        })
    }

    fn ln_row(&self, x: f64, tx: f64, t: f64) -> Result<f64, ModelError> {
        let ParetoNbd { r, alpha, s, beta } = *self;
        let head = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln();
        let alive = -(r + x) * (alpha + t).ln() - s * (beta + t).ln();
        let died = s.ln() - (r + s + x).ln() + self.ln_a0(x, tx, t)?;
        Ok(head + log_add_exp(alive, died))
    }
}

/// (1 − q^e)/e, continuous at e = 0 where it is −ln q.
fn power_gap(e: f64, q: f64) -> f64 {
    let lq = q.ln();
    if e.abs() < 1e-12 {
        -lq
    } else {
        -(e * lq).exp_m1() / e
    }
}

struct ParetoLikelihood {
    data: CountData,
}

impl ParetoLikelihood {
    fn value(&self, params: &[f64]) -> Result<f64, ModelError> {
        let m = ParetoNbd::from_values(params);
        let d = &self.data;
        // In parallel, with the same result on any number of threads.
        crate::parallel::try_sum(d.len(), |i| Ok(d.w[i] * m.ln_row(d.x[i], d.tx[i], d.t[i])?))
    }
}

impl Likelihood for ParetoLikelihood {
    fn value_and_gradient(&self, params: &[f64]) -> Result<(f64, Vec<f64>), ModelError> {
        let v = self.value(params)?;
        let g = numerical_gradient(params, |p| self.value(p))?;
        Ok((v, g))
    }

    fn start(&self) -> Vec<f64> {
        vec![1.0, 1.0, 1.0, 1.0]
    }

    fn observations(&self) -> f64 {
        self.data.total_weight()
    }

    fn distinct_rows(&self) -> usize {
        self.data.len()
    }
}

impl CountModel for ParetoNbd {
    /// E[Y(t) | x, tₓ, T] = P(alive) · (r + x)(β + T)/((α + T)(s − 1))
    ///   · [1 − ((β + T)/(β + T + t))^(s−1)]
    fn expected_purchases(&self, t: f64, c: &Summary) -> Result<f64, ModelError> {
        check_t(t)?;
        c.validate(0)?;
        let ParetoNbd { r, alpha, s, beta } = *self;
        let big_t = c.t;
        let alive = self.p_alive(c)?;
        let v = alive * (r + c.frequency) * (beta + big_t) / (alpha + big_t)
            * power_gap(s - 1.0, (beta + big_t) / (beta + big_t + t));
        finite(v, "expected purchases")
    }

    /// P(alive) = 1 / (1 + s/(r + s + x) · (α + T)^(r+x) (β + T)^s A₀)
    fn p_alive(&self, c: &Summary) -> Result<f64, ModelError> {
        c.validate(0)?;
        let ParetoNbd { r, alpha, s, beta } = *self;
        let (x, big_t) = (c.frequency, c.t);
        let ln_odds = s.ln() - (r + s + x).ln()
            + (r + x) * (alpha + big_t).ln()
            + s * (beta + big_t).ln()
            + self.ln_a0(x, c.recency, big_t)?;
        Ok(1.0 / (1.0 + ln_odds.exp()))
    }

    /// Fader, Hardie & Lee (2006):
    /// ```text
    /// P(X(t) = n) = Γ(r+n)/(Γ(r) n!) (α/(α+t))^r (t/(α+t))ⁿ (β/(β+t))^s
    ///   + α^r β^s B(r+n, s+1)/B(r, s) · [B₁ − Σᵢ₌₀ⁿ Γ(r+s+i)/(Γ(r+s) i!) tⁱ B₂(i)]
    /// ```
    /// with, for α ≥ β, B₁ = ₂F₁(r+s, s+1; r+s+n+1; (α−β)/α)/α^(r+s) and
    /// B₂(i) = ₂F₁(r+s+i, s+1; r+s+n+1; (α−β)/(α+t))/(α+t)^(r+s+i); for α < β, (r+n, β)
    /// replace (s+1, α).
    fn probability_of_purchases(&self, t: f64, n: u32) -> Result<f64, ModelError> {
        check_t(t)?;
        let ParetoNbd { r, alpha, s, beta } = *self;
        let nf = f64::from(n);
        if t == 0.0 {
            return Ok(if n == 0 { 1.0 } else { 0.0 });
        }
        let first = (ln_gamma(r + nf) - ln_gamma(r) - ln_gamma(nf + 1.0)
            + r * (alpha / (alpha + t)).ln()
            + nf * (t / (alpha + t)).ln()
            + s * (beta / (beta + t)).ln())
        .exp();
        let (m, b2) = if alpha >= beta {
            (alpha, s + 1.0)
        } else {
            (beta, r + nf)
        };
        let d = (alpha - beta).abs();
        let c = r + s + nf + 1.0;
        let ln_b1 = ln_hyp2f1(r + s, b2, c, d / m)? - (r + s) * m.ln();
        let mut ratio_sum = 0.0;
        for i in 0..=n {
            let fi = f64::from(i);
            let ln_coef = ln_gamma(r + s + fi) - ln_gamma(r + s) - ln_gamma(fi + 1.0)
                + if i > 0 { fi * t.ln() } else { 0.0 };
            let ln_b2 = ln_hyp2f1(r + s + fi, b2, c, d / (m + t))? - (r + s + fi) * (m + t).ln();
            ratio_sum += (ln_coef + ln_b2 - ln_b1).exp();
        }
        let ln_pre = r * alpha.ln() + s * beta.ln() + ln_beta(r + nf, s + 1.0) - ln_beta(r, s);
        let second = (ln_pre + ln_b1).exp() * (1.0 - ratio_sum);
        finite(first + second, "probability")
    }

    /// E[X(t)] = rβ/(α(s − 1)) · [1 − (β/(β + t))^(s−1)]
    fn expected_purchases_new(&self, t: f64) -> Result<f64, ModelError> {
        check_t(t)?;
        let ParetoNbd { r, alpha, s, beta } = *self;
        finite(
            r / alpha * beta * power_gap(s - 1.0, beta / (beta + t)),
            "expected purchases",
        )
    }
}

fn check_t(t: f64) -> Result<(), ModelError> {
    if t.is_finite() && t >= 0.0 {
        Ok(())
    } else {
        Err(ModelError::Domain(format!(
            "the horizon must be a non-negative number, not {t}"
        )))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::simulate::{self, Cohorts};

    #[test]
    fn the_likelihood_does_not_depend_on_the_number_of_threads() {
        let truth = crate::BgNbd {
            r: 0.5,
            alpha: 20.0,
            a: 0.8,
            b: 2.5,
        };
        let cohorts = Cohorts {
            min: 1.0,
            max: 730.0,
            step: 1.0,
        };
        let rows = simulate::bgnbd(&truth, 20_000, &cohorts, 9);
        let lik = ParetoLikelihood {
            data: CountData::new(&rows).unwrap(),
        };
        assert!(lik.data.len() > 2 * crate::parallel::CHUNK);
        let p = [0.5, 12.0, 0.7, 10.0];
        let d = &lik.data;
        let m = ParetoNbd::from_values(&p);
        let serial: f64 = (0..d.len())
            .map(|i| d.w[i] * m.ln_row(d.x[i], d.tx[i], d.t[i]).unwrap())
            .sum();
        let value = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| lik.value(&p).unwrap())
        };
        let one = value(1);
        assert!((one - serial).abs() <= 1e-9 * serial.abs());
        for threads in [2, 5] {
            assert_eq!(one.to_bits(), value(threads).to_bits(), "{threads} threads");
        }
    }
}
