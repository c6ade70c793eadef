//! containers-policy.json: parsing (strict, like containers/image), the
//! compiled [`Policy`] with its keys loaded once, scope resolution and
//! evaluation into a [`Decision`] report.

use std::path::PathBuf;
use std::sync::Arc;

use crate::pgp::Keyring;
use crate::reference::DockerReference;

pub mod edit;
mod eval;
pub mod identity;
pub mod lint;
mod parse;
mod sigstore;

pub use eval::{
    evaluate, Decision, ImageRef, RequirementRejection, RequirementResult, ScopeMatch, SignatureInput, SignatureResult,
    SigstoreInput, Subject,
};
pub use parse::{parse, ParseOptions, PolicyError, Problem};
pub use sigstore::sigstore_material_problems;

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

/// The `transports` entry for one transport: its scopes, in file order.
#[derive(Debug, Clone)]
pub struct Transport {
    /// The transport name, e.g. `docker` (names not in [`KNOWN_TRANSPORTS`]
    /// are kept, and never match an image).
    pub name: String,
    /// The transport's scopes, in file order.
    pub scopes: Vec<Scope>,
}

/// One scope of a transport and the requirements for images in it.
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
    /// `sigstoreSigned`
    SigstoreSigned(SigstoreSigned),
}

impl Requirement {
    /// The JSON `type` value.
    pub fn type_name(&self) -> &'static str {
        match self {
            Requirement::InsecureAcceptAnything => "insecureAcceptAnything",
            Requirement::Reject => "reject",
            Requirement::SignedBy(_) => "signedBy",
            Requirement::SignedBaseLayer => "signedBaseLayer",
            Requirement::SigstoreSigned(_) => "sigstoreSigned",
        }
    }

    /// One line for people and for the `description` of verify's JSON:
    /// the type, its keys (with their fingerprints) and the identity rule.
    /// File names and trust roots are escaped for a terminal.
    pub fn describe(&self) -> String {
        use crate::shown::shown;
        match self {
            Requirement::SignedBy(sb) => {
                let keys = match &sb.key_source {
                    KeySource::Path { resolved, .. } => format!("keyPath {}", shown(resolved)),
                    KeySource::Paths(ps) => format!(
                        "keyPaths [{}]",
                        ps.iter()
                            .map(|(_, p)| crate::shown::escaped(p))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    KeySource::Data => "keyData".to_owned(),
                };
                format!(
                    "signedBy {} {keys} ({} key(s): {}), signedIdentity {}",
                    sb.key_type.as_str(),
                    sb.keys.keyring.len(),
                    sb.keys.keyring.fingerprints().join(", "),
                    sb.signed_identity.type_name()
                )
            }
            Requirement::SigstoreSigned(ss) => format!(
                "sigstoreSigned {}, signedIdentity {}",
                shown(&ss.describe_trust()),
                ss.signed_identity.type_name()
            ),
            other => other.type_name().to_owned(),
        }
    }
}

/// `keyType` of a `signedBy` requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// `GPGKeys`: OpenPGP public keys; the only type evaluated.
    GpgKeys,
    /// `signedByGPGKeys`: accepted by the parser; evaluating it rejects
    /// ("unsupported-key-type"), as in containers/image.
    SignedByGpgKeys,
    /// `X509Certificates`: accepted by the parser; evaluating it rejects
    /// ("unsupported-key-type").
    X509Certificates,
    /// `signedByX509CAs`: accepted by the parser; evaluating it rejects
    /// ("unsupported-key-type").
    SignedByX509Cas,
}

impl KeyType {
    /// The JSON `keyType` value, e.g. `GPGKeys`.
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
    Path {
        /// The path as written in the policy.
        written: String,
        /// The path opened: `written` if absolute, else under the current
        /// directory when the policy was built.
        resolved: PathBuf,
    },
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
    /// The usable certificates (empty for key types other than `GPGKeys`,
    /// whose keys are not read).
    pub keyring: Arc<Keyring>,
    /// Unreadable key files, e.g. "cannot read /etc/pki/x.gpg: not found".
    pub errors: Vec<String>,
    /// Key files or data that hold no usable key (ignored), or only
    /// revocations that revoke nothing here.
    pub warnings: Vec<String>,
    /// Files that hold only revocations, and what they revoke (for people:
    /// verify shows them beside its warnings).
    pub notes: Vec<String>,
    /// Certificates revoked by a revocation in another file (or `keyData`)
    /// of the requirement than their own: (primary fingerprint, where the
    /// revocation came from, e.g. `key file "release.rev"`).
    pub revoked_by: Vec<(String, String)>,
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

/// A `signedBy` requirement: an OpenPGP signature by one of its keys, on a
/// claim whose identity satisfies `signed_identity`.
#[derive(Debug, Clone)]
pub struct SignedBy {
    /// `keyType`.
    pub key_type: KeyType,
    /// Which of `keyPath`, `keyPaths` or `keyData` named the keys.
    pub key_source: KeySource,
    /// The keys, read when the policy was built (with what went wrong).
    pub keys: LoadedKeys,
    /// `signedIdentity`; `matchRepoDigestOrExact` when absent.
    pub signed_identity: SignedIdentity,
}

/// Key material of a `sigstoreSigned` requirement (a public key, a CA
/// bundle, a Rekor key), read when the policy is built. As with `signedBy`, a
/// file that cannot be read does not invalidate the policy: containers/image
/// reads these when it evaluates the requirement, and fails only that
/// requirement (every signature it judges is rejected with the error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Material {
    /// Where it came from, for people: `"/etc/pki/cosign.pub"` (with the
    /// absolute path it resolved to, if relative) or `keyData`, `keyDatas[1]`.
    pub origin: String,
    /// The bytes, or why they could not be read.
    pub bytes: Result<Vec<u8>, String>,
    /// For a file: the path as written, and as resolved (`None` for inline data).
    pub path: Option<(String, PathBuf)>,
}

/// What a `sigstoreSigned` requirement trusts: exactly one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigstoreTrust {
    /// `keyPath`, `keyPaths`, `keyData` or `keyDatas`: one of these public keys.
    PublicKeys(Vec<Material>),
    /// `fulcio`: a certificate issued by this CA for this OIDC issuer and e-mail
    /// (a Rekor key is then required).
    Fulcio {
        /// `caPath` or `caData`: the Fulcio CA certificate(s).
        ca: Material,
        /// `oidcIssuer`: the OIDC issuer the certificate must name (not empty).
        oidc_issuer: String,
        /// `subjectEmail`: the e-mail the certificate must be issued to (not
        /// empty).
        subject_email: String,
    },
    /// `pki`: a certificate chaining to these roots (through these
    /// intermediates) for this e-mail and/or host name.
    Pki {
        /// `caRootsPath` or `caRootsData`: the trusted root certificates.
        roots: Material,
        /// `caIntermediatesPath` or `caIntermediatesData`, if given.
        intermediates: Option<Material>,
        /// `subjectEmail` the certificate must name (`None` when absent or
        /// empty; at least one of this and `subject_hostname` is set).
        subject_email: Option<String>,
        /// `subjectHostname` the certificate must name (`None` when absent
        /// or empty).
        subject_hostname: Option<String>,
    },
}

/// A `sigstoreSigned` requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigstoreSigned {
    /// The keys or certificate authority a signature must chain to.
    pub trust: SigstoreTrust,
    /// `rekorPublicKeyPath(s)` / `rekorPublicKeyData(s)`: when present, a
    /// signature must carry a Rekor SET signed by one of these keys.
    pub rekor: Option<Vec<Material>>,
    /// Defaults to `matchRepoDigestOrExact`, as for `signedBy`.
    pub signed_identity: SignedIdentity,
}

/// `signedIdentity` of a `signedBy` requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedIdentity {
    /// `matchExact`: the signed reference must equal the image's reference,
    /// both with a tag or digest.
    MatchExact,
    /// `matchRepoDigestOrExact`: the signed reference must be in the image's
    /// repository when the image is named by digest alone, else equal it.
    /// The default when `signedIdentity` is absent.
    MatchRepoDigestOrExact,
    /// `matchRepository`: the signed reference must be in the image's
    /// repository (any tag or digest).
    MatchRepository,
    /// `exactReference`: the signed reference must equal this one, whatever
    /// the image's own reference.
    /// Validated at parse time: has a tag or a digest.
    ExactReference(DockerReference),
    /// `exactRepository`: the signed reference must be in this repository,
    /// whatever the image's own reference.
    ExactRepository(DockerReference),
    /// `remapIdentity`: like `matchRepoDigestOrExact`, after replacing
    /// `prefix` with `signed_prefix` at the start of the image's reference.
    /// Both validated at parse time (bare `host[:port]`, or a fully expanded name).
    RemapIdentity {
        /// `prefix`: what the image's reference starts with (a whole path
        /// element).
        prefix: String,
        /// `signedPrefix`: what replaces it.
        signed_prefix: String,
    },
}

impl SignedIdentity {
    /// The JSON `type` value, e.g. `matchRepoDigestOrExact`.
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
