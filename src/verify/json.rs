//! The JSON documents of `imgsig verify` (docs/json-output.md, schema
//! [`JSON_SCHEMA_VERSION`]): one image document, the same object in every
//! mode, built from a [`Report`] ([`Report::to_json_document`]) or from the
//! error that stopped an image ([`ImageDocument::failed`]); and the
//! `{code, message}` [`ErrorDocument`] every error and rejection is written
//! as. Nothing here decides anything: it renders what the verifier found.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::pgp::{KeyInfo, Keyring};
use crate::policy::{Decision, Requirement, SignatureResult};
use crate::signature::Signer;
use crate::Reason;

use super::{ErrorClass, ImageRejection, Judgement, KeyringDecision, ManifestCheck, Report, Role, VerifyError};

/// Schema version of every verify document. 3 since one image document
/// replaced the policy document (1), the keyring document (1), the registry
/// lines (2) and the bulk lines (1).
pub const JSON_SCHEMA_VERSION: u32 = 3;

/// What judged the images, as the documents name it (`mode`, `policy`,
/// `keyrings`): the trust side of a run, the same for every image.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DocumentTrust<'a> {
    /// A policy file.
    Policy(&'a Path),
    /// Keyring files and the keys they hold.
    Keyring {
        /// The keyring files as given.
        paths: &'a [PathBuf],
        /// The trusted keys ([`Keyring::describe`]).
        keys: Vec<KeyInfo>,
    },
}

impl<'a> DocumentTrust<'a> {
    /// The keyring form: the files as given and the keyring read from them.
    pub fn keyring(paths: &'a [PathBuf], keyring: &Keyring) -> DocumentTrust<'a> {
        DocumentTrust::Keyring {
            paths,
            keys: keyring.describe(),
        }
    }

    /// `policy` or `keyring`.
    pub fn mode(&self) -> &'static str {
        match self {
            DocumentTrust::Policy(_) => "policy",
            DocumentTrust::Keyring { .. } => "keyring",
        }
    }

    /// The policy file as shown in documents, for the policy form.
    pub fn policy(&self) -> Option<String> {
        match self {
            DocumentTrust::Policy(p) => Some(p.display().to_string()),
            DocumentTrust::Keyring { .. } => None,
        }
    }
}

/// `{code, message}`: an error, or a rejection of an image as a whole,
/// wherever a document carries one (docs/json-output.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ErrorDocument {
    /// Why, as a stable code; serialised as its string.
    pub code: Reason,
    /// What went wrong.
    pub message: String,
}

impl ErrorDocument {
    /// A document for this code and message.
    pub fn new(code: Reason, message: impl Into<String>) -> ErrorDocument {
        ErrorDocument {
            code,
            message: message.into(),
        }
    }
}

impl From<&VerifyError> for ErrorDocument {
    /// The error's code and message (its hint is not part of the document).
    fn from(e: &VerifyError) -> ErrorDocument {
        ErrorDocument::new(e.code, e.message.clone())
    }
}

impl From<&ImageRejection> for ErrorDocument {
    fn from(r: &ImageRejection) -> ErrorDocument {
        ErrorDocument::new(r.code, r.message.clone())
    }
}

/// One image's document: serialise it (with serde) to get exactly what
/// `imgsig verify --output json` prints for the image.
#[derive(Debug, Serialize)]
pub struct ImageDocument {
    schema_version: u32,
    command: &'static str,
    summary: bool,
    mode: &'static str,
    index: usize,
    input: String,
    verdict: &'static str,
    exit_code: u8,
    error: Option<ErrorDocument>,
    policy: Option<String>,
    keyrings: Option<Vec<String>>,
    image: Option<String>,
    transport: Option<&'static str>,
    identity: Option<String>,
    manifest_digest: Option<String>,
    manifest_error: Option<String>,
    verified_reference: Option<String>,
    scope: Option<ScopeJson>,
    rejection: Option<ErrorDocument>,
    tag_record: Option<TagRecordJson>,
    warnings: Vec<String>,
    manifests: Vec<ManifestJson>,
}

/// The mirror's record of what a tag resolved to, as a tag was verified
/// offline: the mapping is as of `fetched_at`.
#[derive(Debug, Serialize)]
struct TagRecordJson {
    reference: String,
    digest: String,
    fetched_at: i64,
}

#[derive(Debug, Serialize)]
struct ScopeJson {
    matched: String,
    transport: Option<String>,
    scope: Option<String>,
    tried: Vec<String>,
}

/// One manifest judged.
#[derive(Debug, Serialize)]
struct ManifestJson {
    /// `image`, `index` or `instance`.
    role: &'static str,
    platform: Option<String>,
    manifest_digest: Option<String>,
    manifest_error: Option<String>,
    verdict: &'static str,
    /// Every simple-signing signature read for this manifest.
    signatures: Vec<SourceJson>,
    /// Where the signatures were looked for; `None` when none were needed.
    looked_in: Option<String>,
    requirements: Vec<RequirementJson>,
}

#[derive(Debug, Serialize)]
struct SourceJson {
    index: usize,
    source: String,
}

#[derive(Debug, Serialize)]
struct RequirementJson {
    index: usize,
    #[serde(rename = "type")]
    type_name: &'static str,
    description: String,
    /// `signedBy` and `keyring`: whose signature satisfies it; `null` for other types.
    keys: Option<Vec<KeyJson>>,
    verdict: &'static str,
    reason: Option<Reason>,
    message: Option<String>,
    signatures: Vec<SignatureJson>,
}

#[derive(Debug, Serialize)]
struct KeyJson {
    fingerprint: String,
    user_ids: Vec<String>,
}

/// One signature's verdict.
#[derive(Debug, Serialize)]
struct SignatureJson {
    index: usize,
    source: String,
    verdict: &'static str,
    reason: Option<Reason>,
    message: String,
    signer: Option<Signer>,
    signature_created: Option<i64>,
    hash_algorithm: Option<String>,
    signed_identity: Option<String>,
    signed_digest: Option<String>,
    creator: Option<String>,
    timestamp: Option<i64>,
}

fn keys_json(keys: Vec<KeyInfo>) -> Vec<KeyJson> {
    keys.into_iter()
        .map(|k| KeyJson {
            fingerprint: k.fingerprint,
            user_ids: k.user_ids,
        })
        .collect()
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "accepted"
    } else {
        "rejected"
    }
}

/// What a check found about one signature; `accepted_message` is the
/// `message` of an accepted one.
fn signature_json(s: &SignatureResult, accepted_message: &str) -> SignatureJson {
    let opened = s.opened.as_ref();
    let sigstore = s.sigstore.as_ref();
    let signer = opened
        .map(|o| &o.signer)
        .or_else(|| s.result.as_ref().err().and_then(|r| r.signer.as_ref()));
    let claim = opened.map(|o| &o.claim);
    SignatureJson {
        index: s.index,
        source: s.source.clone(),
        verdict: verdict(s.result.is_ok()),
        reason: s.result.as_ref().err().map(|r| r.code),
        message: match &s.result {
            Ok(()) => accepted_message.to_owned(),
            Err(r) => r.message.clone(),
        },
        signer: signer.cloned(),
        signature_created: signer.map(|s| s.created),
        hash_algorithm: signer.map(|s| s.hash_algorithm.clone()),
        signed_identity: claim
            .map(|c| c.docker_reference().to_owned())
            .or_else(|| sigstore.map(|p| p.docker_reference.clone())),
        signed_digest: claim
            .map(|c| c.manifest_digest().to_string())
            .or_else(|| sigstore.map(|p| p.docker_manifest_digest.clone())),
        creator: claim
            .and_then(|c| c.creator().map(str::to_owned))
            .or_else(|| sigstore.and_then(|p| p.creator.clone())),
        timestamp: claim
            .and_then(|c| c.timestamp())
            .or_else(|| sigstore.and_then(|p| p.timestamp)),
    }
}

fn policy_requirements(d: &Decision) -> Vec<RequirementJson> {
    let mut out = Vec::new();
    if let Some(e) = &d.image_error {
        out.push(RequirementJson {
            index: 0,
            type_name: "image",
            description: "the image reference's digest pin".into(),
            keys: None,
            verdict: "rejected",
            reason: Some(e.code),
            message: Some(e.message.clone()),
            signatures: Vec::new(),
        });
    }
    out.extend(d.requirements.iter().map(|r| {
        RequirementJson {
            index: r.index,
            type_name: r.requirement.type_name(),
            description: r.requirement.describe(),
            keys: match &r.requirement {
                Requirement::SignedBy(sb) => Some(keys_json(sb.keys.keyring.describe())),
                _ => None,
            },
            verdict: verdict(r.result.is_ok()),
            reason: r.result.as_ref().err().map(|e| e.code),
            message: r.result.as_ref().err().map(|e| e.message.clone()),
            signatures: r
                .signatures
                .iter()
                .map(|s| signature_json(s, "accepted by this requirement"))
                .collect(),
        }
    }));
    out
}

/// The keyring form as the one requirement it is: a signature by a trusted
/// key, for the manifest's digest and exactly the expected identity.
fn keyring_requirement(k: &KeyringDecision, keys: Vec<KeyInfo>, digest: &str) -> RequirementJson {
    let fingerprints: Vec<&str> = keys.iter().map(|k| k.fingerprint.as_str()).collect();
    let description = format!(
        "keyring ({} key(s): {}), identity exactly {}",
        keys.len(),
        fingerprints.join(", "),
        k.identity
    );
    RequirementJson {
        index: 1,
        type_name: "keyring",
        description,
        keys: Some(keys_json(keys)),
        verdict: verdict(k.accepted),
        reason: (!k.accepted).then_some(Reason::NoValidSignature),
        message: (!k.accepted).then(|| {
            format!(
                "none of the {} signature(s) is a valid signature by a trusted key for {} with manifest {digest}",
                k.signatures.len(),
                k.identity
            )
        }),
        signatures: k
            .signatures
            .iter()
            .map(|s| signature_json(s, "valid signature by a trusted key for this image and digest"))
            .collect(),
    }
}

fn manifest_json(trust: &DocumentTrust<'_>, check: &ManifestCheck) -> ManifestJson {
    let digest = check.digest.as_ref().ok().map(|d| d.to_string());
    let requirements = match &check.judgement {
        Judgement::Policy(d) => policy_requirements(d),
        Judgement::Keyring(k) => {
            let keys = match trust {
                DocumentTrust::Keyring { keys, .. } => keys.clone(),
                // Not a combination the verifier makes; the decision still names its keys.
                DocumentTrust::Policy(_) => k
                    .trusted_fingerprints
                    .iter()
                    .map(|f| KeyInfo {
                        fingerprint: f.clone(),
                        user_ids: Vec::new(),
                    })
                    .collect(),
            };
            vec![keyring_requirement(k, keys, digest.as_deref().unwrap_or("(none)"))]
        }
    };
    let (role, platform) = match &check.role {
        Role::Image => ("image", None),
        Role::Index => ("index", None),
        Role::Instance(p) => ("instance", Some(p.to_string())),
    };
    ManifestJson {
        role,
        platform,
        manifest_digest: digest,
        manifest_error: check.digest.as_ref().err().cloned(),
        verdict: verdict(check.judgement.accepted()),
        signatures: check
            .signatures
            .iter()
            .enumerate()
            .map(|(i, s)| SourceJson {
                index: i + 1,
                source: s.source.clone(),
            })
            .collect(),
        looked_in: check.looked_in.clone(),
        requirements,
    }
}

impl Report {
    /// This report as the image document of docs/json-output.md: `trust`
    /// is what judged it, `index` its place in the run (1 for a single
    /// image), `input` the image as the user gave it.
    ///
    /// ```
    /// use imgsig::policy::{self, ParseOptions};
    /// use imgsig::reference::DockerReference;
    /// use imgsig::verify::{DocumentTrust, ImageSource, Options, Request, SignatureFile, SignatureSource, Trust, Verifier};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cmd/fixtures"));
    /// let policy_file = dir.join("policy.json");
    /// let trust = Trust::Policy(policy::parse(&std::fs::read(&policy_file)?, &ParseOptions::default())?);
    /// let report = Verifier::new(&trust, None, Options::default()).verify(&Request {
    ///     image: ImageSource::Manifest {
    ///         bytes: std::fs::read(dir.join("image.manifest.json"))?,
    ///         identity: DockerReference::parse_docker_transport("testing/manifest")?,
    ///         origin: "image.manifest.json".into(),
    ///     },
    ///     signatures: SignatureSource::Files(vec![SignatureFile::Path(dir.join("image.signature"))]),
    /// })?;
    /// // What `imgsig verify --output json --policy …/policy.json … --manifest image.manifest.json` prints.
    /// let doc = report.to_json_document(&DocumentTrust::Policy(&policy_file), 1, "image.manifest.json");
    /// let json = serde_json::to_value(&doc)?;
    /// assert_eq!((json["schema_version"].as_u64(), json["verdict"].as_str()), (Some(3), Some("accepted")));
    /// assert_eq!(json["manifests"][0]["requirements"][0]["signatures"][0]["signer"]["primary_fingerprint"],
    ///            "08CD26E446E2E95249B7A405E932F44B23E8DD43");
    /// # Ok(())
    /// # }
    /// ```
    pub fn to_json_document(&self, trust: &DocumentTrust<'_>, index: usize, input: &str) -> ImageDocument {
        let scope = self.checks.iter().find_map(|c| match &c.judgement {
            Judgement::Policy(d) => Some(ScopeJson {
                matched: d.scope.describe(),
                transport: d.scope.entry.as_ref().map(|(t, _)| t.clone()),
                scope: d.scope.entry.as_ref().map(|(_, s)| s.clone()),
                tried: d.scope.tried.clone(),
            }),
            Judgement::Keyring(_) => None,
        });
        // Rejected as a whole before any manifest was judged: the reason is in
        // `rejection`, not also posing as the digest's.
        let manifest_error = match (&self.manifest_digest, &self.rejection) {
            (Err(_), Some(_)) if self.checks.is_empty() => None,
            (Err(e), _) => Some(e.clone()),
            (Ok(_), _) => None,
        };
        let (verdict, exit_code) = if self.accepted {
            ("accepted", 0)
        } else {
            ("rejected", 1)
        };
        ImageDocument {
            image: Some(self.image.to_string()),
            transport: Some(self.image.transport()),
            identity: self.image.docker_reference().map(|r| r.to_string()),
            manifest_digest: self.manifest_digest.as_ref().ok().map(|d| d.to_string()),
            manifest_error,
            verified_reference: self.verified_reference.clone(),
            scope,
            rejection: self.rejection.as_ref().map(ErrorDocument::from),
            tag_record: self.tag_record.as_ref().map(|t| TagRecordJson {
                reference: t.reference.to_string(),
                digest: t.digest.to_string(),
                fetched_at: t.fetched_at,
            }),
            warnings: self.warnings.clone(),
            manifests: self.checks.iter().map(|c| manifest_json(trust, c)).collect(),
            ..ImageDocument::head(trust, index, input, verdict, exit_code)
        }
    }
}

impl ImageDocument {
    /// The document of an image that could not be verified: `verdict`
    /// `failed` with exit code 2 ([`ErrorClass::Input`]) or 3
    /// ([`ErrorClass::Outside`]); a [`ErrorClass::Rejected`] error is
    /// `rejected`, exit code 1.
    pub fn failed(
        trust: &DocumentTrust<'_>,
        index: usize,
        input: &str,
        class: ErrorClass,
        error: ErrorDocument,
    ) -> ImageDocument {
        let (verdict, exit_code) = match class {
            ErrorClass::Input => ("failed", 2),
            ErrorClass::Outside => ("failed", 3),
            ErrorClass::Rejected => ("rejected", 1),
        };
        ImageDocument {
            error: Some(error),
            ..ImageDocument::head(trust, index, input, verdict, exit_code)
        }
    }

    /// The fields every image document has, and nothing about the image itself.
    fn head(
        trust: &DocumentTrust<'_>,
        index: usize,
        input: &str,
        verdict: &'static str,
        exit_code: u8,
    ) -> ImageDocument {
        ImageDocument {
            schema_version: JSON_SCHEMA_VERSION,
            command: "verify",
            summary: false,
            mode: trust.mode(),
            index,
            input: input.to_owned(),
            verdict,
            exit_code,
            error: None,
            policy: trust.policy(),
            keyrings: match trust {
                DocumentTrust::Keyring { paths, .. } => Some(paths.iter().map(|p| p.display().to_string()).collect()),
                DocumentTrust::Policy(_) => None,
            },
            image: None,
            transport: None,
            identity: None,
            manifest_digest: None,
            manifest_error: None,
            verified_reference: None,
            scope: None,
            rejection: None,
            tag_record: None,
            warnings: Vec::new(),
            manifests: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_image_has_every_field() {
        let trust = DocumentTrust::Policy(Path::new("p.json"));
        let error = ErrorDocument::new(Reason::NetworkError, "down");
        let doc = ImageDocument::failed(&trust, 2, "docker://x/y:1", ErrorClass::Outside, error);
        let v = serde_json::to_value(&doc).unwrap();
        assert_eq!(v["verdict"], "failed");
        assert_eq!(v["exit_code"], 3);
        assert_eq!(
            v["error"],
            serde_json::json!({"code": "network-error", "message": "down"})
        );
        for k in ["image", "scope", "rejection", "keyrings", "verified_reference"] {
            assert!(v.get(k).is_some_and(|x| x.is_null()), "{k} in {v}");
        }
        assert_eq!(v["manifests"], serde_json::json!([]));
    }
}
