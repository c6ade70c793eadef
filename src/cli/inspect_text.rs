//! Small text helpers shared by `inspect`'s reports for people (OpenPGP
//! and sigstore): quoting untrusted strings and showing claim timestamps.

use crate::time::rfc3339;

/// `"text"` with control characters, quotes and backslashes escaped, so an
/// untrusted string cannot drive the terminal.
pub(super) fn quoted(s: &str) -> String {
    format!("\"{}\"", s.escape_debug())
}

/// A claim's timestamp: Unix seconds and RFC 3339, or `(none)`.
pub(super) fn timestamp(t: Option<i64>) -> String {
    match t {
        Some(t) => format!("{t} ({})", rfc3339(t)),
        None => "(none)".into(),
    }
}
