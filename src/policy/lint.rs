//! `imgsig policy check`: findings about a valid policy that is probably
//! not what its author meant, or that will not work.

use std::time::SystemTime;

use sequoia_openpgp as openpgp;

use openpgp::policy::StandardPolicy;
use openpgp::types::RevocationStatus;

use crate::reference::DockerReference;
use crate::shown::escaped;
use crate::Reason;

use super::{Policy, Requirement, SignedIdentity};

/// One finding, with a stable code and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The finding's code, e.g. `insecure-default`.
    pub code: Reason,
    /// Where: `default[0]`, `transports.docker["example.com"]`, …
    pub path: String,
    /// What was found, for people.
    pub message: String,
    /// What to do about it, for people.
    pub hint: String,
}

fn finding(code: Reason, path: String, message: String, hint: impl Into<String>) -> Finding {
    Finding {
        code,
        path,
        message,
        hint: hint.into(),
    }
}

/// All findings for `policy`, in file order.
pub fn lint(policy: &Policy, now: SystemTime) -> Vec<Finding> {
    let mut out = Vec::new();
    if matches!(policy.default.first(), Some(Requirement::InsecureAcceptAnything)) && policy.default.len() == 1 {
        out.push(finding(
            Reason::InsecureDefault,
            "default".into(),
            "the default accepts any image, signed or not".into(),
            "make the default [{\"type\":\"reject\"}] and list the registries you trust under transports.docker",
        ));
    }
    lint_requirements(&policy.default, "default", now, &mut out);
    for t in &policy.transports {
        for s in &t.scopes {
            let path = format!("transports.{}[{:?}]", t.name, s.scope);
            if t.name == "docker" {
                lint_docker_scope(&s.scope, &path, &mut out);
            }
            lint_requirements(&s.requirements, &path, now, &mut out);
        }
    }
    out
}

fn lint_docker_scope(scope: &str, path: &str, out: &mut Vec<Finding>) {
    if scope.is_empty() || scope.starts_with("*.") {
        return;
    }
    let first = scope.split('/').next().unwrap_or(scope);
    let looks_like_host = first.contains('.') || first.contains(':') || first == "localhost";
    if !scope.contains('/') {
        if looks_like_host {
            return; // a registry host (with optional port)
        }
        out.push(finding(
            Reason::ShortNameScope,
            path.to_owned(),
            format!("scope {scope:?} is a short name: it matches only a registry host called {scope:?}, never docker.io/library/{scope}"),
            format!("write the fully qualified name, e.g. \"docker.io/library/{scope}\""),
        ));
        return;
    }
    if let Ok(r) = DockerReference::parse_normalized(scope) {
        if r.to_string() != scope {
            out.push(finding(
                Reason::NonNormalizedScope,
                path.to_owned(),
                format!(
                    "scope {scope:?} is not in normalised form, so it never matches; images are looked up as {:?}",
                    r.to_string()
                ),
                format!("write \"{r}\""),
            ));
        }
    }
}

fn lint_requirements(reqs: &[Requirement], path: &str, now: SystemTime, out: &mut Vec<Finding>) {
    for (i, req) in reqs.iter().enumerate() {
        let here = format!("{path}[{i}]");
        match req {
            Requirement::SigstoreSigned(ss) => lint_sigstore(ss, &here, out),
            Requirement::SignedBaseLayer => out.push(finding(
                Reason::UnsupportedRequirement,
                here,
                "signedBaseLayer is not implemented (by containers/image either) and always rejects".into(),
                "remove it, or use signedBy",
            )),
            Requirement::SignedBy(sb) => {
                if sb.key_type != super::KeyType::GpgKeys {
                    out.push(finding(
                        Reason::UnsupportedKeyType,
                        format!("{here}.keyType"),
                        format!(
                            "keyType {:?} is not implemented and always rejects",
                            sb.key_type.as_str()
                        ),
                        "use \"GPGKeys\"",
                    ));
                }
                rollback_risk(&sb.signed_identity, &here, out);
                let relative: Vec<(&str, &std::path::Path, String)> = match &sb.key_source {
                    super::KeySource::Path { written, resolved } => {
                        vec![(written.as_str(), resolved.as_path(), format!("{here}.keyPath"))]
                    }
                    super::KeySource::Paths(list) => list
                        .iter()
                        .enumerate()
                        .map(|(j, (w, r))| (w.as_str(), r.as_path(), format!("{here}.keyPaths[{j}]")))
                        .collect(),
                    super::KeySource::Data => Vec::new(),
                };
                for (written, resolved, at) in relative {
                    if std::path::Path::new(written).is_relative() {
                        out.push(finding(
                            Reason::RelativeKeyPath,
                            at,
                            format!(
                                "key path {} is relative: it is read from the working directory of whoever runs the check (here {}), so whoever controls that directory (a build context, a checkout) chooses the trusted key",
                                escaped(written),
                                escaped(resolved)
                            ),
                            "give the absolute path of the key file (containers/image resolves a relative keyPath against the working directory too)",
                        ));
                    }
                }
                for e in &sb.keys.errors {
                    out.push(finding(
                        Reason::KeyUnusable,
                        here.clone(),
                        e.clone(),
                        "fix the path or the file; until then this requirement rejects every image",
                    ));
                }
                for w in &sb.keys.warnings {
                    out.push(finding(
                        Reason::KeyFileNoKeys,
                        here.clone(),
                        w.clone(),
                        "remove it from the policy or replace it with the signer's exported public key (gpg --export); it adds no trusted key",
                    ));
                }
                if sb.keys.errors.is_empty() && sb.keys.keyring.is_empty() {
                    out.push(finding(
                        Reason::NoKeys,
                        here.clone(),
                        "no public keys imported".into(),
                        "the key file or data holds no OpenPGP certificate",
                    ));
                }
                for cert in sb.keys.keyring.certs() {
                    let fpr = cert.fingerprint().to_hex();
                    let by: Vec<&str> = sb
                        .keys
                        .revoked_by
                        .iter()
                        .filter(|(f, _)| *f == fpr)
                        .map(|(_, o)| o.as_str())
                        .collect();
                    lint_cert(cert, &by, &here, now, out);
                }
            }
            Requirement::InsecureAcceptAnything | Requirement::Reject => {}
        }
    }
}

/// `revoked_by`: the other files of the requirement whose revocations apply to `cert`.
fn lint_cert(cert: &openpgp::Cert, revoked_by: &[&str], path: &str, now: SystemTime, out: &mut Vec<Finding>) {
    let policy = StandardPolicy::new();
    let fpr = cert.fingerprint().to_hex();
    let vc = match cert.with_policy(&policy, now) {
        Ok(vc) => vc,
        Err(e) => {
            out.push(finding(
                Reason::InvalidKey,
                path.to_owned(),
                format!("key {fpr} is not valid: {e:#}"),
                "replace it with a current export of the signer's public key",
            ));
            return;
        }
    };
    if let RevocationStatus::Revoked(_) = vc.revocation_status() {
        out.push(finding(
            Reason::RevokedKey,
            path.to_owned(),
            if revoked_by.is_empty() {
                format!("key {fpr} is revoked; its signatures are rejected")
            } else {
                format!(
                    "key {fpr} is revoked by the revocation in {}; its signatures are rejected",
                    revoked_by.join(", ")
                )
            },
            "remove it and trust the signer's new key",
        ));
        return;
    }
    if let Err(e) = vc.alive() {
        out.push(finding(
            Reason::ExpiredKey,
            path.to_owned(),
            format!("key {fpr} has expired ({e}); its signatures are rejected"),
            "ask the signer for an export with a renewed expiry date",
        ));
        return;
    }
    let can_sign = vc.keys().alive().revoked(false).for_signing().next().is_some();
    if !can_sign {
        out.push(finding(
            Reason::NoSigningKey,
            path.to_owned(),
            format!("key {fpr} has no valid signing-capable (sub)key"),
            "export the signer's key including its signing subkey",
        ));
    }
}

/// A sigstoreSigned requirement: key material that cannot be used (it then
/// rejects every image), a scope wide enough for rollbacks.
fn lint_sigstore(ss: &super::SigstoreSigned, here: &str, out: &mut Vec<Finding>) {
    rollback_risk(&ss.signed_identity, here, out);
    for m in ss.materials() {
        if let Some((written, resolved)) = &m.path {
            if std::path::Path::new(written).is_relative() {
                out.push(finding(
                    Reason::RelativeKeyPath,
                    here.to_owned(),
                    format!(
                        "key path {} is relative: it is read from the working directory of whoever runs the check (here {}), so whoever controls that directory (a build context, a checkout) chooses the trusted key",
                        escaped(written),
                        escaped(resolved)
                    ),
                    "give the absolute path of the file (containers/image resolves a relative path against the working directory too)",
                ));
            }
        }
    }
    for problem in crate::policy::sigstore_material_problems(ss) {
        out.push(finding(
            Reason::KeyUnusable,
            here.to_owned(),
            problem,
            "fix the path or the file; until then this requirement rejects every image",
        ));
    }
}

/// `matchRepository` / `exactRepository`: any signed tag of the repository is accepted.
fn rollback_risk(identity: &SignedIdentity, here: &str, out: &mut Vec<Finding>) {
    if matches!(
        identity,
        SignedIdentity::MatchRepository | SignedIdentity::ExactRepository(_)
    ) {
        out.push(finding(
            Reason::RollbackRisk,
            format!("{here}.signedIdentity"),
            format!(
                "{} accepts a signature for any tag of the repository, so an old (perhaps vulnerable) signed image can be served in place of the current one",
                identity.type_name()
            ),
            "prefer matchRepoDigestOrExact (the default) or exactReference",
        ));
    }
}
