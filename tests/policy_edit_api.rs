//! The policy editing API as an embedder uses it (`imgsig::policy::edit`):
//! write a policy with it, then verify images against that policy with
//! `imgsig::verify` (the lab's image, signed with gpg): the verdicts follow
//! the edits, and a refused edit leaves the file untouched.

mod common;

use std::path::{Path, PathBuf};

use common::Lab;

use imgsig::policy::edit::{self, NewRequirement, Target};
use imgsig::policy::{self, ParseOptions};
use imgsig::reference::DockerReference;
use imgsig::verify::{ErrorClass, ImageSource, Options, Request, SignatureFile, SignatureSource, Trust, Verifier};
use imgsig::Reason;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cmd/fixtures")
}

/// Verify the lab's `app:1.0` (signed by alice, with gpg) from its
/// manifest and signature files against the policy file.
fn accepted(lab: &Lab, policy_file: &Path, identity: &str) -> bool {
    let bytes = std::fs::read(policy_file).unwrap();
    let policy = policy::parse(&bytes, &ParseOptions::default()).unwrap();
    let trust = Trust::Policy(policy);
    let report = Verifier::new(&trust, None, Options::default())
        .verify(&Request {
            image: ImageSource::Manifest {
                bytes: std::fs::read(lab.path("LAB_MANIFESTS").join("lab_app_1.0.json")).unwrap(),
                identity: DockerReference::parse_docker_transport(identity).unwrap(),
                origin: "lab_app_1.0.json".into(),
            },
            signatures: SignatureSource::Files(vec![SignatureFile::Path(lab.var("LAB_SIG_APP1_ALICE").into())]),
        })
        .unwrap();
    report.accepted
}

#[test]
fn a_policy_written_with_the_api_verifies_with_it() {
    let lab = common::lab();
    let app = lab.var("LAB_IMG_APP1");
    let repo = format!("{}/lab/app", lab.var("LAB_REGISTRY"));
    let dir = common::tempdir();
    let file = dir.path().join("policy.json");

    // A scope before the default exists: refused, nothing written.
    let scope = Target::parse(&repo).unwrap();
    let key = NewRequirement::signed_by_key_file(Path::new(lab.var("LAB_ALICE_PUB"))).unwrap();
    let e = edit::set_requirements(&file, &scope, std::slice::from_ref(&key)).unwrap_err();
    assert_eq!((e.code, e.class), (Reason::NoDefaultPolicy, ErrorClass::Input));
    assert_eq!(e.code.as_str(), "no-default-policy");
    assert!(!file.exists());

    let done = edit::set_requirements(&file, &Target::DEFAULT, &[NewRequirement::reject()]).unwrap();
    assert!(done.created);
    assert_eq!(done.placement.path, "default");
    let done = edit::set_requirements(&file, &scope, &[key]).unwrap();
    assert!(!done.created && !done.placement.replaced);
    assert_eq!(done.placement.transport.as_deref(), Some("docker"));

    // The signed image is accepted in its repository; bob's key alone does not accept it.
    assert!(accepted(lab, &file, app));
    let bob = NewRequirement::signed_by_key_file(Path::new(lab.var("LAB_BOB_PUB"))).unwrap();
    edit::set_requirements(&file, &scope, &[bob]).unwrap();
    assert!(!accepted(lab, &file, app));

    // Step by step: open, set, look at the text, write.
    let mut opened = edit::PolicyFile::open(&file).unwrap();
    assert!(opened.exists());
    let placement = opened.set(&scope, &[NewRequirement::accept()]).unwrap();
    assert!(placement.replaced);
    let want = format!("\"{repo}\": [\n                {{\n                    \"type\": \"insecureAcceptAnything\"");
    assert!(opened.text().contains(&want), "{}", opened.text());
    opened.write().unwrap();
    assert!(accepted(lab, &file, app));

    // The entries as `trust show` lists them.
    let bytes = std::fs::read(&file).unwrap();
    let policy = policy::parse(&bytes, &ParseOptions::default()).unwrap();
    let rows = edit::entries(&policy, &imgsig::store::registries_d::RegistriesD::empty());
    let rows: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|e| (e.transport.as_str(), e.name.as_str(), e.type_name))
        .collect();
    assert_eq!(
        rows,
        [("all", "default", "reject"), ("docker", repo.as_str(), "accept")]
    );
}

#[test]
fn refused_edits_say_why_and_write_nothing() {
    let e = Target::parse("busybox").unwrap_err();
    assert_eq!(e.code, Reason::InvalidScope);
    assert!(
        e.message.starts_with("invalid scope \"busybox\": a short name"),
        "{}",
        e.message
    );

    let e = NewRequirement::signed_by_key_file(&fixtures().join("image.manifest.json")).unwrap_err();
    assert_eq!(e.code, Reason::InvalidKeyring);

    let dir = common::tempdir();
    let file = dir.path().join("policy.json");
    let text = r#"{"default":[{"type":"reject"}],"default":[]}"#;
    std::fs::write(&file, text).unwrap();
    let e = edit::PolicyFile::open(&file).unwrap_err();
    assert_eq!(e.code, Reason::InvalidPolicy);
    assert!(e.message.contains("duplicate key at default"), "{}", e.message);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}
