//! The JSON documents of `imgsig verify` (docs/json-output.md, schema 3):
//! one image document, the same object in every mode (files, `--signatures`,
//! `dir:`, a lookaside, registries.d, a mirror list, `docker://`), and for
//! the forms that verify many images a summary document. Nothing here
//! decides anything: it renders a [`Report`] or the failure that stopped an image.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::report::{Checked, SignatureJson};
use super::verify_render::describe_requirement;
use super::{Exit, Tally};
use imgsig::pgp::KeyInfo;
use imgsig::policy::{Decision, Requirement};
use imgsig::verify::{Judgement, KeyringDecision, ManifestCheck, Report, Role};

/// Schema version of every verify document. 3 since one image document
/// replaced the policy document (1), the keyring document (1), the registry
/// lines (2) and the bulk lines (1).
pub const VERIFY_SCHEMA_VERSION: u32 = 3;

/// What judged the images: the trust side of the run, the same for every image.
pub enum TrustForm<'a> {
    Policy(&'a Path),
    Keyring {
        paths: &'a [PathBuf],
        /// The trusted keys (`Keyring::describe`).
        keys: Vec<KeyInfo>,
    },
}

impl TrustForm<'_> {
    fn mode(&self) -> &'static str {
        match self {
            TrustForm::Policy(_) => "policy",
            TrustForm::Keyring { .. } => "keyring",
        }
    }

    fn policy(&self) -> Option<String> {
        match self {
            TrustForm::Policy(p) => Some(p.display().to_string()),
            TrustForm::Keyring { .. } => None,
        }
    }
}

/// `{code, message}`: an error that stopped an image, or a rejection of the image as a whole.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorJson {
    pub code: &'static str,
    pub message: String,
}

/// One image's document.
#[derive(Debug, Serialize)]
pub struct ImageDoc {
    schema_version: u32,
    command: &'static str,
    summary: bool,
    mode: &'static str,
    index: usize,
    input: String,
    verdict: &'static str,
    exit_code: u8,
    error: Option<ErrorJson>,
    policy: Option<String>,
    keyrings: Option<Vec<String>>,
    image: Option<String>,
    transport: Option<&'static str>,
    identity: Option<String>,
    manifest_digest: Option<String>,
    manifest_error: Option<String>,
    verified_reference: Option<String>,
    scope: Option<ScopeJson>,
    rejection: Option<ErrorJson>,
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
    reason: Option<&'static str>,
    message: Option<String>,
    signatures: Vec<SignatureJson>,
}

#[derive(Debug, Serialize)]
struct KeyJson {
    fingerprint: String,
    user_ids: Vec<String>,
}

fn keys_json(keys: Vec<KeyInfo>) -> Vec<KeyJson> {
    keys.into_iter()
        .map(|k| KeyJson {
            fingerprint: k.fingerprint,
            user_ids: k.user_ids,
        })
        .collect()
}

/// The summary document after the image documents of a multi-image form.
#[derive(Debug, Serialize)]
pub struct SummaryDoc {
    schema_version: u32,
    command: &'static str,
    summary: bool,
    mode: &'static str,
    policy: Option<String>,
    verdict: &'static str,
    exit_code: u8,
    #[serde(flatten)]
    tally: Tally,
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "accepted"
    } else {
        "rejected"
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
            description: describe_requirement(&r.requirement),
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
                .map(|s| Checked::of(s).to_json("accepted by this requirement"))
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
        reason: (!k.accepted).then_some("no-valid-signature"),
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
            .map(|s| Checked::of(s).to_json("valid signature by a trusted key for this image and digest"))
            .collect(),
    }
}

fn manifest_json(form: &TrustForm<'_>, check: &ManifestCheck) -> ManifestJson {
    let digest = check.digest.as_ref().ok().map(|d| d.to_string());
    let requirements = match &check.judgement {
        Judgement::Policy(d) => policy_requirements(d),
        Judgement::Keyring(k) => {
            let keys = match form {
                TrustForm::Keyring { keys, .. } => keys.clone(),
                // Not a combination the verifier makes; the decision still names its keys.
                TrustForm::Policy(_) => k
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
        requirements,
    }
}

/// The document of an image that was judged (accepted or rejected).
pub fn image_doc(form: &TrustForm<'_>, index: usize, input: &str, report: &Report) -> ImageDoc {
    let exit = if report.accepted { Exit::Ok } else { Exit::No };
    let scope = report.checks.iter().find_map(|c| match &c.judgement {
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
    let manifest_error = match (&report.manifest_digest, &report.rejection) {
        (Err(_), Some(_)) if report.checks.is_empty() => None,
        (Err(e), _) => Some(e.clone()),
        (Ok(_), _) => None,
    };
    ImageDoc {
        image: Some(report.image.to_string()),
        transport: Some(report.image.transport()),
        identity: report.image.docker_reference().map(|r| r.to_string()),
        manifest_digest: report.manifest_digest.as_ref().ok().map(|d| d.to_string()),
        manifest_error,
        verified_reference: report.verified_reference.clone(),
        scope,
        rejection: report.rejection.as_ref().map(|r| ErrorJson {
            code: r.code,
            message: r.message.clone(),
        }),
        tag_record: report.tag_record.as_ref().map(|t| TagRecordJson {
            reference: t.reference.to_string(),
            digest: t.digest.to_string(),
            fetched_at: t.fetched_at,
        }),
        warnings: report.warnings.clone(),
        manifests: report.checks.iter().map(|c| manifest_json(form, c)).collect(),
        ..head(form, index, input, exit)
    }
}

/// The document of an image that could not be verified (exit 2 or 3).
pub fn failed_doc(form: &TrustForm<'_>, index: usize, input: &str, exit: Exit, error: ErrorJson) -> ImageDoc {
    ImageDoc {
        error: Some(error),
        ..head(form, index, input, exit)
    }
}

/// The fields every image document has, and nothing about the image itself.
fn head(form: &TrustForm<'_>, index: usize, input: &str, exit: Exit) -> ImageDoc {
    ImageDoc {
        schema_version: VERIFY_SCHEMA_VERSION,
        command: "verify",
        summary: false,
        mode: form.mode(),
        index,
        input: input.to_owned(),
        verdict: exit.verdict(),
        exit_code: exit as u8,
        error: None,
        policy: form.policy(),
        keyrings: match form {
            TrustForm::Keyring { paths, .. } => Some(paths.iter().map(|p| p.display().to_string()).collect()),
            TrustForm::Policy(_) => None,
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

/// The summary of a multi-image run. Its `verdict` is `failed` when any image
/// could not be verified, else `rejected` when any was rejected, else
/// `accepted`: the same precedence as the exit code (the worst image's).
pub fn summary_doc(form: &TrustForm<'_>, tally: Tally) -> SummaryDoc {
    SummaryDoc {
        schema_version: VERIFY_SCHEMA_VERSION,
        command: "verify",
        summary: true,
        mode: form.mode(),
        policy: form.policy(),
        verdict: tally.exit.verdict(),
        exit_code: tally.exit as u8,
        tally,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(exits: &[Exit]) -> Tally {
        let mut t = Tally::default();
        for e in exits {
            t.add(*e);
        }
        t
    }

    #[test]
    fn summary_verdict_precedence_failed_rejected_accepted() {
        let form = TrustForm::Policy(Path::new("p.json"));
        let v = |exits: &[Exit]| summary_doc(&form, tally(exits)).verdict;
        assert_eq!(v(&[Exit::Ok, Exit::Ok]), "accepted");
        assert_eq!(v(&[Exit::Ok, Exit::No]), "rejected");
        // An outage is not a rejection: nothing said no.
        assert_eq!(v(&[Exit::Outside]), "failed");
        assert_eq!(v(&[Exit::No, Exit::Input, Exit::Ok]), "failed");
        assert_eq!(v(&[Exit::No, Exit::Outside]), "failed");
    }

    #[test]
    fn failed_image_has_every_field() {
        let form = TrustForm::Policy(Path::new("p.json"));
        let doc = failed_doc(
            &form,
            2,
            "docker://x/y:1",
            Exit::Outside,
            ErrorJson {
                code: "network-error",
                message: "down".into(),
            },
        );
        let v = serde_json::to_value(&doc).unwrap();
        assert_eq!(v["verdict"], "failed");
        assert_eq!(v["exit_code"], 3);
        for k in ["image", "scope", "rejection", "keyrings", "verified_reference"] {
            assert!(v.get(k).is_some_and(|x| x.is_null()), "{k} in {v}");
        }
        assert_eq!(v["manifests"], serde_json::json!([]));
    }
}
