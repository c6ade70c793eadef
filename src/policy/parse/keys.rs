//! Loading the keys of `signedBy` requirements, once per policy.
//!
//! c/image reads `keyPath`/`keyPaths` with `os.ReadFile` each time a
//! signature is checked (a relative path is relative to the process's
//! working directory) and imports every blob into one ephemeral keyring; if
//! any blob cannot be read or imported, the whole requirement rejects. Here
//! each distinct file is read once per parse, with a size limit, and the
//! outcome is kept in [`LoadedKeys`]: the usable certificates, and an error
//! per unusable source, which makes the evaluator reject the requirement.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use crate::pgp::{Cert, Keyring};
use crate::policy::LoadedKeys;

/// Largest key file read (a keyring of a few thousand keys fits easily).
pub const MAX_KEY_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// Go's `base64.StdEncoding` as encoding/json uses it for `[]byte`: standard
/// alphabet, padding required, non-zero trailing bits tolerated.
const GO_STD_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Decodes a JSON `[]byte` value like Go: `\r` and `\n` anywhere are skipped.
pub(super) fn decode_base64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    if s.contains(['\r', '\n']) {
        let cleaned: String = s.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
        GO_STD_BASE64.decode(cleaned)
    } else {
        GO_STD_BASE64.decode(s)
    }
}

/// The path c/image would open for `written`: as is if absolute, else
/// relative to the current directory (made absolute for messages; falls back
/// to the written form, which the OS resolves the same way).
pub(super) fn resolve(written: &str) -> PathBuf {
    std::path::absolute(written).unwrap_or_else(|_| PathBuf::from(written))
}

/// Reads and parses key files, each at most once.
pub(super) struct Loader {
    cache: HashMap<PathBuf, Result<Vec<Cert>, String>>,
    /// Files actually read (for tests of the cache).
    #[cfg_attr(not(test), allow(dead_code))]
    reads: usize,
}

impl Loader {
    pub(super) fn new() -> Loader {
        Loader {
            cache: HashMap::new(),
            reads: 0,
        }
    }

    /// The keys in the files `paths` (written, resolved): their union.
    pub(super) fn load_paths(&mut self, paths: &[(String, PathBuf)]) -> LoadedKeys {
        let mut certs = Vec::new();
        let mut errors = Vec::new();
        for (written, resolved) in paths {
            match self.file(resolved) {
                Ok(c) => certs.extend(c.iter().cloned()),
                Err(e) => errors.push(format!("key file {}: {e}", describe(written, resolved))),
            }
        }
        build(certs, errors)
    }

    /// The keys in decoded `keyData`.
    pub(super) fn load_data(&mut self, data: &[u8]) -> LoadedKeys {
        match Keyring::parse_certs(data) {
            Ok(certs) => build(certs, Vec::new()),
            Err(e) => build(Vec::new(), vec![format!("keyData: {e}")]),
        }
    }

    fn file(&mut self, path: &Path) -> &Result<Vec<Cert>, String> {
        if !self.cache.contains_key(path) {
            self.reads += 1;
            let result = read_limited(path, MAX_KEY_FILE_SIZE)
                .and_then(|bytes| Keyring::parse_certs(&bytes).map_err(|e| e.to_string()));
            self.cache.insert(path.to_path_buf(), result);
        }
        &self.cache[path]
    }
}

/// `"written"`, plus where it resolved to when that differs.
fn describe(written: &str, resolved: &Path) -> String {
    if Path::new(written) == resolved {
        format!("{written:?}")
    } else {
        format!("{written:?} (resolved to {:?})", resolved.display().to_string())
    }
}

/// A regular file's contents, refusing more than `limit` bytes.
fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if !meta.is_file() {
        return Err("cannot read it: not a regular file".to_owned());
    }
    if meta.len() > limit {
        return Err(format!("it is larger than the {limit}-byte limit for key files"));
    }
    let file = File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!("it is larger than the {limit}-byte limit for key files"));
    }
    Ok(bytes)
}

/// A keyring of `certs` (copies of one certificate are merged, as a GnuPG
/// import does; see [`Keyring::add`]), and the errors.
fn build(certs: Vec<Cert>, errors: Vec<String>) -> LoadedKeys {
    let mut keyring = Keyring::new();
    keyring.add(certs);
    LoadedKeys {
        keyring: Arc::new(keyring),
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/reference/fixtures/signature")
            .join(name)
    }

    #[test]
    fn base64_follows_go_std_encoding() {
        assert_eq!(decode_base64("YWJj").unwrap(), b"abc");
        assert_eq!(decode_base64("YQ==").unwrap(), b"a");
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("YW\r\nJj\n").unwrap(), b"abc");
        assert_eq!(decode_base64("YR==").unwrap(), b"a"); // trailing bits tolerated, like Go
        for bad in [
            "YQ",
            "YQ=",
            "YWJj=",
            "Y WJj",
            "YW-j",
            "YW_j",
            "this is invalid base64",
            "=YWJ",
        ] {
            assert!(decode_base64(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn each_file_is_read_once_and_copies_of_a_key_merge() {
        let mut l = Loader::new();
        let armored = fixture("public-key.gpg");
        let binary = fixture("public-key-1.gpg");
        let paths = vec![
            ("a".to_owned(), armored.clone()),
            ("b".to_owned(), binary.clone()),
            ("c".to_owned(), armored.clone()),
        ];
        let k = l.load_paths(&paths);
        assert!(k.errors.is_empty(), "{:?}", k.errors);
        assert_eq!(k.keyring.fingerprints(), ["08CD26E446E2E95249B7A405E932F44B23E8DD43"]);
        let k2 = l.load_paths(&paths[..1]);
        assert_eq!(k2.keyring.len(), 1);
        assert_eq!(l.reads, 2);
    }

    #[test]
    fn unusable_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::write(&big, vec![0u8; 10]).unwrap();
        assert!(read_limited(&big, 9).unwrap_err().contains("9-byte limit"));
        assert_eq!(read_limited(&big, 10).unwrap().len(), 10);
        assert!(read_limited(dir.path(), 10).unwrap_err().contains("not a regular file"));
        let mut l = Loader::new();
        let k = l.load_paths(&[("rel".to_owned(), dir.path().join("missing"))]);
        assert!(k.keyring.is_empty());
        assert!(
            k.errors[0].starts_with("key file \"rel\" (resolved to "),
            "{:?}",
            k.errors
        );
        let k = l.load_data(b"not a key");
        assert!(k.errors[0].starts_with("keyData: "), "{:?}", k.errors);
    }
}
