//! `imgsig verify`: check an image's signatures.
//!
//! Two forms:
//! - policy (default): a containers-policy.json decides, as skopeo, podman
//!   and CRI-O would (see `verify_policy.rs`);
//! - keyring (`--keyring`): accepted when at least one signature is valid,
//!   made by a key in the keyrings, for the manifest's digest and for the
//!   expected identity (equal after normalisation, as
//!   `skopeo standalone-verify` checks).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::anyhow;
use clap::Args;
use serde::Serialize;

use super::io::{read_limited, write_stdout};
use super::output::{print_json, SCHEMA_VERSION};
use super::report::{Checked, SignatureJson};
use super::sign::MAX_MANIFEST_SIZE;
use super::{Exit, Failure, FileArg, OutputFormat};
use crate::digest::Digest;
use crate::manifest;
use crate::pgp::{EnvelopeError, Keyring, MAX_SIGNATURE_SIZE};
use crate::policy::SignatureInput;
use crate::reference::DockerReference;
use crate::signature::{self, Opened, Rejection};

pub const EXAMPLES: &str = "EXAMPLES:
  # Decide with a policy file, as podman and CRI-O would
  imgsig verify --policy policy.json --identity registry.example.com/ns/app:1.0 \\
      --manifest manifest.json signature-1 signature-2

  # A skopeo dir: image (manifest.json + signature-N)
  imgsig verify --policy policy.json dir:/srv/images/app

  # Signatures stored as DIR/signature-1, DIR/signature-2, …
  imgsig verify --policy policy.json --identity registry.example.com/ns/app:1.0 \\
      --manifest manifest.json --signatures sigs/

  # No policy: accept one signature by a key in signer.pub that names this image
  imgsig verify --keyring signer.pub --identity registry.example.com/ns/app:1.0 \\
      --manifest manifest.json signature-1

  # JSON for scripts (exit code 0 accepted, 1 rejected)
  imgsig verify --output json --policy policy.json --identity example.com/app:1.0 \\
      --manifest m.json sig

  # Pull exactly what was verified
  ref=$(imgsig verify --keyring k.gpg --identity example.com/app:1.0 --manifest m.json sig) \\
      && podman pull \"$ref\"";

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
    /// Read DIR/signature-1, DIR/signature-2, … up to the first missing one
    #[arg(long, value_name = "DIR", conflicts_with = "keyring")]
    pub signatures: Option<PathBuf>,
    /// For multi-platform images: verify every instance (default: this machine's platform only)
    #[arg(long = "all-platforms")]
    pub all_platforms: bool,
    /// Read images from FILE, one per line (# comments and blank lines skipped): docker://REF, or with --lookaside DIR name@sha256:… references to verify against that mirror
    #[arg(long = "from-file", value_name = "FILE")]
    pub from_file: Option<PathBuf>,
    #[command(flatten)]
    pub registry: super::online::RegistryArgs,
    /// Signature files, one `dir:PATH` image (manifest.json + signature-N, as skopeo writes it), or docker://REF images
    #[arg(value_name = "SIGNATURE_FILE|dir:PATH|docker://REF")]
    pub inputs: Vec<OsString>,
}

pub fn run(args: VerifyArgs, format: OutputFormat) -> Result<Exit, Failure> {
    let docker: Vec<&OsString> = args
        .inputs
        .iter()
        .filter(|i| i.to_string_lossy().starts_with("docker://"))
        .collect();
    let local_lookaside = args.registry.lookaside.as_deref().filter(|l| !l.contains("://"));
    if let (Some(list), Some(root), true) = (&args.from_file, local_lookaside, docker.is_empty()) {
        if !args.inputs.is_empty() || args.identity.is_some() || args.manifest.is_some() || !args.keyring.is_empty() {
            return Err(usage(
                "bulk verification (--from-file with --lookaside DIR) takes no image arguments, --identity, --manifest or --keyring",
            ));
        }
        let policy_path = super::verify_policy::resolve_policy(args.policy.as_deref())?;
        let policy = super::verify_policy::load_policy(&policy_path)?;
        return super::verify_bulk::run(&policy_path, &policy, PathBuf::from(root), list, format);
    }
    if !docker.is_empty() || args.from_file.is_some() {
        if docker.len() != args.inputs.len() {
            return Err(usage("give either docker://REF images or local files, not both"));
        }
        if !args.keyring.is_empty() {
            return Err(usage(
                "docker:// images are verified with a policy; --keyring does not apply",
            ));
        }
        let images: Vec<String> = docker.iter().map(|d| d.to_string_lossy().into_owned()).collect();
        return super::verify_online::run(args, images, format);
    }
    if args.keyring.is_empty() {
        super::verify_policy::run(args, format)
    } else {
        run_keyring(args, format)
    }
}

fn usage(msg: &str) -> Failure {
    Failure::input("usage", anyhow!("{msg}"))
}

/// `--identity` for the keyring form: normalised, compared exactly.
pub fn parse_identity(s: &str) -> Result<DockerReference, Failure> {
    DockerReference::parse_normalized(s)
        .map_err(|e| Failure::input("invalid-reference", anyhow!("--identity {s:?}: {e}")))
}

/// Read and hash a manifest. The digest error is returned separately:
/// the keyring form treats it as unusable input, the policy form (like
/// containers/image) as a reason to reject signatures.
pub fn read_manifest(name: &FileArg) -> Result<(Vec<u8>, Result<Digest, String>), Failure> {
    let bytes = read_limited("manifest", name, MAX_MANIFEST_SIZE)?;
    let digest = manifest::manifest_digest(&bytes).map_err(|e| e.to_string());
    Ok((bytes, digest))
}

/// Read one signature file; a file over the size limit is a rejected
/// signature, not an input error.
pub fn read_signature(name: &FileArg) -> Result<Result<Vec<u8>, Rejection>, Failure> {
    match read_limited("signature", name, MAX_SIGNATURE_SIZE) {
        Ok(b) => Ok(Ok(b)),
        Err(f) if f.code == "input-too-large" => Ok(Err(Rejection::from(EnvelopeError::TooLarge {
            size: MAX_SIGNATURE_SIZE + 1,
            limit: MAX_SIGNATURE_SIZE,
        }))),
        Err(f) => Err(f),
    }
}

/// Read signature files named on the command line.
pub fn read_signature_args(inputs: &[OsString], manifest: &FileArg) -> Result<Vec<SignatureInput>, Failure> {
    // Read every signature before judging any, so an unusable argument is
    // reported as such (exit 2) rather than as a rejection.
    let mut out = Vec::with_capacity(inputs.len());
    for s in inputs {
        let name = FileArg::from(s.as_os_str());
        if name == FileArg::Std && *manifest == FileArg::Std {
            return Err(Failure::input(
                "conflicting-flags",
                anyhow!("stdin cannot be both the manifest and a signature"),
            ));
        }
        out.push(SignatureInput {
            source: name.to_string(),
            blob: read_signature(&name)?,
        });
    }
    Ok(out)
}

/// Read `dir/signature-1`, `dir/signature-2`, … up to the first missing one
/// (the lookaside reader: the same limits as every other signature source).
pub fn read_signature_dir(dir: &Path) -> Result<Vec<SignatureInput>, Failure> {
    if !dir.is_dir() {
        return Err(Failure::input(
            "unreadable-input",
            anyhow!("{} is not a directory", dir.display()),
        ));
    }
    let found = crate::store::lookaside::read_dir_signatures(dir).map_err(|e| match e {
        crate::store::lookaside::LookasideError::TooManySignatures { .. } => {
            Failure::input("too-many-signatures", anyhow::Error::new(e))
        }
        other => Failure::outside("io-error", anyhow::Error::new(other)),
    })?;
    Ok(found
        .into_iter()
        .map(|s| SignatureInput {
            source: s.path.display().to_string(),
            blob: s.contents.map_err(|_| {
                Rejection::from(EnvelopeError::TooLarge {
                    size: MAX_SIGNATURE_SIZE + 1,
                    limit: MAX_SIGNATURE_SIZE,
                })
            }),
        })
        .collect())
}

#[derive(Debug, Serialize)]
struct KeyringDoc {
    schema_version: u32,
    command: &'static str,
    mode: &'static str,
    verdict: &'static str,
    identity: String,
    manifest_digest: String,
    verified_reference: Option<String>,
    keyrings: Vec<String>,
    trusted_fingerprints: Vec<String>,
    signatures: Vec<SignatureJson>,
}

/// The outcome for one signature: what was learnt, and the verdict.
struct Outcome {
    source: String,
    opened: Option<Opened>,
    result: Result<(), Rejection>,
}

impl Outcome {
    fn checked(&self, index: usize) -> Checked<'_> {
        Checked {
            index,
            source: &self.source,
            opened: self.opened.as_ref(),
            result: &self.result,
        }
    }
}

fn check_one(blob: &[u8], keys: &Keyring, digest: &Digest, identity: &DockerReference, now: SystemTime) -> Outcome {
    let mut out = Outcome {
        source: String::new(),
        opened: None,
        result: Ok(()),
    };
    match signature::open(blob, keys, now) {
        Ok(o) => {
            out.result =
                signature::check_digest(&o, digest).and_then(|()| signature::check_identity_exact(&o, identity));
            out.opened = Some(o);
        }
        Err(r) => out.result = Err(r),
    }
    out
}

/// Load keyring files into one keyring (unusable files are input errors).
pub fn load_keyrings(paths: &[PathBuf]) -> Result<Keyring, Failure> {
    let mut keys = Keyring::new();
    for path in paths {
        let name = FileArg::Path(path.clone());
        let bytes = read_limited("keyring", &name, 64 * 1024 * 1024)?;
        keys.add_keyring_bytes(&bytes).map_err(|e| {
            Failure::input(
                "invalid-keyring",
                anyhow::Error::new(e).context(format!("keyring {}", path.display())),
            )
        })?;
    }
    Ok(keys)
}

fn run_keyring(args: VerifyArgs, format: OutputFormat) -> Result<Exit, Failure> {
    let identity = args
        .identity
        .as_deref()
        .ok_or_else(|| usage("--keyring needs --identity REF, --manifest FILE and signature files"))?;
    let manifest_arg = args
        .manifest
        .as_deref()
        .map(FileArg::from)
        .ok_or_else(|| usage("--keyring needs --manifest FILE"))?;
    if args.inputs.is_empty() {
        return Err(usage("--keyring needs at least one SIGNATURE_FILE"));
    }
    if let Some(d) = args.inputs.iter().find(|i| i.to_string_lossy().starts_with("dir:")) {
        return Err(usage(&format!(
            "{} is a dir: image; use it with --policy (or name its signature files directly)",
            d.to_string_lossy()
        )));
    }
    let identity = parse_identity(identity)?;
    let keys = load_keyrings(&args.keyring)?;
    let (_, digest) = read_manifest(&manifest_arg)?;
    let digest = digest.map_err(|e| Failure::input("invalid-manifest", anyhow!("manifest {manifest_arg}: {e}")))?;
    let blobs = read_signature_args(&args.inputs, &manifest_arg)?;

    let now = SystemTime::now();
    let outcomes: Vec<Outcome> = blobs
        .into_iter()
        .map(|SignatureInput { source, blob }| {
            let mut o = match blob {
                Ok(b) => check_one(&b, &keys, &digest, &identity, now),
                Err(r) => Outcome {
                    source: String::new(),
                    opened: None,
                    result: Err(r),
                },
            };
            o.source = source;
            o
        })
        .collect();

    let accepted = outcomes.iter().any(|c| c.result.is_ok());
    let verified_reference = format!("{}@{}", identity.name(), digest);
    let total = outcomes.len();
    for (i, c) in outcomes.iter().enumerate() {
        eprintln!("imgsig: {}", c.checked(i + 1).human(total));
    }
    if accepted {
        eprintln!("imgsig: ACCEPTED: {identity} (manifest {digest}) has a valid signature; pull {verified_reference}");
    } else {
        eprintln!(
            "imgsig: REJECTED: none of the {total} signature(s) is a valid signature by a trusted key for {identity} with manifest {digest}"
        );
    }
    match format {
        OutputFormat::Json => print_json(&KeyringDoc {
            schema_version: SCHEMA_VERSION,
            command: "verify",
            mode: "keyring",
            verdict: if accepted { "accepted" } else { "rejected" },
            identity: identity.to_string(),
            manifest_digest: digest.to_string(),
            verified_reference: accepted.then(|| verified_reference.clone()),
            keyrings: args.keyring.iter().map(|p| p.display().to_string()).collect(),
            trusted_fingerprints: keys.fingerprints(),
            signatures: outcomes
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    c.checked(i + 1)
                        .to_json("valid signature by a trusted key for this image and digest")
                })
                .collect(),
        }),
        OutputFormat::Human => {
            if accepted {
                // Data for scripts; a closed pipe does not change the verdict.
                let _ = write_stdout(format!("{verified_reference}\n").as_bytes());
            }
        }
    }
    Ok(if accepted { Exit::Ok } else { Exit::No })
}
