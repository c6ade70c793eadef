//! The one bounded file reader and the one atomic writer, used by every
//! part of the library and the command line that reads or writes files.
//!
//! Reading: at most `limit + 1` bytes are read, so a huge file costs no
//! memory. Every file is opened non-blocking, so opening a FIFO that has no
//! writer cannot hang. Two readers differ in what they accept:
//! - [`read_bounded`], for a file someone named (on the command line, in an
//!   environment variable, in a policy's `keyPath`, a configuration file's
//!   path): a regular file, or a FIFO or character device, so that
//!   `--policy <(…)` and `/dev/stdin` work. A FIFO or device is then read
//!   blocking, like `cat` does, until its writer closes it; a named FIFO
//!   that nobody has opened for writing by then reads as empty (no hang).
//! - [`read_bounded_regular`] and [`read_open_file`], for a file found in a
//!   tree others may write to (a lookaside, a mirror, a scanned
//!   configuration directory): a regular file only, so that a FIFO planted
//!   there can neither hang the reader nor feed it endlessly.
//!
//! Either way a directory is an error.
//!
//! Writing: the bytes go to a flushed `.imgsig-*.tmp` file in the target's
//! directory, which then appears under the final name in one step: a
//! no-clobber hard link (an existing file, even one created meanwhile by
//! someone else, is never replaced) or, when replacing is asked for, a
//! rename. A reader never sees a partial file. A temporary file left by a
//! process killed meanwhile is removed by the next write into the same
//! directory (its writer's lock is free; see [`clean_stale_temps`]).
//!
//! Writing into a shared tree (a lookaside or mirror) goes through
//! [`create_dir_below`], which never follows a symbolic link below the root
//! the user named (see [`below`]'s docs).

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

mod below;
#[allow(unused_imports)] // each crate that compiles this module uses a part
pub use below::{
    claim_temp, clean_stale_temps, clean_stale_temps_in, create_dir_below, is_temp_name, BelowError, DirBelow,
    TempBelow, ABANDONED_TEMP_AGE, STALE_TEMP_AGE,
};

const NOT_REGULAR: &str = "not a regular file";
const NOT_READABLE_KIND: &str = "not a regular file, FIFO or character device";

/// Does this error on a file the user named mean the user must fix the input
/// (missing, no permission, a directory or FIFO instead of a file), rather
/// than the system failing?
pub fn is_user_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound
            | io::ErrorKind::PermissionDenied
            | io::ErrorKind::IsADirectory
            | io::ErrorKind::InvalidInput
            | io::ErrorKind::InvalidFilename
    ) || e.raw_os_error() == Some(libc::EISDIR)
        || (e.kind() == io::ErrorKind::Other && [NOT_REGULAR, NOT_READABLE_KIND].contains(&e.to_string().as_str()))
}

/// Read the file `path` that someone named (see the module docs): a regular
/// file, a FIFO or a character device. `Ok(None)` if it does not exist,
/// `Ok(Some(Err(limit)))` if it holds more than `limit` bytes.
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Option<Result<Vec<u8>, u64>>> {
    let Some(mut file) = open_nonblocking(path)? else {
        return Ok(None);
    };
    let kind = file.metadata()?.file_type();
    use std::os::unix::fs::FileTypeExt;
    if kind.is_file() {
        return read_open_file(&mut file, limit);
    }
    if kind.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory, not a regular file",
        ));
    }
    if !(kind.is_fifo() || kind.is_char_device()) {
        return Err(io::Error::other(NOT_READABLE_KIND));
    }
    // A pipe (`<(…)`, `/dev/fd/N`) or a terminal: wait for the data, as `cat` does.
    let flags = rustix::fs::fcntl_getfl(&file)?;
    rustix::fs::fcntl_setfl(&file, flags - rustix::fs::OFlags::NONBLOCK)?;
    let mut bytes = Vec::with_capacity(4096.min(limit as usize + 1));
    (&mut file).take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Ok(Some(Err(limit)));
    }
    Ok(Some(Ok(bytes)))
}

/// Read the regular file `path` found in a tree others may write to (see the
/// module docs): anything but a regular file is an error. `Ok(None)` if it
/// does not exist, `Ok(Some(Err(limit)))` if it is larger than `limit` bytes.
pub fn read_bounded_regular(path: &Path, limit: u64) -> io::Result<Option<Result<Vec<u8>, u64>>> {
    match open_nonblocking(path)? {
        Some(mut file) => read_open_file(&mut file, limit),
        None => Ok(None),
    }
}

/// Open `path` for reading without blocking (a FIFO without a writer would block the open);
/// `None` if it does not exist.
fn open_nonblocking(path: &Path) -> io::Result<Option<fs::File>> {
    use std::os::unix::fs::OpenOptionsExt;
    match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
    {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// [`read_bounded_regular`] for a file already opened (e.g. relative to a directory
/// descriptor) non-blocking: anything but a regular file is an error.
pub fn read_open_file(file: &mut fs::File, limit: u64) -> io::Result<Option<Result<Vec<u8>, u64>>> {
    let not_regular = |file: &fs::File| file.metadata().map(|m| !m.is_file()).unwrap_or(true);
    let mut bytes = Vec::with_capacity(4096.min(limit as usize + 1));
    if let Err(e) = file.take(limit + 1).read_to_end(&mut bytes) {
        return Err(if not_regular(file) {
            io::Error::other(NOT_REGULAR)
        } else {
            e
        });
    }
    // Nothing read: an empty file, or a FIFO (or device) with no writer.
    if bytes.is_empty() && not_regular(file) {
        return Err(io::Error::other(NOT_REGULAR));
    }
    if bytes.len() as u64 > limit {
        if not_regular(file) {
            return Err(io::Error::other(NOT_REGULAR));
        }
        return Ok(Some(Err(limit)));
    }
    Ok(Some(Ok(bytes)))
}

/// [`read_bounded`] where a missing file and one over the limit are errors
/// too, with messages for people ("larger than the N-byte limit").
pub fn read_required(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    match read_bounded(path, limit) {
        Ok(Some(Ok(b))) => Ok(b),
        Ok(Some(Err(limit))) => Err(format!("it is larger than the {limit}-byte limit")),
        Ok(None) => Err(format!(
            "cannot read it: {}",
            io::Error::from_raw_os_error(libc::ENOENT)
        )),
        Err(e) => Err(format!("cannot read it: {e}")),
    }
}

/// Create `dir` and its parents (mode 0755 before umask).
pub fn create_dirs(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o755);
    builder.create(dir)
}

/// `bytes` in a flushed `.imgsig-*.tmp` file (mode 0644 before umask) in
/// `dir`, removed when dropped unless linked or renamed into place.
pub fn write_temp(dir: &Path, bytes: &[u8]) -> io::Result<tempfile::NamedTempFile> {
    write_temp_mode(dir, bytes, 0o644)
}

/// [`write_temp`] with the file created with `mode` (before umask), so that
/// a secret is never readable by others, not even for a moment.
fn write_temp_mode(dir: &Path, bytes: &[u8], mode: u32) -> io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".imgsig-").suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(mode));
    #[cfg(not(unix))]
    let _ = mode;
    // Locked as long as it exists, like a [`below::claim_temp`] file: a cleaner may take
    // it between its creation and the lock (then it is gone: make another).
    let mut attempts = 0;
    let mut temp = loop {
        let temp = builder.tempfile_in(dir)?;
        if below::claim_temp(rustix::fs::CWD, temp.path(), rustix::fd::AsFd::as_fd(temp.as_file())) {
            break temp;
        }
        attempts += 1;
        if attempts == 100 {
            return Err(io::Error::other("cannot keep a temporary file"));
        }
    };
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    Ok(temp)
}

/// Make a new directory entry durable; best effort (some filesystems refuse to fsync a
/// directory, and the entry itself is already complete).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Write `bytes` to `path` atomically (see the module docs). Without
/// `replace`, an existing `path` is never touched: `AlreadyExists`. The
/// parent directory must exist.
pub fn write_atomic(path: &Path, bytes: &[u8], replace: bool) -> io::Result<()> {
    write_atomic_as(path, bytes, replace, None)
}

/// A new file at `path` that only its owner can read (mode 0600 from its
/// creation on): for secret keys. An existing `path` is never touched
/// (`AlreadyExists`); the parent directory must exist.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_dir(path);
    clean_stale_temps_in(dir);
    let temp = write_temp_mode(dir, bytes, 0o600)?;
    fs::hard_link(temp.path(), path)?;
    sync_dir(dir);
    Ok(())
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// [`write_atomic`], giving the new file the mode and (when permitted, i.e.
/// as root) the owner of `like` — what replacing a configuration file wants.
pub fn write_atomic_as(path: &Path, bytes: &[u8], replace: bool, like: Option<&fs::Metadata>) -> io::Result<()> {
    let dir = parent_dir(path);
    clean_stale_temps_in(dir);
    let temp = write_temp(dir, bytes)?;
    #[cfg(unix)]
    if let Some(m) = like {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(m.mode() & 0o7777))?;
        // Only root can give the file back to another owner; otherwise this fails harmlessly.
        let _ = std::os::unix::fs::fchown(temp.as_file(), Some(m.uid()), Some(m.gid()));
    }
    #[cfg(not(unix))]
    let _ = like;
    if replace {
        temp.persist(path).map_err(|e| e.error)?;
    } else {
        fs::hard_link(temp.path(), path)?;
    }
    sync_dir(dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_reads() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        fs::write(&f, b"0123456789").unwrap();
        assert_eq!(read_bounded(&f, 10).unwrap(), Some(Ok(b"0123456789".to_vec())));
        assert_eq!(read_bounded(&f, 9).unwrap(), Some(Err(9)));
        assert_eq!(read_bounded(&dir.path().join("missing"), 9).unwrap(), None);
        assert!(read_bounded(dir.path(), 9).is_err());
        assert!(read_required(&f, 9).unwrap_err().contains("9-byte limit"));
        assert!(read_required(dir.path(), 9).unwrap_err().contains("not a regular file"));
    }

    fn mkfifo(path: &Path) {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
    }

    #[test]
    fn a_fifo_planted_in_a_store_is_refused_and_does_not_hang() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        let e = read_bounded_regular(&fifo, 100).unwrap_err();
        assert_eq!(e.to_string(), "not a regular file");
        assert!(is_user_error(&e));
        // An empty regular file is just empty.
        let empty = dir.path().join("empty");
        fs::write(&empty, b"").unwrap();
        assert_eq!(read_bounded_regular(&empty, 100).unwrap(), Some(Ok(Vec::new())));
        assert_eq!(read_bounded(&empty, 100).unwrap(), Some(Ok(Vec::new())));
    }

    #[test]
    fn a_named_fifo_is_read_to_its_end_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        // No writer: nothing to read, and no hang.
        assert_eq!(read_bounded(&fifo, 100).unwrap(), Some(Ok(Vec::new())));
        // A writer that writes slowly: everything it wrote, as `cat` would read it.
        let read_from_writer = |data: &[u8], limit| {
            // Open the writing end first (a read-write handle makes that open succeed
            // at once and keeps what is written until the reader comes).
            let hold = fs::OpenOptions::new().read(true).write(true).open(&fifo).unwrap();
            let mut w = fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            let path = fifo.clone();
            let reader = std::thread::spawn(move || read_bounded(&path, limit).unwrap());
            let opened = || {
                fs::read_dir("/proc/self/fd")
                    .unwrap()
                    .flatten()
                    .filter(|e| fs::read_link(e.path()).is_ok_and(|t| t == fifo))
                    .count()
            };
            while opened() < 3 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            drop(hold);
            for chunk in data.chunks(3) {
                let _ = w.write_all(chunk);
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            drop(w);
            reader.join().unwrap()
        };
        assert_eq!(read_from_writer(b"0123456789", 100), Some(Ok(b"0123456789".to_vec())));
        assert_eq!(read_from_writer(b"0123456789", 9), Some(Err(9)));
        // A character device too.
        assert_eq!(read_bounded(Path::new("/dev/null"), 9).unwrap(), Some(Ok(Vec::new())));
        assert_eq!(read_bounded(Path::new("/dev/zero"), 9).unwrap(), Some(Err(9)));
        // A directory never.
        let e = read_bounded(dir.path(), 9).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::IsADirectory);
        assert!(is_user_error(&e));
    }

    #[test]
    fn atomic_writes_never_clobber_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("out");
        write_atomic(&f, b"one", false).unwrap();
        let e = write_atomic(&f, b"two", false).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&f).unwrap(), b"one");
        write_atomic(&f, b"three", true).unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"three");
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out"]);
    }
}
