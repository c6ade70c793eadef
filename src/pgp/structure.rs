//! The envelope's packet structure, checked before any cryptography with
//! hard bounds on what is read and decompressed: first-byte sniffing
//! ([`sniff`]) and the packet parser ([`check_structure`]) that accepts only
//! `[Compressed Data (] One-Pass Signature, Literal Data, Signature [)]`.

use std::io::Read;

use openpgp::packet::{CompressedData, OnePassSig, Signature, Tag};
use openpgp::parse::{Dearmor, PacketParserBuilder, PacketParserResult, Parse};
use openpgp::policy::Policy;
use openpgp::types::SignatureType;
use openpgp::Packet;
use sequoia_openpgp as openpgp;

use super::error::{err_text, issuer_of, malformed};
use super::trailer::{self, after_compressed_stream, Trailer};
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
    match gpg_form(blob) {
        Some(parsed) => Ok(parsed),
        None => general(blob),
    }
}

/// Whether [`gpg_form`] agrees with the general path on `blob`: when the
/// shortcut accepts, the general path accepts too, with the same payload
/// and the same signature (with its computed digest). For the fuzz target
/// `envelope` (through `crate::fuzzing::gpg_form_agrees`) and the unit tests.
#[cfg(any(test, feature = "fuzzing"))]
pub(super) fn gpg_form_agrees(blob: &[u8]) -> bool {
    match gpg_form(blob) {
        None => true,
        Some(fast) => match general(blob) {
            Ok(slow) => fast.payload == slow.payload && format!("{:?}", fast.sig) == format!("{:?}", slow.sig),
            Err(_) => false,
        },
    }
}

/// [`check_structure`] for any form: the message parsed from its first byte
/// (decompressing inside sequoia's parser), then the look after the
/// compressed stream.
fn general(blob: &[u8]) -> Result<Parsed, EnvelopeError> {
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

/// The message as gpg and skopeo write it — one compressed data packet
/// running to the end of the blob, whose deflate or zlib stream ends exactly
/// where the packet does — checked with a single decompression into a
/// per-thread reused inflate state ([`trailer::whole_compressed`]), and the
/// decompressed packets parsed from memory as if at depth 1 of the
/// compressed packet ([`check_packets`] with `inside_compression`).
///
/// `None` for any other form and for anything this check does not accept:
/// the general path then parses the blob from the start and names what is
/// wrong, so every rejection (and its reason) is the general path's own, and
/// what is accepted here is exactly what the general path accepts — the same
/// packet checks on the same decompressed bytes, the same policy check on
/// the compressed data packet, and the trailer check's condition (nothing
/// after the end of the stream) required up front. It saves sequoia's
/// decompressing reader (a fresh inflate state and zeroed buffers per
/// message) and the trailer check's second decompression.
fn gpg_form(blob: &[u8]) -> Option<Parsed> {
    let (algo, inner) = trailer::whole_compressed(blob)?;
    let container = Packet::CompressedData(CompressedData::new(algo));
    policy().packet(&container).ok()?;
    check_packets(&inner, true).ok()
}

/// [`check_structure`] without the look after the compressed stream.
fn check_message(blob: &[u8]) -> Result<Parsed, EnvelopeError> {
    check_packets(blob, false)
}

/// The packet checks of [`check_structure`] on `bytes`: a whole message, or
/// (`inside_compression`) the decompressed content of a compressed data
/// packet that was the first and only packet of the message, checked at the
/// depths and packet counts it has inside that packet.
fn check_packets(bytes: &[u8], inside_compression: bool) -> Result<Parsed, EnvelopeError> {
    let outer = usize::from(inside_compression);
    let mut ppr = PacketParserBuilder::from_bytes(bytes)
        .and_then(|b| {
            b.dearmor(Dearmor::Disabled)
                .max_recursion_depth((1 - outer) as u8)
                .max_packet_size(MAX_PACKET_SIZE)
                .build()
        })
        .map_err(|e| EnvelopeError::Malformed(err_text(&e)))?;
    let mut count = outer;
    let mut payload = Vec::new();
    let mut compressed = inside_compression;
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
        let depth = pp.recursion_depth() + outer as isize;
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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::time::SystemTime;

    use openpgp::cert::{CertBuilder, CipherSuite};
    use openpgp::serialize::SerializeInto;

    use super::*;
    use crate::pgp::SigningKey;

    /// A signed message as imgsig writes it (uncompressed), made with a fresh key.
    fn signed(payload: &[u8]) -> Vec<u8> {
        let (cert, _) = CertBuilder::new()
            .add_userid("gpg form <g@imgsig.invalid>")
            .set_cipher_suite(CipherSuite::Cv25519)
            .add_signing_subkey()
            .generate()
            .unwrap();
        let now = SystemTime::now();
        let key = SigningKey::from_bytes(&cert.as_tsk().to_vec().unwrap(), None, now).unwrap();
        key.sign(payload, now).unwrap()
    }

    /// `inner` wrapped as gpg writes it: old-format compressed data of
    /// indeterminate length (0xA3), ZIP (raw deflate) or ZLIB.
    fn gpg_wrap(inner: &[u8], zlib: bool) -> Vec<u8> {
        let stream = if zlib {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(inner).unwrap();
            z.finish().unwrap()
        } else {
            let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            z.write_all(inner).unwrap();
            z.finish().unwrap()
        };
        [vec![0xA3, if zlib { 2 } else { 1 }], stream].concat()
    }

    /// A verdict in a comparable form: the payload and the signature with its
    /// computed digest (its Debug form shows it), or the error.
    fn verdict(r: Result<Parsed, EnvelopeError>) -> Result<(Vec<u8>, String), String> {
        r.map(|p| (p.payload, format!("{:?}", p.sig)))
            .map_err(|e| format!("{e:?}"))
    }

    fn same_verdict(blob: &[u8], what: &str) {
        assert!(gpg_form_agrees(blob), "{what}");
        assert_eq!(
            verdict(check_structure(blob)),
            verdict(general(blob)),
            "{what}: the gpg-form shortcut and the general path disagree"
        );
    }

    #[test]
    fn the_gpg_form_is_checked_with_one_decompression_and_gives_the_general_verdict() {
        let inner = signed(br#"{"critical":{}}"#);
        for zlib in [false, true] {
            let blob = gpg_wrap(&inner, zlib);
            let fast = gpg_form(&blob).expect("gpg's own form takes the shortcut");
            let slow = general(&blob).unwrap();
            assert_eq!(fast.payload, br#"{"critical":{}}"#);
            assert_eq!(format!("{:?}", fast.sig), format!("{:?}", slow.sig), "zlib {zlib}");
            assert!(fast.sig.computed_digest().is_some());
            // Definite old-format lengths (one, two and four octets) take it too.
            let body = &blob[1..];
            let one = [&[0xA0, body.len() as u8][..], body].concat();
            let two = [&[0xA1][..], &(body.len() as u16).to_be_bytes(), body].concat();
            let four = [&[0xA2][..], &(body.len() as u32).to_be_bytes(), body].concat();
            for b in [&one, &two, &four] {
                assert!(gpg_form(b).is_some(), "zlib {zlib}: {:02x}", b[0]);
                same_verdict(b, "definite length");
            }
        }
    }

    #[test]
    fn damaged_gpg_form_messages_get_the_general_verdict() {
        let inner = signed(b"claim");
        for zlib in [false, true] {
            let blob = gpg_wrap(&inner, zlib);
            same_verdict(&blob, "intact");
            // Every cut, and every byte damaged two ways, of the outer message.
            for cut in 0..blob.len() {
                same_verdict(&blob[..cut], &format!("cut at {cut}"));
            }
            for at in 0..blob.len() {
                for flip in [0x01, 0x80] {
                    let mut b = blob.clone();
                    b[at] ^= flip;
                    same_verdict(&b, &format!("outer byte {at} ^ {flip:#x}"));
                }
            }
            // Every byte of the content damaged before compression: valid
            // streams around broken packets.
            for at in 0..inner.len() {
                for flip in [0x01, 0x40, 0x80] {
                    let mut i = inner.clone();
                    i[at] ^= flip;
                    same_verdict(&gpg_wrap(&i, zlib), &format!("inner byte {at} ^ {flip:#x}"));
                }
            }
            // Bytes after the stream, and a second message, inside the packet.
            for tail in [&b"junk"[..], &inner[..], &blob[..]] {
                let b = [&blob[..], tail].concat();
                assert!(gpg_form(&b).is_none());
                same_verdict(&b, "trailer");
            }
            // Bytes after a definite-length packet.
            let body = &blob[1..];
            let b = [&[0xA1][..], &(body.len() as u16).to_be_bytes(), body, b"x"].concat();
            assert!(gpg_form(&b).is_none());
            same_verdict(&b, "after a definite-length packet");
            // Two messages, compressed together; nested compression; no content.
            for content in [[&inner[..], &inner[..]].concat(), gpg_wrap(&inner, zlib), Vec::new()] {
                same_verdict(&gpg_wrap(&content, zlib), "odd content");
            }
        }
    }

    #[test]
    fn more_output_than_the_bound_is_left_to_the_general_path() {
        // A literal far past MAX_PAYLOAD_SIZE compresses to little.
        let inner = signed(&vec![b'x'; 400 * 1024]);
        let blob = gpg_wrap(&inner, false);
        assert!(blob.len() < 8 * 1024);
        assert!(gpg_form(&blob).is_none());
        same_verdict(&blob, "bomb");
        assert!(matches!(check_structure(&blob), Err(EnvelopeError::PayloadTooLarge(_))));
    }
}
