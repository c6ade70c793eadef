//! `imgsig verify`: check an image's signatures.
//!
//! Keyring mode (`--keyring`): accepted when at least one signature is
//! valid, made by a key in the keyrings, for the manifest's digest and for
//! the expected identity (equal after normalisation, as
//! `skopeo standalone-verify` checks).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::anyhow;
use clap::Args;
use serde::Serialize;

use super::io::{read_limited, write_stdout};
use super::output::{print_json, SignerJson, SCHEMA_VERSION};
use super::sign::MAX_MANIFEST_SIZE;
use super::{Exit, Failure, FileArg, OutputFormat};
use crate::digest::Digest;
use crate::manifest;
use crate::pgp::{Keyring, MAX_SIGNATURE_SIZE};
use crate::reference::DockerReference;
use crate::signature::{self, Opened, Rejection};

pub const EXAMPLES: &str = "EXAMPLES:
  # Accept the image if one signature is by a key in signer.pub and names this image
  imgsig verify --keyring signer.pub --identity registry.example.com/ns/app:1.0 \\
      --manifest manifest.json signature-1 signature-2

  # The same, as JSON for scripts (exit code 0 accepted, 1 rejected)
  imgsig verify --output json --keyring vendor.gpg --keyring ours.asc \\
      --identity registry.example.com/ns/app:1.0 --manifest manifest.json sig

  # Pull exactly what was verified
  podman pull \"$(imgsig verify --keyring k.gpg --identity example.com/app:1.0 --manifest m.json sig)\"";

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Trusted public keys (armored or binary keyring); repeat for several files
    #[arg(long, value_name = "FILE", required = true)]
    pub keyring: Vec<PathBuf>,
    /// The image reference the signatures must name, e.g. registry.example.com/ns/app:1.0
    #[arg(long, value_name = "REF")]
    pub identity: String,
    /// The image's manifest file (`-` for stdin)
    #[arg(long, value_name = "FILE")]
    pub manifest: OsString,
    /// Signature files to check
    #[arg(value_name = "SIGNATURE_FILE", required = true)]
    pub signatures: Vec<OsString>,
}

#[derive(Debug, Serialize)]
struct VerifyDoc {
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

#[derive(Debug, Serialize)]
struct SignatureJson {
    index: usize,
    source: String,
    verdict: &'static str,
    reason: Option<&'static str>,
    message: String,
    signer: Option<SignerJson>,
    signature_created: Option<i64>,
    hash_algorithm: Option<String>,
    signed_identity: Option<String>,
    signed_digest: Option<String>,
    creator: Option<String>,
    timestamp: Option<i64>,
}

/// The outcome for one signature: what was learnt, and the verdict.
struct Checked {
    source: String,
    opened: Option<Opened>,
    result: Result<(), Rejection>,
}

fn check_one(
    blob: &[u8],
    keys: &Keyring,
    digest: &Digest,
    identity: &DockerReference,
    now: SystemTime,
) -> (Option<Opened>, Result<(), Rejection>) {
    let opened = match signature::open(blob, keys, now) {
        Ok(o) => o,
        Err(r) => return (None, Err(r)),
    };
    let result =
        signature::check_digest(&opened, digest).and_then(|()| signature::check_identity_exact(&opened, identity));
    (Some(opened), result)
}

fn to_json(index: usize, c: &Checked) -> SignatureJson {
    let signer = c
        .opened
        .as_ref()
        .map(|o| &o.signer)
        .or_else(|| c.result.as_ref().err().and_then(|r| r.signer.as_ref()));
    let claim = c.opened.as_ref().map(|o| &o.claim);
    SignatureJson {
        index,
        source: c.source.clone(),
        verdict: if c.result.is_ok() { "accepted" } else { "rejected" },
        reason: c.result.as_ref().err().map(|r| r.code),
        message: match &c.result {
            Ok(()) => "valid signature by a trusted key for this image and digest".into(),
            Err(r) => r.message.clone(),
        },
        signer: signer.map(SignerJson::from),
        signature_created: signer.map(|s| s.created),
        hash_algorithm: signer.map(|s| s.hash_algorithm.clone()),
        signed_identity: claim.map(|c| c.docker_reference().to_owned()),
        signed_digest: claim.map(|c| c.manifest_digest().to_string()),
        creator: claim.and_then(|c| c.creator().map(str::to_owned)),
        timestamp: claim.and_then(|c| c.timestamp()),
    }
}

fn human_line(index: usize, total: usize, c: &Checked) -> String {
    match (&c.result, &c.opened) {
        (Ok(()), Some(o)) => format!(
            "signature {index}/{total} ({}): accepted: key {} (signing key {}), identity {}, digest {}, signed {}",
            c.source,
            o.signer.primary_fingerprint,
            o.signer.signing_fingerprint,
            o.claim.docker_reference(),
            o.claim.manifest_digest(),
            crate::time::rfc3339(o.claim.timestamp().unwrap_or(o.signer.created)),
        ),
        (Err(r), _) => {
            let by = r
                .signer
                .as_ref()
                .map(|s| format!(" (key {})", s.primary_fingerprint))
                .unwrap_or_default();
            format!(
                "signature {index}/{total} ({}): rejected [{}]{by}: {}",
                c.source, r.code, r.message
            )
        }
        (Ok(()), None) => format!("signature {index}/{total} ({}): accepted", c.source),
    }
}

pub fn run(args: VerifyArgs, format: OutputFormat) -> Result<Exit, Failure> {
    let identity = DockerReference::parse_normalized(&args.identity)
        .map_err(|e| Failure::input("invalid-reference", anyhow!("--identity {:?}: {e}", args.identity)))?;

    let mut keys = Keyring::new();
    for path in &args.keyring {
        let name = FileArg::Path(path.clone());
        let bytes = read_limited("keyring", &name, 64 * 1024 * 1024)?;
        keys.add_keyring_bytes(&bytes).map_err(|e| {
            Failure::input(
                "invalid-keyring",
                anyhow::Error::new(e).context(format!("keyring {}", path.display())),
            )
        })?;
    }

    let manifest_arg = FileArg::from(args.manifest.as_os_str());
    let manifest_bytes = read_limited("manifest", &manifest_arg, MAX_MANIFEST_SIZE)?;
    let digest = manifest::manifest_digest(&manifest_bytes)
        .map_err(|e| Failure::input("invalid-manifest", anyhow!("manifest {manifest_arg}: {e}")))?;

    // Read every signature before judging any, so an unusable argument is
    // reported as such (exit 2) rather than as a rejection.
    let mut blobs = Vec::with_capacity(args.signatures.len());
    for s in &args.signatures {
        let name = FileArg::from(s.as_os_str());
        if name == FileArg::Std && manifest_arg == FileArg::Std {
            return Err(Failure::input(
                "conflicting-flags",
                anyhow!("stdin cannot be both the manifest and a signature"),
            ));
        }
        let blob = match read_limited("signature", &name, MAX_SIGNATURE_SIZE) {
            Ok(b) => Ok(b),
            Err(f) if f.code == "input-too-large" => Err(Rejection::from(crate::pgp::EnvelopeError::TooLarge {
                size: MAX_SIGNATURE_SIZE + 1,
                limit: MAX_SIGNATURE_SIZE,
            })),
            Err(f) => return Err(f),
        };
        blobs.push((name.to_string(), blob));
    }

    let now = SystemTime::now();
    let checked: Vec<Checked> = blobs
        .into_iter()
        .map(|(source, blob)| {
            let (opened, result) = match blob {
                Ok(b) => check_one(&b, &keys, &digest, &identity, now),
                Err(r) => (None, Err(r)),
            };
            Checked { source, opened, result }
        })
        .collect();

    let accepted = checked.iter().any(|c| c.result.is_ok());
    let verified_reference = format!("{}@{}", identity.name(), digest);
    let total = checked.len();
    for (i, c) in checked.iter().enumerate() {
        eprintln!("imgsig: {}", human_line(i + 1, total, c));
    }
    if accepted {
        eprintln!("imgsig: ACCEPTED: {identity} (manifest {digest}) has a valid signature; pull {verified_reference}");
    } else {
        eprintln!(
            "imgsig: REJECTED: none of the {total} signature(s) is a valid signature by a trusted key for {identity} with manifest {digest}"
        );
    }
    match format {
        OutputFormat::Json => print_json(&VerifyDoc {
            schema_version: SCHEMA_VERSION,
            command: "verify",
            mode: "keyring",
            verdict: if accepted { "accepted" } else { "rejected" },
            identity: identity.to_string(),
            manifest_digest: digest.to_string(),
            verified_reference: accepted.then(|| verified_reference.clone()),
            keyrings: args.keyring.iter().map(|p| p.display().to_string()).collect(),
            trusted_fingerprints: keys.fingerprints(),
            signatures: checked.iter().enumerate().map(|(i, c)| to_json(i + 1, c)).collect(),
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
