//! Differential test against the reference: for a matrix of policies ×
//! images × signature sets, `skopeo copy --policy P docker://… dir:…` (real
//! skopeo 1.9.3 pulling from the lab's docker-registry, signatures from a
//! file:// lookaside) and `imgsig verify --policy P` on the same manifest and
//! signatures must give the same verdict.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine;
use common::{imgsig, json, lab, run, stderr, tempdir, Lab};

struct Image {
    /// Reference as pulled, e.g. 127.0.0.1:PORT/lab/app:1.0
    reference: String,
    /// Repository path in the lookaside, e.g. lab/app
    repo: &'static str,
    digest: String,
    manifest: PathBuf,
}

fn images(lab: &Lab) -> Vec<Image> {
    let reg = lab.var("LAB_REGISTRY");
    let m = lab.path("LAB_MANIFESTS");
    let tool_digest = {
        let bytes = std::fs::read(m.join("other_tool_latest.json")).unwrap();
        imgsig::manifest::manifest_digest(&bytes).unwrap().to_string()
    };
    vec![
        Image {
            reference: lab.var("LAB_IMG_APP1").to_owned(),
            repo: "lab/app",
            digest: lab.var("LAB_IMG_APP1_DIGEST").to_owned(),
            manifest: m.join("lab_app_1.0.json"),
        },
        Image {
            reference: format!("{reg}/lab/app@{}", lab.var("LAB_IMG_APP1_DIGEST")),
            repo: "lab/app",
            digest: lab.var("LAB_IMG_APP1_DIGEST").to_owned(),
            manifest: m.join("lab_app_1.0.json"),
        },
        Image {
            reference: lab.var("LAB_IMG_APP2").to_owned(),
            repo: "lab/app",
            digest: lab.var("LAB_IMG_APP2_DIGEST").to_owned(),
            manifest: m.join("lab_app_2.0.json"),
        },
        Image {
            reference: lab.var("LAB_IMG_TOOL").to_owned(),
            repo: "other/tool",
            digest: tool_digest,
            manifest: m.join("other_tool_latest.json"),
        },
    ]
}

/// Signature files available to the matrix, by name.
fn signature_pool(lab: &Lab, dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let sigs = lab.path("LAB_SIGNATURES");
    // imgsig-made extras: alice's signature of app:1.0 under another identity.
    let key = lab.export_secret_key(lab.var("LAB_ALICE_FPR"), dir, "alice.sec");
    let extra = |name: &'static str, identity: &str, manifest: &Path| -> (&'static str, PathBuf) {
        let out = dir.join(name);
        let o = run(imgsig()
            .args(["sign", "--key"])
            .arg(&key)
            .args(["--identity", identity, "--manifest"])
            .arg(manifest)
            .arg("-o")
            .arg(&out));
        assert!(o.status.success(), "{}", stderr(&o));
        (name, out)
    };
    let m1 = lab.path("LAB_MANIFESTS").join("lab_app_1.0.json");
    let mt = lab.path("LAB_MANIFESTS").join("other_tool_latest.json");
    let reg = lab.var("LAB_REGISTRY");
    let garbage = dir.join("garbage");
    std::fs::write(&garbage, b"\xa3\x01not a signature").unwrap();
    vec![
        ("alice-app1", sigs.join("app-1.0.alice.sig")),
        ("bob-app1", sigs.join("app-1.0.bob.sig")),
        ("expired-app1", sigs.join("app-1.0.expired.sig")),
        ("revoked-app1", sigs.join("app-1.0.revoked.sig")),
        ("alice-app2", lab.path("LAB_SIG_APP2_ALICE")),
        ("bob-app2", lab.path("LAB_SIG_APP2_BOB")),
        ("garbage", garbage),
        extra("alice-app1-as-vendor", "vendor.example.com/lab/app:1.0", &m1),
        extra("alice-app1-as-latest", &format!("{reg}/lab/app:latest"), &m1),
        extra("alice-tool", lab.var("LAB_IMG_TOOL"), &mt),
        extra("alice-app1-name-only-repo", &format!("{reg}/lab/app:other"), &m1),
    ]
}

fn policies(lab: &Lab) -> Vec<(&'static str, String)> {
    let reg = lab.var("LAB_REGISTRY");
    let alice = lab.var("LAB_ALICE_PUB");
    let bob = lab.var("LAB_BOB_PUB");
    let expired = lab.var("LAB_EXPIRED_PUB");
    let revoked = lab.var("LAB_REVOKED_PUB");
    let alice_data = base64::engine::general_purpose::STANDARD.encode(std::fs::read(alice).unwrap());
    let signed =
        |key: &str, identity: &str| format!(r#"{{"type":"signedBy","keyType":"GPGKeys","keyPath":"{key}"{identity}}}"#);
    let reject_default =
        |scopes: String| format!(r#"{{"default":[{{"type":"reject"}}],"transports":{{"docker":{{{scopes}}}}}}}"#);
    vec![
        (
            "alice-on-lab",
            reject_default(format!(r#""{reg}/lab":[{}]"#, signed(alice, ""))),
        ),
        (
            "alice-and-bob",
            reject_default(format!(r#""{reg}/lab":[{},{}]"#, signed(alice, ""), signed(bob, ""))),
        ),
        (
            "alice-or-bob-keypaths",
            reject_default(format!(
                r#""{reg}":[{{"type":"signedBy","keyType":"GPGKeys","keyPaths":["{alice}","{bob}"]}}]"#
            )),
        ),
        (
            "alice-keydata-match-exact",
            reject_default(format!(
                r#""{reg}/lab/app":[{{"type":"signedBy","keyType":"GPGKeys","keyData":"{alice_data}","signedIdentity":{{"type":"matchExact"}}}}]"#
            )),
        ),
        (
            "alice-match-repository",
            reject_default(format!(
                r#""{reg}":[{}]"#,
                signed(alice, r#","signedIdentity":{"type":"matchRepository"}"#)
            )),
        ),
        (
            "alice-exact-reference",
            reject_default(format!(
                r#""{reg}":[{}]"#,
                signed(
                    alice,
                    &format!(
                        r#","signedIdentity":{{"type":"exactReference","dockerReference":"{reg}/lab/app:latest"}}"#
                    )
                )
            )),
        ),
        (
            "alice-exact-repository",
            reject_default(format!(
                r#""{reg}":[{}]"#,
                signed(
                    alice,
                    &format!(r#","signedIdentity":{{"type":"exactRepository","dockerRepository":"{reg}/other/tool"}}"#)
                )
            )),
        ),
        (
            "alice-remap",
            reject_default(format!(
                r#""{reg}/lab":[{}]"#,
                signed(
                    alice,
                    &format!(
                        r#","signedIdentity":{{"type":"remapIdentity","prefix":"{reg}/lab","signedPrefix":"vendor.example.com/lab"}}"#
                    )
                )
            )),
        ),
        (
            "wildcard-and-specific",
            format!(
                r#"{{"default":[{{"type":"reject"}}],"transports":{{"docker":{{"*.0.0.1":[{}],"{reg}/lab/app:2.0":[{{"type":"insecureAcceptAnything"}}],"{reg}/other":[{{"type":"reject"}}]}}}}}}"#,
                signed(bob, "")
            ),
        ),
        (
            "transport-default-scope",
            format!(
                r#"{{"default":[{{"type":"insecureAcceptAnything"}}],"transports":{{"docker":{{"":[{}],"{reg}/other/tool":[{{"type":"insecureAcceptAnything"}}]}}}}}}"#,
                signed(alice, "")
            ),
        ),
        (
            "expired-and-revoked-keys",
            reject_default(format!(
                r#""{reg}":[{{"type":"signedBy","keyType":"GPGKeys","keyPaths":["{expired}","{revoked}"]}}]"#
            )),
        ),
        (
            "accept-default-reject-lab",
            format!(
                r#"{{"default":[{{"type":"insecureAcceptAnything"}}],"transports":{{"docker":{{"{reg}/lab":[{{"type":"reject"}}]}}}}}}"#
            ),
        ),
    ]
}

/// Put `sigs` (in order) into a fresh lookaside for `image`; returns the
/// lookaside root and the image's signature directory.
fn lookaside(root: &Path, image: &Image, sigs: &[&Path]) -> PathBuf {
    let hex = image.digest.trim_start_matches("sha256:");
    let dir = root.join(format!("{}@sha256={hex}", image.repo));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, s) in sigs.iter().enumerate() {
        std::fs::copy(s, dir.join(format!("signature-{}", i + 1))).unwrap();
    }
    dir
}

fn skopeo_accepts(lab: &Lab, work: &Path, policy: &Path, store: &Path, image: &Image) -> bool {
    let regd = work.join("registries.d");
    std::fs::create_dir_all(&regd).unwrap();
    std::fs::write(
        regd.join("diff.yaml"),
        format!(
            "docker:\n  {}:\n    lookaside: file://{}\n",
            lab.var("LAB_REGISTRY"),
            store.display()
        ),
    )
    .unwrap();
    let dest = work.join("copy");
    let _ = std::fs::remove_dir_all(&dest);
    let o = run(lab
        .cmd("skopeo")
        .arg("--policy")
        .arg(policy)
        .arg("--registries.d")
        .arg(&regd)
        .args(["copy", "--src-tls-verify=false"])
        .arg(format!("docker://{}", image.reference))
        .arg(format!("dir:{}", dest.display())));
    let err = stderr(&o);
    if !o.status.success() {
        // Only policy rejections count; anything else is a broken test.
        assert!(
            err.contains("Source image rejected") || err.contains("rejected by policy"),
            "skopeo failed for another reason: {err}"
        );
    }
    o.status.success()
}

fn imgsig_accepts(policy: &Path, sigdir: &Path, image: &Image) -> (bool, serde_json::Value) {
    let o = run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(policy)
        .args(["--identity", &image.reference, "--manifest"])
        .arg(&image.manifest)
        .arg("--signatures")
        .arg(sigdir));
    let code = o.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "imgsig exit {code:?}: {}",
        stderr(&o)
    );
    (code == Some(0), json(&o))
}

#[test]
fn imgsig_and_skopeo_agree_on_every_case() {
    let lab = lab();
    let work = tempdir();
    let pool = signature_pool(lab, work.path());
    let get = |n: &str| pool.iter().find(|(k, _)| *k == n).map(|(_, p)| p.as_path()).unwrap();
    let sets: Vec<(&str, Vec<&str>)> = vec![
        ("none", vec![]),
        ("alice", vec!["alice-app1"]),
        ("bob", vec!["bob-app1"]),
        ("alice+bob", vec!["alice-app1", "bob-app1"]),
        ("garbage+alice", vec!["garbage", "alice-app1"]),
        ("app2-sigs", vec!["alice-app2", "bob-app2"]),
        ("expired+revoked", vec!["expired-app1", "revoked-app1"]),
        ("vendor-identity", vec!["alice-app1-as-vendor"]),
        (
            "latest-identity",
            vec!["alice-app1-as-latest", "alice-app1-name-only-repo"],
        ),
        ("tool", vec!["alice-tool"]),
    ];
    let mut cases = 0;
    let mut accepted = 0;
    let mut disagreements = Vec::new();
    for (pname, ptext) in policies(lab) {
        let policy = work.path().join(format!("{pname}.json"));
        std::fs::write(&policy, &ptext).unwrap();
        for image in images(lab) {
            for (sname, names) in &sets {
                let store = work.path().join(format!("store-{cases}"));
                let sigs: Vec<&Path> = names.iter().map(|n| get(n)).collect();
                let sigdir = lookaside(&store, &image, &sigs);
                let theirs = skopeo_accepts(lab, work.path(), &policy, &store, &image);
                let (ours, doc) = imgsig_accepts(&policy, &sigdir, &image);
                cases += 1;
                accepted += usize::from(ours);
                if theirs != ours {
                    disagreements.push(format!(
                        "policy {pname}, image {}, signatures {sname}: skopeo {}, imgsig {} ({})",
                        image.reference,
                        if theirs { "accepts" } else { "rejects" },
                        if ours { "accepts" } else { "rejects" },
                        doc["manifests"][0]["requirements"]
                    ));
                }
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {cases} cases disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    // The matrix must exercise both outcomes substantially.
    assert!(accepted > 20 && accepted < cases - 20, "accepted {accepted} of {cases}");
}
