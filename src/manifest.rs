//! Manifest digests as containers/image computes them (`manifest.Digest`, `MatchesDigest`,
//! `GuessMIMEType`; simple-signing.md §3).
//!
//! The digest is sha256 over the exact bytes, except for signed docker schema1 manifests,
//! whose libtrust JWS signatures are stripped first (`ParsePrettySignature` + `Payload`).
//! Whether a manifest is signed schema1 is decided the way Go's `encoding/json` sees it:
//! case-insensitive field names, last duplicate wins, a wrongly typed field makes the whole
//! guess fail (then the raw bytes are hashed), invalid UTF-8 inside strings is tolerated and
//! nesting depth is unlimited in fields that are not looked at. The reading is
//! `json::GoReader`'s (`ReadRules::GoLossy`, a private module); what it looks at and how
//! is in `manifest/document.rs`.
//!
//! Deliberate deviations, all of them failing closed (an error where c/image would compute
//! some digest):
//! - an empty `signatures` list is an error (libtrust would hash the empty payload, so every
//!   such manifest would share the digest of `""`);
//! - all signatures must carry the same `formatLength` and `formatTail` (libtrust treats a
//!   0 / empty value as "unset" and lets a later signature fill it in);
//! - a negative `formatLength` is an error (Go slices out of range and panics).
//!
//! And one the other way: the `jwk` of a signature header is not parsed as a public key
//! (c/image fails on an unparseable one). It is not part of the digested payload.
//!
//! The digest is computed for any bytes; whether a manifest may be used at all is
//! [`check_members`]'s decision (a member repeated anywhere is refused), made where
//! manifests enter: the registry client, the verify pipeline, `sign --manifest`.

use crate::digest::Digest;

#[cfg(test)]
mod differential;
mod document;
mod members;

use document::Document;
pub use members::{check_members, MemberError};

/// Docker schema 1 manifest, unsigned.
pub const DOCKER_V2_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
/// Docker schema 1 manifest with JWS signatures.
pub const DOCKER_V2_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
/// Docker schema 2 manifest.
pub const DOCKER_V2_SCHEMA2: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_V2_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// OCI image manifest (also the media type of a sigstore attachment manifest).
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config (also the config of a sigstore attachment manifest).
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const DOCKER_V2_SCHEMA2_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// Why the digest of a (signed schema1) manifest cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// It has no member named exactly `signatures` (libtrust's lookup is
    /// case-sensitive, though the media type guess is not).
    #[error("signed schema1 manifest: no \"signatures\" member (field names are case-sensitive here)")]
    MissingSignatures,
    /// `signatures` is not a list of JWS signature objects; the text says
    /// what is wrong.
    #[error("signed schema1 manifest: invalid \"signatures\" member: {0}")]
    InvalidSignatures(String),
    /// `signatures` is an empty list (refused: there is no payload to hash).
    #[error("signed schema1 manifest: the \"signatures\" list is empty")]
    NoSignatures,
    /// One signature's protected header cannot be used.
    #[error("signed schema1 manifest: signature {index}: {problem}")]
    InvalidSignature {
        /// 0-based position in the `signatures` list.
        index: usize,
        /// What is wrong with it.
        problem: SignatureProblem,
    },
    /// The signatures name different payloads.
    #[error("signed schema1 manifest: the signatures disagree on {field}")]
    ConflictingSignatures {
        /// `formatLength` or `formatTail`.
        field: &'static str,
    },
    /// `formatLength` is negative or longer than the manifest.
    #[error("signed schema1 manifest: formatLength {format_length} is out of range (the manifest has {len} bytes)")]
    FormatLengthOutOfRange {
        /// The `formatLength` of the protected header.
        format_length: i128,
        /// The manifest's length in bytes.
        len: usize,
    },
}

/// What is wrong with one JWS signature of a signed schema1 manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureProblem {
    /// `protected` is not base64url.
    #[error("\"protected\" is not base64url")]
    ProtectedBase64,
    /// The decoded protected header is not a JSON object.
    #[error("the protected header is not a JSON object")]
    ProtectedJson,
    /// The protected header has no numeric `formatLength`.
    #[error("the protected header has no numeric \"formatLength\"")]
    MissingFormatLength,
    /// The protected header has no string `formatTail`.
    #[error("the protected header has no string \"formatTail\"")]
    MissingFormatTail,
    /// `formatTail` is not base64url.
    #[error("\"formatTail\" is not base64url")]
    FormatTailBase64,
}

/// The manifest digest per c/image `manifest.Digest`: always sha256, over the exact bytes,
/// or over the JWS payload for signed schema1. Bytes that are not JSON are simply hashed.
pub fn manifest_digest(bytes: &[u8]) -> Result<Digest, ManifestError> {
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
/// `expected` as a whole, so a `sha384:`/`sha512:` claim never matches.
pub fn matches_digest(bytes: &[u8], expected: &Digest) -> Result<bool, ManifestError> {
    Ok(manifest_digest(bytes)? == *expected)
}

/// c/image `GuessMIMEType`: the manifest's media type if it can be recognised.
///
/// One case differs: for a `schemaVersion: 2` document with a non-empty `manifests` list and
/// an unknown `config.mediaType`, c/image returns that *config* media type (a FIXME there);
/// this returns `None`. Descriptor fields inside `manifests` are not type-checked.
pub fn guess_media_type(bytes: &[u8]) -> Option<&'static str> {
    Document::parse(bytes)?.guess()
}

#[cfg(test)]
mod tests {

    /// The digest without the shortcut.
    fn parsed_digest(bytes: &[u8]) -> Result<Digest, ManifestError> {
        match Document::parse(bytes) {
            Some(doc) if doc.guess() == Some(DOCKER_V2_SCHEMA1_SIGNED) => {
                Ok(Digest::sha256(&doc.schema1_payload(bytes)?))
            }
            _ => Ok(Digest::sha256(bytes)),
        }
    }

    #[test]
    fn the_plain_manifest_shortcut_never_changes_a_digest() {
        let signed = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/reference/fixtures/manifests/v2s1.manifest.json"
        ))
        .expect("the reference's signed schema1 fixture");
        let mut cases: Vec<Vec<u8>> = vec![
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#.to_vec(),
            br#"{"schemaVersion":1,"signatures":[]}"#.to_vec(),
            br#"{"schemaVersion":1,"Signatures":[]}"#.to_vec(),
            br#"{"schemaVersion":1,"SIGNATURES":null}"#.to_vec(),
            br#"{"schemaVersion":1,"signature\u0073":[]}"#.to_vec(),
            "{\"schemaVersion\":1,\"\u{17f}ignatures\":[]}".as_bytes().to_vec(),
            b"signatures".to_vec(),
            b"signature".to_vec(),
            b"".to_vec(),
        ];
        cases.push(signed);
        for c in &cases {
            let (fast, slow) = (manifest_digest(c), parsed_digest(c));
            assert_eq!(
                format!("{fast:?}"),
                format!("{slow:?}"),
                "{}",
                String::from_utf8_lossy(c)
            );
        }
        assert!(cannot_be_signed_schema1(cases[0].as_slice()));
        for c in &cases[1..7] {
            assert!(!cannot_be_signed_schema1(c), "{}", String::from_utf8_lossy(c));
        }
    }

    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    fn fixture(rel: &str) -> Vec<u8> {
        let base = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/reference/fixtures/");
        std::fs::read(format!("{base}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    fn sha256(hex: &str) -> Digest {
        Digest::parse(&format!("sha256:{hex}")).unwrap()
    }

    /// A signed schema1 manifest: `body` (an unterminated object) + one JWS per header.
    fn signed(body: &str, headers: &[String]) -> Vec<u8> {
        let sigs: Vec<String> = headers
            .iter()
            .map(|h| {
                let p = URL_SAFE_NO_PAD.encode(h);
                format!(r#"{{"header": {{"alg": "ES256", "x5c": ["a"]}}, "signature": "AAAA", "protected": "{p}"}}"#)
            })
            .collect();
        format!("{body},\n   \"signatures\": [{}]\n}}", sigs.join(", ")).into_bytes()
    }

    fn header(len: usize) -> String {
        format!(r#"{{"formatLength":{len},"formatTail":"Cn0","time":"2016-04-18T20:54:42Z"}}"#)
    }

    const BODY: &str = "{\n   \"schemaVersion\": 1,\n   \"name\": \"mitr/busybox\"";

    fn payload_digest(body: &str) -> Digest {
        Digest::sha256(format!("{body}\n}}").as_bytes())
    }

    #[test]
    fn fixture_digests_match_the_reference_table() {
        #[rustfmt::skip]
        let table = [
            ("v2s2.manifest.json", "20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55", DOCKER_V2_SCHEMA2),
            ("v2s1.manifest.json", "7364fea9d84ee548ab67d4c46c6006289800c98de3fbf8c0a97138dfcc23f000", DOCKER_V2_SCHEMA1_SIGNED),
            ("v2s1-unsigned.manifest.json", "7364fea9d84ee548ab67d4c46c6006289800c98de3fbf8c0a97138dfcc23f000", DOCKER_V2_SCHEMA1),
            ("ociv1.manifest.json", "bb76e395cb9021fd062b352172ac87ca159b3e84f5a5758a69db824da876cd4f", OCI_MANIFEST),
            ("ociv1nomime.manifest.json", "f94f91aaa4bfad8e67ef7f5cde3a0e908bd22e758868ca47227e60a8ea623d1c", OCI_MANIFEST),
            ("ociv1.image.index.json", "d59976e8b293d743edfd0d9f985207acd97bcca66cb27506bc6e974af13f729e", OCI_INDEX),
            ("oci1index.json", "f2f99b581189a99577e0e8344704b7d00736e554ef748d7e3e3cdc7113c0bf40", OCI_INDEX),
            ("v2list.manifest.json", "ae55d2bdfcc9f24b2ac571f0081a64d6e6089b2c5e503ff3b718a646c26cbd3d", DOCKER_V2_LIST),
            ("schema2list.json", "6e40af1c2ca008eecf9c4bb03674a3e73af1204e745d06900b7ca75deb94b6af", DOCKER_V2_LIST),
            ("v2s2nomime.manifest.json", "e7648e3307f0760138714bf63f73985c2ead2ed30ec7000378553e8be3d3f207", DOCKER_V2_SCHEMA2),
        ];
        for (file, hex, media_type) in table {
            let bytes = fixture(&format!("manifests/{file}"));
            assert_eq!(manifest_digest(&bytes).unwrap(), sha256(hex), "{file}");
            assert!(matches_digest(&bytes, &sha256(hex)).unwrap(), "{file}");
            assert_eq!(guess_media_type(&bytes), Some(media_type), "{file}");
        }
        // The raw hash of the signed schema1 manifest is not its digest.
        let v2s1 = fixture("manifests/v2s1.manifest.json");
        assert!(Digest::sha256(&v2s1).hex().starts_with("e028c450"));
        assert!(!matches_digest(&v2s1, &Digest::sha256(&v2s1)).unwrap());
    }

    #[test]
    fn signatures_that_are_not_a_list_are_an_error() {
        let bytes = fixture("signature/v2s1-invalid-signatures.manifest.json");
        assert_eq!(guess_media_type(&bytes), Some(DOCKER_V2_SCHEMA1_SIGNED));
        let err = manifest_digest(&bytes).unwrap_err();
        assert!(matches!(err, ManifestError::InvalidSignatures(_)), "{err}");
        assert!(matches_digest(&bytes, &Digest::sha256(&bytes)).is_err());
        let dir = fixture("signature/dir-img-manifest-digest-error/manifest.json");
        assert!(manifest_digest(&dir).is_err());
    }

    #[test]
    fn sha512_claims_never_match() {
        let bytes = fixture("manifests/v2s2.manifest.json");
        let sha512 = Digest::parse(&format!("sha512:{}", "0".repeat(128))).unwrap();
        assert!(!matches_digest(&bytes, &sha512).unwrap());
        assert!(!matches_digest(&bytes, &Digest::sha256(b"other")).unwrap());
    }

    #[test]
    fn non_json_and_non_objects_are_hashed_raw() {
        #[rustfmt::skip]
        let inputs: [&[u8]; 7] = [b"This is not JSON\n", b"", b"[]", b"null", b"\"s\"", b"{\"schemaVersion\":1,", b"\xff\xfe"];
        for bytes in inputs {
            assert_eq!(manifest_digest(bytes), Ok(Digest::sha256(bytes)), "{bytes:?}");
            assert_eq!(guess_media_type(bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn strips_synthetic_signatures() {
        let two = signed(BODY, &[header(BODY.len()), header(BODY.len())]);
        assert_eq!(manifest_digest(&two), Ok(payload_digest(BODY)));
        // formatLength written as a float (Go reads numbers as float64), padded base64 tail.
        let h = format!(r#"{{"formatLength":{}.0e0,"formatTail":"Cn0="}}"#, BODY.len());
        assert_eq!(manifest_digest(&signed(BODY, &[h])), Ok(payload_digest(BODY)));
        // Nesting deeper than serde_json's limit in a field nobody reads is fine, as in Go.
        let deep = format!("{BODY},\n   \"x\": {}{}", "[".repeat(500), "]".repeat(500));
        let bytes = signed(&deep, &[header(deep.len())]);
        assert_eq!(manifest_digest(&bytes), Ok(payload_digest(&deep)));
        // Invalid UTF-8 inside a string: Go substitutes U+FFFD and still strips.
        let mut raw = signed(BODY, &[header(BODY.len())]);
        raw[BODY.len() - 3] = 0xff; // inside "mitr/busybox"
        let mut payload = raw[..BODY.len()].to_vec();
        payload.extend_from_slice(b"\n}");
        assert_eq!(manifest_digest(&raw), Ok(Digest::sha256(&payload)));
    }

    #[test]
    fn go_json_field_matching_decides_the_type() {
        let text = String::from_utf8(signed(BODY, &[header(BODY.len())])).unwrap();
        // Case-insensitive struct fields ('ſ' folds to 's'); libtrust wants exactly "signatures".
        for key in ["Signatures", "SIGNATURES", "\u{17F}ignatures"] {
            let bytes = text.replace("\"signatures\"", &format!("\"{key}\""));
            assert_eq!(guess_media_type(bytes.as_bytes()), Some(DOCKER_V2_SCHEMA1_SIGNED));
            assert_eq!(manifest_digest(bytes.as_bytes()), Err(ManifestError::MissingSignatures));
        }
        let body = BODY.replace("schemaVersion", "SchemaVersion");
        let bytes = signed(&body, &[header(body.len())]);
        assert_eq!(manifest_digest(&bytes), Ok(payload_digest(&body)));
        // The last of several "signatures" members decides; null means unsigned: raw hash.
        let unsigned = format!("{BODY},\n   \"Signatures\": [1],\n   \"signatures\": null\n}}");
        let unsigned = unsigned.as_bytes();
        assert_eq!(guess_media_type(unsigned), Some(DOCKER_V2_SCHEMA1));
        assert_eq!(manifest_digest(unsigned), Ok(Digest::sha256(unsigned)));
        // A recognised mediaType wins over schemaVersion 1 + signatures; a wrongly typed meta
        // field makes Go's Unmarshal (hence the guess) fail. Both: raw hash.
        #[rustfmt::skip]
        let cases = [
            (format!("\"mediaType\": \"{DOCKER_V2_SCHEMA2}\""), Some(DOCKER_V2_SCHEMA2)),
            ("\"mediaType\": 5".into(), None),
            ("\"schemaVersion\": 1.0".into(), None),
            ("\"schemaVersion\": \"1\"".into(), None),
        ];
        for (extra, guess) in cases {
            let body = format!("{BODY},\n   {extra}");
            let bytes = signed(&body, &[header(body.len())]);
            assert_eq!(guess_media_type(&bytes), guess, "{extra}");
            assert_eq!(manifest_digest(&bytes), Ok(Digest::sha256(&bytes)), "{extra}");
        }
    }

    #[test]
    fn hostile_signature_blocks_are_errors() {
        let err = |bytes: &[u8]| manifest_digest(bytes).unwrap_err();
        let len = BODY.len();
        let e = err(&signed(BODY, &[header(len + 10_000)]));
        assert!(matches!(e, ManifestError::FormatLengthOutOfRange { .. }), "{e}");
        let e = err(&signed(BODY, &[r#"{"formatLength":-1,"formatTail":"Cn0"}"#.into()]));
        assert!(matches!(
            e,
            ManifestError::FormatLengthOutOfRange { format_length: -1, .. }
        ));
        use SignatureProblem::*;
        #[rustfmt::skip]
        let cases = [
            (r#"{"formatTail":"Cn0"}"#, MissingFormatLength),
            (r#"{"formatLength":"5","formatTail":"Cn0"}"#, MissingFormatLength),
            (r#"{"formatLength":5}"#, MissingFormatTail),
            (r#"{"formatLength":5,"formatTail":null}"#, MissingFormatTail),
            (r#"{"formatLength":5,"formatTail":"C"}"#, FormatTailBase64),
            (r#"{"formatLength":5,"formatTail":"C!0"}"#, FormatTailBase64),
            ("[1]", ProtectedJson),
            ("not json", ProtectedJson),
        ];
        for (h, problem) in cases {
            let e = err(&signed(BODY, &[h.to_owned()]));
            assert_eq!(e, ManifestError::InvalidSignature { index: 0, problem }, "{h}");
        }
        // "protected" that is not base64url at all, or empty (decodes to no JSON).
        let text = String::from_utf8(signed(BODY, &[header(len)])).unwrap();
        let p = URL_SAFE_NO_PAD.encode(header(len));
        for (bad, problem) in [
            ("!!!!", ProtectedBase64),
            ("abcde", ProtectedBase64),
            ("", ProtectedJson),
        ] {
            let e = err(text.replace(&p, bad).as_bytes());
            assert_eq!(e, ManifestError::InvalidSignature { index: 0, problem }, "{bad:?}");
        }
        // Signatures must agree on formatLength and formatTail.
        let e = err(&signed(BODY, &[header(len), header(len - 1)]));
        assert_eq!(e, ManifestError::ConflictingSignatures { field: "formatLength" });
        let other_tail = format!(r#"{{"formatLength":{len},"formatTail":"fQ"}}"#);
        let e = err(&signed(BODY, &[header(len), other_tail]));
        assert_eq!(e, ManifestError::ConflictingSignatures { field: "formatTail" });
        assert_eq!(err(&signed(BODY, &[])), ManifestError::NoSignatures);
        // Wrong types inside the signature list (Go's Unmarshal of []jsParsedSignature fails).
        #[rustfmt::skip]
        let bad = ["{\"protected\": 5}", "{\"signature\": []}", "{\"header\": \"x\"}",
            "{\"header\": {\"x5c\": [1]}}", "{\"header\": {\"alg\": 1}}", "5"];
        for bad in bad {
            let bytes = format!("{BODY},\n   \"signatures\": [{bad}]\n}}");
            let e = err(bytes.as_bytes());
            assert!(matches!(e, ManifestError::InvalidSignatures(_)), "{bad}: {e}");
        }
    }

    #[test]
    fn guesses_schema2_documents_without_media_type() {
        let cfg = format!(r#"{{"schemaVersion":2,"Config":{{"MediaType":"{OCI_CONFIG}"}},"config":null}}"#);
        #[rustfmt::skip]
        let cases = [
            (r#"{"schemaVersion":2}"#, Some(OCI_MANIFEST)),
            (r#"{"schemaVersion":2,"manifests":[{}]}"#, Some(OCI_INDEX)),
            (r#"{"schemaVersion":2,"manifests":[]}"#, Some(OCI_MANIFEST)),
            (r#"{"schemaVersion":2,"config":{"mediaType":"x"},"manifests":[{}]}"#, None),
            (r#"{"schemaVersion":2,"config":{"mediaType":"x"}}"#, Some(OCI_MANIFEST)),
            (&cfg, Some(OCI_MANIFEST)),
            (r#"{"schemaVersion":2,"config":"x"}"#, None),
            (r#"{"schemaVersion":2,"manifests":{}}"#, None),
            (r#"{"schemaVersion":2,"manifests":[1]}"#, None),
            (r#"{"schemaVersion":3}"#, None),
            (r#"{"mediaType":"application/vnd.oci.image.index.v1+json"}"#, Some(OCI_INDEX)),
        ];
        for (doc, expected) in cases {
            assert_eq!(guess_media_type(doc.as_bytes()), expected, "{doc}");
        }
    }
}
