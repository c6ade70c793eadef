//! Carrying images into a mirror: the manifests and signatures a registry
//! (and its lookaside) has for an image, copied into a local directory in
//! the lookaside layout, to verify in an air-gapped site
//! ([`crate::verify::ImageSource::Mirror`]).
//!
//! [`Fetcher::fetch`] takes one [`Request`] (an image reference) and returns
//! one [`Report`]:
//!
//! 1. The reference is resolved to its top-level manifest; for a
//!    multi-platform image (index) every instance's manifest is fetched too,
//!    each checked against its digest, before anything is written.
//! 2. For each manifest in turn, its signatures are read, then the manifest
//!    and the signatures are stored ([`Mirror`], which never overwrites or
//!    deletes anything and writes nothing for a manifest until its reads are
//!    done).
//! 3. The image counts as mirrored only when every signature the source has
//!    is stored (one over the size limit cannot be: `signature-not-mirrored`,
//!    a failure outside). Then, and last, a reference by tag gets its tag
//!    record ([`crate::store::mirror::TagRecord`]): what the tag resolved to;
//!    when the tag has moved, the report says from what
//!    ([`Report::tag_moved`]).
//! 4. A mirrored image whose source has no signature for any of its
//!    manifests is [`Report::unsigned`]: mirrored as the registry has it, but
//!    not what a mirror is for (an air-gapped verify will find nothing to
//!    check); the caller decides whether that fails the run.
//!
//! A failure stops the image and is the report's [`Report::error`]; what was
//! stored before it is listed. Nothing is printed and nothing is read from the
//! environment: the [`Network`] and the clock ([`Options::now`]) are given.
//!
//! ```no_run
//! use imgsig::fetch::{Fetcher, Options, Request};
//! use imgsig::store::mirror::Mirror;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let network: imgsig::registry::network::Network = unimplemented!();
//! let mirror = Mirror::create("/media/usb/mirror".as_ref())?;
//! let fetcher = Fetcher::new(&network, &mirror, Options::default());
//! let report = fetcher.fetch(&Request::parse("docker://registry.example.com/ns/app:1.0")?);
//! match &report.error {
//!     None => println!("{} manifest(s), {} new signature(s)", report.manifests.len(), report.signatures_new()),
//!     Some(e) => eprintln!("{}: {e}", e.code),
//! }
//! # Ok(())
//! # }
//! ```
//! (The test `tests/fetch_api.rs` runs this against a registry.)

use std::time::SystemTime;

use crate::platform;
use crate::reference::DockerReference;
use crate::registry::network::Network;
use crate::store::mirror::{ImageCopy, Mirror, SkippedSignature};
use crate::verify::Role;
use crate::Reason;

mod error;
mod report;

pub use error::{ErrorClass, FetchError};
pub use report::{CarriedManifest, Report};

/// One image to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request {
    /// By tag (then a tag record is written) or by digest.
    pub reference: DockerReference,
}

impl Request {
    /// The image `reference`.
    pub fn new(reference: DockerReference) -> Request {
        Request { reference }
    }

    /// `docker://REF` (or `REF`); an unusable reference is an input error
    /// (`invalid-reference`) naming `input`.
    pub fn parse(input: &str) -> Result<Request, FetchError> {
        let text = input.strip_prefix("docker://").unwrap_or(input);
        DockerReference::parse_docker_transport(text)
            .map(Request::new)
            .map_err(|e| FetchError::input(Reason::InvalidReference, format!("{input:?}: {e}")))
    }
}

/// How to fetch.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// When the tags are resolved: the tag records' `fetched_at`.
    pub now: SystemTime,
}

impl Default for Options {
    fn default() -> Options {
        Options { now: SystemTime::now() }
    }
}

impl Options {
    /// Options with the clock at `now`.
    pub fn at(now: SystemTime) -> Options {
        Options { now }
    }
}

/// Fetches images from registries into one mirror; shareable across threads.
pub struct Fetcher<'a> {
    network: &'a Network,
    mirror: &'a Mirror,
    options: Options,
}

impl<'a> Fetcher<'a> {
    /// A fetcher reading through `network` and writing into `mirror`.
    pub fn new(network: &'a Network, mirror: &'a Mirror, options: Options) -> Fetcher<'a> {
        Fetcher {
            network,
            mirror,
            options,
        }
    }

    /// Fetch one image into the mirror.
    pub fn fetch(&self, req: &Request) -> Report {
        let mut report = Report {
            reference: req.reference.clone(),
            digest: None,
            manifests: Vec::new(),
            tag_record: None,
            warnings: Vec::new(),
            error: None,
        };
        let mut copy = self.mirror.image(&req.reference);
        if let Err(e) = self.carry(&req.reference, &mut copy, &mut report) {
            report.error = Some(e);
        }
        report
    }

    fn carry(&self, r: &DockerReference, copy: &mut ImageCopy<'_>, report: &mut Report) -> Result<(), FetchError> {
        let warnings = &mut report.warnings;
        let top = self.network.manifest(r, warnings)?;
        report.digest = Some(top.digest.clone());
        let instances = platform::list_instances(&top.bytes).unwrap_or_default();
        let role = if instances.is_empty() { Role::Image } else { Role::Index };
        let mut wanted = vec![(role, top)];
        for i in &instances {
            let m = self.network.manifest_by_digest(r, &i.digest, warnings)?;
            wanted.push((Role::Instance(i.platform.clone()), m));
        }
        for (role, m) in wanted {
            let fetched = self.network.signatures(r, &m.digest, warnings)?;
            let (sigs, looked_in) = (fetched.signatures, fetched.looked_in);
            let blobs = sigs.iter().map(|s| match &s.blob {
                Ok(b) => Ok(b.as_slice()),
                Err(why) => Err(SkippedSignature {
                    source: s.source.clone(),
                    reason: why.clone(),
                }),
            });
            let stored = copy.store(&m.digest, &m.bytes, blobs)?.clone();
            report.manifests.push(CarriedManifest {
                role,
                stored,
                looked_in,
            });
        }
        // Last: a record never names a manifest that is not in the mirror.
        let fetched_at = crate::time::unix_seconds(self.options.now);
        report.tag_record = copy.write_record(fetched_at, &instances)?;
        Ok(())
    }
}
