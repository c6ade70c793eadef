//! [`GoReader`]: one JSON text read piece by piece under
//! [`ReadRules::GoLossy`], for documents of which only a few members matter
//! and the rest may be nested arbitrarily deep (manifests). The caller asks
//! for the members it reads and [`GoReader::skip`]s the others; skipping
//! keeps no stack frames, only one byte per open container.

use std::borrow::Cow;

use super::parser::Parser;
use super::{ErrorKind, JsonError, Number, ReadRules, SyntaxError};

/// `bytes` as text the way Go's `encoding/json` decodes strings: each byte
/// that is not part of valid UTF-8 becomes U+FFFD (outside strings such a
/// byte is a syntax error either way). Borrowed when `bytes` is UTF-8.
pub fn go_lossy_text(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(chunk.invalid().iter().map(|_| char::REPLACEMENT_CHARACTER));
    }
    Cow::Owned(out)
}

/// How many bytes at the start of `s` are neither `"`, `\\` nor a control
/// character: a string's run up to its next escape or end, found eight bytes
/// at a time (a byte-by-byte loop made skipping a big manifest 40% slower).
pub(super) fn plain_run(s: &[u8]) -> usize {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    let mut words = s.chunks_exact(8);
    let mut at = 0;
    for word in words.by_ref() {
        let w = u64::from_le_bytes(word.try_into().unwrap_or_default());
        // The high bit of each byte that is below 0x20, '"' or '\\'; a borrow only
        // carries past a byte that is one of those, so the lowest set bit is exact.
        let control = w.wrapping_sub(ONES * 0x20) & !w;
        let quote = (w ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES) & !(w ^ (ONES * u64::from(b'"')));
        let backslash = (w ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES) & !(w ^ (ONES * u64::from(b'\\')));
        let hits = (control | quote | backslash) & HIGH;
        if hits != 0 {
            return at + hits.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    let rest = words.remainder();
    at + rest
        .iter()
        .position(|b| *b == b'"' || *b == b'\\' || *b < 0x20)
        .unwrap_or(rest.len())
}

/// A string read by a [`GoReader`]: its text as Go decodes it, and what Go
/// would have replaced or refused, for callers that must know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GoString {
    /// The unescaped text; each unpaired surrogate escape is U+FFFD.
    pub text: String,
    /// Whether the text has an unpaired surrogate escape (`\ud800`).
    pub unpaired_surrogate: bool,
    /// The first unescaped control character (U+0000 to U+001F), which Go's
    /// scanner refuses; the reader leaves that decision to its caller.
    pub control_character: Option<char>,
}

/// What [`GoReader::value`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GoToken {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as its text (no range check: see [`ReadRules::GoLossy`]).
    Number(Number),
    /// A string.
    String(GoString),
    /// `[`: read the elements with [`GoReader::next_element`].
    ArrayStart,
    /// `{`: read the members with [`GoReader::next_key`].
    ObjectStart,
}

/// A pull reader over one JSON text under [`ReadRules::GoLossy`] (make the
/// text with [`go_lossy_text`]). Read one value with [`GoReader::value`] or
/// step over it with [`GoReader::skip`]; after an [`GoToken::ArrayStart`] or
/// [`GoToken::ObjectStart`], call [`GoReader::next_element`] or
/// [`GoReader::next_key`] until they report the end, reading or skipping each
/// element or member value in between; then [`GoReader::finish`].
pub struct GoReader<'a> {
    p: Parser<'a>,
    /// Whether the container just opened has had no element or member yet.
    first: bool,
}

impl<'a> GoReader<'a> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a str) -> GoReader<'a> {
        GoReader {
            p: Parser::new(text, ReadRules::GoLossy),
            first: false,
        }
    }

    /// Reads a scalar, or opens an array or object.
    pub fn value(&mut self) -> Result<GoToken, JsonError> {
        self.p.skip_ws();
        Ok(match self.p.peek() {
            Some(b'{') => self.open(GoToken::ObjectStart),
            Some(b'[') => self.open(GoToken::ArrayStart),
            Some(b'"') => GoToken::String(self.p.go_string()?),
            Some(b't') => self.literal("true", GoToken::Bool(true))?,
            Some(b'f') => self.literal("false", GoToken::Bool(false))?,
            Some(b'n') => self.literal("null", GoToken::Null)?,
            Some(b'-' | b'0'..=b'9') => GoToken::Number(self.p.number()?),
            _ => return Err(self.p.expected("a JSON value")),
        })
    }

    fn open(&mut self, token: GoToken) -> GoToken {
        self.p.pos += 1;
        self.first = true;
        token
    }

    fn literal(&mut self, word: &'static str, token: GoToken) -> Result<GoToken, JsonError> {
        self.p.literal(word, super::Kind::Null)?;
        Ok(token)
    }

    /// In an object: the next member's key (the reader is then at its value),
    /// or `None` at the closing `}`.
    pub fn next_key(&mut self) -> Result<Option<GoString>, JsonError> {
        let first = std::mem::replace(&mut self.first, false);
        self.p.skip_ws();
        if self.p.eat(b'}') {
            return Ok(None);
        }
        if !first && !self.p.eat(b',') {
            return Err(self.p.expected("',' or '}'"));
        }
        self.p.skip_ws();
        if self.p.peek() != Some(b'"') {
            return Err(self.p.expected("a string key"));
        }
        let key = self.p.go_string()?;
        self.colon()?;
        Ok(Some(key))
    }

    fn colon(&mut self) -> Result<(), JsonError> {
        self.p.skip_ws();
        if !self.p.eat(b':') {
            return Err(self.p.expected("':' after an object key"));
        }
        Ok(())
    }

    /// In an array: whether another element follows (the reader is then at
    /// it); `false` at the closing `]`.
    pub fn next_element(&mut self) -> Result<bool, JsonError> {
        let first = std::mem::replace(&mut self.first, false);
        self.p.skip_ws();
        if self.p.eat(b']') {
            return Ok(false);
        }
        if !first && !self.p.eat(b',') {
            return Err(self.p.expected("',' or ']'"));
        }
        Ok(true)
    }

    /// Steps over one value, checking its grammar as Go's scanner does
    /// (unpaired surrogate escapes are fine, control characters in strings
    /// are not), at any nesting depth and without recursion.
    pub fn skip(&mut self) -> Result<(), JsonError> {
        let mut open: Vec<u8> = Vec::new();
        loop {
            self.p.skip_ws();
            match self.p.peek() {
                Some(c @ (b'[' | b'{')) => {
                    self.p.pos += 1;
                    self.p.skip_ws();
                    let close = if c == b'[' { b']' } else { b'}' };
                    if !self.p.eat(close) {
                        if c == b'{' {
                            self.skip_key()?;
                        }
                        open.push(close);
                        continue;
                    }
                }
                Some(b'"') => self.skip_string()?,
                Some(b't') => self.p.literal("true", super::Kind::Null).map(drop)?,
                Some(b'f') => self.p.literal("false", super::Kind::Null).map(drop)?,
                Some(b'n') => self.p.literal("null", super::Kind::Null).map(drop)?,
                Some(b'-' | b'0'..=b'9') => self.p.scan_number()?,
                _ => return Err(self.p.expected("a JSON value")),
            }
            // A value ended: close the containers it ends.
            loop {
                let Some(&close) = open.last() else {
                    return Ok(());
                };
                self.p.skip_ws();
                if self.p.eat(b',') {
                    if close == b'}' {
                        self.p.skip_ws();
                        self.skip_key()?;
                    }
                    break;
                }
                if !self.p.eat(close) {
                    return Err(self.p.expected(if close == b'}' { "',' or '}'" } else { "',' or ']'" }));
                }
                open.pop();
            }
        }
    }

    fn skip_key(&mut self) -> Result<(), JsonError> {
        if self.p.peek() != Some(b'"') {
            return Err(self.p.expected("a string key"));
        }
        self.skip_string()?;
        self.colon()
    }

    fn skip_string(&mut self) -> Result<(), JsonError> {
        self.p.pos += 1; // '"'
        loop {
            self.p.pos += plain_run(self.p.bytes.get(self.p.pos..).unwrap_or_default());
            match self.p.peek() {
                None => return Err(self.p.expected("'\"' closing the string")),
                Some(b'"') => {
                    self.p.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let esc = self.p.pos;
                    self.p.pos += 2;
                    match self.p.bytes.get(esc + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {}
                        Some(b'u') => drop(self.p.hex4(esc)?),
                        _ => return Err(self.p.syntax_at(esc, SyntaxError::InvalidEscape)),
                    }
                }
                Some(b) => {
                    return Err(self
                        .p
                        .syntax_at(self.p.pos, SyntaxError::ControlCharacter(char::from(b))));
                }
            }
        }
    }

    /// Ends the text: only whitespace may follow the value read.
    pub fn finish(mut self) -> Result<(), JsonError> {
        self.p.skip_ws();
        if self.p.pos < self.p.bytes.len() {
            return Err(JsonError::new(ErrorKind::TrailingData, "", self.p.here()));
        }
        Ok(())
    }
}

impl Parser<'_> {
    /// The string at `self.pos` as Go's decoder reads it: an unpaired
    /// surrogate escape is U+FFFD; an unescaped control character is kept and
    /// reported (Go's scanner refuses it: the caller decides).
    pub(super) fn go_string(&mut self) -> Result<GoString, JsonError> {
        self.pos += 1; // '"'
        let mut s = GoString::default();
        loop {
            let start = self.pos;
            loop {
                self.pos += plain_run(self.bytes.get(self.pos..).unwrap_or_default());
                match self.peek() {
                    Some(b) if b < 0x20 => {
                        s.control_character.get_or_insert(char::from(b));
                        self.pos += 1;
                    }
                    _ => break,
                }
            }
            // Stops only at ASCII bytes or the end, so the slice is on char boundaries.
            s.text.push_str(self.src.get(start..self.pos).unwrap_or_default());
            match self.peek() {
                None => return Err(self.expected("'\"' closing the string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(s);
                }
                _ => {
                    let (c, unpaired) = self.go_escape()?;
                    s.text.push(c);
                    s.unpaired_surrogate |= unpaired;
                }
            }
        }
    }

    /// An escape sequence at `self.pos` (the backslash) as Go decodes it: a
    /// surrogate escape not followed by the escape of its other half is
    /// U+FFFD (and `true`); what follows it is read on its own.
    fn go_escape(&mut self) -> Result<(char, bool), JsonError> {
        let at = self.pos;
        if self.bytes.get(at + 1) != Some(&b'u') {
            return Ok((self.escape()?, false));
        }
        self.pos += 2;
        let first = self.hex4(at)?;
        if !(0xD800..=0xDFFF).contains(&first) {
            let c = char::from_u32(u32::from(first)).ok_or_else(|| self.syntax_at(at, SyntaxError::InvalidEscape))?;
            return Ok((c, false));
        }
        let second = match self.bytes.get(self.pos..self.pos + 6) {
            Some([b'\\', b'u', hex @ ..]) if hex.iter().all(u8::is_ascii_hexdigit) => std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u16::from_str_radix(h, 16).ok()),
            _ => None,
        };
        match second {
            Some(lo @ 0xDC00..=0xDFFF) if first < 0xDC00 => {
                self.pos += 6;
                let c = 0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(lo) - 0xDC00);
                Ok((char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER), false))
            }
            _ => Ok((char::REPLACEMENT_CHARACTER, true)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{parse_with, Kind};

    fn string(token: GoToken) -> GoString {
        match token {
            GoToken::String(s) => s,
            t => panic!("not a string: {t:?}"),
        }
    }

    #[test]
    fn invalid_utf8_reads_as_one_replacement_per_byte_as_in_go() {
        assert!(matches!(go_lossy_text(b"{\"a\":1}"), Cow::Borrowed(_)));
        assert_eq!(
            go_lossy_text(b"\"a\xff\xe2\x82\xed\xa0\x80b\""),
            "\"a\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}b\""
        );
        let text = go_lossy_text(b"\"\xff\"");
        assert_eq!(string(GoReader::new(&text).value().unwrap()).text, "\u{fffd}");
        // Outside strings it is still not JSON.
        assert!(GoReader::new(&go_lossy_text(b"\xff")).value().is_err());
    }

    #[test]
    fn strings_report_what_go_replaces_or_refuses() {
        let read = |s: &str| string(GoReader::new(s).value().unwrap());
        let s = read(r#""a\ud800\u0041\udc00\ud83d\ude00\ud800\ud800\udc00""#);
        assert_eq!(s.text, "a\u{fffd}A\u{fffd}😀\u{fffd}\u{10000}");
        assert!(s.unpaired_surrogate && s.control_character.is_none());
        let s = read("\"a\tb\u{1}\"");
        assert_eq!((s.text.as_str(), s.control_character), ("a\tb\u{1}", Some('\t')));
        assert!(!s.unpaired_surrogate);
        for bad in [r#""\ud800\x""#, r#""\u12G4""#, r#""\ud800\u12""#, "\"abc", "\"\\"] {
            assert!(GoReader::new(bad).value().is_err(), "{bad}");
        }
        // A parsed tree under the same rules: U+FFFD, and control characters refused.
        let v = parse_with(b"[\"\\udc00\xff\"]", ReadRules::GoLossy).unwrap();
        let Kind::Array(items) = v.kind else { panic!() };
        assert_eq!(items[0].kind, Kind::String("\u{fffd}\u{fffd}".into()));
        assert!(parse_with(b"\"\t\"", ReadRules::GoLossy).is_err());
        assert!(parse_with(b"1e400", ReadRules::GoLossy).is_ok(), "numbers are text");
    }

    #[test]
    fn reads_members_and_elements_in_order() {
        let mut r = GoReader::new(r#" {"a": [1, {"b": null}, true], "c": "x", "d": {}} "#);
        assert_eq!(r.value().unwrap(), GoToken::ObjectStart);
        assert_eq!(r.next_key().unwrap().unwrap().text, "a");
        assert_eq!(r.value().unwrap(), GoToken::ArrayStart);
        assert!(r.next_element().unwrap());
        assert!(matches!(r.value().unwrap(), GoToken::Number(n) if n.as_str() == "1"));
        assert!(r.next_element().unwrap());
        r.skip().unwrap();
        assert!(r.next_element().unwrap());
        assert_eq!(r.value().unwrap(), GoToken::Bool(true));
        assert!(!r.next_element().unwrap());
        assert_eq!(r.next_key().unwrap().unwrap().text, "c");
        assert_eq!(string(r.value().unwrap()).text, "x");
        assert_eq!(r.next_key().unwrap().unwrap().text, "d");
        assert_eq!(r.value().unwrap(), GoToken::ObjectStart);
        assert_eq!(r.next_key().unwrap(), None);
        assert_eq!(r.next_key().unwrap(), None);
        r.finish().unwrap();
    }

    /// Reads `text` as one value, skipping it.
    fn skipped(text: &str) -> Result<(), JsonError> {
        let mut r = GoReader::new(text);
        r.skip()?;
        r.finish()
    }

    #[test]
    fn skipping_checks_the_grammar_without_recursion() {
        for ok in [
            "[]",
            "{}",
            r#"{"a":[1,-2.5e3,"\ud800",{"b":null,"c":true}],"d":"x\"y","\udc00":false}"#,
            "1e400",
            " [ [ ] , { } ] ",
        ] {
            skipped(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "[1,]",
            "{\"a\":1,}",
            "{\"a\"}",
            "{1:2}",
            "[1 2]",
            "\"a\tb\"",
            "{\"a\tb\":1}",
            "\"\\x\"",
            "01",
            "-",
            "tru",
            "[",
            "{\"a\":",
            "]",
            "",
            "[]]",
            "\u{feff}[]",
        ] {
            assert!(skipped(bad).is_err(), "{bad:?}");
        }
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| {
                let n = 1_000_000;
                skipped(&format!("{}1{}", "[{\"a\":".repeat(n), "}]".repeat(n))).unwrap();
                assert!(skipped(&"[".repeat(n)).is_err());
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn plain_runs_stop_at_the_first_special_byte() {
        let slow = |s: &[u8]| {
            s.iter()
                .position(|b| *b == b'"' || *b == b'\\' || *b < 0x20)
                .unwrap_or(s.len())
        };
        let mut text: Vec<u8> = b"abcdefgh\xff\xe9\x7f ijklmnopqrstuvwxyz0123456789".to_vec();
        for special in [b'"', b'\\', 0, 0x1f, b'\n'] {
            for at in 0..=text.len() {
                let mut t = text.clone();
                t.insert(at, special);
                for start in 0..t.len() {
                    assert_eq!(plain_run(&t[start..]), slow(&t[start..]), "{t:?} from {start}");
                }
            }
        }
        text.clear();
        assert_eq!(plain_run(&text), 0);
    }

    #[test]
    fn containers_need_their_separators() {
        let mut r = GoReader::new("[1 2]");
        assert_eq!(r.value().unwrap(), GoToken::ArrayStart);
        assert!(r.next_element().unwrap());
        r.value().unwrap();
        assert!(r.next_element().is_err());
        let mut r = GoReader::new(r#"{"a" 1}"#);
        r.value().unwrap();
        assert!(r.next_key().is_err());
        let mut r = GoReader::new("{} x");
        r.skip().unwrap();
        assert_eq!(r.finish().unwrap_err().kind, ErrorKind::TrailingData);
    }
}
