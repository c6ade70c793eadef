//! `sign --identity REF -o FILE oci:LAYOUT:TAG`: an image as built, signed
//! into a file as `--manifest` signs (no lookaside, no network), and that
//! file verified against the layout's digest.

mod common;

use common::{assert_exit, run, stderr, tempdir};

const LAYOUT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cmd/fixtures");
const KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo-signer.secret.asc");
const PUB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo-signer.pub.asc");
/// The digest of the manifest `oci-layout:1.0` names in the fixture layout.
const DIGEST: &str = "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55";

#[test]
fn an_oci_layout_signed_into_a_file_verifies_at_its_digest() {
    let dir = tempdir();
    let sig = dir.path().join("app.sig");
    let identity = "registry.example.com/ns/app:1.0";
    let o = run(std::process::Command::new(env!("CARGO_BIN_EXE_imgsig"))
        .current_dir(LAYOUT)
        .env("HOME", dir.path())
        .args(["sign", "--key", KEY, "--identity", identity, "-o"])
        .arg(&sig)
        .arg("oci:oci-layout:1.0"));
    assert_exit(&o, 0);
    assert!(
        stderr(&o).contains(&format!("signed {DIGEST} as {identity}")),
        "{}",
        stderr(&o)
    );
    let o = run(std::process::Command::new(env!("CARGO_BIN_EXE_imgsig"))
        .args(["verify", "--keyring", PUB, "--identity", identity, "--digest", DIGEST])
        .arg(&sig));
    assert_exit(&o, 0);
    // Another identity: the signature names the one it was made for.
    let o = run(std::process::Command::new(env!("CARGO_BIN_EXE_imgsig"))
        .args([
            "verify",
            "--keyring",
            PUB,
            "--identity",
            "registry.example.com/ns/other:1.0",
            "--digest",
            DIGEST,
        ])
        .arg(&sig));
    assert_exit(&o, 1);
}
