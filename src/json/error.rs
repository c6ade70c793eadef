//! JSON errors: [`SyntaxError`] (not JSON), [`ErrorKind`] (what is wrong),
//! [`JsonError`] (what, at which JSON path and position) and [`JsonErrors`]
//! for parsers that report every problem at once.

use std::fmt;

use super::{JsonType, Position};

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
    /// Nesting deeper than the number of levels the rules allow.
    #[error("nesting deeper than {0} levels")]
    TooDeep(usize),
    /// A number beyond the largest IEEE double ([`super::ReadRules::Go`] only).
    #[error("number out of the range of a 64-bit float")]
    NumberOutOfRange,
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
    pub fn len(&self) -> usize {
        self.0.len()
    }
    #[cfg(test)]
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
