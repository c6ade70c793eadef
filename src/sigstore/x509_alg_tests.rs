//! Certificate signatures of every algorithm [`super::verify_chain`] checks,
//! on certificates openssl made and verified
//! (`tests/fixtures/sigstore/cert-algs/make.sh`): each leaf verifies under
//! its root, and not with one byte of its signature changed.

use super::*;

/// 2030-03-17: inside every fixture's validity.
const AT: i64 = 1_900_000_000;

fn pair(pem: &str) -> (CertPool, Cert) {
    let mut certs = certificates_from_pem(pem.as_bytes()).unwrap();
    assert_eq!(certs.len(), 2);
    let leaf = certs.pop().unwrap();
    let mut roots = CertPool::default();
    roots.add(certs.pop().unwrap());
    (roots, leaf)
}

fn tampered(leaf: &Cert) -> Cert {
    let mut bad = leaf.clone();
    let last = bad.signature.len() - 1;
    bad.signature[last] ^= 1;
    bad.der.push(0); // another certificate as far as the pool is concerned
    bad
}

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../tests/fixtures/sigstore/cert-algs/", $name, ".pem")),
        )
    };
}

#[test]
fn every_certificate_signature_algorithm_verifies_and_tampering_fails() {
    let none = CertPool::default();
    for (name, pem) in [
        fixture!("rsa1024-sha256"),
        fixture!("rsa2048-sha384"),
        fixture!("rsa2048-sha512"),
        fixture!("rsa3072-sha256"),
        fixture!("p256-sha384"),
        fixture!("p256-sha512"),
        fixture!("p384-sha256"),
        fixture!("p384-sha512"),
        fixture!("ed25519"),
    ] {
        let (roots, leaf) = pair(pem);
        if let Err(e) = verify_chain(&leaf, &none, &roots, AT, false) {
            panic!("{name}: {e}");
        }
        let e = verify_chain(&tampered(&leaf), &none, &roots, AT, false).unwrap_err();
        assert!(e.contains("unknown authority"), "{name}: {e}");
    }
}

#[test]
fn sha384_certificate_signatures_need_rsa_2048() {
    // aws-lc verifies RSA with SHA-384 from 2048 bits only; SHA-256 and
    // SHA-512 from 1024 bits (above).
    let (roots, leaf) = pair(include_str!(
        "../../tests/fixtures/sigstore/cert-algs/rsa1024-sha384.pem"
    ));
    let e = verify_chain(&leaf, &CertPool::default(), &roots, AT, false).unwrap_err();
    assert!(e.contains("SHA-384"), "{e}");
}
