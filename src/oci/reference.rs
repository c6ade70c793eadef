//! `oci:PATH[:IMAGE]` and `oci-archive:FILE[:IMAGE]` references, as
//! containers/image parses them (`oci/internal.ParseReferenceIntoElements`,
//! `oci/layout.NewReference`, `oci/archive.NewReference`): the path ends at
//! the first `:`; what follows names the image by its
//! `org.opencontainers.image.ref.name` annotation (for `oci:` also `@N`, the
//! N-th entry of `index.json`); nothing after the path means the layout's
//! only image.
//!
//! For policies, the image is its path made absolute with symbolic links
//! resolved (c/image `explicitfilepath.ResolvePathToFullyExplicit`): that is
//! the `transports.oci` / `transports.oci-archive` scope that matches it
//! first, then each parent directory. The image name is not part of it (c/image:
//! `PATH:` and `PATH:NAME` may be the same image).

use std::path::{Path, PathBuf};

use crate::Reason;

use super::OciError;

/// Which of the two OCI transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OciTransport {
    /// `oci:` — an OCI image layout directory.
    Layout,
    /// `oci-archive:` — an uncompressed tar of an OCI image layout.
    Archive,
}

impl OciTransport {
    /// The transport's name, as in policies and references: `oci` or `oci-archive`.
    pub fn name(self) -> &'static str {
        match self {
            OciTransport::Layout => "oci",
            OciTransport::Archive => "oci-archive",
        }
    }
}

/// Which entry of the layout's `index.json` is the image.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageChoice {
    /// The only entry (an error when there are several).
    Only,
    /// The entry annotated `org.opencontainers.image.ref.name: NAME`.
    Named(String),
    /// The N-th entry, from 0 (`oci:PATH:@N`).
    Index(usize),
}

/// An image in an OCI layout or archive.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OciReference {
    /// `oci` or `oci-archive`.
    pub transport: OciTransport,
    /// The path as given (relative paths are read relative to the working directory).
    pub path: PathBuf,
    /// The path made absolute, symbolic links resolved: the policy identity.
    pub resolved: PathBuf,
    /// Which image of the layout.
    pub image: ImageChoice,
}

/// Whether `input` names an image of one of the OCI transports.
pub fn is_oci(input: &str) -> bool {
    input.starts_with("oci:") || input.starts_with("oci-archive:")
}

/// `[A-Za-z0-9]+` components joined by `.`, `_`, `-`, `:`, `@`, `+`, `--`,
/// and those joined by `/` (the image-spec's ref.name grammar, as c/image
/// checks it).
fn valid_image_name(name: &str) -> bool {
    name.split('/').all(|component| {
        let b = component.as_bytes();
        if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
            return false;
        }
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_alphanumeric() {
                i += 1;
                continue;
            }
            // A separator: one of `._:@+-`, or `--`; then alphanumerics again.
            let sep = if b[i] == b'-' && b.get(i + 1) == Some(&b'-') {
                2
            } else {
                1
            };
            if sep == 1 && !b"._:@+-".contains(&b[i]) {
                return false;
            }
            i += sep;
            if !b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
                return false;
            }
        }
        true
    })
}

/// The path made fully explicit: absolute, symbolic links resolved. The
/// last component need not exist (c/image allows a missing destination), but
/// its directory must.
fn resolve(path: &Path) -> Result<PathBuf, std::io::Error> {
    match std::fs::canonicalize(path) {
        Ok(p) => Ok(p),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let name = path.file_name().ok_or(e)?;
            Ok(std::fs::canonicalize(parent)?.join(name))
        }
        Err(e) => Err(e),
    }
}

impl OciReference {
    /// Parse `oci:PATH[:IMAGE]` or `oci-archive:FILE[:IMAGE]` (with the
    /// transport prefix), resolving the path on the file system.
    pub fn parse(input: &str) -> Result<OciReference, OciError> {
        let (transport, rest) = if let Some(r) = input.strip_prefix("oci:") {
            (OciTransport::Layout, r)
        } else if let Some(r) = input.strip_prefix("oci-archive:") {
            (OciTransport::Archive, r)
        } else {
            return Err(OciError::input(
                Reason::InvalidReference,
                format!("{input:?} is not an oci: or oci-archive: reference"),
            ));
        };
        let invalid = |why: String| OciError::input(Reason::InvalidReference, format!("{input:?}: {why}"));
        let (path, name) = rest.split_once(':').unwrap_or((rest, ""));
        if path.is_empty() {
            return Err(invalid(format!("no path: give {}:PATH[:IMAGE]", transport.name())));
        }
        let image = match name.strip_prefix('@') {
            Some(n) if transport == OciTransport::Layout => ImageChoice::Index(
                n.parse()
                    .map_err(|_| invalid(format!("invalid source index @{n}: not a non-negative integer")))?,
            ),
            _ if name.is_empty() => ImageChoice::Only,
            _ if valid_image_name(name) => ImageChoice::Named(name.to_owned()),
            _ => return Err(invalid(format!("invalid image name {name:?}"))),
        };
        let path = PathBuf::from(path);
        let resolved = resolve(&path).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
        Ok(OciReference {
            transport,
            path,
            resolved,
            image,
        })
    }

    /// The scope identity a policy is looked up by first: the resolved path.
    pub fn policy_identity(&self) -> String {
        self.resolved.display().to_string()
    }
}

impl std::fmt::Display for OciReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.transport.name(), self.path.display())?;
        match &self.image {
            ImageChoice::Only => Ok(()),
            ImageChoice::Named(n) => write!(f, ":{n}"),
            ImageChoice::Index(i) => write!(f, ":@{i}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_containers_image() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        let real = std::fs::canonicalize(d).unwrap();
        let r = OciReference::parse(&format!("oci:{d}/layout:v1.0")).unwrap();
        assert_eq!(r.transport, OciTransport::Layout);
        assert_eq!(r.image, ImageChoice::Named("v1.0".into()));
        assert_eq!(r.resolved, real.join("layout"));
        let r = OciReference::parse(&format!("oci:{d}")).unwrap();
        assert_eq!((r.image, r.resolved), (ImageChoice::Only, real.clone()));
        let r = OciReference::parse(&format!("oci:{d}:@2")).unwrap();
        assert_eq!(r.image, ImageChoice::Index(2));
        let r = OciReference::parse(&format!("oci-archive:{d}/a.tar:example.com/app:1.0")).unwrap();
        assert_eq!(r.transport, OciTransport::Archive);
        assert_eq!(r.image, ImageChoice::Named("example.com/app:1.0".into()));
        std::os::unix::fs::symlink(d, dir.path().join("link")).unwrap();
        let r = OciReference::parse(&format!("oci:{d}/link")).unwrap();
        assert_eq!(r.resolved, real);
        for bad in [
            "oci:",
            "oci::x",
            "oci:/tmp:-x",
            "oci:/tmp:@-1",
            "oci:/tmp:a//b",
            "oci:/tmp:a..b",
            "docker://x",
        ] {
            assert!(OciReference::parse(bad).is_err(), "{bad}");
        }
        assert!(OciReference::parse("oci:/no/such/parent/x").is_err());
    }

    #[test]
    fn image_names() {
        for ok in ["latest", "v1.0", "a--b", "example.com/app:1.0", "a@b+c"] {
            assert!(valid_image_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a/", "a..b", "a---b", "a b", "A/."] {
            assert!(!valid_image_name(bad), "{bad}");
        }
    }
}
