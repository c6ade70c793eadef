//! Trust material split across files, judged as containers/image (gpgme)
//! judges it and compared with real skopeo 1.9.3: a requirement's key files
//! form one keyring, so a revocation certificate in one file revokes the key
//! from another (issue 24: imgsig used to ignore such a file and accept).
//!
//! Each case runs `skopeo copy --policy P` from the lab's registry with the
//! signature in a file:// lookaside, and `imgsig verify --policy P` on the
//! same manifest and signature. Where imgsig is deliberately stricter than
//! gpg (docs/policy.md, "Deliberate differences"), the case says so.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{imgsig, json, lab, run, stderr, tempdir, Lab};
use sequoia_openpgp as openpgp;

use openpgp::armor;
use openpgp::cert::prelude::*;
use openpgp::packet::Signature;
use openpgp::parse::Parse;
use openpgp::serialize::{Serialize, SerializeInto};
use openpgp::types::ReasonForRevocation;
use openpgp::Packet;

/// A fresh GnuPG key in its own GnuPG home, the lab's app:1.0 signed with it
/// by skopeo, and its exports. With `subkey`, a certify-only primary key and
/// a signing subkey (skopeo 1.9.3 verifies no subkey signature at all, a
/// documented difference); without, one primary key that signs, as the lab's.
struct Signer {
    home: PathBuf,
    fpr: String,
    /// `gpg --export` (binary).
    public: PathBuf,
    /// The certificate with its secret keys, for making revocations.
    secret: Cert,
    /// skopeo's signature of app:1.0 (made with the signing subkey).
    signature: PathBuf,
    /// gpg's own revocation certificate from openpgp-revocs.d, with the
    /// guarding ':' removed as an admin publishes it.
    gpg_rev: PathBuf,
}

fn gpg(home: &Path) -> std::process::Command {
    let mut c = std::process::Command::new("gpg");
    c.env("GNUPGHOME", home)
        .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""]);
    c
}

fn ok(o: Output, what: &str) -> Output {
    assert!(o.status.success(), "{what} failed: {}", stderr(&o));
    o
}

impl Signer {
    fn new(lab: &Lab, dir: &Path, name: &str, subkey: bool) -> Signer {
        let home = dir.join(format!("gh-{name}"));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let uid = format!("{name} <{name}@split.test>");
        ok(
            run(gpg(&home).args([
                "--quick-gen-key",
                &uid,
                "ed25519",
                if subkey { "cert" } else { "sign" },
                "never",
            ])),
            "gpg --quick-gen-key",
        );
        let o = ok(
            run(gpg(&home).args(["--with-colons", "--list-keys", &uid])),
            "gpg --list-keys",
        );
        let fpr = String::from_utf8_lossy(&o.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("fpr:").map(|r| r.trim_matches(':').to_owned()))
            .unwrap();
        if subkey {
            ok(
                run(gpg(&home).args(["--quick-add-key", &fpr, "ed25519", "sign", "never"])),
                "gpg --quick-add-key",
            );
        }
        let public = dir.join(format!("{name}.pub"));
        let o = ok(run(gpg(&home).args(["--export", &fpr])), "gpg --export");
        std::fs::write(&public, &o.stdout).unwrap();
        let o = ok(
            run(gpg(&home).args(["--export-secret-keys", &fpr])),
            "gpg --export-secret-keys",
        );
        let secret = Cert::from_bytes(&o.stdout).unwrap();
        let signature = dir.join(format!("{name}.sig"));
        let manifest = lab.path("LAB_MANIFESTS").join("lab_app_1.0.json");
        ok(
            run(std::process::Command::new("skopeo")
                .env("GNUPGHOME", &home)
                .arg("standalone-sign")
                .arg(&manifest)
                .arg(lab.var("LAB_IMG_APP1"))
                .arg(&fpr)
                .arg("-o")
                .arg(&signature)),
            "skopeo standalone-sign",
        );
        let guarded = std::fs::read_to_string(home.join(format!("openpgp-revocs.d/{fpr}.rev"))).unwrap();
        let gpg_rev = dir.join(format!("{name}.rev"));
        std::fs::write(&gpg_rev, guarded.replace(":-----BEGIN PGP", "-----BEGIN PGP")).unwrap();
        Signer {
            home,
            fpr,
            public,
            secret,
            signature,
            gpg_rev,
        }
    }

    fn primary_signer(&self) -> openpgp::crypto::KeyPair {
        self.secret
            .primary_key()
            .key()
            .clone()
            .parts_into_secret()
            .unwrap()
            .into_keypair()
            .unwrap()
    }

    fn subkey_revocation(&self) -> Signature {
        let sub = self.secret.keys().subkeys().next().unwrap();
        SubkeyRevocationBuilder::new()
            .set_reason_for_revocation(ReasonForRevocation::KeyCompromised, b"")
            .unwrap()
            .build(&mut self.primary_signer(), &self.secret, sub.key(), None)
            .unwrap()
    }

    fn user_id_revocation(&self) -> Signature {
        let uid = self.secret.userids().next().unwrap();
        UserIDRevocationBuilder::new()
            .set_reason_for_revocation(ReasonForRevocation::UIDRetired, b"")
            .unwrap()
            .build(&mut self.primary_signer(), &self.secret, uid.userid(), None)
            .unwrap()
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        let _ = std::process::Command::new("gpgconf")
            .env("GNUPGHOME", &self.home)
            .args(["--kill", "all"])
            .output();
    }
}

/// `sigs` as one armored "public key block" file, as gpg publishes a
/// revocation certificate.
fn armored(path: &Path, sigs: &[Signature]) -> PathBuf {
    let mut w = armor::Writer::new(Vec::new(), armor::Kind::PublicKey).unwrap();
    for s in sigs {
        Packet::from(s.clone()).serialize(&mut w).unwrap();
    }
    std::fs::write(path, w.finalize().unwrap()).unwrap();
    path.to_path_buf()
}

fn policy(dir: &Path, name: &str, lab: &Lab, key_paths: &[&Path]) -> PathBuf {
    let p = dir.join(format!("{name}.json"));
    let doc = serde_json::json!({
        "default": [{"type": "reject"}],
        "transports": {"docker": {lab.var("LAB_REGISTRY"): [
            {"type": "signedBy", "keyType": "GPGKeys", "keyPaths": key_paths}
        ]}}
    });
    std::fs::write(&p, doc.to_string()).unwrap();
    p
}

/// skopeo's verdict: `skopeo copy` of app:1.0 with `signature` in a file:// lookaside.
fn skopeo_accepts(lab: &Lab, dir: &Path, policy: &Path, signature: &Path) -> bool {
    let store = dir.join("store");
    let _ = std::fs::remove_dir_all(&store);
    let hex = lab.var("LAB_IMG_APP1_DIGEST").trim_start_matches("sha256:");
    let sigdir = store.join(format!("lab/app@sha256={hex}"));
    std::fs::create_dir_all(&sigdir).unwrap();
    std::fs::copy(signature, sigdir.join("signature-1")).unwrap();
    let regd = dir.join("registries.d");
    std::fs::create_dir_all(&regd).unwrap();
    std::fs::write(
        regd.join("split.yaml"),
        format!(
            "docker:\n  {}:\n    lookaside: file://{}\n",
            lab.var("LAB_REGISTRY"),
            store.display()
        ),
    )
    .unwrap();
    let dest = dir.join("copy");
    let _ = std::fs::remove_dir_all(&dest);
    let o = run(lab
        .cmd("skopeo")
        .arg("--policy")
        .arg(policy)
        .arg("--registries.d")
        .arg(&regd)
        .args(["copy", "--src-tls-verify=false"])
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1")))
        .arg(format!("dir:{}", dest.display())));
    if !o.status.success() {
        let err = stderr(&o);
        assert!(
            err.contains("Source image rejected") || err.contains("rejected by policy"),
            "skopeo failed for another reason: {err}"
        );
    }
    o.status.success()
}

/// imgsig's verdict on the same manifest and signature, and the JSON report.
fn imgsig_verdict(lab: &Lab, policy: &Path, signature: &Path) -> (bool, serde_json::Value) {
    let o = run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(policy)
        .args(["--identity", lab.var("LAB_IMG_APP1"), "--manifest"])
        .arg(lab.path("LAB_MANIFESTS").join("lab_app_1.0.json"))
        .arg(signature));
    let code = o.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "imgsig exit {code:?}: {}",
        stderr(&o)
    );
    (code == Some(0), json(&o))
}

/// The reason code of the first signature's verdict in a report.
fn signature_reason(doc: &serde_json::Value) -> String {
    doc["manifests"][0]["requirements"][0]["signatures"][0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn split_trust_material_is_judged_as_one_keyring() {
    let lab = lab();
    let work = tempdir();
    let dir = work.path();
    let s = Signer::new(lab, dir, "split", false);
    let other = Signer::new(lab, dir, "other", false);

    // The armored key, then the revocation certificate: two armored blocks in one file.
    let key_and_rev = dir.join("split-and-rev.asc");
    let mut both = Cert::from_bytes(&std::fs::read(&s.public).unwrap())
        .unwrap()
        .armored()
        .to_vec()
        .unwrap();
    both.extend_from_slice(&std::fs::read(&s.gpg_rev).unwrap());
    std::fs::write(&key_and_rev, &both).unwrap();
    let uid_rev = armored(&dir.join("split-uid.rev"), &[s.user_id_revocation()]);

    // (name, key files, skopeo accepts, imgsig accepts, imgsig's reason when rejecting)
    let cases: Vec<(&str, Vec<&Path>, bool, bool, &str)> = vec![
        ("key alone", vec![&s.public], true, true, ""),
        (
            "key, then its revocation certificate",
            vec![&s.public, &s.gpg_rev],
            false,
            false,
            "revoked-key",
        ),
        // gpg applies a revocation only to a key imported before it: deliberate difference.
        (
            "revocation certificate, then the key",
            vec![&s.gpg_rev, &s.public],
            true,
            false,
            "revoked-key",
        ),
        (
            "key and revocation as two armored blocks of one file",
            vec![&key_and_rev],
            false,
            false,
            "revoked-key",
        ),
        (
            "another key's revocation certificate",
            vec![&s.public, &other.gpg_rev],
            true,
            true,
            "",
        ),
        (
            "a user ID revocation in a second file",
            vec![&s.public, &uid_rev],
            true,
            true,
            "",
        ),
    ];
    let mut failures = Vec::new();
    for (i, (name, files, theirs_expected, ours_expected, reason)) in cases.iter().enumerate() {
        let p = policy(dir, &format!("case-{i}"), lab, files);
        let theirs = skopeo_accepts(lab, dir, &p, &s.signature);
        let (ours, doc) = imgsig_verdict(lab, &p, &s.signature);
        if theirs != *theirs_expected {
            failures.push(format!("{name}: skopeo accepts={theirs}, expected {theirs_expected}"));
        }
        if ours != *ours_expected {
            failures.push(format!(
                "{name}: imgsig accepts={ours}, expected {ours_expected}: {doc}"
            ));
        } else if !ours && signature_reason(&doc) != *reason {
            failures.push(format!(
                "{name}: imgsig reason {:?}, expected {reason}",
                signature_reason(&doc)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Subkey material split across files. skopeo 1.9.3 verifies no subkey
/// signature, so these are imgsig's verdicts alone (docs/policy.md).
#[test]
fn subkey_material_split_across_files() {
    let lab = lab();
    let work = tempdir();
    let dir = work.path();
    let s = Signer::new(lab, dir, "sub", true);
    let subkey_rev = armored(&dir.join("sub-subkey.rev"), &[s.subkey_revocation()]);
    // An older export of the key without its signing subkey.
    let no_subkey = dir.join("sub-nosub.pub");
    let stripped = Cert::from_bytes(&std::fs::read(&s.public).unwrap())
        .unwrap()
        .retain_subkeys(|_| false);
    std::fs::write(&no_subkey, stripped.to_vec().unwrap()).unwrap();
    let cases: Vec<(&str, Vec<&Path>, bool, &str)> = vec![
        ("key alone", vec![&s.public], true, ""),
        // gpg skips a lone subkey revocation: deliberate difference (the safe side).
        (
            "key, then a subkey revocation",
            vec![&s.public, &subkey_rev],
            false,
            "revoked-key",
        ),
        (
            "a subkey revocation, then the key",
            vec![&subkey_rev, &s.public],
            false,
            "revoked-key",
        ),
        (
            "gpg's revocation certificate of the primary key",
            vec![&s.gpg_rev, &s.public],
            false,
            "revoked-key",
        ),
        (
            "an old export without the subkey, then the full key",
            vec![&no_subkey, &s.public],
            true,
            "",
        ),
        (
            "the full key, then an old export without the subkey",
            vec![&s.public, &no_subkey],
            true,
            "",
        ),
        (
            "only the old export without the subkey",
            vec![&no_subkey],
            false,
            "unknown-key",
        ),
    ];
    let mut failures = Vec::new();
    for (i, (name, files, expected, reason)) in cases.iter().enumerate() {
        let p = policy(dir, &format!("sub-{i}"), lab, files);
        let (ours, doc) = imgsig_verdict(lab, &p, &s.signature);
        if ours != *expected {
            failures.push(format!("{name}: imgsig accepts={ours}, expected {expected}: {doc}"));
        } else if !ours && signature_reason(&doc) != *reason {
            failures.push(format!(
                "{name}: imgsig reason {:?}, expected {reason}",
                signature_reason(&doc)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn verify_keyring_files_form_one_keyring() {
    let lab = lab();
    let work = tempdir();
    let dir = work.path();
    let s = Signer::new(lab, dir, "kr", false);
    let verify = |keyrings: &[&Path]| {
        let mut c = imgsig();
        c.arg("verify");
        for k in keyrings {
            c.arg("--keyring").arg(k);
        }
        c.args(["--identity", lab.var("LAB_IMG_APP1"), "--manifest"])
            .arg(lab.path("LAB_MANIFESTS").join("lab_app_1.0.json"))
            .arg(&s.signature);
        run(&mut c)
    };
    assert_eq!(verify(&[&s.public]).status.code(), Some(0));
    for order in [[&s.public, &s.gpg_rev], [&s.gpg_rev, &s.public]] {
        let o = verify(&[order[0].as_path(), order[1].as_path()]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("[revoked-key]"), "{}", stderr(&o));
    }
    // A keyring of revocations only trusts nothing: unusable input.
    let o = verify(&[&s.gpg_rev]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("revocation"), "{}", stderr(&o));
}

#[test]
fn policy_check_names_the_file_that_revokes_a_key() {
    let lab = lab();
    let work = tempdir();
    let dir = work.path();
    let s = Signer::new(lab, dir, "lint", false);
    let p = policy(dir, "lint", lab, &[&s.public, &s.gpg_rev]);
    let o = run(imgsig().args(["policy", "check", "--output", "json"]).arg(&p));
    let doc = json(&o);
    let text = doc.to_string();
    let revoked = doc["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings: {text}"))
        .iter()
        .find(|f| f["code"] == "revoked-key")
        .unwrap_or_else(|| panic!("no revoked-key finding: {text}"));
    let message = revoked["message"].as_str().unwrap();
    assert!(message.contains(&s.fpr) && message.contains("lint.rev"), "{message}");
    // The revocation file itself is not reported as a file without keys.
    assert!(!text.contains("key-file-no-keys"), "{text}");
}

#[test]
fn trust_set_refuses_a_file_of_revocations_alone() {
    let lab = lab();
    let work = tempdir();
    let dir = work.path();
    let s = Signer::new(lab, dir, "ts", false);
    let p = dir.join("policy.json");
    std::fs::write(&p, r#"{"default":[{"type":"insecureAcceptAnything"}]}"#).unwrap();
    let set = |files: &[&Path]| {
        let mut c = imgsig();
        c.args(["trust", "set", "--policy"])
            .arg(&p)
            .args(["--type", "signedBy"]);
        for f in files {
            c.arg("-f").arg(f);
        }
        run(c.arg("registry.example.com/ns"))
    };
    let o = set(&[&s.public, &s.gpg_rev]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("only 1 revocation signature") && err.contains("hint:"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        "the policy is left as it was"
    );
    // The key with its revocation appended, as the hint says: accepted as a
    // requirement, and imgsig rejects the key's signatures.
    let revoked = dir.join("ts-revoked.asc");
    let mut bytes = Cert::from_bytes(&std::fs::read(&s.public).unwrap())
        .unwrap()
        .armored()
        .to_vec()
        .unwrap();
    bytes.extend(std::fs::read(&s.gpg_rev).unwrap());
    std::fs::write(&revoked, &bytes).unwrap();
    let o = set(&[&revoked]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
