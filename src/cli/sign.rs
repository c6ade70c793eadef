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

use std::path::Path;
use std::time::SystemTime;

use anyhow::anyhow;

use super::io::{read_limited, stdout_is_terminal};
use super::progress::Progress;
pub use super::sign_args::SignArgs;
use super::sign_key::load_signer;
use super::sign_render::{self as render, failure};
use super::{Exit, Failure, FileArg, OutputFormat};
use crate::limits::MAX_MANIFEST_SIZE;
use imgsig::digest::Digest;
use imgsig::oci::is_oci;
use imgsig::reference::DockerReference;
use imgsig::sign::{Destination, Request, Signing};
use imgsig::Reason;

pub const EXAMPLES: &str = "WHERE SIGNATURES GO (the first that applies):
  --digest/--manifest: -o FILE, stdout, or --lookaside-dir DIR.
  docker://REF images:
    1. --lookaside-dir DIR
    2. --sigstore-key: the registry's sigstore attachments, when registries.d
       sets use-sigstore-attachments for the image (else an error)
    3. the registry's signature API, when the registry has one
    4. the image's registries.d entry: lookaside-staging, else lookaside (a
       file:// URL; the directory is --registries-d DIR, default
       ~/.config/containers/registries.d if it exists, else
       /etc/containers/registries.d)
    5. nothing configured: the built-in default store, which only containers
       tools on this machine read (/var/lib/containers/sigstore as root,
       ~/.local/share/containers/sigstore otherwise); imgsig warns when it is
       used
  oci:PATH / oci-archive:FILE images: -o FILE (an image of one manifest), else
  as for docker://REF images, for the --identity reference.
  --output json says which in destination_source: caller (-o, stdout),
  lookaside-dir, sigstore-attachments, signature-api, registries.d,
  built-in-default.

EXAMPLES:
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

  # Sign the image a build wrote (an OCI layout) before pushing it
  imgsig sign --sign-by ci@example.com --identity registry.example.com/ns/app:1.0 \\
      --lookaside-dir /srv/sigstore oci:build/app:1.0
  skopeo copy --preserve-digests oci:build/app:1.0 docker://registry.example.com/ns/app:1.0

  # A signing server or HSM wrapper: claim on stdin, signed message on stdout
  imgsig sign --sign-cmd 'gpg --batch --sign -u ci@example.com' --signer-cert ci.pub \\
      --lookaside-dir /srv/sigstore docker://registry.example.com/ns/app:1.0

  # A sigstore (cosign) signature with a cosign/skopeo private key, stored as a
  # registry attachment (registries.d: use-sigstore-attachments: true)
  imgsig sign --sigstore-key cosign.key --passphrase-file pass.txt \\
      docker://registry.example.com/ns/app:1.0";

fn parse_identity(s: &str) -> Result<DockerReference, Failure> {
    let identity = DockerReference::parse_normalized(s)
        .map_err(|e| Failure::input(Reason::InvalidReference, anyhow!("--identity {s:?}: {e}")))?;
    if identity.is_name_only() {
        return Err(Failure::input(
            Reason::InvalidReference,
            anyhow!(
                "--identity {s:?} has neither a tag nor a digest; policies reject such signatures (add a tag, e.g. {identity}:latest)"
            ),
        ));
    }
    Ok(identity)
}

/// `what: message` of a library error.
fn about(what: impl std::fmt::Display) -> impl FnOnce(imgsig::sign::SignError) -> Failure {
    move |e| failure(e.context(what))
}

pub fn run(args: SignArgs, format: OutputFormat) -> Result<Exit, Failure> {
    if !args.images.is_empty() || args.list.from_file.is_some() {
        return run_images(args, format);
    }
    // Check everything that needs no I/O first.
    let identity_arg = args.identity.as_deref().ok_or_else(|| {
        Failure::input(
            Reason::Usage,
            anyhow!("give --identity REF with --digest or --manifest, or docker://REF images"),
        )
    })?;
    if args.digest.is_none() && args.manifest.is_none() {
        return Err(Failure::input(
            Reason::Usage,
            anyhow!("give --digest ALGO:HEX or --manifest FILE (or docker://REF images)"),
        ));
    }
    let out = args.output_file.as_deref().map(FileArg::from).unwrap_or(FileArg::Std);
    let to_stdout = out == FileArg::Std && args.lookaside_dir.is_none();
    if to_stdout && format == OutputFormat::Json {
        return Err(Failure::input(
            Reason::ConflictingFlags,
            anyhow!("--output json writes its report to stdout; give the signature a file with -o FILE"),
        ));
    }
    if to_stdout && stdout_is_terminal() {
        return Err(Failure::input(
            Reason::TerminalOutput,
            anyhow!("refusing to write a binary signature to a terminal"),
        ));
    }
    if args.manifest.as_deref() == Some(std::ffi::OsStr::new("-"))
        && args.passphrase_file.as_deref() == Some(Path::new("-"))
    {
        return Err(Failure::input(
            Reason::ConflictingFlags,
            anyhow!("stdin cannot be both the manifest and the passphrase"),
        ));
    }
    let identity = parse_identity(identity_arg)?;
    let destination = match &args.lookaside_dir {
        Some(dir) => Destination::LookasideDir(dir.clone()),
        None => Destination::Caller,
    };
    let request = match (&args.digest, &args.manifest) {
        (Some(d), _) => {
            let d = Digest::parse(d).map_err(|e| Failure::input(Reason::InvalidDigest, anyhow!("--digest: {e}")))?;
            Request::digest(d, identity, destination).map_err(|mut e| {
                e.message = format!("--digest {}", e.message);
                failure(e)
            })?
        }
        (None, Some(m)) => {
            let m = FileArg::from(m.as_os_str());
            let bytes = read_limited("manifest", &m, MAX_MANIFEST_SIZE)?;
            Request::manifest(&bytes, identity, destination).map_err(about(format!("manifest {m}")))?
        }
        (None, None) => unreachable!("checked above"),
    };
    let signer = load_signer(&args.keys, args.passphrase_file.as_deref(), SystemTime::now())?;
    render::single(&Signing::new(&signer, None).sign(&request), &out, args.force, format)
}

fn run_images(args: SignArgs, format: OutputFormat) -> Result<Exit, Failure> {
    if args.images.iter().any(|i| is_oci(i)) {
        let images = super::inputs::read_list(&args.images, args.list.from_file.as_deref())?;
        return super::sign_oci::run(args, images, format);
    }
    if args.offline.offline {
        return Err(Failure::input(
            Reason::OfflineNetworkRequired,
            anyhow!("--offline: docker://REF images are read from their registry, which needs the network; sign --digest or --manifest FILE instead"),
        ));
    }
    if args.digest.is_some() || args.manifest.is_some() || args.output_file.is_some() {
        return Err(Failure::input(
            Reason::Usage,
            anyhow!("docker://REF images are signed at the digest the registry serves; --digest, --manifest and -o do not apply (use --lookaside-dir)"),
        ));
    }
    if args.list.from_file.as_deref() == Some(Path::new("-")) && args.passphrase_file.as_deref() == Some(Path::new("-"))
    {
        return Err(Failure::input(
            Reason::ConflictingFlags,
            anyhow!("stdin cannot be both the image list and the passphrase"),
        ));
    }
    let images = super::inputs::read_list(&args.images, args.list.from_file.as_deref())?;
    if images.iter().any(|i| is_oci(i)) {
        return super::sign_oci::run(args, images, format);
    }
    if let Some(bad) = images.iter().find(|i| !i.starts_with("docker://")) {
        if let Some(e) = imgsig::oci::unsupported_transport(bad) {
            return Err(super::sign_oci::oci_failure(e));
        }
        return Err(Failure::input(
            Reason::Usage,
            anyhow!("{bad:?}: give images as docker://REF"),
        ));
    }
    let identity = match &args.identity {
        Some(_) if images.len() > 1 => {
            return Err(Failure::input(
                Reason::Usage,
                anyhow!("--identity applies to one image only"),
            ))
        }
        Some(i) => Some(parse_identity(i)?),
        None => None,
    };
    let destination = match &args.lookaside_dir {
        Some(dir) => Destination::LookasideDir(dir.clone()),
        None => Destination::Registry,
    };
    let net = super::net::network(&args.registry)?;
    let signer = load_signer(&args.keys, args.passphrase_file.as_deref(), SystemTime::now())?;
    let signing = Signing::new(&signer, Some(&net));
    let mut done = render::Images::new(format, images.len()).registries_d(args.registry.registries_d.as_deref());
    let progress = Progress::new(Some(images.len()), format);
    for (i, input) in images.iter().enumerate() {
        progress.start(i + 1, input);
        let request = Request::image(input, identity.clone(), destination.clone());
        let outcome = request
            .map(|r| signing.sign(&r.index_only(args.index_only)))
            .map_err(failure);
        done.image(i + 1, input, outcome, &progress);
    }
    progress.clear();
    Ok(done.finish())
}
