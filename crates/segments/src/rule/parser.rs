//! Recursive-descent parser and type checker of the rule language.
//!
//! ```text
//! rule      = or_expr ;
//! or_expr   = and_expr { "or" and_expr } ;
//! and_expr  = not_expr { "and" not_expr } ;
//! not_expr  = "not" not_expr | primary ;
//! primary   = "(" or_expr ")" | predicate ;
//! predicate = field ( cmp_op literal
//!                   | [ "not" ] "in" "(" literal { "," literal } ")"
//!                   | "between" number "and" number
//!                   | "is" [ "not" ] "null" ) ;
//! ```

use super::ast::{Expr, Field, FieldType, Literal};
use super::error::{RuleError, RuleErrorKind, op_text};
use super::lexer::{Spanned, Token, tokenize};

/// Parses and type-checks `source`.
pub(crate) fn parse(source: &str) -> Result<Expr, RuleError> {
    let tokens = tokenize(source)?;
    let mut parser = Parser {
        source,
        tokens,
        pos: 0,
        depth: 0,
        clauses: 0,
    };
    let expr = parser.or_expr()?;
    let next = parser.peek();
    if next.token != Token::End {
        return Err(parser.expected("`and`, `or` or the end of the rule"));
    }
    Ok(expr)
}

struct Parser<'s> {
    source: &'s str,
    tokens: Vec<Spanned>,
    pos: usize,
    /// Current nesting of parentheses and `not`.
    depth: usize,
    /// Comparisons read so far.
    clauses: usize,
}

const END: Spanned = Spanned {
    token: Token::End,
    offset: 0,
};

impl Parser<'_> {
    fn peek(&self) -> &Spanned {
        self.tokens.get(self.pos).unwrap_or(&END)
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(&self.peek().token, Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let yes = self.is_keyword(keyword);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn error(&self, offset: usize, kind: RuleErrorKind) -> RuleError {
        RuleError::at(self.source, offset, kind)
    }

    /// "expected X, found <next token>" at the next token.
    fn expected(&self, expected: &str) -> RuleError {
        let next = self.peek();
        self.error(
            next.offset,
            RuleErrorKind::Expected {
                expected: expected.to_owned(),
                found: next.token.to_string(),
            },
        )
    }

    fn expect_keyword(&mut self, keyword: &str) -> Result<(), RuleError> {
        if self.eat_keyword(keyword) {
            Ok(())
        } else {
            Err(self.expected(&format!("`{keyword}`")))
        }
    }

    fn expect(&mut self, token: Token) -> Result<(), RuleError> {
        if self.peek().token == token {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.expected(&token.to_string()))
        }
    }

    fn or_expr(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.and_expr()?;
        while self.eat_keyword("or") {
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.not_expr()?;
        while self.eat_keyword("and") {
            let right = self.not_expr()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn enter(&mut self) -> Result<(), RuleError> {
        self.depth += 1;
        if self.depth > super::MAX_DEPTH {
            return Err(self.error(self.peek().offset, RuleErrorKind::TooDeep));
        }
        Ok(())
    }

    fn not_expr(&mut self) -> Result<Expr, RuleError> {
        if self.is_keyword("not") {
            self.enter()?;
            self.pos += 1;
            let inner = self.not_expr()?;
            self.depth -= 1;
            Ok(Expr::Not(Box::new(inner)))
        } else {
            self.primary()
        }
    }

    fn primary(&mut self) -> Result<Expr, RuleError> {
        if self.peek().token == Token::LParen {
            self.enter()?;
            self.pos += 1;
            let inner = self.or_expr()?;
            self.expect(Token::RParen)?;
            self.depth -= 1;
            return Ok(inner);
        }
        self.clauses += 1;
        if self.clauses > super::MAX_CLAUSES {
            return Err(self.error(self.peek().offset, RuleErrorKind::TooManyClauses));
        }
        self.predicate()
    }

    fn field(&mut self) -> Result<Field, RuleError> {
        let next = self.peek().clone();
        let Token::Word(name) = &next.token else {
            return Err(self.expected("a field name, `not` or `(`"));
        };
        if let Some(field) = Field::from_name(name) {
            self.pos += 1;
            return Ok(field);
        }
        let kind = if KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(name)) {
            RuleErrorKind::Expected {
                expected: "a field name, `not` or `(`".into(),
                found: next.token.to_string(),
            }
        } else {
            RuleErrorKind::UnknownField {
                name: name.clone(),
                suggestion: suggest(name),
            }
        };
        Err(self.error(next.offset, kind))
    }

    fn predicate(&mut self) -> Result<Expr, RuleError> {
        let field_offset = self.peek().offset;
        let field = self.field()?;
        let ty = field.field_type();
        let op_offset = self.peek().offset;
        if let Token::Op(op) = self.peek().token {
            self.pos += 1;
            if op.is_ordering() && ty != FieldType::Number {
                return Err(self.error(
                    op_offset,
                    RuleErrorKind::OperatorNotAllowed {
                        field,
                        op: op_text(op),
                    },
                ));
            }
            let value = self.literal(field)?;
            return Ok(Expr::Compare { field, op, value });
        }
        if self.is_keyword("not") || self.is_keyword("in") {
            let negated = self.eat_keyword("not");
            self.expect_keyword("in")?;
            if ty == FieldType::Bool {
                return Err(self.error(
                    op_offset,
                    RuleErrorKind::OperatorNotAllowed {
                        field,
                        op: "in".into(),
                    },
                ));
            }
            self.expect(Token::LParen)?;
            let mut values = vec![self.literal(field)?];
            while self.peek().token == Token::Comma {
                self.pos += 1;
                values.push(self.literal(field)?);
            }
            self.expect(Token::RParen)?;
            return Ok(Expr::In {
                field,
                negated,
                values,
            });
        }
        if self.eat_keyword("between") {
            if ty != FieldType::Number {
                return Err(self.error(
                    op_offset,
                    RuleErrorKind::OperatorNotAllowed {
                        field,
                        op: "between".into(),
                    },
                ));
            }
            let low = self.number(field)?;
            self.expect_keyword("and")?;
            let high = self.number(field)?;
            if low > high {
                return Err(self.error(op_offset, RuleErrorKind::EmptyRange { low, high }));
            }
            return Ok(Expr::Between { field, low, high });
        }
        if self.eat_keyword("is") {
            let negated = self.eat_keyword("not");
            self.expect_keyword("null")?;
            if !field.is_optional() {
                return Err(self.error(field_offset, RuleErrorKind::NeverNull { field }));
            }
            return Ok(Expr::IsNull { field, negated });
        }
        Err(self.expected(match ty {
            FieldType::Number => {
                "a comparison (`=`, `!=`, `<`, `<=`, `>`, `>=`), `in`, `between` or `is`"
            }
            FieldType::Text => "a comparison (`=`, `!=`), `in` or `is`",
            FieldType::Bool => "`=` or `!=`",
        }))
    }

    /// A literal of `field`'s type.
    fn literal(&mut self, field: Field) -> Result<Literal, RuleError> {
        let next = self.peek().clone();
        let value = match &next.token {
            Token::Number(n) => Literal::Number(*n),
            Token::Text(s) => Literal::Text(s.clone()),
            Token::Word(w) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Token::Word(w) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Token::Word(w)
                if field.field_type() == FieldType::Text && Field::from_name(w).is_none() =>
            {
                // A bare word where text was expected is almost always a missing quote.
                return Err(self.error(
                    next.offset,
                    RuleErrorKind::Expected {
                        expected: format!("a quoted string (\"{w}\")"),
                        found: next.token.to_string(),
                    },
                ));
            }
            _ => return Err(self.expected("a value (number, \"string\", true or false)")),
        };
        let found = value.literal_type();
        let field_type = field.field_type();
        if found != field_type {
            return Err(self.error(
                next.offset,
                RuleErrorKind::TypeMismatch {
                    field,
                    field_type,
                    found,
                },
            ));
        }
        self.pos += 1;
        Ok(value)
    }

    fn number(&mut self, field: Field) -> Result<f64, RuleError> {
        match self.literal(field)? {
            Literal::Number(n) => Ok(n),
            // `literal` checked the type against a numeric field.
            _ => Err(self.expected("a number")),
        }
    }
}

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "between", "is", "null", "true", "false",
];

/// The field a misspelt `name` most likely meant: one whose name starts with it or the
/// other way round, else the nearest by edit distance when that is small.
pub(crate) fn suggest(name: &str) -> Option<Field> {
    let lower = name.to_ascii_lowercase();
    if let Some(f) = Field::from_name(&lower) {
        return Some(f);
    }
    if lower.len() >= 3
        && let Some(f) = Field::ALL
            .iter()
            .copied()
            .find(|f| f.name().starts_with(&lower) || lower.starts_with(f.name()))
    {
        return Some(f);
    }
    let limit = (lower.chars().count() / 3).max(2);
    Field::ALL
        .iter()
        .copied()
        .map(|f| (edit_distance(&lower, f.name()), f))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, f)| (*d, *f))
        .map(|(_, f)| f)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}
