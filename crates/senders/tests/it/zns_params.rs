//! ZNS template parameters checked against Zalo's documented types and limits, with the
//! documents' own examples (`tests/fixtures/README.md` names the sources).

use regulars_domain::zns::{ZnsParamType, is_param_name};
use serde_json::Value;

fn fixture() -> Value {
    let text = include_str!("../fixtures/zns_template_params.json");
    serde_json::from_str(text).unwrap()
}

fn kind(v: &Value) -> ZnsParamType {
    serde_json::from_value(v["type"].clone()).unwrap()
}

#[test]
fn the_documented_examples_fit_their_types() {
    let f = fixture();
    for (name, param) in f["params"].as_object().unwrap() {
        assert!(is_param_name(name), "{name}");
        let value = param["value"].as_str().unwrap();
        assert_eq!(kind(param).check(value), Ok(()), "{name}: {value}");
    }
}

#[test]
fn the_documented_counter_examples_are_refused() {
    let f = fixture();
    for (name, value) in f["refused"].as_object().unwrap() {
        let param = &f["params"][name];
        let value = value.as_str().unwrap();
        assert!(
            kind(param).check(value).is_err(),
            "{name}: {value:?} passed"
        );
    }
}
