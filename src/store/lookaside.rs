//! The lookaside layout (simple-signing.md §6.4, c/image `lookasideStorageURL` and
//! docs/signature-protocols.md) and operations on a local lookaside directory.
//!
//! A signature of manifest `algo:hex` of repository `path` lives at
//! `<base>/<path>@<algo>=<hex>/signature-<N>`, N = 1, 2, … without padding; readers stop at
//! the first missing N.
//!
//! Writing differs from c/image on purpose. c/image rewrites the whole list
//! (`signature-1..K`, overwriting) and deletes `signature-K+1…`; two writers racing on one
//! directory can then lose each other's signatures, and an interrupted write can leave a
//! truncated file. [`store_signature`] never overwrites or deletes: it writes the new
//! signature to a temporary file in the same directory, flushes it, and claims the first free
//! `signature-N` with a hard link, which fails instead of replacing an existing name. So a
//! `signature-N` is always complete, and parallel writers each get their own N. A kill at the
//! wrong moment can leave a `.imgsig-*.tmp` file behind; it is ignored by readers and safe to
//! delete. The filesystem must support hard links (local filesystems and NFS do).

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use reqwest::Url;

use crate::digest::Digest;
use crate::files;
use crate::reference::DockerReference;

/// c/image `maxLookasideSignatures`: reading fails once this many signatures exist, so at
/// most `MAX_SIGNATURES - 1` are usable and [`store_signature`] never creates the last one.
pub use crate::limits::MAX_SIGNATURES;
/// c/image `iolimits.MaxSignatureBodySize`.
pub const MAX_SIGNATURE_SIZE: u64 = crate::limits::MAX_SIGNATURE_SIZE as u64;

/// Why a lookaside operation failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LookasideError {
    #[error("{what} {}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{} holds {MAX_SIGNATURES} or more signatures, assuming that's unreasonable \
         (containers/image refuses to read that many)",
        dir.display()
    )]
    TooManySignatures { dir: PathBuf },
    #[error("refusing to store a signature of {size} bytes (readers accept at most {MAX_SIGNATURE_SIZE})")]
    SignatureTooLarge { size: usize },
    #[error("refusing to store an empty signature")]
    EmptySignature,
    #[error("{} already exists with different contents; not overwriting it", path.display())]
    DifferentContents { path: PathBuf },
    #[error(
        "{url} is not a local file: URL; writing directly to a remote lookaside is not supported \
         (configure a lookaside-staging: file:///… location in registries.d)"
    )]
    NotLocal { url: String },
}

/// Why one signature file could not be used (the others still can).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadProblem {
    #[error("signature is larger than {limit} bytes")]
    TooLarge { limit: u64 },
}

/// One `signature-N` found by [`read_dir_signatures`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirSignature {
    /// N, starting at 1.
    pub index: usize,
    pub path: PathBuf,
    pub contents: Result<Vec<u8>, ReadProblem>,
}

/// What [`store_signature`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    /// Stored as `signature-N`.
    Written(usize),
    /// The same bytes already were `signature-N`; nothing was written.
    AlreadyPresent(usize),
}

/// The URL of signature `n` (from 1) of manifest `digest` of `r` under the top-level lookaside
/// `base`: the base path, `/`, `r.path()`, `@algo=hex/signature-n`, concatenated without
/// cleaning, so a base ending in `/` gives a double slash as in c/image.
///
/// One unavoidable exception: a WHATWG URL cannot tell `https://host` (empty path in Go)
/// from `https://host/`, both have the path `/`. That path is treated as empty, giving
/// `https://host/<path>@…` — what c/image produces for the more common form without the
/// slash; for `https://host/` c/image would request `https://host//<path>@…`.
pub fn signature_url(base: &Url, r: &DockerReference, digest: &Digest, n: usize) -> Url {
    let base_path = match base.path() {
        "/" => "",
        p => p,
    };
    let mut url = base.clone();
    url.set_path(&format!(
        "{base_path}/{}@{}={}/signature-{n}",
        checked_repo_path(r),
        digest.algorithm().name(),
        digest.hex()
    ));
    url
}

/// The per-image directory of a `file:` lookaside base, i.e. the directory holding the
/// `signature-N` files of [`signature_url`]. Other schemes (and `file://host/…`) are refused.
pub fn file_image_dir(base: &Url, r: &DockerReference, digest: &Digest) -> Result<PathBuf, LookasideError> {
    let not_local = || LookasideError::NotLocal { url: base.to_string() };
    if base.scheme() != "file" {
        return Err(not_local());
    }
    let first = signature_url(base, r, digest, 1)
        .to_file_path()
        .map_err(|()| not_local())?;
    first.parent().map(Path::to_path_buf).ok_or_else(not_local)
}

/// The per-image directory under a local root: `root/<r.path()>@<algo>=<hex>`.
pub fn image_dir(root: &Path, r: &DockerReference, digest: &Digest) -> PathBuf {
    let dir = root.join(format!(
        "{}@{}={}",
        checked_repo_path(r),
        digest.algorithm().name(),
        digest.hex()
    ));
    // Only normal components were added, so the result cannot leave `root`.
    assert!(dir
        .strip_prefix(root)
        .is_ok_and(|rel| rel.components().all(|c| matches!(c, Component::Normal(_)))));
    dir
}

/// `r.path()`, after asserting the grammar's guarantee that it has no empty, `.` or `..`
/// component (c/image checks `path.Clean(repo) == repo` for the same reason).
fn checked_repo_path(r: &DockerReference) -> &str {
    let p = r.path();
    assert!(
        p.split('/').all(|c| !c.is_empty() && c != "." && c != ".."),
        "docker reference path {p:?} has an unexpected component"
    );
    p
}

/// Read `dir/signature-1`, `signature-2`, … up to the first missing one. A missing `dir`
/// gives an empty list. Entries over [`MAX_SIGNATURE_SIZE`] are returned as
/// [`ReadProblem::TooLarge`]; other I/O errors, non-regular files, and
/// [`MAX_SIGNATURES`] or more signatures fail the whole read.
pub fn read_dir_signatures(dir: &Path) -> Result<Vec<DirSignature>, LookasideError> {
    ImageDir::open(dir)
        .map_err(|source| io_err("opening", dir, source))?
        .signatures()
}

/// One image's directory in a local lookaside or mirror, opened once: its files are then
/// opened relative to it, so the path is walked once per image rather than once per file
/// (bulk verification reads three files per image).
#[derive(Debug)]
pub struct ImageDir {
    path: PathBuf,
    /// `None` when the directory does not exist: every file in it is then missing.
    fd: Option<rustix::fd::OwnedFd>,
}

impl ImageDir {
    /// Open `path` (not an error if it does not exist).
    pub fn open(path: &Path) -> io::Result<ImageDir> {
        use rustix::fs::{Mode, OFlags};
        #[cfg(any(target_os = "linux", target_os = "android"))]
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = match rustix::fs::open(path, flags, Mode::empty()) {
            Ok(fd) => Some(fd),
            Err(rustix::io::Errno::NOENT) => None,
            Err(e) => return Err(e.into()),
        };
        Ok(ImageDir {
            path: path.to_owned(),
            fd,
        })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read the file `name` in this directory: `Ok(None)` if it does not exist,
    /// `Ok(Some(Err(limit)))` if it is larger than `limit`; an error for anything but a
    /// regular file.
    ///
    /// A regular file costs one `openat`, two `read`s and a `close`: it is opened
    /// non-blocking (a FIFO would otherwise block the open) and read, at most `limit + 1`
    /// bytes, into a buffer sized for a signature or manifest. Only when the read fails or
    /// hits the limit is the descriptor examined (no second lookup, no race) to tell "not a
    /// regular file" apart.
    pub fn read(&self, name: &str, limit: u64) -> io::Result<Option<Result<Vec<u8>, u64>>> {
        use rustix::fs::{Mode, OFlags};
        let Some(dir) = &self.fd else { return Ok(None) };
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let mut file = match rustix::fs::openat(dir, name, flags, Mode::empty()) {
            Ok(fd) => fs::File::from(fd),
            Err(rustix::io::Errno::NOENT) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        files::read_open_file(&mut file, limit)
    }

    /// `signature-1`, `signature-2`, … up to the first missing one; see
    /// [`read_dir_signatures`].
    pub fn signatures(&self) -> Result<Vec<DirSignature>, LookasideError> {
        self.signatures_with_prefix("")
    }

    /// `{prefix}signature-1`, `{prefix}signature-2`, … up to the first missing one (a
    /// `dir:` image keeps a multi-platform image's instance signatures as
    /// `<hex>.signature-N`).
    pub fn signatures_with_prefix(&self, prefix: &str) -> Result<Vec<DirSignature>, LookasideError> {
        let mut out = Vec::new();
        for index in 1.. {
            let name = format!("{prefix}signature-{index}");
            let contents = match self.read(&name, MAX_SIGNATURE_SIZE) {
                Ok(None) => break,
                Ok(Some(Ok(bytes))) => Ok(bytes),
                Ok(Some(Err(limit))) => Err(ReadProblem::TooLarge { limit }),
                Err(source) => return Err(io_err("reading", &self.path.join(&name), source)),
            };
            if index >= MAX_SIGNATURES {
                return Err(LookasideError::TooManySignatures { dir: self.path.clone() });
            }
            out.push(DirSignature {
                index,
                path: self.path.join(name),
                contents,
            });
        }
        Ok(out)
    }
}

/// Store a new signature in `dir` (created with parents, mode 0755) as the first free
/// `signature-N` (mode 0644 before umask), never overwriting or deleting anything; see the
/// module docs. Bytes equal to an existing readable `signature-K` give `AlreadyPresent(K)`.
/// Two writers storing the same bytes at the same moment may both succeed (a harmless
/// duplicate); different signatures are never lost.
pub fn store_signature(dir: &Path, bytes: &[u8]) -> Result<StoreOutcome, LookasideError> {
    if bytes.is_empty() {
        return Err(LookasideError::EmptySignature);
    }
    if bytes.len() as u64 > MAX_SIGNATURE_SIZE {
        return Err(LookasideError::SignatureTooLarge { size: bytes.len() });
    }
    create_dirs(dir)?;
    let existing = read_dir_signatures(dir)?;
    if let Some(s) = existing.iter().find(|s| s.contents.as_deref() == Ok(bytes)) {
        return Ok(StoreOutcome::AlreadyPresent(s.index));
    }
    let temp = write_temp(dir, bytes)?;
    let mut n = existing.len() + 1;
    loop {
        if n >= MAX_SIGNATURES {
            return Err(LookasideError::TooManySignatures { dir: dir.to_owned() });
        }
        let target = dir.join(format!("signature-{n}"));
        match fs::hard_link(temp.path(), &target) {
            Ok(()) => {
                sync_dir(dir);
                return Ok(StoreOutcome::Written(n));
            }
            // Taken meanwhile (by a parallel writer); maybe by the same signature.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if same_contents(&target, bytes).map_err(|e| io_err("reading", &target, e))? {
                    return Ok(StoreOutcome::AlreadyPresent(n));
                }
                n += 1;
            }
            Err(e) => return Err(io_err("creating", &target, e)),
        }
    }
}

/// Create `path` with `bytes` (parents created, mode 0755) unless it already exists with
/// exactly these bytes (`Ok(false)`); existing different contents are an error, never
/// overwritten. The file appears atomically and complete: it is written under a temporary
/// name in the same directory and then hard-linked into place (a rename would silently
/// replace a file created meanwhile by someone else).
pub fn write_new_file(path: &Path, bytes: &[u8]) -> Result<bool, LookasideError> {
    let differs = || LookasideError::DifferentContents { path: path.to_owned() };
    match same_contents(path, bytes) {
        Ok(true) => return Ok(false),
        Ok(false) => return Err(differs()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("reading", path, e)),
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    create_dirs(parent)?;
    let temp = write_temp(parent, bytes)?;
    match fs::hard_link(temp.path(), path) {
        Ok(()) => {
            sync_dir(parent);
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match same_contents(path, bytes) {
            Ok(true) => Ok(false),
            Ok(false) => Err(differs()),
            Err(e) => Err(io_err("reading", path, e)),
        },
        Err(e) => Err(io_err("creating", path, e)),
    }
}

fn io_err(what: &'static str, path: &Path, source: io::Error) -> LookasideError {
    LookasideError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}

/// Whether the existing file `path` holds exactly `bytes` (NotFound if it does not exist).
fn same_contents(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    match files::read_bounded(path, bytes.len() as u64)? {
        Some(Ok(existing)) => Ok(existing == bytes),
        Some(Err(_)) => Ok(false),
        None => Err(io::ErrorKind::NotFound.into()),
    }
}

fn create_dirs(dir: &Path) -> Result<(), LookasideError> {
    files::create_dirs(dir).map_err(|e| io_err("creating directory", dir, e))
}

/// `bytes` in a flushed `.imgsig-*.tmp` file in `dir` (removed when dropped).
fn write_temp(dir: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile, LookasideError> {
    files::write_temp(dir, bytes).map_err(|e| io_err("writing a temporary file in", dir, e))
}

use crate::files::sync_dir;

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "817a12c32a39bbe394944ba49de563e085f1d3c5266eb8e9723256bc4448680e";

    #[test]
    fn url_layout() {
        let r = DockerReference::parse_normalized("busybox").unwrap();
        let d = Digest::parse(&format!("sha256:{HEX}")).unwrap();
        let u = |base: &str, n| signature_url(&Url::parse(base).unwrap(), &r, &d, n).to_string();
        let tail = format!("library/busybox@sha256={HEX}/signature-");
        assert_eq!(u("file:///tmp", 2), format!("file:///tmp/{tail}2"));
        assert_eq!(u("https://h/x/", 1), format!("https://h/x//{tail}1"));
        assert_eq!(u("https://h", 1), format!("https://h/{tail}1"));
        assert_eq!(u("https://h/x?q=1", 1), format!("https://h/x/{tail}1?q=1"));
        let dir = file_image_dir(&Url::parse("file:///srv/s").unwrap(), &r, &d).unwrap();
        assert_eq!(dir, PathBuf::from(format!("/srv/s/library/busybox@sha256={HEX}")));
        for base in ["https://h/x", "file://host/x"] {
            let e = file_image_dir(&Url::parse(base).unwrap(), &r, &d).unwrap_err();
            assert!(matches!(e, LookasideError::NotLocal { .. }), "{base}");
        }
    }
}
