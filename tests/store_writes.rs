//! Writing into a lookaside or mirror (issue 24): parallel runs of one sign
//! job add one signature; a repository name too long for a file name and an
//! unusable `--cert-dir` are unusable input (exit 2), not "retry" (exit 3);
//! a failed fetch leaves no empty directories; the temporary files of a
//! writer that is gone are removed by the next write, and nothing else is.
//! Real imgsig processes against the peer lab's registry.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use common::servers::{closed_port, run_bounded, TlsRegistry};
use common::{assert_exit, imgsig, json, lab, repo, run, stderr, tempdir, Lab};

fn demo_key() -> PathBuf {
    repo().join("examples/demo-signer.secret.asc")
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every directory below `root` (relative paths), and every file.
fn tree(root: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut dirs, mut files) = (BTreeSet::new(), BTreeSet::new());
    let mut todo = vec![root.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if p.symlink_metadata().unwrap().is_dir() {
                dirs.insert(rel);
                todo.push(p);
            } else {
                files.insert(rel);
            }
        }
    }
    (dirs, files)
}

/// `imgsig sign --key KEY --lookaside-dir DIR docker://<lab app:1.0>`.
fn sign_image(lab: &Lab, key: &Path, dir: &Path) -> Command {
    let mut c = imgsig();
    c.args(["--output", "json", "sign", "--tls-verify=false", "--registries-d"])
        .arg(lab.path("LAB_REGISTRIES_D"))
        .arg("--key")
        .arg(key)
        .arg("--lookaside-dir")
        .arg(dir)
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1")));
    c
}

fn app1_dir(lab: &Lab, root: &Path) -> PathBuf {
    let hex = lab.var("LAB_IMG_APP1_DIGEST").strip_prefix("sha256:").unwrap();
    root.join(format!("lab/app@sha256={hex}"))
}

fn signatures(dir: &Path) -> Vec<String> {
    entries(dir)
        .into_iter()
        .filter(|n| n.starts_with("signature-"))
        .collect()
}

/// Start all `cmds` at once and wait for all.
fn in_parallel(cmds: Vec<Command>) -> Vec<Output> {
    let children: Vec<_> = cmds
        .into_iter()
        .map(|mut c| {
            c.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children.into_iter().map(|c| c.wait_with_output().unwrap()).collect()
}

#[test]
fn parallel_runs_of_one_sign_job_add_one_signature() {
    let lab = lab();
    let dir = tempdir();
    let store = dir.path().join("lookaside");
    let outs = in_parallel((0..16).map(|_| sign_image(lab, &demo_key(), &store)).collect());
    for o in &outs {
        assert_exit(o, 0);
    }
    let image = app1_dir(lab, &store);
    assert_eq!(signatures(&image), ["signature-1"]);
    let written = outs
        .iter()
        .filter(|o| json(o)["signatures"][0]["written"] == true)
        .count();
    assert_eq!(written, 1, "exactly one run wrote; the others found it");
    assert_eq!(entries(&image), ["signature-1"], "no temporary file left");
}

#[test]
fn parallel_runs_with_two_keys_keep_both() {
    let lab = lab();
    let dir = tempdir();
    let alice = lab.export_secret_key(lab.var("LAB_ALICE_FPR"), dir.path(), "alice.gpg");
    let demo = demo_key();
    let store = dir.path().join("lookaside");
    let cmds = (0..16)
        .map(|i| sign_image(lab, if i % 2 == 0 { &alice } else { &demo }, &store))
        .collect();
    for o in &in_parallel(cmds) {
        assert_exit(o, 0);
    }
    let image = app1_dir(lab, &store);
    assert_eq!(signatures(&image), ["signature-1", "signature-2"]);
    // One by each key.
    let mut signers = BTreeSet::new();
    for s in signatures(&image) {
        let o = run(imgsig().args(["--output", "json", "inspect"]).arg(image.join(&s)));
        assert_exit(&o, 0);
        signers.insert(json(&o).to_string().contains(lab.var("LAB_ALICE_FPR")));
    }
    assert_eq!(signers.len(), 2, "one signature by alice, one by the demo key");
}

/// A repository whose last component is 230 characters: with `@sha256=<hex>` the image's
/// directory name is longer than the 255 bytes a file name may have.
fn long_name() -> String {
    "a".repeat(230)
}

#[test]
fn a_repository_name_too_long_for_a_file_name_is_unusable_input() {
    let lab = lab();
    let dir = tempdir();
    // sign --digest: no registry involved.
    let store = dir.path().join("lookaside");
    let o = run(imgsig()
        .args(["--output", "json", "sign", "--key"])
        .arg(demo_key())
        .args([
            "--identity",
            &format!("registry.example.com/lab/{}:1.0", long_name()),
            "--digest",
            lab.var("LAB_IMG_APP1_DIGEST"),
            "--lookaside-dir",
        ])
        .arg(&store));
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "name-too-long", "{}", stderr(&o));
    assert!(stderr(&o).contains("File name too long"), "{}", stderr(&o));
    assert!(!store.exists(), "nothing created: {:?}", tree(dir.path()));

    // fetch --to and sign of the image in a registry.
    let image = format!("{}/lab/{}:1.0", lab.var("LAB_REGISTRY"), long_name());
    let s = run_bounded(
        lab.cmd("skopeo")
            .args(["--policy", lab.var("LAB_POLICY_INSECURE")])
            .args(["copy", "-q", "--dest-tls-verify=false"])
            .arg(format!("oci:{}:app-1.0", lab.var("LAB_OCI_LAYOUT")))
            .arg(format!("docker://{image}")),
        120,
    );
    assert!(s.status.success(), "skopeo copy: {}", stderr(&s));
    let mirror = dir.path().join("mirror");
    let o = run(imgsig()
        .args(["--output", "json", "fetch", "--tls-verify=false", "--registries-d"])
        .arg(lab.path("LAB_REGISTRIES_D_EMPTY"))
        .arg("--to")
        .arg(&mirror)
        .arg(format!("docker://{image}")));
    assert_exit(&o, 2);
    // One image: its document is the whole output.
    assert_eq!(json(&o)["error"]["code"], "name-too-long", "{}", stderr(&o));
    assert_eq!(tree(&mirror), Default::default(), "no directories left in the mirror");
    let o = run(imgsig()
        .args(["--output", "json", "sign", "--tls-verify=false", "--registries-d"])
        .arg(lab.path("LAB_REGISTRIES_D_EMPTY"))
        .arg("--key")
        .arg(demo_key())
        .arg("--lookaside-dir")
        .arg(&store)
        .arg(format!("docker://{image}")));
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "name-too-long", "{}", stderr(&o));
}

#[test]
fn a_fetch_whose_lookaside_is_down_leaves_no_directories() {
    let lab = lab();
    let dir = tempdir();
    let regd = dir.path().join("registries.d");
    std::fs::create_dir(&regd).unwrap();
    std::fs::write(
        regd.join("down.yaml"),
        format!(
            "docker:\n  {}:\n    lookaside: http://127.0.0.1:{}/\n",
            lab.var("LAB_REGISTRY"),
            closed_port()
        ),
    )
    .unwrap();
    let mirror = dir.path().join("mirror");
    let o = run(imgsig()
        .args(["--output", "json", "fetch", "--tls-verify=false", "--registries-d"])
        .arg(&regd)
        .arg("--to")
        .arg(&mirror)
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1")))
        .arg(format!("docker://{}", lab.var("LAB_IMG_MULTI"))));
    assert_exit(&o, 3);
    assert_eq!(tree(&mirror), Default::default(), "the mirror holds nothing");
    // Once the lookaside is back, the same fetch fills it.
    let o = run(imgsig()
        .args(["fetch", "--tls-verify=false", "--registries-d"])
        .arg(lab.path("LAB_REGISTRIES_D"))
        .arg("--to")
        .arg(&mirror)
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))));
    assert_exit(&o, 0);
    assert_eq!(entries(&app1_dir(lab, &mirror)), ["manifest.json", "signature-1"]);
}

/// A file last modified `age` ago.
fn aged(path: &Path, age: Duration) -> std::fs::File {
    let f = std::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
    f
}

/// Leftovers of a writer killed a minute ago (well within the ten minutes after which any
/// temporary file counts as stale), one a live writer holds (its lock taken, as imgsig's
/// writers hold theirs), and look-alikes that are not ours.
fn plant(dir: &Path, outside: &Path) -> std::fs::File {
    let minute = Duration::from_secs(60);
    aged(&dir.join(".imgsig-K1lled.tmp"), minute);
    let live = aged(&dir.join(".imgsig-LiVe00.tmp"), minute);
    rustix::fs::flock(&live, rustix::fs::FlockOperation::NonBlockingLockExclusive).unwrap();
    aged(&dir.join(".imgsig-short.tmp"), minute);
    aged(&dir.join("imgsig-K1lled.tmp"), minute);
    aged(outside, minute);
    std::os::unix::fs::symlink(outside, dir.join(".imgsig-LiNk00.tmp")).unwrap();
    std::fs::create_dir(dir.join(".imgsig-DiR000.tmp")).unwrap();
    live
}

const UNTOUCHED: [&str; 5] = [
    ".imgsig-DiR000.tmp",
    ".imgsig-LiNk00.tmp",
    ".imgsig-LiVe00.tmp",
    ".imgsig-short.tmp",
    "imgsig-K1lled.tmp",
];

#[test]
fn a_killed_writers_temporary_files_go_with_the_next_fetch_or_sign() {
    let lab = lab();
    let dir = tempdir();
    let outside = dir.path().join("outside");
    // fetch into a mirror directory holding leftovers.
    let mirror = dir.path().join("mirror");
    let image = app1_dir(lab, &mirror);
    std::fs::create_dir_all(&image).unwrap();
    let live = plant(&image, &outside);
    let o = run(imgsig()
        .args(["fetch", "--tls-verify=false", "--registries-d"])
        .arg(lab.path("LAB_REGISTRIES_D"))
        .arg("--to")
        .arg(&mirror)
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))));
    assert_exit(&o, 0);
    let mut want: Vec<&str> = UNTOUCHED.to_vec();
    want.extend(["manifest.json", "signature-1"]);
    want.sort();
    assert_eq!(entries(&image), want);
    assert!(outside.exists(), "the link's target is untouched");
    drop(live);

    // sign into a lookaside directory holding leftovers.
    let store = dir.path().join("lookaside");
    let image = app1_dir(lab, &store);
    std::fs::create_dir_all(&image).unwrap();
    std::fs::remove_file(&outside).unwrap();
    let _live = plant(&image, &outside);
    assert_exit(&run(&mut sign_image(lab, &demo_key(), &store)), 0);
    let mut want: Vec<&str> = UNTOUCHED.to_vec();
    want.push("signature-1");
    want.sort();
    assert_eq!(entries(&image), want);
    assert!(outside.exists(), "the link's target is untouched");
}

/// `--cert-dir` names the TLS material: a CA file in it that holds no certificate is the
/// user's input to fix (exit 2), not a TLS failure to retry (exit 3).
#[test]
fn an_unusable_cert_dir_is_unusable_input() {
    let lab = lab();
    let dir = tempdir();
    let reg = TlsRegistry::start(&dir.path().join("reg"), "tester", "s3cret-pass");
    let creds = format!("{}:{}", reg.user, reg.password);
    let verify = |cert_dir: &Path| {
        run(imgsig()
            .args(["--output", "json", "verify", "--timeout", "20", "--policy"])
            .arg(lab.path("LAB_POLICY_INSECURE"))
            .args(["--creds", &creds, "--cert-dir"])
            .arg(cert_dir)
            .arg(format!("docker://{}/none/app:1.0", reg.host)))
    };
    let bad = dir.path().join("bad-certs");
    std::fs::create_dir(&bad).unwrap();
    let ca = std::fs::read_to_string(reg.cert_dir.join("ca.crt")).unwrap();
    // Not PEM at all (e.g. DER, or the wrong file); a PEM block whose body is damaged.
    let damaged = ca.replacen("MI", "!!", 1);
    for (what, bytes) in [("not PEM", "just text\n".to_owned()), ("damaged PEM", damaged)] {
        std::fs::write(bad.join("ca.crt"), bytes).unwrap();
        let o = verify(&bad);
        assert_exit(&o, 2);
        let e = &first_doc(&o)["error"];
        assert_eq!(e["code"], "invalid-cert-dir", "{what}: {e}");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains(&format!("{}", bad.join("ca.crt").display())),
            "{what}: {e}"
        );
    }
    // The good CA: past TLS, the registry answers (the repository does not exist).
    let o = verify(&reg.cert_dir);
    assert_eq!(first_doc(&o)["error"]["code"], "not-found", "{}", stderr(&o));
}

/// The image's document (one image named: the whole output).
fn first_doc(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stderr(o)))
}
