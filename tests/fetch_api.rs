//! `imgsig::fetch` used as a library, from outside the crate, as an embedder
//! would: fetch an image (a multi-platform one) from the peer lab's real
//! registry and lookaside into a mirror, fetch it again (nothing new), then
//! verify it from the mirror with `imgsig::verify` and no network.

mod common;

use std::time::{Duration, SystemTime};

use common::{lab, tempdir};
use imgsig::fetch::{Fetcher, Options, Request};
use imgsig::policy::{self, ParseOptions};
use imgsig::reference::DockerReference;
use imgsig::registry::auth_file::AuthEnv;
use imgsig::registry::network::{Network, NetworkConfig};
use imgsig::registry::registries_conf::RegistriesConf;
use imgsig::store::mirror::Mirror;
use imgsig::store::registries_d::{BuiltinDefault, RegistriesD};
use imgsig::verify::{ImageSource, Request as VerifyRequest, Role, SignatureSource, Trust, Verifier};

/// The lab's registries.d (its lookaside), plain HTTP, nothing from the environment.
fn lab_network() -> Network {
    let lab = lab();
    Network::new(NetworkConfig {
        registries_d: RegistriesD::load_dir(lab.var("LAB_REGISTRIES_D").as_ref()).expect("lab registries.d"),
        registries_conf: Ok(RegistriesConf::default()),
        builtin: BuiltinDefault {
            is_root: false,
            home: None,
        },
        lookaside: None,
        creds: None,
        auth: AuthEnv::default(),
        cert_dir: None,
        home: None,
        tls_verify: Some(false),
        timeout: Duration::from_secs(30),
    })
}

#[test]
fn fetch_into_a_mirror_then_verify_from_it_through_the_library() {
    let lab = lab();
    let dir = tempdir();
    let root = dir.path().join("mirror");
    let network = lab_network();
    let mirror = Mirror::create(&root).expect("mirror");
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let fetcher = Fetcher::new(&network, &mirror, Options::at(when));
    let multi = lab.var("LAB_IMG_MULTI");
    let req = Request::parse(&format!("docker://{multi}")).expect("a reference");

    let first = fetcher.fetch(&req);
    assert!(first.error.is_none(), "{:?}", first.error);
    assert_eq!(
        first.digest.as_ref().map(ToString::to_string).as_deref(),
        Some(lab.var("LAB_IMG_MULTI_DIGEST"))
    );
    // The index first, then every instance with its platform.
    assert_eq!(first.manifests[0].role, Role::Index);
    assert!(first.manifests.len() >= 3, "{:?}", first.manifests);
    assert!(first.manifests[1..].iter().all(|m| matches!(m.role, Role::Instance(_))));
    assert!(first.manifests.iter().all(|m| m.stored.manifest_written));
    assert!(
        first.signatures_new() >= first.manifests.len(),
        "every manifest is signed in the lab"
    );
    assert_eq!(first.signatures_present(), 0);
    assert!(!first.unsigned(), "signed in the lab");
    assert!(first.manifests.iter().all(|m| m.looked_in.ends_with("/signature-N")));
    // The tag record, last, with the clock the caller gave.
    let record = first.tag_record.as_ref().expect("a tag record");
    assert_eq!(record.path, root.join("lab/multi@tags/1.0.json"));
    assert_eq!(record.previous, None);
    let rec: serde_json::Value = serde_json::from_slice(&std::fs::read(&record.path).unwrap()).unwrap();
    assert_eq!(rec["fetched_at"], 1_800_000_000);

    // Again: nothing new is written, and the report says what was there.
    let again = fetcher.fetch(&req);
    assert!(again.error.is_none(), "{:?}", again.error);
    assert_eq!(again.signatures_new(), 0);
    assert_eq!(again.signatures_present(), first.signatures_new());
    assert!(again.manifests.iter().all(|m| !m.stored.manifest_written));
    assert_eq!(
        again.tag_record.as_ref().and_then(|r| r.previous.as_ref()),
        first.digest.as_ref()
    );
    assert_eq!(again.tag_moved(), None, "the same digest: not moved");

    // Verify from the mirror by tag, without a network.
    let policy = policy::parse(
        &std::fs::read(lab.var("LAB_POLICY_ALICE")).unwrap(),
        &ParseOptions::default(),
    )
    .expect("lab policy");
    let trust = Trust::Policy(policy);
    let verifier = Verifier::new(&trust, None, Default::default());
    let report = verifier
        .verify(&VerifyRequest {
            image: ImageSource::Mirror {
                root: root.clone(),
                reference: DockerReference::parse_docker_transport(multi).unwrap(),
            },
            signatures: SignatureSource::MirrorImage,
        })
        .expect("verified");
    assert!(report.accepted, "{report:?}");
}

#[test]
fn an_unusable_reference_is_an_input_error_and_a_missing_image_writes_nothing() {
    let e = Request::parse("docker://Upper/Case:1").expect_err("invalid");
    assert_eq!(e.code, "invalid-reference");
    assert_eq!(e.class, imgsig::verify::ErrorClass::Input);

    let lab = lab();
    let dir = tempdir();
    let root = dir.path().join("mirror");
    let network = lab_network();
    let mirror = Mirror::create(&root).expect("mirror");
    let fetcher = Fetcher::new(&network, &mirror, Options::default());
    let registry = lab.var("LAB_REGISTRY");
    let report = fetcher.fetch(&Request::parse(&format!("docker://{registry}/lab/absent:1.0")).unwrap());
    let e = report.error.as_ref().expect("not found");
    assert_eq!(e.class, imgsig::verify::ErrorClass::Input, "{e:?}");
    assert!(report.manifests.is_empty());
    assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0, "nothing written");
}
