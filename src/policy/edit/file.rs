//! The policy file being edited: read it (or note that it does not exist),
//! apply edits to its document, check the result with the strict parser and
//! replace the file atomically.

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

use crate::files::is_user_error;
use crate::json::{self, Kind, Value};
use crate::limits::MAX_POLICY_SIZE;
use crate::policy::{self, ParseOptions};
use crate::Reason;

use super::document::{apply, first_duplicate, marshal_indent, value, ApplyError};
use super::{EditError, NewRequirement, Placement, Target};

/// A policy file opened for editing: its document as written (members in
/// file order, numbers as written), with the edits made so far.
#[derive(Debug)]
pub struct PolicyFile {
    path: PathBuf,
    /// The file as it was: its metadata (to keep mode and owner) and bytes;
    /// `None` when it does not exist.
    existing: Option<(Metadata, Vec<u8>)>,
    /// The document: `None` while a missing file has not been edited.
    doc: Option<Value>,
}

impl PolicyFile {
    /// Read `path` (a symbolic link is followed: its target is what will be
    /// replaced). A missing file is an empty policy; a file with a duplicate
    /// key is refused (rewriting it would keep only one of them).
    pub fn open(path: &Path) -> Result<PolicyFile, EditError> {
        let path = match path.symlink_metadata() {
            Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path).unwrap_or(path.to_path_buf()),
            _ => path.to_path_buf(),
        };
        let existing = read_existing(&path)?;
        let doc = match &existing {
            None => None,
            Some((_, bytes)) => {
                let doc = json::parse(bytes).map_err(|e| {
                    invalid_policy(
                        &path,
                        format_args!("{} (line {}, column {})", e.message(), e.line, e.column),
                    )
                })?;
                if let Some((at, pos)) = first_duplicate(&doc, "") {
                    return Err(invalid_policy(
                        &path,
                        format_args!(
                            "duplicate key at {at} (line {}, column {}); rewriting the file would keep only one, \
                             so remove the other first",
                            pos.line, pos.column
                        ),
                    ));
                }
                Some(doc)
            }
        };
        Ok(PolicyFile { path, existing, doc })
    }

    /// The file that will be written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file existed when it was opened.
    pub fn exists(&self) -> bool {
        self.existing.is_some()
    }

    /// Replace (or add) the requirements of `target`. A scope needs the
    /// policy to have `default` requirements.
    pub fn set(&mut self, target: &Target, requirements: &[NewRequirement]) -> Result<Placement, EditError> {
        let reqs = value(Kind::Array(requirements.iter().map(NewRequirement::to_value).collect()));
        let (doc, placed) = apply(self.doc.clone(), target, reqs).map_err(|e| match e {
            ApplyError::NoDefault => EditError::input(
                Reason::NoDefaultPolicy,
                format!(
                    "default trust policy must be set: {} {}\nhint: first run `imgsig trust set --policy {} --type reject default` \
                     (or --type accept)",
                    self.path.display(),
                    if self.exists() { "has no \"default\" requirements" } else { "does not exist" },
                    self.path.display()
                ),
            ),
            ApplyError::Shape(why) => invalid_policy(&self.path, format_args!("cannot edit it: {why}")),
        })?;
        self.doc = Some(doc);
        Ok(Placement {
            path: placed.path(target),
            transport: placed.transport,
            replaced: placed.replaced,
        })
    }

    /// The text that [`PolicyFile::write`] writes: Go's
    /// `json.MarshalIndent(…, "", "    ")`, no final newline.
    pub fn text(&self) -> String {
        marshal_indent(self.doc.as_ref().unwrap_or(&value(Kind::Object(Vec::new()))))
    }

    /// Check the edited policy with the strict parser, then replace the file
    /// atomically: a temporary file in the same directory with the old
    /// file's mode and owner (0644 for a new file), synced, then renamed
    /// over it; the directory is synced too. Nothing is written when the
    /// result is not a valid policy.
    pub fn write(self) -> Result<(), EditError> {
        let text = self.text();
        let original = self.existing.as_ref().map(|(_, b)| b.as_slice());
        validate(&self.path, text.as_bytes(), original)?;
        replace_file(&self.path, text.as_bytes(), self.existing.as_ref().map(|(m, _)| m))
    }
}

fn invalid_policy(path: &Path, msg: impl std::fmt::Display) -> EditError {
    EditError::input(
        Reason::InvalidPolicy,
        format!("{} was left unchanged: {msg}", path.display()),
    )
}

/// An I/O error on a named input, classified (the CLI's wording).
fn read_failure(what: &str, path: &Path, e: io::Error) -> EditError {
    let message = format!("cannot read {what} {}: {e}", path.display());
    if is_user_error(&e) {
        EditError::input(Reason::UnreadableInput, message)
    } else {
        EditError::outside(Reason::IoError, message)
    }
}

/// Read at most `limit` bytes of the file `path`; more is an error.
pub(super) fn read_limited(what: &str, path: &Path, limit: usize) -> Result<Vec<u8>, EditError> {
    if path.is_dir() {
        let e = io::Error::new(io::ErrorKind::IsADirectory, "is a directory");
        return Err(read_failure(what, path, e));
    }
    match crate::files::read_bounded(path, limit as u64) {
        Ok(Some(Ok(b))) => Ok(b),
        Ok(Some(Err(_))) => Err(EditError::input(
            Reason::InputTooLarge,
            format!("{what} {} is larger than the {limit}-byte limit", path.display()),
        )),
        Ok(None) => Err(read_failure(what, path, io::Error::from_raw_os_error(libc::ENOENT))),
        Err(e) => Err(read_failure(what, path, e)),
    }
}

/// The existing file: `None` if it does not exist; its metadata (to keep
/// mode and owner) and bytes.
fn read_existing(path: &Path) -> Result<Option<(Metadata, Vec<u8>)>, EditError> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if path.symlink_metadata().is_ok() {
                return Err(EditError::input(
                    Reason::UnwritableOutput,
                    format!("{} is a symbolic link to a missing file", path.display()),
                ));
            }
            Ok(None)
        }
        Err(e) => Err(read_failure("policy", path, e)),
        Ok(meta) => Ok(Some((meta, read_limited("policy", path, MAX_POLICY_SIZE)?))),
    }
}

/// Check the edited document with the strict parser. When it fails and the
/// original file fails too, report the original's problems: their line and
/// column point into the file the user can open.
fn validate(path: &Path, result: &[u8], original: Option<&[u8]>) -> Result<(), EditError> {
    let opts = ParseOptions {
        source: Some(path.to_path_buf()),
    };
    let Err(e) = policy::parse(result, &opts) else {
        return Ok(());
    };
    if let Some(Err(orig)) = original.map(|b| policy::parse(b, &opts)) {
        return Err(invalid_policy(
            path,
            format_args!("it is not a valid policy, and this change does not fix it:\n{orig}"),
        ));
    }
    Err(invalid_policy(
        path,
        format_args!("the policy would not be valid after this change (positions refer to the new text):\n{e}"),
    ))
}

fn replace_file(path: &Path, data: &[u8], old: Option<&Metadata>) -> Result<(), EditError> {
    crate::files::write_atomic_as(path, data, true, old).map_err(|e| {
        // tempfile adds its random file name to errors; keep only the OS error.
        let e = e.raw_os_error().map(io::Error::from_raw_os_error).unwrap_or(e);
        let message = format!("cannot write {}: {e}", path.display());
        match e.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                EditError::input(Reason::UnwritableOutput, message)
            }
            _ => EditError::outside(Reason::IoError, message),
        }
    })
}
