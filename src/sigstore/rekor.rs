//! The Rekor SET (`dev.sigstore.cosign/bundle`): c/image
//! `signature/internal/rekor_set.go` `VerifyRekorSET`.

use sha2::{Digest, Sha256};

use super::keys::{Hash, PublicKey, Scheme};
use super::{pem, SigstoreError};
use crate::json::{self, Kind, ReadRules, Value};
use crate::Reason;

fn invalid(msg: impl Into<String>) -> SigstoreError {
    SigstoreError::new(Reason::SigstoreRekorInvalid, msg)
}

/// Go `json.Unmarshal` into an `int64` of a canonical (ES6) number: its
/// canonical text must be an integer literal in range, which is what
/// [`json::Number::as_i64_exact`] accepts (from 1e21 on, the text has an
/// exponent, and such numbers are beyond 2^63 anyway).
fn go_int64(v: &Value, what: &str) -> Result<i64, SigstoreError> {
    match &v.kind {
        Kind::Null => Ok(0),
        Kind::Number(n) => n.as_i64_exact().ok_or_else(|| {
            invalid(format!(
                "parsing Rekor SET payload: cannot unmarshal number into {what} of type int64"
            ))
        }),
        _ => Err(invalid(format!(
            "parsing Rekor SET payload: cannot unmarshal {} into {what} of type int64",
            json::go_kind(v)
        ))),
    }
}

/// Checks that `set_json` is signed by one of `rekor_keys` and records this
/// signature (`base64_signature`), this key or certificate (`key_or_cert_pem`,
/// compared as the DER inside the first PEM block) and the SHA-256 of
/// `payload`. Returns the integrated time (Unix seconds).
pub(crate) fn verify_set(
    rekor_keys: &[PublicKey],
    set_json: &[u8],
    key_or_cert_pem: &[u8],
    base64_signature: &str,
    payload: &[u8],
) -> Result<i64, SigstoreError> {
    // == Parse the SET (exact fields).
    let set = json::parse_with(set_json, ReadRules::Go).map_err(|e| invalid(e.to_string()))?;
    let [set_sig, set_payload] = json::exact_fields(&set, ["SignedEntryTimestamp", "Payload"]).map_err(invalid)?;
    let set_sig = json::go_bytes(Some(set_sig), "SignedEntryTimestamp")
        .map_err(invalid)?
        .unwrap_or_default();

    // == Verify the SET signature over the canonical payload.
    let canonical =
        json::canonicalize(set_payload).map_err(|e| invalid(format!("canonicalizing Rekor SET JSON: {e}")))?;
    if !rekor_keys
        .iter()
        .any(|k| k.is_ecdsa() && k.verify(Scheme::Ecdsa(Hash::Sha256), &canonical, &set_sig).is_ok())
    {
        return Err(invalid("cryptographic signature verification of Rekor SET failed"));
    }

    // == Parse the verified canonical form, not the delivered one.
    let p =
        json::parse_with(&canonical, ReadRules::Go).map_err(|e| invalid(format!("parsing Rekor SET payload: {e}")))?;
    let [body, integrated_time, log_index, log_id] =
        json::exact_fields(&p, ["body", "integratedTime", "logIndex", "logID"])
            .map_err(|e| invalid(format!("parsing Rekor SET payload: {e}")))?;
    let body = json::go_bytes(Some(body), "body")
        .map_err(|e| invalid(format!("parsing Rekor SET payload: {e}")))?
        .unwrap_or_default();
    let integrated_time = go_int64(integrated_time, "integratedTime")?;
    go_int64(log_index, "logIndex")?;
    json::go_string(log_id, "logID").map_err(|e| invalid(format!("parsing Rekor SET payload: {e}")))?;

    // == The body: a hashedrekord 0.0.1 (Go's lenient struct decoding).
    let dec = |e: String| invalid(format!("decoding the body of a Rekor SET payload: {e}"));
    let body = json::parse_with(&body, ReadRules::Go).map_err(|e| dec(e.to_string()))?;
    let members = json::go_struct(Some(&body), "RekorHashedrekord")
        .map_err(dec)?
        .unwrap_or(&[]);
    let kind = json::go_opt_string(json::go_field(members, "kind"), "kind")
        .map_err(dec)?
        .unwrap_or_default();
    if kind != "hashedrekord" {
        return Err(dec(format!("invalid kind value: {kind:?}")));
    }
    let api_version = json::go_opt_string(json::go_field(members, "apiVersion"), "apiVersion").map_err(dec)?;
    let Some(api_version) = api_version else {
        return Err(invalid("missing Rekor SET Payload API version"));
    };
    if api_version != "0.0.1" {
        return Err(invalid(format!(
            "unsupported Rekor SET Payload hashedrekord version {api_version:?}"
        )));
    }
    let spec_err = |e: String| invalid(format!("decoding hashedrekod spec: {e}"));
    let spec = json::go_field(members, "spec").ok_or_else(|| spec_err("unexpected end of JSON input".into()))?;
    let spec = json::go_struct(Some(spec), "RekorHashedrekordV001Schema")
        .map_err(spec_err)?
        .unwrap_or(&[]);
    let data = json::go_struct(json::go_field(spec, "data"), "data").map_err(spec_err)?;
    let signature = json::go_struct(json::go_field(spec, "signature"), "signature").map_err(spec_err)?;
    // Decode all of signature and data first: Go reports type errors of the whole spec.
    let (sig_content, public_key) = match signature {
        Some(s) => (
            json::go_bytes(json::go_field(s, "content"), "signature.content").map_err(spec_err)?,
            match json::go_struct(json::go_field(s, "publicKey"), "publicKey").map_err(spec_err)? {
                Some(pk) => Some(json::go_bytes(json::go_field(pk, "content"), "publicKey.content").map_err(spec_err)?),
                None => None,
            },
        ),
        None => (None, None),
    };
    let hash_obj = match data {
        Some(d) => match json::go_struct(json::go_field(d, "hash"), "hash").map_err(spec_err)? {
            Some(h) => Some((
                json::go_opt_string(json::go_field(h, "algorithm"), "algorithm").map_err(spec_err)?,
                json::go_opt_string(json::go_field(h, "value"), "value").map_err(spec_err)?,
            )),
            None => None,
        },
        None => None,
    };

    // == Match the key or certificate.
    if signature.is_none() {
        return Err(invalid(r#"Missing "signature" field in hashedrekord"#));
    }
    let Some(public_key) = public_key else {
        return Err(invalid(r#"Missing "signature.publicKey" field in hashedrekord"#));
    };
    let public_key = public_key.unwrap_or_default();
    let (rekor_block, rest) =
        pem::decode(&public_key).ok_or_else(|| invalid("publicKey in Rekor SET is not in PEM format"))?;
    if !rest.is_empty() {
        return Err(invalid("publicKey in Rekor SET has trailing data"));
    }
    let (ours, rest) = pem::decode(key_or_cert_pem).ok_or_else(|| {
        invalid("public key or cert to be matched against publicKey in Rekor SET is not in PEM format")
    })?;
    if !rest.is_empty() {
        return Err(invalid(
            "public key or cert to be matched against publicKey in Rekor SET has trailing data",
        ));
    }
    // As c/image: the PEM contents are compared, not the block type or headers.
    if rekor_block.bytes != ours.bytes {
        return Err(invalid("publicKey in Rekor SET does not match"));
    }

    // == Match the signature.
    let sig =
        json::go_base64(base64_signature.as_bytes()).map_err(|e| invalid(format!("decoding signature base64: {e}")))?;
    if sig_content.unwrap_or_default() != sig {
        return Err(invalid("signature in Rekor SET does not match"));
    }

    // == Match the payload.
    if data.is_none() {
        return Err(invalid(r#"Missing "data" field in hashedrekord"#));
    }
    let Some((algorithm, value)) = hash_obj else {
        return Err(invalid(r#"Missing "data.hash" field in hashedrekord"#));
    };
    let Some(algorithm) = algorithm else {
        return Err(invalid(r#"Missing "data.hash.algorithm" field in hashedrekord"#));
    };
    if algorithm != "sha256" {
        return Err(invalid(format!(
            r#"Unexpected "data.hash.algorithm" value {algorithm:?}"#
        )));
    }
    let Some(value) = value else {
        return Err(invalid(r#"Missing "data.hash.value" field in hashedrekord"#));
    };
    let rekor_hash =
        hex_decode(&value).map_err(|e| invalid(format!(r#"Invalid "data.hash.value" field in hashedrekord: {e}"#)))?;
    if rekor_hash != Sha256::digest(payload).as_slice() {
        return Err(invalid("payload in Rekor SET does not match"));
    }
    Ok(integrated_time)
}

/// Go `hex.DecodeString`.
fn hex_decode(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let nib = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!("encoding/hex: invalid byte: {c:#x}")),
    };
    let mut out = Vec::with_capacity(b.len() / 2);
    for pair in b.chunks(2) {
        if pair.len() != 2 {
            nib(pair[0])?;
            return Err("encoding/hex: odd length hex string".into());
        }
        out.push(nib(pair[0])? << 4 | nib(pair[1])?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigstore_rekor_helpers() {
        assert_eq!(hex_decode("0aFf").unwrap(), [0x0a, 0xff]);
        assert!(hex_decode("abc").is_err());
        assert!(hex_decode("zz").is_err());
        let int = |text: &str| go_int64(&json::parse_with(text.as_bytes(), ReadRules::Go).unwrap(), "t");
        assert_eq!(int("1674251859").unwrap(), 1674251859);
        assert_eq!(int("1.674251859e9").unwrap(), 1674251859);
        assert_eq!(int("null").unwrap(), 0);
        assert!(int("1.5").is_err());
        assert!(int("1e21").is_err());
        assert!(int("9223372036854775807").is_err()); // 2^63 as a double
        assert_eq!(int("-9223372036854775808").unwrap(), i64::MIN);
        assert!(int("\"1\"").is_err());
    }

    #[test]
    fn sigstore_rekor_set_shape() {
        let k = PublicKey::from_pem(
            b"-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFNLqFhf4fiN6o/glAuYnq2jYUeL0
vRuLu/z39pmbVwS9ff5AYnlwaP9sxREajdLY9ynM6G1sy6AAmb7Z63TsLg==
-----END PUBLIC KEY-----",
        )
        .unwrap();
        for bad in [
            &b""[..],
            b"[]",
            b"{}",
            br#"{"SignedEntryTimestamp":"","Payload":{},"x":1}"#,
            br#"{"SignedEntryTimestamp":"","SignedEntryTimestamp":"","Payload":{}}"#,
            br#"{"SignedEntryTimestamp":"!","Payload":{}}"#,
            br#"{"SignedEntryTimestamp":"","Payload":{"a":1,"a":2}}"#,
            br#"{"SignedEntryTimestamp":"MEUCIQ==","Payload":{}}"#,
        ] {
            let e = verify_set(std::slice::from_ref(&k), bad, b"", "", b"").unwrap_err();
            assert_eq!(e.code, "sigstore-rekor-invalid");
        }
    }
}
