//! `imgsig verify --policy` as admins use it: policies written by
//! `podman image trust set`, multi-party AND policies, dir: images, scope
//! order, key sources, and the report that names every reason.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine;
use common::{assert_exit, fixture, imgsig, json, lab, repo, run, stderr, tempdir, Lab};

fn verify_policy(policy: &Path, identity: &str, manifest: &Path, sigs: &[&Path]) -> std::process::Output {
    let mut c = imgsig();
    c.args(["verify", "--output", "json", "--policy"])
        .arg(policy)
        .args(["--identity", identity, "--manifest"])
        .arg(manifest)
        .args(sigs);
    run(&mut c)
}

fn app1(lab: &Lab) -> PathBuf {
    lab.path("LAB_MANIFESTS").join("lab_app_1.0.json")
}

/// Sign lab/app:1.0 with a secret key file through imgsig.
fn sign_app1(lab: &Lab, key: &Path, out: &Path) {
    let o = run(imgsig()
        .args(["sign", "--key"])
        .arg(key)
        .args(["--identity", lab.var("LAB_IMG_APP1"), "--manifest"])
        .arg(app1(lab))
        .arg("-o")
        .arg(out));
    assert_exit(&o, 0);
}

fn requirement_verdicts(doc: &serde_json::Value) -> Vec<String> {
    doc["manifests"][0]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["verdict"].as_str().unwrap(),
                r["reason"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

#[test]
fn podman_trust_set_policy_requires_both_keys() {
    let lab = lab();
    let dir = tempdir();
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, r#"{"default":[{"type":"insecureAcceptAnything"}]}"#).unwrap();
    let scope = format!("{}/lab", lab.var("LAB_REGISTRY"));
    for args in [
        vec![
            "-t",
            "signedBy",
            "-f",
            lab.var("LAB_ALICE_PUB"),
            "-f",
            lab.var("LAB_BOB_PUB"),
            scope.as_str(),
        ],
        vec!["-t", "reject", "default"],
    ] {
        let o = run(lab
            .cmd("podman")
            .args(["image", "trust", "set", "--policypath"])
            .arg(&policy)
            .args(&args));
        assert!(o.status.success(), "podman image trust set: {}", stderr(&o));
    }
    // lab/app:2.0 carries alice's and bob's signatures in the lookaside.
    let hex2 = lab.var("LAB_IMG_APP2_DIGEST").trim_start_matches("sha256:");
    let sigdir = lab.path("LAB_SIGSTORE").join(format!("lab/app@sha256={hex2}"));
    let m2 = lab.path("LAB_MANIFESTS").join("lab_app_2.0.json");
    let o = run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(&policy)
        .args(["--identity", lab.var("LAB_IMG_APP2"), "--manifest"])
        .arg(&m2)
        .arg("--signatures")
        .arg(&sigdir));
    assert_exit(&o, 0);
    let doc = json(&o);
    assert_eq!(requirement_verdicts(&doc), ["accepted:-", "accepted:-"]);
    assert_eq!(doc["scope"]["scope"], scope.as_str());
    // Each requirement accepted its own party's signature only.
    let r = &doc["manifests"][0]["requirements"];
    assert_eq!(r[0]["signatures"][0]["verdict"], "accepted");
    assert_eq!(r[0]["signatures"][1]["reason"], "unknown-key");
    assert_eq!(r[1]["signatures"][0]["reason"], "unknown-key");
    assert_eq!(r[1]["signatures"][1]["verdict"], "accepted");

    // lab/app:1.0 with only alice's signature: bob's requirement fails.
    let o = verify_policy(
        &policy,
        lab.var("LAB_IMG_APP1"),
        &app1(lab),
        &[&lab.path("LAB_SIG_APP1_ALICE")],
    );
    assert_exit(&o, 1);
    assert_eq!(
        requirement_verdicts(&json(&o)),
        ["accepted:-", "rejected:no-valid-signature"]
    );
    assert!(
        stderr(&o).contains(lab.var("LAB_BOB_FPR")),
        "the report names bob's key: {}",
        stderr(&o)
    );

    // other/tool is under the default: reject.
    let mt = lab.path("LAB_MANIFESTS").join("other_tool_latest.json");
    let o = verify_policy(&policy, lab.var("LAB_IMG_TOOL"), &mt, &[]);
    assert_exit(&o, 1);
    let doc = json(&o);
    assert_eq!(doc["scope"]["matched"], "default");
    assert_eq!(requirement_verdicts(&doc), ["rejected:policy-reject"]);
}

#[test]
fn three_parties_must_all_sign_and_each_counts_once() {
    let lab = lab();
    let dir = tempdir();
    let d = dir.path();
    let alice_sec = lab.export_secret_key(lab.var("LAB_ALICE_FPR"), d, "alice.sec");
    let bob_sec = lab.export_secret_key(lab.var("LAB_BOB_FPR"), d, "bob.sec");
    let ours_sec = repo().join("examples/demo-signer.secret.asc");
    let ours_pub = repo().join("examples/demo-signer.pub.asc");
    let (a, b, c, a2) = (d.join("a"), d.join("b"), d.join("c"), d.join("a2"));
    sign_app1(lab, &alice_sec, &a);
    sign_app1(lab, &bob_sec, &b);
    sign_app1(lab, &ours_sec, &c);
    sign_app1(lab, &alice_sec, &a2);
    let policy = d.join("policy.json");
    let req = |k: &str| format!(r#"{{"type":"signedBy","keyType":"GPGKeys","keyPath":"{k}"}}"#);
    std::fs::write(
        &policy,
        format!(
            r#"{{"default":[{{"type":"reject"}}],"transports":{{"docker":{{"{}/lab/app":[{},{},{}]}}}}}}"#,
            lab.var("LAB_REGISTRY"),
            req(lab.var("LAB_ALICE_PUB")),
            req(lab.var("LAB_BOB_ASC")),
            req(ours_pub.to_str().unwrap())
        ),
    )
    .unwrap();
    let id = lab.var("LAB_IMG_APP1");
    let m = app1(lab);
    let o = verify_policy(&policy, id, &m, &[&a, &b, &c]);
    assert_exit(&o, 0);
    let expected = format!("{}/lab/app@{}", lab.var("LAB_REGISTRY"), lab.var("LAB_IMG_APP1_DIGEST"));
    assert_eq!(json(&o)["verified_reference"], expected.as_str());
    for (sigs, missing) in [(vec![&a, &b], 3), (vec![&b, &c], 1), (vec![&a, &c], 2)] {
        let sigs: Vec<&Path> = sigs.iter().map(|p| p.as_path()).collect();
        let o = verify_policy(&policy, id, &m, &sigs);
        assert_exit(&o, 1);
        let v = requirement_verdicts(&json(&o));
        assert_eq!(v[missing - 1], "rejected:no-valid-signature", "{v:?}");
    }
    // Two alice signatures and bob's: alice's second signature does not stand in for ours.
    let o = verify_policy(&policy, id, &m, &[&a, &a2, &b]);
    assert_exit(&o, 1);
    let doc = json(&o);
    assert_eq!(
        requirement_verdicts(&doc),
        ["accepted:-", "accepted:-", "rejected:no-valid-signature"]
    );
    // Who is missing: the third requirement's key, by user ID and fingerprint, in the
    // final line and as structured fields; alice's and bob's signatures are named as
    // trusted by requirements 1 and 2, not as unknown keys.
    let ours_fpr = doc["manifests"][0]["requirements"][2]["keys"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(ours_fpr.len(), 40, "{doc:#}");
    assert!(
        doc["manifests"][0]["requirements"][2]["keys"][0]["user_ids"][0]
            .as_str()
            .is_some(),
        "{doc:#}"
    );
    let err = stderr(&o);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains("REJECTED")
            && last.contains("requirement 3 (signedBy, needs a signature by")
            && last.contains(&ours_fpr),
        "{last}"
    );
    let sigs = &doc["manifests"][0]["requirements"][2]["signatures"];
    let msg = |i: usize| sigs[i]["message"].as_str().unwrap_or_default().to_owned();
    assert!(
        msg(0).contains("requirement 1 trusts but this requirement does not"),
        "{}",
        msg(0)
    );
    assert!(
        msg(2).contains("requirement 2 trusts but this requirement does not"),
        "{}",
        msg(2)
    );
    assert!(msg(2).contains(lab.var("LAB_BOB_FPR")), "{}", msg(2));
    assert!(!msg(0).contains("not among the trusted keys"), "{}", msg(0));
    // One wording, from one place: the requirement's own message quotes its
    // signatures' rejections as the signature lines give them.
    let req = doc["manifests"][0]["requirements"][2]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        req.contains("requirement 1 trusts but this requirement does not")
            && req.contains("requirement 2 trusts but this requirement does not")
            && !req.contains("not among the trusted keys"),
        "{req}"
    );
    let line = err
        .lines()
        .find(|l| l.starts_with("imgsig: requirement 3/3"))
        .unwrap_or_default();
    assert!(!line.contains("not among the trusted keys"), "{line}");
}

#[test]
fn key_sources_binary_armored_keydata_and_keypaths() {
    let lab = lab();
    let dir = tempdir();
    let b64 = |p: &str| base64::engine::general_purpose::STANDARD.encode(std::fs::read(p).unwrap());
    let scope = lab.var("LAB_REGISTRY");
    let sources = [
        format!(r#""keyPath":"{}""#, lab.var("LAB_ALICE_PUB")),
        format!(r#""keyPath":"{}""#, lab.var("LAB_ALICE_ASC")),
        format!(r#""keyData":"{}""#, b64(lab.var("LAB_ALICE_PUB"))),
        format!(r#""keyData":"{}""#, b64(lab.var("LAB_ALICE_ASC"))),
        format!(
            r#""keyPaths":["{}","{}"]"#,
            lab.var("LAB_BOB_PUB"),
            lab.var("LAB_ALICE_ASC")
        ),
    ];
    for (i, src) in sources.iter().enumerate() {
        let policy = dir.path().join(format!("p{i}.json"));
        std::fs::write(
            &policy,
            format!(r#"{{"default":[{{"type":"reject"}}],"transports":{{"docker":{{"{scope}":[{{"type":"signedBy","keyType":"GPGKeys",{src}}}]}}}}}}"#),
        )
        .unwrap();
        let o = verify_policy(
            &policy,
            lab.var("LAB_IMG_APP1"),
            &app1(lab),
            &[&lab.path("LAB_SIG_APP1_ALICE")],
        );
        assert_exit(&o, 0);
    }
    // A key file that cannot be read fails only its requirement, with the path named.
    let policy = dir.path().join("missing.json");
    std::fs::write(
        &policy,
        format!(r#"{{"default":[{{"type":"reject"}}],"transports":{{"docker":{{"{scope}":[{{"type":"signedBy","keyType":"GPGKeys","keyPath":"/nonexistent/k.gpg"}}],"{scope}/other":[{{"type":"insecureAcceptAnything"}}]}}}}}}"#),
    )
    .unwrap();
    let o = verify_policy(
        &policy,
        lab.var("LAB_IMG_APP1"),
        &app1(lab),
        &[&lab.path("LAB_SIG_APP1_ALICE")],
    );
    assert_exit(&o, 1);
    assert_eq!(requirement_verdicts(&json(&o)), ["rejected:key-unusable"]);
    assert!(stderr(&o).contains("/nonexistent/k.gpg"), "{}", stderr(&o));
    let mt = lab.path("LAB_MANIFESTS").join("other_tool_latest.json");
    let o = verify_policy(&policy, lab.var("LAB_IMG_TOOL"), &mt, &[]);
    assert_exit(&o, 0);
    // policy check reports the missing key (exit 1: findings).
    let o = run(imgsig().args(["policy", "check", "--output", "json"]).arg(&policy));
    assert_exit(&o, 1);
    let codes: Vec<String> = json(&o)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect();
    assert!(codes.contains(&"key-unusable".to_owned()), "{codes:?}");
}

fn fixture_policy(dir: &Path, identity: &str) -> PathBuf {
    let p = dir.join("policy.json");
    std::fs::write(
        &p,
        format!(
            r#"{{"default":[{{"type":"signedBy","keyType":"GPGKeys","keyPath":"{}","signedIdentity":{identity}}}]}}"#,
            fixture("signature/public-key.gpg").display()
        ),
    )
    .unwrap();
    p
}

#[test]
fn dir_images_from_the_reference_fixtures() {
    let dir = tempdir();
    let policy = fixture_policy(dir.path(), r#"{"type":"matchExact"}"#);
    for (img, code, reason) in [
        ("dir-img-valid", 0, None),
        ("dir-img-valid-2", 0, None),
        ("dir-img-mixed", 0, None),
        ("dir-img-unsigned", 1, Some("no-signatures")),
        ("dir-img-modified-manifest", 1, Some("no-valid-signature")),
        ("dir-img-manifest-digest-error", 1, Some("no-valid-signature")),
    ] {
        let path = fixture(&format!("signature/{img}"));
        let o = run(imgsig()
            .args(["verify", "--output", "json", "--policy"])
            .arg(&policy)
            .args(["--identity", "testing/manifest:latest"])
            .arg(format!("dir:{}", path.display())));
        assert_exit(&o, code);
        let doc = json(&o);
        assert_eq!(
            doc["manifests"][0]["requirements"][0]["reason"].as_str(),
            reason,
            "{img}: {}",
            stderr(&o)
        );
        if img == "dir-img-modified-manifest" {
            assert_eq!(
                doc["manifests"][0]["requirements"][0]["signatures"][0]["reason"],
                "digest-mismatch"
            );
        }
        if img == "dir-img-manifest-digest-error" {
            assert_eq!(
                doc["manifests"][0]["requirements"][0]["signatures"][0]["reason"],
                "manifest-digest-error"
            );
        }
    }
    // Another tag: identity mismatch.
    let o = run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(&policy)
        .args(["--identity", "testing/manifest:notlatest"])
        .arg(format!("dir:{}", fixture("signature/dir-img-valid").display())));
    assert_exit(&o, 1);
    assert_eq!(
        json(&o)["manifests"][0]["requirements"][0]["signatures"][0]["reason"],
        "identity-mismatch"
    );
    // Without --identity a dir: image has no docker reference: matchExact cannot match…
    let o = run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(&policy)
        .arg(format!("dir:{}", fixture("signature/dir-img-valid").display())));
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("has none"), "{}", stderr(&o));
    // … and the user is told that --identity exists.
    assert!(
        stderr(&o).contains("hint:") && stderr(&o).contains("--identity REF"),
        "{}",
        stderr(&o)
    );
    // …but exactReference can.
    let policy = fixture_policy(
        dir.path(),
        r#"{"type":"exactReference","dockerReference":"testing/manifest:latest"}"#,
    );
    let o = run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(&policy)
        .arg(format!("dir:{}", fixture("signature/dir-img-valid").display())));
    assert_exit(&o, 0);
    assert_eq!(json(&o)["transport"], "dir");
}

#[test]
fn scope_lookup_order_most_specific_wins() {
    let dir = tempdir();
    let policy = dir.path().join("policy.json");
    let scopes = [
        "reg.example.com:5000/ns/app:1.0",
        "reg.example.com:5000/ns/app",
        "reg.example.com:5000/ns",
        "reg.example.com:5000",
        "*.example.com",
        "*.com",
        "",
    ];
    let mut entries: Vec<String> = scopes
        .iter()
        .map(|s| format!(r#""{s}":[{{"type":"reject"}}]"#))
        .collect();
    entries.push(r#""example.com":[{"type":"insecureAcceptAnything"}]"#.into());
    std::fs::write(
        &policy,
        format!(
            r#"{{"default":[{{"type":"reject"}}],"transports":{{"docker":{{{}}}}}}}"#,
            entries.join(",")
        ),
    )
    .unwrap();
    let explain = |image: &str| {
        let o = run(imgsig()
            .args(["policy", "explain", "--output", "json", "--policy"])
            .arg(&policy)
            .arg(image));
        assert_exit(&o, 0);
        json(&o)["matched"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        explain("reg.example.com:5000/ns/app:1.0"),
        r#"transports.docker["reg.example.com:5000/ns/app:1.0"]"#
    );
    assert_eq!(
        explain("reg.example.com:5000/ns/app:2.0"),
        r#"transports.docker["reg.example.com:5000/ns/app"]"#
    );
    assert_eq!(
        explain("reg.example.com:5000/ns/other:1"),
        r#"transports.docker["reg.example.com:5000/ns"]"#
    );
    assert_eq!(
        explain("reg.example.com:5000/x/y:1"),
        r#"transports.docker["reg.example.com:5000"]"#
    );
    assert_eq!(
        explain("reg.example.com/x/y:1"),
        r#"transports.docker["*.example.com"]"#
    );
    assert_eq!(explain("docker://other.com/y:1"), r#"transports.docker["*.com"]"#);
    // *.example.com does not cover example.com itself; its own scope does.
    assert_eq!(explain("example.com/y:1"), r#"transports.docker["example.com"]"#);
    assert_eq!(
        explain("quay.io/y:1"),
        r#"transports.docker[""] (the docker transport's default)"#
    );
    // dir: images fall to the default (no dir transport here).
    assert_eq!(explain("dir:/srv/x"), "default");
}

#[test]
fn sigstore_requirements_are_not_satisfied_by_simple_signing() {
    let dir = tempdir();
    let policy = dir.path().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"default":[{"type":"sigstoreSigned","keyData":"cHVibGljIGtleQ==","signedIdentity":{"type":"matchRepository"}}]}"#,
    )
    .unwrap();
    let o = run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(&policy)
        .args(["--identity", "testing/manifest:latest"])
        .arg(format!("dir:{}", fixture("signature/dir-img-valid").display())));
    assert_exit(&o, 1);
    // containers/image: "A signature was required, but no signature exists (1 non-sigstore signatures, …)".
    let doc = json(&o);
    assert_eq!(requirement_verdicts(&doc), ["rejected:no-signatures"]);
    let message = doc["manifests"][0]["requirements"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("1 non-sigstore signatures"), "{message}");
}

#[test]
fn invalid_policy_exits_2_with_path_and_position() {
    let dir = tempdir();
    let policy = dir.path().join("policy.json");
    std::fs::write(
        &policy,
        "{\n  \"default\": [{\"type\": \"reject\", \"x\": 1}],\n  \"transports\": {}\n}\n",
    )
    .unwrap();
    let o = run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(&policy)
        .args(["--identity", "testing/manifest:latest"])
        .arg(format!("dir:{}", fixture("signature/dir-img-valid").display())));
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "invalid-policy");
    let err = stderr(&o);
    assert!(
        err.contains("default[0]") && err.contains("line 2") && err.contains("\"x\""),
        "{err}"
    );
    let o = run(imgsig().args(["policy", "check"]).arg(&policy));
    assert_exit(&o, 2);
}

#[test]
fn default_policy_comes_from_home_and_is_named() {
    let home = tempdir();
    let cfg = home.path().join(".config/containers");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("policy.json"),
        r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    )
    .unwrap();
    let o = run(imgsig()
        .env("HOME", home.path())
        .args(["verify", "--output", "json", "--identity", "testing/manifest:latest"])
        .arg(format!("dir:{}", fixture("signature/dir-img-unsigned").display())));
    assert_exit(&o, 0);
    assert_eq!(json(&o)["policy"], cfg.join("policy.json").display().to_string());
    assert!(stderr(&o).contains(&cfg.join("policy.json").display().to_string()));
}

#[test]
fn policy_check_reports_each_finding_with_code_and_hint() {
    let lab = lab();
    let dir = tempdir();
    let policy = dir.path().join("policy.json");
    let sb = |k: &str, id: &str| format!(r#"{{"type":"signedBy","keyType":"GPGKeys","keyPath":"{k}"{id}}}"#);
    std::fs::write(
        &policy,
        format!(
            r#"{{"default":[{{"type":"insecureAcceptAnything"}}],"transports":{{"docker":{{
                "busybox":[{{"type":"reject"}}],
                "docker.io/busybox":[{{"type":"reject"}}],
                "registry.example.com/a":[{}],
                "registry.example.com/b":[{}],
                "registry.example.com/c":[{}]
            }}}}}}"#,
            sb(
                lab.var("LAB_ALICE_PUB"),
                r#","signedIdentity":{"type":"matchRepository"}"#
            ),
            sb(lab.var("LAB_EXPIRED_PUB"), ""),
            sb(lab.var("LAB_REVOKED_PUB"), ""),
        ),
    )
    .unwrap();
    let o = run(imgsig().args(["policy", "check", "--output", "json"]).arg(&policy));
    assert_exit(&o, 1);
    let doc = json(&o);
    let found: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(!f["hint"].as_str().unwrap().is_empty());
            (
                f["code"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (code, path) in [
        ("insecure-default", "default"),
        ("short-name-scope", r#"transports.docker["busybox"]"#),
        ("non-normalized-scope", r#"transports.docker["docker.io/busybox"]"#),
        (
            "rollback-risk",
            r#"transports.docker["registry.example.com/a"][0].signedIdentity"#,
        ),
        ("expired-key", r#"transports.docker["registry.example.com/b"][0]"#),
        ("revoked-key", r#"transports.docker["registry.example.com/c"][0]"#),
    ] {
        assert!(
            found.contains(&(code.to_owned(), path.to_owned())),
            "missing {code} at {path}: {found:?}"
        );
    }
    assert_eq!(found.len(), 6, "{found:?}");
    // A clean policy exits 0.
    let clean = dir.path().join("clean.json");
    std::fs::write(
        &clean,
        format!(
            r#"{{"default":[{{"type":"reject"}}],"transports":{{"docker":{{"registry.example.com":[{}]}}}}}}"#,
            sb(lab.var("LAB_ALICE_PUB"), "")
        ),
    )
    .unwrap();
    let o = run(imgsig().args(["policy", "check"]).arg(&clean));
    assert_exit(&o, 0);
}

/// The library evaluator itself refuses a reference pinned by digest whose
/// manifest hashes to something else, whatever the policy says (a library
/// caller cannot forget the check); an instance is checked through the list
/// it came from.
#[test]
fn library_evaluate_checks_the_digest_pin() {
    use imgsig::digest::Digest;
    use imgsig::policy::{self, ImageRef, ParseOptions, Subject};
    use imgsig::reference::DockerReference;
    let pol = policy::parse(
        br#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        &ParseOptions::default(),
    )
    .unwrap();
    let x = Digest::sha256(b"x");
    let y = Digest::sha256(b"y");
    let pinned = ImageRef::Docker(DockerReference::parse_normalized(&format!("example.com/app@{x}")).unwrap());
    let subject = |manifest: &Digest, instance_of: Option<&Digest>| {
        let d = policy::evaluate(
            &pol,
            &Subject {
                image: &pinned,
                manifest_digest: Ok(manifest),
                signatures: Ok(&[]),
                sigstore: &[],
                looked_in: "nowhere",
                instance_of,
                now: std::time::SystemTime::now(),
            },
        );
        (d.accepted, d.image_error.map(|e| e.code.as_str()))
    };
    assert_eq!(subject(&x, None), (true, None));
    assert_eq!(subject(&y, None), (false, Some("manifest-digest-mismatch")));
    // An instance (digest y) of the list x: the pin names the list.
    assert_eq!(subject(&y, Some(&x)), (true, None));
    assert_eq!(subject(&x, Some(&y)), (false, Some("manifest-digest-mismatch")));
}

/// A junk file in `keyPaths` next to a good key: the requirement stands on the
/// good key (as containers/image with gpgme), and the report and JSON carry a
/// warning naming the file; `policy check` reports it as a finding.
#[test]
fn junk_key_file_is_a_warning_not_a_rejection() {
    let lab = lab();
    let dir = tempdir();
    let policy = lab.policy_alice_and_junk_key(dir.path());
    let o = verify_policy(
        &policy,
        lab.var("LAB_IMG_APP1"),
        &app1(lab),
        &[&lab.path("LAB_SIGNATURES").join("app-1.0.alice.sig")],
    );
    assert_exit(&o, 0);
    let doc = json(&o);
    let w = doc["warnings"][0].as_str().unwrap_or_default();
    assert!(w.contains("junk.gpg") && w.contains("no usable OpenPGP key"), "{doc:#}");
    assert!(
        stderr(&o).contains("warning:") && stderr(&o).contains("junk.gpg"),
        "{}",
        stderr(&o)
    );
    let o = run(imgsig().args(["policy", "check", "--output", "json"]).arg(&policy));
    let doc = json(&o);
    let codes: Vec<&str> = doc["findings"]
        .as_array()
        .map(|f| f.iter().filter_map(|x| x["code"].as_str()).collect())
        .unwrap_or_default();
    assert!(codes.contains(&"key-file-no-keys"), "{doc:#}");
}

/// `--manifest` with no signature files, directory or lookaside: the
/// signatures come from the registries.d lookaside for the image; with none
/// configured, it is unusable input (exit 2) that says what to give, not a
/// rejection.
#[test]
fn manifest_without_signature_source_uses_registries_d_or_exits_2() {
    let lab = lab();
    let dir = tempdir();
    let empty = dir.path().join("registries.d");
    std::fs::create_dir(&empty).unwrap();
    let o = run(imgsig()
        .args(["verify", "--output", "json", "--policy", lab.var("LAB_POLICY_ALICE")])
        .arg("--registries-d")
        .arg(&empty)
        .args(["--identity", lab.var("LAB_IMG_APP1"), "--manifest"])
        .arg(app1(lab)));
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "no-signature-source");
    assert!(stderr(&o).contains("--registries-d"), "{}", stderr(&o));
    // A registries.d whose lookaside is a file:// store holding alice's signature.
    let regd = dir.path().join("regd");
    std::fs::create_dir(&regd).unwrap();
    std::fs::write(
        regd.join("lab.yaml"),
        format!(
            "docker:\n  {}:\n    lookaside: file://{}\n",
            lab.var("LAB_REGISTRY"),
            lab.var("LAB_SIGSTORE")
        ),
    )
    .unwrap();
    let o = run(imgsig()
        .args(["verify", "--policy", lab.var("LAB_POLICY_ALICE")])
        .arg("--registries-d")
        .arg(&regd)
        .args(["--identity", lab.var("LAB_IMG_APP1"), "--manifest"])
        .arg(app1(lab)));
    assert_exit(&o, 0);
    assert!(stderr(&o).contains(lab.var("LAB_SIGSTORE")), "{}", stderr(&o));
}

/// Accepted without any check must be visible: under `insecureAcceptAnything`
/// the verdict stays the policy's (exit 0), but stderr and JSON say that no
/// signature was checked and which scope decided.
#[test]
fn accepted_without_any_check_says_so() {
    let lab = lab();
    let dir = tempdir();
    let empty_regd = dir.path().join("registries.d");
    std::fs::create_dir(&empty_regd).unwrap();
    // An unsigned image (no signature anywhere) under a policy that needs none.
    let o = run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(lab.path("LAB_POLICY_INSECURE"))
        .arg("--registries-d")
        .arg(&empty_regd)
        .args(["--identity", lab.var("LAB_IMG_APP1"), "--manifest"])
        .arg(app1(lab)));
    assert_exit(&o, 0);
    let doc = json(&o);
    let w = doc["warnings"][0].as_str().unwrap_or_default();
    assert!(
        w.contains("no signature was checked") && w.contains("insecureAcceptAnything"),
        "{doc:#}"
    );
    assert!(
        stderr(&o).contains("warning: no signature was checked"),
        "{}",
        stderr(&o)
    );
    // A policy that checked a signature has no such warning.
    let o = verify_policy(
        &lab.path("LAB_POLICY_ALICE"),
        lab.var("LAB_IMG_APP1"),
        &app1(lab),
        &[&lab.path("LAB_SIGNATURES").join("app-1.0.alice.sig")],
    );
    assert_exit(&o, 0);
    assert_eq!(json(&o)["warnings"], serde_json::json!([]), "{}", stderr(&o));
}

/// A forgotten `--policy` in CI lands on a policy of `insecureAcceptAnything`:
/// `--require-signature` keeps the policy's verdict and also rejects an image
/// for which no signature was cryptographically verified (exit 1,
/// `no-signature-checked`), for every manifest judged; a signed image under a
/// policy that checks it passes. Against the lab registry.
#[test]
fn require_signature_rejects_what_no_signature_vouches_for() {
    let lab = lab();
    let dir = tempdir();
    let empty_regd = dir.path().join("registries.d");
    std::fs::create_dir(&empty_regd).unwrap();
    let verify = |policy: &str, regd: &Path, extra: &[&str], image: &str| {
        run(imgsig()
            .args([
                "verify",
                "--require-signature",
                "--output",
                "json",
                "--tls-verify=false",
                "--policy",
            ])
            .arg(policy)
            .arg("--registries-d")
            .arg(regd)
            .args(extra)
            .arg(format!("docker://{image}")))
    };
    // One image named: one JSON document (docs/json-output.md, "Framing").
    let first = |o: &std::process::Output| -> serde_json::Value {
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not one JSON document ({e})"))
    };
    // Unsigned (no lookaside holds a signature) under insecureAcceptAnything: rejected.
    let o = verify(
        lab.var("LAB_POLICY_INSECURE"),
        &empty_regd,
        &[],
        lab.var("LAB_IMG_APP1"),
    );
    assert_exit(&o, 1);
    let doc = first(&o);
    assert_eq!(doc["rejection"]["code"], "no-signature-checked", "{doc:#}");
    assert_eq!(doc["verified_reference"], serde_json::Value::Null);
    assert!(stderr(&o).contains("[no-signature-checked]"), "{}", stderr(&o));
    // Every manifest judged: the index and each instance of a multi-platform image.
    let o = verify(
        lab.var("LAB_POLICY_INSECURE"),
        &empty_regd,
        &["--all-platforms"],
        lab.var("LAB_IMG_MULTI"),
    );
    assert_exit(&o, 1);
    assert_eq!(first(&o)["rejection"]["code"], "no-signature-checked");
    // Even with signatures present, insecureAcceptAnything verifies none of them.
    let regd = lab.path("LAB_REGISTRIES_D");
    let o = verify(lab.var("LAB_POLICY_INSECURE"), &regd, &[], lab.var("LAB_IMG_APP1"));
    assert_exit(&o, 1);
    // Signed and checked: accepted, as without the flag.
    let o = verify(lab.var("LAB_POLICY_ALICE"), &regd, &[], lab.var("LAB_IMG_APP1"));
    assert_exit(&o, 0);
    assert_eq!(first(&o)["rejection"], serde_json::Value::Null);
    let o = verify(
        lab.var("LAB_POLICY_ALICE"),
        &regd,
        &["--all-platforms"],
        lab.var("LAB_IMG_MULTI"),
    );
    assert_exit(&o, 0);
    // Without the flag the policy's verdict stands (exit 0, with the warning).
    let o = run(imgsig()
        .args(["verify", "--tls-verify=false", "--policy"])
        .arg(lab.path("LAB_POLICY_INSECURE"))
        .arg("--registries-d")
        .arg(&empty_regd)
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))));
    assert_exit(&o, 0);
}
