//! `imgsig sign`: build the claim for a manifest digest and sign it.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::anyhow;
use clap::Args;
use serde::Serialize;

use super::io::{read_limited, stdout_is_terminal, write_atomic, write_stdout};
use super::output::{print_json, SignerJson, SCHEMA_VERSION};
use super::{Exit, Failure, FileArg, OutputFormat};
use crate::claim::Claim;
use crate::digest::{Algorithm, Digest};
use crate::manifest;
use crate::pgp::{self, KeyError, Keyring, SigningKey};
use crate::reference::DockerReference;

pub const EXAMPLES: &str = "EXAMPLES:
  # Sign the manifest of registry.example.com/ns/app:1.0 with a secret key file
  imgsig sign --key signer-secret.asc --identity registry.example.com/ns/app:1.0 \\
      --manifest manifest.json -o signature-1

  # Sign a digest you already know; the passphrase comes from a file
  imgsig sign --key signer.key --passphrase-file pass.txt \\
      --identity registry.example.com/ns/app:1.0 --digest sha256:<64 hex> -o sig

  # Write the signature to stdout (never to a terminal)
  imgsig sign --key signer.key --identity app:1.0 --manifest m.json > sig";

/// Largest manifest read (the reference's manifest size limit).
pub const MAX_MANIFEST_SIZE: usize = 4 * 1024 * 1024;
const MAX_KEY_SIZE: usize = 16 * 1024 * 1024;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["digest", "manifest"])))]
pub struct SignArgs {
    /// OpenPGP secret key file (armored or binary) holding exactly one key
    #[arg(long, value_name = "KEYFILE")]
    pub key: PathBuf,
    /// Image reference the signature vouches for, e.g. registry.example.com/ns/app:1.0
    #[arg(long, value_name = "REF")]
    pub identity: String,
    /// Manifest digest to sign (sha256:<64 hex>)
    #[arg(long, value_name = "ALGO:HEX")]
    pub digest: Option<String>,
    /// Manifest file whose digest is signed (`-` for stdin)
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<OsString>,
    /// Where to write the signature (`-` or absent: stdout, never a terminal)
    #[arg(short = 'o', long = "output-file", visible_alias = "out", value_name = "FILE")]
    pub output_file: Option<OsString>,
    /// Replace an existing output file
    #[arg(long)]
    pub force: bool,
    /// Read the key's passphrase from the first line of FILE (else $IMGSIG_PASSPHRASE)
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct SignDoc {
    schema_version: u32,
    command: &'static str,
    output: String,
    identity: String,
    manifest_digest: String,
    signer: SignerJson,
    creator: String,
    timestamp: i64,
    signature_size: usize,
}

/// The creator string written into claims.
pub fn creator() -> String {
    format!("imgsig {}", env!("CARGO_PKG_VERSION"))
}

fn first_line(bytes: &[u8]) -> Result<String, Failure> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Failure::input("invalid-passphrase", anyhow!("passphrase file is not UTF-8")))?;
    Ok(text.lines().next().unwrap_or("").to_owned())
}

fn load_key(args: &SignArgs, now: SystemTime) -> Result<SigningKey, Failure> {
    let key_arg = FileArg::Path(args.key.clone());
    let key_bytes = read_limited("key file", &key_arg, MAX_KEY_SIZE)?;
    // The passphrase never comes from a flag value (it would show in `ps`).
    let passphrase = match &args.passphrase_file {
        Some(p) => Some(first_line(&read_limited(
            "passphrase file",
            &FileArg::from(p.as_os_str()),
            64 * 1024,
        )?)?),
        None => std::env::var("IMGSIG_PASSPHRASE").ok(),
    };
    let password = passphrase.map(|p| p.into());
    SigningKey::from_bytes(&key_bytes, password.as_ref(), now).map_err(|e| {
        let code = match e {
            KeyError::PassphraseNeeded => "passphrase-needed",
            KeyError::WrongPassphrase(_) => "wrong-passphrase",
            KeyError::NoSecretKey => "not-a-secret-key",
            _ => "invalid-key",
        };
        Failure::input(
            code,
            anyhow::Error::new(e).context(format!("key file {}", args.key.display())),
        )
    })
}

pub fn run(args: SignArgs, format: OutputFormat) -> Result<Exit, Failure> {
    // Check everything that needs no I/O first.
    let out = args.output_file.as_deref().map(FileArg::from).unwrap_or(FileArg::Std);
    if out == FileArg::Std && format == OutputFormat::Json {
        return Err(Failure::input(
            "conflicting-flags",
            anyhow!("--output json writes its report to stdout; give the signature a file with -o FILE"),
        ));
    }
    if out == FileArg::Std && stdout_is_terminal() {
        return Err(Failure::input(
            "terminal-output",
            anyhow!("refusing to write a binary signature to a terminal"),
        ));
    }
    if args.manifest.as_deref() == Some(std::ffi::OsStr::new("-"))
        && args.passphrase_file.as_deref() == Some(std::path::Path::new("-"))
    {
        return Err(Failure::input(
            "conflicting-flags",
            anyhow!("stdin cannot be both the manifest and the passphrase"),
        ));
    }
    let identity = DockerReference::parse_normalized(&args.identity)
        .map_err(|e| Failure::input("invalid-reference", anyhow!("--identity {:?}: {e}", args.identity)))?;
    if identity.is_name_only() {
        return Err(Failure::input(
            "invalid-reference",
            anyhow!(
                "--identity {:?} has neither a tag nor a digest; policies reject such signatures (add a tag, e.g. {}:latest)",
                args.identity,
                identity
            ),
        ));
    }
    let digest = match (&args.digest, &args.manifest) {
        (Some(d), _) => {
            let d = Digest::parse(d).map_err(|e| Failure::input("invalid-digest", anyhow!("--digest: {e}")))?;
            if d.algorithm() != Algorithm::Sha256 {
                return Err(Failure::input(
                    "invalid-digest",
                    anyhow!("--digest {d}: containers/image identifies manifests by sha256 only, so a {} signature would never match", d.algorithm().name()),
                ));
            }
            d
        }
        (None, Some(m)) => {
            let m = FileArg::from(m.as_os_str());
            let bytes = read_limited("manifest", &m, MAX_MANIFEST_SIZE)?;
            manifest::manifest_digest(&bytes)
                .map_err(|e| Failure::input("invalid-manifest", anyhow!("manifest {m}: {e}")))?
        }
        (None, None) => unreachable!("clap requires --digest or --manifest"),
    };

    let now = SystemTime::now();
    let mut key = load_key(&args, now)?;
    let timestamp = crate::time::unix_seconds(now);
    let claim = Claim {
        manifest_digest: digest.clone(),
        docker_reference: identity.to_string(),
        creator: Some(creator()),
        timestamp: Some(timestamp),
    };
    let payload = claim.to_json();
    let blob = key
        .sign(&payload, now)
        .map_err(|e| Failure::outside("signing-failed", anyhow::Error::new(e)))?;

    // Check our own work before anything is written.
    let mut own = Keyring::new();
    own.add([key.cert().clone()]);
    let env = pgp::verify(&blob, &own, now)
        .map_err(|e| Failure::outside("signing-failed", anyhow!("the new signature does not verify: {e}")))?;
    if env.payload != payload {
        return Err(Failure::outside(
            "signing-failed",
            anyhow!("the new signature carries other content"),
        ));
    }

    match &out {
        FileArg::Path(p) => write_atomic(p, &blob, args.force)?,
        FileArg::Std => write_stdout(&blob)
            .map_err(|e| Failure::outside("io-error", anyhow!("writing the signature to stdout: {e}")))?,
    }
    eprintln!(
        "imgsig: signed {digest} as {identity} with key {} (signing key {}) -> {out}",
        key.primary_fingerprint(),
        key.signing_fingerprint()
    );
    if format == OutputFormat::Json {
        print_json(&SignDoc {
            schema_version: SCHEMA_VERSION,
            command: "sign",
            output: out.to_string(),
            identity: identity.to_string(),
            manifest_digest: digest.to_string(),
            signer: SignerJson {
                primary_fingerprint: key.primary_fingerprint(),
                signing_fingerprint: key.signing_fingerprint().to_owned(),
            },
            creator: creator(),
            timestamp,
            signature_size: blob.len(),
        });
    }
    Ok(Exit::Ok)
}
