//! Simulate from known parameters (exact continuous time), fit back, land close.

use regulars_models::simulate::{self, Cohorts};
use regulars_models::{BgNbd, FitOptions, GammaGamma, MbgNbd, Parameters, ParetoNbd};

const COHORTS: Cohorts = Cohorts {
    min: 30.0,
    max: 400.0,
    step: 0.0,
};

fn assert_recovered(
    name: &str,
    names: &[&str],
    got: &[f64],
    want: &[f64],
    se: Option<&[f64]>,
    rel: f64,
) {
    for i in 0..want.len() {
        let err = (got[i] - want[i]).abs() / want[i];
        assert!(
            err < rel,
            "{name} {}: fitted {} vs true {} ({:.1} %)",
            names[i],
            got[i],
            want[i],
            100.0 * err
        );
        if let Some(se) = se {
            // Within four standard errors as well: the SEs are of the right size.
            assert!(
                (got[i] - want[i]).abs() < 4.0 * se[i],
                "{name} {}: {} ± {} vs {}",
                names[i],
                got[i],
                se[i],
                want[i]
            );
        }
    }
}

#[test]
fn bgnbd_recovers_its_parameters() {
    let truth = BgNbd {
        r: 0.5,
        alpha: 20.0,
        a: 0.8,
        b: 2.5,
    };
    let rows = simulate::bgnbd(&truth, 30_000, &COHORTS, 2005);
    let fitted = BgNbd::fit(&rows, &FitOptions::default()).unwrap();
    let se = fitted.stats.standard_errors.clone().unwrap();
    assert_recovered(
        "BG/NBD",
        BgNbd::NAMES,
        &fitted.model.values(),
        &truth.values(),
        Some(&se),
        0.15,
    );
}

#[test]
fn mbgnbd_recovers_its_parameters() {
    let truth = MbgNbd {
        r: 0.5,
        alpha: 20.0,
        a: 0.8,
        b: 2.5,
    };
    let rows = simulate::mbgnbd(&truth, 30_000, &COHORTS, 2007);
    let fitted = MbgNbd::fit(&rows, &FitOptions::default()).unwrap();
    let se = fitted.stats.standard_errors.clone().unwrap();
    assert_recovered(
        "MBG/NBD",
        MbgNbd::NAMES,
        &fitted.model.values(),
        &truth.values(),
        Some(&se),
        0.15,
    );
}

#[test]
fn pareto_nbd_recovers_its_parameters() {
    let truth = ParetoNbd {
        r: 0.6,
        alpha: 15.0,
        s: 0.8,
        beta: 60.0,
    };
    let rows = simulate::pareto_nbd(&truth, 6_000, &COHORTS, 1987);
    let fitted = ParetoNbd::fit(&rows, &FitOptions::default()).unwrap();
    let se = fitted.stats.standard_errors.clone().unwrap();
    assert_recovered(
        "Pareto/NBD",
        ParetoNbd::NAMES,
        &fitted.model.values(),
        &truth.values(),
        Some(&se),
        0.3,
    );
}

#[test]
fn gamma_gamma_recovers_its_parameters() {
    let truth = GammaGamma {
        p: 4.0,
        q: 5.0,
        v: 30.0,
    };
    let counts = BgNbd {
        r: 1.5,
        alpha: 20.0,
        a: 0.8,
        b: 2.5,
    };
    let mut rows = simulate::bgnbd(&counts, 30_000, &COHORTS, 3);
    simulate::add_spend(&truth, &mut rows, 4);
    let fitted = GammaGamma::fit(&rows, &FitOptions::default()).unwrap();
    let se = fitted.stats.standard_errors.clone().unwrap();
    assert_recovered(
        "Gamma-Gamma",
        GammaGamma::NAMES,
        &fitted.model.values(),
        &truth.values(),
        Some(&se),
        0.15,
    );
}

#[test]
fn grouping_makes_the_fit_cost_follow_distinct_rows() {
    let truth = BgNbd {
        r: 0.5,
        alpha: 20.0,
        a: 0.8,
        b: 2.5,
    };
    let weekly = Cohorts {
        min: 30.0,
        max: 400.0,
        step: 7.0,
    };
    let rows = simulate::bgnbd(&truth, 50_000, &weekly, 9);
    let fitted = BgNbd::fit(&rows, &FitOptions::default()).unwrap();
    assert_eq!(fitted.stats.observations, 50_000.0);
    assert!(
        fitted.stats.distinct_rows < 15_000,
        "{} distinct rows",
        fitted.stats.distinct_rows
    );
    // Grouping does not change the estimate: the same rows, pre-grouped, fit the same.
    let grouped = regulars_models::summary::group_counts(&rows);
    let again = BgNbd::fit(&grouped, &FitOptions::default()).unwrap();
    for (a, b) in fitted.model.values().iter().zip(again.model.values()) {
        assert!((a - b).abs() < 1e-6 * a, "{a} vs {b}");
    }
}
