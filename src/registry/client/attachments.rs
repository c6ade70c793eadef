//! Sigstore attachments (containers/image `appendSigstoreInternalSignatures`,
//! when registries.d says `use-sigstore-attachments: true`): the OCI manifest
//! at the tag `sha256-<hex>.sig` of the image's repository, one layer per
//! attachment; each layer's blob is the payload, its annotations the
//! signature, certificate and Rekor bundle. Returned in the typed blob format
//! (`\0sigstore-json\n{"mimeType","payload","annotations"}`), the form `dir:`
//! images and mirrors store, so that the rest of the pipeline (and `fetch`)
//! handles them as any stored signature.

use std::collections::BTreeMap;

use crate::digest::Digest;
use crate::reference::DockerReference;
use crate::sigstore::SigstoreSignature;

use super::http::read_body;
use super::{Auth, FetchedSignature, HostTls, Registries, RegistryError, MAX_SIGNATURES, MAX_SIGNATURE_SIZE};
use crate::manifest::{OCI_CONFIG, OCI_MANIFEST};

/// The tag holding the attachments of manifest `d`: `sha256-<hex>.sig`.
pub fn attachment_tag(d: &Digest) -> String {
    format!("{}.sig", d.to_string().replace(':', "-"))
}

/// One layer of the attachment manifest.
struct Layer {
    media_type: String,
    digest: Digest,
    size: u64,
    annotations: BTreeMap<String, String>,
}

fn protocol(url: &str, message: impl Into<String>) -> RegistryError {
    RegistryError::Protocol {
        url: url.to_owned(),
        message: message.into(),
    }
}

/// The layers of an OCI image manifest (untrusted: what they carry is
/// verified later). Read as containers/image reads it, with Go's lenient JSON
/// (`serde_json` here: unknown fields ignored, the last of repeated keys).
fn layers(bytes: &[u8], url: &str) -> Result<Vec<Layer>, RegistryError> {
    let bad = |what: &str| protocol(url, format!("sigstore attachment manifest: {what}"));
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(&e.to_string()))?;
    let items = match v.get("layers") {
        None | Some(serde_json::Value::Null) => return Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) => items,
        Some(_) => return Err(bad("layers is not an array")),
    };
    if items.len() > MAX_SIGNATURES {
        return Err(bad(&format!("more than {MAX_SIGNATURES} layers")));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, l) in items.iter().enumerate() {
        let media_type = l
            .get("mediaType")
            .and_then(|m| m.as_str())
            .unwrap_or_default()
            .to_owned();
        let digest = l
            .get("digest")
            .and_then(|d| d.as_str())
            .and_then(|d| Digest::parse(d).ok())
            .ok_or_else(|| bad(&format!("layer {i} has no valid digest")))?;
        let size = l
            .get("size")
            .and_then(|s| s.as_u64())
            .ok_or_else(|| bad(&format!("layer {i} has no valid size")))?;
        let mut annotations = BTreeMap::new();
        if let Some(a) = l.get("annotations").and_then(|a| a.as_object()) {
            for (k, v) in a {
                let v = v
                    .as_str()
                    .ok_or_else(|| bad(&format!("layer {i} annotation {k:?} is not a string")))?;
                annotations.insert(k.clone(), v.to_owned());
            }
        }
        out.push(Layer {
            media_type,
            digest,
            size,
            annotations,
        });
    }
    Ok(out)
}

/// Whether `bytes` hash to `d` (sha256; other algorithms never match, as manifests).
fn content_matches(d: &Digest, bytes: &[u8]) -> bool {
    &Digest::sha256(bytes) == d
}

/// The typed blob for one attachment.
fn typed_blob(media_type: &str, payload: &[u8], annotations: &BTreeMap<String, String>) -> Vec<u8> {
    SigstoreSignature::from_components(media_type.to_owned(), payload.to_vec(), annotations.clone()).to_blob()
}

impl Registries {
    /// The sigstore attachments of manifest `d` of `r` (none when the tag does not exist).
    pub fn sigstore_attachments(
        &self,
        r: &DockerReference,
        d: &Digest,
        auth: &Auth,
        tls: &HostTls,
    ) -> Result<Vec<FetchedSignature>, RegistryError> {
        let state = self.host(r, tls)?;
        let manifest = match self.manifest_by(&state, r, &attachment_tag(d), auth) {
            Ok(m) => m,
            Err(RegistryError::Status { status: 404, .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        if manifest.media_type.as_deref() != Some(OCI_MANIFEST) {
            return Err(protocol(
                &manifest.url,
                format!(
                    "unexpected MIME type {:?} for the sigstore attachment manifest (expected {OCI_MANIFEST})",
                    manifest.media_type.as_deref().unwrap_or("")
                ),
            ));
        }
        let mut out = Vec::new();
        for layer in layers(&manifest.bytes, &manifest.url)? {
            let url = format!("{}v2/{}/blobs/{}", state.base, r.path(), layer.digest);
            if layer.size > MAX_SIGNATURE_SIZE as u64 {
                return Err(protocol(
                    &url,
                    format!(
                        "sigstore attachment of {} bytes is larger than {MAX_SIGNATURE_SIZE} bytes",
                        layer.size
                    ),
                ));
            }
            let (resp, deadline) = Registries::get_ok(&state, r, &url, auth, " (a sigstore attachment)")?;
            let payload = read_body(resp, MAX_SIGNATURE_SIZE, &url, deadline)?;
            if !content_matches(&layer.digest, &payload) || payload.len() as u64 != layer.size {
                return Err(protocol(
                    &url,
                    format!("the sigstore attachment does not match its descriptor {}", layer.digest),
                ));
            }
            out.push(FetchedSignature {
                source: url,
                blob: Ok(typed_blob(&layer.media_type, &payload, &layer.annotations)),
            });
        }
        Ok(out)
    }
}

/// Largest attachment config read (c/image `MaxConfigBodySize`).
const MAX_CONFIG_SIZE: usize = 4 << 20;

/// What Go's `json.Marshal` writes for an empty `imgspecv1.Image` with
/// `rootfs.type` "layers", as c/image starts a new attachment config.
fn new_config() -> serde_json::Value {
    serde_json::json!({
        "architecture": "",
        "os": "",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": []},
    })
}

/// Whether a layer already holds this signature (c/image `layerMatchesSigstoreSignature`).
fn layer_matches(layer: &serde_json::Value, sig: &SigstoreSignature) -> bool {
    let annotations: BTreeMap<String, String> = layer
        .get("annotations")
        .and_then(|a| a.as_object())
        .map(|a| {
            a.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    layer.get("mediaType").and_then(|m| m.as_str()) == Some(sig.mime_type())
        && layer.get("size").and_then(|s| s.as_u64()) == Some(sig.payload().len() as u64)
        && layer.get("digest").and_then(|d| d.as_str()) == Some(Digest::sha256(sig.payload()).to_string().as_str())
        && &annotations == sig.annotations()
}

impl Registries {
    /// Add `sig` to the sigstore attachments of manifest `d` of `r`, as c/image
    /// `putSignaturesToSigstoreAttachments` does: the existing manifest at
    /// `sha256-<hex>.sig` (if any) and its config are read, the payload is
    /// uploaded as a new layer with the signature's annotations, appended to
    /// the layers and to the config's `rootfs.diff_ids`, and the new config
    /// and manifest are stored. Every existing layer (and every other member
    /// of the manifest and config) is kept. Returns `false` when an identical
    /// layer is already there (nothing is written).
    pub fn put_sigstore_attachment(
        &self,
        r: &DockerReference,
        d: &Digest,
        sig: &SigstoreSignature,
        auth: &Auth,
        tls: &HostTls,
    ) -> Result<bool, RegistryError> {
        let state = self.host(r, tls)?;
        let tag = attachment_tag(d);
        let (mut manifest, mut config) = match self.manifest_by(&state, r, &tag, auth) {
            Err(RegistryError::Status { status: 404, .. }) => (
                serde_json::json!({
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "config": {"mediaType": OCI_CONFIG, "digest": "", "size": 0},
                    "layers": [],
                }),
                new_config(),
            ),
            Err(e) => return Err(e),
            Ok(m) => {
                if m.media_type.as_deref() != Some(OCI_MANIFEST) {
                    return Err(protocol(
                        &m.url,
                        format!(
                            "the sigstore attachment manifest has MIME type {:?}, not {OCI_MANIFEST}; not changing it",
                            m.media_type.as_deref().unwrap_or("")
                        ),
                    ));
                }
                let bad =
                    |what: &str| protocol(&m.url, format!("sigstore attachment manifest: {what}; not changing it"));
                let manifest: serde_json::Value = serde_json::from_slice(&m.bytes).map_err(|e| bad(&e.to_string()))?;
                // Read as the reader reads it, so that nothing unreadable is extended.
                let layers = layers(&m.bytes, &m.url)?;
                if layers.len() >= MAX_SIGNATURES {
                    return Err(bad(&format!(
                        "it already has {} layers, and readers read at most {MAX_SIGNATURES}",
                        layers.len()
                    )));
                }
                let config_desc = manifest.get("config").ok_or_else(|| bad("no config"))?;
                let config_digest = config_desc
                    .get("digest")
                    .and_then(|d| d.as_str())
                    .and_then(|d| Digest::parse(d).ok())
                    .ok_or_else(|| bad("the config has no valid digest"))?;
                let url = format!("{}v2/{}/blobs/{config_digest}", state.base, r.path());
                let (resp, deadline) = Registries::get_ok(&state, r, &url, auth, " (the sigstore attachment config)")?;
                let bytes = read_body(resp, MAX_CONFIG_SIZE, &url, deadline)?;
                if !content_matches(&config_digest, &bytes) {
                    return Err(protocol(
                        &url,
                        format!("the config does not match its digest {config_digest}"),
                    ));
                }
                let config: serde_json::Value = serde_json::from_slice(&bytes)
                    .map_err(|e| protocol(&url, format!("parsing the sigstore attachment config: {e}")))?;
                if !config.is_object() {
                    return Err(protocol(&url, "the sigstore attachment config is not a JSON object"));
                }
                (manifest, config)
            }
        };
        let layer_list = manifest
            .as_object_mut()
            .ok_or_else(|| protocol(&tag, "the sigstore attachment manifest is not a JSON object"))?
            .entry("layers")
            .or_insert_with(|| serde_json::json!([]));
        if layer_list.is_null() {
            *layer_list = serde_json::json!([]);
        }
        let layer_list = layer_list
            .as_array_mut()
            .ok_or_else(|| protocol(&tag, "layers is not an array"))?;
        if layer_list.iter().any(|l| layer_matches(l, sig)) {
            return Ok(false);
        }
        let payload_digest = Registries::put_blob(&state, r, sig.payload(), auth)?;
        layer_list.push(serde_json::json!({
            "mediaType": sig.mime_type(),
            "digest": payload_digest.to_string(),
            "size": sig.payload().len(),
            "annotations": sig.annotations(),
        }));
        // rootfs.diff_ids gains the layer (created when the config has none, as Go's
        // json.Unmarshal into imgspecv1.Image would leave it empty).
        let obj = config.as_object_mut().expect("checked to be an object");
        let rootfs = obj
            .entry("rootfs")
            .or_insert_with(|| serde_json::json!({"type": "layers", "diff_ids": []}));
        if !rootfs.is_object() {
            *rootfs = serde_json::json!({"type": "layers", "diff_ids": []});
        }
        let rootfs = rootfs.as_object_mut().expect("an object");
        let ids = rootfs.entry("diff_ids").or_insert_with(|| serde_json::json!([]));
        if !ids.is_array() {
            *ids = serde_json::json!([]);
        }
        ids.as_array_mut()
            .expect("an array")
            .push(serde_json::json!(payload_digest.to_string()));
        let config_bytes = serde_json::to_vec(&config).expect("a JSON value serializes");
        let config_digest = Registries::put_blob(&state, r, &config_bytes, auth)?;
        manifest["config"] = serde_json::json!({
            "mediaType": OCI_CONFIG,
            "digest": config_digest.to_string(),
            "size": config_bytes.len(),
        });
        let bytes = serde_json::to_vec(&manifest).expect("a JSON value serializes");
        Registries::put_manifest(&state, r, &tag, OCI_MANIFEST, bytes, auth)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55";

    #[test]
    fn layers_are_read_leniently_and_bounded() {
        let m = format!(
            r#"{{"schemaVersion":2,"extra":1,"layers":[{{"mediaType":"m","digest":"{D}","size":3,"annotations":{{"a":"b"}}}}]}}"#
        );
        let l = layers(m.as_bytes(), "u").unwrap();
        assert_eq!((l.len(), l[0].size, l[0].annotations["a"].as_str()), (1, 3, "b"));
        assert!(layers(br#"{"schemaVersion":2}"#, "u").unwrap().is_empty());
        // A bad digest, a missing size, a non-string annotation, a non-array: errors.
        for bad in [
            r#"{"layers":[{"digest":"sha256:zz","size":1}]}"#.to_owned(),
            format!(r#"{{"layers":[{{"digest":"{D}"}}]}}"#),
            format!(r#"{{"layers":[{{"digest":"{D}","size":1,"annotations":{{"a":1}}}}]}}"#),
            r#"{"layers":{}}"#.to_owned(),
            "not json".to_owned(),
        ] {
            assert!(layers(bad.as_bytes(), "u").is_err(), "{bad}");
        }
        // More layers than signatures are read: refused, not read one by one.
        let one = format!(r#"{{"digest":"{D}","size":1}}"#);
        let many = format!(r#"{{"layers":[{}]}}"#, vec![one; MAX_SIGNATURES + 1].join(","));
        assert!(layers(many.as_bytes(), "u").is_err());
    }

    #[test]
    fn the_typed_blob_is_what_dir_images_store() {
        let mut a = BTreeMap::new();
        a.insert(crate::sigstore::SIGNATURE_ANNOTATION.to_owned(), "c2ln".to_owned());
        let blob = typed_blob(crate::sigstore::SIGSTORE_SIGNATURE_MIME_TYPE, b"payload", &a);
        let sig = crate::sigstore::SigstoreSignature::parse_blob(&blob).unwrap();
        assert!(sig.is_signature());
        assert_eq!(sig.payload(), b"payload");
        assert_eq!(
            attachment_tag(&Digest::parse(D).unwrap()),
            format!("{}.sig", D.replace(':', "-"))
        );
        assert!(content_matches(&Digest::sha256(b"x"), b"x") && !content_matches(&Digest::sha256(b"x"), b"y"));
    }
}
