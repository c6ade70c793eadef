//! What differs between sequoia's cryptographic backends (the features
//! `crypto-nettle`, the default, and `crypto-openssl`): only which algorithms
//! exist. Every verdict on the reference fixtures is the same on both
//! (`tests/vectors.rs` runs on both in CI); a key on a curve one backend lacks
//! is the one legitimate difference (docs/formats.md).

mod common;

use common::{assert_exit, imgsig, repo, run, stderr, DEMO_ID};

/// A gpg-made Brainpool P-256 key and signature (tests/data/brainpool):
/// OpenSSL verifies it; nettle has no Brainpool curves, so sequoia cannot
/// check the key's binding signature and the key counts as not valid for
/// signing, as it would for any other algorithm the build lacks.
#[test]
fn a_brainpool_signature_verifies_only_on_openssl() {
    let data = repo().join("tests/data/brainpool");
    let o = run(imgsig()
        .args(["verify", "--keyring"])
        .arg(data.join("brainpoolP256r1.pub.asc"))
        .args(["--identity", DEMO_ID, "--manifest"])
        .arg(repo().join("examples/manifest.json"))
        .arg(data.join("signature-1")));
    if cfg!(feature = "crypto-openssl") {
        assert_exit(&o, 0);
        assert!(stderr(&o).contains("ACCEPTED"), "{}", stderr(&o));
    } else {
        assert_exit(&o, 1);
        let err = stderr(&o);
        assert!(err.contains("rejected [not-signing-key]"), "{err}");
        assert!(err.contains("57D6ECEBF83BB4EE659E64C57F743D82F1592807"), "{err}");
    }
}
