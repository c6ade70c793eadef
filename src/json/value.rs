//! The parsed JSON tree: [`Value`] with its [`Position`], the value
//! [`Kind`]s, object [`Member`]s, [`Number`] kept as its literal text, and
//! [`JsonType`] for type-mismatch messages.

use std::fmt;

/// Where something starts in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// Byte offset from the start of the input.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A parsed JSON value and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// The value itself.
    pub kind: Kind,
    /// Position of its first character.
    pub position: Position,
}

/// The six JSON value kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    /// Members in document order; duplicate keys are kept (see [`ObjectReader`](super::ObjectReader)).
    Object(Vec<Member>),
}

/// One `"key": value` member of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_position: Position,
    pub value: Value,
}

/// A JSON number, kept as its literal text (valid per the RFC 8259 grammar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number(pub(super) String);

impl Number {
    /// The literal text, e.g. `1.0e3`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as Go's encoding/json decodes it into a float64 (correctly
    /// rounded; may be infinite for literals like `1e400`, which Go rejects).
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }

    /// The integer the claim rule accepts: decoded as float64, it must be
    /// finite, integral and in the i64 range (`1.0` → 1, `1e3` → 1000, `0.5`
    /// and `1e19` → `None`). Like c/image, digits beyond 2^53 are rounded.
    pub fn as_i64_exact(&self) -> Option<i64> {
        let f = self.to_f64();
        // ±2^63 are exact in f64; -2^63 is i64::MIN, 2^63 is the first value out of range.
        const TWO_POW_63: f64 = (1u64 << 63) as f64;
        if f.is_finite() && f.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&f) {
            Some(f as i64)
        } else {
            None
        }
    }
}

/// A JSON type, for "must be an object, not an array" messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonType::Null => "null",
            JsonType::Bool => "a boolean",
            JsonType::Number => "a number",
            JsonType::String => "a string",
            JsonType::Array => "an array",
            JsonType::Object => "an object",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{parse, ErrorKind};

    #[test]
    fn huge_numbers_are_kept_verbatim() {
        let digits = "9".repeat(10_000);
        let v = parse(digits.as_bytes()).unwrap();
        let n = v.as_number("n").unwrap();
        assert_eq!(n.as_str(), digits);
        assert_eq!(n.as_i64_exact(), None);
        assert_eq!(v.as_i64_exact("n").unwrap_err().kind, ErrorKind::OutOfRange);
        let v = parse(b"1e999999999999999999999").unwrap();
        assert_eq!(v.as_i64_exact("n").unwrap_err().kind, ErrorKind::OutOfRange);
        let v = parse(b"-1e-999999999999999999999").unwrap();
        assert_eq!(v.as_i64_exact("n").unwrap(), 0);
    }

    #[test]
    fn integer_rule_follows_go_float64() {
        let int = |s: &str| Number(s.to_owned()).as_i64_exact();
        assert_eq!(int("1.0"), Some(1));
        assert_eq!(int("1e3"), Some(1000));
        assert_eq!(int("-0"), Some(0));
        assert_eq!(int("1458239713"), Some(1_458_239_713));
        assert_eq!(int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(int("9223372036854774784"), Some(9_223_372_036_854_774_784));
        assert_eq!(int("9223372036854775807"), None); // rounds to 2^63
        assert_eq!(int("0.5"), None);
        assert_eq!(int("1.0000001"), None);
        let v = parse(b"{\"t\":0.5}").unwrap();
        let e = v.as_object("").unwrap().optional_i64_exact("t").unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotInteger);
        assert_eq!(e.message(), "t is not an integer");
    }
}
