//! Go's `encoding/json` rules over a parsed [`Value`]: writing strings exactly as
//! `json.Marshal` does ([`write_go_string`]), for byte-identical claims; matching
//! object keys to struct fields ([`go_fold`], [`go_field`]: case-insensitive, the
//! last matching member wins, unknown members ignored); decoding into Go types
//! (`string`, `*string`, `[]byte`, a struct; `null` leaves the zero value); and
//! containers/image's "paranoid" object readers of `signature/internal/json.go`
//! ([`exact_fields`], [`distinct_members`]), with Go's and c/image's messages.
//! Parse such documents with [`ReadRules::Go`](super::ReadRules::Go).

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use super::{Kind, Member, Value};

/// Appends `s` as a JSON string exactly as Go's `json.Marshal` writes it
/// (Go ≥ 1.22): `"` `\` and `\b \f \n \r \t` as two-character escapes, other
/// controls and `<` `>` `&` U+2028 U+2029 as lowercase `\u00xx`/`\u20xx`,
/// everything else (including DEL and non-ASCII) verbatim.
pub fn write_go_string(out: &mut String, s: &str) {
    write_escaped(out, s, true);
}

/// A JSON string with the short escapes and lowercase `\u00xx` for other
/// controls; with `go_html`, also `<` `>` `&` U+2028 U+2029 as `\u` escapes
/// (Go's `json.Marshal`), else everything else verbatim (RFC 8785).
pub(super) fn write_escaped(out: &mut String, s: &str, go_html: bool) {
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
            '\0'..='\u{1f}' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if go_html => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// Go `encoding/json`'s case-insensitive field-name key (how it matches an object's
/// key to a struct field): each rune mapped through `ToUpper(ToLower(r))`.
pub fn go_fold(s: &str) -> String {
    s.chars().map(fold_char).collect()
}

/// One rune of [`go_fold`]: Go's `unicode.ToUpper(unicode.ToLower(c))`, the
/// simple (one-rune) mappings: where Rust's full mapping gives several runes,
/// Go keeps the rune, except `İ`, whose simple lowercase is `i`.
fn fold_char(c: char) -> char {
    fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
        let c = it.next()?;
        it.next().is_none().then_some(c)
    }
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    let lower = if c == '\u{130}' {
        'i'
    } else {
        single(c.to_lowercase()).unwrap_or(c)
    };
    single(lower.to_uppercase()).unwrap_or(lower)
}

/// Whether Go matches object key `key` to the struct field `name`: equal under
/// [`go_fold`] (ASCII case, and for ASCII names also `ſ` for `s`, the Kelvin
/// sign for `k`, `ı` and `İ` for `i`).
pub fn go_field_is(key: &str, name: &str) -> bool {
    key.chars().map(fold_char).eq(name.chars().map(fold_char))
}

/// Go `encoding/json` struct field lookup: the last member that
/// [`go_field_is`] `name` (Go decodes every one, so the last one wins).
pub fn go_field<'a>(members: &'a [Member], name: &str) -> Option<&'a Value> {
    members
        .iter()
        .rev()
        .find(|m| go_field_is(&m.key, name))
        .map(|m| &m.value)
}

/// The name Go's `UnmarshalTypeError` gives a JSON value's kind.
pub fn go_kind(v: &Value) -> &'static str {
    match v.kind {
        Kind::Null => "null",
        Kind::Bool(_) => "boolean",
        Kind::Number(_) => "number",
        Kind::String(_) => "string",
        Kind::Array(_) => "array",
        Kind::Object(_) => "object",
    }
}

/// Go `encoding/json` into a `string`: a string, or null (leaves "").
pub fn go_string(v: &Value, what: &str) -> Result<String, String> {
    Ok(go_opt_string(Some(v), what)?.unwrap_or_default())
}

/// Go `encoding/json` into a `*string`: absent or null is `None`.
pub fn go_opt_string(v: Option<&Value>, what: &str) -> Result<Option<String>, String> {
    match v.map(|v| (v, &v.kind)) {
        None | Some((_, Kind::Null)) => Ok(None),
        Some((_, Kind::String(s))) => Ok(Some(s.clone())),
        Some((other, _)) => Err(format!(
            "cannot unmarshal {} into {what} of type string",
            go_kind(other)
        )),
    }
}

/// Go `encoding/json` into a `[]byte`: a base64 ([`go_base64`]) string; absent
/// or null is `None`.
pub fn go_bytes(v: Option<&Value>, what: &str) -> Result<Option<Vec<u8>>, String> {
    match v.map(|v| (v, &v.kind)) {
        None | Some((_, Kind::Null)) => Ok(None),
        Some((_, Kind::String(s))) => go_base64(s.as_bytes())
            .map(Some)
            .map_err(|e| format!("{what}: illegal base64 data: {e}")),
        Some((other, _)) => Err(format!(
            "cannot unmarshal {} into {what} of type []byte",
            go_kind(other)
        )),
    }
}

/// Go `encoding/json` into a struct (or a pointer to one): the object's
/// members; absent or null is `None`.
pub fn go_struct<'a>(v: Option<&'a Value>, what: &str) -> Result<Option<&'a [Member]>, String> {
    match v.map(|v| (v, &v.kind)) {
        None | Some((_, Kind::Null)) => Ok(None),
        Some((_, Kind::Object(m))) => Ok(Some(m)),
        Some((other, _)) => Err(format!(
            "cannot unmarshal {} into {what} of type object",
            go_kind(other)
        )),
    }
}

/// c/image `ParanoidUnmarshalJSONObjectExactFields`: an object with exactly
/// these members, each once, case-sensitively. Returns them in `fields` order.
/// Members are checked in document order (the first unknown or repeated one
/// is the error), then the missing ones in `fields` order.
pub fn exact_fields<'a, const N: usize>(v: &'a Value, fields: [&str; N]) -> Result<[&'a Value; N], String> {
    let Kind::Object(members) = &v.kind else {
        return Err(format!("JSON object expected, got {}", go_kind(v)));
    };
    let mut found: [Option<&Value>; N] = [None; N];
    for m in members {
        let Some(i) = fields.iter().position(|f| *f == m.key) else {
            return Err(format!("Unknown key {:?}", m.key));
        };
        if found[i].is_some() {
            return Err(format!("Duplicate key {:?}", m.key));
        }
        found[i] = Some(&m.value);
    }
    let mut out = [v; N];
    for (i, f) in fields.iter().enumerate() {
        out[i] = found[i].ok_or_else(|| format!("Key {f:?} missing in a JSON object"))?;
    }
    Ok(out)
}

/// c/image `ParanoidUnmarshalJSONObject` with a resolver that accepts every
/// key: an object whose keys are all distinct.
pub fn distinct_members(v: &Value) -> Result<&[Member], String> {
    let Kind::Object(members) = &v.kind else {
        return Err(format!("JSON object expected, got {}", go_kind(v)));
    };
    let mut seen = std::collections::HashSet::with_capacity(members.len());
    match members.iter().find(|m| !seen.insert(m.key.as_str())) {
        Some(m) => Err(format!("Duplicate key {:?}", m.key)),
        None => Ok(members),
    }
}

/// Go `base64.StdEncoding`: padding required, non-zero trailing bits allowed.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Go `base64.StdEncoding.DecodeString` (how `encoding/json` decodes a
/// `[]byte`, and `encoding/pem` a block): the standard alphabet with padding,
/// except that `\r` and `\n` anywhere are ignored.
pub fn go_base64(data: &[u8]) -> Result<Vec<u8>, String> {
    let cleaned: Vec<u8>;
    let input = if data.iter().any(|b| *b == b'\r' || *b == b'\n') {
        cleaned = data.iter().copied().filter(|b| *b != b'\r' && *b != b'\n').collect();
        &cleaned[..]
    } else {
        data
    };
    GO_STD.decode(input).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn go(data: &str) -> Value {
        crate::json::parse_with(data.as_bytes(), crate::json::ReadRules::Go).unwrap()
    }

    fn members(v: &Value) -> &[Member] {
        go_struct(Some(v), "t").unwrap().unwrap()
    }

    #[test]
    fn sigstore_exact_fields() {
        let v = go(r#"{"a":1,"b":2}"#);
        assert!(exact_fields(&v, ["a", "b"]).is_ok());
        assert_eq!(exact_fields(&v, ["a"]).unwrap_err(), r#"Unknown key "b""#);
        assert_eq!(
            exact_fields(&v, ["a", "b", "c"]).unwrap_err(),
            r#"Key "c" missing in a JSON object"#
        );
        assert_eq!(
            exact_fields(&go(r#"{"a":1,"a":2}"#), ["a"]).unwrap_err(),
            r#"Duplicate key "a""#
        );
        // Case-sensitive, first problem in document order, then missing keys in `fields` order.
        assert_eq!(
            exact_fields(&go(r#"{"A":1}"#), ["a"]).unwrap_err(),
            r#"Unknown key "A""#
        );
        assert_eq!(
            exact_fields(&go(r#"{"x":1,"a":1,"a":2}"#), ["a"]).unwrap_err(),
            r#"Unknown key "x""#
        );
        assert_eq!(
            exact_fields(&go("[]"), ["a"]).unwrap_err(),
            "JSON object expected, got array"
        );
    }

    #[test]
    fn distinct_members_refuse_the_first_repeat() {
        assert_eq!(distinct_members(&go(r#"{"a":1,"b":2}"#)).unwrap().len(), 2);
        assert_eq!(
            distinct_members(&go(r#"{"a":1,"b":1,"b":2,"a":3}"#)).unwrap_err(),
            r#"Duplicate key "b""#
        );
        assert!(distinct_members(&go(r#"{"a":1,"A":2}"#)).is_ok());
        assert_eq!(
            distinct_members(&go("null")).unwrap_err(),
            "JSON object expected, got null"
        );
    }

    #[test]
    fn fields_match_as_go_matches_them_and_the_last_wins() {
        let v = go(r#"{"Kind":"a","KIND":"b","x":1,"kind":"c","ſpec":{},"\u212Aey":1,"kinds":"d"}"#);
        let m = members(&v);
        assert_eq!(go_string(go_field(m, "kind").unwrap(), "kind").unwrap(), "c");
        assert!(go_field(m, "spec").is_some(), "ſ folds to s");
        assert!(go_field(m, "key").is_some(), "the Kelvin sign folds to k");
        assert!(go_field(m, "missing").is_none());
        assert!(go_field_is("mimetype", "mimeType") && !go_field_is("mimeTyp", "mimeType"));
        assert_eq!(go_fold("ſpec\u{212a}"), "SPECK");
        // Go's simple mappings: dotless and dotted I fold to I, ß stays (no one-rune uppercase).
        assert!(go_field_is("k\u{131}nd", "kind") && go_field_is("k\u{130}nd", "kind"));
        assert_eq!(go_fold("stra\u{df}e \u{1c5}"), "STRA\u{df}E \u{1c4}");
    }

    #[test]
    fn values_decode_into_go_types() {
        let v = go(r#"{"s":"x","n":null,"i":1,"b":"AAEC","bad":"AAE","o":{"a":1},"arr":[]}"#);
        let m = members(&v);
        let f = |name| go_field(m, name);
        assert_eq!(go_string(f("s").unwrap(), "s").unwrap(), "x");
        assert_eq!(
            go_string(f("n").unwrap(), "n").unwrap(),
            "",
            "null leaves a string empty"
        );
        assert_eq!(
            go_string(f("i").unwrap(), "i").unwrap_err(),
            "cannot unmarshal number into i of type string"
        );
        assert_eq!(go_opt_string(f("n"), "n").unwrap(), None);
        assert_eq!(go_opt_string(f("none"), "none").unwrap(), None);
        assert_eq!(go_opt_string(f("s"), "s").unwrap().as_deref(), Some("x"));
        assert_eq!(go_bytes(f("b"), "b").unwrap(), Some(vec![0, 1, 2]));
        assert_eq!(go_bytes(f("n"), "n").unwrap(), None);
        assert!(go_bytes(f("bad"), "bad")
            .unwrap_err()
            .starts_with("bad: illegal base64 data: "));
        assert_eq!(
            go_bytes(f("o"), "o").unwrap_err(),
            "cannot unmarshal object into o of type []byte"
        );
        assert_eq!(go_struct(f("o"), "o").unwrap().unwrap().len(), 1);
        assert_eq!(go_struct(f("n"), "n").unwrap(), None);
        assert_eq!(
            go_struct(f("arr"), "arr").unwrap_err(),
            "cannot unmarshal array into arr of type object"
        );
        assert_eq!(go_base64(b"AA\nEC\r").unwrap(), [0, 1, 2]);
    }
}
