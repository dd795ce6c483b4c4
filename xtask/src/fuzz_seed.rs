//! Data the deep fuzzing run starts from: a customer with points, a reward, vouchers, an
//! order, an integration, made through the API before schemathesis runs, and a
//! schemathesis configuration that offers their identifiers to the operations that need
//! them, for part of the cases (the rest stay generated).
//!
//! Links carry identifiers within the stateful phase only; in the other phases an
//! operation such as `GET /v1/orders/{id}` or `POST /v1/vouchers/{code}/redeem` would
//! otherwise meet nothing but made-up ids and codes (404, or 422 for a code whose check
//! symbol is wrong) and never be tested past them. This is what schemathesis' own advice
//! says to do ("supply the identifiers in your config file").

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How often a seeded value replaces a generated one.
const PROBABILITY: f64 = 0.6;

/// One JSON request to the server; the status and the JSON body of the answer.
fn call(base: &str, key: &str, method: &str, path: &str, body: &Value) -> Result<(u16, Value)> {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).with_context(|| format!("connect {address}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let text = body.to_string();
    // HTTP/1.0: one request per connection and a body that ends with it.
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
        text.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let (head, rest) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let json = serde_json::from_str(rest).unwrap_or(Value::Null);
    Ok((status, json))
}

fn expect(answer: (u16, Value), status: u16, what: &str) -> Result<Value> {
    if answer.0 != status {
        bail!(
            "seeding the fuzz run: {what} answered {} {}",
            answer.0,
            answer.1
        );
    }
    Ok(answer.1)
}

fn text(value: &Value, pointer: &str) -> Result<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("no {pointer} in {value}"))
}

/// What was made, by the dictionary name the configuration gives it.
#[derive(Debug, Default)]
pub struct Seeds {
    entries: Vec<(&'static str, Vec<String>)>,
}

/// Makes the data through the API of the server at `base`.
pub fn seed(base: &str, key: &str) -> Result<Seeds> {
    let post = |path: &str, body: Value, status: u16, what: &str| {
        expect(call(base, key, "POST", path, &body)?, status, what)
    };
    let phone = "0912345678";
    let customer = post(
        "/v1/customers",
        json!({"phone": phone, "name": "Seeded regular"}),
        201,
        "a customer",
    )?;
    let customer_id = text(&customer, "/id")?;
    post(
        &format!("/v1/customers/{customer_id}/adjustments"),
        json!({"points": 1_000_000, "reason": "fuzzing"}),
        201,
        "points",
    )?;
    let reward = post(
        "/v1/rewards",
        json!({"name": "Seeded tea", "cost": 1, "kind": {"type": "free_item", "sku": "TS-OOLONG"},
               "validity_days": 30}),
        201,
        "a reward",
    )?;
    let reward_id = text(&reward, "/id")?;
    let mut codes = Vec::new();
    for _ in 0..5 {
        let voucher = post(
            &format!("/v1/customers/{customer_id}/redemptions"),
            json!({"reward_id": reward_id}),
            201,
            "a voucher",
        )?;
        codes.push(text(&voucher, "/code")?);
    }
    let mut orders = Vec::new();
    let mut external = Vec::new();
    for i in 1..=5 {
        let order_id = format!("SEED-{i}");
        let receipt = post(
            "/v1/orders",
            json!({"order_id": order_id, "customer_phone": phone, "placed_at": "2025-06-01T08:00:00Z",
                   "lines": [{"sku": "TS-OOLONG", "name": "Oolong", "quantity": 2, "unit_price": "45000"}],
                   "total": "90000"}),
            200,
            "an order",
        )?;
        orders.push(text(&receipt, "/order_id")?);
        external.push(order_id);
    }
    let integration = post(
        "/v1/integrations",
        json!({"kind": "generic"}),
        201,
        "an integration",
    )?;
    let campaign = post(
        "/v1/campaigns",
        json!({"name": "Seeded broadcast", "trigger": {"type": "broadcast"}}),
        201,
        "a campaign",
    )?;
    post("/v1/scoring/runs", json!({}), 201, "a scoring run")?;
    Ok(Seeds {
        entries: vec![
            ("customer_ids", vec![customer_id]),
            ("phones", vec![phone.to_owned()]),
            ("reward_ids", vec![reward_id]),
            ("voucher_codes", codes),
            ("order_ids", orders),
            ("order_external_ids", external),
            (
                "integration_ids",
                vec![text(&integration, "/integration/id")?],
            ),
            ("campaign_ids", vec![text(&campaign, "/id")?]),
        ],
    })
}

/// Which parameter of which operation draws from which dictionary, and how often.
type Binding = (&'static str, &'static str, &'static str, f64);
const BINDINGS: &[Binding] = &[
    ("GET /v1/orders/{id}", "path.id", "order_ids", PROBABILITY),
    (
        "POST /v1/refunds",
        "body.order_id",
        "order_external_ids",
        PROBABILITY,
    ),
    (
        "GET /v1/customers/lookup",
        "query.phone",
        "phones",
        PROBABILITY,
    ),
    (
        "GET /v1/customers/{id}/scores",
        "path.id",
        "customer_ids",
        PROBABILITY,
    ),
    (
        "POST /v1/customers/{id}/redemptions",
        "path.id",
        "customer_ids",
        PROBABILITY,
    ),
    (
        "POST /v1/customers/{id}/redemptions",
        "body.reward_id",
        "reward_ids",
        PROBABILITY,
    ),
    (
        "GET /v1/vouchers/{code}",
        "path.code",
        "voucher_codes",
        PROBABILITY,
    ),
    (
        "POST /v1/vouchers/{code}/redeem",
        "path.code",
        "voucher_codes",
        PROBABILITY,
    ),
    (
        "POST /webhooks/{integration}",
        "path.integration",
        "integration_ids",
        PROBABILITY,
    ),
    (
        "POST /v1/campaigns/{id}/launch",
        "path.id",
        "campaign_ids",
        PROBABILITY,
    ),
    (
        "POST /v1/campaigns/{id}/pause",
        "path.id",
        "campaign_ids",
        PROBABILITY,
    ),
    (
        "POST /v1/campaigns/{id}/end",
        "path.id",
        "campaign_ids",
        PROBABILITY,
    ),
];

impl Seeds {
    /// The schemathesis configuration (TOML) binding the seeded values.
    pub fn config(&self) -> String {
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut toml = String::new();
        for (name, values) in &self.entries {
            let list: Vec<String> = values.iter().map(|v| quote(v)).collect();
            toml.push_str(&format!(
                "[dictionaries.{name}]\nvalues = [{}]\n\n",
                list.join(", ")
            ));
        }
        let mut operations: Vec<&str> = BINDINGS.iter().map(|b| b.0).collect();
        operations.dedup();
        for operation in operations {
            let bound: Vec<String> = BINDINGS
                .iter()
                .filter(|b| b.0 == operation)
                .map(|(_, parameter, dictionary, probability)| {
                    format!(
                        "{} = {{ dictionary = {}, probability = {probability:?} }}",
                        quote(parameter),
                        quote(dictionary)
                    )
                })
                .collect();
            toml.push_str(&format!(
                "[[operations]]\ninclude-name = {}\nparameters = {{ {} }}\n\n",
                quote(operation),
                bound.join(", ")
            ));
        }
        toml
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_binds_every_dictionary_it_names() {
        let seeds = Seeds {
            entries: vec![("order_ids", vec!["x\"y".to_owned()])],
        };
        let toml = seeds.config();
        assert!(toml.contains(r#"values = ["x\"y"]"#), "{toml}");
        assert!(toml.contains(
            r#"include-name = "GET /v1/orders/{id}"
parameters = { "path.id" = { dictionary = "order_ids", probability = 0.6 } }"#
        ));
        // One entry per operation, with all its bindings.
        assert_eq!(
            toml.matches(r#"include-name = "POST /v1/customers/{id}/redemptions""#)
                .count(),
            1
        );
        assert!(toml.contains(r#""body.reward_id" = { dictionary = "reward_ids""#));
    }
}
