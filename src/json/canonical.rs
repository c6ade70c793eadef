//! RFC 8785 (JSON Canonicalization Scheme) of a parsed [`Value`], as Go's
//! `jsoncanonicalizer` writes it (c/image uses it for the Rekor SET): members
//! sorted by their UTF-16 code units, no white space, numbers in ECMAScript
//! form, strings with the minimal escapes.

use super::go::{distinct_members, write_escaped};
use super::{Kind, Value};

/// The RFC 8785 canonical form of `v`. Duplicate keys are refused, as Go's
/// `jsoncanonicalizer` does. Numbers are read as IEEE doubles: parse with
/// [`ReadRules::Go`](super::ReadRules::Go), which refuses those out of range.
pub fn canonicalize(v: &Value) -> Result<Vec<u8>, String> {
    let mut out = String::new();
    write_canonical(v, &mut out)?;
    Ok(out.into_bytes())
}

fn write_canonical(v: &Value, out: &mut String) -> Result<(), String> {
    match &v.kind {
        Kind::Null => out.push_str("null"),
        Kind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Kind::Number(n) => {
            let f = n.to_f64();
            if !f.is_finite() {
                return Err(format!("number {} out of range", n.as_str()));
            }
            out.push_str(&es6_number(f));
        }
        Kind::String(s) => write_escaped(out, s, false),
        Kind::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out)?;
            }
            out.push(']');
        }
        Kind::Object(_) => {
            let members = distinct_members(v).map_err(|e| e.replace("Duplicate key", "duplicate key"))?;
            let mut sorted: Vec<_> = members.iter().collect();
            sorted.sort_by(|a, b| a.key.encode_utf16().cmp(b.key.encode_utf16()));
            out.push('{');
            for (i, m) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_escaped(out, &m.key, false);
                out.push(':');
                write_canonical(&m.value, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// ECMAScript `Number.prototype.toString` for a finite double (RFC 8785 §3.2.2.3).
fn es6_number(n: f64) -> String {
    if n == 0.0 {
        return "0".into();
    }
    let abs = n.abs();
    if (1e-6..1e21).contains(&abs) {
        // Rust prints the shortest round-trip digits in positional notation.
        return format!("{n}");
    }
    // Exponential: shortest digits d.ddd, exponent with an explicit sign.
    let s = format!("{n:e}"); // e.g. "1.5e21", "-1e-7"
    let (mantissa, exp) = s.split_once('e').expect("exponent");
    if exp.starts_with('-') {
        format!("{mantissa}e{exp}")
    } else {
        format!("{mantissa}e+{exp}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{parse_with, ReadRules};

    fn go(data: &[u8]) -> Value {
        parse_with(data, ReadRules::Go).unwrap()
    }

    #[test]
    fn sigstore_canonical_form() {
        let v =
            go(br#"{"b": 1, "a": [true, null, "x\u0001\n\u00e9"], "c": 1.5e21, "d": 0.000001, "e": 1e-7, "f": 100}"#);
        assert_eq!(
            String::from_utf8(canonicalize(&v).unwrap()).unwrap(),
            "{\"a\":[true,null,\"x\\u0001\\n\u{e9}\"],\"b\":1,\"c\":1.5e+21,\"d\":0.000001,\"e\":1e-7,\"f\":100}"
        );
        assert!(canonicalize(&go(br#"{"a":1,"a":2}"#)).is_err());
        // UTF-16 order: U+FB01 (one unit, 0xFB01) sorts after U+1F600 (surrogates 0xD83D...).
        let v = go("{\"\u{fb01}\":1,\"\u{1f600}\":2}".as_bytes());
        assert_eq!(
            String::from_utf8(canonicalize(&v).unwrap()).unwrap(),
            "{\"\u{1f600}\":2,\"\u{fb01}\":1}"
        );
    }

    #[test]
    fn canonical_strings_escape_less_than_go_marshal() {
        let v = go("[\"<>&\u{2028}\u{7f}\\u001f\\\"\"]".as_bytes());
        assert_eq!(
            String::from_utf8(canonicalize(&v).unwrap()).unwrap(),
            "[\"<>&\u{2028}\u{7f}\\u001f\\\"\"]"
        );
        assert_eq!(
            String::from_utf8(canonicalize(&go(b"[-0, 1.0, 1e0]")).unwrap()).unwrap(),
            "[0,1,1]"
        );
    }
}
