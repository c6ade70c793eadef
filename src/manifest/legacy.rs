//! TEMPORARY (test-only): the serde_json walker manifest.rs had before it moved onto
//! `crate::json`, kept verbatim so the differential test (`differential.rs`) can compare
//! the old and the new reader on every input. Deleted once they agree.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{
    ManifestError, SignatureProblem, DOCKER_V2_LIST, DOCKER_V2_SCHEMA1, DOCKER_V2_SCHEMA1_SIGNED, DOCKER_V2_SCHEMA2,
    DOCKER_V2_SCHEMA2_CONFIG, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST,
};
use crate::digest::Digest;
use crate::json::go_field_is;

pub(super) fn manifest_digest(bytes: &[u8]) -> Result<Digest, ManifestError> {
    if cannot_be_signed_schema1(bytes) {
        return Ok(Digest::sha256(bytes));
    }
    match Document::parse(bytes) {
        Some(doc) if doc.guess() == Some(DOCKER_V2_SCHEMA1_SIGNED) => Ok(Digest::sha256(&doc.schema1_payload(bytes)?)),
        _ => Ok(Digest::sha256(bytes)),
    }
}

/// A shortcut for the common case: a signed schema1 manifest needs a `signatures` member,
/// and Go matches member names case-insensitively (with Unicode folding, e.g. `ſ` for `s`)
/// and after unescaping. Plain ASCII without a backslash and without `signatures` in any
/// case cannot have one, so its digest is the hash of its bytes without parsing it.
fn cannot_be_signed_schema1(bytes: &[u8]) -> bool {
    const NAME: &[u8] = b"signatures";
    bytes.is_ascii()
        && !bytes.contains(&b'\\')
        && !(0..bytes.len().saturating_sub(NAME.len() - 1))
            .any(|i| bytes[i] | 0x20 == b's' && bytes[i..i + NAME.len()].eq_ignore_ascii_case(NAME))
}

/// c/image `MatchesDigest`: computes the sha256 [`manifest_digest`] and compares it with
pub(super) fn guess_media_type(bytes: &[u8]) -> Option<&'static str> {
    Document::parse(bytes)?.guess()
}

/// What Go's decoders would extract from the top-level manifest object, in one pass.
#[derive(Default)]
struct Document {
    // GuessMIMEType pass 1: {mediaType string, schemaVersion int, signatures any}.
    media_type: String,
    schema_version: i64,
    has_signatures: bool,
    meta_type_error: bool,
    // Pass 2: {config {mediaType string}}; pass 3: {manifests []Descriptor}.
    config_media_type: String,
    config_type_error: bool,
    manifests_len: usize,
    manifests_type_error: bool,
    // libtrust: map lookup of exactly "signatures", parsed as [{protected, header, signature}].
    signatures: Option<Result<Vec<String>, String>>,
}

impl Document {
    /// `None` when the bytes are not JSON or not an object (Go: Unmarshal error or `null`).
    fn parse(bytes: &[u8]) -> Option<Self> {
        let mut doc = Document::default();
        matches!(parse_json(bytes, &mut doc)?, Lite::Object).then_some(doc)
    }

    fn guess(&self) -> Option<&'static str> {
        if self.meta_type_error {
            return None;
        }
        let known = [DOCKER_V2_SCHEMA2, DOCKER_V2_LIST, OCI_MANIFEST, OCI_INDEX];
        if let Some(t) = known.into_iter().find(|t| *t == self.media_type) {
            return Some(t);
        }
        match self.schema_version {
            1 if self.has_signatures => Some(DOCKER_V2_SCHEMA1_SIGNED),
            1 => Some(DOCKER_V2_SCHEMA1),
            2 => {
                if self.config_type_error {
                    return None;
                }
                match self.config_media_type.as_str() {
                    OCI_CONFIG => return Some(OCI_MANIFEST),
                    DOCKER_V2_SCHEMA2_CONFIG => return Some(DOCKER_V2_SCHEMA2),
                    _ => {}
                }
                if self.manifests_type_error {
                    None
                } else if self.manifests_len == 0 {
                    Some(OCI_MANIFEST)
                } else if self.config_media_type.is_empty() {
                    Some(OCI_INDEX)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// libtrust `ParsePrettySignature(bytes, "signatures").Payload()`.
    fn schema1_payload(&self, bytes: &[u8]) -> Result<Vec<u8>, ManifestError> {
        let protected = match &self.signatures {
            None => return Err(ManifestError::MissingSignatures),
            Some(Err(why)) => return Err(ManifestError::InvalidSignatures(why.clone())),
            Some(Ok(list)) => list,
        };
        let mut format: Option<(i128, Vec<u8>)> = None;
        for (index, p) in protected.iter().enumerate() {
            let (len, tail) =
                parse_protected(p).map_err(|problem| ManifestError::InvalidSignature { index, problem })?;
            if let Some((first_len, first_tail)) = &format {
                if *first_len != len {
                    return Err(ManifestError::ConflictingSignatures { field: "formatLength" });
                }
                if *first_tail != tail {
                    return Err(ManifestError::ConflictingSignatures { field: "formatTail" });
                }
            } else {
                format = Some((len, tail));
            }
        }
        let Some((format_length, tail)) = format else {
            return Err(ManifestError::NoSignatures);
        };
        let len = usize::try_from(format_length)
            .ok()
            .filter(|l| *l <= bytes.len())
            .ok_or(ManifestError::FormatLengthOutOfRange {
                format_length,
                len: bytes.len(),
            })?;
        let mut payload = Vec::with_capacity(len + tail.len());
        payload.extend_from_slice(&bytes[..len]);
        payload.extend_from_slice(&tail);
        Ok(payload)
    }
}

/// Decodes one `protected` value into (formatLength as Go's `int(float64)`, formatTail bytes).
fn parse_protected(protected: &str) -> Result<(i128, Vec<u8>), SignatureProblem> {
    let raw = jose_base64url_decode(protected).ok_or(SignatureProblem::ProtectedBase64)?;
    // Decoded into map[string]interface{}: exact keys, the last duplicate wins.
    let (mut format_length, mut format_tail) = (None, None);
    let mut header = Fields(|k: &str, v| match k {
        "formatLength" => format_length = Some(v),
        "formatTail" => format_tail = Some(v),
        _ => {}
    });
    match parse_json(&raw, &mut header) {
        Some(Lite::Object | Lite::Null) => {}
        _ => return Err(SignatureProblem::ProtectedJson),
    }
    let len = match format_length {
        Some(Lite::U64(n)) => i128::from(n),
        Some(Lite::I64(n)) => i128::from(n),
        // Go truncates toward zero; out-of-range conversions end up negative on amd64.
        Some(Lite::F64(f)) if f.abs() < 9.2e18 => f.trunc() as i128,
        Some(Lite::F64(_)) => i128::from(i64::MIN),
        _ => return Err(SignatureProblem::MissingFormatLength),
    };
    let Some(Lite::Str(tail)) = &format_tail else {
        return Err(SignatureProblem::MissingFormatTail);
    };
    let tail = jose_base64url_decode(tail).ok_or(SignatureProblem::FormatTailBase64)?;
    Ok((len, tail))
}

/// libtrust `joseBase64UrlDecode`: drop '\n' and ' ', pad to a multiple of 4, then Go's
/// `base64.URLEncoding.DecodeString` (which also skips '\r' and allows non-zero trailing bits).
fn jose_base64url_decode(s: &str) -> Option<Vec<u8>> {
    const URL: GeneralPurpose = GeneralPurpose::new(
        &alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    let s: Vec<u8> = s.bytes().filter(|b| *b != b'\n' && *b != b' ').collect();
    let pad: &[u8] = match s.len() % 4 {
        0 => b"",
        2 => b"==",
        3 => b"=",
        _ => return None,
    };
    let padded: Vec<u8> = s.iter().chain(pad).copied().filter(|b| *b != b'\r').collect();
    URL.decode(padded).ok()
}

/// A JSON value reduced to what the decoders here need; containers are handed to a [`Walk`].
#[derive(Debug, Clone, PartialEq)]
enum Lite {
    Null,
    Bool,
    Str(String),
    U64(u64),
    I64(i64),
    F64(f64),
    Array,
    Object,
}

/// Receives the members of objects and arrays met by [`Probe`]; the defaults skip them
/// without any nesting limit (serde_json ignores values iteratively).
trait Walk {
    fn object<'de, A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn array<'de, A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

impl Walk for () {}

/// Parses one JSON document (invalid UTF-8 replaced, as Go does inside strings).
fn parse_json<W: Walk>(bytes: &[u8], walk: &mut W) -> Option<Lite> {
    let text = String::from_utf8_lossy(bytes);
    let mut de = serde_json::Deserializer::from_str(&text);
    let lite = Probe(walk).deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(lite)
}

fn next_lite<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Lite, A::Error> {
    map.next_value_seed(Probe(&mut ()))
}

struct Probe<'w, W>(&'w mut W);

impl<'de, W: Walk> DeserializeSeed<'de> for Probe<'_, W> {
    type Value = Lite;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Lite, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, W: Walk> Visitor<'de> for Probe<'_, W> {
    type Value = Lite;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Lite, E> {
        Ok(Lite::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Lite, E> {
        Ok(Lite::Bool)
    }
    fn visit_u64<E>(self, v: u64) -> Result<Lite, E> {
        Ok(Lite::U64(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Lite, E> {
        Ok(Lite::I64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Lite, E> {
        Ok(Lite::F64(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Lite, E> {
        Ok(Lite::Str(v.to_owned()))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Lite, A::Error> {
        self.0.object(map)?;
        Ok(Lite::Object)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Lite, A::Error> {
        self.0.array(seq)?;
        Ok(Lite::Array)
    }
}

/// An object key as text, without serde_json's UTF-8/surrogate validation (Go replaces
/// invalid sequences with U+FFFD, so they can never match a field name anyway).
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_bytes(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = String;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<String, E> {
        Ok(String::from_utf8_lossy(v).into_owned())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
}

impl Walk for Document {
    fn object<'de, A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(Key)? {
            if go_field_is(&key, "mediaType") {
                match next_lite(&mut map)? {
                    Lite::Str(s) => self.media_type = s,
                    Lite::Null => {} // Go leaves a string field alone on null.
                    _ => self.meta_type_error = true,
                }
            } else if go_field_is(&key, "schemaVersion") {
                // Go's int field: integer literals only (1.0 and 1e0 are type errors).
                let n = match next_lite(&mut map)? {
                    Lite::U64(n) => i64::try_from(n).ok(),
                    Lite::I64(n) => Some(n),
                    Lite::Null => continue,
                    _ => None,
                };
                match n {
                    Some(n) => self.schema_version = n,
                    None => self.meta_type_error = true,
                }
            } else if go_field_is(&key, "signatures") {
                if key == "signatures" {
                    let mut list = SignatureList::default();
                    let lite = map.next_value_seed(Probe(&mut list))?;
                    self.has_signatures = lite != Lite::Null;
                    self.signatures = Some(list.finish(&lite));
                } else {
                    self.has_signatures = next_lite(&mut map)? != Lite::Null;
                }
            } else if go_field_is(&key, "config") {
                // {mediaType string}; repeated `config` members update the same struct, as in Go.
                let (mut media_type, mut bad) = (None, false);
                let mut config = Fields(|k: &str, v| match v {
                    Lite::Str(s) if go_field_is(k, "mediaType") => media_type = Some(s),
                    Lite::Str(_) | Lite::Null => {}
                    _ => bad |= go_field_is(k, "mediaType"),
                });
                let lite = map.next_value_seed(Probe(&mut config))?;
                self.config_type_error |= bad || !matches!(lite, Lite::Object | Lite::Null);
                if let Some(t) = media_type {
                    self.config_media_type = t;
                }
            } else if go_field_is(&key, "manifests") {
                // []Descriptor: only the length and the element kinds are checked.
                let (mut len, mut bad) = (0, false);
                let mut list = Elements(|v| {
                    len += 1;
                    bad |= !matches!(v, Lite::Object | Lite::Null);
                });
                let lite = map.next_value_seed(Probe(&mut list))?;
                self.manifests_type_error |= bad || !matches!(lite, Lite::Array | Lite::Null);
                self.manifests_len = len;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// libtrust `[]jsParsedSignature`: `{header {jwk, alg string, x5c []string}, signature
/// string, protected string}`, field names matched like Go struct fields.
#[derive(Default)]
struct SignatureList {
    protected: Vec<String>,
    error: Option<String>,
}

impl SignatureList {
    fn finish(self, lite: &Lite) -> Result<Vec<String>, String> {
        match (self.error, lite) {
            (Some(e), _) => Err(e),
            (None, Lite::Array | Lite::Null) => Ok(self.protected),
            (None, _) => Err("not a list of signatures".to_owned()),
        }
    }
}

impl Walk for SignatureList {
    fn array<'de, A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        loop {
            let mut sig = SignatureBlock::default();
            let Some(lite) = seq.next_element_seed(Probe(&mut sig))? else {
                return Ok(());
            };
            if !matches!(lite, Lite::Object | Lite::Null) {
                sig.error = Some("not an object");
            }
            if let Some(e) = sig.error {
                self.error.get_or_insert_with(|| format!("signature {index}: {e}"));
            }
            self.protected.push(sig.protected);
            index += 1;
        }
    }
}

#[derive(Default)]
struct SignatureBlock {
    protected: String,
    in_header: bool,
    error: Option<&'static str>,
}

impl Walk for SignatureBlock {
    fn object<'de, A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
        let in_header = self.in_header;
        while let Some(key) = map.next_key_seed(Key)? {
            let string_field = if in_header {
                go_field_is(&key, "alg")
            } else {
                go_field_is(&key, "signature") || go_field_is(&key, "protected")
            };
            if string_field {
                match next_lite(&mut map)? {
                    Lite::Str(s) if !in_header && go_field_is(&key, "protected") => self.protected = s,
                    Lite::Str(_) | Lite::Null => {}
                    _ => self.error = self.error.or(Some("a string field has another type")),
                }
            } else if !in_header && go_field_is(&key, "header") {
                self.in_header = true;
                let lite = map.next_value_seed(Probe(&mut *self))?;
                self.in_header = false;
                if !matches!(lite, Lite::Object | Lite::Null) {
                    self.error = self.error.or(Some("\"header\" is not an object"));
                }
            } else if in_header && go_field_is(&key, "x5c") {
                let mut bad = false;
                let mut chain = Elements(|v| bad |= !matches!(v, Lite::Str(_) | Lite::Null));
                let lite = map.next_value_seed(Probe(&mut chain))?;
                if bad || !matches!(lite, Lite::Array | Lite::Null) {
                    self.error = self.error.or(Some("\"x5c\" is not a list of strings"));
                }
            } else {
                // Includes "jwk" (json.RawMessage accepts anything; see the module docs).
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Hands every member of an object, probed, to a closure.
struct Fields<F>(F);

impl<F: FnMut(&str, Lite)> Walk for Fields<F> {
    fn object<'de, A: MapAccess<'de>>(&mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(Key)? {
            let value = next_lite(&mut map)?;
            (self.0)(&key, value);
        }
        Ok(())
    }
}

/// Hands every element of an array, probed, to a closure.
struct Elements<F>(F);

impl<F: FnMut(Lite)> Walk for Elements<F> {
    fn array<'de, A: SeqAccess<'de>>(&mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element_seed(Probe(&mut ()))? {
            (self.0)(value);
        }
        Ok(())
    }
}

/// The digest without the shortcut.
pub(super) fn parsed_digest(bytes: &[u8]) -> Result<Digest, ManifestError> {
    match Document::parse(bytes) {
        Some(doc) if doc.guess() == Some(DOCKER_V2_SCHEMA1_SIGNED) => Ok(Digest::sha256(&doc.schema1_payload(bytes)?)),
        _ => Ok(Digest::sha256(bytes)),
    }
}
