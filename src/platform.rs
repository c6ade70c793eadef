//! Multi-platform images: the instances of a manifest list / OCI index, and
//! choosing the one for a platform as containers/image does for a pull
//! (`ChooseInstance`: the first instance whose OS and architecture match,
//! preferring an exact variant match when the wanted platform has a variant).

use crate::digest::Digest;
use crate::manifest;

/// An OS / architecture / variant triple, with Go's names (`linux`, `amd64`, `arm64`, `v8`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// The operating system, e.g. `linux`.
    pub os: String,
    /// The CPU architecture, e.g. `amd64`.
    pub architecture: String,
    /// The CPU variant, e.g. `v8`; `None` when the platform names none.
    pub variant: Option<String>,
}

impl Platform {
    /// The platform this program was built for, as Go names it (a compile-time fact, not
    /// the environment).
    pub fn host() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        // containers/image's default variant for the host: arm64 is v8.
        let variant = (arch == "arm64").then(|| "v8".to_owned());
        Platform {
            os: std::env::consts::OS.to_owned(),
            architecture: arch.to_owned(),
            variant,
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.variant {
            Some(v) => write!(f, "{}/{}/{v}", self.os, self.architecture),
            None => write!(f, "{}/{}", self.os, self.architecture),
        }
    }
}

/// One instance of a manifest list / OCI index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The instance manifest's digest, as the index lists it.
    pub digest: Digest,
    /// The platform the index says it is for.
    pub platform: Platform,
}

impl Instance {
    /// `os/architecture[/variant]`
    pub fn platform(&self) -> String {
        self.platform.to_string()
    }
}

/// Instances of a manifest list / OCI index; `None` for other manifests.
/// Entries without a valid digest are skipped.
pub fn list_instances(bytes: &[u8]) -> Option<Vec<Instance>> {
    if cannot_be_list(bytes) {
        return None;
    }
    let mt = manifest::guess_media_type(bytes)?;
    if mt != manifest::DOCKER_V2_LIST && mt != manifest::OCI_INDEX {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let mut out = Vec::new();
    for m in v.get("manifests")?.as_array()? {
        let Some(d) = m
            .get("digest")
            .and_then(|d| d.as_str())
            .and_then(|d| Digest::parse(d).ok())
        else {
            continue;
        };
        let p = m.get("platform");
        let get = |k: &str| p.and_then(|p| p.get(k)).and_then(|v| v.as_str()).map(str::to_owned);
        out.push(Instance {
            digest: d,
            platform: Platform {
                os: get("os").unwrap_or_default(),
                architecture: get("architecture").unwrap_or_default(),
                variant: get("variant"),
            },
        });
    }
    Some(out)
}

/// A list needs a `manifests` member, which Go matches case-insensitively and after
/// unescaping: plain ASCII without a backslash and without that name in any case cannot
/// be a list, so the common single-platform manifest is not parsed twice.
fn cannot_be_list(bytes: &[u8]) -> bool {
    const NAME: &[u8] = b"manifests";
    bytes.is_ascii() && !bytes.contains(&b'\\') && !bytes.windows(NAME.len()).any(|w| w.eq_ignore_ascii_case(NAME))
}

/// The instance a pull on `want` would use, as containers/image's `ChooseInstance`:
/// OS and architecture equal and the variant equal (an instance without a variant
/// matches only a platform without one), trying `want`'s variant first and then no
/// variant (for arm64 hosts: `v8`, then none); else the first instance that names no
/// platform at all (an OCI index may have such entries).
pub fn choose<'a>(instances: &'a [Instance], want: &Platform) -> Option<&'a Instance> {
    let variants = [want.variant.as_deref(), None];
    let wanted = if want.variant.is_some() {
        &variants[..]
    } else {
        &variants[1..]
    };
    wanted
        .iter()
        .find_map(|v| {
            instances.iter().find(|i| {
                i.platform.os == want.os
                    && i.platform.architecture == want.architecture
                    && i.platform.variant.as_deref().filter(|s| !s.is_empty()) == *v
            })
        })
        .or_else(|| {
            instances
                .iter()
                .find(|i| i.platform.os.is_empty() && i.platform.architecture.is_empty())
        })
}

/// What a manifest is to the image it belongs to: in verify's, sign's and
/// fetch's reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A single-platform image's manifest.
    Image,
    /// A multi-platform image's index (manifest list).
    Index,
    /// One instance of a multi-platform image.
    Instance(Platform),
}

impl Role {
    /// For people: `image`, `index`, or `instance linux/arm64/v8`.
    pub fn describe(&self) -> String {
        match self {
            Role::Image => "image".to_owned(),
            Role::Index => "index".to_owned(),
            Role::Instance(p) => format!("instance {p}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(entries: &[(&str, &str, Option<&str>)]) -> Vec<u8> {
        let ms: Vec<serde_json::Value> = entries
            .iter()
            .enumerate()
            .map(|(i, (os, arch, var))| {
                let mut p = serde_json::json!({"os": os, "architecture": arch});
                if let Some(v) = var {
                    p["variant"] = serde_json::json!(v);
                }
                serde_json::json!({
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": format!("sha256:{:064x}", i + 1),
                    "size": 1,
                    "platform": p,
                })
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": ms,
        }))
        .unwrap()
    }

    #[test]
    fn instances_and_choice() {
        let b = index(&[
            ("linux", "arm64", Some("v8")),
            ("linux", "amd64", Some("v2")),
            ("linux", "amd64", None),
            ("linux", "amd64", None),
        ]);
        let is = list_instances(&b).unwrap();
        assert_eq!(is.len(), 4);
        assert_eq!(is[0].platform(), "linux/arm64/v8");
        let amd = Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        };
        // An amd64/v2 instance is not what a plain amd64 pull takes.
        assert_eq!(choose(&is, &amd).unwrap().digest, is[2].digest);
        let arm = Platform {
            os: "linux".into(),
            architecture: "arm64".into(),
            variant: Some("v8".into()),
        };
        assert_eq!(choose(&is, &arm).unwrap().digest, is[0].digest);
        let s390 = Platform {
            os: "linux".into(),
            architecture: "s390x".into(),
            variant: None,
        };
        assert!(choose(&is, &s390).is_none());
        // arm64/v8 falls back to an arm64 instance without a variant.
        let b = index(&[("linux", "arm64", None)]);
        let is = list_instances(&b).unwrap();
        assert_eq!(choose(&is, &arm).unwrap().digest, is[0].digest);
        assert!(list_instances(
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}"#
        )
        .is_none());
    }
}
