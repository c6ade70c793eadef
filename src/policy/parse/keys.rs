//! Loading the keys of `signedBy` requirements, once per policy.
//!
//! c/image reads `keyPath`/`keyPaths` with `os.ReadFile` each time a
//! signature is checked (a relative path is relative to the process's
//! working directory) and imports every blob into one ephemeral keyring
//! with gpgme. A file that cannot be *read* fails the whole requirement; a
//! file that is read but holds no key imports nothing and is no error
//! (gpgme's import skips what it cannot parse), so the requirement then
//! stands on the other files' keys, and rejects only when no key at all was
//! imported ("No public keys imported"). Here each distinct file is read
//! once per parse, with a size limit, and the outcome is kept in
//! [`LoadedKeys`]: the usable certificates, an error per unreadable file
//! (the evaluator rejects the requirement with it), and a warning per file
//! or `keyData` that holds no usable key (reported, not fatal).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use crate::pgp::{Cert, Keyring};
use crate::policy::LoadedKeys;

/// Largest key file read (a keyring of a few thousand keys fits easily).
pub const MAX_KEY_FILE_SIZE: u64 = crate::limits::MAX_KEY_FILE_SIZE as u64;

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
    cache: HashMap<PathBuf, Result<Parsed, String>>,
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
        let mut warnings = Vec::new();
        for (written, resolved) in paths {
            match self.file(resolved) {
                Ok(Parsed::Certs(c)) => certs.extend(c.iter().cloned()),
                Ok(Parsed::NoKey(why)) => warnings.push(format!(
                    "key file {} holds no usable OpenPGP key ({why}); it is ignored, as containers/image (gpgme) ignores it",
                    describe(written, resolved)
                )),
                Err(e) => errors.push(format!("key file {}: {e}", describe(written, resolved))),
            }
        }
        build(certs, errors, warnings)
    }

    /// The keys in decoded `keyData`.
    pub(super) fn load_data(&mut self, data: &[u8]) -> LoadedKeys {
        match parse(data) {
            Parsed::Certs(certs) => build(certs, Vec::new(), Vec::new()),
            Parsed::NoKey(why) => build(
                Vec::new(),
                Vec::new(),
                vec![format!("keyData holds no usable OpenPGP key ({why})")],
            ),
        }
    }

    fn file(&mut self, path: &Path) -> &Result<Parsed, String> {
        if !self.cache.contains_key(path) {
            self.reads += 1;
            let result = read_limited(path, MAX_KEY_FILE_SIZE).map(|bytes| parse(&bytes));
            self.cache.insert(path.to_path_buf(), result);
        }
        &self.cache[path]
    }
}

/// What a readable key file or `keyData` holds.
enum Parsed {
    Certs(Vec<Cert>),
    /// Nothing importable, and why.
    NoKey(String),
}

fn parse(bytes: &[u8]) -> Parsed {
    match Keyring::parse_certs(bytes) {
        Ok(certs) => Parsed::Certs(certs),
        Err(e) => Parsed::NoKey(e.to_string()),
    }
}

/// `"written"`, plus where it resolved to when that differs.
pub(super) fn describe(written: &str, resolved: &Path) -> String {
    if Path::new(written) == resolved {
        format!("{written:?}")
    } else {
        format!("{written:?} (resolved to {:?})", resolved.display().to_string())
    }
}

/// A regular file's contents, refusing more than `limit` bytes.
pub(super) fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    crate::files::read_required(path, limit).map_err(|e| e.replace("-byte limit", "-byte limit for key files"))
}

/// A keyring of `certs` (copies of one certificate are merged, as a GnuPG
/// import does; see [`Keyring::add`]), the errors and the warnings.
fn build(certs: Vec<Cert>, errors: Vec<String>, warnings: Vec<String>) -> LoadedKeys {
    let mut keyring = Keyring::new();
    keyring.add(certs);
    LoadedKeys {
        keyring: Arc::new(keyring),
        errors,
        warnings,
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
        assert!(k.errors.is_empty() && k.keyring.is_empty(), "{:?}", k.errors);
        assert!(k.warnings[0].starts_with("keyData holds no usable"), "{:?}", k.warnings);
    }

    #[test]
    fn a_file_without_keys_is_a_warning_beside_good_keys() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.gpg");
        std::fs::write(&junk, b"not a key\n").unwrap();
        let mut l = Loader::new();
        let k = l.load_paths(&[
            ("good".to_owned(), fixture("public-key.gpg")),
            ("junk".to_owned(), junk.clone()),
        ]);
        assert!(k.errors.is_empty(), "{:?}", k.errors);
        assert_eq!(k.keyring.len(), 1);
        assert_eq!(k.warnings.len(), 1);
        assert!(
            k.warnings[0].contains("holds no usable OpenPGP key"),
            "{:?}",
            k.warnings
        );
        // A file that cannot be read still fails the requirement.
        let k = l.load_paths(&[
            ("good".to_owned(), fixture("public-key.gpg")),
            ("missing".to_owned(), dir.path().join("missing.gpg")),
        ]);
        assert_eq!(k.errors.len(), 1, "{:?}", k.errors);
    }
}
