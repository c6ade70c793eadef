//! STUB written by the lead so the crate compiles; the helper replaces it entirely.
use std::path::{Path, PathBuf};

use reqwest::Url;

use crate::digest::Digest;
use crate::reference::DockerReference;

#[derive(Debug, thiserror::Error)]
#[error("stub")]
pub struct LookasideError;

pub enum StoreOutcome {
    Written(usize),
    AlreadyPresent(usize),
}

pub fn signature_url(base: &Url, r: &DockerReference, digest: &Digest, n: usize) -> Url {
    let s = format!(
        "{}/{}@{}={}/signature-{n}",
        base,
        r.path(),
        digest.algorithm().name(),
        digest.hex()
    );
    Url::parse(&s).unwrap_or_else(|_| base.clone())
}

pub fn image_dir(root: &Path, r: &DockerReference, digest: &Digest) -> PathBuf {
    root.join(format!("{}@{}={}", r.path(), digest.algorithm().name(), digest.hex()))
}

pub fn store_signature(_dir: &Path, _bytes: &[u8]) -> Result<StoreOutcome, LookasideError> {
    Err(LookasideError)
}

pub fn write_new_file(_path: &Path, _bytes: &[u8]) -> Result<bool, LookasideError> {
    Err(LookasideError)
}
