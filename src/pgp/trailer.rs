//! Bytes after the end of the compressed stream.
//!
//! gpg and skopeo write the compressed data packet with an indeterminate
//! length (old-format tag 8, length type 3): its body runs to the end of the
//! file. The decompressor stops at the end of the deflate (or bzip2) stream,
//! and sequoia's parser silently drops whatever is left of the packet body
//! when it leaves the container — so junk, or a whole second signed message,
//! appended to a gpg signature would be ignored. [`after_compressed_stream`]
//! finds those bytes: it reads the first packet's header, collects its body
//! (one-, two-, five-octet, partial or indeterminate lengths), decompresses
//! it again with a bound on the output, and returns what follows the end of
//! the stream.
//!
//! It runs only after the structure check passed, so the decompressed
//! message is known to be small (at most a few packets of bounded size);
//! [`MAX_DECOMPRESSED`] is a second, independent bound.

use miniz_oxide::inflate::core::DecompressorOxide;
use miniz_oxide::inflate::TINFLStatus;
use sequoia_openpgp::types::CompressionAlgorithm;

use super::{MAX_PACKET_SIZE, MAX_PAYLOAD_SIZE};

/// The most output decompressed here before giving up: more than any message
/// the structure check accepts (a one-pass signature, at most
/// `MAX_PAYLOAD_SIZE` bytes of literal data and a signature of at most
/// `MAX_PACKET_SIZE` bytes, plus headers).
const MAX_DECOMPRESSED: u64 = MAX_PAYLOAD_SIZE as u64 + 4 * MAX_PACKET_SIZE as u64;

/// What follows the compressed stream inside or after the first packet.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Trailer {
    /// Nothing: the stream ends exactly where the packet body ends (or the
    /// first packet is not compressed data).
    None,
    /// These bytes follow the end of the compressed stream.
    Bytes(Vec<u8>),
    /// The stream could not be decompressed again within the bounds.
    Unreadable(String),
}

/// An old-format packet's body and what follows it, from its first octet
/// and the bytes after it: a one-, two- or four-octet length, or an
/// indeterminate length (the body is all of `rest`).
fn old_format_body(first: u8, rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = match first & 0x03 {
        0 => (usize::from(*rest.first()?), rest.get(1..)?),
        1 => (
            usize::from(u16::from_be_bytes(rest.get(..2)?.try_into().ok()?)),
            rest.get(2..)?,
        ),
        2 => (
            usize::try_from(u32::from_be_bytes(rest.get(..4)?.try_into().ok()?)).ok()?,
            rest.get(4..)?,
        ),
        _ => return Some((rest, &[])),
    };
    Some((rest.get(..len)?, &rest[len..]))
}

/// The first packet's tag and body, if its header is well-formed: the body of
/// an indeterminate-length packet is the rest of `blob`; partial body chunks
/// are concatenated.
fn first_packet_body(blob: &[u8]) -> Option<(u8, Vec<u8>)> {
    let (&first, rest) = blob.split_first()?;
    if first & 0x80 == 0 {
        return None;
    }
    if first & 0x40 == 0 {
        // Old format: tag in bits 5..2, length type in bits 1..0.
        let tag = (first >> 2) & 0x0F;
        let (body, _after) = old_format_body(first, rest)?;
        return Some((tag, body.to_vec()));
    }
    // New format: one-, two-, five-octet or partial body lengths.
    let tag = first & 0x3F;
    let mut body = Vec::new();
    let mut rest = rest;
    loop {
        let (&o1, after) = rest.split_first()?;
        let (len, partial, after) = match o1 {
            0..=191 => (usize::from(o1), false, after),
            192..=223 => {
                let o2 = usize::from(*after.first()?);
                (((usize::from(o1) - 192) << 8) + o2 + 192, false, after.get(1..)?)
            }
            224..=254 => (1usize << (o1 & 0x1F), true, after),
            255 => (
                usize::try_from(u32::from_be_bytes(after.get(..4)?.try_into().ok()?)).ok()?,
                false,
                after.get(4..)?,
            ),
        };
        body.extend_from_slice(after.get(..len)?);
        rest = &after[len..];
        if !partial {
            return Some((tag, body));
        }
    }
}

/// The bytes after the end of the compressed stream of `blob`'s first packet
/// (see the module docs).
pub(super) fn after_compressed_stream(blob: &[u8]) -> Trailer {
    let Some((8, body)) = first_packet_body(blob) else {
        return Trailer::None;
    };
    let Some((&algo, stream)) = body.split_first() else {
        return Trailer::None;
    };
    let consumed = match algo {
        // Uncompressed: the body is packets, all of which the parser reads.
        0 => return Trailer::None,
        1 => inflate(stream, false),
        2 => inflate(stream, true),
        3 => bunzip(stream),
        // Unknown algorithms never pass the structure check.
        _ => return Trailer::None,
    };
    match consumed {
        Ok(Some(n)) if n < stream.len() => Trailer::Bytes(stream[n..].to_vec()),
        Ok(_) => Trailer::None,
        Err(e) => Trailer::Unreadable(e),
    }
}

/// A decompressor as [`stream_length`] drives it (flate2's and bzip2's differ only in names).
trait Stream {
    fn totals(&self) -> (u64, u64);
    /// Decompress from `input` into `out`; whether the stream ended.
    fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<bool, String>;
}

impl Stream for flate2::Decompress {
    fn totals(&self) -> (u64, u64) {
        (self.total_in(), self.total_out())
    }
    fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<bool, String> {
        self.decompress(input, out, flate2::FlushDecompress::None)
            .map(|s| s == flate2::Status::StreamEnd)
            .map_err(|e| format!("decompressing: {e}"))
    }
}

impl Stream for bzip2::Decompress {
    fn totals(&self) -> (u64, u64) {
        (self.total_in(), self.total_out())
    }
    fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<bool, String> {
        self.decompress(input, out)
            .map(|s| s == bzip2::Status::StreamEnd)
            .map_err(|e| format!("decompressing: {e}"))
    }
}

/// How many input bytes the compressed stream takes, or `None` if it does not
/// end within `input`; at most [`MAX_DECOMPRESSED`] bytes are decompressed
/// (into `out`, over and over: only the input position matters).
fn stream_length(d: &mut impl Stream, input: &[u8], out: &mut [u8]) -> Result<Option<usize>, String> {
    loop {
        let before = d.totals();
        let at = usize::try_from(before.0).unwrap_or(usize::MAX).min(input.len());
        if d.step(&input[at..], out)? {
            return Ok(Some(usize::try_from(d.totals().0).unwrap_or(usize::MAX)));
        }
        if d.totals().1 > MAX_DECOMPRESSED {
            return Err(format!("more than {MAX_DECOMPRESSED} bytes of compressed content"));
        }
        if d.totals() == before {
            return Ok(None);
        }
    }
}

/// The output buffer every stream is decompressed into.
const SCRATCH_SIZE: usize = 32 * 1024;

/// Per thread, the decompressor states and the output buffer, reset and
/// reused for every signature: a bulk run checks tens of thousands of
/// compressed messages per thread, and allocating (and zeroing) tens of KiB
/// of decompressor state and buffer for each was a measurable part of it.
/// Each part is made when first needed (a one-shot verify of a gpg
/// signature needs only the bare decoder: each unused part would be pages
/// of memory touched for nothing).
#[derive(Default)]
struct Scratch {
    raw: Option<flate2::Decompress>,
    zlib: Option<flate2::Decompress>,
    out: Option<Box<[u8]>>,
    /// The bare decoder for [`whole_compressed`] (about 11 KiB; reset with
    /// `init`, which leaves its tables to be rebuilt by each stream).
    core: Option<Box<DecompressorOxide>>,
}

impl Scratch {
    /// The inflate state for raw deflate or zlib, reset for a new stream, and
    /// the output buffer (for [`stream_length`]).
    fn parts(&mut self, zlib: bool) -> (&mut flate2::Decompress, &mut [u8]) {
        let slot = if zlib { &mut self.zlib } else { &mut self.raw };
        let out = self
            .out
            .get_or_insert_with(|| vec![0u8; SCRATCH_SIZE].into_boxed_slice());
        (fresh(slot, zlib), out)
    }
}

/// The inflate state in `slot`, reset, or a new one.
fn fresh(slot: &mut Option<flate2::Decompress>, zlib: bool) -> &mut flate2::Decompress {
    match slot {
        Some(d) => {
            d.reset(zlib);
            d
        }
        None => slot.insert(flate2::Decompress::new(zlib)),
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// [`stream_length`] of a deflate (`zlib`: with zlib header) stream.
fn inflate(input: &[u8], zlib: bool) -> Result<Option<usize>, String> {
    SCRATCH.with(|cell| {
        let Ok(mut guard) = cell.try_borrow_mut() else {
            // Re-entered (cannot happen: nothing here calls back); work without the cache.
            let mut out = vec![0u8; SCRATCH_SIZE];
            return stream_length(&mut flate2::Decompress::new(zlib), input, &mut out);
        };
        let (d, out) = guard.parts(zlib);
        stream_length(d, input, out)
    })
}

/// The decompressed content of `blob` when it is exactly one compressed
/// data packet in the old format gpg writes (tag 8, any length type; for a
/// definite length the packet must end where `blob` does), compressed with
/// ZIP or ZLIB, whose stream ends exactly at the end of the packet body and
/// decompresses to at most [`MAX_DECOMPRESSED`] bytes. `None` for anything
/// else: other forms, bzip2, a stream that is corrupt, cut short, too large
/// or followed by bytes.
///
/// It decompresses once, with a per-thread decoder reset for each stream,
/// into one buffer that grows as needed ([`inflate_whole`]).
pub(super) fn whole_compressed(blob: &[u8]) -> Option<(CompressionAlgorithm, Vec<u8>)> {
    let (&first, rest) = blob.split_first()?;
    if !(0xA0..=0xA3).contains(&first) {
        return None;
    }
    let (body, after) = old_format_body(first, rest)?;
    if !after.is_empty() {
        return None;
    }
    let (&algo, stream) = body.split_first()?;
    let (algo, zlib) = match algo {
        1 => (CompressionAlgorithm::Zip, false),
        2 => (CompressionAlgorithm::Zlib, true),
        _ => return None,
    };
    SCRATCH.with(|cell| {
        let mut guard = cell.try_borrow_mut().ok()?;
        let d = guard.core.get_or_insert_with(Box::default);
        d.init();
        inflate_whole(d, stream, zlib).map(|out| (algo, out))
    })
}

/// The whole output of the deflate (`zlib`: with zlib header and checksum)
/// stream `stream`, if it ends exactly at the end of `stream` and is at most
/// [`MAX_DECOMPRESSED`] bytes; decoded with `d` into one growing buffer (so
/// no window buffer is needed: back-references point into the output).
fn inflate_whole(d: &mut DecompressorOxide, stream: &[u8], zlib: bool) -> Option<Vec<u8>> {
    use miniz_oxide::inflate::core::{decompress, inflate_flags as f};
    let mut flags = f::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    if zlib {
        flags |= f::TINFL_FLAG_PARSE_ZLIB_HEADER | f::TINFL_FLAG_COMPUTE_ADLER32;
    }
    let max = usize::try_from(MAX_DECOMPRESSED).ok()?;
    let mut out = vec![0u8; (stream.len() * 4).clamp(1024, max)];
    let (mut in_pos, mut out_pos) = (0usize, 0usize);
    loop {
        let (status, consumed, written) = decompress(d, stream.get(in_pos..)?, &mut out, out_pos, flags);
        in_pos += consumed;
        out_pos += written;
        match status {
            TINFLStatus::Done => {
                out.truncate(out_pos);
                // Nothing may follow the end of the stream inside the packet.
                return (in_pos == stream.len()).then_some(out);
            }
            TINFLStatus::HasMoreOutput if out.len() < max => {
                let grown = out.len().saturating_mul(2).min(max);
                out.resize(grown, 0);
            }
            // Too large, corrupt, cut short: left to the general path.
            _ => return None,
        }
    }
}

/// [`stream_length`] of a bzip2 stream (rare: gpg writes ZIP by default; not cached).
fn bunzip(input: &[u8]) -> Result<Option<usize>, String> {
    let mut out = vec![0u8; SCRATCH_SIZE];
    stream_length(&mut bzip2::Decompress::new(false), input, &mut out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_bodies_of_every_length_form() {
        // Old format, one-octet length 2, then one trailing byte outside the packet.
        assert_eq!(first_packet_body(&[0xA0, 2, 9, 9, 7]), Some((8, vec![9, 9])));
        // Old format, indeterminate: the rest of the input.
        assert_eq!(first_packet_body(&[0xA3, 1, 2, 3]), Some((8, vec![1, 2, 3])));
        // New format, partial (2^1 = 2 bytes) then a final one-octet length 1.
        assert_eq!(first_packet_body(&[0xC8, 0xE1, 1, 2, 1, 3]), Some((8, vec![1, 2, 3])));
        // New format, two-octet length 192.
        let mut two = vec![0xC8, 192, 0];
        two.extend(vec![5; 192]);
        assert_eq!(first_packet_body(&two), Some((8, vec![5; 192])));
        // Truncated.
        assert_eq!(first_packet_body(&[0xA0, 5, 1]), None);
        assert_eq!(first_packet_body(&[0x00]), None);
    }

    #[test]
    fn trailing_bytes_after_each_stream_kind() {
        use std::io::Write;
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"inner packets").unwrap();
        let deflated = z.finish().unwrap();
        let mut b = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        b.write_all(b"inner packets").unwrap();
        let bzipped = b.finish().unwrap();
        for (algo, stream) in [(1u8, &deflated), (3u8, &bzipped)] {
            let mut blob = vec![0xA3, algo];
            blob.extend_from_slice(stream);
            assert_eq!(after_compressed_stream(&blob), Trailer::None, "algo {algo}");
            blob.extend_from_slice(b"junk");
            assert_eq!(
                after_compressed_stream(&blob),
                Trailer::Bytes(b"junk".to_vec()),
                "algo {algo}"
            );
        }
        // A stream that does not end is not a trailer.
        assert_eq!(after_compressed_stream(&[0xA3, 1, 0x00]), Trailer::None);
        // Not compressed data.
        assert_eq!(after_compressed_stream(&[0x90, 0x0D]), Trailer::None);
    }

    #[test]
    fn the_reused_inflate_state_starts_afresh_for_each_message() {
        use std::io::Write;
        let deflate = |zlib: bool, data: &[u8]| {
            if zlib {
                let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
                z.write_all(data).unwrap();
                z.finish().unwrap()
            } else {
                let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
                z.write_all(data).unwrap();
                z.finish().unwrap()
            }
        };
        for zlib in [false, true] {
            let algo = if zlib { 2u8 } else { 1u8 };
            let good = deflate(zlib, b"one message");
            // A corrupt stream, a stream cut short, then good ones: each judged on its own.
            let mut corrupt = vec![0xA3, algo, 0xFF, 0xFF, 0xFF];
            corrupt.extend_from_slice(&good);
            assert!(
                matches!(after_compressed_stream(&corrupt), Trailer::Unreadable(_)),
                "zlib {zlib}"
            );
            let cut = [vec![0xA3, algo], good[..good.len() / 2].to_vec()].concat();
            assert_eq!(after_compressed_stream(&cut), Trailer::None, "zlib {zlib}");
            let mut blob = [vec![0xA3, algo], good.clone()].concat();
            assert_eq!(after_compressed_stream(&blob), Trailer::None, "zlib {zlib}");
            blob.push(7);
            assert_eq!(after_compressed_stream(&blob), Trailer::Bytes(vec![7]), "zlib {zlib}");
            // A large stream (more output than the buffer) after small ones.
            let big = deflate(zlib, &vec![b'x'; 200_000]);
            let blob = [vec![0xA3, algo], big, b"tail".to_vec()].concat();
            assert_eq!(
                after_compressed_stream(&blob),
                Trailer::Bytes(b"tail".to_vec()),
                "zlib {zlib}"
            );
        }
    }
}
