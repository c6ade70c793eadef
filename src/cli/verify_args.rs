//! `imgsig verify`'s arguments (shared by src/cli/verify.rs and the oci:
//! path, src/cli/verify_oci.rs).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

use super::inputs::{ImageList, Offline};
use super::net::RegistryArgs;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Policy file (containers-policy.json). Default: $HOME/.config/containers/policy.json, then /etc/containers/policy.json
    #[arg(long, value_name = "FILE", conflicts_with = "keyring")]
    pub policy: Option<PathBuf>,
    /// Instead of a policy: trust the keys in this keyring (armored or binary); repeat for several files
    #[arg(long, value_name = "FILE")]
    pub keyring: Vec<PathBuf>,
    /// The image reference the signatures must name, e.g. registry.example.com/ns/app:1.0
    #[arg(long, value_name = "REF")]
    pub identity: Option<String>,
    /// The image's manifest file (`-` for stdin)
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<OsString>,
    /// Instead of --manifest: the manifest digest the signatures must name (sha256:<64 hex>); that manifest alone is judged (a multi-platform index's instances cannot be listed from a digest)
    #[arg(long, value_name = "ALGO:HEX", conflicts_with = "manifest")]
    pub digest: Option<String>,
    /// Read DIR/signature-1, DIR/signature-2, … up to the first missing one
    #[arg(long, value_name = "DIR")]
    pub signatures: Option<PathBuf>,
    /// For multi-platform images: verify every instance (default: this machine's platform only)
    #[arg(long = "all-platforms")]
    pub all_platforms: bool,
    /// Keep the policy's verdict, and also reject the image (exit 1, no-signature-checked) unless a signature was cryptographically verified for every manifest judged: guards against a policy of insecureAcceptAnything, such as /etc/containers/policy.json's default when --policy is forgotten
    #[arg(long = "require-signature")]
    pub require_signature: bool,
    #[command(flatten)]
    pub list: ImageList,
    #[command(flatten)]
    pub offline: Offline,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Signature files, one `dir:PATH` image (manifest.json + signature-N, as skopeo writes it), one oci:PATH[:TAG] or oci-archive:FILE[:TAG] image (with --signatures DIR, or --identity REF to read its signatures where that registry image's are), or docker://REF images. --from-file lists docker://REF images, or with --lookaside DIR name@sha256:… / name:tag references to verify against that mirror. With --offline, docker://REF images are read from the --lookaside DIR mirror, else from the file:// lookaside registries.d names for each image (never an http(s) one); tags through the records imgsig fetch wrote
    #[arg(value_name = "SIGNATURE_FILE|dir:PATH|docker://REF")]
    pub inputs: Vec<OsString>,
}
