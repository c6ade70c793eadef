//! Loading the keys of `signedBy` requirements, once per policy.
//!
//! c/image reads `keyPath`/`keyPaths` with `os.ReadFile` each time a
//! signature is checked (a relative path is relative to the process's
//! working directory) and imports every blob into one ephemeral keyring
//! with gpgme. A file that cannot be *read* fails the whole requirement; a
//! file that is read but holds no key imports nothing and is no error
//! (gpgme's import skips what it cannot parse), so the requirement then
//! stands on the other files' keys, and rejects only when no key at all was
//! imported ("No public keys imported"). Because it is one keyring, a
//! revocation certificate in one file revokes the key from another.
//!
//! Here each distinct file is read and parsed once per parse, with a size
//! limit, into its own keyring; each distinct list of files (or `keyData`)
//! becomes one [`LoadedKeys`] shared by every requirement naming it: the
//! certificates (revocations from every file of the list applied, in any
//! order: see [`crate::pgp::KeyMaterial`]), an error per unreadable file (the
//! evaluator rejects the requirement with it), a warning per file or
//! `keyData` that holds no usable key (reported, not fatal), and what
//! revocation-only files revoke. Memory grows with the distinct files and
//! lists, not with the requirements.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use crate::pgp::{KeyMaterial, Keyring};
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

/// Reads and parses key files, each at most once, and builds each distinct
/// requirement keyring once: requirements naming the same files (or the same
/// `keyData`) share one [`Keyring`], and keyrings of different file sets
/// share the parsed certificates. Memory grows with the distinct key files
/// and key sets, not with how often a policy names them.
pub(super) struct Loader {
    files: HashMap<PathBuf, Result<Parsed, String>>,
    /// Keys of `keyPath`/`keyPaths` lists already built, by the list.
    sets: HashMap<Vec<(String, PathBuf)>, LoadedKeys>,
    /// Keys of `keyData` already built, by the decoded bytes.
    datas: HashMap<Vec<u8>, LoadedKeys>,
    /// Files actually read (for tests of the cache).
    #[cfg_attr(not(test), allow(dead_code))]
    reads: usize,
}

impl Loader {
    pub(super) fn new() -> Loader {
        Loader {
            files: HashMap::new(),
            sets: HashMap::new(),
            datas: HashMap::new(),
            reads: 0,
        }
    }

    /// The keys in the files `paths` (written, resolved), imported into one
    /// keyring as gpgme imports them: certificates merged, and a revocation
    /// in any file applied to the key it revokes from any other.
    pub(super) fn load_paths(&mut self, paths: &[(String, PathBuf)]) -> LoadedKeys {
        if let Some(k) = self.sets.get(paths) {
            return k.clone();
        }
        let mut sources = Vec::new();
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        for (written, resolved) in paths {
            let origin = format!("key file {}", describe(written, resolved));
            match self.file(resolved) {
                Ok(Parsed::Material(m)) => sources.push((origin, m.clone())),
                Ok(Parsed::NoKey(why)) => warnings.push(format!(
                    "{origin} holds no usable OpenPGP key ({why}); it is ignored, as containers/image (gpgme) ignores it"
                )),
                Err(e) => errors.push(format!("{origin}: {e}")),
            }
        }
        let keys = build(&sources, errors, warnings);
        self.sets.insert(paths.to_vec(), keys.clone());
        keys
    }

    /// The keys in decoded `keyData`.
    pub(super) fn load_data(&mut self, data: &[u8]) -> LoadedKeys {
        if let Some(k) = self.datas.get(data) {
            return k.clone();
        }
        let keys = match parse(data) {
            Parsed::Material(s) => build(&[("keyData".to_owned(), s)], Vec::new(), Vec::new()),
            Parsed::NoKey(why) => build(
                &[],
                Vec::new(),
                vec![format!("keyData holds no usable OpenPGP key ({why})")],
            ),
        };
        self.datas.insert(data.to_vec(), keys.clone());
        keys
    }

    fn file(&mut self, path: &Path) -> &Result<Parsed, String> {
        if !self.files.contains_key(path) {
            self.reads += 1;
            let result = read_limited(path, MAX_KEY_FILE_SIZE).map(|bytes| parse(&bytes));
            self.files.insert(path.to_path_buf(), result);
        }
        &self.files[path]
    }
}

/// What a readable key file or `keyData` holds.
enum Parsed {
    /// Certificates and/or revocations, and the keyring of them alone.
    Material(Source),
    /// Nothing importable, and why.
    NoKey(String),
}

/// One key file's (or `keyData`'s) material and its own keyring, built once.
#[derive(Clone)]
struct Source {
    material: Arc<KeyMaterial>,
    keyring: Arc<Keyring>,
}

fn parse(bytes: &[u8]) -> Parsed {
    match KeyMaterial::parse(bytes) {
        Ok(m) => {
            let mut keyring = Keyring::new();
            keyring.add_material(&m);
            Parsed::Material(Source {
                material: Arc::new(m),
                keyring: Arc::new(keyring),
            })
        }
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

/// One keyring of everything in `sources` (each named for messages):
/// copies of one certificate merged, as a GnuPG import does (see
/// [`Keyring::add`]), every revocation applied to the certificate it revokes
/// whichever source holds it. A source holding only revocations is said
/// (a warning when it revokes nothing here); each certificate revoked by
/// another source than its own is recorded in [`LoadedKeys::revoked_by`].
fn build(sources: &[(String, Source)], errors: Vec<String>, mut warnings: Vec<String>) -> LoadedKeys {
    // The common case: files that share no key and revoke nothing of one
    // another: one keyring over theirs, sharing their indexes.
    let own: Vec<&Keyring> = sources.iter().map(|(_, s)| &*s.keyring).collect();
    let layered = match own.as_slice() {
        [_] => Some(Arc::clone(&sources[0].1.keyring)),
        _ => Keyring::layered(&own).map(Arc::new),
    };
    if let Some(keyring) = layered {
        for (origin, s) in sources {
            let m = &s.material;
            if m.only_revocations() {
                let n = m.revocations.len();
                warnings.push(format!(
                    "{origin} holds no key, only {n} revocation signature(s), none of which revokes a key of this requirement; it changes nothing"
                ));
            }
        }
        return LoadedKeys {
            keyring,
            errors,
            warnings,
            notes: Vec::new(),
            revoked_by: Vec::new(),
        };
    }
    let mut keyring = Keyring::new();
    for (_, s) in sources {
        keyring.add_shared(s.material.certs.iter().cloned());
    }
    let mut revoked_by = Vec::new();
    let mut notes = Vec::new();
    for (origin, s) in sources {
        let m = &s.material;
        if m.revocations.is_empty() {
            continue;
        }
        let applied = keyring.add_revocations(&m.revocations);
        let own: Vec<_> = m.certs.iter().map(|c| c.fingerprint()).collect();
        let mut hits: Vec<String> = Vec::new();
        for fpr in applied.iter().flatten() {
            let hex = fpr.to_hex();
            if !own.contains(fpr)
                && !revoked_by
                    .iter()
                    .any(|(f, o): &(String, String)| *f == hex && o == origin)
            {
                revoked_by.push((hex.clone(), origin.clone()));
            }
            if !hits.contains(&hex) {
                hits.push(hex);
            }
        }
        if m.only_revocations() {
            let n = m.revocations.len();
            if hits.is_empty() {
                warnings.push(format!(
                    "{origin} holds no key, only {n} revocation signature(s), none of which revokes a key of this requirement; it changes nothing"
                ));
            } else {
                notes.push(format!(
                    "{origin} holds no key, only {n} revocation signature(s): it revokes {} (applied whatever the order of the files)",
                    hits.join(", ")
                ));
            }
        }
    }
    LoadedKeys {
        keyring: Arc::new(keyring),
        errors,
        warnings,
        notes,
        revoked_by,
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
        // Requirements naming the same files (or the same keyData) share one keyring.
        assert!(Arc::ptr_eq(&l.load_paths(&paths).keyring, &k.keyring));
        assert!(Arc::ptr_eq(&l.load_paths(&paths[..1]).keyring, &k2.keyring));
        let data = std::fs::read(&armored).unwrap();
        let d1 = l.load_data(&data);
        assert!(Arc::ptr_eq(&l.load_data(&data).keyring, &d1.keyring));
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
