//! One signature, checked the way containers/image checks it:
//! (1) the OpenPGP envelope against the trusted keys, (2) only then the claim
//! JSON, (3) the manifest digest, (4) the identity.
//!
//! Every failure is a [`Rejection`] with a stable reason code; nothing here
//! decides whether an *image* is accepted (that is the caller's rule).

use std::time::SystemTime;

use crate::claim::{UntrustedClaim, VerifiedClaim};
use crate::digest::Digest;
use crate::pgp::{self, EnvelopeError, Keyring};
use crate::reference::DockerReference;
use crate::Reason;

pub mod blob;

/// Who signed: established by the envelope check when verifying, by the
/// check of a new signature when signing ([`crate::sign`]); the one "who
/// signed" type. Serialised as the JSON documents' `signer` object: the two
/// fingerprints (the documents give the time and hash beside it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Signer {
    /// Primary-key fingerprint of the certificate (uppercase hex; for a
    /// sigstore key, its `sha256:<hex>` fingerprint).
    pub primary_fingerprint: String,
    /// Fingerprint of the (sub)key that made the signature.
    pub signing_fingerprint: String,
    /// Signature creation time (Unix seconds).
    #[serde(skip)]
    pub created: i64,
    /// Hash algorithm of the signature.
    #[serde(skip)]
    pub hash_algorithm: String,
}

/// A signature whose envelope and claim were both accepted.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Opened {
    /// Whose key made the signature.
    pub signer: Signer,
    /// The signed claim, authentic (not yet matched against a policy identity).
    pub claim: VerifiedClaim,
}

/// Why one signature does not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct Rejection {
    /// Why, as a stable code (documented in docs/json-output.md).
    pub code: Reason,
    /// Human explanation naming the key, the value and the rule.
    pub message: String,
    /// The signer, when the envelope was authentic.
    pub signer: Option<Signer>,
}

impl Rejection {
    fn new(code: Reason, message: impl Into<String>, signer: Option<Signer>) -> Rejection {
        Rejection {
            code,
            message: message.into(),
            signer,
        }
    }
}

impl Rejection {
    /// A rejection before any key authenticated anything (no signer): e.g. a
    /// blob in a format the check at hand cannot verify.
    pub fn unauthenticated(code: Reason, message: impl Into<String>) -> Rejection {
        Rejection::new(code, message, None)
    }
}

impl From<EnvelopeError> for Rejection {
    fn from(e: EnvelopeError) -> Rejection {
        Rejection::new(e.code(), e.to_string(), None)
    }
}

/// Steps 1 and 2: authenticate the envelope against `keys`, then parse the
/// claim strictly. The claim is never parsed unless the signature is good.
pub fn open(blob: &[u8], keys: &Keyring, now: SystemTime) -> Result<Opened, Rejection> {
    let env = pgp::verify(blob, keys, now)?;
    let signer = Signer {
        primary_fingerprint: env.primary_fingerprint,
        signing_fingerprint: env.signing_fingerprint,
        created: crate::time::unix_seconds(env.created),
        hash_algorithm: env.hash_algorithm,
    };
    match UntrustedClaim::parse(&env.payload) {
        Ok(c) => Ok(Opened {
            signer,
            claim: VerifiedClaim::from_authenticated(c),
        }),
        Err(e) => Err(Rejection::new(
            Reason::MalformedClaim,
            format!("the signed content is not a valid signature claim: {e}"),
            Some(signer),
        )),
    }
}

/// Step 3: the claim must name exactly this manifest digest.
pub fn check_digest(opened: &Opened, manifest_digest: &Digest) -> Result<(), Rejection> {
    let signed = opened.claim.manifest_digest();
    if signed == manifest_digest {
        Ok(())
    } else {
        Err(Rejection::new(
            Reason::DigestMismatch,
            format!("signature is for manifest digest {signed}, but the manifest's digest is {manifest_digest}"),
            Some(opened.signer.clone()),
        ))
    }
}

/// Step 4, as `skopeo standalone-verify` does it: the signed reference and
/// the expected one must be equal after normalisation (no `:latest`
/// defaulting on either side).
pub fn check_identity_exact(opened: &Opened, expected: &DockerReference) -> Result<(), Rejection> {
    let signed = opened.claim.docker_reference();
    let parsed = DockerReference::parse_normalized(signed).map_err(|e| {
        Rejection::new(
            Reason::InvalidSignedIdentity,
            format!("invalid docker reference {signed:?} in signature: {e}"),
            Some(opened.signer.clone()),
        )
    })?;
    if parsed.to_string() == expected.to_string() {
        Ok(())
    } else {
        Err(Rejection::new(
            Reason::IdentityMismatch,
            format!("signature is for {parsed}, not for {expected}"),
            Some(opened.signer.clone()),
        ))
    }
}
