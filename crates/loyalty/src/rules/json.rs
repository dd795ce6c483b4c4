//! A small, strict JSON reader (RFC 8259) for rule documents, feeding serde.
//!
//! The crate deliberately has no JSON library among its dependencies (JSON DTOs belong to
//! the HTTP layer); rule documents are the one JSON input the rules themselves define.
//! Reading through our own `Deserializer` also lets every error carry the path of the
//! offending value (`multipliers[2].when.weekdays[0]`), which a shop owner can act on,
//! where a line and column could only point into a text they may never have seen.
//!
//! Strict means: no trailing commas or comments, no duplicate keys, no control characters
//! in strings, no lone surrogates, nesting at most [`MAX_DEPTH`] deep, and at most
//! [`MAX_DOCUMENT_BYTES`](super::MAX_DOCUMENT_BYTES) bytes.

use super::{MAX_DOCUMENT_BYTES, RulesError};
use serde::de::value::StringDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// Deepest nesting of arrays and objects accepted.
const MAX_DEPTH: usize = 64;

/// Reads `input` as one JSON value of type `T`.
pub(super) fn from_str<T: DeserializeOwned>(input: &str) -> Result<T, RulesError> {
    if input.len() > MAX_DOCUMENT_BYTES {
        return Err(RulesError::Shape {
            path: String::new(),
            message: format!("the document is larger than {MAX_DOCUMENT_BYTES} bytes"),
        });
    }
    let value = Parser::new(input).document()?;
    T::deserialize(ValueDeserializer {
        value,
        path: &Path::Root,
    })
    .map_err(|e| RulesError::Shape {
        path: e.path.unwrap_or_default(),
        message: e.message,
    })
}

/// A parsed JSON value. Numbers keep the widest exact type they fit, like serde_json.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            depth: 0,
        }
    }

    fn document(mut self) -> Result<Value, RulesError> {
        let value = self.value()?;
        self.skip_whitespace();
        if self.pos < self.bytes.len() {
            return Err(self.error("unexpected characters after the document"));
        }
        Ok(value)
    }

    fn error(&self, message: impl Into<String>) -> RulesError {
        let before = &self.bytes[..self.pos.min(self.bytes.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        // Columns count characters, not bytes; `pos` is always on a character boundary.
        let column = self
            .text
            .get(line_start..self.pos.min(self.text.len()))
            .map_or(0, |s| s.chars().count())
            + 1;
        RulesError::Syntax {
            line,
            column,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8, message: &str) -> Result<(), RulesError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(message))
        }
    }

    fn value(&mut self) -> Result<Value, RulesError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a JSON value")),
            None => Err(self.error("unexpected end of the document")),
        }
    }

    fn nested(
        &mut self,
        read: fn(&mut Self) -> Result<Value, RulesError>,
    ) -> Result<Value, RulesError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        self.depth += 1;
        let value = read(self);
        self.depth -= 1;
        value
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, RulesError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a JSON value"))
        }
    }

    fn object(&mut self) -> Result<Value, RulesError> {
        self.pos += 1; // `{`
        let mut entries: Vec<(String, Value)> = Vec::new();
        let mut keys = HashSet::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(entries));
        }
        loop {
            self.skip_whitespace();
            let key_pos = self.pos;
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key in double quotes"));
            }
            let key = self.string()?;
            if !keys.insert(key.clone()) {
                self.pos = key_pos;
                return Err(self.error(format!("duplicate key {key:?}")));
            }
            self.skip_whitespace();
            self.expect(b':', "expected `:` after the key")?;
            let value = self.value()?;
            entries.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(entries));
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self) -> Result<Value, RulesError> {
        self.pos += 1; // `[`
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    fn string(&mut self) -> Result<String, RulesError> {
        self.pos += 1; // opening `"`
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            // The run stops at ASCII bytes only, so it is whole UTF-8 characters.
            out.push_str(self.text.get(run_start..self.pos).unwrap_or_default());
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(_) => return Err(self.error("control character in a string")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    fn escape(&mut self) -> Result<char, RulesError> {
        let Some(b) = self.peek() else {
            return Err(self.error("unterminated string"));
        };
        self.pos += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                let code = match first {
                    0xD800..=0xDBFF => {
                        if !self.bytes[self.pos..].starts_with(b"\\u") {
                            return Err(self.error("lone surrogate in a \\u escape"));
                        }
                        self.pos += 2;
                        let second = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return Err(self.error("lone surrogate in a \\u escape"));
                        }
                        0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(self.error("lone surrogate in a \\u escape")),
                    _ => first,
                };
                char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))?
            }
            _ => {
                self.pos -= 1;
                return Err(self.error("invalid escape"));
            }
        })
    }

    fn hex4(&mut self) -> Result<u32, RulesError> {
        let mut code = 0_u32;
        for _ in 0..4 {
            let digit = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.error("expected four hex digits after \\u"))?;
            code = code * 16 + digit;
            self.pos += 1;
        }
        Ok(code)
    }

    fn number(&mut self) -> Result<Value, RulesError> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("expected a digit")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            integer = false;
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("expected a digit after the decimal point"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            integer = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("expected a digit in the exponent"));
            }
            self.digits();
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        if integer {
            let exact = if negative {
                text.parse().ok().map(Value::I64)
            } else {
                text.parse().ok().map(Value::U64)
            };
            if let Some(value) = exact {
                return Ok(value);
            }
        }
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::F64(f)),
            _ => {
                self.pos = start;
                Err(self.error("number out of range"))
            }
        }
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }
}

/// Where a value sits in the document, built on the stack as deserialisation descends.
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(Path::Root, key) => f.write_str(key),
            Path::Key(parent, key) => write!(f, "{parent}.{key}"),
            Path::Index(parent, index) => write!(f, "{parent}[{index}]"),
        }
    }
}

/// A deserialisation error, tagged with the path of the innermost value it arose in.
#[derive(Debug)]
struct Error {
    path: Option<String>,
    message: String,
}

impl Error {
    fn at(mut self, path: &Path<'_>) -> Self {
        if self.path.is_none() {
            self.path = Some(path.to_string());
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error {
            path: None,
            message: message.to_string(),
        }
    }
}

struct ValueDeserializer<'p> {
    value: Value,
    path: &'p Path<'p>,
}

impl<'de> de::Deserializer<'de> for ValueDeserializer<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let path = self.path;
        let result: Result<V::Value, Error> = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::U64(n) => visitor.visit_u64(n),
            Value::I64(n) => visitor.visit_i64(n),
            Value::F64(n) => visitor.visit_f64(n),
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => {
                let len = items.len();
                let mut seq = Seq {
                    items: items.into_iter(),
                    index: 0,
                    path,
                };
                let value = visitor.visit_seq(&mut seq)?;
                if seq.items.len() == 0 {
                    Ok(value)
                } else {
                    Err(de::Error::invalid_length(len, &"fewer elements"))
                }
            }
            Value::Object(entries) => {
                let mut map = Map {
                    entries: entries.into_iter(),
                    value: None,
                    path,
                };
                let value = visitor.visit_map(&mut map)?;
                if map.entries.len() == 0 {
                    Ok(value)
                } else {
                    Err(de::Error::custom("unexpected extra entries"))
                }
            }
        };
        result.map_err(|e| e.at(path))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none().map_err(|e: Error| e.at(self.path)),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let path = self.path;
        match self.value {
            Value::String(s) => visitor.visit_enum(StringDeserializer::<Error>::new(s)),
            _ => Err(de::Error::custom(format_args!(
                "expected one of {}",
                variants
                    .iter()
                    .map(|v| format!("\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
        .map_err(|e| e.at(path))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

struct Seq<'p> {
    items: std::vec::IntoIter<Value>,
    index: usize,
    path: &'p Path<'p>,
}

impl<'de> SeqAccess<'de> for Seq<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(value) = self.items.next() else {
            return Ok(None);
        };
        let path = Path::Index(self.path, self.index);
        self.index += 1;
        seed.deserialize(ValueDeserializer { value, path: &path })
            .map(Some)
            .map_err(|e| e.at(&path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Map<'p> {
    entries: std::vec::IntoIter<(String, Value)>,
    value: Option<(String, Value)>,
    path: &'p Path<'p>,
}

impl<'de> MapAccess<'de> for Map<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        let parsed = seed
            .deserialize(StringDeserializer::<Error>::new(key.clone()))
            .map_err(|e| e.at(&Path::Key(self.path, &key)))?;
        self.value = Some((key, value));
        Ok(Some(parsed))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let Some((key, value)) = self.value.take() else {
            return Err(de::Error::custom("a map value was read before its key"));
        };
        let path = Path::Key(self.path, &key);
        seed.deserialize(ValueDeserializer { value, path: &path })
            .map_err(|e| e.at(&path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Value, RulesError> {
        Parser::new(text).document()
    }

    #[test]
    fn reads_every_kind_of_value() {
        let value =
            parse(r#" {"a": [1, -2, 3.5, "x\u00e9\ud83d\ude00\n", true, false, null, {}, []]} "#);
        assert_eq!(
            value,
            Ok(Value::Object(vec![(
                "a".into(),
                Value::Array(vec![
                    Value::U64(1),
                    Value::I64(-2),
                    Value::F64(3.5),
                    Value::String("xé😀\n".into()),
                    Value::Bool(true),
                    Value::Bool(false),
                    Value::Null,
                    Value::Object(vec![]),
                    Value::Array(vec![]),
                ])
            )]))
        );
        assert_eq!(parse("\"Trà sữa\""), Ok(Value::String("Trà sữa".into())));
        assert_eq!(
            parse("18446744073709551616"),
            Ok(Value::F64(18446744073709551616.0))
        );
    }

    #[test]
    fn refuses_what_json_does_not_allow() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\":1 \"b\":2}",
            "{a:1}",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "1e999",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"tab\there\"",
            "\"open",
            "tru",
            "nul",
            "NaN",
            "1 2",
            "// comment\n{}",
            "{\"a\":1,\"a\":2}",
        ] {
            assert!(
                matches!(parse(bad), Err(RulesError::Syntax { .. })),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn syntax_errors_point_at_line_and_column() {
        assert_eq!(
            parse("{\n  \"ä\": 1,\n  \"b\" 2\n}"),
            Err(RulesError::Syntax {
                line: 3,
                column: 7,
                message: "expected `:` after the key".into()
            })
        );
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(matches!(parse(&deep), Err(RulesError::Syntax { .. })));
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn shape_errors_name_the_path() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Inner {
            n: u32,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Outer {
            items: Vec<Inner>,
        }
        let err = |text: &str| from_str::<Outer>(text).err().map(|e| e.to_string());
        assert_eq!(
            err(r#"{"items": [{"n": 1}, {"n": "2"}]}"#).as_deref(),
            Some("items[1].n: invalid type: string \"2\", expected u32")
        );
        assert_eq!(
            err(r#"{"items": [{"m": 1}]}"#).as_deref(),
            Some("items[0].m: unknown field `m`, expected `n`")
        );
        assert_eq!(
            err(r#"{"items": [{}]}"#).as_deref(),
            Some("items[0]: missing field `n`")
        );
        assert_eq!(
            err("5").as_deref(),
            Some("invalid type: integer `5`, expected struct Outer")
        );
    }
}
