//! What a signing run did: per manifest, the signature made (or the one
//! already there), who signed, and where it went.

use crate::digest::Digest;
use crate::reference::DockerReference;
use crate::signature::Signer as SignedBy;

use super::{ChosenDestination, Format, SignError};

/// What a signed manifest is to the image (the one type of sign, fetch and verify).
pub use crate::platform::Role;

/// What happened to one manifest's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A new signature was stored at `at` (a file, or a registry place).
    Written {
        /// Where: a path, `the signature API of DOMAIN`, or
        /// `the sigstore attachments at NAME:TAG`.
        at: String,
    },
    /// A new signature was made, and the identical bytes were already stored at `at`.
    Identical {
        /// Where the identical signature is.
        at: String,
    },
    /// Skipped: a valid signature by this key for this digest and identity
    /// is already stored at `at`; nothing was made or added.
    AlreadySigned {
        /// Where the existing signature is.
        at: String,
    },
    /// Made and returned in [`Entry::signature`] (destination `Caller`).
    Returned,
}

impl Outcome {
    /// Where the signature is (`None` when returned to the caller).
    pub fn at(&self) -> Option<&str> {
        match self {
            Outcome::Written { at } | Outcome::Identical { at } | Outcome::AlreadySigned { at } => Some(at),
            Outcome::Returned => None,
        }
    }

    /// Whether this run stored a new signature.
    pub fn written(&self) -> bool {
        matches!(self, Outcome::Written { .. })
    }
}

/// One manifest signed (or found signed).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Entry {
    /// The manifest's digest.
    pub manifest_digest: Digest,
    /// The identity the signature vouches for.
    pub identity: DockerReference,
    /// What the manifest is to the image.
    pub role: Role,
    /// What happened.
    pub outcome: Outcome,
    /// Who signed (the existing signature's signer when already signed).
    pub by: SignedBy,
    /// The claim's timestamp (Unix seconds).
    pub timestamp: i64,
    /// The new signature's bytes (`None` when already signed).
    pub signature: Option<Vec<u8>>,
}

/// What signing one image did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Report {
    /// The kind of signatures made.
    pub format: Format,
    /// Where the signatures went and which rule chose it (`None` when
    /// signing stopped before a destination was chosen).
    pub destination: Option<ChosenDestination>,
    /// Per manifest, in the image's order (the index first, then its
    /// instances in index order).
    pub entries: Vec<Entry>,
    /// Problems that did not stop signing (unusable certs.d files, …).
    pub warnings: Vec<String>,
    /// What stopped signing, if anything: the manifests in `entries` were
    /// done, the rest were not.
    pub error: Option<SignError>,
}
