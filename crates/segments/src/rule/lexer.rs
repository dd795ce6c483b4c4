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
        if matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
            continue;
        }
        let (token, end) = token_at(source, start)?;
        i = end;
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

/// The token starting at `start` (which is in `source` and not white space), and the
/// offset after it.
fn token_at(source: &str, start: usize) -> Result<(Token, usize), RuleError> {
    let bytes = source.as_bytes();
    if let Some((token, len)) = punctuation(bytes, start) {
        return Ok((token, start + len));
    }
    match bytes[start] {
        b'"' => {
            let (text, end) = string(source, start)?;
            Ok((Token::Text(text), end))
        }
        b'0'..=b'9' | b'.' => {
            let (n, end) = number(source, start)?;
            Ok((Token::Number(n), end))
        }
        b'-' if bytes
            .get(start + 1)
            .is_some_and(|c| c.is_ascii_digit() || *c == b'.') =>
        {
            let (n, end) = number(source, start)?;
            Ok((Token::Number(n), end))
        }
        b if b.is_ascii_alphabetic() || b == b'_' => {
            let mut i = start;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            Ok((Token::Word(source[start..i].to_owned()), i))
        }
        _ => {
            let found = source[start..].chars().next().unwrap_or('\u{fffd}');
            Err(RuleError::at(
                source,
                start,
                RuleErrorKind::UnexpectedChar { found },
            ))
        }
    }
}

/// The bracket, comma or comparison operator at `i`, if there is one there, and its
/// length in bytes: `=` and `==` are equality, `!=` and `<>` inequality.
fn punctuation(bytes: &[u8], i: usize) -> Option<(Token, usize)> {
    let token = match (bytes.get(i)?, bytes.get(i + 1)) {
        (b'(', _) => (Token::LParen, 1),
        (b')', _) => (Token::RParen, 1),
        (b',', _) => (Token::Comma, 1),
        (b'=', Some(b'=')) => (Token::Op(CmpOp::Eq), 2),
        (b'=', _) => (Token::Op(CmpOp::Eq), 1),
        (b'!', Some(b'=')) => (Token::Op(CmpOp::Ne), 2),
        (b'<', Some(b'=')) => (Token::Op(CmpOp::Le), 2),
        (b'<', Some(b'>')) => (Token::Op(CmpOp::Ne), 2),
        (b'<', _) => (Token::Op(CmpOp::Lt), 1),
        (b'>', Some(b'=')) => (Token::Op(CmpOp::Ge), 2),
        (b'>', _) => (Token::Op(CmpOp::Gt), 1),
        _ => return None,
    };
    Some(token)
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
