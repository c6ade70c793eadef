//! The signed payload: c/image `UntrustedSigstorePayload.strictUnmarshalJSON`.

use super::{malformed, SigstoreError};
use crate::json::{self, Kind, ReadRules};

/// The payload's type (`critical.type`).
pub const SIGSTORE_SIGNATURE_TYPE: &str = "cosign container image signature";

/// The contents of a sigstore payload. [`super::verify`] returns it only
/// after the signature verified; matching `docker_manifest_digest` against
/// the image and `docker_reference` against the policy's identity is the
/// caller's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UntrustedPayload {
    /// `critical.image.docker-manifest-digest`, a valid `algorithm:hex` digest.
    pub docker_manifest_digest: String,
    /// `critical.identity.docker-reference`, as signed (not parsed).
    pub docker_reference: String,
    /// `optional.creator`, if present.
    pub creator: Option<String>,
    /// `optional.timestamp` (integral), if present.
    pub timestamp: Option<i64>,
}

/// go-digest `Parse` for the algorithms it registers (sha256, sha384, sha512).
fn valid_digest(s: &str) -> Result<(), String> {
    let Some((alg, hex)) = s.split_once(':') else {
        return Err("invalid checksum digest format".into());
    };
    let len = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ if alg.is_empty() || hex.is_empty() => return Err("invalid checksum digest format".into()),
        _ if !alg
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"+._-".contains(&c)) =>
        {
            return Err("invalid checksum digest format".into())
        }
        _ => return Err("unsupported digest algorithm".into()),
    };
    if hex.len() != len {
        return Err("invalid checksum digest length".into());
    }
    if !hex.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
        return Err("invalid checksum digest format".into());
    }
    Ok(())
}

/// A JSON string as Go's `encoding/json` writes it.
fn go_json_string(s: &str) -> String {
    let mut out = String::new();
    json::write_go_string(&mut out, s);
    out
}

impl UntrustedPayload {
    /// The payload bytes c/image `UntrustedSigstorePayload.MarshalJSON` writes
    /// (what `skopeo copy --sign-by-sigstore-private-key` signs): Go's
    /// `json.Marshal` of maps, so members sorted and no white space.
    pub fn to_json(&self) -> Vec<u8> {
        let mut optional = Vec::new();
        if let Some(c) = &self.creator {
            optional.push(format!("\"creator\":{}", go_json_string(c)));
        }
        if let Some(t) = self.timestamp {
            optional.push(format!("\"timestamp\":{t}"));
        }
        format!(
            "{{\"critical\":{{\"identity\":{{\"docker-reference\":{}}},\"image\":{{\"docker-manifest-digest\":{}}},\"type\":{}}},\"optional\":{{{}}}}}",
            go_json_string(&self.docker_reference),
            go_json_string(&self.docker_manifest_digest),
            go_json_string(SIGSTORE_SIGNATURE_TYPE),
            optional.join(",")
        )
        .into_bytes()
    }

    /// Parses payload bytes as c/image does, after the signature verified.
    pub fn parse(data: &[u8]) -> Result<Self, SigstoreError> {
        let v = json::parse_with(data, ReadRules::Go).map_err(|e| malformed(e.to_string()))?;
        let [critical, optional] = json::exact_fields(&v, ["critical", "optional"]).map_err(malformed)?;
        let mut creator = None;
        let mut timestamp = None;
        // cosign writes "optional": null without annotations.
        if optional.kind != Kind::Null {
            for m in json::distinct_members(optional).map_err(malformed)? {
                match m.key.as_str() {
                    "creator" => creator = Some(json::go_string(&m.value, "optional.creator").map_err(malformed)?),
                    "timestamp" => {
                        // Go: float64, then it must be an integer in the int64 range.
                        let t = match &m.value.kind {
                            Kind::Null => Some(0),
                            Kind::Number(n) => n.as_i64_exact(),
                            _ => {
                                return Err(malformed(format!(
                                    "cannot unmarshal {} into optional.timestamp of type float64",
                                    json::go_kind(&m.value)
                                )))
                            }
                        };
                        let Some(t) = t else {
                            return Err(malformed("Field optional.timestamp is not an integer"));
                        };
                        timestamp = Some(t);
                    }
                    _ => {}
                }
            }
        }
        let [t, image, identity] = json::exact_fields(critical, ["type", "image", "identity"]).map_err(malformed)?;
        let t = json::go_string(t, "critical.type").map_err(malformed)?;
        if t != SIGSTORE_SIGNATURE_TYPE {
            return Err(malformed(format!("Unrecognized signature type {t}")));
        }
        let [digest] = json::exact_fields(image, ["docker-manifest-digest"]).map_err(malformed)?;
        let digest = json::go_string(digest, "docker-manifest-digest").map_err(malformed)?;
        valid_digest(&digest)
            .map_err(|e| malformed(format!("invalid docker-manifest-digest value {digest:?}: {e}")))?;
        let [reference] = json::exact_fields(identity, ["docker-reference"]).map_err(malformed)?;
        let reference = json::go_string(reference, "docker-reference").map_err(malformed)?;
        Ok(Self {
            docker_manifest_digest: digest,
            docker_reference: reference,
            creator,
            timestamp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";

    fn p(s: &str) -> Result<UntrustedPayload, SigstoreError> {
        UntrustedPayload::parse(s.as_bytes())
    }

    #[test]
    fn sigstore_payload_strict() {
        let ok = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"r"}},"image":{{"docker-manifest-digest":"{D}"}},"type":"cosign container image signature"}},"optional":null}}"#
        );
        let v = p(&ok).unwrap();
        assert_eq!(
            (
                v.docker_reference.as_str(),
                v.docker_manifest_digest.as_str(),
                v.timestamp
            ),
            ("r", D, None)
        );
        let with_opt = ok.replace("null", r#"{"creator":"me","timestamp":1700000000,"x":[1]}"#);
        let v = p(&with_opt).unwrap();
        assert_eq!((v.creator.as_deref(), v.timestamp), (Some("me"), Some(1700000000)));
        for bad in [
            ok.replace("null", r#"{"timestamp":1.5}"#),
            ok.replace("null", r#"{"creator":"a","creator":"b"}"#),
            ok.replace("null", "[]"),
            ok.replace("cosign container image signature", "atomic container signature"),
            ok.replace(r#","optional":null"#, ""),
            ok.replace(r#""optional":null"#, r#""optional":null,"extra":1"#),
            ok.replace(D, "sha256:abc"),
            ok.replace(r#""docker-reference":"r""#, r#""docker-reference":"r","x":1"#),
            ok.replace(r#""docker-reference":"r""#, r#""docker-reference":1"#),
            format!("{ok} x"),
            "".into(),
            "{".into(),
        ] {
            assert_eq!(p(&bad).unwrap_err().code, "sigstore-malformed", "{bad}");
        }
    }

    #[test]
    fn written_as_go_writes_it_and_read_back() {
        let v = UntrustedPayload {
            docker_manifest_digest: D.into(),
            docker_reference: "registry.example.com/ns/app:1.0".into(),
            creator: Some("imgsig <1> & \u{2028}".into()),
            timestamp: Some(1700000000),
        };
        let json = String::from_utf8(v.to_json()).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"registry.example.com/ns/app:1.0"}},"image":{{"docker-manifest-digest":"{D}"}},"type":"cosign container image signature"}},"optional":{{"creator":"imgsig \u003c1\u003e \u0026 \u2028","timestamp":1700000000}}}}"#
            )
        );
        assert_eq!(p(&json).unwrap(), v);
        let bare = UntrustedPayload {
            creator: None,
            timestamp: None,
            ..v
        };
        assert!(String::from_utf8(bare.to_json())
            .unwrap()
            .ends_with(r#""optional":{}}"#));
        assert_eq!(p(std::str::from_utf8(&bare.to_json()).unwrap()).unwrap(), bare);
    }
}
