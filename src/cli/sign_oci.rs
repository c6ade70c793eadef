//! `imgsig sign --identity REF oci:PATH[:TAG]` (and `oci-archive:`): sign
//! the image a build wrote, before it is pushed, as the registry will serve
//! it after `skopeo copy --preserve-digests` ([`imgsig::oci`]). The rest is
//! `sign docker://`'s: the same report, document and destinations.

use std::time::SystemTime;

use anyhow::anyhow;

use super::io::stdout_is_terminal;
use super::progress::Progress;
use super::sign_args::SignArgs;
use super::sign_key::load_signer;
use super::sign_render::{failure, Images};
use super::{Exit, Failure, FileArg, OutputFormat};
use imgsig::oci::{is_oci, OciError};
use imgsig::reference::DockerReference;
use imgsig::sign::{Destination, Request, Signing};
use imgsig::Reason;

/// A library error about an OCI image (or an unsupported transport) as a CLI failure.
pub fn oci_failure(e: OciError) -> Failure {
    failure(e.into())
}

fn usage(msg: &str) -> Failure {
    Failure::input(Reason::Usage, anyhow!("{msg}"))
}

pub fn run(args: SignArgs, images: Vec<String>, format: OutputFormat) -> Result<Exit, Failure> {
    if args.digest.is_some() || args.manifest.is_some() {
        return Err(usage(
            "oci: images are signed at the digest of their manifest in the layout; --digest and --manifest do not apply",
        ));
    }
    // `-o FILE` (`-` for stdout): the one signature written there, as for --manifest.
    let out = args.output_file.as_deref().map(FileArg::from);
    if out == Some(FileArg::Std) && format == OutputFormat::Json {
        return Err(Failure::input(
            Reason::ConflictingFlags,
            anyhow!("--output json writes its report to stdout; give the signature a file with -o FILE"),
        ));
    }
    if out == Some(FileArg::Std) && stdout_is_terminal() {
        return Err(Failure::input(
            Reason::TerminalOutput,
            anyhow!("refusing to write a binary signature to a terminal"),
        ));
    }
    let [input] = images.as_slice() else {
        return Err(usage(
            "sign one oci: or oci-archive: image per call, with the --identity it will be pulled by",
        ));
    };
    debug_assert!(is_oci(input));
    let identity = args
        .identity
        .as_deref()
        .map(|s| {
            DockerReference::parse_normalized(s)
                .map_err(|e| Failure::input(Reason::InvalidReference, anyhow!("--identity {s:?}: {e}")))
        })
        .transpose()?;
    let destination = match (&args.lookaside_dir, &out) {
        (Some(dir), _) => Destination::LookasideDir(dir.clone()),
        (None, Some(_)) => Destination::Caller,
        (None, None) => Destination::Registry,
    };
    // Checked (the reference, the identity) before any key is loaded.
    let request = Request::oci(input, identity, destination.clone())
        .map_err(failure)?
        .index_only(args.index_only);
    // The network configuration only where registries.d chooses the destination.
    let net = match (&destination, args.offline.offline) {
        (Destination::Registry, false) => Some(super::net::network(&args.registry)?),
        _ => None,
    };
    let signer = load_signer(&args.keys, args.passphrase_file.as_deref(), SystemTime::now())?;
    let signing = Signing::new(&signer, net.as_ref());
    if let Some(out) = &out {
        return super::sign_render::single(&signing.sign(&request), out, args.force, format);
    }
    let mut done = Images::new(format, 1).registries_d(args.registry.registries_d.as_deref());
    let progress = Progress::new(Some(1), format);
    progress.start(1, input);
    done.image(1, input, Ok(signing.sign(&request)), &progress);
    progress.clear();
    Ok(done.finish())
}
