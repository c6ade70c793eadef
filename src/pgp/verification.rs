//! Signature verification: [`verify`] checks a signature blob's structure,
//! then its one signature against the trusted [`Keyring`] (the same steps as
//! sequoia's `Verifier`, plus the extra checks on hash, time and the key's
//! usability now), and only then returns the payload as a
//! [`VerifiedEnvelope`].

use std::time::{Duration, SystemTime};

use openpgp::cert::amalgamation::key::ValidErasedKeyAmalgamation;
use openpgp::cert::prelude::*;
use openpgp::packet::key::PublicParts;
use openpgp::packet::Signature;
use openpgp::parse::stream::VerificationError;
use openpgp::policy::{Policy, StandardPolicy};
use openpgp::types::{HashAlgorithm, RevocationStatus};
use openpgp::Fingerprint;
use sequoia_openpgp as openpgp;

use super::error::{err_text, fmt_time, issuer_of};
use super::keycheck::{check_key_at, check_valid_key};
use super::structure::{check_structure, sniff, Parsed};
use super::{EnvelopeError, Keyring, CLOCK_SKEW, MAX_SIGNATURE_SIZE};

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
/// The fingerprint in upper-case hex, as `Fingerprint::to_hex` writes it,
/// without its one `format!` per byte: every accepted signature reports two.
fn hex(fpr: &Fingerprint) -> String {
    let mut s = crate::digest::to_hex(fpr.as_bytes());
    s.make_ascii_uppercase();
    s
}

/// "PRIMARY" or "SUBKEY (subkey of PRIMARY)".
fn key_name(primary: &Fingerprint, signing: &Fingerprint) -> String {
    if primary == signing {
        primary.to_hex()
    } else {
        format!("{} (subkey of {})", signing.to_hex(), primary.to_hex())
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
/// [`MAX_PAYLOAD_SIZE`](super::MAX_PAYLOAD_SIZE)), hashing the signed content on the way; then the
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
        primary_fingerprint: hex(&good.primary),
        signing_fingerprint: hex(&good.signing),
        created: good.created,
        hash_algorithm: good.hash.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_writes_what_to_hex_writes() {
        for text in [
            "2F419EFCCB780844C3FF08B061EC053D55435615",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "00ff10",
        ] {
            let fpr: Fingerprint = text.parse().unwrap();
            assert_eq!(hex(&fpr), fpr.to_hex(), "{text}");
            assert_eq!(hex(&fpr), text.to_ascii_uppercase());
        }
    }
}
