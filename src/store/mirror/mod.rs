//! Tag records of a mirror written by `imgsig fetch`: which digest a tag
//! resolved to, when, and (for a multi-platform image) which instances the
//! index listed, so that an air-gapped site can verify `REG/ns/app:1.0` by
//! tag without any network and without trusting an unverified claim for the
//! digest.
//!
//! A record lives beside the image directories of the lookaside layout:
//! `root/<repository path>@tags/<tag>.json` (no `:` in any file name, so a
//! mirror fits on FAT/exFAT media; tags differing only in case collide
//! there). It is the one file of a mirror that a later fetch replaces
//! (atomically): a tag moves, its record follows; the image directories of
//! earlier digests stay.
//!
//! A record is not a trust anchor: it only says which manifest to judge.
//! The manifest read from the mirror must hash to the recorded digest, and
//! its signatures decide as always. A record names the full reference
//! (registry host included): one made for another registry with the same
//! repository path is refused, not used.
//!
//! This module reads records; [`Mirror`] (in `write.rs`) writes a mirror:
//! image directories, then the record, by the rules listed there.

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::digest::Digest;
use crate::files;
use crate::json::{self, ObjectReader};
use crate::platform::Instance;
use crate::reference::DockerReference;
use crate::Reason;

mod write;

pub use write::{write_record, ImageCopy, Mirror, SkippedSignature, StoredManifest, WrittenRecord};

/// The largest record read (an index with the maximum number of instances fits easily).
pub const MAX_RECORD_SIZE: u64 = 1 << 20;

const RECORD_SCHEMA: i64 = 1;

/// What `fetch` resolved a tag to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRecord {
    /// The tagged reference, normalised (`registry.example.com/ns/app:1.0`).
    pub reference: DockerReference,
    /// The top-level manifest's digest (the index for a multi-platform image).
    pub digest: Digest,
    /// When the tag was resolved (Unix seconds, UTC).
    pub fetched_at: i64,
    /// The index's instances and their platforms (empty for a single manifest).
    pub instances: Vec<RecordedInstance>,
}

/// One instance of the index a tag resolved to, as its record lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedInstance {
    /// The instance manifest's digest.
    pub digest: Digest,
    /// `os/architecture[/variant]`.
    pub platform: String,
}

impl RecordedInstance {
    /// The record entry for an index's instance.
    pub fn from_instance(i: &Instance) -> RecordedInstance {
        RecordedInstance {
            digest: i.digest.clone(),
            platform: i.platform(),
        }
    }
}

/// Why a record could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The reference has no tag (a record is kept per tag).
    #[error("the reference {reference} has no tag to look up")]
    NoTag {
        /// The reference, normalised.
        reference: String,
    },
    /// The mirror holds no record for the tag.
    #[error("the mirror has no record of {reference} ({}); fetch it into the mirror with imgsig fetch, or name the image by digest", .path.display())]
    Missing {
        /// The reference, normalised.
        reference: String,
        /// Where its record would be.
        path: PathBuf,
    },
    /// The record could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The record file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The record's directory could not be created without following a
    /// symbolic link below the mirror root (or at all); the reason.
    #[error("{0}")]
    Unsafe(String),
    /// The record file is larger than [`MAX_RECORD_SIZE`].
    #[error("{}: larger than {limit} bytes", .path.display())]
    TooLarge {
        /// The record file.
        path: PathBuf,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The file is not a valid tag record.
    #[error("{}: not a tag record: {message}", .path.display())]
    Invalid {
        /// The record file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The record was not written: signatures the source has could not be
    /// stored, so the mirror would judge the image on another set of
    /// signatures than the registry holds ([`ImageCopy::write_record`]).
    #[error(
        "{} signature(s) the registry has could not be mirrored ({}); the mirror would judge the image on other signatures than the registry holds",
        .skipped.len(),
        .skipped.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Incomplete {
        /// The signatures that could not be stored, and why.
        skipped: Vec<SkippedSignature>,
    },
    /// The record found is for another reference (another registry with the
    /// same repository path); it is refused, not used.
    #[error("{}: records {recorded}, not {reference} (the same repository path of another registry)", .path.display())]
    OtherReference {
        /// The record file.
        path: PathBuf,
        /// The reference the record names.
        recorded: String,
        /// The reference looked up.
        reference: String,
    },
}

impl RecordError {
    /// Stable reason code.
    pub fn code(&self) -> Reason {
        match self {
            RecordError::NoTag { .. } => Reason::InvalidReference,
            RecordError::Missing { .. } => Reason::NotInMirror,
            RecordError::Io { .. } => Reason::IoError,
            RecordError::Unsafe(_) => Reason::UnsafePath,
            RecordError::TooLarge { .. } | RecordError::Invalid { .. } => Reason::InvalidTagRecord,
            RecordError::OtherReference { .. } => Reason::TagRecordMismatch,
            RecordError::Incomplete { .. } => Reason::SignatureNotMirrored,
        }
    }

    /// Whether the system failed (rather than the mirror or the request being unusable).
    pub fn is_outside(&self) -> bool {
        match self {
            RecordError::Io { source, .. } => !files::is_user_error(source),
            RecordError::Incomplete { .. } => true,
            _ => false,
        }
    }
}

/// `root/<path>@tags/<tag>.json` for a tagged reference.
pub fn record_path(root: &Path, r: &DockerReference) -> Option<PathBuf> {
    let tag = r.tag()?;
    let path = root.join(format!("{}@tags", r.path())).join(format!("{tag}.json"));
    // The reference grammar allows only normal components (no `..`, no empty
    // ones) in the path, and a tag cannot start with `.` or contain `/`.
    debug_assert!(path
        .strip_prefix(root)
        .is_ok_and(|rel| rel.components().all(|c| matches!(c, std::path::Component::Normal(_)))));
    Some(path)
}

#[derive(Serialize)]
struct RecordJson<'a> {
    schema_version: i64,
    reference: String,
    digest: String,
    fetched_at: i64,
    instances: Vec<InstanceJson<'a>>,
}

#[derive(Serialize)]
struct InstanceJson<'a> {
    digest: String,
    platform: &'a str,
}

impl TagRecord {
    /// The record's file contents (pretty JSON, newline-terminated).
    pub fn to_bytes(&self) -> Vec<u8> {
        let doc = RecordJson {
            schema_version: RECORD_SCHEMA,
            reference: self.reference.to_string(),
            digest: self.digest.to_string(),
            fetched_at: self.fetched_at,
            instances: self
                .instances
                .iter()
                .map(|i| InstanceJson {
                    digest: i.digest.to_string(),
                    platform: &i.platform,
                })
                .collect(),
        };
        let mut out = serde_json::to_vec_pretty(&doc).expect("a record serialises");
        out.push(b'\n');
        out
    }

    /// Parse a record strictly (duplicate, unknown and missing keys are errors).
    pub fn parse(bytes: &[u8]) -> Result<TagRecord, String> {
        let v = json::parse(bytes).map_err(|e| e.to_string())?;
        let mut o = v.as_object("").map_err(|e| e.to_string())?;
        let r = read_record(&mut o).map_err(|e| e.to_string())?;
        o.deny_unknown().map_err(|e| e.to_string())?;
        if let Some(e) = o.duplicate_key_errors().into_iter().next() {
            return Err(e.to_string());
        }
        r
    }
}

fn read_record(o: &mut ObjectReader<'_>) -> Result<Result<TagRecord, String>, json::JsonError> {
    let schema = o.required("schema_version")?.as_i64_exact("schema_version")?;
    let reference = o.required_str("reference")?;
    let digest = o.required_str("digest")?;
    let fetched_at = o.required("fetched_at")?.as_i64_exact("fetched_at")?;
    let instances = o.required_array("instances")?;
    if schema != RECORD_SCHEMA {
        return Ok(Err(format!(
            "schema_version {schema} is not supported (this imgsig reads {RECORD_SCHEMA})"
        )));
    }
    let reference = match DockerReference::parse_normalized(reference) {
        Ok(r) if r.tag().is_some() && r.digest().is_none() => r,
        Ok(_) => return Ok(Err(format!("reference {reference:?} is not name:tag"))),
        Err(e) => return Ok(Err(format!("reference: {e}"))),
    };
    let digest = match Digest::parse(digest) {
        Ok(d) => d,
        Err(e) => return Ok(Err(format!("digest: {e}"))),
    };
    let mut list = Vec::with_capacity(instances.len());
    for (n, i) in instances.iter().enumerate() {
        let path = json::index_path("instances", n);
        let mut io = i.as_object(&path)?;
        let d = io.required_str("digest")?;
        let platform = io.required_str("platform")?.to_owned();
        io.deny_unknown()?;
        let digest = match Digest::parse(d) {
            Ok(d) => d,
            Err(e) => return Ok(Err(format!("{path}.digest: {e}"))),
        };
        list.push(RecordedInstance { digest, platform });
    }
    Ok(Ok(TagRecord {
        reference,
        digest,
        fetched_at,
        instances: list,
    }))
}

/// Read the record of the tagged reference `r` under `root`.
pub fn read(root: &Path, r: &DockerReference) -> Result<TagRecord, RecordError> {
    let path = record_path(root, r).ok_or_else(|| RecordError::NoTag {
        reference: r.to_string(),
    })?;
    let bytes = match files::read_bounded_regular(&path, MAX_RECORD_SIZE) {
        Ok(Some(Ok(b))) => b,
        Ok(Some(Err(limit))) => return Err(RecordError::TooLarge { path, limit }),
        Ok(None) => {
            return Err(RecordError::Missing {
                reference: r.to_string(),
                path,
            })
        }
        Err(source) => return Err(RecordError::Io { path, source }),
    };
    let record = TagRecord::parse(&bytes).map_err(|message| RecordError::Invalid {
        path: path.clone(),
        message,
    })?;
    if record.reference != *r {
        return Err(RecordError::OtherReference {
            path,
            recorded: record.reference.to_string(),
            reference: r.to_string(),
        });
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(c: char) -> Digest {
        Digest::parse(&format!("sha256:{}", c.to_string().repeat(64))).unwrap()
    }

    fn record() -> TagRecord {
        TagRecord {
            reference: DockerReference::parse_normalized("127.0.0.1:5000/lab/multi:1.0").unwrap(),
            digest: digest('a'),
            fetched_at: 1_764_000_000,
            instances: vec![RecordedInstance {
                digest: digest('b'),
                platform: "linux/arm64/v8".into(),
            }],
        }
    }

    #[test]
    fn round_trip_and_layout() {
        let dir = tempfile::tempdir().unwrap();
        let r = record();
        let path = write_record(dir.path(), &r).unwrap();
        assert_eq!(path, dir.path().join("lab/multi@tags/1.0.json"));
        assert_eq!(read(dir.path(), &r.reference).unwrap(), r);
        // Replaced when the tag moves.
        let moved = TagRecord {
            digest: digest('c'),
            instances: Vec::new(),
            ..r.clone()
        };
        write_record(dir.path(), &moved).unwrap();
        assert_eq!(read(dir.path(), &r.reference).unwrap(), moved);
    }

    #[test]
    fn missing_other_registry_and_malformed_records_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let r = record();
        let e = read(dir.path(), &r.reference).unwrap_err();
        assert_eq!(e.code(), "not-in-mirror");
        write_record(dir.path(), &r).unwrap();
        let other = DockerReference::parse_normalized("registry.example.com/lab/multi:1.0").unwrap();
        assert_eq!(read(dir.path(), &other).unwrap_err().code(), "tag-record-mismatch");
        let path = record_path(dir.path(), &r.reference).unwrap();
        let good = String::from_utf8(r.to_bytes()).unwrap();
        for bad in [
            good.replace("\"fetched_at\"", "\"fetched\""),
            good.replacen('{', "{\"extra\":1,", 1),
            good.replacen('{', "{\"digest\":\"sha256:x\",", 1),
            good.replace("\"schema_version\": 1", "\"schema_version\": 2"),
            good.replace(":1.0\"", "\""),
            "[]".into(),
        ] {
            std::fs::write(&path, &bad).unwrap();
            let e = read(dir.path(), &r.reference).unwrap_err();
            assert_eq!(e.code(), "invalid-tag-record", "{bad}");
        }
    }

    #[test]
    fn digest_references_have_no_record() {
        let r = DockerReference::parse_normalized(&format!("example.com/a@{}", digest('a'))).unwrap();
        assert!(record_path(Path::new("/m"), &r).is_none());
    }
}
