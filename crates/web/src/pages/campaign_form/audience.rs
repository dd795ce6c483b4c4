//! The audience: everyone, a segment picked from the brand's, or a rule written as rows
//! of field / operator / value pick-lists, joined by "and". The rows build the same rule
//! text the API takes (`recency_days > 30 and tier = "gold"`); a rule the rows cannot
//! show (with `or`, `in`, `between`…) is kept as its text in `audience.rule`.

use super::fields::Reader;
use crate::pages::programme::Fields;
use regulars_segments::rule::{CmpOp, Expr, Field, FieldType, Literal, parse};
use serde_json::{Value, json};

/// The operators a row offers, by their spelling in rules.
pub(crate) const OPERATORS: &[(CmpOp, &str)] = &[
    (CmpOp::Eq, "="),
    (CmpOp::Ne, "!="),
    (CmpOp::Lt, "<"),
    (CmpOp::Le, "<="),
    (CmpOp::Gt, ">"),
    (CmpOp::Ge, ">="),
];

/// The most rule rows the form reads.
pub(crate) const MAX_RULE_ROWS: usize = 20;

/// The rows of a rule that is comparisons joined by `and` (left to right, as the rule
/// language reads them), or `None`.
fn rows_of(expr: &Expr) -> Option<Vec<(Field, CmpOp, Literal)>> {
    match expr {
        Expr::Compare { field, op, value } => Some(vec![(*field, *op, value.clone())]),
        Expr::And(left, right) => {
            let mut rows = rows_of(left)?;
            let Expr::Compare { field, op, value } = right.as_ref() else {
                return None;
            };
            rows.push((*field, *op, value.clone()));
            Some(rows)
        }
        _ => None,
    }
}

/// A literal as a row's value input shows it (text without quotes).
fn value_text(value: &Literal) -> String {
    match value {
        Literal::Text(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The audience fields of the document's `audience`.
pub(crate) fn to_fields(f: &mut Fields, audience: Option<&Value>) {
    let segment = audience
        .and_then(|a| a.get("segment"))
        .and_then(Value::as_str);
    let rule = audience.and_then(|a| a.get("rule")).and_then(Value::as_str);
    let kind = match (segment, rule) {
        (Some(_), _) => "segment",
        (_, Some(_)) => "rule",
        _ => "",
    };
    f.push("audience.kind", kind);
    f.push("audience.segment", segment.unwrap_or_default());
    let rows = rule
        .and_then(|text| parse(text).ok())
        .and_then(|e| rows_of(&e));
    match rows {
        Some(rows) => {
            for (i, (field, op, value)) in rows.iter().enumerate() {
                f.push(format!("audience.rule[{i}].field"), field.name());
                f.push(format!("audience.rule[{i}].op"), op.symbol());
                f.push(format!("audience.rule[{i}].value"), value_text(value));
            }
            f.push("audience.rule", "");
        }
        None => f.push("audience.rule", rule.unwrap_or_default()),
    }
}

/// One row as a comparison, or its problem noted on the row's inputs.
fn row(r: &mut Reader<'_>, at: &str) -> Option<Expr> {
    let field_name = format!("{at}.field");
    let op_name = format!("{at}.op");
    let value_name = format!("{at}.value");
    let chosen = r.f.get(&field_name).trim().to_owned();
    let Some(field) = Field::ALL.iter().copied().find(|f| f.name() == chosen) else {
        r.fail(&field_name, "choose a field");
        return None;
    };
    let symbol = r.f.get(&op_name).trim().to_owned();
    let Some(op) = OPERATORS
        .iter()
        .find(|(_, s)| *s == symbol)
        .map(|(o, _)| *o)
    else {
        r.fail(&op_name, "choose an operator");
        return None;
    };
    let raw = r.f.get(&value_name).trim().to_owned();
    let value = match field.field_type() {
        // Text is taken as typed: a code may have spaces.
        FieldType::Text => Literal::Text(r.f.get(&value_name).to_owned()),
        FieldType::Number => match raw.parse::<f64>() {
            Ok(n) if n.is_finite() => Literal::Number(n),
            _ => {
                r.fail(&value_name, "must be a number");
                return None;
            }
        },
        FieldType::Bool => match raw.as_str() {
            "true" => Literal::Bool(true),
            "false" => Literal::Bool(false),
            _ => {
                r.fail(&value_name, "must be true or false");
                return None;
            }
        },
    };
    let expr = Expr::Compare { field, op, value };
    // The rule language checks the operator against the field's type.
    match parse(&expr.to_string()) {
        Ok(_) => Some(expr),
        Err(e) => {
            r.fail(&op_name, e.to_string());
            None
        }
    }
}

/// The document's `audience`, `None` for everyone.
pub(crate) fn from_fields(r: &mut Reader<'_>) -> Option<Value> {
    match r.f.get("audience.kind").trim() {
        "segment" => {
            let segment = r.text("audience.segment").map(|s| json!(s));
            let segment = r.required("audience.segment", segment);
            Some(json!({"segment": segment}))
        }
        "rule" => {
            let mut rule: Option<Expr> = None;
            for i in r.f.rows("audience.rule").into_iter().take(MAX_RULE_ROWS) {
                let at = format!("audience.rule[{i}]");
                if r.f.blank_row(&at, &["op"]) {
                    continue;
                }
                if let Some(e) = row(r, &at) {
                    rule = Some(match rule {
                        None => e,
                        Some(left) => Expr::And(Box::new(left), Box::new(e)),
                    });
                }
            }
            let text = match (rule, r.text("audience.rule")) {
                (Some(rows), None) => rows.to_string(),
                (None, Some(text)) => text,
                (Some(rows), Some(text)) => format!("{rows} and ({text})"),
                (None, None) => {
                    r.fail("audience.rule", "write the rule, or pick everyone");
                    String::new()
                }
            };
            Some(json!({"rule": text}))
        }
        "" => None,
        _ => {
            r.fail("audience.kind", "choose who receives the campaign");
            None
        }
    }
}
