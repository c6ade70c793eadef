//! Reading a manifest the way containers/image's Go decoders see it (see the
//! [module docs](super)): one pass with a [`GoReader`] over the top-level object,
//! looking only at the members `GuessMIMEType` and libtrust decode and skipping
//! everything else, however deeply nested.
//!
//! It gives exactly the results of the serde_json walker this replaced, on
//! which the recorded results in `differential.golden` were made: a value that
//! is looked at (a `mediaType`, `schemaVersion` or `signatures` member, each
//! member of `config` and of a signature's protected header, each element of
//! `manifests`, `x5c` and `signatures`, and the keys of objects found there)
//! must not hold an unpaired surrogate escape or an unescaped control
//! character, and its numbers are converted as serde_json converts them
//! ([`number`]); the keys that are matched against field names and the values
//! that are skipped may hold both (the control characters only in keys).

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use super::{
    ManifestError, SignatureProblem, DOCKER_V2_LIST, DOCKER_V2_SCHEMA1, DOCKER_V2_SCHEMA1_SIGNED, DOCKER_V2_SCHEMA2,
    DOCKER_V2_SCHEMA2_CONFIG, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST,
};
use crate::json::{go_field_is, go_lossy_text, GoReader, GoString, GoToken, JsonError, Number};

/// What Go's decoders would extract from the top-level manifest object, in one pass.
#[derive(Default)]
pub(super) struct Document {
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
    pub(super) fn parse(bytes: &[u8]) -> Option<Self> {
        let mut doc = Document::default();
        let lite = read_document(bytes, |r| probe_with(r, |r| doc.members(r), skip_elements))?;
        (lite == Lite::Object).then_some(doc)
    }

    pub(super) fn guess(&self) -> Option<&'static str> {
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
    pub(super) fn schema1_payload(&self, bytes: &[u8]) -> Result<Vec<u8>, ManifestError> {
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
    let header = |r: &mut GoReader<'_>| {
        fields(r, |k, v| match k {
            "formatLength" => format_length = Some(v),
            "formatTail" => format_tail = Some(v),
            _ => {}
        })
    };
    match read_document(&raw, |r| probe_with(r, header, skip_elements)) {
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

/// A JSON value reduced to what the decoders here need.
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

/// A document that cannot be read: not JSON, or a looked-at value that is refused.
struct Refused;

impl From<JsonError> for Refused {
    fn from(_: JsonError) -> Self {
        Refused
    }
}

type Read<T> = Result<T, Refused>;

/// Reads one JSON document with `read` (invalid UTF-8 read as U+FFFD, as Go does inside
/// strings); `None` if it is not JSON, `read` refuses it or data follows it.
fn read_document<T>(bytes: &[u8], read: impl FnOnce(&mut GoReader<'_>) -> Read<T>) -> Option<T> {
    let text = go_lossy_text(bytes);
    let mut r = GoReader::new(&text);
    let value = read(&mut r).ok()?;
    r.finish().ok()?;
    Some(value)
}

/// One value, looked at: a scalar as [`Lite`], an object or array handed to `object` or
/// `array` (which read its members or elements).
fn probe_with<'a>(
    r: &mut GoReader<'a>,
    object: impl FnOnce(&mut GoReader<'a>) -> Read<()>,
    array: impl FnOnce(&mut GoReader<'a>) -> Read<()>,
) -> Read<Lite> {
    Ok(match r.value()? {
        GoToken::ObjectStart => {
            object(r)?;
            Lite::Object
        }
        GoToken::ArrayStart => {
            array(r)?;
            Lite::Array
        }
        GoToken::Null => Lite::Null,
        GoToken::Bool(_) => Lite::Bool,
        GoToken::String(s) => Lite::Str(looked_at(s)?),
        GoToken::Number(n) => number(&n)?,
    })
}

/// One value looked at only for its kind: containers are skipped (their keys looked at).
fn probe(r: &mut GoReader<'_>) -> Read<Lite> {
    probe_with(r, skip_members, skip_elements)
}

/// The members of an object nobody reads: keys looked at, values skipped.
fn skip_members(r: &mut GoReader<'_>) -> Read<()> {
    while let Some(key) = r.next_key()? {
        looked_at(key)?;
        r.skip()?;
    }
    Ok(())
}

/// The elements of an array nobody reads: skipped.
fn skip_elements(r: &mut GoReader<'_>) -> Read<()> {
    while r.next_element()? {
        r.skip()?;
    }
    Ok(())
}

/// Every member of an object, probed, to `each` (the key as matched against field
/// names: any key goes, one with U+FFFD or a control character matches none).
fn fields(r: &mut GoReader<'_>, mut each: impl FnMut(&str, Lite)) -> Read<()> {
    while let Some(key) = r.next_key()? {
        let value = probe(r)?;
        each(&key.text, value);
    }
    Ok(())
}

/// Every element of an array, probed, to `each`.
fn elements(r: &mut GoReader<'_>, mut each: impl FnMut(Lite)) -> Read<()> {
    while r.next_element()? {
        each(probe(r)?);
    }
    Ok(())
}

/// A string that is looked at: one with an unpaired surrogate escape or an unescaped
/// control character is refused.
fn looked_at(s: GoString) -> Read<String> {
    if s.unpaired_surrogate || s.control_character.is_some() {
        return Err(Refused);
    }
    Ok(s.text)
}

/// A number that is looked at, converted exactly as the serde_json walker this module
/// had converted it: an integer that fits `u64` (or, negative, `i64`; `-0` is a float)
/// as such, anything else as serde_json's (not always correctly rounded) `f64`, refused
/// when that overflows. Go parses every number correctly rounded; matching it would
/// change some digests and errors (formatLength literals of 17+ digits, literals near
/// 1.8e308), which is left to a deliberate change.
fn number(n: &Number) -> Read<Lite> {
    let n: serde_json::Number = serde_json::from_str(n.as_str()).map_err(|_| Refused)?;
    if let Some(u) = n.as_u64() {
        Ok(Lite::U64(u))
    } else if let Some(i) = n.as_i64() {
        Ok(Lite::I64(i))
    } else {
        n.as_f64().map(Lite::F64).ok_or(Refused)
    }
}

impl Document {
    /// The top-level object's members: `{mediaType string, schemaVersion int, signatures
    /// any}`, `{config {mediaType string}}`, `{manifests []Descriptor}` matched as Go
    /// struct fields; libtrust's exact `signatures` map key.
    fn members(&mut self, r: &mut GoReader<'_>) -> Read<()> {
        while let Some(key) = r.next_key()? {
            let key = key.text;
            if go_field_is(&key, "mediaType") {
                match probe(r)? {
                    Lite::Str(s) => self.media_type = s,
                    Lite::Null => {} // Go leaves a string field alone on null.
                    _ => self.meta_type_error = true,
                }
            } else if go_field_is(&key, "schemaVersion") {
                // Go's int field: integer literals only (1.0 and 1e0 are type errors).
                let n = match probe(r)? {
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
                    let lite = probe_with(r, skip_members, |r| list.elements(r))?;
                    self.has_signatures = lite != Lite::Null;
                    self.signatures = Some(list.finish(&lite));
                } else {
                    self.has_signatures = probe(r)? != Lite::Null;
                }
            } else if go_field_is(&key, "config") {
                // {mediaType string}; repeated `config` members update the same struct, as in Go.
                let (mut media_type, mut bad) = (None, false);
                let config = |r: &mut GoReader<'_>| {
                    fields(r, |k, v| match v {
                        Lite::Str(s) if go_field_is(k, "mediaType") => media_type = Some(s),
                        Lite::Str(_) | Lite::Null => {}
                        _ => bad |= go_field_is(k, "mediaType"),
                    })
                };
                let lite = probe_with(r, config, skip_elements)?;
                self.config_type_error |= bad || !matches!(lite, Lite::Object | Lite::Null);
                if let Some(t) = media_type {
                    self.config_media_type = t;
                }
            } else if go_field_is(&key, "manifests") {
                // []Descriptor: only the length and the element kinds are checked.
                let (mut len, mut bad) = (0, false);
                let list = |r: &mut GoReader<'_>| {
                    elements(r, |v| {
                        len += 1;
                        bad |= !matches!(v, Lite::Object | Lite::Null);
                    })
                };
                let lite = probe_with(r, skip_members, list)?;
                self.manifests_type_error |= bad || !matches!(lite, Lite::Array | Lite::Null);
                self.manifests_len = len;
            } else {
                r.skip()?;
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

    fn elements(&mut self, r: &mut GoReader<'_>) -> Read<()> {
        let mut index = 0;
        while r.next_element()? {
            let mut sig = SignatureBlock::default();
            let lite = probe_with(r, |r| sig.members(r, false), skip_elements)?;
            if !matches!(lite, Lite::Object | Lite::Null) {
                sig.error = Some("not an object");
            }
            if let Some(e) = sig.error {
                self.error.get_or_insert_with(|| format!("signature {index}: {e}"));
            }
            self.protected.push(sig.protected);
            index += 1;
        }
        Ok(())
    }
}

#[derive(Default)]
struct SignatureBlock {
    protected: String,
    error: Option<&'static str>,
}

impl SignatureBlock {
    /// The members of a signature object, or with `in_header` of its `header`.
    fn members(&mut self, r: &mut GoReader<'_>, in_header: bool) -> Read<()> {
        while let Some(key) = r.next_key()? {
            let key = key.text;
            let string_field = if in_header {
                go_field_is(&key, "alg")
            } else {
                go_field_is(&key, "signature") || go_field_is(&key, "protected")
            };
            if string_field {
                match probe(r)? {
                    Lite::Str(s) if !in_header && go_field_is(&key, "protected") => self.protected = s,
                    Lite::Str(_) | Lite::Null => {}
                    _ => self.error = self.error.or(Some("a string field has another type")),
                }
            } else if !in_header && go_field_is(&key, "header") {
                let lite = probe_with(r, |r| self.members(r, true), skip_elements)?;
                if !matches!(lite, Lite::Object | Lite::Null) {
                    self.error = self.error.or(Some("\"header\" is not an object"));
                }
            } else if in_header && go_field_is(&key, "x5c") {
                let mut bad = false;
                let chain = |r: &mut GoReader<'_>| elements(r, |v| bad |= !matches!(v, Lite::Str(_) | Lite::Null));
                let lite = probe_with(r, skip_members, chain)?;
                if bad || !matches!(lite, Lite::Array | Lite::Null) {
                    self.error = self.error.or(Some("\"x5c\" is not a list of strings"));
                }
            } else {
                // Includes "jwk" (json.RawMessage accepts anything; see the module docs).
                r.skip()?;
            }
        }
        Ok(())
    }
}
