//! Analytic gradients against finite differences; predictive distributions that must sum
//! to one and average to the closed-form mean.

use regulars_models::simulate::{self, Cohorts};
use regulars_models::{BgNbd, CountModel, GammaGamma, MbgNbd, ParetoNbd, Summary};

fn data() -> Vec<Summary> {
    let cohorts = Cohorts {
        min: 20.0,
        max: 300.0,
        step: 0.0,
    };
    let truth = BgNbd {
        r: 0.6,
        alpha: 12.0,
        a: 0.9,
        b: 3.0,
    };
    let mut rows = simulate::bgnbd(&truth, 400, &cohorts, 11);
    simulate::add_spend(
        &GammaGamma {
            p: 5.0,
            q: 3.0,
            v: 20.0,
        },
        &mut rows,
        12,
    );
    rows
}

/// Relative central differences of `f` at `p`, against `grad`.
fn check_gradient(name: &str, p: &[f64], grad: &[f64], f: impl Fn(&[f64]) -> f64) {
    for i in 0..p.len() {
        let h = 1e-6 * p[i];
        let mut up = p.to_vec();
        up[i] += h;
        let mut down = p.to_vec();
        down[i] -= h;
        let fd = (f(&up) - f(&down)) / (2.0 * h);
        let err = (fd - grad[i]).abs() / grad[i].abs().max(1.0);
        assert!(
            err < 1e-5,
            "{name} ∂/∂p{i}: analytic {} vs finite difference {fd}",
            grad[i]
        );
    }
}

#[test]
fn bgnbd_gradient_is_the_derivative_of_the_likelihood() {
    let rows = data();
    for p in [
        [0.6, 12.0, 0.9, 3.0],
        [0.2, 3.0, 2.5, 0.7],
        [2.0, 40.0, 0.3, 8.0],
    ] {
        let m = BgNbd {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
        };
        let (_, grad) = m.log_likelihood(&rows).unwrap();
        check_gradient("BG/NBD", &p, &grad, |q| {
            BgNbd {
                r: q[0],
                alpha: q[1],
                a: q[2],
                b: q[3],
            }
            .log_likelihood(&rows)
            .unwrap()
            .0
        });
    }
}

#[test]
fn mbgnbd_gradient_is_the_derivative_of_the_likelihood() {
    let rows = data();
    for p in [[0.6, 12.0, 0.9, 3.0], [0.2, 3.0, 2.5, 0.7]] {
        let m = MbgNbd {
            r: p[0],
            alpha: p[1],
            a: p[2],
            b: p[3],
        };
        let (_, grad) = m.log_likelihood(&rows).unwrap();
        check_gradient("MBG/NBD", &p, &grad, |q| {
            MbgNbd {
                r: q[0],
                alpha: q[1],
                a: q[2],
                b: q[3],
            }
            .log_likelihood(&rows)
            .unwrap()
            .0
        });
    }
}

#[test]
fn gamma_gamma_gradient_is_the_derivative_of_the_likelihood() {
    let rows = data();
    for p in [[5.0, 3.0, 20.0], [0.8, 12.0, 2.0]] {
        let m = GammaGamma {
            p: p[0],
            q: p[1],
            v: p[2],
        };
        let (_, grad) = m.log_likelihood(&rows).unwrap();
        check_gradient("Gamma-Gamma", &p, &grad, |q| {
            GammaGamma {
                p: q[0],
                q: q[1],
                v: q[2],
            }
            .log_likelihood(&rows)
            .unwrap()
            .0
        });
    }
}

/// Σₙ P(X(t) = n) = 1 and Σₙ n P(X(t) = n) = E[X(t)].
fn check_distribution(name: &str, m: &dyn CountModel, t: f64) {
    let mut total = 0.0;
    let mut mean = 0.0;
    for n in 0..3000u32 {
        let p = m.probability_of_purchases(t, n).unwrap();
        assert!(
            (-1e-12..=1.0 + 1e-12).contains(&p),
            "{name}: P(X({t}) = {n}) = {p}"
        );
        total += p;
        mean += f64::from(n) * p;
    }
    let expected = m.expected_purchases_new(t).unwrap();
    assert!((total - 1.0).abs() < 1e-8, "{name} t={t}: Σ P = {total}");
    assert!(
        (mean - expected).abs() < 1e-6 * expected.max(1.0),
        "{name} t={t}: Σ n P = {mean}, E[X(t)] = {expected}"
    );
}

#[test]
fn predictive_distributions_sum_to_one_with_the_right_mean() {
    let bg = BgNbd {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };
    let mbg = MbgNbd {
        r: 0.525,
        alpha: 6.183,
        a: 0.891,
        b: 1.614,
    };
    // α > β and α < β take different branches of the Pareto/NBD formula.
    let pareto_a = ParetoNbd {
        r: 0.553,
        alpha: 10.578,
        s: 0.606,
        beta: 11.672,
    };
    let pareto_b = ParetoNbd {
        r: 1.3,
        alpha: 20.0,
        s: 1.7,
        beta: 6.0,
    };
    for t in [0.5, 10.0, 39.0, 150.0] {
        check_distribution("BG/NBD", &bg, t);
        check_distribution("MBG/NBD", &mbg, t);
        check_distribution("Pareto/NBD α<β", &pareto_a, t);
        check_distribution("Pareto/NBD α>β", &pareto_b, t);
    }
}

#[test]
fn predictions_stay_in_their_ranges() {
    let bg = BgNbd {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };
    let pareto = ParetoNbd {
        r: 0.553,
        alpha: 10.578,
        s: 0.606,
        beta: 11.672,
    };
    for row in data() {
        for m in [&bg as &dyn CountModel, &pareto] {
            let alive = m.p_alive(&row).unwrap();
            assert!((0.0..=1.0).contains(&alive));
            let e10 = m.expected_purchases(10.0, &row).unwrap();
            let e100 = m.expected_purchases(100.0, &row).unwrap();
            assert!(e10 >= 0.0 && e100 >= e10, "{row:?}: {e10} {e100}");
        }
    }
    // Customers with many purchases, long ago, push 2F1 to large parameters near z = 1.
    let heavy = Summary::new(5000.0, 20.0, 9000.0);
    let e = bg.expected_purchases(3650.0, &heavy).unwrap();
    assert!(e.is_finite() && e >= 0.0);
}
