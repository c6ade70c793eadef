//! The signature claim: the small JSON document inside the OpenPGP envelope
//! (containers/image `signature/simple.go`; reference §1).
//!
//! [`Claim`] is what we sign. [`UntrustedClaim`] is parsed, strictly, from
//! bytes that have not been shown authentic; its fields are readable only as
//! `untrusted_*`. A [`VerifiedClaim`] comes only out of the crate's
//! verification code, after the envelope's signature was accepted.

use crate::digest::{Digest, DigestError};
use crate::json::{self, ErrorKind, JsonError, JsonType, SyntaxError};

/// The value of `critical.type`.
pub const SIGNATURE_TYPE: &str = "atomic container signature";

/// What we sign: a manifest digest and the docker reference it is signed as.
///
/// The reference is written verbatim (c/image does not normalise it either).
/// c/image refuses to sign an empty reference ("Unexpected empty signature
/// content"); [`Claim::new`] and [`Claim::check`] refuse it too. A claim built
/// as a struct literal should be `check`ed before signing: `to_json` cannot
/// fail, and a signature over `""` would never match any policy identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// `critical.image.docker-manifest-digest`: the digest of the signed manifest.
    pub manifest_digest: Digest,
    /// `critical.identity.docker-reference`: the reference the image is signed as, as written.
    pub docker_reference: String,
    /// `optional.creator`; c/image writes `atomic <version>`.
    pub creator: Option<String>,
    /// `optional.timestamp`, seconds since the Unix epoch.
    pub timestamp: Option<i64>,
}

impl Claim {
    /// A claim without creator or timestamp; an empty reference is refused.
    pub fn new(manifest_digest: Digest, docker_reference: impl Into<String>) -> Result<Claim, ClaimError> {
        let claim = Claim {
            manifest_digest,
            docker_reference: docker_reference.into(),
            creator: None,
            timestamp: None,
        };
        claim.check()?;
        Ok(claim)
    }

    /// Refuses what c/image refuses to sign: an empty docker reference.
    pub fn check(&self) -> Result<(), ClaimError> {
        if self.docker_reference.is_empty() {
            return Err(ClaimError::EmptyReference);
        }
        Ok(())
    }

    /// The payload exactly as containers/image writes it with Go's
    /// `json.Marshal`: keys sorted, compact, no trailing newline, strings
    /// escaped as Go's encoding/json escapes them, `creator` and
    /// `timestamp` omitted from `optional` when `None`.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = String::with_capacity(256);
        out.push_str(r#"{"critical":{"identity":{"docker-reference":"#);
        json::write_go_string(&mut out, &self.docker_reference);
        out.push_str(r#"},"image":{"docker-manifest-digest":"#);
        json::write_go_string(&mut out, &self.manifest_digest.to_string());
        out.push_str(r#"},"type":"#);
        json::write_go_string(&mut out, SIGNATURE_TYPE);
        out.push_str(r#"},"optional":{"#);
        if let Some(creator) = &self.creator {
            out.push_str(r#""creator":"#);
            json::write_go_string(&mut out, creator);
        }
        if let Some(timestamp) = self.timestamp {
            if self.creator.is_some() {
                out.push(',');
            }
            out.push_str(&format!(r#""timestamp":{timestamp}"#));
        }
        out.push_str("}}");
        out.into_bytes()
    }
}

/// A claim parsed from bytes that have NOT been shown authentic.
///
/// Parse only the payload of an envelope whose signature was verified (c/image
/// never parses JSON before the cryptographic check); the fields carry the
/// `untrusted_` prefix so that code reading them is visibly doing so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UntrustedClaim {
    manifest_digest: Digest,
    docker_reference: String,
    creator: Option<String>,
    timestamp: Option<i64>,
}

impl UntrustedClaim {
    /// Parses a payload as strictly as c/image's paranoid parser (reference
    /// §1.3), and more strictly in two places: JSON `null` is rejected for
    /// every typed field (Go silently decodes it as the zero value), and the
    /// JSON itself must be valid RFC 8259 (imgsig's strict reader).
    ///
    /// - the top level is an object with exactly `critical` and `optional`;
    /// - `critical` has exactly `type`, `image` and `identity`; `type` is
    ///   exactly [`SIGNATURE_TYPE`];
    /// - `critical.image` has exactly `docker-manifest-digest`, a valid digest;
    /// - `critical.identity` has exactly `docker-reference`, any string: it is
    ///   validated when matched against a policy, and `""` parses (as in c/image)
    ///   but never matches;
    /// - `optional` may hold `creator` (string) and `timestamp` (integer, by
    ///   Go's float64 rule: an integer a float64 holds exactly); other members are
    ///   ignored but must be valid JSON;
    /// - a duplicate key anywhere in these objects is an error, and so is
    ///   anything but whitespace after the top-level object.
    pub fn parse(payload: &[u8]) -> Result<UntrustedClaim, ClaimError> {
        let root = json::parse(payload)?;
        let mut top = root.as_object("")?;
        top.deny_unknown_except(&["critical", "optional"])?;

        let mut critical = top.required_object("critical")?;
        critical.deny_unknown_except(&["type", "image", "identity"])?;
        let ty = critical.required_str("type")?;
        if ty != SIGNATURE_TYPE {
            return Err(ClaimError::UnrecognizedType(ty.to_owned()));
        }

        let mut image = critical.required_object("image")?;
        image.deny_unknown_except(&["docker-manifest-digest"])?;
        let digest = image.required_str("docker-manifest-digest")?;
        let manifest_digest = Digest::parse(digest).map_err(|reason| ClaimError::InvalidDigest {
            path: image.child_path("docker-manifest-digest"),
            reason,
        })?;

        let mut identity = critical.required_object("identity")?;
        identity.deny_unknown_except(&["docker-reference"])?;
        let docker_reference = identity.required_str("docker-reference")?.to_owned();

        let mut optional = top.required_object("optional")?;
        let creator = optional.optional_str("creator")?.map(str::to_owned);
        let timestamp = optional.optional_i64_exact("timestamp")?;
        // Unknown members of `optional` are ignored, as in c/image.

        Ok(UntrustedClaim {
            manifest_digest,
            docker_reference,
            creator,
            timestamp,
        })
    }

    /// `critical.image.docker-manifest-digest`, not yet shown authentic.
    pub fn untrusted_manifest_digest(&self) -> &Digest {
        &self.manifest_digest
    }

    /// `critical.identity.docker-reference` as written (possibly `""`), not yet shown authentic.
    pub fn untrusted_docker_reference(&self) -> &str {
        &self.docker_reference
    }

    /// `optional.creator`, if present; not yet shown authentic.
    pub fn untrusted_creator(&self) -> Option<&str> {
        self.creator.as_deref()
    }

    /// `optional.timestamp` (seconds since the Unix epoch), if present; not yet shown authentic.
    pub fn untrusted_timestamp(&self) -> Option<i64> {
        self.timestamp
    }
}

/// A claim whose envelope was verified. Only the crate can construct one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedClaim(UntrustedClaim);

impl VerifiedClaim {
    /// Call only with a claim parsed from the payload of an envelope whose
    /// signature was verified against a trusted key.
    pub(crate) fn from_authenticated(c: UntrustedClaim) -> VerifiedClaim {
        VerifiedClaim(c)
    }

    /// The digest of the manifest the signer vouched for.
    pub fn manifest_digest(&self) -> &Digest {
        &self.0.manifest_digest
    }

    /// The reference the signer signed the image as, as written; match it
    /// against a policy identity before trusting it for an image.
    pub fn docker_reference(&self) -> &str {
        &self.0.docker_reference
    }

    /// `optional.creator`, if the signer wrote one.
    pub fn creator(&self) -> Option<&str> {
        self.0.creator.as_deref()
    }

    /// `optional.timestamp`, seconds since the Unix epoch, if the signer wrote one.
    pub fn timestamp(&self) -> Option<i64> {
        self.0.timestamp
    }
}

/// Why a payload is not a valid claim (or a claim cannot be signed). Every
/// message names the key or JSON path; paths are like `critical.image`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// The payload is not valid JSON.
    #[error("payload is not valid JSON at {line}:{column}: {reason}")]
    Syntax {
        /// 1-based line of the error in the payload.
        line: usize,
        /// 1-based column (in characters) of the error.
        column: usize,
        /// What is wrong there.
        reason: SyntaxError,
    },
    /// Something other than whitespace follows the top-level object.
    #[error("unexpected data after JSON object at {line}:{column}")]
    TrailingData {
        /// 1-based line where the extra data starts.
        line: usize,
        /// 1-based column where the extra data starts.
        column: usize,
    },
    /// An object has a key the format does not define.
    #[error("unknown key {key:?} in {}{}", json::object_name(path), hint.map(|h| format!("; hint: {h}")).unwrap_or_default())]
    UnknownKey {
        /// The key, as written.
        key: String,
        /// The object holding it (`""` for the top level, else like `critical.image`).
        path: String,
        /// A likely fix, for misspellings seen in the wild.
        hint: Option<&'static str>,
    },
    /// A required key is absent.
    #[error("key {key:?} missing in {}", json::object_name(path))]
    MissingKey {
        /// The missing key.
        key: String,
        /// The object it is missing from.
        path: String,
    },
    /// A key appears twice in one object.
    #[error("duplicate key {key:?} in {}", json::object_name(path))]
    DuplicateKey {
        /// The repeated key.
        key: String,
        /// The object holding it.
        path: String,
    },
    /// A value has the wrong JSON type (including `null` for a typed field).
    #[error("{} must be {expected}, not {found}", json::value_name(path))]
    WrongType {
        /// The value's path, like `optional.timestamp`.
        path: String,
        /// The type the format requires.
        expected: JsonType,
        /// The type found.
        found: JsonType,
    },
    /// A number that must be an integer has a fraction (or is not exactly representable).
    #[error("{path} is not an integer")]
    NotInteger {
        /// The value's path.
        path: String,
    },
    /// An integer does not fit in an `i64`.
    #[error("{path} is outside the 64-bit integer range")]
    OutOfRange {
        /// The value's path.
        path: String,
    },
    /// `critical.type` is not [`SIGNATURE_TYPE`]; the value found.
    #[error("unrecognized signature type {0:?} in critical.type (expected {SIGNATURE_TYPE:?})")]
    UnrecognizedType(String),
    /// `docker-manifest-digest` is not a valid digest. The reason is part of
    /// the message (not a `source`), so printing the error alone says everything.
    #[error("invalid digest in {path}: {reason}")]
    InvalidDigest {
        /// The value's path (`critical.image.docker-manifest-digest`).
        path: String,
        /// Why the digest is refused.
        reason: DigestError,
    },
    /// [`Claim::new`] or [`Claim::check`]: the docker reference is empty.
    #[error("refusing to sign an empty docker reference (containers/image refuses it too)")]
    EmptyReference,
    /// Not produced by the claim parser; kept so every JSON error maps.
    #[error("{path}: {message}")]
    Invalid {
        /// The value's path.
        path: String,
        /// What is wrong with it.
        message: String,
    },
}

impl From<JsonError> for ClaimError {
    fn from(e: JsonError) -> ClaimError {
        let JsonError {
            kind,
            path,
            line,
            column,
            ..
        } = e;
        match kind {
            ErrorKind::Syntax(reason) => ClaimError::Syntax { line, column, reason },
            ErrorKind::TrailingData => ClaimError::TrailingData { line, column },
            ErrorKind::UnknownKey { key } => {
                let hint = unknown_key_hint(&path, &key);
                ClaimError::UnknownKey { key, path, hint }
            }
            ErrorKind::MissingKey { key } => ClaimError::MissingKey { key, path },
            ErrorKind::DuplicateKey { key } => ClaimError::DuplicateKey { key, path },
            ErrorKind::WrongType { expected, found } => ClaimError::WrongType { path, expected, found },
            ErrorKind::NotInteger => ClaimError::NotInteger { path },
            ErrorKind::OutOfRange => ClaimError::OutOfRange { path },
            ErrorKind::Invalid { message } => ClaimError::Invalid { path, message },
        }
    }
}

/// Hints for the misspellings seen in the wild (an old blog post used
/// `Docker-manifest-digest`); keys are case-sensitive in c/image.
fn unknown_key_hint(path: &str, key: &str) -> Option<&'static str> {
    match path {
        "critical.image" if key.eq_ignore_ascii_case("docker-manifest-digest") => {
            Some("the capitalised spelling from old blog posts is not the format; use docker-manifest-digest")
        }
        "critical.identity" if key.eq_ignore_ascii_case("docker-reference") => {
            Some("keys are case-sensitive; use docker-reference")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55";
    /// The payload of containers/image's `image.signature` fixture.
    const VALID: &str = r#"{"critical":{"identity":{"docker-reference":"testing/manifest"},"image":{"docker-manifest-digest":"sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55"},"type":"atomic container signature"},"optional":{"creator":"atomic ","timestamp":1458239713}}"#;

    fn fixture_claim() -> Claim {
        Claim {
            manifest_digest: Digest::parse(DIGEST).unwrap(),
            docker_reference: "testing/manifest".to_owned(),
            creator: Some("atomic ".to_owned()),
            timestamp: Some(1_458_239_713),
        }
    }

    /// `VALID` with the first occurrence of `from` replaced by `to`.
    fn edit(from: &str, to: &str) -> String {
        assert!(VALID.contains(from), "mutation does not apply: {from:?}");
        VALID.replacen(from, to, 1)
    }

    const IMAGE: &str = r#""image":{"docker-manifest-digest":"sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55"}"#;
    const DIGEST_MEMBER: &str =
        r#""docker-manifest-digest":"sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55""#;
    const IDENTITY: &str = r#""identity":{"docker-reference":"testing/manifest"}"#;
    const TYPE: &str = r#""type":"atomic container signature""#;
    const OPTIONAL: &str = r#""optional":{"creator":"atomic ","timestamp":1458239713}"#;

    #[test]
    fn round_trip_matches_containers_image_bytes() {
        let claim = fixture_claim();
        assert_eq!(claim.to_json(), VALID.as_bytes());
        let parsed = UntrustedClaim::parse(VALID.as_bytes()).unwrap();
        assert_eq!(parsed.untrusted_manifest_digest().to_string(), DIGEST);
        assert_eq!(parsed.untrusted_docker_reference(), "testing/manifest");
        assert_eq!(parsed.untrusted_creator(), Some("atomic "));
        assert_eq!(parsed.untrusted_timestamp(), Some(1_458_239_713));
        let verified = VerifiedClaim::from_authenticated(parsed);
        assert_eq!(verified.manifest_digest(), &claim.manifest_digest);
        assert_eq!(verified.docker_reference(), claim.docker_reference);
        assert_eq!(verified.creator(), claim.creator.as_deref());
        assert_eq!(verified.timestamp(), claim.timestamp);
    }

    #[test]
    fn optional_members_are_omitted_when_none() {
        let mut c = Claim::new(Digest::parse(DIGEST).unwrap(), "r").unwrap();
        assert!(String::from_utf8(c.to_json()).unwrap().ends_with(r#""optional":{}}"#));
        c.timestamp = Some(-5);
        assert!(String::from_utf8(c.to_json())
            .unwrap()
            .ends_with(r#""optional":{"timestamp":-5}}"#));
        c.timestamp = None;
        c.creator = Some("me".into());
        assert!(String::from_utf8(c.to_json())
            .unwrap()
            .ends_with(r#""optional":{"creator":"me"}}"#));
        let back = UntrustedClaim::parse(&c.to_json()).unwrap();
        assert_eq!(
            (back.untrusted_creator(), back.untrusted_timestamp()),
            (Some("me"), None)
        );
    }

    #[test]
    fn empty_reference_is_refused_for_signing() {
        let d = Digest::parse(DIGEST).unwrap();
        assert_eq!(Claim::new(d, ""), Err(ClaimError::EmptyReference));
        let mut c = fixture_claim();
        c.docker_reference.clear();
        assert_eq!(c.check(), Err(ClaimError::EmptyReference));
    }

    #[test]
    fn escapes_like_go() {
        let mut c = fixture_claim();
        c.docker_reference = "a<b>&c\u{2028}d\u{2029}\"\\\n\u{1}é".to_owned();
        c.creator = Some("<&>".to_owned());
        let json = String::from_utf8(c.to_json()).unwrap();
        assert!(
            json.contains(r#"{"docker-reference":"a\u003cb\u003e\u0026c\u2028d\u2029\"\\\n\u0001é"}"#),
            "{json}"
        );
        assert!(json.contains(r#""creator":"\u003c\u0026\u003e""#), "{json}");
        assert!(!json.contains(['<', '>', '&', '\u{2028}', '\u{2029}']));
        let back = UntrustedClaim::parse(json.as_bytes()).unwrap();
        assert_eq!(back.untrusted_docker_reference(), c.docker_reference);
        assert_eq!(back.untrusted_creator(), Some("<&>"));
    }

    #[test]
    fn mutations_are_rejected_naming_the_key() {
        let long_digest = format!("{DIGEST}5");
        let cases: Vec<(String, &str)> = vec![
            // required keys removed
            (edit(&format!(",{TYPE}"), ""), r#"key "type" missing in critical"#),
            (edit(&format!("{IMAGE},"), ""), r#"key "image" missing in critical"#),
            (
                edit(&format!("{IDENTITY},"), ""),
                r#"key "identity" missing in critical"#,
            ),
            (
                edit(r#""docker-reference":"testing/manifest""#, ""),
                r#"key "docker-reference" missing in critical.identity"#,
            ),
            (
                edit(DIGEST_MEMBER, ""),
                r#"key "docker-manifest-digest" missing in critical.image"#,
            ),
            (
                format!("{{{OPTIONAL}}}"),
                r#"key "critical" missing in the top-level object"#,
            ),
            (
                edit(&format!(",{OPTIONAL}"), ""),
                r#"key "optional" missing in the top-level object"#,
            ),
            // types changed
            (
                format!(r#"{{"critical":1,{OPTIONAL}}}"#),
                "critical must be an object, not a number",
            ),
            (
                format!(r#"{{"critical":[],{OPTIONAL}}}"#),
                "critical must be an object, not an array",
            ),
            (
                format!(r#"{{"critical":null,{OPTIONAL}}}"#),
                "critical must be an object, not null",
            ),
            (
                edit(OPTIONAL, r#""optional":"x""#),
                "optional must be an object, not a string",
            ),
            (
                edit(OPTIONAL, r#""optional":null"#),
                "optional must be an object, not null",
            ),
            (
                edit(OPTIONAL, r#""optional":[]"#),
                "optional must be an object, not an array",
            ),
            (
                edit(TYPE, r#""type":1"#),
                "critical.type must be a string, not a number",
            ),
            (edit(TYPE, r#""type":null"#), "critical.type must be a string, not null"),
            (
                edit(TYPE, r#""type":true"#),
                "critical.type must be a string, not a boolean",
            ),
            (
                edit(IMAGE, r#""image":"x""#),
                "critical.image must be an object, not a string",
            ),
            (
                edit(IDENTITY, r#""identity":[]"#),
                "critical.identity must be an object, not an array",
            ),
            (
                edit(DIGEST_MEMBER, r#""docker-manifest-digest":1"#),
                "critical.image.docker-manifest-digest must be a string, not a number",
            ),
            (
                edit(DIGEST_MEMBER, r#""docker-manifest-digest":null"#),
                "critical.image.docker-manifest-digest must be a string, not null",
            ),
            (
                edit(r#""testing/manifest""#, "1"),
                "critical.identity.docker-reference must be a string, not a number",
            ),
            (
                edit(r#""testing/manifest""#, "null"),
                "critical.identity.docker-reference must be a string, not null",
            ),
            (
                edit(r#""testing/manifest""#, "{}"),
                "critical.identity.docker-reference must be a string, not an object",
            ),
            (
                edit(r#""atomic ""#, "1"),
                "optional.creator must be a string, not a number",
            ),
            (
                edit(r#""atomic ""#, "null"),
                "optional.creator must be a string, not null",
            ),
            (
                edit("1458239713", r#""1458239713""#),
                "optional.timestamp must be a number, not a string",
            ),
            (
                edit("1458239713", "null"),
                "optional.timestamp must be a number, not null",
            ),
            (
                edit("1458239713", "true"),
                "optional.timestamp must be a number, not a boolean",
            ),
            (edit("1458239713", "0.5"), "optional.timestamp is not an integer"),
            (
                edit("1458239713", "1458239713.5"),
                "optional.timestamp is not an integer",
            ),
            (
                edit("1458239713", "1e400"),
                "optional.timestamp is outside the 64-bit integer range",
            ),
            (
                edit("1458239713", "9223372036854775808"),
                "optional.timestamp is outside the 64-bit integer range",
            ),
            // wrong signature type
            (
                edit(SIGNATURE_TYPE, "atomic container signature "),
                r#"unrecognized signature type "atomic container signature ""#,
            ),
            (
                edit(SIGNATURE_TYPE, "Atomic container signature"),
                "unrecognized signature type",
            ),
            (
                edit(SIGNATURE_TYPE, "atomic  container signature"),
                "unrecognized signature type",
            ),
            (edit(SIGNATURE_TYPE, ""), r#"unrecognized signature type """#),
            // bad digests
            (
                edit(DIGEST, "sha256:../.."),
                "invalid digest in critical.image.docker-manifest-digest: ",
            ),
            (
                edit(DIGEST, &DIGEST.to_uppercase()),
                "invalid digest in critical.image.docker-manifest-digest",
            ),
            (
                edit(DIGEST, &DIGEST[..70]),
                "invalid digest in critical.image.docker-manifest-digest",
            ),
            (
                edit(DIGEST, &long_digest),
                "invalid digest in critical.image.docker-manifest-digest",
            ),
            (
                edit(DIGEST, "md5:d41d8cd98f00b204e9800998ecf8427e"),
                "invalid digest in critical.image.docker-manifest-digest",
            ),
            (
                edit(DIGEST, ""),
                "invalid digest in critical.image.docker-manifest-digest",
            ),
            // unknown keys at each strict level
            (edit("{", r#"{"x":1,"#), r#"unknown key "x" in the top-level object"#),
            (
                edit(r#""critical":{"#, r#""critical":{"x":{},"#),
                r#"unknown key "x" in critical"#,
            ),
            (
                edit(DIGEST_MEMBER, &format!(r#"{DIGEST_MEMBER},"x":"y""#)),
                r#"unknown key "x" in critical.image"#,
            ),
            (
                edit(r#""testing/manifest""#, r#""testing/manifest","x":null"#),
                r#"unknown key "x" in critical.identity"#,
            ),
            (
                edit(r#""docker-reference""#, r#""Docker-reference""#),
                r#"unknown key "Docker-reference" in critical.identity; hint: keys are case-sensitive"#,
            ),
            (
                edit(r#""docker-manifest-digest""#, r#""Docker-manifest-digest""#),
                r#"unknown key "Docker-manifest-digest" in critical.image; hint: the capitalised spelling from old blog posts is not the format; use docker-manifest-digest"#,
            ),
            // duplicated keys at each level
            (
                edit(&format!(",{OPTIONAL}"), &format!(",{OPTIONAL},{OPTIONAL}")),
                r#"duplicate key "optional" in the top-level object"#,
            ),
            (
                edit(TYPE, &format!("{TYPE},{TYPE}")),
                r#"duplicate key "type" in critical"#,
            ),
            (
                edit(DIGEST_MEMBER, &format!("{DIGEST_MEMBER},{DIGEST_MEMBER}")),
                r#"duplicate key "docker-manifest-digest" in critical.image"#,
            ),
            (
                edit(
                    r#""testing/manifest""#,
                    r#""testing/manifest","docker-reference":"evil/x""#,
                ),
                r#"duplicate key "docker-reference" in critical.identity"#,
            ),
            (
                edit(r#""atomic ""#, r#""atomic ","creator":"x""#),
                r#"duplicate key "creator" in optional"#,
            ),
            (
                edit("1458239713", r#"1458239713,"x":1,"x":2"#),
                r#"duplicate key "x" in optional"#,
            ),
            // trailing data, wrong top level, broken JSON
            (format!("{VALID}x"), "unexpected data after JSON object at 1:"),
            (format!("{VALID}{{}}"), "unexpected data after JSON object"),
            (format!("{VALID}\n}}"), "unexpected data after JSON object at 2:1"),
            ("[]".to_owned(), "the top-level value must be an object, not an array"),
            (
                r#""x""#.to_owned(),
                "the top-level value must be an object, not a string",
            ),
            ("null".to_owned(), "the top-level value must be an object, not null"),
            (
                "".to_owned(),
                "payload is not valid JSON at 1:1: expected a JSON value, found end of input",
            ),
            ("This is not JSON\n".to_owned(), "payload is not valid JSON at 1:1"),
            (edit("1458239713}", "1458239713,}"), "payload is not valid JSON"),
            (edit("1458239713", r#"1458239713,"x":tru"#), "payload is not valid JSON"),
            (VALID[..VALID.len() - 1].to_owned(), "payload is not valid JSON"),
            (
                format!("\u{feff}{VALID}"),
                "payload is not valid JSON at 1:1: a byte order mark",
            ),
        ];
        for (payload, needle) in &cases {
            match UntrustedClaim::parse(payload.as_bytes()) {
                Ok(_) => panic!("accepted: {payload}"),
                Err(e) => assert!(
                    e.to_string().contains(needle),
                    "{payload}\n  error: {e}\n  wanted: {needle}"
                ),
            }
        }
    }

    #[test]
    fn accepted_variations() {
        let permuted = format!(
            r#"{{"optional":{{"timestamp":1458239713,"creator":"atomic "}},"critical":{{{TYPE},{IMAGE},{IDENTITY}}}}}"#
        );
        let cases: Vec<(String, Option<&str>, Option<i64>)> = vec![
            (VALID.to_owned(), Some("atomic "), Some(1_458_239_713)),
            (
                edit("1458239713", r#"1458239713,"x":{"y":[1,null,{"z":"w"}]},"y":null"#),
                Some("atomic "),
                Some(1_458_239_713),
            ),
            (edit(OPTIONAL, r#""optional":{}"#), None, None),
            (edit(OPTIONAL, r#""optional":{"timestamp":1.0}"#), None, Some(1)),
            (
                edit("1458239713", "1.458239713e9"),
                Some("atomic "),
                Some(1_458_239_713),
            ),
            (edit("1458239713", "-1"), Some("atomic "), Some(-1)),
            (edit(r#""creator":"atomic ","#, ""), None, Some(1_458_239_713)),
            (permuted, Some("atomic "), Some(1_458_239_713)),
            (
                format!(" \n{}\r\n\t ", VALID.replace(',', " ,\n ").replace("\":", "\"\t: ")),
                Some("atomic "),
                Some(1_458_239_713),
            ),
            (
                edit("testing/manifest", r"\u0074esting\/manifest"),
                Some("atomic "),
                Some(1_458_239_713),
            ),
        ];
        for (payload, creator, timestamp) in &cases {
            let c = UntrustedClaim::parse(payload.as_bytes()).unwrap_or_else(|e| panic!("{payload}\n  rejected: {e}"));
            assert_eq!(c.untrusted_manifest_digest().to_string(), DIGEST, "{payload}");
            assert_eq!(c.untrusted_docker_reference(), "testing/manifest", "{payload}");
            assert_eq!(
                (c.untrusted_creator(), c.untrusted_timestamp()),
                (*creator, *timestamp),
                "{payload}"
            );
        }
        // Any string is a reference at parse time; c/image rejects odd ones when matching.
        for r in ["", "reference#@!"] {
            let c = UntrustedClaim::parse(edit("testing/manifest", r).as_bytes()).unwrap();
            assert_eq!(c.untrusted_docker_reference(), r);
        }
        let sha512 = format!("sha512:{}", "ab".repeat(64));
        let c = UntrustedClaim::parse(edit(DIGEST, &sha512).as_bytes()).unwrap();
        assert_eq!(c.untrusted_manifest_digest().to_string(), sha512);
    }

    #[test]
    fn errors_are_typed() {
        let e = UntrustedClaim::parse(edit(r#""docker-manifest-digest""#, r#""Docker-manifest-digest""#).as_bytes());
        assert!(
            matches!(e, Err(ClaimError::UnknownKey { ref key, ref path, hint: Some(_) })
            if key == "Docker-manifest-digest" && path == "critical.image")
        );
        let e = UntrustedClaim::parse(edit(DIGEST, "sha256:x").as_bytes()).unwrap_err();
        assert!(
            matches!(
                e,
                ClaimError::InvalidDigest {
                    reason: DigestError::Encoding { .. },
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
