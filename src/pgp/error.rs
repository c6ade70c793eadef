//! Errors: why a key file could not be used ([`KeyError`]), why signing
//! failed ([`SignError`]) and why an envelope was rejected
//! ([`EnvelopeError`], with its stable reason codes), plus the helpers that
//! turn sequoia errors, times and issuers into message text.

use std::time::SystemTime;

use openpgp::packet::Signature;
use openpgp::KeyHandle;
use sequoia_openpgp as openpgp;

use crate::Reason;

/// A key file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The file holds no OpenPGP certificate (`invalid-key`).
    #[error("no OpenPGP certificate found")]
    NoCertificates,
    /// The file is not OpenPGP; the parser's explanation (`invalid-key`).
    #[error("not a valid OpenPGP keyring: {0}")]
    Parse(String),
    /// More than one secret key; how many (`invalid-key`).
    #[error("the file holds {0} secret keys; give a file with exactly one")]
    SeveralSecretKeys(usize),
    /// Only public key material (`not-a-secret-key`).
    #[error("no secret key material (this is a public key; give the secret key, e.g. `gpg --export-secret-keys FPR`)")]
    NoSecretKey,
    /// No (sub)key that can sign now (`invalid-key`).
    #[error(
        "key {fingerprint} has no valid, unexpired, unrevoked signing-capable (sub)key with secret material: {reason}"
    )]
    NoSigningKey {
        /// The certificate's fingerprint.
        fingerprint: String,
        /// Why no (sub)key qualifies.
        reason: String,
    },
    /// The secret key is encrypted and no passphrase was given (`passphrase-needed`).
    #[error("the secret key is protected by a passphrase, and none was given")]
    PassphraseNeeded,
    /// The passphrase does not decrypt the key; the key's fingerprint (`wrong-passphrase`).
    #[error("wrong passphrase for key {0}")]
    WrongPassphrase(String),
}

/// Signing failed.
#[derive(Debug, thiserror::Error)]
#[error("creating the OpenPGP signature failed: {0}")]
pub struct SignError(pub(super) String);

impl SignError {
    /// A signing failure described by `message`.
    pub fn new(message: impl Into<String>) -> SignError {
        SignError(message.into())
    }

    /// What went wrong, without the "creating the OpenPGP signature failed" prefix.
    pub fn detail(&self) -> &str {
        &self.0
    }
}

/// Why a signature's OpenPGP envelope was rejected, checked before and while
/// verifying it against the trusted keys; each variant's reason code (the
/// "Reason codes (per signature)" of docs/json-output.md) is [`EnvelopeError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The signature file is empty.
    #[error("empty signature file")]
    Empty,
    /// The signature is over the size limit (not read further).
    #[error("signature is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Its size in bytes (at least the bytes read).
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// Not a binary OpenPGP message, by its first byte (containers/image's check); that byte.
    #[error("unrecognized signature format, starting with binary 0x{0:02x}: a simple-signing signature is a binary OpenPGP signed message (armored and cleartext-signed messages are not accepted)")]
    UnrecognizedFormat(u8),
    /// Not a valid OpenPGP signed message; what is wrong.
    #[error("not a valid OpenPGP signed message: {0}")]
    Malformed(String),
    /// The message is encrypted.
    #[error("the message is encrypted; a signature must be a plain signed message")]
    Encrypted,
    /// The message carries no signature.
    #[error("the message is not signed")]
    NotSigned,
    /// A detached signature, without the signed claim.
    #[error("this is a detached signature by key {issuer} without the signed content; a simple-signing signature is a signed message that carries the claim")]
    Detached {
        /// The issuer the signature names.
        issuer: String,
    },
    /// More than one signature in the message.
    #[error("the message carries {count} signatures{}; exactly one is allowed", by_keys(issuers))]
    MultipleSignatures {
        /// How many.
        count: usize,
        /// The issuers they name.
        issuers: Vec<String>,
    },
    /// More than one compression layer; how many.
    #[error("the message has {0} compression layers; at most one is allowed")]
    NestedCompression(usize),
    /// The signed content is over the limit; the limit in bytes.
    #[error("the signed content is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// Signed by a key that is not among the trusted keys.
    #[error("signed by key {issuer}, which is not among the trusted keys")]
    UnknownKey {
        /// The issuer the signature names.
        issuer: String,
    },
    /// The signature uses a broken hash algorithm.
    #[error("signature by key {issuer} uses the {algo} hash algorithm, which is not accepted (broken)")]
    WeakHash {
        /// The algorithm's name.
        algo: String,
        /// The issuer the signature names.
        issuer: String,
    },
    /// The signing key or its certificate has expired.
    #[error("key {fingerprint} has expired{detail}")]
    ExpiredKey {
        /// The key's fingerprint.
        fingerprint: String,
        /// When, as text to append to the message.
        detail: String,
    },
    /// The signing key or its certificate is revoked.
    #[error("key {fingerprint} is revoked{detail}")]
    RevokedKey {
        /// The key's fingerprint.
        fingerprint: String,
        /// Why and when, as text to append to the message.
        detail: String,
    },
    /// The key is not valid for signing (key flags, binding, policy).
    #[error("key {fingerprint} is not valid for signing: {detail}")]
    NotSigningKey {
        /// The key's fingerprint.
        fingerprint: String,
        /// Why.
        detail: String,
    },
    /// The signature itself has expired; when, as text to append to the message.
    #[error("signature has expired{0}")]
    ExpiredSignature(String),
    /// The signature was made too far in the future.
    #[error("signature by key {issuer} was made in the future ({created}), more than {skew_secs} s ahead of this machine's clock")]
    FutureSignature {
        /// Its creation time.
        created: String,
        /// The clock skew allowed, in seconds.
        skew_secs: u64,
        /// The issuer the signature names.
        issuer: String,
    },
    /// The signature does not match the signed content.
    #[error("bad signature by key {fingerprint}: the signed content or the signature was modified ({detail})")]
    BadSignature {
        /// The key's fingerprint.
        fingerprint: String,
        /// The verifier's explanation.
        detail: String,
    },
}

fn by_keys(issuers: &[String]) -> String {
    if issuers.is_empty() {
        String::new()
    } else {
        format!(" (by keys {})", issuers.join(", "))
    }
}

impl EnvelopeError {
    /// Why, as a [`Reason`] (documented in docs/json-output.md).
    pub fn code(&self) -> Reason {
        // No wildcard: a new variant needs its code here.
        match self {
            EnvelopeError::Empty => Reason::EmptySignature,
            EnvelopeError::TooLarge { .. } => Reason::SignatureTooLarge,
            EnvelopeError::UnrecognizedFormat(_) => Reason::UnrecognizedFormat,
            EnvelopeError::Malformed(_) => Reason::MalformedSignature,
            EnvelopeError::Encrypted => Reason::EncryptedMessage,
            EnvelopeError::NotSigned => Reason::NotSigned,
            EnvelopeError::Detached { .. } => Reason::DetachedSignature,
            EnvelopeError::MultipleSignatures { .. } => Reason::MultipleSignatures,
            EnvelopeError::NestedCompression(_) => Reason::NestedMessage,
            EnvelopeError::PayloadTooLarge(_) => Reason::PayloadTooLarge,
            EnvelopeError::UnknownKey { .. } => Reason::UnknownKey,
            EnvelopeError::WeakHash { .. } => Reason::WeakHashAlgorithm,
            EnvelopeError::ExpiredKey { .. } => Reason::ExpiredKey,
            EnvelopeError::RevokedKey { .. } => Reason::RevokedKey,
            EnvelopeError::NotSigningKey { .. } => Reason::NotSigningKey,
            EnvelopeError::ExpiredSignature(_) => Reason::ExpiredSignature,
            EnvelopeError::FutureSignature { .. } => Reason::FutureSignature,
            EnvelopeError::BadSignature { .. } => Reason::BadSignature,
        }
    }
}

impl KeyError {
    /// Why, as a [`Reason`] (documented in docs/json-output.md).
    pub fn code(&self) -> Reason {
        // No wildcard: a new variant needs its code here.
        match self {
            KeyError::NoCertificates
            | KeyError::Parse(_)
            | KeyError::SeveralSecretKeys(_)
            | KeyError::NoSigningKey { .. } => Reason::InvalidKey,
            KeyError::NoSecretKey => Reason::NotASecretKey,
            KeyError::PassphraseNeeded => Reason::PassphraseNeeded,
            KeyError::WrongPassphrase(_) => Reason::WrongPassphrase,
        }
    }
}

/// The issuer a signature names (fingerprint if it has one, else key ID).
pub(super) fn issuer_of(sig: &Signature) -> String {
    let issuers = sig.get_issuers();
    issuers
        .iter()
        .find(|h| matches!(h, KeyHandle::Fingerprint(_)))
        .or_else(|| issuers.first())
        .map(|h| h.to_hex())
        .unwrap_or_else(|| "(no issuer in signature)".to_owned())
}
/// An error and its causes, without the repetitions sequoia's contexts
/// often carry.
pub(super) fn err_text(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

pub(super) fn fmt_time(t: SystemTime) -> String {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => crate::time::rfc3339(d.as_secs() as i64),
        Err(_) => "before 1970".to_owned(),
    }
}
pub(super) fn malformed(e: anyhow::Error) -> EnvelopeError {
    if let Some(openpgp::Error::MalformedMessage(m)) = e.downcast_ref::<openpgp::Error>() {
        if m.contains("encrypt") {
            return EnvelopeError::Encrypted;
        }
    }
    EnvelopeError::Malformed(err_text(&e))
}
