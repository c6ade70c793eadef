//! A typed sigstore blob (`\0sigstore-json\n…`), as imgsig stores cosign
//! signatures in lookasides and mirrors, described: what it says about
//! itself, UNVERIFIED (an OpenPGP keyring cannot verify it; a `sigstoreSigned`
//! requirement does, in [`crate::verify`]).

use serde::Serialize;

use crate::sigstore::{
    SigstoreSignature, UntrustedPayload, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, SET_ANNOTATION, SIGNATURE_ANNOTATION,
};

/// What a sigstore blob claims (the JSON output's `sigstore` object).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SigstoreDoc {
    /// The blob's media type.
    pub mime_type: String,
    /// Whether the media type is a cosign signature's.
    pub is_signature: bool,
    /// The payload, parsed as containers/image parses it (untrusted).
    pub claim: Option<SigstoreClaim>,
    /// Why the payload could not be parsed as a claim.
    pub claim_error: Option<String>,
    /// The payload's length in bytes.
    pub payload_length: usize,
    /// The `dev.cosignproject.cosign/signature` annotation is there.
    pub signature_present: bool,
    /// A certificate (Fulcio or pki: keyless) is attached.
    pub certificate: bool,
    /// An intermediate chain is attached.
    pub chain: bool,
    /// A Rekor SET (`dev.sigstore.cosign/bundle`) is attached.
    pub rekor_bundle: bool,
    /// Which key could verify it, for people.
    pub key_hint: String,
}

/// A sigstore payload's claim, UNVERIFIED.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SigstoreClaim {
    /// Always false: nothing here was verified.
    pub authenticated: bool,
    /// The image reference it names.
    pub identity: String,
    /// The manifest digest it names.
    pub digest: String,
    /// The tool that made it, if it says.
    pub creator: Option<String>,
    /// When it says it was made (Unix seconds).
    pub timestamp: Option<i64>,
}

/// Describe a parsed sigstore signature, trusting nothing in it.
pub fn describe(s: &SigstoreSignature) -> SigstoreDoc {
    let has = |k: &str| s.annotations().contains_key(k);
    let (claim, claim_error) = match UntrustedPayload::parse(s.payload()) {
        Ok(p) => (
            Some(SigstoreClaim {
                authenticated: false,
                identity: p.docker_reference,
                digest: p.docker_manifest_digest,
                creator: p.creator,
                timestamp: p.timestamp,
            }),
            None,
        ),
        Err(e) => (None, Some(e.message)),
    };
    let certificate = has(CERTIFICATE_ANNOTATION);
    SigstoreDoc {
        mime_type: s.mime_type().to_owned(),
        is_signature: s.is_signature(),
        claim,
        claim_error,
        payload_length: s.payload().len(),
        signature_present: has(SIGNATURE_ANNOTATION),
        certificate,
        chain: has(CHAIN_ANNOTATION),
        rekor_bundle: has(SET_ANNOTATION),
        key_hint: if certificate {
            "keyless: the attached certificate names the signer (a sigstoreSigned fulcio or pki requirement verifies it)".into()
        } else {
            "a public key: the blob names none (a sigstoreSigned keyPath/keyData requirement verifies it)".into()
        },
    }
}
