//! `imgsig sign`'s arguments (shared by the docker://, digest/manifest and
//! oci: paths, src/cli/sign.rs and src/cli/sign_oci.rs).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::Args;

use super::inputs::{ImageList, Offline};
use super::net::RegistryArgs;
use super::sign_key::KeyArgs;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("keysource").required(true).args(["key", "sign_by", "sign_cmd", "sigstore_key"])))]
pub struct SignArgs {
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Image reference the signature vouches for, e.g. registry.example.com/ns/app:1.0 (default for docker:// images: the image's own reference; required for oci: images: the reference they will be pushed as)
    #[arg(long, value_name = "REF")]
    pub identity: Option<String>,
    /// Manifest digest to sign (sha256:<64 hex>)
    #[arg(long, value_name = "ALGO:HEX", conflicts_with = "manifest")]
    pub digest: Option<String>,
    /// Manifest file whose digest is signed (`-` for stdin)
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<OsString>,
    /// Where to write the signature of --digest, --manifest (`-` or absent: stdout, never a terminal) or of a single-manifest oci: image (instead of a lookaside)
    #[arg(short = 'o', long = "output-file", visible_alias = "out", value_name = "FILE")]
    pub output_file: Option<OsString>,
    /// Replace an existing output file (-o only; lookaside signatures are never replaced)
    #[arg(long)]
    pub force: bool,
    /// Store as DIR/<repository path>@sha256=<hex>/signature-N (next free N)
    #[arg(long = "lookaside-dir", value_name = "DIR", conflicts_with = "output_file")]
    pub lookaside_dir: Option<PathBuf>,
    /// Read the key's passphrase from the first line of FILE (else $IMGSIG_PASSPHRASE). With --sign-by, a passphrase gpg-agent has cached for the key wins over this one
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Multi-platform images: sign only the index, not every instance
    #[arg(long = "index-only")]
    pub index_only: bool,
    #[command(flatten)]
    pub list: ImageList,
    #[command(flatten)]
    pub offline: Offline,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Images to sign: docker://REF (also listed with --from-file), or one oci:PATH[:TAG] / oci-archive:FILE[:TAG] image a build wrote, signed as the registry will serve it after skopeo copy --preserve-digests. With --offline, no docker:// images: sign --digest/--manifest into a file or --lookaside-dir, or an oci: image into --lookaside-dir
    #[arg(value_name = "docker://REF")]
    pub images: Vec<String>,
}
