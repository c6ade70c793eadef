//! Bulk offline verification of a mirror (`--lookaside DIR --from-file LIST`):
//! a mirror fetched from the lab, then damaged — bad, missing and foreign
//! signatures, a missing manifest, a bad line — gives the right verdict for
//! every image, in order, with a summary and the worst exit code.

mod common;

use std::path::Path;

use common::{assert_exit, imgsig, lab, run, stderr, stdout, tempdir, Lab};

/// `imgsig fetch` the lab's `images` into the mirror `to` (what an admin carries in);
/// `--allow-unsigned`: the lab's other/tool has no signature, on purpose.
fn fetch(lab: &Lab, to: &Path, images: &[&str]) {
    let o = run(imgsig()
        .args(["fetch", "--allow-unsigned", "--tls-verify=false", "--registries-d"])
        .arg(lab.path("LAB_REGISTRIES_D"))
        .arg("--to")
        .arg(to)
        .args(images.iter().map(|i| format!("docker://{i}"))));
    assert_exit(&o, 0);
}

#[test]
fn mirror_with_bad_missing_and_foreign_signatures() {
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let reg = lab.var("LAB_REGISTRY");
    fetch(
        lab,
        &mirror,
        &[
            lab.var("LAB_IMG_APP1"),
            lab.var("LAB_IMG_APP2"),
            lab.var("LAB_IMG_TOOL"),
        ],
    );
    let d1 = lab.var("LAB_IMG_APP1_DIGEST");
    let d2 = lab.var("LAB_IMG_APP2_DIGEST");
    let app1 = mirror.join(format!("lab/app@sha256={}", d1.trim_start_matches("sha256:")));
    let app2 = mirror.join(format!("lab/app@sha256={}", d2.trim_start_matches("sha256:")));
    // app:2.0 loses alice's signature (only bob's foreign one is left, as signature-1).
    std::fs::rename(app2.join("signature-2"), app2.join("bob")).unwrap();
    std::fs::remove_file(app2.join("signature-1")).unwrap();
    std::fs::rename(app2.join("bob"), app2.join("signature-1")).unwrap();
    // app:1.0 gets a garbage signature before alice's valid one: still accepted.
    std::fs::rename(app1.join("signature-1"), app1.join("alice")).unwrap();
    std::fs::write(app1.join("signature-1"), b"\xa3\x01garbage").unwrap();
    std::fs::rename(app1.join("alice"), app1.join("signature-2")).unwrap();
    // (Beside the image directory, other/ holds fetch's tag record directory `tool@tags`.)
    let tool = std::fs::read_dir(mirror.join("other"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find_map(|n| n.strip_prefix("tool@sha256=").map(str::to_owned))
        .unwrap();
    let list = dir.path().join("list");
    std::fs::write(
        &list,
        format!(
            "# a mirror check\n{reg}/lab/app@{d1}\n\n{reg}/lab/app@{d2}\n{reg}/other/tool@sha256:{tool}\n{reg}/lab/gone@{d1}\n{reg}/lab/app:1.0\n"
        ),
    )
    .unwrap();
    let o = run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(lab.path("LAB_POLICY_REJECT"))
        .arg("--lookaside")
        .arg(&mirror)
        .arg("--from-file")
        .arg(&list));
    assert_exit(&o, 2);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON Lines"))
        .collect();
    assert_eq!(lines.len(), 6, "{}", stdout(&o));
    let got: Vec<(u64, &str, &str)> = lines[..5]
        .iter()
        .map(|l| {
            let why = l["error"]["code"]
                .as_str()
                .or_else(|| l["manifests"][0]["requirements"][0]["reason"].as_str())
                .unwrap_or("-");
            (l["index"].as_u64().unwrap(), l["verdict"].as_str().unwrap(), why)
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, "accepted", "-"),
            (2, "rejected", "no-valid-signature"),
            (3, "rejected", "policy-reject"),
            (4, "failed", "missing-manifest"),
            // A tag line is resolved through the record fetch wrote.
            (5, "accepted", "-"),
        ],
        "{}",
        stderr(&o)
    );
    // The first image's garbage signature was rejected, alice's accepted.
    let sigs = &lines[0]["manifests"][0]["requirements"][0]["signatures"];
    assert_eq!(sigs[0]["verdict"], "rejected");
    assert_eq!(sigs[1]["verdict"], "accepted");
    assert_eq!(sigs[1]["signer"]["primary_fingerprint"], lab.var("LAB_ALICE_FPR"));
    // app:2.0's only signature is bob's: foreign to this policy.
    let bob = &lines[1]["manifests"][0]["requirements"][0]["signatures"][0];
    assert_eq!(bob["reason"], "unknown-key");
    let bob = bob["message"].as_str().unwrap_or("");
    assert!(bob.contains(lab.var("LAB_BOB_FPR")), "{bob}");
    assert_eq!(sigs[1]["message"], "accepted by this requirement");
    let summary = &lines[5];
    assert_eq!(summary["summary"], true);
    // An image could not be verified: the run failed, it did not merely say no.
    assert_eq!(summary["verdict"], "failed");
    assert_eq!(summary["exit_code"], 2);
    assert_eq!(
        (summary["images"].as_u64(), summary["accepted"].as_u64()),
        (Some(5), Some(2))
    );
    assert_eq!(
        (summary["rejected"].as_u64(), summary["failed"].as_u64()),
        (Some(2), Some(1))
    );

    // Human mode: stdout lists exactly the verified reference.
    let o = run(imgsig()
        .args(["verify", "--policy"])
        .arg(lab.path("LAB_POLICY_REJECT"))
        .arg("--lookaside")
        .arg(&mirror)
        .arg("--from-file")
        .arg(&list));
    assert_exit(&o, 2);
    assert_eq!(stdout(&o), format!("{reg}/lab/app@{d1}\n{reg}/lab/app@{d1}\n"));
    assert!(
        stderr(&o).contains("line 4:") && stderr(&o).contains("REJECTED"),
        "{}",
        stderr(&o)
    );

    // A list with no images is a usage error, not an empty success.
    std::fs::write(&list, "# nothing yet\n\n").unwrap();
    let o = run(imgsig()
        .args(["verify", "--policy"])
        .arg(lab.path("LAB_POLICY_REJECT"))
        .arg("--lookaside")
        .arg(&mirror)
        .arg("--from-file")
        .arg(&list));
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("--from-file lists no images"), "{}", stderr(&o));
}

/// A policy whose `keyPaths` has a file without keys, over many mirror images
/// verified on every core: the warning is printed once (never from a worker,
/// which would wait for the terminal the emitter holds), every image is judged.
#[test]
fn key_file_warning_in_a_bulk_run_is_printed_once() {
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let reg = lab.var("LAB_REGISTRY");
    fetch(lab, &mirror, &[lab.var("LAB_IMG_APP1")]);
    let policy = lab.policy_alice_and_junk_key(dir.path());
    let line = format!("{reg}/lab/app@{}\n", lab.var("LAB_IMG_APP1_DIGEST"));
    let list = dir.path().join("list");
    std::fs::write(&list, line.repeat(64)).unwrap();
    let o = common::servers::run_bounded(
        imgsig()
            .args(["verify", "--policy"])
            .arg(&policy)
            .arg("--lookaside")
            .arg(&mirror)
            .arg("--from-file")
            .arg(&list),
        120,
    );
    assert_exit(&o, 0);
    assert_eq!(stdout(&o).lines().count(), 64);
    assert_eq!(stderr(&o).matches("junk.gpg").count(), 1, "{}", stderr(&o));
}
