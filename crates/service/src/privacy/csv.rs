//! A customer's export as CSV: the same content as the JSON document, one
//! `section,record,field,value` row per value. The admin's export route and the
//! customer's own download on their card page both write it with [`export_csv`].

use serde_json::Value;

/// The JSON document `doc` as `section,record,field,value` rows: one section per top-level
/// field, one record per element of a list (`0`, `1`, …; empty for a single object),
/// nested fields as dotted paths.
pub fn export_csv(doc: &Value) -> String {
    let mut out = String::from("section,record,field,value\r\n");
    let Some(sections) = doc.as_object() else {
        return out;
    };
    for (section, content) in sections {
        match content {
            Value::Array(records) => {
                for (n, record) in records.iter().enumerate() {
                    flatten(&mut out, section, &n.to_string(), "", record);
                }
            }
            other => flatten(&mut out, section, "", "", other),
        }
    }
    out
}

fn flatten(out: &mut String, section: &str, record: &str, field: &str, value: &Value) {
    let join = |key: &str| {
        if field.is_empty() {
            key.to_owned()
        } else {
            format!("{field}.{key}")
        }
    };
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                flatten(out, section, record, &join(key), inner);
            }
        }
        Value::Array(items) => {
            for (n, inner) in items.iter().enumerate() {
                flatten(out, section, record, &join(&n.to_string()), inner);
            }
        }
        Value::Null => row(out, &[section, record, field, ""]),
        Value::String(s) => row(out, &[section, record, field, s]),
        other => row(out, &[section, record, field, &other.to_string()]),
    }
}

fn row(out: &mut String, cells: &[&str]) {
    let quoted: Vec<String> = cells
        .iter()
        .map(|cell| {
            if cell.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", cell.replace('"', "\"\""))
            } else {
                (*cell).to_owned()
            }
        })
        .collect();
    out.push_str(&quoted.join(","));
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::export_csv;
    use serde_json::json;

    #[test]
    fn csv_rows_name_section_record_and_path_and_quote_what_needs_it() {
        let doc = json!({"customer": {"name": "Lan, \"Bé\"", "consent": {"sms": true}},
                         "orders": [{"lines": [{"sku": "A"}]}], "scores": null});
        assert_eq!(
            export_csv(&doc),
            "section,record,field,value\r\n\
             customer,,consent.sms,true\r\n\
             customer,,name,\"Lan, \"\"Bé\"\"\"\r\n\
             orders,0,lines.0.sku,A\r\n\
             scores,,,\r\n"
        );
    }
}
