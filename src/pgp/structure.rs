//! The envelope's packet structure, checked before any cryptography with
//! hard bounds on what is read and decompressed: first-byte sniffing
//! ([`sniff`]) and the packet parser ([`check_structure`]) that accepts only
//! `[Compressed Data (] One-Pass Signature, Literal Data, Signature [)]`.

use std::io::Read;

use openpgp::packet::{OnePassSig, Signature, Tag};
use openpgp::parse::{Dearmor, PacketParserBuilder, PacketParserResult, Parse};
use openpgp::policy::Policy;
use openpgp::types::SignatureType;
use openpgp::Packet;
use sequoia_openpgp as openpgp;

use super::error::{err_text, issuer_of, malformed};
use super::trailer::{after_compressed_stream, Trailer};
use super::{policy, EnvelopeError, MAX_PAYLOAD_SIZE};

/// First-byte sniffing exactly as containers/image `FromBlob` does
/// (including its list of old-format one-pass-signature headers).
pub(super) fn sniff(blob: &[u8]) -> Result<(), EnvelopeError> {
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
pub(super) const MAX_PACKETS: usize = 16;
/// Largest one-pass-signature or signature packet (real ones are under
/// 2 KiB even for RSA-16384).
pub(super) const MAX_PACKET_SIZE: u32 = 64 * 1024;

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
///
/// Nothing may follow the message, not even inside the body of a compressed
/// data packet of indeterminate length after the end of its compressed
/// stream (where sequoia's parser would drop it unread; see [`trailer`]):
/// bytes there are `malformed-signature`, a second signed message there is
/// `multiple-signatures`, as after an uncompressed message.
pub(super) fn check_structure(blob: &[u8]) -> Result<Parsed, EnvelopeError> {
    let parsed = check_message(blob)?;
    match after_compressed_stream(blob) {
        Trailer::None => Ok(parsed),
        Trailer::Unreadable(why) => Err(EnvelopeError::Malformed(format!("compressed data: {why}"))),
        Trailer::Bytes(rest) => Err(trailing_message(&parsed, &rest)),
    }
}

/// The rejection of `rest`, found after the compressed stream of the message
/// `first`: a second signed message there is `multiple-signatures` (checked
/// without looking further for trailers, so this never recurses), anything
/// else `malformed-signature`.
fn trailing_message(first: &Parsed, rest: &[u8]) -> EnvelopeError {
    let second = sniff(rest).and_then(|()| check_message(rest));
    match second {
        Ok(p) => EnvelopeError::MultipleSignatures {
            count: 2,
            issuers: vec![issuer_of(&first.sig), issuer_of(&p.sig)],
        },
        Err(EnvelopeError::MultipleSignatures { count, mut issuers }) => {
            issuers.insert(0, issuer_of(&first.sig));
            EnvelopeError::MultipleSignatures {
                count: count + 1,
                issuers,
            }
        }
        Err(_) => EnvelopeError::Malformed(format!(
            "{} byte(s) of trailing data after the end of the compressed stream (not part of the signed message)",
            rest.len()
        )),
    }
}

/// [`check_structure`] without the look after the compressed stream.
fn check_message(blob: &[u8]) -> Result<Parsed, EnvelopeError> {
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
pub(super) struct Parsed {
    pub(super) payload: Vec<u8>,
    pub(super) sig: Signature,
}
