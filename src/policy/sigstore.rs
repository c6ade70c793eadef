//! The policy side of `sigstoreSigned`: describing what a requirement
//! trusts, and the problems of its key material.

use super::{Material, SigstoreSigned, SigstoreTrust};

impl SigstoreSigned {
    /// Whose signature satisfies the requirement, for people: `by the key
    /// "/etc/pki/cosign.pub"`, `from a Fulcio certificate for mitr@redhat.com
    /// (issuer https://github.com/login/oauth)`, … plus the Rekor condition.
    pub fn describe_trust(&self) -> String {
        let who = match &self.trust {
            SigstoreTrust::PublicKeys(keys) => {
                let names: Vec<&str> = keys.iter().map(|k| k.origin.as_str()).collect();
                if names.len() == 1 {
                    format!("by the key {}", names[0])
                } else {
                    format!("by one of the keys {}", names.join(", "))
                }
            }
            SigstoreTrust::Fulcio {
                ca,
                oidc_issuer,
                subject_email,
            } => format!(
                "with a Fulcio certificate (CA {}) for {subject_email:?} issued through {oidc_issuer:?}",
                ca.origin
            ),
            SigstoreTrust::Pki {
                roots,
                subject_email,
                subject_hostname,
                ..
            } => {
                let subject = [subject_email.as_deref(), subject_hostname.as_deref()]
                    .into_iter()
                    .flatten()
                    .map(|s| format!("{s:?}"))
                    .collect::<Vec<_>>()
                    .join(" and ");
                format!("with a certificate chaining to {} for {subject}", roots.origin)
            }
        };
        match &self.rekor {
            None => who,
            Some(keys) => format!(
                "{who}, logged in Rekor (SET signed by {})",
                keys.iter().map(|k| k.origin.as_str()).collect::<Vec<_>>().join(" or ")
            ),
        }
    }

    /// Every piece of key material, trust root first.
    pub fn materials(&self) -> Vec<&Material> {
        let mut out: Vec<&Material> = match &self.trust {
            SigstoreTrust::PublicKeys(keys) => keys.iter().collect(),
            SigstoreTrust::Fulcio { ca, .. } => vec![ca],
            SigstoreTrust::Pki {
                roots, intermediates, ..
            } => std::iter::once(roots).chain(intermediates.as_ref()).collect(),
        };
        out.extend(self.rekor.iter().flatten());
        out
    }
}

/// Why the key material of `ss` cannot be used (unreadable files, keys or
/// certificates that do not parse), for `policy check`: the requirement then
/// rejects every image.
pub fn sigstore_material_problems(ss: &SigstoreSigned) -> Vec<String> {
    let unreadable: Vec<String> = ss
        .materials()
        .into_iter()
        .filter_map(|m| m.bytes.as_ref().err().map(|e| format!("{}: {e}", m.origin)))
        .collect();
    if !unreadable.is_empty() {
        return unreadable;
    }
    prepare(ss).err().into_iter().collect()
}

/// The trust root and Rekor keys of a requirement, as containers/image's
/// `prepareTrustRoot` builds them when the requirement is evaluated; an error
/// rejects every signature the requirement judges.
pub(super) struct Prepared {
    pub root: crate::sigstore::TrustRoot,
    pub rekor: Vec<crate::sigstore::PublicKey>,
}

fn bytes_of(m: &Material) -> Result<&[u8], String> {
    m.bytes
        .as_deref()
        .map_err(|e| format!("key material {}: {e}", m.origin))
}

pub(super) fn prepare(ss: &SigstoreSigned) -> Result<Prepared, String> {
    use crate::sigstore::{self as s, TrustRoot};
    let root = match &ss.trust {
        SigstoreTrust::PublicKeys(keys) => {
            let mut out = Vec::with_capacity(keys.len());
            for k in keys {
                let parsed = s::parse_public_keys(bytes_of(k)?)
                    .map_err(|e| format!("public key {}: {}", k.origin, e.message))?;
                out.extend(parsed);
            }
            TrustRoot::PublicKeys(out)
        }
        SigstoreTrust::Fulcio {
            ca,
            oidc_issuer,
            subject_email,
        } => TrustRoot::Fulcio(
            s::FulcioRoot::new(bytes_of(ca)?, oidc_issuer, subject_email)
                .map_err(|e| format!("Fulcio CA {}: {}", ca.origin, e.message))?,
        ),
        SigstoreTrust::Pki {
            roots,
            intermediates,
            subject_email,
            subject_hostname,
        } => {
            let inter = match intermediates {
                Some(m) => Some(bytes_of(m)?),
                None => None,
            };
            TrustRoot::Pki(
                s::PkiRoot::new(
                    bytes_of(roots)?,
                    inter,
                    subject_email.as_deref(),
                    subject_hostname.as_deref(),
                )
                .map_err(|e| format!("PKI {}: {}", roots.origin, e.message))?,
            )
        }
    };
    let mut rekor = Vec::new();
    for (i, m) in ss.rekor.iter().flatten().enumerate() {
        let k = s::parse_rekor_public_key(bytes_of(m)?)
            .map_err(|e| format!("Rekor public key {} ({}): {}", i + 1, m.origin, e.message))?;
        rekor.push(k);
    }
    Ok(Prepared { root, rekor })
}
