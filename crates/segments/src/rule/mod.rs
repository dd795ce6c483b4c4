//! The segment rule language: custom segments written as conditions over
//! [`CustomerFeatures`].
//!
//! ```text
//! recency_days > 30 and p_alive < 0.5 and tier in ("gold", "silver")
//! birthday_month = 11 or favourite_product = "TS-OOLONG"
//! not (frequency >= 5)
//! clv between 200000 and 1000000
//! location = "q1" and marketing_consent = true
//! tier is null
//! ```
//!
//! * Precedence, tightest first: `not`, `and`, `or`; parentheses group. Keywords are
//!   case-insensitive, field names are lower case.
//! * Comparisons: `=`, `!=` (also `==`, `<>`), `<`, `<=`, `>`, `>=`; `in (...)`,
//!   `not in (...)`; `between low and high` (both ends included); `is null`,
//!   `is not null` (optional fields only).
//! * Literals: numbers (`30`, `0.5`, `-2`, `1_000_000`, `2e5`), double-quoted strings
//!   with `\"` and `\\` escapes, `true`, `false`.
//! * Types are checked when the rule is read: text fields take `=`, `!=` and `in`;
//!   numbers take every comparison; `marketing_consent` takes `=` and `!=`; a value of
//!   the wrong type is an error with its position.
//! * **A missing optional value makes its comparison false** — `p_alive < 0.5`,
//!   `p_alive >= 0.5`, `tier != "gold"` and `tier not in ("gold")` are all false for a
//!   customer without that value; `not (...)` negates the result as usual, and
//!   `is null` asks about absence directly.
//!
//! The full grammar (EBNF) is in `docs/segments.md`.

mod ast;
mod compile;
mod error;
mod lexer;
mod parser;

pub use ast::{CmpOp, Expr, Field, FieldType, Literal};
pub use error::{Position, RuleError, RuleErrorKind};

use crate::CustomerFeatures;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The deepest nesting of parentheses and `not` a rule may have.
pub const MAX_DEPTH: usize = 32;

/// The most comparisons a rule may have. Far above any hand-written rule; it keeps a
/// stored rule from costing unbounded time or stack to read, print or compile.
pub const MAX_CLAUSES: usize = 256;

/// Parses and type-checks a rule into its syntax tree.
///
/// ```
/// use regulars_segments::rule::parse;
/// let err = parse("recency > 30").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "unknown field `recency` at column 1; did you mean `recency_days`?"
/// );
/// ```
pub fn parse(source: &str) -> Result<Expr, RuleError> {
    parser::parse(source)
}

/// A checked, compiled rule: test customers with [`Rule::matches`].
///
/// Serialises as its canonical text and deserialises by parsing, so a stored rule is
/// checked again when it is read. Two rules are equal when their trees are.
#[derive(Clone)]
pub struct Rule {
    expr: Expr,
    predicate: Arc<compile::Predicate>,
}

impl Rule {
    /// Parses, checks and compiles `source`.
    ///
    /// ```
    /// use regulars_domain::CustomerId;
    /// use regulars_segments::{CustomerFeatures, Rule};
    /// let rule = Rule::parse(r#"recency_days > 30 and tier in ("gold", "silver")"#)?;
    /// let mut lapsed_gold = CustomerFeatures::new(CustomerId::from_bytes([1; 16]), 45, 12, 900_000);
    /// lapsed_gold.tier = Some("gold".into());
    /// assert!(rule.matches(&lapsed_gold));
    /// # Ok::<(), regulars_segments::RuleError>(())
    /// ```
    pub fn parse(source: &str) -> Result<Rule, RuleError> {
        parse(source).map(Rule::from_expr)
    }

    /// Compiles a tree from [`parse`] (or built by hand: leaves whose value does not fit
    /// their field's type are simply false).
    pub fn from_expr(expr: Expr) -> Rule {
        let predicate = Arc::new(compile::compile(&expr));
        Rule { expr, predicate }
    }

    /// Whether `customer` satisfies the rule.
    #[inline]
    pub fn matches(&self, customer: &CustomerFeatures) -> bool {
        (self.predicate)(customer)
    }

    /// What the rule means, evaluated by walking the tree instead of the compiled
    /// closures. Always equal to [`Rule::matches`]; slower, kept as the reference.
    pub fn matches_by_interpreting(&self, customer: &CustomerFeatures) -> bool {
        compile::interpret(&self.expr, customer)
    }

    /// The rule's syntax tree.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The customers (from `customers`) that satisfy the rule, in their order.
    pub fn filter<'c>(
        &self,
        customers: &'c [CustomerFeatures],
    ) -> impl Iterator<Item = &'c CustomerFeatures> {
        customers.iter().filter(move |c| self.matches(c))
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        self.expr == other.expr
    }
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Rule").field(&self.expr.to_string()).finish()
    }
}

/// The canonical text of the rule (see [`Expr`]'s `Display`).
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}

impl std::str::FromStr for Rule {
    type Err = RuleError;
    fn from_str(s: &str) -> Result<Rule, RuleError> {
        Rule::parse(s)
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.expr)
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Rule, D::Error> {
        let text = String::deserialize(deserializer)?;
        Rule::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A named custom segment as stored and exchanged: `{"name": ..., "rule": "..."}`.
///
/// ```
/// use regulars_segments::SegmentDefinition;
/// let def: SegmentDefinition = serde_json::from_str(
///     r#"{"name": "Lapsed VIPs", "rule": "recency_days > 30   and tier = \"gold\""}"#,
/// )?;
/// assert_eq!(def.rule.to_string(), r#"recency_days > 30 and tier = "gold""#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentDefinition {
    /// The segment's name as people see it.
    pub name: String,
    /// Who is in it.
    pub rule: Rule,
}

impl SegmentDefinition {
    /// A definition from a name and rule text.
    pub fn new(name: impl Into<String>, rule: &str) -> Result<SegmentDefinition, RuleError> {
        Ok(SegmentDefinition {
            name: name.into(),
            rule: Rule::parse(rule)?,
        })
    }

    /// Whether `customer` is in this segment.
    pub fn contains(&self, customer: &CustomerFeatures) -> bool {
        self.rule.matches(customer)
    }
}
