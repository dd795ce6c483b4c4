//! Splits a rule's text into tokens, each with its byte offset.

use super::ast::CmpOp;
use super::error::{RuleError, RuleErrorKind};
use std::fmt;

/// A token of the rule language.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    /// A name: a field or a keyword (`and`, `in`, `null`, ...).
    Word(String),
    /// A string literal, escapes resolved.
    Text(String),
    /// A finite number.
    Number(f64),
    /// A comparison operator.
    Op(CmpOp),
    /// `(`.
    LParen,
    /// `)`.
    RParen,
    /// `,`.
    Comma,
    /// The end of the rule.
    End,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => write!(f, "`{w}`"),
            Token::Text(s) => write!(f, "string {:?}", s),
            Token::Number(n) => write!(f, "number `{n}`"),
            Token::Op(op) => write!(f, "`{op}`"),
            Token::LParen => f.write_str("`(`"),
            Token::RParen => f.write_str("`)`"),
            Token::Comma => f.write_str("`,`"),
            Token::End => f.write_str("end of rule"),
        }
    }
}

/// A token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spanned {
    pub token: Token,
    pub offset: usize,
}

/// The tokens of `source`, ending with [`Token::End`].
pub(crate) fn tokenize(source: &str) -> Result<Vec<Spanned>, RuleError> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        let token = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'(' => {
                i += 1;
                Token::LParen
            }
            b')' => {
                i += 1;
                Token::RParen
            }
            b',' => {
                i += 1;
                Token::Comma
            }
            b'=' => {
                i += if bytes.get(i + 1) == Some(&b'=') {
                    2
                } else {
                    1
                };
                Token::Op(CmpOp::Eq)
            }
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                i += 2;
                Token::Op(CmpOp::Ne)
            }
            b'<' => match bytes.get(i + 1) {
                Some(b'=') => {
                    i += 2;
                    Token::Op(CmpOp::Le)
                }
                Some(b'>') => {
                    i += 2;
                    Token::Op(CmpOp::Ne)
                }
                _ => {
                    i += 1;
                    Token::Op(CmpOp::Lt)
                }
            },
            b'>' => {
                if bytes.get(i + 1) == Some(&b'=') {
                    i += 2;
                    Token::Op(CmpOp::Ge)
                } else {
                    i += 1;
                    Token::Op(CmpOp::Gt)
                }
            }
            b'"' => {
                let (text, end) = string(source, start)?;
                i = end;
                Token::Text(text)
            }
            b'0'..=b'9' | b'.' => {
                let (n, end) = number(source, start)?;
                i = end;
                Token::Number(n)
            }
            b'-' if bytes
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_digit() || *c == b'.') =>
            {
                let (n, end) = number(source, start)?;
                i = end;
                Token::Number(n)
            }
            b if b.is_ascii_alphabetic() || b == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Token::Word(source[start..i].to_owned())
            }
            _ => {
                let found = source[start..].chars().next().unwrap_or('\u{fffd}');
                return Err(RuleError::at(
                    source,
                    start,
                    RuleErrorKind::UnexpectedChar { found },
                ));
            }
        };
        tokens.push(Spanned {
            token,
            offset: start,
        });
    }
    tokens.push(Spanned {
        token: Token::End,
        offset: source.len(),
    });
    Ok(tokens)
}

/// Reads the string literal opening at `start`; returns it and the offset after it.
fn string(source: &str, start: usize) -> Result<(String, usize), RuleError> {
    let mut out = String::new();
    let mut chars = source[start + 1..].char_indices();
    while let Some((rel, c)) = chars.next() {
        match c {
            '"' => return Ok((out, start + 1 + rel + 1)),
            '\\' => match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, other)) => {
                    return Err(RuleError::at(
                        source,
                        start + 1 + rel,
                        RuleErrorKind::InvalidEscape { found: other },
                    ));
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err(RuleError::at(
        source,
        start,
        RuleErrorKind::UnterminatedString,
    ))
}

/// Reads the number starting at `start` (optional `-`, digits with `_` separators, an
/// optional fraction and exponent); returns it and the offset after it.
fn number(source: &str, start: usize) -> Result<(f64, usize), RuleError> {
    let bytes = source.as_bytes();
    let mut i = start;
    if bytes.get(i) == Some(&b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        while *i < bytes.len() && (bytes[*i].is_ascii_digit() || bytes[*i] == b'_') {
            *i += 1;
        }
    };
    digits(&mut i);
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        digits(&mut i);
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if bytes.get(j).is_some_and(u8::is_ascii_digit) {
            i = j;
            digits(&mut i);
        }
    }
    // A number runs into a letter (`30days`): report the whole word as the bad number.
    let mut end = i;
    while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
        end += 1;
    }
    let text = &source[start..end];
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    let bad = || {
        RuleError::at(
            source,
            start,
            RuleErrorKind::InvalidNumber {
                text: text.to_owned(),
            },
        )
    };
    if end != i || text.ends_with('_') || text.contains("._") || text.contains("_.") {
        return Err(bad());
    }
    match cleaned.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok((n, end)),
        _ => Err(bad()),
    }
}
