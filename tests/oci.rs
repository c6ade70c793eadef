//! Images as built: `oci:` layouts and `oci-archive:` tars written by real
//! skopeo 1.9.3, signed by imgsig before they are pushed (then skopeo checks
//! the pushed image with imgsig's signature), and skopeo-signed images
//! verified by imgsig from their OCI copies (peer lab: registry, GnuPG,
//! lookaside on 127.0.0.1).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{assert_exit, imgsig, json, lab, run, stderr, tempdir, Lab};

/// `skopeo copy` with the lab's accept-anything policy and plain HTTP.
fn skopeo_copy(lab: &Lab, extra: &[&str], from: &str, to: &str) {
    let o = run(lab
        .cmd("skopeo")
        .arg("--policy")
        .arg(lab.path("LAB_POLICY_INSECURE"))
        .args(["copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false"])
        .args(extra)
        .args([from, to]));
    assert!(o.status.success(), "skopeo copy {from} {to}: {}", stderr(&o));
}

/// A repository of the lab registry no other test uses.
fn fresh_repo(lab: &Lab, name: &str) -> String {
    format!("{}/oci-test/{name}-{}", lab.var("LAB_REGISTRY"), std::process::id())
}

/// A policy for the lab registry's `oci-test` namespace needing alice, everything else rejected.
fn policy_alice_oci_test(lab: &Lab, dir: &Path) -> PathBuf {
    let p = dir.join("policy.json");
    let text = serde_json::json!({
        "default": [{"type": "reject"}],
        "transports": {"docker": {format!("{}/oci-test", lab.var("LAB_REGISTRY")):
            [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": lab.var("LAB_ALICE_PUB")}]}}
    });
    std::fs::write(&p, text.to_string()).unwrap();
    p
}

/// A registries.d whose lookaside for the lab registry is `store`.
fn registries_d(lab: &Lab, dir: &Path, store: &Path) -> PathBuf {
    let d = dir.join("registries.d");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("lab.yaml"),
        format!(
            "docker:\n  {}:\n    lookaside: file://{}\n",
            lab.var("LAB_REGISTRY"),
            store.display()
        ),
    )
    .unwrap();
    d
}

fn imgsig_sign(lab: &Lab, dir: &Path, identity: &str, store: &Path, image: &str) -> Output {
    let key = lab.export_secret_key(lab.var("LAB_ALICE_FPR"), dir, "alice.sec");
    run(imgsig()
        .args(["sign", "--output", "json", "--key"])
        .arg(&key)
        .args(["--identity", identity, "--lookaside-dir"])
        .arg(store)
        .arg(image))
}

/// skopeo pulls `reference` (one platform, as a pull does) under `policy`, its
/// signatures read from `regd`'s lookaside.
fn skopeo_pull_checked(lab: &Lab, policy: &Path, regd: &Path, reference: &str, to: &Path) -> Output {
    run(lab
        .cmd("skopeo")
        .arg("--policy")
        .arg(policy)
        .arg("--registries.d")
        .arg(regd)
        .args(["copy", "-q", "--src-tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .arg(format!("dir:{}", to.display())))
}

#[test]
fn layout_signed_before_push_is_accepted_by_skopeo_after_push() {
    let lab = lab();
    let dir = tempdir();
    let layout = dir.path().join("layout");
    skopeo_copy(
        lab,
        &[],
        &format!("docker://{}", lab.var("LAB_IMG_APP1")),
        &format!("oci:{}:1.0", layout.display()),
    );
    let target = format!("{}:1.0", fresh_repo(lab, "app"));
    let store = dir.path().join("store");
    let o = imgsig_sign(
        lab,
        dir.path(),
        &target,
        &store,
        &format!("oci:{}:1.0", layout.display()),
    );
    assert_exit(&o, 0);
    let doc = json(&o);
    let signed = doc["images"][0]["signatures"][0]["manifest_digest"]
        .as_str()
        .or_else(|| doc["signatures"][0]["manifest_digest"].as_str())
        .unwrap_or_else(|| panic!("no digest in {doc}"))
        .to_owned();
    assert_eq!(signed, lab.var("LAB_IMG_APP1_DIGEST"));

    // Nothing is pushed yet: now push, keeping the digest, and let skopeo judge it.
    skopeo_copy(
        lab,
        &["--preserve-digests"],
        &format!("oci:{}:1.0", layout.display()),
        &format!("docker://{target}"),
    );
    let policy = policy_alice_oci_test(lab, dir.path());
    let regd = registries_d(lab, dir.path(), &store);
    let o = skopeo_pull_checked(lab, &policy, &regd, &target, &dir.path().join("pulled"));
    assert!(o.status.success(), "skopeo refused imgsig's signature: {}", stderr(&o));

    // skopeo standalone-verify agrees on the manifest the registry serves.
    let m = run(lab
        .cmd("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{target}")));
    let manifest = dir.path().join("manifest.json");
    std::fs::write(&manifest, &m.stdout).unwrap();
    let hex = signed.trim_start_matches("sha256:");
    let repo_path = target.split_once('/').unwrap().1.rsplit_once(':').unwrap().0;
    let sig = store.join(format!("{repo_path}@sha256={hex}/signature-1"));
    let o = run(lab
        .cmd("skopeo")
        .arg("standalone-verify")
        .arg(&manifest)
        .args([target.as_str(), lab.var("LAB_ALICE_FPR")])
        .arg(&sig));
    assert!(o.status.success(), "skopeo standalone-verify: {}", stderr(&o));

    // The check is real: with an empty lookaside skopeo refuses the same image.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let regd_empty = registries_d(lab, &dir.path().join("e"), &empty);
    let o = skopeo_pull_checked(lab, &policy, &regd_empty, &target, &dir.path().join("pulled2"));
    assert!(!o.status.success(), "skopeo accepted an unsigned image");
}

#[test]
fn archive_of_a_multi_platform_image_signed_with_every_instance() {
    let lab = lab();
    let dir = tempdir();
    let archive = dir.path().join("multi.tar");
    skopeo_copy(
        lab,
        &["--all"],
        &format!("docker://{}", lab.var("LAB_IMG_MULTI")),
        &format!("oci-archive:{}:multi", archive.display()),
    );
    let target = format!("{}:1.0", fresh_repo(lab, "multi"));
    let store = dir.path().join("store");
    let o = imgsig_sign(
        lab,
        dir.path(),
        &target,
        &store,
        &format!("oci-archive:{}", archive.display()),
    );
    assert_exit(&o, 0);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    // The index and both instances (amd64, arm64/v8).
    assert_eq!(text.matches("\"manifest_digest\"").count(), 3, "{text}");
    assert!(text.contains(lab.var("LAB_IMG_MULTI_DIGEST")), "{text}");

    skopeo_copy(
        lab,
        &["--all", "--preserve-digests"],
        &format!("oci-archive:{}:multi", archive.display()),
        &format!("docker://{target}"),
    );
    // A pull checks the index and this platform's instance, each by its own signature.
    let policy = policy_alice_oci_test(lab, dir.path());
    let regd = registries_d(lab, dir.path(), &store);
    let o = skopeo_pull_checked(lab, &policy, &regd, &target, &dir.path().join("pulled"));
    assert!(o.status.success(), "skopeo refused imgsig's signatures: {}", stderr(&o));
}

fn verify(args: &[&str], image: &str) -> Output {
    run(imgsig().args(["verify", "--output", "json"]).args(args).arg(image))
}

#[test]
fn skopeo_signed_image_verifies_from_its_oci_copies() {
    let lab = lab();
    let dir = tempdir();
    let layout = dir.path().join("layout");
    let archive = dir.path().join("app.tar");
    let src = format!("docker://{}", lab.var("LAB_IMG_APP1"));
    skopeo_copy(lab, &[], &src, &format!("oci:{}:1.0", layout.display()));
    skopeo_copy(lab, &[], &src, &format!("oci-archive:{}:1.0", archive.display()));
    let sigstore = lab.var("LAB_SIGSTORE");
    for image in [
        format!("oci:{}:1.0", layout.display()),
        format!("oci-archive:{}", archive.display()),
    ] {
        // Judged as the registry image it was copied from (the docker scope).
        let o = verify(
            &[
                "--policy",
                lab.var("LAB_POLICY_ALICE"),
                "--identity",
                lab.var("LAB_IMG_APP1"),
                "--lookaside",
                sigstore,
            ],
            &image,
        );
        assert_exit(&o, 0);
        let doc = json(&o);
        assert_eq!(doc["transport"], "docker", "{doc}");
        assert_eq!(
            doc["verified_reference"],
            format!("{}/lab/app@{}", lab.var("LAB_REGISTRY"), lab.var("LAB_IMG_APP1_DIGEST"))
        );
        // Bob's policy rejects the same image: the signature was judged.
        let o = verify(
            &[
                "--policy",
                lab.var("LAB_POLICY_BOB"),
                "--identity",
                lab.var("LAB_IMG_APP1"),
                "--lookaside",
                sigstore,
            ],
            &image,
        );
        assert_exit(&o, 1);
    }

    // Under the oci scopes of the policy, by path (symbolic links resolved, then parents).
    let real = std::fs::canonicalize(dir.path()).unwrap();
    let sigs = Path::new(sigstore).join(format!(
        "lab/app@sha256={}",
        lab.var("LAB_IMG_APP1_DIGEST").trim_start_matches("sha256:")
    ));
    let alice = |identity: serde_json::Value| {
        serde_json::json!([{"type": "signedBy", "keyType": "GPGKeys", "keyPath": lab.var("LAB_ALICE_PUB"),
            "signedIdentity": identity}])
    };
    let exact = alice(serde_json::json!({"type": "exactReference", "dockerReference": lab.var("LAB_IMG_APP1")}));
    let policy = dir.path().join("oci-policy.json");
    std::fs::write(
        &policy,
        serde_json::json!({"default": [{"type": "reject"}], "transports": {
            "oci": {real.display().to_string(): exact},
            "oci-archive": {real.join("app.tar").display().to_string(): alice(serde_json::json!({"type": "matchRepoDigestOrExact"}))},
        }})
        .to_string(),
    )
    .unwrap();
    std::os::unix::fs::symlink(&layout, dir.path().join("link")).unwrap();
    let o = verify(
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--signatures",
            sigs.to_str().unwrap(),
        ],
        &format!("oci:{}:1.0", dir.path().join("link").display()),
    );
    assert_exit(&o, 0);
    let doc = json(&o);
    assert_eq!(
        doc["scope"]["matched"],
        format!("transports.oci[{:?}]", real.display().to_string())
    );
    assert_eq!(doc["image"], format!("oci:{}", real.join("layout").display()));
    // An oci: image has no docker reference: rules that compare with it match nothing.
    let o = verify(
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--signatures",
            sigs.to_str().unwrap(),
        ],
        &format!("oci-archive:{}", archive.display()),
    );
    assert_exit(&o, 1);
    assert!(
        o.stdout.windows(17).any(|w| w == b"identity-mismatch"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn multi_platform_oci_copy_verifies_every_instance() {
    let lab = lab();
    let dir = tempdir();
    let layout = dir.path().join("multi");
    skopeo_copy(
        lab,
        &["--all"],
        &format!("docker://{}", lab.var("LAB_IMG_MULTI")),
        &format!("oci:{}:1.0", layout.display()),
    );
    let o = verify(
        &[
            "--policy",
            lab.var("LAB_POLICY_ALICE"),
            "--all-platforms",
            "--identity",
            lab.var("LAB_IMG_MULTI"),
            "--lookaside",
            lab.var("LAB_SIGSTORE"),
        ],
        &format!("oci:{}:1.0", layout.display()),
    );
    assert_exit(&o, 0);
    assert_eq!(json(&o)["manifests"].as_array().unwrap().len(), 3);

    // Under an `oci` scope, `--signatures DIR` holds the index's signatures, never its
    // instances': the hint says what works for a layout (not "a dir: image, or docker://").
    let policy = dir.path().join("oci-policy.json");
    let scope = serde_json::json!({"default": [{"type": "reject"}], "transports": {"oci": {"": [
        {"type": "signedBy", "keyType": "GPGKeys", "keyPath": lab.var("LAB_ALICE_PUB")}]}}});
    std::fs::write(&policy, scope.to_string()).unwrap();
    let sigs = dir.path().join("sigs");
    std::fs::create_dir(&sigs).unwrap();
    let o = verify(
        &[
            "--policy",
            policy.to_str().unwrap(),
            "--signatures",
            sigs.to_str().unwrap(),
        ],
        &format!("oci:{}:1.0", layout.display()),
    );
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "instance-signatures-unavailable");
    let err = stderr(&o);
    assert!(
        err.contains("\nhint: give --identity REF with --lookaside DIR (or a registries.d lookaside for REF), where each instance's signatures are found by its digest; the image is then judged as REF\n"),
        "{err}"
    );
    assert!(!err.contains("docker://"), "{err}");
}

/// The error's code, wherever the command's document carries it (`error`, or an image's entry in `errors`).
fn error_code(o: &Output) -> String {
    fn find(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::Object(m) => m
                .get("code")
                .and_then(|c| c.as_str().map(str::to_owned))
                .or_else(|| m.values().find_map(find)),
            serde_json::Value::Array(a) => a.iter().find_map(find),
            _ => None,
        }
    }
    find(&json(o)).unwrap_or_default()
}

#[test]
fn layouts_that_cannot_be_signed_say_why() {
    let lab = lab();
    let dir = tempdir();
    let store = dir.path().join("store");
    let shared = lab.var("LAB_OCI_LAYOUT");
    let id = format!("{}:1.0", fresh_repo(lab, "x"));
    // Several images and none named: the names are listed.
    let o = imgsig_sign(lab, dir.path(), &id, &store, &format!("oci:{shared}"));
    assert_exit(&o, 2);
    assert_eq!(error_code(&o), "oci-image-not-found");
    assert!(stderr(&o).contains("\"app-1.0\""), "{}", stderr(&o));
    let o = imgsig_sign(lab, dir.path(), &id, &store, &format!("oci:{shared}:nope"));
    assert_exit(&o, 2);
    assert_eq!(error_code(&o), "oci-image-not-found");
    // No --identity: said before any key is read.
    let o = run(imgsig()
        .args(["sign", "--output", "json", "--key", "/nonexistent", "--lookaside-dir"])
        .arg(&store)
        .arg(format!("oci:{shared}:app-1.0")));
    assert_exit(&o, 2);
    assert_eq!(error_code(&o), "identity-required");
    assert!(stderr(&o).contains("--identity REF"), "{}", stderr(&o));

    // A damaged manifest blob: no registry would serve it under that digest.
    let layout = dir.path().join("layout");
    skopeo_copy(
        lab,
        &[],
        &format!("docker://{}", lab.var("LAB_IMG_APP1")),
        &format!("oci:{}:1.0", layout.display()),
    );
    let blob = layout.join(format!(
        "blobs/sha256/{}",
        lab.var("LAB_IMG_APP1_DIGEST").trim_start_matches("sha256:")
    ));
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes.push(b' ');
    std::fs::write(&blob, bytes).unwrap();
    let o = imgsig_sign(lab, dir.path(), &id, &store, &format!("oci:{}:1.0", layout.display()));
    assert_exit(&o, 1);
    assert_eq!(error_code(&o), "manifest-digest-mismatch");
    assert!(!store.exists(), "nothing may be stored for a damaged layout");
    let o = verify(
        &[
            "--policy",
            lab.var("LAB_POLICY_ALICE"),
            "--identity",
            lab.var("LAB_IMG_APP1"),
            "--lookaside",
            lab.var("LAB_SIGSTORE"),
        ],
        &format!("oci:{}:1.0", layout.display()),
    );
    assert_exit(&o, 1);
    assert_eq!(json(&o)["rejection"]["code"], "manifest-digest-mismatch");

    // A compressed archive is named as such.
    let gz = dir.path().join("app.tar.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0].repeat(100)).unwrap();
    let o = imgsig_sign(lab, dir.path(), &id, &store, &format!("oci-archive:{}", gz.display()));
    assert_exit(&o, 2);
    assert_eq!(error_code(&o), "invalid-oci-layout");
    assert!(stderr(&o).contains("compressed"), "{}", stderr(&o));
}

#[test]
fn unsupported_transports_name_the_way_out() {
    for image in [
        "docker-archive:/tmp/app.tar",
        "docker-daemon:app:1.0",
        "containers-storage:localhost/app:1.0",
    ] {
        let o = run(imgsig()
            .args([
                "sign",
                "--output",
                "json",
                "--key",
                "/nonexistent",
                "--identity",
                "example.com/app:1",
            ])
            .arg(image));
        assert_exit(&o, 2);
        assert_eq!(error_code(&o), "unsupported-transport");
        assert!(stderr(&o).contains("skopeo copy"), "{}", stderr(&o));
        let o = run(imgsig()
            .args(["verify", "--output", "json", "--policy", "/nonexistent"])
            .arg(image));
        assert_exit(&o, 2);
        assert_eq!(error_code(&o), "unsupported-transport");
        assert!(stderr(&o).contains("oci:DIR:TAG"), "{}", stderr(&o));
    }
    // In a list, too: never taken for a registry reference (`docker-archive` is a valid host name).
    let dir = tempdir();
    let list = dir.path().join("list.txt");
    std::fs::write(&list, "docker-archive:app.tar\n").unwrap();
    let o = run(imgsig()
        .args(["verify", "--policy", lab().var("LAB_POLICY_ALICE"), "--from-file"])
        .arg(&list));
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("transport is not supported"), "{}", stderr(&o));
}

#[test]
fn archive_written_by_gnu_tar_reads_too() {
    // `tar -C layout -cf x.tar .`: GNU format, `./` names, directory entries.
    let lab = lab();
    let dir = tempdir();
    let layout = dir.path().join("layout");
    skopeo_copy(
        lab,
        &[],
        &format!("docker://{}", lab.var("LAB_IMG_APP1")),
        &format!("oci:{}:1.0", layout.display()),
    );
    let archive = dir.path().join("gnu.tar");
    let o = run(std::process::Command::new("tar")
        .arg("-C")
        .arg(&layout)
        .arg("-cf")
        .arg(&archive)
        .arg("."));
    assert!(o.status.success(), "tar: {}", stderr(&o));
    let o = verify(
        &[
            "--policy",
            lab.var("LAB_POLICY_ALICE"),
            "--identity",
            lab.var("LAB_IMG_APP1"),
            "--lookaside",
            lab.var("LAB_SIGSTORE"),
        ],
        &format!("oci-archive:{}:1.0", archive.display()),
    );
    assert_exit(&o, 0);
}

/// skopeo copies an image out of `from` (an oci: or oci-archive: reference) under `policy`.
fn skopeo_allows(lab: &Lab, policy: &Path, from: &str, to: &Path) -> bool {
    run(lab
        .cmd("skopeo")
        .arg("--policy")
        .arg(policy)
        .args(["copy", "-q", from])
        .arg(format!("dir:{}", to.display())))
    .status
    .success()
}

#[test]
fn oci_scopes_are_looked_up_as_skopeo_does() {
    // The same policy, the same images: skopeo's verdict and imgsig's agree, and imgsig
    // names the scope (resolved path through a symbolic link, then parent directories).
    let lab = lab();
    let dir = tempdir();
    let real = std::fs::canonicalize(dir.path()).unwrap();
    let src = format!("docker://{}", lab.var("LAB_IMG_APP1"));
    for name in ["accepted", "other"] {
        skopeo_copy(lab, &[], &src, &format!("oci:{}:1.0", real.join(name).display()));
        skopeo_copy(
            lab,
            &[],
            &src,
            &format!("oci-archive:{}:1.0", real.join(format!("{name}.tar")).display()),
        );
    }
    std::fs::create_dir(real.join("links")).unwrap();
    std::os::unix::fs::symlink(real.join("accepted"), real.join("links/l")).unwrap();
    let path = |p: &str| real.join(p).display().to_string();
    let policy = real.join("policy.json");
    std::fs::write(
        &policy,
        serde_json::json!({"default": [{"type": "reject"}], "transports": {
            "oci": {path("accepted"): [{"type": "insecureAcceptAnything"}], real.display().to_string(): [{"type": "reject"}]},
            "oci-archive": {path("accepted.tar"): [{"type": "insecureAcceptAnything"}]},
        }})
        .to_string(),
    )
    .unwrap();
    let cases = [
        (
            format!("oci:{}:1.0", path("links/l")),
            true,
            format!("transports.oci[{:?}]", path("accepted")),
        ),
        (
            format!("oci:{}:1.0", path("other")),
            false,
            format!("transports.oci[{:?}]", real.display().to_string()),
        ),
        (
            format!("oci-archive:{}", path("accepted.tar")),
            true,
            format!("transports.oci-archive[{:?}]", path("accepted.tar")),
        ),
        (
            format!("oci-archive:{}", path("other.tar")),
            false,
            "default".to_owned(),
        ),
    ];
    for (i, (image, allowed, scope)) in cases.iter().enumerate() {
        let by_skopeo = skopeo_allows(lab, &policy, image, &real.join(format!("out{i}")));
        assert_eq!(by_skopeo, *allowed, "skopeo on {image}");
        let o = verify(&["--policy", policy.to_str().unwrap()], image);
        assert_exit(&o, if *allowed { 0 } else { 1 });
        assert_eq!(json(&o)["scope"]["matched"], scope.as_str(), "{image}");
    }
}

#[test]
fn without_lookaside_dir_signatures_go_where_registries_d_stages_them() {
    let lab = lab();
    let dir = tempdir();
    let layout = dir.path().join("layout");
    skopeo_copy(
        lab,
        &[],
        &format!("docker://{}", lab.var("LAB_IMG_APP1")),
        &format!("oci:{}:1.0", layout.display()),
    );
    let staging = dir.path().join("staging");
    let regd = dir.path().join("registries.d");
    std::fs::create_dir_all(&regd).unwrap();
    std::fs::write(
        regd.join("lab.yaml"),
        format!(
            "docker:\n  {}:\n    lookaside-staging: file://{}\n",
            lab.var("LAB_REGISTRY"),
            staging.display()
        ),
    )
    .unwrap();
    let key = lab.export_secret_key(lab.var("LAB_ALICE_FPR"), dir.path(), "alice.sec");
    let target = format!("{}:1.0", fresh_repo(lab, "staged"));
    let o = run(imgsig()
        .args(["sign", "--output", "json", "--key"])
        .arg(&key)
        .args(["--identity", &target, "--tls-verify=false", "--registries-d"])
        .arg(&regd)
        .arg(format!("oci:{}:1.0", layout.display())));
    assert_exit(&o, 0);
    let repo_path = target.split_once('/').unwrap().1.rsplit_once(':').unwrap().0;
    let hex = lab.var("LAB_IMG_APP1_DIGEST").trim_start_matches("sha256:");
    assert!(staging.join(format!("{repo_path}@sha256={hex}/signature-1")).is_file());
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("registries.d"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}
