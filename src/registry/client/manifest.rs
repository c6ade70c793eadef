//! Manifest fetching: `GET /v2/<path>/manifests/<ref>` with the reference's
//! Accept list, by-digest fetches checked against the digest, by-tag fetches
//! recording the digest of the bytes received. A manifest with a repeated
//! member is refused here, for every caller ([`manifest::check_members`]).

use reqwest::header::ACCEPT;
use reqwest::StatusCode;

use crate::digest::Digest;
use crate::manifest;
use crate::reference::DockerReference;

use super::error::transport_err;
use super::http::{read_body, send, Deadline};
use super::{Auth, HostState, HostTls, Registries, RegistryError};
use crate::manifest::{
    DOCKER_V2_LIST, DOCKER_V2_SCHEMA1, DOCKER_V2_SCHEMA1_SIGNED, DOCKER_V2_SCHEMA2, OCI_INDEX, OCI_MANIFEST,
};

/// Largest manifest body accepted (the reference's limit).
pub use crate::limits::MAX_MANIFEST_SIZE;

/// Media types requested for manifests, in the reference's order.
pub const MANIFEST_ACCEPT: &[&str] = &[
    OCI_MANIFEST,
    DOCKER_V2_SCHEMA2,
    DOCKER_V2_SCHEMA1_SIGNED,
    DOCKER_V2_SCHEMA1,
    DOCKER_V2_LIST,
    OCI_INDEX,
];

/// A fetched manifest.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// The manifest, exactly as served.
    pub bytes: Vec<u8>,
    /// Digest of the bytes received (for signed schema 1: of the payload).
    pub digest: Digest,
    /// The `Content-Type` the registry sent, without parameters; `None` without one.
    pub media_type: Option<String>,
    /// The URL it was fetched from.
    pub url: String,
}

impl Registries {
    /// Fetch the manifest of `r` (by digest if it has one, else by tag).
    pub fn manifest(&self, r: &DockerReference, auth: &Auth, tls: &HostTls) -> Result<FetchedManifest, RegistryError> {
        let state = self.host(r, tls)?;
        let reference = match (r.digest(), r.tag()) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.to_owned(),
            (None, None) => "latest".to_owned(),
        };
        self.manifest_by(&state, r, &reference, auth)
    }

    /// Fetch a manifest by digest from the same repository (list instances).
    pub fn manifest_by_digest(
        &self,
        r: &DockerReference,
        d: &Digest,
        auth: &Auth,
        tls: &HostTls,
    ) -> Result<FetchedManifest, RegistryError> {
        let state = self.host(r, tls)?;
        self.manifest_by(&state, r, &d.to_string(), auth)
    }

    pub(super) fn manifest_by(
        &self,
        state: &HostState,
        r: &DockerReference,
        reference: &str,
        auth: &Auth,
    ) -> Result<FetchedManifest, RegistryError> {
        let url = format!("{}v2/{}/manifests/{reference}", state.base, r.path());
        let mut req = state.client.get(&url);
        for a in MANIFEST_ACCEPT {
            req = req.header(ACCEPT, *a);
        }
        let req = Registries::authorize(state, req, auth, &format!("repository:{}:pull", r.path()))?;
        let deadline = Deadline::after(state.timeout);
        let resp = send(req, "GET", &url).map_err(|e| transport_err(&url, e))?;
        if resp.status() != StatusCode::OK {
            return Err(RegistryError::Status {
                url,
                status: resp.status().as_u16(),
                detail: String::new(),
            });
        }
        let media_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_owned());
        let bytes = read_body(resp, MAX_MANIFEST_SIZE, &url, deadline)?;
        let digest = manifest::manifest_digest(&bytes).map_err(|e| RegistryError::Protocol {
            url: url.clone(),
            message: format!("cannot compute the manifest digest: {e}"),
        })?;
        if let Ok(expected) = Digest::parse(reference) {
            if expected != digest {
                return Err(RegistryError::DigestMismatch {
                    url,
                    expected: expected.to_string(),
                    actual: digest.to_string(),
                });
            }
        }
        // After the digest check: bytes that are not the ones asked for are that error.
        manifest::check_members(&bytes).map_err(|error| RegistryError::ManifestRefused {
            url: url.clone(),
            error,
        })?;
        Ok(FetchedManifest {
            bytes,
            digest,
            media_type,
            url,
        })
    }
}
