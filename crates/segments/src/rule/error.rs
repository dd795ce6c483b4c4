//! Errors found while reading a rule, each with the place it was found.

use super::ast::{CmpOp, Field, FieldType};
use std::fmt;

/// Where in the rule's text something was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Byte offset from the start of the rule.
    pub offset: usize,
    /// Line, counted from 1.
    pub line: usize,
    /// Column in characters, counted from 1.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `source` (clamped to its end).
    pub fn locate(source: &str, offset: usize) -> Position {
        let offset = offset.min(source.len());
        let before = source.get(..offset).unwrap_or(source);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        Position {
            offset,
            line,
            column,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 1 {
            write!(f, "column {}", self.column)
        } else {
            write!(f, "line {}, column {}", self.line, self.column)
        }
    }
}

/// What went wrong in a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleErrorKind {
    /// A character that starts no token.
    UnexpectedChar {
        /// The character.
        found: char,
    },
    /// A string literal with no closing quote.
    UnterminatedString,
    /// An escape other than `\"` and `\\` in a string.
    InvalidEscape {
        /// The character after the backslash.
        found: char,
    },
    /// A number that does not read as a finite number.
    InvalidNumber {
        /// The text of the number.
        text: String,
    },
    /// A name that is no field.
    UnknownField {
        /// The name written.
        name: String,
        /// The closest field name, when one is close.
        suggestion: Option<Field>,
    },
    /// The parser wanted one thing and found another.
    Expected {
        /// What would have been accepted.
        expected: String,
        /// What was there (a token, or "end of rule").
        found: String,
    },
    /// A field compared with a value of another type.
    TypeMismatch {
        /// The field.
        field: Field,
        /// The field's type.
        field_type: FieldType,
        /// The type of the value written.
        found: FieldType,
    },
    /// An operator that does not apply to the field's type.
    OperatorNotAllowed {
        /// The field.
        field: Field,
        /// The operator written (`<`, `between`).
        op: String,
    },
    /// `is null` on a field that always has a value.
    NeverNull {
        /// The field.
        field: Field,
    },
    /// Parentheses or `not`s nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    TooDeep,
    /// More comparisons than [`MAX_CLAUSES`](super::MAX_CLAUSES).
    TooManyClauses,
    /// `between low and high` with `low > high`: nothing would ever match.
    EmptyRange {
        /// The lower bound written.
        low: f64,
        /// The upper bound written.
        high: f64,
    },
}

/// A rule that could not be read, with the position of the problem.
///
/// Displays as one line, e.g.
/// ``unknown field `recency` at column 1; did you mean `recency_days`?``
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct RuleError {
    /// What went wrong.
    pub kind: RuleErrorKind,
    /// Where.
    pub position: Position,
}

impl RuleError {
    pub(crate) fn at(source: &str, offset: usize, kind: RuleErrorKind) -> RuleError {
        RuleError {
            kind,
            position: Position::locate(source, offset),
        }
    }
}

fn allowed_ops(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Number => "`=`, `!=`, `<`, `<=`, `>`, `>=`, `in` or `between`",
        FieldType::Text => "`=`, `!=` or `in`",
        FieldType::Bool => "`=` or `!=`",
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.position;
        match &self.kind {
            RuleErrorKind::UnexpectedChar { found } => {
                write!(f, "unexpected character `{found}` at {at}")?;
                match found {
                    '&' => f.write_str("; write `and`"),
                    '|' => f.write_str("; write `or`"),
                    '!' => f.write_str("; write `not`, or `!=` for not equal"),
                    '\'' => f.write_str("; strings use double quotes"),
                    _ => Ok(()),
                }
            }
            RuleErrorKind::UnterminatedString => {
                write!(f, "string starting at {at} has no closing `\"`")
            }
            RuleErrorKind::InvalidEscape { found } => write!(
                f,
                "unknown escape `\\{found}` at {at}; only `\\\"` and `\\\\` are allowed"
            ),
            RuleErrorKind::InvalidNumber { text } => {
                write!(f, "`{text}` at {at} is not a valid number")
            }
            RuleErrorKind::UnknownField { name, suggestion } => {
                write!(f, "unknown field `{name}` at {at}")?;
                match suggestion {
                    Some(s) => write!(f, "; did you mean `{s}`?"),
                    None => {
                        f.write_str("; fields are ")?;
                        for (i, field) in Field::ALL.iter().enumerate() {
                            if i > 0 {
                                f.write_str(", ")?;
                            }
                            write!(f, "`{field}`")?;
                        }
                        Ok(())
                    }
                }
            }
            RuleErrorKind::Expected { expected, found } => {
                write!(f, "expected {expected} at {at}, found {found}")
            }
            RuleErrorKind::TypeMismatch {
                field,
                field_type,
                found,
            } => write!(
                f,
                "field `{field}` holds {} but is compared with {} at {at}",
                field_type.describe(),
                found.describe()
            ),
            RuleErrorKind::OperatorNotAllowed { field, op } => {
                let ty = field.field_type();
                write!(
                    f,
                    "`{op}` does not apply to `{field}` ({}) at {at}; use {}",
                    ty.describe(),
                    allowed_ops(ty)
                )
            }
            RuleErrorKind::NeverNull { field } => write!(
                f,
                "field `{field}` always has a value, so `is null` at {at} can never change the result"
            ),
            RuleErrorKind::TooDeep => write!(
                f,
                "rule nests parentheses or `not` more than {} deep at {at}",
                super::MAX_DEPTH
            ),
            RuleErrorKind::TooManyClauses => write!(
                f,
                "rule has more than {} comparisons at {at}; split it into several segments",
                super::MAX_CLAUSES
            ),
            RuleErrorKind::EmptyRange { low, high } => write!(
                f,
                "`between {low} and {high}` at {at} matches nothing: the lower bound is above the upper"
            ),
        }
    }
}

/// The operator text used in errors.
pub(crate) fn op_text(op: CmpOp) -> String {
    op.symbol().to_owned()
}
