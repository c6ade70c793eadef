//! Where one image's signatures go: the one choice, for every kind of
//! request and signer.

use std::path::PathBuf;

use reqwest::Url;

use crate::digest::Digest;
use crate::reference::DockerReference;
use crate::registry::network::{Network, NetworkError};
use crate::store::lookaside::ImageLocation;
use crate::store::registries_d::Access;
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

/// Why signatures went where they went: which rule chose the destination
/// (in the order they are tried, see [`Destination::Registry`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DestinationSource {
    /// [`Destination::Caller`]: returned, for the caller to write
    /// (`-o FILE`, stdout). `caller`.
    Caller,
    /// [`Destination::LookasideDir`] (`--lookaside-dir DIR`). `lookaside-dir`.
    LookasideDir,
    /// The registry's sigstore attachments (registries.d
    /// `use-sigstore-attachments`). `sigstore-attachments`.
    SigstoreAttachments,
    /// The registry signature API. `signature-api`.
    SignatureApi,
    /// A registries.d entry for the image (`lookaside-staging`, else
    /// `lookaside`). `registries.d`.
    RegistriesD,
    /// Nothing configured: the built-in default store that containers tools
    /// read on this machine only (`/var/lib/containers/sigstore` for root,
    /// `~/.local/share/containers/sigstore` otherwise). `built-in-default`.
    BuiltinDefault,
}

impl DestinationSource {
    /// The stable string used in JSON output (`destination_source`).
    pub fn as_str(self) -> &'static str {
        match self {
            DestinationSource::Caller => "caller",
            DestinationSource::LookasideDir => "lookaside-dir",
            DestinationSource::SigstoreAttachments => "sigstore-attachments",
            DestinationSource::SignatureApi => "signature-api",
            DestinationSource::RegistriesD => "registries.d",
            DestinationSource::BuiltinDefault => "built-in-default",
        }
    }
}

/// The destination chosen for an image, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChosenDestination {
    /// Which rule chose it.
    pub source: DestinationSource,
    /// For a directory (a lookaside directory, a `file:` registries.d
    /// entry, the built-in default): its root, below which each image has
    /// its `<repository path>@sha256=<hex>` directory.
    pub root: Option<PathBuf>,
}

impl ChosenDestination {
    fn new(source: DestinationSource, root: Option<PathBuf>) -> ChosenDestination {
        ChosenDestination { source, root }
    }
}

/// Choose where signatures of `r` go, and say why. `Destination::Registry`
/// chooses as containers/image does: a sigstore signature as an attachment,
/// and only when registries.d enables them; else the registry signature API
/// when the registry offers it; else the registries.d `lookaside-staging`
/// (or `lookaside`) of the image; else the built-in default store.
pub(crate) fn choose(
    destination: &Destination,
    format: Format,
    network: Option<&Network>,
    r: Option<&DockerReference>,
    warnings: &mut Vec<String>,
) -> Result<(Place, ChosenDestination), SignError> {
    use DestinationSource as S;
    let (net, r) = match (destination, network, r) {
        (Destination::Caller, _, _) => return Ok((Place::Caller, ChosenDestination::new(S::Caller, None))),
        (Destination::LookasideDir(root), _, _) => {
            let chosen = ChosenDestination::new(S::LookasideDir, Some(root.clone()));
            return Ok((Place::Dir(root.clone()), chosen));
        }
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
        return Ok((Place::Attachments, ChosenDestination::new(S::SigstoreAttachments, None)));
    }
    if net.signature_api(r, warnings)? {
        return Ok((Place::Api, ChosenDestination::new(S::SignatureApi, None)));
    }
    let base = net.registries_d().write_base(r, net.builtin()).map_err(|e| {
        SignError::input(
            Reason::InvalidRegistriesD,
            format!("where to store signatures of {r}: {}", chain(&e)),
        )
    })?;
    let source = match net.registries_d().configured(r, Access::Write) {
        Some(_) => S::RegistriesD,
        None => S::BuiltinDefault,
    };
    let root = (base.scheme() == "file").then(|| base.to_file_path().ok()).flatten();
    Ok((Place::Staging(base), ChosenDestination::new(source, root)))
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
