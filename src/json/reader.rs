//! Strict typed reading of a parsed [`Value`]: the `as_*` accessors, the
//! [`ObjectReader`] that rejects duplicate, unknown and missing keys (the
//! `ParanoidUnmarshalJSONObject` helper), and the JSON paths its errors
//! name ([`key_path`], [`index_path`]).

use std::collections::HashSet;

use super::{ErrorKind, JsonError, JsonErrors, JsonType, Kind, Member, Number, Position, Value};

/// The path of member `key` of the object at `parent`: `parent.key` when the
/// key is a plain word (ASCII letters, digits, `_`, `-`), else `parent["key"]`
/// with the key escaped, so that any untrusted key is safe to print.
pub fn key_path(parent: &str, key: &str) -> String {
    let plain = key.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    match (plain, parent.is_empty()) {
        (true, true) => key.to_owned(),
        // Built by hand, not with format!: readers make one for every nested
        // object of every claim (about 1,000 instructions each with format!).
        (true, false) => {
            let mut path = String::with_capacity(parent.len() + 1 + key.len());
            path.push_str(parent);
            path.push('.');
            path.push_str(key);
            path
        }
        (false, _) => format!("{parent}[{key:?}]"),
    }
}

/// The path of element `index` of the array at `parent`: `parent[index]`.
pub fn index_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
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
/// (Used as in the unit test `object_reader_takes_known_members_then_denies_the_rest`.)
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

    /// `get` applied to member `key`'s value `v`. The member's path is built
    /// only when `get` fails (and then `get` runs again with it), so good
    /// input formats no paths for its scalars.
    fn typed<T>(
        &self,
        key: &str,
        v: &'a Value,
        get: impl Fn(&'a Value, &str) -> Result<T, JsonError>,
    ) -> Result<T, JsonError> {
        get(v, "").or_else(|_| get(v, &self.child_path(key)))
    }

    pub fn required_str(&mut self, key: &str) -> Result<&'a str, JsonError> {
        let v = self.required(key)?;
        self.typed(key, v, Value::as_str)
    }

    /// `None` if absent; present but not a string (including `null`) is an error.
    pub fn optional_str(&mut self, key: &str) -> Result<Option<&'a str>, JsonError> {
        self.optional(key)
            .map(|v| self.typed(key, v, Value::as_str))
            .transpose()
    }

    pub fn required_object(&mut self, key: &str) -> Result<ObjectReader<'a>, JsonError> {
        self.required(key)?.as_object(&self.child_path(key))
    }

    pub fn required_array(&mut self, key: &str) -> Result<&'a [Value], JsonError> {
        let v = self.required(key)?;
        self.typed(key, v, Value::as_array)
    }

    pub fn optional_i64_exact(&mut self, key: &str) -> Result<Option<i64>, JsonError> {
        self.optional(key)
            .map(|v| self.typed(key, v, Value::as_i64_exact))
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
        // Small objects (every claim's, most of a policy's) are compared
        // pairwise: no hash set to build and hash into for each of them.
        let repeated: Vec<&Member> = if self.members.len() <= 16 {
            let ms = self.members;
            (1..ms.len())
                .filter(|&i| ms[..i].iter().any(|m| m.key == ms[i].key))
                .map(|i| &ms[i])
                .collect()
        } else {
            let mut seen = HashSet::new();
            self.members.iter().filter(|m| !seen.insert(m.key.as_str())).collect()
        };
        repeated
            .into_iter()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_reader_takes_known_members_then_denies_the_rest() {
        let doc = crate::json::parse(br#"{"image":{"docker-manifest-digest":"sha256:00"}}"#).unwrap();
        let mut top = doc.as_object("").unwrap();
        let mut image = top.required_object("image").unwrap();
        assert_eq!(image.required_str("docker-manifest-digest").unwrap(), "sha256:00");
        image.deny_unknown().unwrap();
        top.deny_unknown().unwrap();
        let doc = crate::json::parse(br#"{"image":{},"extra":1}"#).unwrap();
        let mut top = doc.as_object("").unwrap();
        top.required_object("image").unwrap();
        assert!(top.deny_unknown().is_err(), "an unknown member is an error");
    }
    use crate::json::parse;

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
    fn duplicates_are_the_same_in_small_and_large_objects() {
        // Objects of up to 16 members are checked pairwise, larger ones with
        // a hash set: both report every repeated occurrence, in order, once
        // per repeat (a key seen three times is two errors).
        for filler in [0, 20] {
            let mut doc = String::from(r#"{"k":0,"x":1"#);
            for i in 0..filler {
                doc.push_str(&format!(r#","f{i}":0"#));
            }
            doc.push_str(r#","k":2,"y":3,"x":4,"k":5}"#);
            let v = parse(doc.as_bytes()).unwrap();
            let reader = v.object_reader("").unwrap();
            let found: Vec<(String, usize)> = reader
                .duplicate_key_errors()
                .iter()
                .map(|e| (e.message(), e.column))
                .collect();
            let at = |needle: &str| doc.find(needle).unwrap() + 1;
            let at_last = |needle: &str| doc.rfind(needle).unwrap() + 1;
            assert_eq!(
                found,
                vec![
                    (
                        r#"duplicate key "k" in the top-level object"#.to_owned(),
                        at(r#""k":2"#)
                    ),
                    (
                        r#"duplicate key "x" in the top-level object"#.to_owned(),
                        at(r#""x":4"#)
                    ),
                    (
                        r#"duplicate key "k" in the top-level object"#.to_owned(),
                        at_last(r#""k":5"#)
                    ),
                ],
                "{filler} fillers"
            );
        }
    }

    #[test]
    fn typed_getters_name_the_member_path_in_errors() {
        fn message<T: std::fmt::Debug>(r: Result<T, JsonError>) -> String {
            r.unwrap_err().message()
        }
        let v = parse(br#"{"o":{"s":1,"a":"x","i":"y","t":true}}"#).unwrap();
        let mut top = v.as_object("").unwrap();
        let mut o = top.required_object("o").unwrap();
        assert_eq!(message(o.required_str("s")), "o.s must be a string, not a number");
        assert_eq!(message(o.required_array("a")), "o.a must be an array, not a string");
        assert_eq!(message(o.optional_i64_exact("i")), "o.i must be a number, not a string");
        assert_eq!(message(o.optional_str("t")), "o.t must be a string, not a boolean");
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
}
