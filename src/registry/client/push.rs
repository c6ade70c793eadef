//! Pushing to a registry (for sigstore attachments): blobs by the monolithic
//! upload (`POST /v2/<path>/blobs/uploads/`, then `PUT <location>&digest=…`,
//! skipped when `HEAD /v2/<path>/blobs/<digest>` finds the blob already
//! there) and manifests by tag (`PUT /v2/<path>/manifests/<tag>`), with the
//! repository's `pull,push` scope.

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;

use crate::digest::Digest;
use crate::reference::DockerReference;

use super::error::transport_err;
use super::http::send;
use super::{Auth, HostState, Registries, RegistryError};

fn push_scope(r: &DockerReference) -> String {
    format!("repository:{}:pull,push", r.path())
}

fn unexpected(url: &str, status: StatusCode, what: &str) -> RegistryError {
    RegistryError::Status {
        url: url.to_owned(),
        status: status.as_u16(),
        detail: format!(" ({what})"),
    }
}

impl Registries {
    /// Store `bytes` as a blob of `r`'s repository; returns its digest.
    pub(super) fn put_blob(
        state: &HostState,
        r: &DockerReference,
        bytes: &[u8],
        auth: &Auth,
    ) -> Result<Digest, RegistryError> {
        let digest = Digest::sha256(bytes);
        let blob_url = format!("{}v2/{}/blobs/{digest}", state.base, r.path());
        let req = Registries::authorize(state, state.client.head(&blob_url), auth, &push_scope(r))?;
        let resp = send(req, "HEAD", &blob_url).map_err(|e| transport_err(&blob_url, e))?;
        if resp.status() == StatusCode::OK {
            return Ok(digest);
        }
        let start = format!("{}v2/{}/blobs/uploads/", state.base, r.path());
        let req = Registries::authorize(
            state,
            state.client.post(&start).header(CONTENT_LENGTH, "0"),
            auth,
            &push_scope(r),
        )?;
        let resp = send(req, "POST", &start).map_err(|e| transport_err(&start, e))?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(unexpected(
                &start,
                resp.status(),
                "starting a blob upload; expected 202 Accepted",
            ));
        }
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| RegistryError::Protocol {
                url: start.clone(),
                message: "the blob upload response has no Location".into(),
            })?;
        let mut upload = state.base.join(location).map_err(|e| RegistryError::Protocol {
            url: start.clone(),
            message: format!("the blob upload Location {location:?}: {e}"),
        })?;
        // Registry credentials go to the registry only.
        if upload.host_str() != state.base.host_str()
            || upload.port_or_known_default() != state.base.port_or_known_default()
        {
            return Err(RegistryError::Protocol {
                url: start,
                message: format!(
                    "the blob upload Location {location:?} is on another host; refusing to send it credentials"
                ),
            });
        }
        upload.query_pairs_mut().append_pair("digest", &digest.to_string());
        let url = upload.to_string();
        let req = Registries::authorize(
            state,
            state
                .client
                .put(upload)
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(bytes.to_vec()),
            auth,
            &push_scope(r),
        )?;
        let resp = send(req, "PUT", &url).map_err(|e| transport_err(&url, e))?;
        if resp.status() != StatusCode::CREATED {
            return Err(unexpected(
                &url,
                resp.status(),
                "uploading a blob; expected 201 Created",
            ));
        }
        Ok(digest)
    }

    /// Store `bytes` (of `media_type`) as the manifest tagged `tag` in `r`'s repository.
    pub(super) fn put_manifest(
        state: &HostState,
        r: &DockerReference,
        tag: &str,
        media_type: &str,
        bytes: Vec<u8>,
        auth: &Auth,
    ) -> Result<(), RegistryError> {
        let url = format!("{}v2/{}/manifests/{tag}", state.base, r.path());
        let req = Registries::authorize(
            state,
            state.client.put(&url).header(CONTENT_TYPE, media_type).body(bytes),
            auth,
            &push_scope(r),
        )?;
        let resp = send(req, "PUT", &url).map_err(|e| transport_err(&url, e))?;
        if resp.status() != StatusCode::CREATED {
            return Err(unexpected(
                &url,
                resp.status(),
                "storing a manifest; expected 201 Created",
            ));
        }
        Ok(())
    }
}
