//! What to verify: the image (where its manifest comes from and what it is
//! called), where its signatures come from, and what to trust.

use std::path::PathBuf;
use std::time::SystemTime;

use reqwest::Url;

use crate::pgp::Keyring;
use crate::platform::Platform;
use crate::policy::Policy;
use crate::reference::DockerReference;

/// What decides: a policy (as podman and CRI-O decide), or a keyring (as
/// `skopeo standalone-verify` decides: one valid signature by a key in the
/// keyring, for this digest and exactly this identity).
#[derive(Debug)]
pub enum Trust {
    /// Decide by containers-policy.json, as podman and CRI-O do.
    Policy(Policy),
    /// Decide as `skopeo standalone-verify`: one valid signature by one of
    /// these keys, for the manifest's digest and exactly the image's identity.
    Keyring(Keyring),
}

/// Where the image's manifest comes from.
#[derive(Debug, Clone)]
pub enum ImageSource {
    /// Manifest bytes the caller read (a file or stdin), for the image `identity`.
    Manifest {
        /// The manifest, exactly as read (its digest is computed over them).
        bytes: Vec<u8>,
        /// The reference the image is judged as (policy scope and identity
        /// rules).
        identity: DockerReference,
        /// Where the bytes came from, for reports.
        origin: String,
    },
    /// Only the manifest's digest, as `imgsig sign --digest` takes it, for the
    /// image `identity`: that manifest is judged, and nothing else (an index's
    /// instances cannot be listed without its bytes).
    Digest {
        /// The manifest digest the signatures must name.
        digest: crate::digest::Digest,
        /// The reference the image is judged as (policy scope and identity rules).
        identity: DockerReference,
    },
    /// A `dir:` image as skopeo writes it: `manifest.json` + `signature-N`,
    /// and for a multi-platform copy `<hex>.manifest.json` + `<hex>.signature-N`
    /// per instance. Without an identity it is judged under the `dir` transport.
    Dir {
        /// The directory holding `manifest.json`.
        path: PathBuf,
        /// The reference the image is judged as (under the `docker`
        /// transport); `None` to judge it as a `dir:` image.
        identity: Option<DockerReference>,
    },
    /// An image in a mirror written by `imgsig fetch`
    /// (`root/<repo>@<algo>=<hex>/manifest.json`); `reference` is pinned by
    /// digest, or tagged: then resolved through the mirror's tag record
    /// ([`crate::store::mirror`]), never the network, and judged as that tag.
    Mirror {
        /// The mirror's root directory.
        root: PathBuf,
        /// The image, pinned by digest or tagged.
        reference: DockerReference,
    },
    /// An image in a registry (needs the network).
    Registry(DockerReference),
    /// An image in an OCI layout or archive ([`crate::oci`]): its manifest
    /// as the layout holds it (checked against `index.json`'s digest). With
    /// an identity it is judged as that registry image (the `docker` scope);
    /// without, under the `oci` / `oci-archive` scopes of its path.
    Oci {
        /// The layout and the image in it.
        reference: crate::oci::OciReference,
        /// The registry reference it is judged as; `None` to judge it as
        /// an `oci:` / `oci-archive:` image.
        identity: Option<DockerReference>,
    },
}

/// A signature the caller names.
#[derive(Debug, Clone)]
pub enum SignatureFile {
    /// Read by the library (bounded).
    Path(PathBuf),
    /// Already read by the caller (stdin).
    Bytes {
        /// What to call it in reports, e.g. `-` for stdin.
        name: String,
        /// The signature blob.
        bytes: Vec<u8>,
    },
}

/// Where the image's signatures come from.
#[derive(Debug, Clone)]
pub enum SignatureSource {
    /// These files, in order: the signatures of the image's manifest (not of
    /// a multi-platform image's instances).
    Files(Vec<SignatureFile>),
    /// `DIR/signature-1`, `signature-2`, … of the image's manifest.
    Directory(PathBuf),
    /// A lookaside or mirror (`file://`, `http://`, `https://`):
    /// `<base>/<repo>@<algo>=<hex>/signature-N`, for every manifest.
    Lookaside(Url),
    /// Where containers/image reads them: the network's `--lookaside`
    /// override, else (for a registry image) the registry signature API if
    /// it has one, else the registries.d lookaside. For a local manifest only
    /// a lookaside that registries.d (or the override) names counts.
    Configured,
    /// The `dir:` image's own files.
    DirImage,
    /// The mirror image's own directory (and, for instances, theirs in the
    /// same mirror): what `Lookaside` of the mirror's root reads, with the
    /// image's directory opened once for its manifest and its signatures.
    MirrorImage,
}

/// How multi-platform images are judged, and when.
#[derive(Debug, Clone)]
pub struct Options {
    /// The platform whose instance a pull would use.
    pub platform: Platform,
    /// Judge the index and every instance (as `skopeo copy --all`), not
    /// only `platform`'s instance (as a pull).
    pub all_platforms: bool,
    /// The time signatures and keys are judged at.
    pub now: SystemTime,
    /// Keep the policy's verdict, and in addition reject the image
    /// ([`crate::Reason::NoSignatureChecked`]) unless at least one signature
    /// was cryptographically verified for every manifest judged: a policy
    /// whose scope is `insecureAcceptAnything` (the distribution default of
    /// /etc/containers/policy.json) then cannot pass an unsigned image.
    pub require_signature: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            platform: Platform::host(),
            all_platforms: false,
            now: SystemTime::now(),
            require_signature: false,
        }
    }
}

/// One image to verify.
#[derive(Debug, Clone)]
pub struct Request {
    /// The image and where its manifest comes from.
    pub image: ImageSource,
    /// Where its signatures come from.
    pub signatures: SignatureSource,
}
