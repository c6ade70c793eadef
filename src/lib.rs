//! imgsig: sign container images and verify them before they run.
//!
//! The library implements containers/image "simple signing": the claim
//! ([`claim`]), manifest digests ([`manifest`], [`digest`]), docker
//! references ([`reference`](mod@reference)), the OpenPGP envelope ([`pgp`]), one
//! signature's checks ([`signature`]), sigstore (cosign) signatures'
//! cryptography ([`sigstore`]), policies ([`policy`]), where
//! signatures are stored ([`store`], [`registry`]) and, on top of them, the
//! one verification pipeline every input mode goes through ([`verify`]) and
//! the one signing pipeline every key source goes through ([`sign`]).
//! The `imgsig` command line is a thin layer over it, part of the binary only.
//!
//! # Verify an image in one call
//!
//! ```
//! use imgsig::policy::{self, ParseOptions};
//! use imgsig::reference::DockerReference;
//! use imgsig::verify::{ImageSource, Options, Request, SignatureFile, SignatureSource, Trust, Verifier};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cmd/fixtures");
//! // A containers-policy.json; its keys are loaded once, here.
//! let policy = policy::parse(&std::fs::read(format!("{dir}/policy.json"))?, &ParseOptions::default())?;
//! let trust = Trust::Policy(policy);
//! // No network: local files only (a registry::network::Network adds registries and lookasides).
//! let verifier = Verifier::new(&trust, None, Options::default());
//! let report = verifier.verify(&Request {
//!     image: ImageSource::Manifest {
//!         bytes: std::fs::read(format!("{dir}/image.manifest.json"))?,
//!         identity: DockerReference::parse_docker_transport("testing/manifest")?,
//!         origin: "image.manifest.json".into(),
//!     },
//!     signatures: SignatureSource::Files(vec![SignatureFile::Path(format!("{dir}/image.signature").into())]),
//! })?;
//! assert!(report.accepted);
//! assert_eq!(
//!     report.verified_reference.as_deref(),
//!     Some("docker.io/testing/manifest@sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55")
//! );
//!
//! // The same image with another manifest: rejected, and the report says why.
//! let report = verifier.verify(&Request {
//!     image: ImageSource::Manifest {
//!         bytes: std::fs::read(format!("{dir}/modified.manifest.json"))?,
//!         identity: DockerReference::parse_docker_transport("testing/manifest")?,
//!         origin: "modified.manifest.json".into(),
//!     },
//!     signatures: SignatureSource::Files(vec![SignatureFile::Path(format!("{dir}/image.signature").into())]),
//! })?;
//! assert!(!report.accepted);
//! let imgsig::verify::Judgement::Policy(decision) = &report.checks[0].judgement else { unreachable!() };
//! let why = decision.requirements[0].signatures[0].result.as_ref().unwrap_err();
//! assert_eq!(why.code, "digest-mismatch");
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

// First: the macro its modules declare their reason codes with.
#[macro_use]
mod reason;

// The one bounded child-process runner (credential helpers, --sign-cmd, gpg).
mod child;
pub mod claim;
pub mod digest;
pub mod fetch;
// Private leaf modules the binary also compiles from the same source (see
// src/main.rs): parts of them only the binary uses.
#[allow(dead_code)]
mod files;
mod json;
#[allow(dead_code)]
mod limits;
pub mod manifest;
pub mod pgp;
pub mod platform;
pub mod policy;
pub mod reference;
pub mod registry;
#[allow(dead_code)]
mod shown;
pub mod sign;
pub mod signature;
pub mod sigstore;
pub mod store;
mod time;
pub mod verify;

/// A URL (a lookaside's base, a signature's location): the `url` crate's
/// type, re-exported on purpose, so that an embedder names the same type the
/// library's requests and configuration take.
pub use reqwest::Url;

pub use reason::Reason;

/// Internals the fuzz targets (`fuzz/`) drive directly; not part of the
/// API: present only with the `fuzzing` feature, which nothing else enables.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::pgp::gpg_form_agrees;
    pub use crate::registry::client::{parse_signature_list, MAX_SIGNATURES};
}

// The fuzz targets' checks (fuzz/src/lib.rs, written against `imgsig::`)
// replayed on every seed and regression input as unit tests.
#[cfg(test)]
extern crate self as imgsig;
#[cfg(test)]
mod fuzz_regressions;
