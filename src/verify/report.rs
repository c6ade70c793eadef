//! The outcome of verifying one image: the verdict, the verified
//! `name@digest`, and per manifest checked the decision with every
//! requirement and signature (what, which key, why).

use crate::digest::Digest;
use crate::policy::{Decision, ImageRef, SignatureInput, SignatureResult};
use crate::Reason;

/// What a checked manifest is to the image (the one type of sign, fetch and verify).
pub use crate::platform::Role;

/// The keyring form's decision for one manifest.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeyringDecision {
    /// The reference a signature must claim, exactly (after normalisation).
    pub identity: crate::reference::DockerReference,
    /// Primary-key fingerprints (uppercase hex) of the keyring's certificates.
    pub trusted_fingerprints: Vec<String>,
    /// One result per signature found, in order.
    pub signatures: Vec<SignatureResult>,
    /// True when at least one signature is valid, by a key of the keyring,
    /// for this manifest's digest and `identity`.
    pub accepted: bool,
}

/// What decided a manifest.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Judgement {
    /// The policy's decision ([`crate::verify::Trust::Policy`]).
    Policy(Decision),
    /// The keyring's decision ([`crate::verify::Trust::Keyring`]).
    Keyring(KeyringDecision),
}

impl Judgement {
    /// The policy's decision, if a policy judged this manifest.
    pub fn policy(&self) -> Option<&Decision> {
        match self {
            Judgement::Policy(d) => Some(d),
            Judgement::Keyring(_) => None,
        }
    }

    /// The keyring's decision, if a keyring judged this manifest.
    pub fn keyring(&self) -> Option<&KeyringDecision> {
        match self {
            Judgement::Keyring(k) => Some(k),
            Judgement::Policy(_) => None,
        }
    }

    /// Whether at least one signature was cryptographically verified and
    /// accepted for this manifest (by a requirement of the policy, or by the
    /// keyring).
    pub fn has_verified_signature(&self) -> bool {
        match self {
            Judgement::Policy(d) => d
                .requirements
                .iter()
                .flat_map(|r| &r.signatures)
                .any(|s| s.result.is_ok()),
            Judgement::Keyring(k) => k.signatures.iter().any(|s| s.result.is_ok()),
        }
    }

    /// Whether this manifest was accepted.
    pub fn accepted(&self) -> bool {
        match self {
            Judgement::Policy(d) => d.accepted,
            Judgement::Keyring(k) => k.accepted,
        }
    }
}

/// One manifest checked.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ManifestCheck {
    /// What this manifest is to the image.
    pub role: Role,
    /// The manifest's digest, or why it could not be computed.
    pub digest: Result<Digest, String>,
    /// Where signatures were looked for (`None` when the policy needed none).
    pub looked_in: Option<String>,
    /// The simple-signing signatures found, in order (typed blobs unwrapped).
    pub signatures: Vec<SignatureInput>,
    /// How many sigstore signatures (and other sigstore attachments) were found.
    pub sigstore_found: usize,
    /// Of those, how many no requirement judged (`signedBy` judges
    /// simple-signing signatures only; `sigstoreSigned` judges them).
    pub sigstore_ignored: usize,
    /// The decision on this manifest, with every requirement and signature.
    pub judgement: Judgement,
}

/// Why the image as a whole was rejected before (or instead of) a manifest decision.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageRejection {
    /// The reason, e.g. `no-matching-platform` (docs/json-output.md lists them).
    pub code: Reason,
    /// What went wrong, for people (wording may change; branch on `code`).
    pub message: String,
}

/// The outcome for one image.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Report {
    /// The image as judged (its identity, or a `dir:` path).
    pub image: ImageRef,
    /// Digest of the top-level manifest (the index for a multi-platform image).
    pub manifest_digest: Result<Digest, String>,
    /// Where the top-level manifest came from.
    pub manifest_origin: String,
    /// Every manifest judged: the image's; or the chosen instance; or the index and every instance.
    pub checks: Vec<ManifestCheck>,
    /// Set when the image was rejected as a whole (e.g. no instance for this platform).
    pub rejection: Option<ImageRejection>,
    /// Problems that did not change the verdict (e.g. a key file holding no key), each once.
    pub warnings: Vec<String>,
    /// The verdict: true only when the image was not rejected as a whole and
    /// every manifest in `checks` (at least one) was accepted.
    pub accepted: bool,
    /// `name@digest` of the top-level manifest: what to pull, when accepted.
    pub verified_reference: Option<String>,
    /// For a mirror image named by tag: the record `imgsig fetch` wrote,
    /// through which the tag was resolved (as of its `fetched_at`).
    pub tag_record: Option<crate::store::mirror::TagRecord>,
}
