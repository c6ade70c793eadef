//! `sigstoreSigned` requirements through the whole verify pipeline, against
//! containers/image's own sigstore test vectors
//! (`shared/reference/fixtures/sigstore/`, README there): every image gives the
//! verdict containers/image's `policy_eval_sigstore_test.go` asserts, from a
//! `dir:` image and from signature files, and a policy mixing `signedBy` and
//! `sigstoreSigned` scopes judges each scope by its own rules.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{assert_exit, fixture, imgsig, json, run, stderr, stdout, tempdir};
use serde_json::{json, Value};

/// The fixtures with their links followed. In `shared/reference/fixtures/` the
/// git symlinks of containers/image's fixtures are text files holding the
/// link (`../dir-img-cosign-valid/signature-1`); a real user's files are real
/// files, so the tests work on a copy where each such file holds its
/// target's bytes (`rekor.pub`, whose target was not copied, comes from
/// tests/fixtures/sigstore/).
fn materialized() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let src = fixture("sigstore");
        let out = tempdir();
        copy_following_stubs(&src, &src, out.path());
        std::fs::copy(
            common::repo().join("tests/fixtures/sigstore/rekor.pub"),
            out.path().join("rekor.pub"),
        )
        .unwrap();
        out
    })
    .path()
}

fn copy_following_stubs(root: &Path, dir: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let (from, dest) = (e.path(), to.join(e.file_name()));
        if from.is_dir() {
            copy_following_stubs(root, &from, &dest);
            continue;
        }
        let mut bytes = std::fs::read(&from).unwrap();
        let mut at = from.clone();
        for _ in 0..8 {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if bytes.len() > 200 || !text.starts_with("../") || text.contains('\n') {
                break;
            }
            let target = at.parent().unwrap().join(text.trim());
            // Links out of the sigstore fixtures: the simple-signing ones beside them.
            let target = if target.exists() {
                target
            } else {
                root.join("../signature").join(target.file_name().unwrap())
            };
            match std::fs::read(&target) {
                Ok(b) => {
                    bytes = b;
                    at = target;
                }
                Err(_) => break,
            }
        }
        std::fs::write(&dest, bytes).unwrap();
    }
}

fn sig(rel: &str) -> PathBuf {
    materialized().join(rel)
}

fn path_of(rel: &str) -> String {
    sig(rel).display().to_string()
}

/// A policy whose default is the one requirement `req`.
fn policy(dir: &Path, req: Value) -> PathBuf {
    let p = dir.join("policy.json");
    std::fs::write(&p, serde_json::to_vec(&json!({"default": [req]})).unwrap()).unwrap();
    p
}

/// `verify --output json --policy P --identity REF --manifest MANIFEST SIGNATURES…`.
fn verify_files(policy: &Path, identity: &str, manifest: &Path, signatures: &[PathBuf]) -> Output {
    run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(policy)
        .args(["--identity", identity, "--manifest"])
        .arg(manifest)
        .args(signatures))
}

/// `verify --output json --policy P --identity REF dir:IMAGE`.
fn verify_dir(policy: &Path, image: &str, identity: &str) -> Output {
    run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(policy)
        .args(["--identity", identity])
        .arg(format!("dir:{}", sig(image).display())))
}

const SINGLE: &str = "192.168.64.2:5000/cosign-signed-single-sample";

/// containers/image's tests judge most fixtures as a name-only reference
/// (`dirImageMock(…, "192.168.64.2:5000/cosign-signed-single-sample")`), which
/// no transport produces: a docker reference always has a tag (`:latest`). The
/// signatures name the repository only, so these requirements match the
/// repository; the tagged fixture is judged with the default identity.
const REPO: &str = r#"{"type": "matchRepository"}"#;

fn key(rel: &str) -> Value {
    json!({"type": "sigstoreSigned", "keyPath": path_of(rel), "signedIdentity": serde_json::from_str::<Value>(REPO).unwrap()})
}

fn with_repo(mut req: Value) -> Value {
    req["signedIdentity"] = serde_json::from_str(REPO).unwrap();
    req
}

/// (requirement reason code, first signature's reason code) of a rejection.
fn reasons(o: &Output) -> (String, String) {
    let doc = json(o);
    let req = &doc["manifests"][0]["requirements"][0];
    (
        req["reason"].as_str().unwrap_or_default().to_owned(),
        req["signatures"][0]["reason"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn public_keys_as_containers_image_judges_them() {
    let dir = tempdir();
    // keyPath cosign.pub: accepted, and the report names the verified digest.
    let p = policy(dir.path(), key("cosign.pub"));
    let o = verify_dir(&p, "dir-img-cosign-valid", SINGLE);
    assert_exit(&o, 0);
    let doc = json(&o);
    assert_eq!(doc["verdict"], "accepted", "{doc}");
    let req = &doc["manifests"][0]["requirements"][0];
    assert_eq!(req["type"], "sigstoreSigned");
    assert_eq!(req["signatures"][0]["verdict"], "accepted", "{req}");
    // The second valid image, and one signed for a tag.
    assert_exit(&verify_dir(&p, "dir-img-cosign-valid-2", SINGLE), 0);
    let tagged = policy(
        dir.path(),
        json!({"type": "sigstoreSigned", "keyPath": path_of("cosign.pub")}),
    );
    assert_exit(
        &verify_dir(
            &tagged,
            "dir-img-cosign-valid-with-tag",
            "192.168.64.2:5000/skopeo-signed:tag",
        ),
        0,
    );
    let o = verify_dir(
        &tagged,
        "dir-img-cosign-valid-with-tag",
        "192.168.64.2:5000/skopeo-signed:othertag",
    );
    assert_exit(&o, 1);
    assert_eq!(reasons(&o).1, "identity-mismatch", "{}", stderr(&o));
    // Another identity: rejected on the identity.
    let o = verify_dir(&p, "dir-img-cosign-valid", "testing/manifest:notlatest");
    assert_exit(&o, 1);
    assert_eq!(reasons(&o), ("no-valid-signature".into(), "identity-mismatch".into()));

    // The wrong key: rejected on the signature; with both keys: accepted.
    let p = policy(dir.path(), key("cosign2.pub"));
    let o = verify_dir(&p, "dir-img-cosign-valid", SINGLE);
    assert_exit(&o, 1);
    assert_eq!(reasons(&o).0, "no-valid-signature");
    assert_ne!(reasons(&o).1, "identity-mismatch");
    let p = policy(
        dir.path(),
        with_repo(json!({"type": "sigstoreSigned", "keyPaths": [path_of("cosign2.pub"), path_of("cosign.pub")]})),
    );
    assert_exit(&verify_dir(&p, "dir-img-cosign-valid", SINGLE), 0);
    // keyData / keyDatas: the same keys inline.
    let b64 = |rel: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(sig(rel)).unwrap())
    };
    let p = policy(
        dir.path(),
        with_repo(json!({"type": "sigstoreSigned", "keyData": b64("cosign.pub")})),
    );
    assert_exit(&verify_dir(&p, "dir-img-cosign-valid", SINGLE), 0);
    let p = policy(
        dir.path(),
        with_repo(json!({"type": "sigstoreSigned", "keyDatas": [b64("cosign2.pub"), b64("cosign.pub")]})),
    );
    assert_exit(&verify_dir(&p, "dir-img-cosign-valid", SINGLE), 0);
}

#[test]
fn rekor_fulcio_and_pki_as_containers_image_judges_them() {
    let dir = tempdir();
    let key_rekor = "192.168.64.2:5000/cosign-signed/key-1";
    let with_rekor = |rekor: &str| {
        // (This image is signed with cosign2.pub: the fixtures README says cosign.pub,
        // containers/image's test uses cosign2.pub.)
        with_repo(
            json!({"type": "sigstoreSigned", "keyPath": path_of("cosign2.pub"), "rekorPublicKeyPath": path_of(rekor)}),
        )
    };
    let p = policy(dir.path(), with_rekor("rekor.pub"));
    assert_exit(&verify_dir(&p, "dir-img-cosign-key-rekor-valid", key_rekor), 0);
    // Several keys and several Rekor keys, in either order (as containers/image's test).
    for (keys, rekors) in [
        (["cosign2.pub", "cosign.pub"], ["rekor.pub", "cosign.pub"]),
        (["cosign.pub", "cosign2.pub"], ["cosign.pub", "rekor.pub"]),
    ] {
        let p = policy(
            dir.path(),
            with_repo(json!({"type": "sigstoreSigned",
                "keyPaths": keys.map(path_of), "rekorPublicKeyPaths": rekors.map(path_of)})),
        );
        assert_exit(&verify_dir(&p, "dir-img-cosign-key-rekor-valid", key_rekor), 0);
    }
    // The signature key given as the Rekor key: the SET does not verify.
    let p = policy(dir.path(), with_rekor("cosign.pub"));
    let o = verify_dir(&p, "dir-img-cosign-key-rekor-valid", key_rekor);
    assert_exit(&o, 1);
    assert_eq!(reasons(&o).0, "no-valid-signature");
    // An RSA key cannot be a Rekor key: the requirement's keys are unusable.
    let p = policy(dir.path(), with_rekor("some-rsa-key.pub"));
    let o = verify_dir(&p, "dir-img-cosign-key-rekor-valid", key_rekor);
    assert_exit(&o, 1);
    assert_eq!(reasons(&o).1, "key-unusable", "{}", stderr(&o));
    // A Rekor key is required, and this signature has no SET.
    let p = policy(dir.path(), with_rekor("rekor.pub"));
    let o = verify_dir(&p, "dir-img-cosign-valid", SINGLE);
    assert_exit(&o, 1);

    // Fulcio + Rekor.
    let fulcio = |email: &str| {
        with_repo(json!({"type": "sigstoreSigned",
            "fulcio": {"caPath": path_of("fulcio_v1.crt.pem"), "oidcIssuer": "https://github.com/login/oauth", "subjectEmail": email},
            "rekorPublicKeyPath": path_of("rekor.pub")}))
    };
    let fulcio_ref = "192.168.64.2:5000/cosign-signed/fulcio-rekor-1";
    let p = policy(dir.path(), fulcio("mitr@redhat.com"));
    assert_exit(&verify_dir(&p, "dir-img-cosign-fulcio-rekor-valid", fulcio_ref), 0);
    let p = policy(dir.path(), fulcio("someone-else@example.com"));
    let o = verify_dir(&p, "dir-img-cosign-fulcio-rekor-valid", fulcio_ref);
    assert_exit(&o, 1);
    assert_eq!(reasons(&o).0, "no-valid-signature");
    // A key-signed image is not a Fulcio-signed one.
    let p = policy(dir.path(), fulcio("mitr@redhat.com"));
    assert_exit(&verify_dir(&p, "dir-img-cosign-valid", SINGLE), 1);

    // pki (the newer field).
    let pki = |email: &str| {
        with_repo(json!({"type": "sigstoreSigned",
            "pki": {"caRootsPath": path_of("pki_root_crts.pem"), "caIntermediatesPath": path_of("pki_intermediate_crts.pem"), "subjectEmail": email}}))
    };
    let p = policy(dir.path(), pki("qiwan@redhat.com"));
    assert_exit(&verify_dir(&p, "dir-img-cosign-pki-valid", "localhost:5000/test"), 0);
    let p = policy(dir.path(), pki("someone-else@example.com"));
    assert_exit(&verify_dir(&p, "dir-img-cosign-pki-valid", "localhost:5000/test"), 1);
}

#[test]
fn what_is_not_a_valid_signed_image_is_rejected() {
    let dir = tempdir();
    let p = policy(dir.path(), key("cosign.pub"));
    // The manifest was modified after signing: the digest does not match.
    let o = verify_dir(&p, "dir-img-cosign-modified-manifest", SINGLE);
    assert_exit(&o, 1);
    assert_eq!(reasons(&o).1, "digest-mismatch", "{}", stderr(&o));
    // A manifest whose digest cannot be computed.
    let o = verify_dir(&p, "dir-img-cosign-manifest-digest-error", SINGLE);
    assert_ne!(o.status.code(), Some(0), "{}", stderr(&o));
    // One invalid signature (an unknown key), then a valid one: accepted.
    let o = verify_dir(&p, "dir-img-cosign-mixed", SINGLE);
    assert_exit(&o, 0);
    let sigs = &json(&o)["manifests"][0]["requirements"][0]["signatures"];
    assert_eq!(sigs[0]["verdict"], "rejected", "{sigs}");
    assert_eq!(sigs[1]["verdict"], "accepted", "{sigs}");
    // Two valid signatures, neither for this repository.
    let o = verify_dir(&p, "dir-img-cosign-valid-2", "this/does-not:match");
    assert_exit(&o, 1);
    assert_eq!(reasons(&o), ("no-valid-signature".into(), "identity-mismatch".into()));
    // No manifest at all: the image cannot be verified.
    let o = verify_dir(&p, "dir-img-cosign-no-manifest", SINGLE);
    assert_exit(&o, 2);
    // An attachment that is not a signature does not count.
    let o = verify_dir(&p, "dir-img-cosign-other-attachment", "testing/manifest:latest");
    assert_exit(&o, 1);
    assert_eq!(reasons(&o).0, "no-signatures", "{}", stderr(&o));
    // Simple-signing images have no sigstore signature.
    for image in ["dir-img-unsigned", "dir-img-valid"] {
        let o = run(imgsig()
            .args(["verify", "--output", "json", "--policy"])
            .arg(&p)
            .args(["--identity", "testing/manifest:latest"])
            .arg(format!("dir:{}", fixture(&format!("signature/{image}")).display())));
        assert_exit(&o, 1);
        assert_eq!(reasons(&o).0, "no-signatures", "{image}: {}", stderr(&o));
    }
    // A sigstore signature by an unknown key, given as a file.
    let manifest = sig("dir-img-cosign-valid/manifest.json");
    let o = verify_files(&p, SINGLE, &manifest, &[sig("unknown-cosign-key.signature")]);
    assert_exit(&o, 1);
    assert_eq!(reasons(&o).0, "no-valid-signature");
    // The same image with its valid signature beside it: one good one suffices.
    let o = verify_files(
        &p,
        SINGLE,
        &manifest,
        &[
            sig("unknown-cosign-key.signature"),
            sig("dir-img-cosign-valid/signature-1"),
        ],
    );
    assert_exit(&o, 0);
}

/// What a sigstore blob carries once decoded: (MIME type, payload, signature bytes).
fn decoded(blob: &[u8]) -> (String, Vec<u8>, Vec<u8>) {
    use base64::engine::{general_purpose::GeneralPurpose, GeneralPurposeConfig};
    use base64::Engine as _;
    let lenient = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let s = imgsig::sigstore::SigstoreSignature::parse_blob(blob).expect("an accepted blob parses");
    let sig = &s.annotations()[imgsig::sigstore::SIGNATURE_ANNOTATION];
    (
        s.mime_type().to_owned(),
        s.payload().to_vec(),
        lenient.decode(sig).expect("base64"),
    )
}

#[test]
fn tampered_signatures_are_rejected_and_never_crash() {
    let dir = tempdir();
    let p = policy(dir.path(), key("cosign.pub"));
    let original = std::fs::read(sig("dir-img-cosign-valid/signature-1")).unwrap();
    let manifest = sig("dir-img-cosign-valid/manifest.json");
    let check = |bytes: &[u8]| {
        let f = dir.path().join("signature");
        std::fs::write(&f, bytes).unwrap();
        verify_files(&p, SINGLE, &manifest, &[f])
    };
    assert_exit(&check(&original), 0);
    // Every truncation and a flipped byte at many places: never accepted, never a crash.
    let step = (original.len() / 60).max(1);
    for at in (15..original.len()).step_by(step) {
        let o = check(&original[..at]);
        assert!(matches!(o.status.code(), Some(1 | 2)), "cut at {at}: {}", stderr(&o));
        let mut flipped = original.clone();
        flipped[at] ^= 0x01;
        let o = check(&flipped);
        assert!(matches!(o.status.code(), Some(0..=2)), "flip at {at}: {}", stderr(&o));
        if o.status.code() == Some(0) {
            // Only a change that decoding undoes may pass, as in Go: the same payload
            // and the same signature bytes (base64 ignores a last character's unused
            // bits; member names match regardless of case).
            assert_eq!(decoded(&flipped), decoded(&original), "flip at {at} accepted");
        }
    }
}

#[test]
fn a_mixed_policy_judges_each_scope_by_its_own_rules() {
    let dir = tempdir();
    let gpg_key = fixture("signature/public-key.gpg");
    let p = dir.path().join("policy.json");
    std::fs::write(
        &p,
        serde_json::to_vec(&json!({
            "default": [{"type": "reject"}],
            "transports": {"docker": {
                "docker.io/testing/manifest": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": gpg_key}],
                "192.168.64.2:5000": [{"type": "sigstoreSigned", "keyPath": path_of("cosign.pub"), "signedIdentity": {"type": "matchRepository"}}]
            }}
        }))
        .unwrap(),
    )
    .unwrap();
    // The sigstore scope: the cosign-signed image is accepted...
    assert_exit(&verify_dir(&p, "dir-img-cosign-valid", SINGLE), 0);
    // ...the GPG scope: the simple-signing image is accepted...
    let o = run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(&p)
        .args(["--identity", "testing/manifest:latest"])
        .arg(format!("dir:{}", fixture("signature/dir-img-valid").display())));
    assert_exit(&o, 0);
    // ...and a cosign signature does not satisfy the GPG scope.
    let o = verify_files(
        &p,
        "testing/manifest:latest",
        &sig("dir-img-cosign-valid/manifest.json"),
        &[sig("dir-img-cosign-valid/signature-1")],
    );
    assert_exit(&o, 1);
    // policy check no longer calls sigstoreSigned unsupported.
    let o = run(imgsig().args(["policy", "check", "--output", "json"]).arg(&p));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("sigstore-unsupported"));
}

#[test]
fn policy_check_lints_sigstore_requirements() {
    let dir = tempdir();
    let junk = dir.path().join("junk.pub");
    std::fs::write(&junk, "not a key").unwrap();
    let p = dir.path().join("policy.json");
    std::fs::write(
        &p,
        serde_json::to_vec(&json!({
            "default": [{"type": "reject"}],
            "transports": {"docker": {
                "example.com/missing": [{"type": "sigstoreSigned", "keyPath": dir.path().join("missing.pub")}],
                "example.com/junk": [{"type": "sigstoreSigned", "keyPath": junk}],
                "example.com/repo": [{"type": "sigstoreSigned", "keyPath": path_of("cosign.pub"),
                    "signedIdentity": {"type": "matchRepository"}}],
                "example.com/fulcio": [{"type": "sigstoreSigned",
                    "fulcio": {"caPath": path_of("fulcio_v1.crt.pem"), "oidcIssuer": "https://github.com/login/oauth", "subjectEmail": "a@b.c"},
                    "rekorPublicKeyPath": path_of("rekor.pub")}]
            }}
        }))
        .unwrap(),
    )
    .unwrap();
    let o = run(imgsig().args(["policy", "check", "--output", "json"]).arg(&p));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    let findings: Vec<(String, String)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let has = |code: &str, scope: &str| findings.iter().any(|(c, p)| c == code && p.contains(scope));
    assert!(has("key-unusable", "example.com/missing"), "{findings:?}");
    assert!(has("key-unusable", "example.com/junk"), "{findings:?}");
    assert!(has("rollback-risk", "example.com/repo"), "{findings:?}");
    // A usable Fulcio + Rekor requirement draws no key finding.
    assert!(!has("key-unusable", "example.com/fulcio"), "{findings:?}");
    assert!(!findings.iter().any(|(c, _)| c == "sigstore-unsupported"));
    // A relative key path is read from the working directory: a finding.
    let rel = dir.path().join("relative.json");
    std::fs::write(
        &rel,
        r#"{"default": [{"type": "sigstoreSigned", "keyPath": "cosign.pub", "rekorPublicKeyPath": "keys/rekor.pub"}]}"#,
    )
    .unwrap();
    let o = run(imgsig().args(["policy", "check", "--output", "json"]).arg(&rel));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let relative = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "relative-key-path")
        .count();
    assert_eq!(relative, 2, "{doc}");
    // policy explain says whose signature each scope needs.
    let o = run(imgsig()
        .args(["policy", "explain", "--policy"])
        .arg(&p)
        .arg("example.com/fulcio/app:1"));
    let out = stdout(&o);
    assert!(
        out.contains("Fulcio certificate") && out.contains("a@b.c") && out.contains("Rekor"),
        "{out}"
    );
}
