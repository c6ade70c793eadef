//! What imgsig signs and generates for sigstore, judged by an independent
//! checker (tests/scripts/sigstore_check.py: Python's `cryptography` and
//! PyNaCl, written from the published formats — go-securesystemslib's
//! encrypted key, cosign's payload and attachment layout — not from imgsig's
//! code) and by imgsig's own `verify`; both must fail under another key.
//! The registry parts use the peer lab's real docker-registry.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::online::{cmd, go};
use common::{assert_exit, imgsig, json, lab, repo, run, stderr, stdout, tempdir, Lab};

const IDENTITY: &str = "registry.example.com/ns/app:1.0";

fn checker(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut c = Command::new("python3");
    c.arg(repo().join("tests/scripts/sigstore_check.py"));
    for a in args {
        c.arg(a);
    }
    run(&mut c)
}

#[track_caller]
fn checker_ok(o: &Output) {
    assert!(
        o.status.success(),
        "the independent checker refused:\n{}{}",
        stdout(o),
        stderr(o)
    );
}

#[track_caller]
fn checker_fails(o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(1),
        "the independent checker should have refused:\n{}{}",
        stdout(o),
        stderr(o)
    );
}

/// A key pair from imgsig's generator: (private, public).
fn generate(dir: &Path, name: &str, pass: &Path) -> (PathBuf, PathBuf) {
    let prefix = dir.join(name);
    let o = run(imgsig()
        .args(["generate-key", "--sigstore", "--output-prefix"])
        .arg(&prefix)
        .arg("--passphrase-file")
        .arg(pass));
    assert_exit(&o, 0);
    (dir.join(format!("{name}.private")), dir.join(format!("{name}.pub")))
}

/// A key pair from the independent checker (as cosign writes one): (private, public).
fn checker_key(dir: &Path, name: &str, pass: &Path) -> (PathBuf, PathBuf) {
    let (private, public) = (dir.join(format!("{name}.key")), dir.join(format!("{name}.pub")));
    checker_ok(&checker(&[&"make-key", &private, &public, &pass]));
    (private, public)
}

fn pass_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("{text}\n")).unwrap();
    p
}

/// A manifest and its digest (sha256 of the bytes).
fn manifest(dir: &Path) -> (PathBuf, String) {
    let bytes = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
    let p = dir.join("manifest.json");
    std::fs::write(&p, bytes).unwrap();
    let o = run(Command::new("sha256sum").arg(&p));
    (p, format!("sha256:{}", &stdout(&o)[..64]))
}

fn sign_file(key: &Path, pass: &Path, manifest: &Path, out: &Path) -> Output {
    run(imgsig()
        .args(["sign", "--output", "json", "--sigstore-key"])
        .arg(key)
        .arg("--passphrase-file")
        .arg(pass)
        .args(["--identity", IDENTITY, "--manifest"])
        .arg(manifest)
        .arg("-o")
        .arg(out))
}

/// A policy with a `sigstoreSigned` requirement per key, for `scope`.
fn policy(dir: &Path, name: &str, scope: &str, keys: &[&Path], identity: serde_json::Value) -> PathBuf {
    let p = dir.join(name);
    let reqs: Vec<_> = keys
        .iter()
        .map(|k| serde_json::json!({"type": "sigstoreSigned", "keyPath": k, "signedIdentity": identity}))
        .collect();
    std::fs::write(
        &p,
        serde_json::to_vec(&serde_json::json!({
            "default": [{"type": "reject"}],
            "transports": {"docker": {scope: reqs}}
        }))
        .unwrap(),
    )
    .unwrap();
    p
}

fn verify_files(policy: &Path, manifest: &Path, sigs: &[&Path]) -> Output {
    run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(policy)
        .args(["--identity", IDENTITY, "--manifest"])
        .arg(manifest)
        .args(sigs))
}

fn exact() -> serde_json::Value {
    serde_json::json!({"type": "matchExact"})
}

#[test]
fn generated_keys_decrypt_as_go_securesystemslib_reads_them() {
    let dir = tempdir();
    let pass = pass_file(dir.path(), "pass", "correct horse");
    let (private, public) = generate(dir.path(), "k", &pass);
    checker_ok(&checker(&[&"decrypt-key", &private, &pass, &public]));
    // The wrong passphrase does not open it (the checker's secretbox authenticates).
    let wrong = pass_file(dir.path(), "wrong", "incorrect horse");
    checker_fails(&checker(&[&"decrypt-key", &private, &wrong, &public]));
    // Another key's public half does not match it.
    let (_, other_pub) = generate(dir.path(), "other", &pass);
    checker_fails(&checker(&[&"decrypt-key", &private, &pass, &other_pub]));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&private).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "the private key is readable by others: {mode:o}");
    }

    // A second run never replaces the pair: exit 2, both files unchanged.
    let before = (std::fs::read(&private).unwrap(), std::fs::read(&public).unwrap());
    let o = run(imgsig()
        .args(["--output", "json", "generate-key", "--sigstore", "--output-prefix"])
        .arg(dir.path().join("k"))
        .arg("--passphrase-file")
        .arg(&pass));
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "output-exists");
    assert_eq!(
        before,
        (std::fs::read(&private).unwrap(), std::fs::read(&public).unwrap())
    );
    // Only the public half there: still refused, and no private key is written beside it.
    std::fs::write(dir.path().join("half.pub"), b"mine").unwrap();
    let o = run(imgsig()
        .args(["generate-key", "--sigstore", "--output-prefix"])
        .arg(dir.path().join("half"))
        .arg("--passphrase-file")
        .arg(&pass));
    assert_exit(&o, 2);
    assert!(!dir.path().join("half.private").exists());
    assert_eq!(std::fs::read(dir.path().join("half.pub")).unwrap(), b"mine");

    // No passphrase given: refused before anything is written.
    let o = run(imgsig()
        .args(["--output", "json", "generate-key", "--sigstore", "--output-prefix"])
        .arg(dir.path().join("nopass")));
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "passphrase-needed");
    assert!(!dir.path().join("nopass.private").exists());
    // OpenPGP keys are GnuPG's: without --sigstore, a usage error that says so.
    let o = run(imgsig()
        .args(["generate-key", "--output-prefix"])
        .arg(dir.path().join("pgp")));
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("gpg"), "{}", stderr(&o));

    // The JSON report names both files and the key's fingerprint.
    let o = run(imgsig()
        .args(["--output", "json", "generate-key", "--sigstore", "--output-prefix"])
        .arg(dir.path().join("j"))
        .arg("--passphrase-file")
        .arg(&pass));
    assert_exit(&o, 0);
    let doc = json(&o);
    assert_eq!(doc["command"], "generate-key");
    assert_eq!(doc["algorithm"], "ecdsa-p256");
    assert!(doc["public_key"].as_str().unwrap().ends_with("j.pub"), "{doc}");
    assert!(doc["fingerprint"].as_str().unwrap().starts_with("sha256:"), "{doc}");
}

#[test]
fn signatures_pass_the_checker_and_verify_and_fail_both_under_another_key() {
    let dir = tempdir();
    let pass = pass_file(dir.path(), "pass", "s3cret");
    let (m, digest) = manifest(dir.path());
    let (other_priv, other_pub) = generate(dir.path(), "other", &pass);

    // With a key cosign-style tools made (the checker's) and with imgsig's own.
    let keys = [
        checker_key(dir.path(), "cosign", &pass),
        generate(dir.path(), "mine", &pass),
    ];
    for (i, (private, public)) in keys.iter().enumerate() {
        let sig = dir.path().join(format!("sig-{i}"));
        let o = sign_file(private, &pass, &m, &sig);
        assert_exit(&o, 0);
        let doc = json(&o);
        assert_eq!(doc["format"], "sigstore");
        assert_eq!(doc["manifest_digest"], digest.as_str());
        let blob = std::fs::read(&sig).unwrap();
        assert!(blob.starts_with(b"\0sigstore-json\n"));

        checker_ok(&checker(&[&"verify-blob", public, &sig, &digest, &IDENTITY]));
        checker_fails(&checker(&[&"verify-blob", &other_pub, &sig, &digest, &IDENTITY]));
        // The claim is bound to the digest and the identity.
        let wrong_digest = format!("sha256:{}", "0".repeat(64));
        checker_fails(&checker(&[&"verify-blob", public, &sig, &wrong_digest, &IDENTITY]));
        checker_fails(&checker(&[
            &"verify-blob",
            public,
            &sig,
            &digest,
            &"registry.example.com/ns/app:2.0",
        ]));

        let ok = policy(
            dir.path(),
            &format!("p-{i}.json"),
            "registry.example.com/ns/app",
            &[public],
            exact(),
        );
        let o = verify_files(&ok, &m, &[&sig]);
        assert_exit(&o, 0);
        let bad = policy(
            dir.path(),
            &format!("q-{i}.json"),
            "registry.example.com/ns/app",
            &[&other_pub],
            exact(),
        );
        let o = verify_files(&bad, &m, &[&sig]);
        assert_exit(&o, 1);
        assert!(stdout(&o).contains("sigstore-bad-signature"), "{}", stdout(&o));
    }

    // Signed by the other key too: a policy requiring both keys accepts the pair only.
    let sig2 = dir.path().join("sig-other");
    assert_exit(&sign_file(&other_priv, &pass, &m, &sig2), 0);
    let both = policy(
        dir.path(),
        "both.json",
        "registry.example.com/ns/app",
        &[&keys[1].1, &other_pub],
        exact(),
    );
    assert_exit(&verify_files(&both, &m, &[&dir.path().join("sig-1"), &sig2]), 0);
    assert_exit(&verify_files(&both, &m, &[&dir.path().join("sig-1")]), 1);

    // The wrong passphrase, or none: exit 2 with the reason, nothing written.
    let wrong = pass_file(dir.path(), "wrong", "nope");
    let out = dir.path().join("never");
    let o = sign_file(&keys[0].0, &wrong, &m, &out);
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "wrong-passphrase");
    let o = run(imgsig()
        .args(["--output", "json", "sign", "--sigstore-key"])
        .arg(&keys[0].0)
        .args(["--identity", IDENTITY, "--manifest"])
        .arg(&m)
        .arg("-o")
        .arg(&out));
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "passphrase-needed");
    assert!(!out.exists());
    // An OpenPGP key given as a sigstore key: told which flag to use.
    let armored = dir.path().join("pgp.asc");
    std::fs::write(
        &armored,
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nAAAA\n-----END PGP PRIVATE KEY BLOCK-----\n",
    )
    .unwrap();
    let o = sign_file(&armored, &pass, &m, &out);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("--key"), "{}", stderr(&o));
}

/// Every key type imgsig signs and verifies with: ECDSA P-256 (cosign's
/// generate-key-pair) and P-384, Ed25519 and RSA (cosign import-key-pair,
/// containers/image), keys made by the independent checker. imgsig's
/// signature passes the checker and imgsig verify; the checker's signature
/// passes imgsig verify; neither verifies under another key of the same type.
#[test]
fn every_key_type_signs_and_verifies_both_ways_with_the_checker() {
    let dir = tempdir();
    let pass = pass_file(dir.path(), "pass", "s3cret");
    let (m, digest) = manifest(dir.path());
    for kind in ["p256", "p384", "ed25519", "rsa-2048", "rsa-3072", "rsa-4096"] {
        let make = |name: &str| {
            let (private, public) = (
                dir.path().join(format!("{name}.key")),
                dir.path().join(format!("{name}.pub")),
            );
            checker_ok(&checker(&[&"make-key", &private, &public, &pass, &"--type", &kind]));
            (private, public)
        };
        let (private, public) = make(kind);
        let (other_priv, other_pub) = make(&format!("{kind}-other"));

        let mine = dir.path().join(format!("{kind}.imgsig-sig"));
        let o = sign_file(&private, &pass, &m, &mine);
        assert_exit(&o, 0);
        checker_ok(&checker(&[&"verify-blob", &public, &mine, &digest, &IDENTITY]));
        checker_fails(&checker(&[&"verify-blob", &other_pub, &mine, &digest, &IDENTITY]));

        let theirs = dir.path().join(format!("{kind}.checker-sig"));
        checker_ok(&checker(&[&"sign-blob", &private, &pass, &digest, &IDENTITY, &theirs]));
        let other_sig = dir.path().join(format!("{kind}.other-sig"));
        checker_ok(&checker(&[
            &"sign-blob",
            &other_priv,
            &pass,
            &digest,
            &IDENTITY,
            &other_sig,
        ]));

        let ok = policy(
            dir.path(),
            &format!("{kind}-p.json"),
            "registry.example.com/ns/app",
            &[&public],
            exact(),
        );
        for sig in [&mine, &theirs] {
            let o = verify_files(&ok, &m, &[sig]);
            assert_exit(&o, 0);
        }
        let o = verify_files(&ok, &m, &[&other_sig]);
        assert_exit(&o, 1);
        assert!(stdout(&o).contains("sigstore-bad-signature"), "{kind}: {}", stdout(&o));
    }

    // RSA keys under 2048 bits: their signatures still verify (from 1024
    // bits, as Go's crypto/rsa), but imgsig does not sign with them.
    let (small, small_pub) = (dir.path().join("rsa-1024.key"), dir.path().join("rsa-1024.pub"));
    checker_ok(&checker(&[
        &"make-key",
        &small,
        &small_pub,
        &pass,
        &"--type",
        &"rsa-1024",
    ]));
    let theirs = dir.path().join("rsa-1024.checker-sig");
    checker_ok(&checker(&[&"sign-blob", &small, &pass, &digest, &IDENTITY, &theirs]));
    let p = policy(
        dir.path(),
        "rsa-1024-p.json",
        "registry.example.com/ns/app",
        &[&small_pub],
        exact(),
    );
    assert_exit(&verify_files(&p, &m, &[&theirs]), 0);
    let out = dir.path().join("rsa-1024.imgsig-sig");
    let o = sign_file(&small, &pass, &m, &out);
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "unsupported-key", "{}", stdout(&o));
    assert!(
        json(&o)["error"]["message"].as_str().unwrap().contains("2048"),
        "{}",
        stdout(&o)
    );
    assert!(!out.exists());
}

#[test]
fn a_lookaside_directory_gains_the_next_signature_and_keeps_the_others() {
    let dir = tempdir();
    let pass = pass_file(dir.path(), "pass", "s3cret");
    let (m, digest) = manifest(dir.path());
    let (a_priv, a_pub) = generate(dir.path(), "a", &pass);
    let (b_priv, b_pub) = generate(dir.path(), "b", &pass);
    let store = dir.path().join("lookaside");
    for key in [&a_priv, &b_priv] {
        let o = run(imgsig()
            .args(["sign", "--sigstore-key"])
            .arg(key)
            .arg("--passphrase-file")
            .arg(&pass)
            .args(["--identity", IDENTITY, "--manifest"])
            .arg(&m)
            .arg("--lookaside-dir")
            .arg(&store));
        assert_exit(&o, 0);
    }
    let image = store.join(format!("ns/app@{}", digest.replace(':', "=")));
    let (s1, s2) = (image.join("signature-1"), image.join("signature-2"));
    checker_ok(&checker(&[&"verify-blob", &a_pub, &s1, &digest, &IDENTITY]));
    checker_ok(&checker(&[&"verify-blob", &b_pub, &s2, &digest, &IDENTITY]));
    assert!(!image.join("signature-3").exists());
    let both = policy(
        dir.path(),
        "both.json",
        "registry.example.com/ns/app",
        &[&a_pub, &b_pub],
        exact(),
    );
    let o = run(imgsig()
        .args(["verify", "--policy"])
        .arg(&both)
        .args(["--identity", IDENTITY, "--manifest"])
        .arg(&m)
        .arg("--signatures")
        .arg(&image));
    assert_exit(&o, 0);
}

// ---- the registry: attachments as cosign lays them out ----

/// Copy app:1.0 into a repository of its own (real skopeo); returns (image, repo path, digest).
fn lab_image(lab: &Lab, name: &str) -> (String, String, String) {
    let reg = lab.var("LAB_REGISTRY");
    let path = format!("lab/{name}");
    let image = format!("{reg}/{path}:1.0");
    let o = Command::new("skopeo")
        .args(["copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false"])
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1")))
        .arg(format!("docker://{image}"))
        .output()
        .expect("skopeo");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (image, path, lab.var("LAB_IMG_APP1_DIGEST").to_owned())
}

fn registries_d(dir: &Path, lab: &Lab, attachments: bool) -> PathBuf {
    let d = dir.join(if attachments { "rd-attach" } else { "rd-plain" });
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("lab.yaml"),
        format!(
            "docker:\n  {}:\n    use-sigstore-attachments: {attachments}\n",
            lab.var("LAB_REGISTRY")
        ),
    )
    .unwrap();
    d
}

fn sign_image(key: &Path, pass: &Path, rd: &Path, image: &str) -> Output {
    go(cmd()
        .args(["sign", "--output", "json", "--tls-verify=false", "--sigstore-key"])
        .arg(key)
        .arg("--passphrase-file")
        .arg(pass)
        .arg("--registries-d")
        .arg(rd)
        .arg(format!("docker://{image}")))
}

fn verify_online(policy: &Path, rd: &Path, image: &str) -> Output {
    go(cmd()
        .args(["verify", "--tls-verify=false", "--policy"])
        .arg(policy)
        .arg("--registries-d")
        .arg(rd)
        .arg(format!("docker://{image}")))
}

#[test]
fn registry_attachments_grow_as_cosign_lays_them_out_and_verify_online_and_offline() {
    let lab = lab();
    let dir = tempdir();
    let pass = pass_file(dir.path(), "pass", "s3cret");
    let name = format!("imgsig-sigstore-{}", std::process::id());
    let (image, path, digest) = lab_image(lab, &name);
    let reg = lab.var("LAB_REGISTRY");
    let rd = registries_d(dir.path(), lab, true);
    let (a_priv, a_pub) = generate(dir.path(), "a", &pass);
    let (b_priv, b_pub) = checker_key(dir.path(), "b", &pass);
    let (_, c_pub) = generate(dir.path(), "c", &pass);
    let scope = format!("{reg}/{path}");
    let repo_identity = serde_json::json!({"type": "matchRepository"});

    // Without use-sigstore-attachments there is nowhere to put it: exit 2, with the reason.
    let o = sign_image(&a_priv, &pass, &registries_d(dir.path(), lab, false), &image);
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "sigstore-attachments-disabled");

    // The first signature creates the attachment: one layer, as cosign writes it.
    let o = sign_image(&a_priv, &pass, &rd, &image);
    assert_exit(&o, 0);
    let doc = json(&o);
    assert_eq!(doc["signatures"][0]["format"], "sigstore", "{doc}");
    assert_eq!(doc["signatures"][0]["written"], true, "{doc}");
    assert_eq!(doc["signatures"][0]["manifest_digest"], digest.as_str(), "{doc}");
    let check = |public: &Path, layers: &str| {
        checker(&[
            &"check-attachment",
            &reg,
            &path,
            &digest,
            &public,
            &image.as_str(),
            &"--expect-layers",
            &layers,
        ])
    };
    checker_ok(&check(&a_pub, "1"));
    checker_fails(&check(&c_pub, "1"));

    // A second signer appends a layer; the first is kept.
    assert_exit(&sign_image(&b_priv, &pass, &rd, &image), 0);
    checker_ok(&check(&a_pub, "2"));
    checker_ok(&check(&b_pub, "2"));
    // Signing again with a key that already signed this image is a no-op.
    let o = sign_image(&a_priv, &pass, &rd, &image);
    assert_exit(&o, 0);
    assert_eq!(json(&o)["signatures"][0]["written"], false, "{}", stdout(&o));
    checker_ok(&check(&a_pub, "2"));

    // imgsig verify online: both required keys are there; a third key's requirement is not met.
    let both = policy(
        dir.path(),
        "both.json",
        &scope,
        &[&a_pub, &b_pub],
        repo_identity.clone(),
    );
    assert_exit(&verify_online(&both, &rd, &image), 0);
    let third = policy(
        dir.path(),
        "third.json",
        &scope,
        &[&a_pub, &c_pub],
        repo_identity.clone(),
    );
    let o = go(cmd()
        .args(["verify", "--output", "json", "--tls-verify=false", "--policy"])
        .arg(&third)
        .arg("--registries-d")
        .arg(&rd)
        .arg(format!("docker://{image}")));
    assert_exit(&o, 1);
    let doc = json(&o);
    let reqs = &doc["manifests"][0]["requirements"];
    assert_eq!(reqs[0]["verdict"], "accepted", "{doc}");
    assert_eq!(reqs[1]["verdict"], "rejected", "{doc}");
    for sig in reqs[1]["signatures"].as_array().unwrap() {
        assert_eq!(sig["reason"], "sigstore-bad-signature", "{doc}");
    }

    // fetch carries both into a mirror; verify --offline accepts them there.
    let mirror = dir.path().join("mirror");
    let o = go(cmd()
        .args(["fetch", "--tls-verify=false", "--to"])
        .arg(&mirror)
        .arg("--registries-d")
        .arg(&rd)
        .arg(format!("docker://{image}")));
    assert_exit(&o, 0);
    let o = go(cmd()
        .args(["verify", "--offline", "--policy"])
        .arg(&both)
        .arg("--lookaside")
        .arg(&mirror)
        .arg(format!("docker://{image}")));
    assert_exit(&o, 0);
}

#[test]
fn signing_next_to_an_existing_cosign_attachment_keeps_it() {
    let lab = lab();
    let dir = tempdir();
    let pass = pass_file(dir.path(), "pass", "s3cret");
    let name = format!("imgsig-cosigned-{}", std::process::id());
    let (image, path, digest) = lab_image(lab, &name);
    let reg = lab.var("LAB_REGISTRY");
    // An attachment pushed by another, independent signer (cosign's layout).
    let theirs = dir.path().join("theirs.pub");
    let o = Command::new("python3")
        .arg(repo().join("tests/scripts/cosign_attach.py"))
        .args([reg, path.as_str(), &digest, &format!("{reg}/{path}")])
        .arg(&theirs)
        .output()
        .expect("python3");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rd = registries_d(dir.path(), lab, true);
    let (mine_priv, mine_pub) = generate(dir.path(), "mine", &pass);
    assert_exit(&sign_image(&mine_priv, &pass, &rd, &image), 0);
    let repo_identity = serde_json::json!({"type": "matchRepository"});
    let both = policy(
        dir.path(),
        "both.json",
        &format!("{reg}/{path}"),
        &[&theirs, &mine_pub],
        repo_identity,
    );
    assert_exit(&verify_online(&both, &rd, &image), 0);
}
