//! Reading an image's manifest and its signatures from where the request
//! says, with the limits defined once in [`crate::limits`].

use std::path::{Path, PathBuf};

use crate::digest::Digest;
use crate::limits::{MAX_MANIFEST_SIZE, MAX_SIGNATURE_SIZE};
use crate::manifest;
use crate::policy::{ImageRef, RequirementRejection, SignatureInput, SigstoreInput};
use crate::reference::DockerReference;
use crate::registry::network::{self, Network};
use crate::signature::blob::{self, Blob};
use crate::signature::Rejection;
use crate::store::lookaside::{self, ImageDir, LookasideError};
use crate::store::mirror::{self, TagRecord};
use crate::Reason;

use super::error::VerifyError;
use super::report::ImageRejection;
use super::request::{ImageSource, SignatureFile, SignatureSource};

/// The top-level manifest of the image.
pub(super) struct Top {
    pub bytes: Vec<u8>,
    pub digest: Result<Digest, String>,
    pub origin: String,
    pub image: ImageRef,
    /// A mirror image's directory, opened once.
    pub mirror_dir: Option<ImageDir>,
    /// How a mirror image named by tag was resolved.
    pub tag_record: Option<TagRecord>,
}

/// A signature blob as stored, before classification.
pub(super) struct RawBlob {
    pub source: String,
    /// The bytes, or why they were not read (over the size limit).
    pub bytes: Result<Vec<u8>, String>,
}

/// The blobs found for one manifest.
pub(super) struct Raw {
    pub blobs: Vec<RawBlob>,
    pub looked_in: String,
    /// From the registry signature API: simple-signing content by definition.
    pub from_api: bool,
    /// Read over HTTP(S): a body over the limit fails the whole read, as in containers/image.
    pub remote: bool,
}

/// The classified signatures of one manifest.
pub(super) struct Classified {
    pub simple: Vec<SignatureInput>,
    pub sigstore: Vec<SigstoreInput>,
}

/// Read a file the user named, bounded: a missing or unreadable file is unusable input.
pub(super) fn read_named(what: &str, path: &Path, limit: u64) -> Result<Result<Vec<u8>, u64>, VerifyError> {
    match crate::files::read_bounded(path, limit) {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(VerifyError::input(
            Reason::UnreadableInput,
            format!(
                "cannot read {what} {}: No such file or directory (os error 2)",
                path.display()
            ),
        )),
        Err(e) if crate::files::is_user_error(&e) => Err(VerifyError::input(
            Reason::UnreadableInput,
            format!("cannot read {what} {}: {e}", path.display()),
        )),
        Err(e) => Err(VerifyError::outside(
            Reason::IoError,
            format!("cannot read {what} {}: {e}", path.display()),
        )),
    }
}

fn too_large(what: &str, name: &str, limit: u64) -> VerifyError {
    VerifyError::input(
        Reason::InputTooLarge,
        format!("{what} {name} is larger than the {limit}-byte limit"),
    )
}

fn digest_of(bytes: &[u8]) -> Result<Digest, String> {
    manifest::manifest_digest(bytes).map_err(|e| e.to_string())
}

/// Load the top-level manifest. A registry that serves other bytes than
/// the digest asked for rejects the image; so does a manifest, from any
/// source, with a repeated member ([`manifest::check_members`]): like a digest
/// mismatch, it is the image's content that cannot be trusted, so the answer is
/// no (exit 1), not "unusable input".
pub(super) fn load_top(
    source: &ImageSource,
    net: Option<&Network>,
    warnings: &mut Vec<String>,
) -> Result<Result<Top, ImageRejection>, VerifyError> {
    let top = match read_top(source, net, warnings)? {
        Ok(top) => top,
        Err(rejection) => return Ok(Err(rejection)),
    };
    // The registry client has checked what it fetched; a digest has no bytes.
    if !matches!(source, ImageSource::Registry(_) | ImageSource::Digest { .. }) {
        if let Err(e) = manifest::check_members(&top.bytes) {
            return Ok(Err(ImageRejection {
                code: e.code(),
                message: format!("{}: {e}", top.origin),
            }));
        }
    }
    Ok(Ok(top))
}

fn read_top(
    source: &ImageSource,
    net: Option<&Network>,
    warnings: &mut Vec<String>,
) -> Result<Result<Top, ImageRejection>, VerifyError> {
    Ok(Ok(match source {
        ImageSource::Manifest {
            bytes,
            identity,
            origin,
        } => Top {
            digest: digest_of(bytes),
            bytes: bytes.clone(),
            origin: origin.clone(),
            image: ImageRef::Docker(identity.clone()),
            mirror_dir: None,
            tag_record: None,
        },
        ImageSource::Digest { digest, identity } => Top {
            digest: Ok(digest.clone()),
            bytes: Vec::new(),
            origin: format!("--digest {digest}"),
            image: ImageRef::Docker(identity.clone()),
            mirror_dir: None,
            tag_record: None,
        },
        ImageSource::Dir { path, identity } => {
            let m = path.join("manifest.json");
            let bytes = read_named("manifest", &m, MAX_MANIFEST_SIZE as u64)?
                .map_err(|limit| too_large("manifest", &m.display().to_string(), limit))?;
            Top {
                digest: digest_of(&bytes),
                bytes,
                origin: m.display().to_string(),
                image: match identity {
                    Some(r) => ImageRef::Docker(r.clone()),
                    None => ImageRef::Dir(path.clone()),
                },
                mirror_dir: None,
                tag_record: None,
            }
        }
        ImageSource::Mirror { root, reference } => {
            // By digest, or by tag through the record `imgsig fetch` wrote.
            let record = match reference.digest() {
                Some(_) => None,
                None => Some(mirror::read(root, reference).map_err(|e| {
                    let message = e.to_string();
                    if e.is_outside() {
                        VerifyError::outside(e.code(), message)
                    } else {
                        VerifyError::input(e.code(), message)
                    }
                })?),
            };
            let want = match (&record, reference.digest()) {
                (Some(rec), _) => &rec.digest,
                (None, Some(d)) => d,
                (None, None) => unreachable!("a record was read for a reference without digest"),
            };
            let dir = lookaside::image_dir(root, reference, want);
            let m = dir.join("manifest.json");
            let missing = |why: String| {
                VerifyError::input(
                    Reason::MissingManifest,
                    format!("{} is missing from the mirror: {why}", m.display()),
                )
            };
            let d = ImageDir::open(&dir).map_err(|e| missing(format!("cannot open {}: {e}", dir.display())))?;
            let bytes = match d.read("manifest.json", MAX_MANIFEST_SIZE as u64) {
                Ok(Some(Ok(b))) => b,
                Ok(Some(Err(limit))) => return Err(too_large("manifest", &m.display().to_string(), limit)),
                Ok(None) => return Err(missing("no such file".into())),
                Err(e) => return Err(missing(e.to_string())),
            };
            let digest = digest_of(&bytes);
            if let Some(rec) = &record {
                // The record names the manifest to judge; the bytes must be that manifest.
                if digest.as_ref() != Ok(&rec.digest) {
                    let got = match &digest {
                        Ok(d) => d.to_string(),
                        Err(why) => format!("an undigestible manifest ({why})"),
                    };
                    return Ok(Err(ImageRejection {
                        code: Reason::ManifestDigestMismatch,
                        message: format!(
                            "{} is {got}, but the mirror's record of {reference} names {}",
                            m.display(),
                            rec.digest
                        ),
                    }));
                }
                warnings.push(format!(
                    "{reference} was resolved to {} by the mirror's record, as of the fetch at {}; \
                     the registry may have moved the tag since",
                    rec.digest,
                    crate::time::rfc3339(rec.fetched_at)
                ));
            }
            Top {
                digest,
                bytes,
                origin: m.display().to_string(),
                image: ImageRef::Docker(reference.clone()),
                mirror_dir: Some(d),
                tag_record: record,
            }
        }
        ImageSource::Oci { reference, identity } => {
            let image = match crate::oci::OciImage::open(reference) {
                Ok(image) => image,
                Err(e) if e.class == super::ErrorClass::Rejected => {
                    return Ok(Err(ImageRejection {
                        code: e.code,
                        message: e.message,
                    }))
                }
                Err(e) => return Err(e.into()),
            };
            Top {
                digest: Ok(image.digest),
                bytes: image.manifest,
                origin: image.origin,
                image: oci_image_ref(reference, identity.as_ref()),
                mirror_dir: None,
                tag_record: None,
            }
        }
        ImageSource::Registry(r) => {
            let net = need_network(net, "a registry image")?;
            match net.manifest(r, warnings) {
                Ok(m) => Top {
                    digest: Ok(m.digest),
                    bytes: m.bytes,
                    origin: m.url,
                    image: ImageRef::Docker(r.clone()),
                    mirror_dir: None,
                    tag_record: None,
                },
                Err(e) if e.rejects_image() => {
                    return Ok(Err(ImageRejection {
                        code: e.code(),
                        message: e.to_string(),
                    }))
                }
                Err(e) => return Err(e.into()),
            }
        }
    }))
}

/// How an OCI image is judged: as its identity, else as itself.
pub(super) fn oci_image_ref(reference: &crate::oci::OciReference, identity: Option<&DockerReference>) -> ImageRef {
    match identity {
        Some(r) => ImageRef::Docker(r.clone()),
        None => ImageRef::Oci {
            transport: reference.transport,
            path: reference.resolved.clone(),
        },
    }
}

fn need_network<'a>(net: Option<&'a Network>, what: &str) -> Result<&'a Network, VerifyError> {
    net.ok_or_else(|| {
        VerifyError::input(
            Reason::NetworkRequired,
            format!("{what} needs a network configuration, and none was given"),
        )
    })
}

/// Which manifest's signatures are wanted.
pub(super) enum Which<'a> {
    /// The top-level manifest (single-platform image, or the index).
    Top,
    /// An instance of the top-level index.
    Instance(&'a Digest),
}

fn from_dir_signatures(r: Result<Vec<lookaside::DirSignature>, LookasideError>) -> Result<Vec<RawBlob>, VerifyError> {
    let found = r.map_err(|e| match e {
        LookasideError::TooManySignatures { .. } => VerifyError::input(Reason::TooManySignatures, e.to_string()),
        other => VerifyError::outside(Reason::IoError, other.to_string()),
    })?;
    Ok(found
        .into_iter()
        .map(|s| RawBlob {
            source: s.path.display().to_string(),
            bytes: s.contents.map_err(|e| e.to_string()),
        })
        .collect())
}

fn from_fetched(f: network::Fetched) -> Raw {
    Raw {
        blobs: f
            .signatures
            .into_iter()
            .map(|s| RawBlob {
                source: s.source,
                bytes: s.blob,
            })
            .collect(),
        looked_in: f.looked_in,
        from_api: f.from_api,
        remote: f.remote,
    }
}

/// Read the signature blobs of one manifest (`digest`) of the image.
pub(super) fn read_signatures(
    source: &SignatureSource,
    image: &ImageSource,
    top: &Top,
    which: Which<'_>,
    digest: Option<&Digest>,
    net: Option<&Network>,
    warnings: &mut Vec<String>,
) -> Result<Raw, VerifyError> {
    let local = |blobs, looked_in| Raw {
        blobs,
        looked_in,
        from_api: false,
        remote: false,
    };
    let top_only = |what: &str| -> Result<(), VerifyError> {
        match which {
            Which::Top => Ok(()),
            Which::Instance(d) => Err(VerifyError::input(
                Reason::InstanceSignaturesUnavailable,
                format!(
                    "{} is a multi-platform image (index); the signatures of its instance {d} cannot be found among {what}",
                    top.image
                ),
            )),
        }
    };
    let docker = || {
        top.image.docker_reference().ok_or_else(|| {
            VerifyError::input(
                Reason::IdentityRequired,
                format!(
                    "{} has no docker reference to look its signatures up by (name its docker identity)",
                    top.image
                ),
            )
        })
    };
    // Signatures are found by the manifest's digest: without one there are none to find.
    let no_digest = || {
        local(
            Vec::new(),
            "nowhere: the manifest's digest cannot be computed".to_owned(),
        )
    };
    match source {
        SignatureSource::Files(files) => {
            top_only("the signature files given")?;
            let mut blobs = Vec::with_capacity(files.len());
            for f in files {
                blobs.push(match f {
                    SignatureFile::Path(p) => RawBlob {
                        source: p.display().to_string(),
                        bytes: read_named("signature", p, MAX_SIGNATURE_SIZE as u64)?
                            .map_err(|limit| format!("signature is larger than {limit} bytes")),
                    },
                    SignatureFile::Bytes { name, bytes } => RawBlob {
                        source: name.clone(),
                        bytes: Ok(bytes.clone()),
                    },
                });
            }
            let n = blobs.len();
            Ok(local(blobs, format!("{n} signature file(s) given")))
        }
        SignatureSource::Directory(dir) => {
            top_only(&format!("{}/signature-N", dir.display()))?;
            if !dir.is_dir() {
                return Err(VerifyError::input(
                    Reason::UnreadableInput,
                    format!("{} is not a directory", dir.display()),
                ));
            }
            let blobs = from_dir_signatures(lookaside::read_dir_signatures(dir))?;
            if let Ok(d) = ImageDir::open(dir) {
                warnings.extend(d.unread_signatures_warning("", blobs.len()));
            }
            Ok(local(blobs, format!("{}/signature-N", dir.display())))
        }
        SignatureSource::DirImage => {
            let ImageSource::Dir { path, .. } = image else {
                return Err(VerifyError::input(
                    Reason::Usage,
                    "the dir: signature source needs a dir: image",
                ));
            };
            let prefix = match which {
                Which::Top => String::new(),
                Which::Instance(d) => format!("{}.", d.hex()),
            };
            let dir = ImageDir::open(path)
                .map_err(|e| VerifyError::input(Reason::UnreadableInput, format!("dir:{}: {e}", path.display())))?;
            let blobs = from_dir_signatures(dir.signatures_with_prefix(&prefix))?;
            warnings.extend(dir.unread_signatures_warning(&prefix, blobs.len()));
            Ok(local(blobs, format!("{}/{prefix}signature-N", path.display())))
        }
        SignatureSource::MirrorImage => {
            let ImageSource::Mirror { root, reference } = image else {
                return Err(VerifyError::input(
                    Reason::Usage,
                    "the mirror signature source needs a mirror image",
                ));
            };
            let (opened, dir);
            let d = match (which, &top.mirror_dir) {
                (Which::Top, Some(d)) => d,
                (which, _) => {
                    let digest = match which {
                        Which::Instance(d) => d,
                        Which::Top => match digest {
                            Some(d) => d,
                            None => return Ok(no_digest()),
                        },
                    };
                    dir = lookaside::image_dir(root, reference, digest);
                    opened = ImageDir::open(&dir)
                        .map_err(|e| VerifyError::outside(Reason::IoError, format!("{}: {e}", dir.display())))?;
                    &opened
                }
            };
            let blobs = from_dir_signatures(d.signatures())?;
            warnings.extend(d.unread_signatures_warning("", blobs.len()));
            Ok(local(blobs, format!("{}/signature-N", d.path().display())))
        }
        SignatureSource::Lookaside(base) => {
            let r = docker()?;
            let Some(d) = digest else {
                return Ok(no_digest());
            };
            if base.scheme() == "file" {
                let f = network::file_lookaside_signatures(base, r, d, warnings)
                    .map_err(|e| VerifyError::outside(Reason::LookasideError, e.to_string()))?;
                return Ok(from_fetched(f));
            }
            let net = need_network(net, "an http(s) lookaside")?;
            Ok(from_fetched(net.lookaside_signatures(base, r, d, warnings)?))
        }
        SignatureSource::Configured => {
            let r = docker()?;
            let Some(d) = digest else {
                return Ok(no_digest());
            };
            let net = need_network(net, "reading signatures where registries.d says")?;
            if matches!(image, ImageSource::Registry(_)) {
                return Ok(from_fetched(net.signatures(r, d, warnings)?));
            }
            let base = match net.lookaside_override() {
                Some(b) => b.clone(),
                None => net.configured_lookaside(r)?.ok_or_else(|| no_source(r))?,
            };
            Ok(from_fetched(net.lookaside_signatures(&base, r, d, warnings)?))
        }
    }
}

/// No signature files, no directory, no lookaside, and registries.d names none for `r`.
pub fn no_source(r: &DockerReference) -> VerifyError {
    VerifyError::input(
        Reason::NoSignatureSource,
        format!("no signatures to check for {r}: no signature files were given, and registries.d configures no lookaside for it"),
    )
    .with_hint("give signature files, a signature directory, a lookaside, or a registries.d whose lookaside covers the image")
}

/// Classify the blobs as containers/image does (see [`crate::signature::blob`]): an
/// unrecognised blob, or one over the size limit read over HTTP, makes the whole set
/// unreadable, which rejects every requirement that needs signatures.
pub(super) fn classify(raw: Raw) -> Result<Classified, RequirementRejection> {
    let mut out = Classified {
        simple: Vec::with_capacity(raw.blobs.len()),
        sigstore: Vec::new(),
    };
    for b in raw.blobs {
        let bytes = match b.bytes {
            Ok(bytes) => bytes,
            Err(why) if raw.remote => {
                return Err(RequirementRejection {
                    code: Reason::SignatureTooLarge,
                    message: format!("reading the signatures failed: {}: {why}", b.source),
                })
            }
            // A local file over the limit is one invalid signature (containers/image reads
            // local files without a limit, and such a blob never verifies).
            Err(why) => {
                out.simple.push(SignatureInput {
                    source: b.source,
                    blob: Err(Rejection {
                        code: Reason::SignatureTooLarge,
                        message: why,
                        signer: None,
                    }),
                });
                continue;
            }
        };
        if raw.from_api {
            out.simple.push(SignatureInput {
                source: b.source,
                blob: Ok(bytes),
            });
            continue;
        }
        match blob::classify(&bytes) {
            Ok(Blob::SimpleSigning(s)) => {
                let unwrapped = if s.len() == bytes.len() { bytes } else { s.to_vec() };
                out.simple.push(SignatureInput {
                    source: b.source,
                    blob: Ok(unwrapped),
                });
            }
            // containers/image parses a sigstore blob when it reads the signatures
            // (`signature.FromBlob`): one that does not parse fails the whole set.
            Ok(Blob::Sigstore(json)) => match crate::sigstore::SigstoreSignature::parse(json) {
                Ok(signature) => out.sigstore.push(SigstoreInput {
                    source: b.source,
                    signature,
                }),
                Err(e) => {
                    return Err(RequirementRejection {
                        code: e.code,
                        message: format!(
                            "reading the signatures failed: {} is not a valid sigstore signature: {} (containers/image rejects the image)",
                            b.source, e.message
                        ),
                    })
                }
            },
            Err(e) => {
                return Err(RequirementRejection {
                    code: e.code(),
                    message: format!(
                    "reading the signatures failed: {} is not a signature: {e} (containers/image rejects the image)",
                    b.source
                ),
                })
            }
        }
    }
    Ok(out)
}

/// Every blob as it is (the keyring form): one over the size limit is a rejected signature.
pub(super) fn unclassified(raw: Raw) -> Classified {
    Classified {
        simple: raw
            .blobs
            .into_iter()
            .map(|b| SignatureInput {
                source: b.source,
                blob: b.bytes.map_err(|why| Rejection {
                    code: Reason::SignatureTooLarge,
                    message: why,
                    signer: None,
                }),
            })
            .collect(),
        sigstore: Vec::new(),
    }
}

/// The directory a `dir:` argument names, made absolute and clean.
pub fn dir_image_path(arg: &str) -> Result<PathBuf, VerifyError> {
    let path = std::fs::canonicalize(arg)
        .map_err(|e| VerifyError::input(Reason::UnreadableInput, format!("dir:{arg}: {e}")))?;
    if !path.is_dir() {
        return Err(VerifyError::input(
            Reason::UnreadableInput,
            format!("dir:{arg} is not a directory"),
        ));
    }
    Ok(path)
}
