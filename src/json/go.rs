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

/// One rune of [`go_fold`]: `ToUpper(ToLower(c))` where each is a single rune.
fn fold_char(c: char) -> char {
    fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
        let c = it.next()?;
        it.next().is_none().then_some(c)
    }
    let lower = single(c.to_lowercase()).unwrap_or(c);
    single(lower.to_uppercase()).unwrap_or(lower)
}

/// Whether Go matches object key `key` to the struct field `name`: equal under
/// [`go_fold`] (ASCII case, and `ſ` for `s`, the Kelvin sign for `k`).
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
        Some((other, _)) => Err(format!("cannot unmarshal {} into {what} of type string", go_kind(other))),
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
        Some((other, _)) => Err(format!("cannot unmarshal {} into {what} of type []byte", go_kind(other))),
    }
}

/// Go `encoding/json` into a struct (or a pointer to one): the object's
/// members; absent or null is `None`.
pub fn go_struct<'a>(v: Option<&'a Value>, what: &str) -> Result<Option<&'a [Member]>, String> {
    match v.map(|v| (v, &v.kind)) {
        None | Some((_, Kind::Null)) => Ok(None),
        Some((_, Kind::Object(m))) => Ok(Some(m)),
        Some((other, _)) => Err(format!("cannot unmarshal {} into {what} of type object", go_kind(other))),
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
}
