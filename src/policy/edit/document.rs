//! The edit `trust set` makes, on the document as parsed by [`crate::json`]
//! (members in file order, duplicates kept so they can be refused, numbers
//! as written), and Go's `json.MarshalIndent` to write it back.
//!
//! Why not `serde_json::Value`: it silently keeps the last of duplicate keys
//! (the rewrite would drop the others, changing what the file says), and
//! its string escaping is not Go's; `crate::json` has both covered, so the
//! output is byte for byte what podman writes for the same document.

use std::collections::HashSet;

use crate::json::{self, index_path, key_path, Kind, Member, Position, Value};

use super::Target;

/// Where the new requirements went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Placed {
    /// `None` for `default`.
    pub(super) transport: Option<String>,
    /// Whether an existing list was replaced (else added).
    pub(super) replaced: bool,
}

impl Placed {
    pub(super) fn path(&self, target: &Target) -> String {
        match (&self.transport, target.scope()) {
            (Some(t), Some(s)) => key_path(&key_path("transports", t), s),
            _ => "default".to_owned(),
        }
    }
}

/// Why the file cannot be edited.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ApplyError {
    /// `default` is missing, null or empty and the target is a scope.
    NoDefault,
    /// The file is not something podman's shape can be applied to.
    Shape(String),
}

pub(super) fn value(kind: Kind) -> Value {
    Value {
        kind,
        position: Position::default(),
    }
}

pub(super) fn string(s: &str) -> Value {
    value(Kind::String(s.to_owned()))
}

pub(super) fn member(key: &str, v: Value) -> Member {
    Member {
        key: key.to_owned(),
        key_position: Position::default(),
        value: v,
    }
}

/// Apply podman's edit to the document (`None`: the file does not exist).
pub(super) fn apply(doc: Option<Value>, target: &Target, reqs: Value) -> Result<(Value, Placed), ApplyError> {
    let mut doc = doc.unwrap_or_else(|| value(Kind::Object(Vec::new())));
    let Kind::Object(top) = &mut doc.kind else {
        return Err(ApplyError::Shape(format!(
            "it is a JSON {}, not an object",
            doc.json_type()
        )));
    };
    let scope = match target.scope() {
        None => {
            let replaced = match top.iter_mut().find(|m| m.key == "default") {
                Some(m) => {
                    m.value = reqs;
                    true
                }
                None => {
                    top.insert(0, member("default", reqs));
                    false
                }
            };
            let placed = Placed {
                transport: None,
                replaced,
            };
            return Ok((doc, placed));
        }
        Some(s) => s,
    };
    // podman checks only that "default" is present; null and [] are "not set" here (both are invalid).
    let has_default = top.iter().any(|m| {
        m.key == "default"
            && match &m.value.kind {
                Kind::Null => false,
                Kind::Array(a) => !a.is_empty(),
                _ => true,
            }
    });
    if !has_default {
        return Err(ApplyError::NoDefault);
    }
    let transports = match top.iter().position(|m| m.key == "transports") {
        Some(i) => &mut top[i].value,
        None => {
            top.push(member("transports", value(Kind::Object(Vec::new()))));
            &mut top.last_mut().expect("just pushed").value
        }
    };
    if matches!(transports.kind, Kind::Null) {
        transports.kind = Kind::Object(Vec::new());
    }
    let Kind::Object(transports) = &mut transports.kind else {
        return Err(ApplyError::Shape("\"transports\" is not an object".to_owned()));
    };
    let has_scope = |m: &Member| matches!(&m.value.kind, Kind::Object(ss) if ss.iter().any(|x| x.key == scope));
    let existing = transports
        .iter()
        .position(|m| m.key == "docker" && has_scope(m))
        .or_else(|| transports.iter().position(has_scope));
    let (index, replaced) = match existing {
        Some(i) => (i, true),
        None => match transports.iter().position(|m| m.key == "docker") {
            Some(i) => (i, false),
            None => {
                transports.push(member("docker", value(Kind::Object(Vec::new()))));
                (transports.len() - 1, false)
            }
        },
    };
    let transport = &mut transports[index];
    if matches!(transport.value.kind, Kind::Null) {
        transport.value.kind = Kind::Object(Vec::new());
    }
    let Kind::Object(scopes) = &mut transport.value.kind else {
        return Err(ApplyError::Shape(format!(
            "{} is not an object",
            key_path("transports", &transport.key)
        )));
    };
    match scopes.iter_mut().find(|m| m.key == scope) {
        Some(m) => m.value = reqs,
        None => scopes.push(member(scope, reqs)),
    }
    let placed = Placed {
        transport: Some(transport.key.clone()),
        replaced,
    };
    Ok((doc, placed))
}

/// The first duplicated object key anywhere in `v`, with its path.
pub(super) fn first_duplicate(v: &Value, path: &str) -> Option<(String, Position)> {
    match &v.kind {
        Kind::Object(members) => {
            let mut seen = HashSet::new();
            if let Some(m) = members.iter().find(|m| !seen.insert(m.key.as_str())) {
                return Some((key_path(path, &m.key), m.key_position));
            }
            members
                .iter()
                .find_map(|m| first_duplicate(&m.value, &key_path(path, &m.key)))
        }
        Kind::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| first_duplicate(item, &index_path(path, i))),
        _ => None,
    }
}

/// Go's `json.MarshalIndent(v, "", "    ")`: members in order, Go's string
/// escaping, `[]`/`{}` for empty containers, numbers as written, no final
/// newline.
pub(super) fn marshal_indent(v: &Value) -> String {
    let mut out = String::new();
    write_indented(&mut out, v, 0);
    out
}

fn write_indented(out: &mut String, v: &Value, depth: usize) {
    fn newline(out: &mut String, depth: usize) {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("    ");
        }
    }
    match &v.kind {
        Kind::Null => out.push_str("null"),
        Kind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Kind::Number(n) => out.push_str(n.as_str()),
        Kind::String(s) => json::write_go_string(out, s),
        Kind::Array(items) if items.is_empty() => out.push_str("[]"),
        Kind::Object(members) if members.is_empty() => out.push_str("{}"),
        Kind::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_indented(out, item, depth + 1);
            }
            newline(out, depth);
            out.push(']');
        }
        Kind::Object(members) => {
            out.push('{');
            for (i, m) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                json::write_go_string(out, &m.key);
                out.push_str(": ");
                write_indented(out, &m.value, depth + 1);
            }
            newline(out, depth);
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &str) -> Target {
        Target {
            scope: Some(s.to_owned()),
        }
    }

    fn parse(s: &str) -> Value {
        json::parse(s.as_bytes()).unwrap()
    }

    fn reject() -> Value {
        value(Kind::Array(vec![value(Kind::Object(vec![member(
            "type",
            string("reject"),
        )]))]))
    }

    #[test]
    fn marshal_indent_is_go_shaped() {
        let v = parse(r#"{"a":[],"b":{},"c":[1,{"d":"<&>\u2028"}],"e":null,"f":true}"#);
        assert_eq!(
            marshal_indent(&v),
            "{\n    \"a\": [],\n    \"b\": {},\n    \"c\": [\n        1,\n        {\n            \"d\": \"\\u003c\\u0026\\u003e\\u2028\"\n        }\n    ],\n    \"e\": null,\n    \"f\": true\n}"
        );
    }

    #[test]
    fn scope_goes_to_docker_first_then_the_first_transport_that_has_it() {
        let doc = parse(r#"{"default":[],"transports":{"atomic":{"a.io":[]},"x":{"b.io":[]},"docker":{"a.io":[]}}}"#);
        // Empty default counts as "not set".
        assert_eq!(
            apply(Some(doc.clone()), &scope("a.io"), reject()).unwrap_err(),
            ApplyError::NoDefault
        );
        let doc = parse(r#"{"default":[{}],"transports":{"atomic":{"a.io":[]},"x":{"b.io":[]},"docker":{"a.io":[]}}}"#);
        let (_, p) = apply(Some(doc.clone()), &scope("a.io"), reject()).unwrap();
        assert_eq!(p.transport.as_deref(), Some("docker"));
        assert!(p.replaced);
        let (_, p) = apply(Some(doc.clone()), &scope("b.io"), reject()).unwrap();
        assert_eq!(p.transport.as_deref(), Some("x"));
        let (v, p) = apply(Some(doc), &scope("c.io"), reject()).unwrap();
        assert_eq!((p.transport.as_deref(), p.replaced), (Some("docker"), false));
        assert!(marshal_indent(&v).contains("\"a.io\": [],\n            \"c.io\": ["));
    }

    #[test]
    fn missing_file_only_for_default() {
        assert_eq!(
            apply(None, &scope("a.io"), reject()).unwrap_err(),
            ApplyError::NoDefault
        );
        let (v, p) = apply(None, &Target::DEFAULT, reject()).unwrap();
        assert!(!p.replaced);
        assert_eq!(
            marshal_indent(&v),
            "{\n    \"default\": [\n        {\n            \"type\": \"reject\"\n        }\n    ]\n}"
        );
    }

    #[test]
    fn duplicates_are_found_anywhere() {
        let v = parse(r#"{"default":[{"type":"reject"}],"transports":{"docker":{"a":[{"type":"x","type":"y"}]}}}"#);
        let (at, _) = first_duplicate(&v, "").unwrap();
        assert_eq!(at, "transports.docker.a[0].type");
        assert!(first_duplicate(&parse(r#"{"a":{"b":1},"c":{"b":1}}"#), "").is_none());
    }
}
