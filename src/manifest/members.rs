//! Manifests that two JSON readers would read differently: refused.
//!
//! A signed schema 1 manifest's digest covers `content[:formatLength] + formatTail`, so
//! members repeated after `formatLength` (a second `"fsLayers"`) do not change it; Go's
//! `encoding/json` takes the last of repeated members and would pull the unsigned layers,
//! while the signed part names others. For the other schemas the digest covers every byte,
//! but readers still disagree on which of two `"layers"` counts. containers/image and skopeo
//! accept such manifests; imgsig refuses every manifest (any schema) with a repeated member
//! in any object at any depth, before it judges, signs or mirrors it:
//!
//! - members are compared after unescaping, and also as Go matches them to struct fields
//!   (case-insensitively, [`go_fold`]): `"FSLayers"` after `"fsLayers"` is the same field to
//!   Go. Only inside an `annotations` object, which Go decodes into a map (exact keys),
//!   names differing in case are distinct;
//! - the bytes are read as Go reads them: each byte of an invalid UTF-8 sequence is one
//!   U+FFFD. A manifest that Go would read but imgsig's strict reader cannot (nesting deeper
//!   than [`MAX_DEPTH`], an unpaired surrogate escape) cannot be checked and is refused too;
//! - bytes that are not JSON to any reader are left alone: no reader takes layers from them
//!   (their digest is the hash of the bytes, as before).

use std::collections::HashMap;

use crate::json::{self, go_fold, ErrorKind, JsonError, Kind, Position, SyntaxError, Value, MAX_DEPTH};
use crate::Reason;

/// Why a manifest is refused although its digest can be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MemberError {
    /// An object names a member twice (exactly, or as Go matches field names).
    #[error(
        "the manifest has a duplicate member {path} (line {}, column {}){}: JSON readers disagree on which one counts \
         (Go's encoding/json takes the last), so its digest does not pin what a pull reads",
        at.line, at.column, first.as_ref().map(|f| format!(", the same field as {f:?} to Go")).unwrap_or_default()
    )]
    Duplicate {
        /// The JSON path of the repeated member, e.g. `fsLayers` or `layers[0].digest`.
        path: String,
        /// Where the repeated occurrence is.
        at: Position,
        /// The earlier key when it differs in case only (a duplicate to Go's field matching).
        first: Option<String>,
    },
    /// Go's reader would read it, imgsig's strict reader cannot: duplicates cannot be ruled out.
    #[error(
        "the manifest cannot be checked for duplicate members: {0} (Go's encoding/json would read it; \
         imgsig reads manifests with at most {MAX_DEPTH} levels of nesting and no unpaired surrogate escapes)"
    )]
    NotStrict(JsonError),
}

impl MemberError {
    /// Stable reason code (docs/json-output.md).
    pub fn code(&self) -> Reason {
        match self {
            MemberError::Duplicate { .. } => Reason::ManifestDuplicateMember,
            MemberError::NotStrict(_) => Reason::ManifestNotStrictJson,
        }
    }
}

/// Refuses a manifest in which some object repeats a member (see the module docs).
pub fn check_members(bytes: &[u8]) -> Result<(), MemberError> {
    let text = go_lossy(bytes);
    match json::parse(text.as_bytes()) {
        Ok(v) => first_duplicate(&v, "", false).map_or(Ok(()), Err),
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::Syntax(SyntaxError::TooDeep(_) | SyntaxError::LoneSurrogate(_))
            ) =>
        {
            Err(MemberError::NotStrict(e))
        }
        // Not JSON to Go either (same grammar): no reader takes members from it.
        Err(_) => Ok(()),
    }
}

/// The bytes as Go's decoder sees them: each byte of an invalid UTF-8 sequence becomes one
/// U+FFFD (`utf8.DecodeRune` returns a width of 1 for it).
fn go_lossy(mut bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.into();
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out.into();
            }
            Err(e) => {
                let (good, bad) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).expect("valid up to here"));
                let n = e.error_len().unwrap_or(bad.len());
                out.extend(std::iter::repeat_n('\u{FFFD}', n));
                bytes = &bad[n..];
            }
        }
    }
}

/// The first repeated member in document order, depth first. `is_map`: the object is an
/// `annotations` map, whose keys Go compares exactly.
fn first_duplicate(v: &Value, path: &str, is_map: bool) -> Option<MemberError> {
    match &v.kind {
        Kind::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| first_duplicate(item, &json::index_path(path, i), false)),
        Kind::Object(members) => {
            let mut seen: HashMap<String, &str> = HashMap::with_capacity(members.len());
            for m in members {
                let name = if is_map { m.key.clone() } else { go_fold(&m.key) };
                if let Some(first) = seen.insert(name, &m.key) {
                    return Some(MemberError::Duplicate {
                        path: json::key_path(path, &m.key),
                        at: m.key_position,
                        first: (first != m.key).then(|| first.to_owned()),
                    });
                }
            }
            members.iter().find_map(|m| {
                let annotations = !is_map && go_fold(&m.key) == "ANNOTATIONS";
                first_duplicate(&m.value, &json::key_path(path, &m.key), annotations)
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(doc: &str) -> Option<&'static str> {
        check_members(doc.as_bytes()).err().map(|e| e.code().as_str())
    }

    fn duplicate_path(doc: &[u8]) -> String {
        match check_members(doc) {
            Err(MemberError::Duplicate { path, .. }) => path,
            other => panic!("{other:?}: {}", String::from_utf8_lossy(doc)),
        }
    }

    #[test]
    fn the_reference_fixtures_pass() {
        let base = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/reference/fixtures/manifests");
        let mut n = 0;
        for entry in std::fs::read_dir(base).expect("the shared reference fixtures") {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(check_members(&bytes), Ok(()), "{}", path.display());
            n += 1;
        }
        assert!(n >= 10, "{n} fixtures");
    }

    #[test]
    fn repeated_members_at_any_depth_are_named_by_path() {
        #[rustfmt::skip]
        let cases = [
            (r#"{"a":1,"a":2}"#, "a"),
            (r#"{"layers":[{"digest":"x","size":1},{"digest":"y","size":2,"digest":"z"}]}"#, "layers[1].digest"),
            (r#"{"config":{"mediaType":"a","MediaType":"b"}}"#, "config.MediaType"),
            (r#"{"fsLayers":[],"FSLAYERS":[]}"#, "FSLAYERS"),
            (r#"{"fs\u004cayers":[],"fsLayers":[]}"#, "fsLayers"),
            (r#"{"annotations":{"k":"1","k":"2"}}"#, "annotations.k"),
            (r#"{"manifests":[{"platform":{"os":"linux","os":"windows"}}]}"#, "manifests[0].platform.os"),
            (r#"{"x":[[{"a.b":1,"a.b":2}]]}"#, r#"x[0][0]["a.b"]"#),
        ];
        for (doc, path) in cases {
            assert_eq!(duplicate_path(doc.as_bytes()), path, "{doc}");
        }
        let e = check_members(br#"{"fsLayers":[],"FSLayers":[]}"#).unwrap_err();
        assert!(e.to_string().contains(r#"the same field as "fsLayers" to Go"#), "{e}");
        // Each invalid byte is one U+FFFD to Go: these two keys are the same to it.
        assert_eq!(
            duplicate_path(b"{\"a\xe2\x82\":1,\"a\xff\xff\":2}"),
            "[\"a\u{FFFD}\u{FFFD}\"]"
        );
    }

    #[test]
    fn what_is_not_a_duplicate_passes() {
        for doc in [
            r#"{"annotations":{"org.x":"1","ORG.X":"2"}}"#,
            r#"{"a":{"k":1},"b":{"k":1},"c":[{"k":1},{"k":2}]}"#,
            r#"{"a":"fsLayers","fsLayers":[]}"#,
            "This is not JSON",
            r#"{"a":1,"a":2"#, // truncated: no reader reads it
            "",
        ] {
            assert_eq!(code(doc), None, "{doc}");
        }
    }

    #[test]
    fn json_go_reads_but_the_strict_reader_cannot_is_refused() {
        let deep = format!(r#"{{"x":{}1{}}}"#, "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(code(&deep), Some("manifest-not-strict-json"));
        assert_eq!(code(r#"{"x":"\ud800"}"#), Some("manifest-not-strict-json"));
    }
}
