//! Data that cannot determine the models: typed errors or sane fits, never NaN.

use regulars_models::{
    BgNbd, CountModel, FitOptions, GammaGamma, MbgNbd, ModelError, ParetoNbd, Summary,
};

fn all_count_fits(rows: &[Summary], options: &FitOptions) -> Vec<Result<Vec<f64>, ModelError>> {
    use regulars_models::Parameters;
    vec![
        BgNbd::fit(rows, options).map(|f| f.model.values()),
        MbgNbd::fit(rows, options).map(|f| f.model.values()),
        ParetoNbd::fit(rows, options).map(|f| f.model.values()),
    ]
}

#[test]
fn empty_input_is_no_data() {
    for fit in all_count_fits(&[], &FitOptions::default()) {
        assert_eq!(fit, Err(ModelError::NoData));
    }
    assert_eq!(
        GammaGamma::fit(&[], &FitOptions::default()).map(|f| f.model),
        Err(ModelError::NoData)
    );
}

#[test]
fn only_one_time_buyers_is_a_typed_error() {
    let rows: Vec<Summary> = (0..50)
        .map(|i| Summary::new(0.0, 0.0, 10.0 + f64::from(i)))
        .collect();
    for fit in all_count_fits(&rows, &FitOptions::default()) {
        assert_eq!(fit, Err(ModelError::NoRepeatPurchases));
    }
    assert_eq!(
        GammaGamma::fit(&rows, &FitOptions::default()).map(|f| f.model),
        Err(ModelError::NoSpendData)
    );
}

#[test]
fn zero_observation_time_everywhere_is_a_typed_error() {
    let rows = vec![Summary::new(0.0, 0.0, 0.0); 3];
    for fit in all_count_fits(&rows, &FitOptions::default()) {
        assert_eq!(fit, Err(ModelError::NoObservationTime));
    }
}

#[test]
fn some_zero_observation_times_are_fine() {
    let truth = regulars_models::ParetoNbd {
        r: 0.6,
        alpha: 15.0,
        s: 0.8,
        beta: 60.0,
    };
    let cohorts = regulars_models::simulate::Cohorts {
        min: 0.0,
        max: 200.0,
        step: 1.0,
    };
    let mut rows = regulars_models::simulate::pareto_nbd(&truth, 800, &cohorts, 5);
    rows.extend(std::iter::repeat_n(Summary::new(0.0, 0.0, 0.0), 30));
    for fit in all_count_fits(&rows, &FitOptions::default()) {
        let values = fit.unwrap();
        assert!(
            values.iter().all(|v| v.is_finite() && *v > 0.0),
            "{values:?}"
        );
    }
}

#[test]
fn one_customer_is_an_error_or_a_finite_fit() {
    let rows = [Summary::new(3.0, 20.0, 30.0)];
    for fit in all_count_fits(&rows, &FitOptions::default()) {
        match fit {
            Ok(values) => assert!(values.iter().all(|v| v.is_finite() && *v > 0.0)),
            Err(ModelError::NotIdentified { .. } | ModelError::NoConvergence(_)) => {}
            Err(other) => panic!("unexpected error {other}"),
        }
    }
}

#[test]
fn invalid_rows_are_named() {
    let rows = [Summary::new(1.0, 0.0, 10.0), Summary::new(2.0, 12.0, 10.0)];
    let err = BgNbd::fit(&rows, &FitOptions::default()).unwrap_err();
    assert!(err.to_string().starts_with("row 0"), "{err}");
    let rows = [Summary::new(1.5, 3.0, 10.0)];
    assert!(matches!(
        BgNbd::fit(&rows, &FitOptions::default()),
        Err(ModelError::Invalid(_))
    ));
    let negative = FitOptions {
        penalizer: -1.0,
        ..FitOptions::default()
    };
    assert!(matches!(
        BgNbd::fit(&[Summary::new(1.0, 3.0, 10.0)], &negative),
        Err(ModelError::Domain(_))
    ));
}

#[test]
fn predictions_refuse_bad_horizons() {
    let m = BgNbd {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };
    let c = Summary::new(1.0, 2.0, 3.0);
    assert!(matches!(
        m.expected_purchases(-1.0, &c),
        Err(ModelError::Domain(_))
    ));
    assert!(matches!(
        m.expected_purchases(f64::NAN, &c),
        Err(ModelError::Domain(_))
    ));
    assert_eq!(m.expected_purchases(0.0, &c).unwrap(), 0.0);
    let spend = GammaGamma {
        p: 1.0,
        q: 0.5,
        v: 1.0,
    };
    assert!(matches!(
        spend.expected_spend(&Summary::new(0.0, 0.0, 3.0)),
        Err(ModelError::Domain(_))
    ));
}

#[test]
fn nelder_mead_takes_over_when_lbfgs_stops_short() {
    use regulars_models::{Method, Parameters};
    let truth = BgNbd {
        r: 0.5,
        alpha: 20.0,
        a: 0.8,
        b: 2.5,
    };
    let cohorts = regulars_models::simulate::Cohorts {
        min: 30.0,
        max: 300.0,
        step: 1.0,
    };
    let rows = regulars_models::simulate::bgnbd(&truth, 2_000, &cohorts, 17);
    // Two L-BFGS iterations cannot reach a stationary point; the simplex carries on from
    // the start and must end better than where it began.
    let options = FitOptions {
        max_iters: 2,
        ..FitOptions::default()
    };
    let fitted = BgNbd::fit(&rows, &options).unwrap();
    assert_eq!(fitted.stats.method, Method::NelderMead);
    let start = BgNbd::from_values(&[1.0, 1.0, 1.0, 1.0]);
    let (at_start, _) = start.log_likelihood(&rows).unwrap();
    assert!(fitted.stats.log_likelihood > at_start);
    // With room to work, L-BFGS finishes the job itself.
    let full = BgNbd::fit(&rows, &FitOptions::default()).unwrap();
    assert_eq!(full.stats.method, Method::Lbfgs);
    assert!(full.stats.log_likelihood >= fitted.stats.log_likelihood);
}
