use regulars_campaigns::attribution::{AttributionError, attribute};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 * b.abs().max(1.0)
}

#[test]
fn hand_computed_example() {
    // Treated: 10, 20, 30, 40 → mean 25, variance 166.667; hold-out: 10, 14, 18 → mean 14,
    // variance 16. SE = sqrt(166.667/4 + 16/3) = sqrt(47) = 6.8557.
    let a = attribute(&[10.0, 20.0, 30.0, 40.0], &[10.0, 14.0, 18.0], 0.5, 10.0).unwrap();
    assert!(close(a.treated_mean, 25.0));
    assert!(close(a.holdout_mean, 14.0));
    assert!(close(a.standard_error, 47f64.sqrt()));
    assert!(close(a.incremental_revenue, 44.0));
    let half_width = 1.959_963_984_540_054 * 47f64.sqrt() * 4.0; // 53.747
    assert!(close(a.ci_low, 44.0 - half_width));
    assert!(close(a.ci_high, 44.0 + half_width));
    assert!(close(a.ci_low, -9.747_344), "{}", a.ci_low);
    assert!(close(a.incremental_margin, 22.0));
    assert!(close(a.roi.unwrap(), 1.2));
    // Welch–Satterthwaite: 47² / (41.667²/3 + 5.333²/2) = 2209 / 592.926 = 3.7256.
    assert!(
        (a.degrees_of_freedom - 3.7256).abs() < 1e-3,
        "{}",
        a.degrees_of_freedom
    );
}

#[test]
fn no_cost_no_roi_and_small_groups_refused() {
    let a = attribute(&[1.0, 1.0], &[1.0, 1.0], 0.5, 0.0).unwrap();
    assert_eq!(a.roi, None);
    assert_eq!(a.incremental_revenue, 0.0);
    assert_eq!((a.ci_low, a.ci_high), (0.0, 0.0));
    assert!(matches!(
        attribute(&[1.0], &[1.0, 2.0], 0.5, 1.0),
        Err(AttributionError::TooFew {
            group: "treated",
            n: 1
        })
    ));
    assert!(matches!(
        attribute(&[1.0, 2.0], &[], 0.5, 1.0),
        Err(AttributionError::TooFew { .. })
    ));
    assert!(attribute(&[1.0, f64::NAN], &[1.0, 2.0], 0.5, 1.0).is_err());
    assert!(attribute(&[1.0, 2.0], &[1.0, 2.0], 1.5, 1.0).is_err());
}

#[test]
fn the_roi_interval_follows_the_revenue_interval_and_says_when_it_is_chance() {
    // Wide spread, small groups: the interval straddles zero.
    let a = attribute(&[0.0, 100.0, 0.0, 90.0], &[0.0, 80.0, 10.0], 0.5, 10.0).unwrap();
    assert!(!a.is_significant(), "{a:?}");
    let (low, high) = a.roi_interval(0.5).unwrap();
    assert!(
        low < a.roi.unwrap() && a.roi.unwrap() < high,
        "{low} {high} {a:?}"
    );
    assert!((low - (a.ci_low * 0.5 - 10.0) / 10.0).abs() < 1e-9);
    assert!((high - (a.ci_high * 0.5 - 10.0) / 10.0).abs() < 1e-9);
    // A clear lift: the interval is above zero.
    let b = attribute(&[50.0, 52.0, 51.0, 49.0], &[10.0, 11.0, 9.0], 0.5, 10.0).unwrap();
    assert!(b.is_significant(), "{b:?}");
    // Nothing spent: no ROI and no interval.
    let c = attribute(&[1.0, 2.0], &[1.0, 2.0], 0.5, 0.0).unwrap();
    assert_eq!(c.roi_interval(0.5), None);
}
