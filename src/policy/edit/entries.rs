//! The policy as `podman image trust show` lists it: one [`Entry`] per
//! requirement.
//!
//! Same as podman 4.3.1 (`pkg/trust/policy.go: PolicyDescription`): the
//! `default` list first as transport `all`, name `default`; then transports
//! and their scopes sorted by name (bytewise), the `""` scope with an empty
//! name; types `accept`, `reject`, `signed`, `sigstoreSigned`; for a
//! `signedBy` requirement the user IDs of its keys.
//!
//! Different on purpose:
//! - the policy is a valid one (strict parser); podman shows whatever Go can
//!   decode;
//! - user IDs: the primary user ID of each certificate, read with sequoia
//!   (podman runs `gpg2 --with-colons` and lists every user ID), with the
//!   fingerprints beside them;
//! - store: the lookaside containers/image would read the scope's images
//!   from: the scope, its parent namespaces and `*.domain` wildcards, then
//!   `default-docker`, skipping sections without a `lookaside`/`sigstore`
//!   URL (podman cuts at `/` only, tries no wildcards and stops at the first
//!   section found even without a URL). Given for the `docker` transport and
//!   the default only: other transports do not read lookasides (podman shows
//!   the registries.d match for any transport's scope).

use sequoia_openpgp::policy::StandardPolicy;
use sequoia_openpgp::Cert;
use serde::Serialize;

use crate::policy::{KeySource, Policy, Requirement};
use crate::store::registries_d::{Access, RegistriesD};

/// One requirement of one scope (docs/json-output.md, `trust show`).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Entry {
    /// The transport name (`docker`, …), or `all` for the policy's default.
    pub transport: String,
    /// The scope (`""` for a transport's default), or `default`.
    pub name: String,
    /// True only for the policy's `default` requirements.
    pub default: bool,
    /// podman's word: accept, reject, signed, sigstoreSigned, signedBaseLayer.
    #[serde(rename = "type")]
    pub type_name: &'static str,
    /// `signedIdentity` type of a signedBy requirement.
    pub signed_identity: Option<&'static str>,
    /// Key files as written in the policy.
    pub keys: Vec<String>,
    /// Whether the keys are inline (`keyData`).
    pub key_data: bool,
    /// Primary user ID of each certificate (fingerprint when it has none).
    pub key_ids: Vec<String>,
    /// Primary-key fingerprint of each certificate.
    pub key_fingerprints: Vec<String>,
    /// Key files or data that could not be used.
    pub key_errors: Vec<String>,
    /// The lookaside URL signatures are read from, if configured.
    pub store: Option<String>,
}

impl Entry {
    fn new(transport: &str, name: &str, default: bool, req: &Requirement, store: Option<String>) -> Entry {
        let mut e = Entry {
            transport: transport.to_owned(),
            name: name.to_owned(),
            default,
            type_name: match req {
                Requirement::InsecureAcceptAnything => "accept",
                Requirement::Reject => "reject",
                Requirement::SignedBy(_) => "signed",
                Requirement::SigstoreSigned(_) => "sigstoreSigned",
                Requirement::SignedBaseLayer => "signedBaseLayer",
            },
            signed_identity: None,
            keys: Vec::new(),
            key_data: false,
            key_ids: Vec::new(),
            key_fingerprints: Vec::new(),
            key_errors: Vec::new(),
            store,
        };
        if let Requirement::SignedBy(sb) = req {
            e.signed_identity = Some(sb.signed_identity.type_name());
            match &sb.key_source {
                KeySource::Path { written, .. } => e.keys.push(written.clone()),
                KeySource::Paths(ps) => e.keys.extend(ps.iter().map(|(w, _)| w.clone())),
                KeySource::Data => e.key_data = true,
            }
            e.key_ids = sb.keys.keyring.certs().map(user_id).collect();
            e.key_fingerprints = sb.keys.keyring.fingerprints();
            e.key_errors = sb.keys.errors.clone();
        }
        e
    }
}

/// Every requirement of `policy`, in podman's order (see the module docs),
/// with the read lookaside `registries_d` configures for its scope.
pub fn entries(policy: &Policy, registries_d: &RegistriesD) -> Vec<Entry> {
    let mut entries = Vec::new();
    let default_store = store_for(registries_d, "");
    for req in &policy.default {
        entries.push(Entry::new("all", "default", true, req, default_store.clone()));
    }
    let mut transports: Vec<_> = policy.transports.iter().collect();
    transports.sort_by(|a, b| a.name.cmp(&b.name));
    for t in transports {
        let mut scopes: Vec<_> = t.scopes.iter().collect();
        scopes.sort_by(|a, b| a.scope.cmp(&b.scope));
        for s in scopes {
            let store = if t.name == "docker" {
                store_for(registries_d, &s.scope)
            } else {
                None
            };
            for req in &s.requirements {
                entries.push(Entry::new(&t.name, &s.scope, false, req, store.clone()));
            }
        }
    }
    entries
}

/// The primary user ID (as of now, under sequoia's standard policy; else
/// the first one), or the fingerprint for a certificate without user IDs.
fn user_id(cert: &Cert) -> String {
    let policy = StandardPolicy::new();
    let primary = cert
        .with_policy(&policy, None)
        .ok()
        .and_then(|vc| vc.primary_userid().ok().map(|u| u.userid().value().to_vec()));
    match primary.or_else(|| cert.userids().next().map(|u| u.userid().value().to_vec())) {
        Some(v) => String::from_utf8_lossy(&v).into_owned(),
        None => cert.fingerprint().to_hex(),
    }
}

/// The read lookaside for a docker scope (`""`: only `default-docker`), in
/// containers/image's lookup order (see the module docs).
fn store_for(config: &RegistriesD, scope: &str) -> Option<String> {
    let mut names = Vec::new();
    if !scope.is_empty() {
        let mut name = scope.to_owned();
        // A scope with a tag or digest: try it, then its repository.
        let cut = name.find('@').or_else(|| {
            name.rfind(':')
                .filter(|&i| name[..i].contains('/') && !name[i..].contains('/'))
        });
        if let Some(i) = cut {
            names.push(name.clone());
            name.truncate(i);
        }
        loop {
            names.push(name.clone());
            match name.rfind('/') {
                Some(i) => name.truncate(i),
                None => break,
            }
        }
        let host = name.split(':').next().unwrap_or_default();
        let mut rest = host.strip_prefix("*.").unwrap_or(host);
        while let Some(i) = rest.find('.') {
            rest = &rest[i + 1..];
            names.push(format!("*.{rest}"));
        }
    }
    names
        .iter()
        .filter_map(|n| config.docker_section(n))
        .chain(config.default_docker())
        .find_map(|s| s.top_level(Access::Read).map(|(_, url)| url.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn store_lookup_order() {
        let yaml = br#"
default-docker:
  lookaside: https://default
docker:
  reg.example.com:5000:
    lookaside: https://host
  reg.example.com:5000/ns/app:
    use-sigstore-attachments: true
  '*.example.com':
    sigstore: https://wild
  other.io/a:1:
    lookaside: https://tagged
"#;
        let c = RegistriesD::from_yaml(yaml, Path::new("t.yaml")).unwrap();
        assert_eq!(store_for(&c, "").as_deref(), Some("https://default"));
        assert_eq!(
            store_for(&c, "reg.example.com:5000/ns/app").as_deref(),
            Some("https://host")
        );
        assert_eq!(store_for(&c, "reg.example.com:5000").as_deref(), Some("https://host"));
        assert_eq!(store_for(&c, "x.example.com/a").as_deref(), Some("https://wild"));
        assert_eq!(store_for(&c, "*.example.com").as_deref(), Some("https://wild"));
        assert_eq!(store_for(&c, "other.io/a:1").as_deref(), Some("https://tagged"));
        assert_eq!(store_for(&c, "other.io/a").as_deref(), Some("https://default"));
        let digest = format!("other.io/a@sha256:{}", "0".repeat(64));
        assert_eq!(store_for(&c, &digest).as_deref(), Some("https://default"));
        assert_eq!(store_for(&RegistriesD::empty(), "a.io"), None);
    }
}
