//! Writing into a tree that others may also write to (a shared lookaside or
//! mirror), without ever following a symbolic link inside it.
//!
//! [`create_dir_below`] opens the root the user named (following symlinks
//! there: naming a symlink is the user's choice), then creates and opens
//! every component below it with `mkdirat` + `openat(O_NOFOLLOW |
//! O_DIRECTORY)`, each relative to the descriptor of the one before. A
//! symlink anywhere below the root is refused ([`BelowError::Symlink`]), so
//! whoever can write into the tree cannot steer where a more privileged
//! signer or fetcher writes. The files are then created relative to the
//! final directory's descriptor: a temporary file with `O_CREAT | O_EXCL`
//! (which never follows a symlink), hard-linked to its final name with
//! `linkat` (which never replaces anything), existing files read with
//! `O_NOFOLLOW`. Renaming a directory of the path meanwhile cannot redirect
//! the writes either: they go to the directory already opened.
//!
//! Temporary files are named `.imgsig-XXXXXX.tmp` (six ASCII letters or
//! digits). Their writer holds an exclusive `flock(2)` on each while it exists
//! ([`claim_temp`]); the kernel drops it when the process ends, however it
//! ends. A process killed between creating one and removing it leaves it
//! behind; every later write into the same directory removes those whose lock
//! is free ([`clean_stale_temps`]; on a filesystem without `flock`, those
//! older than [`STALE_TEMP_AGE`]): only regular files, only that exact naming,
//! never through a symlink.

use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;

use crate::shown::shown;

/// How old a leftover temporary file must be before a later write removes it
/// without looking at its lock (see [`clean_stale_temps`]): far longer than any
/// write takes (a few MiB, flushed), so a parallel writer's file in progress is
/// never taken.
pub const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);

const TEMP_PREFIX: &str = ".imgsig-";
const TEMP_SUFFIX: &str = ".tmp";
const TEMP_RANDOM: usize = 6;

/// Why a directory below a root could not be opened for writing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BelowError {
    #[error(
        "{} is a symbolic link inside {}; refusing to follow it (a link inside a shared tree could send \
         the files anywhere): replace it with a real directory",
        shown(path),
        shown(root)
    )]
    Symlink { path: PathBuf, root: PathBuf },
    #[error("{what} {}", shown(path))]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// A directory opened by [`create_dir_below`]: files are made relative to its descriptor.
#[derive(Debug)]
pub struct DirBelow {
    path: PathBuf,
    fd: OwnedFd,
}

/// Create (mode 0755 before umask) and open `root/rel`: `root` and its parents as
/// the user named them (symlinks followed), every component of `rel` without
/// following a symlink. `rel` must consist of normal components only. Stale
/// temporary files in the final directory are removed ([`clean_stale_temps`]).
/// When this fails part way (a link, a name too long for the filesystem), the
/// directories it created below `root` are removed again: a failed write leaves
/// no empty directories behind.
pub fn create_dir_below(root: &Path, rel: &Path) -> Result<DirBelow, BelowError> {
    fn io<'p>(what: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> BelowError + 'p {
        move |source| BelowError::Io {
            what,
            path: path.to_owned(),
            source,
        }
    }
    let root_existed = root.symlink_metadata().is_ok();
    super::create_dirs(root).map_err(io("creating directory", root))?;
    let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = rustix::fs::open(root, dir_flags, Mode::empty()).map_err(|e| io("opening", root)(e.into()))?;
    // The directories opened so far, each with the name it has in the one before and
    // whether this call created it.
    let mut opened: Vec<(OwnedFd, &std::ffi::OsStr, bool)> = vec![(fd, std::ffi::OsStr::new(""), false)];
    let mut path = root.to_owned();
    let result = (|| {
        for c in rel.components() {
            let Component::Normal(name) = c else {
                return Err(io("refusing a path with a non-plain component:", rel)(
                    io::ErrorKind::InvalidInput.into(),
                ));
            };
            path.push(name);
            let parent = &opened.last().expect("the root is opened").0;
            let created = match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o755)) {
                Ok(()) => true,
                Err(Errno::EXIST) => false,
                Err(e) => return Err(io("creating directory", &path)(e.into())),
            };
            match rustix::fs::openat(parent, name, dir_flags | OFlags::NOFOLLOW, Mode::empty()) {
                Ok(next) => opened.push((next, name, created)),
                Err(e) => {
                    let link = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)
                        .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink);
                    if link {
                        return Err(BelowError::Symlink {
                            path: path.clone(),
                            root: root.to_owned(),
                        });
                    }
                    return Err(io("opening directory", &path)(e.into()));
                }
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        // Innermost first; `rmdir` removes only what is still empty (a parallel writer
        // may have put a file in meanwhile: then it stays).
        for i in (1..opened.len()).rev() {
            if opened[i].2 {
                let _ = rustix::fs::unlinkat(&opened[i - 1].0, opened[i].1, AtFlags::REMOVEDIR);
            }
        }
        if !root_existed {
            let _ = fs::remove_dir(root);
        }
        return Err(e);
    }
    let (fd, _, _) = opened.pop().expect("the root is opened");
    clean_stale_temps(fd.as_fd(), SystemTime::now());
    Ok(DirBelow { path, fd })
}

impl DirBelow {
    /// The directory's path (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory's descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Open the existing file `name` for reading, never through a symlink
    /// (`ELOOP`); `Ok(None)` if there is none.
    pub fn open_existing(&self, name: &str) -> io::Result<Option<fs::File>> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => Ok(Some(fs::File::from(fd))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// `bytes` in a new, flushed temporary file (mode 0644 before umask) in this
    /// directory, removed when the returned value is dropped.
    pub fn write_temp(&self, bytes: &[u8]) -> io::Result<TempBelow<'_>> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut attempts = 0;
        let (name, fd) = loop {
            let name = temp_name();
            match rustix::fs::openat(&self.fd, name.as_str(), flags, Mode::from_raw_mode(0o644)) {
                Ok(fd) if claim_temp(self.fd.as_fd(), Path::new(&name), fd.as_fd()) => break (name, fd),
                // Taken by a cleaner between our create and our lock: gone; make another.
                Ok(_) if attempts < 100 => attempts += 1,
                Err(Errno::EXIST) if attempts < 100 => attempts += 1,
                Ok(_) => return Err(io::Error::other("cannot keep a temporary file")),
                Err(e) => return Err(e.into()),
            }
        };
        let mut file = fs::File::from(fd);
        file.write_all(bytes)?;
        file.sync_all()?;
        Ok(TempBelow {
            dir: self,
            name,
            _held: file,
        })
    }

    /// Make new entries durable; best effort (some filesystems refuse to fsync a directory).
    pub fn sync(&self) {
        let _ = rustix::fs::fsync(&self.fd);
    }
}

/// A temporary file made by [`DirBelow::write_temp`]; removed on drop.
#[derive(Debug)]
pub struct TempBelow<'a> {
    dir: &'a DirBelow,
    name: String,
    /// Open (and so locked, see [`claim_temp`]) until the temporary name is removed.
    _held: fs::File,
}

impl TempBelow<'_> {
    /// Give the file the name `name` too (a hard link): fails with `AlreadyExists`
    /// if anything, even a dangling symlink, already has that name.
    pub fn link_as(&self, name: &str) -> io::Result<()> {
        rustix::fs::linkat(&self.dir.fd, self.name.as_str(), &self.dir.fd, name, AtFlags::empty())
            .map_err(io::Error::from)
    }
}

impl TempBelow<'_> {
    /// Move the file to the name `name`, replacing whatever file had it (an atomic
    /// rename within the directory; a symlink at `name` is replaced, never followed).
    pub fn rename_as(self, name: &str) -> io::Result<()> {
        rustix::fs::renameat(&self.dir.fd, self.name.as_str(), &self.dir.fd, name).map_err(io::Error::from)
        // Dropping `self` then finds no file under the temporary name.
    }
}

impl Drop for TempBelow<'_> {
    fn drop(&mut self) {
        let _ = rustix::fs::unlinkat(&self.dir.fd, self.name.as_str(), AtFlags::empty());
    }
}

/// A fresh `.imgsig-XXXXXX.tmp` name (the letters from the standard library's
/// per-process random hash keys, the time and a counter; `O_EXCL` makes the
/// choice safe whatever they are).
fn temp_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    let mut x = h.finish();
    let mut name = String::from(TEMP_PREFIX);
    for _ in 0..TEMP_RANDOM {
        name.push(char::from(ALPHABET[(x % ALPHABET.len() as u64) as usize]));
        x /= ALPHABET.len() as u64;
    }
    name.push_str(TEMP_SUFFIX);
    name
}

/// Whether `name` is exactly the naming of our temporary files:
/// `.imgsig-` + six ASCII letters or digits + `.tmp`.
pub fn is_temp_name(name: &[u8]) -> bool {
    name.len() == TEMP_PREFIX.len() + TEMP_RANDOM + TEMP_SUFFIX.len()
        && name.starts_with(TEMP_PREFIX.as_bytes())
        && name.ends_with(TEMP_SUFFIX.as_bytes())
        && name[TEMP_PREFIX.len()..TEMP_PREFIX.len() + TEMP_RANDOM]
            .iter()
            .all(u8::is_ascii_alphanumeric)
}

/// Mark the temporary file `name` in `dir`, just created as `file`, as being written by a
/// live process: an exclusive `flock(2)` held as long as `file` is open, released by the
/// kernel when the process ends however it ends. `false` if a cleaner took the file
/// between its creation and the lock (the name no longer leads to `file`): make another.
/// Where the filesystem has no `flock`, the file is kept unmarked (only age then tells a
/// leftover, see [`clean_stale_temps`]).
pub fn claim_temp(dir: BorrowedFd<'_>, name: &Path, file: BorrowedFd<'_>) -> bool {
    use rustix::fs::{flock, fstat, statat, FlockOperation};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(Errno::WOULDBLOCK) => return false,
        Err(_) => return true,
    }
    match (fstat(file), statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)) {
        (Ok(mine), Ok(named)) => mine.st_dev == named.st_dev && mine.st_ino == named.st_ino,
        _ => false,
    }
}

/// How long after its last change a temporary file with no live writer (no lock, see
/// [`claim_temp`]) is removed: a writer of an older imgsig, which does not lock, finishes
/// a write in far less.
pub const ABANDONED_TEMP_AGE: Duration = Duration::from_secs(2);

/// Remove the temporary files of our naming ([`is_temp_name`]) in `dir` that are regular
/// files (looked at without following symlinks) left by a writer that is gone: not locked
/// by a live writer ([`claim_temp`]) and last modified more than [`ABANDONED_TEMP_AGE`]
/// before `now`, or, where the lock cannot be tested (a filesystem without `flock`), more
/// than [`STALE_TEMP_AGE`] before `now`. Best effort; returns how many were removed.
pub fn clean_stale_temps(dir: BorrowedFd<'_>, now: SystemTime) -> usize {
    let Ok(mut entries) = rustix::fs::Dir::read_from(dir) else {
        return 0;
    };
    let secs_before = |age: Duration| {
        now.checked_sub(age)
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(i64::MIN, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    };
    let (stale, abandoned) = (secs_before(STALE_TEMP_AGE), secs_before(ABANDONED_TEMP_AGE));
    let mut removed = 0;
    while let Some(Ok(entry)) = entries.read() {
        let name = entry.file_name();
        if !is_temp_name(name.to_bytes()) {
            continue;
        }
        let Ok(st) = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile || st.st_mtime >= abandoned {
            continue;
        }
        let gone = st.st_mtime < stale || writer_gone(dir, name, &st);
        if gone && rustix::fs::unlinkat(dir, name, AtFlags::empty()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Whether the temporary file `name` (found as `st`) has no live writer: its lock can be
/// taken. Another cleaner may take it too; the writer, once gone, never comes back.
fn writer_gone(dir: BorrowedFd<'_>, name: &std::ffi::CStr, st: &rustix::fs::Stat) -> bool {
    use rustix::fs::{flock, fstat, FlockOperation};
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let Ok(fd) = rustix::fs::openat(dir, name, flags, Mode::empty()) else {
        return false;
    };
    let same = fstat(&fd).is_ok_and(|now| now.st_dev == st.st_dev && now.st_ino == st.st_ino);
    // Unlocked once taken; dropping `fd` releases it.
    same && flock(&fd, FlockOperation::NonBlockingLockExclusive).is_ok()
}

/// [`clean_stale_temps`] in the directory `dir`, opened by path (for writers that
/// write by path, e.g. `-o FILE`).
pub fn clean_stale_temps_in(dir: &Path) -> usize {
    match rustix::fs::openat(
        CWD,
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => clean_stale_temps(fd.as_fd(), SystemTime::now()),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_match_their_pattern_and_nothing_else() {
        let n = temp_name();
        assert!(is_temp_name(n.as_bytes()), "{n}");
        assert_ne!(temp_name(), temp_name());
        for other in [
            ".imgsig-abc.tmp",
            ".imgsig-abcdefg.tmp",
            ".imgsig-abc-ef.tmp",
            "imgsig-abcdef.tmp",
            ".imgsig-abcdef.tmp~",
            "signature-1",
            "manifest.json",
        ] {
            assert!(!is_temp_name(other.as_bytes()), "{other}");
        }
    }

    #[test]
    fn symlinks_below_the_root_are_refused_the_root_itself_followed() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        fs::create_dir(&outside).unwrap();
        let real_root = t.path().join("real");
        fs::create_dir(&real_root).unwrap();
        let root = t.path().join("root-link");
        std::os::unix::fs::symlink(&real_root, &root).unwrap();
        // The root may be a symlink.
        let d = create_dir_below(&root, Path::new("a/b")).unwrap();
        assert_eq!(d.path(), root.join("a/b"));
        assert!(real_root.join("a/b").is_dir());
        // A symlink below it may not, wherever it is.
        std::os::unix::fs::symlink(&outside, real_root.join("a/l")).unwrap();
        for rel in ["a/l", "a/l/x", "a/l/x/y"] {
            let e = create_dir_below(&root, Path::new(rel)).unwrap_err();
            assert!(
                matches!(&e, BelowError::Symlink { path, .. } if *path == root.join("a/l")),
                "{e}"
            );
        }
        // Dangling too.
        std::os::unix::fs::symlink(t.path().join("nowhere"), real_root.join("dangling")).unwrap();
        let e = create_dir_below(&root, Path::new("dangling/x")).unwrap_err();
        assert!(matches!(e, BelowError::Symlink { .. }), "{e}");
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
        assert!(!t.path().join("nowhere").exists());
    }

    #[test]
    fn temp_files_are_linked_never_replacing_and_removed() {
        let t = tempfile::tempdir().unwrap();
        let d = create_dir_below(t.path(), Path::new("x")).unwrap();
        std::os::unix::fs::symlink(t.path().join("target"), t.path().join("x/taken")).unwrap();
        {
            let temp = d.write_temp(b"data").unwrap();
            temp.link_as("new").unwrap();
            assert_eq!(temp.link_as("new").unwrap_err().kind(), io::ErrorKind::AlreadyExists);
            assert_eq!(temp.link_as("taken").unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        }
        assert!(!t.path().join("target").exists());
        assert_eq!(fs::read(t.path().join("x/new")).unwrap(), b"data");
        let names: Vec<_> = fs::read_dir(t.path().join("x"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(d.open_existing("taken").is_err(), "a symlink is not opened");
        assert!(d.open_existing("missing").unwrap().is_none());
    }
}
