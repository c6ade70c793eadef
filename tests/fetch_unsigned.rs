//! `fetch` says what a mirror lacks and what it replaced: an image mirrored
//! without a single signature is warned about (naming where fetch looked),
//! counted, and fails the run (exit 1) unless `--allow-unsigned`; a moved
//! tag's record names the digest it recorded before. Against the peer lab's
//! real registry and lookaside.

mod common;

use std::path::Path;
use std::process::Output;

use common::online::{cmd, go, lab_net};
use common::{assert_exit, lab, stderr, tempdir, Lab};
use imgsig::digest::Digest;
use imgsig::reference::DockerReference;
use imgsig::store::mirror::{write_record, TagRecord};

fn fetch(lab: &Lab, to: &Path, extra: &[&str], images: &[&str]) -> Output {
    go(cmd()
        .args(["fetch", "--json", "--to"])
        .arg(to)
        .args(lab_net(lab))
        .args(extra)
        .args(images.iter().map(|i| format!("docker://{i}"))))
}

#[test]
fn an_image_without_signatures_fails_fetch_unless_allowed() {
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let (app, tool) = (lab.var("LAB_IMG_APP1"), lab.var("LAB_IMG_TOOL"));
    let o = fetch(lab, &mirror, &[], &[app, tool]);
    assert_exit(&o, 1);
    let err = stderr(&o);
    // Named per image, with where the signatures were looked for (the lab's lookaside).
    let warning = format!(
        "imgsig: warning: docker://{tool}: mirrored without a signature: the source has none for it (looked in {}other/tool@sha256="
    , lab.var("LAB_LOOKASIDE_URL"));
    assert!(err.contains(&warning), "{err}");
    assert!(
        err.contains("/signature-N); a verify from the mirror will find nothing to check\n"),
        "{err}"
    );
    assert!(!err.contains(&format!("docker://{app}: mirrored without")), "{err}");
    assert!(err.contains(", 0 failed, 1 unsigned\n"), "{err}");
    assert!(err.contains("or pass --allow-unsigned to mirror it anyway"), "{err}");
    let doc = framed(&o);
    assert_eq!(doc["summary"]["unsigned"], 1);
    assert_eq!(doc["summary"]["failed"], 0);
    assert_eq!(doc["images"][0]["unsigned"], false);
    assert_eq!(doc["images"][1]["unsigned"], true);
    assert!(doc["images"][1]["error"].is_null());
    let looked = doc["images"][1]["manifests"][0]["looked_in"].as_str().unwrap();
    assert!(looked.starts_with(lab.var("LAB_LOOKASIDE_URL")), "{looked}");
    // Mirrored all the same (tag record too): an admin who accepts that may say so.
    assert!(doc["images"][1]["tag_record"].is_string());

    let o = fetch(lab, &mirror, &["--allow-unsigned"], &[app, tool]);
    assert_exit(&o, 0);
    assert!(stderr(&o).contains("mirrored without a signature"), "{}", stderr(&o));
    assert_eq!(framed(&o)["summary"]["unsigned"], 1);
}

#[test]
fn a_refetch_from_a_source_without_signatures_keeps_the_mirrored_ones() {
    // First fetch from the lab's lookaside (a signature), then again from a
    // lookaside with nothing: the mirror still holds the signature, so the
    // image is not unsigned and the run succeeds.
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let empty = dir.path().join("empty-lookaside");
    std::fs::create_dir(&empty).unwrap();
    let app = lab.var("LAB_IMG_APP1");
    let o = fetch(lab, &mirror, &[], &[app]);
    assert_exit(&o, 0);
    assert_eq!(framed(&o)["images"][0]["manifests"][0]["signatures_in_mirror"], 1);
    let o = fetch(lab, &mirror, &["--lookaside", empty.to_str().unwrap()], &[app]);
    assert_exit(&o, 0);
    let doc = framed(&o);
    assert_eq!(doc["images"][0]["unsigned"], false, "{doc}");
    assert_eq!(doc["images"][0]["manifests"][0]["signatures_new"], 0);
    assert_eq!(doc["images"][0]["manifests"][0]["signatures_in_mirror"], 1);
    assert!(!stderr(&o).contains("mirrored without a signature"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(": 1 manifest(s), 0 signature(s), 1 in the mirror\n"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn nothing_configured_says_the_built_in_default_was_read() {
    // No registries.d entry for the image: fetch read the built-in default
    // lookaside (only read: the mirror is written under --to), and says so.
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let nothing = dir.path().join("no-registries.d");
    let o = go(cmd()
        .env("HOME", dir.path())
        .args(["fetch", "--to"])
        .arg(&mirror)
        .args(["--tls-verify=false", "--registries-d"])
        .arg(&nothing)
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))));
    assert_exit(&o, 1);
    let err = stderr(&o);
    assert!(err.contains("mirrored without a signature"), "{err}");
    assert!(
        err.contains(": the built-in default, as no registries.d entry names a lookaside for the image)"),
        "{err}"
    );
}

#[test]
fn a_moved_tag_says_which_digest_its_record_named_before() {
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let app = lab.var("LAB_IMG_APP1");
    let (d1, d2) = (lab.var("LAB_IMG_APP1_DIGEST"), lab.var("LAB_IMG_APP2_DIGEST"));
    let o = fetch(lab, &mirror, &[], &[app]);
    assert_exit(&o, 0);
    assert!(framed(&o)["images"][0]["tag_moved_from"].is_null());
    assert!(stderr(&o).contains("imgsig:   tag recorded in "), "{}", stderr(&o));
    // An earlier fetch found app:1.0 at app:2.0's manifest (the tag has moved since).
    let record = TagRecord {
        reference: DockerReference::parse_normalized(app).unwrap(),
        digest: Digest::parse(d2).unwrap(),
        fetched_at: 1_700_000_000,
        instances: Vec::new(),
    };
    let path = write_record(&mirror, &record).unwrap();
    let o = fetch(lab, &mirror, &[], &[app]);
    assert_exit(&o, 0);
    let line = format!(
        "imgsig:   tag moved: the record named {d2}, now {d1}; replaced {}\n",
        path.display()
    );
    assert!(stderr(&o).contains(&line), "{}", stderr(&o));
    let doc = framed(&o);
    assert_eq!(doc["images"][0]["tag_moved_from"], d2);
    assert_eq!(doc["images"][0]["digest"], d1);
    // Fetched again, unmoved: nothing to say.
    let o = fetch(lab, &mirror, &[], &[app]);
    assert_exit(&o, 0);
    assert!(framed(&o)["images"][0]["tag_moved_from"].is_null());
    assert!(!stderr(&o).contains("tag moved"), "{}", stderr(&o));
}

/// fetch's JSON by the one framing rule (docs/json-output.md): one image
/// gives its document alone, several give JSON Lines with the summary last.
/// Returned as `{"images": [...], "summary": {...} or null}`.
fn framed(o: &Output) -> serde_json::Value {
    if let Ok(one) = serde_json::from_slice::<serde_json::Value>(&o.stdout) {
        assert_eq!(one["summary"], false, "{one}");
        return serde_json::json!({"images": [one], "summary": null});
    }
    let mut lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let summary = lines.pop().expect("a summary line");
    assert_eq!(summary["summary"], true, "{summary}");
    serde_json::json!({"images": lines, "summary": summary})
}
