//! Rendering a verification [`Report`] for people (stderr); the JSON
//! documents are the library's ([`imgsig::verify::ImageDocument`]). Nothing here decides anything.

use std::fmt::Write as _;
use std::path::Path;

use super::report::Checked;
use crate::shown::shown;
use imgsig::pgp::KeyInfo;
use imgsig::policy::{Requirement, RequirementResult, SignatureResult};
use imgsig::verify::{Judgement, KeyringDecision, ManifestCheck, Report, Role};
use imgsig::Reason;

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
                "imgsig: image {} ({}), {} signature(s){}",
                report.image,
                manifest_label(report, check),
                check.signatures.len() + check.sigstore_found,
                match check.sigstore_found {
                    0 => String::new(),
                    n => format!(" ({n} sigstore)"),
                }
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
            let desc = r.requirement.describe();
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
                let _ = writeln!(out, "imgsig:   {}", Checked::of(s).human(total));
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
        let _ = writeln!(
            out,
            "imgsig: REJECTED: {} [{}]: {}",
            shown(&report.image.to_string()),
            r.code,
            crate::shown::Lines(&r.message)
        );
        return out;
    }
    let mut failed = Vec::new();
    let mut decisive = Vec::new();
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
            if let Some(why) = decisive_reason(r) {
                decisive.push(format!("{why}{what}"));
            }
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
    decisive.dedup();
    let decisive: String = decisive.iter().map(|d| format!("{d}; ")).collect();
    let _ = writeln!(
        out,
        "imgsig: REJECTED: {} by {scope_desc}: {decisive}{} not satisfied",
        report.image,
        failed.join(", ")
    );
    out
}

/// What decided against a signature requirement, for the REJECTED line
/// (before who is missing): [`decisive_signature`] of its signatures, else
/// why the signatures could not be read. `None` when there were no
/// signatures at all (who is missing says it).
pub(super) fn decisive_reason(r: &RequirementResult) -> Option<String> {
    let Err(e) = &r.result else { return None };
    let keys = match &r.requirement {
        Requirement::SignedBy(sb) => sb.keys.keyring.describe(),
        Requirement::SigstoreSigned(_) => Vec::new(),
        _ => return None,
    };
    match decisive_signature(&r.signatures, &keys) {
        Some(why) => Some(why),
        None if e.code != Reason::NoSignatures => Some(format!("{}: {}", e.code, e.message)),
        None => None,
    }
}

/// The one rule for what decided against a set of signatures, in every form
/// (policy, keyring, bulk): a signature a trusted key made, but for another
/// identity or digest (`identity-mismatch: Alice (FPR) signed other:1.0`),
/// else the first signature's rejection; `None` when none was rejected.
/// `keys` names the signer (else its fingerprint).
pub(super) fn decisive_signature(signatures: &[SignatureResult], keys: &[KeyInfo]) -> Option<String> {
    let by_trusted = signatures.iter().find_map(|s| match &s.result {
        Err(rej) if rej.signer.is_some() => Some((s, rej)),
        _ => None,
    });
    let first = signatures
        .iter()
        .find_map(|s| s.result.as_ref().err().map(|rej| (s, rej)));
    let (s, rej) = by_trusted.or(first)?;
    let who = rej.signer.as_ref().map(|signer| {
        keys.iter()
            .find(|k| k.fingerprint == signer.primary_fingerprint)
            .map(|k| k.describe())
            .unwrap_or_else(|| signer.primary_fingerprint.clone())
    });
    let claim = s.opened.as_ref().map(|o| &o.claim);
    Some(match (rej.code, who, claim) {
        (Reason::IdentityMismatch, Some(who), Some(c)) => {
            format!("{}: {who} signed {}", rej.code, shown(c.docker_reference()))
        }
        (Reason::DigestMismatch, Some(who), Some(c)) => {
            format!("{}: {who} signed manifest {}", rej.code, c.manifest_digest())
        }
        _ => format!("{}: {}", rej.code, rej.message),
    })
}

fn keyring_decision(report: &Report) -> Option<(&ManifestCheck, &KeyringDecision)> {
    report.checks.iter().find_map(|c| Some((c, c.judgement.keyring()?)))
}

/// The report for people, keyring form; `keys` (the keyring's) name a signer.
pub fn keyring_human(report: &Report, keys: &[KeyInfo]) -> String {
    let mut out = String::new();
    for w in &report.warnings {
        let _ = writeln!(out, "imgsig: warning: {w}");
    }
    let Some((check, k)) = keyring_decision(report) else {
        return out;
    };
    let digest = digest_text(&check.digest);
    let total = k.signatures.len();
    for s in &k.signatures {
        let _ = writeln!(out, "imgsig: {}", Checked::of(s).human(total));
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
            "imgsig: REJECTED: {}none of the {total} signature(s) is a valid signature by a trusted key for {} with manifest {digest}",
            decisive_signature(&k.signatures, keys)
                .map(|d| format!("{d}; "))
                .unwrap_or_default(),
            k.identity
        );
    }
    out
}

/// The hint for a rejection that came after the manifests were judged
/// (`--require-signature`); other rejections of that kind have none.
pub fn after_decision_hint(report: &imgsig::verify::Report) -> Option<&'static str> {
    match &report.rejection {
        Some(r) if r.code == Reason::NoSignatureChecked && !report.checks.is_empty() => super::output::hint_for(r.code),
        _ => None,
    }
}
