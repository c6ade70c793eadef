//! JSON as containers/image reads it: a value tree that keeps every object
//! member in order (duplicates included), the "paranoid" exact-field object
//! reader of c/image `signature/internal/json.go`, Go `encoding/json`'s
//! lenient struct decoding (case-insensitive names, last duplicate wins,
//! unknown members ignored) and RFC 8785 canonicalization (the
//! `jsoncanonicalizer` c/image uses for the Rekor SET).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// 2^63: the bound of Go's `int64`, exactly representable as a double.
pub(crate) const TWO_63: f64 = (1u64 << 63) as f64;

/// A parsed JSON value; objects keep all members, in document order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum J {
    Null,
    Bool(bool),
    /// Numbers as IEEE doubles, as Go's canonicalizer and `float64` see them.
    Num(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = J;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<J, E> {
                Ok(J::Null)
            }
            fn visit_none<E>(self) -> Result<J, E> {
                Ok(J::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<J, E> {
                Ok(J::Bool(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<J, E> {
                Ok(J::Num(v as f64))
            }
            fn visit_i64<E>(self, v: i64) -> Result<J, E> {
                Ok(J::Num(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<J, E> {
                if v.is_finite() {
                    Ok(J::Num(v))
                } else {
                    Err(E::custom("number out of range"))
                }
            }
            fn visit_str<E>(self, v: &str) -> Result<J, E> {
                Ok(J::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<J, E> {
                Ok(J::Str(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = a.next_element()? {
                    out.push(v);
                }
                Ok(J::Arr(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, J>()? {
                    out.push((k, v));
                }
                Ok(J::Obj(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Nesting bound (serde_json's own recursion limit is 128 as well).
pub(crate) fn parse(data: &[u8]) -> Result<J, String> {
    serde_json::from_slice::<J>(data).map_err(|e| e.to_string())
}

impl J {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            J::Null => "null",
            J::Bool(_) => "boolean",
            J::Num(_) => "number",
            J::Str(_) => "string",
            J::Arr(_) => "array",
            J::Obj(_) => "object",
        }
    }
}

/// c/image `ParanoidUnmarshalJSONObjectExactFields`: an object with exactly
/// these members, each once, case-sensitively. Returns them in `fields` order.
pub(crate) fn exact_fields<'a, const N: usize>(v: &'a J, fields: [&str; N]) -> Result<[&'a J; N], String> {
    let J::Obj(members) = v else {
        return Err(format!("JSON object expected, got {}", v.kind()));
    };
    let mut found: [Option<&J>; N] = [None; N];
    for (k, val) in members {
        let Some(i) = fields.iter().position(|f| f == k) else {
            return Err(format!("Unknown key {k:?}"));
        };
        if found[i].is_some() {
            return Err(format!("Duplicate key {k:?}"));
        }
        found[i] = Some(val);
    }
    let mut out = [&J::Null; N];
    for (i, f) in fields.iter().enumerate() {
        out[i] = found[i].ok_or_else(|| format!("Key {f:?} missing in a JSON object"))?;
    }
    Ok(out)
}

/// c/image `ParanoidUnmarshalJSONObject` with a resolver that accepts every
/// key: an object whose keys are all distinct.
pub(crate) fn distinct_members(v: &J) -> Result<&[(String, J)], String> {
    let J::Obj(members) = v else {
        return Err(format!("JSON object expected, got {}", v.kind()));
    };
    for (i, (k, _)) in members.iter().enumerate() {
        if members[..i].iter().any(|(p, _)| p == k) {
            return Err(format!("Duplicate key {k:?}"));
        }
    }
    Ok(members)
}

/// Go `encoding/json` into a string: a string, or null (leaves "").
pub(crate) fn go_string(v: &J, what: &str) -> Result<String, String> {
    match v {
        J::Str(s) => Ok(s.clone()),
        J::Null => Ok(String::new()),
        other => Err(format!("cannot unmarshal {} into {what} of type string", other.kind())),
    }
}

/// Go `encoding/json` into a `*string`: null is None.
pub(crate) fn go_opt_string(v: Option<&J>, what: &str) -> Result<Option<String>, String> {
    match v {
        None | Some(J::Null) => Ok(None),
        Some(J::Str(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("cannot unmarshal {} into {what} of type string", other.kind())),
    }
}

/// Go `encoding/json` into a `[]byte`: a base64 (standard, padded) string, or null.
pub(crate) fn go_bytes(v: Option<&J>, what: &str) -> Result<Option<Vec<u8>>, String> {
    match v {
        None | Some(J::Null) => Ok(None),
        Some(J::Str(s)) => super::pem::go_base64(s.as_bytes())
            .map(Some)
            .map_err(|e| format!("{what}: illegal base64 data: {e}")),
        Some(other) => Err(format!("cannot unmarshal {} into {what} of type []byte", other.kind())),
    }
}

/// Go `encoding/json` struct field lookup: the last member whose name equals
/// `name` ignoring ASCII case (Go folds a little more: `K`/`ſ`; see the docs).
pub(crate) fn go_field<'a>(members: &'a [(String, J)], name: &str) -> Option<&'a J> {
    members
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Go `encoding/json` into a struct (or pointer to one): an object's members,
/// or None for null.
pub(crate) fn go_struct<'a>(v: Option<&'a J>, what: &str) -> Result<Option<&'a [(String, J)]>, String> {
    match v {
        None | Some(J::Null) => Ok(None),
        Some(J::Obj(m)) => Ok(Some(m)),
        Some(other) => Err(format!("cannot unmarshal {} into {what} of type object", other.kind())),
    }
}

/// RFC 8785 canonical form. Duplicate keys are refused, as Go's
/// `jsoncanonicalizer` does.
pub(crate) fn canonicalize(v: &J) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    write_canonical(v, &mut out)?;
    Ok(out)
}

fn write_canonical(v: &J, out: &mut Vec<u8>) -> Result<(), String> {
    match v {
        J::Null => out.extend_from_slice(b"null"),
        J::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        J::Num(n) => out.extend_from_slice(es6_number(*n).as_bytes()),
        J::Str(s) => write_string(s, out),
        J::Arr(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        J::Obj(_) => {
            let members = distinct_members(v).map_err(|e| e.replace("Duplicate key", "duplicate key"))?;
            let mut sorted: Vec<&(String, J)> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (k, val)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_canonical(val, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if (c as u32) < 0x20 => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
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

    #[test]
    fn sigstore_canonical_form() {
        let v = parse(
            br#"{"b": 1, "a": [true, null, "x\u0001\n\u00e9"], "c": 1.5e21, "d": 0.000001, "e": 1e-7, "f": 100}"#,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(canonicalize(&v).unwrap()).unwrap(),
            "{\"a\":[true,null,\"x\\u0001\\n\u{e9}\"],\"b\":1,\"c\":1.5e+21,\"d\":0.000001,\"e\":1e-7,\"f\":100}"
        );
        assert!(canonicalize(&parse(br#"{"a":1,"a":2}"#).unwrap()).is_err());
        // UTF-16 order: U+FB01 (one unit, 0xFB01) sorts after U+1F600 (surrogates 0xD83D...).
        let v = parse("{\"\u{fb01}\":1,\"\u{1f600}\":2}".as_bytes()).unwrap();
        assert_eq!(
            String::from_utf8(canonicalize(&v).unwrap()).unwrap(),
            "{\"\u{1f600}\":2,\"\u{fb01}\":1}"
        );
    }

    #[test]
    fn sigstore_exact_fields() {
        let v = parse(br#"{"a":1,"b":2}"#).unwrap();
        assert!(exact_fields(&v, ["a", "b"]).is_ok());
        assert!(exact_fields(&v, ["a"]).unwrap_err().contains("Unknown key"));
        assert!(exact_fields(&v, ["a", "b", "c"]).unwrap_err().contains("missing"));
        let v = parse(br#"{"a":1,"a":2}"#).unwrap();
        assert!(exact_fields(&v, ["a"]).unwrap_err().contains("Duplicate"));
    }
}

#[cfg(test)]
mod differential {
    use super::*;
    use crate::json::{self, Kind, ReadRules};

    fn to_j(v: &json::Value) -> J {
        match &v.kind {
            Kind::Null => J::Null,
            Kind::Bool(b) => J::Bool(*b),
            Kind::Number(n) => J::Num(n.to_f64()),
            Kind::String(s) => J::Str(s.clone()),
            Kind::Array(a) => J::Arr(a.iter().map(to_j).collect()),
            Kind::Object(m) => J::Obj(m.iter().map(|m| (m.key.clone(), to_j(&m.value))).collect()),
        }
    }

    fn check(input: &[u8], diffs: &mut Vec<String>) {
        let a = parse(input);
        let b = json::parse_with(input, ReadRules::Go);
        fn near(a: &J, b: &J) -> bool {
            match (a, b) {
                (J::Num(x), J::Num(y)) => x == y || (x.to_bits() as i64 - y.to_bits() as i64).abs() == 1,
                (J::Arr(x), J::Arr(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| near(a, b)),
                (J::Obj(x), J::Obj(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| a.0 == b.0 && near(&a.1, &b.1)),
                _ => a == b,
            }
        }
        let same = match (&a, &b) {
            (Ok(a), Ok(b)) => near(a, &to_j(b)),
            (Err(_), Err(_)) => true,
            _ => false,
        };
        if !same {
            diffs.push(format!("{:?}: {:?} vs {:?}", String::from_utf8_lossy(input), a, b.map(|v| to_j(&v))));
        }
    }

    #[test]
    fn agrees_with_the_one_reader() {
        let mut diffs = Vec::new();
        for n in [1, 63, 64, 65, 126, 127, 128, 129, 200] {
            check(format!("{}{}", "[".repeat(n), "]".repeat(n)).as_bytes(), &mut diffs);
            check(format!("{}1{}", "{\"a\":[".repeat(n / 2), "]}".repeat(n / 2)).as_bytes(), &mut diffs);
        }
        let mut docs: Vec<Vec<u8>> = vec![
            br#"{"a":[1,-2.5e3,"\u00e9\ud83d\ude00",{"b":null,"c":true}],"d":"x\"y","e":1e400,"f":-0,"g":18446744073709551617}"#.to_vec(),
            br#"{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"},"optional":{"creator":"c","timestamp":1.5e3}}"#.to_vec(),
        ];
        for f in ["1e308", "1.7976931348623157e308", "1.7976931348623159e308", "2e308", "-1e309", "1e-400", "123456789012345678901234567890", "0.1", "2.2250738585072011e-308", "9007199254740993", "4.9406564584124654e-324", "\u{feff}1", "\"\\ud800\"", "\"\\udc00\\ud800\"", "[1,]", "{\"a\":1,}", " 1 ", "1 2", "\"\t\"", "\"\u{7f}\"", "tru", "-", "01", "1.", "\"\\u00\""] {
            docs.push(f.as_bytes().to_vec());
        }
        docs.push(b"\"\xff\"".to_vec());
        docs.push(b"[\"a\xc3\"]".to_vec());
        let base = docs.clone();
        for doc in &base {
            check(doc, &mut diffs);
            for i in 0..=doc.len() {
                check(&doc[..i], &mut diffs);
                for b in [0u8, b'"', b'\\', b'{', b'[', b']', b'}', b',', b':', b'-', b'0', b'e', b'.', b'+', 0xff, 0xc3, b'\n', b' ', b'u'] {
                    let mut m = doc.clone();
                    if i < m.len() {
                        m[i] = b;
                        check(&m, &mut diffs);
                        m.insert(i, b);
                        check(&m, &mut diffs);
                    }
                }
            }
        }
        assert!(diffs.is_empty(), "{} differences:\n{}", diffs.len(), diffs.join("\n"));
    }
}
