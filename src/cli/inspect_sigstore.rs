//! `imgsig inspect` of a typed sigstore blob (`\0sigstore-json\n…`), as
//! imgsig stores cosign signatures in lookasides and mirrors: what it says
//! about itself, UNVERIFIED (an OpenPGP keyring cannot verify it; `imgsig
//! verify` does, under a `sigstoreSigned` requirement).

use serde::Serialize;

use imgsig::sigstore::{
    SigstoreSignature, UntrustedPayload, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, SET_ANNOTATION, SIGNATURE_ANNOTATION,
};

/// What a sigstore blob claims (the JSON output's `sigstore` object).
#[derive(Debug, Clone, Serialize)]
pub struct SigstoreDoc {
    mime_type: String,
    is_signature: bool,
    /// The payload, parsed as containers/image parses it (untrusted).
    claim: Option<ClaimDoc>,
    claim_error: Option<String>,
    payload_length: usize,
    /// The `dev.cosignproject.cosign/signature` annotation is there.
    signature_present: bool,
    /// A certificate (Fulcio or pki: keyless) is attached.
    certificate: bool,
    /// An intermediate chain is attached.
    chain: bool,
    /// A Rekor SET (`dev.sigstore.cosign/bundle`) is attached.
    rekor_bundle: bool,
    /// Which key could verify it, for people.
    key_hint: String,
}

#[derive(Debug, Clone, Serialize)]
struct ClaimDoc {
    authenticated: bool,
    identity: String,
    digest: String,
    creator: Option<String>,
    timestamp: Option<i64>,
}

/// Describe a parsed sigstore signature, trusting nothing in it.
pub fn describe(s: &SigstoreSignature) -> SigstoreDoc {
    let has = |k: &str| s.annotations().contains_key(k);
    let (claim, claim_error) = match UntrustedPayload::parse(s.payload()) {
        Ok(p) => (
            Some(ClaimDoc {
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

/// The human description's lines after the status line.
pub fn human(d: &SigstoreDoc, line: &mut dyn FnMut(&str, String)) {
    let yes = |b: bool| if b { "present" } else { "absent" };
    line(
        "format",
        format!(
            "sigstore signature (typed blob, {}{})",
            super::inspect_text::quoted(&d.mime_type),
            if d.is_signature {
                ""
            } else {
                ", not a signature: an attachment"
            }
        ),
    );
    match (&d.claim, &d.claim_error) {
        (Some(c), _) => {
            line("identity", super::inspect_text::quoted(&c.identity));
            line("digest", super::inspect_text::quoted(&c.digest));
            line(
                "creator",
                c.creator
                    .as_deref()
                    .map(super::inspect_text::quoted)
                    .unwrap_or_else(|| "(none)".into()),
            );
            line("timestamp", super::inspect_text::timestamp(c.timestamp));
        }
        (None, Some(e)) => line("claim", format!("not a valid sigstore payload: {}", e.escape_debug())),
        (None, None) => {}
    }
    line("payload", format!("{} bytes", d.payload_length));
    line("key", d.key_hint.clone());
    line("signature", yes(d.signature_present).into());
    line(
        "cert",
        format!("{}{}", yes(d.certificate), if d.chain { ", with a chain" } else { "" }),
    );
    line("rekor", format!("{} (SET bundle)", yes(d.rekor_bundle)));
}
