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
//! `signature-N` is always complete, and parallel writers each get their own N.
//!
//! A writer that first decides whether to add anything at all (`sign` skips an image this key
//! already signed for this identity; `fetch` skips a signature already there) holds an
//! exclusive `flock(2)` on the image's directory while it reads the existing signatures and
//! claims the next N ([`ImageWriter::lock`]), so that parallel runs of the same job add one
//! signature, not one each. The lock is advisory, held only for that read and link (never
//! while signing), released when the process ends however it ends, and leaves no file behind.
//! Where the filesystem has no `flock` on directories (some NFS setups), writing goes on
//! without it: different signatures are still never lost, but parallel runs of the same job
//! can then each add an equivalent signature. A kill at the
//! wrong moment can leave a `.imgsig-XXXXXX.tmp` file behind; readers ignore it, and the next
//! write into that directory removes it: its writer's lock on it is free
//! (`files::clean_stale_temps`, internal). The filesystem must support hard links (local
//! filesystems and NFS do).
//!
//! Writing never follows a symbolic link below the root the user named (the `--lookaside-dir`,
//! the `--to` mirror, the path of a `lookaside-staging: file:` URL): a lookaside or mirror is
//! often writable by others, and a `lab -> /elsewhere` link planted there would otherwise make a
//! more privileged signer or fetcher write wherever it points. [`ImageLocation::create`]
//! opens the image's directory component by component with `O_NOFOLLOW` and refuses a link
//! ([`LookasideError::Symlink`]); files are then made relative to that directory's descriptor.
//! c/image follows links here. Reading ([`ImageDir`]) does follow links, as c/image does: what
//! is read is verified (signatures cryptographically, manifests by digest), so a link can only
//! make verification fail or pick other files the policy then judges.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use reqwest::Url;

use crate::digest::Digest;
use crate::files::{self, BelowError, DirBelow};
use crate::reference::DockerReference;
use crate::shown::shown;
use crate::Reason;

/// c/image `maxLookasideSignatures`: reading fails once this many signatures exist, so at
/// most `MAX_SIGNATURES - 1` are usable and [`store_signature`] never creates the last one.
pub use crate::limits::MAX_SIGNATURES;
/// c/image `iolimits.MaxSignatureBodySize`.
pub const MAX_SIGNATURE_SIZE: u64 = crate::limits::MAX_SIGNATURE_SIZE as u64;

/// Why a lookaside operation failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LookasideError {
    /// A file or directory could not be opened, read or written.
    #[error("{what} {}", shown(path))]
    Io {
        /// What was being done, e.g. `creating` or `reading`.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// An image directory already holds [`MAX_SIGNATURES`] or more signatures.
    #[error(
        "{} holds {MAX_SIGNATURES} or more signatures, assuming that's unreasonable \
         (containers/image refuses to read that many)",
        shown(dir)
    )]
    TooManySignatures {
        /// The image directory.
        dir: PathBuf,
    },
    /// A signature to store is larger than [`MAX_SIGNATURE_SIZE`].
    #[error("refusing to store a signature of {size} bytes (readers accept at most {MAX_SIGNATURE_SIZE})")]
    SignatureTooLarge {
        /// Its size, in bytes.
        size: usize,
    },
    /// A signature to store is empty.
    #[error("refusing to store an empty signature")]
    EmptySignature,
    /// A file to write exists with other contents; it is left alone.
    #[error("{} already exists with different contents; not overwriting it", shown(path))]
    DifferentContents {
        /// The existing file.
        path: PathBuf,
    },
    /// The lookaside to write to is not a `file:` URL.
    #[error(
        "{} is not a local file: URL; writing directly to a remote lookaside is not supported \
         (configure a lookaside-staging: file:///… location in registries.d)",
        shown(url)
    )]
    NotLocal {
        /// The URL, as configured.
        url: String,
    },
    /// A symbolic link below the root (see the module docs): hostile or unusable input.
    #[error(
        "{} is a symbolic link inside {}; refusing to follow it (a link inside a shared lookaside or \
         mirror could send the files anywhere): replace it with a real directory",
        shown(path),
        shown(root)
    )]
    Symlink {
        /// The link.
        path: PathBuf,
        /// The root it lies below.
        root: PathBuf,
    },
}

impl LookasideError {
    /// Stable reason code: `unsafe-path` (a symlink in the tree), `name-too-long` (the
    /// repository name makes a file name longer than the filesystem allows), else `io-error`.
    pub fn code(&self) -> Reason {
        match self {
            LookasideError::Symlink { .. } => Reason::UnsafePath,
            LookasideError::Io { source, .. } if is_name_too_long(source) => Reason::NameTooLong,
            _ => Reason::IoError,
        }
    }

    /// Whether the user must fix the input (a symlink in the tree they named, a repository
    /// name too long for a file name) rather than retry (I/O failed): exit 2 rather than 3.
    pub fn is_user_error(&self) -> bool {
        self.code() != Reason::IoError
    }
}

/// `ENAMETOOLONG`: a file name (one component, or the whole path) longer than the
/// filesystem takes. Retrying cannot help.
fn is_name_too_long(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENAMETOOLONG)
}

impl From<BelowError> for LookasideError {
    fn from(e: BelowError) -> LookasideError {
        match e {
            BelowError::Symlink { path, root } => LookasideError::Symlink { path, root },
            BelowError::Io { what, path, source } => LookasideError::Io { what, path, source },
        }
    }
}

/// Why one signature file could not be used (the others still can).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadProblem {
    /// The file is larger than [`MAX_SIGNATURE_SIZE`].
    #[error("signature is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
}

/// One `signature-N` found by [`read_dir_signatures`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirSignature {
    /// N, starting at 1.
    pub index: usize,
    /// The file.
    pub path: PathBuf,
    /// Its bytes, or why they could not be used.
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

/// Where one image's signatures (and, in a mirror, its manifest) live under a local root:
/// the root the user named, and the image's directory below it,
/// `<r.path()>@<algo>=<hex>`. Reading uses [`ImageLocation::path`]; writing goes through
/// [`ImageLocation::create`], which never follows a symlink below the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLocation {
    root: PathBuf,
    rel: PathBuf,
    path: PathBuf,
}

impl ImageLocation {
    /// The image's directory under the local root `root`.
    pub fn new(root: &Path, r: &DockerReference, digest: &Digest) -> ImageLocation {
        let rel = PathBuf::from(format!(
            "{}@{}={}",
            checked_repo_path(r),
            digest.algorithm().name(),
            digest.hex()
        ));
        // Only normal components, so the result cannot leave `root`.
        assert!(rel.components().all(|c| matches!(c, Component::Normal(_))));
        ImageLocation {
            path: root.join(&rel),
            root: root.to_owned(),
            rel,
        }
    }

    /// The image's directory under a `file:` lookaside base, i.e. the directory of the
    /// `signature-N` files of [`signature_url`] (the base's path is the root). Other schemes
    /// (and `file://host/…`) are refused.
    pub fn from_file_url(base: &Url, r: &DockerReference, digest: &Digest) -> Result<ImageLocation, LookasideError> {
        let not_local = || LookasideError::NotLocal { url: base.to_string() };
        if base.scheme() != "file" {
            return Err(not_local());
        }
        let first = signature_url(base, r, digest, 1)
            .to_file_path()
            .map_err(|()| not_local())?;
        let dir = first.parent().ok_or_else(not_local)?;
        // `signature_url` appended `/<rel>/signature-1` to the base's path: the root is that path.
        let root = base.to_file_path().map_err(|()| not_local())?;
        Ok(ImageLocation {
            root,
            rel: ImageLocation::new(Path::new(""), r, digest).rel,
            path: dir.to_owned(),
        })
    }

    /// `dir` itself as the root, with nothing below it.
    fn root_only(dir: &Path) -> ImageLocation {
        ImageLocation {
            root: dir.to_owned(),
            rel: PathBuf::new(),
            path: dir.to_owned(),
        }
    }

    /// The image's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The root the user named.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Create the image's directory (mode 0755) and open it for writing: the root as named,
    /// every component below it without following a symlink (see the module docs).
    pub fn create(&self) -> Result<ImageWriter, LookasideError> {
        let dir = files::create_dir_below(&self.root, &self.rel)?;
        let fd = dir
            .fd()
            .try_clone_to_owned()
            .map_err(|e| io_err("opening", &self.path, e))?;
        Ok(ImageWriter {
            root: self.root.clone(),
            reader: ImageDir {
                path: self.path.clone(),
                fd: Some(fd),
                follow: false,
            },
            dir,
        })
    }
}

/// [`ImageWriter::store_signature`] into `dir`, created as named: all of `dir` counts as the
/// root, so links in it are followed. Use [`ImageLocation::create`] where only the root is
/// the user's choice and the rest of the path lies in a shared tree.
pub fn store_signature(dir: &Path, bytes: &[u8]) -> Result<StoreOutcome, LookasideError> {
    ImageLocation::root_only(dir).create()?.store_signature(bytes)
}

/// [`ImageWriter::write_new_file`] at `path`, its directory created as named (see
/// [`store_signature`]).
pub fn write_new_file(path: &Path, bytes: &[u8]) -> Result<bool, LookasideError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Err(io_err("creating", path, io::ErrorKind::InvalidInput.into()));
    };
    ImageLocation::root_only(parent).create()?.write_new_file(name, bytes)
}

/// The per-image directory of a `file:` lookaside base (see [`ImageLocation::from_file_url`]).
pub fn file_image_dir(base: &Url, r: &DockerReference, digest: &Digest) -> Result<PathBuf, LookasideError> {
    ImageLocation::from_file_url(base, r, digest).map(|l| l.path)
}

/// The per-image directory under a local root: `root/<r.path()>@<algo>=<hex>` (see
/// [`ImageLocation::new`]).
pub fn image_dir(root: &Path, r: &DockerReference, digest: &Digest) -> PathBuf {
    ImageLocation::new(root, r, digest).path
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
    /// Whether files are opened through symlinks (reading: yes; checking before a write: no).
    follow: bool,
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
            follow: true,
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
        let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
        if !self.follow {
            flags |= OFlags::NOFOLLOW;
        }
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

    /// The lowest `N` of a `{prefix}signature-N` past the first missing one, given that
    /// `read` signatures were read (up to the first missing one, as containers/image reads
    /// them): a file that is there but was not read. `None` when there is none, or when the
    /// directory does not exist or cannot be listed.
    pub fn first_unread_signature(&self, prefix: &str, read: usize) -> Option<usize> {
        self.fd.as_ref()?;
        fs::read_dir(&self.path)
            .ok()?
            .filter_map(|e| {
                e.ok()?
                    .file_name()
                    .to_str()?
                    .strip_prefix(prefix)?
                    .strip_prefix("signature-")?
                    .parse::<usize>()
                    .ok()
            })
            .filter(|&n| n > read + 1)
            .min()
    }

    /// The warning for `{prefix}signature-N` files past the first missing one, which are
    /// not read (see [`ImageDir::first_unread_signature`]): it names the first of them and
    /// why, or `None`. Every local form (`--signatures DIR`, a `dir:` image, a mirror image,
    /// a `file:` lookaside, given or from registries.d) says it the same way.
    pub fn unread_signatures_warning(&self, prefix: &str, read: usize) -> Option<String> {
        let first_after = self.first_unread_signature(prefix, read)?;
        Some(format!(
            "{}/{prefix}signature-{first_after} and later were not read: {prefix}signature-{} is missing, and signatures are read up to the first missing one (as containers/image reads them)",
            self.path.display(),
            read + 1
        ))
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

/// An image's directory opened for writing by [`ImageLocation::create`]; nothing written
/// through it follows a symlink.
#[derive(Debug)]
pub struct ImageWriter {
    root: PathBuf,
    dir: DirBelow,
    /// The same directory, for reading what is there (without following symlinks).
    reader: ImageDir,
}

impl ImageWriter {
    /// The directory's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Take the directory's writer lock (see the module docs), waiting for another writer
    /// to finish: what is read through the returned guard stays true until it has stored
    /// its signature. Where the filesystem cannot lock a directory, the guard holds no lock.
    pub fn lock(&self) -> LockedImage<'_> {
        use rustix::fs::{flock, FlockOperation};
        let locked = loop {
            match flock(self.dir.fd(), FlockOperation::LockExclusive) {
                Ok(()) => break true,
                Err(rustix::io::Errno::INTR) => continue,
                // ENOLCK, EOPNOTSUPP, EBADF (NFS emulating flock with fcntl locks): go on without.
                Err(e) => {
                    tracing::debug!("no lock on {}: {e}; writing without it", self.path().display());
                    break false;
                }
            }
        };
        LockedImage { writer: self, locked }
    }

    /// Store a new signature as the first free `signature-N` (mode 0644 before umask), never
    /// overwriting or deleting anything; see the module docs. Bytes equal to an existing
    /// readable `signature-K` give `AlreadyPresent(K)`. The directory's writer lock is held
    /// meanwhile ([`ImageWriter::lock`]); different signatures are never lost.
    pub fn store_signature(&self, bytes: &[u8]) -> Result<StoreOutcome, LookasideError> {
        self.lock().store_signature(bytes)
    }

    fn store_unlocked(&self, bytes: &[u8], existing: &[DirSignature]) -> Result<StoreOutcome, LookasideError> {
        if bytes.is_empty() {
            return Err(LookasideError::EmptySignature);
        }
        if bytes.len() as u64 > MAX_SIGNATURE_SIZE {
            return Err(LookasideError::SignatureTooLarge { size: bytes.len() });
        }
        if let Some(s) = existing.iter().find(|s| s.contents.as_deref() == Ok(bytes)) {
            return Ok(StoreOutcome::AlreadyPresent(s.index));
        }
        let temp = self.write_temp(bytes)?;
        let mut n = existing.len() + 1;
        loop {
            if n >= MAX_SIGNATURES {
                return Err(LookasideError::TooManySignatures {
                    dir: self.path().to_owned(),
                });
            }
            let name = format!("signature-{n}");
            match temp.link_as(&name) {
                Ok(()) => {
                    self.dir.sync();
                    return Ok(StoreOutcome::Written(n));
                }
                // Taken meanwhile (by a writer without the lock); maybe by the same signature.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if self.same_contents(&name, bytes)? == Some(true) {
                        return Ok(StoreOutcome::AlreadyPresent(n));
                    }
                    n += 1;
                }
                Err(e) => return Err(io_err("creating", &self.path().join(name), e)),
            }
        }
    }

    /// Create the file `name` with `bytes` unless it already exists with exactly these bytes
    /// (`Ok(false)`); existing different contents (or a symlink) are an error, never
    /// overwritten. The file appears atomically and complete: it is written under a temporary
    /// name and then hard-linked into place (a rename would silently replace a file created
    /// meanwhile by someone else).
    pub fn write_new_file(&self, name: &str, bytes: &[u8]) -> Result<bool, LookasideError> {
        let differs = || LookasideError::DifferentContents {
            path: self.path().join(name),
        };
        match self.same_contents(name, bytes)? {
            Some(true) => return Ok(false),
            Some(false) => return Err(differs()),
            None => {}
        }
        let temp = self.write_temp(bytes)?;
        match temp.link_as(name) {
            Ok(()) => {
                self.dir.sync();
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match self.same_contents(name, bytes)? {
                Some(true) => Ok(false),
                _ => Err(differs()),
            },
            Err(e) => Err(io_err("creating", &self.path().join(name), e)),
        }
    }

    /// Whether the existing file `name` holds exactly `bytes`; `None` if there is none. A
    /// symlink there is an error (`ELOOP`), not followed.
    fn same_contents(&self, name: &str, bytes: &[u8]) -> Result<Option<bool>, LookasideError> {
        match self.reader.read(name, bytes.len() as u64) {
            Ok(Some(Ok(existing))) => Ok(Some(existing == bytes)),
            Ok(Some(Err(_))) => Ok(Some(false)),
            Ok(None) => Ok(None),
            Err(e) => Err(self.link_refused(io_err("reading", &self.path().join(name), e))),
        }
    }

    /// A file that could not be opened because it is a symlink (`ELOOP` with `O_NOFOLLOW`)
    /// is [`LookasideError::Symlink`].
    fn link_refused(&self, e: LookasideError) -> LookasideError {
        match e {
            LookasideError::Io { path, source, .. } if source.raw_os_error() == Some(libc::ELOOP) => {
                LookasideError::Symlink {
                    path,
                    root: self.root.clone(),
                }
            }
            e => e,
        }
    }

    fn write_temp(&self, bytes: &[u8]) -> Result<files::TempBelow<'_>, LookasideError> {
        self.dir
            .write_temp(bytes)
            .map_err(|e| io_err("writing a temporary file in", self.path(), e))
    }
}

/// An image directory's writer lock, taken by [`ImageWriter::lock`] and released when dropped.
#[derive(Debug)]
pub struct LockedImage<'a> {
    writer: &'a ImageWriter,
    locked: bool,
}

impl LockedImage<'_> {
    /// The directory's path.
    pub fn path(&self) -> &Path {
        self.writer.path()
    }

    /// Whether the lock is really held (false where the filesystem cannot lock a directory).
    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// The directory's `signature-1`, `signature-2`, … (see [`read_dir_signatures`]), read
    /// without following a symlink.
    pub fn signatures(&self) -> Result<Vec<DirSignature>, LookasideError> {
        self.writer.reader.signatures().map_err(|e| self.writer.link_refused(e))
    }

    /// [`ImageWriter::store_signature`] under this lock.
    pub fn store_signature(&self, bytes: &[u8]) -> Result<StoreOutcome, LookasideError> {
        let existing = self.signatures()?;
        self.writer.store_unlocked(bytes, &existing)
    }
}

impl Drop for LockedImage<'_> {
    fn drop(&mut self) {
        if self.locked {
            let _ = rustix::fs::flock(self.writer.dir.fd(), rustix::fs::FlockOperation::Unlock);
        }
    }
}

fn io_err(what: &'static str, path: &Path, source: io::Error) -> LookasideError {
    LookasideError::Io {
        what,
        path: path.to_owned(),
        source,
    }
}

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
        for base in ["file:///srv/s", "file:///srv/s/"] {
            let at = ImageLocation::from_file_url(&Url::parse(base).unwrap(), &r, &d).unwrap();
            assert_eq!(at.root().to_str().unwrap().trim_end_matches('/'), "/srv/s", "{base}");
            assert_eq!(
                at,
                ImageLocation {
                    path: at.path.clone(),
                    ..ImageLocation::new(at.root(), &r, &d)
                }
            );
        }
        for base in ["https://h/x", "file://host/x"] {
            let e = file_image_dir(&Url::parse(base).unwrap(), &r, &d).unwrap_err();
            assert!(matches!(e, LookasideError::NotLocal { .. }), "{base}");
        }
    }
}
