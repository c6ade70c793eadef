//! Per-signature report lines (human) and objects (JSON), shared by the
//! keyring and policy forms of `imgsig verify`.

use serde::Serialize;

use imgsig::shown::shown;
use imgsig::signature::{Opened, Rejection};

/// One signature's verdict as JSON (see docs/json-output.md).
#[derive(Debug, Serialize)]
pub struct SignatureJson {
    pub index: usize,
    pub source: String,
    pub verdict: &'static str,
    pub reason: Option<&'static str>,
    pub message: String,
    pub signer: Option<imgsig::signature::Signer>,
    pub signature_created: Option<i64>,
    pub hash_algorithm: Option<String>,
    pub signed_identity: Option<String>,
    pub signed_digest: Option<String>,
    pub creator: Option<String>,
    pub timestamp: Option<i64>,
}

/// What a check learnt about one signature.
pub struct Checked<'a> {
    pub index: usize,
    pub source: &'a str,
    pub opened: Option<&'a Opened>,
    /// A sigstore signature's authenticated payload.
    pub sigstore: Option<&'a imgsig::sigstore::UntrustedPayload>,
    pub result: &'a Result<(), Rejection>,
}

impl<'a> Checked<'a> {
    /// What the policy evaluator found about one signature.
    pub fn of(s: &'a imgsig::policy::SignatureResult) -> Checked<'a> {
        Checked {
            index: s.index,
            source: &s.source,
            opened: s.opened.as_ref(),
            sigstore: s.sigstore.as_ref(),
            result: &s.result,
        }
    }

    pub fn to_json(&self, accepted_message: &str) -> SignatureJson {
        let signer = self
            .opened
            .map(|o| &o.signer)
            .or_else(|| self.result.as_ref().err().and_then(|r| r.signer.as_ref()));
        let claim = self.opened.map(|o| &o.claim);
        SignatureJson {
            index: self.index,
            source: self.source.to_owned(),
            verdict: if self.result.is_ok() { "accepted" } else { "rejected" },
            reason: self.result.as_ref().err().map(|r| r.code),
            message: match self.result {
                Ok(()) => accepted_message.to_owned(),
                Err(r) => r.message.clone(),
            },
            signer: signer.cloned(),
            signature_created: signer.map(|s| s.created),
            hash_algorithm: signer.map(|s| s.hash_algorithm.clone()),
            signed_identity: claim
                .map(|c| c.docker_reference().to_owned())
                .or_else(|| self.sigstore.map(|p| p.docker_reference.clone())),
            signed_digest: claim
                .map(|c| c.manifest_digest().to_string())
                .or_else(|| self.sigstore.map(|p| p.docker_manifest_digest.clone())),
            creator: claim
                .and_then(|c| c.creator().map(str::to_owned))
                .or_else(|| self.sigstore.and_then(|p| p.creator.clone())),
            timestamp: claim
                .and_then(|c| c.timestamp())
                .or_else(|| self.sigstore.and_then(|p| p.timestamp)),
        }
    }

    /// `signature I/N (SOURCE): accepted: …` or `…: rejected [code] (key …): …`
    pub fn human(&self, total: usize) -> String {
        // The source (a file name, a URL) and the message may carry what an attacker chose.
        let (index, source) = (self.index, shown(self.source));
        match (self.result, self.opened) {
            (Ok(()), Some(o)) => format!(
                "signature {index}/{total} ({source}): accepted: key {} (signing key {}), identity {}, digest {}, signed {}",
                o.signer.primary_fingerprint,
                o.signer.signing_fingerprint,
                o.claim.docker_reference(),
                o.claim.manifest_digest(),
                imgsig::time::rfc3339(o.claim.timestamp().unwrap_or(o.signer.created)),
            ),
            (Err(r), _) => {
                let by = r
                    .signer
                    .as_ref()
                    .map(|s| format!(" (key {})", s.primary_fingerprint))
                    .unwrap_or_default();
                format!(
                    "signature {index}/{total} ({source}): rejected [{}]{by}: {}",
                    r.code,
                    shown(&r.message)
                )
            }
            (Ok(()), None) => match self.sigstore {
                Some(p) => format!(
                    "signature {index}/{total} ({source}): accepted: sigstore signature, identity {}, digest {}",
                    shown(&p.docker_reference),
                    shown(&p.docker_manifest_digest)
                ),
                None => format!("signature {index}/{total} ({source}): accepted"),
            },
        }
    }
}
