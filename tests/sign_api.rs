//! The signing pipeline through the public library API, as a program that
//! embeds imgsig would use it: a manifest file signed with a key file into
//! a lookaside directory, then checked by real skopeo (the peer lab); and
//! signing again adds nothing.

mod common;

use std::time::SystemTime;

use common::{lab, run, stderr, stdout, tempdir};
use imgsig::reference::DockerReference;
use imgsig::sign::{Destination, Outcome, Request, Role, Signer, Signing};

#[test]
fn manifest_signed_into_a_lookaside_dir_verifies_with_skopeo() {
    let lab = lab();
    let dir = tempdir();
    let key = lab.export_secret_key(lab.var("LAB_ALICE_FPR"), dir.path(), "alice.sec");
    let root = dir.path().join("sigstore");
    let manifest_path = lab.path("LAB_MANIFESTS").join("lab_app_1.0.json");
    let manifest = std::fs::read(&manifest_path).unwrap();
    let identity = DockerReference::parse_normalized(lab.var("LAB_IMG_APP1")).unwrap();

    let signer = Signer::key_file(&std::fs::read(&key).unwrap(), None, "alice", SystemTime::now()).unwrap();
    let request = Request::manifest(&manifest, identity.clone(), Destination::LookasideDir(root.clone())).unwrap();
    let signing = Signing::new(&signer, None);
    let report = signing.sign(&request);
    assert!(report.error.is_none(), "{:?}", report.error);
    assert_eq!(report.entries.len(), 1);
    let entry = &report.entries[0];
    assert_eq!(entry.manifest_digest.to_string(), lab.var("LAB_IMG_APP1_DIGEST"));
    assert_eq!(entry.role, Role::Image);
    assert_eq!(entry.by.primary_fingerprint, lab.var("LAB_ALICE_FPR"));
    let Outcome::Written { at } = &entry.outcome else {
        panic!("not written: {:?}", entry.outcome)
    };
    let hex = lab.var("LAB_IMG_APP1_DIGEST").strip_prefix("sha256:").unwrap();
    let expected = root.join(format!("lab/app@sha256={hex}/signature-1"));
    assert_eq!(at, &expected.display().to_string());
    assert_eq!(std::fs::read(&expected).unwrap(), entry.signature.clone().unwrap());

    let o = run(lab
        .cmd("skopeo")
        .arg("standalone-verify")
        .arg(&manifest_path)
        .args([lab.var("LAB_IMG_APP1"), lab.var("LAB_ALICE_FPR")])
        .arg(&expected));
    assert!(o.status.success(), "skopeo standalone-verify failed: {}", stderr(&o));
    assert!(stdout(&o).starts_with("Signature verified"), "{}", stdout(&o));

    // A digest is signed as asked (no already-signed check): a second
    // signature, the next free N; never an overwrite.
    let again = signing.sign(&request);
    assert!(again.error.is_none(), "{:?}", again.error);
    assert!(matches!(&again.entries[0].outcome, Outcome::Written { at } if at.ends_with("/signature-2")));
    assert_eq!(std::fs::read(&expected).unwrap(), entry.signature.clone().unwrap());
}

#[test]
fn unusable_requests_and_keys_carry_codes() {
    let identity = DockerReference::parse_normalized("registry.example.com/ns/app:1.0").unwrap();
    let e = Request::manifest(b"{\"a\":1,\"a\":2}", identity.clone(), Destination::Caller).unwrap_err();
    assert_eq!(e.class, imgsig::sign::ErrorClass::Input);
    assert_eq!(e.code, "manifest-duplicate-member");
    let e = Request::image("docker://Bad/Ref", None, Destination::Registry).unwrap_err();
    assert_eq!(e.code, "invalid-reference");
    let public = std::fs::read(common::repo().join("examples/demo-signer.pub.asc")).unwrap();
    let e = Signer::key_file(&public, None, "key file demo", SystemTime::now()).unwrap_err();
    assert_eq!(e.code, "not-a-secret-key");
    assert!(e.message.starts_with("key file demo: "), "{}", e.message);
}
