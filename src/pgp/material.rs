//! Key material as GnuPG imports it: every certificate *and every
//! revocation* in a keyring file, armored or binary, however many blocks.
//!
//! containers/image (gpgme) imports every `keyPath`/`keyPaths`/`keyData`
//! blob of a requirement into one ephemeral keyring. A revocation
//! certificate (what gpg writes to `openpgp-revocs.d/<FPR>.rev`, a lone key
//! revocation signature) in one file therefore revokes the key from another.
//! [`KeyMaterial`] keeps those loose revocations beside the certificates so
//! that the [`Keyring`](super::Keyring) can apply them to the certificate
//! they belong to, whichever file it came from.
//!
//! Deviations, on purpose (the safe side; listed in docs/policy.md):
//! - gpg applies a revocation only to a key imported *before* it; here the
//!   order of files does not matter.
//! - gpg applies only a lone *key* revocation (type 0x20) and skips a lone
//!   subkey revocation (0x28) or certification revocation (0x30); here all
//!   three apply to the component they revoke.
//! - Every armored block of a text file is read (as gpg does), not only the
//!   first (as a plain sequoia parse does): a key with its revocation
//!   appended as a second block must not lose the revocation.

use std::sync::Arc;

use openpgp::armor;
use openpgp::cert::prelude::*;
use openpgp::packet::Signature;
use openpgp::parse::{PacketParser, PacketParserResult, Parse};
use openpgp::types::SignatureType;
use openpgp::Packet;
use sequoia_openpgp as openpgp;

use super::{Cert, KeyError};

/// Most packets read from one key file or `keyData` (a keyring of a few
/// thousand keys has a few tens of thousands).
const MAX_PACKETS: usize = 200_000;

/// What one key file (or `keyData`) holds.
#[derive(Debug, Clone, Default)]
pub struct KeyMaterial {
    /// The certificates, in file order (secret parts stripped), shared with
    /// every keyring built from this material.
    pub certs: Vec<Arc<Cert>>,
    /// Every key, subkey and certification revocation signature in the
    /// material, inside a certificate or loose (a revocation certificate).
    /// They are applied across files by [`Keyring::add_material`](super::Keyring::add_material).
    pub revocations: Vec<Signature>,
    /// How many of `revocations` stood outside any certificate.
    pub loose_revocations: usize,
}

impl KeyMaterial {
    /// Parse a file's bytes: binary packets, or text with one or more
    /// armored blocks. An error only when nothing at all could be read
    /// ([`KeyError::NoCertificates`] when the input parsed but holds
    /// neither a certificate nor a revocation).
    pub fn parse(bytes: &[u8]) -> Result<KeyMaterial, KeyError> {
        KeyMaterial::parse_keeping(bytes, false)
    }

    /// [`KeyMaterial::parse`], keeping secret key material when
    /// `keep_secrets` (for signing keys; never for trust).
    pub(super) fn parse_keeping(bytes: &[u8], keep_secrets: bool) -> Result<KeyMaterial, KeyError> {
        let mut out = KeyMaterial::default();
        let mut first_error = None;
        let mut budget = MAX_PACKETS;
        let chunks = chunks(bytes);
        if chunks.is_empty() {
            return Err(KeyError::Parse(
                "text without an armored block (-----BEGIN PGP PUBLIC KEY BLOCK-----), and not binary OpenPGP data"
                    .into(),
            ));
        }
        for chunk in chunks {
            let decoded;
            let binary: &[u8] = match chunk {
                Chunk::Binary(b) => b,
                Chunk::Armored(text) => {
                    let mut r = armor::Reader::from_bytes(text, armor::ReaderMode::Tolerant(None));
                    let mut v = Vec::new();
                    match std::io::Read::read_to_end(&mut r, &mut v) {
                        Ok(_) => {
                            decoded = v;
                            &decoded
                        }
                        Err(e) => {
                            first_error.get_or_insert_with(|| format!("armor: {e}"));
                            continue;
                        }
                    }
                }
            };
            if let Err(e) = out.read_packets(binary, &mut budget, keep_secrets) {
                first_error.get_or_insert(e);
            }
        }
        if out.certs.is_empty() && out.revocations.is_empty() {
            return Err(match first_error {
                Some(e) => KeyError::Parse(e),
                None => KeyError::NoCertificates,
            });
        }
        Ok(out)
    }

    /// Whether the material holds nothing but revocations.
    pub fn only_revocations(&self) -> bool {
        self.certs.is_empty() && !self.revocations.is_empty()
    }

    fn read_packets(&mut self, binary: &[u8], budget: &mut usize, keep_secrets: bool) -> Result<(), String> {
        let mut packets: Vec<Packet> = Vec::new();
        let mut ppr = PacketParser::from_bytes(binary).map_err(|e| format!("{e:#}"))?;
        let mut error = None;
        while let PacketParserResult::Some(pp) = ppr {
            if *budget == 0 {
                error = Some(format!("more than {MAX_PACKETS} packets"));
                break;
            }
            *budget -= 1;
            match pp.next() {
                Ok((packet, next)) => {
                    packets.push(packet);
                    ppr = next;
                }
                Err(e) => {
                    error = Some(format!("{e:#}"));
                    break;
                }
            }
        }
        // Revocations anywhere; signatures before the first key packet stand
        // alone (a revocation certificate) and are not part of a certificate.
        let mut in_cert = false;
        let mut rest = Vec::with_capacity(packets.len());
        for p in packets {
            match &p {
                Packet::PublicKey(_) | Packet::SecretKey(_) => in_cert = true,
                Packet::Signature(sig) if is_revocation(sig) => {
                    self.revocations.push(sig.clone());
                    if !in_cert {
                        self.loose_revocations += 1;
                    }
                }
                _ => {}
            }
            if in_cert {
                rest.push(p);
            }
        }
        for cert in CertParser::from_iter(rest) {
            match cert {
                Ok(c) => self
                    .certs
                    .push(Arc::new(if keep_secrets { c } else { c.strip_secret_key_material() })),
                Err(e) => {
                    error.get_or_insert_with(|| format!("{e:#}"));
                }
            }
        }
        match error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// A key, subkey or certification (user ID) revocation.
pub(super) fn is_revocation(sig: &Signature) -> bool {
    matches!(
        sig.typ(),
        SignatureType::KeyRevocation | SignatureType::SubkeyRevocation | SignatureType::CertificationRevocation
    )
}

enum Chunk<'a> {
    Binary(&'a [u8]),
    /// One armored block, from its `-----BEGIN PGP` line to its `-----END PGP` line.
    Armored(&'a [u8]),
}

/// The input as gpg reads it: binary when its first byte is a packet tag
/// (bit 7 set), else every armored block that starts at the beginning of a
/// line (gpg's rule: a guarded `:-----BEGIN` is no block).
fn chunks(bytes: &[u8]) -> Vec<Chunk<'_>> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_none_or(|b| b & 0x80 != 0) {
        return vec![Chunk::Binary(bytes)];
    }
    const BEGIN: &[u8] = b"-----BEGIN PGP ";
    const END: &[u8] = b"-----END PGP ";
    let mut out = Vec::new();
    let mut pos = 0;
    let mut start = None;
    while pos < bytes.len() {
        let eol = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| pos + i + 1);
        let line = &bytes[pos..eol];
        match start {
            None if line.starts_with(BEGIN) => start = Some(pos),
            Some(s) if line.starts_with(END) => {
                out.push(Chunk::Armored(&bytes[s..eol]));
                start = None;
            }
            _ => {}
        }
        pos = eol;
    }
    if let Some(s) = start {
        // An unterminated block: let the armor reader say what is wrong.
        out.push(Chunk::Armored(&bytes[s..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use openpgp::serialize::SerializeInto;
    use openpgp::types::ReasonForRevocation;

    use super::*;
    use crate::pgp::Keyring;

    fn key() -> Cert {
        CertBuilder::new()
            .add_userid("Release <release@imgsig.invalid>")
            .set_cipher_suite(CipherSuite::Cv25519)
            .add_signing_subkey()
            .generate()
            .unwrap()
            .0
    }

    /// What `gpg --gen-revoke` writes (without the guarding `:`): one
    /// armored block holding only the key revocation signature.
    fn revocation_certificate(cert: &Cert) -> (Signature, Vec<u8>) {
        let mut signer = cert
            .primary_key()
            .key()
            .clone()
            .parts_into_secret()
            .unwrap()
            .into_keypair()
            .unwrap();
        let sig = cert
            .revoke(&mut signer, ReasonForRevocation::KeyCompromised, b"lost")
            .unwrap();
        let binary = Packet::from(sig.clone()).to_vec().unwrap();
        let mut w = armor::Writer::with_headers(
            Vec::new(),
            armor::Kind::PublicKey,
            [("Comment", "This is a revocation certificate")],
        )
        .unwrap();
        std::io::Write::write_all(&mut w, &binary).unwrap();
        (sig, w.finalize().unwrap())
    }

    fn public(cert: &Cert) -> Vec<u8> {
        cert.armored().to_vec().unwrap()
    }

    fn revoked(keys: &Keyring) -> bool {
        let policy = openpgp::policy::StandardPolicy::new();
        let c = keys.certs().next().unwrap();
        matches!(
            c.with_policy(&policy, None).unwrap().revocation_status(),
            openpgp::types::RevocationStatus::Revoked(_)
        )
    }

    #[test]
    fn a_revocation_certificate_alone_is_material_not_an_error() {
        let cert = key();
        let (_, rev) = revocation_certificate(&cert);
        let m = KeyMaterial::parse(&rev).unwrap();
        assert!(m.only_revocations());
        assert_eq!((m.revocations.len(), m.loose_revocations), (1, 1));
        assert!(matches!(Keyring::parse_certs(&rev), Err(KeyError::NoCertificates)));
        assert!(matches!(KeyMaterial::parse(b"not a key\n"), Err(KeyError::Parse(_))));
    }

    #[test]
    fn a_revocation_in_another_file_revokes_in_either_order() {
        let cert = key();
        let (_, rev) = revocation_certificate(&cert);
        for order in [[public(&cert), rev.clone()], [rev.clone(), public(&cert)]] {
            let mut keys = Keyring::new();
            for bytes in &order {
                keys.add_keyring_bytes(bytes).unwrap();
            }
            assert_eq!(keys.len(), 1);
            assert!(revoked(&keys), "revocation not applied");
        }
        // Without it, the key stands.
        let mut keys = Keyring::new();
        keys.add_keyring_bytes(&public(&cert)).unwrap();
        assert!(!revoked(&keys));
    }

    #[test]
    fn every_armored_block_of_a_file_is_read() {
        let cert = key();
        let (_, rev) = revocation_certificate(&cert);
        let mut both = public(&cert);
        both.extend_from_slice(b"\n");
        both.extend_from_slice(&rev);
        let m = KeyMaterial::parse(&both).unwrap();
        assert_eq!((m.certs.len(), m.revocations.len()), (1, 1));
        let mut keys = Keyring::new();
        keys.add_material(&m);
        assert!(revoked(&keys));
        // gpg's guarded form (`:-----BEGIN`) is no block, as for gpg.
        let mut guarded = b":".to_vec();
        guarded.extend_from_slice(&rev);
        assert!(KeyMaterial::parse(&guarded).is_err());
    }

    #[test]
    fn subkey_and_user_id_revocations_from_another_file_apply() {
        let cert = key();
        let mut signer = cert
            .primary_key()
            .key()
            .clone()
            .parts_into_secret()
            .unwrap()
            .into_keypair()
            .unwrap();
        let sub = cert.keys().subkeys().next().unwrap();
        let sub_rev = SubkeyRevocationBuilder::new()
            .set_reason_for_revocation(ReasonForRevocation::KeyCompromised, b"")
            .unwrap()
            .build(&mut signer, &cert, sub.key(), None)
            .unwrap();
        let uid = cert.userids().next().unwrap();
        let uid_rev = UserIDRevocationBuilder::new()
            .set_reason_for_revocation(ReasonForRevocation::UIDRetired, b"")
            .unwrap()
            .build(&mut signer, &cert, uid.userid(), None)
            .unwrap();
        let mut file = Vec::new();
        for s in [&sub_rev, &uid_rev] {
            file.extend(Packet::from(s.clone()).to_vec().unwrap());
        }
        let m = KeyMaterial::parse(&file).unwrap();
        assert_eq!(m.loose_revocations, 2);
        let mut keys = Keyring::new();
        let applied = keys.add_material(&m);
        assert_eq!(applied, [None, None], "nothing to revoke yet");
        keys.add([cert.clone()]);
        let c = keys.certs().next().unwrap();
        let policy = openpgp::policy::StandardPolicy::new();
        let vc = c.with_policy(&policy, None).unwrap();
        let sk = vc.keys().subkeys().next().unwrap();
        assert!(matches!(
            sk.revocation_status(),
            openpgp::types::RevocationStatus::Revoked(_)
        ));
        let u = vc.userids().next().unwrap();
        assert!(matches!(
            u.revocation_status(),
            openpgp::types::RevocationStatus::Revoked(_)
        ));
    }

    #[test]
    fn a_revocation_by_another_key_changes_nothing() {
        let cert = key();
        let other = key();
        // `other` signs a "revocation" of itself; it must not touch `cert`,
        // even when its issuer is forged to name `cert`.
        let (sig, _) = revocation_certificate(&other);
        let mut keys = Keyring::new();
        keys.add([cert.clone()]);
        assert_eq!(keys.add_revocations(std::slice::from_ref(&sig)), [None]);
        assert!(!revoked(&keys));
        let mut forged = sig.clone();
        forged.unhashed_area_mut().clear();
        forged
            .unhashed_area_mut()
            .add(
                openpgp::packet::signature::subpacket::Subpacket::new(
                    openpgp::packet::signature::subpacket::SubpacketValue::Issuer(cert.keyid()),
                    false,
                )
                .unwrap(),
            )
            .unwrap();
        assert_eq!(keys.add_revocations(&[forged]), [None]);
        assert!(!revoked(&keys));
    }
}
