//! `imgsig sign`: build the claim for a manifest digest and sign it.
//!
//! Two forms:
//! - one digest (`--digest` or `--manifest`, with `--identity`), written to
//!   `-o FILE`, stdout, or `--lookaside-dir DIR`;
//! - `docker://REF…` images (or `--from-file`): each pinned to the digest
//!   the registry serves now, a multi-platform image's index and every
//!   instance signed (unless `--index-only`), stored in `--lookaside-dir` or
//!   the registries.d `lookaside-staging` of the image.
//!
//! With `--sigstore-key` the signature is a sigstore (cosign) one: the
//! typed blob `\0sigstore-json\n{…}` in a file or lookaside, or for
//! `docker://` images a layer of the registry's `sha256-<hex>.sig`
//! attachment manifest (when registries.d sets `use-sigstore-attachments`).
//!
//! Signatures are never overwritten: a lookaside takes the next free
//! `signature-N`, claimed atomically; an attachment manifest only grows.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::anyhow;
use clap::Args;
use serde::Serialize;

use super::io::{lookaside_failure, read_limited, stdout_is_terminal, write_atomic, write_stdout};
use super::net::{Net as Network, RegistryArgs};
use super::output::{print_json, SignerJson, SCHEMA_VERSION};
use super::progress::Progress;
use super::{Exit, Failure, FileArg, OutputFormat};
use crate::limits::MAX_MANIFEST_SIZE;
use crate::shown::{shown, Lines};
use imgsig::digest::{Algorithm, Digest};
use imgsig::manifest;
use imgsig::pgp::{KeyError, SigningKey};
use imgsig::platform::list_instances;
use imgsig::reference::DockerReference;
use imgsig::signer::{ImageSignature, SignFailure, SignedBy, Source};
use imgsig::store::lookaside::{self, StoreOutcome};

pub const EXAMPLES: &str = "EXAMPLES:
  # Sign the manifest of registry.example.com/ns/app:1.0 with a secret key file
  imgsig sign --key signer-secret.asc --identity registry.example.com/ns/app:1.0 \\
      --manifest manifest.json -o signature-1

  # Sign a digest you already know; the passphrase comes from a file
  imgsig sign --key signer.key --passphrase-file pass.txt \\
      --identity registry.example.com/ns/app:1.0 --digest sha256:<64 hex> -o sig

  # Write the signature to stdout (never to a terminal)
  imgsig sign --key signer.key --identity app:1.0 --manifest m.json > sig

  # Sign images in a registry into a lookaside directory (next free signature-N)
  imgsig sign --key signer.key --lookaside-dir /srv/sigstore \\
      docker://registry.example.com/ns/app:1.0 docker://registry.example.com/ns/db:2

  # A signing server or HSM wrapper: claim on stdin, signed message on stdout
  imgsig sign --sign-cmd 'gpg --batch --sign -u ci@example.com' --signer-cert ci.pub \\
      --lookaside-dir /srv/sigstore docker://registry.example.com/ns/app:1.0

  # A sigstore (cosign) signature with a cosign/skopeo private key, stored as a
  # registry attachment (registries.d: use-sigstore-attachments: true)
  imgsig sign --sigstore-key cosign.key --passphrase-file pass.txt \\
      docker://registry.example.com/ns/app:1.0";

/// Largest manifest read (the reference's manifest size limit).
use crate::limits::MAX_KEY_FILE_SIZE as MAX_KEY_SIZE;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("keysource").required(true).args(["key", "sign_by", "sign_cmd", "sigstore_key"])))]
pub struct SignArgs {
    /// OpenPGP secret key file (armored or binary) holding exactly one key
    #[arg(long, value_name = "KEYFILE")]
    pub key: Option<PathBuf>,
    /// Sign with this key of your GnuPG keyring through gpg-agent, named as `gpg -u` names it: fingerprint, key ID, e-mail or user ID (smartcards too; the secret key never leaves the agent; GNUPGHOME honoured)
    #[arg(long = "sign-by", value_name = "KEY")]
    pub sign_by: Option<String>,
    /// Sign with an external command (run by sh -c): the claim on stdin, a binary OpenPGP signed message on stdout
    #[arg(long = "sign-cmd", value_name = "COMMAND", requires = "signer_cert")]
    pub sign_cmd: Option<String>,
    /// The public key the --sign-cmd signature must verify against
    #[arg(long = "signer-cert", value_name = "FILE", requires = "sign_cmd")]
    pub signer_cert: Option<PathBuf>,
    /// Make a sigstore (cosign) signature with this private key: the encrypted key file cosign generate-key-pair, skopeo generate-sigstore-key or `imgsig generate-key --sigstore` write
    #[arg(long = "sigstore-key", value_name = "KEYFILE")]
    pub sigstore_key: Option<PathBuf>,
    /// Image reference the signature vouches for, e.g. registry.example.com/ns/app:1.0 (default for docker:// images: the image's own reference)
    #[arg(long, value_name = "REF")]
    pub identity: Option<String>,
    /// Manifest digest to sign (sha256:<64 hex>)
    #[arg(long, value_name = "ALGO:HEX", conflicts_with = "manifest")]
    pub digest: Option<String>,
    /// Manifest file whose digest is signed (`-` for stdin)
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<OsString>,
    /// Where to write the signature (`-` or absent: stdout, never a terminal)
    #[arg(short = 'o', long = "output-file", visible_alias = "out", value_name = "FILE")]
    pub output_file: Option<OsString>,
    /// Replace an existing output file (-o only; lookaside signatures are never replaced)
    #[arg(long)]
    pub force: bool,
    /// Store as DIR/<repository path>@sha256=<hex>/signature-N (next free N)
    #[arg(long = "lookaside-dir", value_name = "DIR", conflicts_with = "output_file")]
    pub lookaside_dir: Option<PathBuf>,
    /// Read the key's passphrase from the first line of FILE (else $IMGSIG_PASSPHRASE)
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Multi-platform images: sign only the index, not every instance
    #[arg(long = "index-only")]
    pub index_only: bool,
    /// Read docker://REF images from FILE, one per line (# comments and blank lines skipped)
    #[arg(long = "from-file", value_name = "FILE")]
    pub from_file: Option<PathBuf>,
    /// Use no network: no socket to a registry or server is opened (signing --digest/--manifest into a file or --lookaside-dir; docker://REF images are refused)
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Images to sign: docker://REF
    #[arg(value_name = "docker://REF")]
    pub images: Vec<String>,
}

#[derive(Debug, Serialize)]
struct SignDoc {
    schema_version: u32,
    command: &'static str,
    format: &'static str,
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
    imgsig::signer::creator()
}

/// What kind of signature a source makes, for reports.
fn format_name(source: &Source) -> &'static str {
    if source.is_sigstore() {
        "sigstore"
    } else {
        "simple-signing"
    }
}

fn first_line(bytes: &[u8]) -> Result<String, Failure> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Failure::input("invalid-passphrase", anyhow!("passphrase file is not UTF-8")))?;
    Ok(text.lines().next().unwrap_or("").to_owned())
}

/// The passphrase: the first line of `--passphrase-file`, else `$IMGSIG_PASSPHRASE`.
/// It never comes from a flag value (it would show in `ps`).
pub(super) fn passphrase(passphrase_file: Option<&Path>) -> Result<Option<String>, Failure> {
    Ok(match passphrase_file {
        Some(p) => Some(first_line(&read_limited(
            "passphrase file",
            &FileArg::from(p.as_os_str()),
            64 * 1024,
        )?)?),
        None => std::env::var("IMGSIG_PASSPHRASE").ok(),
    })
}

fn load_sigstore_key(path: &Path, passphrase_file: Option<&Path>) -> Result<imgsig::sigstore::PrivateKey, Failure> {
    let key_bytes = read_limited("sigstore key file", &FileArg::Path(path.to_path_buf()), MAX_KEY_SIZE)?;
    let given = passphrase(passphrase_file)?;
    // cosign allows an empty passphrase: without one, try that.
    imgsig::sigstore::PrivateKey::from_file_bytes(&key_bytes, given.as_deref().unwrap_or("").as_bytes()).map_err(|e| {
        let (code, message) = match (e.code, &given) {
            ("wrong-passphrase", None) => (
                "passphrase-needed",
                "the key is encrypted with a passphrase: give --passphrase-file FILE or IMGSIG_PASSPHRASE".to_owned(),
            ),
            ("wrong-passphrase", Some(_)) => ("wrong-passphrase", e.message),
            ("unsupported-key", _) => ("unsupported-key", e.message),
            _ => ("invalid-key", e.message),
        };
        Failure::input(code, anyhow!("sigstore key file {}: {message}", path.display()))
    })
}

fn load_key(path: &Path, passphrase_file: Option<&Path>, now: SystemTime) -> Result<SigningKey, Failure> {
    let key_arg = FileArg::Path(path.to_path_buf());
    let key_bytes = read_limited("key file", &key_arg, MAX_KEY_SIZE)?;
    let password = passphrase(passphrase_file)?.map(|p| p.into());
    SigningKey::from_bytes(&key_bytes, password.as_ref(), now).map_err(|e| {
        let code = match e {
            KeyError::PassphraseNeeded => "passphrase-needed",
            KeyError::WrongPassphrase(_) => "wrong-passphrase",
            KeyError::NoSecretKey => "not-a-secret-key",
            _ => "invalid-key",
        };
        Failure::input(
            code,
            anyhow::Error::new(e).context(format!("key file {}", path.display())),
        )
    })
}

/// One secret key gpg knows: primary fingerprint and first user ID.
struct SecretKey {
    fingerprint: String,
    user_id: String,
}

/// How long one gpg or gpgconf call may take (gpg waits for a locked keyring
/// without a limit of its own).
const GPG_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Run gpg quietly (its own messages are not passed through; failures are
/// reported by imgsig in its own words), within [`GPG_TIMEOUT`] and
/// `MAX_KEY_SIZE` bytes of output.
fn gpg_output(args: &[&str]) -> Result<imgsig::child::Finished, Failure> {
    use imgsig::child::{self, Limits, RunError, Stderr};
    let limits = Limits {
        timeout: Some(GPG_TIMEOUT),
        max_output: MAX_KEY_SIZE,
        stderr: Stderr::Capture(64 * 1024),
    };
    let all = ["--batch"].iter().chain(args);
    child::run("gpg", all, b"", &limits).map_err(|e| match e {
        RunError::Start(e) => Failure::outside("signing-failed", anyhow!("cannot run gpg: {e}")),
        e => Failure::outside("signing-failed", anyhow!("gpg {}: {e}", args.join(" "))),
    })
}

/// The secret keys `selector` names, as `gpg -u` reads it: a fingerprint, a
/// (long) key ID, an e-mail address or a user ID substring.
fn secret_keys(selector: &str) -> Result<Vec<SecretKey>, Failure> {
    let out = gpg_output(&["--with-colons", "--list-secret-keys", "--", selector])?;
    let mut keys: Vec<SecretKey> = Vec::new();
    let mut in_primary = false;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split(':').collect();
        match f.first().copied() {
            Some("sec") => {
                in_primary = true;
                keys.push(SecretKey {
                    fingerprint: String::new(),
                    user_id: String::new(),
                });
            }
            Some("ssb") => in_primary = false,
            Some("fpr") if in_primary => {
                if let Some(k) = keys.last_mut().filter(|k| k.fingerprint.is_empty()) {
                    k.fingerprint = f.get(9).copied().unwrap_or_default().to_owned();
                }
            }
            Some("uid") => {
                if let Some(k) = keys.last_mut().filter(|k| k.user_id.is_empty()) {
                    // gpg escapes ':' and control characters as \xNN in colon listings.
                    k.user_id = f.get(9).copied().unwrap_or_default().replace("\\x3a", ":");
                }
            }
            _ => {}
        }
    }
    keys.retain(|k| !k.fingerprint.is_empty());
    Ok(keys)
}

fn agent_source(selector: &str, passphrase_file: Option<&Path>, now: SystemTime) -> Result<Source, Failure> {
    // Like gpg: make sure gpg-agent runs (it is started on demand; a killed or
    // never-started agent is no reason to fail). Best effort: if it cannot be
    // started, signing says so below.
    let _ = imgsig::child::run(
        "gpgconf",
        ["--launch", "gpg-agent"],
        b"",
        &imgsig::child::Limits {
            timeout: Some(GPG_TIMEOUT),
            max_output: 64 * 1024,
            stderr: imgsig::child::Stderr::Null,
        },
    );
    let keys = secret_keys(selector)?;
    let key = match keys.as_slice() {
        [one] => one,
        [] => {
            let public = gpg_output(&["--with-colons", "--list-keys", "--", selector])?;
            let has_public = String::from_utf8_lossy(&public.stdout)
                .lines()
                .any(|l| l.starts_with("pub:"));
            return Err(Failure::input(
                "no-secret-key",
                if has_public {
                    anyhow!("--sign-by {selector:?}: the GnuPG keyring (GNUPGHOME) has only the public key; there is no secret key to sign with")
                } else {
                    anyhow!("--sign-by {selector:?}: no secret key in the GnuPG keyring (GNUPGHOME) matches")
                },
            ));
        }
        many => {
            return Err(Failure::input(
                "ambiguous-key",
                anyhow!(
                    "--sign-by {selector:?} matches {} secret keys; name one by its fingerprint:\n{}",
                    many.len(),
                    many.iter()
                        .map(|k| format!("  {} {}", k.fingerprint, k.user_id.escape_debug()))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            ))
        }
    };
    let fpr = key.fingerprint.as_str();
    let out = gpg_output(&["--export", "--", fpr])?;
    if !out.status.success() || out.stdout.is_empty() {
        return Err(Failure::input(
            "no-secret-key",
            anyhow!("--sign-by {selector:?}: gpg could not export the public key {fpr}"),
        ));
    }
    // A selector that is itself a (sub)key's fingerprint or key ID picks that key.
    let hex = selector.trim().trim_start_matches("0x").replace(' ', "");
    let wanted = if hex.len() >= 16 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        hex
    } else {
        fpr.to_owned()
    };
    let passphrase = passphrase(passphrase_file)?.map(|p| p.into());
    let home = std::env::var_os("GNUPGHOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);
    let key = imgsig::signer::agent_key(home.as_deref(), &out.stdout, &wanted, passphrase, now)
        .map_err(|e| Failure::input("unusable-signing-key", anyhow!("--sign-by {selector:?} ({fpr}): {e}")))?;
    Ok(Source::Key(Box::new(key)))
}

fn load_source(args: &SignArgs, now: SystemTime) -> Result<Source, Failure> {
    if let Some(path) = &args.sigstore_key {
        return Ok(Source::Sigstore(Box::new(load_sigstore_key(
            path,
            args.passphrase_file.as_deref(),
        )?)));
    }
    if let Some(fpr) = &args.sign_by {
        return agent_source(fpr, args.passphrase_file.as_deref(), now);
    }
    match (&args.key, &args.sign_cmd, &args.signer_cert) {
        (Some(k), _, _) => Ok(Source::Key(Box::new(load_key(
            k,
            args.passphrase_file.as_deref(),
            now,
        )?))),
        (None, Some(cmd), Some(cert)) => {
            let keys = super::inputs::load_keyrings(std::slice::from_ref(cert))?;
            Ok(Source::Command {
                command: cmd.clone(),
                cert: Box::new(keys),
            })
        }
        _ => Err(Failure::input(
            "usage",
            anyhow!("give --key FILE, or --sign-cmd COMMAND with --signer-cert FILE"),
        )),
    }
}

fn sign_failure(e: SignFailure) -> Failure {
    match e {
        SignFailure::Failed(m) if m.to_ascii_lowercase().contains("pinentry") || m.contains("Inappropriate ioctl") => {
            Failure::outside(
                "signing-failed",
                anyhow!("{m}\nhint: gpg-agent could not ask for the passphrase (no terminal for pinentry): set GPG_TTY=$(tty) in this shell, or give --passphrase-file FILE or IMGSIG_PASSPHRASE"),
            )
        }
        SignFailure::Failed(m) if m.contains("No secret key") => Failure::input("no-secret-key", anyhow!("{m}")),
        SignFailure::Failed(m) => Failure::outside("signing-failed", anyhow!("{m}")),
        SignFailure::Refused { code, message } => Failure::no(code, anyhow!("{}; nothing was written", message)),
        // The library's enum is non-exhaustive: an unknown failure is the backend's.
        other => Failure::outside("signing-failed", anyhow!("{other}")),
    }
}

fn parse_identity(s: &str) -> Result<DockerReference, Failure> {
    let identity = DockerReference::parse_normalized(s)
        .map_err(|e| Failure::input("invalid-reference", anyhow!("--identity {s:?}: {e}")))?;
    if identity.is_name_only() {
        return Err(Failure::input(
            "invalid-reference",
            anyhow!(
                "--identity {s:?} has neither a tag nor a digest; policies reject such signatures (add a tag, e.g. {identity}:latest)"
            ),
        ));
    }
    Ok(identity)
}

/// Build the claim (or sigstore payload) for `digest` as `identity`, sign and check it.
fn make_signature(source: &mut Source, digest: &Digest, identity: &DockerReference) -> Result<ImageSignature, Failure> {
    source
        .sign_image(digest, identity, SystemTime::now())
        .map_err(sign_failure)
}

/// How a signer is named in messages.
fn signer_text(source: &Source, by: &SignedBy) -> String {
    if source.is_sigstore() {
        format!("sigstore key {}", by.primary_fingerprint)
    } else if by.primary_fingerprint == by.signing_fingerprint {
        format!("key {}", by.primary_fingerprint)
    } else {
        format!(
            "key {} (signing key {})",
            by.primary_fingerprint, by.signing_fingerprint
        )
    }
}

/// Store in a lookaside directory; returns the file written (or already there).
fn store(at: &lookaside::ImageLocation, blob: &[u8]) -> Result<(PathBuf, bool), Failure> {
    match store_unless(at, blob, |_| None::<std::convert::Infallible>)? {
        Stored::New(path) => Ok((path, true)),
        Stored::Identical(path) => Ok((path, false)),
        Stored::Covered(never) => match never {},
    }
}

/// What [`store_unless`] did.
enum Stored<T> {
    New(PathBuf),
    Identical(PathBuf),
    /// An existing signature already does the job (what `covered` found); nothing written.
    Covered(T),
}

/// Where signatures found in a lookaside directory are, and their bytes.
type Existing = Vec<(String, Vec<u8>)>;

/// Store `blob` in a lookaside directory unless `covered` finds, among the signatures already
/// there, one that does the same job. The check and the claim of the next `signature-N` are
/// one step: they happen under the directory's writer lock, so parallel runs of the same job
/// add one signature, not one each.
fn store_unless<T>(
    at: &lookaside::ImageLocation,
    blob: &[u8],
    covered: impl FnOnce(&Existing) -> Option<T>,
) -> Result<Stored<T>, Failure> {
    let dir = at.create().map_err(lookaside_failure)?;
    let locked = dir.lock();
    let existing: Existing = locked
        .signatures()
        .map_err(lookaside_failure)?
        .into_iter()
        .filter_map(|s| s.contents.ok().map(|b| (s.path.display().to_string(), b)))
        .collect();
    if let Some(found) = covered(&existing) {
        return Ok(Stored::Covered(found));
    }
    Ok(match locked.store_signature(blob).map_err(lookaside_failure)? {
        StoreOutcome::Written(n) => Stored::New(dir.path().join(format!("signature-{n}"))),
        StoreOutcome::AlreadyPresent(n) => Stored::Identical(dir.path().join(format!("signature-{n}"))),
    })
}

pub fn run(args: SignArgs, format: OutputFormat) -> Result<Exit, Failure> {
    if !args.images.is_empty() || args.from_file.is_some() {
        return run_images(args, format);
    }
    // Check everything that needs no I/O first.
    let identity_arg = args.identity.as_deref().ok_or_else(|| {
        Failure::input(
            "usage",
            anyhow!("give --identity REF with --digest or --manifest, or docker://REF images"),
        )
    })?;
    if args.digest.is_none() && args.manifest.is_none() {
        return Err(Failure::input(
            "usage",
            anyhow!("give --digest ALGO:HEX or --manifest FILE (or docker://REF images)"),
        ));
    }
    let out = args.output_file.as_deref().map(FileArg::from).unwrap_or(FileArg::Std);
    let to_stdout = out == FileArg::Std && args.lookaside_dir.is_none();
    if to_stdout && format == OutputFormat::Json {
        return Err(Failure::input(
            "conflicting-flags",
            anyhow!("--output json writes its report to stdout; give the signature a file with -o FILE"),
        ));
    }
    if to_stdout && stdout_is_terminal() {
        return Err(Failure::input(
            "terminal-output",
            anyhow!("refusing to write a binary signature to a terminal"),
        ));
    }
    if args.manifest.as_deref() == Some(std::ffi::OsStr::new("-"))
        && args.passphrase_file.as_deref() == Some(Path::new("-"))
    {
        return Err(Failure::input(
            "conflicting-flags",
            anyhow!("stdin cannot be both the manifest and the passphrase"),
        ));
    }
    let identity = parse_identity(identity_arg)?;
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
            // A manifest that readers read two ways is not signed: the file given is unusable.
            manifest::check_members(&bytes).map_err(|e| Failure::input(e.code(), anyhow!("manifest {m}: {e}")))?;
            manifest::manifest_digest(&bytes)
                .map_err(|e| Failure::input("invalid-manifest", anyhow!("manifest {m}: {e}")))?
        }
        (None, None) => unreachable!("checked above"),
    };

    let mut source = load_source(&args, SystemTime::now())?;
    let signed = make_signature(&mut source, &digest, &identity)?;

    let output = match (&args.lookaside_dir, &out) {
        (Some(dir), _) => store(&lookaside::ImageLocation::new(dir, &identity, &digest), &signed.blob)?
            .0
            .display()
            .to_string(),
        (None, FileArg::Path(p)) => {
            write_atomic(p, &signed.blob, args.force)?;
            out.to_string()
        }
        (None, FileArg::Std) => {
            write_stdout(&signed.blob)
                .map_err(|e| Failure::outside("io-error", anyhow!("writing the signature to stdout: {e}")))?;
            out.to_string()
        }
    };
    eprintln!(
        "imgsig: signed {digest} as {identity} with {} -> {output}",
        signer_text(&source, &signed.by)
    );
    if format == OutputFormat::Json {
        print_json(&SignDoc {
            schema_version: SCHEMA_VERSION,
            command: "sign",
            format: format_name(&source),
            output,
            identity: identity.to_string(),
            manifest_digest: digest.to_string(),
            signer: SignerJson {
                primary_fingerprint: signed.by.primary_fingerprint.clone(),
                signing_fingerprint: signed.by.signing_fingerprint.clone(),
            },
            creator: creator(),
            timestamp: signed.timestamp,
            signature_size: signed.blob.len(),
        });
    }
    Ok(Exit::Ok)
}

#[derive(Debug, Serialize)]
struct ImagesDoc {
    schema_version: u32,
    command: &'static str,
    signatures: Vec<SignatureJson>,
    errors: Vec<ImageError>,
}

#[derive(Debug, Serialize)]
struct SignatureJson {
    image: String,
    format: &'static str,
    identity: String,
    manifest_digest: String,
    /// For a multi-platform image: `index`, or `instance` with its platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
    output: String,
    written: bool,
    signer: SignerJson,
    timestamp: i64,
}

#[derive(Debug, Serialize)]
struct ImageError {
    image: String,
    code: &'static str,
    message: String,
}

fn sign_image(
    net: &Network,
    source: &mut Source,
    args: &SignArgs,
    input: &str,
    identity_override: Option<&DockerReference>,
    out: &mut Vec<SignatureJson>,
    progress: &Progress,
) -> Result<(), Failure> {
    let text = input.strip_prefix("docker://").unwrap_or(input);
    let r = DockerReference::parse_docker_transport(text)
        .map_err(|e| Failure::input("invalid-reference", anyhow!("{input:?}: {e}")))?;
    // The signed identity: as `skopeo copy --sign-by` writes it (normalised,
    // with the tag), unless --identity was given.
    let identity = match identity_override {
        Some(i) => i.clone(),
        None => r.clone(),
    };
    let top = net.manifest(&r)?;
    // (digest, role, platform): a multi-platform image's manifests are labelled.
    let instances = list_instances(&top.bytes);
    let top_role = instances.as_ref().map(|_| "index");
    let mut digests = vec![(top.digest.clone(), top_role, None)];
    if !args.index_only {
        for i in instances.into_iter().flatten() {
            let platform = i.platform();
            digests.push((i.digest, Some("instance"), Some(platform)));
        }
    }
    // Where: --lookaside-dir, else for sigstore signatures the registry's
    // attachments (as c/image: only when registries.d enables them), else the
    // registry signature API when the registry offers it, else registries.d
    // lookaside-staging.
    let sigstore = source.is_sigstore();
    if sigstore && args.lookaside_dir.is_none() && !net.0.uses_sigstore_attachments(&r) {
        let e = imgsig::registry::network::NetworkError::SigstoreAttachmentsDisabled {
            reference: r.to_string(),
        };
        return Err(super::net::network_failure(e));
    }
    let use_api = args.lookaside_dir.is_none() && (sigstore || net.signature_api(&r)?);
    for (d, role, platform) in &digests {
        let label = match (role, platform) {
            (Some(_), Some(p)) => format!(" (instance {p})"),
            (Some(role), None) => format!(" ({role})"),
            _ => String::new(),
        };
        let dir = if use_api {
            None
        } else {
            Some(match &args.lookaside_dir {
                Some(root) => lookaside::ImageLocation::new(root, &r, d),
                None => {
                    let base = net.0.registries_d().write_base(&r, net.0.builtin()).map_err(|e| {
                        Failure::input(
                            "invalid-registries-d",
                            anyhow::Error::new(e).context(format!("where to store signatures of {r}")),
                        )
                    })?;
                    lookaside::ImageLocation::from_file_url(&base, &r, d).map_err(|e| {
                        Failure::input(
                            "invalid-registries-d",
                            anyhow::Error::new(e).context(format!("storing signatures of {r}")),
                        )
                    })?
                }
            })
        };
        // Signing again what this key already signed (same digest, same identity)
        // would add one more signature on every run of a sign job: skip it.
        let existing: Vec<(String, Vec<u8>)> = match &dir {
            Some(dir) => lookaside::read_dir_signatures(dir.path())
                .map(|v| {
                    v.into_iter()
                        .filter_map(|s| s.contents.ok().map(|b| (s.path.display().to_string(), b)))
                        .collect()
                })
                .unwrap_or_default(),
            None => net
                .signatures(&r, d)?
                .signatures
                .into_iter()
                .filter_map(|s| s.blob.ok().map(|b| (s.source, b)))
                .collect(),
        };
        // (where it is, written now?, primary fpr, signing fpr, claim timestamp)
        let already = |found: (String, SignedBy, i64), source: &Source| {
            let (at, by, timestamp) = found;
            progress.println(&format!(
                "imgsig: {d}{label} is already signed as {identity} by {} ({at}); nothing added",
                signer_text(source, &by)
            ));
            (at, false, by.primary_fingerprint, by.signing_fingerprint, timestamp)
        };
        let (output, written, primary, signing, timestamp) =
            if let Some(found) = source.already_signed(&existing, d, &identity) {
                already(found, source)
            } else {
                let signed = make_signature(source, d, &identity)?;
                let stored = match (&dir, &signed.sigstore) {
                    (None, Some(sig)) => {
                        let written = net.put_sigstore_attachment(&r, d, sig)?;
                        let at = format!(
                            "the sigstore attachments at {}:{}",
                            r.name(),
                            imgsig::registry::attachment_tag(d)
                        );
                        Ok((at, written))
                    }
                    (None, None) => {
                        let written = net.put_signature(&r, d, &signed.blob)?;
                        Ok((format!("the signature API of {}", r.domain()), written))
                    }
                    // Checked again under the directory's lock: a parallel run of this job may
                    // have stored its signature since the check above.
                    (Some(dir), _) => {
                        match store_unless(dir, &signed.blob, |now| source.already_signed(now, d, &identity))? {
                            Stored::New(path) => Ok((path.display().to_string(), true)),
                            Stored::Identical(path) => Ok((path.display().to_string(), false)),
                            Stored::Covered(found) => Err(found),
                        }
                    }
                };
                match stored {
                    Err(found) => already(found, source),
                    Ok((output, written)) => {
                        progress.println(&format!(
                            "imgsig: signed {d}{label} as {identity} with {} -> {output}{}",
                            signer_text(source, &signed.by),
                            if written {
                                ""
                            } else {
                                " (identical signature already there)"
                            }
                        ));
                        (
                            output,
                            written,
                            signed.by.primary_fingerprint,
                            signed.by.signing_fingerprint,
                            signed.timestamp,
                        )
                    }
                }
            };
        out.push(SignatureJson {
            image: input.to_owned(),
            format: format_name(source),
            identity: identity.to_string(),
            manifest_digest: d.to_string(),
            role: *role,
            platform: platform.clone(),
            output,
            written,
            signer: SignerJson {
                primary_fingerprint: primary,
                signing_fingerprint: signing,
            },
            timestamp,
        });
    }
    Ok(())
}

fn run_images(args: SignArgs, format: OutputFormat) -> Result<Exit, Failure> {
    if args.offline {
        return Err(Failure::input(
            "offline-network-required",
            anyhow!("--offline: docker://REF images are read from their registry, which needs the network; sign --digest or --manifest FILE instead"),
        ));
    }
    if args.digest.is_some() || args.manifest.is_some() || args.output_file.is_some() {
        return Err(Failure::input(
            "usage",
            anyhow!("docker://REF images are signed at the digest the registry serves; --digest, --manifest and -o do not apply (use --lookaside-dir)"),
        ));
    }
    let images = super::inputs::read_list(&args.images, args.from_file.as_deref())?;
    if let Some(bad) = images.iter().find(|i| !i.starts_with("docker://")) {
        return Err(Failure::input("usage", anyhow!("{bad:?}: give images as docker://REF")));
    }
    let identity = match &args.identity {
        Some(_) if images.len() > 1 => {
            return Err(Failure::input("usage", anyhow!("--identity applies to one image only")))
        }
        Some(i) => Some(parse_identity(i)?),
        None => None,
    };
    let net = Network::new(&args.registry)?;
    let mut source = load_source(&args, SystemTime::now())?;
    let mut doc = ImagesDoc {
        schema_version: SCHEMA_VERSION,
        command: "sign",
        signatures: Vec::new(),
        errors: Vec::new(),
    };
    let mut exit = Exit::Ok;
    let progress = Progress::new(Some(images.len()), format);
    for (i, input) in images.iter().enumerate() {
        progress.start(i + 1, input);
        let signed = sign_image(
            &net,
            &mut source,
            &args,
            input,
            identity.as_ref(),
            &mut doc.signatures,
            &progress,
        );
        if let Err(f) = signed {
            progress.println(&format!(
                "imgsig: {}: {}",
                shown(input),
                Lines(&format!("{:#}", f.error))
            ));
            exit = exit.worst(f.exit);
            doc.errors.push(ImageError {
                image: input.clone(),
                code: f.code,
                message: format!("{:#}", f.error),
            });
        }
    }
    progress.clear();
    eprintln!(
        "imgsig: {} signature(s) for {} image(s), {} failed",
        doc.signatures.len(),
        images.len(),
        doc.errors.len()
    );
    if format == OutputFormat::Json {
        print_json(&doc);
    }
    Ok(exit)
}
