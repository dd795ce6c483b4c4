//! A campaign document as the named fields of an HTML form, and back.
//!
//! A field is named by the JSON path of what it holds (`trigger.factor`,
//! `variants[1].offer.reward.cost`), so the path in a validation error is the name of the
//! input to show it next to. The form edits the document the API takes (rewards named by
//! `reward_id`); what the form has no input for (the shop, the policy, SMS and Zalo
//! settings) rides along unchanged in the hidden field `rest`.
//!
//! [`to_fields`] then [`from_fields`] gives back the same document (a property test
//! checks it), so the form and the "advanced" JSON view edit one document.

use super::audience;
use super::offer;
use crate::pages::programme::{FieldErrors, Fields};
use regulars_campaigns::Campaign;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

/// The triggers the form offers, with the parameters each takes (`true`: required).
pub(crate) const TRIGGERS: &[(&str, &[(&str, bool)])] = &[
    ("overdue", &[("factor", false)]),
    ("p_alive_below", &[("threshold", true)]),
    ("birthday", &[("days_before", false)]),
    ("after_purchase", &[("within_hours", false)]),
    ("welcome", &[("within_days", false)]),
    ("tier_upgrade", &[("within_days", false)]),
    ("tier_down", &[("within_days", false)]),
    ("points_expiring", &[("within_days", true)]),
    ("voucher_expiring", &[("days_before", true)]),
    ("reward_affordable", &[]),
    ("reward_nearly", &[("points_away", true)]),
    ("broadcast", &[]),
];

/// Every trigger parameter, each one input (`trigger.factor`, …).
pub(crate) const TRIGGER_PARAMS: &[&str] = &[
    "factor",
    "threshold",
    "days_before",
    "within_hours",
    "within_days",
    "points_away",
];

/// Parameters that are decimal numbers; the others are whole numbers.
const DECIMAL_PARAMS: &[&str] = &["factor", "threshold"];

/// The channels, with their codes as the JSON writes them.
pub(crate) const CHANNELS: &[&str] = &["zalo", "sms", "email"];

/// The send times, with their codes as the JSON writes them.
pub(crate) const SEND_TIMES: &[&str] = &["now", "preferred_hour", "fixed_hour"];

/// The document keys the form has inputs for; any other key goes to `rest`.
const FORM_KEYS: &[&str] = &[
    "name",
    "trigger",
    "audience",
    "offer",
    "variants",
    "template",
    "channels",
    "send_time",
    "holdout",
    "budget",
    "frequency_cap",
    "attribution_days",
    "gross_margin",
];

/// Spare rows are offered below the variants, the candidates and the audience rows.
pub(crate) const MAX_VARIANTS: usize = 10;

/// A stored campaign as the document the API takes: rewards named by `reward_id`, no
/// `id` (the server sets it).
pub(crate) fn document_of(campaign: &Campaign) -> Value {
    let mut doc = serde_json::to_value(campaign).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut doc {
        map.remove("id");
        if let Some(o) = map.get_mut("offer") {
            offer::name_rewards(o);
        }
        if let Some(Value::Array(variants)) = map.get_mut("variants") {
            for v in variants {
                if let Some(o) = v.get_mut("offer") {
                    offer::name_rewards(o);
                }
            }
        }
    }
    doc
}

/// A JSON number or string as the form shows it.
pub(crate) fn text_of(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The amount of a money value (`{"amount": "20000", "currency": "VND"}`).
pub(crate) fn amount_of(value: Option<&Value>) -> String {
    text_of(value.and_then(|m| m.get("amount")))
}

/// The form fields showing `doc`; `currency` is the brand's, for amounts.
pub(crate) fn to_fields(doc: &Value, currency: &str) -> Fields {
    let empty = Map::new();
    let map = doc.as_object().unwrap_or(&empty);
    let get = |key: &str| map.get(key);
    let mut f = Fields::default();
    f.push("currency", currency);
    f.push("name", text_of(get("name")));
    let trigger = get("trigger");
    f.push("trigger.type", text_of(trigger.and_then(|t| t.get("type"))));
    for param in TRIGGER_PARAMS {
        f.push(
            format!("trigger.{param}"),
            text_of(trigger.and_then(|t| t.get(*param))),
        );
    }
    audience::to_fields(&mut f, get("audience"));
    offer::to_fields(&mut f, "offer", get("offer"));
    if let Some(Value::Array(variants)) = get("variants") {
        for (i, v) in variants.iter().enumerate() {
            let at = format!("variants[{i}]");
            f.push(format!("{at}.name"), text_of(v.get("name")));
            offer::to_fields(&mut f, &format!("{at}.offer"), v.get("offer"));
            f.push(format!("{at}.template"), text_of(v.get("template")));
        }
    }
    f.push("template", text_of(get("template")));
    let channels: Vec<String> = match get("channels") {
        Some(Value::Array(list)) => list.iter().map(|c| text_of(Some(c))).collect(),
        _ => CHANNELS.iter().map(|c| (*c).to_owned()).collect(),
    };
    for (i, c) in channels.iter().enumerate() {
        f.push(format!("channels[{i}]"), c.clone());
    }
    let send = get("send_time");
    let send_type = text_of(send.and_then(|s| s.get("type")));
    f.push(
        "send_time.type",
        if send_type.is_empty() {
            "now".to_owned()
        } else {
            send_type
        },
    );
    f.push("send_time.hour", text_of(send.and_then(|s| s.get("hour"))));
    f.push(
        "send_time.fallback_hour",
        text_of(send.and_then(|s| s.get("fallback_hour"))),
    );
    let or = |key: &str, default: &str| match get(key) {
        None => default.to_owned(),
        v => text_of(v),
    };
    f.push("holdout", or("holdout", "0.1"));
    f.push("budget", amount_of(get("budget")));
    let (max, days) = match get("frequency_cap") {
        None => ("2".to_owned(), "7".to_owned()),
        Some(cap) => (text_of(cap.get("max")), text_of(cap.get("days"))),
    };
    f.push("frequency_cap.max", max);
    f.push("frequency_cap.days", days);
    f.push("attribution_days", or("attribution_days", "14"));
    f.push("gross_margin", or("gross_margin", "0.65"));
    let rest: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| !FORM_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    f.push(
        "rest",
        if rest.is_empty() {
            String::new()
        } else {
            Value::Object(rest).to_string()
        },
    );
    f
}

/// Where each list row of the document came from in the form: `variants[0]` may be the
/// form's `variants[2]` when rows above it were left blank.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct RowMap(Vec<(String, String)>);

impl RowMap {
    pub(crate) fn note(&mut self, document: String, form: String) {
        if document != form {
            self.0.push((document, form));
        }
    }

    /// The form field to show a problem at document `path` next to: the path itself
    /// with renumbered rows put back, shortened to a field the form has.
    pub(crate) fn field_of(&self, fields: &Fields, path: &str) -> String {
        let mut path = path.to_owned();
        // Longest prefixes first, so `variants[0].offer.candidates[1]` maps inside out.
        let mut pairs = self.0.clone();
        pairs.sort_by_key(|(d, _)| std::cmp::Reverse(d.len()));
        for (document, form) in &pairs {
            if path == *document || path.starts_with(&format!("{document}.")) {
                path = format!("{form}{}", &path[document.len()..]);
                break;
            }
        }
        let known = |name: &str| fields.0.iter().any(|(n, _)| n == name);
        let mut candidate = path.clone();
        loop {
            if known(&candidate) {
                return candidate;
            }
            let typed = format!("{candidate}.type");
            if known(&typed) {
                return typed;
            }
            let reward = format!("{candidate}.reward_id");
            if known(&reward) {
                return reward;
            }
            match candidate.rfind(['.', '[']) {
                Some(cut) => candidate.truncate(cut),
                None => return if known(&path) { path } else { String::new() },
            }
        }
    }
}

/// Reads typed values, noting the first problem of each field.
pub(crate) struct Reader<'f> {
    pub(crate) f: &'f Fields,
    pub(crate) errors: FieldErrors,
    pub(crate) rows: RowMap,
}

impl Reader<'_> {
    pub(crate) fn fail(&mut self, name: &str, message: impl Into<String>) {
        self.errors
            .entry(name.to_owned())
            .or_insert_with(|| message.into());
    }

    /// The trimmed value, `None` when blank.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        let value = self.f.get(name).trim();
        (!value.is_empty()).then(|| value.to_owned())
    }

    /// A whole number, `None` when blank.
    pub(crate) fn whole(&mut self, name: &str) -> Option<Value> {
        let text = self.text(name)?;
        match text.parse::<u64>() {
            Ok(n) => Some(json!(n)),
            Err(_) => {
                self.fail(name, "must be a whole number");
                None
            }
        }
    }

    /// A decimal number, `None` when blank.
    pub(crate) fn decimal(&mut self, name: &str) -> Option<Value> {
        let text = self.text(name)?;
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Some(json!(n)),
            _ => {
                self.fail(name, "must be a number like 1.5");
                None
            }
        }
    }

    /// An amount of the brand currency, `None` when blank.
    pub(crate) fn money(&mut self, name: &str) -> Option<Value> {
        let text = self.text(name)?;
        match text.parse::<Decimal>() {
            Ok(amount) => Some(json!({
                "amount": amount.to_string(),
                "currency": self.f.get("currency"),
            })),
            Err(_) => {
                self.fail(name, "must be an amount like 20000");
                None
            }
        }
    }

    /// A value required by the document: a "required" problem when blank.
    pub(crate) fn required(&mut self, name: &str, value: Option<Value>) -> Option<Value> {
        if value.is_none() && self.f.get(name).trim().is_empty() {
            self.fail(name, "is required");
        }
        value
    }
}

/// The document the form's fields describe, or the problems by field; the row map names
/// the form rows behind the document's list entries.
pub(crate) fn from_fields(f: &Fields) -> (Result<Value, FieldErrors>, RowMap) {
    let mut r = Reader {
        f,
        errors: FieldErrors::new(),
        rows: RowMap::default(),
    };
    let mut doc = match f.get("rest").trim() {
        "" => Map::new(),
        text => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            _ => {
                r.fail("rest", "is not a JSON object");
                Map::new()
            }
        },
    };
    doc.insert("name".into(), json!(f.get("name")));
    doc.insert("trigger".into(), trigger(&mut r));
    if let Some(a) = audience::from_fields(&mut r) {
        doc.insert("audience".into(), a);
    }
    if let Some(o) = offer::from_fields(&mut r, "offer", "offer") {
        doc.insert("offer".into(), o);
    }
    let variants = variants(&mut r);
    if !variants.is_empty() {
        doc.insert("variants".into(), Value::Array(variants));
    }
    if !f.get("template").trim().is_empty() {
        doc.insert("template".into(), json!(f.get("template")));
    }
    let mut channels = Vec::new();
    for i in f.rows("channels") {
        if let Some(c) = r.text(&format!("channels[{i}]")) {
            r.rows.note(
                format!("channels[{}]", channels.len()),
                format!("channels[{i}]"),
            );
            channels.push(json!(c));
        }
    }
    doc.insert("channels".into(), Value::Array(channels));
    doc.insert("send_time".into(), send_time(&mut r));
    for (key, value) in [
        ("holdout", r.decimal("holdout")),
        ("attribution_days", r.whole("attribution_days")),
        ("gross_margin", r.decimal("gross_margin")),
        ("budget", r.money("budget")),
    ] {
        if let Some(v) = value {
            doc.insert(key.into(), v);
        }
    }
    let max = r.whole("frequency_cap.max");
    let days = r.whole("frequency_cap.days");
    let cap = match (max, days) {
        (None, None) => Value::Null,
        (max, days) => {
            let max = r.required("frequency_cap.max", max);
            let days = r.required("frequency_cap.days", days);
            json!({"max": max, "days": days})
        }
    };
    doc.insert("frequency_cap".into(), cap);
    let Reader { errors, rows, .. } = r;
    if errors.is_empty() {
        (Ok(Value::Object(doc)), rows)
    } else {
        (Err(errors), rows)
    }
}

fn trigger(r: &mut Reader<'_>) -> Value {
    let kind = r.f.get("trigger.type").trim().to_owned();
    let mut t = Map::new();
    t.insert("type".into(), json!(kind));
    let Some((_, params)) = TRIGGERS.iter().find(|(k, _)| *k == kind) else {
        r.fail("trigger.type", "choose when the campaign sends");
        return Value::Object(t);
    };
    for (param, required) in *params {
        let name = format!("trigger.{param}");
        let value = if DECIMAL_PARAMS.contains(param) {
            r.decimal(&name)
        } else {
            r.whole(&name)
        };
        let value = if *required {
            r.required(&name, value)
        } else {
            value
        };
        if let Some(v) = value {
            t.insert((*param).to_owned(), v);
        }
    }
    Value::Object(t)
}

fn send_time(r: &mut Reader<'_>) -> Value {
    match r.f.get("send_time.type").trim() {
        "preferred_hour" => match r.whole("send_time.fallback_hour") {
            Some(h) => json!({"type": "preferred_hour", "fallback_hour": h}),
            None => json!({"type": "preferred_hour"}),
        },
        "fixed_hour" => {
            let hour = r.whole("send_time.hour");
            let hour = r.required("send_time.hour", hour);
            json!({"type": "fixed_hour", "hour": hour})
        }
        "now" | "" => json!({"type": "now"}),
        _ => {
            r.fail("send_time.type", "choose when messages go out");
            json!({"type": "now"})
        }
    }
}

/// The variant rows with anything filled in, renumbered from 0.
fn variants(r: &mut Reader<'_>) -> Vec<Value> {
    let mut out = Vec::new();
    for i in r.f.rows("variants") {
        let at = format!("variants[{i}]");
        if r.f.blank_row(&at, &[]) {
            continue;
        }
        if out.len() >= MAX_VARIANTS {
            r.fail(
                &format!("{at}.name"),
                format!("at most {MAX_VARIANTS} variants"),
            );
            break;
        }
        let doc_at = format!("variants[{}]", out.len());
        r.rows.note(doc_at.clone(), at.clone());
        let mut v = Map::new();
        v.insert("name".into(), json!(r.f.get(&format!("{at}.name"))));
        if let Some(o) = offer::from_fields(r, &format!("{at}.offer"), &format!("{doc_at}.offer")) {
            v.insert("offer".into(), o);
        }
        let template = format!("{at}.template");
        if r.text(&template).is_some() {
            v.insert("template".into(), json!(r.f.get(&template)));
        }
        out.push(Value::Object(v));
    }
    out
}
