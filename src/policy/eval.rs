//! Scope resolution and evaluation of a policy for one image.
//!
//! Semantics of containers/image `signature/policy_eval.go`: the most
//! specific scope wins (never merged); requirements are ANDed; within one
//! `signedBy`, one acceptable signature suffices; a signature that is
//! invalid, by another key, or for another identity or digest never counts.
//! Unlike the reference, every requirement and every signature is evaluated
//! (no early exit), so the report can say everything that was found; the
//! verdict is the same.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::digest::Digest;
use crate::reference::DockerReference;
use crate::signature::{self, Opened, Rejection};
use crate::Reason;

use super::identity::{self, Mismatch};
use super::{KeyType, Policy, Requirement, SignedBy};

mod sigstore_signed;
use sigstore_signed::evaluate_sigstore;

/// The image being evaluated, as a transport sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// `docker://` (or any docker-named image): a reference with a tag or a digest.
    Docker(DockerReference),
    /// `dir:` — an absolute, cleaned path. No docker reference.
    Dir(PathBuf),
    /// `oci:` / `oci-archive:` — the layout's (or archive's) absolute path,
    /// symbolic links resolved, as containers/image's policy identity. No
    /// docker reference.
    Oci {
        /// `oci` or `oci-archive`.
        transport: crate::oci::OciTransport,
        /// The resolved path.
        path: PathBuf,
    },
}

impl ImageRef {
    /// The transport name policy scopes are looked up under: `docker`,
    /// `dir`, `oci` or `oci-archive`.
    pub fn transport(&self) -> &'static str {
        match self {
            ImageRef::Docker(_) => "docker",
            ImageRef::Dir(_) => "dir",
            ImageRef::Oci { transport, .. } => transport.name(),
        }
    }

    /// The scope identity used first in policy lookup.
    pub fn policy_identity(&self) -> String {
        match self {
            ImageRef::Docker(r) => r.policy_identity(),
            ImageRef::Dir(p) | ImageRef::Oci { path: p, .. } => p.display().to_string(),
        }
    }

    /// Less specific scopes, most specific first.
    pub fn policy_namespaces(&self) -> Vec<String> {
        match self {
            ImageRef::Docker(r) => r.policy_namespaces(),
            // containers/image lists the oci path itself first again: the same lookups.
            ImageRef::Dir(p) | ImageRef::Oci { path: p, .. } => p
                .ancestors()
                .skip(1)
                .filter(|a| *a != Path::new("/") && !a.as_os_str().is_empty())
                .map(|a| a.display().to_string())
                .collect(),
        }
    }

    /// The image's docker reference, for identity rules that need one.
    pub fn docker_reference(&self) -> Option<&DockerReference> {
        match self {
            ImageRef::Docker(r) => Some(r),
            ImageRef::Dir(_) | ImageRef::Oci { .. } => None,
        }
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImageRef::Docker(r) => write!(f, "docker://{r}"),
            ImageRef::Dir(p) => write!(f, "dir:{}", p.display()),
            ImageRef::Oci { transport, path } => write!(f, "{}:{}", transport.name(), path.display()),
        }
    }
}

/// Which part of the policy applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeMatch {
    /// `Some((transport, scope))` for a `transports` entry; `None` for `default`.
    pub entry: Option<(String, String)>,
    /// Every scope that was tried, in order, up to and including the match.
    pub tried: Vec<String>,
}

impl ScopeMatch {
    /// The scopes tried, quoted (the transport default is `""`).
    pub fn tried_quoted(&self) -> String {
        let n = self.tried.len();
        self.tried
            .iter()
            .enumerate()
            .map(|(i, s)| {
                // The last entry is the synthetic "default" when no scope matched.
                if self.entry.is_none() && i + 1 == n {
                    s.clone()
                } else {
                    format!("{s:?}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The entry that applied, for people: `transports.docker["example.com"]`,
    /// `transports.docker[""] (the docker transport's default)` or `default`.
    pub fn describe(&self) -> String {
        match &self.entry {
            Some((t, s)) if s.is_empty() => format!("transports.{t}[\"\"] (the {t} transport's default)"),
            Some((t, s)) => format!("transports.{t}[{s:?}]"),
            None => "default".to_owned(),
        }
    }
}

impl Policy {
    /// The requirements that apply to `image`: the most specific scope of
    /// its transport, else the transport's `""` scope, else `default`.
    pub fn requirements_for(&self, image: &ImageRef) -> (ScopeMatch, &[Requirement]) {
        let mut tried = Vec::new();
        if let Some(t) = self.transports.iter().find(|t| t.name == image.transport()) {
            let candidates = std::iter::once(image.policy_identity())
                .chain(image.policy_namespaces())
                .chain(std::iter::once(String::new()));
            for c in candidates {
                tried.push(c.clone());
                if let Some(s) = t.scopes.iter().find(|s| s.scope == c) {
                    return (
                        ScopeMatch {
                            entry: Some((t.name.clone(), c)),
                            tried,
                        },
                        &s.requirements,
                    );
                }
            }
        }
        tried.push("default".into());
        (ScopeMatch { entry: None, tried }, &self.default)
    }
}

/// One signature handed to the evaluator.
#[derive(Debug, Clone)]
pub struct SignatureInput {
    /// Where it came from (path or URL), for reports.
    pub source: String,
    /// Its bytes, or why they could not be used (e.g. too large).
    pub blob: Result<Vec<u8>, Rejection>,
}

/// One sigstore signature handed to the evaluator, read from the typed blob
/// format (`\0sigstore-json\n{…}`) or a registry attachment.
#[derive(Debug, Clone)]
pub struct SigstoreInput {
    /// Where it came from (path or URL), for reports.
    pub source: String,
    /// The parsed attachment (a signature, or another kind that is counted
    /// but not evaluated).
    pub signature: crate::sigstore::SigstoreSignature,
}

/// Everything the evaluator needs about the image.
#[derive(Debug)]
pub struct Subject<'a> {
    /// The image: picks the policy scope, and its docker reference is what
    /// identity rules compare signed references with.
    pub image: &'a ImageRef,
    /// Digest of the manifest, or why it could not be computed.
    pub manifest_digest: Result<&'a Digest, &'a str>,
    /// The image's simple-signing signatures, or why they could not be read
    /// (e.g. an unrecognised blob): every requirement that needs signatures
    /// then rejects with that reason, as containers/image does.
    pub signatures: Result<&'a [SignatureInput], &'a RequirementRejection>,
    /// The image's sigstore signatures (empty when `signatures` is an error).
    pub sigstore: &'a [SigstoreInput],
    /// Human description of where signatures were looked for.
    pub looked_in: &'a str,
    /// When this manifest is an instance of a multi-platform image: the
    /// digest of the list (index) it was chosen from. A reference pinned by
    /// digest names the list, so the pin is checked against this.
    pub instance_of: Option<&'a Digest>,
    /// The time keys and certificates are checked at (expiry, revocation,
    /// validity periods); normally the current time.
    pub now: SystemTime,
}

/// The verdict on one signature under one `signedBy` or `sigstoreSigned` requirement.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SignatureResult {
    /// 1-based position of the signature in [`Subject::signatures`] (or in
    /// [`Subject::sigstore`] for a `sigstoreSigned` requirement).
    pub index: usize,
    /// Where it came from (path or URL), as in the input.
    pub source: String,
    /// `Ok` when this signature satisfies the requirement, else why not.
    pub result: Result<(), Rejection>,
    /// Set when the envelope was authentic and the claim parsed.
    pub opened: Option<Opened>,
    /// A sigstore signature's payload, set when the signature (and its Rekor
    /// entry or certificate) verified.
    pub sigstore: Option<crate::sigstore::UntrustedPayload>,
}

/// The verdict on one requirement.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RequirementResult {
    /// 1-based position of the requirement in the scope that applied.
    pub index: usize,
    /// The requirement evaluated.
    pub requirement: Requirement,
    /// `Ok` when the requirement accepts the image, else why not.
    pub result: Result<(), RequirementRejection>,
    /// Per-signature results (signedBy only).
    pub signatures: Vec<SignatureResult>,
}

/// Why a requirement rejected the image.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequirementRejection {
    /// The reason, e.g. `no-signatures`
    /// (docs/json-output.md lists them).
    pub code: Reason,
    /// What went wrong, for people (wording may change; branch on `code`).
    pub message: String,
}

fn rr(code: Reason, message: impl Into<String>) -> RequirementRejection {
    RequirementRejection {
        code,
        message: message.into(),
    }
}

/// The decision for one image.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Decision {
    /// The image evaluated.
    pub image: ImageRef,
    /// Which part of the policy applied.
    pub scope: ScopeMatch,
    /// One result per requirement of that scope, in policy order (empty when
    /// `image_error` is set).
    pub requirements: Vec<RequirementResult>,
    /// Why the image was rejected before any requirement was evaluated (a
    /// reference pinned by digest that does not name this manifest).
    pub image_error: Option<RequirementRejection>,
    /// The verdict: true only when every requirement accepted (and there was
    /// at least one).
    pub accepted: bool,
}

/// A reference pinned by digest must name the manifest (or, for an
/// instance, the list it came from), whatever the policy says: containers/image
/// refuses to read such an image before any policy processing.
fn pin_mismatch(subject: &Subject) -> Option<RequirementRejection> {
    let want = subject.image.docker_reference()?.digest()?;
    let (got, what) = match (subject.instance_of, subject.manifest_digest) {
        (Some(list), _) => (list, "the multi-platform image's (index) digest"),
        (None, Ok(d)) => (d, "the manifest's digest"),
        (None, Err(why)) => {
            return Some(rr(
                Reason::ManifestDigestMismatch,
                format!("the image reference is pinned to {want}, and the manifest's digest cannot be computed: {why}"),
            ))
        }
    };
    (got != want).then(|| {
        rr(
            Reason::ManifestDigestMismatch,
            format!("{what} is {got}, but the image reference names {want}"),
        )
    })
}

/// Evaluate `policy` for `subject`.
pub fn evaluate(policy: &Policy, subject: &Subject) -> Decision {
    let (scope, reqs) = policy.requirements_for(subject.image);
    if let Some(e) = pin_mismatch(subject) {
        return Decision {
            image: subject.image.clone(),
            scope,
            requirements: Vec::new(),
            image_error: Some(e),
            accepted: false,
        };
    }
    let mut requirements: Vec<RequirementResult> = reqs
        .iter()
        .enumerate()
        .map(|(i, req)| evaluate_requirement(i + 1, req, subject))
        .collect();
    name_keys_of_other_requirements(&mut requirements, subject);
    // Fail closed: an empty list can't come out of the parser, but if it did
    // it must not accept.
    let accepted = !requirements.is_empty() && requirements.iter().all(|r| r.result.is_ok());
    Decision {
        image: subject.image.clone(),
        scope,
        requirements,
        image_error: None,
        accepted,
    }
}

/// A signature by a key that another `signedBy` of the same scope trusts is
/// not "by an unknown key": say which requirement trusts it and that this one
/// does not (an admin then sees the AND, not a stranger's signature).
fn name_keys_of_other_requirements(results: &mut [RequirementResult], subject: &Subject) {
    let Ok(inputs) = subject.signatures else { return };
    let keyrings: Vec<(usize, &SignedBy)> = results
        .iter()
        .filter_map(|r| match &r.requirement {
            Requirement::SignedBy(sb) if sb.key_type == KeyType::GpgKeys && !sb.keys.keyring.is_empty() => {
                Some((r.index, sb))
            }
            _ => None,
        })
        .collect();
    if keyrings.len() < 2 || results.iter().all(|r| r.result.is_ok()) {
        return;
    }
    let mut by_other: Vec<(usize, usize, Rejection)> = Vec::new();
    for (ri, r) in results.iter().enumerate() {
        if r.result.is_ok() {
            continue;
        }
        for s in &r.signatures {
            let unknown_key = matches!(&s.result, Err(rej) if rej.code == Reason::UnknownKey);
            let Some(Ok(blob)) = inputs.get(s.index - 1).map(|i| &i.blob).filter(|_| unknown_key) else {
                continue;
            };
            for (k, sb) in keyrings.iter().filter(|(k, _)| *k != r.index) {
                if let Ok(o) = signature::open(blob, &sb.keys.keyring, subject.now) {
                    let who = sb
                        .keys
                        .keyring
                        .describe()
                        .into_iter()
                        .find(|key| key.fingerprint == o.signer.primary_fingerprint)
                        .map(|key| key.describe())
                        .unwrap_or_else(|| o.signer.primary_fingerprint.clone());
                    by_other.push((
                        ri,
                        s.index,
                        Rejection {
                            code: Reason::UnknownKey,
                            message: format!(
                                "signed by {who}, a key that requirement {k} trusts but this requirement does not"
                            ),
                            signer: Some(o.signer),
                        },
                    ));
                    break;
                }
            }
        }
    }
    let mut rewritten = Vec::new();
    for (ri, si, rej) in by_other {
        if let Some(s) = results[ri].signatures.iter_mut().find(|s| s.index == si) {
            s.result = Err(rej);
            rewritten.push(ri);
        }
    }
    // The requirement's message quotes its signatures' rejections: say it once, the same way.
    for ri in rewritten {
        let r = &mut results[ri];
        if let (Requirement::SignedBy(sb), Err(e)) = (&r.requirement, &mut r.result) {
            if e.code == Reason::NoValidSignature {
                e.message = not_accepted(&r.signatures, &format!("a signature by {}", sb.keys.describe()));
            }
        }
    }
}

fn evaluate_requirement(index: usize, req: &Requirement, subject: &Subject) -> RequirementResult {
    let mut signatures = Vec::new();
    let result = match req {
        Requirement::InsecureAcceptAnything => Ok(()),
        Requirement::Reject => Err(rr(
            Reason::PolicyReject,
            format!("running image {} is rejected by policy", subject.image),
        )),
        Requirement::SignedBaseLayer => Err(rr(
            Reason::UnsupportedRequirement,
            "signedBaseLayer is not implemented (by containers/image either); it never accepts",
        )),
        Requirement::SigstoreSigned(ss) => {
            let (result, sigs) = evaluate_sigstore(ss, subject);
            signatures = sigs;
            result
        }
        Requirement::SignedBy(sb) => {
            let (result, sigs) = evaluate_signed_by(sb, subject);
            signatures = sigs;
            result
        }
    };
    RequirementResult {
        index,
        requirement: req.clone(),
        result,
        signatures,
    }
}

fn evaluate_signed_by(sb: &SignedBy, subject: &Subject) -> (Result<(), RequirementRejection>, Vec<SignatureResult>) {
    if sb.key_type != KeyType::GpgKeys {
        return (
            Err(rr(
                Reason::UnsupportedKeyType,
                format!("keyType {:?} is not implemented; only GPGKeys is", sb.key_type.as_str()),
            )),
            Vec::new(),
        );
    }
    if !sb.keys.errors.is_empty() {
        return (
            Err(rr(
                Reason::KeyUnusable,
                format!("the requirement's keys cannot be used: {}", sb.keys.errors.join("; ")),
            )),
            Vec::new(),
        );
    }
    if sb.keys.keyring.is_empty() {
        return (Err(rr(Reason::NoKeys, "no public keys imported")), Vec::new());
    }
    let signatures = match subject.signatures {
        Ok(s) => s,
        Err(e) => return (Err(e.clone()), Vec::new()),
    };
    if signatures.is_empty() {
        return (
            Err(rr(
                Reason::NoSignatures,
                format!(
                    "a signature was required, but no signature exists (looked in {}); it needs one by {}",
                    subject.looked_in,
                    sb.keys.describe()
                ),
            )),
            Vec::new(),
        );
    }
    let results: Vec<SignatureResult> = signatures
        .iter()
        .enumerate()
        .map(|(i, s)| check_signature(i + 1, s, sb, subject))
        .collect();
    decide(results, || format!("a signature by {}", sb.keys.describe()))
}

fn check_signature(index: usize, input: &SignatureInput, sb: &SignedBy, subject: &Subject) -> SignatureResult {
    let mut out = SignatureResult {
        index,
        source: input.source.clone(),
        result: Ok(()),
        opened: None,
        sigstore: None,
    };
    let blob = match &input.blob {
        Ok(b) => b,
        Err(r) => {
            out.result = Err(r.clone());
            return out;
        }
    };
    let opened = match signature::open(blob, &sb.keys.keyring, subject.now) {
        Ok(o) => o,
        Err(r) => {
            out.result = Err(r);
            return out;
        }
    };
    let signer = Some(opened.signer.clone());
    out.result = match subject.manifest_digest {
        Err(why) => Err(Rejection {
            code: Reason::ManifestDigestError,
            message: format!("the manifest's digest cannot be computed: {why}"),
            signer: signer.clone(),
        }),
        Ok(d) => signature::check_digest(&opened, d),
    }
    .and_then(|()| {
        identity::matches(
            &sb.signed_identity,
            subject.image.docker_reference(),
            opened.claim.docker_reference(),
        )
        .map_err(|m| {
            identity_rejection(
                m,
                &sb.signed_identity,
                opened.claim.docker_reference(),
                subject,
                signer.clone(),
            )
        })
    });
    out.opened = Some(opened);
    out
}

/// Why a signed identity does not satisfy `rule` for the image, for people.
fn identity_rejection(
    m: Mismatch,
    rule: &super::SignedIdentity,
    signed: &str,
    subject: &Subject,
    signer: Option<crate::signature::Signer>,
) -> Rejection {
    let name = rule.type_name();
    match m {
        Mismatch::InvalidSigned(e) => Rejection {
            code: Reason::InvalidSignedIdentity,
            message: format!("invalid docker reference {signed:?} in signature: {e}"),
            signer,
        },
        Mismatch::NoImageIdentity => Rejection {
            code: Reason::IdentityMismatch,
            message: format!(
                "signedIdentity {name} needs the image's docker reference, and {} has none (use exactReference or exactRepository, or verify it under its docker identity)",
                subject.image
            ),
            signer,
        },
        Mismatch::Different => Rejection {
            code: Reason::IdentityMismatch,
            message: format!(
                "signature is for {signed:?}, but {} ({name})",
                identity::describe(rule, subject.image.docker_reference())
            ),
            signer,
        },
    }
}

/// Accepted when one signature is; else `no-valid-signature`, with every
/// signature's reason and what would satisfy the requirement (`needs`).
/// `needs` (whose signature would do, for the rejection message) is only
/// built when every signature was rejected.
fn decide(
    results: Vec<SignatureResult>,
    needs: impl FnOnce() -> String,
) -> (Result<(), RequirementRejection>, Vec<SignatureResult>) {
    if results.iter().any(|r| r.result.is_ok()) {
        return (Ok(()), results);
    }
    let message = not_accepted(&results, &needs());
    (Err(rr(Reason::NoValidSignature, message)), results)
}

/// Why no signature satisfied a requirement: each signature's own rejection
/// (the one wording the signature lines show too), then what it needs.
fn not_accepted(results: &[SignatureResult], needs: &str) -> String {
    let reasons: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "signature {} ({}): {}",
                r.index,
                r.source,
                r.result.as_ref().err().map(|e| e.message.as_str()).unwrap_or("")
            )
        })
        .collect();
    if reasons.len() == 1 {
        format!("{}; it needs {needs}", reasons[0])
    } else {
        format!(
            "none of the {} signatures was accepted: {}; it needs {needs}",
            reasons.len(),
            reasons.join("; ")
        )
    }
}
