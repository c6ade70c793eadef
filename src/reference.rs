//! Docker image references, parsed and normalised exactly like containers/image
//! (`docker/reference`: `ParseNormalizedNamed`, `ParseNamed`, `TagNameOnly`), plus the
//! docker transport's policy scope identity and namespaces (`docker/policyconfiguration`).
//!
//! The grammar (c/image `docker/reference/regexp.go`) is matched by hand, no regex crate:
//!
//! ```text
//! reference := name [ ":" tag ] [ "@" digest ]
//! name      := [ domain "/" ] component ( "/" component )*       at most 255 bytes
//! domain    := dcomp ( "." dcomp )* [ ":" [0-9]+ ]
//! dcomp     := [a-zA-Z0-9] | [a-zA-Z0-9] [a-zA-Z0-9-]* [a-zA-Z0-9]
//! component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"* ) [a-z0-9]+ )*
//! tag       := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//! digest    := alg ( [-_+.] alg )* ":" [0-9a-fA-F]{32,}          then go-digest validation
//! alg       := [A-Za-z] [A-Za-z0-9]*
//! ```
//!
//! Behaviour kept on purpose because identity matching must agree with c/image:
//! - The first path element is a registry only if it contains `.` or `:` or is `localhost`
//!   (c/image never adopted upstream's "uppercase first element is a domain" rule, nor IPv6
//!   `[…]` hosts), so `Docker/docker` is rejected as not lowercase.
//! - As in c/image's `Parse`, a first element that looks like a host but is not a valid
//!   domain (e.g. `foo_bar.com/x`) is accepted as a plain path with an *empty* domain
//!   (`name()` = `foo_bar.com/x`). Network code must refuse an empty [`DockerReference::domain`].

use std::fmt;
use std::str::FromStr;

use crate::digest::{Digest, DigestError};

const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const DEFAULT_TAG: &str = "latest";
/// Longest accepted repository name (`domain/path`), in bytes.
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Why a string is not an acceptable docker reference. Every variant quotes the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// Not a reference by the docker grammar.
    #[error("invalid reference {input:?}: invalid reference format")]
    InvalidFormat {
        /// The input, as given.
        input: String,
    },
    /// The repository name has uppercase letters.
    #[error("invalid reference {input:?}: invalid reference format: repository name must be lowercase")]
    NotLowercase {
        /// The input, as given.
        input: String,
    },
    /// The repository name is longer than [`NAME_TOTAL_LENGTH_MAX`].
    #[error("invalid reference {input:?}: repository name must not be longer than 255 characters")]
    NameTooLong {
        /// The input, as given.
        input: String,
    },
    /// 64 hex digits: an image ID, not a repository name.
    #[error(
        "invalid reference {input:?}: cannot specify 64-byte hexadecimal strings \
         (an image ID is not a repository name)"
    )]
    HexIdentifier {
        /// The input, as given.
        input: String,
    },
    /// The tag breaks the tag grammar.
    #[error(
        "invalid reference {input:?}: invalid tag {tag:?} (1 to 128 characters from \
         [A-Za-z0-9_.-], not starting with '.' or '-')"
    )]
    InvalidTag {
        /// The input, as given.
        input: String,
        /// The tag, as written.
        tag: String,
    },
    /// The part after the first `@` is not `ALGORITHM:HEX`.
    #[error("invalid reference {input:?}: invalid digest format {digest:?} (expected ALGORITHM:HEX)")]
    InvalidDigestFormat {
        /// The input, as given.
        input: String,
        /// The part after the first `@`.
        digest: String,
    },
    /// The part after `@` has the digest form but is not a valid digest.
    #[error("invalid reference {input:?}: invalid digest")]
    InvalidDigest {
        /// The input, as given.
        input: String,
        /// Why the digest is refused.
        #[source]
        source: DigestError,
    },
    /// [`DockerReference::parse_canonical`]: the input is not fully expanded.
    #[error("reference {input:?} is not in canonical form (did you mean {canonical:?}?)")]
    NotCanonical {
        /// The input, as given.
        input: String,
        /// Its canonical form, e.g. `docker.io/library/busybox`.
        canonical: String,
    },
    /// [`DockerReference::parse_docker_transport`]: both a tag and a digest.
    #[error(
        "invalid reference {input:?}: references with both a tag and a digest are not supported \
         (drop the tag or the digest)"
    )]
    TagAndDigest {
        /// The input, as given.
        input: String,
    },
}

/// A parsed, normalised docker reference: `domain/path[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DockerReference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl DockerReference {
    /// c/image `ParseNormalizedNamed`: fills in `docker.io` and `library/`, maps
    /// `index.docker.io` to `docker.io`, and does **not** add a default tag.
    pub fn parse_normalized(s: &str) -> Result<Self, ReferenceError> {
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(ReferenceError::HexIdentifier { input: s.to_owned() });
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote = remainder.find(':').map_or(remainder.as_str(), |i| &remainder[..i]);
        // Unicode lowercasing, like Go's strings.ToLower.
        if remote.to_lowercase() != remote {
            return Err(ReferenceError::NotLowercase { input: s.to_owned() });
        }
        parse_full(&format!("{domain}/{remainder}"), s)
    }

    /// c/image `ParseNamed`: like [`parse_normalized`](Self::parse_normalized) but the input
    /// must already be the fully expanded form (`to_string() == s`).
    pub fn parse_canonical(s: &str) -> Result<Self, ReferenceError> {
        let r = Self::parse_normalized(s)?;
        let canonical = r.to_string();
        if canonical != s {
            return Err(ReferenceError::NotCanonical {
                input: s.to_owned(),
                canonical,
            });
        }
        Ok(r)
    }

    /// What the c/image docker transport does with `docker://s`: normalise, refuse
    /// tag+digest references, and add `:latest` to a bare name.
    pub fn parse_docker_transport(s: &str) -> Result<Self, ReferenceError> {
        let r = Self::parse_normalized(s)?;
        if r.tag.is_some() && r.digest.is_some() {
            return Err(ReferenceError::TagAndDigest { input: s.to_owned() });
        }
        Ok(r.with_default_tag())
    }

    /// c/image `TagNameOnly`: add `:latest` when there is neither a tag nor a digest.
    pub fn with_default_tag(mut self) -> Self {
        if self.is_name_only() {
            self.tag = Some(DEFAULT_TAG.to_owned());
        }
        self
    }

    /// The registry host with optional port: `docker.io`, `example.com:5000`, `localhost`.
    /// Empty only for the odd `foo_bar.com/x` form described in the module docs.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path without domain, tag or digest: `library/busybox`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// `domain/path` (just `path` when the domain is empty).
    pub fn name(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            [self.domain.as_str(), "/", self.path.as_str()].concat()
        }
    }

    /// The tag (after `:`), if the reference has one.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (after `@`), if the reference has one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// Neither a tag nor a digest.
    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// Policy scope identity for the docker transport: `name:tag` or `name@digest`.
    ///
    /// This is simply [`to_string`](ToString::to_string): a bare name yields the name and a
    /// tag+digest reference yields `name:tag@digest`, which no policy scope can usefully name.
    /// c/image refuses both of those before it gets here; build transport references with
    /// [`parse_docker_transport`](Self::parse_docker_transport) to get the same guarantee.
    pub fn policy_identity(&self) -> String {
        self.to_string()
    }

    /// Policy scope namespaces (simple-signing.md §5.3, c/image `DockerReferenceNamespaces`),
    /// most specific first: the name and each parent cut at the last `/`, down to the host
    /// (with port), then `*.suffix` wildcards of the host without port.
    ///
    /// `registry.example.com:5000/ns/repo:tag` → `registry.example.com:5000/ns/repo`,
    /// `registry.example.com:5000/ns`, `registry.example.com:5000`, `*.example.com`, `*.com`.
    pub fn policy_namespaces(&self) -> Vec<String> {
        let mut res = Vec::new();
        let mut name = self.name();
        loop {
            res.push(name.clone());
            match name.rfind('/') {
                Some(i) => name.truncate(i),
                None => break,
            }
        }
        // The port is dropped for the wildcards only (c/image's "most compatible behavior").
        let host = name.find(':').map_or(name.as_str(), |i| &name[..i]);
        let mut rest = host;
        while let Some(i) = rest.find('.') {
            rest = &rest[i + 1..];
            res.push(["*.", rest].concat());
        }
        res
    }
}

impl fmt::Display for DockerReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Plain writes, no format arguments: references are shown for every
        // image of a bulk run.
        if !self.domain.is_empty() {
            f.write_str(&self.domain)?;
            f.write_str("/")?;
        }
        f.write_str(&self.path)?;
        if let Some(tag) = &self.tag {
            f.write_str(":")?;
            f.write_str(tag)?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for DockerReference {
    type Err = ReferenceError;
    /// Same as [`DockerReference::parse_normalized`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse_normalized(s)
    }
}

/// Whether `s` as a whole matches c/image's `DomainRegexp` (`host[:port]`), e.g. for
/// checking `remapIdentity` prefixes.
pub fn is_valid_domain(s: &str) -> bool {
    is_domain(s)
}

/// Whether `s` as a whole matches c/image's `NameRegexp` (`[domain/]component(/component)*`,
/// no tag or digest, no normalisation, no length limit).
pub fn is_valid_name(s: &str) -> bool {
    split_name(s).is_some()
}

/// c/image `splitDockerDomain`: (domain, remainder) with `docker.io` / `library/` filled in.
fn split_docker_domain(name: &str) -> (&str, String) {
    let (domain, remainder) = match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => (first, rest),
        _ => (DEFAULT_DOMAIN, name),
    };
    let domain = if domain == LEGACY_DEFAULT_DOMAIN {
        DEFAULT_DOMAIN
    } else {
        domain
    };
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        (domain, format!("{OFFICIAL_REPO_PREFIX}{remainder}"))
    } else {
        (domain, remainder.to_owned())
    }
}

/// Why the grammar did not match.
enum Mismatch {
    Format,
    Tag(String),
    DigestFormat(String),
}

/// A grammar match, split like c/image's `ReferenceRegexp` + `anchoredNameRegexp`.
struct Parts<'a> {
    name: &'a str,
    domain: &'a str,
    path: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// c/image `Parse` (no normalisation); errors quote `input`, the user's string.
fn parse_full(s: &str, input: &str) -> Result<DockerReference, ReferenceError> {
    let parts = match match_reference(s) {
        Ok(parts) => parts,
        Err(mismatch) => {
            if match_reference(&s.to_lowercase()).is_ok() {
                return Err(ReferenceError::NotLowercase {
                    input: input.to_owned(),
                });
            }
            let input = input.to_owned();
            return Err(match mismatch {
                Mismatch::Format => ReferenceError::InvalidFormat { input },
                Mismatch::Tag(tag) => ReferenceError::InvalidTag { input, tag },
                Mismatch::DigestFormat(digest) => ReferenceError::InvalidDigestFormat { input, digest },
            });
        }
    };
    if parts.name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(ReferenceError::NameTooLong {
            input: input.to_owned(),
        });
    }
    let digest = match parts.digest {
        Some(d) => Some(Digest::parse(d).map_err(|source| ReferenceError::InvalidDigest {
            input: input.to_owned(),
            source,
        })?),
        None => None,
    };
    Ok(DockerReference {
        domain: parts.domain.to_owned(),
        path: parts.path.to_owned(),
        tag: parts.tag.map(str::to_owned),
        digest,
    })
}

/// `name(:tag)?(@digest)?` anchored at both ends.
fn match_reference(s: &str) -> Result<Parts<'_>, Mismatch> {
    // Neither name nor tag may contain '@', so the first '@' starts the digest.
    let (left, digest) = match s.split_once('@') {
        Some((left, d)) if is_digest_pattern(d) => (left, Some(d)),
        Some((_, d)) => return Err(Mismatch::DigestFormat(d.to_owned())),
        None => (s, None),
    };
    // A ':' after the last '/' cannot be a port (a port must be followed by "/component"),
    // so it separates the tag.
    let (name, tag) = match left.rfind(':') {
        Some(i) if !left[i + 1..].contains('/') => (&left[..i], Some(&left[i + 1..])),
        _ => (left, None),
    };
    let (domain, path) = split_name(name).ok_or(Mismatch::Format)?;
    if let Some(t) = tag {
        if !is_tag(t) {
            return Err(Mismatch::Tag(t.to_owned()));
        }
    }
    Ok(Parts {
        name,
        domain,
        path,
        tag,
        digest,
    })
}

/// `(domain "/")? path`; like the regexp, a valid leading domain is preferred.
fn split_name(name: &str) -> Option<(&str, &str)> {
    if let Some((first, rest)) = name.split_once('/') {
        if is_domain(first) && is_path(rest) {
            return Some((first, rest));
        }
    }
    is_path(name).then_some(("", name))
}

fn is_path(p: &str) -> bool {
    p.split('/').all(is_name_component)
}

fn is_name_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if b.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while b.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

fn is_domain(d: &str) -> bool {
    let host = match d.rsplit_once(':') {
        Some((host, port)) => {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            host
        }
        None => d,
    };
    host.split('.').all(|c| {
        let b = c.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
    })
}

fn is_tag(t: &str) -> bool {
    let b = t.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    !b.is_empty() && b.len() <= 128 && word(b[0]) && b[1..].iter().all(|&x| word(x) || x == b'.' || x == b'-')
}

fn is_digest_pattern(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    hex.len() >= 32
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && alg.split(['-', '_', '+', '.']).all(|c| {
            let b = c.as_bytes();
            !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";

    fn norm(s: &str) -> DockerReference {
        DockerReference::parse_normalized(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    fn err(s: &str) -> ReferenceError {
        DockerReference::parse_normalized(s).unwrap_err()
    }

    #[test]
    fn normalizes_like_containers_image() {
        // (input, String(), domain, path), mostly from c/image normalize_test.go.
        #[rustfmt::skip]
        let cases = [
            ("docker/docker", "docker.io/docker/docker", "docker.io", "docker/docker"),
            ("library/debian", "docker.io/library/debian", "docker.io", "library/debian"),
            ("debian", "docker.io/library/debian", "docker.io", "library/debian"),
            ("localhost/library/debian", "localhost/library/debian", "localhost", "library/debian"),
            ("localhost/debian", "localhost/debian", "localhost", "debian"),
            ("docker.io/debian", "docker.io/library/debian", "docker.io", "library/debian"),
            ("index.docker.io/debian", "docker.io/library/debian", "docker.io", "library/debian"),
            ("index.docker.io/docker/docker", "docker.io/docker/docker", "docker.io", "docker/docker"),
            ("127.0.0.1:5000/docker/docker", "127.0.0.1:5000/docker/docker", "127.0.0.1:5000", "docker/docker"),
            ("192.168.0.1", "docker.io/library/192.168.0.1", "docker.io", "library/192.168.0.1"),
            ("192.168.0.1:80", "docker.io/library/192.168.0.1:80", "docker.io", "library/192.168.0.1"),
            ("192.168.0.1:8/debian", "192.168.0.1:8/debian", "192.168.0.1:8", "debian"),
            ("docker---rules/docker", "docker.io/docker---rules/docker", "docker.io", "docker---rules/docker"),
            ("jess/t", "docker.io/jess/t", "docker.io", "jess/t"),
            ("dock__er/docker", "docker.io/dock__er/docker", "docker.io", "dock__er/docker"),
            ("test_com/foo", "docker.io/test_com/foo", "docker.io", "test_com/foo"),
            ("test-com:8080/foo", "test-com:8080/foo", "test-com:8080", "foo"),
            ("xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
            ("ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base"),
            ("docker.io/library/foo/bar", "docker.io/library/foo/bar", "docker.io", "library/foo/bar"),
            ("store/foo/bar", "docker.io/store/foo/bar", "docker.io", "store/foo/bar"),
            ("EXAMPLE.com/foo", "EXAMPLE.com/foo", "EXAMPLE.com", "foo"),
            ("busybox:latest", "docker.io/library/busybox:latest", "docker.io", "library/busybox"),
            ("lowercase:Uppercase", "docker.io/library/lowercase:Uppercase", "docker.io", "library/lowercase"),
            ("localhost:5000", "docker.io/library/localhost:5000", "docker.io", "library/localhost"),
            ("b.gcr.io/t.example.com/app:t.example.com", "b.gcr.io/t.example.com/app:t.example.com", "b.gcr.io", "t.example.com/app"),
            ("docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
             "docker.io/library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "docker.io",
             "library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"),
            // c/image quirk: an invalid host that is a valid path component -> empty domain.
            ("foo_bar.com/x", "foo_bar.com/x", "", "foo_bar.com/x"),
        ];
        for (input, string, domain, path) in cases {
            let r = norm(input);
            assert_eq!((r.to_string().as_str(), r.domain(), r.path()), (string, domain, path));
            let name = [domain, path].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>();
            assert_eq!(r.name(), name.join("/"), "{input}");
            assert_eq!(input.parse::<DockerReference>().unwrap(), r);
        }
    }

    #[test]
    fn rejects_invalid_references() {
        let long_ns = format!("{}/docker", "this_is_not_a_valid_namespace_".repeat(9));
        #[rustfmt::skip]
        let cases = [
            "", ":justtag", "https://github.com/docker/docker", "docker/Docker", "Docker/docker",
            "DOCKER/docker", "-docker", "-docker/docker", "-docker.io/docker/docker", "docker///docker",
            "docker.io/docker/Docker", "docker.io/docker///docker", "docker-/docker", "-docker-/docker",
            "____/____", "_docker/_docker", "dock..er/docker", "dock_.er/docker", "dock-.er/docker",
            "docker/", "UPPERCASEISINVALID", "Uppercase:tag", "test:5000/Uppercase/lowercase:tag",
            "aa/asdf$$^/aa", "[fc00::1]:5000/docker", "[2001:db8::1]/repo", "fc00::1:5000/debian",
            "a:b:c", "busybox:", "busybox:-tag", "busybox:.tag", "busybox@", "busybox@sha256:abc",
            "foo_bar.com:8080/app", "localhost:http/name", " busybox", "busybox ", "bu\u{e9}sybox",
            &long_ns,
        ];
        for input in cases {
            assert!(DockerReference::parse_normalized(input).is_err(), "{input:?} must fail");
        }
    }

    #[test]
    fn error_kinds_and_messages() {
        let e = err("docker/Docker");
        assert!(matches!(e, ReferenceError::NotLowercase { .. }));
        let msg = e.to_string();
        assert!(msg.contains("repository name must be lowercase") && msg.contains("\"docker/Docker\""));
        assert!(matches!(err("Foo_Bar.com/x"), ReferenceError::NotLowercase { .. }));
        let e = err("1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a");
        assert!(matches!(e, ReferenceError::HexIdentifier { .. }));
        assert!(e.to_string().contains("cannot specify 64-byte hexadecimal strings"));
        let e = err(&format!("{}/x", "a".repeat(250)));
        assert!(e.to_string().contains("must not be longer than 255 characters"), "{e}");
        assert!(matches!(err("busybox:-x"), ReferenceError::InvalidTag { tag, .. } if tag == "-x"));
        let long_tag = format!("busybox:{}", "t".repeat(129));
        assert!(matches!(err(&long_tag), ReferenceError::InvalidTag { .. }));
        assert!(matches!(
            err("busybox@sha256:xyz"),
            ReferenceError::InvalidDigestFormat { .. }
        ));
        assert!(matches!(
            err("docker.io/docker///docker"),
            ReferenceError::InvalidFormat { .. }
        ));
        // Digest grammar OK but go-digest validation fails: unknown algorithm, length, case.
        let f = "f".repeat(64);
        let bad = [
            format!("invalid:{f}"),
            format!("sha256:{}", &f[..34]),
            format!("sha256:{}", f.to_uppercase()),
        ];
        for d in bad {
            let e = err(&format!("validname:tag@{d}"));
            assert!(matches!(e, ReferenceError::InvalidDigest { .. }), "{d}: {e}");
            assert!(std::error::Error::source(&e).is_some());
        }
    }

    #[test]
    fn name_length_counts_the_normalized_name() {
        // "docker.io/library/" is 18 bytes; 237 more reach exactly 255.
        assert_eq!(norm(&"a".repeat(237)).name().len(), 255);
        assert!(matches!(err(&"a".repeat(238)), ReferenceError::NameTooLong { .. }));
        // The tag does not count (c/image reference_test "tag-puts-this-over-max").
        let s = format!("{}a:tag-puts-this-over-max", "a/".repeat(127));
        assert_eq!(parse_full(&s, &s).unwrap().tag(), Some("tag-puts-this-over-max"));
        let s = format!("{}a:tag", "a/".repeat(128));
        assert!(matches!(parse_full(&s, &s), Err(ReferenceError::NameTooLong { .. })));
    }

    #[test]
    fn raw_parse_matches_reference_test_table() {
        // c/image `Parse` (no normalisation): (input, name, domain, tag, has digest).
        let d = format!("sha256:{}", "f".repeat(64));
        let d512 = format!("sha512:{}", "f".repeat(128));
        #[rustfmt::skip]
        let cases = [
            ("test_com".to_owned(), "test_com", "", None, false),
            ("test.com:5000".into(), "test.com", "", Some("5000"), false),
            ("test.com/repo:tag".into(), "test.com/repo", "test.com", Some("tag"), false),
            ("test:5000/repo".into(), "test:5000/repo", "test:5000", None, false),
            (format!("test:5000/repo@{d}"), "test:5000/repo", "test:5000", None, true),
            (format!("test:5000/repo:tag@{d}"), "test:5000/repo", "test:5000", Some("tag"), true),
            ("sub-dom1.foo.com/bar/baz/quux:some-long-tag".into(), "sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", Some("some-long-tag"), false),
            (format!("xn--7o8h.com/myimage:xn--7o8h.com@{d512}"), "xn--7o8h.com/myimage", "xn--7o8h.com", Some("xn--7o8h.com"), true),
            ("foo_bar.com:8080".into(), "foo_bar.com", "", Some("8080"), false),
            ("foo/foo_bar.com:8080".into(), "foo/foo_bar.com", "foo", Some("8080"), false),
            ("192.168.1.1:5000/repo:5050".into(), "192.168.1.1:5000/repo", "192.168.1.1:5000", Some("5050"), false),
            (format!("localhost:8080@{d}"), "localhost", "", Some("8080"), true),
        ];
        for (input, name, domain, tag, has_digest) in cases {
            let r = parse_full(&input, &input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.to_string(), input);
            assert_eq!((r.name().as_str(), r.domain(), r.tag()), (name, domain, tag), "{input}");
            assert_eq!(r.digest().is_some(), has_digest, "{input}");
        }
        for bad in ["", ":justtag", "@sha256:ffff", "aa/asdf$$^/aa", "[::1]:5000/repo"] {
            assert!(parse_full(bad, bad).is_err(), "{bad:?}");
        }
        // The public grammar helpers (cases from c/image regexp_test.go).
        #[rustfmt::skip]
        let helpers = [
            ("localhost:8080", true, false), ("Asdf.com", true, false), ("test.com:http", false, false),
            ("ab-.com", false, false), ("foo_bar.com", false, true), ("a//a/a", false, false),
            ("private-mirror:5000/vendor-mirror", false, true), ("Foo/FarB", false, false),
        ];
        for (s, domain, name) in helpers {
            assert_eq!((is_valid_domain(s), is_valid_name(s)), (domain, name), "{s}");
        }
    }

    #[test]
    fn digest_references() {
        let r = norm(&format!("busybox:latest@sha256:{HEX}"));
        assert_eq!(r.to_string(), format!("docker.io/library/busybox:latest@sha256:{HEX}"));
        assert_eq!(r.tag(), Some("latest"));
        assert_eq!(r.digest().unwrap().to_string(), format!("sha256:{HEX}"));
        let r = norm(&format!("redis@sha256:{HEX}"));
        assert_eq!(r.policy_identity(), format!("docker.io/library/redis@sha256:{HEX}"));
        assert!(r.tag().is_none() && !r.is_name_only());
    }

    #[test]
    fn parse_canonical_requires_the_expanded_form() {
        assert!(DockerReference::parse_canonical("docker.io/library/busybox:latest").is_ok());
        assert!(DockerReference::parse_canonical("example.com/ns/repo").is_ok());
        for (input, canonical) in [
            ("busybox:latest", "docker.io/library/busybox:latest"),
            ("docker.io/busybox", "docker.io/library/busybox"),
            ("index.docker.io/library/busybox", "docker.io/library/busybox"),
        ] {
            let e = DockerReference::parse_canonical(input).unwrap_err();
            let expected = ReferenceError::NotCanonical {
                input: input.into(),
                canonical: canonical.into(),
            };
            assert_eq!(e, expected);
            assert!(e.to_string().contains(&format!("did you mean {canonical:?}")), "{e}");
        }
        let e = DockerReference::parse_canonical("UPPER");
        assert!(matches!(e, Err(ReferenceError::NotLowercase { .. })));
    }

    #[test]
    fn default_tag_and_docker_transport() {
        let tagged = |s: &str| norm(s).with_default_tag().to_string();
        assert_eq!(tagged("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(tagged("busybox:1"), "docker.io/library/busybox:1");
        let digested = format!("docker.io/library/busybox@sha256:{HEX}");
        assert_eq!(tagged(&digested), digested);
        assert!(norm("busybox").is_name_only());
        let r = DockerReference::parse_docker_transport("busybox").unwrap();
        assert_eq!(r.policy_identity(), "docker.io/library/busybox:latest");
        let both = DockerReference::parse_docker_transport(&format!("busybox:1@sha256:{HEX}"));
        assert!(matches!(both, Err(ReferenceError::TagAndDigest { .. })));
    }

    #[test]
    fn policy_namespaces() {
        let ns = |s: &str| DockerReference::parse_docker_transport(s).unwrap().policy_namespaces();
        #[rustfmt::skip]
        let cases: [(&str, &[&str]); 5] = [
            ("registry.example.com:5000/ns/repo:tag", &["registry.example.com:5000/ns/repo",
                "registry.example.com:5000/ns", "registry.example.com:5000", "*.example.com", "*.com"]),
            ("docker.io/library/busybox:latest", &["docker.io/library/busybox", "docker.io/library", "docker.io", "*.io"]),
            ("busybox", &["docker.io/library/busybox", "docker.io/library", "docker.io", "*.io"]),
            ("localhost/a/b@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
                &["localhost/a/b", "localhost/a", "localhost"]),
            ("127.0.0.1:5000/x", &["127.0.0.1:5000/x", "127.0.0.1:5000", "*.0.0.1", "*.0.1", "*.1"]),
        ];
        for (input, expected) in cases {
            assert_eq!(ns(input), expected, "{input}");
        }
        let r = DockerReference::parse_docker_transport("registry.example.com:5000/ns/repo:tag");
        assert_eq!(r.unwrap().policy_identity(), "registry.example.com:5000/ns/repo:tag");
    }
}
