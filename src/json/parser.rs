//! The strict RFC 8259 parser: [`parse`] turns bytes into a [`Value`] tree
//! with the line:column of every key and value, bounded nesting depth and
//! linear time.

use super::{go_lossy_text, ErrorKind, JsonError, Kind, Member, Number, Position, ReadRules, SyntaxError, Value};

/// Parses one JSON text: a single value, optionally surrounded by whitespace
/// ([`ReadRules::Strict`]).
pub fn parse(input: &[u8]) -> Result<Value, JsonError> {
    parse_with(input, ReadRules::Strict)
}

/// Parses one JSON text under `rules`.
pub fn parse_with(input: &[u8], rules: ReadRules) -> Result<Value, JsonError> {
    let start = Position {
        offset: 0,
        line: 1,
        column: 1,
    };
    if input.starts_with(b"\xEF\xBB\xBF") {
        return Err(JsonError::new(ErrorKind::Syntax(SyntaxError::ByteOrderMark), "", start));
    }
    let lossy;
    let src = if rules == ReadRules::GoLossy {
        lossy = go_lossy_text(input);
        &lossy
    } else {
        std::str::from_utf8(input).map_err(|e| {
            JsonError::new(
                ErrorKind::Syntax(SyntaxError::InvalidUtf8),
                "",
                locate(input, e.valid_up_to()),
            )
        })?
    };
    let mut p = Parser::new(src, rules);
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

pub(super) struct Parser<'a> {
    rules: ReadRules,
    max_depth: usize,
    pub(super) src: &'a str,
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
    line: usize,
    line_start: usize,
    /// Column cache: `col` is the column of byte `col_offset` on the current
    /// line, so computing successive positions stays linear overall.
    col_offset: usize,
    col: usize,
}

impl<'a> Parser<'a> {
    pub(super) fn new(src: &'a str, rules: ReadRules) -> Parser<'a> {
        Parser {
            rules,
            max_depth: rules.max_depth(),
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

    pub(super) fn here(&mut self) -> Position {
        self.at(self.pos)
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub(super) fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.pos += 1;
        }
        hit
    }

    pub(super) fn syntax_at(&mut self, offset: usize, e: SyntaxError) -> JsonError {
        JsonError::new(ErrorKind::Syntax(e), "", self.at(offset))
    }

    pub(super) fn expected(&mut self, expected: &'static str) -> JsonError {
        let found = self.src.get(self.pos..).and_then(|s| s.chars().next());
        self.syntax_at(self.pos, SyntaxError::Expected { expected, found })
    }

    pub(super) fn skip_ws(&mut self) {
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
            Some(b'{' | b'[') if depth >= self.max_depth => {
                return Err(self.syntax_at(self.pos, SyntaxError::TooDeep(self.max_depth)))
            }
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

    pub(super) fn literal(&mut self, word: &'static str, kind: Kind) -> Result<Kind, JsonError> {
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

    pub(super) fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    pub(super) fn number(&mut self) -> Result<Number, JsonError> {
        let start = self.pos;
        self.scan_number()?;
        // The scanned bytes are ASCII, so both ends are char boundaries.
        let n = Number(self.src.get(start..self.pos).unwrap_or_default().to_owned());
        if self.rules == ReadRules::Go && !n.to_f64().is_finite() {
            return Err(self.syntax_at(start, SyntaxError::NumberOutOfRange));
        }
        Ok(n)
    }

    /// Checks the grammar of the number at `self.pos` and steps over it.
    pub(super) fn scan_number(&mut self) -> Result<(), JsonError> {
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
        Ok(())
    }

    fn string(&mut self) -> Result<String, JsonError> {
        if self.rules == ReadRules::GoLossy {
            let at = self.pos;
            let s = self.go_string()?;
            return match s.control_character {
                Some(c) => Err(self.syntax_at(at, SyntaxError::ControlCharacter(c))),
                None => Ok(s.text),
            };
        }
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
    pub(super) fn escape(&mut self) -> Result<char, JsonError> {
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
    pub(super) fn hex4(&mut self, at: usize) -> Result<u16, JsonError> {
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
    use crate::json::rules::GO_MAX_DEPTH;
    use crate::json::MAX_DEPTH;

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
        assert_eq!(
            syntax(nested(MAX_DEPTH + 1).as_bytes()),
            SyntaxError::TooDeep(MAX_DEPTH)
        );
        assert_eq!(syntax("[".repeat(100_000).as_bytes()), SyntaxError::TooDeep(MAX_DEPTH));
        assert_eq!(
            syntax(r#"{"a":"#.repeat(100_000).as_bytes()),
            SyntaxError::TooDeep(MAX_DEPTH)
        );
        let e = parse("[{\"a\":".repeat(50_000).as_bytes()).unwrap_err();
        assert_eq!(e.column, MAX_DEPTH / 2 * 6 + 1);
    }

    #[test]
    fn go_rules_allow_deeper_nesting_and_refuse_numbers_beyond_float64() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let go = |s: &str| parse_with(s.as_bytes(), ReadRules::Go);
        assert!(go(&nested(GO_MAX_DEPTH)).is_ok());
        let e = go(&nested(GO_MAX_DEPTH + 1)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Syntax(SyntaxError::TooDeep(GO_MAX_DEPTH)));
        assert_eq!(e.message(), "invalid JSON: nesting deeper than 127 levels");
        for big in ["1e400", "-1e309", "[1.8e308]", r#"{"a":{"b":17976931348623159e292}}"#] {
            let e = go(big).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Syntax(SyntaxError::NumberOutOfRange), "{big}");
            assert!(parse(big.as_bytes()).is_ok(), "strict keeps {big} as text");
        }
        for ok in [
            "1.7976931348623157e308",
            "1e-400",
            "-0",
            "123456789012345678901234567890",
        ] {
            assert!(go(ok).is_ok(), "{ok}");
        }
        // Correctly rounded, as Go's strconv.ParseFloat.
        let Kind::Number(n) = go("4.9406564584124654").unwrap().kind else {
            panic!()
        };
        assert_eq!(n.to_f64(), 4.940656458412465);
        // Everything else is the strict grammar.
        for bad in ["[1,]", r#""\ud800""#, "01", "\u{feff}1", "1 2", "\"\t\""] {
            assert!(go(bad).is_err(), "{bad}");
        }
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
}
