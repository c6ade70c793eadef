//! Issue 24 §3: a manifest that repeats a member is refused, in every schema.
//!
//! A signed schema 1 manifest's digest covers only `content[:formatLength] +
//! formatTail`, so a second `"fsLayers"` after `formatLength` keeps the
//! digest (and every signature) valid while Go's encoding/json, which takes
//! the last of repeated members, would pull the unsigned layers. skopeo
//! accepts it; imgsig rejects the image (exit 1, `manifest-duplicate-member`,
//! the same class as a registry serving other bytes than the digest:
//! `manifest-digest-mismatch`), refuses to sign such a manifest file (exit 2:
//! the file given is unusable) and leaves valid manifests alone.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{assert_exit, fixture, imgsig, json, repo, run, stderr, stdout, tempdir, DEMO_ID};
use imgsig::manifest::manifest_digest;

const CODE: &str = "manifest-duplicate-member";

/// A policy trusting the demo key for every image.
fn policy(dir: &Path) -> PathBuf {
    let p = dir.join("policy.json");
    let doc = serde_json::json!({"default": [{"type": "signedBy", "keyType": "GPGKeys",
        "keyPath": repo().join("examples/demo-signer.pub.asc")}]});
    std::fs::write(&p, doc.to_string()).unwrap();
    p
}

/// A signature by the demo key for `digest` as [`DEMO_ID`] (by digest: the
/// signer need not see the manifest, so nothing stops it signing this one).
fn sign_digest(dir: &Path, digest: &str) -> PathBuf {
    let out = dir.join(format!("{}.sig", &digest[7..19]));
    let o = run(imgsig()
        .args(["sign", "--key"])
        .arg(repo().join("examples/demo-signer.secret.asc"))
        .args(["--identity", DEMO_ID, "--digest", digest, "-o"])
        .arg(&out));
    assert_exit(&o, 0);
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn verify(policy: &Path, manifest: &Path, sig: &Path, json_out: bool) -> Output {
    let mut c = imgsig();
    c.args(["verify", "--policy"])
        .arg(policy)
        .args(["--identity", DEMO_ID, "--manifest"])
        .arg(manifest)
        .arg(sig);
    if json_out {
        c.args(["--output", "json"]);
    }
    run(&mut c)
}

/// The manifest is rejected as a whole, naming the repeated member's path.
#[track_caller]
fn assert_refused(policy: &Path, manifest: &Path, sig: &Path, path: &str) {
    let o = verify(policy, manifest, sig, true);
    assert_exit(&o, 1);
    let d = json(&o);
    assert_eq!(d["verdict"], "rejected", "{d}");
    assert_eq!(d["rejection"]["code"], CODE, "{d}");
    assert!(
        d["rejection"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("duplicate member {path} ")),
        "{d}"
    );
    assert!(d["verified_reference"].is_null(), "{d}");
    let o = verify(policy, manifest, sig, false);
    assert_exit(&o, 1);
    assert!(stdout(&o).is_empty(), "no name@digest to pull: {}", stdout(&o));
    assert!(
        stderr(&o).contains(&format!("duplicate member {path} ")),
        "{}",
        stderr(&o)
    );
}

/// Insert `extra` into `text` right after the first occurrence of `after`.
fn insert_after(text: &str, after: &str, extra: &str) -> String {
    let at = text.find(after).unwrap_or_else(|| panic!("{after:?} not found")) + after.len();
    format!("{}{extra}{}", &text[..at], &text[at..])
}

#[test]
fn schema1_layers_repeated_after_format_length_keep_the_digest_and_are_rejected() {
    let dir = tempdir();
    let policy = policy(dir.path());
    let signed = std::fs::read_to_string(fixture("manifests/v2s1.manifest.json")).unwrap();
    // formatLength ends the signed part just before `,\n   "signatures"`.
    let end = signed[..signed.rfind("\"signatures\"").unwrap()].rfind(',').unwrap();
    let digest = manifest_digest(signed.as_bytes()).unwrap();
    let sig = sign_digest(dir.path(), &digest.to_string());
    let good = write(dir.path(), "good.json", signed.as_bytes());
    let o = verify(&policy, &good, &sig, false);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o).trim(), format!("registry.example.com/demo/app@{digest}"));

    let evil_layers = format!(r#""fsLayers": [{{"blobSum": "sha256:{}"}}]"#, "e".repeat(64));
    for key in ["fsLayers", "FSLayers"] {
        let extra = format!(",\n   {}", evil_layers.replacen("fsLayers", key, 1));
        let evil = format!("{}{extra}{}", &signed[..end], &signed[end..]);
        // The attack: same digest, so the signature still covers it.
        assert_eq!(manifest_digest(evil.as_bytes()).unwrap(), digest, "{key}");
        let m = write(dir.path(), &format!("{key}.json"), evil.as_bytes());
        assert_refused(&policy, &m, &sig, key);
        // Signing it from the file is refused as unusable input.
        let o = run(imgsig()
            .args(["sign", "--key"])
            .arg(repo().join("examples/demo-signer.secret.asc"))
            .args(["--identity", DEMO_ID, "--manifest"])
            .arg(&m)
            .args(["-o"])
            .arg(dir.path().join(format!("{key}.new.sig"))));
        assert_exit(&o, 2);
        assert!(
            stderr(&o).contains(&format!("duplicate member {key} ")),
            "{}",
            stderr(&o)
        );
        assert!(!dir.path().join(format!("{key}.new.sig")).exists());
    }
}

#[test]
fn nested_duplicates_in_schema2_oci_and_index_manifests_are_rejected() {
    let dir = tempdir();
    let policy = policy(dir.path());
    let text = |f: &str| std::fs::read_to_string(fixture(&format!("manifests/{f}"))).unwrap();
    #[rustfmt::skip]
    let cases = [
        ("v2s2.manifest.json", "\"layers\": [\n        {", "\"size\": 1,", "layers[0].size"),
        ("ociv1.manifest.json", "\"config\": {", "\"digest\": \"sha256:00\",", "config.digest"),
        ("ociv1.manifest.json", "\"annotations\": {", "\"com.example.key2\": \"v\",", r#"annotations["com.example.key2"]"#),
        ("ociv1.image.index.json", "\"platform\": {", "\"architecture\": \"amd64\",", "manifests[0].platform.architecture"),
    ];
    for (file, after, extra, path) in cases {
        let evil = insert_after(&text(file), after, extra);
        let m = write(dir.path(), &format!("evil-{file}"), evil.as_bytes());
        let sig = sign_digest(dir.path(), &manifest_digest(evil.as_bytes()).unwrap().to_string());
        assert_refused(&policy, &m, &sig, path);
    }
    // Refused before any requirement is looked at: even a policy accepting anything.
    let anything = write(
        dir.path(),
        "anything.json",
        br#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    );
    let evil = insert_after(&text("v2s2.manifest.json"), "\"config\": {", "\"size\": 1,");
    let m = write(dir.path(), "evil.json", evil.as_bytes());
    let o = verify(&anything, &m, &m, true);
    assert_exit(&o, 1);
    assert_eq!(json(&o)["rejection"]["code"], CODE);
}

#[test]
fn valid_manifests_verify_as_before() {
    let dir = tempdir();
    let policy = policy(dir.path());
    for file in [
        "v2s2.manifest.json",
        "ociv1.manifest.json",
        "v2s1-unsigned.manifest.json",
    ] {
        let m = fixture(&format!("manifests/{file}"));
        let digest = manifest_digest(&std::fs::read(&m).unwrap()).unwrap();
        let sig = sign_digest(dir.path(), &digest.to_string());
        let o = verify(&policy, &m, &sig, false);
        assert_exit(&o, 0);
        assert_eq!(
            stdout(&o).trim(),
            format!("registry.example.com/demo/app@{digest}"),
            "{file}"
        );
    }
    // Keys that differ only in case are distinct annotations (a map to Go).
    let text = std::fs::read_to_string(fixture("manifests/ociv1.manifest.json")).unwrap();
    let m = write(
        dir.path(),
        "case.json",
        insert_after(&text, "\"annotations\": {", "\"COM.EXAMPLE.KEY2\": \"v\",").as_bytes(),
    );
    let sig = sign_digest(
        dir.path(),
        &manifest_digest(&std::fs::read(&m).unwrap()).unwrap().to_string(),
    );
    assert_exit(&verify(&policy, &m, &sig, false), 0);
}

/// From the real registry (docker-registry stores the bytes as pushed, Go
/// having read the last member): verify rejects the image and fetch refuses
/// to mirror it, both exit 1 like a registry serving other bytes; skopeo
/// (the reference) reads the same manifest without complaint.
#[test]
fn a_registry_serving_a_repeated_member_is_refused() {
    let lab = common::lab();
    let dir = tempdir();
    let good = std::fs::read_to_string(lab.path("LAB_DIR").join("manifests/lab_app_1.0.json")).unwrap();
    let evil = insert_after(&good, "{", "\"schemaVersion\":2,");
    let m = write(dir.path(), "evil.json", evil.as_bytes());
    let registry = lab.var("LAB_REGISTRY");
    let put = run(std::process::Command::new("curl")
        .args([
            "-sf",
            "-X",
            "PUT",
            "-H",
            "Content-Type: application/vnd.oci.image.manifest.v1+json",
        ])
        .arg("--data-binary")
        .arg(format!("@{}", m.display()))
        .arg(format!("http://{registry}/v2/lab/app/manifests/dup-member")));
    assert!(put.status.success(), "push: {}", stderr(&put));
    let image = format!("docker://{registry}/lab/app:dup-member");
    let skopeo = run(lab
        .cmd("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", &image]));
    assert_eq!(skopeo.stdout, evil.as_bytes(), "{}", stderr(&skopeo));

    let net = common::online::lab_net(lab);
    let mut c = common::online::cmd();
    c.args(["verify", "--output", "json", "--policy", lab.var("LAB_POLICY_INSECURE")])
        .args(&net)
        .arg(&image);
    let o = common::online::go(&mut c);
    assert_exit(&o, 1);
    // One image named: its document is the whole output.
    let first = json(&o);
    assert_eq!(first["rejection"]["code"], CODE, "{first}");
    assert!(first["verified_reference"].is_null());

    let mirror = dir.path().join("mirror");
    let mut c = common::online::cmd();
    c.args(["fetch", "--output", "json", "--to"])
        .arg(&mirror)
        .args(&net)
        .arg(&image);
    let o = common::online::go(&mut c);
    assert_exit(&o, 1);
    assert_eq!(json(&o)["error"]["code"], CODE, "{}", stdout(&o));
    assert!(stderr(&o).contains("duplicate member schemaVersion "), "{}", stderr(&o));
    assert_eq!(json(&o)["manifests"], serde_json::json!([]), "nothing written");
}
