//! The inspect document (docs/json-output.md, "inspect"): exactly what
//! `imgsig inspect --output json` prints.

use std::path::PathBuf;

use serde::Serialize;

use super::{Inspection, SigstoreDoc};
use crate::pgp::{self, PacketDetails, UntrustedEnvelope, UntrustedPacket};
use crate::time::unix_seconds;
use crate::verify::ErrorDocument;
use crate::Reason;

/// The `schema_version` of the inspect document.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Bytes of a payload carried as text in the document.
const PAYLOAD_JSON_TEXT: usize = 4096;

/// The document of one `inspect` run: the keyrings given, the keys they
/// hold, and what each signature file is.
pub fn document(keyrings: &[PathBuf], trusted: Vec<String>, results: &[Inspection]) -> impl Serialize {
    InspectDoc {
        schema_version: JSON_SCHEMA_VERSION,
        command: "inspect",
        keyrings: keyrings.iter().map(|p| p.display().to_string()).collect(),
        trusted_fingerprints: trusted,
        signatures: results
            .iter()
            .enumerate()
            .map(|(i, r)| signature_doc(i + 1, r))
            .collect(),
    }
}

#[derive(Debug, Serialize)]
struct InspectDoc {
    schema_version: u32,
    command: &'static str,
    keyrings: Vec<String>,
    trusted_fingerprints: Vec<String>,
    signatures: Vec<SignatureDoc>,
}

#[derive(Debug, Serialize)]
struct SignatureDoc {
    index: usize,
    source: String,
    verified: Option<bool>,
    verification: Option<VerificationDoc>,
    error: Option<ErrorDocument>,
    envelope_problem: Option<ErrorDocument>,
    issuer_key_id: Option<String>,
    issuer_fingerprint: Option<String>,
    signature: Option<SigDoc>,
    claim: Option<ClaimDoc>,
    claim_error: Option<String>,
    payload: Option<PayloadDoc>,
    packets: Vec<PacketDoc>,
    packets_stopped: Option<String>,
    /// A typed sigstore blob, described (untrusted); else `null`.
    sigstore: Option<SigstoreDoc>,
}

#[derive(Debug, Serialize)]
struct VerificationDoc {
    reason: Option<Reason>,
    message: String,
    signer: Option<crate::signature::Signer>,
    signature_created: Option<i64>,
    hash_algorithm: Option<String>,
}

#[derive(Debug, Serialize)]
struct ClaimDoc {
    authenticated: bool,
    identity: String,
    digest: String,
    creator: Option<String>,
    timestamp: Option<i64>,
}

#[derive(Debug, Serialize)]
struct PayloadDoc {
    length: usize,
    complete: bool,
    text: String,
    text_truncated: bool,
}

#[derive(Debug, Serialize)]
struct SigDoc {
    version: u8,
    signature_type: String,
    public_key_algorithm: String,
    hash_algorithm: String,
    created: Option<i64>,
    expires: Option<i64>,
    issuer_key_ids: Vec<String>,
    issuer_fingerprints: Vec<String>,
}

impl From<&pgp::UntrustedSignature> for SigDoc {
    fn from(s: &pgp::UntrustedSignature) -> SigDoc {
        SigDoc {
            version: s.version,
            signature_type: s.signature_type.clone(),
            public_key_algorithm: s.public_key_algorithm.clone(),
            hash_algorithm: s.hash_algorithm.clone(),
            created: s.created.map(unix_seconds),
            expires: s.expires.map(unix_seconds),
            issuer_key_ids: s.issuer_key_ids.clone(),
            issuer_fingerprints: s.issuer_fingerprints.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
struct PacketDoc {
    tag: &'static str,
    tag_number: u8,
    depth: usize,
    #[serde(flatten)]
    details: DetailsDoc,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum DetailsDoc {
    Compressed {
        compression_algorithm: String,
    },
    OnePassSig {
        version: u8,
        signature_type: String,
        public_key_algorithm: String,
        hash_algorithm: String,
        issuer: String,
        last: bool,
    },
    Literal {
        format: String,
        filename: String,
        date: Option<i64>,
        length: usize,
        complete: bool,
    },
    Signature(SigDoc),
    Other {
        note: Option<String>,
    },
}

fn packet_doc(p: &UntrustedPacket) -> PacketDoc {
    let details = match &p.details {
        PacketDetails::CompressedData { algorithm } => DetailsDoc::Compressed {
            compression_algorithm: algorithm.clone(),
        },
        PacketDetails::OnePassSig {
            version,
            signature_type,
            public_key_algorithm,
            hash_algorithm,
            issuer,
            last,
        } => DetailsDoc::OnePassSig {
            version: *version,
            signature_type: signature_type.clone(),
            public_key_algorithm: public_key_algorithm.clone(),
            hash_algorithm: hash_algorithm.clone(),
            issuer: issuer.clone(),
            last: *last,
        },
        PacketDetails::Literal {
            format,
            filename,
            date,
            length,
            complete,
        } => DetailsDoc::Literal {
            format: format.to_string(),
            filename: String::from_utf8_lossy(filename).into_owned(),
            date: date.map(unix_seconds),
            length: *length,
            complete: *complete,
        },
        PacketDetails::Signature(s) => DetailsDoc::Signature(s.into()),
        PacketDetails::Other { note } => DetailsDoc::Other { note: note.clone() },
    };
    PacketDoc {
        tag: p.name(),
        tag_number: p.tag,
        depth: p.depth,
        details,
    }
}

fn signature_doc(index: usize, r: &Inspection) -> SignatureDoc {
    let env = r.envelope.as_ref().ok();
    let verification = r.verification.as_ref().map(|v| {
        let signer = match v {
            Ok(o) => Some(&o.signer),
            Err(e) => e.signer.as_ref(),
        };
        VerificationDoc {
            reason: v.as_ref().err().map(|e| e.code),
            message: match v {
                Ok(_) => "good signature by a trusted key; the claim is valid (not compared with any image)".into(),
                Err(e) => e.message.clone(),
            },
            signer: signer.cloned(),
            signature_created: signer.map(|s| s.created),
            hash_algorithm: signer.map(|s| s.hash_algorithm.clone()),
        }
    });
    let claim = match (r.verified(), &r.claim) {
        (Some(o), _) => Some(ClaimDoc {
            authenticated: true,
            identity: o.claim.docker_reference().to_owned(),
            digest: o.claim.manifest_digest().to_string(),
            creator: o.claim.creator().map(str::to_owned),
            timestamp: o.claim.timestamp(),
        }),
        (None, Some(Ok(c))) => Some(ClaimDoc {
            authenticated: false,
            identity: c.untrusted_docker_reference().to_owned(),
            digest: c.untrusted_manifest_digest().to_string(),
            creator: c.untrusted_creator().map(str::to_owned),
            timestamp: c.untrusted_timestamp(),
        }),
        _ => None,
    };
    SignatureDoc {
        index,
        source: r.source.clone(),
        verified: r.verification.as_ref().map(|v| v.is_ok()),
        verification,
        error: r.undescribed().map(|e| ErrorDocument::new(e.code, e.message.clone())),
        envelope_problem: env
            .and_then(|e| e.structure.as_ref().err())
            .map(|e| ErrorDocument::new(e.code(), e.to_string())),
        issuer_key_id: env.and_then(UntrustedEnvelope::issuer_key_id),
        issuer_fingerprint: env.and_then(UntrustedEnvelope::issuer_fingerprint),
        signature: env.and_then(UntrustedEnvelope::signature).map(SigDoc::from),
        claim,
        claim_error: r.claim.as_ref().and_then(|c| c.as_ref().err()).map(|e| e.to_string()),
        payload: env.and_then(|e| {
            e.payload.as_ref().map(|p| {
                let shown = &p[..p.len().min(PAYLOAD_JSON_TEXT)];
                PayloadDoc {
                    length: p.len(),
                    complete: e.payload_complete,
                    text: String::from_utf8_lossy(shown).into_owned(),
                    text_truncated: shown.len() < p.len() || !e.payload_complete,
                }
            })
        }),
        packets: env
            .map(|e| e.packets.iter().map(packet_doc).collect())
            .unwrap_or_default(),
        packets_stopped: env.and_then(|e| e.stopped.clone()),
        sigstore: r.sigstore.clone(),
    }
}
