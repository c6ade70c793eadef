//! `signedIdentity` matching: does a signature's claimed reference fit the
//! image being evaluated? Semantics of containers/image
//! `signature/policy_reference_match.go`.

use crate::reference::DockerReference;

use super::SignedIdentity;

/// Why an identity did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// The claim's reference does not parse.
    InvalidSigned(String),
    /// The image has no docker reference (e.g. `dir:`), and the rule needs one.
    NoImageIdentity,
    /// The references differ under the rule.
    Different,
}

fn is_tagged(r: &DockerReference) -> bool {
    r.tag().is_some()
}

/// matchRepoDigestOrExact between an intended reference and a signed one.
fn repo_digest_or_exact(intended: &DockerReference, signed: &DockerReference) -> bool {
    if signed.is_name_only() {
        return false;
    }
    if is_tagged(intended) {
        // Includes tag+digest references: exact string equality.
        signed.to_string() == intended.to_string()
    } else if intended.digest().is_some() {
        // The digest itself is checked against the manifest separately.
        signed.name() == intended.name()
    } else {
        false
    }
}

/// Rewrite `intended` under remapIdentity; `None` when the result is not a
/// canonical reference (then nothing matches).
fn remap(intended: &DockerReference, prefix: &str, signed_prefix: &str) -> Option<DockerReference> {
    let name = intended.name();
    let applies = name == prefix || (name.starts_with(prefix) && name[prefix.len()..].starts_with('/'));
    if !applies {
        return Some(intended.clone());
    }
    let full = intended.to_string();
    let rewritten = format!("{signed_prefix}{}", &full[prefix.len()..]);
    DockerReference::parse_canonical(&rewritten).ok()
}

/// Does `signed` (the claim's `docker-reference`, untrusted text from a
/// verified claim) satisfy `rule` for an image whose own docker reference
/// is `intended` (None for transports without one)?
pub fn matches(rule: &SignedIdentity, intended: Option<&DockerReference>, signed: &str) -> Result<(), Mismatch> {
    let signed_ref = DockerReference::parse_normalized(signed).map_err(|e| Mismatch::InvalidSigned(e.to_string()));
    let ok = match rule {
        SignedIdentity::ExactReference(r) => {
            let s = signed_ref?;
            !s.is_name_only() && s.to_string() == r.to_string()
        }
        SignedIdentity::ExactRepository(r) => signed_ref?.name() == r.name(),
        _ => {
            let intended = intended.ok_or(Mismatch::NoImageIdentity)?;
            let s = signed_ref?;
            match rule {
                SignedIdentity::MatchExact => {
                    !intended.is_name_only() && !s.is_name_only() && s.to_string() == intended.to_string()
                }
                SignedIdentity::MatchRepoDigestOrExact => repo_digest_or_exact(intended, &s),
                SignedIdentity::MatchRepository => s.name() == intended.name(),
                SignedIdentity::RemapIdentity { prefix, signed_prefix } => {
                    match remap(intended, prefix, signed_prefix) {
                        Some(i) => repo_digest_or_exact(&i, &s),
                        None => false,
                    }
                }
                SignedIdentity::ExactReference(_) | SignedIdentity::ExactRepository(_) => unreachable!(),
            }
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Mismatch::Different)
    }
}

/// What the rule requires, in words, for messages.
pub fn describe(rule: &SignedIdentity, intended: Option<&DockerReference>) -> String {
    let img = intended
        .map(|r| r.to_string())
        .unwrap_or_else(|| "(no docker reference)".into());
    match rule {
        SignedIdentity::MatchExact => format!("the signed reference must be exactly {img}"),
        SignedIdentity::MatchRepoDigestOrExact => match intended {
            Some(r) if r.tag().is_none() && r.digest().is_some() => {
                format!("the signed reference must be in repository {}", r.name())
            }
            _ => format!("the signed reference must be exactly {img}"),
        },
        SignedIdentity::MatchRepository => {
            format!(
                "the signed reference must be in repository {}",
                intended.map(|r| r.name()).unwrap_or(img)
            )
        }
        SignedIdentity::ExactReference(r) => format!("the signed reference must be exactly {r}"),
        SignedIdentity::ExactRepository(r) => format!("the signed reference must be in repository {}", r.name()),
        SignedIdentity::RemapIdentity { prefix, signed_prefix } => {
            match intended.and_then(|i| remap(i, prefix, signed_prefix)) {
                Some(r) if Some(&r) != intended => {
                    format!("the signed reference must be {r} ({prefix} remapped to {signed_prefix})")
                }
                _ => format!("the signed reference must be exactly {img} ({prefix} is not a prefix of it)"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> DockerReference {
        DockerReference::parse_normalized(s).unwrap()
    }

    const D: &str = "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55";

    #[test]
    fn match_exact() {
        let img = r("example.com/ns/app:1.0");
        assert!(matches(&SignedIdentity::MatchExact, Some(&img), "example.com/ns/app:1.0").is_ok());
        assert!(matches(&SignedIdentity::MatchExact, Some(&img), "example.com/ns/app:1.1").is_err());
        assert!(matches(&SignedIdentity::MatchExact, Some(&img), "example.com/ns/app").is_err());
        assert_eq!(
            matches(&SignedIdentity::MatchExact, None, "example.com/ns/app:1.0"),
            Err(Mismatch::NoImageIdentity)
        );
        // Normalisation: busybox:latest is docker.io/library/busybox:latest.
        let bb = r("docker.io/library/busybox:latest");
        assert!(matches(&SignedIdentity::MatchExact, Some(&bb), "busybox:latest").is_ok());
        assert!(matches(&SignedIdentity::MatchExact, Some(&bb), "busybox").is_err());
    }

    #[test]
    fn match_repo_digest_or_exact() {
        let rule = SignedIdentity::MatchRepoDigestOrExact;
        let tagged = r("example.com/app:1.0");
        assert!(matches(&rule, Some(&tagged), "example.com/app:1.0").is_ok());
        assert!(matches(&rule, Some(&tagged), "example.com/app:2.0").is_err());
        let by_digest = r(&format!("example.com/app@{D}"));
        assert!(matches(&rule, Some(&by_digest), "example.com/app:anything").is_ok());
        assert!(matches(&rule, Some(&by_digest), "example.com/other:1").is_err());
        assert!(
            matches(&rule, Some(&by_digest), "example.com/app").is_err(),
            "name-only claims never match"
        );
    }

    #[test]
    fn match_repository_and_exact_repository() {
        let img = r("example.com/app:1.0");
        assert!(matches(&SignedIdentity::MatchRepository, Some(&img), "example.com/app").is_ok());
        assert!(matches(&SignedIdentity::MatchRepository, Some(&img), "example.com/app:0.1").is_ok());
        assert!(matches(&SignedIdentity::MatchRepository, Some(&img), "example.com/app2:1.0").is_err());
        let rule = SignedIdentity::ExactRepository(r("example.com/app:ignored"));
        assert!(matches(&rule, None, "example.com/app:7").is_ok());
        assert!(matches(&rule, None, "example.com/other:7").is_err());
    }

    #[test]
    fn exact_reference_works_without_image_identity() {
        let rule = SignedIdentity::ExactReference(r("example.com/app:1.0"));
        assert!(matches(&rule, None, "example.com/app:1.0").is_ok());
        assert!(matches(&rule, None, "example.com/app").is_err());
        assert!(matches(&rule, Some(&r("other.com/x:1")), "example.com/app:1.0").is_ok());
    }

    #[test]
    fn invalid_signed_reference_never_matches() {
        let img = r("example.com/app:1.0");
        assert!(matches!(
            matches(&SignedIdentity::MatchRepository, Some(&img), "UPPERCASEISINVALID"),
            Err(Mismatch::InvalidSigned(_))
        ));
    }

    #[test]
    fn remap_identity() {
        let rule = SignedIdentity::RemapIdentity {
            prefix: "private-mirror:5000/vendor-mirror".into(),
            signed_prefix: "vendor.example.com".into(),
        };
        let img = r("private-mirror:5000/vendor-mirror/producta/image1:latest");
        assert!(matches(&rule, Some(&img), "vendor.example.com/producta/image1:latest").is_ok());
        assert!(matches(
            &rule,
            Some(&img),
            "private-mirror:5000/vendor-mirror/producta/image1:latest"
        )
        .is_err());
        // Not under the prefix: compared unchanged.
        let other = r("private-mirror:5000/vendor-mirror-other/x:1");
        assert!(matches(&rule, Some(&other), "private-mirror:5000/vendor-mirror-other/x:1").is_ok());
        assert!(matches(&rule, Some(&other), "vendor.example.com-other/x:1").is_err());
        // Prefix equal to the whole name.
        let rule2 = SignedIdentity::RemapIdentity {
            prefix: "mirror.local/app".into(),
            signed_prefix: "vendor.example.com/app".into(),
        };
        assert!(matches(&rule2, Some(&r("mirror.local/app:2")), "vendor.example.com/app:2").is_ok());
    }

    #[test]
    fn remap_to_non_canonical_never_matches() {
        // docker.io/library/busybox remapped with signed prefix "docker.io" would give
        // a canonical string; remapping to a non-canonical form must not match.
        let rule = SignedIdentity::RemapIdentity {
            prefix: "mirror.local".into(),
            signed_prefix: "index.docker.io".into(),
        };
        let img = r("mirror.local/library/busybox:1");
        assert!(matches(&rule, Some(&img), "docker.io/library/busybox:1").is_err());
        assert!(matches(&rule, Some(&img), "index.docker.io/library/busybox:1").is_err());
    }
}
