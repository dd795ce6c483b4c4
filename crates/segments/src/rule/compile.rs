//! Turns a checked syntax tree into a tree of closures, and the plain interpreter that
//! defines what a rule means.
//!
//! Each comparison is specialised at compile time for its field and operator, so
//! evaluating it is one indirect call, a field load and a compare; `and`/`or` chains are
//! flattened into one closure over a slice.

use super::ast::{CmpOp, Expr, Field, Literal};
use crate::CustomerFeatures;

/// A compiled rule: `true` when the customer is in the segment.
pub(crate) type Predicate = Box<dyn Fn(&CustomerFeatures) -> bool + Send + Sync>;

fn recency_days(c: &CustomerFeatures) -> Option<f64> {
    Some(f64::from(c.recency_days))
}
fn frequency(c: &CustomerFeatures) -> Option<f64> {
    Some(f64::from(c.frequency))
}
// Amounts are far below 2^53 minor units, where i64 → f64 is exact.
#[allow(clippy::cast_precision_loss)]
fn monetary(c: &CustomerFeatures) -> Option<f64> {
    Some(c.monetary as f64)
}
fn p_alive(c: &CustomerFeatures) -> Option<f64> {
    c.p_alive
}
fn clv(c: &CustomerFeatures) -> Option<f64> {
    c.clv
}
fn expected_visits(c: &CustomerFeatures) -> Option<f64> {
    c.expected_visits
}
fn birthday_month(c: &CustomerFeatures) -> Option<f64> {
    c.birthday_month.map(f64::from)
}
fn days_since_first_visit(c: &CustomerFeatures) -> Option<f64> {
    Some(f64::from(c.days_since_first_visit))
}
#[allow(clippy::cast_precision_loss)]
fn points_balance(c: &CustomerFeatures) -> Option<f64> {
    Some(c.points_balance as f64)
}
fn tier(c: &CustomerFeatures) -> Option<&str> {
    c.tier.as_deref()
}
fn favourite_product(c: &CustomerFeatures) -> Option<&str> {
    c.favourite_product.as_deref()
}
fn location(c: &CustomerFeatures) -> Option<&str> {
    c.location.as_deref()
}

/// The value of `field` for `c`, for the interpreter.
enum Value<'a> {
    Number(f64),
    Text(&'a str),
    Bool(bool),
}

fn value_of(field: Field, c: &CustomerFeatures) -> Option<Value<'_>> {
    Some(match field {
        Field::RecencyDays => Value::Number(recency_days(c)?),
        Field::Frequency => Value::Number(frequency(c)?),
        Field::Monetary => Value::Number(monetary(c)?),
        Field::PAlive => Value::Number(p_alive(c)?),
        Field::Clv => Value::Number(clv(c)?),
        Field::ExpectedVisits => Value::Number(expected_visits(c)?),
        Field::BirthdayMonth => Value::Number(birthday_month(c)?),
        Field::DaysSinceFirstVisit => Value::Number(days_since_first_visit(c)?),
        Field::PointsBalance => Value::Number(points_balance(c)?),
        Field::Tier => Value::Text(tier(c)?),
        Field::FavouriteProduct => Value::Text(favourite_product(c)?),
        Field::Location => Value::Text(location(c)?),
        Field::MarketingConsent => Value::Bool(c.marketing_consent),
    })
}

fn compare<T: PartialOrd + ?Sized>(a: &T, op: CmpOp, b: &T) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

fn literal_matches(value: &Value<'_>, op: CmpOp, literal: &Literal) -> bool {
    match (value, literal) {
        (Value::Number(a), Literal::Number(b)) => compare(a, op, b),
        (Value::Text(a), Literal::Text(b)) => compare(*a, op, b.as_str()),
        (Value::Bool(a), Literal::Bool(b)) => compare(a, op, b),
        _ => false,
    }
}

/// What `expr` means for `c`, read straight off the tree. A missing value makes every
/// comparison false; `not` then negates that result like any other.
pub(crate) fn interpret(expr: &Expr, c: &CustomerFeatures) -> bool {
    match expr {
        Expr::Or(l, r) => interpret(l, c) || interpret(r, c),
        Expr::And(l, r) => interpret(l, c) && interpret(r, c),
        Expr::Not(inner) => !interpret(inner, c),
        Expr::Compare { field, op, value } => {
            value_of(*field, c).is_some_and(|v| literal_matches(&v, *op, value))
        }
        Expr::In {
            field,
            negated,
            values,
        } => value_of(*field, c).is_some_and(|v| {
            values.iter().any(|lit| literal_matches(&v, CmpOp::Eq, lit)) != *negated
        }),
        Expr::Between { field, low, high } => {
            matches!(value_of(*field, c), Some(Value::Number(v)) if *low <= v && v <= *high)
        }
        Expr::IsNull { field, negated } => value_of(*field, c).is_none() != *negated,
    }
}

/// Compiles a checked tree. Ill-typed leaves (impossible after the type checker) compile
/// to `false`, as the interpreter reads them.
pub(crate) fn compile(expr: &Expr) -> Predicate {
    match expr {
        Expr::Or(..) => {
            let mut parts = Vec::new();
            flatten_or(expr, &mut parts);
            any(parts.iter().map(|e| compile(e)).collect())
        }
        Expr::And(..) => {
            let mut parts = Vec::new();
            flatten_and(expr, &mut parts);
            all(parts.iter().map(|e| compile(e)).collect())
        }
        Expr::Not(inner) => {
            let inner = compile(inner);
            Box::new(move |c| !inner(c))
        }
        Expr::Compare { field, op, value } => compare_leaf(*field, *op, value),
        Expr::In {
            field,
            negated,
            values,
        } => in_leaf(*field, *negated, values),
        Expr::Between { field, low, high } => {
            let (low, high) = (*low, *high);
            number_test(*field, NumberTest::Between(low, high))
        }
        Expr::IsNull { field, negated } => {
            let (field, negated) = (*field, *negated);
            match field {
                Field::PAlive => Box::new(move |c| c.p_alive.is_none() != negated),
                Field::Clv => Box::new(move |c| c.clv.is_none() != negated),
                Field::ExpectedVisits => Box::new(move |c| c.expected_visits.is_none() != negated),
                Field::BirthdayMonth => Box::new(move |c| c.birthday_month.is_none() != negated),
                Field::Tier => Box::new(move |c| c.tier.is_none() != negated),
                Field::FavouriteProduct => {
                    Box::new(move |c| c.favourite_product.is_none() != negated)
                }
                Field::Location => Box::new(move |c| c.location.is_none() != negated),
                // Required fields are never null.
                _ => Box::new(move |_| negated),
            }
        }
    }
}

fn flatten_or<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::Or(l, r) => {
            flatten_or(l, out);
            flatten_or(r, out);
        }
        other => out.push(other),
    }
}

fn flatten_and<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::And(l, r) => {
            flatten_and(l, out);
            flatten_and(r, out);
        }
        other => out.push(other),
    }
}

/// `p1 and p2 and ...` as nested closures, so each call site always calls the same
/// closure: a shared loop over a slice would make one indirect call site jump to every
/// part in turn, which branch predictors handle far worse.
fn all(parts: Vec<Predicate>) -> Predicate {
    let mut parts = parts.into_iter().rev();
    let Some(mut acc) = parts.next() else {
        return Box::new(|_| true);
    };
    for p in parts {
        acc = Box::new(move |c| p(c) && acc(c));
    }
    acc
}

/// `p1 or p2 or ...` as nested closures (see [`all`]).
fn any(parts: Vec<Predicate>) -> Predicate {
    let mut parts = parts.into_iter().rev();
    let Some(mut acc) = parts.next() else {
        return Box::new(|_| false);
    };
    for p in parts {
        acc = Box::new(move |c| p(c) || acc(c));
    }
    acc
}

/// A numeric test, applied to a field's value by [`number_leaf`].
enum NumberTest {
    Compare(CmpOp, f64),
    Between(f64, f64),
    In(Box<[f64]>, bool),
}

/// The numeric test on `field`, with the getter monomorphised per field so the
/// compiled closure loads the field directly.
fn number_test(field: Field, test: NumberTest) -> Predicate {
    match field {
        Field::RecencyDays => number_leaf(recency_days, test),
        Field::Frequency => number_leaf(frequency, test),
        Field::Monetary => number_leaf(monetary, test),
        Field::PAlive => number_leaf(p_alive, test),
        Field::Clv => number_leaf(clv, test),
        Field::ExpectedVisits => number_leaf(expected_visits, test),
        Field::BirthdayMonth => number_leaf(birthday_month, test),
        Field::DaysSinceFirstVisit => number_leaf(days_since_first_visit, test),
        Field::PointsBalance => number_leaf(points_balance, test),
        Field::Tier | Field::FavouriteProduct | Field::Location | Field::MarketingConsent => {
            Box::new(|_| false)
        }
    }
}

fn number_leaf<G>(get: G, test: NumberTest) -> Predicate
where
    G: Fn(&CustomerFeatures) -> Option<f64> + Send + Sync + 'static,
{
    match test {
        NumberTest::Compare(op, b) => match op {
            CmpOp::Eq => Box::new(move |c| get(c).is_some_and(|a| a == b)),
            CmpOp::Ne => Box::new(move |c| get(c).is_some_and(|a| a != b)),
            CmpOp::Lt => Box::new(move |c| get(c).is_some_and(|a| a < b)),
            CmpOp::Le => Box::new(move |c| get(c).is_some_and(|a| a <= b)),
            CmpOp::Gt => Box::new(move |c| get(c).is_some_and(|a| a > b)),
            CmpOp::Ge => Box::new(move |c| get(c).is_some_and(|a| a >= b)),
        },
        NumberTest::Between(low, high) => {
            Box::new(move |c| get(c).is_some_and(|v| low <= v && v <= high))
        }
        NumberTest::In(values, negated) => {
            Box::new(move |c| get(c).is_some_and(|v| values.contains(&v) != negated))
        }
    }
}

/// The text getter of `field`, if it holds text.
fn text_getter(field: Field) -> Option<fn(&CustomerFeatures) -> Option<&str>> {
    match field {
        Field::Tier => Some(tier),
        Field::FavouriteProduct => Some(favourite_product),
        Field::Location => Some(location),
        _ => None,
    }
}

fn text_test(field: Field, test: TextTest) -> Predicate {
    match field {
        Field::Tier => text_leaf(tier, test),
        Field::FavouriteProduct => text_leaf(favourite_product, test),
        Field::Location => text_leaf(location, test),
        _ => Box::new(|_| false),
    }
}

enum TextTest {
    Eq(String, bool),
    In(Box<[String]>, bool),
}

fn text_leaf<G>(get: G, test: TextTest) -> Predicate
where
    G: for<'c> Fn(&'c CustomerFeatures) -> Option<&'c str> + Send + Sync + 'static,
{
    match test {
        TextTest::Eq(b, negated) => {
            Box::new(move |c| get(c).is_some_and(|a| text_eq(a, &b) != negated))
        }
        TextTest::In(values, negated) => Box::new(move |c| {
            get(c).is_some_and(|a| values.iter().any(|v| text_eq(a, v)) != negated)
        }),
    }
}

/// String equality without a library call for short strings: codes and SKUs are
/// short, and a call to `memcmp` per comparison cost more than the rest of a rule.
#[inline]
fn text_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    // Two overlapping loads cover any length from the load size to twice it.
    match a.len() {
        0 => true,
        1..4 => a.iter().zip(b).all(|(x, y)| x == y),
        4..8 => {
            load::<4>(a, false) == load::<4>(b, false) && load::<4>(a, true) == load::<4>(b, true)
        }
        8..=16 => {
            load::<8>(a, false) == load::<8>(b, false) && load::<8>(a, true) == load::<8>(b, true)
        }
        _ => a == b,
    }
}

/// The first (or last) `N` bytes of `s`; zeros if `s` is shorter (never, as called).
#[inline]
fn load<const N: usize>(s: &[u8], last: bool) -> [u8; N] {
    let chunk = if last {
        s.last_chunk::<N>()
    } else {
        s.first_chunk::<N>()
    };
    chunk.copied().unwrap_or([0; N])
}

fn compare_leaf(field: Field, op: CmpOp, value: &Literal) -> Predicate {
    match value {
        Literal::Number(n) => number_test(field, NumberTest::Compare(op, *n)),
        Literal::Text(s) if text_getter(field).is_some() => match op {
            CmpOp::Eq => text_test(field, TextTest::Eq(s.clone(), false)),
            CmpOp::Ne => text_test(field, TextTest::Eq(s.clone(), true)),
            _ => Box::new(|_| false),
        },
        Literal::Bool(b) if field == Field::MarketingConsent => {
            let b = *b;
            match op {
                CmpOp::Eq => Box::new(move |c| c.marketing_consent == b),
                CmpOp::Ne => Box::new(move |c| c.marketing_consent != b),
                _ => Box::new(|_| false),
            }
        }
        _ => Box::new(|_| false),
    }
}

fn in_leaf(field: Field, negated: bool, values: &[Literal]) -> Predicate {
    let numbers: Option<Box<[f64]>> = values
        .iter()
        .map(|v| match v {
            Literal::Number(n) => Some(*n),
            _ => None,
        })
        .collect();
    if let Some(numbers) = numbers {
        return number_test(field, NumberTest::In(numbers, negated));
    }
    let texts: Option<Box<[String]>> = values
        .iter()
        .map(|v| match v {
            Literal::Text(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    match texts {
        Some(texts) => text_test(field, TextTest::In(texts, negated)),
        None => Box::new(|_| false),
    }
}

#[cfg(test)]
mod tests {
    use super::text_eq;

    #[test]
    fn text_eq_agrees_with_string_equality_at_every_length() {
        let base = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF";
        for len in 0..=base.len() {
            let a = &base[..len];
            assert!(text_eq(a, a));
            for pos in 0..len {
                let mut b = a.as_bytes().to_vec();
                b[pos] = b'_';
                let b = String::from_utf8(b).unwrap_or_default();
                assert!(!text_eq(a, &b), "{a} vs {b}");
            }
            if len > 0 {
                assert!(!text_eq(a, &base[..len - 1]));
            }
        }
    }
}
