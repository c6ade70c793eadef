//! containers/image's sigstore test vectors (signature/fixtures, copied to
//! shared/reference/fixtures/sigstore) through `imgsig::sigstore::verify`:
//! each gives the result the fixtures' README documents for its trust root.
//! Identity and digest matching are the caller's, so the tests check the
//! authenticated payload against the fixture image themselves.

mod common;

use std::path::{Path, PathBuf};

use imgsig::sigstore::{
    self, parse_public_keys, parse_rekor_public_key, FulcioRoot, PkiRoot, PublicKey, SigstoreSignature, TrustRoot,
    UntrustedPayload,
};
use sha2::{Digest, Sha256};

/// c/image `signature/internal/testdata/rekor.pub` (commit df7e80d2d198). The
/// copy in the shared fixtures is a git symlink stored as text
/// (`../internal/testdata/rekor.pub`) whose target was not copied.
const REKOR_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwr
kBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==
-----END PUBLIC KEY-----";

fn dir() -> PathBuf {
    common::fixture("sigstore")
}

/// A fixture's bytes; a git symlink stored as a text file (`../x/y`) is followed.
fn read(rel: &str) -> Vec<u8> {
    let mut p = dir().join(rel);
    for _ in 0..4 {
        let data = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        match std::str::from_utf8(&data) {
            Ok(t) if data.len() < 200 && t.starts_with("../") && !t.contains('\n') => {
                p = p.parent().unwrap().join(t);
                assert!(p.starts_with(dir()) || Path::new(&p).exists(), "{}", p.display());
            }
            _ => return data,
        }
    }
    panic!("symlink loop at {rel}")
}

fn sig(rel: &str) -> SigstoreSignature {
    SigstoreSignature::parse_blob(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn key(rel: &str) -> PublicKey {
    parse_public_keys(&read(rel)).unwrap().remove(0)
}

fn keys(rels: &[&str]) -> TrustRoot {
    TrustRoot::PublicKeys(rels.iter().map(|r| key(r)).collect())
}

fn rekor() -> Vec<PublicKey> {
    vec![parse_rekor_public_key(REKOR_PUB.as_bytes()).unwrap()]
}

fn manifest_digest(image: &str) -> String {
    format!("sha256:{:x}", Sha256::digest(read(&format!("{image}/manifest.json"))))
}

fn fulcio() -> TrustRoot {
    TrustRoot::Fulcio(
        FulcioRoot::new(
            &read("fulcio_v1.crt.pem"),
            "https://github.com/login/oauth",
            "mitr@redhat.com",
        )
        .unwrap(),
    )
}

fn pki(email: Option<&str>, host: Option<&str>) -> TrustRoot {
    TrustRoot::Pki(
        PkiRoot::new(
            &read("pki_root_crts.pem"),
            Some(&read("pki_intermediate_crts.pem")),
            email,
            host,
        )
        .unwrap(),
    )
}

fn code(r: Result<UntrustedPayload, sigstore::SigstoreError>) -> &'static str {
    r.expect_err("expected a rejection").code.as_str()
}

/// Accepted, and the payload names the fixture image's manifest and `reference`.
fn assert_accepted(image: &str, s: &SigstoreSignature, root: &TrustRoot, rk: &[PublicKey], reference: &str) {
    let p = sigstore::verify(s, root, rk).unwrap_or_else(|e| panic!("{image}: {e}"));
    assert_eq!(p.docker_manifest_digest, manifest_digest(image), "{image}");
    assert_eq!(p.docker_reference, reference, "{image}");
}

const SINGLE: &str = "192.168.64.2:5000/cosign-signed-single-sample";

#[test]
fn key_valid() {
    let s = sig("dir-img-cosign-valid/signature-1");
    assert_accepted("dir-img-cosign-valid", &s, &keys(&["cosign.pub"]), &[], SINGLE);
    assert_eq!(
        code(sigstore::verify(&s, &keys(&["cosign2.pub"]), &[])),
        "sigstore-bad-signature"
    );
    assert_accepted(
        "dir-img-cosign-valid",
        &s,
        &keys(&["cosign2.pub", "cosign.pub"]),
        &[],
        SINGLE,
    );
    // No Rekor SET in this signature: with a Rekor key it is rejected.
    assert_eq!(
        code(sigstore::verify(&s, &keys(&["cosign.pub"]), &rekor())),
        "sigstore-missing-annotation"
    );
    let p = sigstore::verify(&s, &keys(&["cosign.pub"]), &[]).unwrap();
    assert_eq!((p.creator, p.timestamp), (None, None));
}

#[test]
fn key_valid_2_and_tag() {
    for n in 1..=2 {
        let s = sig(&format!("dir-img-cosign-valid-2/signature-{n}"));
        assert_accepted("dir-img-cosign-valid", &s, &keys(&["cosign.pub"]), &[], SINGLE);
    }
    let s = sig("dir-img-cosign-valid-with-tag/signature-1");
    assert_accepted(
        "dir-img-cosign-valid-with-tag",
        &s,
        &keys(&["cosign.pub"]),
        &[],
        "192.168.64.2:5000/skopeo-signed:tag",
    );
    let p = sigstore::verify(&s, &keys(&["cosign.pub"]), &[]).unwrap();
    assert!(p.creator.unwrap().starts_with("containers/image "));
    assert!(p.timestamp.is_some());
}

#[test]
fn key_rekor() {
    // The fixtures' README says cosign.pub; c/image's test (policy_eval_sigstore_test.go) and the
    // SET itself name cosign2.pub: that is the key this image is signed with.
    let s = sig("dir-img-cosign-key-rekor-valid/signature-1");
    let r = "192.168.64.2:5000/cosign-signed/key-1";
    let image = "dir-img-cosign-key-rekor-valid";
    let rekor_and_cosign = vec![rekor().remove(0), key("cosign.pub")];
    let cosign_and_rekor = vec![key("cosign.pub"), rekor().remove(0)];
    for ks in [
        &["cosign2.pub"][..],
        &["cosign2.pub", "cosign.pub"],
        &["cosign.pub", "cosign2.pub"],
    ] {
        for rk in [rekor(), rekor_and_cosign.clone(), cosign_and_rekor.clone()] {
            assert_accepted(image, &s, &keys(ks), &rk, r);
        }
        // cosign.pub as the Rekor key (not rekor.pub): the SET does not verify.
        let e = sigstore::verify(&s, &keys(ks), &[key("cosign.pub")]).unwrap_err();
        assert_eq!(e.code, "sigstore-rekor-invalid");
        assert!(
            e.message
                .contains("cryptographic signature verification of Rekor SET failed"),
            "{e}"
        );
    }
    // Without Rekor keys the SET is not looked at.
    assert_accepted(image, &s, &keys(&["cosign2.pub"]), &[], r);
    // A key the SET does not name.
    let e = sigstore::verify(&s, &keys(&["cosign.pub"]), &rekor()).unwrap_err();
    assert_eq!(e.code, "sigstore-rekor-invalid");
    assert!(e.message.contains("publicKey in Rekor SET does not match"), "{e}");
    // SET annotation missing, or not a SET.
    let mut ann = s.annotations().clone();
    ann.remove(sigstore::SET_ANNOTATION);
    let t = SigstoreSignature::from_components(s.mime_type().into(), s.payload().to_vec(), ann.clone());
    assert_eq!(
        code(sigstore::verify(&t, &keys(&["cosign2.pub"]), &rekor())),
        "sigstore-missing-annotation"
    );
    ann.insert(sigstore::SET_ANNOTATION.into(), "this is not a valid SET".into());
    let t = SigstoreSignature::from_components(s.mime_type().into(), s.payload().to_vec(), ann);
    assert_eq!(
        code(sigstore::verify(&t, &keys(&["cosign2.pub"]), &rekor())),
        "sigstore-rekor-invalid"
    );
    // A valid SET (for cosign2.pub) on a signature made by cosign.pub.
    let other = sig("dir-img-cosign-valid/signature-1");
    let mut ann = other.annotations().clone();
    ann.insert(
        sigstore::SET_ANNOTATION.into(),
        s.annotations()[sigstore::SET_ANNOTATION].clone(),
    );
    let t = SigstoreSignature::from_components(other.mime_type().into(), other.payload().to_vec(), ann);
    let e = sigstore::verify(&t, &keys(&["cosign.pub", "cosign2.pub"]), &rekor()).unwrap_err();
    assert_eq!(e.code, "sigstore-rekor-invalid");
    assert!(e.message.contains("signature in Rekor SET does not match"), "{e}");
}

#[test]
fn rsa_rekor_key_rejected() {
    let rsa = read("some-rsa-key.pub");
    assert_eq!(
        parse_rekor_public_key(&rsa).unwrap_err().code,
        "sigstore-rekor-key-not-ecdsa"
    );
    let rsa_key = parse_public_keys(&rsa).unwrap().remove(0);
    assert_eq!(rsa_key.algorithm(), "rsa");
    let s = sig("dir-img-cosign-key-rekor-valid/signature-1");
    let mixed = vec![rekor().remove(0), rsa_key];
    assert_eq!(
        code(sigstore::verify(&s, &keys(&["cosign2.pub"]), &mixed)),
        "sigstore-rekor-key-not-ecdsa"
    );
}

#[test]
fn fulcio_rekor() {
    let image = "dir-img-cosign-fulcio-rekor-valid";
    let s = sig(&format!("{image}/signature-1"));
    assert_accepted(
        image,
        &s,
        &fulcio(),
        &rekor(),
        "192.168.64.2:5000/cosign-signed/fulcio-rekor-1",
    );
    // c/image requires Rekor with Fulcio.
    assert_eq!(code(sigstore::verify(&s, &fulcio(), &[])), "sigstore-rekor-required");
    assert_eq!(
        code(sigstore::verify(&s, &fulcio(), &[key("cosign.pub")])),
        "sigstore-rekor-invalid"
    );
    let ca = read("fulcio_v1.crt.pem");
    let other_email =
        TrustRoot::Fulcio(FulcioRoot::new(&ca, "https://github.com/login/oauth", "x@example.com").unwrap());
    assert_eq!(
        code(sigstore::verify(&s, &other_email, &rekor())),
        "sigstore-certificate-identity"
    );
    let other_issuer =
        TrustRoot::Fulcio(FulcioRoot::new(&ca, "https://accounts.google.com", "mitr@redhat.com").unwrap());
    assert_eq!(
        code(sigstore::verify(&s, &other_issuer, &rekor())),
        "sigstore-certificate-identity"
    );
    // Another CA (the PKI root) does not issue it.
    let other_ca = TrustRoot::Fulcio(
        FulcioRoot::new(
            &read("pki_root_crts.pem"),
            "https://github.com/login/oauth",
            "mitr@redhat.com",
        )
        .unwrap(),
    );
    assert_eq!(
        code(sigstore::verify(&s, &other_ca, &rekor())),
        "sigstore-certificate-invalid"
    );
    // Without the chain annotation the intermediate is missing.
    let mut ann = s.annotations().clone();
    ann.remove(sigstore::CHAIN_ANNOTATION);
    let no_chain = SigstoreSignature::from_components(s.mime_type().into(), s.payload().to_vec(), ann);
    assert_eq!(
        code(sigstore::verify(&no_chain, &fulcio(), &rekor())),
        "sigstore-certificate-invalid"
    );
    // As a key-based signature, the certificate's key is not a configured key.
    assert_eq!(
        code(sigstore::verify(&s, &keys(&["cosign.pub"]), &rekor())),
        "sigstore-rekor-invalid"
    );
    // Fulcio trust roots need an issuer, an email and a CA.
    assert!(FulcioRoot::new(&ca, "", "a@b").is_err());
    assert!(FulcioRoot::new(&ca, "i", "").is_err());
    assert!(FulcioRoot::new(b"nothing", "i", "a@b").is_err());
}

#[test]
fn pki_valid() {
    let image = "dir-img-cosign-pki-valid";
    let s = sig(&format!("{image}/signature-1"));
    let r = "localhost:5000/test";
    assert_accepted(image, &s, &pki(Some("qiwan@redhat.com"), None), &[], r);
    assert_accepted(image, &s, &pki(None, Some("myhost.example.com")), &[], r);
    assert_accepted(
        image,
        &s,
        &pki(Some("qiwan@redhat.com"), Some("MyHost.example.com")),
        &[],
        r,
    );
    assert_eq!(
        code(sigstore::verify(&s, &pki(Some("x@example.com"), None), &[])),
        "sigstore-certificate-identity"
    );
    assert_eq!(
        code(sigstore::verify(&s, &pki(None, Some("other.example.com")), &[])),
        "sigstore-certificate-identity"
    );
    assert_eq!(
        code(sigstore::verify(&s, &pki(Some("qiwan@redhat.com"), None), &rekor())),
        "sigstore-rekor-not-allowed"
    );
    // Without configured intermediates, the chain annotation supplies the intermediate.
    let no_int =
        TrustRoot::Pki(PkiRoot::new(&read("pki_root_crts.pem"), None, Some("qiwan@redhat.com"), None).unwrap());
    assert_accepted(image, &s, &no_int, &[], r);
    // The certificates expire in 2052; after that (c/image checks PKI at "now") it is rejected.
    let in_2053 = 2_619_000_000;
    assert_eq!(
        code(sigstore::verify_at(
            &s,
            &pki(Some("qiwan@redhat.com"), None),
            &[],
            in_2053
        )),
        "sigstore-certificate-invalid"
    );
    // Another root.
    let other = TrustRoot::Pki(PkiRoot::new(&read("fulcio_v1.crt.pem"), None, Some("qiwan@redhat.com"), None).unwrap());
    assert_eq!(code(sigstore::verify(&s, &other, &[])), "sigstore-certificate-invalid");
    assert!(PkiRoot::new(&read("pki_root_crts.pem"), None, None, Some("")).is_err());
}

#[test]
fn mixed_other_attachment_unknown_key() {
    let root = keys(&["cosign.pub"]);
    assert_eq!(
        code(sigstore::verify(&sig("dir-img-cosign-mixed/signature-1"), &root, &[])),
        "sigstore-bad-signature"
    );
    assert_accepted(
        "dir-img-cosign-valid",
        &sig("dir-img-cosign-mixed/signature-2"),
        &root,
        &[],
        SINGLE,
    );
    let other = sig("dir-img-cosign-other-attachment/signature-1");
    assert!(!other.is_signature());
    assert_eq!(code(sigstore::verify(&other, &root, &[])), "sigstore-not-a-signature");
    let unknown = sig("unknown-cosign-key.signature");
    assert_eq!(code(sigstore::verify(&unknown, &root, &[])), "sigstore-bad-signature");
}

#[test]
fn modified_manifest_is_the_callers_digest_mismatch() {
    // The signature itself verifies; its digest is not the modified manifest's.
    let s = sig("dir-img-cosign-modified-manifest/signature-1");
    let p = sigstore::verify(&s, &keys(&["cosign.pub"]), &[]).unwrap();
    assert_ne!(
        p.docker_manifest_digest,
        manifest_digest("dir-img-cosign-modified-manifest")
    );
    assert_eq!(p.docker_manifest_digest, manifest_digest("dir-img-cosign-valid"));
}

#[test]
fn tampering_rejected() {
    for (image, root, rk) in [
        ("dir-img-cosign-valid", keys(&["cosign.pub"]), vec![]),
        ("dir-img-cosign-key-rekor-valid", keys(&["cosign2.pub"]), rekor()),
        ("dir-img-cosign-fulcio-rekor-valid", fulcio(), rekor()),
        ("dir-img-cosign-pki-valid", pki(Some("qiwan@redhat.com"), None), vec![]),
    ] {
        let s = sig(&format!("{image}/signature-1"));
        assert!(sigstore::verify(&s, &root, &rk).is_ok(), "{image}");
        // One payload byte changed.
        let mut payload = s.payload().to_vec();
        let i = payload.len() / 2;
        payload[i] ^= 1;
        let t = SigstoreSignature::from_components(s.mime_type().into(), payload, s.annotations().clone());
        let expected = if rk.is_empty() {
            "sigstore-bad-signature"
        } else {
            "sigstore-rekor-invalid"
        };
        assert_eq!(code(sigstore::verify(&t, &root, &rk)), expected, "{image}");
        // The signature changed (a valid-base64 change inside the DER).
        let mut ann = s.annotations().clone();
        let b64 = ann.get_mut(sigstore::SIGNATURE_ANNOTATION).unwrap();
        let mut raw = base64_decode(b64);
        let j = raw.len() - 3;
        raw[j] ^= 0x40;
        *b64 = base64_encode(&raw);
        let t = SigstoreSignature::from_components(s.mime_type().into(), s.payload().to_vec(), ann);
        assert_eq!(code(sigstore::verify(&t, &root, &rk)), expected, "{image}");
        // Annotation removed.
        let mut ann = s.annotations().clone();
        ann.remove(sigstore::SIGNATURE_ANNOTATION);
        let t = SigstoreSignature::from_components(s.mime_type().into(), s.payload().to_vec(), ann);
        assert_eq!(
            code(sigstore::verify(&t, &root, &rk)),
            "sigstore-missing-annotation",
            "{image}"
        );
    }
}

#[test]
fn truncated_and_garbage_never_panic() {
    let roots = [
        (keys(&["cosign.pub"]), vec![]),
        (keys(&["cosign2.pub"]), rekor()),
        (fulcio(), rekor()),
    ];
    for rel in [
        "dir-img-cosign-valid/signature-1",
        "dir-img-cosign-key-rekor-valid/signature-1",
        "dir-img-cosign-fulcio-rekor-valid/signature-1",
        "dir-img-cosign-pki-valid/signature-1",
    ] {
        let blob = read(rel);
        let json = &blob[sigstore::TYPED_BLOB_PREFIX.len()..];
        for n in (0..json.len()).step_by(7) {
            let cut = &json[..n];
            assert!(SigstoreSignature::parse(cut).is_err(), "{rel} cut at {n} parsed");
        }
        // Truncated annotations inside a well-formed envelope.
        let s = SigstoreSignature::parse(json).unwrap();
        for key in [
            sigstore::SET_ANNOTATION,
            sigstore::CERTIFICATE_ANNOTATION,
            sigstore::CHAIN_ANNOTATION,
            sigstore::SIGNATURE_ANNOTATION,
        ] {
            let Some(v) = s.annotations().get(key) else { continue };
            for n in (0..v.len()).step_by(13) {
                let mut ann = s.annotations().clone();
                ann.insert(key.into(), v[..n].into());
                let t = SigstoreSignature::from_components(s.mime_type().into(), s.payload().to_vec(), ann);
                for (root, rk) in &roots {
                    let _ = sigstore::verify(&t, root, rk);
                }
            }
        }
    }
    for garbage in [
        &b""[..],
        b"null",
        b"[]",
        b"{\"payload\":1}",
        b"{\"payload\":\"!!\"}",
        b"\xff\xfe",
        b"{\"annotations\":[1]}",
    ] {
        if let Ok(s) = SigstoreSignature::parse(garbage) {
            assert!(sigstore::verify(&s, &keys(&["cosign.pub"]), &[]).is_err());
        }
    }
    assert!(SigstoreSignature::parse_blob(b"{}").is_err());
    assert!(parse_public_keys(b"garbage").is_err());
    assert!(parse_public_keys(&read("fulcio_v1.crt.pem")).is_err());
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    // Like Go's decoder, ignoring line breaks (the PKI fixture's signature is wrapped).
    let s: String = s.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// The documented limits (docs/security.md): a signature of at most 4 MiB, a key file of at most 16 MiB.
const MAX_SIGNATURE_SIZE: usize = 4 * 1024 * 1024;
const MAX_KEY_FILE_SIZE: usize = 16 * 1024 * 1024;

#[test]
fn sizes_bounded() {
    let big = vec![b' '; MAX_SIGNATURE_SIZE + 1];
    assert_eq!(SigstoreSignature::parse(&big).unwrap_err().code, "sigstore-too-large");
    let s = sig("dir-img-cosign-valid/signature-1");
    let mut ann = s.annotations().clone();
    ann.insert("x".into(), "y".repeat(MAX_SIGNATURE_SIZE));
    let t = SigstoreSignature::from_components(s.mime_type().into(), s.payload().to_vec(), ann);
    assert_eq!(
        code(sigstore::verify(&t, &keys(&["cosign.pub"]), &[])),
        "sigstore-too-large"
    );
    let big_key = vec![b'a'; MAX_KEY_FILE_SIZE + 1];
    assert_eq!(parse_public_keys(&big_key).unwrap_err().code, "sigstore-too-large");
}
