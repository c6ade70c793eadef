//! Untrusted inspection of a signature blob: what its packets say, without
//! any key (containers/image `GetUntrustedSignatureInformationWithoutVerifying`,
//! skopeo's `untrusted-signature-dump-without-verification`, and in spirit
//! `gpg --list-packets`).
//!
//! Nothing returned here is authenticated. The walk has the same bounds as
//! [`super::verify`]: the blob is at most [`MAX_SIGNATURE_SIZE`] bytes, no
//! armor is decoded, at most one compression layer is opened, at most
//! [`MAX_PAYLOAD_SIZE`] bytes of literal data are read, at most 16 packets
//! are looked at, and inside a compression layer the walk stops at the first
//! packet whose body it would otherwise have to decompress without a bound
//! (a second compression layer, an over-long literal body, an unknown or
//! over-large packet). A decompression bomb therefore costs at most a few
//! hundred KiB of output.
//!
//! The verdict on the structure ([`UntrustedEnvelope::structure`]) is not
//! re-derived here: it is the result of the very checks `verify` runs before
//! any cryptography (`sniff` and `check_structure`), so `inspect` and
//! `verify` cannot disagree about what an acceptable envelope is. The walk
//! below only lists; it does not judge.

use std::io::Read;
use std::time::SystemTime;

use openpgp::packet::{OnePassSig, Signature, Tag};
use openpgp::parse::{Dearmor, PacketParserBuilder, PacketParserResult, Parse};
use openpgp::{KeyHandle, KeyID, Packet};

use super::{check_structure, err_text, sniff, EnvelopeError, MAX_PACKETS, MAX_PACKET_SIZE};
use super::{MAX_PAYLOAD_SIZE, MAX_SIGNATURE_SIZE};
use sequoia_openpgp as openpgp;

/// What a signature blob says about itself. Not authenticated: anyone can
/// write any of these values.
#[derive(Debug, Clone)]
pub struct UntrustedEnvelope {
    /// The packets, in order, as far as the bounded walk went.
    pub packets: Vec<UntrustedPacket>,
    /// The literal data (the claim bytes, if this is a signature): at most
    /// [`MAX_PAYLOAD_SIZE`] bytes; `None` when no literal data packet was read.
    pub payload: Option<Vec<u8>>,
    /// False when the literal data is longer than [`MAX_PAYLOAD_SIZE`]: then
    /// `payload` holds only its first bytes.
    pub payload_complete: bool,
    /// Would `verify` accept this packet structure (before looking at any
    /// key)? The error is the rejection `verify` would report.
    pub structure: Result<(), EnvelopeError>,
    /// Why the walk stopped before the end of the message, if it did.
    pub stopped: Option<String>,
}

/// One packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UntrustedPacket {
    /// 0 for the top level, 1 inside the compression layer.
    pub depth: usize,
    /// The OpenPGP packet tag number (RFC 9580 §5).
    pub tag: u8,
    /// What was decoded from it.
    pub details: PacketDetails,
}

impl UntrustedPacket {
    /// A stable kebab-case name of the packet type, e.g. `literal-data`.
    pub fn name(&self) -> &'static str {
        tag_name(Tag::from(self.tag))
    }
}

/// What was decoded from a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PacketDetails {
    /// A compressed data packet (its contents are the packets at depth 1).
    CompressedData {
        /// e.g. `ZIP`, `ZLIB`, `BZip2`, `Uncompressed`.
        algorithm: String,
    },
    /// A one-pass signature packet.
    OnePassSig {
        /// The packet version (3 or 6).
        version: u8,
        /// e.g. `Binary`, `Text`.
        signature_type: String,
        /// e.g. `RSA`, `EdDSA`.
        public_key_algorithm: String,
        /// e.g. `SHA256`.
        hash_algorithm: String,
        /// The key ID (v3) or fingerprint (v6) it announces, uppercase hex.
        issuer: String,
        /// The "last" flag (0 means another one-pass signature follows).
        last: bool,
    },
    /// The literal data packet: the signed payload.
    Literal {
        /// The format octet: `b` binary, `t` text, `u` UTF-8 text.
        format: char,
        /// The file name field, raw bytes (usually empty).
        filename: Vec<u8>,
        /// The date field; `None` when it is 0.
        date: Option<SystemTime>,
        /// Bytes of literal data read (at most [`MAX_PAYLOAD_SIZE`]).
        length: usize,
        /// False when there is more than [`MAX_PAYLOAD_SIZE`] bytes.
        complete: bool,
    },
    /// A signature packet.
    Signature(UntrustedSignature),
    /// Any other packet (encryption, keys, marker, unknown or unparsable).
    Other {
        /// What is known about it, e.g. the recipient of an encrypted
        /// session key or why it could not be parsed.
        note: Option<String>,
    },
}

/// A signature packet's fields, as written (not checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UntrustedSignature {
    /// The packet version (3, 4 or 6).
    pub version: u8,
    /// e.g. `Binary`, `Text`.
    pub signature_type: String,
    /// e.g. `RSA`, `EdDSA`.
    pub public_key_algorithm: String,
    /// e.g. `SHA256`.
    pub hash_algorithm: String,
    /// Signature creation time subpacket.
    pub created: Option<SystemTime>,
    /// Creation time plus the signature expiration time subpacket.
    pub expires: Option<SystemTime>,
    /// Issuer (key ID) subpackets, hashed and unhashed, uppercase hex.
    pub issuer_key_ids: Vec<String>,
    /// Issuer fingerprint subpackets, hashed and unhashed, uppercase hex.
    pub issuer_fingerprints: Vec<String>,
}

impl UntrustedEnvelope {
    /// The first signature packet.
    pub fn signature(&self) -> Option<&UntrustedSignature> {
        self.packets.iter().find_map(|p| match &p.details {
            PacketDetails::Signature(s) => Some(s),
            _ => None,
        })
    }

    /// The 16-hex-digit key ID of the key the (first) signature claims to be
    /// made by: its issuer subpacket, else the key ID of its issuer
    /// fingerprint, else what the one-pass signature announces. This is what
    /// skopeo calls `UntrustedShortKeyIdentifier`.
    pub fn issuer_key_id(&self) -> Option<String> {
        if let Some(sig) = self.signature() {
            if let Some(id) = sig.issuer_key_ids.first() {
                return Some(id.clone());
            }
            if let Some(fpr) = sig.issuer_fingerprints.first() {
                if let Ok(fpr) = fpr.parse::<openpgp::Fingerprint>() {
                    return Some(KeyID::from(&fpr).to_hex());
                }
            }
        }
        self.packets.iter().find_map(|p| match &p.details {
            PacketDetails::OnePassSig { issuer, .. } => match issuer.parse::<KeyHandle>() {
                Ok(h) => Some(KeyID::from(&h).to_hex()),
                Err(_) => None,
            },
            _ => None,
        })
    }

    /// The issuer fingerprint the (first) signature names, if any.
    pub fn issuer_fingerprint(&self) -> Option<String> {
        self.signature().and_then(|s| s.issuer_fingerprints.first().cloned())
    }
}

/// Describe a signature blob without verifying anything.
///
/// Fails only when there is nothing to describe: an empty blob, one over
/// [`MAX_SIGNATURE_SIZE`], or one whose first packet cannot be parsed (not
/// binary OpenPGP: armored, cleartext-signed, or not OpenPGP at all). A blob
/// that is OpenPGP but not an acceptable signature (unsigned, encrypted,
/// detached, several signatures, …) is described, with the reason in
/// [`UntrustedEnvelope::structure`].
pub fn inspect(blob: &[u8]) -> Result<UntrustedEnvelope, EnvelopeError> {
    if blob.len() > MAX_SIGNATURE_SIZE {
        return Err(EnvelopeError::TooLarge {
            size: blob.len(),
            limit: MAX_SIGNATURE_SIZE,
        });
    }
    let sniffed = sniff(blob);
    if let Err(EnvelopeError::Empty) = sniffed {
        return Err(EnvelopeError::Empty);
    }
    let walk = walk(blob);
    if walk.packets.is_empty() {
        // Nothing parsed: the format error says more than the parser's.
        return Err(match sniffed {
            Err(e) => e,
            Ok(()) => EnvelopeError::Malformed(walk.stopped.unwrap_or_else(|| "no packets".into())),
        });
    }
    let structure = sniffed.and_then(|()| check_structure(blob).map(|_| ()));
    Ok(UntrustedEnvelope {
        packets: walk.packets,
        payload: walk.payload,
        payload_complete: walk.payload_complete,
        structure,
        stopped: walk.stopped,
    })
}

struct Walk {
    packets: Vec<UntrustedPacket>,
    payload: Option<Vec<u8>>,
    payload_complete: bool,
    stopped: Option<String>,
}

/// List packets with the bounds described in the module documentation.
fn walk(blob: &[u8]) -> Walk {
    let mut out = Walk {
        packets: Vec::new(),
        payload: None,
        payload_complete: true,
        stopped: None,
    };
    let ppr = PacketParserBuilder::from_bytes(blob).and_then(|b| {
        b.dearmor(Dearmor::Disabled)
            .max_recursion_depth(1)
            .max_packet_size(MAX_PACKET_SIZE)
            .automatic_hashing(false)
            .build()
    });
    let mut ppr = match ppr {
        Ok(p) => p,
        Err(e) => {
            out.stopped = Some(err_text(&e));
            return out;
        }
    };
    while let PacketParserResult::Some(mut pp) = ppr {
        if out.packets.len() == MAX_PACKETS {
            out.stopped = Some(format!("more than {MAX_PACKETS} packets; the rest was not read"));
            return out;
        }
        let depth = usize::try_from(pp.recursion_depth()).unwrap_or(0);
        let tag = pp.packet.tag();
        if tag == Tag::Reserved && out.packets.is_empty() {
            // sequoia's name for bytes that are not a packet at all.
            if let Packet::Unknown(u) = &pp.packet {
                out.stopped = Some(format!("not an OpenPGP packet: {}", u.error()));
            }
            return out;
        }
        // Inside the compression layer every byte skipped is a byte
        // decompressed: stop before skipping anything not fully read.
        let mut stop: Option<String> = None;
        let details = match &pp.packet {
            Packet::CompressedData(c) => {
                if depth > 0 {
                    stop = Some("a second compression layer; not decompressed".into());
                }
                PacketDetails::CompressedData {
                    algorithm: c.algo().to_string(),
                }
            }
            Packet::OnePassSig(ops) => one_pass_sig(ops),
            Packet::Signature(sig) => PacketDetails::Signature(signature(sig)),
            Packet::Literal(lit) => {
                let format = char::from(u8::from(lit.format()));
                let filename = lit.filename().map(<[u8]>::to_vec).unwrap_or_default();
                let date = lit.date();
                let mut body = Vec::new();
                let read = (&mut pp).take(MAX_PAYLOAD_SIZE as u64 + 1).read_to_end(&mut body);
                let complete = body.len() <= MAX_PAYLOAD_SIZE;
                body.truncate(MAX_PAYLOAD_SIZE);
                if let Err(e) = read {
                    stop = Some(format!("literal data: {e}"));
                } else if !complete {
                    stop = Some(format!(
                        "the literal data is longer than {MAX_PAYLOAD_SIZE} bytes; the rest was not read"
                    ));
                }
                let length = body.len();
                if out.payload.is_none() {
                    out.payload = Some(body);
                    out.payload_complete = complete;
                }
                PacketDetails::Literal {
                    format,
                    filename,
                    date,
                    length,
                    complete,
                }
            }
            Packet::PKESK(p) => PacketDetails::Other {
                note: Some(match p.recipient() {
                    Some(r) => format!("encrypted to key {}", r.to_hex()),
                    None => "encrypted to an anonymous recipient".into(),
                }),
            },
            Packet::Unknown(u) => {
                if depth > 0 {
                    stop = Some("a packet that could not be parsed, inside the compression layer".into());
                }
                PacketDetails::Other {
                    note: Some(if tag == Tag::Reserved {
                        format!("not a packet (trailing data?): {}", u.error())
                    } else {
                        format!("not parsed: {}", u.error())
                    }),
                }
            }
            _ => {
                if depth > 0 {
                    stop = Some(format!("an unexpected {} inside the compression layer", tag_name(tag)));
                }
                PacketDetails::Other { note: None }
            }
        };
        out.packets.push(UntrustedPacket {
            depth,
            tag: u8::from(tag),
            details,
        });
        if let Some(reason) = stop {
            out.stopped = Some(reason);
            return out;
        }
        // Encrypted containers are not descended into (no keys); only a
        // top-level compressed packet is opened (max_recursion_depth 1).
        ppr = match pp.recurse() {
            Ok((_, next)) => next,
            Err(e) => {
                out.stopped = Some(err_text(&e));
                return out;
            }
        };
    }
    out
}

fn one_pass_sig(ops: &OnePassSig) -> PacketDetails {
    PacketDetails::OnePassSig {
        version: ops.version(),
        signature_type: ops.typ().to_string(),
        public_key_algorithm: ops.pk_algo().to_string(),
        hash_algorithm: ops.hash_algo().to_string(),
        issuer: ops.issuer().to_hex(),
        last: ops.last(),
    }
}

fn signature(sig: &Signature) -> UntrustedSignature {
    UntrustedSignature {
        version: sig.version(),
        signature_type: sig.typ().to_string(),
        public_key_algorithm: sig.pk_algo().to_string(),
        hash_algorithm: sig.hash_algo().to_string(),
        created: sig.signature_creation_time(),
        expires: sig.signature_expiration_time(),
        issuer_key_ids: sig.issuers().map(|k| k.to_hex()).collect(),
        issuer_fingerprints: sig.issuer_fingerprints().map(|f| f.to_hex()).collect(),
    }
}

/// Stable kebab-case packet names (RFC 9580 §5 titles).
fn tag_name(tag: Tag) -> &'static str {
    match tag {
        Tag::PKESK => "public-key-encrypted-session-key",
        Tag::Signature => "signature",
        Tag::SKESK => "symmetric-key-encrypted-session-key",
        Tag::OnePassSig => "one-pass-signature",
        Tag::SecretKey => "secret-key",
        Tag::PublicKey => "public-key",
        Tag::SecretSubkey => "secret-subkey",
        Tag::CompressedData => "compressed-data",
        Tag::SED => "symmetrically-encrypted-data",
        Tag::Marker => "marker",
        Tag::Literal => "literal-data",
        Tag::Trust => "trust",
        Tag::UserID => "user-id",
        Tag::PublicSubkey => "public-subkey",
        Tag::UserAttribute => "user-attribute",
        Tag::SEIP => "encrypted-integrity-protected-data",
        Tag::MDC => "modification-detection-code",
        Tag::Padding => "padding",
        Tag::Reserved => "not-a-packet",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_limits_are_errors() {
        assert_eq!(inspect(b"").unwrap_err(), EnvelopeError::Empty);
        assert_eq!(
            inspect(b"-----BEGIN PGP MESSAGE-----\n").unwrap_err(),
            EnvelopeError::UnrecognizedFormat(b'-')
        );
        let big = vec![0xA3; MAX_SIGNATURE_SIZE + 1];
        assert!(matches!(inspect(&big), Err(EnvelopeError::TooLarge { .. })));
    }
}
