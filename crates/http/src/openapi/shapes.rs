//! Makes the document say exactly what the server accepts, where the handlers'
//! annotations cannot: the request documents of [`super::documents`], the shape of path
//! and query parameters (ids are UUIDs, voucher codes have their alphabet, cursors and
//! report periods their forms).
//!
//! It edits the document in its JSON form: the edits are data (tables of paths and
//! schemas), easier to read and to keep true than builder calls.

use super::documents;
use serde_json::{Value, json};
use utoipa::Modify;

/// The edits described in the module documentation.
pub(super) struct Shapes;

impl Modify for Shapes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Ok(mut doc) = serde_json::to_value(&*openapi) else {
            return;
        };
        edit(&mut doc);
        // The edits only add valid OpenAPI, which reads back; a test checks they are there.
        if let Ok(edited) = serde_json::from_value(doc) {
            *openapi = edited;
        }
    }
}

const UUID: &str = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// The schema of a path or query parameter, by path (`*` for any) and name.
fn parameter_schema(path: &str, name: &str) -> Option<Value> {
    let date = json!({"type": "string", "format": "date", "description": "`YYYY-MM-DD`, years 2000 to 2100."});
    Some(match (path, name) {
        ("/v1/customers/{id}/ledger", "after") => {
            json!({"type": "string", "pattern": "^[0-9]{1,9}$", "description": "The `next` of the previous page: a ledger position."})
        }
        ("/v1/audit/access", "after") => {
            json!({"type": "string", "pattern": "^[0-9]{1,19}_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
                   "description": "The `next` of the previous page."})
        }
        ("/v1/audit/access", "since" | "until") => json!({"type": "string", "format": "date-time"}),
        ("/v1/audit/access", "key_id" | "customer_id") => {
            json!({"type": "string", "format": "uuid"})
        }
        (_, "after") if path.starts_with("/v1/") => {
            json!({"type": "string", "pattern": UUID, "description": "The `next` of the previous page: the last item's id."})
        }
        (_, "id" | "integration") => json!({"type": "string", "format": "uuid"}),
        (_, "code") => {
            json!({"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{4}-?[0-9A-HJKMNP-TV-Z]{4}-?[0-9A-HJKMNP-TV-Z]{5}$",
                              "description": "A voucher code: 13 symbols of Crockford base 32 (the last a check symbol), dashes optional."})
        }
        (_, "provider") => json!({"type": "string", "enum": ["zalo", "esms"]}),
        ("/v1/customers/lookup", "phone") => {
            json!({"type": "string", "pattern": "^0[35789][0-9]{8}$",
                                                    "description": "The phone in any common form (documented in the national form)."})
        }
        (_, "from") if path == "/v1/reports/cohorts" => {
            json!({"type": "string", "pattern": "^20[0-9]{2}-(0[1-9]|1[0-2])$", "description": "`YYYY-MM`."})
        }
        (_, "from" | "to") if path.starts_with("/v1/reports/") => date,
        (_, "interval") => json!({"type": "string", "enum": ["day", "week"]}),
        (_, "months") => {
            json!({"type": "string", "pattern": "^([1-9]|[1-5][0-9]|60)$", "description": "1 to 60."})
        }
        (_, "by") => json!({"type": "string", "enum": ["segment", "location"]}),
        _ => return None,
    })
}

fn edit(doc: &mut Value) {
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in documents::schemas() {
            schemas.insert(name.to_owned(), schema);
        }
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if let Some(parameters) = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
            {
                for parameter in parameters {
                    let name = parameter.get("name").and_then(Value::as_str).unwrap_or("");
                    if let Some(schema) = parameter_schema(path, name) {
                        parameter["schema"] = schema;
                    }
                }
            }
            for (at, how, schema, required) in documents::BODIES {
                if at == path && how == method {
                    let description = operation
                        .pointer("/requestBody/description")
                        .cloned()
                        .unwrap_or(Value::Null);
                    operation["requestBody"] = json!({
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}},
                        "required": required,
                    });
                }
            }
        }
    }
}
