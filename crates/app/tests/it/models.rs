//! `regulars models fit|predict` on the CDNOW summary and on broken input.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn cdnow() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models/tests/data/cdnow_customers_summary.csv")
}

fn regulars(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_regulars"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = regulars(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str]) -> String {
    let out = regulars(args);
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn fit_prints_parameters_errors_and_criteria() {
    let input = cdnow();
    let text = ok(&[
        "models",
        "fit",
        "--model",
        "bgnbd",
        "--input",
        input.to_str().unwrap(),
    ]);
    for needle in [
        "BG/NBD",
        "2357",
        "alpha",
        "std. error",
        "log-likelihood  -9582.42",
        "AIC",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let json: Value = serde_json::from_str(&ok(&[
        "models",
        "fit",
        "--model",
        "bgnbd",
        "--input",
        input.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .unwrap();
    let r = json["params"]["r"].as_f64().unwrap();
    assert!((r - 0.2426).abs() < 1e-3, "{json}");
    assert!(json["standard_errors"]["b"].as_f64().unwrap() > 0.0);
    let ll = json["log_likelihood"].as_f64().unwrap();
    assert!((json["aic"].as_f64().unwrap() - (8.0 - 2.0 * ll)).abs() < 1e-9);
    // A penalizer is passed through and lowers the unpenalised likelihood.
    let penalized: Value = serde_json::from_str(&ok(&[
        "models",
        "fit",
        "--model",
        "bgnbd",
        "--input",
        input.to_str().unwrap(),
        "--format",
        "json",
        "--penalizer",
        "0.1",
    ]))
    .unwrap();
    assert_eq!(penalized["penalizer"].as_f64(), Some(0.1));
    assert!(penalized["log_likelihood"].as_f64().unwrap() < ll);
}

#[test]
fn predict_adds_one_row_per_customer() {
    let input = cdnow();
    let csv = ok(&[
        "models",
        "predict",
        "--model",
        "pnbd",
        "--input",
        input.to_str().unwrap(),
        "--horizon",
        "39",
    ]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "customer_id,frequency,recency,T,expected_purchases,p_alive"
    );
    assert_eq!(lines.len(), 2358);
    let first: Vec<f64> = lines[1]
        .split(',')
        .skip(1)
        .map(|f| f.parse().unwrap())
        .collect();
    assert_eq!(&first[..3], &[2.0, 30.43, 38.86]);
    assert!(first[3] > 0.0 && (0.0..=1.0).contains(&first[4]));

    let json: Value = serde_json::from_str(&ok(&[
        "models",
        "predict",
        "--model",
        "gamma-gamma",
        "--input",
        input.to_str().unwrap(),
        "--horizon",
        "52",
        "--units-per-month",
        "4.345",
        "--format",
        "json",
    ]))
    .unwrap();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 2357);
    assert_eq!(rows[0]["customer_id"], "1");
    for row in rows {
        assert!(row["clv"].as_f64().unwrap() >= 0.0);
        assert!(row["expected_spend"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn errors_are_messages_and_a_failing_exit_code() {
    let dir = std::env::temp_dir().join(format!("regulars-models-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "customer_id,frequency,recency,T\nann,1,5,3\n").unwrap();
    let err = fails(&[
        "models",
        "fit",
        "--model",
        "bgnbd",
        "--input",
        bad.to_str().unwrap(),
    ]);
    assert!(err.contains("line 2, column recency"), "{err}");

    let once = dir.join("once.csv");
    std::fs::write(
        &once,
        "customer_id,frequency,recency,T\nann,0,0,3\nbob,0,0,9\n",
    )
    .unwrap();
    let err = fails(&[
        "models",
        "fit",
        "--model",
        "mbgnbd",
        "--input",
        once.to_str().unwrap(),
    ]);
    assert!(err.contains("no customer made a repeat purchase"), "{err}");

    let err = fails(&[
        "models",
        "fit",
        "--model",
        "bgnbd",
        "--input",
        "/no/such/file.csv",
    ]);
    assert!(err.contains("cannot read"), "{err}");

    let input = cdnow();
    let err = fails(&[
        "models",
        "predict",
        "--model",
        "bgnbd",
        "--input",
        input.to_str().unwrap(),
        "--horizon",
        "-3",
    ]);
    assert!(err.contains("--horizon"), "{err}");
    let err = fails(&[
        "models",
        "fit",
        "--model",
        "nope",
        "--input",
        input.to_str().unwrap(),
    ]);
    assert!(err.contains("invalid value"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
