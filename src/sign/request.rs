//! What to sign and where the signatures go, checked before any I/O.

use std::path::PathBuf;

use crate::digest::{Algorithm, Digest};
use crate::manifest;
use crate::reference::DockerReference;
use crate::Reason;

use super::SignError;

/// Where signatures go.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Destination {
    /// Nowhere: the report carries each signature for the caller to write
    /// (a file, stdout). For a digest or a manifest only.
    Caller,
    /// A lookaside directory: `DIR/<repository path>@sha256=<hex>/signature-N`,
    /// the next free N claimed atomically.
    LookasideDir(PathBuf),
    /// Where the image's registry keeps them (docker images only), as
    /// containers/image chooses: a sigstore signature as a registry
    /// attachment (when registries.d enables them), else the registry
    /// signature API when the registry offers it, else the registries.d
    /// `lookaside-staging` (or `lookaside`) of the image, else the built-in
    /// default store ([`super::DestinationSource::BuiltinDefault`]). The
    /// report's [`super::Report::destination`] says which.
    Registry,
}

/// The image a request signs.
#[derive(Debug, Clone)]
pub(crate) enum Image {
    /// One manifest digest, signed as `identity`.
    Digest { digest: Digest, identity: DockerReference },
    /// A registry image: the digest it serves now (an index and, unless
    /// `index_only`, every instance).
    Docker {
        reference: DockerReference,
        identity: DockerReference,
        index_only: bool,
    },
    /// An image in an OCI layout or archive: the digest of its manifest (an
    /// index and, unless `index_only`, every instance) as the layout holds it.
    Oci {
        reference: crate::oci::OciReference,
        identity: DockerReference,
        index_only: bool,
    },
}

/// One image to sign, checked.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Request {
    pub(crate) image: Image,
    pub(crate) destination: Destination,
}

fn tagged(identity: &DockerReference) -> Result<(), SignError> {
    if identity.is_name_only() {
        return Err(SignError::input(
            Reason::InvalidReference,
            format!("the identity {identity} has neither a tag nor a digest; policies reject such signatures"),
        ));
    }
    Ok(())
}

fn not_registry(destination: &Destination) -> Result<(), SignError> {
    if *destination == Destination::Registry {
        return Err(SignError::input(
            Reason::Usage,
            "a digest or manifest has no registry to store its signature in: give a lookaside directory or take the signature",
        ));
    }
    Ok(())
}

impl Request {
    /// Sign manifest `digest` (sha256: containers/image identifies
    /// manifests by sha256 only) as `identity` (with a tag or digest).
    pub fn digest(digest: Digest, identity: DockerReference, destination: Destination) -> Result<Request, SignError> {
        if digest.algorithm() != Algorithm::Sha256 {
            return Err(SignError::input(
                Reason::InvalidDigest,
                format!(
                    "{digest}: containers/image identifies manifests by sha256 only, so a {} signature would never match",
                    digest.algorithm().name()
                ),
            ));
        }
        tagged(&identity)?;
        not_registry(&destination)?;
        Ok(Request {
            image: Image::Digest { digest, identity },
            destination,
        })
    }

    /// Sign the digest of manifest `bytes` as `identity`. A manifest that
    /// readers read two ways (repeated members) is refused.
    pub fn manifest(bytes: &[u8], identity: DockerReference, destination: Destination) -> Result<Request, SignError> {
        manifest::check_members(bytes).map_err(|e| SignError::input(e.code(), e.to_string()))?;
        let digest =
            manifest::manifest_digest(bytes).map_err(|e| SignError::input(Reason::InvalidManifest, e.to_string()))?;
        Request::digest(digest, identity, destination)
    }

    /// Sign the registry image `input` (`docker://REF` or `REF`) at the
    /// digest its registry serves when signed: an index and every instance.
    /// The identity signed is `identity`, by default the reference itself
    /// (normalised, with its tag, as `skopeo copy --sign-by` writes it).
    pub fn image(
        input: &str,
        identity: Option<DockerReference>,
        destination: Destination,
    ) -> Result<Request, SignError> {
        let text = input.strip_prefix("docker://").unwrap_or(input);
        let reference = DockerReference::parse_docker_transport(text)
            .map_err(|e| SignError::input(Reason::InvalidReference, format!("{input:?}: {e}")))?;
        let identity = identity.unwrap_or_else(|| reference.clone());
        tagged(&identity)?;
        if destination == Destination::Caller {
            return Err(SignError::input(
                Reason::Usage,
                "registry images are stored in a lookaside directory or the registry",
            ));
        }
        Ok(Request {
            image: Image::Docker {
                reference,
                identity,
                index_only: false,
            },
            destination,
        })
    }

    /// Sign the image an `oci:PATH[:IMAGE]` or `oci-archive:FILE[:IMAGE]`
    /// reference names, as the registry will serve it after
    /// `skopeo copy --preserve-digests`: its manifest's digest (an index and
    /// every instance), as `identity`, the registry reference it will be
    /// pulled by (required: a layout has no registry name of its own). The
    /// layout is read when signing. With [`Destination::Caller`] the one
    /// signature is returned for the caller to write: a multi-platform image
    /// then needs [`Request::index_only`] (each manifest has its own).
    pub fn oci(input: &str, identity: Option<DockerReference>, destination: Destination) -> Result<Request, SignError> {
        let reference = crate::oci::OciReference::parse(input)?;
        let identity = identity.ok_or_else(|| {
            SignError::input(
                Reason::IdentityRequired,
                format!(
                    "{input}: an {}: image has no registry name of its own to sign it as; name the reference it will be pulled by (e.g. registry.example.com/ns/app:1.0)",
                    reference.transport.name()
                ),
            )
        })?;
        tagged(&identity)?;
        Ok(Request {
            image: Image::Oci {
                reference,
                identity,
                index_only: false,
            },
            destination,
        })
    }

    /// For a multi-platform image: sign only the index, not every
    /// instance.
    pub fn index_only(mut self, index_only: bool) -> Request {
        if let Image::Docker { index_only: i, .. } | Image::Oci { index_only: i, .. } = &mut self.image {
            *i = index_only;
        }
        self
    }
}
