//! Rendering a verification [`Report`]: the report for people (stderr) and
//! the JSON documents (docs/json-output.md). Nothing here decides anything.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::output::SCHEMA_VERSION;
use super::report::{Checked, SignatureJson};
use imgsig::policy::{self, Decision, Requirement, SignatureResult};
use imgsig::shown::shown;
use imgsig::verify::{Judgement, KeyringDecision, ManifestCheck, Report, Role};

/// One line describing a requirement, e.g.
/// `signedBy GPGKeys keyPath=/k.gpg, signedIdentity matchRepoDigestOrExact`.
pub fn describe_requirement(req: &Requirement) -> String {
    match req {
        Requirement::SignedBy(sb) => {
            let keys = match &sb.key_source {
                policy::KeySource::Path { resolved, .. } => format!("keyPath {}", shown(resolved)),
                policy::KeySource::Paths(ps) => format!(
                    "keyPaths [{}]",
                    ps.iter()
                        .map(|(_, p)| imgsig::shown::escaped(p))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                policy::KeySource::Data => "keyData".to_owned(),
            };
            format!(
                "signedBy {} {keys} ({} key(s): {}), signedIdentity {}",
                sb.key_type.as_str(),
                sb.keys.keyring.len(),
                sb.keys.keyring.fingerprints().join(", "),
                sb.signed_identity.type_name()
            )
        }
        other => other.type_name().to_owned(),
    }
}

fn checked(s: &SignatureResult) -> Checked<'_> {
    Checked {
        index: s.index,
        source: &s.source,
        opened: s.opened.as_ref(),
        result: &s.result,
    }
}

fn digest_text(d: &Result<imgsig::digest::Digest, String>) -> String {
    match d {
        Ok(d) => d.to_string(),
        Err(e) => format!("(unusable: {e})"),
    }
}

/// `manifest sha256:…` plus what the manifest is to a multi-platform image.
fn manifest_label(report: &Report, check: &ManifestCheck) -> String {
    let d = digest_text(&check.digest);
    match &check.role {
        Role::Image => format!("manifest {d}"),
        Role::Index => format!("index {d}"),
        Role::Instance(p) => format!("instance {p} {d} of index {}", digest_text(&report.manifest_digest)),
    }
}

/// The report for people, policy form: one block per manifest judged.
pub fn policy_human(policy_path: &Path, report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "imgsig: policy {}", shown(policy_path));
    for w in &report.warnings {
        let _ = writeln!(out, "imgsig: warning: {w}");
    }
    let mut scope_desc = String::from("default");
    for check in &report.checks {
        let Judgement::Policy(d) = &check.judgement else {
            continue;
        };
        scope_desc = d.scope.describe();
        match &check.looked_in {
            Some(_) => drop(writeln!(
                out,
                "imgsig: image {} ({}), {} signature(s)",
                report.image,
                manifest_label(report, check),
                check.signatures.len()
            )),
            None => drop(writeln!(
                out,
                "imgsig: image {} ({}); signatures not read: no requirement of its scope needs them",
                report.image,
                manifest_label(report, check),
            )),
        }
        if check.sigstore_ignored > 0 {
            let _ = writeln!(
                out,
                "imgsig:   {} sigstore signature(s) ignored (signedBy judges simple-signing signatures only)",
                check.sigstore_ignored
            );
        }
        let _ = writeln!(
            out,
            "imgsig: scope {} (tried: {})",
            d.scope.describe(),
            d.scope.tried_quoted()
        );
        if let Some(e) = &d.image_error {
            let _ = writeln!(
                out,
                "imgsig: rejected before any requirement [{}]: {}",
                e.code, e.message
            );
        }
        let n = d.requirements.len();
        for r in &d.requirements {
            let desc = describe_requirement(&r.requirement);
            match &r.result {
                Ok(()) => drop(writeln!(out, "imgsig: requirement {}/{n} {desc}: accepted", r.index)),
                Err(e) => drop(writeln!(
                    out,
                    "imgsig: requirement {}/{n} {desc}: rejected [{}]: {}",
                    r.index, e.code, e.message
                )),
            }
            let total = r.signatures.len();
            for s in &r.signatures {
                let _ = writeln!(out, "imgsig:   {}", checked(s).human(total));
            }
        }
    }
    if report.accepted {
        match &report.verified_reference {
            Some(v) => drop(writeln!(
                out,
                "imgsig: ACCEPTED: {} by {scope_desc}; pull {v}",
                report.image
            )),
            None => drop(writeln!(out, "imgsig: ACCEPTED: {} by {scope_desc}", report.image)),
        }
        return out;
    }
    if let Some(r) = &report.rejection {
        let _ = writeln!(out, "imgsig: REJECTED: {} [{}]: {}", report.image, r.code, r.message);
        return out;
    }
    let mut failed = Vec::new();
    for check in &report.checks {
        let Judgement::Policy(d) = &check.judgement else {
            continue;
        };
        if d.accepted {
            continue;
        }
        let what = match &check.role {
            Role::Image => String::new(),
            role => format!(" for the {}", role.describe()),
        };
        if let Some(e) = &d.image_error {
            failed.push(format!("[{}] {}{what}", e.code, e.message));
        }
        for r in d.requirements.iter().filter(|r| r.result.is_err()) {
            let who = match &r.requirement {
                Requirement::SignedBy(sb) if !sb.keys.keyring.is_empty() => {
                    format!(", needs a signature by {}", sb.keys.describe())
                }
                _ => String::new(),
            };
            failed.push(format!(
                "requirement {} ({}{who}){what}",
                r.index,
                r.requirement.type_name()
            ));
        }
    }
    let _ = writeln!(
        out,
        "imgsig: REJECTED: {} by {scope_desc}: {} not satisfied",
        report.image,
        failed.join(", ")
    );
    out
}

#[derive(Debug, Serialize)]
pub struct PolicyDoc {
    schema_version: u32,
    command: &'static str,
    mode: &'static str,
    verdict: &'static str,
    policy: String,
    image: String,
    transport: &'static str,
    identity: Option<String>,
    manifest_digest: Option<String>,
    manifest_error: Option<String>,
    verified_reference: Option<String>,
    scope: ScopeJson,
    requirements: Vec<RequirementJson>,
    signatures: Vec<SourceJson>,
    /// What the judged manifest is, for a multi-platform image.
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<RoleJson>,
    /// Every manifest judged, when the image is multi-platform.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    manifests: Vec<PolicyDoc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejection: Option<ErrorJson>,
}

#[derive(Debug, Serialize)]
struct RoleJson {
    /// `index` or `instance`.
    kind: &'static str,
    /// The instance's platform (`os/architecture[/variant]`).
    platform: Option<String>,
    /// The multi-platform image's index digest.
    index_digest: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ErrorJson {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize)]
struct ScopeJson {
    matched: String,
    transport: Option<String>,
    scope: Option<String>,
    tried: Vec<String>,
}

#[derive(Debug, Serialize)]
struct RequirementJson {
    index: usize,
    #[serde(rename = "type")]
    type_name: &'static str,
    description: String,
    /// `signedBy`: the trusted keys, i.e. whose signature satisfies it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    keys: Vec<KeyJson>,
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

fn keys_json(req: &Requirement) -> Vec<KeyJson> {
    match req {
        Requirement::SignedBy(sb) => sb
            .keys
            .keyring
            .describe()
            .into_iter()
            .map(|k| KeyJson {
                fingerprint: k.fingerprint,
                user_ids: k.user_ids,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[derive(Debug, Serialize)]
struct SourceJson {
    index: usize,
    source: String,
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "accepted"
    } else {
        "rejected"
    }
}

/// The decision document for one judged manifest.
pub fn check_doc(policy_path: &Path, report: &Report, check: &ManifestCheck, d: &Decision) -> PolicyDoc {
    let mut requirements: Vec<RequirementJson> = Vec::new();
    if let Some(e) = &d.image_error {
        requirements.push(RequirementJson {
            index: 0,
            type_name: "image",
            description: "the image reference's digest pin".into(),
            keys: Vec::new(),
            verdict: "rejected",
            reason: Some(e.code),
            message: Some(e.message.clone()),
            signatures: Vec::new(),
        });
    }
    requirements.extend(d.requirements.iter().map(|r| {
        RequirementJson {
            index: r.index,
            type_name: r.requirement.type_name(),
            description: describe_requirement(&r.requirement),
            keys: keys_json(&r.requirement),
            verdict: verdict(r.result.is_ok()),
            reason: r.result.as_ref().err().map(|e| e.code),
            message: r.result.as_ref().err().map(|e| e.message.clone()),
            signatures: r
                .signatures
                .iter()
                .map(|s| checked(s).to_json("accepted by this requirement"))
                .collect(),
        }
    }));
    let index_digest = report.manifest_digest.as_ref().ok().map(|d| d.to_string());
    let role = match &check.role {
        Role::Image => None,
        Role::Index => Some(RoleJson {
            kind: "index",
            platform: None,
            index_digest,
        }),
        Role::Instance(p) => Some(RoleJson {
            kind: "instance",
            platform: Some(p.to_string()),
            index_digest,
        }),
    };
    PolicyDoc {
        schema_version: SCHEMA_VERSION,
        command: "verify",
        mode: "policy",
        verdict: verdict(d.accepted),
        policy: policy_path.display().to_string(),
        image: report.image.to_string(),
        transport: report.image.transport(),
        identity: report.image.docker_reference().map(|r| r.to_string()),
        // The manifest this decision judged (an instance's own digest for a multi-platform image).
        manifest_digest: check.digest.as_ref().ok().map(|d| d.to_string()),
        manifest_error: check.digest.as_ref().err().cloned(),
        verified_reference: (d.accepted && report.accepted)
            .then(|| report.verified_reference.clone())
            .flatten(),
        scope: ScopeJson {
            matched: d.scope.describe(),
            transport: d.scope.entry.as_ref().map(|(t, _)| t.clone()),
            scope: d.scope.entry.as_ref().map(|(_, s)| s.clone()),
            tried: d.scope.tried.clone(),
        },
        requirements,
        signatures: check
            .signatures
            .iter()
            .enumerate()
            .map(|(i, s)| SourceJson {
                index: i + 1,
                source: s.source.clone(),
            })
            .collect(),
        role,
        manifests: Vec::new(),
        warnings: Vec::new(),
        rejection: None,
    }
}

/// One document per judged manifest (the registry form's `decisions`).
pub fn check_docs(policy_path: &Path, report: &Report) -> Vec<PolicyDoc> {
    report
        .checks
        .iter()
        .filter_map(|c| match &c.judgement {
            Judgement::Policy(d) => Some(check_doc(policy_path, report, c, d)),
            Judgement::Keyring(_) => None,
        })
        .collect()
}

/// The single-image document: the first judged manifest's decision at the
/// top level (for a single-platform image, the only one), every judged
/// manifest under `manifests` for a multi-platform image, the verdict of
/// the image as a whole.
pub fn policy_doc(policy_path: &Path, report: &Report) -> Option<PolicyDoc> {
    let first = report.checks.first()?;
    let mut top = check_doc(policy_path, report, first, judgement_decision(first)?);
    if report.checks.iter().any(|c| c.role != Role::Image) {
        top.manifests = check_docs(policy_path, report);
    }
    top.verdict = verdict(report.accepted);
    top.verified_reference = report.verified_reference.clone();
    top.warnings = report.warnings.clone();
    top.rejection = report.rejection.as_ref().map(|r| ErrorJson {
        code: r.code,
        message: r.message.clone(),
    });
    Some(top)
}

fn judgement_decision(c: &ManifestCheck) -> Option<&Decision> {
    match &c.judgement {
        Judgement::Policy(d) => Some(d),
        Judgement::Keyring(_) => None,
    }
}

/// The keyring form's document.
#[derive(Debug, Serialize)]
pub struct KeyringDoc {
    schema_version: u32,
    command: &'static str,
    mode: &'static str,
    verdict: &'static str,
    identity: String,
    manifest_digest: String,
    verified_reference: Option<String>,
    keyrings: Vec<String>,
    trusted_fingerprints: Vec<String>,
    signatures: Vec<SignatureJson>,
}

fn keyring_decision(report: &Report) -> Option<(&ManifestCheck, &KeyringDecision)> {
    report.checks.iter().find_map(|c| match &c.judgement {
        Judgement::Keyring(k) => Some((c, k)),
        Judgement::Policy(_) => None,
    })
}

/// The report for people, keyring form.
pub fn keyring_human(report: &Report) -> String {
    let mut out = String::new();
    let Some((check, k)) = keyring_decision(report) else {
        return out;
    };
    let digest = digest_text(&check.digest);
    let total = k.signatures.len();
    for s in &k.signatures {
        let _ = writeln!(out, "imgsig: {}", checked(s).human(total));
    }
    if report.accepted {
        let _ = writeln!(
            out,
            "imgsig: ACCEPTED: {} (manifest {digest}) has a valid signature; pull {}",
            k.identity,
            report.verified_reference.as_deref().unwrap_or_default()
        );
    } else {
        let _ = writeln!(
            out,
            "imgsig: REJECTED: none of the {total} signature(s) is a valid signature by a trusted key for {} with manifest {digest}",
            k.identity
        );
    }
    out
}

pub fn keyring_doc(report: &Report, keyrings: &[std::path::PathBuf]) -> Option<KeyringDoc> {
    let (check, k) = keyring_decision(report)?;
    Some(KeyringDoc {
        schema_version: SCHEMA_VERSION,
        command: "verify",
        mode: "keyring",
        verdict: verdict(report.accepted),
        identity: k.identity.to_string(),
        manifest_digest: digest_text(&check.digest),
        verified_reference: report.verified_reference.clone(),
        keyrings: keyrings.iter().map(|p| p.display().to_string()).collect(),
        trusted_fingerprints: k.trusted_fingerprints.clone(),
        signatures: k
            .signatures
            .iter()
            .map(|s| checked(s).to_json("valid signature by a trusted key for this image and digest"))
            .collect(),
    })
}
