//! containers-policy.json: parsing (strict, like containers/image), the
//! compiled [`Policy`] with its keys loaded once, scope resolution and
//! evaluation into a [`Decision`] report.

use std::path::PathBuf;
use std::sync::Arc;

use crate::pgp::Keyring;
use crate::reference::DockerReference;

mod eval;
pub mod identity;
pub mod lint;
mod parse;

pub use eval::{
    evaluate, Decision, ImageRef, RequirementRejection, RequirementResult, ScopeMatch, SignatureInput, SignatureResult,
    Subject,
};
pub use parse::{parse, ParseOptions, PolicyError, Problem};

/// Transport names containers/image knows. Policies may name others (they
/// are accepted and ignored, as in the reference).
pub const KNOWN_TRANSPORTS: &[&str] = &[
    "atomic",
    "containers-storage",
    "dir",
    "docker",
    "docker-archive",
    "docker-daemon",
    "oci",
    "oci-archive",
    "sif",
    "tarball",
];

/// A validated policy. Every semantic check is done when it is built; keys
/// are read once, then.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The file it came from, if any.
    pub source: Option<PathBuf>,
    /// The `default` requirements (never empty).
    pub default: Vec<Requirement>,
    /// `transports`: transport name -> (scope -> requirements), in file order.
    pub transports: Vec<Transport>,
}

#[derive(Debug, Clone)]
pub struct Transport {
    pub name: String,
    pub scopes: Vec<Scope>,
}

#[derive(Debug, Clone)]
pub struct Scope {
    /// The scope string ("" is the transport's default scope).
    pub scope: String,
    /// Never empty.
    pub requirements: Vec<Requirement>,
}

/// One policy requirement.
// A policy holds a handful of requirements, built once: the size of the
// `signedBy` variant does not matter, and boxing it would only add noise to
// every match.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Requirement {
    /// `insecureAcceptAnything`
    InsecureAcceptAnything,
    /// `reject`
    Reject,
    /// `signedBy`
    SignedBy(SignedBy),
    /// `signedBaseLayer`: parsed; never satisfied (not implemented by the reference either).
    SignedBaseLayer,
    /// `sigstoreSigned`: parsed; evaluated as a rejection (sigstore signatures are not supported).
    SigstoreSigned,
}

impl Requirement {
    /// The JSON `type` value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Requirement::InsecureAcceptAnything => "insecureAcceptAnything",
            Requirement::Reject => "reject",
            Requirement::SignedBy(_) => "signedBy",
            Requirement::SignedBaseLayer => "signedBaseLayer",
            Requirement::SigstoreSigned => "sigstoreSigned",
        }
    }
}

/// `keyType` of a `signedBy` requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    GpgKeys,
    SignedByGpgKeys,
    X509Certificates,
    SignedByX509Cas,
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::GpgKeys => "GPGKeys",
            KeyType::SignedByGpgKeys => "signedByGPGKeys",
            KeyType::X509Certificates => "X509Certificates",
            KeyType::SignedByX509Cas => "signedByX509CAs",
        }
    }
}

/// Where a `signedBy` requirement's keys came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `keyPath` (as written, and as resolved).
    Path { written: String, resolved: PathBuf },
    /// `keyPaths`
    Paths(Vec<(String, PathBuf)>),
    /// `keyData` (decoded bytes)
    Data,
}

/// The keys of a `signedBy` requirement, loaded when the policy was built.
/// A file that could not be read does not invalidate the policy (as in
/// containers/image, where it fails only the requirement that names it):
/// the error is kept and evaluating the requirement rejects with it. A file
/// (or `keyData`) that was read but holds no usable key imports nothing, as
/// with containers/image's gpgme: it is a warning, and the requirement
/// stands on its other keys (with none at all it rejects, "no-keys").
#[derive(Debug, Clone)]
pub struct LoadedKeys {
    pub keyring: Arc<Keyring>,
    /// Unreadable key files, e.g. "cannot read /etc/pki/x.gpg: not found".
    pub errors: Vec<String>,
    /// Key files or data that hold no usable key (ignored).
    pub warnings: Vec<String>,
}

impl LoadedKeys {
    /// Whose signature satisfies the requirement, for people:
    /// `Partner Release <release@partner.example> (FPR) or …`.
    pub fn describe(&self) -> String {
        self.keyring
            .describe()
            .iter()
            .map(|k| k.describe())
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

#[derive(Debug, Clone)]
pub struct SignedBy {
    pub key_type: KeyType,
    pub key_source: KeySource,
    pub keys: LoadedKeys,
    pub signed_identity: SignedIdentity,
}

/// `signedIdentity` of a `signedBy` requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedIdentity {
    MatchExact,
    /// The default when `signedIdentity` is absent.
    MatchRepoDigestOrExact,
    MatchRepository,
    /// Validated at parse time: has a tag or a digest.
    ExactReference(DockerReference),
    ExactRepository(DockerReference),
    /// Both validated at parse time (bare host[:port], or a fully expanded name).
    RemapIdentity {
        prefix: String,
        signed_prefix: String,
    },
}

impl SignedIdentity {
    pub fn type_name(&self) -> &'static str {
        match self {
            SignedIdentity::MatchExact => "matchExact",
            SignedIdentity::MatchRepoDigestOrExact => "matchRepoDigestOrExact",
            SignedIdentity::MatchRepository => "matchRepository",
            SignedIdentity::ExactReference(_) => "exactReference",
            SignedIdentity::ExactRepository(_) => "exactRepository",
            SignedIdentity::RemapIdentity { .. } => "remapIdentity",
        }
    }
}
