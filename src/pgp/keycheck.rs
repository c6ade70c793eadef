//! Whether a signing key is usable at a given time: the checks sequoia
//! makes on the issuing key (revocation, expiry, key flags, binding), in a
//! fixed order, as precise [`EnvelopeError`] rejections.

use std::time::SystemTime;

use openpgp::cert::amalgamation::key::ValidErasedKeyAmalgamation;
use openpgp::cert::prelude::*;
use openpgp::packet::key::PublicParts;
use openpgp::policy::StandardPolicy;
use openpgp::types::{KeyFlags, RevocationStatus};
use openpgp::Fingerprint;
use sequoia_openpgp as openpgp;

use super::error::{err_text, fmt_time};
use super::{Cert, EnvelopeError};

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
pub(super) fn check_valid_key(
    ka: &ValidErasedKeyAmalgamation<'_, PublicParts>,
    when: &str,
) -> Result<(), EnvelopeError> {
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
pub(super) fn check_key_at(
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
