//! Per-signature report lines for people, shared by the keyring and policy
//! forms of `imgsig verify` (the JSON objects are the library's
//! [`imgsig::verify::ImageDocument`]).

use crate::shown::shown;
use imgsig::signature::{Opened, Rejection};

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
                crate::time::rfc3339(o.claim.timestamp().unwrap_or(o.signer.created)),
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
