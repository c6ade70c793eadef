//! Sigstore attachments in a real registry (the peer lab's docker-registry):
//! an independent signer (tests/scripts/cosign_attach.py: Python's
//! `cryptography`, not imgsig's code) signs a lab image as cosign does and
//! pushes the attachment (`sha256-<hex>.sig`, one OCI layer); imgsig reads it
//! when registries.d says `use-sigstore-attachments: true`, judges it under a
//! `sigstoreSigned` policy online, and `fetch` carries it into a mirror that
//! `verify --offline` accepts by tag.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::online::{cmd, go};
use common::{assert_exit, lab, repo, stderr, stdout, tempdir, Lab};

/// Copy app:1.0 into a repository of its own (real skopeo) and attach a
/// signature made with a fresh key; returns (image, digest) and writes the key.
fn cosigned(lab: &Lab, name: &str, key: &Path) -> (String, String) {
    let reg = lab.var("LAB_REGISTRY");
    let image = format!("{reg}/lab/{name}:1.0");
    let o = Command::new("skopeo")
        .args(["copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false"])
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1")))
        .arg(format!("docker://{image}"))
        .output()
        .expect("skopeo");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let digest = lab.var("LAB_IMG_APP1_DIGEST").to_owned();
    // cosign signs the repository, without the tag.
    let o = Command::new("python3")
        .arg(repo().join("tests/scripts/cosign_attach.py"))
        .args([reg, &format!("lab/{name}"), &digest, &format!("{reg}/lab/{name}")])
        .arg(key)
        .output()
        .expect("python3");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (image, digest)
}

/// registries.d for the lab registry, with or without the attachments.
fn registries_d(dir: &Path, lab: &Lab, attachments: bool) -> std::path::PathBuf {
    let d = dir.join(if attachments { "rd-attach" } else { "rd-plain" });
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("lab.yaml"),
        format!(
            "docker:\n  {}:\n    lookaside: {}\n    use-sigstore-attachments: {attachments}\n",
            lab.var("LAB_REGISTRY"),
            lab.var("LAB_LOOKASIDE_URL")
        ),
    )
    .unwrap();
    d
}

fn policy(dir: &Path, lab: &Lab, name: &str, key: &Path) -> std::path::PathBuf {
    let p = dir.join(format!("policy-{}.json", key.file_stem().unwrap().to_string_lossy()));
    let scope = format!("{}/lab/{name}", lab.var("LAB_REGISTRY"));
    std::fs::write(
        &p,
        serde_json::to_vec(&serde_json::json!({
            "default": [{"type": "reject"}],
            "transports": {"docker": {scope: [{"type": "sigstoreSigned", "keyPath": key,
                "signedIdentity": {"type": "matchRepository"}}]}}
        }))
        .unwrap(),
    )
    .unwrap();
    p
}

/// The image's document (one image named: the whole output).
fn json(o: &Output) -> serde_json::Value {
    let out = stdout(o);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{}", stderr(o)))
}

fn verify(policy: &Path, rd: &Path, image: &str) -> Output {
    go(cmd()
        .args(["verify", "--output", "json", "--tls-verify=false", "--policy"])
        .arg(policy)
        .arg("--registries-d")
        .arg(rd)
        .arg(format!("docker://{image}")))
}

#[test]
fn sigstore_attachments_are_read_online_and_carried_into_a_mirror() {
    let lab = lab();
    let dir = tempdir();
    let name = format!("cosigned-{}", std::process::id());
    let key = dir.path().join("cosign.pub");
    let (image, digest) = cosigned(lab, &name, &key);
    let rd = registries_d(dir.path(), lab, true);
    let p = policy(dir.path(), lab, &name, &key);

    // Online: the attachment is read and the signature accepted.
    let o = verify(&p, &rd, &image);
    assert_exit(&o, 0);
    let doc = json(&o);
    let sig = &doc["manifests"][0]["requirements"][0]["signatures"][0];
    assert_eq!(sig["verdict"], "accepted", "{doc}");
    assert_eq!(sig["signed_digest"], digest.as_str());
    assert!(sig["source"].as_str().unwrap().contains("/blobs/sha256:"), "{sig}");

    // Without use-sigstore-attachments the registry's attachments are not read:
    // no signature at all, as containers/image.
    let o = verify(&p, &registries_d(dir.path(), lab, false), &image);
    assert_exit(&o, 1);
    assert_eq!(json(&o)["manifests"][0]["requirements"][0]["reason"], "no-signatures");

    // Another key: rejected on the signature.
    let other = dir.path().join("other.pub");
    cosigned(lab, &format!("{name}-other"), &other);
    let o = verify(&policy(dir.path(), lab, &name, &other), &rd, &image);
    assert_exit(&o, 1);
    assert_eq!(
        json(&o)["manifests"][0]["requirements"][0]["signatures"][0]["reason"],
        "sigstore-bad-signature"
    );

    // fetch carries the attachment into the mirror in the typed format...
    let mirror = dir.path().join("mirror");
    let o = go(cmd()
        .args(["fetch", "--tls-verify=false", "--to"])
        .arg(&mirror)
        .arg("--registries-d")
        .arg(&rd)
        .arg(format!("docker://{image}")));
    assert_exit(&o, 0);
    let stored = std::fs::read(
        mirror
            .join(format!("lab/{name}@{}", digest.replace(':', "=")))
            .join("signature-1"),
    )
    .unwrap();
    assert!(stored.starts_with(b"\0sigstore-json\n"), "{}", stderr(&o));
    // ...and offline verification by tag accepts it, with no network at all.
    let o = go(cmd()
        .args(["verify", "--offline", "--policy"])
        .arg(&p)
        .arg("--lookaside")
        .arg(&mirror)
        .arg(format!("docker://{image}")));
    assert_exit(&o, 0);
}
