//! Schemas of the request documents whose Rust types live in pure crates (earning rules,
//! tiers, rewards' kinds, campaigns) or in the POS adapter (the generic order and refund).
//!
//! Those crates stay free of `utoipa` (no I/O, no web concerns), and the API keeps one
//! Rust type per concept, so these schemas are written here, by hand, as JSON Schema.
//! They describe what the server accepts: every required field, the enums, formats and
//! the ranges validation enforces. Rules JSON Schema cannot say (ascending tier
//! thresholds, a reward named by an offer existing in the catalogue) are in the
//! descriptions; the server answers 422 naming the field when one is broken.
//! `docs/rules.md`, `docs/pos.md` and `docs/campaigns.md` are the prose references.

use serde_json::{Value, json};
use utoipa::openapi::{Ref, RefOr, Schema};

/// The schemas this module adds, by component name.
pub(super) fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("Amount", amount()),
        ("RewardKind", reward_kind()),
        ("EarningRules", earning_rules()),
        ("TierProgram", tier_program()),
        ("OrderIn", order()),
        ("OrderLineIn", order_line()),
        ("RefundIn", refund()),
        ("CampaignDocument", campaign()),
    ]
}

/// Which operations take which of them as their body: (path, method, schema, required).
pub(super) const BODIES: &[(&str, &str, &str, bool)] = &[
    ("/v1/orders", "post", "OrderIn", true),
    ("/v1/refunds", "post", "RefundIn", true),
    ("/v1/program/earning-rules", "put", "EarningRules", true),
    ("/v1/program/tiers", "put", "TierProgram", true),
    ("/v1/campaigns", "post", "CampaignDocument", true),
    ("/v1/campaigns/{id}", "put", "CampaignDocument", true),
];

/// `RewardDto.kind`: a reference to [`reward_kind`].
pub(crate) fn reward_kind_ref() -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name("RewardKind"))
}

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A moment in RFC 3339 form. Documented in UTC from 2000 to 2025 (the server takes any
/// offset, and refuses a moment later than now beyond a little clock skew).
fn moment() -> Value {
    json!({"type": "string", "example": "2025-05-06T08:10:00Z",
           "pattern": "^20(0[0-9]|1[0-9]|2[0-5])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$",
           "description": "RFC 3339, e.g. `2025-05-06T08:10:00Z`; not in the future."})
}

/// A plain identifier: what POS systems use as order and refund ids.
fn id() -> Value {
    json!({"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$", "example": "Q1-20260506-0042"})
}

fn label() -> Value {
    json!({"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9 ]{0,39}$", "description": "Shown in explanations."})
}

fn sku() -> Value {
    json!({"type": "string", "pattern": "^[A-Z0-9][A-Z0-9-]{0,31}$", "example": "TS-OOLONG"})
}

fn points(min: i64, max: i64) -> Value {
    json!({"type": "integer", "minimum": min, "maximum": max})
}

/// A decimal amount in major units, written as a string (`"45000"`) or a whole number.
fn amount() -> Value {
    json!({
        "description": "An amount in the brand currency's major units, as a decimal string (`\"45000\"`, `\"19.99\"`) or a JSON number; never negative, with no more decimals than the currency has (none for VND). Documented here as whole amounts.",
        "oneOf": [
            {"type": "string", "pattern": "^[0-9]{1,9}$"},
            {"type": "integer", "minimum": 0, "maximum": 999_999_999_i64}
        ],
        "example": "45000"
    })
}

fn money_text(min: i64) -> Value {
    json!({"type": "string", "pattern": if min > 0 { "^[1-9][0-9]{0,8}$" } else { "^[0-9]{1,9}$" }})
}

/// What a reward gives (`docs/rules.md`). Amounts are `{"amount", "currency"}` in the
/// brand's currency.
fn reward_kind() -> Value {
    let money = |min: i64| {
        json!({
            "type": "object", "additionalProperties": false, "required": ["amount", "currency"],
            "properties": {
                "amount": money_text(min),
                "currency": {"type": "string", "enum": ["VND", "USD"], "description": "The brand's currency; another one is refused.", "example": "VND"}
            }
        })
    };
    json!({
        "description": "What a reward gives: a free item or modifier by SKU, a fixed discount, or a percentage off (at most 100, optionally capped).",
        "oneOf": [
            {"type": "object", "additionalProperties": false, "required": ["type", "sku"],
             "properties": {"type": {"type": "string", "enum": ["free_item", "free_modifier"]}, "sku": sku()}},
            {"type": "object", "additionalProperties": false, "required": ["type", "amount"],
             "properties": {"type": {"type": "string", "enum": ["fixed_discount"]}, "amount": money(1)}},
            {"type": "object", "additionalProperties": false, "required": ["type", "percent"],
             "properties": {"type": {"type": "string", "enum": ["percent_discount"]},
                            "percent": {"type": "string", "pattern": "^([1-9][0-9]?|100)(\\.[0-9]{1,2})?$", "description": "More than 0, at most 100."},
                            "cap": {"oneOf": [money(1), {"type": "null"}]}}}
        ]
    })
}

fn conditions() -> Value {
    json!({
        "type": "object", "additionalProperties": false,
        "description": "All given conditions must hold; within a list (not empty, no repeats), any entry matches.",
        "properties": {
            "tiers": {"type": "array", "minItems": 1, "maxItems": 5, "uniqueItems": true, "items": {"type": "string", "pattern": "^[a-z0-9_-]{1,32}$"}},
            "weekdays": {"type": "array", "minItems": 1, "maxItems": 7, "uniqueItems": true, "items": {"type": "string", "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}},
            "hours": {"type": "object", "additionalProperties": false, "required": ["from", "to"],
                      "description": "Local time window `HH:MM`, `from` included, `to` excluded; they differ, and `to` earlier than `from` crosses midnight. Documented here as a morning-to-afternoon window.",
                      "properties": {"from": {"type": "string", "pattern": "^(0[0-9]|1[01]):[0-5][0-9]$"},
                                     "to": {"type": "string", "pattern": "^(1[2-9]|2[0-3]):[0-5][0-9]$"}}},
            "locations": {"type": "array", "minItems": 1, "maxItems": 5, "uniqueItems": true, "items": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}},
            "birthday": {"type": "boolean"}
        }
    })
}

/// The earning-rules document (`docs/rules.md`).
fn earning_rules() -> Value {
    let cap = json!({"type": "object", "additionalProperties": false, "required": ["points"],
                     "properties": {"label": label(), "points": points(0, 1_000_000_000_000)}});
    json!({
        "type": "object", "additionalProperties": false,
        "description": "A brand's earning rules. `currency` may be given too: it must be the brand's, which is filled in when it is left out (so it is left out here). Every list holds at most 100 rules.",
        "properties": {
            "base": {"type": "object", "additionalProperties": false, "required": ["per_amount", "points", "rounding"],
                     "properties": {"label": label(), "per_amount": money_text(1), "points": points(1, 1_000_000),
                                    "rounding": {"type": "string", "enum": ["floor", "nearest", "ceil"]}}},
            "minimum_spend": {"type": "object", "additionalProperties": false, "required": ["amount"],
                              "properties": {"label": label(), "amount": money_text(0)}},
            "product_bonuses": {"type": "array", "maxItems": 5, "items": {
                "type": "object", "additionalProperties": false, "required": ["sku", "points_per_unit"],
                "description": "Exactly one of `sku` and `category`; documented here by SKU.",
                "properties": {"label": label(), "sku": sku(), "points_per_unit": points(1, 1_000_000)}}},
            "multipliers": {"type": "array", "maxItems": 3, "items": {
                "type": "object", "additionalProperties": false, "required": ["factor"],
                "properties": {"label": label(),
                               "factor": {"type": "string", "pattern": "^[1-9](\\.[0-9]{1,2})?$", "description": "Above 0, at most 100 (documented here below 10); with `multiply` stacking the product of the factors above 1 at most 1000."},
                               "when": conditions()}}},
            "stacking": {"type": "string", "enum": ["highest", "multiply"]},
            "visit_bonuses": {"type": "array", "maxItems": 5, "items": {"oneOf": [
                {"type": "object", "additionalProperties": false, "required": ["kind", "points"],
                 "properties": {"kind": {"type": "string", "enum": ["first_visit"]}, "label": label(), "points": points(1, 1_000_000)}},
                {"type": "object", "additionalProperties": false, "required": ["kind", "visit", "points"],
                 "properties": {"kind": {"type": "string", "enum": ["nth_visit"]}, "label": label(),
                                "visit": {"type": "integer", "minimum": 1, "maximum": 1000}, "points": points(1, 1_000_000)}},
                {"type": "object", "additionalProperties": false, "required": ["kind", "every", "points"],
                 "properties": {"kind": {"type": "string", "enum": ["every_nth_visit"]}, "label": label(),
                                "every": {"type": "integer", "minimum": 1, "maximum": 1000}, "points": points(1, 1_000_000)}}
            ]}},
            "order_cap": cap.clone(),
            "day_cap": cap
        }
    })
}

/// The tier programme document (`docs/rules.md`), or `null` to remove it.
fn tier_program() -> Value {
    json!({
        "description": "A tier programme, or null to remove it. Tiers are listed lowest first with strictly rising thresholds and distinct codes; the brand needs earning rules first.",
        "oneOf": [
            {"type": "null"},
            {"type": "object", "additionalProperties": false, "required": ["metric", "window_days", "review_period", "tiers"],
             "properties": {
                "metric": {"type": "object", "additionalProperties": false, "required": ["kind"],
                           "description": "`{\"kind\": \"points\"}` or `{\"kind\": \"spend\", \"currency\"}`; documented here as points.",
                           "properties": {"kind": {"type": "string", "enum": ["points"]}}},
                "window_days": {"type": "integer", "minimum": 1, "maximum": 730},
                "review_period": {"type": "string", "enum": ["month", "quarter", "year"]},
                "tiers": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
                    "type": "object", "additionalProperties": false, "required": ["code", "name", "threshold", "benefits"],
                    "properties": {
                        "code": {"type": "string", "pattern": "^[a-z0-9_-]{1,32}$"},
                        "name": {"type": "string", "pattern": "^[A-Za-z][A-Za-z ]{0,31}$"},
                        "threshold": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
                        "benefits": {"type": "object", "additionalProperties": false, "required": ["earn_multiplier"],
                                     "properties": {"earn_multiplier": {"type": "string", "pattern": "^[1-9](\\.[0-9]{1,2})?$"},
                                                    "perks": {"type": "array", "maxItems": 3, "items": {"type": "string", "pattern": "^[A-Za-z][A-Za-z ]{0,31}$"}}}}
                    }}}
             }}
        ]
    })
}

fn order_line() -> Value {
    let price = r("Amount");
    json!({
        "type": "object", "additionalProperties": false, "required": ["sku", "name", "quantity", "unit_price"],
        "properties": {
            "sku": sku(),
            "name": {"type": "string", "maxLength": 60},
            "category": {"type": ["string", "null"], "pattern": "^[a-z-]{1,20}$"},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 100},
            "unit_price": price,
            "modifiers": {"type": "array", "maxItems": 3, "items": {
                "type": "object", "additionalProperties": false, "required": ["sku", "name", "unit_price"],
                "properties": {"sku": sku(), "name": {"type": "string", "maxLength": 60}, "unit_price": r("Amount")}}}
        }
    })
}

/// An order in the generic POS format (`docs/pos.md`): the `data` of `order.paid`.
fn order() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["order_id", "placed_at", "lines", "total"],
        "description": "An order in the generic POS format. `order_id` is the POS's own id (the same id twice answers the first receipt with `duplicate: true`). An optional `currency` must be the brand's. The total is what was paid; it need not equal the sum of the lines.",
        "properties": {
            "order_id": id(),
            "location": {"type": ["string", "null"], "pattern": "^[A-Za-z0-9._-]{1,64}$"},
            "customer_phone": {"type": ["string", "null"], "pattern": "^0[35789][0-9]{8}$", "description": "Any common form; credits (and registers) the customer."},
            "placed_at": moment(),
            "lines": {"type": "array", "minItems": 1, "maxItems": 10, "items": r("OrderLineIn"), "description": "1 to 500 lines."},
            "total": r("Amount")
        }
    })
}

/// A refund in the generic POS format: the `data` of `order.refunded`.
fn refund() -> Value {
    let common = |scope: Value| {
        let mut properties = json!({
            "refund_id": id(),
            "order_id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$", "description": "The refunded order's `order_id`."},
            "refunded_at": moment()
        });
        if let (Some(map), Value::Object(extra)) = (properties.as_object_mut(), scope) {
            map.extend(extra);
        }
        properties
    };
    json!({
        "description": "A refund of an order posted before: either `\"full\": true` or an `amount` (more than zero). An optional `currency` must be the brand's. A refund id seen before answers the first receipt.",
        "oneOf": [
            {"type": "object", "additionalProperties": false, "required": ["refund_id", "order_id", "refunded_at", "full"],
             "properties": common(json!({"full": {"type": "boolean", "enum": [true]}}))},
            {"type": "object", "additionalProperties": false, "required": ["refund_id", "order_id", "refunded_at", "amount"],
             "properties": common(json!({"full": {"type": "boolean", "enum": [false]},
                                         "amount": {"oneOf": [{"type": "string", "pattern": "^[1-9][0-9]{0,8}$"}, {"type": "integer", "minimum": 1, "maximum": 999_999_999_i64}]}}))}
        ]
    })
}

/// A campaign document (`docs/campaigns.md`); the server sets `id`, and `shop`,
/// `currency` and `utc_offset` default to the brand's.
fn campaign() -> Value {
    let typed = |name: &str, required: &[&str], extra: Value| {
        let mut properties = json!({"type": {"type": "string", "enum": [name]}});
        if let (Some(map), Value::Object(extra)) = (properties.as_object_mut(), extra) {
            map.extend(extra);
        }
        let mut req = vec!["type"];
        req.extend_from_slice(required);
        json!({"type": "object", "additionalProperties": false, "required": req, "properties": properties})
    };
    json!({
        "type": "object", "additionalProperties": false, "required": ["name", "trigger"],
        "description": "A campaign document. Left out here, documented in docs/campaigns.md: `audience` (a segment rule), `offer` of type `fixed` or `personalised` (rewards of the catalogue by `reward_id` with their `cost`; the `bonus_points` offer is described here), `budget`, `policy`, `zalo_template`, `shop`, `currency` and `utc_offset` (the brand's by default; another currency is refused).",
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9 -]{0,39}$"},
            "trigger": {"oneOf": [
                typed("after_purchase", &[], json!({"within_hours": {"type": "integer", "minimum": 1, "maximum": 168}})),
                typed("birthday", &[], json!({"days_before": {"type": "integer", "minimum": 0, "maximum": 30}})),
                typed("overdue", &[], json!({"factor": {"type": "number", "exclusiveMinimum": 0, "maximum": 10}})),
                typed("p_alive_below", &["threshold"], json!({"threshold": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}})),
                typed("tier_upgrade", &[], json!({"within_days": {"type": "integer", "minimum": 1, "maximum": 90}})),
                typed("points_expiring", &["within_days"], json!({"within_days": {"type": "integer", "minimum": 1, "maximum": 90}})),
                typed("broadcast", &[], json!({})),
                typed("welcome", &[], json!({"within_days": {"type": "integer", "minimum": 1, "maximum": 90}})),
                typed("reward_affordable", &[], json!({})),
                typed("reward_nearly", &["points_away"], json!({"points_away": {"type": "integer", "minimum": 1, "maximum": 100000}})),
                typed("voucher_expiring", &["days_before"], json!({"days_before": {"type": "integer", "minimum": 1, "maximum": 90}})),
                typed("tier_down", &[], json!({"within_days": {"type": "integer", "minimum": 1, "maximum": 90}}))
            ]},
            "offer": {"oneOf": [
                typed("bonus_points", &["points"], json!({"points": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "description": "Points credited to the customer when the message is sent, once per message; they cost the programme's `point_value` each."}}))
            ]},
            "template": {"type": "string", "pattern": "^(\\{\\{name\\}\\} )?[A-Za-z][A-Za-z ,.!]{0,59}$", "description": "The message; placeholders such as `{{name}}` and `{{shop}}` (and `{{reward}}`, `{{code}}` with an offer)."},
            "channels": {"type": "array", "minItems": 1, "maxItems": 3, "uniqueItems": true, "items": {"type": "string", "enum": ["zalo", "sms", "email"]}},
            "send_time": {"oneOf": [
                typed("now", &[], json!({})),
                typed("preferred_hour", &[], json!({"fallback_hour": {"type": ["integer", "null"], "minimum": 0, "maximum": 23}})),
                typed("fixed_hour", &["hour"], json!({"hour": {"type": "integer", "minimum": 0, "maximum": 23}}))
            ]},
            "holdout": {"type": "number", "minimum": 0, "maximum": 0.5},
            "frequency_cap": {"oneOf": [
                {"type": "null"},
                {"type": "object", "additionalProperties": false, "required": ["max", "days"],
                 "properties": {"max": {"type": "integer", "minimum": 1, "maximum": 100}, "days": {"type": "integer", "minimum": 1, "maximum": 365}}}
            ]},
            "attribution_days": {"type": "integer", "minimum": 1, "maximum": 365},
            "gross_margin": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
        }
    })
}
