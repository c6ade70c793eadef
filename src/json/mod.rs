//! Strict JSON reading for signature claims and policy files.
//!
//! The Rust counterpart of containers/image `signature/internal/json.go`
//! (`ParanoidUnmarshalJSONObject`). serde maps keep the last of duplicate keys
//! and `deny_unknown_fields` does not work on tagged enums, so [`parse`] builds
//! a [`Value`] tree that keeps every object member in document order,
//! duplicates included, with the line:column of every key and value; an
//! [`ObjectReader`] then rejects duplicate, unknown and missing keys and type
//! mismatches with errors naming the JSON path (`transports.docker["a.b"][0].keyPath`).
//!
//! The parser accepts exactly RFC 8259: no comments, trailing commas, byte
//! order mark, invalid UTF-8, unpaired surrogate escapes or data after the
//! value. (Go's encoding/json replaces the last two with U+FFFD; rejecting them
//! only affects malformed input.) Nesting deeper than [`MAX_DEPTH`] is an
//! error, so recursion is bounded; time is linear and no input makes it panic.
//! Lines and columns are 1-based; columns count Unicode scalar values.

use std::collections::HashSet;
use std::fmt;

/// Deepest nesting of arrays and objects accepted (signature claims and
/// policies need fewer than ten levels).
pub const MAX_DEPTH: usize = 64;

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
    /// Members in document order; duplicate keys are kept (see [`ObjectReader`]).
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
pub struct Number(String);

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

/// Why the input is not JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyntaxError {
    #[error("expected {expected}, found {}", found.map_or_else(|| "end of input".to_owned(), |c| format!("{c:?}")))]
    Expected {
        expected: &'static str,
        found: Option<char>,
    },
    #[error("invalid UTF-8")]
    InvalidUtf8,
    #[error("a byte order mark (BOM) is not allowed")]
    ByteOrderMark,
    #[error("unescaped control character {0:?} in a string")]
    ControlCharacter(char),
    #[error("invalid escape sequence in a string")]
    InvalidEscape,
    #[error("unpaired surrogate \\u{0:04x} in a string")]
    LoneSurrogate(u16),
    #[error("invalid number (the grammar is -?digits[.digits][e[+-]digits], no leading zeros)")]
    InvalidNumber,
    #[error("invalid literal (expected true, false or null)")]
    InvalidLiteral,
    #[error("nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// What is wrong; see [`JsonError`] for where.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input is not JSON.
    Syntax(SyntaxError),
    /// Non-whitespace after the top-level value.
    TrailingData,
    UnknownKey {
        key: String,
    },
    MissingKey {
        key: String,
    },
    DuplicateKey {
        key: String,
    },
    WrongType {
        expected: JsonType,
        found: JsonType,
    },
    /// A number that is not integral (e.g. `0.5`).
    NotInteger,
    /// An integral number outside the i64 range.
    OutOfRange,
    /// A semantic check by the caller failed (see [`JsonError::invalid`]).
    Invalid {
        message: String,
    },
}

/// A JSON problem with its JSON path and position.
///
/// `path` is empty for the top-level value and for syntax errors. Display is
/// `{message} (line L, column C)`; [`JsonError::message`] omits the position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} (line {line}, column {column})", self.message())]
pub struct JsonError {
    pub kind: ErrorKind,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub offset: usize,
}

impl JsonError {
    /// An error of `kind` about the value at `path` that starts at `at`.
    pub fn new(kind: ErrorKind, path: impl Into<String>, at: Position) -> JsonError {
        JsonError {
            kind,
            path: path.into(),
            line: at.line,
            column: at.column,
            offset: at.offset,
        }
    }

    /// A semantic error found by the caller, e.g. "must not be empty".
    pub fn invalid(path: impl Into<String>, at: Position, message: impl Into<String>) -> JsonError {
        JsonError::new(
            ErrorKind::Invalid {
                message: message.into(),
            },
            path,
            at,
        )
    }

    /// Where the error is.
    pub fn position(&self) -> Position {
        Position {
            offset: self.offset,
            line: self.line,
            column: self.column,
        }
    }

    /// The message without the position, naming the key and path.
    pub fn message(&self) -> String {
        let p = &self.path;
        match &self.kind {
            ErrorKind::Syntax(e) => format!("invalid JSON: {e}"),
            ErrorKind::TrailingData => "unexpected data after JSON value".to_owned(),
            ErrorKind::UnknownKey { key } => format!("unknown key {key:?} in {}", object_name(p)),
            ErrorKind::MissingKey { key } => format!("key {key:?} missing in {}", object_name(p)),
            ErrorKind::DuplicateKey { key } => {
                format!("duplicate key {key:?} in {}", object_name(p))
            }
            ErrorKind::WrongType { expected, found } => {
                format!("{} must be {expected}, not {found}", value_name(p))
            }
            ErrorKind::NotInteger => format!("{} is not an integer", value_name(p)),
            ErrorKind::OutOfRange => {
                format!("{} is outside the 64-bit integer range", value_name(p))
            }
            ErrorKind::Invalid { message } if p.is_empty() => message.clone(),
            ErrorKind::Invalid { message } => format!("{p}: {message}"),
        }
    }
}

/// `path`, or a phrase for the top level, after "in".
pub(crate) fn object_name(path: &str) -> &str {
    if path.is_empty() {
        "the top-level object"
    } else {
        path
    }
}

/// `path`, or a phrase for the top level, as a subject.
pub(crate) fn value_name(path: &str) -> &str {
    if path.is_empty() {
        "the top-level value"
    } else {
        path
    }
}

/// Several errors, for parsers that report every problem at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonErrors(Vec<JsonError>);

impl JsonErrors {
    pub fn new() -> JsonErrors {
        JsonErrors::default()
    }
    pub fn push(&mut self, e: JsonError) {
        self.0.push(e);
    }
    /// Keeps the value of `r`, or records its error and returns `None`.
    pub fn check<T>(&mut self, r: Result<T, JsonError>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> std::slice::Iter<'_, JsonError> {
        self.0.iter()
    }
    pub fn into_vec(self) -> Vec<JsonError> {
        self.0
    }
    /// `Ok(())` if nothing was recorded, else all errors sorted by position.
    pub fn finish(mut self) -> Result<(), JsonErrors> {
        if self.0.is_empty() {
            return Ok(());
        }
        self.0.sort_by_key(|e| e.offset); // stable: same-place errors keep their order
        Err(self)
    }
}

impl Extend<JsonError> for JsonErrors {
    fn extend<I: IntoIterator<Item = JsonError>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl fmt::Display for JsonErrors {
    /// One error per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for JsonErrors {}

/// The path of member `key` of the object at `parent`: `parent.key` when the
/// key is a plain word (ASCII letters, digits, `_`, `-`), else `parent["key"]`
/// with the key escaped, so that any untrusted key is safe to print.
pub fn key_path(parent: &str, key: &str) -> String {
    let plain = key.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    match (plain, parent.is_empty()) {
        (true, true) => key.to_owned(),
        (true, false) => format!("{parent}.{key}"),
        (false, _) => format!("{parent}[{key:?}]"),
    }
}

/// The path of element `index` of the array at `parent`: `parent[index]`.
pub fn index_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// Appends `s` as a JSON string exactly as Go's `json.Marshal` writes it
/// (Go ≥ 1.22): `"` `\` and `\b \f \n \r \t` as two-character escapes, other
/// controls and `<` `>` `&` U+2028 U+2029 as lowercase `\u00xx`/`\u20xx`,
/// everything else (including DEL and non-ASCII) verbatim.
pub fn write_go_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0'..='\u{1f}' | '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

impl Value {
    /// The JSON type of this value.
    pub fn json_type(&self) -> JsonType {
        match self.kind {
            Kind::Null => JsonType::Null,
            Kind::Bool(_) => JsonType::Bool,
            Kind::Number(_) => JsonType::Number,
            Kind::String(_) => JsonType::String,
            Kind::Array(_) => JsonType::Array,
            Kind::Object(_) => JsonType::Object,
        }
    }

    fn wrong_type(&self, path: &str, expected: JsonType) -> JsonError {
        JsonError::new(
            ErrorKind::WrongType {
                expected,
                found: self.json_type(),
            },
            path,
            self.position,
        )
    }

    /// This value as an object; `path` is its JSON path (empty for the top
    /// level), used in errors. Fails on the first duplicate key, so a reader
    /// never silently picks one of two values.
    pub fn as_object(&self, path: &str) -> Result<ObjectReader<'_>, JsonError> {
        let reader = self.object_reader(path)?;
        match reader.duplicate_key_errors().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(reader),
        }
    }

    /// Like [`Value::as_object`] but records every problem (the type error or
    /// all duplicate keys) in `errors`; returns a reader whenever this is an
    /// object, so the caller can go on checking its members. With duplicates,
    /// the reader's getters see the first occurrence (and `errors` is not empty).
    pub fn as_object_reporting(&self, path: &str, errors: &mut JsonErrors) -> Option<ObjectReader<'_>> {
        let reader = errors.check(self.object_reader(path))?;
        errors.extend(reader.duplicate_key_errors());
        Some(reader)
    }

    fn object_reader(&self, path: &str) -> Result<ObjectReader<'_>, JsonError> {
        match &self.kind {
            Kind::Object(members) => Ok(ObjectReader {
                path: path.to_owned(),
                position: self.position,
                members,
                taken: vec![false; members.len()],
            }),
            _ => Err(self.wrong_type(path, JsonType::Object)),
        }
    }

    /// This value as a string (`null` is an error).
    pub fn as_str(&self, path: &str) -> Result<&str, JsonError> {
        match &self.kind {
            Kind::String(s) => Ok(s),
            _ => Err(self.wrong_type(path, JsonType::String)),
        }
    }

    /// This value as an array; use [`index_path`] for the elements' paths.
    pub fn as_array(&self, path: &str) -> Result<&[Value], JsonError> {
        match &self.kind {
            Kind::Array(items) => Ok(items),
            _ => Err(self.wrong_type(path, JsonType::Array)),
        }
    }

    pub fn as_number(&self, path: &str) -> Result<&Number, JsonError> {
        match &self.kind {
            Kind::Number(n) => Ok(n),
            _ => Err(self.wrong_type(path, JsonType::Number)),
        }
    }

    /// This value as an integer under the rule of [`Number::as_i64_exact`].
    pub fn as_i64_exact(&self, path: &str) -> Result<i64, JsonError> {
        let n = self.as_number(path)?;
        n.as_i64_exact().ok_or_else(|| {
            let f = n.to_f64();
            let kind = if f.is_infinite() || f.fract() == 0.0 {
                ErrorKind::OutOfRange
            } else {
                ErrorKind::NotInteger
            };
            JsonError::new(kind, path, self.position)
        })
    }
}

/// Strict access to one object's members (the `ParanoidUnmarshalJSONObject`
/// helper). Take the known members with the getters, then call
/// [`ObjectReader::deny_unknown`]: every member not taken is an error.
///
/// ```
/// # use imgsig::json;
/// let doc = json::parse(br#"{"image":{"docker-manifest-digest":"sha256:00"}}"#).unwrap();
/// let mut top = doc.as_object("").unwrap();
/// let mut image = top.required_object("image").unwrap();
/// assert_eq!(image.required_str("docker-manifest-digest").unwrap(), "sha256:00");
/// image.deny_unknown().unwrap();
/// top.deny_unknown().unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct ObjectReader<'a> {
    path: String,
    position: Position,
    members: &'a [Member],
    taken: Vec<bool>,
}

impl<'a> ObjectReader<'a> {
    /// The object's JSON path (empty for the top level).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Where the object starts (its `{`).
    pub fn position(&self) -> Position {
        self.position
    }

    /// All members in document order, whether taken or not.
    pub fn members(&self) -> &'a [Member] {
        self.members
    }

    /// The path of member `key` of this object.
    pub fn child_path(&self, key: &str) -> String {
        key_path(&self.path, key)
    }

    /// Takes member `key` if present (a `null` value is returned as such).
    pub fn optional(&mut self, key: &str) -> Option<&'a Value> {
        let mut found = None;
        for (m, taken) in self.members.iter().zip(&mut self.taken) {
            if m.key == key {
                *taken = true;
                found = found.or(Some(&m.value));
            }
        }
        found
    }

    /// Takes member `key`; missing → `key "k" missing in <path>`.
    pub fn required(&mut self, key: &str) -> Result<&'a Value, JsonError> {
        self.optional(key).ok_or_else(|| {
            JsonError::new(
                ErrorKind::MissingKey { key: key.to_owned() },
                self.path.clone(),
                self.position,
            )
        })
    }

    pub fn required_str(&mut self, key: &str) -> Result<&'a str, JsonError> {
        self.required(key)?.as_str(&self.child_path(key))
    }

    /// `None` if absent; present but not a string (including `null`) is an error.
    pub fn optional_str(&mut self, key: &str) -> Result<Option<&'a str>, JsonError> {
        self.optional(key).map(|v| v.as_str(&self.child_path(key))).transpose()
    }

    pub fn required_object(&mut self, key: &str) -> Result<ObjectReader<'a>, JsonError> {
        self.required(key)?.as_object(&self.child_path(key))
    }

    pub fn optional_object(&mut self, key: &str) -> Result<Option<ObjectReader<'a>>, JsonError> {
        self.optional(key)
            .map(|v| v.as_object(&self.child_path(key)))
            .transpose()
    }

    pub fn required_array(&mut self, key: &str) -> Result<&'a [Value], JsonError> {
        self.required(key)?.as_array(&self.child_path(key))
    }

    pub fn optional_array(&mut self, key: &str) -> Result<Option<&'a [Value]>, JsonError> {
        self.optional(key)
            .map(|v| v.as_array(&self.child_path(key)))
            .transpose()
    }

    pub fn optional_i64_exact(&mut self, key: &str) -> Result<Option<i64>, JsonError> {
        self.optional(key)
            .map(|v| v.as_i64_exact(&self.child_path(key)))
            .transpose()
    }

    /// Takes every member, for objects used as maps with arbitrary keys
    /// (e.g. policy `transports`).
    pub fn take_all(&mut self) -> &'a [Member] {
        self.taken.iter_mut().for_each(|t| *t = true);
        self.members
    }

    /// The first member whose key is not in `known`. Call it before the
    /// getters where a misspelt key should be reported as unknown rather than
    /// as the correct key missing (what c/image reports first).
    pub fn deny_unknown_except(&self, known: &[&str]) -> Result<(), JsonError> {
        match self.members.iter().find(|m| !known.contains(&m.key.as_str())) {
            Some(m) => Err(self.unknown(m)),
            None => Ok(()),
        }
    }

    /// Fails on the first member that no getter took.
    pub fn deny_unknown(&self) -> Result<(), JsonError> {
        match self.unknown_key_errors().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// An error for every member that no getter took, in document order.
    pub fn unknown_key_errors(&self) -> Vec<JsonError> {
        self.members
            .iter()
            .zip(&self.taken)
            .filter(|(_, t)| !**t)
            .map(|(m, _)| self.unknown(m))
            .collect()
    }

    /// `unknown key "k" in <path>` at `m`'s key (also for keys a caller finds
    /// invalid, like a malformed policy scope).
    pub fn unknown(&self, m: &Member) -> JsonError {
        JsonError::new(
            ErrorKind::UnknownKey { key: m.key.clone() },
            self.path.clone(),
            m.key_position,
        )
    }

    /// An error at each repeated occurrence of a key.
    pub fn duplicate_key_errors(&self) -> Vec<JsonError> {
        let mut seen = HashSet::new();
        self.members
            .iter()
            .filter(|m| !seen.insert(m.key.as_str()))
            .map(|m| {
                JsonError::new(
                    ErrorKind::DuplicateKey { key: m.key.clone() },
                    self.path.clone(),
                    m.key_position,
                )
            })
            .collect()
    }
}

/// Parses one JSON text: a single value, optionally surrounded by whitespace.
pub fn parse(input: &[u8]) -> Result<Value, JsonError> {
    let start = Position {
        offset: 0,
        line: 1,
        column: 1,
    };
    if input.starts_with(b"\xEF\xBB\xBF") {
        return Err(JsonError::new(ErrorKind::Syntax(SyntaxError::ByteOrderMark), "", start));
    }
    let src = std::str::from_utf8(input).map_err(|e| {
        JsonError::new(
            ErrorKind::Syntax(SyntaxError::InvalidUtf8),
            "",
            locate(input, e.valid_up_to()),
        )
    })?;
    let mut p = Parser::new(src);
    p.skip_ws();
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(JsonError::new(ErrorKind::TrailingData, "", p.here()));
    }
    Ok(value)
}

/// Line and column of `offset` in `input` (only used once, for a UTF-8 error;
/// `input[..offset]` is valid UTF-8).
fn locate(input: &[u8], offset: usize) -> Position {
    let before = &input[..offset];
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    Position {
        offset,
        line: 1 + before.iter().filter(|&&b| b == b'\n').count(),
        column: 1 + count_chars(&before[line_start..]),
    }
}

fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: usize,
    line_start: usize,
    /// Column cache: `col` is the column of byte `col_offset` on the current
    /// line, so computing successive positions stays linear overall.
    col_offset: usize,
    col: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Parser<'a> {
        Parser {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            line: 1,
            line_start: 0,
            col_offset: 0,
            col: 1,
        }
    }

    fn at(&mut self, offset: usize) -> Position {
        if self.col_offset < self.line_start || offset < self.col_offset {
            self.col_offset = self.line_start;
            self.col = 1;
        }
        self.col += count_chars(self.bytes.get(self.col_offset..offset).unwrap_or_default());
        self.col_offset = offset;
        Position {
            offset,
            line: self.line,
            column: self.col,
        }
    }

    fn here(&mut self) -> Position {
        self.at(self.pos)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn syntax_at(&mut self, offset: usize, e: SyntaxError) -> JsonError {
        JsonError::new(ErrorKind::Syntax(e), "", self.at(offset))
    }

    fn expected(&mut self, expected: &'static str) -> JsonError {
        let found = self.src.get(self.pos..).and_then(|s| s.chars().next());
        self.syntax_at(self.pos, SyntaxError::Expected { expected, found })
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\r' => {}
                b'\n' => {
                    self.line += 1;
                    self.line_start = self.pos + 1;
                }
                _ => break,
            }
            self.pos += 1;
        }
    }

    /// A value; `depth` is the number of enclosing arrays/objects.
    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        let position = self.here();
        let kind = match self.peek() {
            Some(b'{' | b'[') if depth >= MAX_DEPTH => return Err(self.syntax_at(self.pos, SyntaxError::TooDeep)),
            Some(b'{') => Kind::Object(self.object(depth + 1)?),
            Some(b'[') => Kind::Array(self.array(depth + 1)?),
            Some(b'"') => Kind::String(self.string()?),
            Some(b't') => self.literal("true", Kind::Bool(true))?,
            Some(b'f') => self.literal("false", Kind::Bool(false))?,
            Some(b'n') => self.literal("null", Kind::Null)?,
            Some(b'-' | b'0'..=b'9') => Kind::Number(self.number()?),
            _ => return Err(self.expected("a JSON value")),
        };
        Ok(Value { kind, position })
    }

    fn object(&mut self, depth: usize) -> Result<Vec<Member>, JsonError> {
        self.pos += 1; // '{'
        let mut members = Vec::new();
        self.skip_ws();
        if self.eat(b'}') {
            return Ok(members);
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.expected("a string key"));
            }
            let key_position = self.here();
            let key = self.string()?;
            self.skip_ws();
            if !self.eat(b':') {
                return Err(self.expected("':' after an object key"));
            }
            self.skip_ws();
            let value = self.value(depth)?;
            members.push(Member {
                key,
                key_position,
                value,
            });
            self.skip_ws();
            if self.eat(b'}') {
                return Ok(members);
            }
            if !self.eat(b',') {
                return Err(self.expected("',' or '}'"));
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Vec<Value>, JsonError> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat(b']') {
            return Ok(items);
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            if self.eat(b']') {
                return Ok(items);
            }
            if !self.eat(b',') {
                return Err(self.expected("',' or ']'"));
            }
        }
    }

    fn literal(&mut self, word: &'static str, kind: Kind) -> Result<Kind, JsonError> {
        if self
            .bytes
            .get(self.pos..)
            .unwrap_or_default()
            .starts_with(word.as_bytes())
        {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.syntax_at(self.pos, SyntaxError::InvalidLiteral))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Number, JsonError> {
        let start = self.pos;
        self.eat(b'-');
        let int_digits = self.digits();
        let leading_zero = int_digits > 1 && self.bytes.get(self.pos - int_digits) == Some(&b'0');
        let mut ok = int_digits > 0 && !leading_zero;
        if ok && self.eat(b'.') {
            ok = self.digits() > 0;
        }
        if ok && matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            ok = self.digits() > 0;
        }
        if !ok {
            return Err(self.syntax_at(start, SyntaxError::InvalidNumber));
        }
        // The scanned bytes are ASCII, so both ends are char boundaries.
        Ok(Number(self.src.get(start..self.pos).unwrap_or_default().to_owned()))
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // '"'
        let mut out = String::new();
        loop {
            let start = self.pos;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            // Stops only at ASCII bytes or the end, so the slice is on char boundaries.
            out.push_str(self.src.get(start..self.pos).unwrap_or_default());
            match self.peek() {
                None => return Err(self.expected("'\"' closing the string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => out.push(self.escape()?),
                Some(b) => return Err(self.syntax_at(self.pos, SyntaxError::ControlCharacter(char::from(b)))),
            }
        }
    }

    /// An escape sequence at `self.pos` (the backslash).
    fn escape(&mut self) -> Result<char, JsonError> {
        let at = self.pos;
        self.pos += 1;
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let hi = self.hex4(at)?;
                return match hi {
                    0xD800..=0xDBFF => {
                        let low = if self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u") {
                            self.pos += 2;
                            Some(self.hex4(at)?)
                        } else {
                            None
                        };
                        match low {
                            Some(lo @ 0xDC00..=0xDFFF) => {
                                let c = 0x10000 + ((u32::from(hi) - 0xD800) << 10) + (u32::from(lo) - 0xDC00);
                                char::from_u32(c).ok_or_else(|| self.syntax_at(at, SyntaxError::LoneSurrogate(hi)))
                            }
                            _ => Err(self.syntax_at(at, SyntaxError::LoneSurrogate(hi))),
                        }
                    }
                    0xDC00..=0xDFFF => Err(self.syntax_at(at, SyntaxError::LoneSurrogate(hi))),
                    _ => char::from_u32(u32::from(hi)).ok_or_else(|| self.syntax_at(at, SyntaxError::InvalidEscape)),
                };
            }
            _ => return Err(self.syntax_at(at, SyntaxError::InvalidEscape)),
        };
        self.pos += 1;
        Ok(c)
    }

    /// Four hex digits of a `\u` escape that started at `at`.
    fn hex4(&mut self, at: usize) -> Result<u16, JsonError> {
        let mut v: u16 = 0;
        for _ in 0..4 {
            let d = self.peek().and_then(|b| char::from(b).to_digit(16));
            let Some(d) = d else {
                return Err(self.syntax_at(at, SyntaxError::InvalidEscape));
            };
            v = (v << 4) | d as u16;
            self.pos += 1;
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn syntax(input: &[u8]) -> SyntaxError {
        match parse(input) {
            Err(JsonError {
                kind: ErrorKind::Syntax(e),
                ..
            }) => e,
            other => panic!(
                "{:?}: expected a syntax error, got {other:?}",
                String::from_utf8_lossy(input)
            ),
        }
    }

    fn string_of(input: &str) -> String {
        match parse(input.as_bytes()).unwrap().kind {
            Kind::String(s) => s,
            k => panic!("not a string: {k:?}"),
        }
    }

    #[test]
    fn parses_valid_documents() {
        for ok in [
            "{}",
            "[]",
            "0",
            "-0",
            "1.5e-3",
            "-12E+2",
            "true",
            "false",
            "null",
            "\"\"",
            " \t\r\n{ } \n",
            r#"{"a":[1,{"b":null},[],"x"],"c":{"d":{"e":true}}}"#,
            "[0.0,1e0,1E-0,123456789012345678901234567890,-1.25e+400]",
        ] {
            parse(ok.as_bytes()).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
        }
    }

    #[test]
    fn keeps_members_in_order_with_duplicates() {
        let v = parse(br#"{"b":1,"a":2,"b":3}"#).unwrap();
        let Kind::Object(m) = &v.kind else { panic!() };
        let keys: Vec<_> = m.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["b", "a", "b"]);
    }

    #[test]
    fn decodes_string_escapes() {
        assert_eq!(string_of(r#""a\"\\\/\b\f\n\r\t""#), "a\"\\/\u{8}\u{c}\n\r\t");
        assert_eq!(string_of(r#""\u0041\u00e9\u2028\u0000""#), "Aé\u{2028}\0");
        assert_eq!(string_of(r#""\ud83d\ude00 \uD83D\uDE00""#), "😀 😀");
        assert_eq!(string_of("\"é😀\u{7f}\""), "é😀\u{7f}");
    }

    #[test]
    fn positions_are_line_and_character_column() {
        let v = parse("{\n  \"é\": [1,\n\t\"x\"]}".as_bytes()).unwrap();
        assert_eq!(
            v.position,
            Position {
                offset: 0,
                line: 1,
                column: 1
            }
        );
        let Kind::Object(m) = &v.kind else { panic!() };
        assert_eq!((m[0].key_position.line, m[0].key_position.column), (2, 3));
        assert_eq!((m[0].value.position.line, m[0].value.position.column), (2, 8));
        let Kind::Array(items) = &m[0].value.kind else { panic!() };
        assert_eq!((items[1].position.line, items[1].position.column), (3, 2));
        let e = parse(b"[1,\n  2,\n   x]").unwrap_err();
        assert_eq!((e.line, e.column, e.offset), (3, 4, 12));
        assert!(e.to_string().ends_with("(line 3, column 4)"), "{e}");
    }

    #[test]
    fn rejects_every_class_of_malformed_input() {
        use SyntaxError::*;
        let expected = |e| matches!(e, Expected { .. });
        type Check = fn(SyntaxError) -> bool;
        let cases: &[(&[u8], Check)] = &[
            (b"", expected),
            (b"   ", expected),
            (b"{", expected),
            (b"}", expected),
            (b"[1,]", expected),
            (br#"{"a":1,}"#, expected),
            (br#"{'a':1}"#, expected),
            (b"{a:1}", expected),
            (b"[1 2]", expected),
            (br#"{"a" 1}"#, expected),
            (br#"{"a":}"#, expected),
            (br#"{"a":1"#, expected),
            (br#"{"a"}"#, expected),
            (b"[", expected),
            (b"// c\n1", expected),
            (b"/* c */ 1", expected),
            (b"NaN", expected),
            (b"+1", expected),
            (b".5", expected),
            (b"01", |e| e == InvalidNumber),
            (b"-", |e| e == InvalidNumber),
            (b"-a", |e| e == InvalidNumber),
            (b"1.", |e| e == InvalidNumber),
            (b"1.e3", |e| e == InvalidNumber),
            (b"1e", |e| e == InvalidNumber),
            (b"1e+", |e| e == InvalidNumber),
            (b"-01.5", |e| e == InvalidNumber),
            (b"tru", |e| e == InvalidLiteral),
            (b"nul", |e| e == InvalidLiteral),
            (b"True", expected),
            (b"\"abc", expected),
            (b"\"abc\\", |e| e == InvalidEscape),
            (br#""\x""#, |e| e == InvalidEscape),
            (br#""\u12""#, |e| e == InvalidEscape),
            (br#""\u12G4""#, |e| e == InvalidEscape),
            (br#""\U0041""#, |e| e == InvalidEscape),
            (br#""\ud800""#, |e| e == LoneSurrogate(0xd800)),
            (br#""\udc00""#, |e| e == LoneSurrogate(0xdc00)),
            (br#""\ud800\u0041""#, |e| e == LoneSurrogate(0xd800)),
            (br#""\ud800\ud800""#, |e| e == LoneSurrogate(0xd800)),
            (br#""\ud800x""#, |e| e == LoneSurrogate(0xd800)),
            (b"\"a\nb\"", |e| e == ControlCharacter('\n')),
            (b"\"a\tb\"", |e| e == ControlCharacter('\t')),
            (b"\"\x00\"", |e| e == ControlCharacter('\0')),
            (b"\"\x1f\"", |e| e == ControlCharacter('\u{1f}')),
            (b"\"\xff\"", |e| e == InvalidUtf8),
            (b"\"\xc0\xaf\"", |e| e == InvalidUtf8),
            (b"\"\xed\xa0\x80\"", |e| e == InvalidUtf8),
            (b"\xEF\xBB\xBF{}", |e| e == ByteOrderMark),
            (b"\x0c1", expected),
            ("\u{a0}1".as_bytes(), expected),
        ];
        for (input, ok) in cases {
            let e = syntax(input);
            assert!(ok(e), "{:?}: wrong error {e:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn rejects_trailing_data() {
        for bad in [
            "{} x",
            "{}{}",
            "1 2",
            "[]]",
            "{}\n,",
            "null null",
            "\"a\"\"b\"",
            "truex",
            "0x10",
        ] {
            let e = parse(bad.as_bytes()).unwrap_err();
            assert_eq!(e.kind, ErrorKind::TrailingData, "{bad:?}");
            assert!(e.to_string().starts_with("unexpected data after JSON value"), "{e}");
        }
        assert!(parse(b"{} \n\t\r ").is_ok());
    }

    #[test]
    fn depth_is_bounded() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(nested(MAX_DEPTH).as_bytes()).is_ok());
        assert_eq!(syntax(nested(MAX_DEPTH + 1).as_bytes()), SyntaxError::TooDeep);
        assert_eq!(syntax("[".repeat(100_000).as_bytes()), SyntaxError::TooDeep);
        assert_eq!(syntax(r#"{"a":"#.repeat(100_000).as_bytes()), SyntaxError::TooDeep);
        let e = parse("[{\"a\":".repeat(50_000).as_bytes()).unwrap_err();
        assert_eq!(e.column, MAX_DEPTH / 2 * 6 + 1);
    }

    #[test]
    fn long_single_line_input_is_fast() {
        // Columns are computed incrementally: 200k values on one line must not be quadratic.
        let doc = format!("[{}1]", "1,".repeat(200_000));
        assert!(parse(doc.as_bytes()).is_ok());
        let doc = format!("[{}x]", "\"é\",".repeat(200_000));
        assert_eq!(parse(doc.as_bytes()).unwrap_err().column, 200_000 * 4 + 2);
    }

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

    #[test]
    fn never_panics_on_mutations_and_truncations() {
        let doc = br#"{"a":[1,-2.5e3,"\u00e9\ud83d\ude00",{"b":null,"c":true}],"d":"x\"y"}"#;
        for i in 0..=doc.len() {
            let _ = parse(&doc[..i]);
            for b in [
                0u8, b'"', b'\\', b'{', b'[', b']', b'}', b',', b':', b'-', b'0', b'e', 0xff, 0xc3, b'\n',
            ] {
                let mut m = doc.to_vec();
                if i < m.len() {
                    m[i] = b;
                    let _ = parse(&m);
                    m.insert(i, b);
                    let _ = parse(&m);
                }
            }
        }
    }

    #[test]
    fn object_reader_strictness() {
        let v = parse(br#"{"s":"x","o":{"k":1},"a":[1],"n":null,"b":true,"extra":1,"more":2}"#).unwrap();
        let mut o = v.as_object("").unwrap();
        assert_eq!(o.required_str("s").unwrap(), "x");
        assert_eq!(o.required_object("o").unwrap().path(), "o");
        assert_eq!(o.required_array("a").unwrap().len(), 1);
        assert!(o.optional("b").is_some());
        assert_eq!(o.optional_str("absent").unwrap(), None);
        let e = o.optional_str("n").unwrap_err();
        assert_eq!(e.message(), "n must be a string, not null");
        let e = o.required("missing").unwrap_err();
        assert_eq!(e.message(), r#"key "missing" missing in the top-level object"#);
        let e = o.deny_unknown().unwrap_err();
        assert_eq!(e.message(), r#"unknown key "extra" in the top-level object"#);
        assert_eq!((e.line, e.column), (1, 48));
        assert_eq!(o.unknown_key_errors().len(), 2);
        o.take_all();
        o.deny_unknown().unwrap();

        let e = v.as_array("root").unwrap_err();
        assert_eq!(e.message(), "root must be an array, not an object");
        let e = parse(b"[]").unwrap().as_object("").unwrap_err();
        assert_eq!(e.message(), "the top-level value must be an object, not an array");
    }

    #[test]
    fn deny_unknown_except_reports_misspelling_before_missing() {
        let v = parse(br#"{"Docker-manifest-digest":"x"}"#).unwrap();
        let o = v.as_object("critical.image").unwrap();
        let e = o.deny_unknown_except(&["docker-manifest-digest"]).unwrap_err();
        assert_eq!(e.message(), r#"unknown key "Docker-manifest-digest" in critical.image"#);
    }

    #[test]
    fn duplicate_keys_are_errors_at_every_reader() {
        let v = parse(br#"{"a":{"x":1,"y":2,"x":3},"a":1}"#).unwrap();
        let e = v.as_object("").unwrap_err();
        assert_eq!(e.message(), r#"duplicate key "a" in the top-level object"#);
        assert_eq!(e.column, 26);
        let Kind::Object(m) = &v.kind else { panic!() };
        let e = m[0].value.as_object("a").unwrap_err();
        assert_eq!(e.message(), r#"duplicate key "x" in a"#);
        let mut errors = JsonErrors::new();
        let mut o = m[0].value.as_object_reporting("a", &mut errors).unwrap();
        assert_eq!(o.optional_i64_exact("x").unwrap(), Some(1));
        o.optional("y");
        o.deny_unknown().unwrap(); // the second "x" is a duplicate, not also "unknown"
        assert_eq!(errors.len(), 1);
        assert!(parse(b"[]").unwrap().as_object_reporting("p", &mut errors).is_none());
        let all = errors.finish().unwrap_err();
        assert_eq!(all.len(), 2);
        assert_eq!(all.iter().next().unwrap().offset, 0); // sorted by position
        assert_eq!(all.to_string().lines().count(), 2);
    }

    #[test]
    fn paths_quote_unusual_keys() {
        let p = key_path("", "transports");
        let p = key_path(&p, "docker");
        let p = key_path(&p, "example.com");
        let p = key_path(&index_path(&p, 0), "keyPath");
        assert_eq!(p, r#"transports.docker["example.com"][0].keyPath"#);
        assert_eq!(key_path("a", "docker-manifest-digest"), "a.docker-manifest-digest");
        assert_eq!(key_path("a", ""), r#"a[""]"#);
        assert_eq!(key_path("", "1x"), r#"["1x"]"#);
        assert_eq!(key_path("a", "\u{1b}[31m\n"), r#"a["\u{1b}[31m\n"]"#);
    }

    #[test]
    fn go_string_escaping() {
        let mut out = String::new();
        write_go_string(
            &mut out,
            "<a href=\"x\">&\u{2028}\u{2029}\\\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}é😀/",
        );
        assert_eq!(
            out,
            r#""\u003ca href=\"x\"\u003e\u0026\u2028\u2029\\\b\f\n\r\t\u0001\u001f"#.to_owned() + "\u{7f}é😀/\""
        );
    }
}
