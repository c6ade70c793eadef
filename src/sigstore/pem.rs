//! Go's `encoding/pem.Decode` and `base64.StdEncoding`, as c/image and
//! sigstore's `cryptoutils` use them: text before a block is skipped, a block
//! may carry headers, the base64 body may be wrapped anyhow.

use crate::json::go_base64;

/// One PEM block.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub(crate) kind: String,
    pub(crate) has_headers: bool,
    pub(crate) bytes: Vec<u8>,
}

/// Go `getLine`: up to the first `\n`, trailing spaces, tabs and `\r` trimmed.
fn get_line(data: &[u8]) -> (&[u8], &[u8]) {
    let (line, rest) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[data.len()..]),
    };
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b' ' | b'\t' | b'\r') {
        end -= 1;
    }
    (&line[..end], rest)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Go `pem.Decode`: the first valid block and what follows it, or None.
pub(crate) fn decode(data: &[u8]) -> Option<(Block, &[u8])> {
    const START: &[u8] = b"\n-----BEGIN ";
    const END: &[u8] = b"\n-----END ";
    const EOL: &[u8] = b"-----";
    let mut rest = data;
    loop {
        if rest.starts_with(&START[1..]) {
            rest = &rest[START.len() - 1..];
        } else if let Some(i) = find(rest, START) {
            rest = &rest[i + START.len()..];
        } else {
            return None;
        }
        let (type_line, after) = get_line(rest);
        rest = after;
        if !type_line.ends_with(EOL) {
            continue;
        }
        let type_line = &type_line[..type_line.len() - EOL.len()];
        let mut has_headers = false;
        loop {
            if rest.is_empty() {
                return None;
            }
            let (line, next) = get_line(rest);
            if !line.contains(&b':') {
                break;
            }
            has_headers = true;
            rest = next;
        }
        let (end_index, trailer_index) = if !has_headers && rest.starts_with(&END[1..]) {
            (0, END.len() - 1)
        } else {
            match find(rest, END) {
                Some(i) => (i, i + END.len()),
                None => continue,
            }
        };
        let trailer = &rest[trailer_index..];
        let trailer_len = type_line.len() + EOL.len();
        if trailer.len() < trailer_len {
            continue;
        }
        let rest_of_end_line = &trailer[trailer_len..];
        let trailer = &trailer[..trailer_len];
        if !trailer.starts_with(type_line) || !trailer.ends_with(EOL) {
            continue;
        }
        if !get_line(rest_of_end_line).0.is_empty() {
            continue;
        }
        let body: Vec<u8> = rest[..end_index]
            .iter()
            .copied()
            .filter(|b| *b != b' ' && *b != b'\t')
            .collect();
        let Ok(bytes) = go_base64(&body) else {
            continue;
        };
        let (_, after_block) = get_line(&rest[end_index + END.len() - 1..]);
        return Some((
            Block {
                kind: String::from_utf8_lossy(type_line).into_owned(),
                has_headers,
                bytes,
            },
            after_block,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigstore_pem_like_go() {
        let text = b"junk\n-----BEGIN X-----\nAAEC\nAw==\n-----END X-----\nrest";
        let (b, rest) = decode(text).unwrap();
        assert_eq!(
            (b.kind.as_str(), b.bytes.as_slice(), rest),
            ("X", &[0u8, 1, 2, 3][..], &b"rest"[..])
        );
        let (b, rest) = decode(b"-----BEGIN X-----\nA: b\n\nAAEC\n-----END X-----\n").unwrap();
        assert!(b.has_headers && rest.is_empty() && b.bytes == [0, 1, 2]);
        assert!(decode(b"-----BEGIN X-----\nAAEC\n-----END Y-----\n").is_none());
        assert!(decode(b"no pem here").is_none());
        assert_eq!(go_base64(b"AA\nEC").unwrap(), [0, 1, 2]);
        assert!(go_base64(b"AAE").is_err());
    }
}
