//! One signing pipeline for every input and every signer.
//!
//! [`Signing::sign`] takes one [`Request`] (a manifest digest, a manifest,
//! a registry image, or an image in an OCI layout or archive; the identity;
//! the [`Destination`]) and returns one
//! [`Report`], signing as `skopeo copy --sign-by` / containers/image's
//! `copy/sign.go` do:
//!
//! 1. A registry image is read at the digest its registry serves now; a
//!    multi-platform image's index and every instance are signed (unless
//!    [`Request::index_only`]). An `oci:` / `oci-archive:` image
//!    ([`Request::oci`]) is read from its layout, at the digest the registry
//!    will serve after `skopeo copy --preserve-digests`; its signatures are
//!    stored under its identity's repository.
//! 2. The destination is chosen once per image ([`Destination`]).
//! 3. A manifest that this signer already signed as this identity (a valid
//!    signature in the destination) is skipped: signing again would add one
//!    more signature on every run of a sign job.
//! 4. Each signature is checked before it is stored (valid, over exactly
//!    this claim, by the expected key), and never overwrites one: a lookaside
//!    directory takes the next free `signature-N`; the already-signed check
//!    and the claim of `signature-N` happen under the directory's lock, so
//!    parallel runs of a job add one signature, not one each.
//! 5. A big index's instances are signed concurrently when they go to
//!    directories (bounded by the available cores; a signing command, which
//!    may ask a person, signs one at a time); the report keeps the index's
//!    order.
//!
//! The [`Signer`] is one type for every key source: a secret key file, a
//! key held by gpg-agent ([`Signer::gpg_agent`]), an external signing
//! command, a sigstore (cosign) private key. Nothing here prints or reads
//! the environment.
//!
//! ```
//! use imgsig::reference::DockerReference;
//! use imgsig::sign::{Destination, Outcome, Request, Signer, Signing};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
//! let key = std::fs::read(format!("{examples}/demo-signer.secret.asc"))?;
//! let signer = Signer::key_file(&key, None, "key file demo-signer.secret.asc", std::time::SystemTime::now())?;
//! let store = std::env::temp_dir().join(format!("imgsig-doc-{}", std::process::id()));
//! let request = Request::manifest(
//!     &std::fs::read(format!("{examples}/manifest.json"))?,
//!     DockerReference::parse_normalized("registry.example.com/demo/app:1.0")?,
//!     Destination::LookasideDir(store.clone()),
//! )?;
//! // No network: a manifest file signed into a lookaside directory.
//! let report = Signing::new(&signer, None).sign(&request);
//! assert!(report.error.is_none());
//! let Outcome::Written { at } = &report.entries[0].outcome else { unreachable!() };
//! assert!(at.ends_with("/demo/app@sha256=c198b3172a3b0d03c1f8b29b6580d94c614a31a53079419d6e81ad2a43de71df/signature-1"));
//! # std::fs::remove_dir_all(&store)?;
//! # Ok(())
//! # }
//! ```

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

use crate::digest::Digest;
use crate::reference::DockerReference;
use crate::registry::network::Network;
use crate::store::lookaside::{self, ImageLocation, StoreOutcome};
use crate::Reason;

mod destination;
mod error;
mod gpg;
mod report;
mod request;
mod signer;

pub use destination::{ChosenDestination, DestinationSource};
pub(crate) use error::chain;
pub use error::{ErrorClass, SignError};
pub use gpg::GpgOptions;
pub use report::{Entry, Outcome, Report, Role};
pub use request::{Destination, Request};
pub use signer::{creator, Format, Signature, Signer};

use destination::Place;
use request::Image;
use signer::Found;

/// Signs images with one signer; shareable across threads.
pub struct Signing<'a> {
    signer: &'a Signer,
    network: Option<&'a Network>,
}

/// Where signatures found in a lookaside directory are, and their bytes.
type Existing = Vec<(String, Vec<u8>)>;

/// One manifest to sign.
struct Job {
    digest: Digest,
    role: Role,
}

impl<'a> Signing<'a> {
    /// Sign with `signer`; `network` reaches registries (`None`: no socket
    /// is opened, and only digests and manifests can be signed).
    pub fn new(signer: &'a Signer, network: Option<&'a Network>) -> Signing<'a> {
        Signing { signer, network }
    }

    /// Sign what `request` names; the report says what was done and, if
    /// something stopped it, what.
    pub fn sign(&self, request: &Request) -> Report {
        let mut report = Report {
            format: self.signer.format(),
            destination: None,
            entries: Vec::new(),
            warnings: Vec::new(),
            error: None,
        };
        if let Err(e) = self.run(request, &mut report) {
            report.error = Some(e);
        }
        report
    }

    fn run(&self, request: &Request, report: &mut Report) -> Result<(), SignError> {
        let format = self.signer.format();
        let (reference, identity, jobs) = match &request.image {
            Image::Digest { digest, identity } => {
                let (place, chosen) =
                    destination::choose(&request.destination, format, None, None, &mut report.warnings)?;
                report.destination = Some(chosen);
                let job = Job {
                    digest: digest.clone(),
                    role: Role::Image,
                };
                // A digest is signed as asked: no already-signed check.
                let entry = self.sign_one(identity, identity, &job, &place, false, &mut report.warnings)?;
                report.entries.push(entry);
                return Ok(());
            }
            Image::Docker {
                reference,
                identity,
                index_only,
            } => {
                if identity == reference && identity.tag().is_none() {
                    report.warnings.push(digest_identity_warning(reference));
                }
                let net = self.network.ok_or_else(|| {
                    SignError::input(
                        Reason::OfflineNetworkRequired,
                        "registry images are read from their registry, which needs the network",
                    )
                })?;
                let top = net.manifest(reference, &mut report.warnings)?;
                (reference, identity, jobs_of(&top.digest, &top.bytes, *index_only))
            }
            Image::Oci {
                reference,
                identity,
                index_only,
            } => {
                let image = crate::oci::OciImage::open(reference)?;
                crate::manifest::check_members(&image.manifest)
                    .map_err(|e| SignError::input(e.code(), format!("{}: {e}", image.origin)))?;
                // A layout has no registry name: signatures are stored under the identity's.
                let jobs = jobs_of(&image.digest, &image.manifest, *index_only);
                if request.destination == Destination::Caller && jobs.len() > 1 {
                    return Err(SignError::input(
                        Reason::Usage,
                        format!(
                            "{} is a multi-platform image: each of its {} manifests gets its own signature, so they go to a lookaside directory (--lookaside-dir DIR); or sign only its index (--index-only)",
                            image.origin,
                            jobs.len()
                        ),
                    ));
                }
                (identity, identity, jobs)
            }
        };
        let (place, chosen) = destination::choose(
            &request.destination,
            format,
            self.network,
            Some(reference),
            &mut report.warnings,
        )?;
        report.destination = Some(chosen);
        // A signature returned to the caller is made as asked (as for a digest):
        // there is no store to find an earlier one in.
        let skip_signed = request.destination != Destination::Caller;
        let work = |job: &Job, warnings: &mut Vec<String>| {
            self.sign_one(reference, identity, job, &place, skip_signed, warnings)
        };
        let threads = if place.concurrent() {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            self.signer.concurrency(cores).min(jobs.len())
        } else {
            1
        };
        for_each_in_order(&jobs, threads, work, report)
    }

    /// Sign manifest `job` of `r` as `identity` into `place`, unless
    /// `skip_signed` finds it signed already.
    fn sign_one(
        &self,
        r: &DockerReference,
        identity: &DockerReference,
        job: &Job,
        place: &Place,
        skip_signed: bool,
        warnings: &mut Vec<String>,
    ) -> Result<Entry, SignError> {
        let d = &job.digest;
        let dir = place.location(r, d)?;
        let entry = |outcome, by, timestamp, signature| Entry {
            manifest_digest: d.clone(),
            identity: identity.clone(),
            role: job.role.clone(),
            outcome,
            by,
            timestamp,
            signature,
        };
        let skipped = |f: Found| entry(Outcome::AlreadySigned { at: f.at }, f.by, f.timestamp, None);
        if skip_signed {
            let existing: Existing = match (&dir, self.network) {
                (Some(dir), _) => lookaside::read_dir_signatures(dir.path())
                    .map(|v| {
                        v.into_iter()
                            .filter_map(|s| s.contents.ok().map(|b| (s.path.display().to_string(), b)))
                            .collect()
                    })
                    .unwrap_or_default(),
                (None, Some(net)) => net
                    .signatures(r, d, warnings)?
                    .signatures
                    .into_iter()
                    .filter_map(|s| s.blob.ok().map(|b| (s.source, b)))
                    .collect(),
                (None, None) => Vec::new(),
            };
            if let Some(found) = self.signer.already_signed(&existing, d, identity, SystemTime::now()) {
                return Ok(skipped(found));
            }
        }
        let signed = self.signer.sign(d, identity, SystemTime::now())?;
        let outcome = match (place, &dir, &signed.sigstore) {
            (_, Some(dir), _) => {
                // Checked again under the directory's lock: a parallel run of this job may
                // have stored its signature since the check above.
                let covered = |now: &Existing| {
                    skip_signed
                        .then(|| self.signer.already_signed(now, d, identity, SystemTime::now()))
                        .flatten()
                };
                match store_unless(dir, &signed.blob, covered)? {
                    Stored::New(path) => Outcome::Written {
                        at: path.display().to_string(),
                    },
                    Stored::Identical(path) => Outcome::Identical {
                        at: path.display().to_string(),
                    },
                    Stored::Covered(found) => return Ok(skipped(found)),
                }
            }
            (Place::Attachments, None, Some(sig)) => {
                let net = self.network.expect("a registry place has a network");
                let written = net.put_sigstore_attachment(r, d, sig, warnings)?;
                let at = format!(
                    "the sigstore attachments at {}:{}",
                    r.name(),
                    crate::registry::client::attachment_tag(d)
                );
                stored(at, written)
            }
            (Place::Api, None, _) => {
                let net = self.network.expect("a registry place has a network");
                let written = net.put_signature(r, d, &signed.blob, warnings)?;
                stored(format!("the signature API of {}", r.domain()), written)
            }
            _ => Outcome::Returned,
        };
        Ok(entry(outcome, signed.by, signed.timestamp, Some(signed.blob)))
    }
}

/// The manifests to sign for a top-level manifest: it, and an index's
/// instances unless `index_only`.
fn jobs_of(digest: &Digest, bytes: &[u8], index_only: bool) -> Vec<Job> {
    let instances = crate::platform::list_instances(bytes);
    let mut jobs = vec![Job {
        digest: digest.clone(),
        role: if instances.is_some() { Role::Index } else { Role::Image },
    }];
    if !index_only {
        jobs.extend(instances.into_iter().flatten().map(|i| Job {
            role: Role::Instance(i.platform.clone()),
            digest: i.digest,
        }));
    }
    jobs
}

/// An image named by digest is signed as that digest reference by default:
/// say that a pull by tag does not accept such a signature.
fn digest_identity_warning(reference: &DockerReference) -> String {
    format!(
        "{reference}: signing it as this digest reference, which a pull by tag does not accept (signedIdentity matchRepoDigestOrExact, the default, and matchExact); to sign a tag instead, give --identity {}:TAG",
        reference.name()
    )
}

fn stored(at: String, written: bool) -> Outcome {
    if written {
        Outcome::Written { at }
    } else {
        Outcome::Identical { at }
    }
}

/// Run `work` over `jobs` on up to `threads` threads, claiming them in
/// order; after the first failure no new job starts. Entries land in
/// `report` in the jobs' order; the failure is the first in that order.
fn for_each_in_order(
    jobs: &[Job],
    threads: usize,
    work: impl Fn(&Job, &mut Vec<String>) -> Result<Entry, SignError> + Sync,
    report: &mut Report,
) -> Result<(), SignError> {
    type Done = Option<(Result<Entry, SignError>, Vec<String>)>;
    let results: Vec<Mutex<Done>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let worker = || loop {
        if failed.load(Ordering::Relaxed) {
            break;
        }
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(job) = jobs.get(i) else { break };
        let mut warnings = Vec::new();
        let result = work(job, &mut warnings);
        if result.is_err() {
            failed.store(true, Ordering::Relaxed);
        }
        *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some((result, warnings));
    };
    if threads <= 1 {
        worker();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(worker);
            }
        });
    }
    let mut first_error = None;
    for done in results {
        let Some((result, warnings)) = done.into_inner().unwrap_or_else(|e| e.into_inner()) else {
            continue;
        };
        report.warnings.extend(warnings);
        match result {
            Ok(entry) => report.entries.push(entry),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// What [`store_unless`] did.
enum Stored<T> {
    New(std::path::PathBuf),
    Identical(std::path::PathBuf),
    /// An existing signature already does the job (what `covered` found); nothing written.
    Covered(T),
}

/// Store `blob` in a lookaside directory unless `covered` finds, among the signatures already
/// there, one that does the same job. The check and the claim of the next `signature-N` are
/// one step: they happen under the directory's writer lock, so parallel runs of the same job
/// add one signature, not one each.
fn store_unless<T>(
    at: &ImageLocation,
    blob: &[u8],
    covered: impl FnOnce(&Existing) -> Option<T>,
) -> Result<Stored<T>, SignError> {
    let dir = at.create()?;
    let locked = dir.lock();
    let existing: Existing = locked
        .signatures()?
        .into_iter()
        .filter_map(|s| s.contents.ok().map(|b| (s.path.display().to_string(), b)))
        .collect();
    if let Some(found) = covered(&existing) {
        return Ok(Stored::Covered(found));
    }
    Ok(match locked.store_signature(blob)? {
        StoreOutcome::Written(n) => Stored::New(dir.path().join(format!("signature-{n}"))),
        StoreOutcome::AlreadyPresent(n) => Stored::Identical(dir.path().join(format!("signature-{n}"))),
    })
}
