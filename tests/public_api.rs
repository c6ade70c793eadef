//! A small program using the three pipelines from outside the crate, with
//! the public API only, as an air-gapped site's tooling would: `fetch` an
//! image (signed by the vendor, Alice, in the peer lab's lookaside) into a
//! mirror, `sign` it there with the site's own key, and `verify` it offline
//! against a policy that needs both signatures ("vendor AND our own key").

mod common;

use std::time::{Duration, SystemTime};

use common::{lab, tempdir};
use imgsig::digest::Digest;
use imgsig::fetch::{Fetcher, Options as FetchOptions, Request as FetchRequest};
use imgsig::policy::{self, ParseOptions};
use imgsig::reference::DockerReference;
use imgsig::registry::auth_file::AuthEnv;
use imgsig::registry::network::{Network, NetworkConfig};
use imgsig::registry::registries_conf::RegistriesConf;
use imgsig::sign::{Destination, Outcome, Request as SignRequest, Signer, Signing};
use imgsig::store::mirror::Mirror;
use imgsig::store::registries_d::{BuiltinDefault, RegistriesD};
use imgsig::verify::{ImageSource, Request as VerifyRequest, SignatureSource, Trust, Verifier};

/// `registry` requires a signature by each of `keys` (files), and nothing else is accepted.
fn policy_requiring(registry: &str, keys: &[&str]) -> policy::Policy {
    let reqs: Vec<String> = keys
        .iter()
        .map(|k| format!(r#"{{"type": "signedBy", "keyType": "GPGKeys", "keyPath": {k:?}}}"#))
        .collect();
    let text = format!(
        r#"{{"default": [{{"type": "reject"}}], "transports": {{"docker": {{{registry:?}: [{}]}}}}}}"#,
        reqs.join(", ")
    );
    policy::parse(text.as_bytes(), &ParseOptions::default()).expect("policy")
}

#[test]
fn fetch_sign_and_verify_through_the_public_api() {
    let lab = lab();
    let dir = tempdir();
    let root = dir.path().join("mirror");
    let image = DockerReference::parse_docker_transport(lab.var("LAB_IMG_APP1")).unwrap();

    // fetch: the image and the vendor's signature, into the mirror.
    let network = Network::new(NetworkConfig {
        registries_d: RegistriesD::load_dir(lab.var("LAB_REGISTRIES_D").as_ref()).unwrap(),
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
    });
    let mirror = Mirror::create(&root).unwrap();
    let fetched = Fetcher::new(&network, &mirror, FetchOptions::default()).fetch(&FetchRequest::new(image.clone()));
    assert!(fetched.error.is_none(), "{:?}", fetched.error);
    let digest: Digest = fetched.digest.clone().expect("resolved");
    assert_eq!(digest.to_string(), lab.var("LAB_IMG_APP1_DIGEST"));

    // sign: the site's own key, into the same mirror, no network.
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let key = std::fs::read(format!("{examples}/demo-signer.secret.asc")).unwrap();
    let signer = Signer::key_file(&key, None, "demo-signer", SystemTime::now()).unwrap();
    let signed = Signing::new(&signer, None)
        .sign(&SignRequest::digest(digest.clone(), image.clone(), Destination::LookasideDir(root.clone())).unwrap());
    assert!(signed.error.is_none(), "{:?}", signed.error);
    assert!(
        matches!(&signed.entries[0].outcome, Outcome::Written { at } if at.ends_with("/signature-2")),
        "the vendor's signature is signature-1: {:?}",
        signed.entries[0].outcome
    );

    // inspect: what our new signature says, and that our key verifies it.
    let Outcome::Written { at } = &signed.entries[0].outcome else {
        unreachable!()
    };
    let mut ours_keyring = imgsig::pgp::Keyring::new();
    ours_keyring
        .add_keyring_bytes(&std::fs::read(format!("{examples}/demo-signer.pub.asc")).unwrap())
        .unwrap();
    let seen = imgsig::inspect::Inspection::new(
        at.clone(),
        Ok(std::fs::read(at).unwrap()),
        Some(&ours_keyring),
        SystemTime::now(),
    );
    assert!(!seen.failed() && seen.verified().is_some(), "{seen:?}");
    let doc = serde_json::to_value(imgsig::inspect::document(&[], Vec::new(), &[seen])).unwrap();
    assert_eq!(doc["signatures"][0]["verified"], true, "{doc}");

    // verify: offline, from the mirror, by tag.
    let verify = |p: policy::Policy| {
        let trust = Trust::Policy(p);
        Verifier::new(&trust, None, Default::default())
            .verify(&VerifyRequest {
                image: ImageSource::Mirror {
                    root: root.clone(),
                    reference: image.clone(),
                },
                signatures: SignatureSource::MirrorImage,
            })
            .expect("verified")
    };
    let registry = lab.var("LAB_REGISTRY");
    let ours = format!("{examples}/demo-signer.pub.asc");
    let both = verify(policy_requiring(registry, &[lab.var("LAB_ALICE_PUB"), &ours]));
    assert!(both.accepted, "{both:?}");
    assert_eq!(
        both.verified_reference.as_deref(),
        Some(format!("{}/lab/app@{digest}", registry).as_str())
    );
    // Bob never signed: a policy that needs him too rejects the image.
    let three = verify(policy_requiring(
        registry,
        &[lab.var("LAB_ALICE_PUB"), &ours, lab.var("LAB_BOB_PUB")],
    ));
    assert!(!three.accepted, "{three:?}");

    // Many images at once, concurrently, results in input order: the mirror's
    // image by tag and by digest (accepted), an image the mirror lacks (an
    // error), and a line that is not a reference (the caller's own result).
    let trust = Trust::Policy(policy_requiring(registry, &[lab.var("LAB_ALICE_PUB"), &ours]));
    let verifier = Verifier::new(&trust, None, Default::default());
    let by_digest = format!("{registry}/lab/app@{digest}");
    let lines = [
        lab.var("LAB_IMG_APP1").to_owned(),
        "not a reference!".to_owned(),
        format!("{registry}/lab/absent:1.0"),
        by_digest,
    ];
    let mut seen = Vec::new();
    verifier.verify_each(
        &lines,
        4,
        |line| {
            let reference = DockerReference::parse_normalized(line).map_err(|_| format!("{line}: invalid"))?;
            Ok(VerifyRequest {
                image: ImageSource::Mirror {
                    root: root.clone(),
                    reference,
                },
                signatures: SignatureSource::MirrorImage,
            })
        },
        |line, outcome| match outcome {
            Ok(report) => format!("{line}: accepted={}", report.accepted),
            Err(e) => format!("{line}: error {}", e.code),
        },
        |r| seen.push(r),
    );
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(seen[0], format!("{}: accepted=true", lines[0]));
    assert_eq!(seen[1], "not a reference!: invalid");
    assert!(seen[2].starts_with(&format!("{}: error ", lines[2])), "{seen:?}");
    assert_eq!(seen[3], format!("{}: accepted=true", lines[3]));
}
