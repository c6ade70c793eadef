//! File and stream helpers for the CLI: bounded reads, atomic writes that
//! never clobber, image lists (`--from-file`), and the classification of I/O
//! errors into exit codes.

use imgsig::Reason;
use std::fs::File;
use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::path::Path;

use anyhow::anyhow;

use super::{Failure, FileArg};

use crate::files::is_user_error;

/// Turn an I/O error on a named input into a failure with the right class.
pub fn read_failure(what: &str, name: &FileArg, e: io::Error) -> Failure {
    let err = anyhow!("cannot read {what} {name}: {e}");
    if is_user_error(&e) {
        Failure::input(Reason::UnreadableInput, err)
    } else {
        Failure::outside(Reason::IoError, err)
    }
}

/// The entries of an image list (`--from-file FILE`, `-` for stdin), streamed:
/// one per line, trimmed, with blank lines and `#` comments skipped, each with
/// its line number.
pub fn list_lines(path: &Path) -> Result<impl Iterator<Item = Result<(usize, String), Failure>> + '_, Failure> {
    let unreadable =
        |e: io::Error| Failure::input(Reason::UnreadableInput, anyhow!("--from-file {}: {e}", path.display()));
    let reader: Box<dyn io::BufRead> = if path == Path::new("-") {
        Box::new(io::stdin().lock())
    } else {
        Box::new(io::BufReader::new(File::open(path).map_err(unreadable)?))
    };
    Ok(reader.lines().enumerate().filter_map(move |(i, line)| match line {
        Ok(l) => {
            let t = l.trim();
            (!t.is_empty() && !t.starts_with('#')).then(|| Ok((i + 1, t.to_owned())))
        }
        Err(e) => Some(Err(unreadable(e))),
    }))
}

/// Image arguments, then the entries of `list` (streamed, see [`list_lines`]).
pub fn image_inputs<'a>(
    args: &'a [String],
    list: Option<&'a Path>,
) -> Result<impl Iterator<Item = Result<String, Failure>> + 'a, Failure> {
    let listed = list.map(list_lines).transpose()?.into_iter().flatten();
    Ok(args.iter().cloned().map(Ok).chain(listed.map(|l| l.map(|(_, s)| s))))
}

/// Read at most `limit` bytes from a file or stdin; more is an error.
pub fn read_limited(what: &str, name: &FileArg, limit: usize) -> Result<Vec<u8>, Failure> {
    let too_large = || {
        Failure::input(
            Reason::InputTooLarge,
            anyhow!("{what} {name} is larger than the {limit}-byte limit"),
        )
    };
    let mut buf = Vec::new();
    match name {
        FileArg::Std => {
            io::stdin()
                .lock()
                .take(limit as u64 + 1)
                .read_to_end(&mut buf)
                .map_err(|e| read_failure(what, name, e))?;
        }
        FileArg::Path(p) => {
            if p.is_dir() {
                let e = io::Error::new(io::ErrorKind::IsADirectory, "is a directory");
                return Err(read_failure(what, name, e));
            }
            return match crate::files::read_bounded(p, limit as u64) {
                Ok(Some(Ok(b))) => Ok(b),
                Ok(Some(Err(_))) => Err(too_large()),
                Ok(None) => Err(read_failure(what, name, io::Error::from_raw_os_error(libc::ENOENT))),
                Err(e) => Err(read_failure(what, name, e)),
            };
        }
    }
    if buf.len() > limit {
        return Err(Failure::input(
            Reason::InputTooLarge,
            anyhow!("{what} {name} is larger than the {limit}-byte limit"),
        ));
    }
    Ok(buf)
}

/// Write `data` to `path` atomically: a temporary file in the same
/// directory, flushed and synced, then renamed into place. Without `force`
/// an existing file is never replaced (the final step is a no-clobber link).
pub fn write_atomic(path: &Path, data: &[u8], force: bool) -> Result<(), Failure> {
    write_checked(path, force, || crate::files::write_atomic(path, data, force))
}

/// A new file only its owner can read (a secret key): never replaces one.
pub fn write_new_private(path: &Path, data: &[u8]) -> Result<(), Failure> {
    write_checked(path, false, || crate::files::write_new_private(path, data))
}

fn write_checked(path: &Path, force: bool, write: impl FnOnce() -> io::Result<()>) -> Result<(), Failure> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let classify = |e: io::Error| {
        // tempfile adds its random file name to errors; keep only the OS error.
        let e = e.raw_os_error().map(io::Error::from_raw_os_error).unwrap_or(e);
        let err = anyhow!("cannot write {}: {e}", path.display());
        if is_user_error(&e) {
            Failure::input(Reason::UnwritableOutput, err)
        } else {
            Failure::outside(Reason::IoError, err)
        }
    };
    if !force && path.symlink_metadata().is_ok() {
        return Err(exists_failure(path));
    }
    if !dir.is_dir() {
        return Err(Failure::input(
            Reason::UnwritableOutput,
            anyhow!(
                "cannot write {}: directory {} does not exist",
                path.display(),
                dir.display()
            ),
        ));
    }
    match write() {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(exists_failure(path)),
        Err(e) => Err(classify(e)),
    }
}

fn exists_failure(path: &Path) -> Failure {
    Failure::input(
        Reason::OutputExists,
        anyhow!(
            "{} already exists; refusing to overwrite it (use --force to replace it)",
            path.display()
        ),
    )
}

/// Is standard output a terminal?
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

/// Write data to stdout. A closed pipe is reported to the caller, who
/// decides whether that matters; it never changes a decision's exit code.
pub fn write_stdout(data: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(data)?;
    out.flush()
}
