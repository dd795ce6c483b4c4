//! An offer's fields (the campaign's own, or a variant's under `variants[i].offer`): a
//! catalogue reward with what it costs the shop, personalised candidates within a cost
//! per customer, or bonus points.

use super::fields::{Reader, amount_of, text_of};
use crate::pages::programme::Fields;
use serde_json::{Map, Value, json};

/// The offer kinds, with their codes as the JSON writes them ("" is no offer).
pub(crate) const KINDS: &[&str] = &["", "fixed", "personalised", "bonus_points"];

/// The most candidates one personalised offer may list in the form.
pub(crate) const MAX_CANDIDATES: usize = 20;

/// `{"reward": <catalogue reward>, "cost": …}` → `{"reward_id": "…", "cost": …}`, for
/// each reward the offer gives: a stored campaign as the document the API takes.
pub(crate) fn name_rewards(offer: &mut Value) {
    let name = |priced: &mut Value| {
        let Value::Object(p) = priced else { return };
        if let Some(id) = p.remove("reward").and_then(|r| r.get("id").cloned()) {
            p.insert("reward_id".into(), id);
        }
    };
    if let Some(reward) = offer.get_mut("reward") {
        name(reward);
    }
    if let Some(Value::Array(candidates)) = offer.get_mut("candidates") {
        candidates.iter_mut().for_each(name);
    }
}

/// The fields of the offer at `at` (`offer`, `variants[0].offer`).
pub(crate) fn to_fields(f: &mut Fields, at: &str, offer: Option<&Value>) {
    let get = |key: &str| offer.and_then(|o| o.get(key));
    f.push(format!("{at}.type"), text_of(get("type")));
    let reward = get("reward");
    f.push(
        format!("{at}.reward.reward_id"),
        text_of(reward.and_then(|r| r.get("reward_id"))),
    );
    f.push(
        format!("{at}.reward.cost"),
        amount_of(reward.and_then(|r| r.get("cost"))),
    );
    if let Some(Value::Array(candidates)) = get("candidates") {
        for (i, c) in candidates.iter().enumerate() {
            f.push(
                format!("{at}.candidates[{i}].reward_id"),
                text_of(c.get("reward_id")),
            );
            f.push(
                format!("{at}.candidates[{i}].cost"),
                amount_of(c.get("cost")),
            );
        }
    }
    f.push(
        format!("{at}.max_cost_per_customer"),
        amount_of(get("max_cost_per_customer")),
    );
    f.push(format!("{at}.points"), text_of(get("points")));
}

/// A reward and its cost at `at` (`offer.reward`), both required.
fn priced(r: &mut Reader<'_>, at: &str) -> Value {
    let id_name = format!("{at}.reward_id");
    let id = r.text(&id_name).map(|id| json!(id));
    let id = r.required(&id_name, id);
    let cost_name = format!("{at}.cost");
    let cost = r.money(&cost_name);
    let cost = r.required(&cost_name, cost);
    json!({"reward_id": id, "cost": cost})
}

/// The offer the fields at `at` describe (`doc_at` is its place in the document, which
/// differs for a renumbered variant); `None` for no offer.
pub(crate) fn from_fields(r: &mut Reader<'_>, at: &str, doc_at: &str) -> Option<Value> {
    let kind = r.f.get(&format!("{at}.type")).trim().to_owned();
    let mut o = Map::new();
    o.insert("type".into(), json!(kind));
    match kind.as_str() {
        "" => return None,
        "fixed" => {
            o.insert("reward".into(), priced(r, &format!("{at}.reward")));
        }
        "personalised" => {
            let mut candidates = Vec::new();
            let list = format!("{at}.candidates");
            for i in r.f.rows(&list) {
                let row = format!("{list}[{i}]");
                if r.f.blank_row(&row, &[]) {
                    continue;
                }
                if candidates.len() >= MAX_CANDIDATES {
                    r.fail(
                        &format!("{row}.reward_id"),
                        format!("at most {MAX_CANDIDATES} rewards"),
                    );
                    break;
                }
                r.rows.note(
                    format!("{doc_at}.candidates[{}]", candidates.len()),
                    row.clone(),
                );
                candidates.push(priced(r, &row));
            }
            if candidates.is_empty() {
                r.fail(
                    &format!("{list}[0].reward_id"),
                    "at least one reward is needed",
                );
            }
            o.insert("candidates".into(), Value::Array(candidates));
            let name = format!("{at}.max_cost_per_customer");
            let max = r.money(&name);
            o.insert(
                "max_cost_per_customer".into(),
                r.required(&name, max).into(),
            );
        }
        "bonus_points" => {
            let name = format!("{at}.points");
            let points = r.whole(&name);
            o.insert("points".into(), r.required(&name, points).into());
        }
        _ => r.fail(&format!("{at}.type"), "choose an offer"),
    }
    Some(Value::Object(o))
}
