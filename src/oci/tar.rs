//! Finding files in an uncompressed tar archive without extracting it: one
//! pass over the headers (file contents are skipped by seeking), remembering
//! where the wanted regular files start; they are then read in place,
//! bounded.
//!
//! What an `oci-archive:` holds is what Go's `archive/tar` writes (skopeo,
//! buildah, podman): ustar headers, with PAX (`x`) or GNU (`L`) records for
//! long names. Deviations from extracting the archive, on purpose:
//! - nothing is written anywhere, so a name cannot escape a directory; names
//!   with `..` components or an absolute path are never matched;
//! - a wanted name that appears twice is refused (extraction would keep the
//!   last copy silently); links and other entry types are never followed;
//! - a compressed archive is refused by name (c/image's `oci-archive:` is an
//!   uncompressed tar too).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

/// Most headers (entries, PAX and long-name records) read before giving up.
const MAX_ENTRIES: usize = 1 << 20;
/// Largest PAX extended header or GNU long-name record read.
const MAX_EXTENDED_HEADER: u64 = 64 * 1024;

/// Where a regular file's contents are in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub offset: u64,
    pub size: u64,
}

/// Why an archive could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TarError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("not an uncompressed tar archive: {0}")]
    Format(String),
    #[error("{name:?} appears more than once in the archive; refusing to guess which copy is meant")]
    Duplicate { name: String },
}

impl TarError {
    /// Whether the archive is at fault (unusable input), not the system.
    pub(crate) fn is_input(&self) -> bool {
        match self {
            TarError::Io(e) => e.kind() == io::ErrorKind::UnexpectedEof || crate::files::is_user_error(e),
            TarError::Format(_) | TarError::Duplicate { .. } => true,
        }
    }
}

fn bad(msg: impl Into<String>) -> TarError {
    TarError::Format(msg.into())
}

/// A tar header's numeric field: octal digits (space/NUL padded), or
/// GNU base-256 when the top bit of the first byte is set.
fn number(field: &[u8]) -> Result<u64, TarError> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            v = v
                .checked_mul(256)
                .and_then(|v| v.checked_add(u64::from(b)))
                .ok_or_else(|| bad("a size field overflows"))?;
        }
        return Ok(v);
    }
    let text: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ' || *b == 0)
        .take_while(|b| *b != b' ' && *b != 0)
        .collect();
    if text.is_empty() {
        return Ok(0);
    }
    let s = std::str::from_utf8(&text).map_err(|_| bad("a numeric field is not octal"))?;
    u64::from_str_radix(s, 8).map_err(|_| bad(format!("numeric field {s:?} is not octal")))
}

fn c_string(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    &field[..end]
}

fn checksum_ok(h: &[u8; 512]) -> Result<bool, TarError> {
    let want = number(&h[148..156])?;
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, b)| if (148..156).contains(&i) { 32 } else { u64::from(*b) })
        .sum();
    Ok(sum == want)
}

/// `path=` and `size=` of a PAX extended header (`"LEN key=value\n"` records).
fn pax(data: &[u8]) -> Result<(Option<String>, Option<u64>), TarError> {
    let (mut path, mut size) = (None, None);
    let mut rest = data;
    while !rest.is_empty() {
        let sp = rest
            .iter()
            .position(|b| *b == b' ')
            .ok_or_else(|| bad("malformed PAX record"))?;
        let len: usize = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|s| s.parse().ok())
            .filter(|l| *l > sp && *l <= rest.len())
            .ok_or_else(|| bad("malformed PAX record length"))?;
        let record = &rest[sp + 1..len];
        let record = record.strip_suffix(b"\n").ok_or_else(|| bad("malformed PAX record"))?;
        if let Some(eq) = record.iter().position(|b| *b == b'=') {
            let (k, v) = (&record[..eq], &record[eq + 1..]);
            match k {
                b"path" => path = Some(String::from_utf8_lossy(v).into_owned()),
                b"size" => {
                    size = Some(
                        std::str::from_utf8(v)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .ok_or_else(|| bad("malformed PAX size"))?,
                    )
                }
                _ => {}
            }
        }
        rest = &rest[len..];
    }
    Ok((path, size))
}

/// An entry's name as a relative path with `./` prefixes and repeated
/// slashes removed; `None` for absolute names and names with `..`.
fn normalise(name: &str) -> Option<String> {
    if name.starts_with('/') {
        return None;
    }
    let mut parts = Vec::new();
    for p in name.split('/') {
        match p {
            "" | "." => {}
            ".." => return None,
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

fn read_data(file: &mut File, size: u64) -> Result<Vec<u8>, TarError> {
    if size > MAX_EXTENDED_HEADER {
        return Err(bad(format!("an extended header of {size} bytes is over the limit")));
    }
    let mut data = vec![0; size as usize];
    file.read_exact(&mut data)?;
    skip_padding(file, size)?;
    Ok(data)
}

fn padded(size: u64) -> u64 {
    size.div_ceil(512) * 512
}

fn skip_padding(file: &mut File, size: u64) -> Result<(), TarError> {
    let pad = padded(size) - size;
    if pad > 0 {
        file.seek(SeekFrom::Current(pad as i64))?;
    }
    Ok(())
}

/// Read until `buf` is full or the file ends; how many bytes were read.
fn read_full(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Index the regular files of `file` whose normalised names `wanted`
/// accepts. The archive ends at a zero block or at the end of the file
/// (between entries); every entry must lie within the file.
pub(crate) fn index(file: &mut File, wanted: impl Fn(&str) -> bool) -> Result<HashMap<String, Entry>, TarError> {
    let len = file.metadata()?.len();
    let mut found: HashMap<String, Entry> = HashMap::new();
    let (mut long_name, mut pax_path, mut pax_size) = (None::<String>, None::<String>, None::<u64>);
    let mut pos: u64 = file.seek(SeekFrom::Start(0))?;
    for n in 0.. {
        if n == MAX_ENTRIES {
            return Err(bad(format!("more than {MAX_ENTRIES} entries")));
        }
        let mut h = [0u8; 512];
        let got = read_full(file, &mut h)?;
        match got {
            // The end of the file at an entry boundary ends the archive, as Go's reader
            // (and so c/image's extraction) reads it, even without the two zero blocks.
            0 if n > 0 => return Ok(found),
            512 => {}
            _ if n == 0 => return Err(bad("the file is shorter than one tar header")),
            _ => return Err(bad("the archive ends in the middle of a header")),
        }
        pos += 512;
        if h.iter().all(|b| *b == 0) {
            return Ok(found);
        }
        if n == 0 && (h.starts_with(&[0x1f, 0x8b]) || h.starts_with(b"BZh") || h.starts_with(&[0xfd, b'7', b'z'])) {
            return Err(bad("it is compressed; decompress it first (gunzip, bunzip2, unxz)"));
        }
        if !checksum_ok(&h)? {
            return Err(bad(format!("the header at byte {} has a wrong checksum", pos - 512)));
        }
        let size = number(&h[124..136])?;
        let typeflag = h[156];
        match typeflag {
            b'x' => {
                let (p, s) = pax(&read_data(file, size)?)?;
                (pax_path, pax_size) = (p, s);
                pos += padded(size);
                continue;
            }
            b'L' => {
                let data = read_data(file, size)?;
                long_name = Some(String::from_utf8_lossy(c_string(&data)).into_owned());
                pos += padded(size);
                continue;
            }
            _ => {}
        }
        let size = pax_size.take().unwrap_or(size);
        let name = match (pax_path.take(), long_name.take()) {
            (Some(p), _) | (None, Some(p)) => p,
            (None, None) => {
                let name = String::from_utf8_lossy(c_string(&h[0..100])).into_owned();
                let prefix = c_string(&h[345..500]);
                // POSIX ustar only: the old GNU format ("ustar  \0") keeps times there.
                if h[257..263] == *b"ustar\0" && !prefix.is_empty() {
                    format!("{}/{name}", String::from_utf8_lossy(prefix))
                } else {
                    name
                }
            }
        };
        let regular = matches!(typeflag, b'0' | 0 | b'7');
        let data_at = pos;
        if data_at.checked_add(size).is_none_or(|end| end > len) {
            return Err(bad(format!("{name:?} claims {size} bytes beyond the end of the file")));
        }
        if let Some(norm) = normalise(&name).filter(|n| wanted(n)) {
            if !regular {
                return Err(bad(format!("{name:?} is not a regular file")));
            }
            if found.contains_key(&norm) {
                return Err(TarError::Duplicate { name: norm });
            }
            found.insert(norm, Entry { offset: data_at, size });
        }
        // Global PAX headers ('g') and everything else: skip the contents.
        pos = file.seek(SeekFrom::Start(data_at + padded(size)))?;
    }
    unreachable!("the loop returns")
}

/// Read `entry` of the archive, at most `limit` bytes: `Err(limit)` when larger.
pub(crate) fn read(file: &mut File, entry: Entry, limit: u64) -> Result<Result<Vec<u8>, u64>, io::Error> {
    if entry.size > limit {
        return Ok(Err(limit));
    }
    file.seek(SeekFrom::Start(entry.offset))?;
    let mut data = vec![0; entry.size as usize];
    file.read_exact(&mut data)?;
    Ok(Ok(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, size: u64, typeflag: u8) -> [u8; 512] {
        let mut h = [0u8; 512];
        // A name over 100 bytes goes to the ustar prefix field, as tar writers split it.
        let name = match name.len() > 100 {
            true => {
                let (prefix, rest) = name.split_at(name.rfind('/').unwrap());
                h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
                &rest[1..]
            }
            false => name,
        };
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        h[156] = typeflag;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|b| u64::from(*b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }

    fn archive(entries: &[(&str, &[u8], u8)]) -> File {
        let mut out = Vec::new();
        for (name, data, t) in entries {
            out.extend_from_slice(&header(name, data.len() as u64, *t));
            out.extend_from_slice(data);
            out.resize(padded(out.len() as u64) as usize, 0);
        }
        out.extend_from_slice(&[0; 1024]);
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, &out).unwrap();
        f
    }

    #[test]
    fn finds_and_reads_wanted_files() {
        let mut f = archive(&[
            ("./", b"", b'5'),
            ("./oci-layout", b"{}", b'0'),
            ("./index.json", b"{\"a\":1}", b'0'),
            ("blobs/sha256/big", &[7; 1000], b'0'),
        ]);
        let found = index(&mut f, |n| n == "index.json" || n.starts_with("blobs/")).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(read(&mut f, found["index.json"], 100).unwrap().unwrap(), b"{\"a\":1}");
        assert_eq!(read(&mut f, found["blobs/sha256/big"], 100).unwrap(), Err(100));
        assert_eq!(
            read(&mut f, found["blobs/sha256/big"], 1000).unwrap().unwrap(),
            vec![7; 1000]
        );
    }

    #[test]
    fn refuses_duplicates_traversal_links_and_garbage() {
        let mut f = archive(&[("index.json", b"1", b'0'), ("./index.json", b"2", b'0')]);
        assert!(matches!(
            index(&mut f, |n| n == "index.json"),
            Err(TarError::Duplicate { .. })
        ));
        let mut f = archive(&[("../index.json", b"1", b'0'), ("/index.json", b"1", b'0')]);
        assert!(index(&mut f, |n| n == "index.json").unwrap().is_empty());
        let mut f = archive(&[("index.json", b"", b'2')]);
        assert!(index(&mut f, |n| n == "index.json").is_err());
        let mut g = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut g, &[0x1f, 0x8b, 8, 0].repeat(200)).unwrap();
        let e = index(&mut g, |_| true).unwrap_err().to_string();
        assert!(e.contains("compressed"), "{e}");
        let mut h = archive(&[("index.json", &[b'1'; 100], b'0')]);
        h.set_len(550).unwrap();
        assert!(index(&mut h, |_| true).is_err(), "truncated in the data");
        h.set_len(1024 + 100).unwrap();
        assert!(index(&mut h, |_| true).is_err(), "truncated in a header");
        // Without end-of-archive blocks: the entries are read all the same.
        h.set_len(1024).unwrap();
        assert_eq!(index(&mut h, |_| true).unwrap().len(), 1);
    }

    #[test]
    fn damaged_archives_are_errors_not_panics() {
        let mut f = archive(&[
            ("PaxHeaders/x", b"19 path=index.json\n", b'x'),
            ("x", b"{}", b'0'),
            ("blobs/sha256/aa", &[1; 700], b'0'),
        ]);
        assert_eq!(index(&mut f, |_| true).unwrap().len(), 2);
        let mut good = Vec::new();
        f.seek(SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut good).unwrap();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as usize
        };
        for round in 0..3000 {
            let mut bytes = good.clone();
            for _ in 0..1 + round % 4 {
                let i = next() % bytes.len();
                bytes[i] = next() as u8;
            }
            if round % 5 == 0 {
                bytes.truncate(next() % bytes.len());
            }
            let mut t = tempfile::tempfile().unwrap();
            std::io::Write::write_all(&mut t, &bytes).unwrap();
            if let Ok(found) = index(&mut t, |_| true) {
                for e in found.values() {
                    let _ = read(&mut t, *e, 4096);
                }
            }
        }
    }

    #[test]
    fn pax_and_gnu_long_names() {
        let long = format!("blobs/sha256/{}", "a".repeat(120));
        let rec = format!("path={long}\n");
        let pax_data = format!("{} {rec}", rec.len() + 1 + (rec.len() + 4).to_string().len());
        let prefixed = format!("{}/blobs/sha256/{}", "d".repeat(40), "b".repeat(64));
        let mut f = archive(&[(&prefixed, b"ustar", b'0')]);
        let found = index(&mut f, |n| n.ends_with(&"b".repeat(64))).unwrap();
        assert_eq!(read(&mut f, found[&prefixed], 10).unwrap().unwrap(), b"ustar");
        let mut f = archive(&[
            ("PaxHeaders/x", pax_data.as_bytes(), b'x'),
            ("short", b"pax", b'0'),
            ("././@LongLink", format!("{long}x\0").as_bytes(), b'L'),
            ("short2", b"gnu", b'0'),
        ]);
        let found = index(&mut f, |n| n.starts_with("blobs/")).unwrap();
        assert_eq!(read(&mut f, found[&long], 10).unwrap().unwrap(), b"pax");
        assert_eq!(read(&mut f, found[&format!("{long}x")], 10).unwrap().unwrap(), b"gnu");
    }
}
