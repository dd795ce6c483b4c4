//! The syntax tree of a rule and its canonical printer.

use std::fmt;

/// What kind of value a field holds, as the type checker sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// A whole or decimal number; compared with `=`, `!=`, `<`, `<=`, `>`, `>=`,
    /// `in` and `between`.
    Number,
    /// Text (codes, SKUs); compared with `=`, `!=` and `in`.
    Text,
    /// `true` or `false`; compared with `=` and `!=`.
    Bool,
}

impl FieldType {
    /// The word used for this type in error messages.
    pub fn describe(self) -> &'static str {
        match self {
            FieldType::Number => "a number",
            FieldType::Text => "text",
            FieldType::Bool => "a boolean",
        }
    }
}

macro_rules! fields {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, $ty:ident, $optional:literal;)*) => {
        /// A customer feature a rule can test (see [`crate::CustomerFeatures`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field {
            $($(#[$doc])* $variant,)*
        }

        impl Field {
            /// Every field, in declaration order.
            pub const ALL: &'static [Field] = &[$(Field::$variant,)*];

            /// The field's name in rules (`recency_days`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Field::$variant => $name,)*
                }
            }

            /// The type of the field's values.
            pub fn field_type(self) -> FieldType {
                match self {
                    $(Field::$variant => FieldType::$ty,)*
                }
            }

            /// Whether the field may be missing (`is null` applies only to these).
            pub fn is_optional(self) -> bool {
                match self {
                    $(Field::$variant => $optional,)*
                }
            }
        }
    };
}

fields! {
    /// `recency_days`: whole days since the last visit.
    RecencyDays => "recency_days", Number, false;
    /// `frequency`: number of visits.
    Frequency => "frequency", Number, false;
    /// `monetary`: total spend in minor units.
    Monetary => "monetary", Number, false;
    /// `tier`: tier code (optional).
    Tier => "tier", Text, true;
    /// `favourite_product`: SKU bought most often (optional).
    FavouriteProduct => "favourite_product", Text, true;
    /// `p_alive`: probability the customer is still active (optional).
    PAlive => "p_alive", Number, true;
    /// `clv`: predicted lifetime value in minor units (optional).
    Clv => "clv", Number, true;
    /// `expected_visits`: expected visits over the forecast horizon (optional).
    ExpectedVisits => "expected_visits", Number, true;
    /// `birthday_month`: 1–12 (optional).
    BirthdayMonth => "birthday_month", Number, true;
    /// `location`: home location code (optional).
    Location => "location", Text, true;
    /// `days_since_first_visit`: whole days since the first visit.
    DaysSinceFirstVisit => "days_since_first_visit", Number, false;
    /// `points_balance`: current points balance.
    PointsBalance => "points_balance", Number, false;
    /// `marketing_consent`: a channel consents to promotional messages.
    MarketingConsent => "marketing_consent", Bool, false;
}

impl Field {
    /// The field called `name` in rules, if there is one.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.name() == name)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=` (also written `==`).
    Eq,
    /// `!=` (also written `<>`).
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

impl CmpOp {
    /// The operator's canonical spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// Whether the operator orders values (only numbers are ordered).
    pub fn is_ordering(self) -> bool {
        matches!(self, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge)
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// A literal value in a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A finite number (`30`, `0.5`, `-2`, `1_000_000`).
    Number(f64),
    /// A double-quoted string (`"gold"`), with `\"` and `\\` escapes.
    Text(String),
    /// `true` or `false`.
    Bool(bool),
}

impl Literal {
    /// The type of the literal.
    pub fn literal_type(&self) -> FieldType {
        match self {
            Literal::Number(_) => FieldType::Number,
            Literal::Text(_) => FieldType::Text,
            Literal::Bool(_) => FieldType::Bool,
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // `Display` for f64 is the shortest text that reads back as the same value.
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Text(s) => {
                f.write_str("\"")?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"")
            }
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// A rule's syntax tree. Built by [`crate::rule::parse`], which also type-checks it.
///
/// `Display` is the canonical printer: lower-case keywords, single spaces, the fewest
/// parentheses that keep the tree's shape, so `parse(&expr.to_string()) == expr`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `left or right`.
    Or(Box<Expr>, Box<Expr>),
    /// `left and right`.
    And(Box<Expr>, Box<Expr>),
    /// `not inner`.
    Not(Box<Expr>),
    /// `field op value`.
    Compare {
        /// The feature compared.
        field: Field,
        /// The operator.
        op: CmpOp,
        /// The value it is compared with (same type as the field).
        value: Literal,
    },
    /// `field in (v1, v2, ...)` or `field not in (...)`.
    In {
        /// The feature tested.
        field: Field,
        /// `true` for `not in`.
        negated: bool,
        /// The values (at least one, each of the field's type).
        values: Vec<Literal>,
    },
    /// `field between low and high`, both ends included.
    Between {
        /// The numeric feature tested.
        field: Field,
        /// Lower bound, included.
        low: f64,
        /// Upper bound, included; never below `low`.
        high: f64,
    },
    /// `field is null` or `field is not null`.
    IsNull {
        /// The optional feature tested.
        field: Field,
        /// `true` for `is not null`.
        negated: bool,
    },
}

/// Binding strength, loosest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Or,
    And,
    Not,
}

impl Expr {
    fn prec(&self) -> Prec {
        match self {
            Expr::Or(..) => Prec::Or,
            Expr::And(..) => Prec::And,
            _ => Prec::Not,
        }
    }

    /// Writes `self` where the context binds at `ctx`; parenthesises when `self` binds
    /// more loosely than that.
    fn write_at(&self, f: &mut fmt::Formatter<'_>, ctx: Prec, strictly: bool) -> fmt::Result {
        let own = self.prec();
        let parens = own < ctx || (strictly && own == ctx);
        if parens {
            f.write_str("(")?;
        }
        self.write_bare(f)?;
        if parens {
            f.write_str(")")?;
        }
        Ok(())
    }

    fn write_bare(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Both operators associate to the left: a right operand of the same kind
            // needs parentheses to keep its shape.
            Expr::Or(l, r) => {
                l.write_at(f, Prec::Or, false)?;
                f.write_str(" or ")?;
                r.write_at(f, Prec::Or, true)
            }
            Expr::And(l, r) => {
                l.write_at(f, Prec::And, false)?;
                f.write_str(" and ")?;
                r.write_at(f, Prec::And, true)
            }
            Expr::Not(inner) => {
                f.write_str("not ")?;
                inner.write_at(f, Prec::Not, false)
            }
            Expr::Compare { field, op, value } => write!(f, "{field} {op} {value}"),
            Expr::In {
                field,
                negated,
                values,
            } => {
                write!(f, "{field} {}in (", if *negated { "not " } else { "" })?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str(")")
            }
            Expr::Between { field, low, high } => {
                write!(f, "{field} between {low} and {high}")
            }
            Expr::IsNull { field, negated } => {
                write!(f, "{field} is {}null", if *negated { "not " } else { "" })
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_bare(f)
    }
}
