//! What one fetch carried into the mirror.

use super::FetchError;
use crate::digest::Digest;
use crate::reference::DockerReference;
use crate::store::mirror::{StoredManifest, WrittenRecord};
use crate::verify::Role;

/// One image's fetch: what was stored, and whether the image is mirrored.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Report {
    /// The image as requested.
    pub reference: DockerReference,
    /// What the reference resolved to: the top-level manifest's digest
    /// (`None` when it could not be read).
    pub digest: Option<Digest>,
    /// The manifests stored, in order: the top-level one (an image's
    /// manifest or an index) first, then each instance of an index. On an
    /// error, those stored before it.
    pub manifests: Vec<CarriedManifest>,
    /// The tag record written (a reference by tag, fully mirrored).
    pub tag_record: Option<WrittenRecord>,
    /// Problems that did not stop the fetch (certs.d, registries.d), in order.
    pub warnings: Vec<String>,
    /// Why the image is not mirrored (in full); `None` when it is.
    pub error: Option<FetchError>,
}

impl Report {
    /// Whether the image is not (completely) mirrored.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// Signatures stored now, over every manifest.
    pub fn signatures_new(&self) -> usize {
        self.manifests.iter().map(|m| m.stored.signatures_new).sum()
    }

    /// Signatures that were in the mirror already, over every manifest.
    pub fn signatures_present(&self) -> usize {
        self.manifests.iter().map(|m| m.stored.signatures_present).sum()
    }

    /// Whether the image is in the mirror without a single signature: the
    /// source had none for the image nor, for a multi-platform image, for
    /// any of its instances (where it looked: [`CarriedManifest::looked_in`]),
    /// and the mirror held none from an earlier fetch or `sign` either. A
    /// verify from the mirror has nothing to check for it. `false` when the
    /// fetch failed ([`Report::error`] says why).
    pub fn unsigned(&self) -> bool {
        self.error.is_none()
            && !self.manifests.is_empty()
            && self.manifests.iter().all(|m| m.stored.signatures_in_mirror == 0)
    }

    /// When the fetch replaced a tag record that named another digest: the
    /// digest the tag was recorded at before, and the one it resolves to now.
    pub fn tag_moved(&self) -> Option<(&Digest, &Digest)> {
        let before = self.tag_record.as_ref()?.previous.as_ref()?;
        let now = self.digest.as_ref()?;
        (before != now).then_some((before, now))
    }
}

/// One manifest carried: what it is to the image, and what was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CarriedManifest {
    /// [`Role::Image`], [`Role::Index`] or [`Role::Instance`] (with its platform).
    pub role: Role,
    /// Where it went in the mirror and what happened to its signatures.
    pub stored: StoredManifest,
    /// Where its signatures were looked for: a lookaside URL
    /// (`…/signature-N`), the registry signature API, the sigstore attachments.
    pub looked_in: String,
}
