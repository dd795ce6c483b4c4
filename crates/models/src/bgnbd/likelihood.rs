//! The BG/NBD and MBG/NBD log-likelihood over grouped rows, and its gradient: what the
//! fit maximises.

use crate::fit::{CountData, Likelihood, ModelError};
use crate::special::{digamma, ln_beta, ln_gamma};
use crate::summary::Summary;

/// Whether drop-out can happen at time 0 (MBG/NBD) or only after a repeat purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Variant {
    Bg,
    Mbg,
}

pub(super) struct BetaGeoLikelihood {
    data: CountData,
    variant: Variant,
}

/// What ln Lᵢ and its gradient need from x alone, computed once per distinct x.
struct PerCount {
    /// r + x
    rx: f64,
    /// ln Γ(r + x) + ln B(a, b + x + k)
    value: f64,
    /// ψ(r + x)
    dr: f64,
    /// −ψ(a + b + x + k)
    da: f64,
    /// ψ(b + x + k) − ψ(a + b + x + k)
    db: f64,
    /// ln a − ln(b + x + k − 1), when the second term exists
    ln_odds: Option<f64>,
    /// 1/(b + x + k − 1)
    inv_bx1: f64,
    /// 1/a
    inv_a: f64,
}

/// A product of factors in [1, 2], kept as the sum of the logarithms of partial products
/// of at most [`Product::RUN`] factors (at most 2^RUN, far from overflowing): Σ ln fᵢ for
/// one logarithm per run instead of one per factor. Each partial product is rounded
/// RUN times at most, about 10⁻¹³ relative, which is 10⁻¹³ absolute in its logarithm.
struct Product {
    run: f64,
    factors: u32,
    logs: f64,
}

impl Default for Product {
    fn default() -> Self {
        Product {
            run: 1.0,
            factors: 0,
            logs: 0.0,
        }
    }
}

impl Product {
    const RUN: u32 = 512;

    fn times(&mut self, factor: f64) {
        self.run *= factor;
        self.factors += 1;
        if self.factors == Self::RUN {
            self.logs += self.run.ln();
            self.run = 1.0;
            self.factors = 0;
        }
    }

    /// The sum of the logarithms of the factors.
    fn ln(&self) -> f64 {
        self.logs + self.run.ln()
    }
}

/// ln(α + τ) and 1/(α + τ) for each distinct T (`t`) and tₓ (`tx`) of the rows.
struct Times {
    t: Vec<(f64, f64)>,
    tx: Vec<(f64, f64)>,
}

impl Times {
    fn new(alpha: f64, data: &CountData) -> Self {
        let table = |values: &[f64]| {
            values
                .iter()
                .map(|&v| ((alpha + v).ln(), 1.0 / (alpha + v)))
                .collect()
        };
        Times {
            t: table(&data.t_values),
            tx: table(&data.tx_values),
        }
    }
}

impl BetaGeoLikelihood {
    /// The likelihood of these rows (validated and grouped) under the variant.
    pub(super) fn new(rows: &[Summary], variant: Variant) -> Result<Self, ModelError> {
        Ok(BetaGeoLikelihood {
            data: CountData::new(rows)?,
            variant,
        })
    }

    /// Σ wᵢ ln Lᵢ and its gradient in (r, α, a, b); `k` = 0 for BG, 1 for MBG shifts
    /// b + x to b + x + k in the beta terms:
    ///
    /// ```text
    /// ln L = ln Γ(r + x) − ln Γ(r) + r ln α + ln B(a, b + x + k) − ln B(a, b)
    ///        + ln[(α + T)^−(r+x) + d · a/(b + x + k − 1) · (α + tₓ)^−(r+x)]
    /// ```
    /// with d = 1 when x > 0 (BG) or always (MBG).
    ///
    /// The sum over rows runs in parallel ([`crate::parallel::sum`]): same result on any
    /// number of threads.
    fn evaluate(&self, p: &[f64; 4]) -> (f64, [f64; 4]) {
        let per_count = self.per_count(p);
        let times = Times::new(p[1], &self.data);
        let [total, g0, g1, g2, g3, weight] = crate::parallel::sum(self.data.len(), |rows| {
            let mut acc = [0.0; 6];
            let mut product = Product::default();
            for i in rows {
                self.add_row(&per_count, &times, i, &mut acc, &mut product);
            }
            acc[0] += product.ln();
            acc
        });
        self.finish(p, total, [g0, g1, g2, g3], weight)
    }

    /// What depends on x alone, once per distinct x.
    fn per_count(&self, p: &[f64; 4]) -> Vec<PerCount> {
        let [r, _, a, b] = *p;
        let k = self.k();
        self.data
            .x_values
            .iter()
            .map(|&x| {
                let bx = b + x + k;
                let psi_abx = digamma(a + bx);
                let second = self.variant == Variant::Mbg || x > 0.0;
                PerCount {
                    rx: r + x,
                    value: ln_gamma(r + x) + ln_beta(a, bx),
                    dr: digamma(r + x),
                    da: -psi_abx,
                    db: digamma(bx) - psi_abx,
                    ln_odds: second.then(|| a.ln() - (bx - 1.0).ln()),
                    inv_bx1: if second { 1.0 / (bx - 1.0) } else { 0.0 },
                    inv_a: 1.0 / a,
                }
            })
            .collect()
    }

    fn k(&self) -> f64 {
        match self.variant {
            Variant::Bg => 0.0,
            Variant::Mbg => 1.0,
        }
    }

    /// Adds row `i`'s wᵢ ln Lᵢ (less the terms common to every row), its gradient and wᵢ
    /// into `acc` = [value, ∂r, ∂α, ∂a, ∂b, weight].
    ///
    /// ln(α + T) and ln(α + tₓ) come from `times` (once per distinct time), and the two
    /// terms' log-sum and their weights from one exponential: with h the larger of the
    /// two exponents and e = e^(lower − h) ≤ 1, ln(e^u₁ + e^u₂) = h + ln(1 + e) and the
    /// weights are 1/(1 + e) and e/(1 + e). ln(1 + e) is taken as a plain logarithm, not
    /// `ln_1p` (which costs several times more): for e below 2⁻⁵³ it gives 0 instead of e,
    /// an absolute error smaller than the last bit of h. For a row of weight 1 (most
    /// distinct rows) 1 + e goes into `product` instead, whose logarithm the caller adds
    /// once for many rows.
    fn add_row(
        &self,
        per_count: &[PerCount],
        times: &Times,
        i: usize,
        acc: &mut [f64; 6],
        product: &mut Product,
    ) {
        let d = &self.data;
        let w = d.w[i];
        let c = &per_count[d.x_index[i]];
        let (ln_at, inv_at) = times.t[d.t_index[i]];
        let u1 = -c.rx * ln_at;
        let (l3, w1, w2, ln_atx, inv_atx) = match c.ln_odds {
            Some(ln_odds) => {
                let (ln_atx, inv_atx) = times.tx[d.tx_index[i]];
                let u2 = ln_odds - c.rx * ln_atx;
                let (high, low) = if u1 >= u2 { (u1, u2) } else { (u2, u1) };
                let e = (low - high).exp();
                let w_high = 1.0 / (1.0 + e);
                let w_low = e * w_high;
                let (w1, w2) = if u1 >= u2 {
                    (w_high, w_low)
                } else {
                    (w_low, w_high)
                };
                if w == 1.0 {
                    product.times(1.0 + e);
                } else {
                    acc[0] += w * (1.0 + e).ln();
                }
                (high, w1, w2, ln_atx, inv_atx)
            }
            None => (u1, 1.0, 0.0, 0.0, 0.0),
        };
        acc[0] += w * (c.value + l3);
        acc[1] += w * (c.dr - w1 * ln_at - w2 * ln_atx);
        acc[2] += w * (-c.rx * (w1 * inv_at + w2 * inv_atx));
        acc[3] += w * (c.da + w2 * c.inv_a);
        acc[4] += w * (c.db - w2 * c.inv_bx1);
        acc[5] += w;
    }

    /// Adds the terms that are the same for every customer to the rows' sums.
    fn finish(&self, p: &[f64; 4], total: f64, grad: [f64; 4], weight: f64) -> (f64, [f64; 4]) {
        let [r, alpha, a, b] = *p;
        let ln_alpha = alpha.ln();
        let psi_ab = digamma(a + b);
        let total = total + weight * (-ln_gamma(r) + r * ln_alpha - ln_beta(a, b));
        let grad = [
            grad[0] + weight * (-digamma(r) + ln_alpha),
            grad[1] + weight * r / alpha,
            grad[2] + weight * psi_ab,
            grad[3] + weight * (psi_ab - digamma(b)),
        ];
        (total, grad)
    }

    /// The same sum in one plain loop on one thread: the reference the parallel sum is
    /// tested against.
    #[cfg(test)]
    fn evaluate_serial(&self, p: &[f64; 4]) -> (f64, [f64; 4]) {
        let per_count = self.per_count(p);
        let times = Times::new(p[1], &self.data);
        let mut acc = [0.0; 6];
        let mut product = Product::default();
        for i in 0..self.data.len() {
            self.add_row(&per_count, &times, i, &mut acc, &mut product);
        }
        acc[0] += product.ln();
        let [total, g0, g1, g2, g3, weight] = acc;
        self.finish(p, total, [g0, g1, g2, g3], weight)
    }
}

impl Likelihood for BetaGeoLikelihood {
    fn value_and_gradient(&self, params: &[f64]) -> Result<(f64, Vec<f64>), ModelError> {
        let p: [f64; 4] = params
            .try_into()
            .map_err(|_| ModelError::Domain("four parameters expected".into()))?;
        let (total, grad) = self.evaluate(&p);
        Ok((total, grad.to_vec()))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::bgnbd::BgNbd;
    use crate::fit::{FitOptions, Fitted, Parameters, maximise};
    use crate::simulate::{self, Cohorts};

    /// The likelihood summed in one plain loop, as the optimiser sees it.
    struct Serial(BetaGeoLikelihood);

    impl Likelihood for Serial {
        fn value_and_gradient(&self, params: &[f64]) -> Result<(f64, Vec<f64>), ModelError> {
            let p: [f64; 4] = params.try_into().unwrap();
            let (total, grad) = self.0.evaluate_serial(&p);
            Ok((total, grad.to_vec()))
        }
        fn start(&self) -> Vec<f64> {
            self.0.start()
        }
        fn observations(&self) -> f64 {
            self.0.observations()
        }
        fn distinct_rows(&self) -> usize {
            self.0.distinct_rows()
        }
    }

    fn likelihood(variant: Variant, seed: u64) -> BetaGeoLikelihood {
        let truth = BgNbd {
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
        let rows = simulate::bgnbd(&truth, 30_000, &cohorts, seed);
        let data = CountData::new(&rows).unwrap();
        // Several chunks, so the parallel sum really splits.
        assert!(data.len() > 3 * crate::parallel::CHUNK, "{}", data.len());
        BetaGeoLikelihood { data, variant }
    }

    fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    #[test]
    fn the_parallel_fit_finds_the_serial_fits_parameters() {
        for (variant, seed) in [(Variant::Bg, 3), (Variant::Mbg, 4)] {
            let lik = likelihood(variant, seed);
            let parallel: Fitted<BgNbd> = maximise(&lik, &FitOptions::default()).unwrap();
            let serial: Fitted<BgNbd> = maximise(&Serial(lik), &FitOptions::default()).unwrap();
            for (p, s) in parallel.model.values().iter().zip(serial.model.values()) {
                assert!((p - s).abs() <= 1e-6 * s.abs(), "{variant:?}: {p} vs {s}");
            }
        }
    }

    #[test]
    fn the_likelihood_and_gradient_do_not_depend_on_the_number_of_threads() {
        let lik = likelihood(Variant::Bg, 5);
        let p = [0.6, 15.0, 0.9, 2.0];
        let (one, one_grad) = on_threads(1, || lik.evaluate(&p));
        let (serial, serial_grad) = lik.evaluate_serial(&p);
        assert!((one - serial).abs() <= 1e-9 * serial.abs());
        for (g, s) in one_grad.iter().zip(serial_grad) {
            assert!((g - s).abs() <= 1e-9 * s.abs().max(1.0), "{g} vs {s}");
        }
        for threads in [2, 3, 7] {
            let (many, many_grad) = on_threads(threads, || lik.evaluate(&p));
            assert_eq!(one.to_bits(), many.to_bits(), "{threads} threads");
            for (g, m) in one_grad.iter().zip(many_grad) {
                assert_eq!(g.to_bits(), m.to_bits(), "{threads} threads");
            }
        }
    }

    /// ln Lᵢ of one customer straight from the formula in [`BetaGeoLikelihood::evaluate`],
    /// every logarithm and exponential taken per row, nothing tabulated.
    fn textbook_row(variant: Variant, p: &[f64; 4], x: f64, tx: f64, t: f64) -> f64 {
        let [r, alpha, a, b] = *p;
        let k = if variant == Variant::Mbg { 1.0 } else { 0.0 };
        let head =
            ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + ln_beta(a, b + x + k) - ln_beta(a, b);
        let first = (alpha + t).powf(-(r + x));
        let second = if variant == Variant::Mbg || x > 0.0 {
            a / (b + x + k - 1.0) * (alpha + tx).powf(-(r + x))
        } else {
            0.0
        };
        head + (first + second).ln()
    }

    #[test]
    fn the_tabulated_likelihood_is_the_textbook_formula_and_its_gradient_the_derivative() {
        for (variant, seed) in [(Variant::Bg, 8), (Variant::Mbg, 9)] {
            let lik = likelihood(variant, seed);
            let d = &lik.data;
            for p in [
                [0.5, 20.0, 0.8, 2.5],
                [2.0, 3.0, 1.5, 0.7],
                [0.1, 80.0, 0.3, 9.0],
            ] {
                let (total, grad) = lik.evaluate(&p);
                let textbook: f64 = (0..d.len())
                    .map(|i| d.w[i] * textbook_row(variant, &p, d.x[i], d.tx[i], d.t[i]))
                    .sum();
                assert!(
                    (total - textbook).abs() <= 1e-10 * textbook.abs(),
                    "{variant:?} {p:?}: {total} vs {textbook}"
                );
                for j in 0..4 {
                    // A step near the cube root of the precision: the total is about 5·10⁵,
                    // so at 10⁻⁶ the rounding of the two sums (a few units of 10⁻¹⁰) would
                    // already weigh 10⁻⁴ in the difference quotient.
                    let h = 1e-5 * p[j];
                    let (mut up, mut down) = (p, p);
                    up[j] += h;
                    down[j] -= h;
                    let numeric = (lik.evaluate(&up).0 - lik.evaluate(&down).0) / (2.0 * h);
                    assert!(
                        (grad[j] - numeric).abs() <= 1e-5 * numeric.abs().max(1.0),
                        "{variant:?} {p:?} ∂{j}: {} vs {numeric}",
                        grad[j]
                    );
                }
            }
        }
    }
}
