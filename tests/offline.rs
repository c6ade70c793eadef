//! The air-gapped journey: `imgsig fetch` records what each tag resolved to,
//! and `imgsig verify --offline` verifies by tag from the mirror with no
//! network at all — proven by running it inside a network namespace with no
//! interfaces (`unshare -n`), as an air-gapped site is. Against the peer lab's
//! real registry (docker-registry), skopeo-made signatures and a real
//! `python3 -m http.server` lookaside.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::online::{cmd, go, image_dir, isolate, lab_net, lines};
use common::servers::StaticHttp;
use common::{assert_exit, json, lab, stderr, stdout, tempdir, Lab};

/// `unshare -n` as root; `unshare -rn` (in a user namespace of its own) otherwise.
fn unshare_flags() -> &'static str {
    let uid = Command::new("id").arg("-u").output().expect("id -u");
    if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        "-n"
    } else {
        "-rn"
    }
}

/// imgsig inside a new network namespace: no interface is up, not even loopback.
fn unshared() -> Command {
    let mut c = Command::new("unshare");
    c.arg(unshare_flags()).arg(env!("CARGO_BIN_EXE_imgsig"));
    isolate(&mut c);
    c
}

/// `verify --offline --policy POLICY --lookaside MIRROR ARGS…` inside the namespace.
fn verify_offline_unshared(policy: &str, mirror: &Path, args: &[&str]) -> Output {
    go(unshared()
        .args(["verify", "--offline", "--policy", policy, "--lookaside"])
        .arg(mirror)
        .args(args))
}

fn fetch(lab: &Lab, to: &Path, images: &[&str]) -> Output {
    go(cmd()
        .args(["fetch", "--output", "json", "--to"])
        .arg(to)
        .args(lab_net(lab))
        .args(images.iter().map(|i| format!("docker://{i}"))))
}

/// The namespace test needs `unshare -n` (root, as CI runs); fail loudly if it is missing.
fn check_unshare() {
    let o = Command::new("unshare")
        .args([unshare_flags(), "true"])
        .output()
        .expect("unshare (util-linux)");
    assert!(
        o.status.success(),
        "unshare {} does not work here: {}",
        unshare_flags(),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn fetch_records_tags_and_verify_offline_by_tag_in_a_namespace_without_network() {
    check_unshare();
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let (app1, multi) = (lab.var("LAB_IMG_APP1"), lab.var("LAB_IMG_MULTI"));
    let (d1, dm) = (lab.var("LAB_IMG_APP1_DIGEST"), lab.var("LAB_IMG_MULTI_DIGEST"));
    let o = fetch(lab, &mirror, &[app1, multi]);
    assert_exit(&o, 0);
    // People see every digest: the tag's, and each instance's with its platform.
    let err = stderr(&o);
    assert!(err.contains(&format!("docker://{app1} -> {d1}")), "{err}");
    assert!(err.contains(&format!("docker://{multi} -> {dm}")), "{err}");
    assert!(err.contains("instance linux/arm64/v8 -> sha256:"), "{err}");
    // Two images: JSON Lines, one document per image, then the summary.
    let docs: Vec<serde_json::Value> = lines(&o).iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(docs.len(), 3, "{}", stdout(&o));
    let doc = &docs[1];
    let record_path = doc["tag_record"].as_str().expect("a tag record path").to_owned();
    assert_eq!(doc["digest"], dm);
    assert_eq!(doc["manifests"][0]["role"], "index");
    assert_eq!(doc["manifests"][1]["role"], "instance");

    // The record: the full reference, the digest, when, and the instances with platforms.
    assert_eq!(PathBuf::from(&record_path), mirror.join("lab/multi@tags/1.0.json"));
    let rec: serde_json::Value = serde_json::from_slice(&std::fs::read(&record_path).unwrap()).unwrap();
    assert_eq!(rec["reference"], multi);
    assert_eq!(rec["digest"], dm);
    assert!(rec["fetched_at"].as_i64().unwrap() > 1_700_000_000);
    let platforms: Vec<&str> = rec["instances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"]);

    // In a namespace with no network: by tag, accepted, the pinned name on stdout,
    // and the tag mapping said to be as of the fetch.
    let (img1, imgm) = (format!("docker://{app1}"), format!("docker://{multi}"));
    let o = verify_offline_unshared(lab.var("LAB_POLICY_ALICE"), &mirror, &[&img1, &imgm]);
    assert_exit(&o, 0);
    let registry = lab.var("LAB_REGISTRY");
    assert_eq!(
        lines(&o),
        [format!("{registry}/lab/app@{d1}"), format!("{registry}/lab/multi@{dm}")]
    );
    assert!(stderr(&o).contains("as of the fetch at"), "{}", stderr(&o));
    // The same verify without --offline, reading the registry, cannot work in there:
    // the namespace really has no network.
    let o = go(unshared()
        .args([
            "verify",
            "--policy",
            lab.var("LAB_POLICY_ALICE"),
            "--tls-verify=false",
            "--registries-d",
        ])
        .arg(lab.var("LAB_REGISTRIES_D"))
        .arg(&img1));
    assert_exit(&o, 3);

    // The wrong key: rejected, offline too.
    let o = verify_offline_unshared(lab.var("LAB_POLICY_BOB"), &mirror, &[&img1]);
    assert_exit(&o, 1);

    // Bulk form with tag lines (bare and docker://) beside a digest line.
    let list = dir.path().join("list");
    std::fs::write(&list, format!("{app1}\ndocker://{multi}\n{registry}/lab/app@{d1}\n")).unwrap();
    let o = verify_offline_unshared(
        lab.var("LAB_POLICY_ALICE"),
        &mirror,
        &["--from-file", list.to_str().unwrap()],
    );
    assert_exit(&o, 0);
    assert_eq!(lines(&o).len(), 3, "{}", stdout(&o));

    // In JSON, an image verified by tag carries the record it was resolved through
    // (and when it was made); a digest line carries none.
    let o = verify_offline_unshared(
        lab.var("LAB_POLICY_ALICE"),
        &mirror,
        &["--output", "json", "--from-file", list.to_str().unwrap()],
    );
    assert_exit(&o, 0);
    let docs: Vec<serde_json::Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(docs.len(), 4, "{}", stdout(&o));
    assert_eq!(docs[1]["tag_record"]["reference"], multi);
    assert_eq!(docs[1]["tag_record"]["digest"], dm);
    assert_eq!(docs[1]["tag_record"]["fetched_at"], rec["fetched_at"]);
    assert_eq!(docs[0]["tag_record"]["digest"], d1);
    assert_eq!(docs[2]["tag_record"], serde_json::Value::Null);
    assert!(
        docs[1]["warnings"].to_string().contains("as of the fetch at"),
        "{}",
        docs[1]
    );
}

/// A site points registries.d at the mirror once (`lookaside: file:///…`):
/// `--offline` then reads each image from that lookaside without `--lookaside`,
/// says which one it used (stderr, and the directory in the JSON's
/// `manifests[].looked_in`), in a namespace with no network. An http(s)
/// lookaside in registries.d is refused, never read.
#[test]
fn offline_uses_a_registries_d_file_lookaside() {
    check_unshare();
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let (app1, multi) = (lab.var("LAB_IMG_APP1"), lab.var("LAB_IMG_MULTI"));
    assert_exit(&fetch(lab, &mirror, &[app1, multi]), 0);
    let regd = dir.path().join("registries.d");
    std::fs::create_dir(&regd).unwrap();
    let site = regd.join("site.yaml");
    std::fs::write(
        &site,
        format!(
            "docker:\n  {}:\n    lookaside: file://{}\n",
            lab.var("LAB_REGISTRY"),
            mirror.display()
        ),
    )
    .unwrap();
    let verify = |policy: &str, regd: &Path, extra: &[&str]| {
        go(unshared()
            .args(["verify", "--offline", "--policy", policy, "--registries-d"])
            .arg(regd)
            .args(extra)
            .args([format!("docker://{app1}"), format!("docker://{multi}")]))
    };
    let o = verify(lab.var("LAB_POLICY_ALICE"), &regd, &[]);
    assert_exit(&o, 0);
    assert_eq!(lines(&o).len(), 2, "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("the registries.d lookaside file://{}", mirror.display())),
        "{err}"
    );
    assert!(err.contains(&site.display().to_string()), "{err}");
    // JSON: where the signatures were looked for is the mirror's directory.
    let o = verify(lab.var("LAB_POLICY_ALICE"), &regd, &["--output", "json"]);
    assert_exit(&o, 0);
    let doc: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    let looked = doc["manifests"][0]["looked_in"].as_str().unwrap_or_default();
    assert!(looked.starts_with(mirror.to_str().unwrap()), "{doc:#}");
    // The wrong key: still rejected offline.
    assert_exit(&verify(lab.var("LAB_POLICY_BOB"), &regd, &[]), 1);
    // The lab's registries.d names an http:// lookaside: refused, named, nothing read.
    let o = verify(lab.var("LAB_POLICY_ALICE"), &lab.path("LAB_REGISTRIES_D"), &[]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("[offline-network-required]"), "{}", stderr(&o));
    assert!(stderr(&o).contains(lab.var("LAB_LOOKASIDE_URL")), "{}", stderr(&o));
}

#[test]
fn offline_refuses_what_needs_the_network_and_what_the_mirror_lacks() {
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let app1 = lab.var("LAB_IMG_APP1");
    assert_exit(&fetch(lab, &mirror, &[app1]), 0);
    let verify = |extra: &[&str], image: &str| {
        go(cmd()
            .args([
                "verify",
                "--output",
                "json",
                "--offline",
                "--policy",
                lab.var("LAB_POLICY_ALICE"),
            ])
            .args(extra)
            .arg(image))
    };
    let code = |o: &Output| json(o)["error"]["code"].as_str().unwrap_or_default().to_owned();
    let m = mirror.to_str().unwrap();
    let img = format!("docker://{app1}");
    // An http(s) lookaside needs the network: exit 2, named.
    let o = verify(&["--lookaside", lab.var("LAB_LOOKASIDE_URL")], &img);
    assert_exit(&o, 2);
    assert_eq!(code(&o), "offline-network-required");
    assert!(stderr(&o).contains(lab.var("LAB_LOOKASIDE_URL")), "{}", stderr(&o));
    // No mirror at all: no --lookaside, and registries.d names no lookaside for
    // the image (the image's own document: one image, one document).
    let o = verify(&[], &img);
    assert_exit(&o, 2);
    let doc = json(&o);
    assert_eq!(doc["error"]["code"], "offline-network-required", "{doc}");
    // A local manifest whose registries.d lookaside is http: refused, not read.
    let o = go(cmd()
        .args([
            "verify",
            "--offline",
            "--policy",
            lab.var("LAB_POLICY_ALICE"),
            "--registries-d",
        ])
        .arg(lab.var("LAB_REGISTRIES_D"))
        .args(["--identity", app1, "--manifest"])
        .arg(image_dir(&mirror, app1, lab.var("LAB_IMG_APP1_DIGEST")).join("manifest.json")));
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("registries.d lookaside http://"), "{}", stderr(&o));
    // A tag the mirror never recorded: exit 2, not-in-mirror, naming the record looked for.
    let other = format!("docker://{}", lab.var("LAB_IMG_APP2"));
    let o = verify(&["--lookaside", m], &other);
    assert_exit(&o, 2);
    let doc = json(&o);
    assert!(doc.to_string().contains("not-in-mirror"), "{doc}");
    assert!(stderr(&o).contains("lab/app@tags/2.0.json"), "{}", stderr(&o));
    // Signing docker:// images offline is refused before anything is read.
    let o = go(cmd()
        .args(["sign", "--offline", "--sign-by", "nobody", "--lookaside-dir", m])
        .arg(&img));
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("--offline"), "{}", stderr(&o));
}

#[test]
fn a_mirror_manifest_that_is_not_the_recorded_one_is_rejected() {
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let (app1, app2) = (lab.var("LAB_IMG_APP1"), lab.var("LAB_IMG_APP2"));
    let (d1, d2) = (lab.var("LAB_IMG_APP1_DIGEST"), lab.var("LAB_IMG_APP2_DIGEST"));
    assert_exit(&fetch(lab, &mirror, &[app1, app2]), 0);
    // Someone swaps app:1.0's manifest for app:2.0's (also signed by alice, for 2.0).
    let m1 = image_dir(&mirror, app1, d1).join("manifest.json");
    std::fs::remove_file(&m1).unwrap();
    std::fs::copy(image_dir(&mirror, app2, d2).join("manifest.json"), &m1).unwrap();
    let o = go(cmd()
        .args([
            "verify",
            "--offline",
            "--policy",
            lab.var("LAB_POLICY_ALICE"),
            "--lookaside",
        ])
        .arg(&mirror)
        .arg(format!("docker://{app1}")));
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("manifest-digest-mismatch"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

/// Hardening issue, hole 4: a signature the registry's lookaside has but the mirror
/// refused (over the size limit) is not "everything mirrored". A real HTTP server
/// (python's http.server) serves a 5 MiB signature-2 beside skopeo's signature-1.
#[test]
fn fetch_fails_when_a_signature_cannot_be_mirrored() {
    let lab = lab();
    let dir = tempdir();
    let app1 = lab.var("LAB_IMG_APP1");
    let d1 = lab.var("LAB_IMG_APP1_DIGEST");
    let served = dir.path().join("served");
    let sigdir = image_dir(&served, app1, d1);
    std::fs::create_dir_all(&sigdir).unwrap();
    std::fs::copy(lab.path("LAB_SIG_APP1_ALICE"), sigdir.join("signature-1")).unwrap();
    std::fs::write(sigdir.join("signature-2"), vec![b'A'; 5 << 20]).unwrap();
    let http = StaticHttp::serve(&served);
    let regd = dir.path().join("registries.d");
    std::fs::create_dir_all(&regd).unwrap();
    std::fs::write(
        regd.join("big.yaml"),
        format!("docker:\n  {}:\n    lookaside: {}\n", lab.var("LAB_REGISTRY"), http.url),
    )
    .unwrap();
    let mirror = dir.path().join("mirror");
    let o = go(cmd()
        .args(["fetch", "--output", "json", "--tls-verify=false", "--to"])
        .arg(&mirror)
        .arg("--registries-d")
        .arg(&regd)
        .arg(format!("docker://{app1}")));
    assert_exit(&o, 3);
    // One image: its document is the whole output.
    let doc = json(&o);
    assert_eq!(doc["exit_code"], 3, "{doc:#}");
    assert_eq!(
        doc["manifests"][0]["signatures_skipped"].as_array().map(Vec::len),
        Some(1),
        "{doc:#}"
    );
    assert_eq!(doc["error"]["code"], "signature-not-mirrored");
    assert!(doc["error"]["message"].as_str().unwrap().contains("signature-2"));
    // What could be stored is kept; no tag record names the incomplete image.
    assert!(image_dir(&mirror, app1, d1).join("signature-1").is_file());
    assert!(!mirror.join("lab/app@tags/1.0.json").exists());
    assert!(stderr(&o).contains("1 failed"), "{}", stderr(&o));
}

/// Issue 26 §2 in the mirror forms (one image, and the bulk list): the REJECTED
/// line gives what decided first — Alice signed this manifest, but for another
/// identity, naming her — then the requirement; and an image directory whose
/// only signature is `signature-2` warns that it was not read and why (the
/// verdict, "no signature", stays).
#[test]
fn mirror_forms_give_the_decisive_reason_and_warn_about_a_signature_gap() {
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let (app1, d1, alice) = (
        lab.var("LAB_IMG_APP1"),
        lab.var("LAB_IMG_APP1_DIGEST"),
        lab.var("LAB_ALICE_FPR"),
    );
    assert_exit(&fetch(lab, &mirror, &[app1]), 0);
    let image = image_dir(&mirror, app1, d1);
    // Alice's signature of this very manifest, but for another image, replaces the mirrored one.
    let sig = image.join("signature-1");
    std::fs::remove_file(&sig).unwrap();
    let o = go(lab
        .cmd("skopeo")
        .arg("standalone-sign")
        .arg(image.join("manifest.json"))
        .arg("registry.example.com/other:1.0")
        .arg(alice)
        .arg("-o")
        .arg(&sig));
    assert!(o.status.success(), "skopeo standalone-sign: {}", stderr(&o));
    let list = dir.path().join("list.txt");
    std::fs::write(&list, format!("{app1}\n")).unwrap();
    let verify = |extra: &[&str], what: &[&std::ffi::OsStr]| {
        go(cmd()
            .args([
                "verify",
                "--offline",
                "--policy",
                lab.var("LAB_POLICY_ALICE"),
                "--lookaside",
            ])
            .arg(&mirror)
            .args(extra)
            .args(what))
    };
    let bulk = |extra: &[&str]| verify(extra, &["--from-file".as_ref(), list.as_os_str()]);
    let one = |extra: &[&str]| verify(extra, &[format!("docker://{app1}").as_ref()]);
    let rejected_line = |o: &Output| {
        let err = stderr(o);
        err.lines()
            .find(|l| l.contains("REJECTED"))
            .unwrap_or_else(|| panic!("no REJECTED line: {err}"))
            .to_owned()
    };
    let decisive = "identity-mismatch: ";
    let signer = format!("({alice}) signed registry.example.com/other:1.0");
    for (o, head) in [
        (bulk(&[]), format!("line 1: {app1}: REJECTED: {decisive}")),
        (one(&[]), format!("REJECTED: docker://{app1} by ")),
    ] {
        assert_exit(&o, 1);
        let line = rejected_line(&o);
        assert!(line.contains(&head), "{line}");
        assert!(line.contains(decisive) && line.contains(&signer), "{line}");
        // The decisive reason first, then the requirement (who is missing).
        let at = |s: &str| line.find(s).unwrap_or_else(|| panic!("{s:?} not in {line}"));
        assert!(at(decisive) < at("requirement 1"), "{line}");
    }
    // Only signature-2 left: it is not read (the verdict: no signature), and every form says so.
    std::fs::rename(&sig, image.join("signature-2")).unwrap();
    let warning = format!(
        "{}/signature-2 and later were not read: signature-1 is missing",
        image.display()
    );
    for o in [bulk(&[]), one(&[])] {
        assert_exit(&o, 1);
        assert!(
            stderr(&o).contains(&format!("imgsig: warning: {warning}")),
            "{}",
            stderr(&o)
        );
        assert!(stderr(&o).contains("no signature exists"), "{}", stderr(&o));
    }
    for o in [bulk(&["--output", "json"]), one(&["--output", "json"])] {
        let doc = json(&o);
        let warned = doc["warnings"]
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w.as_str().is_some_and(|w| w.starts_with(&warning))));
        assert!(warned, "{doc:#}");
    }
}
