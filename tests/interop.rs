//! Interoperability with the reference stack, both ways, using the peer lab:
//! real skopeo 1.9.3 (containers/image + gpgme), real GnuPG, a real
//! docker-registry and a real HTTP lookaside on 127.0.0.1.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_exit, imgsig, json, lab, run, stderr, stdout, tempdir, Lab};

/// The manifest of lab/app:1.0 exactly as the registry serves it.
fn app1_manifest(lab: &Lab) -> PathBuf {
    lab.path("LAB_MANIFESTS").join("lab_app_1.0.json")
}

fn verify(keyring: &Path, identity: &str, manifest: &Path, sigs: &[&Path]) -> std::process::Output {
    let mut c = imgsig();
    c.args(["verify", "--output", "json", "--keyring"])
        .arg(keyring)
        .args(["--identity", identity, "--manifest"])
        .arg(manifest);
    c.args(sigs);
    run(&mut c)
}

#[track_caller]
fn assert_rejected_with(o: &std::process::Output, reason: &str) {
    assert_exit(o, 1);
    let doc = json(o);
    assert_eq!(doc["verdict"], "rejected");
    assert_eq!(doc["verified_reference"], serde_json::Value::Null);
    let reasons: Vec<&str> = doc["manifests"][0]["requirements"][0]["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reason"].as_str().unwrap_or(""))
        .collect();
    assert!(
        reasons.contains(&reason),
        "expected reason {reason}, got {reasons:?}\n{}",
        stderr(o)
    );
}

#[test]
fn skopeo_rsa_signature_from_lookaside_verifies() {
    let lab = lab();
    let o = verify(
        &lab.path("LAB_ALICE_PUB"),
        lab.var("LAB_IMG_APP1"),
        &app1_manifest(lab),
        &[&lab.path("LAB_SIG_APP1_ALICE")],
    );
    assert_exit(&o, 0);
    let doc = json(&o);
    assert_eq!(doc["verdict"], "accepted");
    assert_eq!(doc["manifest_digest"], lab.var("LAB_IMG_APP1_DIGEST"));
    let sig = &doc["manifests"][0]["requirements"][0]["signatures"][0];
    assert_eq!(sig["signer"]["primary_fingerprint"], lab.var("LAB_ALICE_FPR"));
    assert_eq!(sig["signed_identity"], lab.var("LAB_IMG_APP1"));
    assert_eq!(sig["creator"], "atomic 5.23.1");
    let expected = format!("{}/lab/app@{}", lab.var("LAB_REGISTRY"), lab.var("LAB_IMG_APP1_DIGEST"));
    assert_eq!(doc["verified_reference"], expected.as_str());
}

#[test]
fn skopeo_ed25519_signature_verifies_with_armored_key() {
    let lab = lab();
    let sig = lab.path("LAB_SIGNATURES").join("app-1.0.bob.sig");
    let o = verify(
        &lab.path("LAB_BOB_ASC"),
        lab.var("LAB_IMG_APP1"),
        &app1_manifest(lab),
        &[&sig],
    );
    assert_exit(&o, 0);
    assert_eq!(
        json(&o)["manifests"][0]["requirements"][0]["signatures"][0]["signer"]["primary_fingerprint"],
        lab.var("LAB_BOB_FPR")
    );
}

#[test]
fn human_mode_prints_verified_reference_on_stdout() {
    let lab = lab();
    let mut c = imgsig();
    c.args(["verify", "--keyring"])
        .arg(lab.path("LAB_ALICE_PUB"))
        .args(["--identity", lab.var("LAB_IMG_APP1"), "--manifest"])
        .arg(app1_manifest(lab))
        .arg(lab.path("LAB_SIG_APP1_ALICE"));
    let o = run(&mut c);
    assert_exit(&o, 0);
    assert_eq!(
        stdout(&o),
        format!(
            "{}/lab/app@{}\n",
            lab.var("LAB_REGISTRY"),
            lab.var("LAB_IMG_APP1_DIGEST")
        )
    );
    assert!(stderr(&o).contains("accepted"), "{}", stderr(&o));
}

#[test]
fn wrong_digest_is_rejected() {
    let lab = lab();
    // lab/app:2.0's manifest with app:1.0's signature.
    let other = lab.path("LAB_MANIFESTS").join("lab_app_2.0.json");
    let o = verify(
        &lab.path("LAB_ALICE_PUB"),
        lab.var("LAB_IMG_APP1"),
        &other,
        &[&lab.path("LAB_SIG_APP1_ALICE")],
    );
    assert_rejected_with(&o, "digest-mismatch");
    assert!(stderr(&o).contains(lab.var("LAB_IMG_APP1_DIGEST")), "{}", stderr(&o));
}

#[test]
fn modified_manifest_is_rejected() {
    let lab = lab();
    let dir = tempdir();
    let mut bytes = std::fs::read(app1_manifest(lab)).unwrap();
    bytes.push(b'\n');
    let m = dir.path().join("m.json");
    std::fs::write(&m, bytes).unwrap();
    let o = verify(
        &lab.path("LAB_ALICE_PUB"),
        lab.var("LAB_IMG_APP1"),
        &m,
        &[&lab.path("LAB_SIG_APP1_ALICE")],
    );
    assert_rejected_with(&o, "digest-mismatch");
}

#[test]
fn wrong_identity_is_rejected() {
    let lab = lab();
    let other = format!("{}/lab/app:9.9", lab.var("LAB_REGISTRY"));
    let o = verify(
        &lab.path("LAB_ALICE_PUB"),
        &other,
        &app1_manifest(lab),
        &[&lab.path("LAB_SIG_APP1_ALICE")],
    );
    assert_rejected_with(&o, "identity-mismatch");
}

#[test]
fn unknown_key_is_rejected() {
    let lab = lab();
    // Signed by alice, but only bob is trusted.
    let o = verify(
        &lab.path("LAB_BOB_PUB"),
        lab.var("LAB_IMG_APP1"),
        &app1_manifest(lab),
        &[&lab.path("LAB_SIG_APP1_ALICE")],
    );
    assert_rejected_with(&o, "unknown-key");
}

#[test]
fn expired_key_is_rejected() {
    let lab = lab();
    let sig = lab.path("LAB_SIGNATURES").join("app-1.0.expired.sig");
    let o = verify(
        &lab.path("LAB_EXPIRED_PUB"),
        lab.var("LAB_IMG_APP1"),
        &app1_manifest(lab),
        &[&sig],
    );
    assert_rejected_with(&o, "expired-key");
    assert!(
        stderr(&o).contains(lab.var("LAB_EXPIRED_FPR")),
        "names the key: {}",
        stderr(&o)
    );
}

#[test]
fn revoked_key_is_rejected() {
    let lab = lab();
    let sig = lab.path("LAB_SIGNATURES").join("app-1.0.revoked.sig");
    let o = verify(
        &lab.path("LAB_REVOKED_PUB"),
        lab.var("LAB_IMG_APP1"),
        &app1_manifest(lab),
        &[&sig],
    );
    assert_rejected_with(&o, "revoked-key");
}

#[test]
fn truncated_signature_is_rejected() {
    let lab = lab();
    let dir = tempdir();
    let bytes = std::fs::read(lab.path("LAB_SIG_APP1_ALICE")).unwrap();
    for cut in [bytes.len() - 1, bytes.len() / 2, 10, 1] {
        let p = dir.path().join(format!("cut-{cut}"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let o = verify(
            &lab.path("LAB_ALICE_PUB"),
            lab.var("LAB_IMG_APP1"),
            &app1_manifest(lab),
            &[&p],
        );
        assert_exit(&o, 1);
        assert_eq!(json(&o)["verdict"], "rejected", "cut at {cut}");
    }
}

#[test]
fn second_signer_in_one_message_is_rejected() {
    let lab = lab();
    let dir = tempdir();
    // gpg signs the same claim with alice and bob in one message.
    let payload = run(lab
        .cmd("gpg")
        .args(["--batch", "--decrypt"])
        .arg(lab.path("LAB_SIG_APP1_ALICE")))
    .stdout;
    let claim = dir.path().join("claim.json");
    std::fs::write(&claim, payload).unwrap();
    let two = dir.path().join("two.sig");
    let o = run(lab
        .cmd("gpg")
        .args([
            "--batch",
            "--yes",
            "--sign",
            "-u",
            lab.var("LAB_ALICE_FPR"),
            "-u",
            lab.var("LAB_BOB_FPR"),
            "-o",
        ])
        .arg(&two)
        .arg(&claim));
    assert!(o.status.success(), "gpg --sign: {}", stderr(&o));
    let both = lab.path("LAB_DIR").join("keys/alice-bob.gpg");
    let o = verify(&both, lab.var("LAB_IMG_APP1"), &app1_manifest(lab), &[&two]);
    assert_rejected_with(&o, "multiple-signatures");
}

#[test]
fn one_valid_signature_among_bad_ones_accepts() {
    let lab = lab();
    let bob = lab.path("LAB_SIGNATURES").join("app-1.0.bob.sig");
    let o = verify(
        &lab.path("LAB_ALICE_PUB"),
        lab.var("LAB_IMG_APP1"),
        &app1_manifest(lab),
        &[&bob, &lab.path("LAB_SIG_APP1_ALICE")],
    );
    assert_exit(&o, 0);
    let doc = json(&o);
    assert_eq!(
        doc["manifests"][0]["requirements"][0]["signatures"][0]["verdict"],
        "rejected"
    );
    assert_eq!(
        doc["manifests"][0]["requirements"][0]["signatures"][0]["reason"],
        "unknown-key"
    );
    assert_eq!(
        doc["manifests"][0]["requirements"][0]["signatures"][1]["verdict"],
        "accepted"
    );
}

/// imgsig signs with alice's key (exported from the lab's GnuPG home).
fn imgsig_sign_alice(lab: &Lab, dir: &Path, identity: &str) -> PathBuf {
    let key = lab.export_secret_key(lab.var("LAB_ALICE_FPR"), dir, "alice.sec");
    let sig = dir.join("imgsig.sig");
    let o = run(imgsig()
        .args(["sign", "--key"])
        .arg(&key)
        .args(["--identity", identity, "--manifest"])
        .arg(app1_manifest(lab))
        .arg("-o")
        .arg(&sig));
    assert_exit(&o, 0);
    sig
}

#[test]
fn imgsig_signature_passes_skopeo_standalone_verify() {
    let lab = lab();
    let dir = tempdir();
    let sig = imgsig_sign_alice(lab, dir.path(), lab.var("LAB_IMG_APP1"));
    let o = run(lab
        .cmd("skopeo")
        .arg("standalone-verify")
        .arg(app1_manifest(lab))
        .args([lab.var("LAB_IMG_APP1"), lab.var("LAB_ALICE_FPR")])
        .arg(&sig));
    assert!(o.status.success(), "skopeo standalone-verify failed: {}", stderr(&o));
    // skopeo 1.9.3 prints "Signature verified, digest D" (newer versions add the fingerprint).
    assert!(
        stdout(&o).starts_with("Signature verified") && stdout(&o).contains(lab.var("LAB_IMG_APP1_DIGEST")),
        "{}",
        stdout(&o)
    );
    // And skopeo refuses it for another identity: the claim is what we said.
    let other = format!("{}/lab/app:2.0", lab.var("LAB_REGISTRY"));
    let o = run(lab
        .cmd("skopeo")
        .arg("standalone-verify")
        .arg(app1_manifest(lab))
        .args([other.as_str(), lab.var("LAB_ALICE_FPR")])
        .arg(&sig));
    assert!(!o.status.success());
}

#[test]
fn imgsig_signature_passes_gpg_verify_and_carries_the_claim() {
    let lab = lab();
    let dir = tempdir();
    let sig = imgsig_sign_alice(lab, dir.path(), lab.var("LAB_IMG_APP1"));
    let o = run(lab
        .cmd("gpg")
        .args(["--batch", "--status-fd", "1", "--verify"])
        .arg(&sig));
    assert!(o.status.success(), "gpg --verify: {}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("VALIDSIG {}", lab.var("LAB_ALICE_FPR"))),
        "{}",
        stdout(&o)
    );
    let o = run(lab.cmd("gpg").args(["--batch", "--decrypt"]).arg(&sig));
    let claim: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(claim["critical"]["type"], "atomic container signature");
    assert_eq!(
        claim["critical"]["image"]["docker-manifest-digest"],
        lab.var("LAB_IMG_APP1_DIGEST")
    );
    assert_eq!(
        claim["critical"]["identity"]["docker-reference"],
        lab.var("LAB_IMG_APP1")
    );
    assert!(claim["optional"]["creator"].as_str().unwrap().starts_with("imgsig "));
    assert!(claim["optional"]["timestamp"].is_i64());
}

#[test]
fn imgsig_signature_is_accepted_by_skopeo_copy_policy() {
    let lab = lab();
    let dir = tempdir();
    // Sign app:1.0 into a lookaside of our own, then let skopeo enforce alice's policy.
    let sig = imgsig_sign_alice(lab, dir.path(), lab.var("LAB_IMG_APP1"));
    let store = dir.path().join("store");
    let hex = lab.var("LAB_IMG_APP1_DIGEST").trim_start_matches("sha256:");
    let sigdir = store.join(format!("lab/app@sha256={hex}"));
    std::fs::create_dir_all(&sigdir).unwrap();
    std::fs::copy(&sig, sigdir.join("signature-1")).unwrap();
    let regd = dir.path().join("registries.d");
    std::fs::create_dir_all(&regd).unwrap();
    std::fs::write(
        regd.join("test.yaml"),
        format!(
            "docker:\n  {}:\n    lookaside: file://{}\n",
            lab.var("LAB_REGISTRY"),
            store.display()
        ),
    )
    .unwrap();
    let o = run(lab
        .cmd("skopeo")
        .arg("--policy")
        .arg(lab.path("LAB_POLICY_ALICE"))
        .arg("--registries.d")
        .arg(&regd)
        .args(["copy", "--src-tls-verify=false"])
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1")))
        .arg(format!("dir:{}", dir.path().join("copy").display())));
    assert!(
        o.status.success(),
        "skopeo copy --policy rejected imgsig's signature: {}",
        stderr(&o)
    );
}

#[test]
fn imgsig_round_trip_with_its_own_verify() {
    let lab = lab();
    let dir = tempdir();
    let sig = imgsig_sign_alice(lab, dir.path(), lab.var("LAB_IMG_APP1"));
    let o = verify(
        &lab.path("LAB_ALICE_ASC"),
        lab.var("LAB_IMG_APP1"),
        &app1_manifest(lab),
        &[&sig],
    );
    assert_exit(&o, 0);
    let doc = json(&o);
    assert!(doc["manifests"][0]["requirements"][0]["signatures"][0]["creator"]
        .as_str()
        .unwrap()
        .starts_with("imgsig "));
}
