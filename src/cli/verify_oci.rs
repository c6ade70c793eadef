//! `imgsig verify oci:PATH[:TAG]` (and `oci-archive:`): the arguments of an
//! OCI image's verification as a request ([`imgsig::oci`] reads the layout).
//!
//! Without `--identity` the image is judged under the policy's `oci` /
//! `oci-archive` scopes of its path; with it, as that registry image (the
//! `docker` scope), as it will be pulled after the push. Signatures come from
//! `--signatures DIR`, or (with `--identity`, which names where they are
//! stored) `--lookaside URL|DIR` or registries.d; with neither, a scope that
//! needs signatures is an error (`identity-required`), one that does not
//! (`insecureAcceptAnything`, `reject`) decides as it is.

use std::ffi::OsString;

use anyhow::anyhow;

use super::inputs::verify_failure;
use super::net::{lookaside_url, network};
use super::verify_args::VerifyArgs;
use super::Failure;
use imgsig::oci::{is_oci, OciReference};
use imgsig::reference::DockerReference;
use imgsig::registry::network::Network;
use imgsig::verify::{ImageSource, Request, SignatureSource};
use imgsig::Reason;

fn usage(msg: &str) -> Failure {
    Failure::input(Reason::Usage, anyhow!("{msg}"))
}

/// The one `oci:` / `oci-archive:` argument, if that is what was given.
pub fn image_arg(inputs: &[OsString]) -> Result<Option<&str>, Failure> {
    match inputs {
        [one] => Ok(one.to_str().filter(|s| is_oci(s))),
        more if more.iter().any(|i| i.to_str().is_some_and(is_oci)) => {
            Err(usage("give one oci: or oci-archive: image per call"))
        }
        _ => Ok(None),
    }
}

/// An image argument of a transport imgsig does not read, as an error that says what to do.
pub fn unsupported(inputs: &[OsString]) -> Result<(), Failure> {
    match inputs
        .iter()
        .filter_map(|i| i.to_str())
        .find_map(imgsig::oci::unsupported_transport)
    {
        Some(e) => Err(super::sign_oci::oci_failure(e)),
        None => Ok(()),
    }
}

/// The request for `input`, and the network it needs (registries.d, an http(s) lookaside).
pub fn request(args: &VerifyArgs, input: &str) -> Result<(Request, Option<Network>), Failure> {
    if args.manifest.is_some() || args.digest.is_some() {
        return Err(usage(
            "an oci: image carries its own manifest; drop --manifest/--digest",
        ));
    }
    if !args.keyring.is_empty() {
        return Err(usage(
            "oci: images are verified with a policy (--policy); --keyring does not apply",
        ));
    }
    let reference = OciReference::parse(input).map_err(|e| verify_failure(e.into()))?;
    let identity = args
        .identity
        .as_deref()
        .map(|s| {
            DockerReference::parse_docker_transport(s)
                .map_err(|e| Failure::input(Reason::InvalidReference, anyhow!("--identity {s:?}: {e}")))
        })
        .transpose()?;
    if args.signatures.is_some() && args.registry.lookaside.is_some() {
        return Err(usage(
            "give one source of signatures: --signatures DIR or --lookaside URL|DIR",
        ));
    }
    let (signatures, net) = match (&args.signatures, &args.registry.lookaside, &identity) {
        (Some(dir), _, _) => (SignatureSource::Directory(dir.clone()), None),
        (None, Some(_), None) => {
            return Err(Failure::input(
                Reason::IdentityRequired,
                anyhow!(
                    "{input}: a lookaside stores signatures under a registry reference, and an oci: image has none; give --identity REF (the reference it is pushed as), or --signatures DIR"
                ),
            ))
        }
        // Nowhere to look: an error only if a requirement of its scope needs signatures.
        (None, None, None) => (SignatureSource::Configured, None),
        (None, Some(l), Some(_)) => {
            let url = lookaside_url(l)?;
            if url.scheme() != "file" && args.offline.offline {
                return Err(Failure::input(
                    Reason::OfflineNetworkRequired,
                    anyhow!("--offline: the lookaside {url} needs the network, and --offline opens no socket; use a local lookaside directory"),
                ));
            }
            let net = (url.scheme() != "file").then(|| network(&args.registry)).transpose()?;
            (SignatureSource::Lookaside(url), net)
        }
        (None, None, Some(r)) => {
            let net = network(&args.registry)?;
            if !args.offline.offline {
                (SignatureSource::Configured, Some(net))
            } else {
                // Offline, only a local registries.d lookaside can be read.
                let url = net
                    .configured_lookaside(r)
                    .map_err(super::net::network_failure)?
                    .ok_or_else(|| verify_failure(imgsig::verify::no_signature_source(r)))?;
                if url.scheme() != "file" {
                    return Err(Failure::input(
                        Reason::OfflineNetworkRequired,
                        anyhow!("--offline: the registries.d lookaside {url} of {r} needs the network, and --offline opens no socket; give --lookaside DIR"),
                    ));
                }
                (SignatureSource::Lookaside(url), None)
            }
        }
    };
    Ok((
        Request {
            image: ImageSource::Oci { reference, identity },
            signatures,
        },
        net,
    ))
}
