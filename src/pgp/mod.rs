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

use std::time::Duration;

use openpgp::policy::StandardPolicy;
use sequoia_openpgp as openpgp;

/// sequoia's OpenPGP certificate, re-exported on purpose: keyrings are built
/// from and signing keys hold certificates.
pub use openpgp::Cert;

mod error;
mod inspect;
mod keycheck;
mod keyring;
mod material;
mod sign;
mod structure;
mod trailer;
mod verification;

pub use error::{EnvelopeError, KeyError, SignError};
pub use inspect::{inspect, PacketDetails, UntrustedEnvelope, UntrustedPacket, UntrustedSignature};
pub use keyring::{KeyInfo, Keyring};
pub use material::KeyMaterial;
pub use sign::SigningKey;
pub use verification::{verify, VerifiedEnvelope};

// For `inspect`, which runs the same structure checks as `verify`.
use error::err_text;
use structure::{check_structure, sniff, MAX_PACKETS, MAX_PACKET_SIZE};

/// Largest signature blob read from anywhere (the reference's
/// `MaxSignatureBodySize`).
pub use crate::limits::MAX_SIGNATURE_SIZE;
/// Largest claim payload accepted after decompression. Real claims are a few
/// hundred bytes; anything past this is a decompression bomb or not a claim.
pub const MAX_PAYLOAD_SIZE: usize = 64 * 1024;
/// How far in the future a signature's creation time may be (clock skew).
pub const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// For the fuzz target `envelope` (through `crate::fuzzing`): whether the
/// structure check's shortcut for gpg's form (one compressed packet,
/// decompressed once) agrees with the general path on `blob` — it may only
/// accept what the general path accepts, with the same payload and
/// signature.
#[cfg(any(test, feature = "fuzzing"))]
pub fn gpg_form_agrees(blob: &[u8]) -> bool {
    structure::gpg_form_agrees(blob)
}

fn policy() -> &'static StandardPolicy<'static> {
    static POLICY: StandardPolicy<'static> = StandardPolicy::new();
    &POLICY
}
