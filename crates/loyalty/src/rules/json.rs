//! Reading rule documents from JSON with errors a shop owner can act on.
//!
//! `serde_path_to_error` records where in the document deserialisation failed, so an
//! error names `multipliers[2].when.weekdays[0]` rather than only a line and column in a
//! text the owner may never have seen. Unknown and duplicate fields are refused by the
//! rule types themselves (`deny_unknown_fields`).

use super::{MAX_DOCUMENT_BYTES, RulesError};
use serde::de::DeserializeOwned;

/// Reads `input` as one JSON value of type `T`.
pub(super) fn from_str<T: DeserializeOwned>(input: &str) -> Result<T, RulesError> {
    if input.len() > MAX_DOCUMENT_BYTES {
        return Err(RulesError::Shape {
            path: String::new(),
            message: format!("the document is larger than {MAX_DOCUMENT_BYTES} bytes"),
        });
    }
    let mut de = serde_json::Deserializer::from_str(input);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        classify(e.into_inner(), path)
    })?;
    de.end().map_err(|e| classify(e, String::new()))?;
    Ok(value)
}

fn classify(error: serde_json::Error, path: String) -> RulesError {
    let full = error.to_string();
    // serde_json appends " at line L column C"; the path says where, so keep the cause.
    let message = match full.rfind(" at line ") {
        Some(cut) => full[..cut].to_owned(),
        None => full,
    };
    if error.is_syntax() || error.is_eof() {
        RulesError::Syntax {
            line: error.line(),
            column: error.column(),
            message,
        }
    } else {
        let path = if path == "." { String::new() } else { path };
        RulesError::Shape { path, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::EarningRules;

    #[test]
    fn syntax_errors_have_a_position() {
        let err = from_str::<EarningRules>("{\"currency\": \"VND\",\n  }").err();
        assert!(
            matches!(err, Some(RulesError::Syntax { line: 2, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn shape_errors_name_the_path() {
        let err = from_str::<EarningRules>(
            r#"{"currency": "VND", "multipliers": [{"factor": "2", "when": {"weekdays": ["funday"]}}]}"#,
        )
        .err();
        match err {
            Some(RulesError::Shape { path, message }) => {
                assert_eq!(path, "multipliers[0].when.weekdays[0]", "{message}");
            }
            other => panic!("expected a shape error, got {other:?}"),
        }
    }

    #[test]
    fn refuses_duplicates_trailing_data_and_huge_documents() {
        assert!(from_str::<EarningRules>(r#"{"currency": "VND", "currency": "VND"}"#).is_err());
        assert!(from_str::<EarningRules>(r#"{"currency": "VND"} {}"#).is_err());
        let huge = format!(
            "{{\"currency\": \"VND\"{}}}",
            " ".repeat(MAX_DOCUMENT_BYTES)
        );
        assert!(matches!(
            from_str::<EarningRules>(&huge),
            Err(RulesError::Shape { .. })
        ));
    }
}
