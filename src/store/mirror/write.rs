//! Writing a mirror ([`crate::fetch`], `imgsig fetch --to DIR`): the rules
//! every copy into it follows, so that whatever a reader finds there is
//! complete and was never changed under it.
//!
//! - An image's manifests live in the lookaside layout
//!   ([`crate::store::lookaside`]): `root/<repository path>@sha256=<hex>/`
//!   holds `manifest.json` and `signature-1`, `signature-2`, … Nothing there
//!   is ever overwritten or deleted: a `manifest.json` already there must
//!   hold the same bytes, a signature already there (byte for byte) is not
//!   stored again, a new one takes the first free number. Files appear
//!   complete (written under a temporary name, then linked into place) and
//!   no symlink below the root is followed.
//! - Everything stored for a manifest is read before its directory is made
//!   ([`ImageCopy::store`] takes the bytes): a source that is down leaves
//!   nothing behind, not even an empty directory.
//! - An image counts as mirrored only when every signature its source has is
//!   stored. The tag record ([`TagRecord`]) is written last, and only then
//!   ([`ImageCopy::write_record`]): a record never names a manifest that is
//!   not in the mirror, and an offline verify by tag never judges another set
//!   of signatures than the registry holds.
//! - The tag record is the one file a later copy replaces (atomically, by
//!   rename): a tag moves, its record follows; earlier image directories stay.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::{record_path, RecordError, RecordedInstance, TagRecord};
use crate::digest::Digest;
use crate::files;
use crate::platform::Instance;
use crate::reference::DockerReference;
use crate::store::lookaside::{ImageLocation, LookasideError, StoreOutcome};

/// A mirror directory being written.
#[derive(Debug, Clone)]
pub struct Mirror {
    root: PathBuf,
}

impl Mirror {
    /// The mirror at `root`, created (with its parents) if missing.
    pub fn create(root: &Path) -> io::Result<Mirror> {
        std::fs::create_dir_all(root)?;
        Ok(Mirror { root: root.to_owned() })
    }

    /// The mirror's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Start copying one image (`reference`, as named: by tag or by digest).
    pub fn image(&self, reference: &DockerReference) -> ImageCopy<'_> {
        ImageCopy {
            mirror: self,
            reference: reference.clone(),
            stored: Vec::new(),
        }
    }
}

/// A signature the source has that could not be stored (over the size
/// limit): the image is then not mirrored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedSignature {
    /// Where it was read (a URL or a signature API entry).
    pub source: String,
    /// Why it could not be used.
    pub reason: String,
}

impl fmt::Display for SkippedSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.reason)
    }
}

/// One manifest stored in the mirror, with its signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredManifest {
    /// The manifest's digest.
    pub digest: Digest,
    /// The image directory (`root/<repository path>@sha256=<hex>`).
    pub directory: PathBuf,
    /// `manifest.json` was written now (false: it was there already).
    pub manifest_written: bool,
    /// Signatures stored now.
    pub signatures_new: usize,
    /// Signatures that were there already (the same bytes).
    pub signatures_present: usize,
    /// Signatures the source has that could not be stored.
    pub signatures_skipped: Vec<SkippedSignature>,
    /// The signatures the image directory holds afterwards, as a verify from
    /// the mirror reads them (`signature-1` onward, up to the first gap):
    /// those stored now and any an earlier fetch or `sign` put there.
    pub signatures_in_mirror: usize,
}

/// The tag record written for an image.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WrittenRecord {
    /// The record file (`root/<repository path>@tags/<tag>.json`).
    pub path: PathBuf,
    /// The digest the record named before it was replaced (`None`: there was
    /// no readable record).
    pub previous: Option<Digest>,
}

/// One image being copied into a [`Mirror`]: its manifests first, in any
/// order, then its tag record.
#[derive(Debug)]
pub struct ImageCopy<'a> {
    mirror: &'a Mirror,
    reference: DockerReference,
    stored: Vec<StoredManifest>,
}

impl ImageCopy<'_> {
    /// Store one manifest (bytes that hash to `digest`) and the signatures
    /// its source has for it: each is the bytes to store, or why the source's
    /// copy was unusable (recorded as skipped). The first manifest stored is
    /// the one the reference resolved to.
    pub fn store<'b>(
        &mut self,
        digest: &Digest,
        manifest: &[u8],
        signatures: impl IntoIterator<Item = Result<&'b [u8], SkippedSignature>>,
    ) -> Result<&StoredManifest, LookasideError> {
        let dir = ImageLocation::new(&self.mirror.root, &self.reference, digest).create()?;
        let mut stored = StoredManifest {
            digest: digest.clone(),
            directory: dir.path().to_owned(),
            manifest_written: dir.write_new_file("manifest.json", manifest)?,
            signatures_new: 0,
            signatures_present: 0,
            signatures_skipped: Vec::new(),
            signatures_in_mirror: 0,
        };
        for s in signatures {
            match s {
                Ok(bytes) => match dir.store_signature(bytes)? {
                    StoreOutcome::Written(_) => stored.signatures_new += 1,
                    StoreOutcome::AlreadyPresent(_) => stored.signatures_present += 1,
                },
                Err(skipped) => stored.signatures_skipped.push(skipped),
            }
        }
        stored.signatures_in_mirror = dir.lock().signatures()?.len();
        self.stored.push(stored);
        Ok(self.stored.last().expect("just stored"))
    }

    /// The manifests stored so far, in order.
    pub fn stored(&self) -> &[StoredManifest] {
        &self.stored
    }

    /// Finish the image: write its tag record (for a reference by tag; by
    /// digest there is none: `Ok(None)`), naming the first manifest stored
    /// and the index's `instances`, resolved at `fetched_at` (Unix seconds).
    /// Refused with [`RecordError::Incomplete`] when a signature was skipped,
    /// whether by tag or by digest: the image is not mirrored.
    pub fn write_record(&self, fetched_at: i64, instances: &[Instance]) -> Result<Option<WrittenRecord>, RecordError> {
        let skipped: Vec<SkippedSignature> = self
            .stored
            .iter()
            .flat_map(|m| m.signatures_skipped.iter().cloned())
            .collect();
        if !skipped.is_empty() {
            return Err(RecordError::Incomplete { skipped });
        }
        let (Some(_), Some(top)) = (self.reference.tag(), self.stored.first()) else {
            return Ok(None);
        };
        let record = TagRecord {
            reference: self.reference.clone(),
            digest: top.digest.clone(),
            fetched_at,
            instances: instances.iter().map(RecordedInstance::from_instance).collect(),
        };
        let previous = super::read(&self.mirror.root, &self.reference).ok().map(|r| r.digest);
        let path = write_record(&self.mirror.root, &record)?;
        Ok(Some(WrittenRecord { path, previous }))
    }
}

/// Write (or replace, atomically) the record of `record.reference` under
/// `root`; the directory `root/<path>@tags` is created as needed, and no
/// symlink below `root` is followed (as for the image directories). Prefer
/// [`ImageCopy::write_record`], which writes a record only for a mirrored image.
pub fn write_record(root: &Path, record: &TagRecord) -> Result<PathBuf, RecordError> {
    let path = record_path(root, &record.reference).ok_or_else(|| RecordError::NoTag {
        reference: record.reference.to_string(),
    })?;
    let rel = path.strip_prefix(root).expect("a record lies below the root");
    let (dir_rel, name) = (
        rel.parent().expect("a record has a directory"),
        rel.file_name().expect("a name"),
    );
    let dir = files::create_dir_below(root, dir_rel).map_err(|e| RecordError::Unsafe(e.to_string()))?;
    let io = |source| RecordError::Io {
        path: path.clone(),
        source,
    };
    let temp = dir.write_temp(&record.to_bytes()).map_err(io)?;
    temp.rename_as(&name.to_string_lossy()).map_err(io)?;
    dir.sync();
    Ok(path)
}
