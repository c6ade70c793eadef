//! Reading what the user named, shared by every command: the policy file
//! (and where it is by default), keyrings, manifests, signature files and
//! image lists. Limits come from [`crate::limits`].

use std::path::{Path, PathBuf};

use anyhow::anyhow;

use super::io::read_limited;
use super::{Failure, FileArg};
use crate::limits::{MAX_KEY_FILE_SIZE, MAX_MANIFEST_SIZE, MAX_POLICY_SIZE, MAX_SIGNATURE_SIZE};
use imgsig::pgp::{EnvelopeError, KeyMaterial, Keyring};
use imgsig::policy::{self, ParseOptions, Policy};
use imgsig::signature::Rejection;
use imgsig::verify::{ErrorClass, VerifyError};
use imgsig::Reason;

/// The policy file when none is named, as containers/image and podman pick
/// it (the one place this is worked out): `Ok` the user's file if it exists,
/// else `Err((user, system))` with the system file, which may not exist.
fn policy_candidates(home: Option<&Path>) -> Result<PathBuf, (Option<PathBuf>, PathBuf)> {
    let user = home.map(|h| h.join(".config/containers/policy.json"));
    match user {
        Some(u) if u.exists() => Ok(u),
        user => Err((user, PathBuf::from("/etc/containers/policy.json"))),
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// `--policy FILE`, else the user's file if it exists, else the system file
/// even if it does not exist (`trust set … default` creates it).
pub fn policy_path_or_system(explicit: Option<&Path>) -> PathBuf {
    match explicit {
        Some(p) => p.to_path_buf(),
        None => policy_candidates(home().as_deref()).unwrap_or_else(|(_, system)| system),
    }
}

/// Where containers looks for the policy when none is named: the user's
/// file if it exists, else the system file (never merged); neither is an error.
pub fn default_policy_path(home: Option<&Path>) -> Result<PathBuf, Failure> {
    let (user, system) = match policy_candidates(home) {
        Ok(u) => return Ok(u),
        Err(c) => c,
    };
    if system.exists() {
        return Ok(system);
    }
    Err(Failure::input(
        Reason::NoPolicy,
        anyhow!(
            "no policy.json file found at any of the following: {}{:?} (give one with --policy FILE, or use --keyring)",
            user.map(|u| format!("{:?}, ", u.display().to_string()))
                .unwrap_or_default(),
            system.display().to_string()
        ),
    ))
}

/// `--policy FILE`, else the default location for this user.
pub fn resolve_policy(explicit: Option<&Path>) -> Result<PathBuf, Failure> {
    match explicit {
        Some(p) => Ok(p.to_path_buf()),
        None => default_policy_path(home().as_deref()),
    }
}

/// Read and compile a policy file; every problem is reported with its JSON
/// path and line:column (exit 2).
pub fn load_policy(path: &Path) -> Result<Policy, Failure> {
    let bytes = read_limited("policy", &FileArg::Path(path.to_path_buf()), MAX_POLICY_SIZE)?;
    let opts = ParseOptions {
        source: Some(path.to_path_buf()),
    };
    policy::parse(&bytes, &opts).map_err(|e| {
        Failure::input(
            Reason::InvalidPolicy,
            anyhow!("invalid policy {}:\n{e}", path.display()),
        )
    })
}

/// Load keyring files into one keyring, as gpgme imports them: copies of a
/// certificate merged, and a revocation certificate in one file revoking the
/// key from another, in any order. Unusable files are input errors, and so
/// is a set of files that holds no certificate at all (revocations only).
pub fn load_keyrings(paths: &[PathBuf]) -> Result<Keyring, Failure> {
    let mut keys = Keyring::new();
    let mut only_revocations = Vec::new();
    for path in paths {
        let name = FileArg::Path(path.clone());
        let bytes = read_limited("keyring", &name, MAX_KEY_FILE_SIZE)?;
        let material = KeyMaterial::parse(&bytes).map_err(|e| {
            Failure::input(
                Reason::InvalidKeyring,
                anyhow::Error::new(e).context(format!("keyring {}", crate::shown::shown(path))),
            )
        })?;
        if material.only_revocations() {
            only_revocations.push(crate::shown::shown(path).to_string());
        }
        keys.add_material(&material);
    }
    if keys.is_empty() && !only_revocations.is_empty() {
        return Err(Failure::input(
            Reason::InvalidKeyring,
            anyhow!(
                "the keyrings hold no certificate: {} hold(s) only revocation signatures, which revoke keys but trust none\n\
                 hint: add the signer's public key with another --keyring (gpg --export FPR)",
                only_revocations.join(", ")
            ),
        ));
    }
    Ok(keys)
}

/// Read a manifest file or stdin (bounded).
pub fn read_manifest(name: &FileArg) -> Result<Vec<u8>, Failure> {
    read_limited("manifest", name, MAX_MANIFEST_SIZE)
}

/// Read one signature file; a file over the size limit is a rejected
/// signature, not an input error.
pub fn read_signature(name: &FileArg) -> Result<Result<Vec<u8>, Rejection>, Failure> {
    match read_limited("signature", name, MAX_SIGNATURE_SIZE) {
        Ok(b) => Ok(Ok(b)),
        Err(f) if f.code == Reason::InputTooLarge => Ok(Err(Rejection::from(EnvelopeError::TooLarge {
            size: MAX_SIGNATURE_SIZE + 1,
            limit: MAX_SIGNATURE_SIZE,
        }))),
        Err(f) => Err(f),
    }
}

/// Image references from arguments and `--from-file`.
pub fn read_list(args: &[String], file: Option<&Path>) -> Result<Vec<String>, Failure> {
    super::io::image_inputs(args, file)?.collect()
}

/// A library verification error as a CLI failure.
pub fn verify_failure(e: VerifyError) -> Failure {
    library_failure(e.class, e.code, &e.message, e.hint.as_deref())
}

/// A library pipeline's error (verify, fetch) as a CLI failure: the library's
/// hint is shown only where the command line has none of its own for the code.
pub fn library_failure(class: ErrorClass, code: Reason, message: &str, hint: Option<&str>) -> Failure {
    let err = match hint.filter(|_| super::output::hint_for(code).is_none()) {
        Some(h) => anyhow!("{message}\nhint: {h}"),
        None => anyhow!("{message}"),
    };
    match class {
        ErrorClass::Input => Failure::input(code, err),
        ErrorClass::Outside => Failure::outside(code, err),
        ErrorClass::Rejected => Failure::no(code, err),
    }
}

fn first_line(bytes: &[u8]) -> Result<String, Failure> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Failure::input(Reason::InvalidPassphrase, anyhow!("passphrase file is not UTF-8")))?;
    Ok(text.lines().next().unwrap_or("").to_owned())
}

/// The passphrase: the first line of `--passphrase-file`, else `$IMGSIG_PASSPHRASE`.
/// It never comes from a flag value (it would show in `ps`).
pub fn passphrase(passphrase_file: Option<&Path>) -> Result<Option<String>, Failure> {
    Ok(match passphrase_file {
        Some(p) => Some(first_line(&read_limited(
            "passphrase file",
            &FileArg::from(p.as_os_str()),
            64 * 1024,
        )?)?),
        None => std::env::var("IMGSIG_PASSPHRASE").ok(),
    })
}

// `--from-file FILE`, declared once for every command that takes a list of
// images (verify, sign, fetch). (Plain comments: clap would take a doc
// comment of a flattened struct as the command's description.)
#[derive(Debug, clap::Args)]
pub struct ImageList {
    /// Read the images from FILE (`-` for stdin), one per line, as if given as arguments (# comments and blank lines skipped)
    #[arg(long = "from-file", value_name = "FILE")]
    pub from_file: Option<std::path::PathBuf>,
}

// `--offline`, declared once for the commands that can run without a
// network (verify, sign).
#[derive(Debug, clap::Args)]
pub struct Offline {
    /// Use no network at all: no socket is opened, and whatever would need one is an error
    #[arg(long)]
    pub offline: bool,
}
