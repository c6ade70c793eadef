//! `signedIdentity` / `baseLayerIdentity` objects (c/image `PolicyReferenceMatch`):
//! exactly the listed members, each required.

use crate::json::Value;
use crate::policy::SignedIdentity;
use crate::reference::{is_valid_domain, is_valid_name, DockerReference};

use super::Cx;

const TYPES: &str =
    "matchExact, matchRepoDigestOrExact, matchRepository, exactReference, exactRepository, remapIdentity";

impl Cx {
    /// One identity object at `path`.
    pub(super) fn identity(&mut self, v: &Value, path: &str) -> Option<SignedIdentity> {
        let mut r = self.open(v, path)?;
        let (ty, ty_value) = self.required_string(&mut r, "type")?;
        let result = match ty {
            "matchExact" => Some(SignedIdentity::MatchExact),
            "matchRepoDigestOrExact" => Some(SignedIdentity::MatchRepoDigestOrExact),
            "matchRepository" => Some(SignedIdentity::MatchRepository),
            "exactReference" => self.required_string(&mut r, "dockerReference").and_then(|(s, v)| {
                let at = v.position;
                match DockerReference::parse_normalized(s) {
                    Ok(reference) if reference.is_name_only() => {
                        let message = format!(
                            "{s:?} has neither a tag nor a digest (use exactRepository to match a whole repository)"
                        );
                        self.invalid(r.child_path("dockerReference"), at, message);
                        None
                    }
                    Ok(reference) => Some(SignedIdentity::ExactReference(reference)),
                    Err(e) => {
                        self.invalid(r.child_path("dockerReference"), at, e.to_string());
                        None
                    }
                }
            }),
            "exactRepository" => self.required_string(&mut r, "dockerRepository").and_then(|(s, v)| {
                match DockerReference::parse_normalized(s) {
                    Ok(reference) => Some(SignedIdentity::ExactRepository(reference)),
                    Err(e) => {
                        self.invalid(r.child_path("dockerRepository"), v.position, e.to_string());
                        None
                    }
                }
            }),
            "remapIdentity" => {
                let prefix = self.remap_prefix(&mut r, "prefix");
                let signed_prefix = self.remap_prefix(&mut r, "signedPrefix");
                Some(SignedIdentity::RemapIdentity {
                    prefix: prefix?,
                    signed_prefix: signed_prefix?,
                })
            }
            other => {
                let message = format!("unknown signedIdentity type {other:?} (expected one of {TYPES})");
                self.invalid(r.child_path("type"), ty_value.position, message);
                return None;
            }
        };
        let allowed: &[&str] = match ty {
            "exactReference" => &["type", "dockerReference"],
            "exactRepository" => &["type", "dockerRepository"],
            "remapIdentity" => &["type", "prefix", "signedPrefix"],
            _ => &["type"],
        };
        self.close(&r, &format!("a {ty} identity"), allowed);
        result
    }

    /// A `remapIdentity` prefix: c/image `validateIdentityRemappingPrefix`.
    fn remap_prefix(&mut self, r: &mut crate::json::ObjectReader<'_>, key: &str) -> Option<String> {
        let (s, v) = self.required_string(r, key)?;
        if is_valid_remap_prefix(s) {
            Some(s.to_owned())
        } else {
            let message = format!(
                "{s:?} is not a valid prefix: write a host[:port] or a fully expanded repository or namespace \
                 (e.g. \"docker.io/library\"), without tag or digest"
            );
            self.invalid(r.child_path(key), v.position, message);
            None
        }
    }
}

/// A bare `host[:port]`, or a name matching the reference name grammar that
/// starts with `host[:port]/`. Like c/image this does not reject short names
/// such as `busybox` or `ns/busybox` (they parse as a domain, resp. a domain
/// and a path; they simply never match at evaluation).
fn is_valid_remap_prefix(s: &str) -> bool {
    is_valid_domain(s) || (is_valid_name(s) && s.split_once('/').is_some_and(|(first, _)| is_valid_domain(first)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remap_prefixes_as_in_the_reference_tests() {
        for ok in [
            "localhost",
            "example.com",
            "example.com:80",
            "example.com/repo",
            "example.com/ns1/ns2/ns3/repo.with.dots-dashes_underscores",
            "example.com:80/ns1/ns2/ns3/repo.with.dots-dashes_underscores",
            "shortname",
            "ns/shortname",
        ] {
            assert!(is_valid_remap_prefix(ok), "{ok}");
        }
        for bad in [
            "",
            "repo_with_underscores",
            "example.com/",
            "example.com/UPPERCASEISINVALID",
            "example.com/repo/",
            "example.com/repo:tag",
            "example.com/repo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "example.com/repo:tag@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "foo_bar.com/x",
        ] {
            assert!(!is_valid_remap_prefix(bad), "{bad}");
        }
    }
}
