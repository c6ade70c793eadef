//! The registry signature API (`/extensions/v2/<path>/signatures/<digest>`):
//! whether a registry serves it, listing signatures and storing one.

use base64::Engine;
use reqwest::StatusCode;

use crate::digest::Digest;
use crate::reference::DockerReference;

use super::error::transport_err;
use super::http::{read_body, send};
use super::{Auth, FetchedSignature, HostTls, Registries, RegistryError, MAX_SIGNATURES};

/// Largest signature-list body from the signature API.
pub use crate::limits::MAX_SIGNATURE_LIST_SIZE;

impl Registries {
    /// Does the registry of `r` serve the signature API? (pings it)
    pub fn supports_signature_api(&self, r: &DockerReference, tls: &HostTls) -> Result<bool, RegistryError> {
        Ok(self.host(r, tls)?.supports_signatures)
    }

    /// Signatures from the registry signature API.
    pub fn api_signatures(
        &self,
        r: &DockerReference,
        d: &Digest,
        auth: &Auth,
        tls: &HostTls,
    ) -> Result<Vec<FetchedSignature>, RegistryError> {
        let state = self.host(r, tls)?;
        let url = format!("{}extensions/v2/{}/signatures/{d}", state.base, r.path());
        let (resp, deadline) = Registries::get_ok(&state, r, &url, auth, " from the signature API")?;
        let body = read_body(resp, MAX_SIGNATURE_LIST_SIZE, &url, deadline)?;
        parse_signature_list(&body, &url)
    }

    /// Store a signature through the registry signature API: skipped when
    /// a byte-identical one is already there (returns `false`), else
    /// `PUT /extensions/v2/<path>/signatures/<digest>` with a fresh unique
    /// name `<digest>@<32 hex>`, expecting 201 Created. Nothing is deleted.
    pub fn api_put_signature(
        &self,
        r: &DockerReference,
        d: &Digest,
        blob: &[u8],
        auth: &Auth,
        tls: &HostTls,
    ) -> Result<bool, RegistryError> {
        let existing = self.api_signatures(r, d, auth, tls)?;
        if existing.iter().any(|s| s.blob.as_deref().ok() == Some(blob)) {
            return Ok(false);
        }
        let state = self.host(r, tls)?;
        let url = format!("{}extensions/v2/{}/signatures/{d}", state.base, r.path());
        let mut rnd = [0u8; 16];
        sequoia_openpgp::crypto::random(&mut rnd[..]).map_err(|e| RegistryError::Protocol {
            url: url.clone(),
            message: format!("no randomness for the signature name: {e}"),
        })?;
        let name = format!("{d}@{}", crate::digest::to_hex(&rnd));
        let body = serde_json::json!({
            "schemaVersion": 2,
            "name": name,
            "type": "atomic",
            "content": base64::engine::general_purpose::STANDARD.encode(blob),
        })
        .to_string();
        let req = state
            .client
            .put(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        let req = Registries::authorize(&state, req, auth, &format!("repository:{}:pull,push", r.path()))?;
        let resp = send(req, "PUT", &url).map_err(|e| transport_err(&url, e))?;
        if resp.status() != StatusCode::CREATED {
            return Err(RegistryError::Status {
                url,
                status: resp.status().as_u16(),
                detail: " from the signature API (expected 201 Created)".into(),
            });
        }
        Ok(true)
    }
}

/// `{"signatures":[{"schemaVersion":2,"type":"atomic","content":"<base64>"}, …]}`;
/// entries of other versions or types are ignored, as in the reference.
pub fn parse_signature_list(body: &[u8], url: &str) -> Result<Vec<FetchedSignature>, RegistryError> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| RegistryError::Protocol {
        url: url.to_owned(),
        message: format!("signature list is not JSON: {e}"),
    })?;
    let list = v
        .get("signatures")
        .and_then(|s| s.as_array())
        .ok_or_else(|| RegistryError::Protocol {
            url: url.to_owned(),
            message: "signature list has no \"signatures\" array".into(),
        })?;
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        if s.get("schemaVersion").and_then(|v| v.as_i64()) != Some(2)
            || s.get("type").and_then(|t| t.as_str()) != Some("atomic")
        {
            continue;
        }
        if out.len() >= MAX_SIGNATURES {
            return Err(RegistryError::Protocol {
                url: url.to_owned(),
                message: format!("more than {MAX_SIGNATURES} signatures; assuming that is unreasonable"),
            });
        }
        let blob = s
            .get("content")
            .and_then(|c| c.as_str())
            .ok_or_else(|| "signature entry has no content".to_owned())
            .and_then(|c| {
                base64::engine::general_purpose::STANDARD
                    .decode(c)
                    .map_err(|e| format!("content is not base64: {e}"))
            });
        out.push(FetchedSignature {
            source: format!("{url}#{}", i + 1),
            blob,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_list_keeps_only_atomic_v2() {
        let body = br#"{"signatures":[
            {"schemaVersion":2,"type":"atomic","name":"a","content":"AQID"},
            {"schemaVersion":1,"type":"atomic","content":"AQID"},
            {"schemaVersion":2,"type":"other","content":"AQID"},
            {"schemaVersion":2,"type":"atomic","content":"!!"}]}"#;
        let l = parse_signature_list(body, "u").unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].blob.as_deref().unwrap(), &[1, 2, 3]);
        assert!(l[1].blob.is_err());
        assert!(parse_signature_list(b"[]", "u").is_err());
    }
}
