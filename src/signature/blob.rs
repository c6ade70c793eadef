//! What a stored signature blob is, decided as containers/image decides it
//! (`signature.FromBlob`, containers/image 5.23): by its first byte.
//!
//! - An OpenPGP packet that a signed message can start with (compressed
//!   data, one-pass signature, signature; old or new packet format): a
//!   simple-signing signature, the whole blob.
//! - `0x00`, a format name, `\n`, then the data: the typed format.
//!   `simple-signing` is unwrapped to the data; `sigstore-json` is a sigstore
//!   signature (which `signedBy` ignores); any other name is an error.
//! - Anything else, or an empty blob: an error. containers/image then fails
//!   reading the image's signatures, so the image is rejected even when
//!   another signature is good. Every source that stores blobs (lookaside
//!   over HTTP or `file://`, a mirror, `dir:`, signature files named by the
//!   user) is classified; the registry signature API carries simple-signing
//!   content by definition and is not.

use crate::Reason;

/// The first bytes accepted as the start of a simple-signing OpenPGP
/// message, exactly as containers/image lists them. `0x3D` (not `0x93`,
/// which would be the old-format one-pass signature with an indeterminate
/// length) is what the reference has; kept so the verdict is the same.
const OPENPGP_FIRST_BYTES: &[u8] = &[
    0xA0, 0xA1, 0xA2, 0xA3, // compressed data, old format
    0xC8, // compressed data, new format
    0x90, 0x91, 0x92, 0x3D, // one-pass signature, old format (sic)
    0xC4, // one-pass signature, new format
    0x88, 0x89, 0x8A, 0x8B, // signature, old format
    0xC2, // signature, new format
];

/// The typed format's name for simple signing.
pub const SIMPLE_SIGNING_FORMAT: &str = "simple-signing";
/// The typed format's name for sigstore.
pub const SIGSTORE_FORMAT: &str = "sigstore-json";

/// A classified blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blob<'a> {
    /// An OpenPGP simple-signing message (unwrapped from the typed format if it was).
    SimpleSigning(&'a [u8]),
    /// A sigstore signature (`\0sigstore-json\n…`): the JSON that follows.
    Sigstore(&'a [u8]),
}

/// Why a blob is not a signature in any format the reference knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    /// The blob is empty.
    #[error("empty signature blob")]
    Empty,
    /// The first byte starts neither an OpenPGP message nor the typed format; that byte.
    #[error("unrecognized signature format, starting with binary {0:#x}")]
    UnrecognizedFirstByte(u8),
    /// The typed format's name is not ended by `\n`.
    #[error("invalid signature format, missing newline")]
    MissingNewline,
    /// The typed format's name has a byte outside ASCII; that byte.
    #[error("invalid signature format, non-ASCII byte {0:#x}")]
    NonAsciiFormat(u8),
    /// A typed format other than [`SIMPLE_SIGNING_FORMAT`] and [`SIGSTORE_FORMAT`]; its name.
    #[error("unrecognized signature format {0:?}")]
    UnknownFormat(String),
}

impl BlobError {
    /// Why, as a [`Reason`]: every blob error has the one code.
    pub fn code(&self) -> Reason {
        Reason::UnrecognizedSignatureBlob
    }
}

/// Classify `blob` (see the module docs).
pub fn classify(blob: &[u8]) -> Result<Blob<'_>, BlobError> {
    let (&first, rest) = blob.split_first().ok_or(BlobError::Empty)?;
    if OPENPGP_FIRST_BYTES.contains(&first) {
        return Ok(Blob::SimpleSigning(blob));
    }
    if first != 0 {
        return Err(BlobError::UnrecognizedFirstByte(first));
    }
    let nl = rest.iter().position(|&b| b == b'\n').ok_or(BlobError::MissingNewline)?;
    let (format, data) = (&rest[..nl], &rest[nl + 1..]);
    if let Some(&b) = format.iter().find(|&&b| !(32..0x7F).contains(&b)) {
        return Err(BlobError::NonAsciiFormat(b));
    }
    match format {
        f if f == SIMPLE_SIGNING_FORMAT.as_bytes() => Ok(Blob::SimpleSigning(data)),
        f if f == SIGSTORE_FORMAT.as_bytes() => Ok(Blob::Sigstore(data)),
        f => Err(BlobError::UnknownFormat(String::from_utf8_lossy(f).into_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openpgp_first_bytes_are_simple_signing() {
        for b in OPENPGP_FIRST_BYTES {
            let blob = [*b, 1, 2];
            assert_eq!(classify(&blob), Ok(Blob::SimpleSigning(&blob[..])));
        }
        // gpg's usual output (compressed, indeterminate length) and sequoia's (one-pass, new format).
        assert!(matches!(classify(&[0xA3, 1]), Ok(Blob::SimpleSigning(_))));
        assert!(matches!(classify(&[0xC4, 1]), Ok(Blob::SimpleSigning(_))));
    }

    #[test]
    fn other_first_bytes_and_empty_blobs_are_errors() {
        assert_eq!(classify(b""), Err(BlobError::Empty));
        assert_eq!(classify(b"hello"), Err(BlobError::UnrecognizedFirstByte(b'h')));
        assert_eq!(
            classify(b"-----BEGIN PGP MESSAGE-----"),
            Err(BlobError::UnrecognizedFirstByte(b'-'))
        );
        // 0x93 is not in the reference's list (it has 0x3D instead).
        assert_eq!(classify(&[0x93, 0]), Err(BlobError::UnrecognizedFirstByte(0x93)));
        assert_eq!(classify(&[0xC3, 0]), Err(BlobError::UnrecognizedFirstByte(0xC3)));
    }

    #[test]
    fn typed_format() {
        assert_eq!(
            classify(b"\0simple-signing\n\xa3abc"),
            Ok(Blob::SimpleSigning(&b"\xa3abc"[..]))
        );
        assert_eq!(classify(b"\0sigstore-json\n{}"), Ok(Blob::Sigstore(&b"{}"[..])));
        assert_eq!(classify(b"\0simple-signing"), Err(BlobError::MissingNewline));
        assert_eq!(classify(b"\0simple\x01\n"), Err(BlobError::NonAsciiFormat(1)));
        assert_eq!(classify(b"\0other\nxyz"), Err(BlobError::UnknownFormat("other".into())));
        // The data after the typed header is not classified again.
        assert_eq!(classify(b"\0simple-signing\n"), Ok(Blob::SimpleSigning(&b""[..])));
    }
}
