//! What a signature file is and says, trusting nothing in it (`imgsig
//! inspect`): the OpenPGP envelope's packets, the payload parsed as a claim,
//! a typed sigstore blob described, and with a keyring the verdict. The JSON
//! document is [`document`] (docs/json-output.md, "inspect").

use std::time::SystemTime;

use crate::claim::{ClaimError, UntrustedClaim};
use crate::pgp::{self, Keyring, UntrustedEnvelope};
use crate::signature::blob::{self, Blob};
use crate::signature::{self, Opened, Rejection};
use crate::sigstore::SigstoreSignature;
use crate::Reason;

mod json;
mod sigstore;

pub use json::{document, JSON_SCHEMA_VERSION};
pub use sigstore::{describe as describe_sigstore, SigstoreClaim, SigstoreDoc};

/// Everything learnt about one signature file.
#[derive(Debug)]
#[non_exhaustive]
pub struct Inspection {
    /// Where the bytes came from (a file name, `-`), as given.
    pub source: String,
    /// The untrusted description, or why there is none.
    pub envelope: Result<UntrustedEnvelope, Rejection>,
    /// The payload parsed as a claim (untrusted), when there is a payload.
    pub claim: Option<Result<UntrustedClaim, ClaimError>>,
    /// With a keyring: the verdict.
    pub verification: Option<Result<Opened, Rejection>>,
    /// A typed sigstore blob, described (then `envelope` is not used).
    pub sigstore: Option<SigstoreDoc>,
}

impl Inspection {
    /// Describe `blob` (read from `source`), or say why it could not be
    /// read; with `keys`, also verify it at `now`.
    pub fn new(
        source: String,
        blob: Result<Vec<u8>, Rejection>,
        keys: Option<&Keyring>,
        now: SystemTime,
    ) -> Inspection {
        let blob = match blob {
            Ok(b) => b,
            Err(r) => {
                return Inspection {
                    source,
                    envelope: Err(r.clone()),
                    claim: None,
                    verification: keys.map(|_| Err(r)),
                    sigstore: None,
                }
            }
        };
        // The typed formats imgsig stores in lookasides and mirrors: a simple
        // signature is described unwrapped, a sigstore one as what it is.
        let blob = match blob::classify(&blob) {
            Ok(Blob::SimpleSigning(s)) if s.len() != blob.len() => s.to_vec(),
            Ok(Blob::Sigstore(json)) => return Inspection::sigstore(source, json, keys.is_some()),
            _ => blob,
        };
        let envelope = pgp::inspect(&blob).map_err(Rejection::from);
        // Parsing an unauthenticated payload is what this command is for:
        // the result is only ever shown (marked unverified), never used to
        // decide anything, and the payload is bounded (MAX_PAYLOAD_SIZE).
        let claim = match &envelope {
            Ok(UntrustedEnvelope {
                payload: Some(p),
                payload_complete: true,
                ..
            }) => Some(UntrustedClaim::parse(p)),
            _ => None,
        };
        Inspection {
            source,
            envelope,
            claim,
            verification: keys.map(|k| signature::open(&blob, k, now)),
            sigstore: None,
        }
    }

    fn sigstore(source: String, json: &[u8], keyring: bool) -> Inspection {
        let parsed = SigstoreSignature::parse(json);
        let not_openpgp = Rejection::unauthenticated(
            Reason::UnrecognizedFormat,
            "a sigstore signature, not an OpenPGP message: an OpenPGP keyring cannot verify it \
             (imgsig verify does, under a sigstoreSigned requirement)",
        );
        match parsed {
            Ok(s) => Inspection {
                source,
                envelope: Err(not_openpgp.clone()),
                claim: None,
                verification: keyring.then_some(Err(not_openpgp)),
                sigstore: Some(sigstore::describe(&s)),
            },
            Err(e) => {
                let r = Rejection::unauthenticated(e.code, format!("not a valid sigstore signature: {}", e.message));
                Inspection {
                    source,
                    envelope: Err(r.clone()),
                    claim: None,
                    verification: keyring.then_some(Err(r)),
                    sigstore: None,
                }
            }
        }
    }

    /// Why the file could not be described at all (a sigstore blob is described).
    pub fn undescribed(&self) -> Option<&Rejection> {
        match (&self.sigstore, &self.envelope) {
            (None, Err(e)) => Some(e),
            _ => None,
        }
    }

    /// The verified signature, when a keyring verified it.
    pub fn verified(&self) -> Option<&Opened> {
        self.verification.as_ref().and_then(|v| v.as_ref().ok())
    }

    /// Whether this file fails an inspection (exit 1): it could not be
    /// described, or a keyring did not verify it.
    pub fn failed(&self) -> bool {
        self.undescribed().is_some() || matches!(self.verification, Some(Err(_)))
    }
}
