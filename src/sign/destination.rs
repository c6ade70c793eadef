//! Where one image's signatures go: the one choice, for every kind of
//! request and signer.

use std::path::PathBuf;

use reqwest::Url;

use crate::digest::Digest;
use crate::reference::DockerReference;
use crate::registry::network::{Network, NetworkError};
use crate::store::lookaside::ImageLocation;
use crate::Reason;

use super::{chain, Destination, Format, SignError};

/// The destination chosen for an image.
#[derive(Debug, Clone)]
pub(crate) enum Place {
    /// Returned to the caller.
    Caller,
    /// `--lookaside-dir`-style directory root.
    Dir(PathBuf),
    /// The registries.d `lookaside-staging` (a `file://` base URL).
    Staging(Url),
    /// The registry signature API.
    Api,
    /// The registry's sigstore attachments (`sha256-<hex>.sig`).
    Attachments,
}

/// Choose where signatures of `r` go. `Destination::Registry` chooses as
/// containers/image does: a sigstore signature as an attachment, and only
/// when registries.d enables them; else the registry signature API when the
/// registry offers it; else the registries.d `lookaside-staging`.
pub(crate) fn choose(
    destination: &Destination,
    format: Format,
    network: Option<&Network>,
    r: Option<&DockerReference>,
    warnings: &mut Vec<String>,
) -> Result<Place, SignError> {
    let (net, r) = match (destination, network, r) {
        (Destination::Caller, _, _) => return Ok(Place::Caller),
        (Destination::LookasideDir(root), _, _) => return Ok(Place::Dir(root.clone())),
        (Destination::Registry, Some(net), Some(r)) => (net, r),
        (Destination::Registry, _, _) => {
            return Err(SignError::input(
                Reason::OfflineNetworkRequired,
                "storing signatures in a registry needs the network",
            ))
        }
    };
    if format == Format::Sigstore {
        if !net.uses_sigstore_attachments(r) {
            return Err(NetworkError::SigstoreAttachmentsDisabled {
                reference: r.to_string(),
            }
            .into());
        }
        return Ok(Place::Attachments);
    }
    if net.signature_api(r, warnings)? {
        return Ok(Place::Api);
    }
    let base = net.registries_d().write_base(r, net.builtin()).map_err(|e| {
        SignError::input(
            Reason::InvalidRegistriesD,
            format!("where to store signatures of {r}: {}", chain(&e)),
        )
    })?;
    Ok(Place::Staging(base))
}

impl Place {
    /// The directory of manifest `d` of `r`, for the places that are one.
    pub(crate) fn location(&self, r: &DockerReference, d: &Digest) -> Result<Option<ImageLocation>, SignError> {
        match self {
            Place::Dir(root) => Ok(Some(ImageLocation::new(root, r, d))),
            Place::Staging(base) => ImageLocation::from_file_url(base, r, d).map(Some).map_err(|e| {
                SignError::input(
                    Reason::InvalidRegistriesD,
                    format!("storing signatures of {r}: {}", chain(&e)),
                )
            }),
            Place::Caller | Place::Api | Place::Attachments => Ok(None),
        }
    }

    /// Whether manifests can be signed and stored concurrently: a
    /// directory (one lock per manifest directory) yes; a registry's
    /// attachment manifest grows by read-modify-write, so one at a time.
    pub(crate) fn concurrent(&self) -> bool {
        matches!(self, Place::Dir(_) | Place::Staging(_))
    }
}
