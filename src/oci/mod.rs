//! Images as built: the `oci:` (OCI image layout directory) and
//! `oci-archive:` (a tar of one) transports, as containers/image reads them,
//! for signing an image before it is pushed and verifying it where it lies.
//!
//! - [`OciReference::parse`]: `oci:PATH[:IMAGE]`, `oci-archive:FILE[:IMAGE]`
//!   (c/image's reference syntax and policy identity; see [`reference`](self::OciReference)).
//! - [`OciImage::open`]: the image's manifest (or index) from `index.json`
//!   and its blob, whose bytes are what a registry serves after
//!   `skopeo copy --preserve-digests oci:… docker://…`, so a signature of
//!   their digest is a signature of the pushed image.
//! - [`unsupported_transport`]: the transports imgsig does not read, and what
//!   to do instead (copy the image into an `oci:` layout).
//!
//! c/image gives `oci:` images no docker reference: under an `oci` /
//! `oci-archive` policy scope, identity rules that compare with the image's
//! own reference (`matchExact`, `matchRepoDigestOrExact` (the default),
//! `matchRepository`, `remapIdentity`) reject every signature, and
//! `exactReference` / `exactRepository` name what the signature must claim.
//! Naming the image's registry reference (the signing identity) judges it
//! under the `docker` scope of that reference instead, as the pushed image
//! will be.

mod layout;
mod reference;
mod tar;

pub use layout::OciImage;
pub use reference::{is_oci, ImageChoice, OciReference, OciTransport};

use crate::reason::ErrorClass;
use crate::Reason;

/// Why an OCI image could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct OciError {
    /// Who has to act: exit 2 (input), 3 (outside), or 1 (rejected: the
    /// manifest blob does not hash to the digest `index.json` names).
    pub class: ErrorClass,
    /// Why, as a stable code.
    pub code: Reason,
    /// What went wrong, naming the layout.
    pub message: String,
    /// What the user can do about it.
    pub hint: Option<String>,
}

impl OciError {
    pub(crate) fn input(code: Reason, message: impl Into<String>) -> OciError {
        OciError {
            class: ErrorClass::Input,
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn outside(code: Reason, message: impl Into<String>) -> OciError {
        OciError {
            class: ErrorClass::Outside,
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn rejected(code: Reason, message: impl Into<String>) -> OciError {
        OciError {
            class: ErrorClass::Rejected,
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> OciError {
        self.hint = Some(hint.into());
        self
    }

    /// A file of the layout could not be read: missing or forbidden is the
    /// user's to fix, anything else the system's.
    pub(crate) fn io(what: &str, e: &std::io::Error) -> OciError {
        if crate::files::is_user_error(e) || e.kind() == std::io::ErrorKind::UnexpectedEof {
            OciError::input(Reason::UnreadableInput, format!("{what}: {e}"))
        } else {
            OciError::outside(Reason::IoError, format!("{what}: {e}"))
        }
    }
}

/// For the fuzz targets (`imgsig::fuzzing`): the files of an `oci-archive:`
/// that [`OciImage::open`] would read (`index.json`, `blobs/sha256/<hex>`),
/// found as it finds them, each with where its contents start and those
/// contents read in place (those over the manifest size limit are left out).
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn archive_entries(file: &mut std::fs::File) -> Result<Vec<(String, u64, Vec<u8>)>, String> {
    let entries = tar::index(file, layout::is_blob_name).map_err(|e| e.to_string())?;
    let mut read = Vec::new();
    for (name, entry) in entries {
        if let Ok(bytes) = tar::read(file, entry, crate::limits::MAX_MANIFEST_SIZE as u64).map_err(|e| e.to_string())? {
            read.push((name, entry.offset, bytes));
        }
    }
    Ok(read)
}

/// Transports of containers/image that imgsig does not read.
const UNSUPPORTED: [&str; 7] = [
    "docker-archive",
    "docker-daemon",
    "containers-storage",
    "ostree",
    "sif",
    "tarball",
    "atomic",
];

/// `Some` error (exit 2, `unsupported-transport`) when `input` names an
/// image of a transport imgsig does not read (`docker-archive:`,
/// `docker-daemon:`, `containers-storage:`, …), naming what to do instead.
pub fn unsupported_transport(input: &str) -> Option<OciError> {
    let (transport, rest) = input.split_once(':')?;
    if !UNSUPPORTED.contains(&transport) {
        return None;
    }
    // `HOST:PORT/…` is a registry reference (a host may be called `sif`).
    if let Some((port, _)) = rest.split_once('/') {
        if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let example = if rest.is_empty() { "IMAGE" } else { rest };
    Some(
        OciError::input(
            Reason::UnsupportedTransport,
            format!(
                "{input:?}: the {transport}: transport is not supported; imgsig signs docker://, oci: and oci-archive: images, and verifies those and dir: images"
            ),
        )
        .with_hint(format!(
            "copy the image into an OCI layout first, then sign or verify that: skopeo copy {transport}:{example} oci:DIR:TAG"
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_transports_say_what_to_do() {
        let e = unsupported_transport("docker-archive:/tmp/app.tar").unwrap();
        assert_eq!((e.class, e.code), (ErrorClass::Input, Reason::UnsupportedTransport));
        assert!(
            e.message.contains("docker-archive: transport is not supported"),
            "{}",
            e.message
        );
        assert!(e
            .hint
            .unwrap()
            .contains("skopeo copy docker-archive:/tmp/app.tar oci:DIR:TAG"));
        assert!(unsupported_transport("containers-storage:localhost/app:1").is_some());
        assert!(unsupported_transport("docker-daemon:app:1").is_some());
        for fine in [
            "docker://app:1",
            "oci:/x",
            "dir:/x",
            "registry.example.com:5000/app:1",
            "sif:5000/app:1",
            "sig-file",
        ] {
            assert!(unsupported_transport(fine).is_none(), "{fine}");
        }
    }
}
