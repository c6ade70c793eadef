//! Strict containers-policy.json parsing into a compiled [`Policy`].
//!
//! Accepts and rejects exactly what containers/image does
//! (`signature/policy_config.go`, `policy_config_sigstore.go` and each
//! transport's `ValidatePolicyConfigurationScope`), with two differences in
//! *how*: every problem is reported at once (c/image stops at the first),
//! each with its JSON path and the line:column of the offending key or value;
//! and a JSON `null` where a string, list or object is expected is always a
//! problem (Go's decoder silently treats some of those as absent or empty).
//!
//! Keys of `signedBy` requirements are loaded here, once per file per parse
//! (see [`keys`]). A key that cannot be used is not a policy problem: c/image
//! only fails the requirement naming it, at evaluation, so it is recorded in
//! [`LoadedKeys::errors`](super::LoadedKeys) and the evaluator rejects with it.

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;

use crate::json::{self, index_path, key_path, ErrorKind, JsonError, JsonErrors, ObjectReader, Position, Value};

use super::{Policy, Requirement, Scope, Transport};

mod identity;
mod keys;
mod requirement;
mod scope;

/// How to parse a policy.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// The policy file's path, kept in [`Policy::source`] for messages.
    ///
    /// It does **not** anchor relative `keyPath`s: c/image reads a relative
    /// key path relative to the process's working directory (it passes the
    /// string to `os.ReadFile`), and so do we.
    pub source: Option<PathBuf>,
}

/// One thing wrong with a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// JSON path of the offending member, e.g.
    /// `transports.docker["example.com/ns"][0].keyPath`; the object's own
    /// path for a missing key; empty for the top level and syntax errors.
    pub path: String,
    /// 1-based line of the offending key or value.
    pub line: usize,
    /// 1-based column (in characters) of the offending key or value.
    pub column: usize,
    /// What is wrong (without the path or position).
    pub message: String,
}

impl fmt::Display for Problem {
    /// `path (line L, column C): message`, or `line L, column C: message` at
    /// the top level.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "line {}, column {}: {}", self.line, self.column, self.message)
        } else {
            write!(
                f,
                "{} (line {}, column {}): {}",
                self.path, self.line, self.column, self.message
            )
        }
    }
}

/// Why a policy was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The input is not JSON (one problem: where the syntax broke).
    #[error("{0}")]
    Syntax(Problem),
    /// Valid JSON but not a valid policy: every problem found, sorted by position.
    #[error("{}", Lines(.0))]
    Invalid(Vec<Problem>),
}

impl PolicyError {
    /// All problems, in document order.
    pub fn problems(&self) -> &[Problem] {
        match self {
            PolicyError::Syntax(p) => std::slice::from_ref(p),
            PolicyError::Invalid(v) => v,
        }
    }
}

/// One problem per line.
struct Lines<'a>(&'a [Problem]);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Parses and validates a policy and loads the keys of its `signedBy`
/// requirements.
pub fn parse(bytes: &[u8], opts: &ParseOptions) -> Result<Policy, PolicyError> {
    let doc = json::parse(bytes).map_err(|e| PolicyError::Syntax(problem(e)))?;
    let mut cx = Cx {
        errors: JsonErrors::new(),
        keys: keys::Loader::new(),
    };
    let policy = cx.policy(&doc, opts);
    match (cx.errors.finish(), policy) {
        (Ok(()), Some(policy)) => Ok(policy),
        (Err(errors), _) => Err(PolicyError::Invalid(
            errors.into_vec().into_iter().map(problem).collect(),
        )),
        // Every path that yields no value records why; keep failing closed if one does not.
        (Ok(()), None) => Err(PolicyError::Invalid(vec![Problem {
            path: String::new(),
            line: doc.position.line,
            column: doc.position.column,
            message: "invalid policy".to_owned(),
        }])),
    }
}

/// A [`JsonError`] as a [`Problem`]: key problems name the key's own path.
fn problem(e: JsonError) -> Problem {
    let (path, message) = match &e.kind {
        ErrorKind::Syntax(s) => (String::new(), format!("invalid JSON: {s}")),
        ErrorKind::TrailingData => (
            String::new(),
            "invalid JSON: unexpected data after the value".to_owned(),
        ),
        ErrorKind::MissingKey { key } => (e.path.clone(), format!("missing required key {key:?}")),
        ErrorKind::DuplicateKey { key } => (
            key_path(&e.path, key),
            format!("duplicate key {key:?} (a key may appear only once in an object)"),
        ),
        ErrorKind::UnknownKey { key } => (key_path(&e.path, key), format!("unknown key {key:?}")),
        ErrorKind::WrongType { expected, found } => (e.path.clone(), format!("must be {expected}, not {found}")),
        ErrorKind::Invalid { message } => (e.path.clone(), message.clone()),
        _ => (e.path.clone(), e.message()),
    };
    Problem {
        path,
        line: e.line,
        column: e.column,
        message,
    }
}

/// A member read from an object: absent, present but unusable (already
/// reported), or present with its value.
enum Field<'v, T> {
    Absent,
    Bad,
    Ok(T, &'v Value),
}

impl<'v, T> Field<'v, T> {
    fn is_present(&self) -> bool {
        !matches!(self, Field::Absent)
    }

    fn ok(self) -> Option<T> {
        match self {
            Field::Ok(t, _) => Some(t),
            _ => None,
        }
    }
}

/// Parsing state: the problems found so far and the key file cache.
struct Cx {
    errors: JsonErrors,
    keys: keys::Loader,
}

impl Cx {
    fn invalid(&mut self, path: impl Into<String>, at: Position, message: impl Into<String>) {
        self.errors.push(JsonError::invalid(path, at, message));
    }

    /// `v` as an object, reporting a type error or duplicate keys.
    fn open<'v>(&mut self, v: &'v Value, path: &str) -> Option<ObjectReader<'v>> {
        v.as_object_reporting(path, &mut self.errors)
    }

    /// Reports every member no getter took, once per key, listing what `what` allows.
    fn close(&mut self, r: &ObjectReader<'_>, what: &str, allowed: &[&str]) {
        let mut seen = HashSet::new();
        for e in r.unknown_key_errors() {
            if let ErrorKind::UnknownKey { key } = &e.kind {
                if seen.insert(key.clone()) {
                    let message = format!("unknown key {key:?} in {what} (allowed: {})", allowed.join(", "));
                    self.invalid(key_path(r.path(), key), e.position(), message);
                }
            }
        }
    }

    /// A required member.
    fn required<'v>(&mut self, r: &mut ObjectReader<'v>, key: &str) -> Option<&'v Value> {
        self.errors.check(r.required(key))
    }

    /// An optional string member (`null` is a type error).
    fn string<'v>(&mut self, r: &mut ObjectReader<'v>, key: &str) -> Field<'v, &'v str> {
        match r.optional(key) {
            None => Field::Absent,
            Some(v) => match self.errors.check(v.as_str(&r.child_path(key))) {
                Some(s) => Field::Ok(s, v),
                None => Field::Bad,
            },
        }
    }

    /// A required string member.
    fn required_string<'v>(&mut self, r: &mut ObjectReader<'v>, key: &str) -> Option<(&'v str, &'v Value)> {
        let v = self.required(r, key)?;
        let s = self.errors.check(v.as_str(&r.child_path(key)))?;
        Some((s, v))
    }

    /// An optional list of strings.
    fn strings<'v>(&mut self, r: &mut ObjectReader<'v>, key: &str) -> Field<'v, Vec<&'v str>> {
        let Some(v) = r.optional(key) else {
            return Field::Absent;
        };
        let path = r.child_path(key);
        let Some(items) = self.errors.check(v.as_array(&path)) else {
            return Field::Bad;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.extend(self.errors.check(item.as_str(&index_path(&path, i))));
        }
        if out.len() == items.len() {
            Field::Ok(out, v)
        } else {
            Field::Bad
        }
    }

    /// An optional base64 member (`[]byte` in Go: standard alphabet, padded).
    fn bytes<'v>(&mut self, r: &mut ObjectReader<'v>, key: &str) -> Field<'v, Vec<u8>> {
        match self.string(r, key) {
            Field::Ok(s, v) => match self.base64(s, v, &r.child_path(key)) {
                Some(b) => Field::Ok(b, v),
                None => Field::Bad,
            },
            Field::Absent => Field::Absent,
            Field::Bad => Field::Bad,
        }
    }

    /// An optional list of base64 strings (`[][]byte` in Go).
    fn bytes_list<'v>(&mut self, r: &mut ObjectReader<'v>, key: &str) -> Field<'v, Vec<Vec<u8>>> {
        let Some(v) = r.optional(key) else {
            return Field::Absent;
        };
        let path = r.child_path(key);
        let Some(items) = self.errors.check(v.as_array(&path)) else {
            return Field::Bad;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_path = index_path(&path, i);
            if let Some(s) = self.errors.check(item.as_str(&item_path)) {
                out.extend(self.base64(s, item, &item_path));
            }
        }
        if out.len() == items.len() {
            Field::Ok(out, v)
        } else {
            Field::Bad
        }
    }

    fn base64(&mut self, s: &str, v: &Value, path: &str) -> Option<Vec<u8>> {
        match keys::decode_base64(s) {
            Ok(b) => Some(b),
            Err(e) => {
                let message = format!("must be standard base64 with '=' padding (like `base64 -w0 FILE`): {e}");
                self.invalid(path, v.position, message);
                None
            }
        }
    }

    /// The whole policy.
    fn policy(&mut self, doc: &Value, opts: &ParseOptions) -> Option<Policy> {
        let mut top = self.open(doc, "")?;
        let default = self.required(&mut top, "default");
        let default = default.and_then(|v| self.requirements(v, "default"));
        let transports = match top.optional("transports") {
            None => Some(Vec::new()),
            Some(v) => self.transports(v, "transports"),
        };
        self.close(&top, "the top-level object", &["default", "transports"]);
        Some(Policy {
            source: opts.source.clone(),
            default: default?,
            transports: transports?,
        })
    }

    /// `transports`: transport name → scopes. Unknown names are accepted.
    fn transports(&mut self, v: &Value, path: &str) -> Option<Vec<Transport>> {
        let mut r = self.open(v, path)?;
        let mut seen = HashSet::new();
        let mut out = Some(Vec::new());
        for m in r.take_all() {
            if !seen.insert(m.key.as_str()) {
                continue; // reported as a duplicate; its value is not read (as in c/image)
            }
            let scopes = self.scopes(&m.key, &m.value, &key_path(path, &m.key));
            match (&mut out, scopes) {
                (Some(out), Some(scopes)) => out.push(Transport {
                    name: m.key.clone(),
                    scopes,
                }),
                _ => out = None,
            }
        }
        out
    }

    /// One transport's scopes: scope → requirement list.
    fn scopes(&mut self, transport: &str, v: &Value, path: &str) -> Option<Vec<Scope>> {
        let mut r = self.open(v, path)?;
        let mut seen = HashSet::new();
        let mut out = Some(Vec::new());
        for m in r.take_all() {
            if !seen.insert(m.key.as_str()) {
                continue;
            }
            let scope_path = key_path(path, &m.key);
            if !m.key.is_empty() {
                if let Err(why) = scope::validate(transport, &m.key) {
                    let message = format!("invalid scope {:?} for the {transport:?} transport: {why}", m.key);
                    self.invalid(scope_path.clone(), m.key_position, message);
                }
            }
            let requirements = self.requirements(&m.value, &scope_path);
            match (&mut out, requirements) {
                (Some(out), Some(requirements)) => out.push(Scope {
                    scope: m.key.clone(),
                    requirements,
                }),
                _ => out = None,
            }
        }
        out
    }

    /// A non-empty list of requirements.
    fn requirements(&mut self, v: &Value, path: &str) -> Option<Vec<Requirement>> {
        let items = self.errors.check(v.as_array(path))?;
        if items.is_empty() {
            let message = "the list of requirements must not be empty (write [{\"type\":\"reject\"}] to refuse \
                           everything or [{\"type\":\"insecureAcceptAnything\"}] to need nothing)";
            self.invalid(path, v.position, message);
            return None;
        }
        let mut out = Some(Vec::with_capacity(items.len()));
        for (i, item) in items.iter().enumerate() {
            match (&mut out, self.requirement(item, &index_path(path, i))) {
                (Some(out), Some(r)) => out.push(r),
                _ => out = None,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(doc: &str) -> PolicyError {
        parse(doc.as_bytes(), &ParseOptions::default()).unwrap_err()
    }

    #[test]
    fn syntax_errors_are_one_problem_at_the_break() {
        let e = err("{\"default\": [\n  {\"type\": \"reject\"},\n]}");
        let PolicyError::Syntax(p) = &e else { panic!("{e:?}") };
        assert_eq!((p.path.as_str(), p.line, p.column), ("", 3, 1));
        assert!(p.message.starts_with("invalid JSON: "), "{p}");
        assert_eq!(e.to_string(), format!("line 3, column 1: {}", p.message));
        let e = err("{\"default\":[{\"type\":\"reject\"}]} {}");
        assert!(e.to_string().contains("unexpected data"), "{e}");
    }

    #[test]
    fn display_is_one_line_per_problem_in_document_order() {
        let e = err("{\"x\": 1,\n \"default\": [],\n \"y\": 2}");
        let lines: Vec<String> = e.to_string().lines().map(str::to_owned).collect();
        assert_eq!(lines.len(), 3, "{e}");
        assert!(
            lines[0].starts_with("x (line 1, column 2): unknown key \"x\""),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].starts_with("default (line 2, column 13): the list of requirements"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("y (line 3, column 2): unknown key"),
            "{}",
            lines[2]
        );
    }

    #[test]
    fn problems_name_the_key_for_duplicates_and_the_object_for_missing_keys() {
        let e = err("{\"default\":[{\"type\":\"reject\",\"type\":\"reject\"}],\"transports\":{\"dir\":{\"\":[{}]}}}");
        let p = e.problems();
        assert_eq!(p.len(), 2, "{e}");
        assert_eq!((p[0].path.as_str(), p[0].column), ("default[0].type", 30));
        assert!(p[0].message.starts_with("duplicate key \"type\""), "{}", p[0]);
        assert_eq!((p[1].path.as_str(), p[1].column), ("transports.dir[\"\"][0]", 73));
        assert_eq!(p[1].message, "missing required key \"type\"");
    }
}
