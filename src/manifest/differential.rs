//! The manifest reader's outcomes, recorded: [`manifest_digest`], [`matches_digest`]
//! and [`guess_media_type`] (and the digest without the plain-manifest shortcut) over
//! 51,000 generated inputs (hostile documents around every member the reader looks
//! at, nesting 100,000 deep, deterministic mutations of the reference fixtures'
//! manifests) give exactly what they gave with the serde_json walker this module had
//! before it moved onto `crate::json`: the two were compared input by input on these
//! and on every file under tests/, fuzz/seeds/ and fuzz/regressions/ before the old
//! walker was deleted, and `differential.golden` records the result.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn files_under(dir: &std::path::Path, out: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            files_under(&p, out);
        } else if std::fs::metadata(&p).is_ok_and(|m| m.len() < 4 << 20) {
            out.push(std::fs::read(&p).unwrap());
        }
    }
}

/// JSON values (as text) of every kind and edge the readers treat differently.
fn values() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        "null",
        "true",
        "false",
        "0",
        "1",
        "2",
        "-1",
        "-0",
        "-0.0",
        "1.0",
        "1e0",
        "1E+0",
        "0.5",
        "-4.5",
        "4.5",
        "1e400",
        "-1e400",
        "1e-400",
        "1e999999999999999999999",
        "0e999999999999999999999",
        "18446744073709551615",
        "18446744073709551616",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "-18446744073709551616",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "17976931348623158079372897140530341507993413271003782693617377898044496829276475094664e222",
        "9007199254740993",
        "9007199254740993.0",
        "123456789012345678901234567890",
        "9.2e18",
        "9.3e18",
        "-9.3e18",
        "1e19",
        "0.30000000000000004",
        "1234.5678e-2",
        "01",
        "-",
        "1.",
        ".5",
        "+1",
        "\"\"",
        "\"x\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"\\ud800\\udc00\"",
        "\"\\ud800\\n\"",
        "\"\\ud800\\ud800\\udc00\"",
        "\"a\tb\"",
        "\"\\u0000\"",
        "\"\\uFFFD\"",
        "\"\u{feff}\"",
        "\"\\x\"",
        "\"\\u12\"",
        "\"Cn0\"",
        "\"Cn0=\"",
        "\"C\"",
        "[]",
        "[1]",
        "[\"a\"]",
        "[null]",
        "[{}]",
        "[[]]",
        "{}",
        "{\"a\":1}",
        "{\"\\ud800\":1}",
        "{\"a\tb\":1}",
        "{\"a\":\"\\ud800\"}",
        "[\"\\ud800\"]",
        "[1e400]",
        "{\"a\":1e400}",
        "[\"\t\"]",
        "{\"mediaType\":\"x\"}",
        "{\"mediaType\":1}",
        "{\"mediaType\":null}",
        "{\"MediaType\":\"application/vnd.oci.image.config.v1+json\"}",
        "{\"mediaType\":\"application/vnd.docker.container.image.v1+json\"}",
        "{\"\\u006dediaType\":\"application/vnd.oci.image.config.v1+json\",\"x\":[1e400]}",
        "[1,]",
        "{\"a\":1,}",
        "tru",
        "nul",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    for t in [
        DOCKER_V2_SCHEMA2,
        DOCKER_V2_LIST,
        OCI_MANIFEST,
        OCI_INDEX,
        OCI_CONFIG,
        DOCKER_V2_SCHEMA1_SIGNED,
    ] {
        v.push(format!("\"{t}\"").into_bytes());
    }
    v.push(b"\"\xff\"".to_vec());
    v.push(b"\"a\xc3\"".to_vec());
    v.push(b"\"\xed\xa0\x80\"".to_vec());
    v.push(b"\xff".to_vec());
    v
}

fn deep(n: usize, balanced: bool) -> Vec<Vec<u8>> {
    let close = |s: &str| if balanced { s.repeat(n) } else { String::new() };
    vec![
        format!("{}{}", "[".repeat(n), close("]")).into_bytes(),
        format!("{}1{}", "{\"a\":".repeat(n), close("}")).into_bytes(),
        format!("{}{}", "[{\"a\":".repeat(n / 2), close("}]")).into_bytes(),
    ]
}

fn b64(s: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

const BODY: &str = "{\n   \"schemaVersion\": 1,\n   \"name\": \"mitr/busybox\"";

fn header(len: usize) -> String {
    format!(r#"{{"formatLength":{len},"formatTail":"Cn0","time":"2016-04-18T20:54:42Z"}}"#)
}

fn block(protected: &str, header: &str, extra: &str) -> String {
    format!(r#"{{"header": {header}, "signature": "AAAA", "protected": "{protected}"{extra}}}"#)
}

fn doc(body: &str, sigs: &[String]) -> Vec<u8> {
    format!("{body},\n   \"signatures\": [{}]\n}}", sigs.join(", ")).into_bytes()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Documents built around every field the readers look at, with every value of [`values`].
fn hostile() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut vals = values();
    for n in [127, 128, 129, 1000] {
        vals.extend(deep(n, true));
        vals.extend(deep(n, false));
    }
    let good = b64(header(BODY.len()).as_bytes());
    let hdr = r#"{"alg": "ES256", "x5c": ["a"], "jwk": {"kty": "EC"}}"#;
    let top_keys: &[&[u8]] = &[
        b"mediaType",
        b"MediaType",
        b"MEDIATYPE",
        b"schemaVersion",
        b"SchemaVersion",
        b"signatures",
        b"Signatures",
        b"SIGNATURES",
        "\u{17f}ignatures".as_bytes(),
        b"signature\\u0073",
        b"config",
        b"Config",
        b"manifests",
        b"Manifests",
        b"layers",
        b"history",
        b"x",
        b"\\ud800signatures",
        b"sig\tnatures",
        b"signatures\\u0000",
        b"\xffsignatures",
        b"\\udc00",
        b"\\ud800\\u0073ignatures",
    ];
    for v in &vals {
        let v = v.as_slice();
        out.push(v.to_vec());
        for k in top_keys {
            out.push(cat(&[b"{\"schemaVersion\":1,\"", k, b"\":", v, b"}"]));
            out.push(cat(&[b"{\"", k, b"\":", v, b",\"schemaVersion\":2}"]));
            let body = cat(&[BODY.as_bytes(), b",\n   \"", k, b"\": ", v]);
            let body = String::from_utf8_lossy(&body).into_owned();
            out.push(doc(&body, &[block(&b64(header(body.len()).as_bytes()), hdr, "")]));
            // The raw bytes too (lossy conversion above would hide invalid UTF-8).
            let mut raw = cat(&[BODY.as_bytes(), b",\n   \"", k, b"\": ", v]);
            let len = raw.len();
            raw.extend_from_slice(b",\n   \"signatures\": [");
            raw.extend_from_slice(block(&b64(header(len).as_bytes()), hdr, "").as_bytes());
            raw.extend_from_slice(b"]\n}");
            out.push(raw);
        }
        let cfg_keys: &[&[u8]] = &[
            b"mediaType",
            b"MediaType",
            b"x",
            b"\\ud800",
            b"a\tb",
            b"mediatype\\u0000",
        ];
        for k in cfg_keys {
            for manifests in [&b"[{}]"[..], b"[]", b"null"] {
                out.push(cat(&[
                    b"{\"schemaVersion\":2,\"config\":{\"",
                    k,
                    b"\":",
                    v,
                    b"},\"manifests\":",
                    manifests,
                    b"}",
                ]));
            }
        }
        out.push(cat(&[
            b"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"",
            OCI_CONFIG.as_bytes(),
            b"\"},\"manifests\":[",
            v,
            b"]}",
        ]));
        out.push(cat(&[b"{\"schemaVersion\":2,\"manifests\":[{},", v, b"]}"]));
        out.push(cat(&[b"{\"schemaVersion\":2,\"manifests\":", v, b"}"]));
        out.push(cat(&[b"{\"schemaVersion\":2,\"config\":", v, b"}"]));
        out.push(cat(&[
            b"{\"mediaType\":\"",
            OCI_INDEX.as_bytes(),
            b"\",\"x\":",
            v,
            b"}",
        ]));
        // Signature blocks and their headers.
        let vs = String::from_utf8_lossy(v).into_owned();
        let block_keys = [
            "header",
            "Header",
            "signature",
            "Signature",
            "protected",
            "PROTECTED",
            "jwk",
            "x",
            "\\ud800",
            "a\tb",
        ];
        for k in block_keys {
            out.push(doc(BODY, &[block(&good, hdr, &format!(", \"{k}\": {vs}"))]));
            out.push(doc(BODY, &[format!("{{\"{k}\": {vs}}}")]));
        }
        for k in ["alg", "Alg", "x5c", "X5C", "jwk", "x", "\\ud800", "a\tb", "header"] {
            out.push(doc(
                BODY,
                &[block(&good, &format!("{{\"alg\":\"ES256\",\"{k}\": {vs}}}"), "")],
            ));
        }
        out.push(doc(BODY, &[block(&good, &format!("{{\"x5c\": [\"a\", {vs}]}}"), "")]));
        out.push(doc(BODY, &[block(&good, &vs, "")]));
        out.push(doc(BODY, std::slice::from_ref(&vs)));
        out.push(doc(BODY, &[block(&good, hdr, ""), vs.clone()]));
        out.push(format!("{BODY},\n   \"signatures\": {vs}\n}}").into_bytes());
        // Protected headers.
        let len = BODY.len();
        for h in [
            format!(r#"{{"formatLength":{vs},"formatTail":"Cn0"}}"#),
            format!(r#"{{"formatLength":{len},"formatTail":{vs}}}"#),
            format!(r#"{{"formatLength":{len},"formatTail":"Cn0","x":{vs}}}"#),
            format!(r#"{{"formatLength":{len},"formatTail":"Cn0","FormatLength":{vs}}}"#),
            format!(r#"{{"formatLength":{len},"formatTail":"Cn0","formatLength":{vs}}}"#),
            format!(r#"{{"formatTail":"Cn0","\ud800":1,"formatLength":{len},"a	b":{vs}}}"#),
            vs.clone(),
        ] {
            out.push(doc(BODY, &[block(&b64(h.as_bytes()), hdr, "")]));
            out.push(doc(BODY, &[block(&good, hdr, ""), block(&b64(h.as_bytes()), hdr, "")]));
        }
        out.push(doc(
            BODY,
            &[block(
                &b64(&cat(&[b"{\"formatLength\":", v, b",\"formatTail\":\"Cn0\"}"])),
                hdr,
                "",
            )],
        ));
    }
    // formatLength and formatTail edges, protected encodings.
    let len = BODY.len();
    for fl in [
        "0",
        "-1",
        "-0",
        "-0.5",
        "0.5",
        "-1.5",
        &format!("{len}.9"),
        &format!("{len}e0"),
        &format!("{}", len + 1),
        "1e19",
        "9.3e18",
        "-9.3e18",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551615",
        "1e400",
        "null",
        "\"5\"",
        "[]",
        "{}",
        "true",
    ] {
        out.push(doc(
            BODY,
            &[block(
                &b64(format!(r#"{{"formatLength":{fl},"formatTail":"Cn0"}}"#).as_bytes()),
                hdr,
                "",
            )],
        ));
    }
    let h = header(len);
    let std = base64::engine::general_purpose::URL_SAFE.encode(h.as_bytes());
    let raw = b64(h.as_bytes());
    for p in [
        std.clone(),
        format!("{raw}="),
        format!("{raw}\n"),
        format!("{} {}", &raw[..4], &raw[4..]),
        format!("{}\\n{}", &raw[..4], &raw[4..]),
        format!("{}\\r{}", &raw[..4], &raw[4..]),
        format!("{}\\u0041", &raw[..raw.len() - 1]),
        raw[..raw.len() - 1].to_owned(),
        String::new(),
        "=".into(),
        "A".into(),
        "AA".into(),
        "\\ud800".into(),
        b64(b"\xef\xbb\xbf{\"formatLength\":1,\"formatTail\":\"\"}"),
        b64(b"{\"formatLength\":1,\"formatTail\":\"\"} x"),
        b64(b"{\"formatLength\":1,\"formatTail\":\"\xff\"}"),
        b64(b"{\"formatLength\":1,\"formatTail\":\"\",\"\xff\":1}"),
        b64(b"{\"formatLength\":1,\"formatTail\":\"\"}\n"),
        b64(b"null"),
        b64(b"[]"),
    ] {
        out.push(doc(BODY, &[block(&p, hdr, "")]));
    }
    for tail in [
        "Cn0", "Cn0=", "Cn0==", "fQ", "", "C", "C!0", "Cn 0", "Cn\\n0", "Cn\\r0", "Cn1", "-_-_",
    ] {
        out.push(doc(
            BODY,
            &[block(
                &b64(format!(r#"{{"formatLength":{len},"formatTail":"{tail}"}}"#).as_bytes()),
                hdr,
                "",
            )],
        ));
    }
    out.push(doc(BODY, &[]));
    out.push(doc(
        BODY,
        &[block(&good, hdr, ""), block(&b64(header(len - 1).as_bytes()), hdr, "")],
    ));
    // Whole-document framing around a valid signed manifest.
    let ok = doc(BODY, &[block(&good, hdr, "")]);
    for (pre, post) in [
        (&b"\xef\xbb\xbf"[..], &b""[..]),
        (b"", b"x"),
        (b"", b"{}"),
        (b"", b" \n\r\t"),
        (b" \n\r\t", b""),
        (b"\x0c", b""),
        (b"", b"\x0c"),
        (b"", "\u{a0}".as_bytes()),
        (b"", b"\xff"),
        (b"", b"\0"),
        (b"[", b"]"),
    ] {
        out.push(cat(&[pre, &ok, post]));
    }
    for i in 0..ok.len() {
        out.push(ok[..i].to_vec());
    }
    out
}

/// Nesting 100,000 deep at the top and in values looked at or skipped.
fn deep_docs() -> Vec<Vec<u8>> {
    let mut corpus = Vec::new();
    for d in deep(100_000, true).into_iter().chain(deep(100_000, false)) {
        let ds = String::from_utf8(d.clone()).unwrap();
        corpus.push(d);
        let body = format!("{BODY},\n   \"x\": {ds}");
        corpus.push(doc(&body, &[block(&b64(header(body.len()).as_bytes()), "{}", "")]));
        corpus.push(doc(
            BODY,
            &[block(
                &b64(header(BODY.len()).as_bytes()),
                &format!("{{\"jwk\":{ds}}}"),
                "",
            )],
        ));
        corpus.push(doc(
            BODY,
            &[block(
                &b64(format!(r#"{{"formatLength":1,"formatTail":"","x":{ds}}}"#).as_bytes()),
                "{}",
                "",
            )],
        ));
        corpus.push(format!("{{\"schemaVersion\":2,\"config\":{{\"x\":{ds}}},\"manifests\":[{ds}]}}").into_bytes());
    }
    corpus
}

/// A small deterministic PRNG (xorshift64*), so the mutations are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `count` mutations of the seeds: bytes replaced, snippets inserted, ranges deleted or repeated.
fn mutations(seeds: &[Vec<u8>], count: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let snippets: Vec<Vec<u8>> = values()
        .into_iter()
        .chain(
            [
                "\"signatures\":",
                "\"Signatures\":",
                ",",
                ":",
                "{",
                "}",
                "[",
                "]",
                "\"",
                "\\",
                "\\u",
                "\\ud800",
                "\"schemaVersion\":1,",
                "\"mediaType\":",
                "\"config\":",
                "\"manifests\":",
                "\"protected\":",
                "\"header\":",
                "\"x5c\":",
                "\t",
                "\n",
                "\u{17f}",
                "\u{212a}",
            ]
            .iter()
            .map(|s| s.as_bytes().to_vec()),
        )
        .collect();
    let bytes: &[u8] = b"{}[]\",:\\0123456789-+.eEtfnul \n\t\x00\x1f\x7f\x80\xbf\xc3\xed\xef\xf0\xffsS";
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let mut m = seeds[rng.below(seeds.len())].clone();
        for _ in 0..=rng.below(3) {
            let at = rng.below(m.len() + 1);
            match rng.below(5) {
                0 if at < m.len() => m[at] = bytes[rng.below(bytes.len())],
                1 => {
                    let s = &snippets[rng.below(snippets.len())];
                    m.splice(at..at, s.iter().copied());
                }
                2 => {
                    let end = (at + rng.below(16)).min(m.len());
                    m.drain(at..end);
                }
                3 => {
                    let end = (at + rng.below(64)).min(m.len());
                    let copy = m[at..end].to_vec();
                    m.splice(at..at, copy);
                }
                _ if at < m.len() => m[at] ^= 0x20,
                _ => {}
            }
        }
        out.push(m);
    }
    out
}

/// The digest without the shortcut.
fn parsed_digest(bytes: &[u8]) -> Result<Digest, ManifestError> {
    match Document::parse(bytes) {
        Some(doc) if doc.guess() == Some(DOCKER_V2_SCHEMA1_SIGNED) => Ok(Digest::sha256(&doc.schema1_payload(bytes)?)),
        _ => Ok(Digest::sha256(bytes)),
    }
}

/// What the three functions give for `bytes`, as one line of text.
fn outcome(bytes: &[u8]) -> String {
    let show = |r: Result<Digest, ManifestError>| match r {
        Ok(d) => d.hex()[..16].to_owned(),
        Err(e) => e.to_string(),
    };
    let digest = manifest_digest(bytes);
    let matches = digest.clone().is_ok_and(|d| matches_digest(bytes, &d) == Ok(true));
    let raw = matches_digest(bytes, &Digest::sha256(bytes));
    format!(
        "{} {} {matches} {raw:?} {:?}\n",
        show(digest),
        show(parsed_digest(bytes)),
        guess_media_type(bytes)
    )
}

/// The generated corpus of the recorded results: hostile documents, deep nesting and
/// mutations of the reference fixtures' manifests and of synthetic signed ones.
fn recorded_corpus() -> Vec<Vec<u8>> {
    let mut corpus = hostile();
    corpus.extend(deep_docs());
    let mut seeds = Vec::new();
    files_under(
        &std::path::Path::new(ROOT).join("../shared/reference/fixtures/manifests"),
        &mut seeds,
    );
    let good = b64(header(BODY.len()).as_bytes());
    seeds.push(doc(BODY, &[block(&good, r#"{"alg": "ES256", "x5c": ["a"]}"#, "")]));
    seeds.push(doc(BODY, &[block(&good, "{}", ""), block(&good, "null", "")]));
    corpus.extend(mutations(&seeds, 30_000));
    corpus
}

/// One line per 1,000 inputs of [`recorded_corpus`]: how many, and a hash of their outcomes.
fn outcome_hashes(corpus: &[Vec<u8>]) -> String {
    corpus
        .chunks(1000)
        .enumerate()
        .map(|(i, chunk)| {
            let all: String = chunk.iter().map(|c| outcome(c)).collect();
            format!("{i} {} {}\n", chunk.len(), &Digest::sha256(all.as_bytes()).hex()[..16])
        })
        .collect()
}

/// The outcomes of the serde_json walker this module had before it moved onto
/// `crate::json` (recorded in `differential.golden` while both existed and agreed):
/// every digest, error and guess stays exactly what it was. A mismatching line names
/// the 1,000 inputs to look at (`recorded_corpus()[1000 * i..]`).
#[test]
fn outcomes_are_the_recorded_ones() {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let got = outcome_hashes(&recorded_corpus());
            if std::env::var_os("IMGSIG_RECORD_MANIFEST_OUTCOMES").is_some() {
                std::fs::write(
                    concat!(env!("CARGO_MANIFEST_DIR"), "/src/manifest/differential.golden"),
                    &got,
                )
                .unwrap();
            }
            assert_eq!(got, include_str!("differential.golden"));
        })
        .unwrap()
        .join()
        .unwrap();
}

/// Deep nesting everywhere, on a thread with the default 2 MiB stack: the reader does
/// not recurse into values it does not look at.
#[test]
fn deep_nesting_needs_no_deep_stack() {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            for d in deep_docs() {
                drop(outcome(&d));
            }
            let body = format!("{BODY},\n   \"x\": {}{}", "[".repeat(100_000), "]".repeat(100_000));
            let bytes = doc(&body, &[block(&b64(header(body.len()).as_bytes()), "{}", "")]);
            assert!(matches!(manifest_digest(&bytes), Ok(d) if d == Digest::sha256(format!("{body}\n}}").as_bytes())));
        })
        .unwrap()
        .join()
        .unwrap();
}
