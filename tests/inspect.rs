//! `imgsig inspect`: what a signature claims, shown without trusting it, on
//! the containers/image fixtures, compared field by field with the real
//! `skopeo untrusted-signature-dump-without-verification`; with `--keyring`,
//! whether it verifies; and the bounds of the untrusted walk
//! (`imgsig::pgp::inspect`) on hostile messages built with sequoia.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::{assert_exit, fixture, imgsig, json, repo, run, sign_demo, stderr, stdout, tempdir, DEMO_ID};
use imgsig::pgp::{self, EnvelopeError, PacketDetails, MAX_PAYLOAD_SIZE};
use openpgp::cert::prelude::*;
use openpgp::crypto::KeyPair;
use openpgp::packet::Packet;
use openpgp::parse::Parse;
use openpgp::serialize::stream::{Compressor, LiteralWriter, Message, Signer};
use openpgp::serialize::Marshal;
use openpgp::types::{CompressionAlgorithm, CompressionLevel, HashAlgorithm, KeyFlags};
use openpgp::PacketPile;
use sequoia_openpgp as openpgp;
use serde_json::Value;

const DIGEST: &str = "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55";
const KEY_A: &str = "08CD26E446E2E95249B7A405E932F44B23E8DD43";
const KEY_A_ID: &str = "E932F44B23E8DD43";
const DEMO_FPR: &str = "37DB2F6C2B9199F47001B496AF5DF7145C9D7765";

fn sig(name: &str) -> PathBuf {
    fixture(&format!("signature/{name}"))
}

fn inspect(args: &[&str], files: &[&Path]) -> Output {
    run(imgsig().arg("inspect").args(args).args(files))
}

fn inspect_json(args: &[&str], files: &[&Path]) -> (Output, Value) {
    let o = inspect(&[&["--output", "json"], args].concat(), files);
    let doc = json(&o);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["command"], "inspect");
    (o, doc)
}

/// The single signature object of a one-file run.
fn only(doc: &Value) -> &Value {
    let sigs = doc["signatures"].as_array().expect("signatures array");
    assert_eq!(sigs.len(), 1, "{doc:#}");
    &sigs[0]
}

fn tags(s: &Value) -> Vec<(String, u64)> {
    s["packets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["tag"].as_str().unwrap().to_owned(), p["depth"].as_u64().unwrap()))
        .collect()
}

fn tag_list(pairs: &[(&str, u64)]) -> Vec<(String, u64)> {
    pairs.iter().map(|(t, d)| ((*t).to_owned(), *d)).collect()
}

const GPG_LAYOUT: &[(&str, u64)] = &[
    ("compressed-data", 0),
    ("one-pass-signature", 1),
    ("literal-data", 1),
    ("signature", 1),
];

// ---------------------------------------------------------------------------
// The containers/image fixtures

#[test]
fn image_signature_shows_claim_and_issuer_unverified() {
    let (o, doc) = inspect_json(&[], &[&sig("image.signature")]);
    assert_exit(&o, 0);
    let s = only(&doc);
    assert_eq!(s["verified"], Value::Null);
    assert_eq!(s["verification"], Value::Null);
    assert_eq!(s["error"], Value::Null);
    assert_eq!(s["envelope_problem"], Value::Null);
    assert_eq!(s["claim"]["authenticated"], false);
    assert_eq!(s["claim"]["identity"], "testing/manifest");
    assert_eq!(s["claim"]["digest"], DIGEST);
    assert_eq!(s["claim"]["creator"], "atomic ");
    assert_eq!(s["claim"]["timestamp"], 1458239713);
    assert_eq!(s["issuer_key_id"], KEY_A_ID);
    assert_eq!(s["issuer_fingerprint"], KEY_A);
    assert_eq!(s["signature"]["version"], 4);
    assert_eq!(s["signature"]["hash_algorithm"], "SHA256");
    assert_eq!(s["signature"]["public_key_algorithm"], "RSA");
    assert_eq!(s["signature"]["signature_type"], "Binary");
    assert_eq!(tags(s), tag_list(GPG_LAYOUT));
    assert_eq!(s["packets"][0]["compression_algorithm"], "ZIP");
    assert_eq!(s["packets"][1]["issuer"], KEY_A_ID);
    assert_eq!(s["packets"][2]["format"], "b");
    assert_eq!(s["packets"][2]["filename"], "");
    assert_eq!(s["packets"][2]["length"], s["payload"]["length"]);
    assert_eq!(s["payload"]["complete"], true);
    assert!(s["payload"]["text"].as_str().unwrap().contains("\"testing/manifest\""));

    let o = inspect(&[], &[&sig("image.signature")]);
    assert_exit(&o, 0);
    let text = stdout(&o);
    assert!(text.contains("UNVERIFIED"), "{text}");
    assert!(!text.contains(" VERIFIED:"), "{text}");
    assert!(text.contains(r#"identity:  "testing/manifest""#), "{text}");
    assert!(text.contains(&format!("digest:    {DIGEST}")), "{text}");
    assert!(text.contains(r#"creator:   "atomic ""#), "{text}");
    assert!(text.contains("timestamp: 1458239713 (2016-03-17T18:35:13Z)"), "{text}");
    assert!(text.contains(&format!("key ID {KEY_A_ID}")), "{text}");
    assert!(text.contains("compressed-data (tag 8): ZIP"), "{text}");
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn corrupt_signature_still_shows_contents_and_issuer() {
    // The fixture has a newline after its compressed stream: trailing data.
    let (o, doc) = inspect_json(&[], &[&sig("corrupt.signature")]);
    assert_exit(&o, 0);
    let s = only(&doc);
    assert_eq!(s["envelope_problem"]["code"], "malformed-signature");
    assert_eq!(s["claim"]["identity"], "testing/manifest");
    // Without it, only the cryptography is wrong.
    let bytes = std::fs::read(sig("corrupt.signature")).unwrap();
    let dir = tempdir();
    let trimmed = dir.path().join("corrupt.signature");
    std::fs::write(&trimmed, &bytes[..bytes.len() - 1]).unwrap();
    let (o, doc) = inspect_json(&[], &[&trimmed]);
    assert_exit(&o, 0);
    let s = only(&doc);
    assert_eq!(s["claim"]["identity"], "testing/manifest");
    assert_eq!(s["claim"]["digest"], DIGEST);
    assert_eq!(s["issuer_key_id"], KEY_A_ID);
    assert_eq!(
        s["envelope_problem"],
        Value::Null,
        "the structure is fine; the crypto is not"
    );

    // With the signer's key it does not verify, and says why.
    let key = sig("public-key.gpg");
    let (o, doc) = inspect_json(&["--keyring", key.to_str().unwrap()], &[&trimmed]);
    assert_exit(&o, 1);
    let s = only(&doc);
    assert_eq!(s["verified"], false);
    assert_eq!(s["verification"]["reason"], "bad-signature");
    assert_eq!(s["claim"]["authenticated"], false);
    assert_eq!(s["claim"]["identity"], "testing/manifest");
    assert!(
        stderr(&o).contains("1 of 1 signature(s) did not verify"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn invalid_blob_payload_is_not_json_and_is_shown_raw() {
    let (o, doc) = inspect_json(&[], &[&sig("invalid-blob.signature")]);
    assert_exit(&o, 0);
    let s = only(&doc);
    assert_eq!(s["claim"], Value::Null);
    assert!(
        s["claim_error"].as_str().unwrap().contains("not valid JSON"),
        "{}",
        s["claim_error"]
    );
    assert_eq!(s["payload"]["text"], "This is not JSON\n");
    assert_eq!(s["payload"]["length"], 17);
    assert_eq!(s["issuer_key_id"], KEY_A_ID);

    let o = inspect(&[], &[&sig("invalid-blob.signature")]);
    assert_exit(&o, 0);
    let text = stdout(&o);
    assert!(
        text.contains("claim:     not a valid signature claim: payload is not valid JSON"),
        "{text}"
    );
    // Escaped: the newline is shown as \n, not printed.
    assert!(text.contains(r#"payload:   17 bytes: "This is not JSON\n""#), "{text}");
}

#[test]
fn unsigned_literal_is_described_as_not_signed() {
    let (o, doc) = inspect_json(&[], &[&sig("unsigned-literal.signature")]);
    assert_exit(&o, 0);
    let s = only(&doc);
    assert_eq!(s["envelope_problem"]["code"], "not-signed");
    assert_eq!(tags(s), tag_list(&[("compressed-data", 0), ("literal-data", 1)]));
    assert_eq!(s["issuer_key_id"], Value::Null);
    assert_eq!(s["signature"], Value::Null);
    assert_eq!(s["payload"]["text"], "This string is not actually signed.\n");

    let o = inspect(&[], &[&sig("unsigned-literal.signature")]);
    let text = stdout(&o);
    assert!(text.contains("envelope:  NOT ACCEPTABLE [not-signed]"), "{text}");
    assert!(text.contains("issuer:    (none named)"), "{text}");
}

#[test]
fn unsigned_encrypted_is_listed_but_not_decrypted() {
    let (o, doc) = inspect_json(&[], &[&sig("unsigned-encrypted.signature")]);
    assert_exit(&o, 0);
    let s = only(&doc);
    // containers/image's first-byte check refuses it (0x84), as verify does.
    assert_eq!(s["envelope_problem"]["code"], "unrecognized-format");
    assert_eq!(
        tags(s),
        tag_list(&[
            ("public-key-encrypted-session-key", 0),
            ("encrypted-integrity-protected-data", 0)
        ])
    );
    assert!(s["packets"][0]["note"]
        .as_str()
        .unwrap()
        .starts_with("encrypted to key "));
    assert_eq!(s["payload"], Value::Null);
    assert_eq!(s["claim"], Value::Null);
}

#[test]
fn expired_signature_does_not_verify_with_keyring() {
    let key = sig("public-key.gpg");
    let (o, doc) = inspect_json(&["--keyring", key.to_str().unwrap()], &[&sig("expired.signature")]);
    assert_exit(&o, 1);
    let s = only(&doc);
    assert_eq!(s["verified"], false);
    assert_eq!(s["verification"]["reason"], "expired-signature");
    assert!(
        s["verification"]["message"].as_str().unwrap().contains("expired"),
        "{s:#}"
    );
    // The untrusted description is still there, with the expiry it claims.
    assert!(s["signature"]["expires"].as_i64().unwrap() > s["signature"]["created"].as_i64().unwrap());
    assert_eq!(s["payload"]["text"], "This signature is expired.\n");

    let o = inspect(&["--keyring", key.to_str().unwrap()], &[&sig("expired.signature")]);
    assert_exit(&o, 1);
    let text = stdout(&o);
    assert!(
        text.contains("UNVERIFIED: verification failed [expired-signature]"),
        "{text}"
    );
}

#[test]
fn keyring_verifies_image_signature_and_names_both_fingerprints() {
    let key = sig("public-key.gpg");
    let (o, doc) = inspect_json(&["--keyring", key.to_str().unwrap()], &[&sig("image.signature")]);
    assert_exit(&o, 0);
    assert_eq!(doc["keyrings"][0], key.to_str().unwrap());
    assert_eq!(doc["trusted_fingerprints"][0], KEY_A);
    let s = only(&doc);
    assert_eq!(s["verified"], true);
    assert_eq!(s["verification"]["reason"], Value::Null);
    assert_eq!(s["verification"]["signer"]["primary_fingerprint"], KEY_A);
    assert_eq!(s["verification"]["signer"]["signing_fingerprint"], KEY_A);
    assert_eq!(s["claim"]["authenticated"], true);
    assert_eq!(s["claim"]["identity"], "testing/manifest");
}

#[test]
fn subkey_signature_verified_shows_primary_and_signing_fingerprints() {
    let key = sig("public-key-with-subkey.gpg");
    let (o, doc) = inspect_json(&["--keyring", key.to_str().unwrap()], &[&sig("subkey.signature")]);
    assert_exit(&o, 0);
    let s = only(&doc);
    assert_eq!(s["verified"], true);
    let signer = &s["verification"]["signer"];
    assert_eq!(
        signer["primary_fingerprint"],
        "B9F4CDB9FD8C475BFA340AC38D54A947EE396F36"
    );
    assert_eq!(
        signer["signing_fingerprint"],
        "57D1D95BBC53BA0EAFF0718CD75B3109B3BAAEAF"
    );
    // Untrusted, the message only names the subkey.
    assert_eq!(s["issuer_key_id"], "D75B3109B3BAAEAF");

    let o = inspect(&["--keyring", key.to_str().unwrap()], &[&sig("subkey.signature")]);
    let text = stdout(&o);
    assert!(text.contains("status:    VERIFIED"), "{text}");
    assert!(
        text.contains(
            "signer:    key B9F4CDB9FD8C475BFA340AC38D54A947EE396F36 (signing key 57D1D95BBC53BA0EAFF0718CD75B3109B3BAAEAF)"
        ),
        "{text}"
    );
}

#[test]
fn v3_signatures_are_described() {
    let (o, doc) = inspect_json(&[], &[&sig("corrupt.signature-v3")]);
    assert_exit(&o, 0);
    let s = only(&doc);
    assert_eq!(s["signature"]["version"], 3);
    assert_eq!(s["issuer_key_id"], KEY_A_ID);
    assert_eq!(s["issuer_fingerprint"], Value::Null);
    assert_eq!(s["claim"]["identity"], "testing/manifest");
}

/// Everything c/image's untrusted dump reports agrees with ours, and where
/// skopeo cannot dump (no claim, not a signature), we have no claim either.
#[test]
fn agrees_with_skopeo_untrusted_dump() {
    let files = [
        "image.signature",
        "corrupt.signature",
        "corrupt.signature-v3",
        "unknown-key.signature",
        "unknown-key.signature-v3",
        "no-optional-fields.signature",
        "subkey.signature",
        "subkey.signature-v3",
        "invalid-reference.signature",
        "invalid-blob.signature",
        "expired.signature",
        "unsigned-literal.signature",
        "unsigned-encrypted.signature",
    ];
    let mut compared = 0;
    for name in files {
        let path = sig(name);
        let sk = run(Command::new("skopeo")
            .arg("untrusted-signature-dump-without-verification")
            .arg(&path)
            .env("TZ", "UTC")
            .stdin(Stdio::null()));
        let (o, doc) = inspect_json(&[], &[&path]);
        assert_exit(&o, 0);
        let ours = only(&doc);
        if !sk.status.success() {
            assert_eq!(
                ours["claim"],
                Value::Null,
                "{name}: skopeo failed ({}), we parsed a claim",
                stderr(&sk)
            );
            continue;
        }
        let theirs: Value = serde_json::from_slice(&sk.stdout).expect("skopeo JSON");
        let claim = &ours["claim"];
        assert_eq!(claim["digest"], theirs["UntrustedDockerManifestDigest"], "{name}");
        assert_eq!(claim["identity"], theirs["UntrustedDockerReference"], "{name}");
        assert_eq!(claim["creator"], theirs["UntrustedCreatorID"], "{name}");
        let ts = claim["timestamp"].as_i64().map(|t| Value::from(utc_rfc3339(t)));
        assert_eq!(ts.unwrap_or(Value::Null), theirs["UntrustedTimestamp"], "{name}");
        assert_eq!(ours["issuer_key_id"], theirs["UntrustedShortKeyIdentifier"], "{name}");
        compared += 1;
    }
    assert_eq!(compared, 9, "skopeo dumped a different set of fixtures than expected");
}

// ---------------------------------------------------------------------------
// An imgsig-made signature

#[test]
fn imgsig_signature_inspected_with_and_without_keyring() {
    let dir = tempdir();
    let sigfile = sign_demo(dir.path());

    let (o, doc) = inspect_json(&[], &[&sigfile]);
    assert_exit(&o, 0);
    let s = only(&doc);
    assert_eq!(s["verified"], Value::Null);
    assert_eq!(s["claim"]["authenticated"], false);
    assert_eq!(s["claim"]["identity"], DEMO_ID);
    assert!(s["claim"]["digest"].as_str().unwrap().starts_with("sha256:"));
    assert!(s["claim"]["creator"].as_str().unwrap().starts_with("imgsig "));
    // The claim's timestamp is the signature's creation time.
    assert_eq!(s["claim"]["timestamp"], s["signature"]["created"]);
    assert_eq!(s["issuer_fingerprint"], DEMO_FPR);
    assert_eq!(s["issuer_key_id"], &DEMO_FPR[24..]);
    assert_eq!(s["signature"]["hash_algorithm"], "SHA512");
    // Sequoia's layout: no compression.
    assert_eq!(
        tags(s),
        tag_list(&[("one-pass-signature", 0), ("literal-data", 0), ("signature", 0)])
    );
    assert!(stdout(&inspect(&[], &[&sigfile])).contains("UNVERIFIED (no --keyring given)"));

    let public = repo().join("examples/demo-signer.pub.asc");
    let (o, doc) = inspect_json(&["--keyring", public.to_str().unwrap()], &[&sigfile]);
    assert_exit(&o, 0);
    let s = only(&doc);
    assert_eq!(s["verified"], true);
    assert_eq!(s["claim"]["authenticated"], true);
    assert_eq!(s["verification"]["signer"]["primary_fingerprint"], DEMO_FPR);
    assert_eq!(s["verification"]["signer"]["signing_fingerprint"], DEMO_FPR);
    assert_eq!(s["verification"]["hash_algorithm"], "SHA512");

    // Another key's keyring: it does not verify (unknown key), exit 1.
    let other = sig("public-key.gpg");
    let (o, doc) = inspect_json(&["--keyring", other.to_str().unwrap()], &[&sigfile]);
    assert_exit(&o, 1);
    assert_eq!(only(&doc)["verification"]["reason"], "unknown-key");
}

// ---------------------------------------------------------------------------
// Exit codes, several files, stdin

#[test]
fn several_files_one_not_openpgp_exits_1_and_the_rest_is_described() {
    let dir = tempdir();
    let junk = dir.path().join("junk");
    std::fs::write(&junk, b"-----BEGIN PGP MESSAGE-----\n").unwrap();
    let (o, doc) = inspect_json(&[], &[&sig("image.signature"), &junk]);
    assert_exit(&o, 1);
    let sigs = doc["signatures"].as_array().unwrap();
    assert_eq!(sigs[0]["claim"]["identity"], "testing/manifest");
    assert_eq!(sigs[1]["index"], 2);
    assert_eq!(sigs[1]["error"]["code"], "unrecognized-format");
    assert_eq!(sigs[1]["packets"], Value::Array(vec![]));
    let err = stderr(&o);
    assert!(err.contains("cannot inspect [unrecognized-format]"), "{err}");
    assert!(err.contains("1 of 2 file(s) are not OpenPGP messages"), "{err}");

    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let (o, doc) = inspect_json(&[], &[&empty]);
    assert_exit(&o, 1);
    assert_eq!(only(&doc)["error"]["code"], "empty-signature");
}

#[test]
fn unreadable_file_or_keyring_exits_2_with_error_document() {
    let dir = tempdir();
    let missing = dir.path().join("missing");
    let (o, doc) = inspect_json(&[], &[&sig("image.signature"), &missing]);
    assert_exit(&o, 2);
    assert_eq!(doc["error"]["code"], "unreadable-input");
    assert_eq!(doc["exit_code"], 2);
    assert!(stderr(&o).contains("cannot read signature"), "{}", stderr(&o));

    let (o, doc) = inspect_json(&["--keyring", missing.to_str().unwrap()], &[&sig("image.signature")]);
    assert_exit(&o, 2);
    assert_eq!(doc["error"]["code"], "unreadable-input");

    let (o, doc) = inspect_json(
        &["--keyring", sig("image.signature").to_str().unwrap()],
        &[&sig("image.signature")],
    );
    assert_exit(&o, 2);
    assert_eq!(doc["error"]["code"], "invalid-keyring");

    let o = inspect(&[], &[Path::new("-"), Path::new("-")]);
    assert_exit(&o, 2);
}

#[test]
fn stdin_is_dash() {
    let blob = std::fs::read(sig("image.signature")).unwrap();
    let mut child = imgsig()
        .args(["inspect", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&blob).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_exit(&o, 0);
    let doc = json(&o);
    assert_eq!(only(&doc)["source"], "-");
    assert_eq!(only(&doc)["claim"]["identity"], "testing/manifest");
}

// ---------------------------------------------------------------------------
// Hostile messages, straight into the library

fn cert() -> (Cert, KeyPair) {
    let (cert, _) = CertBuilder::new()
        .add_userid("inspect test")
        .set_cipher_suite(CipherSuite::Cv25519)
        .set_primary_key_flags(KeyFlags::empty().set_certification().set_signing())
        .generate()
        .unwrap();
    let kp = cert
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .into_keypair()
        .unwrap();
    (cert, kp)
}

fn signed(kp: KeyPair, payload: &[u8]) -> Vec<u8> {
    signed_as(kp, payload, b"")
}

/// Signed, with this literal data file name.
fn signed_as(kp: KeyPair, payload: &[u8], filename: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let signer = Signer::new(Message::new(&mut out), kp)
        .unwrap()
        .hash_algo(HashAlgorithm::SHA256)
        .unwrap()
        .build()
        .unwrap();
    let mut lit = LiteralWriter::new(signer).filename(filename).unwrap().build().unwrap();
    lit.write_all(payload).unwrap();
    lit.finalize().unwrap();
    out
}

fn compressed(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut c = Compressor::new(Message::new(&mut out))
        .algo(CompressionAlgorithm::Zip)
        .build()
        .unwrap();
    c.write_all(bytes).unwrap();
    c.finalize().unwrap();
    out
}

fn top_packets(blob: &[u8]) -> Vec<Packet> {
    PacketPile::from_bytes(blob).unwrap().into_children().collect()
}

fn serialize(packets: &[Packet]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in packets {
        p.serialize(&mut out).unwrap();
    }
    out
}

#[test]
fn decompression_bomb_is_cut_off_at_the_payload_limit() {
    // 256 MiB of zeros as compressed literal data, streamed (never in memory).
    let mut out = Vec::new();
    let c = Compressor::new(Message::new(&mut out))
        .algo(CompressionAlgorithm::Zlib)
        .level(CompressionLevel::best())
        .build()
        .unwrap();
    let mut lit = LiteralWriter::new(c).build().unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        lit.write_all(&zeros).unwrap();
    }
    lit.finalize().unwrap();
    assert!(out.len() < pgp::MAX_SIGNATURE_SIZE);

    let start = Instant::now();
    let env = pgp::inspect(&out).unwrap();
    assert!(start.elapsed() < Duration::from_secs(10), "took {:?}", start.elapsed());
    assert!(!env.payload_complete);
    assert_eq!(env.payload.as_ref().unwrap().len(), MAX_PAYLOAD_SIZE);
    assert!(
        env.stopped.as_deref().unwrap().contains("longer than"),
        "{:?}",
        env.stopped
    );
    assert!(
        matches!(env.structure, Err(EnvelopeError::PayloadTooLarge(_))),
        "{:?}",
        env.structure
    );
    match &env.packets[1].details {
        PacketDetails::Literal { complete, length, .. } => {
            assert!(!complete);
            assert_eq!(*length, MAX_PAYLOAD_SIZE);
        }
        other => panic!("expected literal data, got {other:?}"),
    }
}

#[test]
fn nested_compression_is_listed_not_opened() {
    let (_, kp) = cert();
    let blob = compressed(&compressed(&signed(kp, b"{}")));
    let env = pgp::inspect(&blob).unwrap();
    assert_eq!(env.structure, Err(EnvelopeError::NestedCompression(2)));
    let names: Vec<&str> = env.packets.iter().map(|p| p.name()).collect();
    assert_eq!(names, ["compressed-data", "compressed-data"]);
    assert!(env.stopped.as_deref().unwrap().contains("second compression layer"));
    assert_eq!(env.payload, None);
}

#[test]
fn two_signatures_are_all_listed() {
    let (_, kp1) = cert();
    let (_, kp2) = cert();
    let a = top_packets(&signed(kp1, b"payload"));
    let b = top_packets(&signed(kp2, b"payload"));
    let mut ops2 = b[0].clone();
    if let Packet::OnePassSig(o) = &mut ops2 {
        o.set_last(false);
    }
    let blob = serialize(&[ops2, a[0].clone(), a[1].clone(), a[2].clone(), b[2].clone()]);
    let env = pgp::inspect(&blob).unwrap();
    assert!(
        matches!(env.structure, Err(EnvelopeError::MultipleSignatures { count: 2, .. })),
        "{:?}",
        env.structure
    );
    let names: Vec<&str> = env.packets.iter().map(|p| p.name()).collect();
    assert_eq!(
        names,
        [
            "one-pass-signature",
            "one-pass-signature",
            "literal-data",
            "signature",
            "signature"
        ]
    );
}

#[test]
fn detached_signature_names_its_issuer() {
    let (cert, kp) = cert();
    let p = top_packets(&signed(kp, b"payload"));
    let blob = serialize(&[p[2].clone()]);
    let env = pgp::inspect(&blob).unwrap();
    assert!(
        matches!(env.structure, Err(EnvelopeError::Detached { .. })),
        "{:?}",
        env.structure
    );
    assert_eq!(
        env.issuer_fingerprint().as_deref(),
        Some(cert.fingerprint().to_hex().as_str())
    );
    assert_eq!(env.issuer_key_id(), Some(cert.keyid().to_hex()));
}

#[test]
fn trailing_garbage_is_reported_and_listing_stops() {
    let (_, kp) = cert();
    let mut blob = signed(kp, b"{}");
    blob.extend_from_slice(b"\x00\x01garbage");
    let env = pgp::inspect(&blob).unwrap();
    assert!(
        matches!(env.structure, Err(EnvelopeError::Malformed(_))),
        "{:?}",
        env.structure
    );
    assert_eq!(env.packets.len(), 4, "{:?}", env.packets);
    assert_eq!(env.packets[3].name(), "not-a-packet");
}

#[test]
fn untrusted_strings_cannot_drive_the_terminal() {
    let (_, kp) = cert();
    let claim = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"evil\u001b[2J\u0007"}},"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"atomic container signature"}},"optional":{{"creator":"x\ry"}}}}"#
    );
    let dir = tempdir();
    let good = dir.path().join("evil.sig");
    std::fs::write(&good, signed_as(kp.clone(), claim.as_bytes(), b"\x1b]0;title\x07")).unwrap();
    let not_json = dir.path().join("evil2.sig");
    std::fs::write(&not_json, signed(kp, b"\x1b[31mred\x1b[0m\n")).unwrap();
    let o = inspect(&[], &[&good, &not_json]);
    assert_exit(&o, 0);
    assert!(!o.stdout.contains(&0x1b), "raw ESC in output:\n{}", stdout(&o));
    assert!(!o.stdout.contains(&b'\r'), "raw CR in output:\n{}", stdout(&o));
    assert!(!o.stdout.contains(&0x07), "raw BEL in output:\n{}", stdout(&o));
    let text = stdout(&o);
    assert!(text.contains(r#"identity:  "evil\u{1b}[2J\u{7}""#), "{text}");
    assert!(text.contains(r#"creator:   "x\ry""#), "{text}");
    assert!(text.contains(r#"filename "\u{1b}]0;title\u{7}""#), "{text}");
    assert!(text.contains(r#""\u{1b}[31mred\u{1b}[0m\n""#), "{text}");
}

#[test]
fn the_library_refuses_only_what_it_cannot_list() {
    assert_eq!(pgp::inspect(b"").unwrap_err(), EnvelopeError::Empty);
    assert_eq!(
        pgp::inspect(b"-----BEGIN PGP SIGNATURE-----").unwrap_err(),
        EnvelopeError::UnrecognizedFormat(b'-')
    );
    assert!(matches!(
        pgp::inspect(&vec![0xA3; pgp::MAX_SIGNATURE_SIZE + 1]),
        Err(EnvelopeError::TooLarge { .. })
    ));
    let blob = std::fs::read(sig("image.signature")).unwrap();
    let env = pgp::inspect(&blob).unwrap();
    assert_eq!(env.structure, Ok(()));
    assert_eq!(env.issuer_key_id().as_deref(), Some(KEY_A_ID));
    let created = env.signature().unwrap().created.unwrap();
    assert!(created > SystemTime::UNIX_EPOCH);
}

/// Unix seconds in RFC 3339 UTC, as `date -u` writes them (an oracle
/// independent of imgsig's own formatting).
fn utc_rfc3339(secs: i64) -> String {
    let o = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .expect("date");
    assert!(o.status.success(), "date -u -d @{secs}");
    String::from_utf8(o.stdout).unwrap().trim().to_owned()
}
