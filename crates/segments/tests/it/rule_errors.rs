//! Errors say what is wrong and where.

use regulars_segments::rule::{Field, FieldType, RuleErrorKind, parse};

fn message(rule: &str) -> String {
    match parse(rule) {
        Ok(expr) => panic!("`{rule}` parsed as {expr:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn unknown_fields_are_named_with_a_suggestion() {
    assert_eq!(
        message("recency > 30"),
        "unknown field `recency` at column 1; did you mean `recency_days`?"
    );
    assert_eq!(
        message("frequency > 3 and p_alvie < 0.5"),
        "unknown field `p_alvie` at column 19; did you mean `p_alive`?"
    );
    assert_eq!(
        message("Tier = \"gold\""),
        "unknown field `Tier` at column 1; did you mean `tier`?"
    );
    let far = message("zzzzzz = 1");
    assert!(
        far.starts_with("unknown field `zzzzzz` at column 1; fields are `recency_days`"),
        "{far}"
    );
}

#[test]
fn positions_are_byte_offsets_and_character_columns() {
    let err = parse("location = \"Quận 1\" and frequence > 2").unwrap_err();
    assert_eq!(err.position.offset, 26);
    assert_eq!(err.position.column, 25);
    assert_eq!(err.position.line, 1);
    let err = parse("frequency > 2\n  and tier = 5").unwrap_err();
    assert_eq!((err.position.line, err.position.column), (2, 14));
    assert!(err.to_string().contains("at line 2, column 14"), "{err}");
}

#[test]
fn the_type_checker_rejects_mixed_types() {
    assert_eq!(
        message("tier = 5"),
        "field `tier` holds text but is compared with a number at column 8"
    );
    assert_eq!(
        message("recency_days > \"30\""),
        "field `recency_days` holds a number but is compared with text at column 16"
    );
    assert_eq!(
        message("marketing_consent = 1"),
        "field `marketing_consent` holds a boolean but is compared with a number at column 21"
    );
    let err = parse(r#"tier in ("gold", 3)"#).unwrap_err();
    assert_eq!(
        err.kind,
        RuleErrorKind::TypeMismatch {
            field: Field::Tier,
            field_type: FieldType::Text,
            found: FieldType::Number
        }
    );
    assert_eq!(err.position.column, 18);
}

#[test]
fn operators_must_suit_the_field() {
    assert_eq!(
        message(r#"tier < "gold""#),
        "`<` does not apply to `tier` (text) at column 6; use `=`, `!=` or `in`"
    );
    assert!(message(r#"location between "a" and "b""#).contains("`between` does not apply"));
    assert!(message("marketing_consent in (true)").contains("`in` does not apply"));
    assert_eq!(
        message("frequency is null"),
        "field `frequency` always has a value, so `is null` at column 1 can never change the result"
    );
    assert!(message("clv between 10 and 5").contains("matches nothing"));
}

#[test]
fn syntax_errors_say_what_was_expected_and_found() {
    assert_eq!(
        message("recency_days > 30 and"),
        "expected a field name, `not` or `(` at column 22, found end of rule"
    );
    assert_eq!(
        message("(frequency > 3"),
        "expected `)` at column 15, found end of rule"
    );
    assert_eq!(
        message("frequency > 3 frequency < 9"),
        "expected `and`, `or` or the end of the rule at column 15, found `frequency`"
    );
    assert_eq!(
        message("frequency 3"),
        "expected a comparison (`=`, `!=`, `<`, `<=`, `>`, `>=`), `in`, `between` or `is` at column 11, found number `3`"
    );
    assert_eq!(
        message("tier = gold"),
        "expected a quoted string (\"gold\") at column 8, found `gold`"
    );
    assert_eq!(
        message("frequency in ()"),
        "expected a value (number, \"string\", true or false) at column 15, found `)`"
    );
    assert_eq!(
        message("and frequency > 1"),
        "expected a field name, `not` or `(` at column 1, found `and`"
    );
    assert_eq!(
        message(""),
        "expected a field name, `not` or `(` at column 1, found end of rule"
    );
}

#[test]
fn lexical_errors_point_at_the_character() {
    assert_eq!(
        message("frequency > 3 && tier = \"gold\""),
        "unexpected character `&` at column 15; write `and`"
    );
    assert_eq!(
        message("tier = 'gold'"),
        "unexpected character `'` at column 8; strings use double quotes"
    );
    assert_eq!(
        message("tier = \"gold"),
        "string starting at column 8 has no closing `\"`"
    );
    assert_eq!(
        message("recency_days > 30days"),
        "`30days` at column 16 is not a valid number"
    );
    assert_eq!(
        message("tier = \"a\\nb\""),
        "unknown escape `\\n` at column 10; only `\\\"` and `\\\\` are allowed"
    );
}

#[test]
fn rules_are_bounded_in_depth_and_length() {
    use regulars_segments::rule::{MAX_CLAUSES, MAX_DEPTH};
    let ok = format!(
        "{}frequency = 1{}",
        "(".repeat(MAX_DEPTH),
        ")".repeat(MAX_DEPTH)
    );
    assert!(parse(&ok).is_ok());
    let deep = format!(
        "{}frequency = 1{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    let err = parse(&deep).unwrap_err();
    assert_eq!(err.kind, RuleErrorKind::TooDeep);
    assert_eq!(err.position.column, MAX_DEPTH + 1);
    let nots = format!("{}frequency = 1", "not ".repeat(100_000));
    assert_eq!(parse(&nots).unwrap_err().kind, RuleErrorKind::TooDeep);
    let parens = "(".repeat(1_000_000);
    assert_eq!(parse(&parens).unwrap_err().kind, RuleErrorKind::TooDeep);

    let long_ok = vec!["frequency = 1"; MAX_CLAUSES].join(" or ");
    assert!(parse(&long_ok).is_ok());
    let too_long = vec!["frequency = 1"; MAX_CLAUSES + 1].join(" or ");
    let err = parse(&too_long).unwrap_err();
    assert_eq!(err.kind, RuleErrorKind::TooManyClauses);
    assert!(
        err.to_string().contains("more than 256 comparisons"),
        "{err}"
    );
}
