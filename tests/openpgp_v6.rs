//! Issue 24 §4: v6 keys and signatures (RFC 9580) verify with imgsig, but not
//! with Debian's GnuPG 2.2 and skopeo 1.9.3 (gpgme), which do not read v6
//! keys. docs/formats.md and docs/policy.md say so; this keeps both halves.

mod common;

use std::path::Path;
use std::process::Command;

use common::{assert_exit, imgsig, repo, run, stderr, tempdir, DEMO_ID};
use sequoia_openpgp as openpgp;

use openpgp::cert::CertBuilder;
use openpgp::serialize::SerializeInto;

/// A fresh v6 (RFC 9580) signing key: (secret key file, certificate file, fingerprint).
fn v6_key(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let (cert, _) = CertBuilder::general_purpose(Some("v6 <v6@imgsig.invalid>"))
        .set_profile(openpgp::Profile::RFC9580)
        .unwrap()
        .generate()
        .unwrap();
    assert_eq!(cert.primary_key().key().version(), 6);
    let secret = dir.join("v6.secret.asc");
    let public = dir.join("v6.pub.asc");
    std::fs::write(&secret, cert.as_tsk().armored().to_vec().unwrap()).unwrap();
    std::fs::write(&public, cert.armored().to_vec().unwrap()).unwrap();
    (secret, public, cert.fingerprint().to_hex())
}

#[test]
fn a_v6_signature_verifies_with_imgsig_and_not_with_skopeo() {
    let dir = tempdir();
    let (secret, public, fpr) = v6_key(dir.path());
    let manifest = repo().join("examples/manifest.json");
    let sig = dir.path().join("signature-1");
    assert_exit(
        &run(imgsig()
            .args(["sign", "--key"])
            .arg(&secret)
            .args(["--identity", DEMO_ID, "--manifest"])
            .arg(&manifest)
            .arg("-o")
            .arg(&sig)),
        0,
    );
    // The signature packet is v6 too (its first packet is a one-pass signature of version 6).
    let o = run(imgsig().args(["inspect", "--output", "json"]).arg(&sig));
    assert_exit(&o, 0);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("\"version\": 6"), "{text}");
    let o = run(imgsig()
        .args(["verify", "--keyring"])
        .arg(&public)
        .args(["--identity", DEMO_ID, "--manifest"])
        .arg(&manifest)
        .arg(&sig));
    assert_exit(&o, 0);

    // skopeo 1.9.3 through gpgme and GnuPG 2.2: the key cannot even be imported,
    // so the same signature does not verify (when both tools are installed).
    let has = |p: &str| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !(has("skopeo") && has("gpg")) {
        eprintln!("skopeo or gpg missing: the reference half is not checked");
        return;
    }
    let home = tempfile::Builder::new().prefix("isv6").tempdir_in("/tmp").unwrap();
    let _ = run(Command::new("gpg")
        .env("GNUPGHOME", home.path())
        .args(["--batch", "--import"])
        .arg(&public));
    let o = run(Command::new("skopeo")
        .env("GNUPGHOME", home.path())
        .arg("standalone-verify")
        .arg(&manifest)
        .arg(DEMO_ID)
        .arg(&fpr)
        .arg(&sig));
    let _ = Command::new("gpgconf")
        .args(["--kill", "gpg-agent"])
        .env("GNUPGHOME", home.path())
        .output();
    assert!(
        !o.status.success(),
        "skopeo verified a v6 signature: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    eprintln!("skopeo: {}", stderr(&o));
}
