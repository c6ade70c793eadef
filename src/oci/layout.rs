//! Reading an OCI image layout (a directory, or a tar of one): `index.json`,
//! the entry that is the image, and its manifest blob, checked against the
//! descriptor's digest.
//!
//! As containers/image's `oci/layout` picks the image
//! (`ociReference.getManifestDescriptor`): by name, the first entry whose
//! `org.opencontainers.image.ref.name` annotation is the name and whose media
//! type is a manifest or index (OCI or Docker v2s2); without a name, the
//! only entry, and an error when there are several; `@N`, the N-th entry.
//! Deviations, on purpose: the blob is read bounded (4 MiB, as a manifest
//! from a registry) and must hash to the descriptor's digest (c/image does
//! not check it when reading a layout; a registry does when it is pushed,
//! so a mismatch could only sign a digest no registry will serve), and
//! only sha256 descriptors are read (signatures name sha256 digests). An
//! `index.json` with a repeated member is refused, as manifests are.

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;

use serde::Deserialize;

use crate::digest::{Algorithm, Digest};
use crate::limits::MAX_MANIFEST_SIZE;
use crate::Reason;

use super::reference::{ImageChoice, OciReference, OciTransport};
use super::tar::{self, Entry};
use super::OciError;

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize, Clone)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: Option<i64>,
    #[serde(default)]
    annotations: HashMap<String, String>,
}

/// Where a layout's files are.
enum Files {
    Dir(PathBuf),
    Archive {
        file: File,
        entries: HashMap<String, Entry>,
    },
}

/// The image's top-level manifest (or index), as the layout holds it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OciImage {
    /// The image read.
    pub reference: OciReference,
    /// The manifest's (or index's) bytes, exactly as stored in the blob:
    /// what a registry serves after `skopeo copy --preserve-digests`.
    pub manifest: Vec<u8>,
    /// Their digest, equal to the descriptor's in `index.json`.
    pub digest: Digest,
    /// The descriptor's media type.
    pub media_type: String,
    /// Where the manifest was read, for reports.
    pub origin: String,
}

pub(super) fn is_blob_name(name: &str) -> bool {
    name == "index.json"
        || name
            .strip_prefix("blobs/sha256/")
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Files {
    fn open(r: &OciReference) -> Result<Files, OciError> {
        match r.transport {
            OciTransport::Layout => {
                if !r.path.is_dir() {
                    return Err(OciError::input(
                        Reason::UnreadableInput,
                        format!("{r}: {} is not a directory (an OCI layout)", r.path.display()),
                    ));
                }
                Ok(Files::Dir(r.path.clone()))
            }
            OciTransport::Archive => {
                let mut file = File::open(&r.path).map_err(|e| OciError::io(&format!("{r}"), &e))?;
                let entries = tar::index(&mut file, is_blob_name).map_err(|e| {
                    let message = format!("{r}: {e}");
                    if e.is_input() {
                        OciError::input(Reason::InvalidOciLayout, message)
                    } else {
                        OciError::outside(Reason::IoError, message)
                    }
                })?;
                Ok(Files::Archive { file, entries })
            }
        }
    }

    /// Read `name` (`index.json` or `blobs/sha256/<hex>`), bounded; `None` if absent.
    fn read(&mut self, r: &OciReference, name: &str) -> Result<Option<Vec<u8>>, OciError> {
        let limit = MAX_MANIFEST_SIZE as u64;
        let what = format!("{r}: {name}");
        let read = match self {
            Files::Dir(dir) => crate::files::read_bounded_regular(&dir.join(name), limit),
            Files::Archive { file, entries } => match entries.get(name) {
                None => Ok(None),
                Some(e) => tar::read(file, *e, limit).map(Some),
            },
        }
        .map_err(|e| OciError::io(&what, &e))?;
        match read {
            None => Ok(None),
            Some(Ok(b)) => Ok(Some(b)),
            Some(Err(limit)) => Err(OciError::input(
                Reason::InputTooLarge,
                format!("{what} is larger than the {limit}-byte limit"),
            )),
        }
    }
}

fn layout_error(r: &OciReference, why: impl std::fmt::Display) -> OciError {
    OciError::input(Reason::InvalidOciLayout, format!("{r}: {why}"))
}

fn choose<'a>(r: &OciReference, manifests: &'a [Descriptor]) -> Result<&'a Descriptor, OciError> {
    let not_found = |why: String| OciError::input(Reason::OciImageNotFound, format!("{r}: {why}"));
    match &r.image {
        ImageChoice::Index(i) => manifests.get(*i).ok_or_else(|| {
            not_found(format!(
                "index {i} is too large, only {} entries available",
                manifests.len()
            ))
        }),
        ImageChoice::Named(name) => {
            let named: Vec<&Descriptor> = manifests
                .iter()
                .filter(|d| d.annotations.get(REF_NAME) == Some(name))
                .collect();
            if let Some(d) = named.iter().find(|d| MANIFEST_TYPES.contains(&d.media_type.as_str())) {
                return Ok(d);
            }
            if !named.is_empty() {
                let types: Vec<&str> = named.iter().map(|d| d.media_type.as_str()).collect();
                return Err(not_found(format!(
                    "{name:?} names unsupported manifest media types {types:?}"
                )));
            }
            Err(not_found(format!(
                "no image named {name:?} in index.json (names: {})",
                names(manifests)
            )))
        }
        ImageChoice::Only => match manifests {
            [one] => Ok(one),
            [] => Err(not_found("index.json lists no image".into())),
            _ => Err(not_found(format!(
                "index.json lists {} images; name one as {}:{}:NAME (names: {})",
                manifests.len(),
                r.transport.name(),
                r.path.display(),
                names(manifests)
            ))
            .with_hint(
                "name the image by its org.opencontainers.image.ref.name annotation, e.g. the tag skopeo copy wrote",
            )),
        },
    }
}

fn names(manifests: &[Descriptor]) -> String {
    let names: Vec<String> = manifests
        .iter()
        .filter_map(|d| d.annotations.get(REF_NAME).map(|n| format!("{n:?}")))
        .collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

impl OciImage {
    /// Read the image `r` names: its entry in `index.json`, and the blob that
    /// entry points to, which must hash to the entry's digest.
    pub fn open(r: &OciReference) -> Result<OciImage, OciError> {
        let mut files = Files::open(r)?;
        let index_bytes = files
            .read(r, "index.json")?
            .ok_or_else(|| layout_error(r, "no index.json: not an OCI image layout"))?;
        crate::manifest::check_members(&index_bytes).map_err(|e| layout_error(r, format!("index.json: {e}")))?;
        let index: Index =
            serde_json::from_slice(&index_bytes).map_err(|e| layout_error(r, format!("index.json: {e}")))?;
        let d = choose(r, &index.manifests)?.clone();
        let digest = Digest::parse(&d.digest)
            .map_err(|e| layout_error(r, format!("index.json names digest {:?}: {e}", d.digest)))?;
        if digest.algorithm() != Algorithm::Sha256 {
            return Err(OciError::input(
                Reason::InvalidDigest,
                format!(
                    "{r}: the image's manifest is named by {digest}; signatures name sha256 digests only (copy it again with skopeo)"
                ),
            ));
        }
        let name = format!("blobs/sha256/{}", digest.hex());
        let bytes = files
            .read(r, &name)?
            .ok_or_else(|| layout_error(r, format!("{name} (the manifest of the image) is missing")))?;
        let actual = Digest::sha256(&bytes);
        if actual != digest {
            // As a registry serving other bytes: the image's content cannot be trusted (exit 1).
            return Err(OciError::rejected(
                Reason::ManifestDigestMismatch,
                format!("{r}: {name} hashes to {actual}, not the digest index.json names; the layout is damaged"),
            ));
        }
        // What a signature names (schema1 would strip its JWS signatures first).
        if crate::manifest::manifest_digest(&bytes).ok().as_ref() != Some(&digest) {
            return Err(layout_error(
                r,
                format!(
                    "{name}: a manifest whose signed digest is not its blob digest (schema1) cannot be signed here"
                ),
            ));
        }
        if let Some(size) = d.size.filter(|s| *s != bytes.len() as i64) {
            return Err(layout_error(
                r,
                format!("{name} is {} bytes, but index.json says {size}", bytes.len()),
            ));
        }
        let origin = match r.transport {
            OciTransport::Layout => r.path.join(&name).display().to_string(),
            OciTransport::Archive => format!("{}!{name}", r.path.display()),
        };
        Ok(OciImage {
            reference: r.clone(),
            manifest: bytes,
            digest,
            media_type: d.media_type,
            origin,
        })
    }
}
