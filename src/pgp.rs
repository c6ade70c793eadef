//! The OpenPGP envelope: a binary signed message around the claim.
//!
//! Signing produces `One-Pass Signature, Literal Data, Signature` (no
//! compression, like the reference's Sequoia backend). Verification accepts
//! exactly one signature over one literal data packet, optionally inside
//! one compression layer (what gpg writes), and nothing else: cleartext,
//! armored, detached, encrypted, nested and multi-signature inputs are
//! rejected with a reason.
//!
//! Trusted keys only ever come from a [`Keyring`] built by the caller from
//! files or policy data; nothing here reads a GnuPG home or a keyserver.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Read;
use std::time::{Duration, SystemTime};

use openpgp::cert::prelude::*;
use openpgp::crypto::Password;
use openpgp::packet::Signature;
use openpgp::parse::stream::{
    GoodChecksum, MessageLayer, MessageStructure, VerificationError, VerificationHelper, VerifierBuilder,
};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::stream::{LiteralWriter, Message, Signer};
use openpgp::types::{HashAlgorithm, RevocationStatus};
use openpgp::{Fingerprint, KeyHandle, KeyID};
use sequoia_openpgp as openpgp;

pub use openpgp::Cert;

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
#[derive(Debug, Default, Clone)]
pub struct Keyring {
    certs: Vec<Cert>,
    by_keyid: HashMap<KeyID, Vec<usize>>,
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

    /// Add certificates (secret parts are stripped).
    pub fn add(&mut self, certs: impl IntoIterator<Item = Cert>) {
        for cert in certs {
            let cert = cert.strip_secret_key_material();
            let idx = self.certs.len();
            for key in cert.keys() {
                let v = self.by_keyid.entry(KeyID::from(key.key().fingerprint())).or_default();
                if !v.contains(&idx) {
                    v.push(idx);
                }
            }
            self.certs.push(cert);
        }
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

    fn lookup(&self, ids: &[KeyHandle]) -> Vec<Cert> {
        let mut idxs: Vec<usize> = Vec::new();
        // Candidates by key ID; sequoia then matches full fingerprints.
        for id in ids {
            for &i in self.by_keyid.get(&KeyID::from(id)).into_iter().flatten() {
                if !idxs.contains(&i) {
                    idxs.push(i);
                }
            }
        }
        idxs.into_iter().map(|i| self.certs[i].clone()).collect()
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
    #[error("the message carries {0} signatures; exactly one is allowed")]
    MultipleSignatures(usize),
    #[error("the message has {0} compression layers; at most one is allowed")]
    NestedCompression(usize),
    #[error("the signed content is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("signed by key {issuer}, which is not among the trusted keys")]
    UnknownKey { issuer: String },
    #[error("signature uses the {algo} hash algorithm, which is not accepted (broken)")]
    WeakHash { algo: String },
    #[error("key {fingerprint} has expired{detail}")]
    ExpiredKey { fingerprint: String, detail: String },
    #[error("key {fingerprint} is revoked{detail}")]
    RevokedKey { fingerprint: String, detail: String },
    #[error("key {fingerprint} is not valid for signing: {detail}")]
    NotSigningKey { fingerprint: String, detail: String },
    #[error("signature has expired{0}")]
    ExpiredSignature(String),
    #[error("signature was made in the future ({created}), more than {skew_secs} s ahead of this machine's clock")]
    FutureSignature { created: String, skew_secs: u64 },
    #[error("bad signature by key {fingerprint}: the signed content or the signature was modified ({detail})")]
    BadSignature { fingerprint: String, detail: String },
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
            EnvelopeError::MultipleSignatures(_) => "multiple-signatures",
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

fn issuer_of(sig: &Signature) -> String {
    sig.get_issuers()
        .first()
        .map(|h| h.to_hex())
        .unwrap_or_else(|| "(no issuer in signature)".to_owned())
}

fn fmt_time(t: SystemTime) -> String {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => crate::time::rfc3339(d.as_secs() as i64),
        Err(_) => "before 1970".to_owned(),
    }
}

type Outcome = Result<(String, String, SystemTime, String), EnvelopeError>;

struct Helper<'k> {
    keys: &'k Keyring,
    now: SystemTime,
    /// Set by `check`; kept outside the helper so that it survives when
    /// sequoia returns an error and drops the helper.
    outcome: &'k RefCell<Option<Outcome>>,
}

impl Helper<'_> {
    /// Extra checks beyond sequoia's: the key must also be usable *now*
    /// (gpg refuses keys that have expired or been revoked since), and the
    /// hash must not be a broken one.
    fn check_good(&self, good: &GoodChecksum) -> Result<(String, String, SystemTime, String), EnvelopeError> {
        let sig = good.sig;
        let signing = good.ka.key().fingerprint();
        let cert = good.ka.cert();
        let primary = cert.fingerprint();
        let created = sig.signature_creation_time().unwrap_or(SystemTime::UNIX_EPOCH);
        if weak_hash(sig.hash_algo()) {
            return Err(EnvelopeError::WeakHash {
                algo: sig.hash_algo().to_string(),
            });
        }
        if created > self.now + CLOCK_SKEW {
            return Err(EnvelopeError::FutureSignature {
                created: fmt_time(created),
                skew_secs: CLOCK_SKEW.as_secs(),
            });
        }
        let vc = cert
            .with_policy(policy(), self.now)
            .map_err(|e| classify_key_error(&primary, &e))?;
        if let RevocationStatus::Revoked(_) = vc.revocation_status() {
            return Err(EnvelopeError::RevokedKey {
                fingerprint: primary.to_hex(),
                detail: " (the certificate carries a revocation)".into(),
            });
        }
        vc.alive().map_err(|e| EnvelopeError::ExpiredKey {
            fingerprint: primary.to_hex(),
            detail: format!(": {e}"),
        })?;
        let ka = vc
            .keys()
            .key_handle(signing.clone())
            .next()
            .ok_or_else(|| EnvelopeError::NotSigningKey {
                fingerprint: signing.to_hex(),
                detail: "the key is no longer bound to its certificate".into(),
            })?;
        if let RevocationStatus::Revoked(_) = ka.revocation_status() {
            return Err(EnvelopeError::RevokedKey {
                fingerprint: signing.to_hex(),
                detail: " (the signing subkey carries a revocation)".into(),
            });
        }
        ka.alive().map_err(|e| EnvelopeError::ExpiredKey {
            fingerprint: signing.to_hex(),
            detail: format!(": {e}"),
        })?;
        if !ka.for_signing() {
            return Err(EnvelopeError::NotSigningKey {
                fingerprint: signing.to_hex(),
                detail: "its key flags do not allow signing".into(),
            });
        }
        Ok((primary.to_hex(), signing.to_hex(), created, sig.hash_algo().to_string()))
    }
}

fn classify_key_error(fpr: &Fingerprint, e: &anyhow::Error) -> EnvelopeError {
    let text = format!("{e:#}");
    let lower = text.to_lowercase();
    if lower.contains("revoked") {
        EnvelopeError::RevokedKey {
            fingerprint: fpr.to_hex(),
            detail: format!(": {text}"),
        }
    } else if lower.contains("expired") || lower.contains("not alive") || lower.contains("not live") {
        EnvelopeError::ExpiredKey {
            fingerprint: fpr.to_hex(),
            detail: format!(": {text}"),
        }
    } else {
        EnvelopeError::NotSigningKey {
            fingerprint: fpr.to_hex(),
            detail: text,
        }
    }
}

fn classify_verification_error(err: &VerificationError, now: SystemTime) -> EnvelopeError {
    match err {
        VerificationError::MissingKey { sig } => EnvelopeError::UnknownKey { issuer: issuer_of(sig) },
        VerificationError::UnboundKey { sig, cert, error } => {
            if weak_hash(sig.hash_algo()) {
                return EnvelopeError::WeakHash {
                    algo: sig.hash_algo().to_string(),
                };
            }
            classify_key_error(&cert.fingerprint(), error)
        }
        VerificationError::BadKey { ka, error, .. } => classify_key_error(&ka.key().fingerprint(), error),
        VerificationError::BadSignature { sig, ka, error } => {
            if weak_hash(sig.hash_algo()) {
                return EnvelopeError::WeakHash {
                    algo: sig.hash_algo().to_string(),
                };
            }
            if let Some(created) = sig.signature_creation_time() {
                if created > now + CLOCK_SKEW {
                    return EnvelopeError::FutureSignature {
                        created: fmt_time(created),
                        skew_secs: CLOCK_SKEW.as_secs(),
                    };
                }
            }
            if let Some(exp) = sig.signature_expiration_time() {
                if exp <= now {
                    return EnvelopeError::ExpiredSignature(format!(" on {}", fmt_time(exp)));
                }
            }
            EnvelopeError::BadSignature {
                fingerprint: ka.key().fingerprint().to_hex(),
                detail: format!("{error:#}"),
            }
        }
        VerificationError::MalformedSignature { error, .. } => EnvelopeError::Malformed(format!("{error:#}")),
        VerificationError::UnknownSignature { sig } => {
            EnvelopeError::Malformed(format!("unparsable signature packet: {}", sig.error()))
        }
        other => EnvelopeError::Malformed(other.to_string()),
    }
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(self.keys.lookup(ids))
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        let mut compression = 0usize;
        let mut encrypted = false;
        let mut groups = Vec::new();
        for layer in structure {
            match layer {
                MessageLayer::Compression { .. } => compression += 1,
                MessageLayer::Encryption { .. } => encrypted = true,
                MessageLayer::SignatureGroup { results } => groups.push(results),
            }
        }
        let outcome = if encrypted {
            Err(EnvelopeError::Encrypted)
        } else if compression > 1 {
            Err(EnvelopeError::NestedCompression(compression))
        } else {
            let total: usize = groups.iter().map(|g| g.len()).sum();
            match total {
                0 => Err(EnvelopeError::NotSigned),
                1 => match groups.into_iter().flatten().next() {
                    Some(Ok(good)) => self.check_good(&good),
                    Some(Err(err)) => Err(classify_verification_error(&err, self.now)),
                    None => Err(EnvelopeError::NotSigned),
                },
                n => Err(EnvelopeError::MultipleSignatures(n)),
            }
        };
        let failed = outcome.is_err();
        *self.outcome.borrow_mut() = Some(outcome);
        if failed {
            Err(anyhow::anyhow!("signature rejected"))
        } else {
            Ok(())
        }
    }
}

/// Verify a signature blob against the trusted keys at time `now`.
///
/// On success the authenticated payload is returned; it was checked before
/// a single byte of it was handed out.
pub fn verify(blob: &[u8], keys: &Keyring, now: SystemTime) -> Result<VerifiedEnvelope, EnvelopeError> {
    if blob.len() > MAX_SIGNATURE_SIZE {
        return Err(EnvelopeError::TooLarge {
            size: blob.len(),
            limit: MAX_SIGNATURE_SIZE,
        });
    }
    sniff(blob)?;
    let outcome = RefCell::new(None);
    let helper = Helper {
        keys,
        now,
        outcome: &outcome,
    };
    // The buffer is larger than any acceptable payload, so the signature is
    // checked before content is released, and a bomb is cut off early.
    let builder = VerifierBuilder::from_bytes(blob)
        .map_err(|e| EnvelopeError::Malformed(format!("{e:#}")))?
        .buffer_size(MAX_PAYLOAD_SIZE + 1);
    let result = builder.with_policy(policy(), now, helper);
    let outcome = outcome.borrow_mut().take();
    let (mut verifier, good) = match (result, outcome) {
        (_, Some(Err(rejection))) => return Err(rejection),
        (Err(e), _) => return Err(malformed(e)),
        (Ok(v), Some(Ok(good))) => (v, good),
        // The payload was larger than the buffer: sequoia streams it and
        // checks at the end. We refuse it instead of reading on.
        (Ok(_), None) => return Err(EnvelopeError::PayloadTooLarge(MAX_PAYLOAD_SIZE)),
    };
    let (primary, signing, created, hash) = good;
    let mut payload = Vec::new();
    (&mut verifier)
        .take(MAX_PAYLOAD_SIZE as u64 + 1)
        .read_to_end(&mut payload)
        .map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
    if payload.len() > MAX_PAYLOAD_SIZE {
        return Err(EnvelopeError::PayloadTooLarge(MAX_PAYLOAD_SIZE));
    }
    if !verifier.message_processed() {
        return Err(EnvelopeError::Malformed(
            "trailing data after the signed message".into(),
        ));
    }
    Ok(VerifiedEnvelope {
        payload,
        primary_fingerprint: primary,
        signing_fingerprint: signing,
        created,
        hash_algorithm: hash,
    })
}

fn malformed(e: anyhow::Error) -> EnvelopeError {
    if let Some(openpgp::Error::MalformedMessage(m)) = e.downcast_ref::<openpgp::Error>() {
        if m.contains("encrypt") {
            return EnvelopeError::Encrypted;
        }
    }
    EnvelopeError::Malformed(format!("{e:#}"))
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
