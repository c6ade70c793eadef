//! imgsig: sign container images and verify them before they run.
//!
//! The library implements containers/image "simple signing": the claim
//! ([`claim`]), manifest digests ([`manifest`], [`digest`]), docker
//! references ([`reference`](mod@reference)), images as built (`oci:` layouts
//! and `oci-archive:` tars, [`oci`]), the OpenPGP envelope ([`pgp`]), one
//! signature's checks ([`signature`]), sigstore (cosign) signatures'
//! cryptography ([`sigstore`]), policies ([`policy`]), where
//! signatures are stored ([`store`], [`registry`]) and, on top of them, the
//! one verification pipeline every input mode goes through ([`verify`]) and
//! the one signing pipeline every key source goes through ([`sign`]).
//! The `imgsig` command line is a thin layer over it, part of the binary only.
//!
//! Three pipelines, one shape each — a checked request in, a report out,
//! errors classed as unusable input, an outside failure, or a rejection
//! ([`verify::ErrorClass`]): [`verify`] ([`verify::Verifier`]), [`sign`]
//! ([`sign::Signing`]) and [`fetch`] ([`fetch::Fetcher`]). Reports say what
//! was done and why; [`verify::Report::to_json_document`] gives the
//! documented JSON. Policies are read with [`policy::parse`] and edited with
//! [`policy::edit`]. Nothing in the library prints or reads the environment:
//! a [`registry::network::Network`] built from a
//! [`registry::network::NetworkConfig`] is how it reaches registries, and
//! without one no socket is opened. `examples/embed.rs` is a whole program.
//!
//! # Sign a manifest into a lookaside directory
//!
//! ```
//! use imgsig::reference::DockerReference;
//! use imgsig::sign::{Destination, Request, Signer, Signing};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
//! let key = std::fs::read(format!("{examples}/demo-signer.secret.asc"))?;
//! let signer = Signer::key_file(&key, None, "demo-signer", std::time::SystemTime::now())?;
//! let dir = std::env::temp_dir().join(format!("imgsig-crate-doc-{}", std::process::id()));
//! let request = Request::manifest(
//!     &std::fs::read(format!("{examples}/manifest.json"))?,
//!     DockerReference::parse_normalized("registry.example.com/demo/app:1.0")?,
//!     Destination::LookasideDir(dir.clone()),
//! )?;
//! let report = Signing::new(&signer, None).sign(&request);
//! assert!(report.error.is_none());
//! assert!(report.entries[0].outcome.written());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! # Fetch an image into a mirror for an air-gapped site
//!
//! (Needs a registry: compiled here, run by `tests/fetch_api.rs`.)
//!
//! ```no_run
//! use imgsig::fetch::{Fetcher, Options, Request};
//! use imgsig::registry::network::Network;
//! use imgsig::store::mirror::Mirror;
//!
//! fn carry(network: &Network) -> Result<(), Box<dyn std::error::Error>> {
//! let mirror = Mirror::create("/media/usb/mirror".as_ref())?;
//! let report = Fetcher::new(network, &mirror, Options::default())
//!     .fetch(&Request::parse("docker://registry.example.com/ns/app:1.0")?);
//! assert!(report.error.is_none());
//! println!("{} new signature(s)", report.signatures_new());
//! Ok(())
//! }
//! # fn main() {}
//! ```
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
#![warn(missing_docs)]

// First: the macro its modules declare their reason codes with.
#[macro_use]
mod reason;

// The one bounded child-process runner (credential helpers, --sign-cmd, gpg).
mod child;
pub mod claim;
pub mod digest;
pub mod fetch;
pub mod inspect;
// Private leaf modules the binary also compiles from the same source (see
// src/main.rs): parts of them only the binary uses.
#[allow(dead_code)]
mod files;
mod json;
#[allow(dead_code)]
mod limits;
pub mod manifest;
pub mod oci;
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
    pub use crate::limits::MAX_MANIFEST_SIZE;
    pub use crate::oci::archive_entries as oci_archive_entries;
    pub use crate::pgp::gpg_form_agrees;
    pub use crate::registry::client::{parse_signature_list, MAX_SIGNATURES};
}

// The fuzz targets' checks (fuzz/src/lib.rs, written against `imgsig::`)
// replayed on every seed and regression input as unit tests.
#[cfg(test)]
extern crate self as imgsig;
#[cfg(test)]
mod fuzz_regressions;
