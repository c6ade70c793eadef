//! One verification pipeline for every input: local files, a signature
//! directory, a `dir:` image, a mirror, a list of mirror images, a registry.
//!
//! [`Verifier::verify`] takes one [`Request`] (where the manifest and the
//! signatures come from) and returns one [`Report`], deciding as
//! containers/image does when podman or CRI-O pull:
//!
//! 1. The top-level manifest is read; a reference pinned by digest must name
//!    it (checked inside [`crate::policy::evaluate`], so no caller can forget).
//! 2. A multi-platform image (index) is judged on the instance this platform
//!    would pull ([`Options::platform`]); with [`Options::all_platforms`], on
//!    the index and every instance (stricter than `skopeo copy --all`, which
//!    skips the index; see docs/policy.md). A single-platform image on its
//!    manifest. The keyring form judges the manifest given, as
//!    `skopeo standalone-verify` does.
//! 3. Signatures are read only when a requirement needs them, from the
//!    request's source, for each manifest's own digest; under a policy every
//!    stored blob is classified by its first byte ([`crate::signature::blob`]):
//!    an unrecognised one makes the set unreadable and the image rejected, the
//!    typed `\0simple-signing\n` format is unwrapped, sigstore blobs are left
//!    to `sigstoreSigned`. (The keyring form, like `skopeo standalone-verify`,
//!    hands each file to the OpenPGP check as it is.)
//! 4. The policy (or keyring) decides each manifest; the image is accepted
//!    only when every manifest is.
//!
//! Rejections are reports (the answer is no), not errors; a [`VerifyError`]
//! means the image could not be judged (unusable input, or something outside
//! failed).

use std::time::SystemTime;

use crate::digest::Digest;
use crate::pgp::Keyring;
use crate::platform::{self, Instance};
use crate::policy::{self, ImageRef, Requirement, SignatureInput, SignatureResult, Subject};
use crate::reference::DockerReference;
use crate::registry::network::Network;
use crate::signature;
use crate::Reason;

mod batch;
mod error;
mod json;
mod offline;
mod report;
mod request;
mod source;

pub use error::{ErrorClass, VerifyError};
pub use json::{DocumentTrust, ErrorDocument, ImageDocument, JSON_SCHEMA_VERSION};
pub use offline::{configured_mirror, ConfiguredMirror};
pub use report::{ImageRejection, Judgement, KeyringDecision, ManifestCheck, Report, Role};
pub use request::{ImageSource, Options, Request, SignatureFile, SignatureSource, Trust};
pub use source::{dir_image_path, no_source as no_signature_source};

use source::{Top, Which};

/// Verifies images against one policy or keyring; shareable across threads.
pub struct Verifier<'a> {
    trust: &'a Trust,
    network: Option<&'a Network>,
    options: Options,
}

impl<'a> Verifier<'a> {
    /// `network` is needed for registry images, http(s) lookasides and
    /// registries.d; without it only local sources can be read.
    pub fn new(trust: &'a Trust, network: Option<&'a Network>, options: Options) -> Verifier<'a> {
        Verifier {
            trust,
            network,
            options,
        }
    }

    /// Verify many images on up to `workers` threads (bulk verification of a
    /// list, several registry images). For each item, `request` makes its
    /// [`Request`] (or, where the item cannot become one, already the
    /// caller's result for it) and `then` turns the verification's outcome
    /// into the caller's result; both run on the worker threads, so work done
    /// with a report (rendering it) is spread too. `emit` receives the
    /// results on the calling thread, in the order of `items`, as soon as
    /// every earlier one is done: a caller that hands over its input in
    /// chunks keeps memory bounded by the chunk.
    ///
    /// ```no_run
    /// # fn demo(verifier: &imgsig::verify::Verifier<'_>, images: &[imgsig::verify::Request]) {
    /// verifier.verify_each(
    ///     images,
    ///     4,
    ///     |req| Ok(req.clone()),
    ///     |_, outcome: Result<imgsig::verify::Report, imgsig::verify::VerifyError>| outcome.map(|r| r.accepted).unwrap_or(false),
    ///     |accepted| println!("{accepted}"),
    /// );
    /// # }
    /// ```
    pub fn verify_each<T, R>(
        &self,
        items: &[T],
        workers: usize,
        request: impl Fn(&T) -> Result<Request, R> + Sync,
        then: impl Fn(&T, Result<Report, VerifyError>) -> R + Sync,
        emit: impl FnMut(R),
    ) where
        T: Sync,
        R: Send,
    {
        batch::for_each_ordered(
            items,
            workers,
            |item| match request(item) {
                Ok(req) => then(item, self.verify(&req)),
                Err(done) => done,
            },
            emit,
        )
    }

    /// Verify one image.
    pub fn verify(&self, req: &Request) -> Result<Report, VerifyError> {
        let mut warnings = Vec::new();
        let top = match source::load_top(&req.image, self.network, &mut warnings)? {
            Ok(t) => t,
            Err(rejection) => {
                let image = match &req.image {
                    ImageSource::Registry(r) | ImageSource::Mirror { reference: r, .. } => ImageRef::Docker(r.clone()),
                    ImageSource::Manifest { identity, .. } | ImageSource::Digest { identity, .. } => {
                        ImageRef::Docker(identity.clone())
                    }
                    ImageSource::Dir { path, identity } => match identity {
                        Some(r) => ImageRef::Docker(r.clone()),
                        None => ImageRef::Dir(path.clone()),
                    },
                    ImageSource::Oci { reference, identity } => source::oci_image_ref(reference, identity.as_ref()),
                };
                return Ok(Report {
                    image,
                    manifest_digest: Err(rejection.message.clone()),
                    manifest_origin: String::new(),
                    checks: Vec::new(),
                    rejection: Some(rejection),
                    warnings,
                    accepted: false,
                    verified_reference: None,
                    tag_record: None,
                });
            }
        };
        // Signatures are read only when a requirement of the image's scope needs them.
        let needs_signatures = match self.trust {
            Trust::Keyring(_) => true,
            Trust::Policy(p) => {
                let mut needs = false;
                for r in p.requirements_for(&top.image).1 {
                    match r {
                        Requirement::SignedBy(sb) => {
                            needs = true;
                            warnings.extend(sb.keys.warnings.iter().cloned());
                            warnings.extend(sb.keys.notes.iter().cloned());
                        }
                        Requirement::SigstoreSigned(_) => needs = true,
                        _ => {}
                    }
                }
                needs
            }
        };
        let mut report = Report {
            image: top.image.clone(),
            manifest_digest: top.digest.clone(),
            manifest_origin: top.origin.clone(),
            checks: Vec::new(),
            rejection: None,
            warnings: Vec::new(),
            accepted: false,
            verified_reference: None,
            tag_record: top.tag_record.clone(),
        };
        let plan = match self.plan(&top) {
            Ok(p) => p,
            Err(rejection) => {
                report.rejection = Some(rejection);
                report.warnings = warnings;
                return Ok(report);
            }
        };
        for (role, instance) in plan {
            let check =
                match self.check_manifest(req, &top, role, instance.as_ref(), needs_signatures, &mut warnings)? {
                    Ok(c) => c,
                    Err(rejection) => {
                        report.rejection = Some(rejection);
                        break;
                    }
                };
            report.checks.push(check);
        }
        report.accepted = report.rejection.is_none()
            && !report.checks.is_empty()
            && report.checks.iter().all(|c| c.judgement.accepted());
        if report.accepted && self.options.require_signature {
            if let Some(rejection) = unsigned(&report) {
                report.rejection = Some(rejection);
                report.accepted = false;
            }
        }
        if report.accepted && !needs_signatures {
            // The policy's verdict stands, but nobody must believe the image was checked.
            if let Some(Judgement::Policy(d)) = report.checks.first().map(|c| &c.judgement) {
                warnings.push(format!(
                    "no signature was checked for {}: {} of the policy accepts images without one (insecureAcceptAnything)",
                    report.image,
                    d.scope.describe(),
                ));
            }
        }
        if report.accepted {
            if let (Some(r), Ok(d)) = (report.image.docker_reference(), &report.manifest_digest) {
                report.verified_reference = Some(format!("{}@{d}", r.name()));
            }
        }
        if warnings.len() > 1 {
            let mut seen = std::collections::HashSet::new();
            warnings.retain(|w| seen.insert(w.clone()));
        }
        report.warnings = warnings;
        Ok(report)
    }

    /// Which manifests to judge.
    fn plan(&self, top: &Top) -> Result<Vec<(Role, Option<Instance>)>, ImageRejection> {
        if matches!(self.trust, Trust::Keyring(_)) {
            return Ok(vec![(Role::Image, None)]);
        }
        let Some(instances) = platform::list_instances(&top.bytes) else {
            return Ok(vec![(Role::Image, None)]);
        };
        if self.options.all_platforms {
            let mut plan = vec![(Role::Index, None)];
            plan.extend(
                instances
                    .into_iter()
                    .map(|i| (Role::Instance(i.platform.clone()), Some(i))),
            );
            return Ok(plan);
        }
        match platform::choose(&instances, &self.options.platform) {
            Some(i) => Ok(vec![(Role::Instance(i.platform.clone()), Some(i.clone()))]),
            None => Err(ImageRejection {
                code: Reason::NoMatchingPlatform,
                message: format!(
                    "{} is a multi-platform image with no {} instance (it has {})",
                    top.image,
                    self.options.platform,
                    instances.iter().map(Instance::platform).collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }

    fn check_manifest(
        &self,
        req: &Request,
        top: &Top,
        role: Role,
        instance: Option<&Instance>,
        needs_signatures: bool,
        warnings: &mut Vec<String>,
    ) -> Result<Result<ManifestCheck, ImageRejection>, VerifyError> {
        let digest: Result<Digest, String> = match instance {
            None => top.digest.clone(),
            Some(i) => {
                // From a registry, fetch the instance as a pull would: it must exist and
                // hash to the index's digest. Offline, the index's digest is what the
                // signatures are looked up and judged by.
                if let (ImageSource::Registry(r), Some(net)) = (&req.image, self.network) {
                    match net.manifest_by_digest(r, &i.digest, warnings) {
                        Ok(_) => {}
                        Err(e) if e.rejects_image() => {
                            return Ok(Err(ImageRejection {
                                code: e.code(),
                                message: e.to_string(),
                            }))
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Ok(i.digest.clone())
            }
        };
        let which = match instance {
            None => Which::Top,
            Some(i) => Which::Instance(&i.digest),
        };
        let (looked_in, sigs) = if needs_signatures {
            let raw = source::read_signatures(
                &req.signatures,
                &req.image,
                top,
                which,
                digest.as_ref().ok(),
                self.network,
                warnings,
            )?;
            let looked = Some(raw.looked_in.clone());
            match self.trust {
                Trust::Policy(_) => (looked, source::classify(raw)),
                // The keyring form is `skopeo standalone-verify`: each file goes to the
                // OpenPGP check as it is, and is judged (and reported) on its own.
                Trust::Keyring(_) => (looked, Ok(source::unclassified(raw))),
            }
        } else {
            (
                None,
                Ok(source::Classified {
                    simple: Vec::new(),
                    sigstore: Vec::new(),
                }),
            )
        };
        let (simple, sigstore, read_error) = match sigs {
            Ok(c) => (c.simple, c.sigstore, None),
            Err(e) => (Vec::new(), Vec::new(), Some(e)),
        };
        let now = self.options.now;
        let judgement = match self.trust {
            Trust::Policy(p) => {
                let looked = looked_in.clone().unwrap_or_default();
                let subject = Subject {
                    image: &top.image,
                    manifest_digest: digest.as_ref().map_err(String::as_str),
                    signatures: match &read_error {
                        None => Ok(&simple),
                        Some(e) => Err(e),
                    },
                    sigstore: &sigstore,
                    looked_in: &looked,
                    instance_of: instance.and(top.digest.as_ref().ok()),
                    now,
                };
                Judgement::Policy(policy::evaluate(p, &subject))
            }
            Trust::Keyring(keys) => {
                let identity = top.image.docker_reference().ok_or_else(|| {
                    VerifyError::input(Reason::IdentityRequired, "the keyring form needs the image's identity")
                })?;
                let d = digest.as_ref().map_err(|e| {
                    VerifyError::input(Reason::InvalidManifest, format!("manifest {}: {e}", top.origin))
                })?;
                Judgement::Keyring(judge_keyring(keys, identity, d, &simple, now))
            }
        };
        Ok(Ok(ManifestCheck {
            role,
            digest,
            looked_in,
            signatures: simple,
            sigstore_found: sigstore.len(),
            sigstore_ignored: match self.trust {
                Trust::Policy(p) if uses_sigstore(p, &top.image) => 0,
                _ => sigstore.len(),
            },
            judgement,
        }))
    }
}

/// [`Options::require_signature`]: the rejection of an image accepted with a
/// manifest for which no signature was cryptographically verified (an
/// accepted signature of a requirement, or of the keyring form).
fn unsigned(report: &Report) -> Option<ImageRejection> {
    let check = report.checks.iter().find(|c| !c.judgement.has_verified_signature())?;
    let of = match &check.role {
        Role::Image => String::new(),
        role => format!(" (the {})", role.describe()),
    };
    let why = match check.judgement.policy() {
        Some(d) => format!(
            "the policy's scope {} accepts it without one (insecureAcceptAnything)",
            d.scope.describe()
        ),
        None => "no requirement verified one".to_owned(),
    };
    Some(ImageRejection {
        code: Reason::NoSignatureChecked,
        message: format!(
            "no signature was checked for {}{of}: {why}, and a verified signature is required",
            report.image
        ),
    })
}

/// The keyring form: accepted when at least one signature is valid, by a key
/// in `keys`, for `digest` and exactly `identity` (equal after
/// normalisation, as `skopeo standalone-verify` compares).
fn judge_keyring(
    keys: &Keyring,
    identity: &DockerReference,
    digest: &Digest,
    sigs: &[SignatureInput],
    now: SystemTime,
) -> KeyringDecision {
    let signatures: Vec<SignatureResult> = sigs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut out = SignatureResult {
                index: i + 1,
                source: s.source.clone(),
                result: Ok(()),
                opened: None,
                sigstore: None,
            };
            match &s.blob {
                Err(r) => out.result = Err(r.clone()),
                Ok(b) => match signature::open(b, keys, now) {
                    Ok(o) => {
                        out.result = signature::check_digest(&o, digest)
                            .and_then(|()| signature::check_identity_exact(&o, identity));
                        out.opened = Some(o);
                    }
                    Err(r) => out.result = Err(r),
                },
            }
            out
        })
        .collect();
    let accepted = signatures.iter().any(|s| s.result.is_ok());
    KeyringDecision {
        identity: identity.clone(),
        trusted_fingerprints: keys.fingerprints(),
        signatures,
        accepted,
    }
}

/// Whether a requirement of `image`'s scope judges sigstore signatures (then
/// they are not "ignored").
fn uses_sigstore(p: &policy::Policy, image: &ImageRef) -> bool {
    p.requirements_for(image)
        .1
        .iter()
        .any(|r| matches!(r, Requirement::SigstoreSigned(_)))
}
