//! `imgsig sign` as a user relies on it: key files made by real GnuPG,
//! passphrases, output files that are never clobbered, nothing left behind
//! on failure, and signatures that verify.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_exit, imgsig, json, repo, run, stderr, tempdir};

const ID: &str = "registry.example.com/demo/app:1.0";

fn manifest() -> PathBuf {
    repo().join("examples/manifest.json")
}

fn demo_key() -> PathBuf {
    repo().join("examples/demo-signer.secret.asc")
}

/// A GnuPG home under /tmp (short path for the agent socket) with one
/// passphrase-protected ed25519 key, exported armored and binary.
struct ProtectedKey {
    home: tempfile::TempDir,
    secret_armored: PathBuf,
    secret_binary: PathBuf,
    public: PathBuf,
}

impl Drop for ProtectedKey {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", self.home.path())
            .output();
    }
}

fn protected_key(pass: &str) -> ProtectedKey {
    let home = tempfile::Builder::new().prefix("isg").tempdir_in("/tmp").unwrap();
    let gpg = |args: &[&str]| {
        let o = run(Command::new("gpg")
            .env("GNUPGHOME", home.path())
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", pass])
            .args(args));
        assert!(o.status.success(), "gpg {args:?}: {}", stderr(&o));
        o.stdout
    };
    gpg(&[
        "--quick-gen-key",
        "Protected <p@imgsig.invalid>",
        "ed25519",
        "sign",
        "never",
    ]);
    let secret_armored = home.path().join("sec.asc");
    let secret_binary = home.path().join("sec.gpg");
    let public = home.path().join("pub.gpg");
    std::fs::write(&secret_armored, gpg(&["--armor", "--export-secret-keys"])).unwrap();
    std::fs::write(&secret_binary, gpg(&["--export-secret-keys"])).unwrap();
    std::fs::write(&public, gpg(&["--export"])).unwrap();
    ProtectedKey {
        home,
        secret_armored,
        secret_binary,
        public,
    }
}

fn sign(key: &Path, out: &Path) -> Command {
    let mut c = imgsig();
    c.args(["sign", "--key"])
        .arg(key)
        .args(["--identity", ID, "--manifest"])
        .arg(manifest())
        .arg("-o")
        .arg(out);
    c
}

fn verifies(public: &Path, sig: &Path) -> bool {
    let o = run(imgsig()
        .args(["verify", "--keyring"])
        .arg(public)
        .args(["--identity", ID, "--manifest"])
        .arg(manifest())
        .arg(sig));
    o.status.success()
}

#[test]
fn passphrase_from_file_and_environment() {
    let k = protected_key("correct horse");
    let dir = tempdir();
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "correct horse\nsecond line is ignored\n").unwrap();

    let out = dir.path().join("a.sig");
    let o = run(sign(&k.secret_armored, &out).arg("--passphrase-file").arg(&pass));
    assert_exit(&o, 0);
    assert!(verifies(&k.public, &out));

    let out = dir.path().join("b.sig");
    let o = run(sign(&k.secret_binary, &out).env("IMGSIG_PASSPHRASE", "correct horse"));
    assert_exit(&o, 0);
    assert!(verifies(&k.public, &out));
}

#[test]
fn missing_or_wrong_passphrase_exits_2_and_writes_nothing() {
    let k = protected_key("secret");
    let dir = tempdir();
    let out = dir.path().join("sig");

    let o = run(&mut sign(&k.secret_armored, &out));
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("passphrase"), "{}", stderr(&o));
    assert!(!out.exists());

    let o = run(sign(&k.secret_armored, &out).env("IMGSIG_PASSPHRASE", "wrong"));
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("wrong passphrase"), "{}", stderr(&o));
    assert!(!out.exists());
    // Nothing else was left in the directory either (no temporary files).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn existing_output_is_never_overwritten_without_force() {
    let dir = tempdir();
    let out = dir.path().join("signature-1");
    std::fs::write(&out, b"precious").unwrap();
    let o = run(&mut sign(&demo_key(), &out));
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");

    let o = run(sign(&demo_key(), &out).arg("--force"));
    assert_exit(&o, 0);
    assert!(verifies(&repo().join("examples/demo-signer.pub.asc"), &out));
}

#[test]
fn signs_to_stdout_when_not_a_terminal() {
    let o = run(imgsig()
        .args(["sign", "--key"])
        .arg(demo_key())
        .args(["--identity", ID, "--manifest"])
        .arg(manifest())
        .args(["-o", "-"]));
    assert_exit(&o, 0);
    // A binary OpenPGP message (no armor).
    assert!(!o.stdout.is_empty() && o.stdout[0] & 0x80 != 0, "not a binary packet");
    let dir = tempdir();
    let sig = dir.path().join("sig");
    std::fs::write(&sig, &o.stdout).unwrap();
    assert!(verifies(&repo().join("examples/demo-signer.pub.asc"), &sig));
}

#[test]
fn digest_form_matches_manifest_form() {
    let dir = tempdir();
    let digest = "sha256:c198b3172a3b0d03c1f8b29b6580d94c614a31a53079419d6e81ad2a43de71df";
    let out = dir.path().join("sig");
    let o = run(imgsig()
        .args(["sign", "--output", "json", "--key"])
        .arg(demo_key())
        .args(["--identity", "busybox:1.36", "--digest", digest, "-o"])
        .arg(&out));
    assert_exit(&o, 0);
    let doc = json(&o);
    assert_eq!(doc["manifest_digest"], digest);
    // The identity is written normalised, as skopeo copy --sign-by does.
    assert_eq!(doc["identity"], "docker.io/library/busybox:1.36");
    assert_eq!(doc["output"], out.display().to_string());
    assert!(doc["creator"].as_str().unwrap().starts_with("imgsig "));
}

#[test]
fn refuses_public_keys_and_unsigned_identities() {
    let dir = tempdir();
    let out = dir.path().join("sig");
    let o = run(&mut sign(&repo().join("examples/demo-signer.pub.asc"), &out));
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("secret key"), "{}", stderr(&o));

    let o = run(imgsig()
        .args(["sign", "--key"])
        .arg(demo_key())
        .args(["--identity", "registry.example.com/demo/app", "--manifest"])
        .arg(manifest())
        .arg("-o")
        .arg(&out));
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("neither a tag nor a digest"), "{}", stderr(&o));
    assert!(!out.exists());
}
