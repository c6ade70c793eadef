//! The OpenPGP envelope: a binary signed message around the claim.
//!
//! Signing produces `One-Pass Signature, Literal Data, Signature` (no
//! compression, like the reference's Sequoia backend). Verification accepts
//! exactly one signature over one literal data packet, optionally inside
//! one compression layer (what gpg writes), and nothing else: cleartext,
//! armored, detached, encrypted, nested and multi-signature inputs are
//! rejected with a reason. The packet structure is checked before any
//! cryptography with hard limits on what is read and decompressed
//! ([`MAX_SIGNATURE_SIZE`], [`MAX_PAYLOAD_SIZE`], at most 16 packets of at
//! most 64 KiB each, one compression layer), so hostile input costs bounded
//! memory and time.
//!
//! Trusted keys only ever come from a [`Keyring`] built by the caller from
//! files or policy data; nothing here reads a GnuPG home or a keyserver.
//!
//! [`inspect`] describes an envelope without any key (packets, issuer,
//! payload), within the same bounds, and reports the structure verdict of
//! the same checks `verify` runs first; nothing it returns is authentic.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use openpgp::cert::amalgamation::key::ValidErasedKeyAmalgamation;
use openpgp::cert::prelude::*;
use openpgp::crypto::Password;
use openpgp::packet::key::PublicParts;
use openpgp::packet::{OnePassSig, Signature, Tag};
use openpgp::parse::stream::VerificationError;
use openpgp::parse::{Dearmor, PacketParserBuilder, PacketParserResult, Parse};
use openpgp::policy::{Policy, StandardPolicy};
use openpgp::serialize::stream::{LiteralWriter, Message, Signer};
use openpgp::types::{HashAlgorithm, KeyFlags, RevocationStatus, SignatureType};
use openpgp::{Fingerprint, KeyHandle, KeyID, Packet};
use sequoia_openpgp as openpgp;

pub use openpgp::Cert;

mod inspect;
pub use inspect::{inspect, PacketDetails, UntrustedEnvelope, UntrustedPacket, UntrustedSignature};

/// Largest signature blob read from anywhere (the reference's
/// `MaxSignatureBodySize`).
pub const MAX_SIGNATURE_SIZE: usize = 4 * 1024 * 1024;
/// Largest claim payload accepted after decompression. Real claims are a few
/// hundred bytes; anything past this is a decompression bomb or not a claim.
pub const MAX_PAYLOAD_SIZE: usize = 64 * 1024;
/// How far in the future a signature's creation time may be (clock skew).
pub const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

fn policy() -> &'static StandardPolicy<'static> {
    static POLICY: StandardPolicy<'static> = StandardPolicy::new();
    &POLICY
}

/// A key file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("no OpenPGP certificate found")]
    NoCertificates,
    #[error("not a valid OpenPGP keyring: {0}")]
    Parse(String),
    #[error("the file holds {0} secret keys; give a file with exactly one")]
    SeveralSecretKeys(usize),
    #[error("no secret key material (this is a public key; give the secret key, e.g. `gpg --export-secret-keys FPR`)")]
    NoSecretKey,
    #[error(
        "key {fingerprint} has no valid, unexpired, unrevoked signing-capable (sub)key with secret material: {reason}"
    )]
    NoSigningKey { fingerprint: String, reason: String },
    #[error("the secret key is protected by a passphrase; give it with --passphrase-file FILE or IMGSIG_PASSPHRASE")]
    PassphraseNeeded,
    #[error("wrong passphrase for key {0}")]
    WrongPassphrase(String),
}

/// Signing failed.
#[derive(Debug, thiserror::Error)]
#[error("creating the OpenPGP signature failed: {0}")]
pub struct SignError(String);

/// A set of trusted certificates, indexed by every (sub)key's fingerprint
/// and key ID so verification only looks at the certificates a signature
/// names.
#[derive(Debug, Default)]
pub struct Keyring {
    certs: Vec<Cert>,
    by_keyid: HashMap<KeyID, Vec<usize>>,
    /// Position in `certs` by primary key fingerprint.
    by_fpr: HashMap<Fingerprint, usize>,
    /// Whether a signing key of one of `certs` is usable at a given time (the "now" of a
    /// verification run): a run that checks many signatures by one key validates it once.
    /// Keyed by the certificate's position in `certs` (two entries may share fingerprints
    /// and differ, e.g. one carrying a revocation), the key and the time. Cleared whenever
    /// certificates are added; a clone starts empty.
    /// At most one entry per (certificate, key): the latest time asked about.
    usable: Mutex<HashMap<(usize, Fingerprint), Usable>>,
}

/// When a key's usability was checked, and the answer.
type Usable = (SystemTime, Result<(), EnvelopeError>);

impl Clone for Keyring {
    fn clone(&self) -> Keyring {
        Keyring {
            certs: self.certs.clone(),
            by_keyid: self.by_keyid.clone(),
            by_fpr: self.by_fpr.clone(),
            usable: Mutex::default(),
        }
    }
}

impl Keyring {
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// Parse an armored or binary keyring holding one or more certificates.
    pub fn parse_certs(bytes: &[u8]) -> Result<Vec<Cert>, KeyError> {
        let mut certs = Vec::new();
        for cert in CertParser::from_bytes(bytes).map_err(|e| KeyError::Parse(e.to_string()))? {
            certs.push(cert.map_err(|e| KeyError::Parse(format!("{e:#}")))?);
        }
        if certs.is_empty() {
            return Err(KeyError::NoCertificates);
        }
        Ok(certs)
    }

    /// Add certificates (secret parts are stripped). Copies of a certificate already
    /// present (same primary key) are merged into it, as gpg merges them on import: a
    /// revocation in any copy counts, whatever the order of the files, and the newest
    /// self-signatures across the copies decide expiry and key flags.
    pub fn add(&mut self, certs: impl IntoIterator<Item = Cert>) {
        for cert in certs {
            let cert = cert.strip_secret_key_material();
            let fpr = cert.fingerprint();
            let (idx, cert) = match self.by_fpr.get(&fpr) {
                Some(&i) => match self.certs[i].clone().merge_public(cert.clone()) {
                    Ok(merged) => (i, merged),
                    // Cannot happen for the same primary key; never drop either copy.
                    Err(_) => (self.certs.len(), cert),
                },
                None => (self.certs.len(), cert),
            };
            self.by_fpr.entry(fpr).or_insert(idx);
            for key in cert.keys() {
                let v = self.by_keyid.entry(KeyID::from(key.key().fingerprint())).or_default();
                if !v.contains(&idx) {
                    v.push(idx);
                }
            }
            if idx == self.certs.len() {
                self.certs.push(cert);
            } else {
                self.certs[idx] = cert;
            }
        }
        self.usable.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Add every certificate in an armored or binary keyring.
    pub fn add_keyring_bytes(&mut self, bytes: &[u8]) -> Result<usize, KeyError> {
        let certs = Keyring::parse_certs(bytes)?;
        let n = certs.len();
        self.add(certs);
        Ok(n)
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Primary-key fingerprints (uppercase hex) of all certificates.
    pub fn fingerprints(&self) -> Vec<String> {
        self.certs.iter().map(|c| c.fingerprint().to_hex()).collect()
    }

    /// The certificates, in the order they were added.
    pub fn certs(&self) -> &[Cert] {
        &self.certs
    }

    /// The certificates with a (sub)key whose key ID matches one of `ids`,
    /// each once; the caller then matches full fingerprints.
    fn candidates<'a>(&'a self, ids: &[KeyHandle]) -> impl Iterator<Item = (usize, &'a Cert)> + 'a {
        let mut idxs: Vec<usize> = Vec::new();
        for id in ids {
            for &i in self.by_keyid.get(&KeyID::from(id)).into_iter().flatten() {
                if !idxs.contains(&i) {
                    idxs.push(i);
                }
            }
        }
        idxs.into_iter().map(move |i| (i, &self.certs[i]))
    }

    /// [`check_key_at`] for the key `signing` of certificate `idx` at `now`, remembered for
    /// the next signature by the same key of the same certificate at the same `now`.
    fn usable_now(
        &self,
        policy: &StandardPolicy<'_>,
        idx: usize,
        signing: &Fingerprint,
        now: SystemTime,
    ) -> Result<(), EnvelopeError> {
        let cert = &self.certs[idx];
        let key = (idx, signing.clone());
        let lock = || self.usable.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, result)) = lock().get(&key) {
            if *at == now {
                return result.clone();
            }
        }
        let result = check_key_at(policy, cert, signing, now, "now");
        lock().insert(key, (now, result.clone()));
        result
    }
}

/// Why an envelope was rejected. Each variant maps to a stable reason code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    #[error("empty signature file")]
    Empty,
    #[error("signature is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("unrecognized signature format, starting with binary 0x{0:02x}: a simple-signing signature is a binary OpenPGP signed message (armored and cleartext-signed messages are not accepted)")]
    UnrecognizedFormat(u8),
    #[error("not a valid OpenPGP signed message: {0}")]
    Malformed(String),
    #[error("the message is encrypted; a signature must be a plain signed message")]
    Encrypted,
    #[error("the message is not signed")]
    NotSigned,
    #[error("this is a detached signature by key {issuer} without the signed content; a simple-signing signature is a signed message that carries the claim")]
    Detached { issuer: String },
    #[error("the message carries {count} signatures{}; exactly one is allowed", by_keys(issuers))]
    MultipleSignatures { count: usize, issuers: Vec<String> },
    #[error("the message has {0} compression layers; at most one is allowed")]
    NestedCompression(usize),
    #[error("the signed content is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("signed by key {issuer}, which is not among the trusted keys")]
    UnknownKey { issuer: String },
    #[error("signature by key {issuer} uses the {algo} hash algorithm, which is not accepted (broken)")]
    WeakHash { algo: String, issuer: String },
    #[error("key {fingerprint} has expired{detail}")]
    ExpiredKey { fingerprint: String, detail: String },
    #[error("key {fingerprint} is revoked{detail}")]
    RevokedKey { fingerprint: String, detail: String },
    #[error("key {fingerprint} is not valid for signing: {detail}")]
    NotSigningKey { fingerprint: String, detail: String },
    #[error("signature has expired{0}")]
    ExpiredSignature(String),
    #[error("signature by key {issuer} was made in the future ({created}), more than {skew_secs} s ahead of this machine's clock")]
    FutureSignature {
        created: String,
        skew_secs: u64,
        issuer: String,
    },
    #[error("bad signature by key {fingerprint}: the signed content or the signature was modified ({detail})")]
    BadSignature { fingerprint: String, detail: String },
}

fn by_keys(issuers: &[String]) -> String {
    if issuers.is_empty() {
        String::new()
    } else {
        format!(" (by keys {})", issuers.join(", "))
    }
}

impl EnvelopeError {
    /// Stable kebab-case reason code for JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            EnvelopeError::Empty => "empty-signature",
            EnvelopeError::TooLarge { .. } => "signature-too-large",
            EnvelopeError::UnrecognizedFormat(_) => "unrecognized-format",
            EnvelopeError::Malformed(_) => "malformed-signature",
            EnvelopeError::Encrypted => "encrypted-message",
            EnvelopeError::NotSigned => "not-signed",
            EnvelopeError::Detached { .. } => "detached-signature",
            EnvelopeError::MultipleSignatures { .. } => "multiple-signatures",
            EnvelopeError::NestedCompression(_) => "nested-message",
            EnvelopeError::PayloadTooLarge(_) => "payload-too-large",
            EnvelopeError::UnknownKey { .. } => "unknown-key",
            EnvelopeError::WeakHash { .. } => "weak-hash-algorithm",
            EnvelopeError::ExpiredKey { .. } => "expired-key",
            EnvelopeError::RevokedKey { .. } => "revoked-key",
            EnvelopeError::NotSigningKey { .. } => "not-signing-key",
            EnvelopeError::ExpiredSignature(_) => "expired-signature",
            EnvelopeError::FutureSignature { .. } => "future-signature",
            EnvelopeError::BadSignature { .. } => "bad-signature",
        }
    }
}

/// A signed message whose signature checked out against a trusted key.
#[derive(Debug, Clone)]
pub struct VerifiedEnvelope {
    /// The signed content (the claim bytes), authenticated.
    pub payload: Vec<u8>,
    /// Fingerprint of the certificate's primary key (uppercase hex).
    pub primary_fingerprint: String,
    /// Fingerprint of the (sub)key that made the signature.
    pub signing_fingerprint: String,
    /// Signature creation time.
    pub created: SystemTime,
    /// Hash algorithm, e.g. "SHA512".
    pub hash_algorithm: String,
}

/// First-byte sniffing exactly as containers/image `FromBlob` does
/// (including its list of old-format one-pass-signature headers).
fn sniff(blob: &[u8]) -> Result<(), EnvelopeError> {
    let Some(&first) = blob.first() else {
        return Err(EnvelopeError::Empty);
    };
    match first {
        0xA0..=0xA3 | 0xC8 | 0x90 | 0x91 | 0x92 | 0x3D | 0xC4 | 0x88..=0x8B | 0xC2 => Ok(()),
        other => Err(EnvelopeError::UnrecognizedFormat(other)),
    }
}

/// Most packets the structure check looks at (a valid envelope has at most
/// four: compressed data, one-pass signature, literal data, signature).
const MAX_PACKETS: usize = 16;
/// Largest one-pass-signature or signature packet (real ones are under
/// 2 KiB even for RSA-16384).
const MAX_PACKET_SIZE: u32 = 64 * 1024;

/// The packet structure, checked before any cryptography and with hard
/// bounds on everything that is read or decompressed: the message must be
/// `[Compressed Data (] One-Pass Signature, Literal Data, Signature [)]`
/// and nothing else. ASCII armor is never decoded here or later (the first
/// packet header must be a valid binary one, so sequoia's armor detection
/// does not kick in either).
///
/// The parser hashes the literal data as announced by the one-pass
/// signature (as sequoia's own `Verifier` does), so the returned signature
/// carries the digest of the signed content and only the public-key
/// operation is left to do.
fn check_structure(blob: &[u8]) -> Result<Parsed, EnvelopeError> {
    let mut ppr = PacketParserBuilder::from_bytes(blob)
        .and_then(|b| {
            b.dearmor(Dearmor::Disabled)
                .max_recursion_depth(1)
                .max_packet_size(MAX_PACKET_SIZE)
                .build()
        })
        .map_err(|e| EnvelopeError::Malformed(err_text(&e)))?;
    let mut count = 0usize;
    let mut payload = Vec::new();
    let mut compressed = false;
    let mut order: Vec<Tag> = Vec::new();
    let mut opss: Vec<OnePassSig> = Vec::new();
    let mut sigs: Vec<Signature> = Vec::new();
    while let PacketParserResult::Some(mut pp) = ppr {
        count += 1;
        if count > MAX_PACKETS {
            return Err(EnvelopeError::Malformed(format!(
                "more than {MAX_PACKETS} packets; a signed message has at most 4"
            )));
        }
        let depth = pp.recursion_depth();
        let tag = pp.packet.tag();
        if let Packet::Unknown(u) = &pp.packet {
            if u.tag() == Tag::Reserved && count > 1 {
                // sequoia's name for bytes that are not a packet.
                return Err(EnvelopeError::Malformed(format!(
                    "trailing data after the signed message ({})",
                    u.error()
                )));
            }
        }
        if depth == 0 && compressed {
            return Err(EnvelopeError::Malformed(format!(
                "trailing data after the compressed message (a {tag})"
            )));
        }
        match &pp.packet {
            Packet::Unknown(u) => {
                return Err(match u.tag() {
                    Tag::PKESK | Tag::SKESK | Tag::SEIP | Tag::SED | Tag::AED | Tag::MDC => EnvelopeError::Encrypted,
                    t => EnvelopeError::Malformed(format!("unusable {t}: {}", u.error())),
                })
            }
            Packet::CompressedData(_) if depth > 0 => {
                // Not decompressed any further: one look is enough.
                return Err(EnvelopeError::NestedCompression(depth as usize + 1));
            }
            Packet::CompressedData(_) if count > 1 => {
                return Err(EnvelopeError::Malformed(format!(
                    "a compressed data packet after a {}; compression must wrap the whole message",
                    order.last().map(|t| t.to_string()).unwrap_or_default()
                )));
            }
            Packet::CompressedData(_) => compressed = true,
            Packet::OnePassSig(ops) => {
                opss.push(ops.clone());
                order.push(tag);
            }
            Packet::Signature(_) => order.push(tag),
            Packet::Literal(_) => {
                let mut body = Vec::new();
                (&mut pp)
                    .take(MAX_PAYLOAD_SIZE as u64 + 1)
                    .read_to_end(&mut body)
                    .map_err(|e| EnvelopeError::Malformed(format!("literal data: {e}")))?;
                if body.len() > MAX_PAYLOAD_SIZE {
                    return Err(EnvelopeError::PayloadTooLarge(MAX_PAYLOAD_SIZE));
                }
                payload = body;
                order.push(tag);
            }
            Packet::PKESK(_) | Packet::SKESK(_) | Packet::SEIP(_) => return Err(EnvelopeError::Encrypted),
            _ if matches!(tag, Tag::SED | Tag::AED | Tag::MDC) => return Err(EnvelopeError::Encrypted),
            _ => {
                return Err(EnvelopeError::Malformed(format!(
                    "unexpected {tag}; a signed message holds only a one-pass signature, literal data and a signature"
                )))
            }
        }
        // sequoia's `Verifier` applies the standard policy's packet rules
        // to the packets up to the literal data (not to the signature at
        // the end, so v3 signatures stay acceptable, as in the reference).
        if tag != Tag::Signature {
            policy().packet(&pp.packet).map_err(malformed)?;
        }
        let (packet, next) = pp.recurse().map_err(|e| EnvelopeError::Malformed(err_text(&e)))?;
        if let Packet::Signature(sig) = packet {
            sigs.push(sig);
        }
        ppr = next;
    }

    let literals = order.iter().filter(|t| **t == Tag::Literal).count();
    if literals == 0 {
        return Err(match (opss.len(), sigs.first()) {
            (0, Some(sig)) => EnvelopeError::Detached { issuer: issuer_of(sig) },
            (0, None) if !compressed => EnvelopeError::Malformed("no packets".into()),
            _ => EnvelopeError::Malformed("no literal data packet (nothing is signed)".into()),
        });
    }
    if opss.len() > 1 || sigs.len() > 1 {
        let mut issuers: Vec<String> = sigs.iter().map(issuer_of).collect();
        if issuers.len() < opss.len() {
            issuers = opss.iter().map(|o| o.issuer().to_hex()).collect();
        }
        return Err(EnvelopeError::MultipleSignatures {
            count: opss.len().max(sigs.len()),
            issuers,
        });
    }
    if literals > 1 {
        return Err(EnvelopeError::Malformed(format!(
            "{literals} literal data packets; exactly one is allowed"
        )));
    }
    const NO_SIG: &str = "a one-pass signature packet without its signature packet";
    const NO_OPS: &str =
        "a signature packet without a one-pass signature packet (old-style signed messages are not accepted)";
    let (ops, sig) = match (opss.first(), sigs.first()) {
        (None, None) => return Err(EnvelopeError::NotSigned),
        (Some(_), None) => return Err(EnvelopeError::Malformed(NO_SIG.into())),
        (None, Some(_)) => return Err(EnvelopeError::Malformed(NO_OPS.into())),
        (Some(ops), Some(sig)) => (ops, sig),
    };
    if order != [Tag::OnePassSig, Tag::Literal, Tag::Signature] {
        let names: Vec<String> = order.iter().map(|t| t.to_string()).collect();
        return Err(EnvelopeError::Malformed(format!(
            "packets in the wrong order ({}); expected one-pass signature, literal data, signature",
            names.join(", ")
        )));
    }
    if !matches!(sig.typ(), SignatureType::Binary | SignatureType::Text) {
        return Err(EnvelopeError::Malformed(format!(
            "the signature by key {} is a {} signature, not a signature over data",
            issuer_of(sig),
            sig.typ()
        )));
    }
    if ops.hash_algo() != sig.hash_algo() || ops.pk_algo() != sig.pk_algo() || ops.typ() != sig.typ() {
        return Err(EnvelopeError::Malformed(format!(
            "the one-pass signature announces {}/{}/{} but the signature by key {} is {}/{}/{}",
            ops.typ(),
            ops.pk_algo(),
            ops.hash_algo(),
            issuer_of(sig),
            sig.typ(),
            sig.pk_algo(),
            sig.hash_algo()
        )));
    }
    let ops_issuer = ops.issuer();
    if !sig.get_issuers().iter().any(|i| i.aliases(&ops_issuer)) {
        return Err(EnvelopeError::Malformed(format!(
            "the one-pass signature names key {} but the signature was made by key {}",
            ops_issuer.to_hex(),
            issuer_of(sig)
        )));
    }
    let sig = sigs.pop().expect("exactly one signature");
    Ok(Parsed { payload, sig })
}

/// A message that passed the structure check: the literal data and the
/// one signature, its digest computed over that data.
struct Parsed {
    payload: Vec<u8>,
    sig: Signature,
}

fn weak_hash(algo: HashAlgorithm) -> bool {
    !matches!(
        algo,
        HashAlgorithm::SHA224
            | HashAlgorithm::SHA256
            | HashAlgorithm::SHA384
            | HashAlgorithm::SHA512
            | HashAlgorithm::SHA3_256
            | HashAlgorithm::SHA3_512
    )
}

/// The issuer a signature names (fingerprint if it has one, else key ID).
fn issuer_of(sig: &Signature) -> String {
    let issuers = sig.get_issuers();
    issuers
        .iter()
        .find(|h| matches!(h, KeyHandle::Fingerprint(_)))
        .or_else(|| issuers.first())
        .map(|h| h.to_hex())
        .unwrap_or_else(|| "(no issuer in signature)".to_owned())
}

/// "PRIMARY" or "SUBKEY (subkey of PRIMARY)".
fn key_name(primary: &Fingerprint, signing: &Fingerprint) -> String {
    if primary == signing {
        primary.to_hex()
    } else {
        format!("{} (subkey of {})", signing.to_hex(), primary.to_hex())
    }
}

/// An error and its causes, without the repetitions sequoia's contexts
/// often carry.
fn err_text(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

fn fmt_time(t: SystemTime) -> String {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => crate::time::rfc3339(d.as_secs() as i64),
        Err(_) => "before 1970".to_owned(),
    }
}

/// Problems with the signature itself, whoever made it: a broken hash, a
/// creation time in the future, an expiration time in the past.
fn signature_problem(sig: &Signature, who: &str, now: SystemTime) -> Option<EnvelopeError> {
    if weak_hash(sig.hash_algo()) {
        return Some(EnvelopeError::WeakHash {
            algo: sig.hash_algo().to_string(),
            issuer: who.to_owned(),
        });
    }
    if let Some(created) = sig.signature_creation_time() {
        if created > now + CLOCK_SKEW {
            return Some(EnvelopeError::FutureSignature {
                created: fmt_time(created),
                skew_secs: CLOCK_SKEW.as_secs(),
                issuer: who.to_owned(),
            });
        }
    }
    if let Some(exp) = sig.signature_expiration_time() {
        // sequoia judges expiry at now + CLOCK_SKEW (see `verify`).
        if exp <= now + CLOCK_SKEW {
            return Some(EnvelopeError::ExpiredSignature(format!(
                " on {} (signature by key {who})",
                fmt_time(exp)
            )));
        }
    }
    None
}

fn key_flag_names(flags: Option<KeyFlags>) -> String {
    let Some(f) = flags else {
        return "no key flags".into();
    };
    let mut names = Vec::new();
    for (set, name) in [
        (f.for_certification(), "certify"),
        (f.for_signing(), "sign"),
        (f.for_transport_encryption(), "encrypt communications"),
        (f.for_storage_encryption(), "encrypt storage"),
        (f.for_authentication(), "authenticate"),
    ] {
        if set {
            names.push(name);
        }
    }
    if names.is_empty() {
        "no capabilities".into()
    } else {
        format!("only: {}", names.join(", "))
    }
}

fn revocation_reason(status: &RevocationStatus) -> String {
    match status {
        RevocationStatus::Revoked(sigs) => match sigs.first().and_then(|s| s.reason_for_revocation()) {
            Some((reason, msg)) if !msg.is_empty() => {
                format!(": {reason}, \"{}\"", String::from_utf8_lossy(msg))
            }
            Some((reason, _)) => format!(": {reason}"),
            None => String::new(),
        },
        _ => String::new(),
    }
}

/// A key's liveness error (`alive()`) as a rejection.
fn not_alive(fpr: &Fingerprint, what: &str, e: &anyhow::Error, when: &str) -> EnvelopeError {
    match e.downcast_ref::<openpgp::Error>() {
        Some(openpgp::Error::NotYetLive(t)) => EnvelopeError::NotSigningKey {
            fingerprint: fpr.to_hex(),
            detail: format!("{what} is not valid before {} ({when})", fmt_time(*t)),
        },
        Some(openpgp::Error::Expired(t)) => EnvelopeError::ExpiredKey {
            fingerprint: fpr.to_hex(),
            detail: format!(" ({what} expired on {}; checked {when})", fmt_time(*t)),
        },
        _ => EnvelopeError::ExpiredKey {
            fingerprint: fpr.to_hex(),
            detail: format!(" ({what} is not alive {when}: {})", err_text(e)),
        },
    }
}

/// The checks sequoia makes on the issuing key, in a fixed order, as
/// precise rejections (instead of guessing from error strings).
fn check_valid_key(ka: &ValidErasedKeyAmalgamation<'_, PublicParts>, when: &str) -> Result<(), EnvelopeError> {
    let primary = ka.cert().fingerprint();
    let signing = ka.key().fingerprint();
    let vc = ka.valid_cert();
    let cert_rev = vc.revocation_status();
    if let RevocationStatus::Revoked(_) = cert_rev {
        return Err(EnvelopeError::RevokedKey {
            fingerprint: primary.to_hex(),
            detail: format!(
                " (the certificate carries a revocation{}; checked {when})",
                revocation_reason(&cert_rev)
            ),
        });
    }
    let key_rev = ka.revocation_status();
    if let RevocationStatus::Revoked(_) = key_rev {
        return Err(EnvelopeError::RevokedKey {
            fingerprint: signing.to_hex(),
            detail: format!(
                " (signing subkey of {}; the subkey carries a revocation{}; checked {when})",
                primary.to_hex(),
                revocation_reason(&key_rev)
            ),
        });
    }
    vc.alive()
        .map_err(|e| not_alive(&primary, "the certificate", &e, when))?;
    ka.alive().map_err(|e| {
        not_alive(
            &signing,
            &format!("the signing subkey of {}", primary.to_hex()),
            &e,
            when,
        )
    })?;
    if !ka.for_signing() {
        return Err(EnvelopeError::NotSigningKey {
            fingerprint: signing.to_hex(),
            detail: format!(
                "{}its key flags allow {} ({when})",
                if primary == signing {
                    String::new()
                } else {
                    format!("subkey of {}: ", primary.to_hex())
                },
                key_flag_names(ka.key_flags())
            ),
        });
    }
    Ok(())
}

/// The key `signing` of `cert` must be usable for signing at `at`.
fn check_key_at(
    policy: &StandardPolicy<'_>,
    cert: &Cert,
    signing: &Fingerprint,
    at: SystemTime,
    when: &str,
) -> Result<(), EnvelopeError> {
    let primary = cert.fingerprint();
    let vc = cert.with_policy(policy, at).map_err(|e| EnvelopeError::NotSigningKey {
        fingerprint: primary.to_hex(),
        detail: format!("the certificate is not valid {when}: {}", err_text(&e)),
    })?;
    let ka = vc
        .keys()
        .key_handle(signing.clone())
        .next()
        .ok_or_else(|| EnvelopeError::NotSigningKey {
            fingerprint: signing.to_hex(),
            detail: format!(
                "{} has no valid binding to certificate {} {when}",
                if &primary == signing {
                    "the primary key"
                } else {
                    "the subkey"
                },
                primary.to_hex()
            ),
        })?;
    check_valid_key(&ka, when)
}

/// Extra checks beyond sequoia's on a good signature: the hash must not be
/// a broken one, the signature must not be from the future, and the key
/// must also be usable *now* (gpg refuses keys that have expired or been
/// revoked since; a revocation is never overridden by an older signature).
fn check_good(
    policy: &StandardPolicy<'_>,
    keys: &Keyring,
    cert_idx: usize,
    sig: &Signature,
    ka: &ValidErasedKeyAmalgamation<'_, PublicParts>,
    now: SystemTime,
) -> Result<VerifiedKey, EnvelopeError> {
    let signing = ka.key().fingerprint();
    let cert = ka.cert();
    let primary = cert.fingerprint();
    if let Some(problem) = signature_problem(sig, &key_name(&primary, &signing), now) {
        return Err(problem);
    }
    let created = sig.signature_creation_time().unwrap_or(SystemTime::UNIX_EPOCH);
    keys.usable_now(policy, cert_idx, &signing, now)?;
    Ok(VerifiedKey {
        primary,
        signing,
        created,
        hash: sig.hash_algo(),
    })
}

struct VerifiedKey {
    primary: Fingerprint,
    signing: Fingerprint,
    created: SystemTime,
    hash: HashAlgorithm,
}

fn when_signed(sig: &Signature) -> String {
    match sig.signature_creation_time() {
        Some(t) => format!("when the signature was made, {}", fmt_time(t)),
        None => "when the signature was made".into(),
    }
}

fn classify_verification_error(policy: &StandardPolicy<'_>, err: &VerificationError, now: SystemTime) -> EnvelopeError {
    match err {
        VerificationError::MissingKey { sig } => EnvelopeError::UnknownKey { issuer: issuer_of(sig) },
        VerificationError::UnboundKey { sig, cert, error } => {
            let signing = cert
                .keys()
                .key_handles(sig.get_issuers())
                .next()
                .map(|k| k.key().fingerprint())
                .unwrap_or_else(|| cert.fingerprint());
            let who = key_name(&cert.fingerprint(), &signing);
            if let Some(problem) = signature_problem(sig, &who, now) {
                return problem;
            }
            let at = sig.signature_creation_time().unwrap_or(SystemTime::UNIX_EPOCH);
            match check_key_at(policy, cert, &signing, at, &when_signed(sig)) {
                Err(e) => e,
                Ok(()) => EnvelopeError::NotSigningKey {
                    fingerprint: signing.to_hex(),
                    detail: format!("{who}: {}", err_text(error)),
                },
            }
        }
        VerificationError::BadKey { sig, ka, error } => {
            let who = key_name(&ka.cert().fingerprint(), &ka.key().fingerprint());
            if let Some(problem) = signature_problem(sig, &who, now) {
                return problem;
            }
            match check_valid_key(ka, &when_signed(sig)) {
                Err(e) => e,
                Ok(()) => EnvelopeError::NotSigningKey {
                    fingerprint: ka.key().fingerprint().to_hex(),
                    detail: format!("{who}: {}", err_text(error)),
                },
            }
        }
        VerificationError::BadSignature { sig, ka, error } => {
            let who = key_name(&ka.cert().fingerprint(), &ka.key().fingerprint());
            if let Some(problem) = signature_problem(sig, &who, now) {
                return problem;
            }
            let subkey = ka.cert().fingerprint() != ka.key().fingerprint();
            EnvelopeError::BadSignature {
                fingerprint: ka.key().fingerprint().to_hex(),
                detail: if subkey {
                    format!(
                        "signing subkey of {}; {}",
                        ka.cert().fingerprint().to_hex(),
                        err_text(error)
                    )
                } else {
                    err_text(error)
                },
            }
        }
        VerificationError::MalformedSignature { sig, error } => {
            EnvelopeError::Malformed(format!("signature by key {}: {}", issuer_of(sig), err_text(error)))
        }
        VerificationError::UnknownSignature { sig } => {
            EnvelopeError::Malformed(format!("unparsable signature packet: {}", sig.error()))
        }
        other => EnvelopeError::Malformed(other.to_string()),
    }
}

/// Check the one signature of a structurally valid message against the
/// trusted keys: the same steps, in the same order, as sequoia's
/// `Verifier` takes for each signature (key bound and valid at the
/// signature's time under the standard policy, certificate and key alive
/// and unrevoked, signing-capable, signature alive, cryptographic check,
/// signature policy), then [`check_good`]. Only the certificates whose keys
/// match the signature's issuer are looked at, by reference.
fn check_signature(
    policy: &StandardPolicy<'_>,
    sig: &Signature,
    keys: &Keyring,
    now: SystemTime,
) -> Result<VerifiedKey, EnvelopeError> {
    let Some(sig_time) = sig.signature_creation_time() else {
        return Err(classify_verification_error(
            policy,
            &VerificationError::MalformedSignature {
                sig,
                error: openpgp::Error::MalformedPacket("missing a Signature Creation Time subpacket".into()).into(),
            },
            now,
        ));
    };
    // sequoia allows no clock skew when given a time, so the signature's
    // own lifetime is judged at the latest acceptable time: a signature
    // made up to CLOCK_SKEW ahead of this clock is accepted here and
    // `signature_problem` refuses anything further ahead.
    let latest = now + CLOCK_SKEW;
    let issuers = sig.get_issuers();
    let mut err: Option<VerificationError<'_>> = None;
    if !issuers.is_empty() {
        for (cert_idx, cert) in keys.candidates(&issuers) {
            for ka in cert.keys().key_handles(issuers.iter()) {
                let ka = match ka.with_policy(policy, sig_time) {
                    Ok(ka) => ka,
                    Err(error) => {
                        err = Some(VerificationError::UnboundKey { sig, cert, error });
                        continue;
                    }
                };
                let bad_key = |error: anyhow::Error| Some(Err(error));
                let problem = if let Err(error) = ka.valid_cert().alive() {
                    bad_key(error)
                } else if let Err(error) = ka.alive() {
                    bad_key(error)
                } else if let RevocationStatus::Revoked(_) = ka.valid_cert().revocation_status() {
                    bad_key(openpgp::Error::InvalidKey("certificate is revoked".into()).into())
                } else if let RevocationStatus::Revoked(_) = ka.revocation_status() {
                    bad_key(openpgp::Error::InvalidKey("signing key is revoked".into()).into())
                } else if !ka.for_signing() {
                    bad_key(openpgp::Error::InvalidKey("key is not signing capable".into()).into())
                } else if let Err(error) = sig.signature_alive(latest, Duration::ZERO) {
                    Some(Ok(error))
                } else if let Err(error) = sig.verify_document(ka.key()) {
                    Some(Ok(error))
                } else if let Err(error) = policy.signature(sig, Default::default()) {
                    Some(Ok(error))
                } else {
                    None
                };
                match problem {
                    None => return check_good(policy, keys, cert_idx, sig, &ka, now),
                    // A key problem.
                    Some(Err(error)) => err = Some(VerificationError::BadKey { sig, ka, error }),
                    // A signature problem.
                    Some(Ok(error)) => err = Some(VerificationError::BadSignature { sig, ka, error }),
                }
            }
        }
    }
    let err = err.unwrap_or(VerificationError::MissingKey { sig });
    Err(classify_verification_error(policy, &err, now))
}

/// Verify a signature blob against the trusted keys at time `now`.
///
/// The packet structure is checked first, with bounded reads (see
/// [`MAX_PAYLOAD_SIZE`]), hashing the signed content on the way; then the
/// signature is checked, and only then is the payload returned.
pub fn verify(blob: &[u8], keys: &Keyring, now: SystemTime) -> Result<VerifiedEnvelope, EnvelopeError> {
    if blob.len() > MAX_SIGNATURE_SIZE {
        return Err(EnvelopeError::TooLarge {
            size: blob.len(),
            limit: MAX_SIGNATURE_SIZE,
        });
    }
    sniff(blob)?;
    let Parsed { payload, sig } = check_structure(blob)?;
    // The standard policy judged at `now` (not at the clock of each of
    // its many internal checks), as the rest of this verification.
    // Never earlier than this machine's clock: a caller's `now` in the past must not
    // bring back algorithms the policy has since retired.
    let policy = StandardPolicy::at(now.max(SystemTime::now()));
    let good = check_signature(&policy, &sig, keys, now)?;
    Ok(VerifiedEnvelope {
        payload,
        primary_fingerprint: good.primary.to_hex(),
        signing_fingerprint: good.signing.to_hex(),
        created: good.created,
        hash_algorithm: good.hash.to_string(),
    })
}

fn malformed(e: anyhow::Error) -> EnvelopeError {
    if let Some(openpgp::Error::MalformedMessage(m)) = e.downcast_ref::<openpgp::Error>() {
        if m.contains("encrypt") {
            return EnvelopeError::Encrypted;
        }
    }
    EnvelopeError::Malformed(err_text(&e))
}

/// A secret key ready to sign.
pub struct SigningKey {
    cert: Cert,
    signer: Box<dyn openpgp::crypto::Signer + Send + Sync>,
    signing_fingerprint: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("primary", &self.cert.fingerprint().to_hex())
            .field("signing", &self.signing_fingerprint)
            .finish()
    }
}

impl SigningKey {
    /// Load a transferable secret key (armored or binary) and pick its
    /// signing-capable key valid at `now`, decrypting it with `passphrase`
    /// when it is protected.
    pub fn from_bytes(bytes: &[u8], passphrase: Option<&Password>, now: SystemTime) -> Result<SigningKey, KeyError> {
        let certs = Keyring::parse_certs(bytes)?;
        let mut secret: Vec<Cert> = certs.into_iter().filter(|c| c.is_tsk()).collect();
        let cert = match secret.len() {
            0 => return Err(KeyError::NoSecretKey),
            1 => secret.pop().unwrap_or_else(|| unreachable!()),
            n => return Err(KeyError::SeveralSecretKeys(n)),
        };
        let fpr = cert.fingerprint().to_hex();
        let vc = cert.with_policy(policy(), now).map_err(|e| KeyError::NoSigningKey {
            fingerprint: fpr.clone(),
            reason: format!("{e:#}"),
        })?;
        let ka = vc
            .keys()
            .supported()
            .alive()
            .revoked(false)
            .for_signing()
            .secret()
            .next()
            .ok_or_else(|| KeyError::NoSigningKey {
                fingerprint: fpr.clone(),
                reason: "none found".into(),
            })?;
        let mut key = ka.key().clone();
        let signing_fingerprint = key.fingerprint().to_hex();
        if key.secret().is_encrypted() {
            let pw = passphrase.ok_or(KeyError::PassphraseNeeded)?;
            key = key
                .decrypt_secret(pw)
                .map_err(|_| KeyError::WrongPassphrase(fpr.clone()))?;
        }
        let pair = key.into_keypair().map_err(|e| KeyError::NoSigningKey {
            fingerprint: fpr.clone(),
            reason: format!("{e:#}"),
        })?;
        Ok(SigningKey {
            cert: cert.strip_secret_key_material(),
            signer: Box::new(pair),
            signing_fingerprint,
        })
    }

    /// Use any sequoia signer (for instance one backed by gpg-agent).
    pub fn from_signer(cert: Cert, signer: Box<dyn openpgp::crypto::Signer + Send + Sync>) -> SigningKey {
        let signing_fingerprint = signer.public().fingerprint().to_hex();
        SigningKey {
            cert,
            signer,
            signing_fingerprint,
        }
    }

    pub fn primary_fingerprint(&self) -> String {
        self.cert.fingerprint().to_hex()
    }

    pub fn signing_fingerprint(&self) -> &str {
        &self.signing_fingerprint
    }

    /// The public certificate.
    pub fn cert(&self) -> &Cert {
        &self.cert
    }

    /// Wrap `payload` in a binary signed message (one-pass signature,
    /// literal data, signature) made at `time`.
    pub fn sign(&mut self, payload: &[u8], time: SystemTime) -> Result<Vec<u8>, SignError> {
        let err = |e: anyhow::Error| SignError(format!("{e:#}"));
        let mut out = Vec::with_capacity(payload.len() + 1024);
        {
            let message = Message::new(&mut out);
            let signer = Signer::new(message, BorrowedSigner(&mut *self.signer))
                .map_err(err)?
                .hash_algo(HashAlgorithm::SHA512)
                .map_err(err)?
                .creation_time(time)
                .build()
                .map_err(err)?;
            let mut literal = LiteralWriter::new(signer)
                .date(time)
                .map_err(err)?
                .build()
                .map_err(err)?;
            std::io::Write::write_all(&mut literal, payload).map_err(|e| SignError(e.to_string()))?;
            literal.finalize().map_err(err)?;
        }
        Ok(out)
    }
}

/// Lends a boxed signer to the streaming [`Signer`] without giving it up,
/// so one key can sign many claims.
struct BorrowedSigner<'a>(&'a mut (dyn openpgp::crypto::Signer + Send + Sync));

impl openpgp::crypto::Signer for BorrowedSigner<'_> {
    fn public(
        &self,
    ) -> &openpgp::packet::Key<openpgp::packet::key::PublicParts, openpgp::packet::key::UnspecifiedRole> {
        self.0.public()
    }

    fn acceptable_hashes(&self) -> &[HashAlgorithm] {
        self.0.acceptable_hashes()
    }

    fn sign(&mut self, hash_algo: HashAlgorithm, digest: &[u8]) -> openpgp::Result<openpgp::crypto::mpi::Signature> {
        self.0.sign(hash_algo, digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key that expires in a day, and a message it signed an hour ago.
    fn expiring_key_and_message() -> (Cert, Vec<u8>, SystemTime) {
        let now = SystemTime::now();
        let (cert, _) = CertBuilder::new()
            .add_userid("expiring <e@imgsig.invalid>")
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_creation_time(now - Duration::from_secs(7200))
            .set_validity_period(Duration::from_secs(86400))
            .add_signing_subkey()
            .generate()
            .unwrap();
        let bytes = openpgp::serialize::SerializeInto::to_vec(&cert.as_tsk()).unwrap();
        let mut key = SigningKey::from_bytes(&bytes, None, now).unwrap();
        let blob = key.sign(b"{}", now - Duration::from_secs(3600)).unwrap();
        (cert, blob, now)
    }

    #[test]
    fn a_key_remembered_as_usable_is_judged_again_at_another_time() {
        let (cert, blob, now) = expiring_key_and_message();
        let mut keys = Keyring::new();
        keys.add([cert.clone()]);
        for _ in 0..2 {
            verify(&blob, &keys, now).unwrap();
        }
        let later = now + Duration::from_secs(2 * 86400);
        for _ in 0..2 {
            assert_eq!(verify(&blob, &keys, later).unwrap_err().code(), "expired-key");
        }
        verify(&blob, &keys, now).unwrap();
        // A clone starts afresh; adding certificates forgets what was remembered.
        let copy = keys.clone();
        assert_eq!(verify(&blob, &copy, later).unwrap_err().code(), "expired-key");
        keys.add([cert]);
        verify(&blob, &keys, now).unwrap();
        assert_eq!(keys.len(), 1, "a second copy of a certificate is merged");
    }
}
